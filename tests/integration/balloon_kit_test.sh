#!/usr/bin/env bash
# The balloon plugin under real KVM, driven by the guest kit's balloon
# program (a driver that behaves as Linux's does) and by modvmm-ctl; the
# VMM's RSS is read from /proc/PID/status. Usage: balloon_kit_test.sh CASE BUILD SRC
#   resize         kit touches 512 MiB of 1 GiB; balloon set 512M: RSS falls
#                  by >= 99 % of that, info shows actual at target; set 0:
#                  the kit deflates and touches the memory again
#   reporting      kit touches 1 GiB and reports it free: RSS falls >= 99 %
#   reporting_off  without free_page_reporting the kit has no such queue
#   oom            deflate_on_oom=on: the kit deflates 64 MiB unasked and
#                  balloon info shows the new actual
#   oom_off        deflate_on_oom off: not offered, actual stays
#   stats          stats=1: balloon stats shows the kit's values, refreshed
#   cycles         5 inflate/deflate/retouch cycles of 256 MiB: RSS within
#                  2 %, counters add up
#   shared         resize with --memory size=1G,shared=on
#   hugepages      resize with hugepages=on (skipped without 1024 free
#                  2 MiB hugepages)
#   ram_aligned    a 6 GiB guest's RAM mapping starts on a 2 MiB boundary
#   huge_pages     KVM maps most of 512 MiB the kit touched with 2 MiB pages
#                  (its debugfs counter pages_2m; needs root)
#   hostile        test=balloon-hostile, a malicious driver (bad PFNs,
#                  malformed buffers and chains, bad reporting chunks, a
#                  stats flood, resets racing queued buffers): every case
#                  passes (canaries intact, the device works after it);
#                  then modvmm is still up and `balloon info` counted at
#                  least the bad PFNs and buffers the kit knows it sent
# A missing piece (plugin, control socket, modvmm-ctl) is a failure, not a skip.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
case_name=$1
CTL="$BUILD/modvmm-ctl"
SOCK="$WORK/api.sock"
GIB=1048576 # kB
need_kvm
need_vmm_and_kit
need_plugin balloon
[ -x "$CTL" ] || fail "$CTL not built (modvmm-ctl)"
grep -qa 'balloon ready' "$KIT" || fail "$KIT has no balloon program"

kill_vmm_on_exit

# start_vm MEMORY BALLOON_OPTIONS KIT_ARGS: modvmm in the background with
# the control socket; waits for "kit: balloon ready".
start_vm() {
	"$MODVMM" --kernel "$KIT" --memory "$1" --plugin-dir "$PLUGINS" \
		--device uart16550,input=off --balloon "$2" \
		--api-socket "$SOCK" --cmdline "test=balloon $3" \
		>"$WORK/out" 2>"$WORK/err" </dev/null &
	pid=$!
	wait_line '^kit: balloon ready' 1 120
	[ -S "$SOCK" ] || fail "no control socket at $SOCK"
}

# wait_line REGEX [COUNT] [SECONDS]: the console has COUNT lines matching.
# Fails once neither the console nor the VMM's RSS has changed for SECONDS
# (the kit prints as it goes, and inflating or touching moves RSS): bounded
# by progress, since a TCG-backed KVM on a busy machine may be very slow.
wait_line() {
	local n=${2:-1} t=${3:-60} i=0 seen="" now
	while [ $i -lt $((t * 10)) ]; do
		[ "$(grep -cE -- "$1" "$WORK/out" 2>/dev/null || true)" -ge "$n" ] &&
			return 0
		grep -q '^FAIL' "$WORK/out" && fail "the kit reported a failure"
		kill -0 "$pid" 2>/dev/null || fail "modvmm exited early waiting for '$1'"
		now="$(stat -c %s "$WORK/out") $(rss)"
		if [ "$now" != "$seen" ]; then
			seen=$now
			i=0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	fail "no '$1' (x$n) on the console, and no progress for ${t}s"
}

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"; }
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status"; }

ctl() {
	"$CTL" --api-socket "$SOCK" --timeout 20 "$@" >"$WORK/ctl.out" 2>"$WORK/ctl.err" ||
		{ cat "$WORK/ctl.out" "$WORK/ctl.err" >&2; fail "modvmm-ctl $* failed"; }
}

