/*
 * The harness fuzz targets' replay program (fuzz_replay.h).
 */
#include "fuzz_replay.h"

#include <stdio.h>
#include <string.h>

static uint8_t buf[1 << 16];

int fuzz_replay_files(int argc, char **argv, bool *random)
{
	*random = argc == 1;
	for (int i = 1; i < argc; i++) {
		FILE *fp;
		size_t n;

		if (!strcmp(argv[i], "--random")) {
			*random = true;
			continue;
		}
		fp = fopen(argv[i], "rb");
		if (!fp) {
			perror(argv[i]);
			return 1;
		}
		n = fread(buf, 1, sizeof(buf), fp);
		fclose(fp);
		LLVMFuzzerTestOneInput(buf, n);
	}
	return 0;
}

void fuzz_replay_random(uint64_t seed, int count, size_t min_len, size_t spread)
{
	uint64_t x = seed;

	for (int n = 0; n < count; n++) {
		size_t len = min_len + (size_t)n % spread;

		for (size_t i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (uint8_t)(x >> 24);
		}
		LLVMFuzzerTestOneInput(buf, len);
	}
}

int fuzz_replay_main(int argc, char **argv, uint64_t seed, int count,
		     size_t min_len, size_t spread, const char *what)
{
	bool random;

	if (fuzz_replay_files(argc, argv, &random))
		return 1;
	if (!random)
		return 0;
	fuzz_replay_random(seed, count, min_len, spread);
	printf("%d random %s survived\n", count, what);
	return 0;
}
