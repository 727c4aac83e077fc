#!/usr/bin/env bash
# The balloon's steering policy (auto=on, issue 17) with the stock Debian
# guest and Linux's virtio_balloon (ctest label `linux`). Like
# balloon_test.sh they need a KVM that runs guest kernel code natively
# (tools/nested-kvm); elsewhere the probe makes them exit 77.
#
# Usage: balloon_auto_test.sh CASE BUILD SRC
#
# The guest (2 GiB, 1 vCPU) runs init.sh's `cmd` mode. The balloon:
#   size=0,stats=1,deflate_on_oom=off,guest_floor=256M (band 64 MiB),
# with the host's PSI and meminfo read from files in the test's scratch
# folder (psi_path=, meminfo_path=) and no cgroup (cgroup=off) but in the
# cgroup case, so that only the test makes host pressure. Every balloon.auto event is recorded (modvmm-ctl events).
#
#   reclaim    auto off at boot; the guest dirties all its free memory but
#              128 MiB and frees it (slack = its MemAvailable - floor);
#              `modvmm-ctl balloon auto on`; once the target has stopped
#              moving and `actual` has reached it: the guest's MemAvailable
#              is between the floor and floor + 2 x band, and VmRSS
#              fell by >= 80 % of the slack. Then a burst: the guest
#              allocates 1 GiB at once; it must succeed with no OOM kill
#              (deflate_on_oom is off: only the policy can make room); the
#              time memhog took is reported, not asserted.
#   pressure   auto on from boot; once settled, 256 MiB handed back by
#              hand (make_slack), then the PSI file says some avg10=40 %
#              and auto on again: the balloon grows (reason "pressure") until the
#              policy stops, never taking the guest below its floor by its
#              own step (at most one "floor" correction for Linux's
#              MemAvailable cliff, see pressure_checks; never a band below;
#              MemAvailable >= floor at the end); the PSI file back
#              to 0: the balloon grows no more.
#   cgroup     modvmm starts inside a cgroup v2 the test makes (memory
#              controller on, memory.high max) with the balloon's default
#              cgroup=auto, which finds it through /proc/self/cgroup; auto
#              on, settled, 256 MiB handed back; then memory.high is set just above
#              memory.current (current at 97 % of it): the balloon grows
#              (reason "pressure", the event naming that memory.high),
#              never taking the guest below its floor; memory.high back to
#              max: it grows no more.
#   cache      free page reporting on, a 512 MiB read-only disk the guest
#              reads into its page cache and keeps open, auto off; then
#              auto on: with reporting there is no reclaim over free
#              memory; the policy evicts the cache (a `cache` event,
#              `cache_more` while the guest still reports over a quarter
#              band available, then `cache_back`); once still: the
#              guest's disk-caches statistic fell by >= 256 MiB from the
#              read, at most 2 bands (+32 MiB) of reclaimable cache
#              (MemAvailable - MemFree) are left, VmRSS fell by >= 80 %
#              of the 512 MiB, MemAvailable >= the floor, no OOM kill.
#   flap       auto on, settled; then 6 cycles of "take 768 MiB for 4 s,
#              give it back, idle 12 s": the balloon changes direction at
#              most 4 times (balloon info auto.turns), no OOM kill.
#
# The guest boots with init_on_alloc=0: Debian's kernel otherwise zeroes
# every page it allocates, the balloon driver's too, and each page the
# balloon takes that the host does not hold is then a host fault, which
# the nested host's emulated MMU makes slow (1 GiB inflated in 121 s
# instead of 17 s; docs/balloon.md, "Limits"). What is tested is the
# policy, not the guest's hardening; linux.balloon_* keep the default.
#
# Waits are bounded by progress (the guest's console, the balloon's
# `actual`), never by a tight clock: the nested host's CPU is emulated.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
case_name=$1
BOUND=${MODVMM_LINUX_BOUND:-120}
STEP=${MODVMM_LINUX_STEP:-180}
CTL="$BUILD/modvmm-ctl"
SOCK="$WORK/api.sock"
MIB=$((1024 * 1024))
RAM_MIB=2048
FLOOR_MIB=256
BAND_MIB=64

