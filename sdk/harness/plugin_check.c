/*
 * modvmm-plugin-check PLUGIN.so [OPTIONS]: the conformance checks every
 * plugin must pass, run through the harness with no KVM. One line per
 * check, "PASS name", "FAIL name: why" or "SKIP name: why"; exit 0 if all
 * passed, 1 if any failed, 2 if the plugin could not be loaded at all.
 *
 * Every plugin: the descriptor (name, version, description, option table)
 * and a clean destroy. A virtio device, in addition: the transport.
 * The virtio checks are generic: they look only at the transport registers and
 * at what the device does with hostile rings on each of its queues, so a plugin
 * whose queues are device-readable (a balloon) or device-writable (an rng) is
 * judged the same way.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <modvmm/harness.h>

#define REG(x) MVM_VIRTIO_MMIO_##x
#define V1 (1ULL << MVM_VIRTIO_F_VERSION_1)

static const char *plugin, *options;
static int failures;

static void result(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void result(const char *name, const char *fmt, ...)
{
	va_list ap;

	if (!fmt) {
		printf("PASS %s\n", name);
		return;
	}
	failures++;
	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static struct mvm_harness *load(void)
{
	struct mvm_harness *h;
	char why[600];

	if (mvm_harness_open(plugin, options, NULL, &h, why, sizeof(why)) < 0) {
		printf("FAIL load: %s\n", why);
		exit(2);
	}
	return h;
}

/* What every plugin must get right, virtio or not: the descriptor the VMM
 * prints for --list-plugins and --device NAME,help. */
static void check_descriptor(struct mvm_harness *h)
{
	const struct mvm_plugin *p = mvm_harness_plugin(h);
	const struct mvm_option *o;
	char bad[200] = "";

	result("descriptor_name", p->name[0] ? NULL : "empty name");
	result("descriptor_version",
	       p->version && p->version[0] ? NULL : "no version string");
	result("descriptor_description", p->description && p->description[0]
						 ? NULL
						 : "no one-line description");
	for (o = p->options; o && o->key && !bad[0]; o++) {
		if (!o->key[0] || strchr(o->key, '=') || strchr(o->key, ','))
			snprintf(bad, sizeof(bad), "option key '%s'", o->key);
		else if (o->type > MVM_OPT_STR)
			snprintf(bad, sizeof(bad), "option %s: type %d", o->key,
				 (int)o->type);
		else if (!o->help || !o->help[0])
			snprintf(bad, sizeof(bad), "option %s: no help line",
				 o->key);
	}
	result("descriptor_options", bad[0] ? "%s" : NULL, bad);
}

static void check_identity(struct mvm_harness *h)
{
	const struct mvm_dsdt_device *d = mvm_harness_dsdt(h, 0);
	uint32_t m = mvm_harness_vread(h, REG(MAGIC));

	result("virtio_transport",
	       mvm_harness_virtio(h)
		       ? NULL
		       : "the plugin created no virtio-mmio transport");
	if (!mvm_harness_virtio(h))
		exit(1);
	result("magic",
	       m == MVM_VIRTIO_MMIO_MAGIC_VALUE ? NULL : "MagicValue is 0x%x",
	       m);
	m = mvm_harness_vread(h, REG(VERSION));
	result("version", m == 2 ? NULL : "Version is %u, not 2", m);
	m = mvm_harness_vread(h, REG(DEVICE_ID));
	result("device_id", m ? NULL : "DeviceID is 0");
	result("dsdt_node", d && !strcmp(d->hid, "LNRO0005") &&
					    d->mmio_size == 0x1000 &&
					    d->gsi >= 5 && d->gsi <= 23 &&
					    !d->level_triggered
				    ? NULL
				    : "no LNRO0005 node with a 4 KiB window "
				      "and an edge GSI");
	result("version_1_offered", mvm_harness_device_features(h) & V1
					    ? NULL
					    : "VIRTIO_F_VERSION_1 not offered");
}

static void check_negotiation(struct mvm_harness *h)
{
	uint32_t st;

	result("legacy_driver_refused",
	       mvm_harness_virtio_negotiate(h, 0, NULL) == -EPROTO
		       ? NULL
		       : "FEATURES_OK accepted without VERSION_1");
	mvm_harness_vwrite(h, REG(STATUS), 0);
	mvm_harness_vwrite(h, REG(STATUS), 1);
	mvm_harness_vwrite(h, REG(STATUS), 1 | 4);
	st = mvm_harness_vread(h, REG(STATUS));
	result("status_order_enforced",
	       !(st & 4) ? NULL : "DRIVER_OK accepted right after ACKNOWLEDGE");
	result("features_ok",
	       mvm_harness_virtio_negotiate(h, ~0ULL, NULL) == 0
		       ? NULL
		       : "FEATURES_OK refused for the offered features");
}

