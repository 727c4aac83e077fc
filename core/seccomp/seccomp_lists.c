/*
 * The allow-lists; see seccomp_lists.h. Each thread kind is made of parts
 * shared with other kinds. A call or argument missing here is not an
 * oversight to fix by widening a part for everyone: add it to the one part
 * whose code makes it, and say why.
 */
#include "seccomp/seccomp_lists.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

/* clang-format off */
#define ANY(n) {n, -1, 0, 0, 0}
/* Fails with errno e instead of killing (see struct seccomp_rule). */
#define REFUSE(n, e) {n, -1, 0, 0, e}
/* ioctl(2) with this request: the kernel reads the request as an unsigned
 * int (ioctl(2)), so only its low 32 bits are compared. */
#define IOCTL(req) {"ioctl", 1, 0xffffffffu, (req), 0}
/* mmap/mprotect without PROT_EXEC: nothing in modvmm makes code after
 * start-up (plugins are loaded before any filter), so a guest that takes
 * over a device cannot map new code either. */
#define NO_EXEC(n) {n, 2, PROT_EXEC, 0, 0}
#define END {NULL, 0, 0, 0, 0}
/* clang-format on */

/* What any thread of a C program does: locks, memory, time, logging to
 * stderr, signals and leaving. */
static const struct seccomp_rule base[] = {
	ANY("futex"),          /* mutexes, condition variables, join */
	ANY("write"),          /* log lines, eventfd signals, console */
	ANY("close"),          /* fds closed by device callbacks, teardown */
	ANY("fstat"),          /* stdio's first use of a stream */
	ANY("newfstatat"),     /* the same, glibc >= 2.33 spelling */
	ANY("lseek"),          /* stdio on a console file */
	ANY("brk"),            /* malloc */
	NO_EXEC("mmap"),       /* malloc arenas, large allocations */
	NO_EXEC("mprotect"),   /* malloc growing a thread's heap */
	ANY("munmap"),         /* free, kvm_run and RAM unmapped at exit */
	ANY("mremap"),         /* realloc of large blocks */
	ANY("madvise"),        /* free, and glibc dropping an exited thread's
				* stack (MADV_DONTNEED) */
	ANY("rt_sigprocmask"), /* pthread_sigmask; glibc around thread exit */
	ANY("rt_sigreturn"),   /* return from the vCPU kick handler */
	ANY("tgkill"),         /* pthread_kill: kicking vCPUs out of KVM_RUN */
	ANY("getpid"),         /* pthread_kill, raise */
	ANY("gettid"),         /* the same */
	ANY("clock_gettime"),  /* the vDSO's fallback: log stamps, timeouts */
	ANY("clock_nanosleep"),
	ANY("nanosleep"),
	ANY("gettimeofday"),
	ANY("sched_yield"),
	ANY("restart_syscall"), /* a call restarted after the kick signal */
	ANY("exit"),            /* a thread returning */
	ANY("exit_group"),      /* the process exiting, or abort */
	/* No thread opens a file once it runs, but glibc's malloc does, once,
	 * when it first shrinks a thread's heap: it reads
	 * /proc/sys/vm/overcommit_memory and, if it cannot, shrinks by
	 * madvise instead. A kill there would take the VMM down on a busy
	 * control socket; a refusal costs nothing and opens nothing. */
	REFUSE("open", EACCES),
	REFUSE("openat", EACCES),
	END,
};

/* The host services a plugin may call from any callback (modvmm/plugin.h,
 * "Any callback thread"), so every thread that runs device callbacks:
 * interrupts, ioeventfds and irqfds, event-loop fds and timers, giving RAM
 * back (ram_discard.h), and console output that may have to wait. */
static const struct seccomp_rule device_services[] = {
	IOCTL(KVM_IRQ_LINE),   /* host->set_irq */
	IOCTL(KVM_IRQFD),      /* virtio interrupts wired or unwired */
	IOCTL(KVM_IOEVENTFD),  /* virtio queue notifications */
	ANY("eventfd2"),       /* a virtio queue's kick or irq fd */
	ANY("epoll_ctl"),      /* host->add_fd, remove_fd, timers */
	ANY("timerfd_create"), /* host->add_timer */
	ANY("timerfd_settime"),
	ANY("read"),      /* eventfds, timerfds, the console's input */
	ANY("poll"),      /* a console write that would block */
	ANY("fallocate"), /* host->discard, shared (memfd) RAM */
	/* glibc's qsort asks for the RAM size once (sysconf(_SC_PHYS_PAGES)
	 * reads sysinfo(2)): the balloon sorts PFNs into ranges. */
	ANY("sysinfo"),
	END,
};