need_guest
[ -x "$CTL" ] || fail "$CTL not built"
probe_native

VMM_EXTRA=()
ctl() { "$CTL" --api-socket "$SOCK" "$@"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$VMM_PID/status"; }
# bal: "TARGET ACTUAL TURNS" (bytes, bytes, direction changes)
bal() {
	ctl balloon info | awk '/^target:/ { t = $2 } /^actual:/ { a = $2 }
		/^  turns:/ { n = $2 } END { print t, a, n }'
}
# guest_avail: the guest's latest available-memory statistic, bytes
guest_avail() {
	ctl balloon stats | awk '/^  available-memory:/ { print $2 }'
}
# guest_caches: the guest's latest disk-caches statistic, bytes
guest_caches() {
	ctl balloon stats | awk '/^  disk-caches:/ { print $2 }'
}
# set_psi SOME FULL: rewrites the PSI file in place (the balloon keeps it
# open from its start: a file renamed over it would not be seen)
set_psi() {
	printf 'some avg10=%s avg60=0.00 avg300=0.00 total=1\nfull avg10=%s avg60=0.00 avg300=0.00 total=1\n' \
		"$1" "$2" >"$WORK/psi"
}

oom_kills() {
	send log 300
	answer 60
	grep -cE '^modvmm-guest: log .*Killed process' "$WORK/console" || true
}

# start_guest AUTO [WRAPPER...]: boots the guest; WRAPPER runs modvmm (the
# cgroup case starts it inside its cgroup)
start_guest() {
	local mode=$1
	shift
	set_psi 0.00 0.00
	# A host with plenty: 16 GiB, 8 GiB available.
	printf 'MemTotal:       16777216 kB\nMemFree:         8388608 kB\nMemAvailable:    8388608 kB\n' >"$WORK/meminfo"
	log "booting: $RAM_MIB MiB, balloon auto=$mode, guest_floor=${FLOOR_MIB}M"
	start_cmd "$@" "$MODVMM" --kernel "$GUEST/vmlinux" --initramfs "$GUEST/initramfs.cpio" \
		--memory "${RAM_MIB}M" --cpus 1 --cmdline "console=ttyS0 modvmm.test=cmd init_on_alloc=0" \
		--device uart16550 \
		--balloon "size=0,deflate_on_oom=off,stats=1,auto=$mode,guest_floor=${FLOOR_MIB}M,psi_path=$WORK/psi,meminfo_path=$WORK/meminfo,cgroup=${CGROUP:-off}${BALLOON_EXTRA:-}" \
		"${VMM_EXTRA[@]}" --api-socket "$SOCK"
	local i
	for i in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
	ctl --json events >"$WORK/events" 2>/dev/null &
	EVENTS_PID=$!
	wait_console '^modvmm-guest: cmd ready' "$BOUND" ||
		{ stop_vmm; fail "the guest did not reach its command loop (no console output for ${BOUND}s)"; }
	log "guest ready after $(elapsed)s; VmRSS $(($(rss_kb) / 1024)) MiB"
}

# settle QUIET: until the target has not moved for QUIET seconds with
# `actual` at it. Bounded by progress: fails once neither has moved for
# STEP seconds while they differ.
settle() {
	local quiet=$1 last= since moved t a n
	since=$(date +%s)
	moved=$since
	while :; do
		read -r t a n < <(bal)
		vmm_running || fail "the VMM exited while the balloon settled"
		if [ "$t $a" != "$last" ]; then
			last="$t $a"
			since=$(date +%s)
			moved=$since
		fi
		[ "$t" = "$a" ] && [ $(($(date +%s) - since)) -ge "$quiet" ] && break
		[ $(($(date +%s) - moved)) -lt "$STEP" ] ||
			fail "target $t, actual $a: neither moved for ${STEP}s"
		sleep 1
	done
	TARGET=$t
	log "settled: balloon $((t / MIB)) MiB (actual $((a / MIB)) MiB), $n direction changes, VmRSS $(($(rss_kb) / 1024)) MiB, after $(elapsed)s"
}

# events_with REASON: balloon.auto events so far with that reason
events_with() { { grep '"balloon.auto"' "$WORK/events" || true; } | grep -c "\"reason\": *\"$1\"" || true; }

# last_event_with REASON KEY: KEY of the last balloon.auto event with that
# reason
last_event_with() {
	{ grep '"balloon.auto"' "$WORK/events" || true; } | python3 -c '
import json, sys
v = ""
for line in sys.stdin:
    try:
        d = json.loads(line).get("data", {})
    except ValueError:
        continue
    if d.get("reason") == sys.argv[1]:
        v = d.get(sys.argv[2], "")
print(v)' "$1" "$2"
}

# grow_until_still: until the balloon has not grown for 20 s with `actual`
# at the target; MIN_AVAIL is the least guest available memory seen, T the
# target then.
grow_until_still() {
	local last=$1 moved a n v
	MIN_AVAIL=
	moved=$(date +%s)
	while :; do
		read -r T a n < <(bal)
		v=$(guest_avail)
		[ -z "$MIN_AVAIL" ] || [ "$v" -lt "$MIN_AVAIL" ] && MIN_AVAIL=$v
		[ "$T" != "$last" ] && { last=$T; moved=$(date +%s); }
		[ "$T" = "$a" ] && [ $(($(date +%s) - moved)) -ge 20 ] && break
		[ $(($(date +%s) - moved)) -lt "$STEP" ] || fail "the balloon did not settle under pressure"
		vmm_running || fail "the VMM exited"
		sleep 1
	done
}

# make_slack: hands 256 MiB back to the guest by hand (`balloon set`
# turns the policy off) and waits for the guest to take them, so that
# host pressure has something to take whatever the reclaim left (Linux's
# available memory can end anywhere between the floor and floor + 2 band:
# near the end of a reclaim it may fall by 100 MiB more than the balloon
# grows). Sets CALM to that target; the caller turns the policy back on.
make_slack() {
	local t a n moved
	CALM=$((TARGET - 256 * MIB))
	ctl balloon set "$CALM" >/dev/null || fail "modvmm-ctl balloon set failed"
	moved=$(date +%s)
	while read -r t a n < <(bal) && [ "$a" -gt $((CALM + MIB)) ]; do
		[ $(($(date +%s) - moved)) -lt "$STEP" ] || fail "the guest did not deflate to $((CALM / MIB)) MiB in ${STEP}s"
		sleep 1
	done
	log "slack: balloon set to $((CALM / MIB)) MiB by hand (the policy off until the pressure is on)"
}

# pressure_checks CALM GROWN FLOORS: what holds after a host pressure grew
# the balloon from CALM to GROWN; FLOORS: the floor events before the
# pressure (the settling reclaim may have met Linux's cliff too)
pressure_checks() {
	local floors=$(($(events_with floor) - $3))
	log "under pressure: balloon $(($1 / MIB)) -> $(($2 / MIB)) MiB; the guest's available memory at least $((MIN_AVAIL / MIB)) MiB; $(events_with pressure) pressure events"
	[ "$2" -gt "$1" ] || fail "host pressure did not grow the balloon ($(($1 / MIB)) MiB)"
	[ "$(events_with pressure)" -ge 1 ] || fail "no balloon.auto event with reason pressure"
	# Never below the floor by the policy's own step. Linux's MemAvailable
	# may fall ~100 MiB more than the balloon grows at the moment the
	# balloon reaches the guest's last free pages (seen at 1,450-1,620 MiB
	# here, for steps of 33-42 MiB): one correction for that, a dip of
	# at most a band, is allowed, not more.
	[ "$floors" -le 1 ] || fail "$floors floor deflates under pressure: the policy took the guest below its floor again"
	[ "$MIN_AVAIL" -ge $(((FLOOR_MIB - BAND_MIB) * MIB)) ] ||
		fail "the guest's available memory fell to $((MIN_AVAIL / MIB)) MiB, more than a band below its floor"
	guest_mem 60
	[ "$MEMAVAIL" -ge $((FLOOR_MIB * 1024)) ] || fail "MemAvailable $((MEMAVAIL / 1024)) MiB is below the floor"
}

# show_events: the policy's adjustments so far, one line each
show_events() {
	{ grep '"balloon.auto"' "$WORK/events" || true; } | python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    d = m.get("data", {})
    if "from" in d:
        print("  balloon.auto %-8s %5d -> %5d MiB, guest available %5d MiB, actual %5d MiB, hold %s"
              % (d["reason"], d["from"] >> 20, d["to"] >> 20, d["available"] >> 20, d["actual"] >> 20, d["hold"]))
    else:
        print("  balloon.auto", d)'
}

# A failure shows the policy's adjustments too.
eval "lib_$(declare -f fail)"
fail() {
	[ -s "$WORK/events" ] && show_events >&2
	# The policy's state (calm, hold, strikes, last reason) as it stood.
	[ -S "$SOCK" ] && ctl --json balloon info 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
    d = d.get("return", d)
    print("  balloon info: target", d.get("target"), "actual", d.get("actual"), "auto", json.dumps(d.get("auto")))
except ValueError:
    pass' >&2
	lib_fail "$@"
}

finish() {
	show_events
	send quit
	expect_poweroff 60
	kill "$EVENTS_PID" 2>/dev/null || true
}

case $case_name in
reclaim)
	start_guest off
	send hogfree 128
	wait_nth '^modvmm-guest: memhog freed' 1 "$STEP"
	answer "$STEP"
	[ "$GRC" = 0 ] || fail "the guest's memhog failed (rc $GRC)"
	sleep 3 # a statistics refresh after the free
	guest_mem 60
	slack_mib=$((MEMAVAIL / 1024 - FLOOR_MIB))
	rss0=$(rss_kb)
	log "idle: slack $slack_mib MiB above the floor; VmRSS $((rss0 / 1024)) MiB"
	ctl balloon auto on >/dev/null || fail "modvmm-ctl balloon auto on failed"
	settle 20
	rss1=$(rss_kb)
	back_mib=$(((rss0 - rss1) / 1024))
	guest_mem 60
	log "reclaimed: VmRSS $((rss0 / 1024)) -> $((rss1 / 1024)) MiB ($back_mib MiB back, slack $slack_mib MiB); $(events_with reclaim) reclaim events"
	[ "$MEMAVAIL" -ge $((FLOOR_MIB * 1024)) ] ||
		fail "the guest's MemAvailable $((MEMAVAIL / 1024)) MiB is below its floor ($FLOOR_MIB MiB)"
	[ "$MEMAVAIL" -le $(((FLOOR_MIB + 2 * BAND_MIB) * 1024)) ] ||
		fail "the guest still has $((MEMAVAIL / 1024)) MiB available: not reclaimed down to its floor ($FLOOR_MIB MiB + band)"
	[ "$back_mib" -ge $((slack_mib * 80 / 100)) ] ||
		fail "VmRSS fell by $back_mib MiB, less than 80 % of the $slack_mib MiB slack"
	# The burst: 1 GiB at once, deflate_on_oom=off.
	t0=$(date +%s.%N)
	send hog 1024
	answer "$STEP"
	secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	touched=$({ grep '^modvmm-guest: memhog touched 1024' "$WORK/console" || true; } | tail -n 1 | tr -d '\r')
	read -r t a n < <(bal)
	log "burst: memhog rc $GRC, '$touched', ${secs}s to its answer; balloon now $((t / MIB)) MiB; $(events_with floor) floor + $(events_with faults) faults deflates"
	[ "$GRC" = 0 ] || fail "the 1 GiB burst failed (rc $GRC) with the balloon at $((TARGET / MIB)) MiB"
	[ "$(oom_kills)" = 0 ] || fail "the guest's OOM killer killed a process during the burst"
	finish
	;;