/* Sets every queue up; returns how many there are. */
static unsigned setup_all(struct mvm_harness *h, struct mvm_harness_vq *vqs,
			  bool *ok)
{
	unsigned n = 0;

	*ok = true;
	for (unsigned i = 0; i < MVM_VIRTIO_MAX_QUEUES; i++) {
		int r = mvm_harness_vq_setup(h, &vqs[i], i, 0);

		if (r == -ENOENT)
			continue;
		if (r < 0)
			*ok = false;
		n = i + 1;
	}
	return n;
}

static void check_queues(struct mvm_harness *h)
{
	static struct mvm_harness_vq vqs[MVM_VIRTIO_MAX_QUEUES];
	struct mvm_harness_vq vq;
	char bad[200] = "";
	unsigned n;
	bool ok;

	mvm_harness_virtio_negotiate(h, ~0ULL, NULL);
	for (unsigned i = 0; i < MVM_VIRTIO_MAX_QUEUES && !bad[0]; i++) {
		mvm_harness_vwrite(h, REG(QUEUE_SEL), i);
		uint32_t max = mvm_harness_vread(h, REG(QUEUE_NUM_MAX));

		if (!max)
			continue;
		if ((max & (max - 1)) || max > MVM_VIRTQ_MAX_SIZE)
			snprintf(bad, sizeof(bad),
				 "queue %u QueueNumMax %u is not a power of "
				 "two up to 32768",
				 i, max);
		else if (max < 32768 &&
			 mvm_harness_vq_setup(h, &vq, i, (uint16_t)(max * 2)) !=
				 -EIO)
			snprintf(bad, sizeof(bad),
				 "queue %u accepted QueueNum %u > "
				 "QueueNumMax %u",
				 i, max * 2, max);
	}
	result("queue_num_max_honoured", bad[0] ? "%s" : NULL, bad);

	mvm_harness_virtio_negotiate(h, ~0ULL, NULL);
	n = setup_all(h, vqs, &ok);
	result("queues_set_up",
	       n && ok ? NULL : "no queue, or a queue refused valid rings");
	result("driver_ok", mvm_harness_virtio_driver_ok(h) == 0
				    ? NULL
				    : "DRIVER_OK did not stick");
	mvm_harness_run(h);

	/* Something for reset to clear: a config interrupt. */
	mvm_harness_virtio_host(h)->config_changed(mvm_harness_virtio(h));
	mvm_harness_vwrite(h, REG(STATUS), 0);
	bad[0] = 0;
	if (mvm_harness_vread(h, REG(STATUS)) ||
	    mvm_harness_vread(h, REG(INTERRUPT_STATUS)))
		snprintf(bad, sizeof(bad), "status or InterruptStatus not 0");
	for (unsigned i = 0; i < n && !bad[0]; i++) {
		mvm_harness_vwrite(h, REG(QUEUE_SEL), i);
		if (mvm_harness_vread(h, REG(QUEUE_READY)))
			snprintf(bad, sizeof(bad), "queue %u still ready", i);
	}
	result("reset_clears_queues_and_interrupts", bad[0] ? "%s" : NULL, bad);
}

static void check_config_generation(struct mvm_harness *h)
{
	uint32_t g = mvm_harness_vread(h, REG(CONFIG_GENERATION));

	result("config_generation_stable",
	       mvm_harness_vread(h, REG(CONFIG_GENERATION)) == g
		       ? NULL
		       : "changes with nothing changing");
	mvm_harness_virtio_host(h)->config_changed(mvm_harness_virtio(h));
	result("config_generation_moves",
	       mvm_harness_vread(h, REG(CONFIG_GENERATION)) != g
		       ? NULL
		       : "unchanged after a config change");
}

enum hostile { LOOP, OUT_OF_RAM, AVAIL_JUMP, BAD_HEAD, NESTED_INDIRECT, NR };
static const char *const hostile_name[NR] = {
	"descriptor loop", "buffer outside RAM", "avail index jump",
	"head out of range", "nested indirect table"};

static void plant(struct mvm_harness *h, struct mvm_harness_vq *vq,
		  enum hostile k)
{
	struct mvm_harness_desc *d0 = mvm_harness_vq_desc(h, vq, 0);
	uint64_t a = mvm_harness_alloc(h, 64, 16);

