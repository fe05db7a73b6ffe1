"""The benchmark driver (bench/bench.py) at a tiny N, quick mode, and its
floor program (bench/floor.c).

Checks the shape of its JSON and that sizes, ratios (to ethtool and to the
floor), growth, watch reactions and targets are computed; that the floor
sends what it should (its apply really sets the feature, its monitor sees
the events).  No timing is asserted: speed is measured by `make bench`,
never judged inside a test.  The wrappers' runs (a minute or two) are left
out here (--no-wrappers); tests/test_ansible.py and test_puppet.py drive
the same wrappers, and the floor's rusage recorder is checked below.
"""
import json
import math
import os
import subprocess

import pytest

from ocutil import ROOT, agent_path, run

BENCH = os.path.join(ROOT, "bench", "bench.py")
FLOOR = os.path.join(ROOT, "build", "bench", "floor")
COMMANDS = {"facts_json", "facts_facter", "ethtool_json_k", "ethtool_k", "check_in_sync",
            "apply", "ethtool_K_loop", "floor_facts", "floor_check", "floor_apply"}
FLOOR_OF = {"facts_json": "floor_facts", "facts_facter": "floor_facts",
            "check_in_sync": "floor_check", "apply": "floor_apply"}


@pytest.fixture(scope="module")
def floor():
    """bench/floor.c, built as make bench builds it (a broken floor fails here)."""
    run(["make", "-C", ROOT, "--no-print-directory", "build/bench/floor"], timeout=300)
    assert os.access(FLOOR, os.X_OK)
    return FLOOR


def number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def check_stat(s, runs):
    assert set(s) >= {"median", "min", "max", "spread_pct", "samples"}
    assert len(s["samples"]) == runs
    assert all(number(v) and v >= 0 for v in s["samples"])
    assert s["min"] <= s["median"] <= s["max"]
    assert number(s["spread_pct"]) and s["spread_pct"] >= 0


def namespaces():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {l.split()[0] for l in out.splitlines() if l.startswith("ocbench-")}


