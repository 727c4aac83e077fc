/*
 * virtio-net plugin: the option table and the checks parse_options cannot
 * make (a MAC address, IPv4 address and mask, vhost's three values, the
 * one queue pair). Called from create on the main thread; every failure
 * is one host->fail line naming the key=value.
 */
#ifndef MODVMM_NET_OPTS_H
#define MODVMM_NET_OPTS_H

#include <modvmm/options.h>

#include "net_state.h"

enum net_vhost_mode { NET_VHOST_OFF, NET_VHOST_ON, NET_VHOST_AUTO };

extern const struct mvm_option net_options[];

/* Check n->opts and fill n->mac (given, or derived later by
 * net_opts_default_mac when no mac= was given). -EINVAL after
 * host->fail. */
int net_opts_check(struct net *n);
/* vhost=on|off|auto, checked. */
enum net_vhost_mode net_opts_vhost(const struct net *n);
/* A stable locally administered unicast MAC from the device and tap
 * names: the same VM definition gets the same MAC on every start. */
void net_opts_default_mac(struct net *n);

#endif /* MODVMM_NET_OPTS_H */