	switch (k) {
	case LOOP:
		*d0 = (struct mvm_harness_desc){a, 64, MVM_VIRTQ_DESC_F_NEXT,
						0};
		mvm_harness_vq_publish(h, vq, 0);
		break;
	case OUT_OF_RAM:
		*d0 = (struct mvm_harness_desc){0xfffffffffffff000ULL, 0x2000,
						0, 0};
		mvm_harness_vq_publish(h, vq, 0);
		break;
	case AVAIL_JUMP:
		mvm_harness_vq_set_avail_idx(h, vq, (uint16_t)(vq->num + 7));
		break;
	case BAD_HEAD:
		mvm_harness_vq_publish(h, vq, 0xffff);
		break;
	case NESTED_INDIRECT: {
		struct mvm_harness_desc *t = mvm_harness_gpa(h, a, 16);

		*t = (struct mvm_harness_desc){a, 16, MVM_VIRTQ_DESC_F_INDIRECT,
					       0};
		*d0 = (struct mvm_harness_desc){a, 16,
						MVM_VIRTQ_DESC_F_INDIRECT, 0};
		mvm_harness_vq_publish(h, vq, 0);
		break;
	}
	default:
		break;
	}
}

static void check_hostile(struct mvm_harness *h)
{
	static struct mvm_harness_vq vqs[MVM_VIRTIO_MAX_QUEUES];
	char bad[300] = "";
	bool ok;

	for (int k = 0; k < NR && !bad[0]; k++) {
		mvm_harness_virtio_negotiate(h, ~0ULL, NULL);
		unsigned n = setup_all(h, vqs, &ok);

		mvm_harness_virtio_driver_ok(h);
		mvm_harness_run(h);
		for (unsigned i = 0; i < n && !bad[0]; i++) {
			if (!vqs[i].num)
				continue;
			plant(h, &vqs[i], (enum hostile)k);
			mvm_harness_vq_kick(h, &vqs[i]);
			if (mvm_harness_run(h) < 0)
				snprintf(bad, sizeof(bad),
					 "%s on queue %u: the device keeps "
					 "re-arming itself",
					 hostile_name[k], i);
			uint32_t st = mvm_harness_vread(h, REG(STATUS));

			if (!(st & MVM_VIRTIO_STATUS_NEEDS_RESET))
				snprintf(bad, sizeof(bad),
					 "%s on queue %u: status 0x%x, not "
					 "DEVICE_NEEDS_RESET",
					 hostile_name[k], i, st);
			/* The next hostile case starts from a reset. */
			mvm_harness_virtio_negotiate(h, ~0ULL, NULL);
			setup_all(h, vqs, &ok);
			mvm_harness_virtio_driver_ok(h);
		}
	}
	result("hostile_rings_survived", bad[0] ? "%s" : NULL, bad);
	bad[0] = 0;
	if (mvm_harness_virtio_negotiate(h, ~0ULL, NULL) < 0)
		snprintf(bad, sizeof(bad), "renegotiation failed");
	setup_all(h, vqs, &ok);
	if (!bad[0] && (!ok || mvm_harness_virtio_driver_ok(h) < 0))
		snprintf(bad, sizeof(bad), "queues or DRIVER_OK refused");
	if (!bad[0] &&
	    (mvm_harness_vread(h, REG(STATUS)) & MVM_VIRTIO_STATUS_NEEDS_RESET))
		snprintf(bad, sizeof(bad), "still needs reset after a reset");
	result("recovers_after_reset", bad[0] ? "%s" : NULL, bad);
}

int main(int argc, char **argv)
{
	struct mvm_harness *h;

	if (argc < 2 || argc > 3 || !strcmp(argv[1], "--help")) {
		fprintf(stderr,
			"usage: modvmm-plugin-check PLUGIN.so [OPTIONS]\n"
			"Runs the generic conformance checks on a plugin (its "
			"descriptor; for a\nvirtio device the virtio-mmio "
			"transport and hostile rings), with OPTIONS\nas its "
			"option string; exit 0 if all pass.\n");
		return 2;
	}
	plugin = argv[1];
	options = argc == 3 ? argv[2] : "";
	h = load();
	printf("PASS load\n");
	check_descriptor(h);
	if (mvm_harness_virtio(h)) {
		check_identity(h);
		check_negotiation(h);
		check_queues(h);
		check_config_generation(h);
		check_hostile(h);
	} else {
		printf("SKIP virtio: not a virtio device\n");
	}
	result("destroy_releases_fds_and_timers",
	       mvm_harness_close(h) == 0
		       ? NULL
		       : "fds or timers still registered after destroy");
	return failures ? 1 : 0;
}
