/*
 * The harness of the balloon-hostile program (prog_balloon_hostile.c runs
 * the cases; balloon_hostile_pages.c and balloon_hostile_queues.c hold
 * them): the balloon set up afresh for each case, chains built by hand
 * with any flags, waiting until they come back or the device asks for a
 * reset, and the canaries.
 *
 * Canaries are memory that hostile buffers name but that the device must
 * never give back: bh_canary (kit pages that malformed buffers list as
 * PFNs, and that truncated huge PFNs alias) and the low pages below 1 MiB
 * that are not wholly RAM in the memory map (the EBDA tail, the legacy
 * hole, the ACPI tables). A page given back reads as zero afterwards, so a
 * pattern (or, in reserved memory, the words already there) must survive
 * every case. Victim pages (bh_victim) are what the kit gives the device
 * for real.
 */
#ifndef BALLOON_HOSTILE_H
#define BALLOON_HOSTILE_H

#include "virtio.h"

#define BH_PAGE ((uint64_t)4096)
#define BH_F_STATS 1
#define BH_F_REPORTING 5
#define BH_CANARY_PAGES 8
#define BH_VICTIM_PAGES 64
#define BH_MAX_LOW 256
#define BH_WAIT_US 5000000ull /* a buffer not back in 5 s: stuck */
#define BH_SETTLE_US 300000ull
#define BH_FAR_AWAY 0x10000000000ull /* 1 TiB: no VMM puts RAM there */
#define BH_NBUF 8
#define BH_BUF_PFNS 264
/* Victim pages by use (the last 4 are bh_works'). */
#define BH_V_DUP 0
#define BH_V_SPLIT 8
#define BH_V_MANY 12
#define BH_V_REPORT 20
#define BH_V_RESET 24 /* 32 pages */
#define BH_V_INDIRECT 56

extern struct kit_vdev bh_dev;
/* The queues of the current set-up (NULL if not negotiated). */
extern struct kit_virtq *bh_inflate, *bh_deflate, *bh_stats, *bh_report;
extern uint8_t bh_canary[BH_CANARY_PAGES][BH_PAGE];
extern uint8_t bh_victim[BH_VICTIM_PAGES][BH_PAGE];
/* PFNs below 1 MiB that are not wholly RAM in the memory map. */
extern uint32_t bh_low[BH_MAX_LOW];
extern unsigned bh_nlow;

/* What the device must have counted, for the host (`balloon info`):
 * lower bounds, from the buffers that came back. */
struct bh_tally {
	uint64_t refused_pfns; /* distinct PFNs per buffer that name no RAM */
	uint64_t bad_buffers;  /* malformed buffers returned */
	uint64_t inflated;     /* good PFNs inflated */
	uint64_t stats;        /* well-formed stats buffers posted */
};
extern struct bh_tally bh_tally;

/* One descriptor of a hand-built chain (NEXT is added between them). */
struct bh_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
};

enum bh_outcome { BH_BACK, BH_NEEDS_RESET, BH_STUCK };
extern const char *const bh_outcome_name[];
/* PFN arrays, one per buffer in flight. */
extern uint32_t bh_pfns[BH_NBUF][BH_BUF_PFNS];

static inline uint32_t bh_pfn(const void *p)
{
	return (uint32_t)((uintptr_t)p / BH_PAGE);
}

/* Reset, features (stats, reporting, indirect when offered), every queue,
 * interrupts, then DRIVER_OK if driver_ok. False: kit_virtio_why. */
bool bh_fresh(bool driver_ok);
/* Whether the device needs a new set-up: NEEDS_RESET, or not running. */
bool bh_broken(void);
/* Writes the chain into the upper half of q's table (kit_virtq_add uses
 * the lower half), publishes it and notifies if kick. */
void bh_post(struct kit_virtq *q, const struct bh_desc *d, unsigned n,
	     bool kick);
/* Waits until count more used elements are on q (taken without following
 * their chains; *written ORs their lengths), or NEEDS_RESET, or 5 s. */
enum bh_outcome bh_wait(struct kit_virtq *q, unsigned count, uint32_t *written);
/* Waits BH_SETTLE_US: for anything a device still does late. */
void bh_settle(void);
/* An inflate and a deflate of 4 victim pages both come back. */
bool bh_works(char *why, size_t n);

