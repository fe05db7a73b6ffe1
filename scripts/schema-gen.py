#!/usr/bin/env python3
"""Write the agent's vocabulary into the JSON Schemas.

The word lists of facts/desired-state.schema.json (the virtualisation words
of match.virtualization, the feature names known without a kernel, the words
of each `defaults` key, the parameters of rings, channels, coalesce, pause
and eee with their value types) are taken from `offloadctl names --json`, the agent's
one copy of them (agent/src/model/vocab.c, features.c, desired-state.c).
facts/facts.schema.json is laid out by hand; its vm and container words are
checked against the same export by tests/test_schema_desired.py.

Usage: scripts/schema-gen.py [--check] OFFLOADCTL
  --check   write nothing; exit 1 when the schema is not what it would write
"""
import json
import subprocess
import sys

SCHEMA = "facts/desired-state.schema.json"


def generate(names, schema):
    defs = schema["$defs"]
    defs["virt_word"]["enum"] = names["virtualization"]["match"]
    legacy = [n for row in names["features"]["legacy"] for n in (row["short"], row["long"])]
    known = defs["feature_name"]["anyOf"][0]
    known["enum"] = legacy + names["features"]["kernel"]
    for key, words in names["policies"].items():
        schema["properties"]["defaults"]["properties"][key]["enum"] = words
    value = {"count": "#/$defs/count", "number": "#/$defs/number", "on/off": "#/$defs/onoff"}
    rule = defs["rule"]["properties"]
    for group, params in names["settings"].items():
        rule[group] = {"$ref": f"#/$defs/{group}"}
        defs[group] = {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": False,
            "properties": {n: {"$ref": value[t]} for n, t in params.items() if t in value},
        }
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    if len(args) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    names = json.loads(subprocess.run([args[0], "names", "--json"], check=True,
                                      capture_output=True, text=True).stdout)
    with open(SCHEMA, encoding="utf-8") as f:
        text = f.read()
    out = generate(names, json.loads(text))
    if check:
        if out != text:
            print(f"{SCHEMA} is not what scripts/schema-gen.py writes: run make schemas",
                  file=sys.stderr)
            return 1
        return 0
    if out != text:
        with open(SCHEMA, "w", encoding="utf-8") as f:
            f.write(out)
        print(f"  GEN     {SCHEMA}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
