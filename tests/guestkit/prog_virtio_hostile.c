/*
 * virtio-hostile [cases=a,b,...]: a misbehaving driver on the first
 * virtio-rng device. Each case starts the device afresh, posts one bad
 * chain (or does one bad thing) and watches what the device does for up to
 * 300 ms:
 *   needs-reset  Status gets DEVICE_NEEDS_RESET (0x40), and a config
 *                interrupt must follow;
 *   skipped      the bad chain comes back with length 0, or never comes
 *                back while a good buffer posted after it does;
 *   processed    the chain was used with data (accepted only where the
 *                chain is well-formed, e.g. a long indirect chain).
 * Then the device is reset and must work again (64 bytes of entropy):
 * "PASS virtio-hostile.CASE". The VMM must survive it all: the summary
 * line at the end is the proof.
 */
#include "virtio.h"

#define WATCH_US 300000u
#define FAR_AWAY 0x10000000000ull /* 1 TiB: no VMM puts RAM there */

static uint8_t data[4096] __attribute__((aligned(4096)));
static struct kit_vring_desc ind[2][KIT_VQ_MAX + 1]
	__attribute__((aligned(4096)));
static struct kit_vdev dev;

enum outcome { NOTHING, NEEDS_RESET, USED_EMPTY, USED_DATA };
static const char *const outcome_name[] = {
	"nothing", "needs-reset", "skipped (used, length 0)", "processed"};

static bool fresh(bool setup)
{
	if (!kit_virtio_start(&dev, 1ull << VIRTIO_F_INDIRECT_DESC))
		return false;
	if (setup && !kit_virtq_setup(&dev, 0, KIT_VQ_MAX))
		return false;
	if (!kit_virtio_irq_enable(&dev))
		return false;
	kit_virtio_take_isr(&dev);
	if (setup)
		kit_virtio_driver_ok(&dev);
	return true;
}

static bool changed(void *arg)
{
	(void)arg;
	return kit_virtq_has_used(&dev.vq[0]) ||
	       (kit_virtio_status(&dev) & VIRTIO_STATUS_NEEDS_RESET);
}

static bool config_irq(void *arg)
{
	(void)arg;
	return dev.isr & VIRTIO_INT_CONFIG;
}

/* Reads 64 bytes through queue 0; false with a reason if it cannot. */
static bool works(char *why, size_t n)
{
	struct kit_virtq *q = &dev.vq[0];
	memset(data, 0, 64);
	struct kit_vbuf b = {(uintptr_t)data, 64, true};
	if (kit_virtq_add(q, &b, 1) < 0) {
		kit_snprintf(why, n, "no free descriptor");
		return false;
	}
	kit_virtq_kick(q);
	if (!kit_virtq_wait(q, 2000000)) {
		kit_snprintf(why, n, "no entropy in 2 s (status 0x%x)",
			     kit_virtio_status(&dev));
		return false;
	}
	uint32_t len = 0;
	kit_virtq_get(q, NULL, &len);
	if (!len || len > 64 || (!ld64(data) && !ld64(data + 8))) {
		kit_snprintf(why, n, "used length %u, data %lx", len,
			     ld64(data));
		return false;
	}
	return true;
}

/* Watches the device after a bad chain; `good` posts a good buffer after
 * it if nothing happened, to tell "skipped" from "stuck". */
static enum outcome watch(char *why, size_t n)
{
	struct kit_virtq *q = &dev.vq[0];
	kit_virtio_wait(changed, NULL, WATCH_US, true);
	if (kit_virtio_status(&dev) & VIRTIO_STATUS_NEEDS_RESET) {
		if (!kit_virtio_wait(config_irq, NULL, WATCH_US, true))
			kit_snprintf(why, n,
				     "NEEDS_RESET without a config interrupt");
		return NEEDS_RESET;
	}
	if (kit_virtq_has_used(q)) {
		uint32_t len;
		/* Not kit_virtq_get: the chain may be a loop we built. */
		len = q->used->ring[q->last_used & (q->num - 1)].len;
		q->last_used++;
		return len ? USED_DATA : USED_EMPTY;
	}
	return NOTHING;
}

static void bad_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	dev.vq[0].desc[i] = (struct kit_vring_desc){addr, len, flags, next};
}

