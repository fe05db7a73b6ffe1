#!/usr/bin/python3
"""advice-gen: the advice knowledge base (advice/*.yaml) into the agent and the docs.

    advice-gen.py --c OUT.c FILE...        the C table the agent is built with
    advice-gen.py --markdown OUT.md FILE... docs/advice.md
    advice-gen.py --check FILE...          validate only

Files are read in the order given (the Makefile sorts them by name: the
NNN- prefix orders the entries).  Every error names file:line:column and the
build stops: an entry that does not validate never reaches the agent.
"""
import argparse
import re
import sys

import yaml

CONFIDENCE = {
    "A": "a kernel, vendor or maintainer source",
    "B": "a project's maintainers merged or documented a workaround",
    "C": "user reports only",
}
LIST_KEYS = ["virtualization", "name", "driver", "module", "kind", "master-kind",
             "master-driver", "active", "fixed-active", "changeable-off"]
BOOL_KEYS = ["forwarding", "forwards", "xdp"]
# Conditions that are about one interface; an entry without any is host-level.
IFACE_KEYS = set(LIST_KEYS + BOOL_KEYS) - {"virtualization"}
TOP_KEYS = {"id": True, "title": True, "confidence": True, "match": True, "summary": True,
            "symptom": True, "risk": True, "recommend": True, "sources": True}
VERSION_RE = re.compile(r"^[0-9]+(\.[0-9]+){0,2}$")
ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
ON_OFF = {"on": True, "off": False, "true": True, "false": False, "yes": True, "no": False}


class Invalid(Exception):
    pass


def where(path, node):
    return f"{path}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"


def fail(path, node, msg):
    raise Invalid(f"{where(path, node)}: {msg}")


def mapping(path, node, what):
    if not isinstance(node, yaml.MappingNode):
        fail(path, node, f"{what} must be a map")
    seen = {}
    for k, v in node.value:
        if not isinstance(k, yaml.ScalarNode):
            fail(path, k, f"{what}: keys must be plain words")
        if k.value in seen:
            fail(path, k, f"duplicate key '{k.value}' (first at {where(path, seen[k.value])})")
        seen[k.value] = k
    return [(k.value, k, v) for k, v in node.value]


def text(path, node, what, limit=None):
    if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str" or \
            not node.value.strip():
        fail(path, node, f"'{what}' must be non-empty text")
    s = " ".join(node.value.split())
    if any(ord(c) < 0x20 or ord(c) > 0x7e for c in s):
        fail(path, node, f"'{what}' must be plain ASCII text")
    if limit and len(s) > limit:
        fail(path, node, f"'{what}' has {len(s)} characters, at most {limit}")
    return s


def words(path, node, what):
    if isinstance(node, yaml.ScalarNode):
        return [text(path, node, what)]
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        fail(path, node, f"'{what}' must be a word or a non-empty list of words")
    return [text(path, n, what) for n in node.value]


def boolean(path, node, what):
    if isinstance(node, yaml.ScalarNode) and node.value.lower() in ("true", "false"):
        return node.value.lower() == "true"
    fail(path, node, f"'{what}' must be true or false")


def on_off(path, node, what):
    if isinstance(node, yaml.ScalarNode) and node.value.lower() in ON_OFF:
        return ON_OFF[node.value.lower()]
    fail(path, node, f"'{what}' must be on or off")


