#!/usr/bin/env bash
# The balloon with the stock Debian guest (ctest label `linux`, issue 6):
# Linux's own virtio_balloon driver against the balloon plugin, driven
# through the control socket with modvmm-ctl, the VMM's memory read from
# /proc/PID/status (VmRSS). Like linux_test.sh they need a host whose KVM
# runs guest kernel code natively; elsewhere the probe makes them print
# "SKIPPED: <why>" and exit 77.
#
# Usage: balloon_test.sh CASE BUILD SRC
#
# The guest (1 GiB, 1 vCPU) runs init.sh's `cmd` mode: the test types one
# command a line on the console (`mem`, `hog MIB [HOLD]`, `hogfree MARGIN`,
# `quit`) and waits for "modvmm-guest: cmd#N ok NAME rc=R".
#
# BAL below is 512 MiB, half the guest's RAM: enough that every path of
# the driver and the plugin runs many times over (2,048 PFN buffers of 256
# pages to inflate it), and small enough that the nested KVM host, whose
# CPU is emulated, gets through each case in a few minutes.
#
#   size_boot   --balloon size=BAL (deflate_on_oom off): `actual` reaches
#               BAL by itself and the guest's MemTotal is 80..100 % of
#               RAM - BAL; `balloon info` agrees (available = ram -
#               actual)
#   set         the guest dirties all its free memory but 128 MiB (>= BAL)
#               and frees it; `balloon set BAL`: `actual` reaches BAL and
#               VmRSS falls by >= 90 % of BAL; MemTotal drops by ~BAL;
#               `balloon set 0`: `actual` back to 0 and the guest can touch
#               BAL again
#   oom_on      size=BAL,deflate_on_oom=on: after `actual` reaches BAL the
#               guest touches MemFree + 256 MiB: that succeeds and `actual`
#               drops (Linux's OOM notifier deflates 1 MiB per call)
#   oom_off     size=BAL: the same allocation fails (OOM killer or refused
#               mapping), `actual` stays BAL, the guest lives on
#   reporting   size=0,free_page_reporting=on: the guest touches BAL,
#               holds it 3 s, frees it; VmRSS falls by >= 80 % of BAL
#               (bounded by progress) and `reported_bytes` grows as much
#   stats       size=0,stats=1: `balloon stats` has Linux's tags,
#               total-memory = the guest's MemTotal, age_ms stays under 3 s;
#               free-memory falls by >= 400 MiB while the guest holds
#               512 MiB, and rises again once it has freed it
#
# Every case ends with `quit` in the guest: poweroff -f, modvmm exits 0.
#
# Dry run without a native KVM: MODVMM_LINUX_BACKEND=qemu runs the same
# cases (same guest, same checks) against QEMU's virtio-balloon-device on
# microvm under TCG, through QMP (`balloon`, `query-balloon`, qom-get
# guest-stats), with no probe. It checks the guest side and this script's
# logic; counters only modvmm has are skipped. TCG needs a calibrated TSC:
#   MODVMM_LINUX_BACKEND=qemu \
#   MODVMM_LINUX_CMDLINE_EXTRA="tsc_early_khz=2000000 lpj=2000000" \
#   tests/linux/balloon_test.sh set build build/..
set -euo pipefail
. "$(dirname "$0")/lib.sh"
case_name=$1
BACKEND=${MODVMM_LINUX_BACKEND:-modvmm}
BOUND=${MODVMM_LINUX_BOUND:-120}
CTL="$BUILD/modvmm-ctl"
SOCK="$WORK/api.sock"
MIB=$((1024 * 1024))
GIB=$((1024 * MIB))
RAM=$GIB
BAL_MIB=512
BAL=$((BAL_MIB * MIB))
# A slow (TCG) guest needs longer for each step; natively they take seconds.
STEP=${MODVMM_LINUX_STEP:-120}

need_guest
case $BACKEND in
modvmm)
	[ -x "$CTL" ] || fail "$CTL not built"
	probe_native
	;;
qemu)
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"
	log "dry run against QEMU (TCG), not modvmm"
	;;
*) fail "MODVMM_LINUX_BACKEND=$BACKEND: expected modvmm or qemu" ;;
esac

