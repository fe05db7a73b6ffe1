"""Scopes (issue 12): a rule only ever reaches the interfaces it was written for.

The host scope is CONFIG/offloadctl.yaml and CONFIG/conf.d/; the scope of a
named namespace NAME is CONFIG/netns/NAME/*.yaml, applied only inside NAME.
The "host" here is a namespace of the test's own, entered with `ip netns
exec` (the machine's own interfaces are never touched).
"""
import json
import os
import signal
import subprocess
import time

import pytest

from ocutil import NetNS, agent, agent_path, run
from test_watch import tx, wait_for

TX_OFF = "version: 1\ninterfaces:\n  - match: {name: 'h*'}\n    features: {tx: off}\n"
GRO_ON = "version: 1\ninterfaces:\n  - match: {name: 'h*'}\n    features: {gro: on}\n"


def gro(ns, ifname):
    return ns.ethtool_json(ifname)["generic-receive-offload"]["active"]


@pytest.fixture
def conf(tmp_path):
    c = tmp_path / "etc"
    (c / "conf.d").mkdir(parents=True)
    return c


@pytest.fixture
def env(tmp_path):
    return dict(os.environ, OFFLOADCTL_LOCK_FILE=str(tmp_path / "lock"))


def scope(conf, ns, text, name="50-test.yaml"):
    d = conf / "netns" / ns.name
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_text(text)
    return d / name


def in_ns(ns, conf, env, *args, input=None):
    """offloadctl run inside ns with no --netns: ns stands for the host."""
    return subprocess.run(["ip", "netns", "exec", ns.name, agent_path(), "--config-dir", str(conf),
                           *args], capture_output=True, text=True, env=env, input=input, timeout=60)


def test_netns_name_reads_its_own_scope_not_the_host_set(netns, conf, env):
    netns.veth("h0", "h1")
    (conf / "offloadctl.yaml").write_text(TX_OFF)  # the host's rules
    f = scope(conf, netns, GRO_ON)
    p = agent("--netns", netns.name, "--config-dir", str(conf), "check", "--json", env=env)
    rep = json.loads(p.stdout)
    assert p.returncode == 1
    for name in ("h0", "h1"):
        decided = rep["interfaces"][name]["decided"]
        assert set(decided) == {"rx-gro"}, decided
        assert decided["rx-gro"] == {"value": "on", "by": f"{f}:4:16"}
    assert agent("--netns", netns.name, "--config-dir", str(conf), "apply", env=env).returncode == 0
    assert gro(netns, "h0") is True and tx(netns, "h0") is True  # the host's tx: off never came


def test_host_scope_never_takes_namespace_rules(netns_factory, conf, env):
    host, blue = netns_factory(), netns_factory()
    host.veth("h0", "h1")
    scope(conf, blue, TX_OFF)
    (conf / "conf.d" / "10-host.yaml").write_text(GRO_ON)
    p = in_ns(host, conf, env, "check", "--json")
    rep = json.loads(p.stdout)
    assert all(set(e.get("decided", {})) == {"rx-gro"} for e in rep["interfaces"].values()), rep
    assert in_ns(host, conf, env, "apply").returncode == 0
    assert tx(host, "h0") is True and gro(host, "h0") is True


def test_netns_path_needs_files(netns, conf, env):
    path = f"/run/netns/{netns.name}"
    p = agent("--netns", path, "--config-dir", str(conf), "check", env=env)
    assert p.returncode == 2
    assert "has no scope of its own: give the FILEs" in p.stderr


def test_missing_scope_says_where_it_is_looked_for(netns, conf, env):
    p = agent("--netns", netns.name, "--config-dir", str(conf), "check", env=env)
    assert p.returncode == 2
    assert f"no configuration for network namespace '{netns.name}'" in p.stderr
    assert f"{conf}/netns/{netns.name}/*.yaml" in p.stderr


def test_apply_all_scopes(netns_factory, conf, env):
    host, blue, green = netns_factory(), netns_factory(), netns_factory()
    for ns in (host, blue, green):
        ns.veth("h0", "h1")
    (conf / "offloadctl.yaml").write_text(GRO_ON)
    scope(conf, blue, TX_OFF)
    scope(conf, green, GRO_ON.replace("gro: on", "tx: off, gro: on"))
    (conf / "netns" / "no-such-namespace").mkdir()
    (conf / "netns" / "no-such-namespace" / "x.yaml").write_text(TX_OFF)
    p = in_ns(host, conf, env, "apply", "--all-scopes", "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert set(doc["scopes"]) == {"host", blue.name, green.name}
    assert all(r["changed"] for r in doc["scopes"].values())
    assert gro(host, "h0") and tx(host, "h0")
    assert tx(blue, "h0") is False and gro(blue, "h0") is False
    assert tx(green, "h0") is False and gro(green, "h0") is True
    # a second run changes nothing anywhere
    doc = json.loads(in_ns(host, conf, env, "apply", "--all-scopes", "--json").stdout)
    assert not any(r["changed"] for r in doc["scopes"].values())
    # text: a header per scope
    t = in_ns(host, conf, env, "check", "--all-scopes")
    assert "== scope host" in t.stdout and f"== scope {blue.name} (network namespace)" in t.stdout
    assert agent("--netns", blue.name, "apply", "--all-scopes").returncode == 2


def test_watch_keeps_every_scope_and_follows_namespaces(netns_factory, conf, env, tmp_path):
    host, blue = netns_factory(), netns_factory()
    host.veth("h0", "h1")
    blue.veth("h0", "h1")
    scope(conf, blue, TX_OFF)
    log = open(tmp_path / "watch.log", "w+")
    w = subprocess.Popen(["ip", "netns", "exec", host.name, agent_path(), "-v", "--config-dir",
                          str(conf), "watch"], stderr=log, stdout=subprocess.DEVNULL, env=env)
    text = lambda: open(log.name).read()
    try:
        assert wait_for(lambda: tx(blue, "h0") is False, 5), text()
        assert tx(host, "h0") is True  # the host scope has no rules
        # drift in the scope is reverted, the log names the namespace
        blue.ethtool_K("h0", "tx", "on", check=True)
        assert wait_for(lambda: tx(blue, "h0") is False, 2), text()
        assert f"offloadctl[{blue.name}]: reverted drift on 'h0'" in text()
        # a namespace created after the start, with a scope: configured within 2 s
        green = NetNS()
        try:
            green.veth("h0", "h1")
            t0 = time.monotonic()
            scope(conf, green, TX_OFF)
            assert wait_for(lambda: tx(green, "h0") is False, 2), text()
            # a namespace deleted under watch is let go: its veth peer in
            # another namespace goes with it
            green.ip("link", "set", "h1", "name", "peer9", "netns", blue.name)
            green.delete()
            assert wait_for(lambda: blue.ip("link", "show", "peer9", check=False).returncode != 0, 3), text()
        finally:
            green.delete()
        # a scope removed: its watch stops
        for f in (conf / "netns" / blue.name).iterdir():
            f.unlink()
        assert wait_for(lambda: f"scope of network namespace '{blue.name}' gone" in text(), 3), text()
        w.send_signal(signal.SIGTERM)
        assert w.wait(timeout=10) == 0
    finally:
        if w.poll() is None:
            w.kill()
        log.close()


def test_scope_names_cannot_climb_out(conf, env):
    p = agent("--netns", "..", "--config-dir", str(conf), "check", env=env)
    assert p.returncode == 2
