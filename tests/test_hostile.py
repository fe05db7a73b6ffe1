"""Hostile input (issue 13): nothing hangs, nothing lies.

FIFOs where files are expected, permissions, names that are not UTF-8 or
carry control characters, exact names for the udev unit, honest output,
and the small findings of point 11.  Every test fails on the main before
the fix.
"""
import codecs
import json
import os
import stat
import subprocess
import time

import pytest

from ocutil import ROOT, agent, agent_path, run

RULE = "version: 1\ninterfaces:\n  - match: {name: 'h*'}\n    features: {tx: off}\n"


def timed(*args, timeout=5, **kw):
    """The agent must answer well within timeout (a FIFO would block it)."""
    t0 = time.monotonic()
    p = agent(*args, timeout=timeout, **kw)
    return p, time.monotonic() - t0


# ---------------------------------------------------------------- FIFOs

@pytest.fixture
def fifo_dir(tmp_path):
    d = tmp_path / "etc"
    (d / "conf.d").mkdir(parents=True)
    os.chmod(d, 0o755)
    os.chmod(d / "conf.d", 0o755)
    return d


def test_fifo_in_conf_d_is_refused_not_waited_on(fifo_dir):
    (fifo_dir / "offloadctl.yaml").write_text(RULE)
    os.mkfifo(fifo_dir / "conf.d" / "50-x.yaml")
    for cmd in ("validate", "check"):
        p, _ = timed("--config-dir", str(fifo_dir), cmd)
        assert p.returncode == 2, (cmd, p.stderr)
        assert f"refusing '{fifo_dir}/conf.d/50-x.yaml': it is a FIFO, not a regular file" in p.stderr


def test_fifo_as_file_facts_netns_and_root(tmp_path):
    f = tmp_path / "f.yaml"
    os.mkfifo(f)
    p, _ = timed("validate", str(f))
    assert p.returncode == 2 and "it is a FIFO" in p.stderr
    p, _ = timed("check", "--facts", str(f), os.path.join(ROOT, "examples", "xen-domu.yaml"))
    assert p.returncode == 2 and "it is a FIFO" in p.stderr
    p, _ = timed("--netns", str(f), "facts")
    assert p.returncode == 3
    root = tmp_path / "root"
    (root / "proc").mkdir(parents=True)
    os.mkfifo(root / "proc" / "cpuinfo")
    (root / "sys" / "class" / "dmi" / "id").mkdir(parents=True)
    os.mkfifo(root / "sys" / "class" / "dmi" / "id" / "sys_vendor")
    p, _ = timed("--root", str(root), "virt", "--brief")
    assert p.returncode == 0 and p.stdout == "none\n"
    assert "ignoring 'proc/cpuinfo': not a regular file" in p.stderr


def test_root_never_follows_a_symlink_out_of_the_tree(tmp_path):
    """A fixture tree with a link to /etc/hostname (or /etc/shadow) must not
    print the host's file: links resolve inside the root."""
    root = tmp_path / "root"
    (root / "sys" / "class" / "dmi" / "id").mkdir(parents=True)
    secret = tmp_path / "outside"
    secret.write_text("Xen SECRET-OUTSIDE-THE-ROOT\n")
    os.symlink(str(secret), root / "sys" / "class" / "dmi" / "id" / "sys_vendor")
    os.symlink("../" * 10 + str(secret).lstrip("/"), root / "sys" / "class" / "dmi" / "id" / "product_name")
    p = agent("--root", str(root), "virt")
    assert p.returncode == 0
    assert "SECRET" not in p.stdout and json.loads(p.stdout)["vm"] == "none"
    # A link inside the tree still works.
    (root / "sys" / "hypervisor").mkdir(parents=True)
    (root / "real").write_text("xen\n")
    os.symlink("/real", root / "sys" / "hypervisor" / "type")
    assert "sys/hypervisor/type=xen" in agent("--root", str(root), "virt").stdout


def test_sticky_world_writable_conf_d_is_refused(fifo_dir, netns):
    (fifo_dir / "offloadctl.yaml").write_text(RULE)
    os.chmod(fifo_dir / "conf.d", 0o1777)
    netns.veth("h0", "h1")
    p = netns.as_host("--config-dir", str(fifo_dir), "apply")
    assert p.returncode == 2
    assert "is writable by everyone" in p.stderr
    assert netns.ethtool_json("h0")["tx-checksumming"]["active"] is True  # untouched


