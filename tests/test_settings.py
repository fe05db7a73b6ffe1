"""Rings, channels, coalesce, pause and EEE (issue 15): facts against
ethtool's own text output (ethtool 6.1 has no --json for these), apply
against `ethtool -L`/`-C` on a twin, idempotency counted in netlink
requests, max, above-maximum and unsupported settings refused with nothing
touched, rollback of a mixed run, watch reverting drift, and the plan logic
for the groups this machine's virtual drivers lack over facts documents.

What the kinds here support (kernel 6.18, ethtool 6.1): veth has channels
(rx and tx, maximum the CPU count), tun/tap has channels (combined, get
only) and coalesce (rx-frames); bridge, vxlan, ifb and lo have none of the
groups.  Nothing here has rings, pause or EEE: those are covered by plans
over facts documents (check --facts).
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from ocutil import NetNS, agent, agent_path, run

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "vm"))
import guestlib  # noqa: E402  (standard library only: the VM lab copies it into its guests)

GROUPS = ("rings", "channels", "coalesce", "pause", "eee")


def doc(rules, defaults=None):
    d = {"version": 1, "interfaces": rules}
    if defaults:
        d["defaults"] = defaults
    return json.dumps(d)  # JSON is YAML


# ---- ethtool's text, parsed ----------------------------------------------

def _num(v):
    return None if v == "n/a" else int(v)


def ethtool_group(ns, group, ifname):
    """ethtool's view of one group of one interface, in the facts' shape;
    None when ethtool says the driver does not support it.  The parser of
    ethtool's text is the VM lab's (tests/vm/guestlib.py), one for both."""
    p = ns.exec("ethtool", guestlib.SHOW_OPT[group], ifname, check=False)
    if p.returncode != 0:
        assert "Operation not supported" in p.stderr, (group, ifname, p.stderr)
        return None
    return guestlib.parse_group(group, p.stdout)


def ethtool_facts_view(facts_group, group):
    """What of a facts group ethtool 6.1 prints: it has no RX Push, TX push
    buffer or HDS lines, and
    prints Tx LPI's timer only when LPI is on."""
    if facts_group is None:
        return None
    g = dict(facts_group)
    if group == "rings":
        # newer than ethtool 6.1's -g output
        for key in ("rx-push", "tx-push-buf-len", "hds-thresh"):
            g.pop(key, None)
            g.get("max", {}).pop(key, None)
    if group == "eee" and not g.get("tx-lpi"):
        g.pop("tx-timer", None)
    return g


@pytest.fixture
def kinds(netns):
    netns.veth("sv0", "sv1")
    netns.ip("link", "add", "sbr0", "type", "bridge")
    netns.ip("tuntap", "add", "stap0", "mode", "tap")
    netns.ip("tuntap", "add", "stun0", "mode", "tun", "multi_queue")
    netns.ip("link", "add", "sifb0", "type", "ifb")
    return ["lo", "sv0", "sv1", "sbr0", "stap0", "stun0", "sifb0"]


@pytest.mark.parametrize("backend", ["netlink", "ioctl"])
def test_facts_agree_with_ethtool(netns, kinds, backend):
    """Every group of every interface kind here, as ethtool prints it."""
    netns.exec("ethtool", "-L", "sv0", "rx", "2")
    netns.exec("ethtool", "-C", "stap0", "rx-frames", "7")
    p = netns.agent("--backend", backend, "facts", check=True)
    facts = json.loads(p.stdout)["interfaces"]
    seen = set()
    for ifname in kinds:
        for group in GROUPS:
            assert group in facts[ifname], (ifname, group)
            ours = ethtool_facts_view(facts[ifname][group], group)
            theirs = ethtool_group(netns, group, ifname)
            if backend == "ioctl" and group == "coalesce" and ours is not None:
                # the ioctl cannot tell a supported parameter from an
                # unsupported one: every field is there (as ethtool's ioctl
                # path prints it); the ones ethtool shows must agree
                ours = {k: v for k, v in ours.items() if k in theirs}
            assert ours == theirs, (backend, ifname, group, facts[ifname][group], theirs)
            if ours:
                seen.add((ifname, group))
    # the kinds here do have some groups: the comparison compared something
    assert ("sv0", "channels") in seen and ("stap0", "coalesce") in seen
    assert facts["sv0"]["channels"]["rx"] == 2
    assert facts["stap0"]["coalesce"]["rx-frames"] == 7
    assert facts["sbr0"]["channels"] is None and facts["lo"]["pause"] is None


