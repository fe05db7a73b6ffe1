"""xenlab: Debian's Xen 4.17 booted inside QEMU (TCG), a Linux dom0, a PV and a
PVH and an HVM domU, for tests/vm/test_vm_xen.py.  tests/vm/README-xen.md says more.

    results = run_lab()     # boots everything once, returns the results folder

The guest image is vmlab's (vmlab.ensure_image(): Debian 12 with
xen-hypervisor-4.17-amd64 and xen-utils-4.17 baked in).  QEMU boots Xen the
way Xen's own CI does (automation/scripts/qemu-smoke-*.sh): the uncompressed
hypervisor as -kernel, Xen's command line as -append, and
`-initrd "vmlinuz ARGS,initrd.img"` for dom0 (no commas in a module's command
line).  Under TCG `-cpu qemu64,+svm,+npt`: -cpu max crashes dom0, and
Debian's Xen has no shadow paging, so PVH needs NPT.

Channels: dom0 runs vmlab's 9p agent (virtio-9p works in a PV dom0), which
starts tests/vm/xenlab-guest.sh; dom0 writes each domU's part onto that
domU's own disk (/dev/vdb, /dev/vdc: qcow2 overlays of the same image) and
`xl create`s it; the domU runs it at boot as a oneshot unit, writes its
results on its disk and powers off; dom0 copies them back to the share.
Every wait has a timeout, on both sides; QEMU holds vmlab's QEMU lock for
its whole life and is killed when the run ends, whatever happened.
"""
import contextlib
import fcntl
import glob
import gzip
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import yaml

import vmlab

HERE = vmlab.HERE
ROOT = vmlab.ROOT
EXAMPLE = os.path.join(ROOT, "examples", "xen-domu.yaml")
# Where a run's results are kept (for a human, and for OFFLOADCTL_XENLAB_RESULTS).
RESULTS = os.path.join(ROOT, "build", "vmlab", "xen")

XEN_CMDLINE = ("console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=2 "
               "bootscrub=false loglvl=all guest_loglvl=all")
DOM0_CMDLINE = ("root=/dev/vda rw console=hvc0 earlyprintk=xen mitigations=off "
                "systemd.show_status=false loglevel=5 systemd.default_timeout_start_sec=900")
# The domUs a run boots, in this order; the HVM domU only when asked for
# (OFFLOADCTL_XENLAB_DOMUS="pv pvh hvm", as a fixture capture does): its
# firmware and device model take three times as long as PVH under TCG.
DOMUS = os.environ.get("OFFLOADCTL_XENLAB_DOMUS", "pv pvh").split()
LAB_TIMEOUT = 3600  # the dom0 script, everything included (800 s for PV and PVH at load 2-4)
DOMU_TIMEOUT = 1800  # one domU from xl create to its signal (PV 173 s, PVH 241 s at load 2-4)


def hypervisor(image):
    """The uncompressed hypervisor from the image's /boot, cached beside it."""
    gz = sorted(glob.glob(os.path.join(image.rootfs, "boot", "xen-4.17-amd64.gz")) +
                glob.glob(os.path.join(image.rootfs, "boot", "xen-*.gz")))
    if not gz:
        raise vmlab.LabError(f"no Xen hypervisor in {image.rootfs}/boot")
    dst = os.path.join(vmlab.CACHE, "xenlab", image.key, os.path.basename(gz[0])[:-3])
    if not os.path.exists(dst):
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        tmp = dst + ".tmp"
        with gzip.open(gz[0]) as src, open(tmp, "wb") as out:
            shutil.copyfileobj(src, out)
        os.rename(tmp, dst)
    return dst


def example_ethtool_args(path=EXAMPLE):
    """`ethtool -K` arguments that stand for the example's domU rule(s)."""
    with open(path) as f:
        doc = yaml.safe_load(f)
    args = []
    for rule in doc.get("interfaces", []):
        m = rule.get("match", {})
        if m.get("virtualization") == "xen-dom0" or m.get("module") == "xen_netback":
            continue
        for k, v in (rule.get("features") or {}).items():
            on = v if isinstance(v, bool) else str(v).lower() in ("on", "true", "yes")
            args += [k, "on" if on else "off"]
    return args


def build_cpuid(dst):
    src = os.path.join(HERE, "xen-cpuid.c")
    subprocess.run(["gcc", "-O2", "-static", "-o", dst, src], check=True, capture_output=True)
    return dst