bool bh_is_ram(uint64_t addr, uint64_t len);
uint64_t bh_ram_top(void);

/* Writes the patterns and takes the low pages' probes (again after a case
 * damaged them, so that each case is judged alone); prints coverage if
 * verbose. */
void bh_canary_init(bool verbose);
/* False, with the first damaged address, if a canary was given back. */
bool bh_canary_ok(char *why, size_t n);

/* ---- for the cases */
bool bh_fail(char *why, size_t n, const char *fmt, ...) KIT_PRINTF(3, 4);
uint32_t bh_vpfn(unsigned i); /* victim page i */
uint32_t bh_cpfn(unsigned i); /* canary page i (modulo their number) */
uint64_t bh_caddr(unsigned i);
void bh_canary_pfns(uint32_t *out, unsigned n);
/* Marks victim pages [first, first+n) non-zero; how many read zero now. */
void bh_mark(unsigned first, unsigned n);
unsigned bh_zeros(unsigned first, unsigned n);
/* Waits for one chain on q: returned (then, if counted, one more
 * malformed buffer for bh_tally) or NEEDS_RESET (then set up again) are
 * fine, a hang is not. The outcome is left in bh_last. */
bool bh_finish(struct kit_virtq *q, const char *what, bool counted, char *why,
	       size_t n);
extern enum bh_outcome bh_last;
/* bh_post (kicked), then bh_finish. */
bool bh_post_one(struct kit_virtq *q, const struct bh_desc *d, unsigned nd,
		 bool counted, const char *what, char *why, size_t n);
/* bh_post_one for each of d[0..count), a one-descriptor chain each, named
 * what[i]; stops at the first that fails. */
bool bh_post_each(struct kit_virtq *q, const struct bh_desc *d,
		  const char *const *what, unsigned count, bool counted,
		  char *why, size_t n);
/* A well-formed chain that must come back with used length 0. */
bool bh_must_return(struct kit_virtq *q, const struct bh_desc *d, unsigned nd,
		    const char *what, char *why, size_t n);

/* ---- the cases (prog_balloon_hostile.c has the table): true, or false
 * with the reason in why. balloon_hostile_pages.c: */
bool bh_pfn_past_ram(char *why, size_t n);
bool bh_pfn_mmio_hole(char *why, size_t n);
bool bh_pfn_low_reserved(char *why, size_t n);
bool bh_pfn_huge(char *why, size_t n);
bool bh_pfn_duplicates(char *why, size_t n);
bool bh_buf_writable(char *why, size_t n);
bool bh_buf_zero_length(char *why, size_t n);
bool bh_buf_odd_length(char *why, size_t n);
bool bh_buf_too_long(char *why, size_t n);
bool bh_chain_split_pfn(char *why, size_t n);
bool bh_chain_many(char *why, size_t n);
bool bh_chain_read_then_write(char *why, size_t n);
bool bh_chain_write_then_read(char *why, size_t n);
bool bh_chain_outside_ram(char *why, size_t n);
bool bh_chain_into_mmio(char *why, size_t n);
bool bh_chain_loop(char *why, size_t n);
bool bh_chain_indirect(char *why, size_t n);
/* balloon_hostile_queues.c: */
bool bh_report_unaligned(char *why, size_t n);
bool bh_report_readable(char *why, size_t n);
bool bh_report_outside_ram(char *why, size_t n);
bool bh_report_low_reserved(char *why, size_t n);
bool bh_report_mixed(char *why, size_t n);
bool bh_stats_flood(char *why, size_t n);
bool bh_stats_malformed(char *why, size_t n);
bool bh_reset_queued(char *why, size_t n);
bool bh_reset_inflate_kicked(char *why, size_t n);
bool bh_reset_deflate_kicked(char *why, size_t n);
bool bh_reset_report_kicked(char *why, size_t n);
bool bh_reset_stats_held(char *why, size_t n);
bool bh_reset_storm(char *why, size_t n);
bool bh_reset_before_driver_ok(char *why, size_t n);

#endif