def test_watch_survives_a_fifo_planted_in_conf_d(fifo_dir, netns):
    """watch reloads on a new file in conf.d: a FIFO there must not block it.
    It keeps reverting drift and exits 0 on SIGTERM within a second."""
    (fifo_dir / "offloadctl.yaml").write_text(RULE)
    netns.veth("h0", "h1")
    lock = fifo_dir / ".." / "lock"
    env = dict(os.environ, OFFLOADCTL_LOCK_FILE=str(lock))
    log = open(fifo_dir / ".." / "watch.log", "w+")
    w = subprocess.Popen(["ip", "netns", "exec", netns.name, agent_path(), "-v", "--config-dir",
                          str(fifo_dir), "watch"], stderr=log, stdout=subprocess.DEVNULL, env=env)
    try:
        def tx():
            return netns.ethtool_json("h0")["tx-checksumming"]["active"]

        def wait(pred, t=3.0):
            end = time.monotonic() + t
            while time.monotonic() < end:
                if pred():
                    return True
                time.sleep(0.05)
            return pred()

        assert wait(lambda: tx() is False)
        os.mkfifo(fifo_dir / "conf.d" / "60-evil.yaml")
        time.sleep(0.5)
        netns.ethtool_K("h0", "tx", "on")
        assert wait(lambda: tx() is False), open(log.name).read()
        t0 = time.monotonic()
        w.terminate()
        assert w.wait(timeout=5) == 0
        assert time.monotonic() - t0 < 1.0
        text = open(log.name).read()
        assert "it is a FIFO" in text
    finally:
        if w.poll() is None:
            w.kill()
        log.close()


# ---------------------------------------------------------------- names

WEIRD = [b"e\xff", b"c\x1b[31mx"]


@pytest.fixture
def weird(netns):
    # ip takes the bytes through argv (os.fsdecode: surrogateescape)
    run(["ip", "-n", netns.name, "link", "add", os.fsdecode(WEIRD[0]), "type", "veth", "peer",
         "name", os.fsdecode(WEIRD[1])])
    netns.veth("h0", "h1")
    return netns


def test_facts_is_valid_json_for_any_name(weird):
    p = weird.agent("facts")
    assert p.returncode == 0
    doc = json.loads(p.stdout)  # valid JSON, every interface there
    names = set(doc["interfaces"])
    assert {"e\\xff", "c\x1b[31mx", "h0", "h1", "lo"} <= names
    # the documented escape gives the kernel's bytes back
    assert codecs.escape_decode(b"e\\xff")[0] == WEIRD[0]
    p = run(["bash", "-c", "printf '%b' 'e\\xff' | od -An -tx1"])
    assert p.stdout.split() == ["65", "ff"]


def test_show_and_messages_escape_control_characters(weird):
    p = weird.agent("show")
    assert p.returncode == 0
    assert "\x1b" not in p.stdout
    assert "c\\x1b[31mx" in p.stdout and "e\\xff" in p.stdout
    d = "version: 1\ninterfaces:\n  - match: {name: 'c*'}\n    features: {tx: off}\n"
    p = weird.agent("apply", "--json", "-", input=d)
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    assert list(rep["interfaces"]) == ["c\x1b[31mx"]
    t = weird.agent("check", "-", input=d.replace("off", "on"))
    assert "\x1b" not in t.stdout and "\x1b" not in t.stderr
    assert "--- c\\x1b[31mx" in t.stdout


def test_apply_with_a_non_utf8_name_reports_and_does_not_claim_oom(weird):
    d = "version: 1\ninterfaces:\n  - match: {name: 'e*'}\n    features: {tx: off}\n"
    p = weird.agent("apply", "--json", "-", input=d)
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    assert rep["changed"] is True and list(rep["interfaces"]) == ["e\\xff"]
    assert "out of memory" not in p.stderr


# ---------------------------------------------------------------- exact names (udev)

def test_ifname_is_exact_where_interface_is_a_glob(netns):
    netns.ip("link", "add", "e[1]", "type", "veth", "peer", "name", "e1")
    netns.veth("sx", "sy")
    d = "version: 1\ninterfaces:\n  - match: {name: '*'}\n    features: {tx: off}\n"
    p = netns.agent("apply", "--json", "--ifname", "e[1]", "-", input=d)
    assert p.returncode == 0, p.stderr
    assert list(json.loads(p.stdout)["interfaces"]) == ["e[1]"]
    assert netns.ethtool_json("e1")["tx-checksumming"]["active"] is True
    p = netns.agent("apply", "--json", "--ifname", "*", "-", input=d)
    assert json.loads(p.stdout)["interfaces"] == {}
    assert netns.ethtool_json("sx")["tx-checksumming"]["active"] is True


def test_udev_rule_passes_an_exact_name():
    rule = open(os.path.join(ROOT, "systemd", "80-offloadctl.rules")).read()
    assert "--ifname $name" in rule and "--interface" not in rule


