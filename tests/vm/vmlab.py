"""vmlab: Debian 12 guests under QEMU for offloadctl's labs.

The API (tests/vm/README.md says more):

    img = ensure_image()              # the cached guest image, built when missing
    with Guest(img, nics=[...], name="linux") as g:   # boots it (TCG unless KVM proved itself)
        g.run("ethtool --version")    # a shell script in the guest -> Result(rc, out, err)
        g.run_py("print(1)")          # a Python 3 script in the guest
        g.qmp("device_add", driver="e1000", id="x", netdev="n")
        g.poweroff(); g.boot()        # a cold start of the same overlay disk
    # leaving the block kills QEMU whatever happened

Image: debootstrap of Debian 12 (PACKAGES), a guest agent baked in, turned
into an ext4 disk image by `mkfs.ext4 -d` (no loop mount), under
CACHE/images/KEY/ where KEY hashes every input (suite, mirror, packages,
the files baked in, BUILDER_VERSION).  Built in a temporary folder, renamed
into place when complete; a build lock serialises builders.  Each boot runs
on a qcow2 overlay of its own: the cached image is never written.

Channel: a 9p share (tag "lab") that the guest agent (vmlab-agent.service)
mounts on /lab.  The host drops a script into req/, the agent moves it to
run/, runs it (sh, or python3 for *.py) in the background and writes
out/ID.out, out/ID.err and, last, out/ID.rc.  out/ready-BOOTID says the
agent is up.  Every wait has a timeout and fails with the console's tail.

Every QEMU process holds an exclusive flock on CACHE/qemu.lock for its whole
life (the lock fd is inherited by QEMU), so two labs never share the two
cores; QEMU dies with the process that started it (PR_SET_PDEATHSIG).
"""
import contextlib
import ctypes
import fcntl
import glob
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

CACHE = os.environ.get("OFFLOADCTL_VMLAB_CACHE", "/var/cache/offloadctl-vmlab")
# The QEMU lock stays in the default place whatever the cache: labs using
# different caches must still not run two guests at once.
QEMU_LOCK = os.environ.get("OFFLOADCTL_VMLAB_LOCK", "/var/cache/offloadctl-vmlab/qemu.lock")
SUITE = "bookworm"
MIRROR = os.environ.get("OFFLOADCTL_VMLAB_MIRROR", "http://deb.debian.org/debian")
# Bump when the build steps below change in a way the key does not see.
BUILDER_VERSION = 4
IMAGE_SIZE = "3G"

# What the guest needs: the agent's runtime libraries (the .deb's Depends),
# the reference tools, python3 for the lab's scripts, and the Xen hypervisor
# and tools so that the Xen lab boots a dom0 from the same image.
PACKAGES = [
    "systemd", "systemd-sysv", "udev", "dbus", "iproute2", "ethtool", "kmod", "procps",
    "linux-image-amd64", "initramfs-tools",
    "libnl-3-200", "libnl-genl-3-200", "libjansson4", "libyaml-0-2",
    "python3",
    "xen-hypervisor-4.17-amd64", "xen-utils-4.17", "bridge-utils",
    # the device model an HVM domU needs in dom0 (/usr/libexec/xen-qemu-system-i386)
    "qemu-system-xen",
]

# The guest side of the channel.  Plain sh: it runs before anything else.
AGENT_SH = r"""#!/bin/bash
# vmlab-agent: run the lab's requests from the 9p share (tests/vm/vmlab.py).
# bash, for a sleep without a fork (read -t on a FIFO): under TCG a forked
# sleep 20 times a second would eat a CPU.
modprobe -q 9pnet_virtio; modprobe -q 9p
mkdir -p /lab
mountpoint -q /lab || mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 lab /lab || {
	echo "vmlab-agent: cannot mount the 9p share 'lab'" >&2; exit 1; }
mkdir -p /lab/req /lab/run /lab/out
bootid=$(cat /proc/sys/kernel/random/boot_id)
read -r up _ < /proc/uptime
echo "$bootid $up" > /lab/out/.ready.tmp
mv /lab/out/.ready.tmp "/lab/out/ready-$bootid"
echo "vmlab-agent: ready ($bootid)" > /dev/console
fifo=/run/vmlab-agent.fifo
rm -f "$fifo"; mkfifo "$fifo"; exec 9<>"$fifo"
shopt -s nullglob
while :; do
	for f in /lab/req/*; do
		id=${f##*/}
		mv "$f" "/lab/run/$id" 2>/dev/null || continue
		case $id in *.py) interp=python3 ;; *) interp=sh ;; esac
		(
			cd /
			$interp "/lab/run/$id" > "/lab/out/$id.out" 2> "/lab/out/$id.err" < /dev/null
			echo $? > "/lab/out/$id.rc.tmp"
			mv "/lab/out/$id.rc.tmp" "/lab/out/$id.rc"
		) &
	done
	read -r -t 0.05 -u 9 _
done
"""