def load_entry(path):
    with open(path, encoding="utf-8") as f:
        try:
            root = yaml.compose(f)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            loc = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
            raise Invalid(f"{loc}: {getattr(e, 'problem', None) or e}")
    if root is None:
        raise Invalid(f"{path}:1:1: empty file")
    e = {"file": path, "match": {}, "settings": [], "elsewhere": None}
    keys = mapping(path, root, "an advice entry")
    for name, knode, v in keys:
        if name not in TOP_KEYS:
            fail(path, knode, f"unknown key '{name}' (expected one of {', '.join(TOP_KEYS)})")
        if name == "match":
            for mname, mk, mv in mapping(path, v, "match"):
                if mname in LIST_KEYS:
                    e["match"][mname] = words(path, mv, mname)
                elif mname in BOOL_KEYS:
                    e["match"][mname] = boolean(path, mv, mname)
                elif mname == "kernel":
                    rng = {}
                    for kname, kk, kv in mapping(path, mv, "kernel"):
                        if kname not in ("min", "max"):
                            fail(path, kk, f"unknown key '{kname}' in kernel (min, max)")
                        s = text(path, kv, kname)
                        if not VERSION_RE.match(s):
                            fail(path, kv, f"'{s}' is not a kernel version such as 5.7")
                        rng[kname] = s
                    if not rng:
                        fail(path, mv, "kernel needs min or max")
                    e["match"]["kernel"] = rng
                else:
                    fail(path, mk, f"unknown match key '{mname}' (expected one of "
                         f"{', '.join(LIST_KEYS + BOOL_KEYS + ['kernel'])})")
            if not e["match"]:
                fail(path, v, "match needs at least one condition")
        elif name == "recommend":
            for rname, rk, rv in mapping(path, v, "recommend"):
                if rname == "settings":
                    for fname, fk, fv in mapping(path, rv, "settings"):
                        if not re.match(r"^[a-z0-9_-]+$", fname):
                            fail(path, fk, f"'{fname}' is not a feature name")
                        e["settings"].append((fname, on_off(path, fv, fname)))
                    if not e["settings"]:
                        fail(path, rv, "settings must not be empty")
                elif rname == "elsewhere":
                    e["elsewhere"] = text(path, rv, "elsewhere", 400)
                else:
                    fail(path, rk, f"unknown key '{rname}' in recommend (settings, elsewhere)")
            if not e["settings"] and not e["elsewhere"]:
                fail(path, v, "recommend needs settings or elsewhere")
        elif name == "sources":
            if not isinstance(v, yaml.SequenceNode) or not v.value:
                fail(path, v, "sources must be a non-empty list: no entry without a source")
            e["sources"] = []
            for s in v.value:
                src = {}
                for sname, sk, sv in mapping(path, s, "a source"):
                    if sname not in ("url", "what"):
                        fail(path, sk, f"unknown key '{sname}' in a source (url, what)")
                    src[sname] = text(path, sv, sname, 300)
                if not re.match(r"^https?://\S+$", src.get("url", "")):
                    fail(path, s, "a source needs a url (http:// or https://)")
                if "what" not in src:
                    fail(path, s, "a source needs 'what' (what it says, in a line)")
                e["sources"].append(src)
        elif name == "confidence":
            c = text(path, v, name)
            if c not in CONFIDENCE:
                fail(path, v, f"confidence must be A, B or C, not '{c}'")
            e[name] = c
        elif name == "id":
            e[name] = text(path, v, name)
            if not ID_RE.match(e[name]):
                fail(path, v, f"id '{e[name]}' must be lowercase words joined by '-'")
            e["id_node"] = v
        elif name == "summary":
            e[name] = text(path, v, name, 200)
        elif name == "title":
            e[name] = text(path, v, name, 100)
        else:
            e[name] = text(path, v, name, 1000)
    for name, required in TOP_KEYS.items():
        if required and name not in e and not (name == "recommend" and (e["settings"] or e["elsewhere"])):
            raise Invalid(f"{path}:1:1: missing key '{name}'")
    base = re.sub(r"^([0-9]+-)?", "", path.rsplit("/", 1)[-1].rsplit(".", 1)[0])
    if base != e["id"]:
        fail(path, e["id_node"], f"id '{e['id']}' differs from the file name ('{base}')")
    e["host"] = not (IFACE_KEYS & set(e["match"]))
    return e


