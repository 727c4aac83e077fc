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
	if insmod "$m" 2>/tmp/err; then
		say "module ${name%.ko} loaded"
	else
		say "module ${name%.ko} FAILED: $(cat /tmp/err)"
		fails=$((fails + 1))
	fi
done

report() {
	say "nproc $(nproc)"
	say "$(grep MemTotal /proc/meminfo | tr -s ' ')"
	for d in /sys/bus/virtio/devices/*; do
		[ -e "$d/device" ] || continue
		say "virtio ${d##*/} device=$(cat "$d/device") driver=$(basename "$(readlink "$d/driver" 2>/dev/null)")"
	done
}

case $test in
boot)
	report
	;;
modules)
	for d in /sys/bus/virtio/devices/*; do
		[ -e "$d/device" ] && say "virtio ${d##*/} device=$(cat "$d/device")"
	done
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
