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


# ---- rings, channels, coalesce, pause and EEE (issue 15) -------------------
# ethtool 6.1 has no --json for -g/-l/-c/-a/--show-eee: their text, parsed
# into the facts' shape (as tests/test_settings.py does on the host).

GROUPS = ("rings", "channels", "coalesce", "pause", "eee")
SHOW_OPT = {"rings": "-g", "channels": "-l", "coalesce": "-c", "pause": "-a", "eee": "--show-eee"}
SET_OPT = {"rings": "-G", "channels": "-L", "coalesce": "-C", "pause": "-A", "eee": "--set-eee"}
CHANNEL_LABELS = {"RX": "rx", "TX": "tx", "Other": "other", "Combined": "combined"}
RING_LABELS = {"RX": "rx", "RX Mini": "rx-mini", "RX Jumbo": "rx-jumbo", "TX": "tx",
               "RX Buf Len": "rx-buf-len", "CQE Size": "cqe-size", "TX Push": "tx-push",
               "RX Push": "rx-push", "TCP data split": "tcp-data-split"}
# what `ethtool -c` prints -> the name -C takes
COALESCE_LABELS = {"stats-block-usecs": "stats-block-usecs", "sample-interval": "sample-interval",
                   "pkt-rate-low": "pkt-rate-low", "pkt-rate-high": "pkt-rate-high",
                   "rx-usecs": "rx-usecs", "rx-frames": "rx-frames", "rx-usecs-irq": "rx-usecs-irq",
                   "rx-frames-irq": "rx-frames-irq", "tx-usecs": "tx-usecs", "tx-frames": "tx-frames",
                   "tx-usecs-irq": "tx-usecs-irq", "tx-frames-irq": "tx-frames-irq",
                   "rx-usecs-low": "rx-usecs-low", "rx-frame-low": "rx-frames-low",
                   "tx-usecs-low": "tx-usecs-low", "tx-frame-low": "tx-frames-low",
                   "rx-usecs-high": "rx-usecs-high", "rx-frame-high": "rx-frames-high",
                   "tx-usecs-high": "tx-usecs-high", "tx-frame-high": "tx-frames-high"}
# ring parameters that only netlink carries (the ioctl's struct has no room for them)
RINGS_NETLINK_ONLY = ("rx-buf-len", "cqe-size", "tx-push", "rx-push", "tcp-data-split",
                      "tx-push-buf-len", "hds-thresh")
# coalesce parameters that only netlink carries (kernel_ethtool_coalesce)
COALESCE_NETLINK_ONLY = ("cqe-mode-rx", "cqe-mode-tx")


def parse_sections(text, names):
    """`ethtool -l`/`-g`: "Pre-set maximums:" then "Current hardware
    settings:", lines "RX:\\t\\t2" (n/a for none): ({key: value}, {key: max})."""
    cur, mx, section = {}, {}, None
    for line in text.splitlines():
        if line.startswith("Pre-set maximums"):
            section = mx
            continue
        if line.startswith("Current hardware settings"):
            section = cur
            continue
        label, sep, value = line.partition(":")
        if not sep or section is None or label.strip() not in names:
            continue
        value = value.strip()
        if value in ("n/a", "unknown"):
            continue
        key = names[label.strip()]
        section[key] = (value == "on") if value in ("on", "off") else int(value)
    return cur, mx