def test_facter_format_carries_rings_and_channels_only(netns, kinds):
    full = netns.facts()["interfaces"]
    p = netns.agent("facts", "--format", "facter", check=True)
    compact = json.loads(p.stdout)["offloadctl"]["interfaces"]
    assert compact["sv0"]["channels"] == full["sv0"]["channels"]
    assert "coalesce" not in compact["stap0"] and "channels" not in compact["sbr0"]
    for name, ifc in compact.items():
        # the whole interface stays under 1 KiB in the compact format
        assert len(json.dumps(ifc, separators=(",", ":"))) < 1024, name
    p = netns.agent("facts", "--format", "facter", "--full", check=True)
    assert json.loads(p.stdout)["offloadctl"]["interfaces"]["stap0"]["coalesce"] == full["stap0"]["coalesce"]


def channels(ns, ifname):
    return guestlib.parse_sections(ns.exec("ethtool", "-l", ifname).stdout, guestlib.CHANNEL_LABELS)


def test_apply_channels_equals_ethtool_L_on_a_twin(netns):
    netns.veth("ca0", "ca1")
    netns.veth("cb0", "cb1")
    for rx, tx in ((2, 1), (1, 2), (2, 2), (1, 1)):
        p = netns.agent("apply", "--json", "-",
                        input=doc([{"match": {"name": "ca0"}, "channels": {"rx": rx, "tx": tx}}]))
        assert p.returncode == 0, p.stderr
        e = netns.exec("ethtool", "-L", "cb0", "rx", str(rx), "tx", str(tx), check=False)
        assert channels(netns, "ca0") == channels(netns, "cb0"), (rx, tx, p.stdout, e.stderr)
        assert channels(netns, "ca0")[0] == {"rx": rx, "tx": tx}


def test_apply_coalesce_equals_ethtool_C_on_a_twin(netns):
    netns.ip("tuntap", "add", "ct0", "mode", "tap")
    netns.ip("tuntap", "add", "ct1", "mode", "tap")
    for frames in (9, 0, 33):
        p = netns.agent("apply", "-", input=doc([{"match": {"name": "ct0"},
                                                  "coalesce": {"rx-frames": frames}}]))
        assert p.returncode == 0, p.stderr
        netns.exec("ethtool", "-C", "ct1", "rx-frames", str(frames), check=False)
        assert ethtool_group(netns, "coalesce", "ct0") == ethtool_group(netns, "coalesce", "ct1")
        assert ethtool_group(netns, "coalesce", "ct0") == {"rx-frames": frames}


def strace_sendmsgs(ns, *args, input=None):
    with tempfile.NamedTemporaryFile(suffix=".strace") as t:
        p = run(["ip", "netns", "exec", ns.name, "strace", "-f", "-qq", "-e", "trace=sendmsg,sendto",
                 "-o", t.name, agent_path(), *args], check=False, input=input)
        calls = [l for l in open(t.name) if "sendmsg(" in l or "sendto(" in l]
    return p, calls


def test_apply_twice_second_sends_no_set_request(netns):
    netns.veth("id0", "id1")
    netns.ip("tuntap", "add", "idt", "mode", "tap")
    d = doc([{"match": {"name": "id0"}, "channels": {"rx": 2}},
             {"match": {"name": "idt"}, "coalesce": {"rx-frames": 4}}])
    _, check_calls = strace_sendmsgs(netns, "check", "-", input=d)
    p1, apply1_calls = strace_sendmsgs(netns, "apply", "--json", "-", input=d)
    assert p1.returncode == 0, p1.stderr
    r1 = json.loads(p1.stdout)
    assert r1["changed"] is True and r1["in_sync"] is True
    assert len(r1["interfaces"]["id0"]["changes"]) == 1
    c = r1["interfaces"]["id0"]["changes"][0]
    assert (c["group"], c["setting"], c["from"], c["to"], c["resets_link"]) == ("channels", "rx", 1, 2, True)
    assert re.fullmatch(r"<stdin>:\d+:\d+", c["rule"])
    c = r1["interfaces"]["idt"]["changes"][0]
    assert (c["group"], c["setting"], c["from"], c["to"]) == ("coalesce", "rx-frames", 0, 4)
    assert "resets_link" not in c
    # one SET and one read-back GET per group and interface
    assert len(apply1_calls) == len(check_calls) + 4
    p2, apply2_calls = strace_sendmsgs(netns, "apply", "--json", "-", input=d)
    assert p2.returncode == 0
    r2 = json.loads(p2.stdout)
    assert r2 == {"changed": False, "in_sync": True, "interfaces": {}, "unmatched_rules": [],
                  "warnings": [], "errors": [], "rolled_back": False}
    assert len(apply2_calls) == len(check_calls)
    c = netns.agent("check", "-", input=d)
    assert c.returncode == 0 and "in sync" in c.stdout


