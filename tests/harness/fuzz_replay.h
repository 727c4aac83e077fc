/*
 * The replay program of the harness's fuzz targets (fuzz_virtio.c,
 * fuzz_balloon.c, fuzz_virtio_net.c, fuzz_virtio_blk.c) when libFuzzer is not
 * in use (MODVMM_FUZZ=OFF): their main() calls fuzz_replay_main(), which plays
 * LLVMFuzzerTestOneInput over the files given and, with none or with --random,
 * over a fixed set of pseudo-random programs (xorshift64 from a fixed seed: the
 * same programs on every run), so the targets always build and run in the
 * ordinary suite.
 */
#ifndef MODVMM_TESTS_FUZZ_REPLAY_H
#define MODVMM_TESTS_FUZZ_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_replay_main(argc, argv, seed, count, min_len, spread, what): the
 * program's arguments are [--random] [FILE...]; the random programs are
 * `count` programs from the xorshift64 state `seed` (not 0), program n
 * min_len + n % spread bytes long (at most 64 KiB), and the closing line
 * says "<count> random <what> survived". Returns main's exit status (1 if
 * a file cannot be read). */
int fuzz_replay_main(int argc, char **argv, uint64_t seed, int count,
		     size_t min_len, size_t spread, const char *what);

/* FUZZ_REPLAY_MAIN(seed, count, min_len, spread, what): a target's main()
 * calling fuzz_replay_main with these, under MODVMM_FUZZ_REPLAY; nothing
 * under libFuzzer, which brings its own main(). */
#ifdef MODVMM_FUZZ_REPLAY
#define FUZZ_REPLAY_MAIN(seed, count, min_len, spread, what)                   \
	int main(int argc, char **argv)                                        \
	{                                                                      \
		return fuzz_replay_main(argc, argv, seed, count, min_len,      \
					spread, what);                         \
	}
#else
#define FUZZ_REPLAY_MAIN(seed, count, min_len, spread, what)
#endif

/* The two halves of fuzz_replay_main, for a target with more to do: plays
 * the FILEs of argv (1 if one cannot be read, else 0) and says whether the
 * random programs are wanted (--random, or no FILE); then plays those. */
int fuzz_replay_files(int argc, char **argv, bool *random);
void fuzz_replay_random(uint64_t seed, int count, size_t min_len,
			size_t spread);

#endif