static void hostile_case(const char *name, bool processed_ok,
			 void (*act)(struct kit_virtq *q))
{
	char check[48], why[96] = "";
	kit_snprintf(check, sizeof(check), "virtio-hostile.%s", name);
	if (!fresh(true)) {
		kit_check(false, check, "set-up: %s", kit_virtio_why);
		return;
	}
	struct kit_virtq *q = &dev.vq[0];
	act(q);
	enum outcome o = watch(why, sizeof(why));
	bool ok = !why[0];
	if (o == NOTHING) {
		/* A device that dropped the chain must still serve the next
		 * one: post a good buffer in descriptors the bad chain did not
		 * use. */
		bad_desc((uint16_t)(q->num - 1), (uintptr_t)data, 64,
			 VIRTQ_DESC_F_WRITE, 0);
		kit_virtq_post_raw(q, (uint16_t)(q->num - 1));
		kit_virtq_notify(q);
		o = watch(why, sizeof(why));
		kit_printf("kit: hostile %s: nothing at first, then %s\n", name,
			   o == USED_DATA ? "the next chain was served"
					  : outcome_name[o]);
		if (o == NOTHING) {
			ok = false;
			kit_snprintf(why, sizeof(why),
				     "device neither flagged NEEDS_RESET nor "
				     "served a good chain after it");
		}
		if (o != NOTHING)
			o = o == USED_DATA ? USED_EMPTY : o;
	} else {
		kit_printf("kit: hostile %s: %s\n", name, outcome_name[o]);
	}
	if (o == USED_DATA && !processed_ok) {
		ok = false;
		kit_snprintf(why, sizeof(why),
			     "device used the bad chain with data");
	}
	/* Whatever happened, a reset must bring the device back. */
	char why2[96] = "";
	bool back = fresh(true) && works(why2, sizeof(why2));
	if (!back && !why2[0])
		kit_snprintf(why2, sizeof(why2), "%s", kit_virtio_why);
	if (ok && !back) {
		ok = false;
		kit_snprintf(why, sizeof(why), "after reset: %s", why2);
	}
	kit_check(ok, check, "%s", why);
}

static void act_out_of_ram(struct kit_virtq *q)
{
	bad_desc(0, FAR_AWAY, 4096, VIRTQ_DESC_F_WRITE, 0);
	kit_virtq_post_raw(q, 0);
	kit_virtq_notify(q);
}

static void act_len_wrap(struct kit_virtq *q)
{
	bad_desc(0, 0xfffffffffffff000ull, 0x2000, VIRTQ_DESC_F_WRITE, 0);
	kit_virtq_post_raw(q, 0);
	kit_virtq_notify(q);
}

