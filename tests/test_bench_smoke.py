"""The benchmark driver (bench/bench.py) at a tiny N, quick mode.

Checks the shape of its JSON and that sizes, ratios, growth and targets are
computed.  No timing is asserted: speed is measured by `make bench`, never
judged inside a test.
"""
import json
import math
import os
import subprocess

from ocutil import ROOT, agent_path

BENCH = os.path.join(ROOT, "bench", "bench.py")
COMMANDS = {"facts_json", "facts_facter", "ethtool_json_k", "ethtool_k", "check_in_sync",
            "apply", "ethtool_K_loop"}


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


def test_bench_quick_json_shape(tmp_path):
    out, md = tmp_path / "bench.json", tmp_path / "bench.md"
    before = namespaces()
    p = subprocess.run(["/usr/bin/python3", BENCH, "--offloadctl", agent_path(), "--sizes", "10,20",
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

    v = doc["virt"]
    assert set(v["commands"]) == {"offloadctl_virt", "offloadctl_virt_brief", "systemd_detect_virt"}
    assert number(v["ratios"]["offloadctl_virt/systemd_detect_virt"])

    assert "10->20" in doc["growth"]["facts_json"]
    assert number(doc["growth"]["apply"]["10->20 us/iface"])

    names = [t["target"] for t in doc["targets"]]
    assert len(names) == len(set(names)) >= 12
    for t in doc["targets"]:
        assert t["op"] in ("<=", ">=") and number(t["limit"])
        assert number(t["measured"]) and isinstance(t["met"], bool), t
        if t["measured_cpu"] is not None:
            assert number(t["measured_cpu"]) and isinstance(t["met_cpu"], bool), t
    assert any(t["target"] == "facter bytes per interface" for t in doc["targets"])

    text = md.read_text()
    assert "| target |" in text and "facts_json" in text and p.stdout == text + \
        f"elapsed: {doc['elapsed_s']} s\n"