pyj() { # pyj CODE: run CODE with d = the JSON text on stdin
	python3 -c 'import json, sys
d = json.load(sys.stdin)
exec(sys.argv[1])' "$1"
}

# --- the VMM and its balloon, through either back end -----------------------

QEMU_TARGET=0 # QEMU answers only the logical size; we remember our target

# qmp REQUEST...: one JSON reply line per request (QEMU back end)
qmp() { python3 "$SRC/tests/linux/qmp_call.py" "$SOCK" "$@"; }

# start_guest SIZE_BYTES DEFLATE_ON_OOM(on|off) REPORTING(on|off) STATS_S
start_guest() {
	local cmdline="console=ttyS0 modvmm.test=cmd ${MODVMM_LINUX_CMDLINE_EXTRA:-}"
	log "booting: $(mib $RAM) MiB, balloon size=$1 deflate_on_oom=$2 free_page_reporting=$3 stats=$4"
	if [ "$BACKEND" = modvmm ]; then
		start_vmm --kernel "$GUEST/vmlinux" --initramfs "$GUEST/initramfs.cpio" \
			--memory "$(mib $RAM)M" --cpus 1 --cmdline "$cmdline" --device uart16550 \
			--balloon "size=$1,deflate_on_oom=$2,free_page_reporting=$3,stats=$4" \
			--api-socket "$SOCK"
	else
		start_cmd qemu-system-x86_64 -M microvm,acpi=on -m "$(mib $RAM)M" -smp 1 \
			-nodefaults -no-user-config -display none -serial stdio -no-reboot \
			-global virtio-mmio.force-legacy=off \
			-device "virtio-balloon-device,id=bal,deflate-on-oom=$2,free-page-reporting=$3" \
			-qmp "unix:$SOCK,server=on,wait=off" \
			-kernel "$GUEST/vmlinux" -initrd "$GUEST/initramfs.cpio" -append "$cmdline"
		local i
		for i in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
		# QEMU has no boot-time size: set it before the driver probes.
		[ "$1" = 0 ] || bal_set "$1"
		[ "$4" = 0 ] || qmp '{"execute": "qom-set", "arguments": {"path": "/machine/peripheral/bal", "property": "guest-stats-polling-interval", "value": '"$4"'}}' >/dev/null
	fi
	wait_console '^modvmm-guest: cmd ready' "$BOUND" ||
		{ stop_vmm; fail "the guest did not reach its command loop (no console output for ${BOUND}s)"; }
	grep -q '^modvmm-guest: virtio virtio[0-9]* device=0x0005 driver=virtio_balloon' "$WORK/console" ||
		fail "virtio_balloon did not bind to the balloon"
	log "guest ready after $(elapsed)s; VmRSS $(rss_mib) MiB"
}

# bal_set BYTES: the balloon size (modvmm-ctl balloon set)
bal_set() {
	if [ "$BACKEND" = modvmm ]; then
		"$CTL" --api-socket "$SOCK" balloon set "$1" >/dev/null ||
			fail "modvmm-ctl balloon set $1 failed"
	else
		QEMU_TARGET=$1
		qmp '{"execute": "balloon", "arguments": {"value": '$((RAM - $1))'}}' >/dev/null ||
			fail "QMP balloon failed"
	fi
}

# bal_get: "TARGET ACTUAL" in bytes (balloon sizes, as `balloon info`)
bal_get() {
	if [ "$BACKEND" = modvmm ]; then
		# awk on modvmm-ctl's "key: value" lines, not python: this runs
		# every 0.5 s, and a python start costs seconds on the nested
		# host's emulated CPU.
		"$CTL" --api-socket "$SOCK" balloon info |
			awk '/^target:/ { t = $2 } /^actual:/ { a = $2 } END { print t, a }'
	else
		qmp '{"execute": "query-balloon"}' |
			pyj 'print('"$QEMU_TARGET"', '"$RAM"' - d["return"]["actual"])'
	fi
}
bal_actual() { bal_get | cut -d' ' -f2; }

# bal_info_field EXPR: a value of modvmm's `balloon info` (r = the return
# object), or "-" with the QEMU back end
bal_info() {
	if [ "$BACKEND" = modvmm ]; then
		"$CTL" --api-socket "$SOCK" --json balloon info | pyj "r = d['return']; print($1)"
	else
		echo -
	fi
}

