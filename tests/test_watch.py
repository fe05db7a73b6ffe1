"""`offloadctl watch` in fresh namespaces: hot-plug, drift, bursts,
refusals, reloads and signals."""
import os
import re
import signal
import subprocess
import time

import pytest

from ocutil import NetNS, agent_path


def wait_for(pred, timeout=2.0, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


class Watcher:
    def __init__(self, ns, confdir, *extra):
        self.log = open(os.path.join(confdir, "..", "watch.log"), "w+")
        self.lock = os.path.join(confdir, "..", "lock")
        env = dict(os.environ, OFFLOADCTL_LOCK_FILE=self.lock)
        # The namespace stands for a host (ip netns exec, no --netns):
        # confdir's host scope is the set, as on a machine of its own.
        self.p = subprocess.Popen(["ip", "netns", "exec", ns.name, agent_path(), "-vv", "--config-dir",
                                   confdir, "watch", *extra], stderr=self.log,
                                  stdout=subprocess.DEVNULL, env=env)

    def text(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def passes(self):
        return len(re.findall(r"debug: pass \d+", self.text()))

    def cpu_seconds(self):
        with open(f"/proc/{self.p.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            return self.p.wait(timeout=10)
        finally:
            self.log.close()


@pytest.fixture
def setup(netns, tmp_path):
    conf = tmp_path / "etc"
    (conf / "conf.d").mkdir(parents=True)
    watchers = []

    def start(text, *extra):
        (conf / "offloadctl.yaml").write_text(text)
        w = Watcher(netns, str(conf), *extra)
        watchers.append(w)
        assert wait_for(lambda: w.passes() >= 1, 5), w.text()
        return w

    yield netns, conf, start
    for w in watchers:
        w.stop(signal.SIGKILL)


RULES = "version: 1\ninterfaces:\n  - match: {name: 'h*'}\n    features: {tx: off, gro: on}\n"


def tx(ns, ifname):
    return ns.ethtool_json(ifname)["tx-checksumming"]["active"]


def test_new_interface_gets_rules_within_2s(setup):
    ns, conf, start = setup
    w = start(RULES)
    ns.veth("h0", "h1")
    assert wait_for(lambda: tx(ns, "h0") is False and tx(ns, "h1") is False), w.text()
    assert ns.ethtool_json("h0")["generic-receive-offload"]["active"] is True
    assert "configured new interface 'h0': tx-checksum-ip-generic on -> off" in w.text()
    assert w.stop() == 0


def test_drift_reverted_within_2s_and_logged(setup):
    ns, conf, start = setup
    ns.veth("h2", "h3")
    w = start(RULES)
    assert wait_for(lambda: tx(ns, "h2") is False)
    time.sleep(0.5)
    before = w.passes()
    ns.ethtool_K("h2", "tx", "on", check=True)
    assert wait_for(lambda: tx(ns, "h2") is False), w.text()
    assert re.search(r"reverted drift on 'h2': tx-checksum-ip-generic on -> off \(rule .*offloadctl.yaml:4:16\)", w.text())
    time.sleep(1.0)
    # the drift took one pass; our own change did not start another
    assert w.passes() == before + 1, w.text()
    assert w.stop() == 0


def test_burst_of_200_interfaces_converges(setup):
    ns, conf, start = setup
    w = start(RULES)
    batch = "".join(f"link add name h{i}a type veth peer name h{i}b\n" for i in range(100))
    subprocess.run(["ip", "-n", ns.name, "-batch", "-"], input=batch, text=True, check=True)
    names = [f"h{i}{s}" for i in range(100) for s in "ab"]

    def converged():
        out = ns.exec("ethtool", "-k", "*").stdout
        blocks = out.split("Features for ")[1:]
        st = {b.split(":", 1)[0]: ("tx-checksumming: off" in b) for b in blocks}
        return all(st.get(n) for n in names)

    assert wait_for(converged, 15), w.text()[-2000:]
    # coalesced: far fewer passes than interfaces
    assert w.passes() < 20, w.passes()


def test_refused_setting_does_not_spin(setup):
    ns, conf, start = setup
    ns.veth("h4", "h5")
    w = start("version: 1\ninterfaces:\n  - match: {name: h4}\n    features: {tx: off, tso: on}\n")
    time.sleep(0.5)
    c0 = w.cpu_seconds()
    p0 = w.passes()
    time.sleep(5)
    used = w.cpu_seconds() - c0
    assert used < 0.5, used
    assert w.passes() - p0 <= 5, w.text()
    assert "cannot set 'tx-tcp-segmentation' on 'h4' to on" in w.text()
    assert "will try again, backing off" in w.text()
    # said once, not on every retry
    assert w.text().count("cannot set 'tx-tcp-segmentation' on 'h4' to on") == 1, w.text()
    assert w.p.poll() is None


def test_sighup_with_broken_file_keeps_old_rules(setup):
    ns, conf, start = setup
    ns.veth("h6", "h7")
    w = start(RULES)
    assert wait_for(lambda: tx(ns, "h6") is False)
    (conf / "offloadctl.yaml").write_text("version: 1\ninterfaces: [oops\n")
    w.p.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "previous one stays in force" in w.text(), 3), w.text()
    ns.ethtool_K("h6", "tx", "on", check=True)
    assert wait_for(lambda: tx(ns, "h6") is False), w.text()
    assert w.p.poll() is None


def test_sighup_with_new_file_applies_it(setup):
    ns, conf, start = setup
    ns.veth("h8", "h9")
    w = start(RULES, str(conf / "offloadctl.yaml"))
    assert wait_for(lambda: tx(ns, "h8") is False)
    (conf / "offloadctl.yaml").write_text(
        "version: 1\ninterfaces:\n  - match: {name: 'h*'}\n    features: {tx: on, sg: off}\n")
    w.p.send_signal(signal.SIGHUP)
    assert wait_for(lambda: tx(ns, "h8") is True and
                    ns.ethtool_json("h8")["scatter-gather"]["active"] is False, 3), w.text()
    assert "configuration reloaded" in w.text()


def test_dropin_written_by_a_wrapper_is_not_reverted(setup):
    """A drop-in in conf.d is picked up by inotify before anything is
    reverted: the wrapper's change is never undone as drift."""
    ns, conf, start = setup
    ns.veth("ha", "hb")
    w = start(RULES)
    assert wait_for(lambda: tx(ns, "ha") is False)
    # as Puppet and Ansible do: the drop-in first, then their own apply
    (conf / "conf.d" / "50-wrapper.yaml").write_text(
        "version: 1\ninterfaces:\n  - match: {name: ha}\n    features: {tx: on}\n")
    ns.ethtool_K("ha", "tx", "on", check=True)
    assert wait_for(lambda: "configuration reloaded" in w.text(), 3), w.text()
    assert tx(ns, "ha") is True
    time.sleep(0.5)
    assert tx(ns, "ha") is True
    assert "reverted drift on 'ha'" not in w.text()


def test_sigterm_and_sigint_exit_0(setup):
    ns, conf, start = setup
    w = start(RULES)
    assert w.stop(signal.SIGTERM) == 0
    w2 = start(RULES)
    assert w2.stop(signal.SIGINT) == 0


def test_quiet_when_nothing_happens(setup):
    ns, conf, start = setup
    ns.veth("hc", "hd")
    w = start(RULES)
    time.sleep(1.5)
    lines = [l for l in w.text().splitlines() if "debug:" not in l and "watching" not in l]
    n = len(lines)
    time.sleep(1.5)
    lines2 = [l for l in w.text().splitlines() if "debug:" not in l and "watching" not in l]
    assert len(lines2) == n


def test_watch_refuses_bad_config_and_stdin(netns, tmp_path):
    from ocutil import agent
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ninterfaces: [\n")
    p = agent("--netns", netns.name, "watch", str(bad))
    assert p.returncode == 2 and "bad.yaml:" in p.stderr
    p = agent("--netns", netns.name, "watch", "-")
    assert p.returncode == 2 and "cannot read '-'" in p.stderr


def test_unmatched_rule_is_said_once_not_every_pass(setup):
    """A rule that matches nothing is a warning (issue 19), said when it
    first appears, not on every pass; once it matches, it is gone."""
    ns, conf, start = setup
    text = ("version: 1\ninterfaces:\n  - match: {name: 'h*'}\n    features: {tx: off}\n"
            "  - match: {name: 'z*'}\n    features: {gro: on}\n")
    ns.veth("h0", "h1")
    w = start(text)
    msg = "this rule matched no interface (match: name 'z*')"
    assert wait_for(lambda: msg in w.text()), w.text()
    # Drift forces passes; the warning is not repeated.
    for _ in range(3):
        n = w.passes()
        ns.ethtool_K("h0", "tx", "on")
        assert wait_for(lambda: w.passes() > n and not tx(ns, "h0")), w.text()
    assert w.text().count(msg) == 1, w.text()
    # An interface for it appears: the next pass has no warning; when it
    # goes, the warning is said again.
    ns.veth("z0", "z1")
    assert wait_for(lambda: ns.ethtool_json("z0")["generic-receive-offload"]["active"]), w.text()
    ns.ip("link", "del", "z0")
    assert wait_for(lambda: w.text().count(msg) == 2, 3), w.text()
    assert w.stop() == 0


def test_an_interface_backing_off_does_not_hold_up_the_others(setup):
    """h6 cannot take its rule and backs off (1 s doubling to 60 s); drift
    on h8 meanwhile is reverted within 2 s each time, not when h6's next
    retry is due."""
    ns, conf, start = setup
    ns.veth("h6", "h7")
    ns.veth("h8", "h9")
    w = start("version: 1\ninterfaces:\n  - match: {name: h6}\n    features: {tx: off, tso: on}\n"
              "  - match: {name: h8}\n    features: {tx: off}\n")
    assert wait_for(lambda: tx(ns, "h8") is False), w.text()
    time.sleep(4)  # h6's back-off has grown past 2 s
    for _ in range(3):
        ns.ethtool_K("h8", "tx", "on", check=True)
        assert wait_for(lambda: tx(ns, "h8") is False, 2.0), w.text()
        time.sleep(0.3)
    assert w.p.poll() is None


def test_files_beside_the_set_do_not_reload_it(setup):
    """A log, a README or an editor's swap file in the configuration
    directory or conf.d is not part of the set: no reload, and drift is
    still reported as drift; a drop-in written there still is."""
    ns, conf, start = setup
    ns.veth("h20", "h21")
    w = start(RULES)
    assert wait_for(lambda: tx(ns, "h20") is False), w.text()
    for junk in (conf / "README", conf / ".offloadctl.yaml.swp", conf / "watch.log",
                 conf / "conf.d" / "notes.txt", conf / "conf.d" / ".50-x.yaml.swp"):
        junk.write_text("not configuration\n")
        os.chmod(junk, 0o600)
    (conf / "conf.d" / "notes.txt").rename(conf / "conf.d" / "notes.old")
    time.sleep(0.5)
    ns.ethtool_K("h20", "tx", "on", check=True)
    assert wait_for(lambda: tx(ns, "h20") is False), w.text()
    assert wait_for(lambda: "reverted drift on 'h20'" in w.text()), w.text()
    assert "configuration reloaded" not in w.text(), w.text()
    (conf / "conf.d" / "50-x.yaml").write_text(
        "version: 1\ninterfaces:\n  - match: {name: h20}\n    features: {sg: off}\n")
    assert wait_for(lambda: ns.ethtool_json("h20")["scatter-gather"]["active"] is False, 3), w.text()
    assert "configuration reloaded" in w.text()
