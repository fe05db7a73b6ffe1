"""facts/desired-state.schema.json: the JSON Schema of the desired state.

Every example and good file passes it; every bad file whose fault is visible
in the data (types, unknown keys and names, values, missing keys) fails it.
Faults that only the YAML text shows (syntax, tabs, duplicate keys, aliases,
encodings, several documents) are `offloadctl validate`'s alone.  The name
lists in the schema are checked against the agent's own tables.
"""
import json
import os
import re

import pytest
import yaml
from jsonschema import Draft202012Validator

from ocutil import ROOT, agent

SCHEMA_PATH = os.path.join(ROOT, "facts", "desired-state.schema.json")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "desired")
BAD = os.path.join(FIXTURES, "bad")
GOOD = os.path.join(FIXTURES, "good")
EXAMPLES = os.path.join(ROOT, "examples")
SRC = os.path.join(ROOT, "agent", "src")

# Bad files whose fault the schema sees (PyYAML loads them; the data is wrong).
SCHEMA_DETECTABLE = [
    "wrong-type-interfaces-mapping", "wrong-type-match-list", "wrong-type-features-list",
    "wrong-type-rule-string", "wrong-type-root-list", "wrong-type-root-string",
    "wrong-type-defaults-string", "wrong-type-name-mapping", "wrong-type-feature-value-list",
    "wrong-type-name-item-list",
    "unknown-key-top", "unknown-key-rule", "unknown-key-match", "unknown-key-defaults",
    "unknown-key-far",
    "unknown-feature-typo", "unknown-feature-far", "unknown-feature-nonsense",
    "version-2", "version-missing", "version-quoted", "version-null",
    "bool-maybe", "bool-null", "bool-number", "bool-enable",
    "reserved-rings", "reserved-coalesce", "reserved-channels",
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


def c_strings(path, array):
    with open(path) as f:
        src = f.read()
    body = re.search(re.escape(array) + r"\[\] = \{(.*?)\n?\};", src, re.S).group(1)
    return re.findall(r'"([^"]+)"', body)


def test_feature_names_match_the_agent(validator):
    schema = validator.schema
    names = set(schema["$defs"]["feature_name"]["enum"])
    features_c = os.path.join(SRC, "model", "features.c")
    legacy = c_strings(features_c, "offload_defs")
    # offload_defs rows are {short, long, kernel pattern}: drop the patterns.
    legacy = {n for i, n in enumerate(legacy) if i % 3 != 2}
    kernel = set(c_strings(features_c, "kernel_feature_names"))
    assert names == legacy | kernel
    assert {"tx", "tx-checksumming", "tx-checksum-ip-generic"} <= names


def test_virtualization_words_match_the_agent(validator, tmp_path):
    words = validator.schema["$defs"]["virt_word"]["enum"]
    virt_c = os.path.join(SRC, "model", "virt.c")
    expect = set(c_strings(virt_c, "vm_words")) | set(c_strings(virt_c, "container_words"))
    expect |= {"none", "vm", "container", "xen-dom0", "xen-domU"}
    assert set(words) == expect
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


def test_schema_rejects_reserved_and_accepts_null_interfaces(validator):
    rule = {"match": {"name": "eth0"}, "features": {"tx": "off"}}
    assert validator.is_valid({"version": 1, "interfaces": [rule]})
    assert validator.is_valid({"version": 1, "interfaces": None})
    for key in ("rings", "channels", "coalesce"):
        assert not validator.is_valid({"version": 1, "interfaces": [dict(rule, **{key: {}})]})
    assert not validator.is_valid({"version": 1, "interfaces": [rule] * 10001})
