"""Unit tests of the pure parts of the Ansible module offloadctl_state
(roles/ansible/library/offloadctl_state.py, offloadctl.offloadctl.offloadctl_state
in the collection): the document it hands the agent, and the diff and
per-interface result it makes of the agent's report."""
import importlib.util
import json
import os

import pytest
import yaml

from ocutil import ROOT, agent

MODULE_PATH = os.path.join(ROOT, "roles", "ansible", "library", "offloadctl_state.py")


@pytest.fixture(scope="module")
def mod():
    spec = importlib.util.spec_from_file_location("offloadctl_state", MODULE_PATH)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def params(**kw):
    p = dict(rules=None, defaults=None, desired_state=None, path=None, netns="", config_dir=None,
             executable="offloadctl", lock_timeout=None)
    p.update(kw)
    return p


REPORT = {
    "changed": True, "in_sync": True,
    "interfaces": {
        "veth1": {"changes": [{"feature": "rx-gro", "from": "off", "to": "on", "rule": "-:9"}], "side_effects": []},
        "veth0": {
            "changes": [{"feature": "tx-checksum-ip-generic", "from": "on", "to": "off", "rule": "-:7"}],
            "side_effects": [{"feature": "tx-tcp-segmentation", "from": "on", "to": "off"}],
        },
        "lo": {"changes": [], "side_effects": []},
    },
    "warnings": [], "errors": [], "rolled_back": False,
}


def test_rules_go_to_the_agent_as_given_and_it_reads_them(mod):
    """No word list of the module's own: booleans stay JSON booleans, strings
    stay strings, and the agent accepts the document as it is."""
    text = mod.build_document(params(rules=[{"match": {"kind": "veth"}, "features": {"tx": False, "gro": True, "sg": "off"}}],
                                     defaults={"missing-interface": "ignore"}))
    assert json.loads(text) == {"version": 1, "defaults": {"missing-interface": "ignore"},
                                "interfaces": [{"match": {"kind": "veth"}, "features": {"tx": False, "gro": True, "sg": "off"}}]}
    # one key a line, so the agent's file:line messages point somewhere useful
    assert text.count("\n") > 10 and text.endswith("\n")
    p = agent("validate", "-", input=text)
    assert p.returncode == 0, p.stderr


def test_a_value_the_agent_refuses_is_refused_by_the_agent_with_its_line(mod):
    text = mod.build_document(params(rules=[{"match": {"kind": "veth"}, "features": {"tx": "sideways"}}]))
    p = agent("validate", "-", input=text)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "sideways" in ln)
    assert p.returncode == 2 and f"<stdin>:{line}:" in p.stderr, p.stderr


def test_a_whole_document_keeps_its_version_and_gets_a_default_one(mod):
    doc = yaml.safe_load(mod.build_document(params(desired_state={"interfaces": [{"match": {"name": "eth*"}, "features": {"tx": False}}]})))
    assert doc["version"] == 1 and doc["interfaces"][0]["features"] == {"tx": False}
    doc = yaml.safe_load(mod.build_document(params(desired_state={"version": 1, "defaults": {"fixed-feature": "warn"}, "interfaces": []})))
    assert doc == {"version": 1, "defaults": {"fixed-feature": "warn"}, "interfaces": []}


def test_exit_meaning_comes_from_the_agent(mod):
    """The words for an exit status the agent printed nothing about are the
    agent's own (offloadctl names --json)."""
    import subprocess
    from ocutil import agent_path

    class M:
        def run_command(self, cmd):
            p = subprocess.run(cmd, capture_output=True, text=True)
            return p.returncode, p.stdout, p.stderr
    names = json.loads(agent("names", "--json").stdout)["exit_codes"]
    want = next(c["meaning"] for c in names if c["code"] == 3)
    assert mod.exit_meaning(M(), agent_path(), 3) == f"exit status 3: {want}"
    assert mod.exit_meaning(M(), agent_path(), 77) == "exit status 77"


def test_no_document_for_a_path_or_the_configuration_set(mod):
    assert mod.build_document(params(path="/etc/offloadctl/offloadctl.yaml")) is None
    assert mod.build_document(params()) is None