def test_max_and_above_max(netns):
    netns.veth("mx0", "mx1")
    cur, mx = channels(netns, "mx0")
    p = netns.agent("apply", "-", input=doc([{"match": {"name": "mx0"}, "channels": {"rx": "max", "tx": "max"}}]))
    assert p.returncode == 0, p.stderr
    assert channels(netns, "mx0")[0] == {"rx": mx["rx"], "tx": mx["tx"]}
    netns.exec("ethtool", "-L", "mx0", "rx", "1", "tx", "1")
    before = channels(netns, "mx0")
    # above the maximum: a plan-time error naming it, nothing touched (not
    # even the valid tx of the same rule)
    d = doc([{"match": {"name": "mx0"}, "channels": {"tx": "max", "rx": mx["rx"] + 1}}])
    for cmd in (["check"], ["apply"], ["apply", "--dry-run"]):
        p = netns.agent(*cmd, "-", input=d)
        assert p.returncode == 1, (cmd, p.stderr)
        assert re.search(rf"<stdin>:\d+:\d+: cannot set 'channels: rx' on 'mx0' to {mx['rx'] + 1}: "
                         rf"the maximum is {mx['rx']}", p.stderr), p.stderr
        assert channels(netns, "mx0") == before


def test_unsupported_group_refused_nothing_touched(netns):
    netns.veth("us0", "us1")
    netns.ip("link", "add", "usbr", "type", "bridge")
    before = channels(netns, "us0")
    d = doc([{"match": {"name": "us0"}, "channels": {"rx": 2}},
             {"match": {"name": "usbr"}, "channels": {"combined": 1}},
             {"match": {"name": "us0"}, "pause": {"rx": "off"}}])
    p = netns.agent("apply", "-", input=d)
    assert p.returncode == 1
    assert re.search(r"<stdin>:\d+:\d+: cannot set 'channels: combined' on 'usbr': the driver does not support it",
                     p.stderr), p.stderr
    assert re.search(r"cannot set 'pause: rx' on 'us0': the driver does not support it", p.stderr)
    assert channels(netns, "us0") == before
    # defaults: fixed-feature: warn applies the rest
    p = netns.agent("apply", "-", input=doc(json.loads(d)["interfaces"], {"fixed-feature": "warn"}))
    assert p.returncode == 0, p.stderr
    assert channels(netns, "us0")[0]["rx"] == 2


def test_combined_on_rx_tx_nic_is_translated(netns):
    netns.veth("tr0", "tr1")
    p = netns.agent("apply", "--json", "-", input=doc([{"match": {"name": "tr0"}, "channels": {"combined": 2}}]))
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert channels(netns, "tr0")[0] == {"rx": 2, "tx": 2}
    assert any("has no combined channels, only rx and tx" in w and "as TuneD does" in w
               for w in r["warnings"]), r
    changed = {c["setting"] for c in r["interfaces"]["tr0"]["changes"]}
    assert changed == {"rx", "tx"}


def test_rollback_of_a_mixed_run_restores_channels_and_features(netns):
    netns.veth("rb0", "rb1")
    netns.veth("rb2", "rb3")
    before_ch = {n: channels(netns, n) for n in ("rb0", "rb2")}
    before_k = json.loads(netns.exec("ethtool", "--json", "-k", "*").stdout)
    # rb0: a channels change the kernel takes, and a feature it takes;
    # rb2: channels it takes, then a feature change it refuses (TSO on with TX off)
    d = doc([{"match": {"name": "rb0"}, "channels": {"rx": 2}, "features": {"gro": "on"}},
             {"match": {"name": "rb2"}, "channels": {"tx": 2},
              "features": {"tx": "off", "tso": "on"}}])
    p = netns.agent("apply", "--json", "-", input=d)
    assert p.returncode == 1, p.stderr
    r = json.loads(p.stdout)
    assert r["rolled_back"] is True and r["changed"] is False and r["in_sync"] is False
    assert any("tx-tcp-segmentation" in e and "'rb2'" in e for e in r["errors"]), r
    assert {n: channels(netns, n) for n in ("rb0", "rb2")} == before_ch
    assert json.loads(netns.exec("ethtool", "--json", "-k", "*").stdout) == before_k


