/*
 * debug-exit: an I/O port the guest writes one byte to, and the VMM exits
 * with that byte as its status. Guest test programs use it to hand a
 * verdict straight to the shell or CI job that started the VM:
 *
 *   modvmm --kernel kit.elf --device debug-exit,port=0x501 \
 *          --cmdline "test=debug-exit status=42"; echo $?     # 42
 *
 * With qemu=on the status is (byte << 1) | 1, like QEMU's isa-debug-exit,
 * so test suites written for `-device isa-debug-exit` run unchanged.
 *
 * An out-of-tree plugin: it includes only <modvmm/plugin.h> and links
 * against nothing of modvmm (docs/plugins.md).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include <modvmm/plugin.h>

struct dx_opts {
	uint64_t port;
	bool qemu;
};

struct dx {
	mvm_dev *dev;
	const struct mvm_host *host;
	struct dx_opts opt;
	bool exiting; /* only the first write counts */
};

static const struct mvm_option dx_options[] = {
	MVM_OPTION_RANGE("port", MVM_OPT_U64, struct dx_opts, port, "0x501",
			 false, 1, 0xffff,
			 "the I/O port the guest writes its exit status to"),
	MVM_OPTION("qemu", MVM_OPT_BOOL, struct dx_opts, qemu, "off", false,
		   "exit with (byte << 1) | 1, as QEMU's isa-debug-exit does"),
	MVM_OPTION_END,
};

/* vCPU thread, device lock held. Reads tell a guest the device is there. */
static uint64_t dx_read(void *opaque, uint64_t offset, unsigned len)
{
	(void)opaque;
	(void)offset;
	(void)len;
	return 0;
}

/* vCPU thread, device lock held. */
static void dx_write(void *opaque, uint64_t offset, unsigned len,
		     uint64_t value)
{
	struct dx *d = opaque;
	unsigned status = (unsigned)(value & 0xff);

	(void)offset;
	(void)len;
	if (d->exiting)
		return;
	d->exiting = true;
	if (d->opt.qemu)
		status = ((status << 1) | 1) & 0xff;
	d->host->log(d->dev, MVM_LOG_INFO,
		     "guest wrote 0x%02llx: exiting with status %u",
		     (unsigned long long)(value & 0xff), status);
	d->host->request_exit(d->dev, (int)status);
}

static const struct mvm_io_ops dx_ops = {.read = dx_read, .write = dx_write};

static int dx_create(mvm_dev *dev, const struct mvm_host *host,
		     const char *options, void **state)
{
	struct dx *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return -ENOMEM;
	d->dev = dev;
	d->host = host;
	r = host->parse_options(dev, dx_options, options, &d->opt);
	if (r == 0)
		r = host->claim_pio(dev, (uint16_t)d->opt.port, 1, &dx_ops, d);
	if (r < 0) {
		free(d);
		return r;
	}
	*state = d;
	return 0;
}

static void dx_destroy(void *state)
{
	free(state);
}

MVM_PLUGIN_EXPORT const struct mvm_plugin mvm_plugin_descriptor = {
	MVM_PLUGIN_HEADER,
	.name = "debug-exit",
	.version = "1.0",
	.description = "guest writes a byte to an I/O port, the VMM exits with "
		       "it as its status",
	.options = dx_options,
	.create = dx_create,
	.destroy = dx_destroy,
};