# info_field NAME: a value from `balloon info`.
info_field() {
	ctl balloon info
	awk -v k="$1:" '$1 == k { print $2; exit }' "$WORK/ctl.out"
}

stop_vm() {
	ctl shutdown
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && fail "modvmm still running after shutdown"
	set +e
	wait "$pid"
	rc=$?
	set -e
	pid=""
	expect_rc 0
	if grep -q '^FAIL' "$WORK/out"; then fail "the kit reported a failure"; fi
}

# wait_rss_below KB: returns once VmRSS is at most KB, or when it has not
# fallen for 15 s (bounded by progress, not by a clock: the caller's check
# then fails with the numbers).
wait_rss_below() {
	local best now still=0
	best=$(rss)
	while [ "$best" -gt "$1" ] && [ $still -lt 150 ]; do
		sleep 0.1
		now=$(rss)
		if [ "$now" -lt "$best" ]; then
			best=$now
			still=0
		else
			still=$((still + 1))
		fi
	done
}

# Falls by at least 99 % of a GiB: a - b >= 0.99 GiB.
expect_fall() { # expect_fall FROM_KB TO_KB WHAT [AMOUNT_KB, default 1 GiB]
	local want=$(((${4:-$GIB}) * 99 / 100))
	[ $(($1 - $2)) -ge "$want" ] ||
		fail "$3: RSS went from $1 kB to $2 kB, expected a fall of >= $want kB"
	echo "$3: RSS $1 kB -> $2 kB"
}

# ram_mapping BYTES: the start address (hex, no 0x) of the VMM's mapping
# of exactly BYTES, i.e. its guest RAM; fails the test if there is none.
# With THP on, the kernel shows it as two areas: the low 2 MiB (advised
# no huge pages, core/guest_ram.c) and the rest right after it.
ram_mapping() {
	local range lo hi prev_lo= prev_hi=
	while read -r range _; do
		lo=${range%-*}
		hi=${range#*-}
		[ $((0x$hi - 0x$lo)) = "$1" ] && { echo "$lo"; return 0; }
		if [ -n "$prev_lo" ] && [ "$prev_hi" = "$lo" ] &&
			[ $((0x$prev_hi - 0x$prev_lo)) = $((2 << 20)) ] &&
			[ $((0x$hi - 0x$prev_lo)) = "$1" ]; then
			echo "$prev_lo"
			return 0
		fi
		prev_lo=$lo
		prev_hi=$hi
	done <"/proc/$pid/maps"
	fail "no mapping of $1 bytes in /proc/$pid/maps"
}

# smaps_field START FIELD: FIELD (kB) of the mapping that starts at START.
smaps_field() {
	awk -v s="$1" -v f="$2:" '
		/^[0-9a-f]+-[0-9a-f]+ / { on = index($1, s "-") == 1 }
		on && $1 == f { print $2; exit }' "/proc/$pid/smaps"
}

# resize MEMORY_OPTION: the kit touches 512 MiB of its 1 GiB, the balloon
# takes it and gives it back, VmRSS follows. 512 MiB is 131,072 pages in
# 512 PFN buffers: every path runs many times over, and the nested KVM
# host (emulated CPU) gets through it in a minute or two.
resize() {
	start_vm "$1" size=0 "touch=512M wait=on"
	wait_line '^kit: touched 512 MiB'
	local r0 r1 r2
	r0=$(rss)
	ctl balloon set 512M
	wait_line '^kit: balloon actual=131072 target=131072' 1 120
	r1=$(rss)
	expect_fall "$r0" "$r1" "inflate 512 MiB" $((GIB / 2))
	[ "$(info_field actual)" = 536870912 ] ||
		fail "balloon info: actual $(info_field actual), expected 536870912"
	[ "$(info_field target)" = 536870912 ] || fail "balloon info: target"
	ctl balloon set 0
	wait_line '^kit: balloon actual=0 target=0' 2 120
	wait_line '^kit: retouched 512 MiB' 1 120
	r2=$(rss)
	expect_fall "$r2" "$r1" "deflate and touch again" $((GIB / 2))
	[ "$(info_field actual)" = 0 ] || fail "balloon info: actual after deflate"
	stop_vm
}

case $case_name in
resize)
	resize 1G
	;;
shared)
	resize size=1G,shared=on
	;;