def test_bad_input_file_line_column(tmp_path):
    f = tmp_path / "{f}:12:11: 'active'"
    f.write_text("version: 1\n"
                 "interfaces:\n"
                 "  - match: {name: eth0}\n"
                 "    channels:\n"
                 "      combind: 2\n"
                 "      rx: lots\n"
                 "    coalesce:\n"
                 "      rx-usec: 50\n"
                 "      adaptive-rx: maybe\n"
                 "    rings: {rx: [1]}\n"
                 "    pause: {rx: 1}\n"
                 "    eee: {active: on}\n"
                 "    ring: {rx: 1}\n")
    p = agent("validate", str(f))
    assert p.returncode == 2
    e = p.stderr
    assert f"{f}:5:7: unknown setting 'combind' in 'channels'; did you mean 'combined'?" in e
    assert f"{f}:6:11: invalid value 'lots' for 'rx' in 'channels'; expected a count (such as 1024) or max" in e
    assert f"{f}:8:7: unknown setting 'rx-usec' in 'coalesce'; did you mean 'rx-usecs'?" in e
    assert f"{f}:9:20: invalid value 'maybe' for 'adaptive-rx' in 'coalesce'; expected on or off" in e
    assert f"{f}:10:17: expected a count or max for 'rx' in 'rings', found a list" in e
    assert f"{f}:11:17: invalid value '1' for 'rx' in 'pause'; expected on or off" in e
    assert f"{f}:12:11: 'active' in 'eee' is reported by the kernel, not set" in e
    assert f"{f}:13:5: unknown key 'ring' in a rule; did you mean 'rings'?" in e


def test_rule_with_only_settings_is_valid(tmp_path):
    f = tmp_path / "ok.yaml"
    f.write_text("version: 1\ninterfaces:\n  - match: {name: 'eth*'}\n"
                 "    rings: {rx: max, tx: 1024}\n    coalesce: {rx-usecs: 50, adaptive-rx: off}\n"
                 "    pause: {autoneg: off, rx: on, tx: on}\n    eee: {eee: off, tx-timer: 0}\n")
    p = agent("validate", str(f))
    assert p.returncode == 0, p.stderr


# ---- the groups veth lacks: plans over a facts document ------------------

def nic_facts(netns, tmp_path):
    """This host's facts with one interface made a NIC with every group,
    as an e1000e-like driver reports them."""
    netns.veth("nic0", "nic1")
    d = netns.facts()
    ifc = d["interfaces"]["nic0"]
    ifc["driver"] = "e1000e"
    ifc["rings"] = {"rx": 256, "tx": 256, "tx-push": False, "rx-push": False,
                    "tcp-data-split": False, "hds-thresh": 0,
                    "max": {"rx": 4096, "tx": 4096, "hds-thresh": 1024}}
    ifc["channels"] = {"combined": 4, "max": {"combined": 8}}
    ifc["coalesce"] = {"adaptive-rx": False, "rx-usecs": 3, "tx-usecs": 0}
    ifc["pause"] = {"autoneg": True, "rx": True, "tx": True}
    ifc["eee"] = {"eee": False, "active": False, "tx-lpi": False, "tx-timer": 0}
    f = tmp_path / "facts.json"
    f.write_text(json.dumps(d))
    return f


def check_facts(facts, rules, *extra):
    p = agent("check", "--json", "--facts", str(facts), *extra, "-", input=doc(rules))
    return p, json.loads(p.stdout) if p.stdout.strip() else None