# bal_stats: "AGE_MS FREE TOTAL NTAGS UPDATES" (AGE_MS -1 if no stats yet;
# UPDATES "-" with QEMU)
bal_stats() {
	if [ "$BACKEND" = modvmm ]; then
		# modvmm-ctl's lines: "age_ms: N" ("-" before the first
		# statistics), then "stats:" and one "  tag: value" line a tag.
		"$CTL" --api-socket "$SOCK" balloon stats | awk '
			/^age_ms:/ { age = ($2 == "-") ? -1 : $2 }
			/^stats:/ { in_stats = 1; next }
			/^[^ ]/ { in_stats = 0 }
			in_stats && /^  [^ ]/ { n++; v[substr($1, 1, length($1) - 1)] = $2 }
			END {
				f = ("free-memory" in v) ? v["free-memory"] : -1
				t = ("total-memory" in v) ? v["total-memory"] : -1
				print (age == "" ? -1 : age), f, t, n + 0, "-"
			}'
	else
		qmp '{"execute": "qom-get", "arguments": {"path": "/machine/peripheral/bal", "property": "guest-stats"}}' |
			pyj '
import time
r = d["return"]; s = {k: v for k, v in r["stats"].items() if v != -1}
age = -1 if not r["last-update"] else int((time.time() - r["last-update"]) * 1000)
print(age, s.get("stat-free-memory", -1), s.get("stat-total-memory", -1), len(s), "-")'
	fi
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$VMM_PID/status"; }
rss_mib() { echo $(($(rss_kb) / 1024)); }
mib() { echo $(($1 / MIB)); }

# wait_actual BYTES SECONDS: until the guest's `actual` is BYTES
# (bounded by progress: fails once `actual` has not moved for SECONDS)
wait_actual() {
	local end=$(($(date +%s) + $2)) a last=
	while :; do
		a=$(bal_actual)
		[ "$a" = "$1" ] && { log "actual $(mib "$a") MiB after $(elapsed)s"; return 0; }
		vmm_running || fail "the VMM exited while waiting for actual = $1"
		if [ "$a" != "$last" ]; then
			last=$a
			end=$(($(date +%s) + $2))
		fi
		[ "$(date +%s)" -lt "$end" ] ||
			fail "actual $a, not $1, and unchanged for ${2}s (target/actual: $(bal_get))"
		sleep 0.5
	done
}

HOGS=0
# hog ARGS...: `hog MIB [HOLD]` or `hogfree MARGIN` in the guest; returns
# once the memory is touched (sets RSS_TOUCHED, kB) and, unless HOLD is
# given, freed
hog() {
	send "$@"
	HOGS=$((HOGS + 1))
	wait_nth '^modvmm-guest: memhog touched' "$HOGS" "$STEP"
	RSS_TOUCHED=$(rss_kb)
	log "guest: $(grep '^modvmm-guest: memhog touched' "$WORK/console" | tail -n 1 | tr -d '\r' | cut -d' ' -f2-); VmRSS $((RSS_TOUCHED / 1024)) MiB"
}

quit_guest() {
	send quit
	expect_poweroff 60
}

# --- the cases ----------------------------------------------------------------

case $case_name in
size_boot)
	start_guest $BAL off off 0
	wait_actual $BAL 60
	guest_mem
	want=$(((RAM - BAL) / 1024))
	[ "$MEMTOTAL" -le "$want" ] && [ "$MEMTOTAL" -ge $((want * 80 / 100)) ] ||
		fail "guest MemTotal $MEMTOTAL kB with a $BAL_MIB MiB balloon in $(mib $RAM) MiB: expected 80..100 % of $want kB"
	avail=$(bal_info 'r["available"]')
	[ "$avail" = - ] || [ "$avail" = $((RAM - BAL)) ] ||
		fail "balloon info: available $avail, expected $((RAM - BAL))"
	log "MemTotal $MEMTOTAL kB with the $BAL_MIB MiB balloon (deflate_on_oom off) — at most $want"
	quit_guest
	;;
