"""Prometheus: `facts --format prometheus`, `watch --metrics-file` and the
metrics unit, read by Debian's prometheus-node-exporter (textfile collector
on 127.0.0.1, a directory of the test's own), scraped over HTTP and checked
by `promtool check metrics` (Debian's prometheus)."""
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from ocutil import ROOT, agent_path, run
from test_install import unit_settings
from test_watch import Watcher, wait_for

EXPORTER = "/usr/bin/prometheus-node-exporter"
PROMTOOL = "/usr/bin/promtool"
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def samples(text):
    """[(name, {label: value}, float)] of a text exposition."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        out.append((m.group(1), dict(LABEL.findall(m.group(2) or "")), float(m.group(3))))
    return out


def value(text, name, **labels):
    found = [v for n, l, v in samples(text) if n == name and all(l.get(k) == x for k, x in labels.items())]
    assert len(found) == 1, f"{name}{labels}: {len(found)} samples"
    return found[0]


def promtool_check(text):
    for tool in (PROMTOOL, EXPORTER):
        if not os.access(tool, os.X_OK):
            pytest.fail(f"{tool} is missing: scripts/install-deps check installs it")
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
    assert p.returncode == 0, f"promtool check metrics:\n{p.stdout}{p.stderr}"
    return p


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Exporter:
    """prometheus-node-exporter on loopback, the textfile collector alone."""

    def __init__(self, textdir, log):
        self.port = free_port()
        self.log = open(log, "w+")
        self.p = subprocess.Popen(
            [EXPORTER, f"--web.listen-address=127.0.0.1:{self.port}", "--collector.disable-defaults",
             "--collector.textfile", f"--collector.textfile.directory={textdir}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        assert wait_for(self._up, 15), self.text()

    def _up(self):
        try:
            self.scrape()
            return True
        except OSError:
            return False

    def scrape(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
            return r.read().decode()

    def text(self):
        self.log.flush()
        return open(self.log.name).read()

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
        self.log.close()


@pytest.fixture
def exporter(tmp_path):
    if not os.access(EXPORTER, os.X_OK):
        pytest.fail(f"{EXPORTER} is missing: scripts/install-deps check installs it")
    textdir = tmp_path / "textfile"
    textdir.mkdir()
    e = Exporter(str(textdir), str(tmp_path / "exporter.log"))
    e.dir = textdir
    yield e
    e.stop()


def test_facts_prometheus_format(netns):
    netns.veth("pa", "pb")
    netns.ethtool_K("pa", "tx", "off", "gro", "on", check=True)
    text = netns.agent("facts", "--format", "prometheus", check=True).stdout
    promtool_check(text)
    facts = netns.facts()
    # every feature of every interface, three gauges each, as the facts say
    for ifname in ("lo", "pa", "pb"):
        for feat, st in facts["interfaces"][ifname]["features"].items():
            for state in ("active", "requested", "fixed"):
                assert value(text, f"offloadctl_feature_{state}", interface=ifname, feature=feat) == \
                    float(st[state]), (ifname, feat, state)
    assert value(text, "offloadctl_feature_active", interface="pa", feature="tx-checksum-ip-generic") == 0
    assert value(text, "offloadctl_feature_active", interface="pb", feature="tx-checksum-ip-generic") == 1
    assert value(text, "offloadctl_offload_active", interface="pa", offload="tx-checksumming") == 0
    assert value(text, "offloadctl_offload_active", interface="pa", offload="generic-receive-offload") == 1
    # a summary line of several features has active only (no null in metrics)
    assert not [s for s in samples(text) if s[0] == "offloadctl_offload_fixed"
                and s[1]["offload"] == "tx-checksumming"]
    assert value(text, "offloadctl_interface_info", interface="pa", kind="veth", driver="veth") == 1
    assert value(text, "offloadctl_interface_info", interface="lo", kind="", driver="") == 1
    v = facts["virtualization"]
    assert value(text, "offloadctl_virtualization_info", vm=v["vm"], container=v["container"],
                 role=v["role"], hypervisor_vendor=v["hypervisor_vendor"] or "") == 1
    assert value(text, "offloadctl_info", version=facts["agent_version"]) == 1
    # rings, channels, ...: what the facts say (veth: channels rx and tx)
    ch = facts["interfaces"]["pa"]["channels"]
    assert value(text, "offloadctl_setting", interface="pa", group="channels", setting="rx") == ch["rx"]
    assert value(text, "offloadctl_setting_max", interface="pa", group="channels", setting="tx") == ch["max"]["tx"]
    assert not [s for s in samples(text) if s[0] == "offloadctl_setting" and s[1]["interface"] == "lo"]
    # globs select interfaces, as for the other formats
    only = netns.agent("facts", "--format", "prometheus", "pa", check=True).stdout
    assert {l["interface"] for n, l, _ in samples(only) if "interface" in l} == {"pa"}


def test_facts_output_is_atomic_and_says_what_failed(netns, tmp_path):
    netns.veth("pc", "pd")
    out = tmp_path / "facts.prom"
    out.write_text("old\n")
    p = netns.agent("facts", "--format", "prometheus", "--output", str(out), check=True)
    assert p.stdout == ""
    assert os.listdir(tmp_path) == ["facts.prom"]  # no temporary file left
    assert oct(out.stat().st_mode & 0o777) == oct(0o644)  # node_exporter runs as another user
    promtool_check(out.read_text())
    # the other formats too
    p = netns.agent("facts", "--format", "facter", "--output", str(tmp_path / "f.json"), check=True)
    assert '"offloadctl"' in (tmp_path / "f.json").read_text()
    p = netns.agent("facts", "--format", "prometheus", "--output", str(tmp_path / "no" / "such.prom"))
    assert p.returncode == 3 and "no/such.prom" in p.stderr, p.stderr
    assert out.read_text().startswith("# HELP offloadctl_info")


def test_node_exporter_serves_facts_and_watch_counters(netns, tmp_path, exporter):
    netns.veth("pe", "pf")
    conf = tmp_path / "etc"
    (conf / "conf.d").mkdir(parents=True)
    (conf / "offloadctl.yaml").write_text(
        "version: 1\ninterfaces:\n  - match: {name: 'p*'}\n    features: {tx: off}\n")
    watch_prom = exporter.dir / "offloadctl-watch.prom"
    w = Watcher(netns, str(conf), "--metrics-file", str(watch_prom))
    try:
        assert wait_for(lambda: watch_prom.exists(), 5), w.text()
        assert wait_for(lambda: netns.ethtool_json("pe")["tx-checksumming"]["active"] is False, 5)
        # drift, twice: two reverts
        for _ in range(2):
            time.sleep(0.3)
            netns.ethtool_K("pe", "tx", "on", check=True)
            assert wait_for(lambda: netns.ethtool_json("pe")["tx-checksumming"]["active"] is False, 5), w.text()
        # a revert is a feature put back: as many as the log says, two each time
        reverted = lambda: len(re.findall(r"reverted drift on 'pe'", w.text()))  # noqa: E731
        assert wait_for(lambda: f"offloadctl_watch_reverts_total {reverted()}\n" in watch_prom.read_text()
                        and reverted() == 4, 5), watch_prom.read_text() + w.text()
        initial = len(re.findall(r"offloadctl: set '", w.text()))
        assert initial == 4, w.text()  # tx-checksum-ip-generic and -sctp on pe and pf
        # a broken configuration: a reload error, the old one stays
        (conf / "conf.d" / "50-bad.yaml").write_text("version: 1\ninterfaces:\n  - match: {name: x}\n    features: {txx: off}\n")
        assert wait_for(lambda: "offloadctl_watch_reload_errors_total 1" in watch_prom.read_text(), 5), w.text()
        (conf / "conf.d" / "50-bad.yaml").unlink()
        assert wait_for(lambda: "offloadctl_watch_reloads_total 1" in watch_prom.read_text(), 5), w.text()
        # the facts, as the metrics unit writes them
        netns.agent("facts", "--format", "prometheus", "--output", str(exporter.dir / "offloadctl.prom"), check=True)

        scraped = exporter.scrape()
        promtool_check(scraped)
        assert value(scraped, "offloadctl_watch_reverts_total") == 4
        assert value(scraped, "offloadctl_watch_changes_total", reason="initial") == initial
        assert value(scraped, "offloadctl_watch_changes_total", reason="drift") == 4
        assert value(scraped, "offloadctl_watch_changes_total", reason="new-interface") == 0
        assert value(scraped, "offloadctl_watch_reload_errors_total") == 1
        assert value(scraped, "offloadctl_watch_failed_passes_total") == 0
        assert value(scraped, "offloadctl_watch_passes_total") >= 3
        assert value(scraped, "offloadctl_watch_interfaces") == 3
        assert value(scraped, "offloadctl_watch_last_success_timestamp_seconds") > time.time() - 60
        assert value(scraped, "offloadctl_feature_active", interface="pe", feature="tx-checksum-ip-generic") == 0
        assert value(scraped, "offloadctl_feature_fixed", interface="lo", feature="rx-lro") == 1
        # node_exporter read both files without error
        for n, l, v in samples(scraped):
            if n == "node_textfile_scrape_error":
                assert v == 0, scraped
        mtimes = {l["file"] for n, l, v in samples(scraped) if n == "node_textfile_mtime_seconds"}
        assert {os.path.basename(f) for f in mtimes} == {"offloadctl.prom", "offloadctl-watch.prom"}
        assert w.stop() == 0
        # watch writes its counters once more on the way out; no temporary files
        assert sorted(os.listdir(exporter.dir)) == ["offloadctl-watch.prom", "offloadctl.prom"]
    finally:
        w.stop(signal.SIGKILL)


def test_metrics_unit_command_feeds_node_exporter(netns, tmp_path, exporter):
    """offloadctl-metrics.service's ExecStart, run as the timer starts it
    (its directory swapped for the test's), gives node_exporter a file it
    serves; a second run replaces it with the new state."""
    s = unit_settings(os.path.join(ROOT, "systemd", "offloadctl-metrics.service"))
    (cmd,) = s["ExecStart"]
    (rw,) = s["ReadWritePaths"]
    argv = cmd.replace(rw, str(exporter.dir)).split()
    assert argv[0] == "/usr/sbin/offloadctl"
    argv[0] = agent_path()
    netns.veth("pg", "ph")
    run(["ip", "netns", "exec", netns.name, *argv])
    scraped = exporter.scrape()
    promtool_check(scraped)
    assert value(scraped, "offloadctl_feature_active", interface="pg", feature="tx-checksum-ip-generic") == 1
    netns.ethtool_K("pg", "tx", "off", check=True)
    run(["ip", "netns", "exec", netns.name, *argv])
    scraped = exporter.scrape()
    assert value(scraped, "offloadctl_feature_active", interface="pg", feature="tx-checksum-ip-generic") == 0
    assert os.listdir(exporter.dir) == ["offloadctl.prom"]


def test_watch_counts_fights_and_refusals(netns, tmp_path, exporter):
    """Another writer that keeps setting tx on is a fight (watch backs off);
    a rule the kernel refuses is a refusal; both counted, and served."""
    netns.veth("pk0", "pk1")
    netns.veth("pr0", "pr1")
    conf = tmp_path / "etc"
    (conf / "conf.d").mkdir(parents=True)
    (conf / "offloadctl.yaml").write_text(
        "version: 1\ninterfaces:\n  - match: {name: pk0}\n    features: {tx: off}\n"
        "  - match: {name: pr0}\n    features: {tx: off, tso: on}\n")
    prom = exporter.dir / "offloadctl-watch.prom"
    w = Watcher(netns, str(conf), "--metrics-file", str(prom))
    try:
        assert wait_for(lambda: prom.exists() and netns.ethtool_json("pk0")["tx-checksumming"]["active"] is False, 5), w.text()
        refusals = lambda: value(prom.read_text(), "offloadctl_watch_refusals_total")  # noqa: E731
        assert wait_for(lambda: refusals() >= 1, 5), prom.read_text() + w.text()
        end = time.monotonic() + 4
        while time.monotonic() < end and "fight over 'pk0'" not in w.text():
            netns.ethtool_K("pk0", "tx", "on")
            time.sleep(0.2)
        assert "fight over 'pk0'" in w.text(), w.text()
        assert wait_for(lambda: "offloadctl_watch_fights_total 1\n" in prom.read_text(), 5), prom.read_text()
        scraped = exporter.scrape()
        promtool_check(scraped)
        assert value(scraped, "offloadctl_watch_fights_total") == 1
        assert value(scraped, "offloadctl_watch_refusals_total") >= 1
        assert value(scraped, "offloadctl_watch_reverts_total") >= 5
        # a refusal is the interface's, not a failed pass
        assert value(scraped, "offloadctl_watch_failed_passes_total") == 0
        assert w.stop() == 0
    finally:
        w.stop(signal.SIGKILL)
