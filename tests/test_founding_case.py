"""The founding case (issue 19): no rule that silently does nothing.

Offline `check --facts` against facts documents captured in real Xen guests
(tests/fixtures/facts/xen-real-*.json, saved by the Xen lab in tests/vm/),
and live runs in namespaces for the policies.
"""
import json
import os

import pytest

from ocutil import HERE, ROOT, agent

FACTS = os.path.join(HERE, "fixtures", "facts")
EXAMPLE = os.path.join(ROOT, "examples", "xen-domu.yaml")


def load(name):
    with open(os.path.join(FACTS, name)) as f:
        return json.load(f)


def check(facts_path, *files, extra=(), input=None):
    return agent("check", "--json", *extra, "--facts", facts_path, *files, input=input)


def netfront(doc):
    """The domU's netfront interfaces in a facts document."""
    return {n: i for n, i in doc["interfaces"].items() if i.get("module") == "xen_netfront"}


# ---------------------------------------------------------------- real guests

# Captured by the Xen lab (tests/vm/README-xen.md) in a PV, a PVH and an HVM
# domU of a real Xen 4.17, before anything was changed there.
DOMUS = ["xen-real-pv-domu.json", "xen-real-pvh-domu.json", "xen-real-hvm-domu.json"]


@pytest.mark.parametrize("name", DOMUS)
def test_shipped_example_reaches_netfront_on_a_real_domu(name):
    """examples/xen-domu.yaml matched nothing on a real domU and said "in
    sync"; now it matches netfront by module and names enX0."""
    path = os.path.join(FACTS, name)
    doc = load(path)
    nf = netfront(doc)
    assert nf, "the captured domU has a netfront NIC"
    for i in nf.values():
        assert i["driver"] == "vif"  # what ethtool -i said in the real guest

    p = check(path, EXAMPLE)
    rep = json.loads(p.stdout)
    # The capture was taken before any apply: tx, sg, tso, gso are on.
    assert p.returncode == 1, p.stdout + p.stderr
    assert rep["in_sync"] is False
    assert set(rep["interfaces"]) == set(nf)
    for ifname in nf:
        changed = {c["feature"] for c in rep["interfaces"][ifname]["changes"]}
        assert "tx-checksum-ipv6" in changed
        assert "tx-scatter-gather" in changed
    assert rep["unmatched_rules"] == []


@pytest.mark.parametrize("name", DOMUS)
def test_fixed_member_is_named_not_silent_on_a_real_domu(name):
    """netfront's tx-checksum-ipv4 is fixed on: 'tx: off' sets the rest and
    says which member stays on, in text and JSON; by its own name it is
    fixed-feature's error.  The two paths agree on what is reachable."""
    path = os.path.join(FACTS, name)
    doc = load(path)
    nf = netfront(doc)
    ifname = sorted(nf)[0]
    for i in nf.values():  # what `ethtool -k` said there: "on [fixed]"
        assert i["features"]["tx-checksum-ipv4"]["active"] is True
        assert i["features"]["tx-checksum-ipv4"]["fixed"] is True

    p = check(path, EXAMPLE)
    rep = json.loads(p.stdout)
    for name in nf:
        un = rep["interfaces"][name]["unreachable"]
        assert {"feature": "tx-checksum-ipv4", "wanted": "off", "stays": "on", "via": "tx",
                "reason": "fixed by the driver"}.items() <= un[0].items()
        assert un[0]["rule"].startswith(EXAMPLE + ":")
    assert any("'tx-checksum-ipv4' stays on" in w for w in rep["warnings"])
    assert "'tx-checksum-ipv4' stays on, fixed by the driver" in p.stderr

    # Text: the warning is on stderr and the summary points at it.
    t = agent("check", "--facts", path, EXAMPLE)
    assert "tx-checksum-ipv4" in t.stderr and t.returncode == 1

    # By its own name: refused as fixed (fixed-feature: error).
    own = f"version: 1\ninterfaces:\n  - match: {{name: {ifname}}}\n    features: {{tx-checksum-ipv4: off}}\n"
    p = agent("check", "--json", "--facts", path, "-", input=own)
    rep = json.loads(p.stdout)
    assert p.returncode == 1
    assert any("'tx-checksum-ipv4'" in e and "fixed on" in e for e in rep["errors"])

    # Policy: error fails the check, ignore quiets it.
    for policy, rc, where in (("error", 1, "errors"), ("ignore", 1, None)):
        d = f"version: 1\ndefaults: {{fixed-member: {policy}}}\ninterfaces:\n  - match: {{module: xen_netfront}}\n    features: {{tx: off}}\n"
        p = agent("check", "--json", "--facts", path, "-", input=d)
        rep = json.loads(p.stdout)
        assert p.returncode == rc
        msgs = [m for m in rep["warnings"] + rep["errors"] if "stays on" in m]
        if where:
            assert msgs and all(m in rep[where] for m in msgs)
        else:
            assert msgs == [] and "unreachable" not in rep["interfaces"].get(ifname, {})