set)
	start_guest 0 off off 0
	guest_mem
	before=$MEMTOTAL
	rss0=$(rss_kb)
	hog hogfree 128
	answer "$STEP"
	[ "$GRC" = 0 ] || fail "the guest's memhog failed (rc $GRC)"
	rss1=$(rss_kb)
	dirty=$(((RSS_TOUCHED - rss0) / 1024))
	log "the guest dirtied and freed its memory: VmRSS $((rss0 / 1024)) -> $((RSS_TOUCHED / 1024)) -> $((rss1 / 1024)) MiB"
	# Every free page is dirty now, so any page the balloon takes is resident.
	[ "$dirty" -ge $BAL_MIB ] || fail "VmRSS grew by only $dirty MiB while the guest dirtied >= $BAL_MIB MiB"
	t0=$(date +%s.%N)
	bal_set $BAL
	wait_actual $BAL "$STEP"
	secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
	rss2=$(rss_kb)
	back=$(((rss1 - rss2) / 1024))
	log "balloon set ${BAL_MIB}M: actual reached $BAL_MIB MiB in ${secs}s; VmRSS $((rss1 / 1024)) -> $((rss2 / 1024)) MiB: $back MiB back"
	[ "$back" -ge $((BAL_MIB * 90 / 100)) ] ||
		fail "only $back MiB of $BAL_MIB given back to the host (need >= 90 %)"
	calls=$(bal_info 'r["counters"]["discard_calls"]')
	[ "$calls" = - ] || log "discard calls: $calls"
	guest_mem
	[ "$MEMTOTAL" -le $((before - BAL_MIB * 1024 * 95 / 100)) ] ||
		fail "MemTotal $before -> $MEMTOTAL kB: did not drop by ~$BAL_MIB MiB (deflate_on_oom is off)"
	bal_set 0
	wait_actual 0 "$STEP"
	guest_mem
	[ "$MEMTOTAL" -ge $((before - 4096)) ] || fail "MemTotal $MEMTOTAL kB after deflating, was $before"
	hog hog $BAL_MIB
	answer "$STEP"
	[ "$GRC" = 0 ] || fail "after deflating, the guest could not touch $BAL_MIB MiB (rc $GRC)"
	log "deflated: MemTotal back to $MEMTOTAL kB, the guest touched $BAL_MIB MiB again"
	quit_guest
	;;
