/* Kernel file reading, format detection and placement; see boot.h. */
#include "boot/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/boot_linux.h"
#include "boot/boot_pvh.h"
#include "layout.h"

#define PAGE_SIZE 4096ULL

static int read_whole_file(const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		close(fd);
		return r;
	}
	*len = (size_t)st.st_size;
	*buf = malloc(*len ? *len : 1);
	if (!*buf) {
		close(fd);
		return -ENOMEM;
	}
	for (size_t got = 0; got < *len;) {
		ssize_t n = read(fd, *buf + got, *len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			free(*buf);
			*buf = NULL;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	return r;
}

/* Reads the initramfs straight into guest RAM, as high as the kernel
 * allows, page aligned, above the kernel. */
static int load_initrd(struct guest_ram *ram, const char *path,
		       uint64_t kernel_end, uint64_t max_end,
		       struct boot_extras *x, struct error *err)
{
	struct stat st;
	uint64_t top, gpa;
	uint8_t *dst;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int e = fd < 0 ? errno : EINVAL;

		error_user(err, "initramfs %s: %s", path,
			   fd < 0 ? strerror(e) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return -e;
	}
	top = guest_ram_low_end(ram);
	if (top > max_end)
		top = max_end;
	gpa = (top - (uint64_t)st.st_size) & ~(PAGE_SIZE - 1);
	if ((uint64_t)st.st_size > top || gpa < kernel_end ||
	    !(dst = guest_ram_ptr(ram, gpa, (uint64_t)st.st_size + 1))) {
		error_user(
			err,
			"initramfs %s (%lld bytes) does not fit in guest RAM "
			"next to the kernel: give the machine more memory",
			path, (long long)st.st_size);
		close(fd);
		return -EINVAL;
	}
	for (uint64_t got = 0; got < (uint64_t)st.st_size;) {
		ssize_t n = read(fd, dst + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			error_user(err, "initramfs %s: read failed", path);
			close(fd);
			return -EIO;
		}
		got += (uint64_t)n;
	}
	close(fd);
	x->initrd_gpa = gpa;
	x->initrd_size = (uint64_t)st.st_size;
	return 0;
}

int boot_image_open(const char *kernel, const char *initramfs,
		    struct boot_image *bi, struct error *err)
{
	uint64_t entry;
	int r;

	memset(bi, 0, sizeof(*bi));
	bi->path = kernel;
	r = read_whole_file(kernel, &bi->img, &bi->len);
	if (r < 0) {
		error_user(err, "kernel %s: %s", kernel,
			   r == -EINVAL ? "not a regular file" : strerror(-r));
		return r;
	}
	if (boot_is_elf(bi->img, bi->len)) {
		bi->kind = BOOT_PVH;
		r = boot_pvh_find_entry(bi->img, bi->len, &entry, err);
	} else if (boot_is_bzimage(bi->img, bi->len)) {
		bi->kind = BOOT_LINUX64;
		r = boot_linux_check(bi->img, bi->len, err);
	} else {
		r = error_user(err, "neither a bzImage nor an ELF image");
	}
	if (r == 0 && initramfs && access(initramfs, R_OK) < 0) {
		error_user(err, "initramfs %s: %s", initramfs, strerror(errno));
		r = -errno;
	} else if (r < 0) {
		error_prefix(err, "kernel %s: ", kernel);
	}
	if (r < 0)
		boot_image_close(bi);
	return r;
}

void boot_image_close(struct boot_image *bi)
{
	free(bi->img);
	bi->img = NULL;
	bi->len = 0;
}

int boot_load(struct guest_ram *ram, const struct boot_image *bi,
	      const char *initramfs, const char *cmdline,
	      struct boot_result *out, struct error *err)
{
	struct boot_extras x = {.cmdline = cmdline,
				.rsdp_gpa = LAYOUT_ACPI_ADDR};
	const char *kernel = bi->path;
	const uint8_t *img = bi->img;
	size_t len = bi->len;
	uint64_t initrd_max = LAYOUT_4G;
	size_t cmdline_max = LAYOUT_CMDLINE_MAX - 1;
	int r;

	if (bi->kind == BOOT_PVH) {
		r = boot_pvh_load(ram, img, len, out, err);
	} else {
		uint32_t csz;

		r = boot_linux_load(ram, img, len, out, err);
		initrd_max = boot_linux_initrd_max(img, len);
		memcpy(&csz, img + BP_CMDLINE_SIZE, 4);
		if (csz && csz < cmdline_max)
			cmdline_max = csz;
	}
	if (r < 0) {
		error_prefix(err, "kernel %s: ", kernel);
		return r;
	}
	if (cmdline && strlen(cmdline) > cmdline_max) {
		error_user(
			err,
			"command line is %zu bytes, the kernel accepts at most "
			"%zu",
			strlen(cmdline), cmdline_max);
		return -EINVAL;
	}
	if (cmdline && *cmdline &&
	    guest_ram_write(ram, LAYOUT_CMDLINE_ADDR, cmdline,
			    strlen(cmdline) + 1) < 0) {
		error_user(err, "cannot place cmdline");
		return -EFAULT;
	}
	if (initramfs) {
		r = load_initrd(ram, initramfs, out->kernel_end, initrd_max, &x,
				err);
		if (r < 0)
			return r;
	}
	if (out->kind == BOOT_PVH)
		r = boot_pvh_write_info(ram, &x, out);
	else
		r = boot_linux_write_params(ram, img, len, &x, out);
	if (r < 0)
		error_user(err, "kernel %s: cannot write boot information: %s",
			   kernel, strerror(-r));
	return r;
}