@pytest.mark.parametrize("name", DOMUS)
def test_driver_xen_netfront_matches_nothing_and_says_so(name):
    """The old example's match: on a real domU it matches nothing.  That is
    now a warning naming the rule, never a silent "in sync"."""
    path = os.path.join(FACTS, name)
    d = ("version: 1\ninterfaces:\n  - match:\n      virtualization: xen-domU\n"
         "      driver: xen_netfront\n    features:\n      tx: off\n")
    p = agent("check", "--json", "--facts", path, "-", input=d)
    rep = json.loads(p.stdout)
    assert p.returncode == 0 and rep["in_sync"] is True
    assert rep["unmatched_rules"] == [{"rule": "<stdin>:3:5", "match": "driver 'xen_netfront', "
                                       "virtualization 'xen-domU'"}]
    assert "<stdin>:3:5: this rule matched no interface" in p.stderr
    t = agent("check", "--facts", path, "-", input=d)
    assert "in sync: nothing to change, but see the 1 warning above" in t.stdout


@pytest.mark.parametrize("name", DOMUS)
def test_glob_matching_nothing_on_a_debian_domu(name):
    """Debian 12 names the domU's NIC enX0: 'eth*' matches nothing."""
    path = os.path.join(FACTS, name)
    assert not any(n.startswith("eth") for n in load(path)["interfaces"])
    d = "version: 1\ninterfaces:\n  - match: {name: 'eth*'}\n    features: {tx: off}\n"
    p = agent("check", "--json", "--facts", path, "-", input=d)
    rep = json.loads(p.stdout)
    assert p.returncode == 0
    assert [u["rule"] for u in rep["unmatched_rules"]] == ["<stdin>:3:5"]
    assert any("matched no interface (match: name 'eth*')" in w for w in rep["warnings"])
    # unmatched-rule: error makes it a failure; ignore quiets it.
    for policy, rc in (("error", 1), ("ignore", 0)):
        dd = d.replace("version: 1\n", f"version: 1\ndefaults: {{unmatched-rule: {policy}}}\n")
        p = agent("check", "--json", "--facts", path, "-", input=dd)
        rep = json.loads(p.stdout)
        assert p.returncode == rc, p.stdout
        if policy == "error":
            assert any("matched no interface" in e for e in rep["errors"])
        else:
            assert rep["unmatched_rules"] == [] and rep["warnings"] == []


def test_rule_for_another_kind_of_host_is_quiet():
    """A fleet ships one file: a xen-domU rule on a dom0 is not for it."""
    path = os.path.join(FACTS, "xen-real-dom0.json")
    p = agent("check", "--json", "--facts", path, EXAMPLE)
    rep = json.loads(p.stdout)
    assert p.returncode == 0, p.stdout + p.stderr
    assert rep["unmatched_rules"] == [] and rep["warnings"] == []


