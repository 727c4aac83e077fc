#!/bin/busybox sh
# /init of the modvmm Debian test guest (built by tests/linux/build-guest.sh).
#
# Mounts the pseudo file systems, loads the virtio modules listed in
# /etc/modules.load (dependencies first), then runs the test named on the
# kernel command line with modvmm.test=NAME and powers off:
#
#   boot     report and power off (default)
#   shell    report, then an interactive shell on the console; power off
#            when it exits (`exit`, Ctrl-D) or on `poweroff -f`
#   modules  only load the modules and list the virtio devices
#   rng      report, then check that virtio_rng is the current hwrng and
#            that /dev/hwrng returns 64 KiB of non-constant bytes
#   blk      report the root and virtio disks, write and sync /f1 and /f2
#            and print their sha256; with /dev/vdb: a write to it must
#            fail, its /hello is hashed (and with modvmm.balloon its /big
#            read into the page cache, a console line awaited while the
#            host inflates the balloon, /big hashed); with modvmm.fstrim:
#            write 32 MiB, wait for a line on the console, delete,
#            fstrim -v /
#   net      virtio_net: the first interface other than lo gets
#            modvmm.net_ip=A.B.C.D/16, pings modvmm.net_host=E.F.G.H, sends
#            modvmm.net_mib=N MiB (100) of random bytes to its port 5001
#            with tcpcopy and prints their sha256, then reads from its port
#            5002 until the host closes and prints what came's sha256
#   netbench bench/net: the interface set up as for net, then iperf3 -c
#            the host for modvmm.netbench_s=SECONDS each way (-R for the
#            host sending), each run after a line on the console
#   blkbench bench/blk: timed 1 MiB direct writes then reads of /dev/vda,
#            then fio's 4 KiB direct random reads of it at queue depth 1
#            and 32 (modvmm.blkbench_fio=SECONDS each, 0 = skip; engine
#            modvmm.blkbench_engine=io_uring|libaio), each step after a
#            line on the console
#
#   vsock    virtio-vsock (tests/linux/vsock_test.sh): /bin/vsockt listens
#            on port 52 and exchanges modvmm.vsock_bytes (10 MiB) each way
#            with the host's client, then connects to the host (CID 2)
#            port 1234 and does the same
#
# With root=/dev/vdX on the command line, the initramfs mounts that disk
# (ext4) once the modules are loaded and switch_roots to its /init.
#   cmd      report, then read commands from the console, one a line, and
#            answer each with "modvmm-guest: cmd#N ok NAME rc=R" (N counts
#            the non-empty lines read, from 1); the host drives the test
#            step by step (tests/linux/balloon_test.sh). Commands:
#              mem              "modvmm-guest: mem MemTotal=KB MemFree=KB
#                               MemAvailable=KB" from /proc/meminfo
#              hog MIB [HOLD]   /bin/memhog: touch MIB MiB, hold HOLD s, free
#              hogfree MARGIN   the same for all of MemFree but MARGIN MiB
#              rng              the rng check above
#              cache FILE       read FILE (a disk: /dev/vda) into the page
#                               cache and keep it open (Linux drops a block
#                               device's cache when its last opener closes
#                               it): "modvmm-guest: cache FILE Cached=KB"
#              log [N]          the last N (40) kernel log lines
#              quit             leave the loop: done, power off
#            Kernel messages are kept off the console (dmesg -n 1) so they
#            cannot split the answers; `log` shows them.
#
# Every line meant for a test starts with "modvmm-guest: ". The last one is
# "modvmm-guest: done rc=N" (N = failures), then `poweroff -f`, which ends
# the VMM with status 0 through the ACPI sleep register.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
say() { echo "modvmm-guest: $*"; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
say "init reached, kernel $(uname -r)"

test=boot
for w in $(cat /proc/cmdline); do
	case $w in modvmm.test=*) test=${w#modvmm.test=} ;; esac
done
say "test=$test"

fails=0
for m in $(cat /etc/modules.load); do
	name=${m##*/}
	mod=$(echo "${name%.ko}" | tr - _)
	if [ -d "/sys/module/$mod" ]; then
		# Loaded by the initramfs before switching to a root disk.
		say "module ${name%.ko} already loaded"
	elif insmod "$m" 2>/tmp/err; then
		say "module ${name%.ko} loaded"
	else
		say "module ${name%.ko} FAILED: $(cat /tmp/err)"
		fails=$((fails + 1))
	fi
done

# root=/dev/vdX on the command line: the initramfs has loaded virtio_blk;
# mount that disk and run its own /init (the same script, from the disk).
root=
for w in $(cat /proc/cmdline); do
	case $w in root=/dev/*) root=${w#root=} ;; esac
done
if [ -n "$root" ] && [ "$(awk '$2 == "/" { t = $3 } END { print t }' /proc/mounts)" = rootfs ]; then
	mkdir -p /newroot
	i=0
	while [ ! -b "$root" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	if mount -t ext4 -o rw "$root" /newroot 2>/tmp/err; then
		say "switching to root $root"
		mount --move /dev /newroot/dev
		umount /sys /proc
		exec switch_root /newroot /init
	fi
	say "mount $root FAILED: $(cat /tmp/err)"
	fails=$((fails + 1))
fi

report() {
	say "nproc $(nproc)"
	say "$(grep MemTotal /proc/meminfo | tr -s ' ')"
	for d in /sys/bus/virtio/devices/*; do
		[ -e "$d/device" ] || continue
		say "virtio ${d##*/} device=$(cat "$d/device") driver=$(basename "$(readlink "$d/driver" 2>/dev/null)")"
	done
}

