/*
 * The replay program of the harness's fuzz targets (fuzz_virtio.c,
 * fuzz_balloon.c) when libFuzzer is not in use (MODVMM_FUZZ=OFF): their
 * main() calls fuzz_replay_main(), which plays LLVMFuzzerTestOneInput over
 * the files given and, with none or with --random, over a fixed set of
 * pseudo-random programs (xorshift64 from a fixed seed: the same programs
 * on every run), so the targets always build and run in the ordinary suite.
 */
#ifndef MODVMM_TESTS_FUZZ_REPLAY_H
#define MODVMM_TESTS_FUZZ_REPLAY_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_random_programs {
	uint64_t seed;     /* xorshift64 state, not 0 */
	int count;         /* how many programs */
	size_t min_len;    /* program n is min_len + n % len_spread bytes */
	size_t len_spread; /* at most 65536 - min_len */
	const char *what;  /* "... N random <what> survived" */
};

/* fuzz_replay_main(argc, argv, r): [--random] [FILE...]; returns main's
 * exit status (1 if a file cannot be read). */
int fuzz_replay_main(int argc, char **argv,
		     const struct fuzz_random_programs *r);

#endif
