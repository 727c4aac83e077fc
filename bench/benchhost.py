"""What the benchmarks need to know about the host they run on (standard
library only): whether it is the nested KVM host of tools/nested-kvm, a
one-line description of the machine for the reports, and copying the files
the VMMs read to a local file system first when the checkout is a 9p share.

    import benchhost
    benchhost.NESTED                    # MODVMM_NESTED=1: tools/nested-kvm
    benchhost.describe(qemu)            # "AMD EPYC ..., 2 CPUs, ...; QEMU ..."
    s = benchhost.Stage(build, enable)  # s.path(f): f, or its local copy
    s.modvmm                            # the modvmm to run (plugins beside it)

Inside the nested host the checkout (and so the build tree) is a 9p share
without a page cache: every page fault on a file mapped from it is a round
trip through the TCG host. QEMU maps the kernel it loads (MAP_PRIVATE), and
a 53 MB vmlinux read that way cost QEMU ~50 s a boot there, modvmm (which
read()s it) ~1 s; modvmm's binary and plugins, loaded from the share, cost
it ~0.5 s a start, while QEMU and its libraries come from the page-cached
root. So there the benchmarks copy modvmm, its plugins and the guest images
to a tmpfs folder first, and both VMMs read the same copies.
"""
import os
import platform
import re
import shlex
import shutil
import subprocess
import tempfile

NESTED = os.environ.get("MODVMM_NESTED") == "1"
NESTED_LABEL = "nested KVM (TCG underneath): ratios only"


def fs_type(path):
    """The file system type of the mount that holds path ("?" if unknown)."""
    path = os.path.realpath(path)
    best, kind = "", "?"
    try:
        with open("/proc/self/mounts") as f:
            for line in f:
                w = line.split()
                mnt = w[1].replace("\\040", " ")
                if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) \
                        and len(mnt) >= len(best):
                    best, kind = mnt, w[2]
    except OSError:
        pass
    return kind


def should_stage(build):
    """Copy files to local storage first? In the nested host, or whenever
    the build tree is on 9p (no page cache for mapped files)."""
    return NESTED or fs_type(build) == "9p"


class Stage:
    """Local copies of the build's modvmm, plugins and guest images.

    With enable False every path is the original. Otherwise modvmm and
    build/plugins/*.so are copied to a fresh folder under $TMPDIR (tmpfs in
    the nested host) as DIR/modvmm and DIR/plugins/ (modvmm looks for
    plugins beside its binary), and path(f) copies f there on first use."""

    def __init__(self, build, enable):
        self.build = build
        self.enabled = enable
        self.dir = None
        self.modvmm = os.path.join(build, "modvmm")
        self.plugins = os.path.join(build, "plugins")
        self._copies = {}
        if not enable:
            return
        self.dir = tempfile.mkdtemp(prefix="modvmm-bench-stage-")
        shutil.copy2(self.modvmm, os.path.join(self.dir, "modvmm"))
        self.modvmm = os.path.join(self.dir, "modvmm")
        plug = os.path.join(self.dir, "plugins")
        os.mkdir(plug)
        if os.path.isdir(self.plugins):
            for name in os.listdir(self.plugins):
                if name.endswith(".so"):
                    shutil.copy2(os.path.join(self.plugins, name), plug)
        self.plugins = plug

    def path(self, f):
        if not self.enabled:
            return f
        if f not in self._copies:
            rel = os.path.relpath(f, self.build).replace("/", "_")
            dst = os.path.join(self.dir, rel)
            shutil.copy2(f, dst)
            self._copies[f] = dst
        return self._copies[f]

    def show(self, argv):
        """argv as a shell command line, the staging folder shown as
        STAGE (and the copies under their build-tree names)."""
        names = {v: "STAGE/" + os.path.relpath(k, self.build)
                 for k, v in self._copies.items()}
        out = []
        for x in argv:
            x = names.get(x, x)
            if self.dir:
                x = x.replace(self.dir, "STAGE")
            out.append(shlex.quote(x))
        return " ".join(out)

    def note(self):
        if not self.enabled:
            return ""
        return (f"staged: modvmm, its plugins and the guest images copied "
                f"from {self.build} ({fs_type(self.build)}) to STAGE = "
                f"{self.dir} ({fs_type(self.dir)}); both VMMs read the copies")

    def cleanup(self):
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


def kvm_kind():
    """What /dev/kvm is here, in a few words."""
    if not os.path.exists("/dev/kvm"):
        return "no /dev/kvm"
    if os.path.isdir("/sys/module/kvm_pvm"):
        return "nested PVM-style KVM (kvm_pvm; guest CPL0 code emulated)"
    mod = ("kvm_intel" if os.path.isdir("/sys/module/kvm_intel") else
           "kvm_amd" if os.path.isdir("/sys/module/kvm_amd") else "?")
    if NESTED:
        return (f"KVM ({mod}) in the nested host of tools/nested-kvm (QEMU "
                f"TCG -cpu max underneath), {NESTED_LABEL}")
    return f"KVM ({mod})"


def cpu_model():
    """The host CPU's model name from /proc/cpuinfo, or None."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def proc_status_kb(pid, key):
    """A kB field of /proc/PID/status (VmRSS, VmHWM, ...), or None."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def describe(qemu="qemu-system-x86_64"):
    cpu = cpu_model() or "?"
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            kb = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))
        mem = f"{kb / 1048576:.1f} GiB"
    except (OSError, AttributeError):
        pass
    try:
        qv = subprocess.run([qemu, "--version"], capture_output=True,
                            text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        qv = "QEMU not found"
    try:
        with open("/proc/loadavg") as f:
            load = " ".join(f.read().split()[:3])
    except OSError:
        load = "?"
    return (f"{cpu}, {os.cpu_count()} CPUs, {mem} RAM, Linux "
            f"{platform.release()}, {kvm_kind()}; {qv}; load average {load}")