meminfo() {
	awk '/^MemTotal:/ { t = $2 } /^MemFree:/ { f = $2 } /^MemAvailable:/ { a = $2 }
		/^Cached:/ { c = $2 } /^Shmem:/ { s = $2 } /^AnonPages:/ { n = $2 }
		END { printf "MemTotal=%d MemFree=%d MemAvailable=%d Cached=%d Shmem=%d AnonPages=%d\n", t, f, a, c, s, n }' /proc/meminfo
}

# rng_check: 0 if virtio_rng is the current hwrng and gives non-constant bytes
rng_check() {
	local hw=/sys/class/misc/hw_random cur bytes distinct
	cur=$(cat $hw/rng_current 2>/dev/null)
	say "rng current=$cur available=$(cat $hw/rng_available 2>/dev/null)"
	timeout 30 head -c 65536 /dev/hwrng >/tmp/rng 2>/tmp/err ||
		say "rng read FAILED: $(cat /tmp/err)"
	bytes=$(wc -c </tmp/rng)
	distinct=$(od -An -v -tx1 /tmp/rng | tr -s ' ' '\n' | grep -v '^$' | sort -u | wc -l)
	say "rng read bytes=$bytes distinct=$distinct"
	case $cur in virtio_rng*) ;; *) return 1 ;; esac
	[ "$bytes" -eq 65536 ] && [ "$distinct" -ge 200 ]
}

# net_up: the interface up with modvmm.net_ip; sets dev and hostip.
net_up() {
	local ip=
	for w in $(cat /proc/cmdline); do
		case $w in
		modvmm.net_ip=*) ip=${w#*=} ;;
		modvmm.net_host=*) hostip=${w#*=} ;;
		esac
	done
	dev=$(ls /sys/class/net | grep -v '^lo$' | head -n1)
	[ -n "$dev" ] || { say "net no interface"; return 1; }
	say "net dev $dev mac $(cat /sys/class/net/$dev/address) mtu $(cat /sys/class/net/$dev/mtu) driver $(basename "$(readlink /sys/class/net/$dev/device/driver)")"
	ip link set lo up
	ip link set "$dev" up && ip addr add "$ip/16" dev "$dev" ||
		{ say "net cannot configure $dev"; return 1; }
}

uptime_s() { cut -d' ' -f1 /proc/uptime; }

net_test() {
	local mib=100 t0 t1
	for w in $(cat /proc/cmdline); do
		case $w in modvmm.net_mib=*) mib=${w#*=} ;; esac
	done
	net_up || return 1
	ping -c 3 -W 20 "$hostip" >/tmp/ping 2>&1 ||
		{ say "net ping FAILED: $(tail -n 2 /tmp/ping | tr '\n' ' ')"; return 1; }
	say "net ping ok: $(grep -c 'bytes from' /tmp/ping) replies from $hostip"
	dd if=/dev/urandom of=/tmp/out bs=1M count="$mib" 2>/dev/null
	say "net sha256 out $(sha256sum /tmp/out | cut -d' ' -f1)"
	t0=$(uptime_s)
	tcpcopy send "$hostip" 5001 </tmp/out || { say "net send FAILED"; return 1; }
	t1=$(uptime_s)
	say "net sent $((mib * 1048576)) bytes in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
	rm -f /tmp/out
	t0=$(uptime_s)
	tcpcopy recv "$hostip" 5002 >/tmp/in || { say "net receive FAILED"; return 1; }
	t1=$(uptime_s)
	say "net received $(stat -c %s /tmp/in) bytes in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
	say "net sha256 in $(sha256sum /tmp/in | cut -d' ' -f1)"
	rm -f /tmp/in
}

