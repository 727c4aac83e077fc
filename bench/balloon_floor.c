/*
 * The host's floor for giving back a GiB: touch 1 GiB of private anonymous
 * memory (one write per 4 KiB page), then give it back with
 *   one    one madvise(MADV_DONTNEED) over the whole GiB
 *   1m     1,024 calls of 1 MiB (what merging 256-PFN buffers gives)
 *   4k     262,144 calls of 4 KiB (one call per page, as QEMU does)
 * and print, per method, the wall time and the thread's CPU time of the
 * give-back alone (CLOCK_THREAD_CPUTIME_ID) in microseconds, and the RSS
 * drop. Each is done twice: alone (a single-threaded process, the floor
 * the targets name) and "+thread" with a second thread of the process
 * spinning on another CPU, as a VMM's vCPU thread is: then every madvise
 * also pays a TLB shoot-down IPI, which per call is what 1,024 calls cost
 * over one. Built and run by bench/balloon: cc -O2 -pthread -o
 * balloon_floor balloon_floor.c. Usage: balloon_floor [REPEATS]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define GIB (1ull << 30)
#define PAGE 4096ull

static uint64_t ns(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static long rss_kb(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			v = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static volatile int spin_stop;
static char *spin_mem;

/* Touches (reads) the mapping continuously, so this thread's CPU is in the
 * mm's CPU mask and holds TLB entries for it, like a running vCPU. */
static void *spinner(void *arg)
{
	(void)arg;
	while (!spin_stop)
		for (uint64_t o = 0; o < GIB && !spin_stop; o += 1ull << 21)
			(void)*(volatile char *)(spin_mem + o);
	return NULL;
}

int main(int argc, char **argv)
{
	int reps = argc > 1 ? atoi(argv[1]) : 5;
	static const struct {
		const char *name;
		uint64_t step;
	} m[] = {{"one", GIB}, {"1m", 1ull << 20}, {"4k", PAGE}};
	char *p = mmap(NULL, GIB, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	/* No transparent hugepages: the guest's RAM is 4 KiB-backed in both
	 * VMMs' default configuration, and a THP would make "one" cheaper. */
	madvise(p, GIB, MADV_NOHUGEPAGE);
	spin_mem = p;
	for (int r = 0; r < 2 * reps; r++) {
		int threaded = r >= reps;
		pthread_t th;

		if (threaded && r == reps &&
		    pthread_create(&th, NULL, spinner, NULL)) {
			perror("pthread_create");
			return 1;
		}
		for (unsigned k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
			for (uint64_t o = 0; o < GIB; o += PAGE)
				p[o] = (char)(o >> 12 | 1);
			long r0 = rss_kb();
			uint64_t w0 = ns(CLOCK_MONOTONIC);
			uint64_t c0 = ns(CLOCK_THREAD_CPUTIME_ID);
			for (uint64_t o = 0; o < GIB; o += m[k].step)
				if (madvise(p + o, m[k].step, MADV_DONTNEED)) {
					perror("madvise");
					return 1;
				}
			uint64_t c1 = ns(CLOCK_THREAD_CPUTIME_ID);
			uint64_t w1 = ns(CLOCK_MONOTONIC);
			long r1 = rss_kb();
			printf("%s%s calls=%llu wall_us=%llu cpu_us=%llu "
			       "rss_drop_kb=%ld\n",
			       m[k].name, threaded ? "+thread" : "",
			       (unsigned long long)(GIB / m[k].step),
			       (unsigned long long)(w1 - w0) / 1000,
			       (unsigned long long)(c1 - c0) / 1000, r0 - r1);
			fflush(stdout);
		}
	}
	spin_stop = 1;
	return 0;
}
