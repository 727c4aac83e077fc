/*
 * Tests the built uart16550.so the way the core will use it: dlopen() it,
 * find `mvm_plugin_descriptor`, call `create` with a host table, then act as
 * the guest's 8250 driver through the port callbacks the plugin claimed.
 *
 * The host here is a fake that records what the plugin asks for (ports,
 * interrupt line levels, DSDT entry, watched fds, exit requests) and
 * parses options with the core's real opts_parse. Written before the
 * per-plugin harness (sdk/harness/) existed, and kept as it is.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <modvmm/plugin.h>

#include "config/opts.h"

/* ---- the fake host ---- */

#define MAX_IRQ_EVENTS 256

static struct fake {
	char fail_msg[512];
	struct opts_strings strings;

	int pio_rc; /* what claim_pio returns */
	int pio_claims;
	uint16_t pio_base, pio_len;
	const struct mvm_io_ops *ops;
	void *opaque;

	int irq_rc; /* if non-zero, what claim_irq returns */
	int irq_claimed;
	int irq_level;
	int irq_events[MAX_IRQ_EVENTS]; /* levels set, in order */
	int n_irq_events;

	int dsdt_calls;
	struct mvm_dsdt_device dsdt;

	int add_fd_rc;
	int watched_fd; /* -1 when nothing is watched */
	mvm_fd_cb fd_cb;
	void *fd_opaque;
	int add_fd_calls, remove_fd_calls;

	int exit_requests, exit_status;
} fk;

static mvm_dev *const DEV = (mvm_dev *)0x1234;

static void fake_log(mvm_dev *dev, enum mvm_log_level level, const char *fmt,
		     ...)
{
	(void)dev;
	(void)level;
	(void)fmt;
}

static void fake_log_guest(mvm_dev *dev, const char *fmt, ...)
{
	(void)dev;
	(void)fmt;
}

static void fake_fail(mvm_dev *dev, const char *fmt, ...)
{
	va_list ap;

	assert_ptr_equal(dev, DEV);
	va_start(ap, fmt);
	vsnprintf(fk.fail_msg, sizeof(fk.fail_msg), fmt, ap);
	va_end(ap);
}

static int fake_parse_options(mvm_dev *dev, const struct mvm_option *spec,
			      const char *str, void *out)
{
	(void)dev;
	return opts_parse(spec, str, out, &fk.strings, fk.fail_msg,
			  sizeof(fk.fail_msg));
}

static int fake_claim_pio(mvm_dev *dev, uint16_t base, uint16_t len,
			  const struct mvm_io_ops *ops, void *opaque)
{
	(void)dev;
	if (fk.pio_rc)
		return fk.pio_rc;
	fk.pio_claims++;
	fk.pio_base = base;
	fk.pio_len = len;
	fk.ops = ops;
	fk.opaque = opaque;
	return 0;
}

static int fake_claim_mmio(mvm_dev *dev, uint64_t base, uint64_t len,
			   const struct mvm_io_ops *ops, void *opaque)
{
	(void)dev, (void)base, (void)len, (void)ops, (void)opaque;
	return -ENOSYS;
}

static int fake_alloc_mmio(mvm_dev *dev, uint64_t len, uint64_t *base)
{
	(void)dev, (void)len, (void)base;
	return -ENOSYS;
}

static int fake_claim_irq(mvm_dev *dev, int gsi)
{
	(void)dev;
	if (fk.irq_rc)
		return fk.irq_rc;
	fk.irq_claimed = gsi;
	return gsi;
}

static int fake_set_irq(mvm_dev *dev, uint32_t gsi, int level)
{
	(void)dev;
	assert_int_equal(gsi, fk.irq_claimed);
	if (fk.n_irq_events < MAX_IRQ_EVENTS)
		fk.irq_events[fk.n_irq_events++] = level;
	fk.irq_level = level;
	return 0;
}

static int fake_dsdt_add_device(mvm_dev *dev, const struct mvm_dsdt_device *d)
{
	(void)dev;
	fk.dsdt_calls++;
	fk.dsdt = *d;
	return 0;
}

static int fake_dsdt_add_aml(mvm_dev *dev, const void *aml, size_t len)
{
	(void)dev, (void)aml, (void)len;
	return -ENOSYS;
}