# bench/net: iperf3 against the host's server, one direction a step, each
# started by a line on the console.
net_bench() {
	local secs=10 step
	for w in $(cat /proc/cmdline); do
		case $w in modvmm.netbench_s=*) secs=${w#*=} ;; esac
	done
	net_up || return 1
	for step in tx rx; do
		say "netbench ready $step"
		read -r _
		iperf3 -c "$hostip" -t "$secs" -f m $([ $step = rx ] && echo -R) >/tmp/iperf 2>&1 ||
			{ say "netbench $step FAILED: $(tail -n 3 /tmp/iperf | tr '\n' ' ')"; return 1; }
		grep -E 'sender|receiver' /tmp/iperf | sed "s/^/modvmm-guest: netbench $step /"
	done
}

case $test in
net)
	report
	dmesg -n 1
	if net_test; then say "net ok"; else say "net FAILED"; fails=$((fails + 1)); fi
	;;
netbench)
	report
	dmesg -n 1
	if net_bench; then say "netbench ok"; else say "netbench FAILED"; fails=$((fails + 1)); fi
	;;
boot)
	report
	;;
modules)
	for d in /sys/bus/virtio/devices/*; do
		[ -e "$d/device" ] && say "virtio ${d##*/} device=$(cat "$d/device")"
	done
	;;
rng)
	report
	if rng_check; then say "rng ok"; else say "rng FAILED"; fails=$((fails + 1)); fi
	;;
cmd)
	report
	dmesg -n 1
	n=0
	say "cmd ready"
	while read -r c a1 a2; do
		c=$(echo "$c" | tr -d '\r')
		[ -n "$c" ] || continue
		n=$((n + 1))
		rc=0
		case $c in
		mem) say "mem $(meminfo)" ;;
		meminfo) sed 's/^/modvmm-guest: meminfo /' /proc/meminfo ;;
		hog) memhog "$a1" ${a2:+"$a2"} || rc=$? ;;
		hogfree)
			free=$(awk '/^MemFree:/ { print int($2 / 1024) }' /proc/meminfo)
			say "hogfree $((free - ${a1:-128})) MiB of MemFree $free MiB"
			memhog $((free - ${a1:-128})) || rc=$?
			;;
		rng) rng_check || rc=1 ;;
		cache)
			exec 9<"$a1"
			cat "$a1" >/dev/null || rc=$?
			say "cache $a1 $(grep '^Cached:' /proc/meminfo | tr -s ' ' | tr -d ' ')"
			;;
		log) dmesg | tail -n "${a1:-40}" | sed 's/^/modvmm-guest: log /' ;;
		quit) say "cmd#$n ok quit rc=0"; break ;;
		*) say "unknown command '$c'"; rc=127 ;;
		esac
		say "cmd#$n ok $c rc=$rc"
	done
	;;