# ---------------------------------------------------------------- honest output

def test_failed_plan_says_nothing_changed(netns):
    netns.veth("h0", "h1")
    d = ("version: 1\ninterfaces:\n  - match: {name: 'h*'}\n    features: {tx: off}\n"
         "  - match: {name: lo}\n    features: {tx-checksum-ip-generic: off}\n")
    p = netns.agent("apply", "-", input=d)
    assert p.returncode == 1
    assert "nothing changed: the desired state cannot be reached" in p.stdout
    assert "changed 2 features" not in p.stdout
    rep = json.loads(netns.agent("apply", "--json", "-", input=d).stdout)
    assert rep["changed"] is False and rep["interfaces"] == {} and rep["in_sync"] is False
    assert netns.ethtool_json("h0")["tx-checksumming"]["active"] is True


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "", "1e9", "-1", "3x"])
def test_lock_timeout_must_be_a_finite_number(value):
    p = agent("apply", "--lock-timeout", value, "-", input=RULE, timeout=5)
    assert p.returncode == 2
    assert "bad --lock-timeout" in p.stderr


@pytest.mark.parametrize("args", [["show"], ["validate", os.path.join(ROOT, "examples", "xen-domu.yaml")],
                                  ["virt"], ["facts"]])
def test_write_error_is_an_error(args):
    with open("/dev/full", "w") as full:
        p = subprocess.run([agent_path(), *args], stdout=full, stderr=subprocess.PIPE, text=True,
                           timeout=30)
    assert p.returncode == 3, p.stderr
    assert "cannot write the output" in p.stderr


def test_utf8_bom_is_accepted(tmp_path):
    f = tmp_path / "bom.yaml"
    f.write_bytes(b"\xef\xbb\xbf" + RULE.encode())
    p = agent("validate", str(f))
    assert p.returncode == 0, p.stderr


def test_check_facts_in_facter_format(netns, tmp_path):
    """Reading a facter-format document leaked it (the sanitized run's
    LeakSanitizer fails this test if it still does)."""
    netns.veth("h0", "h1")
    doc = netns.agent("facts", "--format", "facter", "--full", check=True).stdout
    f = tmp_path / "facter.json"
    f.write_text(doc)
    p = agent("check", "--json", "--facts", str(f), "-", input=RULE)
    assert p.returncode == 1
    assert set(json.loads(p.stdout)["interfaces"]) == {"h0", "h1"}


def test_quoted_names_are_cut_on_character_boundaries(tmp_path):
    key = "x" + "é" * 80  # 161 bytes: the quote's cut falls inside a character
    f = tmp_path / "x.yaml"
    f.write_text(f"version: 1\ninterfaces:\n  - match: {{name: h0}}\n    features: {{{key}: off}}\n")
    p = subprocess.run([agent_path(), "validate", str(f)], capture_output=True, timeout=10)
    # a name outside the static table is a warning (the kernel judges it)
    assert p.returncode == 0 and b"warning: " in p.stderr
    p.stderr.decode("utf-8")  # raises if a character was cut in two
    assert b"..." in p.stderr


def test_package_makes_conf_d(tmp_path):
    run(["make", "-C", ROOT, "--no-print-directory", "install", f"DESTDIR={tmp_path}",
         "PREFIX=/usr"], timeout=300)
    d = tmp_path / "etc" / "offloadctl" / "conf.d"
    assert d.is_dir()
    assert stat.S_IMODE(d.stat().st_mode) == 0o755


# ---------------------------------------------------------------- ioctl and renames

