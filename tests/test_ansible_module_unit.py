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


def test_onoff(mod):
    assert mod._onoff(True) == "on" and mod._onoff(False) == "off"
    assert mod._onoff("off") == "off" and mod._onoff(3) == 3 and mod._onoff(None) is None


def test_rules_become_a_document_with_agent_words(mod):
    text = mod.build_document(params(rules=[{"match": {"kind": "veth"}, "features": {"tx": False, "gro": True, "sg": "off"}}],
                                     defaults={"missing-interface": "ignore"}))
    doc = yaml.safe_load(text)
    assert doc == {"version": 1, "defaults": {"missing-interface": "ignore"},
                   "interfaces": [{"match": {"kind": "veth"}, "features": {"tx": "off", "gro": "on", "sg": "off"}}]}
    # one key a line, so the agent's file:line messages point somewhere useful
    assert text.count("\n") > 10 and text.endswith("\n")
    # and the agent reads it as a valid desired state
    p = agent("validate", "-", input=text)
    assert p.returncode == 0, p.stderr


def test_a_whole_document_keeps_its_version_and_gets_a_default_one(mod):
    doc = yaml.safe_load(mod.build_document(params(desired_state={"interfaces": [{"match": {"name": "eth*"}, "features": {"tx": False}}]})))
    assert doc["version"] == 1 and doc["interfaces"][0]["features"] == {"tx": "off"}
    doc = yaml.safe_load(mod.build_document(params(desired_state={"version": 1, "defaults": {"fixed-feature": "warn"}, "interfaces": []})))
    assert doc == {"version": 1, "defaults": {"fixed-feature": "warn"}, "interfaces": []}


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