AGENT_UNIT = """[Unit]
Description=offloadctl VM lab agent (9p command channel)
DefaultDependencies=no
After=local-fs.target systemd-modules-load.service
Before=shutdown.target
Conflicts=shutdown.target

[Service]
ExecStart=/usr/local/sbin/vmlab-agent
Restart=always
RestartSec=1

[Install]
WantedBy=sysinit.target
"""

CMDLINE = ("root=/dev/vda rw console=ttyS0,115200 mitigations=off random.trust_cpu=on "
           "systemd.show_status=false loglevel=5 panic=-1 tsc=reliable")


class LabError(RuntimeError):
    pass


# Lines for the test run's closing summary (tests/vm/conftest.py prints them).
REPORT = []


def report(line=""):
    """Add a line to the lab's summary at the end of the pytest run (and log it now)."""
    REPORT.append(line)
    log(line)


def log(msg):
    sys.stderr.write(f"[vmlab {time.strftime('%H:%M:%S')}] {msg}\n")
    sys.stderr.flush()


def missing_tools():
    """The host tools the lab needs that are not installed (empty: all there)."""
    need = ["qemu-system-x86_64", "qemu-img", "debootstrap", "mkfs.ext4"]
    return [t for t in need if not shutil.which(t) and not os.path.exists("/usr/sbin/" + t)]


# ---------------------------------------------------------------- image

class Image:
    """A built guest image: dir/{rootfs/, disk.img, vmlinuz, initrd.img, initrd-full.img, manifest.json}.

    rootfs/ is the customised tree the disk was made from (read it, never
    write it); initrd.img is a small initramfs (virtio, ext4, xen-blkfront)
    that boots in a few seconds under TCG, initrd-full.img Debian's own
    (MODULES=most)."""

    def __init__(self, path):
        self.dir = path
        self.key = os.path.basename(path)
        self.rootfs = os.path.join(path, "rootfs")
        self.disk = os.path.join(path, "disk.img")
        self.kernel = os.path.join(path, "vmlinuz")
        self.initrd = os.path.join(path, "initrd.img")
        self.initrd_full = os.path.join(path, "initrd-full.img")
        with open(os.path.join(path, "manifest.json")) as f:
            self.manifest = json.load(f)

    def __repr__(self):
        return f"Image({self.dir})"


def _hash(obj):
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def rootfs_key(packages=PACKAGES):
    """The debootstrap stage's key: what it fetches and how."""
    return _hash({"suite": SUITE, "mirror": MIRROR, "packages": sorted(packages), "variant": "minbase"})


def image_key(packages=PACKAGES):
    """The image's key: the rootfs's, and everything baked in on top of it."""
    return _hash({"rootfs": rootfs_key(packages), "builder": BUILDER_VERSION, "agent": AGENT_SH,
                  "unit": AGENT_UNIT, "masked": MASKED, "initrd_modules": INITRD_MODULES,
                  "size": IMAGE_SIZE})


@contextlib.contextmanager
def _flock(path, what, timeout):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    t0 = time.monotonic()
    told = False
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told:
                    log(f"waiting for {path} ({what})")
                    told = True
                if time.monotonic() - t0 > timeout:
                    raise LabError(f"{path} still held after {timeout:.0f} s ({what})")
                time.sleep(1)
        if told:
            log(f"got {path} after {time.monotonic() - t0:.0f} s")
        yield fd
    finally:
        os.close(fd)


