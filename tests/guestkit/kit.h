/*
 * The guest kit's runtime: what every kit program may use. The kit is a
 * freestanding PVH guest (see README.md); programs find the machine through
 * hvm_start_info and ACPI (acpi.h), print through the 16550 console, report
 * checks with kit_check() and return; kit_main() then prints the summary and
 * powers the VM off.
 *
 * Everything here runs at CPL0, which the emulating KVM on our CI machines
 * executes at ~1 us an instruction: keep loops short and output terse.
 */
#ifndef KIT_H
#define KIT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KIT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define KIT_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ---- port I/O and a few privileged instructions (io.h would be one line each)
 */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}
static inline __attribute__((noreturn)) void kit_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* Unaligned little-endian loads from firmware tables. */
typedef uint16_t __attribute__((may_alias, aligned(1))) kit_u16u;
typedef uint32_t __attribute__((may_alias, aligned(1))) kit_u32u;
typedef uint64_t __attribute__((may_alias, aligned(1))) kit_u64u;
static inline uint16_t ld16(const void *p)
{
	return *(const kit_u16u *)p;
}
static inline uint32_t ld32(const void *p)
{
	return *(const kit_u32u *)p;
}
static inline uint64_t ld64(const void *p)
{
	return *(const kit_u64u *)p;
}

/* ---- string.c: the few libc routines the compiler and we need */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
/* Bounded length of a string in guest memory we do not trust. */
size_t kit_strnlen(const char *s, size_t max);

/* ---- console.c and format.c */
void kit_write(const char *s, size_t n);
int kit_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int kit_snprintf(char *buf, size_t size, const char *fmt, ...) KIT_PRINTF(3, 4);
void kit_printf(const char *fmt, ...) KIT_PRINTF(1, 2);
/* "128 MiB", "639 KiB", "4097 B": the largest unit that divides exactly. */
const char *kit_fmt_size(char buf[24], uint64_t bytes);

/* ---- report.c: verdicts. Output contract (README.md):
 *   "PASS <check>" / "FAIL <check>: <reason>", then "kit: done, N passed, M
 * failed". */
bool kit_check(bool ok, const char *check, const char *why_fmt, ...)
	KIT_PRINTF(3, 4);
void kit_done(void);

/* ---- cmdline.c: "test=NAME key=value ..." from hvm_start_info */
void kit_cmdline_set(const char *cmdline);
/* Value of key=... (not NUL-terminated; *len set), or NULL if absent. */
const char *kit_arg(const char *key, size_t *len);
/* Copies the value NUL-terminated; false if absent or too long. */
bool kit_arg_copy(const char *key, char *buf, size_t size);
/* Whether the comma-separated list (not NUL-terminated) holds `name`. */
bool kit_list_has(const char *list, size_t len, const char *name);
/* Whether the program should run its case `name`: cases=a,b,... lists it,
 * or there is no cases= argument (every case runs). */
bool kit_case_wanted(const char *name);
/* Parses decimal or 0x hex with an optional K/M/G/T suffix (powers of 1024). */
bool kit_parse_size(const char *s, size_t len, uint64_t *out);

/* ---- bootinfo.c: hvm_start_info, the memory map */
#define KIT_MEM_RAM 1
#define KIT_MAX_MEMMAP 64
struct kit_mem_range {
	uint64_t addr, size;
	uint32_t type;
};
struct kit_boot {
	bool valid; /* magic matched */
	uint32_t version;
	const char *cmdline; /* "" if none */
	uint64_t rsdp_paddr; /* 0 if the loader left it out */
	unsigned nmem;       /* sorted by address, empty entries dropped */
	struct kit_mem_range mem[KIT_MAX_MEMMAP];
	bool mem_truncated;
};
extern struct kit_boot kit_boot;
void kit_boot_init(uint32_t start_info_paddr);
uint64_t kit_ram_total(void);
const char *kit_mem_type_name(uint32_t type);

/* ---- highmem.c: a 2 MiB window onto physical memory above 4 GiB */
volatile void *kit_phys(uint64_t paddr);

/* ---- exception.c */
void kit_exceptions_init(void);
/* Installs an interrupt gate for vector 32..255 (virtio_irq.c uses it). */
void kit_idt_set(unsigned vector, void (*handler)(void));

/* ---- power.c: ACPI power-off, with reset and halt fallbacks */
__attribute__((noreturn)) void kit_poweroff(void);

/* ---- programs: one file each, registered in main.c */
struct kit_program {
	const char *name;
	void (*run)(void);
};
extern const struct kit_program kit_prog_hello, kit_prog_memmap, kit_prog_cpus,
	kit_prog_acpi, kit_prog_devices, kit_prog_console, kit_prog_poweroff,
	kit_prog_idle, kit_prog_int3, kit_prog_badinsn, kit_prog_badfetch;
extern const struct kit_program kit_prog_ticker; /* control-API tests */
extern const struct kit_program kit_prog_virtio_rng, kit_prog_virtio_rng_notify,
	kit_prog_virtio_hostile, kit_prog_balloon, kit_prog_balloon_hostile;
extern const struct kit_program kit_prog_debug_exit; /* examples/debug-exit */

/* Set by a program before a deliberate int3; exception.c counts it and
 * resumes instead of failing. */
extern volatile unsigned kit_breakpoints_allowed, kit_breakpoints_seen;
extern volatile uint64_t kit_breakpoint_rip;

#endif