def test_floor_sends_the_requests(netns, floor, tmp_path):
    """facts and check read and print nothing; apply sets the feature on
    every interface of the prefix and no other; the monitor sees both kinds
    of event with the feature's bit."""
    netns.veth("vb0", "vb0p")
    netns.veth("xa", "xb")
    for cmd in (["facts"], ["check"]):
        p = netns.exec(floor, *cmd, check=False)
        assert p.returncode == 0 and p.stdout == "" and p.stderr == "", (cmd, p.stderr)

    def gro(i):
        return netns.ethtool_json(i)["generic-receive-offload"]["active"]

    assert not any(gro(i) for i in ("vb0", "vb0p", "xa"))
    mon = subprocess.Popen(["ip", "netns", "exec", netns.name, floor, "monitor", "rx-gro"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert mon.stdout.readline() == "ready\n"
        assert netns.exec(floor, "apply", "rx-gro", "on", "vb").returncode == 0
        assert gro("vb0") and gro("vb0p") and not gro("xa")
        netns.veth("vb1", "vb1p")
        netns.ethtool_K("vb1", "gro", "on", check=True)
        assert netns.exec(floor, "apply", "rx-gro", "off", "vb").returncode == 0
        assert not any(gro(i) for i in ("vb0", "vb0p", "vb1", "vb1p"))
    finally:
        mon.stdin.close()
        out = mon.stdout.read()
        mon.wait(timeout=10)
    idx = {l.split(":")[1].strip().split("@")[0]: l.split(":")[0]
           for l in netns.ip("-o", "link", "show").stdout.splitlines()}
    ev = [l.split() for l in out.splitlines()]
    assert all(len(e) >= 4 and int(e[0]) > 0 for e in ev), out
    feats = {(e[2], e[3]) for e in ev if e[1] == "feat"}
    for name in ("vb0", "vb0p", "vb1"):
        assert (idx[name], "1") in feats and (idx[name], "0") in feats, (name, out)
    assert not any(e[2] == idx["xa"] for e in ev if e[1] == "feat"), out
    assert any(e[1] == "link" and e[3] in ("vb1", "vb1p") for e in ev), out
    assert mon.returncode == 0
    # Unknown feature: usage error, nothing sent.
    assert netns.exec(floor, "apply", "no-such-feature", "on", "vb", check=False).returncode == 2


def test_floor_rusage_records_the_child(floor, tmp_path):
    log = tmp_path / "rusage.log"
    p = subprocess.run([floor, "rusage", str(log), "/bin/sh", "-c",
                        "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exit 3"])
    assert p.returncode == 3
    p = subprocess.run([floor, "rusage", str(log), "/bin/true"])
    assert p.returncode == 0
    lines = [l.split() for l in log.read_text().splitlines()]
    assert len(lines) == 2 and lines[0][4] == "/bin/sh" and lines[1][4] == "/bin/true"
    assert int(lines[0][0]) + int(lines[0][1]) > 0 and int(lines[0][2]) > 0


def test_bench_quick_json_shape(tmp_path, floor):
    out, md = tmp_path / "bench.json", tmp_path / "bench.md"
    before = namespaces()
    p = subprocess.run(["/usr/bin/python3", BENCH, "--offloadctl", agent_path(), "--sizes", "10,20",
                        "--floor", floor, "--watch-sizes", "10", "--no-wrappers",
                        "--quick", "--json", str(out), "--markdown", str(md)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr + p.stdout
    assert namespaces() <= before, "the benchmark left its namespaces behind"
    doc = json.loads(out.read_text())

    assert doc["schema"] == 1 and doc["quick"] is True and doc["sizes"] == [10, 20]
    m = doc["machine"]
    assert m["nproc"] >= 1 and m["cpu_model"] and m["kernel"] and "ethtool" in m["ethtool"]
    assert set(doc["results"]) == {"10", "20"}
    for n, r in doc["results"].items():
        assert r["interfaces"] == int(n) + 1  # the veths and lo
        assert set(r["commands"]) == COMMANDS
        for name, c in r["commands"].items():
            assert c["cmd"] and c["runs"] == 2, name
            check_stat(c["wall_ms"], c["runs"])
            check_stat(c["cpu_ms"], c["runs"])
            if name == "ethtool_K_loop":
                assert c["maxrss_kib"] is None
            else:
                assert c["maxrss_kib"]["median"] > 0
        s = r["sizes"]
        for k in ("facts_json", "facts_facter", "ethtool_json_k", "ethtool_k"):
            assert s[k + "_bytes"] > 0
            assert s[k + "_bytes_per_iface"] == round(s[k + "_bytes"] / r["interfaces"], 1)
        # The facter document leaves out the per-feature maps: smaller.
        assert s["facts_facter_bytes"] < s["facts_json_bytes"]
        q = r["ratios"]
        assert set(q) >= {"facts_json/ethtool_json_k", "facts_facter/ethtool_k",
                          "check_in_sync/ethtool_k", "ethtool_K_loop/apply"}
        assert all(number(v) and v > 0 for v in q.values())
        c = r["commands"]
        assert q["facts_json/ethtool_json_k"] == round(
            c["facts_json"]["wall_ms"]["median"] / c["ethtool_json_k"]["wall_ms"]["median"], 3)
        for cmd, fl in FLOOR_OF.items():
            assert q[f"{cmd}/{fl}"] == round(
                c[cmd]["wall_ms"]["median"] / c[fl]["wall_ms"]["median"], 3)
            assert number(q[f"cpu:{cmd}/{fl}"])

    assert set(doc["rss_growth"]) >= set(FLOOR_OF) | set(FLOOR_OF.values())
    for r in doc["rss_growth"].values():
        assert set(r["kib"]) == {"10", "20"} and number(r["bytes_per_iface"])

    # watch: every event got its reaction, seen by the monitor.
    assert set(doc["watch"]) == {"10"}
    w = doc["watch"]["10"]
    assert w["spoilt"] == 0 and w["lost_events"] == 0 and w["events"] == 5
    assert w["fights_logged"] == 0
    for kind in ("drift_ms", "appear_ms"):
        st = w[kind]
        assert st["events"] == 5 and 0 < st["best"] <= st["median"] <= st["worst"], st
    for k in ("cpu_ms_per_drift", "cpu_ms_per_appear", "cpu_ms_per_delete", "idle_cpu_ms"):
        assert number(w[k]) and w[k] >= 0, k
    assert w["cpu_ms_per_drift"] > 0  # each revert is a pass of watch
    assert doc["wrappers"] == {}

    v = doc["virt"]
    assert set(v["commands"]) == {"offloadctl_virt", "offloadctl_virt_brief", "systemd_detect_virt"}
    assert number(v["ratios"]["offloadctl_virt/systemd_detect_virt"])

    assert "10->20" in doc["growth"]["facts_json"]
    assert number(doc["growth"]["apply"]["10->20 us/iface"])

    names = [t["target"] for t in doc["targets"]]
    assert len(names) == len(set(names)) >= 12
    assert "facts_json / floor_facts N=20" in names and "apply / floor_apply N=20" in names
    assert "watch reaction, drift, median (ms)" in names
    for t in doc["targets"]:
        assert t["op"] in ("<=", ">=") and number(t["limit"])
        assert number(t["measured"]) and isinstance(t["met"], bool), t
        if t["measured_cpu"] is not None:
            assert number(t["measured_cpu"]) and isinstance(t["met_cpu"], bool), t
    assert any(t["target"] == "facter bytes per interface" for t in doc["targets"])

    text = md.read_text()
    assert "| target |" in text and "facts_json" in text and "floor_apply" in text
    assert "| watch, N |" in text
    assert p.stdout == text + \
        f"elapsed: {doc['elapsed_s']} s\n"

