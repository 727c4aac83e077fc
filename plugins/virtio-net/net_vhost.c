/*
 * virtio-net plugin: vhost-net (see net_vhost.h). This build has no
 * queue offload in its SDK yet: vhost=on is refused, auto means userspace.
 */
#include <errno.h>

#include "net_vhost.h"

int net_vhost_open(struct net *n, enum net_vhost_mode mode)
{
	if (mode == NET_VHOST_ON) {
		n->host->fail(n->dev, "vhost=on: this modvmm cannot hand "
				      "queues to vhost-net");
		return -ENOTSUP;
	}
	if (mode == NET_VHOST_AUTO)
		n->host->log(n->dev, MVM_LOG_INFO,
			     "vhost=auto: userspace data path");
	return 0;
}

int net_vhost_start(struct net *n)
{
	(void)n;
	return -ENOTSUP;
}

void net_vhost_stop(struct net *n)
{
	n->vhost_active = false;
}

void net_vhost_close(struct net *n)
{
	(void)n;
}
