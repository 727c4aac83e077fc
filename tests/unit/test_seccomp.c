/*
 * The per-thread seccomp filters without KVM: every name in the core's
 * lists is a system call here; a plugin's unknown name is refused with the
 * name in the message; and a filter installed in a forked child kills it
 * with SIGSYS on a forbidden call ("on"), lets it through with "log",
 * allows what a plugin declared, and restricts ioctl requests and
 * PROT_EXEC mappings by argument.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "seccomp/seccomp_filter.h"

#define SURVIVED 42

typedef void (*child_fn)(void);

/* Runs `fn` in a child under kind `k`'s filter built for `mode` with one
 * plugin's additions `x` (may be NULL); returns the child's wait status. */
static int in_child_x(enum cfg_seccomp mode, enum seccomp_kind k,
		      const struct seccomp_extras *x, child_fn fn)
{
	struct seccomp_filters f;
	struct error err = {0};
	int status = 0;
	pid_t pid;

	if (seccomp_filters_build(&f, mode, x, x ? 1 : 0, &err) < 0)
		fail_msg("build: %s", err.msg);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (seccomp_filter_apply(&f, k) < 0)
			_exit(3);
		fn();
		_exit(SURVIVED);
	}
	seccomp_filters_free(&f);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

/* The same with a plugin declaring the system call names `extras`. */
static int in_child(enum cfg_seccomp mode, enum seccomp_kind k,
		    const char *const *extras, child_fn fn)
{
	struct seccomp_extras x = {.names = extras};

	return in_child_x(mode, k, &x, fn);
}

static void make_socket(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0)
		_exit(4);
	close(fd);
}

