"""Desired state applied to real interfaces in fresh namespaces, with
ethtool itself as the reference."""
import json
import os
import re
import subprocess
import tempfile
import textwrap

import pytest

from ocutil import NetNS, agent, agent_path, run

LEGACY = [
    ("rx", "rx-checksumming"), ("tx", "tx-checksumming"), ("sg", "scatter-gather"),
    ("tso", "tcp-segmentation-offload"), ("ufo", "udp-fragmentation-offload"),
    ("gso", "generic-segmentation-offload"), ("gro", "generic-receive-offload"),
    ("lro", "large-receive-offload"), ("rxvlan", "rx-vlan-offload"),
    ("txvlan", "tx-vlan-offload"), ("ntuple", "ntuple-filters"), ("rxhash", "receive-hashing"),
]
NAMES = [n for pair in LEGACY for n in pair]


def doc(rules, defaults=None):
    d = {"version": 1, "interfaces": rules}
    if defaults:
        d["defaults"] = defaults
    return json.dumps(d)  # JSON is YAML


def rule(name, features=None, **kw):
    """A rule for one name; keyword features use '_' for '-'."""
    f = dict(features or {})
    f.update({k.replace("_", "-"): v for k, v in kw.items()})
    return {"match": {"name": name}, "features": f}


def full_state(ns):
    """Every interface's full ethtool -k state, for before/after comparisons."""
    out = json.loads(ns.exec("ethtool", "--json", "-k", "*").stdout)
    return {d.pop("ifname"): d for d in out}


@pytest.fixture(scope="module")
def diffns():
    ns = NetNS()
    yield ns
    ns.delete()


_pair = iter(range(10000))


@pytest.mark.parametrize("name", NAMES)
def test_differential_legacy_names(diffns, name):
    """offloadctl on one pair, `ethtool -K` on an identical twin: off, then
    on; the full resulting feature sets must be identical."""
    k = next(_pair)
    a, b = f"oa{k}", f"ob{k}"
    diffns.veth(a, a + "p")
    diffns.veth(b, b + "p")
    for value in ("off", "on"):
        p = diffns.agent("apply", "-", input=f"version: 1\ninterfaces:\n  - match: {{name: {a}}}\n    features: {{{name}: {value}}}\n")
        e = diffns.ethtool_K(b, name, value)
        sa, sb = diffns.ethtool_json(a), diffns.ethtool_json(b)
        assert sa == sb, (name, value, p.stdout, p.stderr, e.stdout)
        # both agree on whether the kernel could do it
        assert (p.returncode == 0) == (e.returncode == 0) or "fixed" in p.stderr, (
            name, value, p.returncode, p.stderr, e.returncode, e.stderr)


def changeable_kernel_features():
    ns = NetNS()
    try:
        ns.veth("probe0", "probe1")
        f = ns.facts()["interfaces"]["probe0"]["features"]
        return sorted(n for n, s in f.items() if not s["fixed"])
    finally:
        ns.delete()


@pytest.mark.parametrize("feature", changeable_kernel_features())
def test_differential_kernel_names(diffns, feature):
    k = next(_pair)
    a, b = f"ka{k}", f"kb{k}"
    diffns.veth(a, a + "p")
    diffns.veth(b, b + "p")
    for value in ("off", "on"):
        p = diffns.agent("apply", "-", input=doc([rule(a, {feature: value == "on"})]))
        e = diffns.ethtool_K(b, feature, value)
        assert diffns.ethtool_json(a) == diffns.ethtool_json(b), (feature, value, p.stderr, e.stdout)
        assert (p.returncode == 0) == (e.returncode == 0), (feature, value, p.stderr, e.stderr)


def strace_sendmsgs(ns, *args, input=None):
    with tempfile.NamedTemporaryFile(suffix=".strace") as t:
        p = run(["ip", "netns", "exec", ns.name, "strace", "-f", "-qq", "-e", "trace=sendmsg,sendto",
                 "-o", t.name, agent_path(), *args], check=False, input=input)
        calls = [l for l in open(t.name) if "sendmsg(" in l or "sendto(" in l]
    return p, calls


def test_apply_twice_second_sends_no_set_request(netns):
    netns.veth("id0", "id1")
    d = doc([rule("id*", tx=False, gro=True, sg=False)])
    _, check_calls = strace_sendmsgs(netns, "check", "-", input=d)
    p1, apply1_calls = strace_sendmsgs(netns, "apply", "--json", "-", input=d)
    assert p1.returncode == 0, p1.stderr
    r1 = json.loads(p1.stdout)
    assert r1["changed"] is True and r1["in_sync"] is True
    assert {"id0", "id1"} == set(r1["interfaces"])
    assert len(apply1_calls) == len(check_calls) + 2  # one FEATURES_SET per interface
    p2, apply2_calls = strace_sendmsgs(netns, "apply", "--json", "-", input=d)
    assert p2.returncode == 0
    r2 = json.loads(p2.stdout)
    assert r2 == {"changed": False, "in_sync": True, "interfaces": {}, "unmatched_rules": [],
                  "warnings": [], "errors": [], "rolled_back": False}
    assert len(apply2_calls) == len(check_calls)
    c = netns.agent("check", "-", input=d)
    assert c.returncode == 0 and "in sync" in c.stdout