pressure)
	start_guest on
	settle 20
	make_slack
	calm=$CALM floors=$(events_with floor)
	set_psi 40.00 5.00
	log "host pressure: PSI some avg10=40.00 full avg10=5.00"
	ctl balloon auto on >/dev/null || fail "modvmm-ctl balloon auto on failed"
	grow_until_still "$calm"
	grown=$T
	pressure_checks "$calm" "$grown" "$floors"
	set_psi 0.00 0.00
	log "host pressure gone"
	sleep 20
	read -r t a n < <(bal)
	[ "$t" -le "$grown" ] || fail "the balloon grew on ($((grown / MIB)) -> $((t / MIB)) MiB) without host pressure"
	finish
	;;
cgroup)
	# Our own cgroup v2 with the memory controller (the nested host
	# mounts cgroup2 at /sys/fs/cgroup; its root may not have handed the
	# controller down yet).
	CGROOT=/sys/fs/cgroup
	[ -f "$CGROOT/cgroup.controllers" ] || fail "no cgroup v2 at $CGROOT"
	grep -qw memory "$CGROOT/cgroup.controllers" || fail "cgroup v2 without the memory controller"
	grep -qw memory "$CGROOT/cgroup.subtree_control" ||
		echo +memory >"$CGROOT/cgroup.subtree_control" || fail "cannot enable the memory controller"
	CG="$CGROOT/modvmm-balloon-auto.$$"
	mkdir "$CG" || fail "cannot make $CG"
	eval "lib2_$(declare -f finish)"
	finish() {
		lib2_finish
		wait "$VMM_PID" 2>/dev/null || true
		rmdir "$CG" || fail "cannot remove $CG"
	}
	# modvmm joins the cgroup before it allocates anything (v2 charges
	# memory to the cgroup a page is faulted in from).
	CGROUP=auto start_guest on sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG"
	grep -q "^0::/${CG#"$CGROOT"/}\$" "/proc/$VMM_PID/cgroup" || fail "modvmm is not in $CG: $(cat "/proc/$VMM_PID/cgroup")"
	settle 20
	make_slack
	calm=$CALM floors=$(events_with floor)
	cur=$(cat "$CG/memory.current")
	# The kernel keeps memory.high in pages: a multiple of 4 KiB reads
	# back as written.
	high=$((cur * 100 / 97 / 4096 * 4096))
	echo "$high" >"$CG/memory.high" || fail "cannot set memory.high"
	log "cgroup pressure: memory.current $((cur / MIB)) MiB, memory.high $((high / MIB)) MiB"
	ctl balloon auto on >/dev/null || fail "modvmm-ctl balloon auto on failed"
	grow_until_still "$calm"
	grown=$T
	pressure_checks "$calm" "$grown" "$floors"
	[ "$(last_event_with pressure cgroup_high)" = "$high" ] ||
		fail "the pressure event names cgroup_high $(last_event_with pressure cgroup_high), not $high"
	echo max >"$CG/memory.high"
	log "cgroup pressure gone (memory.high max); memory.current $(($(cat "$CG/memory.current") / MIB)) MiB"
	sleep 20
	read -r t a n < <(bal)
	[ "$t" -le "$grown" ] || fail "the balloon grew on ($((grown / MIB)) -> $((t / MIB)) MiB) without pressure"
	finish
	;;
