/*
 * A test-only device (built for tests/integration/seccomp_test.sh, never
 * installed) that makes a system call outside every thread's seccomp
 * allow-list: socket(2). Writing V to its port (default 0x5f8) calls
 * socket() on the vCPU thread that took the write, or, with
 * evloop=on, from a timer on the event-loop thread. If the call returned
 * a descriptor, the device asks the VMM to exit with V; if it failed, with
 * 99. Under --seccomp on the VMM never gets there: it dies by SIGSYS.
 * Built twice: seccomp_probe.so declares nothing, and
 * seccomp_probe_declared.so (DECLARE_SOCKET) lists "socket" in its
 * descriptor, so the same call is allowed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <modvmm/plugin.h>

struct opts {
	uint64_t port;
	bool evloop;
};

struct probe {
	mvm_dev *dev;
	const struct mvm_host *host;
	struct opts opt;
	uint64_t value;
};

static const struct mvm_option options[] = {
	MVM_OPTION("port", MVM_OPT_U64, struct opts, port, "0x5f8", false,
		   "I/O port"),
	MVM_OPTION("evloop", MVM_OPT_BOOL, struct opts, evloop, "off", false,
		   "make the call from the event-loop thread"),
	MVM_OPTION_END,
};

static void call_socket(struct probe *p)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0) {
		p->host->log(p->dev, MVM_LOG_WARN,
			     "seccomp probe: socket() returned fd %d", fd);
		close(fd);
		p->host->request_exit(p->dev, (int)(p->value & 0xff));
	} else {
		p->host->log(p->dev, MVM_LOG_WARN,
			     "seccomp probe: socket() failed: %s",
			     strerror(errno));
		p->host->request_exit(p->dev, 99);
	}
}

static void on_timer(void *opaque)
{
	call_socket(opaque);
}

static uint64_t rd(void *opaque, uint64_t off, unsigned len)
{
	(void)opaque;
	(void)off;
	(void)len;
	return 0;
}

static void wr(void *opaque, uint64_t off, unsigned len, uint64_t v)
{
	struct probe *p = opaque;

	(void)off;
	(void)len;
	p->value = v;
	if (!p->opt.evloop)
		call_socket(p);
	else if (p->host->add_timer(p->dev, 1000, 0, on_timer, p) < 0)
		p->host->request_exit(p->dev, 98);
}

static const struct mvm_io_ops ops = {rd, wr};

static int create(mvm_dev *dev, const struct mvm_host *host, const char *o,
		  void **state)
{
	struct probe *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	p->dev = dev;
	p->host = host;
	r = host->parse_options(dev, options, o, &p->opt);
	if (r == 0)
		r = host->claim_pio(dev, (uint16_t)p->opt.port, 1, &ops, p);
	if (r < 0) {
		free(p);
		return r;
	}
	*state = p;
	return 0;
}

static void destroy(void *state)
{
	free(state);
}

#ifdef DECLARE_SOCKET
static const char *const probe_syscalls[] = {"socket", NULL};
#else
#define probe_syscalls NULL
#endif

MVM_PLUGIN_EXPORT const struct mvm_plugin mvm_plugin_descriptor = {
	MVM_PLUGIN_HEADER,
	.name = "seccomp_probe",
	.version = "1",
	.description = "test only: makes a forbidden system call (socket)",
	.options = options,
	.create = create,
	.destroy = destroy,
	.syscalls = probe_syscalls,
};
