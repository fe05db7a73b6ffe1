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


# The code of the wrappers (docs aside): what runs on a node.
WRAPPER_CODE = [os.path.join(ROOT, "modules", "puppet", d) for d in ("lib", "manifests", "types", "templates", "facts.d")] + \
    [os.path.join(ROOT, "roles", "ansible", d) for d in ("library", "tasks", "templates", "vars", "defaults", "files")]


def _wrapper_files():
    for top in WRAPPER_CODE:
        for root, _dirs, files in os.walk(top):
            for f in files:
                yield os.path.join(root, f)


def test_the_wrappers_keep_no_copy_of_the_vocabulary(names):
    """The Puppet module and the Ansible role take names, their expansion
    and the words for on and off from the agent (issue 14, point 5): none
    of ethtool's legacy kernel patterns, no pair of a legacy short and long
    name, no list of the agent's value or exit words is in their code."""
    words = [r["kernel"] for r in names["features"]["legacy"] if "*" in r["kernel"]]
    pairs = [re.compile(rf"""['"]{re.escape(r['short'])}['"]\s*[,:=>]+\s*['"]{re.escape(r['long'])}['"]""")
             for r in names["features"]["legacy"]]
    lists = [re.compile(r"""['"]on['"],\s*['"]true['"],\s*['"]yes['"]"""),
             re.compile(r"""['"]off['"],\s*['"]false['"],\s*['"]no['"]"""),
             re.compile(r"""Enum\[\s*'ignore',\s*'warn',\s*'error'\s*\]"""),
             re.compile(r"""Enum\[\s*'on',\s*'off'"""),
             re.compile(r"""\[\s*['"]on['"],\s*['"]off['"]\s*\]"""),
             re.compile(r"""\{\s*0:\s*["'][^"']+["'],\s*1:""")]  # a table of exit statuses
    lists += [re.compile(re.escape(e["meaning"])) for e in names["exit_codes"]]
    found = []
    for path in _wrapper_files():
        text = open(path, errors="replace").read()
        found += [(path, w) for w in words if w in text]
        found += [(path, r.pattern) for r in pairs + lists if r.search(text)]
    assert found == [], found
    assert len(list(_wrapper_files())) > 20  # the walk found the wrappers
