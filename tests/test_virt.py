"""`offloadctl virt`: fixture trees for every kind of machine, and the live host.

Each tests/fixtures/virt/NAME/ holds root/ (a machine's files, the --root
format of CONTRACT.md "Fixtures") and expected.json (the virtualization object
it must produce).  tests/fixtures/virt/README.md says where each tree comes from.
"""
import json
import os
import shutil
import subprocess

import pytest

from ocutil import HERE, agent, agent_path

FIXTURES = os.path.join(HERE, "fixtures", "virt")
NAMES = sorted(n for n in os.listdir(FIXTURES) if os.path.isdir(os.path.join(FIXTURES, n)))
KEYS = ["vm", "container", "role", "xen", "hypervisor_vendor", "evidence"]

# The list: each must have a fixture.
REQUIRED = [
    "bare-metal", "xen-dom0", "xen-pv-domu", "xen-hvm-domu", "xen-pvh-domu", "kvm", "qemu-tcg",
    "vmware", "hyperv", "virtualbox", "aws-nitro", "aws-xen", "aws-metal", "gce", "azure",
    "docker", "podman", "lxc", "systemd-nspawn", "openvz", "wsl", "docker-on-kvm",
]


def load_expected(name):
    with open(os.path.join(FIXTURES, name, "expected.json")) as f:
        return json.load(f)


def virt(*args, root=None, env=None):
    pre = ["--root", root] if root else []
    return agent(*pre, "virt", *args, env=env)


def test_every_required_fixture_exists():
    missing = [n for n in REQUIRED if n not in NAMES]
    assert not missing, missing
    for n in NAMES:
        assert os.path.isdir(os.path.join(FIXTURES, n, "root")), n
        assert os.path.isfile(os.path.join(FIXTURES, n, "expected.json")), n


@pytest.mark.parametrize("name", NAMES)
def test_fixture(name):
    p = virt(root=os.path.join(FIXTURES, name, "root"))
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    got = json.loads(p.stdout)
    assert got == load_expected(name)
    # Keys in the contract's order; "xen" only under Xen.
    assert list(got) == [k for k in KEYS if k in got]


@pytest.mark.parametrize("name", NAMES)
def test_fixture_brief(name):
    exp = load_expected(name)
    want = exp["container"] if exp["container"] != "none" else exp["vm"]
    p = virt("--brief", root=os.path.join(FIXTURES, name, "root"))
    assert p.returncode == 0, p.stderr
    assert p.stdout == want + "\n"


def test_root_prefix_is_honoured(tmp_path):
    """The same files at different roots: only the root decides, nothing is cached."""
    a = tmp_path / "a"
    shutil.copytree(os.path.join(FIXTURES, "kvm", "root"), a)
    assert json.loads(virt(root=str(a)).stdout)["vm"] == "kvm"
    (a / "cpuid").unlink()  # no hypervisor bit: only DMI's "QEMU" is left
    assert json.loads(virt(root=str(a)).stdout)["vm"] == "qemu"
    (a / "sys/class/dmi/id/sys_vendor").write_text("Dell Inc.\n")
    (a / "sys/class/dmi/id/product_name").write_text("PowerEdge R640\n")
    assert json.loads(virt(root=str(a)).stdout)["vm"] == "none"


def test_cpuid_file_padding(tmp_path):
    """The cpuid file's signature may be padded with spaces or NULs."""
    for content in (b"KVMKVMKVM   \n", b"KVMKVMKVM\0\0\0", b"KVMKVMKVM"):
        (tmp_path / "cpuid").write_bytes(content)
        got = json.loads(virt(root=str(tmp_path)).stdout)
        assert (got["vm"], got["hypervisor_vendor"]) == ("kvm", "KVMKVMKVM"), content
    (tmp_path / "cpuid").write_bytes(b"NotAKnownHV!\n")
    got = json.loads(virt(root=str(tmp_path)).stdout)
    assert (got["vm"], got["hypervisor_vendor"]) == ("vm-other", "NotAKnownHV!")


def test_dom0_features_bit_wins_over_capabilities(tmp_path):
    """XENFEAT_dom0 in /sys/hypervisor/properties/features decides before xenfs is mounted."""
    root = tmp_path
    (root / "proc/xen").mkdir(parents=True)
    (root / "sys/hypervisor/properties").mkdir(parents=True)
    (root / "sys/hypervisor/properties/features").write_text("00000800\n")
    got = json.loads(virt(root=str(root)).stdout)
    assert got["vm"] == "none" and got["role"] == "host"
    assert got["xen"] == {"domain": "dom0", "guest_type": None}
    (root / "sys/hypervisor/properties/features").write_text("000007ff\n")
    got = json.loads(virt(root=str(root)).stdout)
    assert got["vm"] == "xen" and got["xen"]["domain"] == "domU"