def test_plan_over_facts_every_group(netns, tmp_path):
    f = nic_facts(netns, tmp_path)
    p, r = check_facts(f, [{"match": {"name": "nic0"},
                            "rings": {"rx": "max", "tx": 256, "tcp-data-split": "on"},
                            "channels": {"rx": 2, "tx": 3},
                            "coalesce": {"adaptive-rx": "on", "rx-usecs": 3, "tx-usecs": 50},
                            "pause": {"autoneg": "off", "rx": "on"},
                            "eee": {"eee": "on", "tx-timer": 0}}])
    assert p.returncode == 1, p.stderr
    got = [(c["group"], c["setting"], c["from"], c["to"], c.get("resets_link", False))
           for c in r["interfaces"]["nic0"]["changes"]]
    # only what differs, in apply's order; rx/tx on a combined-only NIC is
    # combined = max(rx, tx), as TuneD does
    assert got == [("rings", "rx", 256, 4096, True),
                   ("rings", "tcp-data-split", "off", "on", True),
                   ("channels", "combined", 4, 3, True),
                   ("coalesce", "adaptive-rx", "off", "on", False),
                   ("coalesce", "tx-usecs", 0, 50, False),
                   ("pause", "autoneg", "on", "off", False),
                   ("eee", "eee", "off", "on", False)], r
    assert any("has only combined channels" in w for w in r["warnings"])
    t = agent("check", "--facts", str(f), "-", input=doc([{"match": {"name": "nic0"}, "rings": {"rx": "max"}}]))
    assert "-rings rx: 256\n+rings rx: 4096\t# <stdin>:" in t.stdout and "may reset the link" in t.stdout
    assert "would change 1 setting on 1 interface" in t.stdout


def test_plan_over_facts_above_max_and_in_sync(netns, tmp_path):
    f = nic_facts(netns, tmp_path)
    p, r = check_facts(f, [{"match": {"name": "nic0"}, "rings": {"rx": 5000}}])
    assert p.returncode == 1
    assert any(re.search(r"cannot set 'rings: rx' on 'nic0' to 5000: the maximum is 4096", e)
               for e in r["errors"]), r
    p, r = check_facts(f, [{"match": {"name": "nic0"}, "rings": {"rx": 256, "tx-push": "off"},
                            "pause": {"rx": "on"}, "eee": {"tx-lpi": "off"}}])
    assert p.returncode == 0 and r["in_sync"] is True, (p.stderr, r)
    assert r["interfaces"]["nic0"]["changes"] == []
    assert r["interfaces"]["nic0"]["decided_settings"]["rings"]["tx-push"]["value"] == "off"
    # the newer counts with maxima take max and are held to it too
    p, r = check_facts(f, [{"match": {"name": "nic0"}, "rings": {"hds-thresh": "max"}}])
    assert [(c["setting"], c["from"], c["to"]) for c in r["interfaces"]["nic0"]["changes"]] == \
        [("hds-thresh", 0, 1024)]
    p, r = check_facts(f, [{"match": {"name": "nic0"}, "rings": {"hds-thresh": 2048}}])
    assert any("the maximum is 1024" in e for e in r["errors"]), r
    # a parameter the driver lacks (not in the facts): refused
    p, r = check_facts(f, [{"match": {"name": "nic0"}, "rings": {"rx-jumbo": 10}}])
    assert p.returncode == 1
    assert any("cannot set 'rings: rx-jumbo' on 'nic0': the driver does not support it" in e
               for e in r["errors"]), r


# ---- show -----------------------------------------------------------------

def test_show_settings_table_and_json(netns):
    netns.veth("sh0", "sh1")
    netns.exec("ethtool", "-L", "sh0", "rx", "2")
    cur, mx = channels(netns, "sh0")
    p = netns.agent("show", "--settings", "sh0", "sh1", check=True)
    assert re.search(rf"^channels rx\s+1/{mx['rx']}\s+{cur['rx']}/{mx['rx']}\s*$", p.stdout, re.M), p.stdout  # ifindex order: sh1 first
    p = netns.agent("show", "--json", "sh0", check=True)
    s = json.loads(p.stdout)["interfaces"][0]["settings"]
    assert s["channels"] == {"rx": cur["rx"], "tx": cur["tx"], "max": mx}
    assert s["pause"] is None


# ---- watch ----------------------------------------------------------------