hugepages)
	# Hugetlb pages are not in VmRSS: count the host's free huge pages
	# instead. As root, reserve them for the test and give them back.
	hp_free() { awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo; }
	nr=/proc/sys/vm/nr_hugepages
	old_nr=$(cat $nr)
	if [ "$(hp_free)" -lt 1100 ] && [ -w $nr ]; then
		trap 'echo "$old_nr" >'$nr' 2>/dev/null; cleanup_vmm' EXIT
		echo $((old_nr + 1100 - $(hp_free))) >$nr 2>/dev/null || true
	fi
	if [ "$(hp_free)" -lt 1100 ]; then
		echo "SKIPPED: needs 1100 free 2 MiB hugepages (HugePages_Free is" \
			"$(hp_free), and they could not be reserved); this test did NOT run" >&2
		exit 77
	fi
	start_vm size=2G,hugepages=on size=0 "touch=1G wait=on"
	wait_line '^kit: touched 1 GiB'
	f0=$(hp_free)
	ctl balloon set 1G
	wait_line '^kit: balloon actual=262144 target=262144' 1 120
	f1=$(hp_free)
	# 1 GiB = 512 huge pages; at least 99 % must be free again.
	[ $((f1 - f0)) -ge 507 ] ||
		fail "inflate 1 GiB of hugepage RAM: HugePages_Free $f0 -> $f1, expected +507"
	echo "inflate 1 GiB: HugePages_Free $f0 -> $f1"
	ctl balloon set 0
	wait_line '^kit: retouched 1 GiB' 1 120
	[ "$(hp_free)" -le $((f0 + 5)) ] ||
		fail "retouch after deflate: HugePages_Free $(hp_free), expected about $f0"
	stop_vm
	;;
reporting)
	start_vm 2G size=0,free_page_reporting=on \
		"touch=1G report=1G wait=on expect_features=reporting"
	wait_line '^kit: reported 1 GiB' 1 120
	# The device gives reported chunks back on its event loop; on a slow
	# (TCG-backed) CPU that can trail the kit's line: wait while RSS falls.
	peak=$(hwm)
	wait_rss_below $((peak - GIB * 99 / 100))
	expect_fall "$peak" "$(rss)" "report 1 GiB (peak VmHWM -> VmRSS)"
	stop_vm
	;;
reporting_off)
	kit_machine 256M 1 "test=balloon report=64M expect_features=none deflate_on_oom=off"
	printf '  - plugin: balloon\n    options: "size=0"\n' >>"$WORK/m.yaml"
	run_vmm --machine "$WORK/m.yaml"
	expect_rc 0
	expect_kit_pass
	expect_out "kit: balloon: no reporting queue, nothing reported"
	expect_out "PASS balloon.queues"
	;;
oom)
	start_vm 2G size=256M,deflate_on_oom=on "oom=64M wait=on expect_features=oom"
	wait_line '^kit: balloon oom deflated 64 MiB actual=49152 target=65536'
	[ "$(info_field actual)" = $((49152 * 4096)) ] ||
		fail "balloon info: actual $(info_field actual), expected $((49152 * 4096))"
	stop_vm
	;;
oom_off)
	start_vm 2G size=256M "oom=64M wait=on expect_features=none"
	wait_line '^kit: balloon oom: DEFLATE_ON_OOM not negotiated'
	[ "$(info_field actual)" = $((65536 * 4096)) ] ||
		fail "balloon info: actual $(info_field actual), expected $((65536 * 4096))"
	stop_vm
	;;
stats)
	start_vm 2G size=0,stats=1 "wait=on expect_features=stats"
	wait_line '^kit: balloon stats 2 ' 1 30
	ctl balloon stats
	cp "$WORK/ctl.out" "$WORK/stats1"
	total=$(awk '$1 == "total-memory:" { print $2 }' "$WORK/stats1")
	[ -n "$total" ] && [ "$total" -gt $((2040 * 1048576)) ] ||
		{ cat "$WORK/stats1" >&2; fail "balloon stats: total-memory '$total'"; }
	# With a 1 s interval the values are at most a few intervals old; the
	# bound allows for a guest on a slow (TCG-backed) CPU answering late.
	age=$(awk '$1 == "age_ms:" { print $2 }' "$WORK/stats1")
	[ -n "$age" ] && [ "$age" -le 10000 ] || fail "balloon stats: age_ms '$age' with a 1 s interval"
	m1=$(awk '$1 == "minor-faults:" { print $2 }' "$WORK/stats1")
	# Refreshed: the kit's counter moves on; wait for it while the guest runs.
	for _ in $(seq 60); do
		sleep 0.5
		ctl balloon stats
		m2=$(awk '$1 == "minor-faults:" { print $2 }' "$WORK/ctl.out")
		[ -n "$m1" ] && [ -n "$m2" ] && [ "$m2" -gt "$m1" ] && break
	done
	[ -n "$m1" ] && [ -n "$m2" ] && [ "$m2" -gt "$m1" ] ||
		fail "balloon stats not refreshed in 30 s: minor-faults '$m1' then '$m2'"
	stop_vm
	;;