def parse_group(group, text):
    """One group of ethtool's text output in the facts' shape."""
    if group in ("rings", "channels"):
        cur, mx = parse_sections(text, RING_LABELS if group == "rings" else CHANNEL_LABELS)
        if mx:
            cur["max"] = mx
        return cur
    out = {}
    if group == "coalesce":
        import re
        for line in text.splitlines():
            m = re.match(r"(Adaptive|CQE mode) RX: (\S+)\s+TX: (\S+)", line)
            if m:
                pre = "adaptive" if m.group(1) == "Adaptive" else "cqe-mode"
                for key, v in zip((pre + "-rx", pre + "-tx"), m.groups()[1:]):
                    if v != "n/a":
                        out[key] = v == "on"
                continue
            label, sep, value = line.partition(":")
            if sep and label in COALESCE_LABELS and value.strip() != "n/a":
                out[COALESCE_LABELS[label]] = int(value)
        return out
    if group == "pause":
        for line in text.splitlines():
            label, sep, value = line.partition(":")
            key = {"Autonegotiate": "autoneg", "RX": "rx", "TX": "tx"}.get(label.strip())
            if sep and key:
                out[key] = value.strip() == "on"
        return out
    for line in text.splitlines():
        label, sep, value = line.partition(":")
        value = value.strip()
        if label.strip() == "EEE status":
            out["eee"] = value.startswith("enabled")
            out["active"] = value.endswith("- active")
        elif label.strip() == "Tx LPI":
            out["tx-lpi"] = value != "disabled"
            if value != "disabled":
                out["tx-timer"] = int(value.split()[0])
    return out


def ethtool_group(ifname, group):
    """ethtool's view of one group: the parsed dict, None when ethtool says
    the driver does not support it; {"error": ...} for any other failure."""
    rc, out, err = sh("ethtool", SHOW_OPT[group], ifname)
    if rc != 0:
        return None if "Operation not supported" in err else {"error": f"rc {rc}: {err.strip()}"}
    return parse_group(group, out)


def ethtool_groups(ifname):
    return {g: ethtool_group(ifname, g) for g in GROUPS}


def set_args(params):
    """{"rx": 512, "autoneg": "off"} -> ["rx", "512", "autoneg", "off"] for ethtool -G/-L/-C/-A."""
    out = []
    for k, v in params.items():
        out += [k, ("on" if v else "off") if isinstance(v, bool) else str(v)]
    return out


def settings_rule(name, group, params, features=None):
    """A one-rule desired state setting one group (JSON is YAML)."""
    r = {"match": {"name": name}, group: {k: (("on" if v else "off") if isinstance(v, bool) else v)
                                          for k, v in params.items()}}
    if features:
        r["features"] = features
    return json.dumps({"version": 1, "interfaces": [r]})


# The ethtool genetlink commands that change something (Linux 6.1's numbering,
# include/uapi/linux/ethtool_netlink.h): what a run must not send when there
# is nothing to change.
ETHNL_SET_CMDS = {3: "LINKINFO_SET", 5: "LINKMODES_SET", 8: "DEBUG_SET", 10: "WOL_SET",
                  12: "FEATURES_SET", 14: "PRIVFLAGS_SET", 16: "RINGS_SET", 18: "CHANNELS_SET",
                  20: "COALESCE_SET", 22: "PAUSE_SET", 24: "EEE_SET", 30: "FEC_SET",
                  35: "MODULE_SET", 37: "PSE_SET"}


def traced(*args, input=None):
    """offloadctl ARGS under strace: (rc, stdout, stderr, sent) where sent has
    the count of netlink messages sent ("sends"), the ethtool genetlink SET
    commands by name ("sets") and the SIOCETHTOOL ioctls ("ioctls").
    None when strace is not installed."""
    import re
    import shutil
    import tempfile
    if not shutil.which("strace"):
        rc, out, err = sh(OFFLOADCTL, *args, input=input)
        return rc, out, err, None
    with tempfile.NamedTemporaryFile(suffix=".strace") as t:
        rc, out, err = sh("strace", "-f", "-qq", "-e", "trace=sendmsg,sendto,ioctl", "-o", t.name,
                          OFFLOADCTL, *args, input=input)
        lines = open(t.name).read().splitlines()
    sends = [l for l in lines if "sendmsg(" in l or "sendto(" in l]
    sets = []
    for l in sends:
        m = re.search(r'nlmsg_type=ethtool,[^}]*\}, "\\x([0-9a-f]{2})', l)
        if m and int(m.group(1), 16) in ETHNL_SET_CMDS:
            sets.append(ETHNL_SET_CMDS[int(m.group(1), 16)])
    ioctls = len([l for l in lines if "SIOCETHTOOL" in l])
    return rc, out, err, {"sends": len(sends), "sets": sets, "ioctls": ioctls}