oom_on | oom_off)
	doom=${case_name#oom_}
	start_guest $BAL "$doom" off 0
	wait_actual $BAL 60
	guest_mem
	n=$((MEMFREE / 1024 + 256))
	log "deflate_on_oom=$doom: the guest touches $n MiB, 256 MiB more than MemFree"
	send hog $n
	answer "$STEP"
	a=$(bal_actual)
	{ grep '^modvmm-guest: memhog' "$WORK/console" || true; } | tail -n 2 | tr -d '\r' | sed 's/^/  /'
	log "memhog rc $GRC; actual now $(mib "$a") MiB"
	if [ "$doom" = on ]; then
		[ "$GRC" = 0 ] || fail "with deflate_on_oom=on the allocation failed (rc $GRC)"
		[ "$a" -le $((BAL - 128 * MIB)) ] ||
			fail "with deflate_on_oom=on actual is $(mib "$a") MiB: did not drop (by >= 128 MiB)"
	else
		[ "$GRC" != 0 ] || fail "with deflate_on_oom=off an allocation beyond MemFree succeeded"
		if [ "$GRC" = 137 ]; then # SIGKILL: it should be the OOM killer's
			send log 200
			answer 30
			grep -qE '^modvmm-guest: log .*Killed process [0-9]+ \(memhog\)' "$WORK/console" ||
				fail "memhog died of SIGKILL but the guest's kernel log has no OOM kill of it"
			log "the guest's OOM killer killed memhog"
		fi
		[ "$a" = $BAL ] || fail "with deflate_on_oom=off actual dropped to $(mib "$a") MiB"
		[ "$(bal_info 'r["counters"]["deflated_pages"]')" = 0 ] || [ "$BACKEND" = qemu ] ||
			fail "with deflate_on_oom=off the guest deflated pages"
	fi
	guest_mem # the guest lives on
	quit_guest
	;;
reporting)
	start_guest 0 off on 0
	sleep 3 # the boot-time report of all free memory
	rep0=$(bal_info 'r["counters"]["reported_bytes"]')
	rss0=$(rss_kb)
	hog hog $BAL_MIB 3
	wait_nth '^modvmm-guest: memhog freed' 1 30
	t0=$(date +%s)
	peak=$RSS_TOUCHED
	[ $(((peak - rss0) / 1024)) -ge $((BAL_MIB * 88 / 100)) ] ||
		fail "VmRSS grew by only $(((peak - rss0) / 1024)) MiB while the guest touched $BAL_MIB MiB"
	# Linux reports in ~2 s batches; on a slow (TCG-backed) CPU they come
	# later. Bounded by progress: fail once nothing has come back for 30 s.
	best=0
	t_best=$t0
	while :; do
		back=$(((peak - $(rss_kb)) / 1024))
		[ "$back" -ge $((BAL_MIB * 80 / 100)) ] && break
		if [ "$back" -gt "$best" ]; then
			best=$back
			t_best=$(date +%s)
		fi
		[ $(($(date +%s) - t_best)) -lt 30 ] ||
			fail "$(($(date +%s) - t0)) s after the guest freed $BAL_MIB MiB only $back MiB are back (need >= 80 %), none more in the last 30 s"
		sleep 0.5
	done
	log "free page reporting: $back MiB of the freed $BAL_MIB MiB back after $(($(date +%s) - t0)) s"
	answer 30
	rep1=$(bal_info 'r["counters"]["reported_bytes"]')
	if [ "$rep1" != - ]; then
		log "reported_bytes $rep0 -> $rep1"
		[ $(((rep1 - rep0) / MIB)) -ge $((BAL_MIB * 80 / 100)) ] || fail "reported_bytes grew by only $(((rep1 - rep0) / MIB)) MiB"
	fi
	quit_guest
	;;
stats)
	start_guest 0 off off 1
	guest_mem
	end=$(($(date +%s) + 60))
	while :; do
		read -r age free total ntags _ < <(bal_stats)
		[ "$age" -ge 0 ] && [ "$free" -gt 0 ] && break
		[ "$(date +%s)" -lt "$end" ] || fail "no statistics 60 s after the guest started"
		sleep 0.5
	done
	log "stats: $ntags tags, free-memory $(mib "$free") MiB, total-memory $(mib "$total") MiB, age ${age} ms"
	[ "$ntags" -ge 10 ] || fail "only $ntags statistics (Linux 6.1 sends 10)"
	[ "$total" = $((MEMTOTAL * 1024)) ] ||
		fail "total-memory $total is not the guest's MemTotal ($((MEMTOTAL * 1024)) bytes)"
	# With stats=1 the values are at most a few intervals old; the bound
	# allows for a guest on a slow (TCG-backed) CPU answering late.
	sleep 2.5
	read -r age _ < <(bal_stats)
	[ "$age" -le 10000 ] || fail "statistics are $age ms old with stats=1: not refreshed"
	free0=$free
	hog hog 512 15
	end=$(($(date +%s) + 60))
	while :; do
		read -r age free _ < <(bal_stats)
		[ $(((free0 - free) / MIB)) -ge 400 ] && break
		[ "$(date +%s)" -lt "$end" ] ||
			fail "free-memory $(mib "$free0") -> $(mib "$free") MiB while the guest holds 512 MiB"
		sleep 0.5
	done
	log "stats move: free-memory $(mib "$free0") -> $(mib "$free") MiB while the guest holds 512 MiB (age ${age} ms)"
	low=$free
	answer 60
	end=$(($(date +%s) + 60))
	while :; do
		read -r age free _ < <(bal_stats)
		[ $(((free - low) / MIB)) -ge 400 ] && break
		[ "$(date +%s)" -lt "$end" ] ||
			fail "free-memory stayed at $(mib "$free") MiB after the guest freed 512 MiB"
		sleep 0.5
	done
	log "stats move back: free-memory $(mib "$free") MiB once freed (age ${age} ms)"
	quit_guest
	;;
*) fail "unknown case '$case_name'" ;;
esac
log "PASS $case_name"