cycles)
	# Repeated inflate/deflate/retouch must neither leak host memory nor
	# lose count. Five cycles of 256 MiB prove that as well as ten of a GiB
	# did, at an eighth of the guest work (the 1,000-cycle soak is
	# bench/soak).
	n=5
	pages=65536 # 256 MiB
	start_vm 1G size=0 "touch=256M wait=on"
	wait_line '^kit: touched 256 MiB'
	r0=$(rss)
	for i in $(seq $n); do
		ctl balloon set 256M
		wait_line "^kit: balloon actual=$pages target=$pages" "$i" 120
		ctl balloon set 0
		wait_line '^kit: retouched 256 MiB' "$i" 120
	done
	r1=$(rss)
	d=$((r1 > r0 ? r1 - r0 : r0 - r1))
	[ $((d * 100)) -le $((r0 * 2)) ] ||
		fail "RSS $r0 kB before $n cycles, $r1 kB after: more than 2 % apart"
	echo "$n cycles: RSS $r0 kB -> $r1 kB"
	inf=$(info_field inflated_pages)
	def=$(info_field deflated_pages)
	[ "$inf" = $((n * pages)) ] && [ "$def" = $((n * pages)) ] ||
		fail "balloon info counters: inflated_pages $inf, deflated_pages $def, expected $((n * pages)) each"
	stop_vm
	;;
ram_aligned)
	# Guest RAM must sit 2 MiB-aligned in the VMM (core/guest_ram.h), on
	# both sides of the 3 GiB hole: the memslots start at guest 0 and 4 GiB
	# and host base and base + 3 GiB, so the mapping's start decides.
	start_vm 6G size=0 "touch=64M wait=on"
	wait_line '^kit: touched 64 MiB'
	start=$(ram_mapping $((6 << 30)))
	[ $((0x$start % (2 << 20))) = 0 ] ||
		fail "guest RAM at 0x$start is $(((0x$start % (2 << 20)) / 1024)) KiB past a 2 MiB boundary"
	echo "guest RAM at 0x$start: 2 MiB-aligned"
	# The low 2 MiB (boot structures, a few scattered pages) stay 4 KiB
	# pages under THP: a huge page there costs a small guest 2 MiB of RSS.
	size=$(smaps_field "$start" Size)
	rss=$(smaps_field "$start" Rss)
	huge=$(smaps_field "$start" AnonHugePages)
	echo "low area: Size $size kB, Rss $rss kB, AnonHugePages $huge kB"
	[ "$size" = 2048 ] || fail "the low 2 MiB of guest RAM are not an area of their own (Size $size kB)"
	[ "${rss:-0}" -gt 0 ] || fail "the low 2 MiB show no RSS: the boot structures are not where this test looks"
	[ "$huge" = 0 ] || fail "the low 2 MiB of guest RAM are a huge page ($huge kB)"
	stop_vm
	;;
huge_pages)
	# What the alignment is for: KVM maps the guest with 2 MiB pages. Its
	# per-VM counter pages_2m is in debugfs (root: mounted if need be).
	dbg=/sys/kernel/debug/kvm
	[ -d $dbg ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null || true
	if [ ! -r $dbg ]; then
		echo "SKIPPED: KVM's debugfs ($dbg) is not readable by $(id -un);" \
			"this test needs root and did NOT run" >&2
		exit 77
	fi
	thp=$(cat /sys/kernel/mm/transparent_hugepage/enabled)
	case $thp in *"[never]"*) fail "THP is disabled on this host ($thp)" ;; esac
	start_vm 2G size=0 "touch=512M wait=on"
	wait_line '^kit: touched 512 MiB'
	vmdir=$(ls -d $dbg/"$pid"-* 2>/dev/null | head -n 1)
	[ -n "$vmdir" ] || fail "no $dbg/$pid-* for the VM"
	p2m=$(cat "$vmdir/pages_2m")
	p4k=$(cat "$vmdir/pages_4k")
	echo "KVM maps the guest with $p2m 2 MiB pages and $p4k 4 KiB pages"
	# 512 MiB touched = 256 huge pages if all were mapped large; THP may
	# not back every one, but most must be.
	[ "$p2m" -ge 192 ] ||
		fail "only $p2m 2 MiB pages in KVM's map of 512 MiB touched ($p4k 4 KiB pages): is guest RAM misaligned?"
	stop_vm
	;;