static void *fake_guest_mem(mvm_dev *dev, uint64_t gpa, uint64_t len)
{
	(void)dev, (void)gpa, (void)len;
	return NULL;
}

static int fake_add_fd(mvm_dev *dev, int fd, uint32_t events, mvm_fd_cb cb,
		       void *opaque)
{
	(void)dev;
	(void)events;
	fk.add_fd_calls++;
	if (fk.add_fd_rc)
		return fk.add_fd_rc;
	assert_int_equal(fk.watched_fd, -1);
	fk.watched_fd = fd;
	fk.fd_cb = cb;
	fk.fd_opaque = opaque;
	return 0;
}

static int fake_remove_fd(mvm_dev *dev, int fd)
{
	(void)dev;
	fk.remove_fd_calls++;
	assert_int_equal(fk.watched_fd, fd);
	fk.watched_fd = -1;
	return 0;
}

static int fake_add_timer(mvm_dev *dev, uint64_t first_ns, uint64_t period_ns,
			  mvm_timer_cb cb, void *opaque)
{
	(void)dev, (void)first_ns, (void)period_ns, (void)cb, (void)opaque;
	return -ENOSYS;
}

static int fake_cancel_timer(mvm_dev *dev, int timer_id)
{
	(void)dev, (void)timer_id;
	return -ENOSYS;
}

static void fake_request_exit(mvm_dev *dev, int status)
{
	(void)dev;
	fk.exit_requests++;
	fk.exit_status = status;
}

static const char *fake_dev_name(mvm_dev *dev)
{
	(void)dev;
	return "uart16550";
}

static const struct mvm_host host = {
	.size = sizeof(struct mvm_host),
	.abi_major = MVM_ABI_MAJOR,
	.abi_minor = MVM_ABI_MINOR,
	.log = fake_log,
	.log_guest = fake_log_guest,
	.fail = fake_fail,
	.parse_options = fake_parse_options,
	.claim_pio = fake_claim_pio,
	.claim_mmio = fake_claim_mmio,
	.alloc_mmio = fake_alloc_mmio,
	.claim_irq = fake_claim_irq,
	.set_irq = fake_set_irq,
	.dsdt_add_device = fake_dsdt_add_device,
	.dsdt_add_aml = fake_dsdt_add_aml,
	.guest_mem = fake_guest_mem,
	.add_fd = fake_add_fd,
	.remove_fd = fake_remove_fd,
	.add_timer = fake_add_timer,
	.cancel_timer = fake_cancel_timer,
	.request_exit = fake_request_exit,
	.dev_name = fake_dev_name,
};

/* ---- per-test device ---- */

static const struct mvm_plugin *plugin;
static void *dev_state;
static bool dev_created;
static char out_path[] = "/tmp/modvmm-uart-test-XXXXXX";
static int saved_stdin = -1;

