"""Never lose the state at boot to a bad file (issue 13).

The last configuration set that validated is kept ($OFFLOADCTL_STATE_DIR
stands for /var/lib/offloadctl here); the boot unit's `apply --per-interface
--fall-back` and `watch` apply it, loudly, while the set is invalid; and one
interface that cannot take its rules never keeps the others unconfigured.
"""
import json
import os
import signal
import subprocess

import pytest

from ocutil import agent, agent_path
from test_watch import tx, wait_for

GOOD = "version: 1\ninterfaces:\n  - match: {name: 'h*'}\n    features: {tx: off}\n"


@pytest.fixture
def env(tmp_path):
    conf = tmp_path / "etc"
    (conf / "conf.d").mkdir(parents=True)
    state = tmp_path / "state"
    e = dict(os.environ, OFFLOADCTL_STATE_DIR=str(state),
             OFFLOADCTL_LOCK_FILE=str(tmp_path / "lock"))
    return conf, state, e


def run_agent(ns, conf, e, *args, input=None):
    # the namespace stands for a host: its host scope is the set
    return subprocess.run(["ip", "netns", "exec", ns.name, agent_path(), "--config-dir", str(conf), *args],
                          capture_output=True, text=True, env=e, input=input, timeout=60)


def test_bad_drop_in_at_boot_applies_the_last_good_set(netns, env):
    conf, state, e = env
    netns.veth("h0", "h1")
    (conf / "conf.d" / "10-good.yaml").write_text(GOOD)
    p = run_agent(netns, conf, e, "apply")
    assert p.returncode == 0, p.stderr
    saved = sorted(os.listdir(state / "last-good"))
    assert saved == ["0000-10-good.yaml"]
    assert oct(os.stat(state / "last-good").st_mode & 0o777) == "0o700"

    # The next boot: a broken drop-in arrived; the NICs come up fresh.
    (conf / "conf.d" / "20-broken.yaml").write_text("version: 1\ninterfaces: [oops\n")
    netns.ethtool_K("h0", "tx", "on", check=True)
    netns.ethtool_K("h1", "tx", "on", check=True)
    p = run_agent(netns, conf, e, "apply")  # by hand: refused, nothing touched
    assert p.returncode == 2 and tx(netns, "h0") is True
    p = run_agent(netns, conf, e, "apply", "--per-interface", "--fall-back")
    assert p.returncode == 2, p.stderr  # the unit shows failed: the set is bad
    assert "20-broken.yaml:3:1: invalid YAML" in p.stderr
    assert "applying the last configuration that validated instead" in p.stderr
    assert tx(netns, "h0") is False and tx(netns, "h1") is False
    # the broken set never replaced the good copy
    assert sorted(os.listdir(state / "last-good")) == ["0000-10-good.yaml"]


def test_fall_back_without_a_saved_set_says_so(netns, env):
    conf, state, e = env
    (conf / "conf.d" / "20-broken.yaml").write_text("version: 1\ninterfaces: [oops\n")
    p = run_agent(netns, conf, e, "apply", "--fall-back")
    assert p.returncode == 2
    assert "no last good copy" in p.stderr


def test_watch_started_on_a_bad_set_keeps_the_last_good_one(netns, env):
    conf, state, e = env
    netns.veth("h0", "h1")
    (conf / "offloadctl.yaml").write_text(GOOD)
    assert run_agent(netns, conf, e, "apply").returncode == 0
    (conf / "offloadctl.yaml").write_text("version: 1\ninterfaces: [oops\n")
    netns.ethtool_K("h0", "tx", "on", check=True)
    log = open(conf.parent / "watch.log", "w+")
    w = subprocess.Popen(["ip", "netns", "exec", netns.name, agent_path(), "--config-dir", str(conf), "watch"],
                         stderr=log, stdout=subprocess.DEVNULL, env=e)
    try:
        assert wait_for(lambda: tx(netns, "h0") is False, 5), open(log.name).read()
        assert "applying the last configuration that validated" in open(log.name).read()
        # fixed: the real set is reloaded (now tx on)
        (conf / "offloadctl.yaml").write_text(GOOD.replace("off", "on"))
        assert wait_for(lambda: tx(netns, "h0") is True, 3), open(log.name).read()
    finally:
        w.send_signal(signal.SIGTERM)
        assert w.wait(timeout=5) == 0
        log.close()


def test_per_interface_apply_configures_the_others(netns, env):
    """With fixed-feature: error, 'tx: off' on lo (fixed on) used to leave
    every interface unconfigured at boot."""
    conf, state, e = env
    netns.veth("h0", "h1")
    (conf / "offloadctl.yaml").write_text(
        "version: 1\ninterfaces:\n  - match: {name: ['lo', 'h*']}\n    features: {tx: off}\n")
    p = run_agent(netns, conf, e, "apply")
    assert p.returncode == 1 and tx(netns, "h0") is True  # all or nothing, by hand
    p = run_agent(netns, conf, e, "apply", "--per-interface", "--json")
    assert p.returncode == 1
    rep = json.loads(p.stdout)
    assert set(rep["interfaces"]) == {"h0", "h1"} and rep["changed"] is True
    assert any("'lo'" in m for m in rep["errors"])
    assert tx(netns, "h0") is False and tx(netns, "h1") is False


def test_nothing_saved_for_a_config_dir_of_a_test_without_state_dir(netns, tmp_path):
    """Only the system's own set (or $OFFLOADCTL_STATE_DIR) is kept: a run
    with --config-dir leaves nothing in /var/lib."""
    conf = tmp_path / "etc"
    (conf / "conf.d").mkdir(parents=True)
    (conf / "offloadctl.yaml").write_text(GOOD)
    before = os.path.exists("/var/lib/offloadctl/last-good")
    e = dict(os.environ, OFFLOADCTL_LOCK_FILE=str(tmp_path / "lock"))
    e.pop("OFFLOADCTL_STATE_DIR", None)
    p = run_agent(netns, conf, e, "apply")
    assert p.returncode == 0
    assert os.path.exists("/var/lib/offloadctl/last-good") == before
