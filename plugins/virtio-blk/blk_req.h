/*
 * virtio-blk plugin: checking a popped chain (blk_req.c). Called by blk.c
 * on the event-loop thread for every chain it pops; the checked request
 * then goes to blk_io.c.
 */
#ifndef MODVMM_BLK_REQ_H
#define MODVMM_BLK_REQ_H

#include "blk.h"

enum blk_prep {
	BLK_PREP_SUBMIT, /* checked; hand it to the I/O engine */
	BLK_PREP_DONE,   /* answered already (status set) */
	BLK_PREP_BAD,    /* no status byte to answer in: needs reset */
};
/* Check the chain `c` just popped from queue `qi` and fill `r`. Event-loop
 * thread. */
enum blk_prep blk_req_prepare(struct blk *b, struct mvm_virtq *q,
			      const struct mvm_virtq_chain *c, unsigned qi,
			      struct blk_req *r);
/* Free what prepare and the engine allocated, and r. */
void blk_req_free(struct blk_req *r);

#endif /* MODVMM_BLK_REQ_H */