def take_qemu_lock(timeout=3600):
    """vmlab's QEMU lock, waited for in a blocking flock (woken as soon as it
    is free) rather than polled: polling once a second loses every race to a
    lab that boots guest after guest.  SIGALRM bounds the wait."""
    path = os.path.join(vmlab.CACHE, "qemu.lock")
    os.makedirs(vmlab.CACHE, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # inherited by QEMU
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        pass
    vmlab.log(f"xen: waiting for {path} (another lab's QEMU runs)")
    t0 = time.monotonic()

    def expired(*_):
        raise vmlab.LabError(f"{path} still held after {timeout} s")
    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(timeout)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    vmlab.log(f"xen: got the QEMU lock after {time.monotonic() - t0:.0f} s")
    return fd


class XenHost(vmlab.Guest):
    """Xen plus dom0 in QEMU, with the domUs' disks as extra virtio drives."""

    def __init__(self, image, xen, domu_disks, **kw):
        self.xen = xen
        self.domu_disks = list(domu_disks)
        super().__init__(image, accel="tcg", **kw)

    def boot(self):
        if self._lockfd is None:
            self._lockfd = take_qemu_lock(self.lock_timeout)
        return super().boot()

    def qemu_argv(self):
        a = ["qemu-system-x86_64", "-name", f"offloadctl-xenlab-{self.name}", "-machine", "pc",
             "-nodefaults", "-no-user-config", "-display", "none", "-vga", "none",
             "-m", str(self.memory), "-smp", str(self.smp),
             "-accel", "tcg,thread=multi", "-cpu", "qemu64,+svm,+npt",
             "-kernel", self.xen, "-append", XEN_CMDLINE,
             "-initrd", f"{self.image.kernel} {DOM0_CMDLINE},{self.image.initrd}",
             "-drive", f"file={self.overlay},if=virtio,format=qcow2,cache=unsafe"]
        for d in self.domu_disks:
            a += ["-drive", f"file={d},if=virtio,format=qcow2,cache=unsafe"]
        a += ["-virtfs", f"local,path={self.share},mount_tag=lab,security_model=none,id=lab",
              "-serial", f"file:{self.console}",
              "-qmp", f"unix:{self.qmp_path},server=on,wait=off",
              "-no-reboot"]
        return a


def _phases(path):
    """OUT/phases.txt (NAME EPOCH lines) -> [(name, seconds until the next)]."""
    with contextlib.suppress(OSError), open(path) as f:
        rows = [(l.split()[0], float(l.split()[1])) for l in f if len(l.split()) == 2]
        return [(n, round(rows[i + 1][1] - t, 1)) for i, (n, t) in enumerate(rows[:-1])]
    return []


def _keep(host, share, results):
    """The serial console and everything the guests wrote on the share, into RESULTS."""
    if host is None:
        return
    with contextlib.suppress(OSError):
        shutil.copy(host.console, os.path.join(results, "console.log"))
    with contextlib.suppress(OSError, shutil.Error):
        if os.path.isdir(os.path.join(share, "xout")):
            shutil.copytree(os.path.join(share, "xout"), results, dirs_exist_ok=True)


def run_lab(results=RESULTS):
    """Boot Xen, dom0, the PV, PVH and HVM domUs; leave every result in RESULTS.
    Returns (results folder, timings dict)."""
    times = {}
    t0 = time.monotonic()
    image = vmlab.ensure_image()
    times["image_s"] = round(time.monotonic() - t0, 1)
    xen = hypervisor(image)
    t1 = time.monotonic()
    deb = vmlab.build_deb()
    times["deb_s"] = round(time.monotonic() - t1, 1)
    shutil.rmtree(results, ignore_errors=True)
    os.makedirs(results)
    work = tempfile.mkdtemp(prefix="offloadctl-xenlab-", dir="/var/tmp")
    host = share = None
    try:
        disks = []
        for n in ("pv", "pvh", "hvm"):  # /dev/vdb, vdc, vdd in dom0
            d = os.path.join(work, f"{n}.qcow2")
            vmlab._run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", image.disk, d], 60)
            disks.append(d)
        host = XenHost(image, xen, disks, name="xen", memory=2048, smp=2, boot_timeout=600,
                       workdir=os.path.join(work, "dom0"))
        share = host.share
        shutil.copy(deb, share)
        shutil.copy(image.initrd, os.path.join(share, "initrd.img"))  # the domUs' small initramfs
        build_cpuid(os.path.join(share, "xen-cpuid"))
        for f in ("xenlab-guest.sh", "xenlab-vif", "xenlab-block"):
            shutil.copy(os.path.join(HERE, f), share)
        shutil.copy(EXAMPLE, os.path.join(share, "example.yaml"))
        with open(os.path.join(share, "lab.env"), "w") as f:
            f.write(f"EXAMPLE_ETHTOOL_ARGS='{' '.join(example_ethtool_args())}'\n"
                    f"RUN_EXAMPLE=0\nDOMU_TIMEOUT={DOMU_TIMEOUT}\n"
                    f"DOMUS='{' '.join(DOMUS)}'\n")
        try:
            t2 = time.monotonic()
            host.boot()
            times["dom0_boot_s"] = round(time.monotonic() - t2, 1)
            t3 = time.monotonic()
            r = host.run("exec bash /lab/xenlab-guest.sh dom0 /lab /lab/xout\n", timeout=LAB_TIMEOUT)
            times["dom0_script_s"] = round(time.monotonic() - t3, 1)
            with open(os.path.join(results, "dom0-script.txt"), "w") as f:
                f.write(f"rc={r.rc}\n--- stdout\n{r.out}\n--- stderr\n{r.err}\n")
        finally:
            host.kill()
            _keep(host, share, results)
    finally:
        # Again, in case an interrupt (a second ^C) cut the copy above short:
        # the run folder goes, what the guests wrote must not.
        _keep(host, share, results)
        shutil.rmtree(work, ignore_errors=True)
    times["total_s"] = round(time.monotonic() - t0, 1)
    for name, part in (("dom0", "phases.txt"), ("pv", "pv/domu/phases.txt"), ("pvh", "pvh/domu/phases.txt"),
                       ("hvm", "hvm/domu/phases.txt")):
        for phase, s in _phases(os.path.join(results, part)):
            times[f"{name}:{phase}_s"] = s
    with open(os.path.join(results, "times.txt"), "w") as f:
        f.writelines(f"{k} {v}\n" for k, v in times.items())
    return results, times


# (fixture name, the guest's folder in the results, where its facts document is)
FIXTURES = [
    ("dom0", "", "pv/dom0-side/facts-all.out"),
    ("pv-domu", "pv/domu", "pv/domu/facts-all.out"),
    ("pvh-domu", "pvh/domu", "pvh/domu/facts-all.out"),
    ("hvm-domu", "hvm/domu", "hvm/domu/facts-all.out"),
]


def save_fixtures(results=RESULTS):
    """Copy what the real guests showed into the fixtures (see tests/vm/README-xen.md):
    tests/fixtures/virt/xen-real-NAME/{root/,expected.json,systemd-detect-virt,cpuid-*.txt}
    and tests/fixtures/facts/xen-real-NAME.json.  Returns the paths written."""
    written = []
    for name, d, facts in FIXTURES:
        if not os.path.exists(os.path.join(results, facts)):
            vmlab.log(f"xen: no {facts} in this run: fixture xen-real-{name} left as it was")
            continue
        src = os.path.join(results, d)
        with open(os.path.join(src, "virt.out")) as f:
            virt = json.load(f)
        with open(os.path.join(results, facts)) as f:
            doc = json.load(f)
        fx = os.path.join(ROOT, "tests", "fixtures", "virt", f"xen-real-{name}")
        shutil.rmtree(fx, ignore_errors=True)
        shutil.copytree(os.path.join(src, "root"), os.path.join(fx, "root"))
        with open(os.path.join(fx, "expected.json"), "w") as f:
            f.write(json.dumps(virt, indent=2) + "\n")
        with open(os.path.join(fx, "systemd-detect-virt"), "w") as f:
            for part, arg in (("sdv", ""), ("sdv-vm", " --vm"), ("sdv-container", " --container")):
                with open(os.path.join(src, part + ".out")) as g:
                    f.write(f"systemd-detect-virt{arg}: {g.read().strip()}\n")
        for part in ("cpuid", "cpuid-fep"):
            shutil.copy(os.path.join(src, part + ".out"), os.path.join(fx, part + ".txt"))
        out = os.path.join(ROOT, "tests", "fixtures", "facts", f"xen-real-{name}.json")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "w") as f:
            f.write(json.dumps(doc, indent=1) + "\n")
        written += [fx, out]
    return written