def load(paths):
    entries, ids, errors = [], {}, []
    for p in paths:
        try:
            e = load_entry(p)
        except Invalid as ex:
            errors.append(str(ex))
            continue
        if e["id"] in ids:
            errors.append(f"{where(p, e['id_node'])}: id '{e['id']}' is also in {ids[e['id']]}")
        ids[e["id"]] = p
        entries.append(e)
    if not entries and not errors:
        errors.append("no advice entries given")
    return entries, errors


def c_str(s):
    if s is None:
        return "NULL"
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def c_list(name, items):
    if not items:
        return None, "NULL"
    body = ", ".join(c_str(i) for i in items)
    return f"static const char *const {name}[] = {{ {body}, NULL }};", name


def write_c(entries, out):
    lines = ["/* Generated by scripts/advice-gen.py from the advice/ directory: do not edit. */",
             "#include <stddef.h>", "", '#include "model/advice.h"', ""]
    rows = []
    for n, e in enumerate(entries):
        m = e["match"]
        fields = {}
        for key in LIST_KEYS:
            decl, ref = c_list(f"e{n}_{key.replace('-', '_')}", m.get(key))
            if decl:
                lines.append(decl)
            fields[key] = ref
        settings = "NULL"
        if e["settings"]:
            body = ", ".join(f"{{ {c_str(f)}, {'true' if v else 'false'} }}" for f, v in e["settings"])
            lines.append(f"static const struct advice_setting e{n}_settings[] = {{ {body} }};")
            settings = f"e{n}_settings"
        body = ", ".join(f"{{ {c_str(s['url'])}, {c_str(s['what'])} }}" for s in e["sources"])
        lines.append(f"static const struct advice_source e{n}_sources[] = {{ {body} }};")

        def tri(k):
            return "ADVICE_ANY" if k not in m else ("ADVICE_YES" if m[k] else "ADVICE_NO")
        kernel = m.get("kernel", {})
        rows.append("\t{\n" + "".join(f"\t\t.{k} = {v},\n" for k, v in [
            ("id", c_str(e["id"])), ("title", c_str(e["title"])),
            ("confidence", c_str(e["confidence"])), ("summary", c_str(e["summary"])),
            ("symptom", c_str(e.get("symptom"))), ("risk", c_str(e["risk"])),
            ("elsewhere", c_str(e["elsewhere"])), ("host", "true" if e["host"] else "false"),
            ("virtualization", fields["virtualization"]), ("name", fields["name"]),
            ("driver", fields["driver"]), ("module", fields["module"]), ("kind", fields["kind"]),
            ("master_kind", fields["master-kind"]), ("master_driver", fields["master-driver"]),
            ("kernel_min", c_str(kernel.get("min"))), ("kernel_max", c_str(kernel.get("max"))),
            ("forwarding", tri("forwarding")), ("forwards", tri("forwards")), ("xdp", tri("xdp")),
            ("active", fields["active"]), ("fixed_active", fields["fixed-active"]),
            ("changeable_off", fields["changeable-off"]),
            ("settings", settings), ("n_settings", str(len(e["settings"]))),
            ("sources", f"e{n}_sources"), ("n_sources", str(len(e["sources"]))),
        ]) + "\t},")
    lines += ["", "const struct advice_entry advice_table[] = {"] + rows + ["};", "",
              "const size_t advice_table_len = sizeof(advice_table) / sizeof(advice_table[0]);", ""]
    out.write("\n".join(lines))


STATE_KEYS = ("active", "changeable-off")  # pending conditions, not who the device is