/* Registers (offsets from the base port). */
enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2 };
enum { LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

static uint8_t in(unsigned reg)
{
	return (uint8_t)fk.ops->read(fk.opaque, reg, 1);
}

static void out(unsigned reg, uint8_t v)
{
	fk.ops->write(fk.opaque, reg, 1, v);
}

static int create(const char *fmt, ...)
{
	char opts[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(opts, sizeof(opts), fmt, ap);
	va_end(ap);
	rc = plugin->create(DEV, &host, opts, &dev_state);
	dev_created = rc == 0;
	return rc;
}

/* The usual device: output to the test's file, no stdin. */
static void create_default(void)
{
	assert_int_equal(create("file=%s,input=off", out_path), 0);
	assert_int_equal(plugin->start(dev_state), 0);
}

static size_t read_output(char *buf, size_t len)
{
	int fd = open(out_path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, len - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	return (size_t)n;
}

/* Replace fd 0 by a pipe the test writes to; returns the write end. */
static int stdin_pipe(void)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
	close(p[0]);
	return p[1];
}

static void feed(int wfd, const void *buf, size_t len)
{
	assert_int_equal(write(wfd, buf, len), (ssize_t)len);
	assert_int_equal(fk.watched_fd, STDIN_FILENO);
	fk.fd_cb(fk.fd_opaque, STDIN_FILENO, 0x001 /* EPOLLIN */);
}

static int setup(void **state)
{
	int fd;

	(void)state;
	memset(&fk, 0, sizeof(fk));
	fk.watched_fd = -1;
	fk.irq_claimed = -1;
	strcpy(out_path, "/tmp/modvmm-uart-test-XXXXXX");
	fd = mkstemp(out_path);
	if (fd < 0)
		return -1;
	close(fd);
	saved_stdin = dup(STDIN_FILENO);
	dev_created = false;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (dev_created)
		plugin->destroy(dev_state);
	dev_created = false;
	opts_strings_free(&fk.strings);
	unlink(out_path);
	if (saved_stdin >= 0) {
		dup2(saved_stdin, STDIN_FILENO);
		close(saved_stdin);
		saved_stdin = -1;
	}
	return 0;
}

/* ---- loading ---- */

static void test_descriptor_has_current_abi_and_name(void **state)
{
	(void)state;
	assert_int_equal(plugin->abi_major, MVM_ABI_MAJOR);
	assert_true(plugin->abi_minor <= MVM_ABI_MINOR);
	assert_int_equal(plugin->size, sizeof(struct mvm_plugin));
	assert_string_equal(plugin->name, "uart16550");
	assert_non_null(plugin->create);
	assert_non_null(plugin->destroy);
	assert_non_null(plugin->options);
}

static void test_descriptor_lists_its_options(void **state)
{
	const char *want[] = {"port", "irq", "file", "input"};

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		bool found = false;

		for (const struct mvm_option *o = plugin->options; o->key; o++)
			found |= !strcmp(o->key, want[i]);
		assert_true(found);
	}
}

/* ---- create: resources ---- */

static void test_defaults_claim_com1_ports_and_irq_4(void **state)
{
	(void)state;
	create_default();
	assert_int_equal(fk.pio_claims, 1);
	assert_int_equal(fk.pio_base, 0x3f8);
	assert_int_equal(fk.pio_len, 8);
	assert_int_equal(fk.irq_claimed, 4);
}

static void test_dsdt_entry_is_pnp0501_edge_triggered(void **state)
{
	(void)state;
	create_default();
	assert_int_equal(fk.dsdt_calls, 1);
	assert_string_equal(fk.dsdt.hid, "PNP0501");
	assert_int_equal(fk.dsdt.io_base, 0x3f8);
	assert_int_equal(fk.dsdt.io_size, 8);
	assert_int_equal(fk.dsdt.gsi, 4);
	assert_false(fk.dsdt.level_triggered);
	assert_int_equal(fk.dsdt.mmio_size, 0);
}

static void test_port_and_irq_options_move_the_device(void **state)
{
	(void)state;
	assert_int_equal(create("port=0x2f8,irq=3,input=off,file=%s", out_path),
			 0);
	assert_int_equal(fk.pio_base, 0x2f8);
	assert_int_equal(fk.irq_claimed, 3);
	assert_int_equal(fk.dsdt.io_base, 0x2f8);
	assert_int_equal(fk.dsdt.gsi, 3);
}

static void test_irq_line_starts_low_and_untouched(void **state)
{
	(void)state;
	create_default();
	assert_int_equal(fk.n_irq_events, 0);
	assert_int_equal(in(IIR)&0x0f, 0x01);
}

/* ---- create: errors ---- */

static void test_irq_above_23_is_rejected_naming_the_key(void **state)
{
	(void)state;
	assert_int_equal(create("irq=24,input=off"), -EINVAL);
	assert_false(dev_created);
	assert_string_equal(fk.fail_msg, "irq=24: must be at most 23");
	assert_int_equal(fk.pio_claims, 0);
}

static void test_bad_port_is_rejected_naming_the_key(void **state)
{
	(void)state;
	assert_int_equal(create("port=com1,input=off"), -EINVAL);
	assert_non_null(strstr(fk.fail_msg, "port=com1"));
}

static void test_port_too_high_for_eight_registers_is_rejected(void **state)
{
	(void)state;
	assert_int_equal(create("port=0xfffc,input=off"), -EINVAL);
	assert_non_null(strstr(fk.fail_msg, "port=0xfffc"));
}

static void test_bad_input_bool_is_rejected_naming_the_key(void **state)
{
	(void)state;
	assert_int_equal(create("input=maybe"), -EINVAL);
	assert_string_equal(fk.fail_msg, "input=maybe: expected on or off");
}

static void test_unknown_option_is_rejected_naming_it(void **state)
{
	(void)state;
	assert_int_equal(create("baud=9600"), -EINVAL);
	assert_non_null(strstr(fk.fail_msg, "'baud'"));
	assert_non_null(strstr(fk.fail_msg, "port, irq, file, input"));
}

static void test_busy_ports_fail_create_with_range(void **state)
{
	(void)state;
	fk.pio_rc = -EBUSY;
	assert_int_equal(create("file=%s,input=off", out_path), -EBUSY);
	assert_non_null(strstr(fk.fail_msg, "0x3f8-0x3ff"));
	assert_non_null(strstr(fk.fail_msg, strerror(EBUSY)));
}

static void test_busy_irq_fails_create_naming_it(void **state)
{
	(void)state;
	fk.irq_rc = -EBUSY;
	assert_int_equal(create("file=%s,input=off", out_path), -EBUSY);
	assert_non_null(strstr(fk.fail_msg, "irq=4"));
	assert_int_equal(fk.dsdt_calls, 0);
}

static void test_unopenable_output_file_fails_create(void **state)
{
	(void)state;
	assert_int_equal(create("file=/nonexistent-dir/x,input=off"), -ENOENT);
	assert_non_null(strstr(fk.fail_msg, "file=/nonexistent-dir/x"));
	assert_int_equal(fk.pio_claims, 0);
}

static void test_failing_stdin_watch_fails_create(void **state)
{
	int w = stdin_pipe();

	(void)state;
	fk.add_fd_rc = -EEXIST;
	assert_int_equal(create("file=%s", out_path), -EEXIST);
	assert_non_null(strstr(fk.fail_msg, "input=on"));
	close(w);
}

static void test_unpollable_stdin_just_disables_input(void **state)
{
	(void)state;
	/* What epoll says about /dev/null or a regular file. */
	fk.add_fd_rc = -EPERM;
	assert_int_equal(create("file=%s", out_path), 0);
	assert_int_equal(fk.watched_fd, -1);
}

/* ---- output ---- */

static void test_thr_write_appears_in_output_file(void **state)
{
	char buf[64];

	(void)state;
	create_default();
	for (const char *p = "hello\r\n"; *p; p++)
		out(THR, (uint8_t)*p);
	assert_int_equal(read_output(buf, sizeof(buf)), 7);
	assert_string_equal(buf, "hello\r\n");
}

static void test_each_byte_is_written_through_at_once(void **state)
{
	char buf[16];

	(void)state;
	create_default();
	out(THR, 'a');
	assert_int_equal(read_output(buf, sizeof(buf)), 1);
	out(THR, 'b');
	assert_int_equal(read_output(buf, sizeof(buf)), 2);
	assert_string_equal(buf, "ab");
}

static void test_file_option_truncates_existing_file(void **state)
{
	char buf[16];
	FILE *f = fopen(out_path, "w");

	(void)state;
	assert_non_null(f);
	fputs("old contents", f);
	fclose(f);
	create_default();
	assert_int_equal(read_output(buf, sizeof(buf)), 0);
}

static void test_lsr_reports_thre_and_temt_after_write(void **state)
{
	(void)state;
	create_default();
	assert_int_equal(in(LSR)&0x60, 0x60);
	out(THR, 'x');
	assert_int_equal(in(LSR), 0x60);
}

/* ---- THR-empty interrupt ---- */

static void test_enabling_thri_raises_it_and_the_line(void **state)
{
	(void)state;
	create_default();
	out(IER, 0x02);
	assert_int_equal(fk.irq_level, 1);
	assert_int_equal(in(IIR)&0x0f, 0x02);
}

static void test_reading_iir_acknowledges_thri_and_lowers_line(void **state)
{
	(void)state;
	create_default();
	out(IER, 0x02);
	assert_int_equal(in(IIR)&0x0f, 0x02);
	assert_int_equal(fk.irq_level, 0);
	assert_int_equal(in(IIR)&0x0f, 0x01);
}

static void test_thr_write_rearms_thri_with_a_fresh_edge(void **state)
{
	(void)state;
	create_default();
	out(IER, 0x02);
	fk.n_irq_events = 0;
	out(THR, 'x'); /* line still high from the unacknowledged THRI */
	assert_int_equal(fk.n_irq_events, 2);
	assert_int_equal(fk.irq_events[0], 0);
	assert_int_equal(fk.irq_events[1], 1);
	assert_int_equal(in(IIR)&0x0f, 0x02);
}

static void test_thr_write_after_ack_raises_the_line_again(void **state)
{
	(void)state;
	create_default();
	out(IER, 0x02);
	in(IIR);
	assert_int_equal(fk.irq_level, 0);
	out(THR, 'x');
	assert_int_equal(fk.irq_level, 1);
}

static void test_reenabling_thri_reasserts_it(void **state)
{
	(void)state;
	/* Linux's UART_BUG_THRE probe: a real 16550 re-raises THRI whenever
	 * it is enabled with the transmitter idle. */
	create_default();
	out(IER, 0x02);
	assert_int_equal(in(IIR)&0x0f, 0x02);
	out(IER, 0x00);
	out(IER, 0x02);
	assert_int_equal(in(IIR)&0x0f, 0x02);
}

static void test_disabling_ier_lowers_the_line(void **state)
{
	(void)state;
	create_default();
	out(IER, 0x02);
	assert_int_equal(fk.irq_level, 1);
	out(IER, 0x00);
	assert_int_equal(fk.irq_level, 0);
	assert_int_equal(in(IIR)&0x0f, 0x01);
}

static void test_thr_writes_without_thri_never_touch_the_line(void **state)
{
	(void)state;
	create_default();
	out(THR, 'a');
	out(THR, 'b');
	assert_int_equal(fk.n_irq_events, 0);
}

/* ---- registers ---- */

static void test_ier_keeps_only_the_low_four_bits(void **state)
{
	(void)state;
	create_default();
	out(IER, 0xff);
	assert_int_equal(in(IER), 0x0f);
	out(IER, 0x40); /* Linux's XScale UUE probe must read back 0 */
	assert_int_equal(in(IER), 0x00);
}

static void test_fifo_enable_sets_iir_high_bits(void **state)
{
	(void)state;
	create_default();
	assert_int_equal(in(IIR)&0xc0, 0x00);
	out(FCR, 0x01);
	assert_int_equal(in(IIR), 0xc1);
	out(FCR, 0x00);
	assert_int_equal(in(IIR), 0x01);
}

static void test_dlab_exposes_divisor_latch(void **state)
{
	(void)state;
	create_default();
	out(LCR, 0x83);
	out(DLL, 0x01);
	out(DLM, 0x02);
	assert_int_equal(in(DLL), 0x01);
	assert_int_equal(in(DLM), 0x02);
	assert_int_equal(in(LCR), 0x83);
}

static void test_dlab_writes_leave_ier_and_output_alone(void **state)
{
	char buf[8];

	(void)state;
	create_default();
	out(LCR, 0x83);
	out(DLL, 'Z');
	out(DLM, 0x0f);
	out(LCR, 0x03);
	assert_int_equal(in(IER), 0x00);
	assert_int_equal(read_output(buf, sizeof(buf)), 0);
	assert_int_equal(fk.n_irq_events, 0);
}

static void test_word_write_with_dlab_sets_both_divisor_bytes(void **state)
{
	(void)state;
	create_default();
	out(LCR, 0x80);
	fk.ops->write(fk.opaque, DLL, 2, 0x0201);
	assert_int_equal(fk.ops->read(fk.opaque, DLL, 2), 0x0201);
}

static void test_scratch_register_holds_a_byte(void **state)
{
	(void)state;
	create_default();
	out(SCR, 0xa5);
	assert_int_equal(in(SCR), 0xa5);
	out(SCR, 0x5a);
	assert_int_equal(in(SCR), 0x5a);
}

static void test_mcr_keeps_five_bits(void **state)
{
	(void)state;
	create_default();
	out(MCR, 0xff);
	assert_int_equal(in(MCR), 0x1f);
}

/* ---- modem status and loopback ---- */

static void test_msr_reports_carrier_dsr_cts_outside_loopback(void **state)
{
	(void)state;
	create_default();
	assert_int_equal(in(MSR)&0xf0, 0xb0);
}

static void test_loopback_msr_mirrors_mcr_as_linux_probes(void **state)
{
	(void)state;
	create_default();
	/* Linux autoconfig: MCR = LOOP|OUT2|RTS must read DCD|CTS. */
	out(MCR, 0x10 | 0x0a);
	assert_int_equal(in(MSR)&0xf0, 0x90);
	out(MCR, 0x10 | 0x05); /* OUT1|DTR -> RI|DSR */
	assert_int_equal(in(MSR)&0xf0, 0x60);
}

static void test_loopback_routes_thr_to_rbr_not_output(void **state)
{
	char buf[8];

	(void)state;
	create_default();
	out(MCR, 0x10);
	out(THR, 'q');
	assert_int_equal(in(LSR)&0x01, 0x01);
	assert_int_equal(in(RBR), 'q');
	assert_int_equal(in(LSR)&0x01, 0x00);
	assert_int_equal(read_output(buf, sizeof(buf)), 0);
}

static void test_leaving_loopback_restores_output(void **state)
{
	char buf[8];

	(void)state;
	create_default();
	out(MCR, 0x10);
	out(THR, 'q');
	out(MCR, 0x08);
	out(THR, 'r');
	assert_int_equal(read_output(buf, sizeof(buf)), 1);
	assert_string_equal(buf, "r");
}

static void test_modem_status_change_raises_msi_until_msr_read(void **state)
{
	(void)state;
	create_default();
	in(MSR);
	out(IER, 0x08);
	assert_int_equal(fk.irq_level, 0);
	out(MCR, 0x10); /* loopback, all outputs off: CTS, DSR, DCD drop */
	assert_int_equal(fk.irq_level, 1);
	assert_int_equal(in(IIR)&0x0f, 0x00);
	assert_int_equal(in(MSR)&0x0f, 0x0b); /* DDCD, DDSR, DCTS */
	assert_int_equal(fk.irq_level, 0);
	assert_int_equal(in(IIR)&0x0f, 0x01);
}

/* ---- receive ---- */

static void test_rx_data_raises_rdi_and_reading_rbr_lowers_it(void **state)
{
	(void)state;
	create_default();
	out(MCR, 0x10);
	out(IER, 0x01);
	out(THR, 'a');
	assert_int_equal(fk.irq_level, 1);
	assert_int_equal(in(IIR)&0x0f, 0x04);
	assert_int_equal(in(RBR), 'a');
	assert_int_equal(fk.irq_level, 0);
}

static void test_rdi_takes_priority_over_thri(void **state)
{
	(void)state;
	create_default();
	out(MCR, 0x10);
	out(IER, 0x03);
	out(THR, 'a');
	assert_int_equal(in(IIR)&0x0f, 0x04);
	in(RBR);
	assert_int_equal(in(IIR)&0x0f, 0x02);
}

static void test_fifo_below_trigger_reports_char_timeout(void **state)
{
	(void)state;
	create_default();
	out(FCR, 0x81); /* FIFO on, trigger at 8 */
	out(MCR, 0x10);
	out(IER, 0x01);
	out(THR, 'a');
	assert_int_equal(in(IIR), 0xcc);
	for (int i = 0; i < 7; i++)
		out(THR, 'b');
	assert_int_equal(in(IIR), 0xc4);
}

static void test_fifo_holds_sixteen_bytes_in_order(void **state)
{
	(void)state;
	create_default();
	out(FCR, 0x01);
	out(MCR, 0x10);
	for (int i = 0; i < 16; i++)
		out(THR, (uint8_t)('a' + i));
	assert_int_equal(in(LSR)&0x02, 0); /* no overrun */
	for (int i = 0; i < 16; i++)
		assert_int_equal(in(RBR), 'a' + i);
	assert_int_equal(in(LSR)&0x01, 0);
}

static void test_fifo_overrun_sets_oe_and_line_status_interrupt(void **state)
{
	(void)state;
	create_default();
	out(FCR, 0x01);
	out(MCR, 0x10);
	out(IER, 0x05);
	for (int i = 0; i < 17; i++)
		out(THR, (uint8_t)('a' + i));
	assert_int_equal(in(IIR)&0x0f, 0x06);
	assert_int_equal(in(LSR)&0x03, 0x03);
	/* Reading LSR cleared OE: the data interrupt is next. */
	assert_int_equal(in(LSR)&0x02, 0x00);
	assert_int_equal(in(IIR)&0x0f, 0x04);
	/* The FIFO kept the first sixteen bytes. */
	assert_int_equal(in(RBR), 'a');
}

static void test_without_fifo_second_byte_overruns_the_first(void **state)
{
	(void)state;
	create_default();
	out(MCR, 0x10);
	out(THR, '1');
	out(THR, '2');
	assert_int_equal(in(LSR)&0x03, 0x03);
	assert_int_equal(in(RBR), '2');
}

static void test_fcr_clear_empties_the_rx_fifo(void **state)
{
	(void)state;
	create_default();
	out(FCR, 0x01);
	out(MCR, 0x10);
	out(THR, 'a');
	out(THR, 'b');
	out(FCR, 0x03);
	assert_int_equal(in(LSR)&0x01, 0);
	assert_int_equal(in(IIR), 0xc1);
}

/* ---- stdin ---- */

static void test_input_off_never_watches_stdin(void **state)
{
	(void)state;
	create_default();
	assert_int_equal(fk.add_fd_calls, 0);
}

static void test_stdin_bytes_reach_rbr_and_raise_rdi(void **state)
{
	int w = stdin_pipe();

	(void)state;
	assert_int_equal(create("file=%s", out_path), 0);
	out(FCR, 0x01);
	out(IER, 0x01);
	feed(w, "ls\n", 3);
	assert_int_equal(fk.irq_level, 1);
	assert_int_equal(in(RBR), 'l');
	assert_int_equal(in(RBR), 's');
	assert_int_equal(in(RBR), '\n');
	assert_int_equal(fk.irq_level, 0);
	close(w);
}

static void test_full_fifo_stops_watching_until_guest_drains(void **state)
{
	int w = stdin_pipe();
	char buf[20];

	(void)state;
	memset(buf, 'k', sizeof(buf));
	assert_int_equal(create("file=%s", out_path), 0);
	out(FCR, 0x01);
	feed(w, buf, sizeof(buf));
	assert_int_equal(fk.watched_fd, -1); /* 16 taken, 4 left in pipe */
	assert_int_equal(in(LSR)&0x02, 0);   /* and nothing lost */
	in(RBR);
	assert_int_equal(fk.watched_fd, STDIN_FILENO);
	fk.fd_cb(fk.fd_opaque, STDIN_FILENO, 0x001);
	assert_int_equal(fk.watched_fd, -1); /* full again: 15 + 1 */
	for (int i = 0; i < 16; i++)
		in(RBR);
	fk.fd_cb(fk.fd_opaque, STDIN_FILENO, 0x001);
	for (int i = 0; i < 3; i++)
		assert_int_equal(in(RBR), 'k');
	assert_int_equal(in(LSR)&0x01, 0);
	close(w);
}

static void test_stdin_eof_stops_watching_for_good(void **state)
{
	int w = stdin_pipe();

	(void)state;
	assert_int_equal(create("file=%s", out_path), 0);
	close(w);
	fk.fd_cb(fk.fd_opaque, STDIN_FILENO, 0x001);
	assert_int_equal(fk.watched_fd, -1);
	out(FCR, 0x01);
	in(RBR);
	assert_int_equal(fk.watched_fd, -1);
}

static void test_ctrl_a_x_requests_exit_with_status_0(void **state)
{
	int w = stdin_pipe();

	(void)state;
	assert_int_equal(create("file=%s", out_path), 0);
	out(FCR, 0x01);
	feed(w, "a\001xb", 4);
	assert_int_equal(fk.exit_requests, 1);
	assert_int_equal(fk.exit_status, 0);
	assert_int_equal(in(RBR), 'a');
	assert_int_equal(in(LSR)&0x01, 0); /* 'b' was not delivered */
	close(w);
}

static void test_ctrl_a_ctrl_a_sends_one_ctrl_a(void **state)
{
	int w = stdin_pipe();

	(void)state;
	assert_int_equal(create("file=%s", out_path), 0);
	out(FCR, 0x01);
	feed(w, "\001\001z", 3);
	assert_int_equal(in(RBR), 0x01);
	assert_int_equal(in(RBR), 'z');
	assert_int_equal(in(LSR)&0x01, 0);
	assert_int_equal(fk.exit_requests, 0);
	close(w);
}

static void test_ctrl_a_escape_spans_two_reads(void **state)
{
	int w = stdin_pipe();

	(void)state;
	assert_int_equal(create("file=%s", out_path), 0);
	out(FCR, 0x01);
	feed(w, "\001", 1);
	assert_int_equal(in(LSR)&0x01, 0);
	feed(w, "x", 1);
	assert_int_equal(fk.exit_requests, 1);
	close(w);
}

static void test_loopback_pauses_stdin(void **state)
{
	int w = stdin_pipe();

	(void)state;
	assert_int_equal(create("file=%s", out_path), 0);
	assert_int_equal(fk.watched_fd, STDIN_FILENO);
	out(MCR, 0x10);
	assert_int_equal(fk.watched_fd, -1);
	out(MCR, 0x08);
	assert_int_equal(fk.watched_fd, STDIN_FILENO);
	close(w);
}

static void test_destroy_stops_watching_stdin(void **state)
{
	int w = stdin_pipe();

	(void)state;
	assert_int_equal(create("file=%s", out_path), 0);
	plugin->destroy(dev_state);
	dev_created = false;
	assert_int_equal(fk.watched_fd, -1);
	close(w);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	void *so = dlopen(UART_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);

	if (!so) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	plugin = dlsym(so, MVM_PLUGIN_SYMBOL);
	if (!plugin) {
		fprintf(stderr, "dlsym: %s\n", dlerror());
		return 1;
	}

	const struct CMUnitTest tests[] = {
		T(test_descriptor_has_current_abi_and_name),
		T(test_descriptor_lists_its_options),
		T(test_defaults_claim_com1_ports_and_irq_4),
		T(test_dsdt_entry_is_pnp0501_edge_triggered),
		T(test_port_and_irq_options_move_the_device),
		T(test_irq_line_starts_low_and_untouched),
		T(test_irq_above_23_is_rejected_naming_the_key),
		T(test_bad_port_is_rejected_naming_the_key),
		T(test_port_too_high_for_eight_registers_is_rejected),
		T(test_bad_input_bool_is_rejected_naming_the_key),
		T(test_unknown_option_is_rejected_naming_it),
		T(test_busy_ports_fail_create_with_range),
		T(test_busy_irq_fails_create_naming_it),
		T(test_unopenable_output_file_fails_create),
		T(test_failing_stdin_watch_fails_create),
		T(test_unpollable_stdin_just_disables_input),
		T(test_thr_write_appears_in_output_file),
		T(test_each_byte_is_written_through_at_once),
		T(test_file_option_truncates_existing_file),
		T(test_lsr_reports_thre_and_temt_after_write),
		T(test_enabling_thri_raises_it_and_the_line),
		T(test_reading_iir_acknowledges_thri_and_lowers_line),
		T(test_thr_write_rearms_thri_with_a_fresh_edge),
		T(test_thr_write_after_ack_raises_the_line_again),
		T(test_reenabling_thri_reasserts_it),
		T(test_disabling_ier_lowers_the_line),
		T(test_thr_writes_without_thri_never_touch_the_line),
		T(test_ier_keeps_only_the_low_four_bits),
		T(test_fifo_enable_sets_iir_high_bits),
		T(test_dlab_exposes_divisor_latch),
		T(test_dlab_writes_leave_ier_and_output_alone),
		T(test_word_write_with_dlab_sets_both_divisor_bytes),
		T(test_scratch_register_holds_a_byte),
		T(test_mcr_keeps_five_bits),
		T(test_msr_reports_carrier_dsr_cts_outside_loopback),
		T(test_loopback_msr_mirrors_mcr_as_linux_probes),
		T(test_loopback_routes_thr_to_rbr_not_output),
		T(test_leaving_loopback_restores_output),
		T(test_modem_status_change_raises_msi_until_msr_read),
		T(test_rx_data_raises_rdi_and_reading_rbr_lowers_it),
		T(test_rdi_takes_priority_over_thri),
		T(test_fifo_below_trigger_reports_char_timeout),
		T(test_fifo_holds_sixteen_bytes_in_order),
		T(test_fifo_overrun_sets_oe_and_line_status_interrupt),
		T(test_without_fifo_second_byte_overruns_the_first),
		T(test_fcr_clear_empties_the_rx_fifo),
		T(test_input_off_never_watches_stdin),
		T(test_stdin_bytes_reach_rbr_and_raise_rdi),
		T(test_full_fifo_stops_watching_until_guest_drains),
		T(test_stdin_eof_stops_watching_for_good),
		T(test_ctrl_a_x_requests_exit_with_status_0),
		T(test_ctrl_a_ctrl_a_sends_one_ctrl_a),
		T(test_ctrl_a_escape_spans_two_reads),
		T(test_loopback_pauses_stdin),
		T(test_destroy_stops_watching_stdin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