def _run(cmd, timeout, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if p.returncode != 0:
        raise LabError(f"{' '.join(cmd)} exited {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p


def _write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def _symlink(target, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.lexists(path):
        os.unlink(path)
    os.symlink(target, path)


# Units that cost boot time under TCG and that no lab needs.
MASKED = ["apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer", "e2scrub_reap.service",
          "fstrim.timer", "systemd-tmpfiles-clean.timer", "systemd-logind.service", "getty.target",
          "systemd-binfmt.service", "proc-sys-fs-binfmt_misc.automount", "modprobe@drm.service",
          "systemd-update-utmp.service", "systemd-update-utmp-runlevel.service",
          "xendomains.service", "xen.service"]
# The small initramfs: what finding the root disk needs, under QEMU or as a Xen domU.
INITRD_MODULES = ["virtio_pci", "virtio_blk", "ext4", "crc32c_generic", "xen-blkfront"]


def _customise(rootfs):
    """Make the debootstrapped tree bootable and reachable (idempotent)."""
    _write(f"{rootfs}/etc/hostname", "vmlab\n")
    _write(f"{rootfs}/etc/hosts", "127.0.0.1 localhost\n127.0.1.1 vmlab\n")
    _write(f"{rootfs}/etc/fstab", "/dev/vda / ext4 rw,errors=remount-ro 0 0\n")
    _write(f"{rootfs}/usr/local/sbin/vmlab-agent", AGENT_SH, 0o755)
    _write(f"{rootfs}/etc/systemd/system/vmlab-agent.service", AGENT_UNIT)
    _symlink("/etc/systemd/system/vmlab-agent.service",
             f"{rootfs}/etc/systemd/system/sysinit.target.wants/vmlab-agent.service")
    for t in MASKED:
        _symlink("/dev/null", f"{rootfs}/etc/systemd/system/{t}")
    _write(f"{rootfs}/etc/systemd/journald.conf.d/vmlab.conf", "[Journal]\nStorage=volatile\n")
    _write(f"{rootfs}/etc/modules-load.d/vmlab.conf", "9pnet_virtio\n9p\n")
    os.makedirs(f"{rootfs}/lab", exist_ok=True)
    # No root password: the lab's guests have no network to log in from.
    _run(["chroot", rootfs, "passwd", "-d", "root"], 60)
    for d in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for f in glob.glob(f"{rootfs}/{d}/*"):
            if os.path.isfile(f):
                os.unlink(f)


def _small_initrd(rootfs, kver, out):
    """mkinitramfs with MODULES=list in the chroot (Debian's MODULES=most is 36 MB)."""
    conf = f"{rootfs}/etc/initramfs-tools-vmlab"
    shutil.rmtree(conf, ignore_errors=True)
    shutil.copytree(f"{rootfs}/etc/initramfs-tools", conf, symlinks=True)
    with open(f"{conf}/initramfs.conf") as f:
        text = f.read()
    text = text.replace("MODULES=most", "MODULES=list").replace("COMPRESS=zstd", "COMPRESS=gzip")
    _write(f"{conf}/initramfs.conf", text)
    _write(f"{conf}/modules", "\n".join(INITRD_MODULES) + "\n")
    _run(["chroot", rootfs, "mkinitramfs", "-d", "/etc/initramfs-tools-vmlab", "-o", "/tmp/initrd-vmlab.img",
          kver], 600)
    shutil.move(f"{rootfs}/tmp/initrd-vmlab.img", out)
    shutil.rmtree(conf, ignore_errors=True)


def ensure_rootfs(packages=PACKAGES, timeout=3600):
    """Stage 1, the slow one (2-6 min): debootstrap into CACHE/rootfs/KEY/tree.
    Returns that folder (with manifest.json beside tree/).  Call under build.lock."""
    key = rootfs_key(packages)
    base = os.path.join(CACHE, "rootfs")
    final = os.path.join(base, key)
    if os.path.exists(os.path.join(final, "manifest.json")):
        return final
    os.makedirs(base, exist_ok=True)
    for stale in glob.glob(os.path.join(base, ".tmp-*")):
        shutil.rmtree(stale, ignore_errors=True)  # an interrupted build
    tmp = tempfile.mkdtemp(prefix=f".tmp-{key}-", dir=base)
    os.chmod(tmp, 0o755)
    t0 = time.monotonic()
    log(f"debootstrap {SUITE} from {MIRROR} into the rootfs cache {key}")
    _run(["debootstrap", "--variant=minbase", "--include=" + ",".join(packages),
          "--components=main", SUITE, os.path.join(tmp, "tree"), MIRROR], timeout)
    secs = round(time.monotonic() - t0, 1)
    _write(os.path.join(tmp, "manifest.json"), json.dumps(
        {"key": key, "suite": SUITE, "mirror": MIRROR, "packages": packages, "debootstrap_s": secs,
         "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=1) + "\n")
    os.rename(tmp, final)
    log(f"rootfs {key}: debootstrap took {secs} s")
    return final


def ensure_image(packages=PACKAGES, timeout=3600):
    """The cached image for these inputs; built when missing (stage 1, the
    debootstrap, is cached on its own, so a change to what is baked in costs
    about half a minute).  Safe to call from several processes at once."""
    key = image_key(packages)
    images = os.path.join(CACHE, "images")
    final = os.path.join(images, key)
    if os.path.exists(os.path.join(final, "manifest.json")):
        return Image(final)
    with _flock(os.path.join(CACHE, "build.lock"), "another image build", timeout):
        if os.path.exists(os.path.join(final, "manifest.json")):
            return Image(final)
        t0 = time.monotonic()
        base = ensure_rootfs(packages, timeout)
        with open(os.path.join(base, "manifest.json")) as f:
            base_manifest = json.load(f)
        os.makedirs(images, exist_ok=True)
        for stale in glob.glob(os.path.join(images, ".tmp-*")):
            shutil.rmtree(stale, ignore_errors=True)  # an interrupted build
        tmp = tempfile.mkdtemp(prefix=f".tmp-{key}-", dir=images)
        os.chmod(tmp, 0o755)
        rootfs = os.path.join(tmp, "rootfs")
        times = {"debootstrap_s": base_manifest.get("debootstrap_s")}
        t1 = time.monotonic()
        _run(["cp", "-a", os.path.join(base, "tree"), rootfs], 600)
        _customise(rootfs)
        kernels = sorted(glob.glob(f"{rootfs}/boot/vmlinuz-*"))
        initrds = sorted(glob.glob(f"{rootfs}/boot/initrd.img-*"))
        if not kernels or not initrds:
            raise LabError(f"no kernel or initrd in {rootfs}/boot")
        kver = os.path.basename(kernels[-1])[len("vmlinuz-"):]
        shutil.copy(kernels[-1], os.path.join(tmp, "vmlinuz"))
        shutil.copy(initrds[-1], os.path.join(tmp, "initrd-full.img"))
        _small_initrd(rootfs, kver, os.path.join(tmp, "initrd.img"))
        times["customise_s"] = round(time.monotonic() - t1, 1)
        t2 = time.monotonic()
        _run(["mkfs.ext4", "-q", "-F", "-L", "vmlab", "-d", rootfs, os.path.join(tmp, "disk.img"),
              IMAGE_SIZE], 600)
        times["mkfs_s"] = round(time.monotonic() - t2, 1)
        dpkg = _run(["chroot", rootfs, "dpkg-query", "-W", "-f", "${Package} ${Version}\\n"], 60).stdout
        manifest = {"key": key, "rootfs_key": base_manifest["key"], "suite": SUITE, "mirror": MIRROR,
                    "packages": packages, "builder_version": BUILDER_VERSION, "kernel": kver,
                    "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "times": times, "installed": dpkg.strip().split("\n")}
        _write(os.path.join(tmp, "manifest.json"), json.dumps(manifest, indent=1) + "\n")
        os.rename(tmp, final)
        log(f"image {key} ready in {time.monotonic() - t0:.0f} s ({times})")
        return Image(final)


# ---------------------------------------------------------------- guest

PY_PRELUDE = "import sys\nsys.path.insert(0, '/lab')\nfrom guestlib import *  # noqa\n"


class Result:
    def __init__(self, rc, out, err, seconds):
        self.rc, self.out, self.err, self.seconds = rc, out, err, seconds

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError as e:
            raise LabError(f"not JSON ({e}): {self.out[-2000:]}\nstderr: {self.err[-2000:]}")

    def __repr__(self):
        return f"Result(rc={self.rc}, out={self.out[-500:]!r}, err={self.err[-500:]!r})"


def nic(model, mac, ident=None, netdev=None, backend="hub", netdev_props=None, **props):
    """One -device/-netdev pair: a NIC of MODEL with MAC on a hub port of its
    own (backend "hub"), or on a tap device with a virtio-net header (backend
    "tap": what gives virtio-net its checksum and segmentation offloads; the
    tap lives in a network namespace of the guest's own on the host, so the
    host's interfaces are never touched).  props go to -device (mq="on",
    vectors=10), netdev_props to -netdev (queues=4 on a tap)."""
    ident = ident or "nic" + mac.replace(":", "")[-6:]
    return {"model": model, "mac": mac, "id": ident, "netdev": netdev or "n" + ident, "props": props,
            "backend": backend, "netdev_props": dict(netdev_props or {})}


_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Guest:
    """A QEMU guest on an overlay of an Image.  Use as a context manager."""

    def __init__(self, image, nics=(), name="guest", memory=1536, smp=2, accel=None, extra_args=(),
                 cmdline=CMDLINE, lock_timeout=3600, boot_timeout=None, workdir=None, netns=False):
        self.image = image
        self.nics = list(nics)
        self.name = name
        self.memory, self.smp = memory, smp
        self.extra_args = list(extra_args)
        self.cmdline = cmdline
        self.lock_timeout = lock_timeout
        self.accel = accel or os.environ.get("OFFLOADCTL_VMLAB_ACCEL") or choose_accel(image)
        self.boot_timeout = boot_timeout or (300 if self.accel == "tcg" else 120)
        self.dir = workdir or tempfile.mkdtemp(prefix=f"offloadctl-vmlab-{name}-", dir="/var/tmp")
        self.share = os.path.join(self.dir, "share")
        os.makedirs(self.share, exist_ok=True)
        shutil.copy(os.path.join(HERE, "guestlib.py"), self.share)
        self.overlay = os.path.join(self.dir, "overlay.qcow2")
        self.console = os.path.join(self.dir, "console.log")
        self.qmp_path = os.path.join(self.dir, "qmp.sock")
        self.proc = None
        self._lockfd = None
        self._own_lock = False
        self._qmp = None
        self._seq = 0
        self.boots = []  # seconds from QEMU start to the agent, per boot
        _run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", image.disk, self.overlay], 60)
        # QEMU runs in a network namespace of its own when a NIC has a tap
        # backend (or netns=True: hot-plugged taps): the taps live and die there.
        self.netns = None
        if netns or any(n.get("backend") == "tap" for n in self.nics):
            self.netns = f"offloadctl-vmlab-{os.getpid()}-{name}"
            _run(["ip", "netns", "add", self.netns], 30)

    # -- life cycle
    def __enter__(self):
        try:
            self.boot()
        except BaseException as e:  # __exit__ is not called when __enter__ raises
            self.__exit__(type(e), e, None)
            raise
        return self

    def __exit__(self, *exc):
        self.kill()
        keep = os.environ.get("OFFLOADCTL_VMLAB_KEEP")
        if exc[0] is not None or keep:
            self.save_console()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def save_console(self):
        """Copy the console log to build/vmlab/NAME-console.log (kept for a failed run)."""
        dst = os.path.join(ROOT, "build", "vmlab")
        os.makedirs(dst, exist_ok=True)
        with contextlib.suppress(OSError):
            shutil.copy(self.console, os.path.join(dst, f"{self.name}-console.log"))
            log(f"console log kept in {dst}/{self.name}-console.log")

    def qemu_argv(self):
        a = ["qemu-system-x86_64", "-name", f"offloadctl-vmlab-{self.name}", "-machine", "pc",
             "-nodefaults", "-no-user-config", "-display", "none", "-vga", "none",
             "-m", str(self.memory), "-smp", str(self.smp)]
        if self.accel == "kvm":
            a += ["-accel", "kvm", "-cpu", "host"]
        else:
            a += ["-accel", "tcg,thread=multi", "-cpu", "max"]
        a += ["-kernel", self.image.kernel, "-initrd", self.image.initrd, "-append", self.cmdline,
              "-drive", f"file={self.overlay},if=virtio,format=qcow2,cache=unsafe,discard=unmap",
              "-virtfs", f"local,path={self.share},mount_tag=lab,security_model=none,id=lab",
              "-serial", f"file:{self.console}",
              "-qmp", f"unix:{self.qmp_path},server=on,wait=off",
              "-no-reboot"]
        for i, n in enumerate(self.nics):
            nprops = "".join(f",{k}={v}" for k, v in n.get("netdev_props", {}).items())
            if n.get("backend") == "tap":
                a += ["-netdev", f"tap,id={n['netdev']},ifname=vlab{i},script=no,downscript=no,vnet_hdr=on"
                      + nprops]
            else:
                a += ["-netdev", f"hubport,id={n['netdev']},hubid={i}" + nprops]
            props = "".join(f",{k}={v}" for k, v in n["props"].items())
            a += ["-device", f"{n['model']},id={n['id']},netdev={n['netdev']},mac={n['mac']},romfile={props}"]
        return a + self.extra_args

    def boot(self):
        """Start QEMU (taking the QEMU lock) and wait for the guest agent."""
        if self.proc and self.proc.poll() is None:
            raise LabError("already running")
        for d in ("req", "run", "out"):
            shutil.rmtree(os.path.join(self.share, d), ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.qmp_path)
        if self._lockfd is None:
            if _held_lock is not None:
                self._lockfd, self._own_lock = _held_lock, False
            else:
                self._lockfd, self._own_lock = _take_qemu_lock(self.lock_timeout, self.name), True
        with open(self.console, "a") as c:
            c.write(f"\n===== vmlab boot {len(self.boots) + 1} ({self.accel}) =====\n")
        t0 = time.monotonic()
        argv = self.qemu_argv()
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns] + argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=open(os.path.join(self.dir, "qemu.out"), "a"),
                                     stderr=subprocess.STDOUT, pass_fds=(self._lockfd,),
                                     preexec_fn=_die_with_parent)
        self._qmp = None
        self.wait_ready(self.boot_timeout)
        self.boots.append(round(time.monotonic() - t0, 1))
        log(f"{self.name}: agent ready {self.boots[-1]} s after QEMU start ({self.accel})")
        return self.boots[-1]

    def wait_ready(self, timeout):
        out = os.path.join(self.share, "out")
        t0 = time.monotonic()
        while True:
            if glob.glob(os.path.join(out, "ready-*")):
                return
            if self.proc.poll() is not None:
                raise LabError(f"QEMU exited {self.proc.returncode} before the guest agent came up\n"
                               + self._qemu_out() + self.console_tail())
            if time.monotonic() - t0 > timeout:
                raise LabError(f"no guest agent after {timeout} s\n" + self.console_tail())
            time.sleep(0.2)

    def _qemu_out(self):
        with contextlib.suppress(OSError), open(os.path.join(self.dir, "qemu.out")) as f:
            return "qemu: " + f.read()[-2000:] + "\n"
        return ""

    def console_tail(self, n=4000):
        with contextlib.suppress(OSError), open(self.console, errors="replace") as f:
            return "console tail:\n" + f.read()[-n:]
        return "(no console log)"

    def poweroff(self, timeout=120):
        """Shut the guest down cleanly (systemctl poweroff) and wait for QEMU to exit."""
        self.submit("systemctl poweroff")
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise LabError(f"guest did not power off in {timeout} s\n" + self.console_tail())
        self._close_qmp()

    def kill(self):
        """Kill QEMU (idempotent), release the QEMU lock, delete the namespace."""
        self._close_qmp()
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(30)
        if self.netns and (self.proc is None or self.proc.poll() is not None):
            subprocess.run(["ip", "netns", "del", self.netns], capture_output=True)
            self.netns = None
        if self._lockfd is not None and self._own_lock:
            os.close(self._lockfd)
        self._lockfd = None

    # -- the command channel
    def submit(self, script, suffix=".sh"):
        """Start SCRIPT in the guest; returns its id for wait()."""
        self._seq += 1
        ident = f"{self._seq:05d}{suffix}"
        req = os.path.join(self.share, "req")
        tmp = os.path.join(self.share, f".{ident}")
        with open(tmp, "w") as f:
            f.write(script)
        os.rename(tmp, os.path.join(req, ident))
        return ident

    def wait(self, ident, timeout=300):
        out = os.path.join(self.share, "out", ident)
        t0 = time.monotonic()
        while not os.path.exists(out + ".rc"):
            if self.proc.poll() is not None:
                raise LabError(f"QEMU exited {self.proc.returncode} while {ident} ran\n" + self.console_tail())
            if time.monotonic() - t0 > timeout:
                raise LabError(f"{ident} did not finish in {timeout} s\n" + self.console_tail(1500))
            time.sleep(0.05)
        secs = time.monotonic() - t0

        def rd(s):
            with open(out + s, errors="replace") as f:
                return f.read()
        return Result(int(rd(".rc").strip() or 255), rd(".out"), rd(".err"), secs)

    def run(self, script, timeout=300, check=False):
        """Run a shell script in the guest, return a Result."""
        r = self.wait(self.submit(script), timeout)
        if check and r.rc != 0:
            raise LabError(f"guest script exited {r.rc}:\n{script[:1500]}\nstdout: {r.out[-3000:]}\n"
                           f"stderr: {r.err[-3000:]}")
        return r

    def run_py(self, script, timeout=300, check=True):
        """Run a Python 3 script in the guest (guestlib imported); with check, its exit must be 0."""
        r = self.wait(self.submit(PY_PRELUDE + script, ".py"), timeout)
        if check and r.rc != 0:
            raise LabError(f"guest python exited {r.rc}:\nstdout: {r.out[-3000:]}\nstderr: {r.err[-5000:]}")
        return r

    def put(self, path, name=None):
        """Copy a host file into the share; the guest sees it as /lab/NAME."""
        name = name or os.path.basename(path)
        shutil.copy(path, os.path.join(self.share, name))
        return "/lab/" + name

    # -- QMP
    def _close_qmp(self):
        if self._qmp:
            with contextlib.suppress(OSError):
                self._qmp.close()
        self._qmp = None

    def qmp(self, command, **arguments):
        """One QMP command; returns its "return" value, raises LabError on "error"."""
        if self._qmp is None:
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(30)
            s.connect(self.qmp_path)
            self._qmp = s.makefile("rw")
            self._qmp_sock = s
            json.loads(self._qmp.readline())  # greeting
            self._qmp_cmd("qmp_capabilities", {})
        return self._qmp_cmd(command, arguments)

    def _qmp_cmd(self, command, arguments):
        self._qmp.write(json.dumps({"execute": command, "arguments": arguments}) + "\n")
        self._qmp.flush()
        while True:
            line = self._qmp.readline()
            if not line:
                raise LabError(f"QMP closed during {command}")
            msg = json.loads(line)
            if "return" in msg:
                return msg["return"]
            if "error" in msg:
                raise LabError(f"QMP {command} {arguments}: {msg['error']}")
            # an event: ignore


_held_lock = None


@contextlib.contextmanager
def qemu_lock(timeout=3600, who="lab"):
    """Hold the QEMU lock across several guests (a probe, then the lab's
    guest), so that no other lab's QEMU slips in between.  Guests booted
    inside use it instead of taking their own."""
    global _held_lock
    if _held_lock is not None:
        yield _held_lock
        return
    fd = _take_qemu_lock(timeout, who)
    _held_lock = fd
    try:
        yield fd
    finally:
        _held_lock = None
        os.close(fd)


def _take_qemu_lock(timeout, who):
    path = QEMU_LOCK
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # inherited by QEMU: no O_CLOEXEC
    t0 = time.monotonic()
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if not told:
                log(f"{who}: waiting for {path} (another lab's QEMU runs)")
                told = True
            if time.monotonic() - t0 > timeout:
                os.close(fd)
                raise LabError(f"{path} still held after {timeout} s")
            time.sleep(1)
    if told:
        log(f"{who}: got the QEMU lock after {time.monotonic() - t0:.0f} s")
    return fd


# ---------------------------------------------------------------- accelerator

def kvm_usable_quick():
    return os.access("/dev/kvm", os.R_OK | os.W_OK)


def choose_accel(image, probe_timeout=60):
    """"kvm" when a probe boot of this image under KVM reaches the guest agent
    and runs a command within probe_timeout seconds, else "tcg".  The answer
    is remembered per host kernel, QEMU version and image in
    CACHE/accel-*.json.  OFFLOADCTL_VMLAB_ACCEL=tcg|kvm skips the probe."""
    if not kvm_usable_quick():
        return "tcg"
    qv = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    key = hashlib.sha256(f"{os.uname().release} {qv} {image.key}".encode()).hexdigest()[:16]
    memo = os.path.join(CACHE, f"accel-{key}.json")
    with contextlib.suppress(OSError, ValueError), open(memo) as f:
        return json.load(f)["accel"]
    t0 = time.monotonic()
    accel, why = "tcg", ""
    try:
        with Guest(image, name="kvm-probe", accel="kvm", boot_timeout=probe_timeout, memory=512, smp=1) as g:
            r = g.run("uname -r; cat /proc/cpuinfo | grep -c processor", timeout=30)
            if r.rc == 0:
                accel = "kvm"
            why = r.out.strip()
    except LabError as e:
        why = str(e).split("\n")[0]
    log(f"KVM probe: {accel} after {time.monotonic() - t0:.0f} s ({why})")
    with open(memo, "w") as f:
        json.dump({"accel": accel, "why": why, "probe_s": round(time.monotonic() - t0, 1),
                   "host_kernel": os.uname().release, "qemu": qv}, f)
    return accel


def accel_note(image):
    """What the probe found, for the test output."""
    for p in glob.glob(os.path.join(CACHE, "accel-*.json")):
        with contextlib.suppress(OSError, ValueError), open(p) as f:
            return json.load(f)
    return None


# ---------------------------------------------------------------- the agent's package

def build_deb(timeout=900):
    """`make deb` of the checkout, in a build folder of this process's own
    (build/vmlab/pkg-PID: the other suites' `make deb` rebuild build/deb and
    would pull it from under a lab); returns the path of the offloadctl_*.deb.
    Folders of processes that are gone are removed first."""
    base = os.path.join(ROOT, "build", "vmlab")
    os.makedirs(base, exist_ok=True)
    for d in glob.glob(os.path.join(base, "pkg-*")):
        pid = d.rsplit("-", 1)[-1]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            shutil.rmtree(d, ignore_errors=True)
    build = os.path.join("build", "vmlab", f"pkg-{os.getpid()}")
    last = ""
    for attempt in range(3):
        p = subprocess.run(["make", "-s", "--no-print-directory", "-C", ROOT, "deb", f"DEB_DIR={build}"],
                           capture_output=True, text=True, timeout=timeout)
        debs = glob.glob(os.path.join(ROOT, build, "offloadctl_*.deb"))
        if p.returncode == 0 and len(debs) == 1:
            return debs[0]
        last = f"{p.stdout[-3000:]}\n{p.stderr[-3000:]}\n{debs}"
        log(f"make deb failed (attempt {attempt + 1}), retrying")
        time.sleep(5)
    raise LabError(f"make deb failed:\n{last}")


def install_deb(guest, deb, timeout=300):
    """Install the package in the guest as a user would: dpkg -i."""
    path = guest.put(deb)
    return guest.run(f"set -e\nDEBIAN_FRONTEND=noninteractive dpkg -i {path}\n/usr/sbin/offloadctl --version\n",
                     timeout=timeout, check=True)



# ---------------------------------------------------------------- netdevsim

# The kernel's own test device: every ethtool settings group but EEE, with
# maxima set through debugfs (the kernel's ethtool selftests drive it so).
# Debian does not build it; the lab builds it for the image's kernel from
# Debian's source of that very version, with EEE added by
# netdevsim-eee.patch, because no NIC QEMU 7.2 emulates has EEE.
NETDEVSIM_PATCH = os.path.join(HERE, "netdevsim-eee.patch")
NETDEVSIM_VERSION = 1


def _apt_download(pkgs, cwd, timeout):
    """apt-get download PKGS into cwd; apt-get update once when the lists are
    stale (a fresh machine) and the first try fails."""
    cmd = ["apt-get", "download"] + pkgs
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        subprocess.run(["apt-get", "update"], capture_output=True, text=True, timeout=timeout)
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise LabError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()[-800:]}")


def ensure_netdevsim(image, timeout=1800):
    """netdevsim.ko for image's kernel, cached under CACHE/netdevsim/KEY/.
    Built when missing (about a minute): linux-source, linux-headers and
    linux-kbuild of the guest kernel's exact Debian version, fetched with
    apt-get download and unpacked with dpkg -x in a folder of their own
    (nothing is installed on this machine); only drivers/net/netdevsim is
    taken from the source, patched, and built as an external module."""
    kver = image.manifest["kernel"]
    pkgver = next((line.split()[1] for line in image.manifest["installed"]
                   if line.split()[0] == f"linux-image-{kver}"), None)
    if not pkgver:
        raise LabError(f"the image's manifest has no linux-image-{kver}")
    with open(NETDEVSIM_PATCH) as f:
        patch = f.read()
    key = _hash({"kver": kver, "pkgver": pkgver, "patch": patch, "builder": NETDEVSIM_VERSION})
    base = os.path.join(CACHE, "netdevsim")
    final = os.path.join(base, key)
    ko = os.path.join(final, "netdevsim.ko")
    if os.path.exists(ko):
        return ko
    with _flock(os.path.join(CACHE, "build.lock"), "another image or module build", timeout):
        if os.path.exists(ko):
            return ko
        t0 = time.monotonic()
        os.makedirs(base, exist_ok=True)
        for stale in glob.glob(os.path.join(base, ".tmp-*")):
            shutil.rmtree(stale, ignore_errors=True)
        tmp = tempfile.mkdtemp(prefix=f".tmp-{key}-", dir=base)
        os.chmod(tmp, 0o755)  # apt-get download writes as _apt where it can
        series = ".".join(pkgver.split(".")[:2])  # 6.1.176-1 -> 6.1
        common = kver.rsplit("-", 1)[0] + "-common"  # 6.1.0-50-amd64 -> 6.1.0-50-common
        pkgs = [f"linux-source-{series}", f"linux-headers-{kver}", f"linux-headers-{common}",
                f"linux-kbuild-{series}"]
        log(f"netdevsim for {kver}: fetching {', '.join(pkgs)} {pkgver}")
        _apt_download([f"{p}={pkgver}" for p in pkgs], tmp, timeout)
        root = os.path.join(tmp, "root")
        for p in pkgs[1:]:
            _run(["dpkg", "-x", glob.glob(os.path.join(tmp, f"{p}_*.deb"))[0], root], 300)
        headers = os.path.join(root, "usr", "src", f"linux-headers-{kver}")
        # Its Makefile includes the common headers by absolute path: point it at ours.
        mk = os.path.join(headers, "Makefile")
        with open(mk) as f:
            text = f.read()
        _write(mk, text.replace("include /usr/src/", f"include {root}/usr/src/"))
        src_deb = glob.glob(os.path.join(tmp, f"linux-source-{series}_*.deb"))[0]
        member = f"linux-source-{series}/drivers/net/netdevsim"
        _run(["sh", "-c", f"dpkg-deb --fsys-tarfile '{src_deb}' "
              f"| tar -xO ./usr/src/linux-source-{series}.tar.xz | tar -xJ -C '{tmp}' {member}"], timeout)
        src = os.path.join(tmp, member)
        _run(["patch", "-p4", "-d", src, "-i", NETDEVSIM_PATCH], 60)
        _run(["make", "-C", headers, f"M={src}", "CONFIG_NETDEVSIM=m", "modules"], timeout)
        os.makedirs(final + ".new", exist_ok=True)
        shutil.copy(os.path.join(src, "netdevsim.ko"), os.path.join(final + ".new", "netdevsim.ko"))
        _write(os.path.join(final + ".new", "manifest.json"), json.dumps(
            {"key": key, "kernel": kver, "version": pkgver, "patch": os.path.basename(NETDEVSIM_PATCH),
             "build_s": round(time.monotonic() - t0, 1),
             "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=1) + "\n")
        os.rename(final + ".new", final)
        shutil.rmtree(tmp, ignore_errors=True)
        log(f"netdevsim for {kver} built in {time.monotonic() - t0:.0f} s")
        return ko

if __name__ == "__main__":
    # python3 tests/vm/vmlab.py image   -> build (or find) the image, print its folder
    if sys.argv[1:] == ["image"]:
        print(ensure_image().dir)
    else:
        print("usage: vmlab.py image", file=sys.stderr)
        sys.exit(2)