blk)
	# virtio-blk (tests/linux/blk_test.sh): the root disk, files written
	# and synced (the host reads them back from the image after poweroff),
	# a read-only second disk, and fstrim giving blocks back.
	report
	say "root $(awk '$2 == "/" { d = $1 " " $3 } END { print d }' /proc/mounts)"
	for d in /sys/block/vd*; do
		[ -e "$d/size" ] || continue
		say "disk ${d##*/} sectors=$(cat "$d/size") ro=$(cat "$d/ro") serial=$(cat "$d/serial" 2>/dev/null) queues=$(ls "$d/mq" 2>/dev/null | wc -l)"
	done
	dd if=/dev/urandom of=/f1 bs=64k count=16 2>/dev/null
	echo "written by the guest on a virtio-blk root" >/f2
	sync /f1 /f2 && say "files synced" || { say "sync FAILED"; fails=$((fails + 1)); }
	for f in f1 f2; do say "sha256 $f $(sha256sum /$f | cut -d' ' -f1)"; done
	if [ -b /dev/vdb ]; then
		if dd if=/dev/zero of=/dev/vdb bs=512 count=1 conv=fsync 2>/tmp/err; then
			say "vdb write ACCEPTED"
			fails=$((fails + 1))
		else
			say "vdb write refused: $(head -n 1 /tmp/err)"
		fi
		mkdir -p /mnt
		if mount -t ext4 -o ro /dev/vdb /mnt 2>/tmp/err; then
			say "vdb sha256 hello $(sha256sum /mnt/hello | cut -d' ' -f1)"
			if [ -f /mnt/big ] && grep -q modvmm.balloon /proc/cmdline; then
				# Fill the page cache from the disk, let the host
				# inflate the balloon, read the file again.
				cat /mnt/big >/dev/null
				say "balloon cache filled: $(grep '^Cached:' /proc/meminfo | tr -s ' ')"
				read -r _
				say "balloon inflated: $(grep '^Cached:' /proc/meminfo | tr -s ' ')"
				say "balloon sha256 big $(sha256sum /mnt/big | cut -d' ' -f1)"
			fi
			umount /mnt
		else
			say "vdb mount FAILED: $(cat /tmp/err)"
			fails=$((fails + 1))
		fi
	fi
	if grep -q modvmm.fstrim /proc/cmdline; then
		dd if=/dev/urandom of=/big bs=1M count=32 2>/dev/null
		sync
		say "fstrim big written"
		read -r _ # the host measures the image, then presses enter
		rm /big
		sync
		say "fstrim $(fstrim -v / 2>&1)"
		sync
	fi
	;;
blkbench)
	# bench/blk: 1 MiB direct writes, then reads, of all of the first
	# disk (modvmm.blkbench_mib=N MiB of it, default 256), timed by the
	# guest's clock; before each step a line on the console is awaited,
	# so the host can read the VMM's CPU time around it.
	report
	dmesg -n 1
	mib=256 fio_s=10 engine=io_uring
	for w in $(cat /proc/cmdline); do
		case $w in
		modvmm.blkbench_mib=*) mib=${w#*=} ;;
		modvmm.blkbench_fio=*) fio_s=${w#*=} ;;
		modvmm.blkbench_engine=*) engine=${w#*=} ;;
		esac
	done
	steps="write read"
	[ "$fio_s" -gt 0 ] && steps="$steps randread_qd1 randread_qd32"
	for step in $steps; do
		say "blkbench ready $step"
		read -r _
		t0=$(cut -d' ' -f1 /proc/uptime)
		case $step in
		write) dd if=/dev/zero of=/dev/vda bs=1M count="$mib" oflag=direct 2>/dev/null ;;
		read) dd if=/dev/vda of=/dev/null bs=1M count="$mib" iflag=direct 2>/dev/null ;;
		randread_qd*)
			# terse v3: field 6 = KiB read, 8 = read IOPS, 9 = runtime ms
			fio --name="$step" --filename=/dev/vda --direct=1 --rw=randread \
				--bs=4k --iodepth="${step#randread_qd}" --ioengine="$engine" \
				--size="${mib}M" --runtime="$fio_s" --time_based --norandommap \
				--output-format=terse --terse-version=3 >/tmp/fio.out 2>/tmp/err &&
				awk -F';' -v s="$step" '$1 == 3 { printf "modvmm-guest: blkbench %s iops %s requests %d ms %s\n", s, $8, $6 / 4, $9; ok = 1 }
					END { exit !ok }' /tmp/fio.out ||
				{ say "blkbench $step fio FAILED: $(head -c 300 /tmp/err) $(head -c 300 /tmp/fio.out)"; false; }
			;;
		esac || fails=$((fails + 1))
		t1=$(cut -d' ' -f1 /proc/uptime)
		case $step in write | read)
			say "blkbench $step $((mib * 1048576)) bytes in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s" ;;
		esac
	done
	say "blkbench ready end"
	read -r _
	;;
vsock)
	report
	bytes=10485760
	for w in $(cat /proc/cmdline); do
		case $w in modvmm.vsock_bytes=*) bytes=${w#*=} ;; esac
	done
	vsockt listen 52 "$bytes" || fails=$((fails + 1))
	vsockt connect 2 1234 "$bytes" || fails=$((fails + 1))
	;;
shell)
	report
	say "shell ready"
	PS1='modvmm# ' setsid cttyhack sh -i
	;;
*)
	say "unknown test '$test'"
	fails=$((fails + 1))
	;;
esac

say "done rc=$fails"
sync
poweroff -f
# Only reached if the power-off did not take: make it visible.
say "poweroff failed"
sleep 1000000