def test_unreadable_sources_are_no_evidence(tmp_path):
    """An unreadable file (here a directory where a file should be) is not an error."""
    (tmp_path / "proc/1/environ").mkdir(parents=True)
    (tmp_path / "sys/class/dmi/id/sys_vendor").mkdir(parents=True)
    (tmp_path / ".dockerenv").write_text("")
    p = virt(root=str(tmp_path))
    assert p.returncode == 0 and p.stderr == ""
    got = json.loads(p.stdout)
    assert (got["vm"], got["container"]) == ("none", "docker")


# ---- the live host ----

def systemd_detect_virt(*args):
    exe = shutil.which("systemd-detect-virt")
    if not exe:
        pytest.skip("systemd-detect-virt is not installed")
    p = subprocess.run([exe, *args], capture_output=True, text=True)
    # It prints "none" and exits 1 when nothing is found.
    word = p.stdout.strip()
    assert word and (p.returncode == 0) == (word != "none"), (p.returncode, p.stdout, p.stderr)
    return word


def live():
    p = virt()
    assert p.returncode == 0, p.stderr
    return p, json.loads(p.stdout)


def test_live_agrees_with_systemd_detect_virt():
    p, got = live()
    assert got["vm"] == systemd_detect_virt("--vm")
    assert got["container"] == systemd_detect_virt("--container")
    b = virt("--brief")
    assert b.returncode == 0 and b.stdout.strip() == systemd_detect_virt()
    if got["vm"] != "none":
        assert got["role"] == "guest"


def test_live_root_slash_is_the_host():
    _, got = live()
    p = virt(root="/")
    assert p.returncode == 0
    assert json.loads(p.stdout) == got


def test_live_unreadable_pid1_environ_is_silent():
    try:
        with open("/proc/1/environ", "rb"):
            readable = True
    except PermissionError:
        readable = False
    p, got = live()
    assert p.stderr == ""
    if not readable:
        # Nothing from PID 1's environment can be in the evidence.
        assert not [e for e in got["evidence"] if e.startswith("proc/1/environ")]
    q = virt("--brief")
    assert q.stderr == ""


def unprivileged(cmd):
    if os.geteuid() != 0:
        return subprocess.run(cmd, capture_output=True, text=True)
    setpriv = shutil.which("setpriv")
    if setpriv:
        pre = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    else:
        pre = [shutil.which("runuser") or "runuser", "-u", "nobody", "--"]
    return subprocess.run(pre + cmd, capture_output=True, text=True)


def test_live_unprivileged_user_agrees_with_root():
    _, got = live()
    binary = agent_path()
    # The agent must be reachable by uid 65534 (it lives under the repository).
    p = unprivileged([binary, "virt"])
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    them = json.loads(p.stdout)
    assert (them["vm"], them["container"]) == (got["vm"], got["container"])
    assert them["hypervisor_vendor"] == got["hypervisor_vendor"]
    assert them["role"] == got["role"]


def test_outputs_match_the_facts_schema():
    jsonschema = pytest.importorskip("jsonschema")
    with open(os.path.join(os.path.dirname(HERE), "facts", "facts.schema.json")) as f:
        schema = json.load(f)
    sub = dict(schema["$defs"]["virtualization"], **{"$defs": schema["$defs"]})
    outputs = [json.loads(virt(root=os.path.join(FIXTURES, n, "root")).stdout) for n in NAMES]
    outputs.append(live()[1])
    for o in outputs:
        jsonschema.validate(o, sub)


# ---- a real guest: tests/fixtures/virt/qemu-tcg-guest (tests/vm/capture-fixtures)

def test_qemu_tcg_guest_tree_agrees_with_systemd_detect_virt_in_the_guest():
    """The tree was copied from the Linux VM lab's Debian 12 guest under QEMU
    TCG (tests/vm/capture-fixtures); what systemd-detect-virt said in that
    guest is kept beside it.  The facts document saved from the same guest
    says the same and carries the lab's emulated NIC drivers."""
    d = os.path.join(FIXTURES, "qemu-tcg-guest")
    with open(os.path.join(d, "systemd-detect-virt")) as f:
        vm, container = f.read().split()
    p = virt(root=os.path.join(d, "root"))
    assert p.returncode == 0 and p.stderr == "", p.stderr
    got = json.loads(p.stdout)
    assert (got["vm"], got["container"], got["role"]) == (vm, container, "guest")
    assert virt("--brief", root=os.path.join(d, "root")).stdout.strip() == (container if container != "none" else vm)
    with open(os.path.join(HERE, "fixtures", "facts", "qemu-tcg-guest.json")) as f:
        facts = json.load(f)
    assert facts["virtualization"]["vm"] == vm and facts["virtualization"]["container"] == container
    drivers = {i["driver"] for i in facts["interfaces"].values()}
    assert {"virtio_net", "e1000", "e1000e", "vmxnet3", "ne2k-pci", "pcnet32", "e100", "tulip"} <= drivers, drivers