static void act_loop(struct kit_virtq *q)
{
	bad_desc(0, (uintptr_t)data, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
		 1);
	bad_desc(1, (uintptr_t)data + 16, 16,
		 VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	kit_virtq_post_raw(q, 0);
	kit_virtq_notify(q);
}

static void act_next_range(struct kit_virtq *q)
{
	bad_desc(0, (uintptr_t)data, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
		 (uint16_t)(q->num + 5));
	kit_virtq_post_raw(q, 0);
	kit_virtq_notify(q);
}

static void act_head_range(struct kit_virtq *q)
{
	kit_virtq_post_raw(q, (uint16_t)(q->num + 3));
	kit_virtq_notify(q);
}

static void act_avail_jump(struct kit_virtq *q)
{
	bad_desc(0, (uintptr_t)data, 16, VIRTQ_DESC_F_WRITE, 0);
	for (unsigned i = 0; i < q->num; i++)
		q->avail->ring[i] = 0;
	q->avail_idx = (uint16_t)(q->num + 1);
	q->avail->idx = q->avail_idx;
	kit_virtq_notify(q);
}

/* A linear (no loop) indirect chain one longer than the queue. */
static void act_long_chain(struct kit_virtq *q)
{
	unsigned n = q->num + 1u;
	for (unsigned i = 0; i < n; i++)
		ind[0][i] = (struct kit_vring_desc){
			(uintptr_t)data + 8 * (i % 512), 8,
			(uint16_t)(VIRTQ_DESC_F_WRITE |
				   (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
			(uint16_t)(i + 1)};
	bad_desc(0, (uintptr_t)ind[0], 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
	kit_virtq_post_raw(q, 0);
	kit_virtq_notify(q);
}

static void act_zero_indirect(struct kit_virtq *q)
{
	bad_desc(0, (uintptr_t)ind[0], 0, VIRTQ_DESC_F_INDIRECT, 0);
	kit_virtq_post_raw(q, 0);
	kit_virtq_notify(q);
}

static void act_nested_indirect(struct kit_virtq *q)
{
	ind[1][0] = (struct kit_vring_desc){(uintptr_t)data, 16,
					    VIRTQ_DESC_F_WRITE, 0};
	ind[0][0] = (struct kit_vring_desc){(uintptr_t)ind[1], 16,
					    VIRTQ_DESC_F_INDIRECT, 0};
	bad_desc(0, (uintptr_t)ind[0], 16, VIRTQ_DESC_F_INDIRECT, 0);
	kit_virtq_post_raw(q, 0);
	kit_virtq_notify(q);
}

/* Notifies of queues that are not ready: queue 0 before its set-up, and
 * queues the device does not have. The device must ignore them. */
static void notify_not_ready(void)
{
	char why[96] = "";
	bool ok = fresh(false);
	if (ok) {
		kit_vwrite(&dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
		ok = kit_virtq_setup(&dev, 0, KIT_VQ_MAX);
	}
	if (ok) {
		kit_virtio_driver_ok(&dev);
		kit_vwrite(&dev, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
		kit_vwrite(&dev, VIRTIO_MMIO_QUEUE_NOTIFY, 7);
		kit_vwrite(&dev, VIRTIO_MMIO_QUEUE_NOTIFY, 0xffff);
		uint32_t s = kit_virtio_status(&dev);
		kit_printf("kit: hostile notify-not-ready: status 0x%x\n", s);
		if (s & VIRTIO_STATUS_NEEDS_RESET)
			ok = fresh(true);
		if (ok)
			ok = works(why, sizeof(why));
	}
	if (!ok && !why[0])
		kit_snprintf(why, sizeof(why), "%s", kit_virtio_why);
	kit_check(ok, "virtio-hostile.notify-not-ready", "%s", why);
}

static void hostile(void)
{
	static const struct {
		const char *name;
		bool processed_ok, needs_indirect;
		void (*act)(struct kit_virtq *q);
	} cases[] = {
		{"out-of-ram", false, false, act_out_of_ram},
		{"length-wraps", false, false, act_len_wrap},
		{"loop", false, false, act_loop},
		{"next-out-of-range", false, false, act_next_range},
		{"head-out-of-range", false, false, act_head_range},
		{"avail-jump", false, false, act_avail_jump},
		{"chain-longer-than-queue", true, true, act_long_chain},
		{"zero-length-indirect", false, true, act_zero_indirect},
		{"indirect-in-indirect", false, true, act_nested_indirect},
	};
	if (!kit_vcheck(kit_virtio_find(VIRTIO_ID_RNG, 0, &dev, true),
			"virtio-hostile.find"))
		return;
	if (!kit_vcheck(fresh(true), "virtio-hostile.init"))
		return;
	bool indirect = kit_vhas(&dev, VIRTIO_F_INDIRECT_DESC);
	kit_printf("kit: hostile: queue size %u, INDIRECT_DESC %s\n",
		   dev.vq[0].num, indirect ? "on" : "off (cases skipped)");
	for (unsigned i = 0; i < KIT_ARRAY_SIZE(cases); i++) {
		if (!kit_case_wanted(cases[i].name))
			continue;
		if (cases[i].needs_indirect && !indirect) {
			kit_printf("kit: hostile %s: skipped, no "
				   "INDIRECT_DESC\n",
				   cases[i].name);
			continue;
		}
		hostile_case(cases[i].name, cases[i].processed_ok,
			     cases[i].act);
	}
	if (kit_case_wanted("notify-not-ready"))
		notify_not_ready();
	kit_virtio_reset(&dev);
}

const struct kit_program kit_prog_virtio_hostile = {"virtio-hostile", hostile};