def test_report_shape_and_side_effects(netns):
    netns.veth("rs0", "rs1")
    p = netns.agent("apply", "--json", "-", input=doc([rule("rs0", tx=False)]))
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert list(r) == ["changed", "in_sync", "interfaces", "unmatched_rules", "warnings", "errors",
                       "rolled_back"]
    e = r["interfaces"]["rs0"]
    feats = {c["feature"]: c for c in e["changes"]}
    assert feats["tx-checksum-ip-generic"]["from"] == "on" and feats["tx-checksum-ip-generic"]["to"] == "off"
    # the feature setting that decides it, in the one location form
    assert re.fullmatch(r"<stdin>:\d+:\d+", feats["tx-checksum-ip-generic"]["rule"])
    side = {c["feature"]: c for c in e["side_effects"]}
    # the kernel switches TSO off with TX checksumming: reported, not fought
    assert side["tx-tcp-segmentation"] == {"feature": "tx-tcp-segmentation", "from": "on", "to": "off"}
    assert netns.ethtool_json("rs0")["tx-tcp-segmentation"]["active"] is False


def test_unsatisfiable_rolls_back_every_interface(netns):
    netns.veth("un0", "un1")
    netns.veth("un2", "un3")
    before = full_state(netns)
    # un0 first (a change the kernel accepts), then un2: TSO on with TX off
    d = doc([rule("un0", gro=True, sg=False), rule("un2", tx=False, tso=True)])
    p = netns.agent("apply", "--json", "-", input=d)
    assert p.returncode == 1, p.stderr
    r = json.loads(p.stdout)
    assert r["rolled_back"] is True and r["changed"] is False and r["in_sync"] is False
    assert any("tx-tcp-segmentation" in e and "'un2'" in e and "keeps it off" in e for e in r["errors"]), r
    assert "tx-tcp-segmentation" in p.stderr
    assert full_state(netns) == before


def test_fixed_feature_error_by_default_touches_nothing(netns):
    netns.veth("fx0", "fx1")
    before = full_state(netns)
    p = netns.agent("apply", "-", input=doc([rule("fx0", gro=True), rule("fx0", lro=True)]))
    assert p.returncode == 1
    assert re.search(r"<stdin>:\d+:\d+: cannot set 'lro' on 'fx0' to on: the feature is fixed off", p.stderr)
    assert full_state(netns) == before


def test_fixed_feature_warn_applies_the_rest(netns):
    netns.veth("fw0", "fw1")
    p = netns.agent("apply", "--json", "-", input=doc([rule("fw0", gro=True, lro=True)],
                                                        {"fixed-feature": "warn"}))
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert any("'lro'" in w for w in r["warnings"])
    assert netns.ethtool_json("fw0")["generic-receive-offload"]["active"] is True


@pytest.mark.parametrize("mode,rc", [("ignore", 0), ("warn", 0), ("error", 1)])
def test_missing_interface(netns, mode, rc):
    netns.veth("mi0", "mi1")
    before = full_state(netns)
    p = netns.agent("apply", "--json", "-",
                    input=doc([rule("mi0", gro=True), rule("eth9", gro=True)], {"missing-interface": mode}))
    assert p.returncode == rc, p.stderr
    r = json.loads(p.stdout)
    msgs = r["warnings"] if mode == "warn" else r["errors"] if mode == "error" else []
    assert any("no interface named 'eth9'" in m for m in msgs) == (mode != "ignore")
    if mode == "error":
        assert full_state(netns) == before
    else:
        assert netns.ethtool_json("mi0")["generic-receive-offload"]["active"] is True


