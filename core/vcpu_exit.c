/* KVM exit handling on the vCPU threads; see vcpu_exit.h. */
#include "vcpu_exit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "log.h"

static void handle_io(const struct vcpu_exit_src *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	unsigned size = run->io.size;

	if (size != 1 && size != 2 && size != 4)
		return;
	/* String I/O arrives as `count` consecutive items in the buffer. */
	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		uint64_t val = 0;

		if (run->io.direction == KVM_EXIT_IO_OUT) {
			memcpy(&val, data, size);
			bus_write(&v->vm->pio, run->io.port, size, val);
		} else {
			/* Absent ports read as all ones, as on a PC. */
			val = ~0ULL;
			bus_read(&v->vm->pio, run->io.port, size, &val);
			memcpy(data, &val, size);
		}
	}
}

static void handle_mmio(const struct vcpu_exit_src *v)
{
	struct kvm_run *run = v->run;
	unsigned len = run->mmio.len;
	uint64_t val = 0;
	bool hit;

	if (len == 0 || len > 8)
		return;
	if (run->mmio.is_write) {
		memcpy(&val, run->mmio.data, len);
		hit = bus_write(&v->vm->mmio, run->mmio.phys_addr, len, val);
	} else {
		hit = bus_read(&v->vm->mmio, run->mmio.phys_addr, len, &val);
		memcpy(run->mmio.data, &val, len);
	}
	/* Reads of unclaimed MMIO return 0 and writes are dropped; a
	 * debug line helps whoever is bringing up a new guest or device. */
	if (!hit)
		log_debug("vcpu", "vCPU %u: %s of %u bytes at unclaimed 0x%llx",
			  v->id, run->mmio.is_write ? "write" : "read", len,
			  (unsigned long long)run->mmio.phys_addr);
}

/* Where the instruction at RIP is, and its first bytes. */
struct insn_at_rip {
	bool mapped;  /* the guest's page tables translate RIP */
	uint64_t gpa; /* RIP's guest-physical address, if mapped */
	int n;        /* bytes read from guest RAM into buf */
	uint8_t buf[16];
};

/* Reads up to 16 bytes at RIP through the guest's own page tables, one page
 * at a time (the next virtual page need not be the next physical one), and
 * stops at the first byte that is unmapped or not in RAM. */
static void read_insn_bytes(const struct vcpu_exit_src *v, uint64_t rip,
			    struct insn_at_rip *in)
{
	*in = (struct insn_at_rip){0};
	while (in->n < (int)sizeof(in->buf)) {
		struct kvm_translation tr = {.linear_address = rip + in->n};
		uint64_t want, k;
		void *p = NULL;

		if (ioctl(v->fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid)
			return;
		if (in->n == 0) {
			in->mapped = true;
			in->gpa = tr.physical_address;
		}
		want = 4096 - (tr.physical_address & 4095);
		if (want > sizeof(in->buf) - (uint64_t)in->n)
			want = sizeof(in->buf) - (uint64_t)in->n;
		/* RAM may end inside the range: take what is there. */
		for (k = want; k > 0; k--) {
			p = guest_ram_ptr(&v->vm->ram, tr.physical_address, k);
			if (p)
				break;
		}
		if (!p)
			return;
		memcpy(in->buf + in->n, p, (size_t)k);
		in->n += (int)k;
		if (k < want)
			return;
	}
}

/* An int3 at CPL0 that the emulating KVM returns to us: step over it and
 * inject #BP as the CPU would have. Returns true if handled. */
static bool reinject_int3(const struct vcpu_exit_src *v, struct kvm_regs *regs,
			  const uint8_t *insn, int n)
{
	struct kvm_vcpu_events ev;

	if (n < 1 || insn[0] != 0xcc)
		return false;
	if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return false;
	regs->rip += 1; /* #BP is a trap: the saved RIP follows the int3 */
	if (ioctl(v->fd, KVM_SET_REGS, regs) < 0)
		return false;
	ev.exception.injected = 1;
	ev.exception.nr = 3;
	ev.exception.has_error_code = 0;
	ev.flags = 0;
	return ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) == 0;
}

static const char *suberror_name(uint32_t suberror)
{
	switch (suberror) {
	case KVM_INTERNAL_ERROR_EMULATION:
		return "emulation failed";
	case KVM_INTERNAL_ERROR_SIMUL_EX:
		return "simultaneous exceptions";
	case KVM_INTERNAL_ERROR_DELIVERY_EV:
		return "exit during event delivery";
	case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON:
		return "unexpected exit reason";
	default:
		return "unknown";
	}
}

/* One line naming RIP and, when RIP's instruction is in guest RAM, its
 * bytes; otherwise why there are none (a guest that jumped into MMIO or
 * unmapped memory is the usual cause). */
static void handle_internal_error(const struct vcpu_exit_src *v)
{
	const uint32_t sub = v->run->internal.suberror;
	struct kvm_regs regs;
	struct insn_at_rip in;
	char where[160];

	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0) {
		vm_request_exit(v->vm, VM_EXIT_VMM_ERROR,
				"vCPU %u: KVM internal error (suberror %u: "
				"%s), registers unreadable",
				v->id, sub, suberror_name(sub));
		return;
	}
	read_insn_bytes(v, regs.rip, &in);
	if (reinject_int3(v, &regs, in.buf, in.n))
		return;
	if (in.n) {
		int len = snprintf(where, sizeof(where), "instruction bytes:");

		for (int i = 0; i < in.n; i++)
			len += snprintf(where + len,
					sizeof(where) - (size_t)len, " %02x",
					in.buf[i]);
	} else if (!in.mapped) {
		snprintf(where, sizeof(where),
			 "which the guest's page tables do not map: no "
			 "instruction bytes");
	} else {
		snprintf(where, sizeof(where),
			 "which is not in guest RAM (guest physical 0x%llx): "
			 "no instruction bytes",
			 (unsigned long long)in.gpa);
	}
	vm_request_exit(v->vm, VM_EXIT_VMM_ERROR,
			"vCPU %u: KVM internal error (suberror %u: %s) at RIP "
			"0x%llx, %s",
			v->id, sub, suberror_name(sub),
			(unsigned long long)regs.rip, where);
}

void vcpu_handle_exit(const struct vcpu_exit_src *v)
{
	struct kvm_run *run = v->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(v);
		break;
	case KVM_EXIT_MMIO:
		handle_mmio(v);
		break;
	case KVM_EXIT_INTR:
		break;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC; treat as "stopped". */
		vm_request_exit(v->vm, VM_EXIT_POWEROFF,
				"vCPU %u halted with interrupts off", v->id);
		break;
	case KVM_EXIT_SHUTDOWN:
		vm_request_exit(v->vm, VM_EXIT_GUEST_RESET,
				"vCPU %u: triple fault (guest reset)", v->id);
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
			vm_request_exit(v->vm, VM_EXIT_GUEST_RESET,
					"guest requested a reset");
		else
			vm_request_exit(v->vm, VM_EXIT_POWEROFF,
					"guest powered off");
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		handle_internal_error(v);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		vm_request_exit(
			v->vm, VM_EXIT_VMM_ERROR,
			"vCPU %u: KVM entry failed, hardware reason 0x%llx",
			v->id,
			(unsigned long long)
				run->fail_entry.hardware_entry_failure_reason);
		break;
	default:
		vm_request_exit(v->vm, VM_EXIT_VMM_ERROR,
				"vCPU %u: unexpected KVM exit reason %u", v->id,
				run->exit_reason);
		break;
	}
}
