/*
 * memhog: the Debian test guest's memory helper (tests/linux/build-guest.sh
 * builds it with `gcc -static` into the initramfs as /bin/memhog).
 *
 *   memhog MIB [HOLD_SECONDS]
 *
 * Maps MIB MiB of private anonymous memory (MAP_NORESERVE: the kernel's
 * overcommit heuristic must not refuse the mapping up front, the test wants
 * the page allocator, the balloon's OOM notifier and the OOM killer to
 * decide), writes one non-zero word into every 4 KiB page so each page is
 * really allocated and dirty (the host sees it in the VMM's RSS), prints
 *
 *   modvmm-guest: memhog touched MIB MiB in MS ms
 *
 * holds the memory HOLD_SECONDS (default 0), then unmaps it and prints
 *
 *   modvmm-guest: memhog freed MIB MiB
 *
 * and exits 0. Progress goes to stderr every 256 MiB. If the kernel's OOM
 * killer picks it, it dies with SIGKILL before "touched" (exit status 137
 * in the shell). A mapping the kernel refuses: "memhog mmap failed", exit 2.
 * Every line is flushed at once: the console is how the host follows it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	unsigned long mib, hold = 0;
	size_t len, page = 4096;
	long long t0;
	char *p, *end;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: memhog MIB [HOLD_SECONDS]\n");
		return 2;
	}
	errno = 0;
	mib = strtoul(argv[1], &end, 10);
	if (errno || *end || mib == 0 || mib > (1UL << 24)) {
		fprintf(stderr, "memhog: bad size '%s'\n", argv[1]);
		return 2;
	}
	if (argc == 3)
		hold = strtoul(argv[2], NULL, 10);
	setvbuf(stdout, NULL, _IONBF, 0);
	len = (size_t)mib << 20;
	t0 = now_ms();
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		printf("modvmm-guest: memhog mmap failed: %s\n",
		       strerror(errno));
		return 2;
	}
	for (size_t off = 0; off < len; off += page) {
		/* Non-zero and different per page: never a zero page, never
		 * merged by KSM on the host. */
		*(volatile unsigned long *)(p + off) = 0x6d656d686f67UL ^ off;
		if (off && off % (256UL << 20) == 0)
			fprintf(stderr, "memhog: %zu MiB\n", off >> 20);
	}
	printf("modvmm-guest: memhog touched %lu MiB in %lld ms\n", mib,
	       now_ms() - t0);
	if (hold)
		sleep((unsigned)hold);
	munmap(p, len);
	printf("modvmm-guest: memhog freed %lu MiB\n", mib);
	return 0;
}
