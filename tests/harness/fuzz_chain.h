/*
 * Posting a descriptor chain the way the harness's fuzz targets do
 * (fuzz_balloon.c, fuzz_virtio_net.c): unlike mvm_harness_vq_add, a direct
 * chain wraps around the ring (a chain longer than the queue loops, which
 * the device must refuse), and an indirect table sits wherever the target
 * put it. Inline, so each target's copy carries the fuzzer's
 * instrumentation.
 */
#ifndef MODVMM_TESTS_FUZZ_CHAIN_H
#define MODVMM_TESTS_FUZZ_CHAIN_H

#include <stdint.h>
#include <string.h>

#include <modvmm/harness.h>

/* d[0..n) for the buffers b[0..n): NEXT on all but the last, WRITE on the
 * device-writable ones; `next` is fuzz_chain_post's. */
static inline void fuzz_chain_descs(struct mvm_harness_desc *d,
				    const struct mvm_harness_buf *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		d[i] = (struct mvm_harness_desc){
			.addr = b[i].gpa,
			.len = b[i].len,
			.flags = (uint16_t)((b[i].writable
						     ? MVM_VIRTQ_DESC_F_WRITE
						     : 0) |
					    (i + 1 < n ? MVM_VIRTQ_DESC_F_NEXT
						       : 0)),
		};
}

/* Puts d[0..n) on `vq` at `head` and publishes it: as an indirect table at
 * guest address `table` if that is not 0, else as direct descriptors from
 * `head` on, wrapping. */
static inline void fuzz_chain_post(struct mvm_harness *h,
				   struct mvm_harness_vq *vq, uint16_t head,
				   struct mvm_harness_desc *d, unsigned n,
				   uint64_t table)
{
	if (table) {
		void *p = mvm_harness_gpa(h, table, 16ULL * n);

		for (unsigned i = 0; i < n; i++)
			d[i].next = (uint16_t)(i + 1);
		if (p)
			memcpy(p, d, 16ULL * n);
		*mvm_harness_vq_desc(h, vq, head) = (struct mvm_harness_desc){
			.addr = table,
			.len = (uint32_t)(16 * n),
			.flags = MVM_VIRTQ_DESC_F_INDIRECT};
		vq->next_desc = (uint16_t)((head + 1) % vq->num);
	} else {
		uint16_t i = head;

		for (unsigned k = 0; k < n; k++) {
			uint16_t next = (uint16_t)((i + 1) % vq->num);

			d[k].next = next;
			*mvm_harness_vq_desc(h, vq, i) = d[k];
			i = next;
		}
		vq->next_desc = i;
	}
	mvm_harness_vq_publish(h, vq, head);
}

#endif