def test_rules_are_not_changed_in_place(mod):
    rules = [{"match": {"kind": "veth"}, "features": {"tx": False}}]
    mod.build_document(params(rules=rules))
    assert rules == [{"match": {"kind": "veth"}, "features": {"tx": False}}]


def test_an_empty_defaults_is_left_out(mod):
    assert "defaults" not in yaml.safe_load(mod.build_document(params(rules=[], defaults={})))


def test_features_diff_before_and_after(mod):
    d = mod.features_diff(REPORT)
    assert list(d) == ["veth0", "veth1"]  # sorted; lo had nothing
    assert d["veth0"] == {"before": {"tx-checksum-ip-generic": "on", "tx-tcp-segmentation": "on"},
                          "after": {"tx-checksum-ip-generic": "off", "tx-tcp-segmentation": "off"}}
    assert d["veth1"] == {"before": {"rx-gro": "off"}, "after": {"rx-gro": "on"}}
    assert mod.features_diff({"interfaces": None}) == {} and mod.features_diff({}) == {}


def test_module_diff_marks_side_effects_and_names_the_namespace(mod):
    diffs = mod.module_diff(REPORT, "blue")
    assert [d["before_header"] for d in diffs] == ["veth0 (netns blue): features before",
                                                   "veth1 (netns blue): features before"]
    assert diffs[0]["before"] == "tx-checksum-ip-generic: on\ntx-tcp-segmentation: on\n"
    assert diffs[0]["after"] == "tx-checksum-ip-generic: off\ntx-tcp-segmentation: off  # side effect\n"
    assert mod.module_diff(REPORT, "")[1]["after_header"] == "veth1: features after"
    assert mod.module_diff({"interfaces": {}}, "") == []


def test_documentation_is_yaml_and_matches_the_argument_spec(mod):
    doc = yaml.safe_load(mod.DOCUMENTATION)
    assert doc["module"] == "offloadctl_state"
    assert doc["author"] == ["offloadctl maintainers (@offloadctl)"]
    for attr in ("check_mode", "diff_mode"):
        assert doc["attributes"][attr]["description"] and doc["attributes"][attr]["support"] == "full"
    assert set(doc["options"]) == set(params())
    examples = yaml.safe_load(mod.EXAMPLES)
    assert all("offloadctl.offloadctl.offloadctl_state" in task for task in examples)  # FQCN
    yaml.safe_load(mod.RETURN)
    json.dumps(doc)


def test_settings_of_the_groups_in_the_diff_and_the_scope_judgement(mod, netns):
    """A real report of the agent with a channels change beside a feature
    change (veth has rx/tx channels, max 2): the diff names the setting as
    the agent's text diff does and marks the link reset; the scope's
    judgement (decided_settings) finds it ours, or a later file's."""
    netns.veth("cg0", "cg1")
    doc = mod.build_document(params(rules=[{"match": {"name": "cg0"}, "channels": {"rx": "max"},
                                            "features": {"tx": "off"}}]))
    p = netns.agent("check", "--json", "-", input=doc)
    assert p.returncode == 1, p.stderr
    report = json.loads(p.stdout)
    d = mod.features_diff(report)["cg0"]
    assert d["before"]["channels rx"] == 1 and d["after"]["channels rx"] == 2, d
    assert d["after"]["tx-checksum-ip-generic"] == "off", d
    after = mod.module_diff(report, "")[0]["after"]
    assert "channels rx: 2  # may reset the link\n" in after, after
    assert "tx-checksum-ip-generic: off\n" in after, after
    # decided_settings: which file decides the setting
    assert mod.decisions(report["interfaces"]["cg0"])["channels rx"].startswith("<stdin>:"), report
    assert mod.ours_out_of_sync(report, "<stdin>") == ["cg0"]
    later = json.loads(json.dumps(report))
    later["interfaces"]["cg0"]["decided_settings"]["channels"]["rx"]["by"] = "/etc/offloadctl/conf.d/60-local.yaml:5:13"
    assert ("cg0", "channels rx", "/etc/offloadctl/conf.d/60-local.yaml:5:13") in mod.overrides(report, later, "<stdin>")
    assert mod.ours_out_of_sync(later, "<stdin>") == ["cg0"]  # the feature is still ours
    del later["interfaces"]["cg0"]["decided"]
    assert mod.ours_out_of_sync(later, "<stdin>") == []