def test_globs_lists_kind_and_last_rule_wins(netns):
    netns.veth("gl0", "gl1")
    netns.veth("xx0", "xx1")
    netns.ip("link", "add", "name", "glbr", "type", "bridge")
    d = doc([
        {"match": {"name": ["gl*", "xx0"], "kind": "veth"}, "features": {"gro": True, "tx": False}},
        {"match": {"name": "gl1"}, "features": {"tx": True}},
    ])
    p = netns.agent("apply", "-", input=d)
    assert p.returncode == 0, p.stderr
    s = full_state(netns)
    assert s["gl0"]["tx-checksumming"]["active"] is False
    assert s["gl1"]["tx-checksumming"]["active"] is True        # last match wins
    assert s["gl1"]["generic-receive-offload"]["active"] is True
    assert s["xx0"]["tx-checksumming"]["active"] is False
    assert s["xx1"]["generic-receive-offload"]["active"] is False  # not matched
    assert s["glbr"]["tx-checksumming"]["active"] is True          # kind bridge
    # mac (case-insensitive) and driver
    mac = netns.facts()["interfaces"]["xx1"]["mac"].upper()
    p = netns.agent("apply", "-", input=doc([{"match": {"mac": mac, "driver": "veth"}, "features": {"gro": True}}]))
    assert p.returncode == 0, p.stderr
    assert netns.ethtool_json("xx1")["generic-receive-offload"]["active"] is True


def test_two_applies_at_once(netns):
    netns.veth("cc0", "cc1")
    env = dict(os.environ)
    d1 = doc([rule("cc0", tx=False, gro=True)])
    d2 = doc([rule("cc1", sg=False, gro=True)])
    cmd = [agent_path(), "--netns", netns.name, "apply", "--json", "-"]
    p1 = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    p2 = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    o1, e1 = p1.communicate(d1, timeout=60)
    o2, e2 = p2.communicate(d2, timeout=60)
    assert p1.returncode == 0 and p2.returncode == 0, (e1, e2)
    s = full_state(netns)
    assert s["cc0"]["tx-checksumming"]["active"] is False
    assert s["cc1"]["scatter-gather"]["active"] is False
    assert s["cc0"]["generic-receive-offload"]["active"] and s["cc1"]["generic-receive-offload"]["active"]


def test_lock_held_too_long_exits_3(netns, tmp_path):
    netns.veth("lk0", "lk1")
    lock = tmp_path / "lock"
    holder = subprocess.Popen(["flock", str(lock), "sleep", "30"])
    try:
        import time
        for _ in range(100):
            if lock.exists():
                break
            time.sleep(0.05)
        time.sleep(0.2)
        before = full_state(netns)
        env = dict(os.environ, OFFLOADCTL_LOCK_FILE=str(lock))
        p = run([agent_path(), "--netns", netns.name, "apply", "--lock-timeout", "0.5", "-"],
                check=False, input=doc([rule("lk0", gro=True)]), env=env)
        assert p.returncode == 3
        assert "another offloadctl run" in p.stderr
        assert full_state(netns) == before
    finally:
        holder.kill()
        holder.wait()


def test_non_root_apply_exits_3_and_changes_nothing(netns):
    netns.veth("nr0", "nr1")
    before = full_state(netns)
    p = run(["ip", "netns", "exec", netns.name, "setpriv", "--reuid=65534", "--regid=65534",
             "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", agent_path(), "apply", "-"],
            check=False, input=doc([rule("nr0", gro=True)]))
    assert p.returncode == 3, (p.stdout, p.stderr)
    assert "CAP_NET_ADMIN" in p.stderr and "nothing was changed" in p.stderr
    assert full_state(netns) == before
    # check needs no privilege
    c = run(["ip", "netns", "exec", netns.name, "setpriv", "--reuid=65534", "--regid=65534",
             "--clear-groups", agent_path(), "check", "-"], check=False, input=doc([rule("nr0", gro=True)]))
    assert c.returncode == 1 and "rx-gro" in c.stdout


BAD_INPUTS = [
    "version: 1\ninterfaces:\n  - match: {name: x}\n    features: {tx: maybe}\n",
    "version: 1\ninterfaces:\n  - match: {name: x}\n    features: {txx: off}\n",
    "version: 2\ninterfaces: []\n",
    "interfaces:\n\t- bad\n",
    "\x00\x01\x02binary",
]


@pytest.mark.parametrize("text", BAD_INPUTS)
def test_bad_input_touches_nothing(netns, text):
    netns.veth("bi0", "bi1")
    before = netns.facts()
    p = netns.agent("apply", "-", input=text)
    assert p.returncode == 2
    assert re.search(r"<stdin>:\d+:\d+: ", p.stderr), p.stderr
    assert netns.facts() == before


def test_feature_this_kernel_lacks_is_plan_error_with_suggestion(netns):
    netns.veth("kn0", "kn1")
    before = netns.facts()
    # known to some kernels (validate accepts it) but not to this one
    names = set(before["interfaces"]["kn0"]["features"])
    candidates = [n for n in ("tx-lockless", "netns-local", "busy-poll", "fcoe-mtu", "tx-udp-fragmentation") if n not in names]
    assert candidates, "every historical feature exists here?"
    name = candidates[0]
    assert agent("validate", "-", input=doc([rule("kn0", {name: True})])).returncode == 0
    p = netns.agent("apply", "-", input=doc([rule("kn0", {name: True})]))
    assert p.returncode == 2
    # the running kernel is the judge, and is named
    release = os.uname().release
    assert f"unknown feature '{name}' for this kernel ({release})" in p.stderr, p.stderr
    assert netns.facts() == before


