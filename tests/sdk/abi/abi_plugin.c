/*
 * One small port device, compiled several ways by tests/sdk/CMakeLists.txt
 * to stand for plugins built against other SDKs:
 *  - against the frozen ABI 1.0 headers in v1.0/ (an older SDK: a shorter
 *    struct mvm_host, abi_minor 0): must load and work;
 *  - with ABI_MAJOR_DELTA or ABI_MINOR_DELTA set, or DESC_TOO_SHORT: a
 *    descriptor claiming another ABI, or one shorter than any 1.x one;
 *  - with SYSCALLS_GOOD or SYSCALLS_BAD: a 1.2 descriptor listing extra
 *    system calls, all real or one unknown; SYSCALLS_OLD_MINOR_BAD: the
 *    unknown one in a descriptor claiming ABI 1.1, which has no such list;
 *  - with IOCTLS_GOOD: a 1.3 descriptor listing ioctl requests;
 *    IOCTLS_OLD_MINOR: the same list in one claiming 1.2 (not read).
 * Writing V to port 0x5f0 makes it log and ask the VMM to exit with V.
 */
#include <errno.h>
#include <stdlib.h>

#include <modvmm/plugin.h>

#ifndef ABI_MAJOR_DELTA
#define ABI_MAJOR_DELTA 0
#endif
#ifndef ABI_MINOR_DELTA
#define ABI_MINOR_DELTA 0
#endif

#if defined(SYSCALLS_GOOD)
#define SYSCALLS
static const char *const extra_syscalls[] = {"getrandom", "socket", NULL};
#elif defined(SYSCALLS_BAD) || defined(SYSCALLS_OLD_MINOR_BAD)
#define SYSCALLS
static const char *const extra_syscalls[] = {"getrandom", "no_such_call", NULL};
#endif
#if defined(IOCTLS_GOOD) || defined(IOCTLS_OLD_MINOR)
#define IOCTLS
/* _IO(0xAF, 0x01), vhost's SET_OWNER, and a made-up one. */
static const uint32_t extra_ioctls[] = {0xaf01, 0x12345678, 0};
#endif
#ifdef IOCTLS_OLD_MINOR
#undef ABI_MINOR_DELTA
#define ABI_MINOR_DELTA (2 - MVM_ABI_MINOR) /* claims 1.2 */
#endif
#ifdef SYSCALLS_OLD_MINOR_BAD
#undef ABI_MINOR_DELTA
#define ABI_MINOR_DELTA (1 - MVM_ABI_MINOR) /* claims 1.1 */
#endif

struct opts {
	uint64_t port;
};

struct st {
	mvm_dev *dev;
	const struct mvm_host *host;
	struct opts opt;
};

static const struct mvm_option options[] = {
	MVM_OPTION("port", MVM_OPT_U64, struct opts, port, "0x5f0", false,
		   "port"),
	MVM_OPTION_END,
};

static uint64_t rd(void *opaque, uint64_t off, unsigned len)
{
	(void)opaque;
	(void)off;
	(void)len;
	return 0xab;
}

static void wr(void *opaque, uint64_t off, unsigned len, uint64_t v)
{
	struct st *s = opaque;

	(void)off;
	(void)len;
	s->host->log(s->dev, MVM_LOG_INFO, "abi plugin %s (built for %u.%u)",
		     s->host->dev_name(s->dev), MVM_ABI_MAJOR, MVM_ABI_MINOR);
	s->host->request_exit(s->dev, (int)(v & 0xff));
}

static const struct mvm_io_ops ops = {rd, wr};

static void tick(void *opaque)
{
	(void)opaque;
}

static int create(mvm_dev *dev, const struct mvm_host *host, const char *o,
		  void **state)
{
	struct st *s;
	int t, r;

	/* What a plugin of any minor does: refuse a core whose table is
	 * shorter than the one it was built against. */
	if (host->size < sizeof(struct mvm_host) ||
	    host->abi_major != MVM_ABI_MAJOR) {
		host->fail(dev, "host table of %u bytes, need %zu", host->size,
			   sizeof(struct mvm_host));
		return -EPROTO;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dev = dev;
	s->host = host;
	r = host->parse_options(dev, options, o, &s->opt);
	if (r == 0)
		r = host->claim_pio(dev, (uint16_t)s->opt.port, 1, &ops, s);
	/* The event loop, reached through the 1.0 layout. */
	t = r == 0 ? host->add_timer(dev, 1000000, 0, tick, s) : -1;
	if (r == 0 && (t < 0 || host->cancel_timer(dev, t) < 0))
		r = -EIO;
	if (r < 0) {
		free(s);
		return r;
	}
	*state = s;
	return 0;
}

static void destroy(void *state)
{
	free(state);
}

MVM_PLUGIN_EXPORT const struct mvm_plugin mvm_plugin_descriptor = {
	.abi_major = MVM_ABI_MAJOR + ABI_MAJOR_DELTA,
	.abi_minor = MVM_ABI_MINOR + ABI_MINOR_DELTA,
#ifdef DESC_TOO_SHORT
	/* Ends before `destroy`, the last member of the 1.0 descriptor. */
	.size = offsetof(struct mvm_plugin, destroy),
#else
	.size = sizeof(struct mvm_plugin),
#endif
	.name = "abi",
	.version = "1",
	.description = "ABI test plugin",
	.options = options,
	.create = create,
	.destroy = destroy,
#ifdef IOCTLS
	.ioctls = extra_ioctls,
#endif
#ifdef SYSCALLS
	.syscalls = extra_syscalls,
#endif
};
