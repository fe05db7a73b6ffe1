"""facts/desired-state.schema.json: the JSON Schema of the desired state.

Every example and good file passes it; every bad file whose fault is visible
in the data (types, unknown keys and names, values, missing keys) fails it.
Faults that only the YAML text shows (syntax, tabs, duplicate keys, aliases,
encodings, several documents) are `offloadctl validate`'s alone.  The word
lists in the schema are written by scripts/schema-gen.py from `offloadctl
names --json`, and checked against it here (never against C source).
"""
import json
import os
import subprocess
import sys

import pytest
import yaml
from jsonschema import Draft202012Validator

from ocutil import ROOT, agent, agent_path

SCHEMA_PATH = os.path.join(ROOT, "facts", "desired-state.schema.json")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "desired")
BAD = os.path.join(FIXTURES, "bad")
GOOD = os.path.join(FIXTURES, "good")
EXAMPLES = os.path.join(ROOT, "examples")
WARN = os.path.join(FIXTURES, "warn")

# Bad files whose fault the schema sees (PyYAML loads them; the data is wrong).
SCHEMA_DETECTABLE = [
    "wrong-type-interfaces-mapping", "wrong-type-match-list", "wrong-type-features-list",
    "wrong-type-rule-string", "wrong-type-root-list", "wrong-type-root-string",
    "wrong-type-defaults-string", "wrong-type-name-mapping", "wrong-type-feature-value-list",
    "wrong-type-name-item-list",
    "unknown-key-top", "unknown-key-rule", "unknown-key-match", "unknown-key-defaults",
    "unknown-key-far",
    "version-2", "version-missing", "version-quoted", "version-null",
    "bool-maybe", "bool-null", "bool-number", "bool-enable",
    "settings-unknown-name", "settings-bad-value", "settings-read-only",
    "virt-unknown", "virt-unknown-in-list",
    "defaults-bad-missing", "defaults-bad-fixed",
    "rule-without-match", "rule-without-features", "rule-empty-mapping",
    "match-empty", "features-empty", "name-empty-list", "name-null", "name-empty-string",
    "mac-bad", "empty", "comments-only", "document-marker-only", "several-errors",
]


@pytest.fixture(scope="module")
def validator():
    with open(SCHEMA_PATH) as f:
        schema = json.load(f)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def yaml_files(d):
    return sorted(f for f in os.listdir(d) if f.endswith(".yaml"))


def test_schema_is_a_2020_12_schema():
    with open(SCHEMA_PATH) as f:
        schema = json.load(f)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert schema["required"] == ["version"]


@pytest.mark.parametrize("path", [os.path.join(EXAMPLES, f) for f in yaml_files(EXAMPLES)]
                         + [os.path.join(GOOD, f) for f in yaml_files(GOOD)],
                         ids=os.path.basename)
def test_good_passes(validator, path):
    errors = list(validator.iter_errors(load(path)))
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize("name", SCHEMA_DETECTABLE)
def test_bad_fails(validator, name):
    path = os.path.join(BAD, name + ".yaml")
    assert os.path.exists(path)
    assert not validator.is_valid(load(path))
    # ...and the agent agrees.
    assert agent("validate", path).returncode == 2


def test_most_of_the_corpus_is_schema_detectable():
    assert len(SCHEMA_DETECTABLE) >= 35
    assert len(set(SCHEMA_DETECTABLE)) == len(SCHEMA_DETECTABLE)


@pytest.fixture(scope="module")
def names():
    p = agent("names", "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_schema_is_generated_from_the_agents_names():
    p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "schema-gen.py"), "--check",
                        agent_path()], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_feature_names_match_the_agent(validator, names):
    known = set(validator.schema["$defs"]["feature_name"]["anyOf"][0]["enum"])
    legacy = {n for row in names["features"]["legacy"] for n in (row["short"], row["long"])}
    assert known == legacy | set(names["features"]["kernel"])
    assert {"tx", "tx-checksumming", "tx-checksum-ip-generic"} <= known


@pytest.mark.parametrize("name", sorted(f for f in os.listdir(WARN) if f.endswith(".yaml")))
def test_names_the_agent_only_warns_about_pass(validator, name):
    """A name outside the static table is the kernel's to judge: the schema
    lets it through as validate does (with a warning)."""
    assert validator.is_valid(load(os.path.join(WARN, name)))
    assert agent("validate", os.path.join(WARN, name)).returncode == 0


def test_defaults_words_match_the_agent(validator, names):
    props = validator.schema["properties"]["defaults"]["properties"]
    assert {k: v["enum"] for k, v in props.items()} == names["policies"]


def test_virtualization_words_match_the_agent(validator, names, tmp_path):
    words = validator.schema["$defs"]["virt_word"]["enum"]
    v = names["virtualization"]
    assert set(words) == set(v["vm"]) | set(v["container"]) | set(v["conditions"])
    assert sorted(words) == sorted(v["match"])
    # Every word the schema allows, the agent accepts.
    doc = {"version": 1, "interfaces": [
        {"match": {"virtualization": words}, "features": {"tx": False}}]}
    path = tmp_path / "words.yaml"
    path.write_text(json.dumps(doc))  # JSON is YAML
    assert validator.is_valid(doc)
    p = agent("validate", str(path))
    assert p.returncode == 0, p.stderr
    doc["interfaces"][0]["match"]["virtualization"] = ["hyperv"]
    assert not validator.is_valid(doc)


def test_facts_schema_words_match_the_agent(names):
    with open(os.path.join(ROOT, "facts", "facts.schema.json")) as f:
        virt = json.load(f)["$defs"]["virtualization"]["properties"]
    assert virt["vm"]["enum"] == names["virtualization"]["vm"]
    assert virt["container"]["enum"] == names["virtualization"]["container"]


def test_schema_takes_the_groups_and_accepts_null_interfaces(validator):
    rule = {"match": {"name": "eth0"}, "features": {"tx": "off"}}
    assert validator.is_valid({"version": 1, "interfaces": [rule]})
    assert validator.is_valid({"version": 1, "interfaces": None})
    for key in ("rings", "channels", "coalesce", "pause", "eee"):
        # an empty group, and a name the group does not take
        assert not validator.is_valid({"version": 1, "interfaces": [dict(rule, **{key: {}})]})
        assert not validator.is_valid({"version": 1, "interfaces": [dict(rule, **{key: {"bogus": 1}})]})
    ok = {"match": {"name": "eth0"}, "rings": {"rx": "max", "tx": 1024}, "channels": {"combined": "4"},
          "coalesce": {"rx-usecs": 50, "adaptive-rx": "on"}, "pause": {"rx": "off"},
          "eee": {"eee": False, "tx-timer": 0}}
    assert validator.is_valid({"version": 1, "interfaces": [ok]})
    assert not validator.is_valid({"version": 1, "interfaces": [dict(ok, rings={"rx": "lots"})]})
    assert not validator.is_valid({"version": 1, "interfaces": [dict(ok, eee={"active": "on"})]})
    assert not validator.is_valid({"version": 1, "interfaces": [rule] * 10001})