def test_ioctl_set_never_lands_on_a_renamed_interface(netns, tmp_path):
    """The ioctl names interfaces: a udev rename between reading and setting
    (eth0 <-> eth1 at boot) used to put one interface's rule on another.
    strace holds the run just before its set while the names are swapped."""
    netns.ip("link", "add", "a0", "type", "veth", "peer", "name", "p0")
    netns.ip("link", "add", "b0", "type", "veth", "peer", "name", "q0")
    idx = {n: json.loads(netns.ip("-j", "link", "show", n).stdout)[0]["ifindex"] for n in ("a0", "b0")}
    rule = tmp_path / "a0.yaml"
    rule.write_text("version: 1\ninterfaces:\n  - match: {name: a0}\n    features: {tx: off}\n")
    args = [agent_path(), "--backend", "ioctl", "apply", "--json", str(rule)]

    # Where the set begins: the first SIOCGIFINDEX of a run (then undo it).
    trace = tmp_path / "trace"
    netns.exec("strace", "-f", "-qq", "-e", "trace=ioctl", "-o", str(trace), *args)
    calls = [l for l in open(trace) if " ioctl(" in l]
    k = next(i for i, l in enumerate(calls, 1) if "SIOCGIFINDEX" in l)
    netns.ethtool_K("a0", "tx", "on", check=True)

    p = subprocess.Popen(["ip", "netns", "exec", netns.name, "strace", "-f", "-qq", "-o", "/dev/null",
                          "-e", "trace=ioctl", "-e", f"inject=ioctl:delay_enter=1500000:when={k}",
                          *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    netns.ip("link", "set", "dev", "a0", "name", "t0")
    netns.ip("link", "set", "dev", "b0", "name", "a0")
    netns.ip("link", "set", "dev", "t0", "name", "b0")
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    rep = json.loads(out)
    assert rep["interfaces"] == {}, rep
    assert any("disappeared or was renamed" in w for w in rep["warnings"]), rep
    # Neither interface was changed: the one now named a0 was never planned.
    now = {n: json.loads(netns.ip("-j", "link", "show", n).stdout)[0]["ifindex"] for n in ("a0", "b0")}
    assert now == {"a0": idx["b0"], "b0": idx["a0"]}
    assert netns.ethtool_json("a0")["tx-checksumming"]["active"] is True
    assert netns.ethtool_json("b0")["tx-checksumming"]["active"] is True


def test_rollback_of_a_vanished_interface_is_a_warning(netns, tmp_path):
    """Rolled back, every interface that still exists as before: the one
    that vanished meanwhile is a warning, not "cannot roll back ... No such
    device" with rolled_back false.  strace holds the run just before the
    rollback reaches it, while the test deletes it."""
    netns.ip("link", "add", "a0", "type", "veth", "peer", "name", "p0")
    netns.ip("link", "add", "b0", "type", "veth", "peer", "name", "q0")
    rule = tmp_path / "rb.yaml"
    rule.write_text("version: 1\ninterfaces:\n  - match: {name: a0}\n    features: {gro: on}\n"
                    "  - match: {name: b0}\n    features: {tx: off, tso: on}\n")
    args = [agent_path(), "apply", "--json", str(rule)]
    trace = tmp_path / "trace"
    p = netns.exec("strace", "-f", "-qq", "-e", "trace=sendmsg", "-o", str(trace), *args, check=False)
    assert json.loads(p.stdout)["rolled_back"] is True
    n = sum(1 for l in open(trace) if "sendmsg(" in l)
    # ... set a0, set b0 (refused), roll back b0 (set, read), roll back a0 (set, read)
    p = subprocess.Popen(["ip", "netns", "exec", netns.name, "strace", "-f", "-qq", "-o", "/dev/null",
                          "-e", "trace=sendmsg", "-e", f"inject=sendmsg:delay_enter=1500000:when={n - 1}",
                          *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    netns.ip("link", "del", "a0")
    out, err = p.communicate(timeout=30)
    rep = json.loads(out)
    assert p.returncode == 1
    assert rep["rolled_back"] is True, rep
    assert "interface 'a0' disappeared during the run; nothing to roll back there" in rep["warnings"]
    assert not any("cannot roll back" in e for e in rep["errors"]), rep
    assert netns.ethtool_json("b0")["tx-checksumming"]["active"] is True


def test_watch_with_names_that_are_not_utf8_or_hold_control_characters(weird, tmp_path):
    """watch configures them and its log lines escape them."""
    conf = tmp_path / "etc"
    (conf / "conf.d").mkdir(parents=True)
    (conf / "offloadctl.yaml").write_text(
        "version: 1\ninterfaces:\n  - match: {name: ['e*', 'c*']}\n    features: {tx: off}\n")
    env = dict(os.environ, OFFLOADCTL_LOCK_FILE=str(tmp_path / "lock"))
    log = open(tmp_path / "watch.log", "w+b")
    w = subprocess.Popen(["ip", "netns", "exec", weird.name, agent_path(), "--config-dir", str(conf),
                          "watch"], stderr=log, stdout=subprocess.DEVNULL, env=env)
    try:
        end = time.monotonic() + 5
        while time.monotonic() < end and b"c\\x1b[31mx" not in open(log.name, "rb").read():
            time.sleep(0.1)
        text = open(log.name, "rb").read()
        assert b"set 'e\\xff': tx-checksum-ip-generic on -> off" in text, text
        assert b"set 'c\\x1b[31mx': tx-checksum-ip-generic on -> off" in text, text
        assert b"\x1b" not in text and b"\xff" not in text
        text.decode("utf-8")
        w.terminate()
        assert w.wait(timeout=5) == 0
    finally:
        if w.poll() is None:
            w.kill()
        log.close()
