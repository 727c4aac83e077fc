/*
 * Checks the plugin tests share: a number from a control command's reply,
 * option strings a plugin must refuse with a message naming the key, and
 * a kick the device must answer with NEEDS_RESET. Static inline: each test
 * is its own program. Include after <cmocka.h> and <modvmm/harness.h>.
 */
#ifndef MODVMM_TESTS_PLUGIN_ASSERTS_H
#define MODVMM_TESTS_PLUGIN_ASSERTS_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The number at `path` (e.g. "counters.tx_frames") in the reply of the
 * control command `method`, called with no arguments; fails the test if
 * the call fails or the reply has no such number. */
static inline uint64_t plugin_api_u64(struct mvm_harness *h, const char *method,
				      const char *path)
{
	char reply[4096];
	uint64_t v = 0;

	assert_int_equal(
		mvm_harness_api_call(h, method, NULL, reply, sizeof(reply)), 0);
	if (mvm_harness_json_u64(reply, path, &v) < 0)
		fail_msg("%s has no %s: %s", method, path, reply);
	return v;
}

/* The counter `name` of `method`'s reply (counters.NAME). */
static inline uint64_t plugin_counter(struct mvm_harness *h, const char *method,
				      const char *name)
{
	char path[64];

	snprintf(path, sizeof(path), "counters.%s", name);
	return plugin_api_u64(h, method, path);
}

/* A counter's name and the value it must have. */
struct plugin_count {
	const char *name;
	uint64_t value;
};

/* Each counter of `method`'s reply has its value, read in order. */
static inline void assert_counters(struct mvm_harness *h, const char *method,
				   const struct plugin_count *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v = plugin_counter(h, method, want[i].name);

		if (v != want[i].value)
			fail_msg("%s: counters.%s is %llu, not %llu", method,
				 want[i].name, (unsigned long long)v,
				 (unsigned long long)want[i].value);
	}
}

/* The list and count of assert_counters, from {name, value} pairs. */
#define PLUGIN_COUNTS(...)                                                     \
	(const struct plugin_count[]){__VA_ARGS__},                            \
		sizeof((const struct plugin_count[]){__VA_ARGS__}) /           \
			sizeof(struct plugin_count)

/* Negotiates `want` (what the device accepted in *acc) and sets up
 * queues 0 to n-1 as vqs[0..n), rings where the harness puts them. */
static inline void plugin_setup_queues(struct mvm_harness *h, uint64_t want,
				       uint64_t *acc,
				       struct mvm_harness_vq *const *vqs,
				       unsigned n)
{
	assert_int_equal(mvm_harness_virtio_negotiate(h, want, acc), 0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(mvm_harness_vq_setup(h, vqs[i], i, 0), 0);
}

/* An option string and what the refusal's message must contain. */
struct plugin_refusal {
	const char *opts, *needle;
};

/* Opening the plugin at `path` with each case's options fails with
 * -EINVAL (a user error), leaves no harness, and says `needle`. */
static inline void assert_refused(const char *path,
				  const struct plugin_refusal *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct mvm_harness *h = NULL;
		char why[512];
		int rc = mvm_harness_open(path, cases[i].opts, NULL, &h, why,
					  sizeof(why));

		assert_null(h);
		assert_int_equal(rc, -EINVAL);
		if (!strstr(why, cases[i].needle))
			fail_msg("%s: '%s' lacks '%s'", cases[i].opts, why,
				 cases[i].needle);
	}
}

/* Kicks `vq` after the test put a malformed chain or ring on it: the
 * event loop carries on and the device has set NEEDS_RESET (virtio spec
 * 2.1.2) instead of answering. */
static inline void assert_kick_needs_reset(struct mvm_harness *h,
					   struct mvm_harness_vq *vq)
{
	mvm_harness_vq_kick(h, vq);
	assert_true(mvm_harness_run(h) >= 0);
	assert_true(mvm_harness_vread(h, MVM_VIRTIO_MMIO_STATUS) &
		    MVM_VIRTIO_STATUS_NEEDS_RESET);
}

#endif
