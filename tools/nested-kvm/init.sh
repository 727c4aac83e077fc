#!/bin/sh
# /init of the nested KVM host (busybox sh). The kernel command line names
# the exchange folder (nested.xch=PATH), a host folder shared read-write:
#   PATH/cmd.sh      what to run (written by tools/nested-kvm/nested-kvm)
#   PATH/rw          "TAG DIR" lines: host folders shared read-write, mounted
#                    at the same paths
#   PATH/heartbeat   written here every few seconds (the runner's watchdog)
#   PATH/rc          the command's exit status, written when it ends
#   PATH/interactive present when the caller's terminal is on ttyS1
# The host's / is shared read-only and gets a tmpfs overlay, so the command
# sees every host file and tool at its own path and its writes stay inside,
# except under the read-write folders.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

die() {
	echo "nested-kvm init: $*" >/dev/ttyS1
	echo "nested-kvm init: $*"
	echo o >/proc/sysrq-trigger
	sleep 60
}

xch=
for word in $(cat /proc/cmdline); do
	case $word in nested.xch=*) xch=${word#nested.xch=} ;; esac
done
[ -n "$xch" ] || die "no nested.xch= on the kernel command line"

# kvm_amd without virtual GIF: QEMU 7.2's TCG emulation of it let the
# host take interrupts while GIF was clear, in the window where KVM still
# has the guest's GS base loaded after VMRUN (seen as "TASK stack guard
# page was hit" in exc_page_fault on a vCPU thread, a kernel panic, and as
# a silent hang of the whole host; docs/testing.md).
while read -r ko; do
	params=
	case ${ko##*/} in kvm-amd.ko* | kvm_amd.ko*) params="vgif=0" ;; esac
	insmod "$ko" $params || die "insmod $ko failed"
done </etc/modules.load
[ -c /dev/kvm ] || die "kvm_amd loaded but there is no /dev/kvm (does the CPU model offer SVM?)"

opts=trans=virtio,version=9p2000.L,msize=512000
# The shared trees are cached in the guest (cache=loose): without a page
# cache every stat, read and page fault of a program started from them is a
# round trip through the emulated CPU. The host does not change them while
# the command runs. The exchange folder is not cached: the runner reads the
# heartbeat while the command runs.
cached=$opts,cache=loose
mkdir -p /mnt/lower /mnt/rw
mount -t 9p -o "$cached,ro" hostroot /mnt/lower || die "cannot mount the host's / over 9p"
mount -t tmpfs -o mode=0755 tmpfs /mnt/rw
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay overlay \
	-o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work /newroot ||
	die "cannot mount the overlay"
r=/newroot
mkdir -p "$r$xch"
mount -t 9p -o "$opts" xch "$r$xch" || die "cannot mount the exchange folder"
while read -r tag dir; do
	mkdir -p "$r$dir"
	mount -t 9p -o "$cached" "$tag" "$r$dir" || die "cannot mount $dir read-write"
done <"$r$xch/rw"

for fs in dev proc sys; do mount --move /$fs $r/$fs; done
# devtmpfs lacks these; bash process substitution needs /dev/fd.
mkdir -p $r/dev/pts $r/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts $r/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $r/dev/shm
ln -sf /proc/self/fd $r/dev/fd
ln -sf /proc/self/fd/0 $r/dev/stdin
ln -sf /proc/self/fd/1 $r/dev/stdout
ln -sf /proc/self/fd/2 $r/dev/stderr
mount -t cgroup2 cgroup2 $r/sys/fs/cgroup 2>/dev/null
ip link set lo up

# Progress for the runner's watchdog: the uptime, every 5 s.
(while :; do
	cut -d' ' -f1 $r/proc/uptime >"$r$xch/heartbeat.new" &&
		mv "$r$xch/heartbeat.new" "$r$xch/heartbeat"
	sleep 5
done) &

out=$r/dev/ttyS1
echo "up in $(cut -d' ' -f1 $r/proc/uptime) s: kernel $(uname -r), $(grep -c ^processor $r/proc/cpuinfo) vCPUs, $(awk '/MemTotal/ {printf "%d MiB", $2/1024}' $r/proc/meminfo), /dev/kvm from kvm_amd" >"$r$xch/host-info"
if [ -f "$r$xch/interactive" ]; then
	# The caller's terminal is on ttyS1: make it the command's controlling
	# terminal, so that Ctrl-C reaches the command.
	setsid -c chroot $r /bin/bash "$xch/cmd.sh" <$out >$out 2>&1
else
	stty -F $out raw -echo 2>/dev/null
	chroot $r /bin/bash "$xch/cmd.sh" <$r/dev/null >$out 2>&1
fi
rc=$?
sync # the read-write trees are written back before rc says "done"
echo $rc >"$r$xch/rc"
echo o >$r/proc/sysrq-trigger
sleep 60
