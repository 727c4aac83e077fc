/*
 * The SDK's vhost helpers (include/modvmm/vhost.h) against a fake host,
 * without a vhost device: the error lines and hints of mvm_vhost_open, the
 * checks before each ioctl, the ring sizes asked of guest_mem, and where
 * mvm_vhost_reclaim_queue resumes a queue. Running a queue in vhost-net
 * and vhost-vsock is plugin.virtio_net's and linux.net_vhost_on's and
 * linux.vsock_vhost's (nested KVM host).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <modvmm/vhost.h>

/* Guest RAM of the fake host: 64 KiB at guest-physical 0. */
static uint8_t ram[65536];
/* What the fake host answers and what it was asked. */
static int nregions;
static int rings_error;
static struct mvm_virtq_rings rings;
static int offloads, reclaims;
static uint16_t reclaim_avail, reclaim_used;
static uint64_t mem_len[3];
static unsigned nmem;

static int fake_ram_regions(mvm_dev *dev, struct mvm_ram_region *out,
			    unsigned max)
{
	(void)dev;
	for (int i = 0; i < nregions && (unsigned)i < max; i++)
		out[i] = (struct mvm_ram_region){
			.gpa = 0, .size = sizeof(ram), .host = ram};
	return nregions;
}

static void *fake_guest_mem(mvm_dev *dev, uint64_t gpa, uint64_t len)
{
	(void)dev;
	if (nmem < 3)
		mem_len[nmem++] = len;
	if (gpa > sizeof(ram) || len > sizeof(ram) - gpa)
		return NULL;
	return ram + gpa;
}

static int fake_queue_rings(struct mvm_virtq *q, struct mvm_virtq_rings *out)
{
	(void)q;
	if (rings_error)
		return rings_error;
	*out = rings;
	return 0;
}

static int fake_queue_offload(struct mvm_virtq *q, int *kick, int *call)
{
	(void)q;
	offloads++;
	*kick = *call = -1;
	return 0;
}

static int fake_queue_reclaim(struct mvm_virtq *q, uint16_t avail,
			      uint16_t used)
{
	(void)q;
	reclaims++;
	reclaim_avail = avail;
	reclaim_used = used;
	return 0;
}

static struct mvm_host host = {
	.size = sizeof(struct mvm_host),
	.guest_mem = fake_guest_mem,
	.ram_regions = fake_ram_regions,
};
static struct mvm_virtio_host vh = {
	.size = sizeof(struct mvm_virtio_host),
	.queue_rings = fake_queue_rings,
	.queue_offload = fake_queue_offload,
	.queue_reclaim = fake_queue_reclaim,
};
static const struct mvm_virtio_base base = {.host = &host, .vh = &vh};
/* The helpers only hand the queue back to the fake table. */
static struct mvm_virtq *const queue = (struct mvm_virtq *)ram;

static int setup(void **s)
{
	(void)s;
	memset(ram, 0, sizeof(ram));
	nregions = 1;
	rings_error = 0;
	rings = (struct mvm_virtq_rings){.num = 256,
					 .next_avail = 7,
					 .next_used = 5,
					 .desc_gpa = 0x1000,
					 .avail_gpa = 0x2000,
					 .used_gpa = 0x3000};
	offloads = reclaims = 0;
	reclaim_avail = reclaim_used = 0;
	nmem = 0;
	host.size = sizeof(struct mvm_host);
	vh.size = sizeof(struct mvm_virtio_host);
	return 0;
}

/* The lowest free fd number, to see that nothing was left open. */
static int next_fd(void)
{
	int fd = dup(0);

	close(fd);
	return fd;
}

static void test_usable_needs_the_abi_1_3_members(void **s)
{
	(void)s;
	assert_true(mvm_vhost_usable(&base));
	host.size = offsetof(struct mvm_host, ram_regions);
	assert_false(mvm_vhost_usable(&base));
	setup(s);
	vh.size = offsetof(struct mvm_virtio_host, queue_reclaim);
	assert_false(mvm_vhost_usable(&base));
}

/* mvm_vhost_open(path, "vhost_x") fails with `e` and the error line
 * `line`, and leaves no fd open. */
static void assert_open_fails(const char *path, int e, const char *line)
{
	char why[160];
	uint64_t f = 0;
	int fd = next_fd();

	assert_int_equal(mvm_vhost_open(path, "vhost_x", &f, why, sizeof(why)),
			 e);
	assert_string_equal(why, line);
	assert_int_equal(next_fd(), fd);
}