/* Exits 6 if the open was refused with EACCES, 7 if it succeeded. */
static void open_file(void)
{
	int fd = open("/proc/sys/vm/overcommit_memory", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		_exit(errno == EACCES ? 6 : 8);
	close(fd);
	_exit(7);
}

static void tty_ioctl(void)
{
	int n = 0;

	(void)ioctl(0, FIONREAD, &n); /* not a KVM request */
}

static void exec_mapping(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		munmap(p, 4096);
}

static void plain_mapping(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(5);
	munmap(p, 4096);
}

static void expect_sigsys(int status)
{
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
		fail_msg("expected death by SIGSYS, got status 0x%x", status);
}

static void expect_survived(int status)
{
	if (!WIFEXITED(status) || WEXITSTATUS(status) != SURVIVED)
		fail_msg("expected exit %d, got status 0x%x", SURVIVED, status);
}

static void test_every_kind_builds_in_every_mode(void **s)
{
	struct seccomp_filters f;
	struct error err = {0};

	(void)s;
	for (int m = CFG_SECCOMP_ON; m <= CFG_SECCOMP_LOG; m++) {
		if (seccomp_filters_build(&f, (enum cfg_seccomp)m, NULL, 0,
					  &err) < 0)
			fail_msg("mode %d: %s", m, err.msg);
		for (int k = 0; k < SECCOMP_KINDS; k++)
			assert_true(f.prog[k].len > 0);
		seccomp_filters_free(&f);
	}
	assert_int_equal(
		seccomp_filters_build(&f, CFG_SECCOMP_OFF, NULL, 0, &err), 0);
	assert_null(f.prog[SECCOMP_KIND_VCPU].filter);
}

static void test_unknown_plugin_syscall_name_is_refused_by_name(void **s)
{
	const char *const names[] = {"getrandom", "sokcet", NULL};
	struct error err = {0};

	(void)s;
	assert_int_equal(seccomp_check_names(names, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "'sokcet' is not a system call"));
}

static void test_syscall_of_another_architecture_is_refused(void **s)
{
	/* socketcall exists on i386 only. */
	const char *const names[] = {"socketcall", NULL};
	struct error err = {0};

	(void)s;
	assert_int_equal(seccomp_check_names(names, &err), -EINVAL);
}

static void test_known_names_and_no_list_pass(void **s)
{
	const char *const names[] = {"getrandom", "socket", "sendmsg", NULL};
	struct error err = {0};

	(void)s;
	assert_int_equal(seccomp_check_names(names, &err), 0);
	assert_int_equal(seccomp_check_names(NULL, &err), 0);
}

static void test_forbidden_syscall_kills_with_on(void **s)
{
	(void)s;
	expect_sigsys(
		in_child(CFG_SECCOMP_ON, SECCOMP_KIND_VCPU, NULL, make_socket));
	expect_sigsys(in_child(CFG_SECCOMP_ON, SECCOMP_KIND_EVLOOP, NULL,
			       make_socket));
	expect_sigsys(
		in_child(CFG_SECCOMP_ON, SECCOMP_KIND_MAIN, NULL, make_socket));
	expect_sigsys(in_child(CFG_SECCOMP_ON, SECCOMP_KIND_MAP_RAM, NULL,
			       make_socket));
}

static void test_forbidden_syscall_runs_with_log(void **s)
{
	(void)s;
	expect_survived(in_child(CFG_SECCOMP_LOG, SECCOMP_KIND_VCPU, NULL,
				 make_socket));
}

static void test_declared_extra_is_allowed_where_plugins_run(void **s)
{
	const char *const extras[] = {"socket", NULL};

	(void)s;
	expect_survived(in_child(CFG_SECCOMP_ON, SECCOMP_KIND_VCPU, extras,
				 make_socket));
	expect_survived(in_child(CFG_SECCOMP_ON, SECCOMP_KIND_EVLOOP, extras,
				 make_socket));
	/* The RAM mapping helper runs no plugin code. */
	expect_sigsys(in_child(CFG_SECCOMP_ON, SECCOMP_KIND_MAP_RAM, extras,
			       make_socket));
}

static void expect_exit(int status, int code)
{
	if (!WIFEXITED(status) || WEXITSTATUS(status) != code)
		fail_msg("expected exit %d, got status 0x%x", code, status);
}

/* glibc's malloc opens /proc/sys/vm/overcommit_memory when it first
 * shrinks a thread's heap: refused, not fatal; declared, allowed. */
static void test_open_is_refused_not_fatal(void **s)
{
	const char *const extras[] = {"openat", NULL};
#ifdef MODVMM_SANITIZE
	const int refused = 7; /* the sanitizers' runtime may open files */
#else
	const int refused = 6;
#endif

	(void)s;
	for (int k = 0; k < SECCOMP_KINDS; k++)
		expect_exit(in_child(CFG_SECCOMP_ON, (enum seccomp_kind)k, NULL,
				     open_file),
			    refused);
	expect_exit(
		in_child(CFG_SECCOMP_LOG, SECCOMP_KIND_EVLOOP, NULL, open_file),
		7);
	expect_exit(in_child(CFG_SECCOMP_ON, SECCOMP_KIND_EVLOOP, extras,
			     open_file),
		    7);
}

static void test_vcpu_ioctl_other_than_kvm_kills(void **s)
{
	(void)s;
	expect_sigsys(
		in_child(CFG_SECCOMP_ON, SECCOMP_KIND_VCPU, NULL, tty_ioctl));
}

/* A plugin's `ioctls` (ABI 1.3) allow those requests and no other. */
static void test_declared_ioctl_request_only(void **s)
{
	static const uint32_t fionread[] = {FIONREAD, 0};
	static const uint32_t winsize[] = {TIOCGWINSZ, 0};
	struct seccomp_extras x = {.ioctls = fionread};

	(void)s;
	expect_survived(
		in_child_x(CFG_SECCOMP_ON, SECCOMP_KIND_VCPU, &x, tty_ioctl));
	expect_survived(
		in_child_x(CFG_SECCOMP_ON, SECCOMP_KIND_EVLOOP, &x, tty_ioctl));
	x.ioctls = winsize;
	expect_sigsys(
		in_child_x(CFG_SECCOMP_ON, SECCOMP_KIND_VCPU, &x, tty_ioctl));
	/* The RAM helper runs no plugin code and gets none. */
	x.ioctls = fionread;
	expect_sigsys(in_child_x(CFG_SECCOMP_ON, SECCOMP_KIND_MAP_RAM, &x,
				 tty_ioctl));
}

static void test_executable_mapping_kills_plain_one_does_not(void **s)
{
	(void)s;
	expect_sigsys(in_child(CFG_SECCOMP_ON, SECCOMP_KIND_EVLOOP, NULL,
			       exec_mapping));
	expect_survived(in_child(CFG_SECCOMP_ON, SECCOMP_KIND_EVLOOP, NULL,
				 plain_mapping));
}

#ifdef MODVMM_SANITIZE
/* The sanitizers' runtime under the filters (ASan builds only): a report
 * from a vCPU thread and LeakSanitizer's check at exit, both under "on",
 * end with the runtime's own exit status and text, not SIGSYS. */
static volatile size_t past_end = 8;

static void heap_overflow(void)
{
	volatile char *p = malloc(8);

	p[past_end] = 1;
	free((void *)p);
}

static void *volatile leaked;

static void leak_then_exit(void)
{
	leaked = malloc(77);
	leaked = NULL;
	exit(0); /* atexit: LeakSanitizer's check, under the main filter */
}

static void expect_report(enum seccomp_kind k, child_fn fn, const char *needle,
			  const char *or_needle)
{
	char path[] = "/tmp/test_seccomp.XXXXXX", buf[8192] = "";
	int fd = mkstemp(path), saved = dup(2), status;
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0);
	dup2(fd, 2);
	status = in_child(CFG_SECCOMP_ON, k, NULL, fn);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	unlink(path);
	if (WIFSIGNALED(status))
		fail_msg("killed by signal %d instead of reporting",
			 WTERMSIG(status));
	if (n <= 0 || (!strstr(buf, needle) && !strstr(buf, or_needle)))
		fail_msg("no '%s' (status 0x%x) in: %.400s", needle, status,
			 buf);
}

static void test_sanitizer_reports_under_the_filters(void **s)
{
	(void)s;
	/* UBSan's object-size check may see the store before ASan does. */
	expect_report(SECCOMP_KIND_VCPU, heap_overflow,
		      "AddressSanitizer: heap-buffer-overflow",
		      "runtime error: store to address");
	expect_report(SECCOMP_KIND_MAIN, leak_then_exit,
		      "LeakSanitizer: detected memory leaks",
		      "LeakSanitizer: detected memory leaks");
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind_builds_in_every_mode),
		cmocka_unit_test(
			test_unknown_plugin_syscall_name_is_refused_by_name),
		cmocka_unit_test(
			test_syscall_of_another_architecture_is_refused),
		cmocka_unit_test(test_known_names_and_no_list_pass),
		cmocka_unit_test(test_forbidden_syscall_kills_with_on),
		cmocka_unit_test(test_forbidden_syscall_runs_with_log),
		cmocka_unit_test(
			test_declared_extra_is_allowed_where_plugins_run),
		cmocka_unit_test(test_open_is_refused_not_fatal),
		cmocka_unit_test(test_vcpu_ioctl_other_than_kvm_kills),
		cmocka_unit_test(test_declared_ioctl_request_only),
		cmocka_unit_test(
			test_executable_mapping_kills_plain_one_does_not),
#ifdef MODVMM_SANITIZE
		cmocka_unit_test(test_sanitizer_reports_under_the_filters),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