def test_dom0_vif_is_netback_and_tx_off_works_there():
    """The dom0 side of the same link: netback also says driver vif; module
    tells it apart, and 'tx: off' reaches every member there."""
    path = os.path.join(FACTS, "xen-real-dom0.json")
    doc = load(path)
    vifs = {n: i for n, i in doc["interfaces"].items() if i.get("module") == "xen_netback"}
    assert vifs and all(i["driver"] == "vif" for i in vifs.values())
    d = "version: 1\ninterfaces:\n  - match: {module: xen_netback}\n    features: {tx: off}\n"
    p = agent("check", "--json", "--facts", path, "-", input=d)
    rep = json.loads(p.stdout)
    assert set(rep["interfaces"]) == set(vifs)
    assert all("unreachable" not in e for e in rep["interfaces"].values())
    assert rep["warnings"] == []


@pytest.mark.parametrize("name,domain,guest_type", [
    ("xen-real-pv-domu.json", "domU", "PV"),
    ("xen-real-pvh-domu.json", "domU", "PVH"),
    ("xen-real-hvm-domu.json", "domU", "HVM"),
    ("xen-real-dom0.json", "dom0", "PV"),
])
def test_real_guest_roles(name, domain, guest_type):
    v = load(name)["virtualization"]
    assert v["xen"] == {"domain": domain, "guest_type": guest_type}
    assert v["role"] == ("host" if domain == "dom0" else "guest")
    assert v["hypervisor_vendor"] == "XenVMMXenVMM"


# ---------------------------------------------------------------- live, in namespaces

def test_module_is_null_for_virtual_interfaces(netns):
    netns.veth("mo0", "mo1")
    doc = netns.facts()
    for n in ("mo0", "mo1", "lo"):
        assert doc["interfaces"][n]["module"] is None


def test_module_rule_on_virtual_interfaces_matches_nothing_and_says_so(netns):
    netns.veth("mm0", "mm1")
    d = "version: 1\ninterfaces:\n  - match: {module: xen_netfront}\n    features: {tx: off}\n"
    p = netns.agent("check", "--json", "-", input=d)
    rep = json.loads(p.stdout)
    assert p.returncode == 0
    assert rep["unmatched_rules"] == [{"rule": "<stdin>:3:5", "match": "module 'xen_netfront'"}]
    # apply too, and apply -i (the udev unit) stays quiet about other rules
    p = netns.agent("apply", "--json", "-", input=d)
    assert json.loads(p.stdout)["unmatched_rules"][0]["rule"] == "<stdin>:3:5"
    p = netns.agent("apply", "--json", "-i", "mm0", "-", input=d)
    assert json.loads(p.stdout)["unmatched_rules"] == [] and p.stderr == ""


def test_exact_missing_name_is_missing_interface_not_unmatched(netns):
    d = "version: 1\ninterfaces:\n  - match: {name: nope0}\n    features: {tx: off}\n"
    p = netns.agent("check", "--json", "-", input=d)
    rep = json.loads(p.stdout)
    assert rep["unmatched_rules"] == []
    assert rep["warnings"] == ["<stdin>:3:5: no interface named 'nope0'"]
    # an exact name that exists but whose other keys do not hold: unmatched
    netns.veth("ex0", "ex1")
    d = "version: 1\ninterfaces:\n  - match: {name: ex0, kind: bridge}\n    features: {tx: off}\n"
    rep = json.loads(netns.agent("check", "--json", "-", input=d).stdout)
    assert [u["match"] for u in rep["unmatched_rules"]] == ["name 'ex0', kind 'bridge'"]


def test_validate_knows_the_new_keys(tmp_path):
    f = tmp_path / "x.yaml"
    f.write_text("version: 1\ndefaults:\n  fixed-member: error\n  unmatched-rule: ignore\n"
                 "interfaces:\n  - match: {module: [xen_netfront, 'virtio*']}\n    features: {tx: off}\n")
    assert agent("validate", str(f)).returncode == 0
    f.write_text("version: 1\ndefaults:\n  unmatched-rule: loud\ninterfaces: []\n")
    p = agent("validate", str(f))
    assert p.returncode == 2
    assert f"{f}:3:19: invalid value 'loud' for 'unmatched-rule'; expected 'ignore', 'warn' or 'error'" in p.stderr
    f.write_text("version: 1\ninterfaces:\n  - match: {modul: x}\n    features: {tx: off}\n")
    p = agent("validate", str(f))
    assert p.returncode == 2 and "did you mean 'module'" in p.stderr
