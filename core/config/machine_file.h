/*
 * The YAML machine file (docs/machine-file.md): kernel, initramfs, cmdline,
 * memory, cpus, plugin-path, api-socket and the device list. cli.c loads it
 * before applying command-line flags on top; the fuzz target feeds it
 * arbitrary bytes through machine_file_load_buffer.
 *
 * Relative paths in the file (kernel, initramfs, plugin-path entries,
 * api-socket, and device plugins naming a path with a '/') resolve against
 * the folder of the file. Every error is one line starting with
 * "file:line:column: " (1-based) or, for I/O errors, "file: ".
 */
#ifndef MODVMM_CORE_MACHINE_FILE_H
#define MODVMM_CORE_MACHINE_FILE_H

#include <stddef.h>

#include "config/config.h"

/* A machine file larger than this is refused: real ones are a few lines. */
#define MACHINE_FILE_MAX_SIZE (1u << 20)

/*
 * Read `path` and apply it to `cfg` (scalars overwrite, plugin dirs and
 * devices append). Returns 0, -EINVAL for a bad file, -errno if it cannot
 * be read, -ENOMEM; err->msg is set on every failure. On failure `cfg` may
 * be partly filled: the caller frees it with machine_cfg_free as usual.
 */
int machine_file_load(const char *path, struct machine_cfg *cfg,
		      struct error *err);

/*
 * The same from memory: `name` is the file name used in messages and as the
 * base of relative paths; `buf` need not be NUL-terminated.
 */
int machine_file_load_buffer(const char *name, const char *buf, size_t len,
			     struct machine_cfg *cfg, struct error *err);

#endif
