"""Helpers for the lab's scripts that run INSIDE the guest (python3 of Debian 12).

vmlab.Guest copies this file to /lab; test scripts start with
`import sys; sys.path.insert(0, "/lab"); from guestlib import *`.
Standard library only.
"""
import json
import os
import subprocess
import time

OFFLOADCTL = "/usr/sbin/offloadctl"

# ethtool's short names and the `ethtool -k` lines they stand for (NOTES.md).
SHORT = {
    "rx": "rx-checksumming", "tx": "tx-checksumming", "sg": "scatter-gather",
    "tso": "tcp-segmentation-offload", "ufo": "udp-fragmentation-offload",
    "gso": "generic-segmentation-offload", "gro": "generic-receive-offload",
    "lro": "large-receive-offload", "rxvlan": "rx-vlan-offload", "txvlan": "tx-vlan-offload",
    "ntuple": "ntuple-filters", "rxhash": "receive-hashing",
}


def sh(*cmd, input=None, timeout=120):
    """Run a command (list), return (rc, stdout, stderr)."""
    p = subprocess.run(list(cmd), input=input, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def must(*cmd, input=None):
    rc, out, err = sh(*cmd, input=input)
    if rc != 0:
        raise SystemExit(f"{cmd!r} exited {rc}: {out} {err}")
    return out


def emit(obj):
    print(json.dumps(obj))


def ethtool_k(ifname):
    """`ethtool --json -k IF` without ifname, or None when ethtool fails."""
    rc, out, _ = sh("ethtool", "--json", "-k", ifname)
    if rc != 0:
        return None
    d = json.loads(out)[0]
    d.pop("ifname", None)
    return d


def active(ifname, long_name):
    return ethtool_k(ifname)[long_name]["active"]


def names_by_mac():
    res = {}
    for n in os.listdir("/sys/class/net"):
        try:
            with open(f"/sys/class/net/{n}/address") as f:
                res[f.read().strip()] = n
        except OSError:
            pass
    return res


def name_of(mac):
    return names_by_mac().get(mac.lower())


def driver_of(ifname):
    rc, out, _ = sh("ethtool", "-i", ifname)
    if rc != 0:
        return None
    return out.split("\n")[0].split(": ", 1)[1]


def module_of(ifname):
    p = f"/sys/class/net/{ifname}/device/driver/module"
    return os.path.basename(os.readlink(p)) if os.path.exists(p) else None


def rule(name, features):
    """A one-rule desired state (JSON is YAML)."""
    return json.dumps({"version": 1, "interfaces": [{"match": {"name": name}, "features": features}]})


def apply(doc, *extra):
    rc, out, err = sh(OFFLOADCTL, "apply", "--json", *extra, "-", input=doc)
    try:
        rep = json.loads(out)
    except ValueError:
        rep = None
    return {"rc": rc, "report": rep, "stderr": err}


def uptime():
    """CLOCK_MONOTONIC in seconds: time since the kernel started (as systemd's *Monotonic)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def wait_until(pred, timeout, step=0.02):
    """Poll pred() until true; returns seconds taken or None on timeout."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred():
            return time.monotonic() - t0
        time.sleep(step)
    return None


def unit_props(unit, *props):
    out = must("systemctl", "show", unit, "-p", ",".join(props))
    return dict(line.split("=", 1) for line in out.strip().split("\n") if "=" in line)


def udev_runs():
    """The udev rule's offloadctl runs (80-offloadctl.rules: offloadctl inside
    the udev event, its words in the journal through systemd-cat under the
    identifier offloadctl, in systemd-udevd's cgroup), one entry per journal
    line: when (CLOCK_MONOTONIC s), the interface a '+++ NAME' line names
    (None for other lines), the syslog priority and the message."""
    res = []
    for line in must("journalctl", "-b", "-o", "json", "--no-pager", "-t", "offloadctl",
                     "_SYSTEMD_UNIT=systemd-udevd.service").split("\n"):
        if not line.strip():
            continue
        e = json.loads(line)
        msg = e.get("MESSAGE", "")
        if not isinstance(msg, str):  # journald gives bytes as a list
            msg = bytes(msg).decode("utf-8", "replace")
        res.append({"at_s": int(e["__MONOTONIC_TIMESTAMP"]) / 1e6,
                    "ifname": msg[4:].strip() if msg.startswith("+++ ") else None,
                    "priority": int(e.get("PRIORITY", 6)), "message": msg})
    return res