static void test_open_hints_modprobe_when_the_node_is_missing(void **s)
{
	(void)s;
	assert_open_fails("/nonexistent/vhost-x", -ENOENT,
			  "/nonexistent/vhost-x: No such file or directory "
			  "(modprobe vhost_x)");
}

static void test_open_hints_permissions_when_not_writable(void **s)
{
	(void)s;
	/* A read-only sysctl refuses O_RDWR with EACCES even to root (procfs
	 * checks the mode bits itself). */
	assert_open_fails("/proc/sys/kernel/osrelease", -EACCES,
			  "/proc/sys/kernel/osrelease: Permission denied "
			  "(needs root, or write access to it)");
}

static void test_open_closes_a_node_that_is_not_vhost(void **s)
{
	(void)s;
	assert_open_fails("/dev/null", -ENOTTY,
			  "/dev/null: Inappropriate ioctl for device");
}

static void test_mem_table_refuses_what_it_cannot_hold(void **s)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	(void)s;
	nregions = MVM_VHOST_MAX_REGIONS + 1;
	assert_int_equal(mvm_vhost_set_mem_table(&base, null), -E2BIG);
	nregions = 0;
	assert_int_equal(mvm_vhost_set_mem_table(&base, null), -E2BIG);
	nregions = -EIO;
	assert_int_equal(mvm_vhost_set_mem_table(&base, null), -EIO);
	/* A table it can hold reaches the ioctl, which /dev/null refuses. */
	nregions = 2;
	assert_int_equal(mvm_vhost_set_mem_table(&base, null), -ENOTTY);
	close(null);
}

static void test_start_checks_the_rings_at_the_spec_sizes(void **s)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	(void)s;
	assert_int_equal(mvm_vhost_start_queue(&base, null, queue, 0), -ENOTTY);
	/* virtio 1.2 2.7: 16 bytes a descriptor; 6 + 2 and 6 + 8 a slot. */
	assert_int_equal(nmem, 3);
	assert_int_equal(mem_len[0], 16 * 256);
	assert_int_equal(mem_len[1], 6 + 2 * 256);
	assert_int_equal(mem_len[2], 6 + 8 * 256);
	/* The vring ioctls failed: the queue was never handed over. */
	assert_int_equal(offloads, 0);
	close(null);
}

static void test_start_refuses_a_ring_outside_ram(void **s)
{
	(void)s;
	rings.used_gpa = sizeof(ram) - 8;
	assert_int_equal(mvm_vhost_start_queue(&base, -1, queue, 0), -EFAULT);
	assert_int_equal(offloads, 0);
	rings_error = -ENODEV;
	assert_int_equal(mvm_vhost_start_queue(&base, -1, queue, 0), -ENODEV);
}

static void test_reclaim_resumes_at_the_used_rings_idx(void **s)
{
	(void)s;
	/* used ring: flags, then idx (little-endian). */
	ram[0x3002] = 0x34;
	ram[0x3003] = 0x12;
	/* No engine answers VHOST_GET_VRING_BASE: the core's avail index. */
	assert_int_equal(mvm_vhost_reclaim_queue(&base, -1, queue, 0), 0);
	assert_int_equal(reclaims, 1);
	assert_int_equal(reclaim_avail, 7);
	assert_int_equal(reclaim_used, 0x1234);
	/* A used ring outside RAM: the core's used index. */
	rings.used_gpa = sizeof(ram);
	assert_int_equal(mvm_vhost_reclaim_queue(&base, -1, queue, 0), 0);
	assert_int_equal(reclaims, 2);
	assert_int_equal(reclaim_used, 5);
	/* Not a ready queue: nothing to take back. */
	rings_error = -ENODEV;
	assert_int_equal(mvm_vhost_reclaim_queue(&base, -1, queue, 0), -ENODEV);
	assert_int_equal(reclaims, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_usable_needs_the_abi_1_3_members,
				       setup),
		cmocka_unit_test_setup(
			test_open_hints_modprobe_when_the_node_is_missing,
			setup),
		cmocka_unit_test_setup(
			test_open_hints_permissions_when_not_writable, setup),
		cmocka_unit_test_setup(
			test_open_closes_a_node_that_is_not_vhost, setup),
		cmocka_unit_test_setup(
			test_mem_table_refuses_what_it_cannot_hold, setup),
		cmocka_unit_test_setup(
			test_start_checks_the_rings_at_the_spec_sizes, setup),
		cmocka_unit_test_setup(test_start_refuses_a_ring_outside_ram,
				       setup),
		cmocka_unit_test_setup(
			test_reclaim_resumes_at_the_used_rings_idx, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
