"""`offloadctl names`: the agent's one vocabulary, exported.

The word sets live once in the agent (agent/src/model/vocab.c for the
virtualisation words and the exit codes, model/features.c for ethtool's
legacy names and the kernel names known without a kernel, desired-state.c
for the words of `defaults`).  The schemas (tests/test_schema_desired.py) and
everything here compare against the export, never against C source.
"""
import glob
import json
import os
import re
import subprocess

import pytest

from ocutil import ROOT, agent

VIRT_FIXTURES = os.path.join(ROOT, "tests", "fixtures", "virt")


@pytest.fixture(scope="module")
def names():
    p = agent("names", "--json")
    assert p.returncode == 0 and p.stderr == "", p.stderr
    return json.loads(p.stdout)


def test_the_document(names):
    assert set(names) == {"virtualization", "features", "exit_codes", "policies", "settings"}
    assert list(names["settings"]) == ["rings", "channels", "coalesce", "pause", "eee"]
    assert names["settings"]["channels"] == {"rx": "count", "tx": "count", "other": "count",
                                             "combined": "count"}
    assert names["settings"]["eee"]["active"] == "reported"
    v = names["virtualization"]
    assert v["vm"][0] == "none" and v["container"][0] == "none"
    assert "vm-other" in v["vm"] and "container-other" in v["container"]
    assert v["conditions"] == ["vm", "container", "xen-dom0", "xen-domU"]
    # match takes every word once
    assert len(v["match"]) == len(set(v["match"]))
    assert set(v["match"]) == set(v["vm"]) | set(v["container"]) | set(v["conditions"])
    legacy = names["features"]["legacy"]
    assert {"short": "tx", "long": "tx-checksumming", "kernel": "tx-checksum-*"} in legacy
    assert all(row["kernel"].count("*") <= 1 for row in legacy)
    kernel = names["features"]["kernel"]
    assert len(kernel) == len(set(kernel)) and "tx-checksum-ip-generic" in kernel
    assert names["policies"]["fixed-feature"] == ["warn", "error"]


def test_exit_codes_are_the_contracts_and_the_man_pages(names):
    codes = {e["code"]: e["name"] for e in names["exit_codes"]}
    assert codes == {0: "ok", 1: "not-in-sync", 2: "usage", 3: "environment"}
    man = open(os.path.join(ROOT, "agent", "man", "offloadctl.8"), encoding="utf-8").read()
    section = man[man.index('.SH "EXIT STATUS"'):]
    for code in codes:
        assert re.search(rf"^\.B {code}$", section, re.M), code


def test_exit_codes_are_what_the_agent_returns(names, tmp_path):
    usage = next(e["code"] for e in names["exit_codes"] if e["name"] == "usage")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 2\n")
    assert agent("validate", str(bad)).returncode == usage
    assert agent("names", "--no-such-option").returncode == usage
    ok = next(e["code"] for e in names["exit_codes"] if e["name"] == "ok")
    assert agent("names").returncode == ok


def test_every_word_detection_gives_is_in_the_vocabulary(names):
    """The words virt_detect() writes come from probes' tables; each one a
    fixture tree produces is a word of the vocabulary."""
    seen = set()
    for path in glob.glob(os.path.join(VIRT_FIXTURES, "*", "expected.json")):
        with open(path) as f:
            want = json.load(f)
        assert want["vm"] in names["virtualization"]["vm"], path
        assert want["container"] in names["virtualization"]["container"], path
        seen |= {want["vm"], want["container"]}
    assert len(seen) >= 8


def test_text_says_the_same(names):
    p = agent("names")
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert f"virtualization vm: {' '.join(names['virtualization']['vm'])}" in lines
    assert f"virtualization container: {' '.join(names['virtualization']['container'])}" in lines
    for row in names["features"]["legacy"]:
        assert any(ln.split() == [row["short"], row["long"], row["kernel"]] for ln in lines), row
    for e in names["exit_codes"]:
        assert any(ln.split()[:2] == [str(e["code"]), e["name"]] for ln in lines), e


def test_the_puppet_modules_copy_of_the_legacy_names_agrees(names):
    """The Puppet module still keeps ethtool's legacy names (its type expands
    them offline); until it takes them from the agent, its table must be the
    agent's.  Ruby evaluates the module's constant: no text is scraped."""
    lib = os.path.join(ROOT, "modules", "puppet", "lib", "puppet_x", "offloadctl", "desired_state.rb")
    p = subprocess.run(["ruby", "-e", f'require {json.dumps(lib)}; '
                        'puts JSON.generate(PuppetX::Offloadctl::Names::LEGACY)'],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == [[r["short"], r["long"], r["kernel"]]
                                    for r in names["features"]["legacy"]]