def test_check_and_dry_run(netns):
    netns.veth("dr0", "dr1")
    before = full_state(netns)
    d = doc([rule("dr0", tx=False)])
    c = netns.agent("check", "--json", "-", input=d)
    assert c.returncode == 1
    r = json.loads(c.stdout)
    assert r["changed"] is True and r["in_sync"] is False and "dr0" in r["interfaces"]
    n = netns.agent("apply", "--dry-run", "--json", "-", input=d)
    assert n.returncode == 0
    assert json.loads(n.stdout)["interfaces"] == r["interfaces"]
    t = netns.agent("apply", "-n", "-", input=d)
    assert "--- dr0" in t.stdout and "-tx-checksum-ip-generic: on" in t.stdout
    assert "+tx-checksum-ip-generic: off" in t.stdout and "would change" in t.stdout
    assert full_state(netns) == before


def test_ioctl_backend_applies_the_same(netns):
    netns.veth("io0", "io1")
    netns.veth("nl0", "nl1")
    d = lambda n: doc([rule(n, tx=False, gro=True, sg=False)])
    a = netns.agent("--backend", "ioctl", "apply", "--json", "-", input=d("io0"))
    b = netns.agent("--backend", "netlink", "apply", "--json", "-", input=d("nl0"))
    assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
    assert netns.ethtool_json("io0") == netns.ethtool_json("nl0")
    ra, rb = json.loads(a.stdout), json.loads(b.stdout)
    assert ra["interfaces"]["io0"] == rb["interfaces"]["nl0"]
    # and the ioctl backend reports in sync after
    assert netns.agent("--backend", "ioctl", "check", "-", input=d("io0")).returncode == 0
    # ioctl backend also rolls back
    before = full_state(netns)
    u = netns.agent("--backend", "ioctl", "apply", "-", input=doc([rule("io1", gro=True), rule("io0", tx=True), rule("io0", tso=True, tx=False)]))
    assert u.returncode == 1
    assert full_state(netns) == before


def test_plan_offline_from_saved_facts(netns, tmp_path):
    """check --facts: the pure plan against a recorded document, including
    the virtualization condition and name expansion."""
    netns.veth("of0", "of1")
    before = netns.facts()
    facts = json.loads(json.dumps(before))
    facts["virtualization"]["vm"] = "xen"
    facts["virtualization"]["xen"] = {"domain": "domU", "guest_type": "PV"}
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(facts))
    d = doc([
        {"match": {"name": "of*", "virtualization": "xen-domU"}, "features": {"tx-checksumming": False}},
        {"match": {"name": "of1", "virtualization": "xen-dom0"}, "features": {"gro": True}},
        {"match": {"name": "of1", "virtualization": ["kvm", "xen"]}, "features": {"scatter-gather": "off"}},
    ])
    p = agent("check", "--json", "--facts", str(path), "-", input=d)
    assert p.returncode == 1, p.stderr
    r = json.loads(p.stdout)
    ch0 = {c["feature"] for c in r["interfaces"]["of0"]["changes"]}
    ch1 = {c["feature"] for c in r["interfaces"]["of1"]["changes"]}
    tx_members = {n for n, s in facts["interfaces"]["of0"]["features"].items()
                  if n.startswith("tx-checksum-") and not s["fixed"] and s["active"]}
    assert ch0 == tx_members
    assert "rx-gro" not in ch1  # dom0 rule does not hold
    assert {"tx-scatter-gather", "tx-scatter-gather-fraglist"} & ch1
    # nothing in the namespace changed: the plan is pure
    live = netns.facts()
    assert live["interfaces"] == before["interfaces"]
    assert netns.ethtool_json("of0")["tx-checksumming"]["active"] is True


def test_interface_option_limits_the_run(netns):
    netns.veth("if0", "if1")
    d = doc([rule("if*", gro=True), rule("eth9", gro=True)], {"missing-interface": "error"})
    p = netns.agent("apply", "--json", "--interface", "if1", "-", input=d)
    assert p.returncode == 0, p.stderr
    assert set(json.loads(p.stdout)["interfaces"]) == {"if1"}
    s = full_state(netns)
    assert s["if1"]["generic-receive-offload"]["active"] is True
    assert s["if0"]["generic-receive-offload"]["active"] is False
