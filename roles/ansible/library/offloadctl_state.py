#!/usr/bin/python
# -*- coding: utf-8 -*-
# offloadctl: reach a desired state of NIC offloads with the offloadctl agent.
# Copyright: 2026 offloadctl maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: offloadctl_state
short_description: Reach a desired state of NIC offloads with offloadctl
description:
  - Runs the offloadctl agent on the target to bring network interfaces'
    offloads (the features C(ethtool -k) shows and C(ethtool -K) sets) to a
    desired state, the way C(offloadctl apply) does, and reports what changed.
  - The desired state is given as rules (the C(interfaces) list of the
    agent's document), as a whole document, as a path to a file on the
    target, or not at all, in which case the agent's configuration set
    (I(config_dir)/offloadctl.yaml and I(config_dir)/conf.d/*.yaml) is used.
  - In check mode the agent runs C(check --json) and changes nothing;
    otherwise it runs C(apply --json), which verifies the result and rolls
    every interface back when the desired state cannot be reached.
  - C(changed) is the agent's own verdict, so a second run reports no change.
version_added: "1.0.0"
author:
  - offloadctl maintainers (@offloadctl)
options:
  rules:
    description:
      - Rules shaped like the C(interfaces) list of the desired state; each
        has a C(match) (name, driver, module, kind, mac, virtualization) and
        C(features) (ethtool short names, long names or kernel names mapped
        to on/off or true/false), and may have C(rings), C(channels),
        C(coalesce), C(pause) and C(eee) (the parameters C(ethtool -G), C(-L),
        C(-C), C(-A) and C(--set-eee) take, mapped to a count, C(max),
        a number or on/off, as offloadctl.yaml(5) says).
      - Mutually exclusive with I(desired_state) and I(path).
    type: list
    elements: dict
  defaults:
    description:
      - The C(defaults) block of the document built from I(rules)
        (C(missing-interface), C(fixed-feature), C(fixed-member),
        C(unmatched-rule)).
      - Only with I(rules).
    type: dict
  desired_state:
    description:
      - A whole desired-state document (C(version), C(defaults), C(interfaces)).
      - Mutually exclusive with I(rules) and I(path).
    type: dict
  path:
    description:
      - Path on the target of a desired-state file.
      - Mutually exclusive with I(rules) and I(desired_state).
    type: path
  netns:
    description:
      - Network namespace to act in, a name from C(/run/netns) or a path such
        as C(/proc/PID/ns/net). Empty means the namespace of the module.
    type: str
    default: ""
  config_dir:
    description:
      - The agent's configuration directory (C(--config-dir)); it is what is
        applied when none of I(rules), I(desired_state) and I(path) is given.
    type: path
  executable:
    description:
      - The agent, a name looked up on C(PATH), C(/usr/sbin) and
        C(/usr/local/sbin), or an absolute path.
    type: str
    default: offloadctl
  lock_timeout:
    description:
      - Seconds to wait for another run of the agent to finish.
    type: int
notes:
  - Needs CAP_NET_ADMIN (root) outside check mode.
  - In check mode on a host where the agent is not installed yet, the task
    is skipped with a message instead of failing.
  - Booleans in I(rules) are fine, YAML turns C(off) into C(false) and the
    agent accepts both. The module hands names and values to the agent as
    given (as JSON, which is YAML) and keeps no list of its own; the agent
    judges them, and its messages name the line.
seealso:
  - name: offloadctl.yaml(5)
    description: The desired-state format.
    link: https://manpages.debian.org/offloadctl.yaml.5
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction
      without modifying the target (the agent's C(check --json)).
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs
      changing in check mode), when in diff mode; each interface's features
      and settings (rings, channels, coalesce, pause, eee) before and after.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
"""

EXAMPLES = r"""
- name: Switch TX checksumming off on Xen netfront interfaces
  offloadctl.offloadctl.offloadctl_state:
    rules:
      - match:
          module: xen_netfront
          name: ["eth*", "enX*"]
        features:
          tx: "off"

- name: Same, with the whole document and a namespace
  offloadctl.offloadctl.offloadctl_state:
    netns: blue
    desired_state:
      version: 1
      defaults:
        missing-interface: ignore
      interfaces:
        - match:
            name: ["eth*", "vif*"]
          features:
            tx: "off"
            gro: "on"

- name: Apply a file already on the host
  offloadctl.offloadctl.offloadctl_state:
    path: /etc/offloadctl/offloadctl.yaml

- name: Apply the whole configuration set (offloadctl.yaml and conf.d/)
  offloadctl.offloadctl.offloadctl_state:
    config_dir: /etc/offloadctl
"""

RETURN = r"""
changed:
  description: Whether a feature was (or in check mode would be) changed.
  returned: always
  type: bool
report:
  description: The agent's change report (C(apply --json) or C(check --json)).
  returned: when the agent printed one
  type: dict
  sample:
    changed: true
    in_sync: false
    interfaces:
      eth0:
        changes:
          - feature: tx-checksum-ip-generic
            from: "on"
            to: "off"
            rule: "-:7"
        side_effects:
          - feature: tx-tcp-segmentation
            from: "on"
            to: "off"
    warnings: []
    errors: []
    rolled_back: false
interfaces:
  description: For every interface with a change, its features before and after.
  returned: always
  type: dict
  sample:
    eth0:
      before:
        tx-checksum-ip-generic: "on"
      after:
        tx-checksum-ip-generic: "off"
cmd:
  description: The agent's command line.
  returned: when the agent ran
  type: list
  elements: str
exit_status:
  description:
    - The agent's exit status (check exits 1 when not in sync, which is not a failure).
  returned: when the agent ran
  type: int
stderr:
  description: What the agent printed on standard error.
  returned: when the agent ran
  type: str
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

def build_document(params):
    """The desired state as the text handed to the agent, or None for a path or the set.

    Names and values go to the agent as they were given (a boolean stays a
    JSON boolean): the agent alone says which it accepts, with file:line."""
    if params["rules"] is not None:
        doc = {"version": 1}
        if params["defaults"]:
            doc["defaults"] = params["defaults"]
        doc["interfaces"] = params["rules"]
    elif params["desired_state"] is not None:
        doc = dict(params["desired_state"])
        doc.setdefault("version", 1)
    else:
        return None
    # JSON is YAML; one key a line keeps the agent's line numbers useful.
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def exit_meaning(module, agent, rc):
    """What the agent's exit status rc means, in the agent's own words
    (offloadctl names --json), for a failure it printed nothing about."""
    rc_, out, _ = module.run_command([agent, "names", "--json"])
    try:
        codes = json.loads(out)["exit_codes"] if rc_ == 0 else []
    except (ValueError, KeyError, TypeError):
        codes = []
    for code in codes:
        if code.get("code") == rc:
            return "exit status %d: %s" % (rc, code.get("meaning"))
    return "exit status %d" % rc


def change_name(change):
    """What a change entry of the agent's report changes: a feature, by its
    kernel name, or a setting of the groups as "GROUP SETTING" ("channels
    rx"), the words of the agent's own text diff."""
    if "feature" in change:
        return change["feature"]
    return "%s %s" % (change.get("group"), change.get("setting"))


def decisions(entry):
    """{name: file:line:column} of everything an interface's entry of a
    check report says is decided: features (decided) and the groups'
    settings (decided_settings), named as change_name() names them."""
    entry = entry or {}
    out = dict((f, (d or {}).get("by", "")) for f, d in (entry.get("decided") or {}).items())
    for group, params in sorted((entry.get("decided_settings") or {}).items()):
        for setting, d in sorted((params or {}).items()):
            out["%s %s" % (group, setting)] = (d or {}).get("by", "")
    return out


def features_diff(report):
    """Per interface: {'before': {name: state}, 'after': {...}} from a change
    report, features and settings alike (change_name())."""
    result = {}
    for ifname, entry in sorted((report.get("interfaces") or {}).items()):
        before, after = {}, {}
        for change in (entry or {}).get("changes") or []:
            before[change_name(change)] = change.get("from")
            after[change_name(change)] = change.get("to")
        for change in (entry or {}).get("side_effects") or []:
            before.setdefault(change_name(change), change.get("from"))
            after.setdefault(change_name(change), change.get("to"))
        if before or after:
            result[ifname] = {"before": before, "after": after}
    return result


def _diff_text(states, notes):
    lines = []
    for name, state in states.items():
        lines.append("%s: %s%s" % (name, state, notes.get(name, "")))
    return "\n".join(lines) + "\n" if lines else ""


def module_diff(report, netns):
    diffs = []
    where = " (netns %s)" % netns if netns else ""
    for ifname, entry in sorted((report.get("interfaces") or {}).items()):
        changes = (entry or {}).get("changes") or []
        effects = (entry or {}).get("side_effects") or []
        if not changes and not effects:
            continue
        notes = dict((change_name(c), "  # side effect") for c in effects)
        notes.update((change_name(c), "  # may reset the link") for c in changes if c.get("resets_link"))
        before = dict((change_name(c), c.get("from")) for c in changes)
        after = dict((change_name(c), c.get("to")) for c in changes)
        for c in effects:
            before.setdefault(change_name(c), c.get("from"))
            after.setdefault(change_name(c), c.get("to"))
        diffs.append({
            "before_header": "%s%s: features before" % (ifname, where),
            "after_header": "%s%s: features after" % (ifname, where),
            "before": _diff_text(before, {}),
            "after": _diff_text(after, notes),
        })
    return diffs


def scope_dir(params):
    """The directory of the scope the module acts in (CONTRACT.md "Scopes and owners")."""
    base = params["config_dir"] or "/etc/offloadctl"
    if params["netns"] and "/" not in params["netns"]:
        return os.path.join(base, "netns", params["netns"])
    return os.path.join(base, "conf.d")


def in_scope(params):
    """True when path is a drop-in of the scope (then the scope is the truth)."""
    path = params["path"]
    if not path:
        return False
    here = os.path.dirname(os.path.realpath(path))
    return here == os.path.realpath(scope_dir(params)) or (
        not params["netns"] and os.path.realpath(path) == os.path.realpath(
            os.path.join(params["config_dir"] or "/etc/offloadctl", "offloadctl.yaml")))


def overrides(own, whole, path):
    """(interface, name, by) for each feature or setting of path's that a
    later file of the scope decides instead."""
    out = []
    for ifname, entry in sorted((own.get("interfaces") or {}).items()):
        theirs = decisions((whole.get("interfaces") or {}).get(ifname))
        for name in sorted(decisions(entry)):
            by = theirs.get(name, "")
            if by and not by.startswith(path + ":"):
                out.append((ifname, name, by))
    return out


def ours_out_of_sync(whole, path):
    """The interfaces where a feature or setting this drop-in decides differs from the kernel."""
    names = []
    for ifname, entry in sorted((whole.get("interfaces") or {}).items()):
        decided = decisions(entry)
        for change in (entry or {}).get("changes") or []:
            if decided.get(change_name(change), "").startswith(path + ":"):
                names.append(ifname)
                break
    return names


def main():
    module = AnsibleModule(
        argument_spec=dict(
            rules=dict(type="list", elements="dict"),
            defaults=dict(type="dict"),
            desired_state=dict(type="dict"),
            path=dict(type="path"),
            netns=dict(type="str", default=""),
            config_dir=dict(type="path"),
            executable=dict(type="str", default="offloadctl"),
            lock_timeout=dict(type="int"),
        ),
        mutually_exclusive=[("rules", "desired_state", "path"), ("defaults", "desired_state"),
                            ("defaults", "path")],
        supports_check_mode=True,
    )
    p = module.params
    result = dict(changed=False, interfaces={})

    exe = p["executable"]
    if "/" in exe:
        agent = exe if os.path.isfile(exe) and os.access(exe, os.X_OK) else None
    else:
        agent = module.get_bin_path(exe, opt_dirs=["/usr/sbin", "/usr/local/sbin", "/sbin"])
    if agent is None:
        msg = "offloadctl agent '%s' not found (install it, or set the role's offloadctl_install)" % exe
        if module.check_mode:
            # A clean host in check mode: the install task would have put it there.
            module.exit_json(skipped=True, changed=False, msg=msg + "; nothing checked", interfaces={})
        module.fail_json(msg=msg, **result)

    text = build_document(p)
    base = [agent]
    if p["netns"]:
        base += ["--netns", p["netns"]]
    if p["config_dir"]:
        base += ["--config-dir", p["config_dir"]]
    cmd = base + ["check" if module.check_mode else "apply", "--json"]
    if not module.check_mode and p["lock_timeout"] is not None:
        cmd += ["--lock-timeout", str(p["lock_timeout"])]
    if text is not None:
        cmd.append("-")
    elif p["path"]:
        cmd.append(p["path"])

    if not module.check_mode and in_scope(p):
        # One truth: the drop-in is a file of its scope, and the boot unit
        # and watch apply the whole scope.  Judge and apply by the whole
        # scope's state, for the interfaces and features this drop-in
        # decides; a later file that overrides one of them is said, and
        # left as it says, instead of a change that watch would undo.
        path = os.path.realpath(p["path"])
        results = []
        for args in ([p["path"]], []):
            c = base + ["check", "--json"] + args
            rc_, out_, err_ = module.run_command(c)
            try:
                results.append(json.loads(out_))
            except ValueError:
                module.fail_json(msg="offloadctl check printed no JSON report: %s" % err_.strip(),
                                 cmd=c, stdout=out_, stderr=err_, exit_status=rc_, **result)
        own, whole = results
        for ifname, feature, by in overrides(own, whole, path):
            module.warn("offloadctl: %s on %s is decided by %s, a later file of the scope, "
                        "not by this role's %s: left as that file says" % (feature, ifname, by, p["path"]))
        todo = ours_out_of_sync(whole, path)
        if not todo and not own.get("errors"):
            result.update(cmd=base + ["check", "--json"], exit_status=0, stderr="", report=whole)
            for warning in whole.get("warnings") or []:
                module.warn("offloadctl: %s" % warning)
            module.exit_json(**result)
        if todo:
            cmd = base + ["apply", "--json"]
            if p["lock_timeout"] is not None:
                cmd += ["--lock-timeout", str(p["lock_timeout"])]
            for ifname in todo:
                cmd += ["--ifname", ifname]

    rc, out, err = module.run_command(cmd, data=text, binary_data=True)
    # Not `rc`: Ansible takes any rc other than 0 as a failure, and check exits 1.
    result.update(cmd=cmd, exit_status=rc, stderr=err)

    report = None
    if out.strip():
        try:
            report = json.loads(out)
        except ValueError:
            result["stdout"] = out
    if report is not None:
        result["report"] = report
        result["interfaces"] = features_diff(report)
        for warning in report.get("warnings") or []:
            module.warn("offloadctl: %s" % warning)

    agent_msg = "; ".join((report or {}).get("errors") or []) or err.strip()
    verb = "check" if module.check_mode else "apply"
    # check exits 1 when not in sync: that is a change to report, not a failure,
    # unless the report carries errors (a rule that cannot be satisfied).
    ok = rc == 0 or (module.check_mode and rc == 1 and report is not None)
    if not ok or (report is not None and report.get("errors")):
        if not agent_msg:
            agent_msg = exit_meaning(module, agent, rc)
        if report is not None and report.get("rolled_back"):
            agent_msg += " (rolled back: no interface was left changed)"
        module.fail_json(msg="offloadctl %s failed: %s" % (verb, agent_msg), **result)
    if report is None:
        module.fail_json(msg="offloadctl %s printed no JSON report" % verb, stdout=out, **result)

    result["changed"] = bool(report.get("changed"))
    if module._diff and result["changed"]:
        result["diff"] = module_diff(report, p["netns"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
