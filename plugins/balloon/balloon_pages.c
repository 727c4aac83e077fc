/*
 * Inflate, deflate and free page reporting. Guest PFNs are hostile: each is
 * checked to name a whole 4 KiB page of guest RAM; the survivors are
 * sorted, deduplicated and merged into runs, and each run is given back
 * with one host->discard call (Firecracker's approach): each call may be a
 * madvise or fallocate, so a run of 256 pages costs one system call rather
 * than 256. Every buffer goes back to the guest, even a bad one: the Linux
 * driver waits for it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "balloon_pages.h"

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

unsigned balloon_pfn_runs(uint32_t *pfns, unsigned n, uint32_t *starts,
			  uint32_t *lens)
{
	unsigned runs = 0;

	qsort(pfns, n, sizeof(*pfns), cmp_u32);
	for (unsigned i = 0; i < n; i++) {
		if (runs && pfns[i] == starts[runs - 1] + lens[runs - 1] - 1)
			continue; /* duplicate of the run's last page */
		if (runs && (uint64_t)pfns[i] == (uint64_t)starts[runs - 1] +
							 lens[runs - 1]) {
			lens[runs - 1]++;
			continue;
		}
		starts[runs] = pfns[i];
		lens[runs] = 1;
		runs++;
	}
	return runs;
}

/* Gives back [gpa, gpa+len). host->discard refuses with -EFAULT memory
 * that is not usable RAM (e820-reserved low memory, MMIO, outside RAM) and
 * with -EINVAL a range that is not page-aligned RAM (modvmm/plugin.h): the
 * guest named those pages, so they count as bad PFNs. A run refused with
 * -EFAULT may be only partly reserved: go page by page then and skip the
 * refused ones, so one bad PFN cannot keep good ones in the host. Any other
 * error (madvise's ENOMEM or EAGAIN, fallocate's EIO) is the host failing
 * on good RAM: not the guest's doing, and retrying it page by page would
 * only fail once per page. */
static void discard_run(struct balloon *b, uint64_t gpa, uint64_t len)
{
	int r;

	b->count.discard_calls++;
	r = b->host->discard(b->dev, gpa, len);
	if (r == 0) {
		b->count.discarded_bytes += len;
		return;
	}
	if (r != -EFAULT && r != -EINVAL) {
		b->count.discard_errors++;
		b->host->log(b->dev, MVM_LOG_ERROR,
			     "cannot give 0x%llx+0x%llx back to the host: %s",
			     (unsigned long long)gpa, (unsigned long long)len,
			     strerror(-r));
		return;
	}
	if (r == -EFAULT && len > BALLOON_PAGE_SIZE) {
		for (uint64_t off = 0; off < len; off += BALLOON_PAGE_SIZE)
			discard_run(b, gpa + off, BALLOON_PAGE_SIZE);
		return;
	}
	b->count.bad_pfns += len >> BALLOON_PAGE_SHIFT;
	b->host->log_guest(b->dev, "0x%llx+0x%llx cannot be discarded: %s",
			   (unsigned long long)gpa, (unsigned long long)len,
			   strerror(-r));
}

/* Reads the chain's PFN array into b->pfns, dropping the ones outside
 * RAM. Returns the number kept, or -1 if the buffer is malformed. */
static int read_pfns(struct balloon *b, struct mvm_virtq *q,
		     const struct mvm_virtq_chain *c)
{
	unsigned n, kept = 0;

	if (c->writable || c->readable % 4 ||
	    c->readable > BALLOON_MAX_PFNS * 4) {
		b->count.bad_buffers++;
		b->host->log_guest(b->dev,
				   "malformed PFN buffer (%llu readable, %llu "
				   "writable bytes): ignored",
				   (unsigned long long)c->readable,
				   (unsigned long long)c->writable);
		return -1;
	}
	n = (unsigned)(c->readable / 4);
	if (b->vio->chain_read(q, c, 0, b->pfns, n * 4) != n * 4)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		uint64_t gpa = (uint64_t)b->pfns[i] << BALLOON_PAGE_SHIFT;

		/* The whole page, not just its first byte (kvmtool's bug). */
		if (!b->host->guest_mem(b->dev, gpa, BALLOON_PAGE_SIZE)) {
			b->count.bad_pfns++;
			b->host->log_guest(b->dev,
					   "PFN 0x%x is not guest RAM: ignored",
					   b->pfns[i]);
			continue;
		}
		b->pfns[kept++] = b->pfns[i];
	}
	return (int)kept;
}

void balloon_inflate_deflate(struct balloon *b, struct mvm_virtq *q,
			     bool inflate)
{
	uint32_t starts[BALLOON_MAX_PFNS], lens[BALLOON_MAX_PFNS];
	struct mvm_virtq_chain c;

	while (b->vio->pop(q, &c) == 1) {
		int n = read_pfns(b, q, &c);

		if (n > 0) {
			unsigned runs = balloon_pfn_runs(b->pfns, (unsigned)n,
							 starts, lens);

			for (unsigned i = 0; i < runs; i++) {
				uint64_t gpa = (uint64_t)starts[i]
					       << BALLOON_PAGE_SHIFT;
				uint64_t len = (uint64_t)lens[i]
					       << BALLOON_PAGE_SHIFT;

				if (inflate) {
					b->count.inflated_pages += lens[i];
					discard_run(b, gpa, len);
				} else {
					b->count.deflated_pages += lens[i];
					/* Pages come back on demand; only
					 * hugepage bookkeeping needs to know.
					 */
					if (b->host->discard_reuse)
						b->host->discard_reuse(
							b->dev, gpa, len);
				}
			}
		}
		b->vio->push(q, &c, 0);
	}
	b->vio->notify(q);
}

void balloon_report(struct balloon *b, struct mvm_virtq *q)
{
	struct mvm_virtq_chain c;

	while (b->vio->pop(q, &c) == 1) {
		for (unsigned i = 0; i < c.nseg; i++) {
			const struct mvm_virtq_seg *s = &c.seg[i];

			/* Reported chunks are device-writable (spec 5.5.6.7)
			 * and page aligned; anything else is ignored. */
			if (!s->writable ||
			    (s->gpa | s->len) & (BALLOON_PAGE_SIZE - 1)) {
				b->count.bad_buffers++;
				b->host->log_guest(
					b->dev,
					"reported chunk 0x%llx+0x%x is not "
					"page aligned or not writable: ignored",
					(unsigned long long)s->gpa, s->len);
				continue;
			}
			b->count.reported_bytes += s->len;
			discard_run(b, s->gpa, s->len);
		}
		b->vio->push(q, &c, 0);
	}
	b->vio->notify(q);
}
