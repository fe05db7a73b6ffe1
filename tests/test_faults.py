"""Faults, each in a fresh namespace: interfaces that vanish, a missing
ethtool family, kills, broken or loose configuration."""
import json
import os
import signal
import subprocess
import time

import pytest

from ocutil import agent, agent_path, run
from test_watch import Watcher, wait_for

DOC = "version: 1\ninterfaces:\n  - match: {name: '%s'}\n    features: {tx: off, gro: on}\n"


def n_sendmsg(ns, *args, input=None):
    """How many sendmsg calls a run makes (strace)."""
    p = run(["ip", "netns", "exec", ns.name, "strace", "-f", "-qq", "-e", "trace=sendmsg",
             "-o", "/dev/stderr", agent_path(), *args], check=False, input=input)
    return sum(1 for l in p.stderr.splitlines() if "sendmsg(" in l)


def strace_inject(ns, inject, *args, input=None, popen=False):
    cmd = ["ip", "netns", "exec", ns.name, "strace", "-f", "-qq", "-o", "/dev/null",
           "-e", "trace=sendmsg", "-e", f"inject=sendmsg:{inject}", agent_path(), *args]
    if popen:
        return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
    return run(cmd, check=False, input=input)


def tx(ns, i):
    return ns.ethtool_json(i)["tx-checksumming"]["active"]


def test_family_unavailable_falls_back_to_ioctl(netns):
    netns.veth("fb0", "fb1")
    ref = netns.agent("facts", check=True).stdout
    # the first sendmsg is the family lookup: make it fail
    p = strace_inject(netns, "error=ENOENT:when=1", "-v", "facts")
    assert p.returncode == 0, p.stderr
    assert "the ethtool netlink family is not available; using the ioctl" in p.stderr
    assert json.loads(p.stdout) == json.loads(ref)
    a = strace_inject(netns, "error=ENOENT:when=1", "apply", "--json", "-", input=DOC % "fb0")
    assert a.returncode == 0, a.stderr
    assert tx(netns, "fb0") is False
    # asked for netlink explicitly, a missing family is an environment error
    n = strace_inject(netns, "error=ENOENT:when=1", "--backend", "netlink", "facts")
    assert n.returncode == 3 and "--backend ioctl" in n.stderr


def test_interface_deleted_between_plan_and_apply(netns):
    netns.veth("gone0", "gone1")
    netns.veth("stay0", "stay1")
    d = DOC % "*[01]"
    k = n_sendmsg(netns, "check", "-", input=d)
    p = strace_inject(netns, f"delay_enter=1500000:when={k + 1}", "apply", "--json", "-", popen=True)
    p.stdin.write(d)
    p.stdin.close()
    p.stdin = None
    time.sleep(0.7)
    netns.ip("link", "del", "gone0")
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    r = json.loads(out)
    assert any("'gone0' disappeared" in w or "'gone1' disappeared" in w for w in r["warnings"]), r
    assert r["in_sync"] is True
    assert tx(netns, "stay0") is False and tx(netns, "stay1") is False
    assert netns.agent("check", "-", input=d).returncode == 0


def test_apply_killed_midway_next_apply_converges(netns):
    netns.veth("kk0", "kk1")
    d = DOC % "kk*"
    k = n_sendmsg(netns, "check", "-", input=d)
    p = strace_inject(netns, f"delay_enter=5000000:when={k + 2}", "apply", "-", popen=True)
    p.stdin.write(d)
    p.stdin.close()
    time.sleep(1.0)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait(timeout=10)
    states = {tx(netns, "kk0"), tx(netns, "kk1")}
    assert states == {True, False}  # killed between the two interfaces
    q = netns.agent("apply", "--json", "--lock-timeout", "5", "-", input=d)
    assert q.returncode == 0, q.stderr
    assert json.loads(q.stdout)["changed"] is True
    assert netns.agent("check", "-", input=d).returncode == 0


def test_missing_config_dir(netns, tmp_path):
    p = netns.as_host("--config-dir", str(tmp_path / "nope"), "apply")
    assert p.returncode == 2
    assert "no configuration" in p.stderr


def test_config_dir_with_non_yaml_files(netns, tmp_path):
    netns.veth("ny0", "ny1")
    conf = tmp_path / "etc"
    (conf / "conf.d").mkdir(parents=True)
    (conf / "conf.d" / "README").write_text("not yaml: [")
    (conf / "conf.d" / "blob.bin").write_bytes(os.urandom(256))
    (conf / "conf.d" / "10-x.yaml.dpkg-old").write_text("garbage: [")
    (conf / "conf.d" / "20-ny.yaml").write_text(DOC % "ny0")
    p = netns.as_host("--config-dir", str(conf), "apply")
    assert p.returncode == 0, p.stderr
    assert tx(netns, "ny0") is False


def test_read_only_config_dir(netns, tmp_path):
    """apply never writes into /etc/offloadctl: a read-only one works."""
    netns.veth("ro0", "ro1")
    conf = tmp_path / "etc"
    conf.mkdir()
    (conf / "offloadctl.yaml").write_text(DOC % "ro0")
    script = (f"mount --bind {conf} {conf} && mount -o remount,bind,ro {conf} && "
              f"touch {conf}/probe 2>/dev/null && exit 9; "
              f"exec ip netns exec {netns.name} {agent_path()} --config-dir {conf} apply")
    p = run(["unshare", "-m", "sh", "-c", script], check=False)
    assert p.returncode == 0, (p.returncode, p.stderr)
    assert tx(netns, "ro0") is False


def test_loose_permissions_refused_by_apply_and_watch(netns, tmp_path):
    netns.veth("lp0", "lp1")
    f = tmp_path / "loose.yaml"
    f.write_text(DOC % "lp0")
    f.chmod(0o666)
    p = netns.agent("apply", str(f))
    assert p.returncode == 2
    assert f"'{f}' is writable by everyone; run: chmod go-w '{f}'" in p.stderr
    assert tx(netns, "lp0") is True
    w = netns.agent("watch", str(f), timeout=20)
    assert w.returncode == 2 and "chmod go-w" in w.stderr
    assert agent("validate", str(f)).returncode == 0  # reading is fine
    f.chmod(0o620)
    p = netns.agent("apply", str(f))
    assert p.returncode == 2 and "writable by its group" in p.stderr
    f.chmod(0o644)
    assert netns.agent("apply", str(f)).returncode == 0


def test_watch_survives_its_configuration_file_removed(netns, tmp_path):
    netns.veth("wr0", "wr1")
    conf = tmp_path / "etc"
    conf.mkdir()
    (conf / "offloadctl.yaml").write_text(DOC % "wr*")
    w = Watcher(netns, str(conf))
    try:
        assert wait_for(lambda: tx(netns, "wr0") is False, 5), w.text()
        (conf / "offloadctl.yaml").unlink()
        assert wait_for(lambda: "previous one stays in force" in w.text(), 3), w.text()
        netns.ethtool_K("wr0", "tx", "on", check=True)
        assert wait_for(lambda: tx(netns, "wr0") is False), w.text()
        assert w.p.poll() is None
    finally:
        assert w.stop() == 0


def test_nonexistent_namespace_for_every_command():
    for cmd in (["facts"], ["show"], ["check", "-"], ["apply", "-"]):
        p = agent("--netns", "oct-no-such-ns", *cmd, input="version: 1\ninterfaces: []\n")
        assert p.returncode == 3, (cmd, p.stderr)
        assert "does not exist" in p.stderr