/* A vCPU thread: KVM_RUN and what its exit handling needs (vcpu_exit.c:
 * registers and events to step over an int3, translating RIP to print the
 * faulting instruction). vCPU set-up ioctls (SET_CPUID2, SET_SREGS, ...)
 * all happen before the filter. */
static const struct seccomp_rule vcpu[] = {
	IOCTL(KVM_RUN),
	IOCTL(KVM_GET_REGS),
	IOCTL(KVM_SET_REGS),
	IOCTL(KVM_GET_VCPU_EVENTS),
	IOCTL(KVM_SET_VCPU_EVENTS),
	IOCTL(KVM_TRANSLATE),
	END,
};

/* The event loop: waiting, and the control socket's clients. The socket
 * itself was made, bound and put in listen(2) on the main thread before. */
static const struct seccomp_rule evloop[] = {
	ANY("epoll_wait"),
	ANY("epoll_pwait"),
	ANY("accept4"),
	ANY("recvfrom"), /* recv(2) */
	ANY("sendto"),   /* send(2) */
	END,
};

/* The helper that registers guest RAM with KVM while the vCPUs are being
 * created (kvm.h), and nothing else. */
static const struct seccomp_rule map_ram[] = {
	IOCTL(KVM_SET_USER_MEMORY_REGION),
	END,
};

/* The main thread once the vCPUs run: it waits for the VM to end, then
 * tears everything down (machine.c): kicks and joins, devices' destroy
 * hooks (the console gives the terminal its modes back; virtio unwires its
 * fds), the control socket's last replies and its file, and exit. */
static const struct seccomp_rule main_thread[] = {
	IOCTL(KVM_IRQFD),
	IOCTL(KVM_IOEVENTFD),
	IOCTL(TCGETS),  /* tcgetattr, isatty */
	IOCTL(TCSETS),  /* tcsetattr(TCSANOW) */
	IOCTL(TCSETSW), /* tcsetattr(TCSADRAIN) */
	IOCTL(TCSETSF), /* tcsetattr(TCSAFLUSH) */
	ANY("epoll_ctl"),
	ANY("read"),
	ANY("poll"),   /* last replies to control clients */
	ANY("sendto"), /* the same */
	ANY("unlink"), /* the control socket's file */
	END,
};

#ifdef MODVMM_SANITIZE
/* Only in -DMODVMM_SANITIZE=ON builds: what the ASan/UBSan runtime does
 * with its own raw system calls to print a report (isatty for colours,
 * /proc/self/maps and the binaries to symbolise) and what LeakSanitizer
 * does at exit: it clones a tracer process that stops every thread with
 * ptrace(2) and lists /proc/self/task. Found by running reports and leaks
 * under the filters; a product build has none of this. */
/* clang-format off */
static const struct seccomp_rule sanitizer[] = {
	IOCTL(TCGETS),
	ANY("open"), ANY("openat"), ANY("readlink"), ANY("read"),
	ANY("pread64"), ANY("fcntl"), ANY("getdents"), ANY("getdents64"),
	ANY("sched_getaffinity"), ANY("prctl"), ANY("sigaltstack"),
	ANY("rt_sigaction"), ANY("clone"), ANY("clone3"), ANY("ptrace"),
	ANY("wait4"), ANY("set_robust_list"), ANY("rseq"), ANY("kill"),
	ANY("getppid"), ANY("prlimit64"), ANY("mincore"),
	ANY("pipe"), ANY("pipe2"), /* probing whether memory is readable */
	END,
};
/* clang-format on */
#define SANITIZER_PART sanitizer,
#else
#define SANITIZER_PART
#endif

/* clang-format off */
static const struct seccomp_rule *const vcpu_parts[] = {
	base, device_services, vcpu, SANITIZER_PART NULL,
};
static const struct seccomp_rule *const evloop_parts[] = {
	base, device_services, evloop, SANITIZER_PART NULL,
};
static const struct seccomp_rule *const map_ram_parts[] = {
	base, map_ram, SANITIZER_PART NULL,
};
static const struct seccomp_rule *const main_parts[] = {
	base, main_thread, SANITIZER_PART NULL,
};
/* clang-format on */

const struct seccomp_kind_list seccomp_kind_lists[SECCOMP_KINDS] = {
	[SECCOMP_KIND_VCPU] = {"vcpu", vcpu_parts, true},
	[SECCOMP_KIND_EVLOOP] = {"evloop", evloop_parts, true},
	[SECCOMP_KIND_MAP_RAM] = {"map-ram", map_ram_parts, false},
	/* Plugins' destroy hooks run here. */
	[SECCOMP_KIND_MAIN] = {"main", main_parts, true},
};