thp_off)
	# --memory thp=off means no huge pages for guest RAM, also where the
	# host's THP mode is "always" (Debian's default, where RAM nobody
	# advised still gets them): the guest touches 64 MiB and the RAM
	# mapping shows no AnonHugePages.
	start_vm size=1G,thp=off size=0 "touch=64M wait=on"
	wait_line '^kit: touched 64 MiB'
	start=$(ram_mapping $((1 << 30)))
	huge=$(smaps_field "$start" AnonHugePages)
	[ -n "$huge" ] || fail "no 1 GiB guest RAM mapping in /proc/$pid/smaps"
	echo "thp=off: guest RAM AnonHugePages $huge kB ($(cat /sys/kernel/mm/transparent_hugepage/enabled))"
	[ "$huge" = 0 ] || fail "thp=off, yet $huge kB of guest RAM are huge pages"
	stop_vm
	;;
hostile)
	"$MODVMM" --kernel "$KIT" --memory 256M --plugin-dir "$PLUGINS" \
		--device uart16550,input=off \
		--balloon size=0,free_page_reporting=on,stats=1 \
		--api-socket "$SOCK" --cmdline "test=balloon-hostile wait=on" \
		>"$WORK/out" 2>"$WORK/err" </dev/null &
	pid=$!
	# Bounded by progress: each case prints as it goes (the longest quiet
	# spell is a 5 s wait for a buffer that never comes back).
	wait_line '^kit: done, ' 1 120
	grep -q '^kit: done, [0-9]* passed, 0 failed' "$WORK/out" ||
		fail "the kit's summary: $(grep '^kit: done' "$WORK/out")"
	for c in pfn-past-ram pfn-mmio-hole pfn-low-reserved pfn-huge \
		pfn-duplicates buf-writable buf-zero-length buf-odd-length \
		buf-too-long chain-split-pfn chain-many chain-read-then-write \
		chain-write-then-read chain-outside-ram chain-into-mmio \
		chain-loop chain-indirect report-unaligned report-readable \
		report-outside-ram report-low-reserved report-mixed stats-flood \
		stats-malformed reset-queued reset-inflate-kicked \
		reset-deflate-kicked reset-report-kicked reset-stats-held \
		reset-storm reset-before-driver-ok; do
		expect_out "PASS balloon-hostile.$c"
	done
	# PFNs split across descriptors were put together, and given back.
	expect_out "kit:   4 of 4 pages read zero after the inflate"
	kill -0 "$pid" 2>/dev/null || fail "modvmm exited after the kit's summary"
	# Chains that break virtio's rules: the device asked for a reset (the
	# console says so; modvmm's log of it is rate-limited).
	grep -q '^kit:   .*: needs-reset$' "$WORK/out" ||
		fail "the device never asked for a reset, not even for a descriptor loop"
	expect=$(sed -n 's/^kit: balloon-hostile: expect //p' "$WORK/out")
	[ -n "$expect" ] || fail "no 'kit: balloon-hostile: expect' line"
	ctl balloon info
	cp "$WORK/ctl.out" "$WORK/info"
	for kv in $expect; do
		k=${kv%%>=*}
		min=${kv#*>=}
		got=$(awk -v k="$k:" '$1 == k { print $2; exit }' "$WORK/info")
		[ -n "$got" ] && [ "$got" -ge "$min" ] && [ "$got" -gt 0 ] ||
			{ cat "$WORK/info" >&2; fail "balloon info: $k is '$got', expected at least $min (and > 0)"; }
		echo "balloon info: $k $got (the kit sent at least $min)"
	done
	stop_vm
	;;
*)
	fail "unknown case $case_name"
	;;
esac
echo "PASS $case_name"