def wait_for(pred, timeout=5.0, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def test_watch_reverts_channel_drift(netns, tmp_path):
    netns.veth("wd0", "wd1")
    conf = tmp_path / "etc"
    (conf / "conf.d").mkdir(parents=True)
    (conf / "offloadctl.yaml").write_text(
        "version: 1\ninterfaces:\n  - match: {name: wd0}\n    channels: {rx: 2}\n")
    log = open(tmp_path / "watch.log", "w+")
    env = dict(os.environ, OFFLOADCTL_LOCK_FILE=str(tmp_path / "lock"))
    w = subprocess.Popen(["ip", "netns", "exec", netns.name, agent_path(), "-vv", "--config-dir",
                          str(conf), "watch"], stderr=log, stdout=subprocess.DEVNULL, env=env)
    try:
        assert wait_for(lambda: channels(netns, "wd0")[0]["rx"] == 2), open(log.name).read()
        # the echo of its own set (CHANNELS_NTF with what it holds) is no
        # reason for another pass
        time.sleep(1.0)
        assert len(re.findall(r"debug: pass \d+", open(log.name).read())) == 1, open(log.name).read()
        netns.exec("ethtool", "-L", "wd0", "rx", "1")
        assert wait_for(lambda: channels(netns, "wd0")[0]["rx"] == 2), open(log.name).read()
        assert wait_for(lambda: "reverted drift on 'wd0': channels rx 1 -> 2" in open(log.name).read())
        time.sleep(1.0)
        assert len(re.findall(r"debug: pass \d+", open(log.name).read())) == 2, open(log.name).read()
    finally:
        w.send_signal(signal.SIGTERM)
        w.wait(timeout=10)
        log.close()


def test_ioctl_backend_applies_and_verifies(netns):
    """The fallback for kernels without the ethtool family: the same plan,
    sets through ETHTOOL_SCHANNELS/SCOALESCE, read back the same way."""
    netns.veth("io0", "io1")
    netns.ip("tuntap", "add", "iot", "mode", "tap")
    d = doc([{"match": {"name": "io0"}, "channels": {"tx": "max"}},
             {"match": {"name": "iot"}, "coalesce": {"rx-frames": 12}}])
    p = netns.agent("--backend", "ioctl", "apply", "--json", "-", input=d)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["changed"] is True
    cur, mx = channels(netns, "io0")
    assert cur["tx"] == mx["tx"]
    assert ethtool_group(netns, "coalesce", "iot") == {"rx-frames": 12}
    p = netns.agent("--backend", "ioctl", "check", "-", input=d)
    assert p.returncode == 0 and "in sync" in p.stdout


def test_dry_run_and_check_show_the_diff_and_touch_nothing(netns):
    netns.veth("dr0", "dr1")
    before = channels(netns, "dr0")
    d = doc([{"match": {"name": "dr0"}, "channels": {"rx": 2}}])
    for cmd, rc in ((["check"], 1), (["apply", "--dry-run"], 0)):
        p = netns.agent(*cmd, "-", input=d)
        assert p.returncode == rc, p.stderr
        assert "--- dr0\n+++ dr0\n-channels rx: 1\n+channels rx: 2\t# <stdin>:" in p.stdout, p.stdout
        assert "may reset the link" in p.stdout
        assert "would change 1 setting on 1 interface" in p.stdout
        assert channels(netns, "dr0") == before


def test_a_set_the_driver_refuses_rolls_back_what_came_before(netns):
    """tun reports channels but cannot set them (no set_channels): the
    kernel's refusal is said with its extended ack, and the veth's feature
    and channels changed earlier in the run are put back."""
    netns.veth("rf0", "rf1")
    netns.ip("tuntap", "add", "rft", "mode", "tap")
    before_ch = channels(netns, "rf0")
    before_k = json.loads(netns.exec("ethtool", "--json", "-k", "rf0").stdout)
    d = doc([{"match": {"name": "rf0"}, "channels": {"rx": 2}, "features": {"gro": "on"}},
             {"match": {"name": "rft"}, "channels": {"combined": 1}}])
    p = netns.agent("apply", "--json", "-", input=d)
    assert p.returncode == 1, p.stderr
    r = json.loads(p.stdout)
    assert r["rolled_back"] is True, r
    assert any(e.startswith("cannot set channels on 'rft': Operation not supported") for e in r["errors"]), r
    assert channels(netns, "rf0") == before_ch
    assert json.loads(netns.exec("ethtool", "--json", "-k", "rf0").stdout) == before_k


def test_check_json_says_which_setting_decides(netns, tmp_path):
    """As "decided" does for features: a later file that overrides an
    earlier one's setting shows, changed or not."""
    netns.veth("dc0", "dc1")
    a, b = tmp_path / "10-a.yaml", tmp_path / "20-b.yaml"
    a.write_text("version: 1\ninterfaces:\n  - match: {name: dc0}\n    channels: {rx: 2, tx: 1}\n")
    b.write_text("version: 1\ninterfaces:\n  - match: {name: dc0}\n    channels: {rx: 1}\n")
    p = netns.agent("check", "--json", str(a), str(b))
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["interfaces"]["dc0"]["decided_settings"] == {
        "channels": {"rx": {"value": 1, "by": f"{b}:4:16"}, "tx": {"value": 1, "by": f"{a}:4:23"}}}
    assert r["interfaces"]["dc0"]["changes"] == []