def describe_match(e, state=None):
    """The match as text: everything (state None), the applies part (False)
    or the pending part (True)."""
    m = {k: v for k, v in e["match"].items()
         if state is None or (k in STATE_KEYS) == state}
    parts = []
    names = {"virtualization": "virtualisation", "name": "name", "driver": "driver",
             "module": "module", "kind": "kind", "master-kind": "master kind",
             "master-driver": "master's driver", "active": "on", "fixed-active": "fixed on",
             "changeable-off": "off and changeable"}
    for k in LIST_KEYS:
        if k == "module" and m.get(k) == ["?*"]:
            parts.append("any module (a device, not a virtual interface)")
        elif k in m:
            parts.append(f"{names[k]} " + " or ".join(f"`{w}`" for w in m[k]))
    if "kernel" in m:
        r = m["kernel"]
        parts.append("kernel " + " and ".join(
            ([f">= {r['min']}"] if "min" in r else []) + ([f"< {r['max']}"] if "max" in r else [])))
    for k, yes, no in [("forwarding", "IP forwarding on", "IP forwarding off"),
                       ("forwards", "forwards (IP forwarding, or a bridge/OVS port)",
                        "does not forward"),
                       ("xdp", "an XDP program attached", "no XDP program")]:
        if k in m:
            parts.append(yes if m[k] else no)
    return "; ".join(parts)


def write_markdown(entries, out):
    w = out.write
    w("<!-- Generated by scripts/advice-gen.py from advice/*.yaml (make docs): do not edit. -->\n")
    w("# Advice: known-bad offload combinations\n\n")
    w("offloadctl checks every host against this knowledge base (compiled into the agent from\n"
      "`advice/*.yaml`) and reports what fires in `facts` (the `advice` list), `show` and\n"
      "`offloadctl advise`.  Advice is never applied by itself: `advise --desired-state` prints\n"
      "a desired state that follows it, and the Puppet class and the Ansible role follow only\n"
      "the ids they are given (`follow_advice`, `offloadctl_follow_advice`).  An entry stops\n"
      "being pending once its settings hold (it stays listed, so a wrapper that follows it\n"
      "keeps its rule).  Recommended settings touch only the interface the advice names.\n\n")
    w("Confidence: " + "; ".join(f"**{k}** {v}" for k, v in CONFIDENCE.items()) + ".\n\n")
    w("To add an entry: a new `advice/NNN-ID.yaml` (see an existing one), a fixture where it\n"
      "fires and one where it must not (tests/fixtures/advice/), then `make docs`.\n\n")
    w("| id | confidence | applies to |\n| --- | --- | --- |\n")
    for e in entries:
        w(f"| [`{e['id']}`](#{e['id']}) | {e['confidence']} | {describe_match(e)} |\n")
    for e in entries:
        w(f"\n## {e['id']}\n\n**{e['title']}** (confidence {e['confidence']}, "
          f"{'host' if e['host'] else 'per interface'})\n\n")
        applies = describe_match(e, False) or "any host"
        pending = describe_match(e, True)
        w(f"- **Applies to:** {applies}"
          f"{'; and some recommended feature can change there' if e['settings'] else ''}.\n")
        if pending or e["settings"]:
            w("- **Pending while:** " + "; ".join(
                ([pending] if pending else []) +
                (["the recommended settings do not hold"] if e["settings"] else [])) + ".\n")
        w(f"- **Summary:** {e['summary']}\n")
        if e.get("symptom"):
            w(f"- **Symptom:** {e['symptom']}\n")
        w(f"- **Risk:** {e['risk']}\n")
        if e["settings"]:
            w("- **Recommended on the affected interface only:** " + ", ".join(
                f"`{f}: {'on' if v else 'off'}`" for f, v in e["settings"]) + "\n")
        if e["elsewhere"]:
            w(f"- **Elsewhere:** {e['elsewhere']}\n")
        w("- **Sources:**\n")
        for s in e["sources"]:
            w(f"  - <{s['url']}>: {s['what']}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--c", metavar="OUT")
    g.add_argument("--markdown", metavar="OUT")
    g.add_argument("--check", action="store_true")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    entries, errors = load(a.files)
    for msg in errors:
        print(f"advice-gen: {msg}", file=sys.stderr)
    if errors:
        return 2
    if a.c or a.markdown:
        out = a.c or a.markdown
        tmp = out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            (write_c if a.c else write_markdown)(entries, f)
        import os
        os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