flap)
	start_guest on
	settle 20
	read -r t a turns0 < <(bal)
	for c in 1 2 3 4 5 6; do
		send hog 768 4
		answer "$STEP"
		[ "$GRC" = 0 ] || fail "cycle $c: memhog failed (rc $GRC)"
		sleep 12
		read -r t a n < <(bal)
		log "cycle $c: balloon $((t / MIB)) MiB, $n direction changes"
	done
	read -r t a turns < <(bal)
	log "flapping: $((turns - turns0)) direction changes in 6 cycles; $(events_with reclaim) reclaim, $(events_with floor) floor events"
	[ $((turns - turns0)) -le 4 ] || fail "the balloon changed direction $((turns - turns0)) times in 6 cycles"
	[ "$(oom_kills)" = 0 ] || fail "the guest's OOM killer killed a process"
	finish
	;;
cache)
	# Page cache from a disk: 512 MiB of random bytes the guest reads and
	# keeps open, before the policy starts. Free page reporting on, as
	# the eviction needs.
	head -c $((512 * MIB)) /dev/urandom >"$WORK/cache.img"
	VMM_EXTRA=(--disk "path=$WORK/cache.img,readonly=on")
	BALLOON_EXTRA=,free_page_reporting=on
	start_guest off
	send cache /dev/vda
	answer "$STEP"
	[ "$GRC" = 0 ] || fail "the guest could not read its disk (rc $GRC)"
	sleep 3 # a statistics refresh
	rss_read=$(rss_kb)
	read_caches=$(guest_caches)
	log "read the disk: caches $((read_caches / MIB)) MiB, VmRSS $((rss_read / 1024)) MiB"
	ctl balloon auto on >/dev/null || fail "modvmm-ctl balloon auto on failed"
	# The reclaim, then the eviction if one is due. Done once an
	# eviction was given back and the balloon is still for 20 s, or the
	# balloon is still for 120 s (past any hold-off and the minute
	# between evictions). Bounded by progress: a target the guest does
	# not reach for STEP seconds fails.
	last= moved=$(date +%s)
	while :; do
		read -r t a n < <(bal)
		[ "$t $a" != "$last" ] && { last="$t $a"; moved=$(date +%s); }
		still=$(($(date +%s) - moved))
		[ "$t" = "$a" ] && [ "$(events_with cache_back)" -ge 1 ] && [ "$still" -ge 20 ] && break
		[ "$t" = "$a" ] && [ "$still" -ge 120 ] && break
		[ "$t" = "$a" ] || [ "$still" -lt "$STEP" ] ||
			fail "the guest has not reached the target $((t / MIB)) MiB (actual $((a / MIB)) MiB) for ${STEP}s"
		vmm_running || fail "the VMM exited"
		sleep 1
	done
	sleep 3 # a statistics refresh
	guest_mem 60
	caches=$(guest_caches)
	left_mib=$(((MEMAVAIL - MEMFREE) / 1024))
	log "settled: caches $((read_caches / MIB)) -> $((caches / MIB)) MiB, reclaimable cache left (MemAvailable - MemFree) $left_mib MiB; $(events_with cache) evictions; VmRSS $((rss_read / 1024)) -> $(($(rss_kb) / 1024)) MiB; balloon $((t / MIB)) MiB; $n direction changes"
	# With reporting, free memory costs the host nothing: the page cache
	# the floor would keep is not left resident, whether the reclaim's
	# push or an eviction took it.
	[ "$caches" -lt $((read_caches - 256 * MIB)) ] ||
		fail "the guest's page cache did not shrink by 256 MiB ($((read_caches / MIB)) MiB after the read, now $((caches / MIB)) MiB)"
	[ "$left_mib" -le $((2 * BAND_MIB + 32)) ] ||
		fail "$left_mib MiB of reclaimable page cache left resident (more than 2 bands): no eviction took it"
	[ "$MEMAVAIL" -ge $((FLOOR_MIB * 1024)) ] || fail "MemAvailable $((MEMAVAIL / 1024)) MiB is below the floor"
	# The slack here is the disk's 512 MiB of cache: the host gets at
	# least 80 % of it back.
	rss_drop_kb=$((rss_read - $(rss_kb)))
	[ "$rss_drop_kb" -ge $((512 * 1024 * 8 / 10)) ] ||
		fail "VmRSS fell by $((rss_drop_kb / 1024)) MiB, less than 80 % of the 512 MiB of cache"
	[ "$(oom_kills)" = 0 ] || fail "the guest's OOM killer killed a process"
	finish
	;;
*) fail "unknown case $case_name" ;;
esac
