"""Installation: `make install`, the systemd units, the udev rule, bash
completion and `make deb` (built, linted, installed, removed, purged).

The package test installs a real package on this machine; it purges it in a
`finally` and fails (rather than touch it) when offloadctl is already
installed as a package here.
"""
import glob
import json
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import time

import pytest

from ocutil import ROOT, NetNS, agent_path, run

UNITS = ["offloadctl-watch.service", "offloadctl-boot.service", "offloadctl-metrics.service"]
TIMERS = ["offloadctl-metrics.timer"]
MAX_EXPOSURE = 3.5


def make(*args, timeout=300):
    return run(["make", "-s", "--no-print-directory", "-C", ROOT, *args], timeout=timeout)


def pc_var(var, pkg, default):
    p = subprocess.run(["pkg-config", f"--variable={var}", pkg], capture_output=True, text=True)
    return p.stdout.strip() or default


UNITDIR = pc_var("systemdsystemunitdir", "systemd", "/usr/lib/systemd/system")
UDEVRULES = pc_var("udevdir", "udev", "/usr/lib/udev") + "/rules.d"
TMPFILESDIR = pc_var("tmpfilesdir", "systemd", "/usr/lib/tmpfiles.d")
COMPDIR = pc_var("completionsdir", "bash-completion", "/usr/share/bash-completion/completions")

# Every file `make install` must put in place, and its mode.
INSTALLED = {
    "/usr/sbin/offloadctl": 0o755,
    "/usr/share/man/man8/offloadctl.8": 0o644,
    "/usr/share/man/man5/offloadctl.yaml.5": 0o644,
    "/usr/share/offloadctl/facts.schema.json": 0o644,
    "/usr/share/offloadctl/desired-state.schema.json": 0o644,
    "/usr/share/offloadctl/offloadctl-fact": 0o755,
    # the one fact adapter again, by the names that choose its format
    "/usr/share/offloadctl/offloadctl.fact": 0o755,
    "/usr/share/offloadctl/facter-offloadctl": 0o755,
    "/usr/share/offloadctl/advice.md": 0o644,
    f"{UNITDIR}/offloadctl-watch.service": 0o644,
    f"{UNITDIR}/offloadctl-boot.service": 0o644,
    f"{UNITDIR}/offloadctl-metrics.service": 0o644,
    f"{UNITDIR}/offloadctl-metrics.timer": 0o644,
    f"{UDEVRULES}/80-offloadctl.rules": 0o644,
    f"{TMPFILESDIR}/offloadctl.conf": 0o644,
    f"{COMPDIR}/offloadctl": 0o644,
    "/etc/offloadctl/offloadctl.yaml": 0o644,
}


@pytest.fixture(scope="module")
def destdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("destdir")
    make("install", f"DESTDIR={d}")
    return str(d)


def unit_for_verify(destdir, unit, outdir):
    """A copy of an installed unit that names the DESTDIR binary, so that
    systemd-analyze finds the program it checks for."""
    text = open(destdir + f"{UNITDIR}/{unit}").read()
    text = text.replace("/usr/sbin/offloadctl", destdir + "/usr/sbin/offloadctl")
    path = os.path.join(outdir, unit)
    with open(path, "w") as f:
        f.write(text)
    return path


def unit_settings(path):
    """[Service]/[Unit] key -> list of values, in file order."""
    out = {}
    for line in open(path):
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        k, _, v = line.partition("=")
        out.setdefault(k, []).append(v)
    return out


# ---------------------------------------------------------------- make install

def test_make_install_puts_every_file_in_place(destdir):
    for path, mode in INSTALLED.items():
        full = destdir + path
        assert os.path.isfile(full), f"make install did not install {path}"
        assert stat.S_IMODE(os.stat(full).st_mode) == mode, f"{path}: mode {oct(os.stat(full).st_mode)}"
    # The fact adapter is installed once: its two other names are links to it.
    for name in ("offloadctl.fact", "facter-offloadctl"):
        assert os.readlink(destdir + "/usr/share/offloadctl/" + name) == "offloadctl-fact"
    # The units name the installed program (SBINDIR), nothing else.
    for unit in UNITS:
        text = open(destdir + f"{UNITDIR}/{unit}").read()
        assert "/usr/sbin/offloadctl" in text
    for unit in TIMERS:
        assert os.path.isfile(destdir + f"{UNITDIR}/{unit}")
    # The installed program runs.
    p = run([destdir + "/usr/sbin/offloadctl", "--version"])
    assert open(os.path.join(ROOT, "VERSION")).read().strip() in p.stdout


def test_installed_configuration_changes_nothing(destdir):
    conf = destdir + "/etc/offloadctl/offloadctl.yaml"
    assert open(conf).read() == open(os.path.join(ROOT, "examples/offloadctl.yaml")).read()
    run([agent_path(), "validate", conf])
    # Against this host's interfaces: in sync, nothing to change (exit 0).
    p = run([agent_path(), "check", "--json", conf], check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    assert json.loads(p.stdout)["changed"] is False


def test_make_install_keeps_an_existing_configuration(tmp_path):
    conf = tmp_path / "etc/offloadctl/offloadctl.yaml"
    conf.parent.mkdir(parents=True)
    conf.write_text("version: 1\ninterfaces: []\n# mine\n")
    make("install", f"DESTDIR={tmp_path}")
    assert conf.read_text().endswith("# mine\n")
    assert (tmp_path / "usr/sbin/offloadctl").is_file()


def test_make_uninstall_removes_all_but_the_configuration(tmp_path):
    make("install", f"DESTDIR={tmp_path}")
    make("uninstall", f"DESTDIR={tmp_path}")
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert left == ["etc/offloadctl/offloadctl.yaml"]


# ---------------------------------------------------------------- systemd units

@pytest.mark.parametrize("unit", UNITS + TIMERS)
def test_systemd_analyze_verify_accepts_unit(destdir, unit, tmp_path):
    path = unit_for_verify(destdir, unit, str(tmp_path))
    targets = [path]
    env = dict(os.environ, MANPATH=destdir + "/usr/share/man")  # Documentation=man:...
    p = run(["systemd-analyze", "verify", *targets], check=False, env=env)
    # verify exits 0 on unknown keys and bad values; it only warns: no output is the test.
    assert p.returncode == 0 and p.stderr.strip() == "" and p.stdout.strip() == "", \
        f"systemd-analyze verify {unit}:\n{p.stdout}{p.stderr}"


@pytest.mark.parametrize("unit", UNITS)
def test_unit_exposure_level(unit):
    path = os.path.join(ROOT, "systemd", unit)
    p = run(["systemd-analyze", "security", "--offline=true", "--no-pager", path], check=False)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", p.stdout + p.stderr)
    assert m, f"no exposure level in:\n{p.stdout}{p.stderr}"
    level = float(m.group(1))
    assert level <= MAX_EXPOSURE, f"{unit}: exposure {level} > {MAX_EXPOSURE}\n{p.stdout}"


@pytest.mark.parametrize("unit", [u for u in UNITS if u != "offloadctl-metrics.service"])
def test_unit_grants_only_net_admin(unit):
    s = unit_settings(os.path.join(ROOT, "systemd", unit))
    # Both keep namespace scopes (boot: apply --all-scopes; watch) and
    # enter those namespaces with setns(): CAP_SYS_ADMIN and net/mnt
    # namespaces, nothing more.
    assert s["CapabilityBoundingSet"] == ["CAP_NET_ADMIN CAP_SYS_ADMIN"]
    assert s["RestrictNamespaces"] == ["net mnt"]
    assert "AmbientCapabilities" not in s
    assert s["NoNewPrivileges"] == ["yes"]
    assert s["ProtectSystem"] == ["strict"]
    # Writable: the shared lock, and the state directory (the last good
    # configuration) that systemd makes.
    assert s["ReadWritePaths"] == ["-/run/offloadctl.lock"]
    assert s["StateDirectory"] == ["offloadctl"] and s["StateDirectoryMode"] == ["0700"]
    # watch: AF_UNIX for its one-per-namespace claim (an abstract socket)
    families = {"AF_NETLINK", "AF_INET"} | ({"AF_UNIX"} if unit == "offloadctl-watch.service" else set())
    assert set(s["RestrictAddressFamilies"][0].split()) == families
    # Every unit that runs offloadctl runs it from /usr/sbin.
    assert any("/usr/sbin/offloadctl" in v for v in s["ExecStart"])
    assert "Documentation" in s


def test_metrics_unit_grants_nothing_but_the_textfile_directory():
    """Facts need no capability: the metrics unit has none, and may write
    node_exporter's textfile directory alone, the way its timer starts it."""
    s = unit_settings(os.path.join(ROOT, "systemd", "offloadctl-metrics.service"))
    assert s["CapabilityBoundingSet"] == [""]
    assert s["ProtectSystem"] == ["strict"] and s["NoNewPrivileges"] == ["yes"]
    assert s["ReadWritePaths"] == ["/var/lib/prometheus/node-exporter"]
    (cmd,) = s["ExecStart"]
    assert cmd.split()[:2] == ["/usr/sbin/offloadctl", "-q"]
    assert "--format prometheus --output /var/lib/prometheus/node-exporter/offloadctl.prom" in cmd
    t = unit_settings(os.path.join(ROOT, "systemd", "offloadctl-metrics.timer"))
    assert t["OnUnitActiveSec"] and t["WantedBy"] == ["timers.target"]


def test_tmpfiles_creates_the_lock(tmp_path):
    """The units see / read-only: the lock they write must exist first."""
    conf = os.path.join(ROOT, "systemd", "offloadctl.tmpfiles")
    run(["systemd-tmpfiles", f"--root={tmp_path}", "--create", conf])
    lock = tmp_path / "run/offloadctl.lock"
    assert lock.is_file()
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600


def _filter_groups():
    """systemd-analyze syscall-filter: group -> members (nested groups kept)."""
    out = run(["systemd-analyze", "syscall-filter", "--no-pager"]).stdout
    groups, cur = {}, None
    for line in out.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith("@") and not line.startswith(" "):
            cur = s.split()[0]
            groups[cur] = []
        elif cur:
            groups[cur].append(s.split()[0])
    return groups


def _allowed_syscalls(unit):
    """The set a unit's SystemCallFilter= lines allow (allow-list, then deny-lists)."""
    groups = _filter_groups()

    def expand(name):
        if not name.startswith("@"):
            return {name}
        res = set()
        for m in groups[name]:
            res |= expand(m)
        return res

    allowed = None
    for v in unit_settings(os.path.join(ROOT, "systemd", unit))["SystemCallFilter"]:
        deny = v.startswith("~")
        names = set()
        for w in v.lstrip("~").split():
            names |= expand(w)
        if deny:
            allowed -= names
        else:
            allowed = names if allowed is None else allowed | names
    assert allowed, "no allow-list"
    return allowed


def _strace_syscalls(logfile):
    names = set()
    for line in open(logfile):
        m = re.match(r"^\d+\s+([a-z_0-9]+)\(", line)
        if m:
            names.add(m.group(1))
    return names


def test_syscall_filter_allows_what_the_agent_uses(netns, tmp_path):
    """Run facts, apply (a real change) and watch under strace, as the units
    run them (no --netns), and check every system call against the filter."""
    netns.veth("sc0", "sc1")
    conf = tmp_path / "sc.yaml"
    conf.write_text("version: 1\ninterfaces:\n  - match: {name: sc0}\n    features: {tx: off}\n")
    env = dict(os.environ, OFFLOADCTL_LOCK_FILE=str(tmp_path / "lock"))
    used = set()
    for i, args in enumerate([["facts"], ["apply", str(conf)], ["-q", "apply", "--interface", "sc0", str(conf)]]):
        log = tmp_path / f"strace{i}"
        p = run(["ip", "netns", "exec", netns.name, "strace", "-f", "-qq", "-o", str(log),
                 agent_path(), *args], check=False, env=env)
        assert p.returncode == 0, p.stderr
        used |= _strace_syscalls(log)
    assert netns.ethtool_json("sc0")["tx-checksumming"]["active"] is False

    # watch: start, let it apply and settle, stop it the way systemd does.
    netns.ethtool_K("sc0", "tx", "on", check=True)
    log = tmp_path / "strace-watch"
    proc = subprocess.Popen(["ip", "netns", "exec", netns.name, "strace", "-f", "-qq", "-o", str(log),
                             agent_path(), "watch", str(conf)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 10
        while time.time() < deadline and netns.ethtool_json("sc0")["tx-checksumming"]["active"]:
            time.sleep(0.1)
        time.sleep(0.5)
    finally:
        # proc is strace (ip netns exec execs it); its child is the agent:
        # SIGTERM to the agent, as systemctl stop sends it.
        kids = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        for pid in kids:
            os.kill(int(pid), signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    assert kids, "watch was not running"
    assert netns.ethtool_json("sc0")["tx-checksumming"]["active"] is False, f"watch did not apply: {err}"
    assert proc.returncode == 0, f"watch did not exit 0 on SIGTERM: {proc.returncode}\n{err}"
    used |= _strace_syscalls(log)

    assert {"socket", "sendmsg", "recvmsg", "ioctl"} & used, "strace recorded nothing"
    for unit in UNITS:
        missing = sorted(used - _allowed_syscalls(unit))
        assert not missing, f"{unit}: SystemCallFilter= would deny {missing}"


# ---------------------------------------------------------------- udev rule

RULE = os.path.join(ROOT, "systemd", "80-offloadctl.rules")


def _udevadm_test(netns, ifname, rules, action="add"):
    """udevadm test --action=ACTION for IFNAME in NETNS (ip netns exec mounts
    that namespace's /sys) with RULES added, in a private /run (a tmpfs in
    a mount namespace of its own) so nothing of the host's is written and
    nothing an earlier udevd left in /run/udev is needed: on a fresh machine
    /run/udev does not exist.  udevadm test runs no RUN program; it prints
    each as `run: 'COMMAND'`, substituted."""
    script = ("set -e; mount -t tmpfs tmpfs /run; mkdir -p /run/udev/rules.d; "
              + "".join(f"cp {shlex.quote(r)} /run/udev/rules.d/; " for r in rules)
              + f"exec udevadm test --action={action} /sys/class/net/{ifname}")
    p = run(["ip", "netns", "exec", netns.name, "unshare", "-m", "sh", "-c", script], check=False)
    assert f"ACTION={action}" in p.stdout, p.stdout + p.stderr
    return p


def _ours(p):
    """The rule's RUN commands in udevadm test's output, as argument lists."""
    return [shlex.split(m) for m in re.findall(r"^run: '(.*)'$", p.stdout, re.M) if "offloadctl" in m]


def _rule_for(tmp_path, confdir):
    """The shipped rule with its configuration directory moved to CONFDIR
    (never the machine's own /etc/offloadctl)."""
    text = open(RULE).read()
    assert text.count("/etc/offloadctl/") == 2  # the two TESTs
    r = tmp_path / "80-offloadctl.rules"
    r.write_text(text.replace("/etc/offloadctl/", f"{confdir}/"))
    return str(r)


def test_udev_rule_runs_apply_for_a_new_interface(netns, tmp_path):
    """The rule runs apply for the interface, by its exact final name, with
    the last good set as the fall-back and its words in the journal; the
    command it gives, run as udev runs it, sets the state."""
    conf = tmp_path / "etc"
    conf.mkdir()
    (conf / "offloadctl.yaml").write_text(
        "version: 1\ninterfaces:\n  - match: {name: 'ud*'}\n    features: {tx: off}\n")
    rule = _rule_for(tmp_path, conf)
    netns.veth("ud0", "ud1")

    p = _udevadm_test(netns, "ud0", [rule])
    out = p.stdout + p.stderr
    assert "Reading rules file: /run/udev/rules.d/80-offloadctl.rules" in out
    # No complaint about the rule (udev names the file and line of a bad key).
    bad = [l for l in out.splitlines() if "80-offloadctl.rules" in l
           and "Reading rules file" not in l and " RUN '" not in l]
    assert not bad, bad
    (cmd,) = _ours(p)
    assert cmd[:3] == ["/usr/bin/systemd-cat", "--identifier=offloadctl", "--stderr-priority=warning"]
    assert cmd[3:5] == ["/usr/sbin/offloadctl", "apply"]
    assert cmd[cmd.index("--ifname") + 1] == "ud0" and "--fall-back" in cmd
    assert "--interface" not in cmd and "-i" not in cmd  # an exact name, never a glob
    lock = float(cmd[cmd.index("--lock-timeout") + 1])
    assert 0 < lock < 180  # inside udev's event timeout
    assert os.access(cmd[0], os.X_OK) or shutil.which("systemd-cat"), "systemd-cat is part of systemd"

    # What udev would run, with this build's agent and the test's
    # configuration (its own state directory for the last good set).
    argv = [agent_path(), "--config-dir", str(conf), *cmd[4:]]
    env = dict(os.environ, OFFLOADCTL_STATE_DIR=str(tmp_path / "state"))
    r = run(["ip", "netns", "exec", netns.name, *argv], check=False, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert netns.ethtool_json("ud0")["tx-checksumming"]["active"] is False
    assert netns.ethtool_json("ud1")["tx-checksumming"]["active"] is True  # only the one named

    # A rename is a move event: a run for the new name.
    p = _udevadm_test(netns, "ud1", [rule], action="move")
    (cmd,) = _ours(p)
    assert cmd[cmd.index("--ifname") + 1] == "ud1"

    # Without the rule, nothing runs offloadctl: it is our rule that does it.
    assert _ours(_udevadm_test(netns, "ud0", [])) == []
    # Nor for loopback, a removal, or a host with no configuration.
    assert _ours(_udevadm_test(netns, "lo", [rule])) == []
    assert _ours(_udevadm_test(netns, "ud0", [rule], action="remove")) == []
    assert _ours(_udevadm_test(netns, "ud0", [_rule_for(tmp_path, tmp_path / "none")])) == []
    # conf.d alone is a configuration.
    (tmp_path / "d" / "conf.d").mkdir(parents=True)
    assert len(_ours(_udevadm_test(netns, "ud0", [_rule_for(tmp_path, tmp_path / "d")]))) == 1

    # A newer udevadm checks rules files itself.
    if "verify" in run(["udevadm", "--help"]).stdout:
        run(["udevadm", "verify", RULE])


# ---------------------------------------------------------------- bash completion

def complete(*words, cword=None):
    """COMPREPLY for the command line WORDS (the last one being completed)."""
    words = ["offloadctl", *words]
    cword = len(words) - 1 if cword is None else cword
    script = ('cd "$1"; source completion/offloadctl.bash; shift; COMP_WORDS=("$@"); COMP_CWORD=%d; '
              '_offloadctl; printf "%%s\\n" "${COMPREPLY[@]}"' % cword)
    p = run(["bash", "-c", script, "x", ROOT, *words])
    return [w for w in p.stdout.split("\n") if w]


def test_completion_commands_and_global_options():
    assert complete("ch") == ["check"]
    assert set(complete("")) == {"facts", "virt", "show", "advise", "validate", "check", "apply",
                                 "watch", "names", "help"}
    assert "--netns" in complete("--n")
    assert complete("--backend", "") == ["netlink", "ioctl", "auto"]
    # A global option's argument is not the command.
    assert complete("--config-dir", "/etc", "ap") == ["apply"]
    assert complete("help", "wa") == ["watch"]


def test_completion_per_command_options():
    assert set(complete("apply", "--")) == {"--dry-run", "--json", "--lock-timeout", "--interface", "--ifname",
                                            "--all-scopes", "--per-interface", "--fall-back", "--help"}
    assert set(complete("facts", "--f")) == {"--format", "--full"}
    assert complete("facts", "--format", "f") == ["facter"]
    assert complete("virt", "--b") == ["--brief"]
    assert "--facts" in complete("check", "--")
    assert "--desired-state" in complete("advise", "--d")
    assert complete("validate", "--j") == ["--json"]
    assert complete("names", "--") == ["--json", "--help"]


def test_completion_interfaces_and_files(netns):
    here = sorted(os.listdir("/sys/class/net"))
    assert sorted(complete("facts", "")) == here
    assert sorted(complete("-q", "show", "")) == here
    assert sorted(complete("apply", "-i", "")) == here
    # With --netns, the names in that namespace.
    netns.veth("cmpl0", "cmpl1")
    assert sorted(complete("--netns", netns.name, "facts", "cmpl")) == ["cmpl0", "cmpl1"]
    # Files for validate/check/apply (relative to the tree).
    assert "examples/offloadctl.yaml" in complete("validate", "examples/off")


# ---------------------------------------------------------------- make deb

@pytest.fixture(scope="module")
def deb():
    make("deb", timeout=600)
    debs = [d for d in glob.glob(os.path.join(ROOT, "build", "deb", "offloadctl_*.deb"))]
    assert len(debs) == 1, debs
    return debs[0]


def test_deb_fields_and_conffiles(deb):
    version = open(os.path.join(ROOT, "VERSION")).read().strip()
    fields = run(["dpkg-deb", "-f", deb, "Package", "Version", "Depends"]).stdout
    assert "Package: offloadctl" in fields
    assert f"Version: {version}" in fields
    for lib in ("libnl-3-200", "libnl-genl-3-200", "libjansson4", "libyaml-0-2", "libc6"):
        assert lib in fields, f"{lib} not in Depends:\n{fields}"
    ctl = run(["dpkg-deb", "-I", deb, "conffiles"]).stdout.split()
    assert ctl == ["/etc/offloadctl/offloadctl.yaml"]
    # a link is listed as "./path -> target"
    files = {l.split(" -> ")[0].split()[-1].lstrip(".") for l in run(["dpkg-deb", "-c", deb]).stdout.splitlines()}
    for path in INSTALLED:
        if path.startswith("/usr/share/man/"):
            path += ".gz"
        assert path in files, f"{path} not in the package"
    postinst = run(["dpkg-deb", "-I", deb, "postinst"]).stdout
    assert "deb-systemd-helper enable 'offloadctl-boot.service'" in postinst
    # node_exporter is not on every host: the metrics timer is an opt-in,
    # enabled again on upgrade only where the administrator enabled it
    assert "deb-systemd-helper debian-installed 'offloadctl-metrics.timer'" in postinst
    assert "systemd-tmpfiles" in postinst


def test_deb_lintian_reports_no_errors(deb):
    p = run(["lintian", "--no-tag-display-limit", deb], check=False, timeout=300)
    tags = [l for l in p.stdout.splitlines() if re.match(r"^[EWIXPO]: ", l)]
    errors = [l for l in tags if l.startswith("E: ")]
    assert not errors, "\n".join(tags)
    assert p.returncode == 0, p.stdout + p.stderr


def _installed(pkg="offloadctl"):
    p = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", pkg], capture_output=True, text=True)
    return p.stdout.strip() if p.returncode == 0 else ""


def _exists(path):
    return os.path.lexists(path)


def test_deb_installs_runs_removes_and_purges(deb):
    if _installed() not in ("", "un"):
        pytest.fail(f"offloadctl is already installed as a package here ({_installed()!r}); "
                    "this test would change that: dpkg -P offloadctl first")
    enable_link = "/etc/systemd/system/multi-user.target.wants/offloadctl-boot.service"
    watch_link = "/etc/systemd/system/multi-user.target.wants/offloadctl-watch.service"
    lock_before = os.path.exists("/run/offloadctl.lock")
    assert not _exists("/etc/offloadctl/offloadctl.yaml"), "/etc/offloadctl exists without the package"
    try:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        run(["dpkg", "-i", deb], env=env)
        assert _installed() == "ii"
        shipped = [l for l in run(["dpkg-query", "-L", "offloadctl"]).stdout.splitlines()
                   if os.path.isfile(l) and not os.path.islink(l)]
        for path in INSTALLED:
            if path.startswith("/usr/share/man/"):
                path += ".gz"
            assert os.path.exists(path), path

        # A working offloadctl.
        p = run(["/usr/sbin/offloadctl", "facts"])
        doc = json.loads(p.stdout)
        assert doc["schema"] == 1 and "lo" in doc["interfaces"]
        run(["/usr/sbin/offloadctl", "validate"])  # the shipped configuration
        p = run(["/usr/sbin/offloadctl", "check"], check=False)
        assert p.returncode == 0, "the shipped configuration would change something:\n" + p.stdout

        # Units enabled the Debian way: the boot oneshot on, the watch daemon off.
        assert os.path.islink(enable_link)
        assert not _exists(watch_link)
        assert not _exists("/etc/systemd/system/timers.target.wants/offloadctl-metrics.timer")
        # The lock the sandboxed units write (tmpfiles.d).
        assert os.path.isfile("/run/offloadctl.lock")

        # Remove: only configuration stays: the conffile, and systemd's
        # enablement state, which dh_installsystemd keeps until purge so that
        # a reinstall keeps the administrator's choice.
        run(["dpkg", "-r", "offloadctl"], env=env)
        assert _installed() == "rc"
        conffiles = {"/etc/offloadctl/offloadctl.yaml"}
        left = [f for f in shipped if _exists(f) and f not in conffiles]
        assert not left, f"left behind by dpkg -r: {left}"
        assert os.path.isfile("/etc/offloadctl/offloadctl.yaml")

        # Purge: nothing at all.
        run(["dpkg", "-P", "offloadctl"], env=env)
        assert _installed() == ""
        left = [f for f in shipped if _exists(f)]
        assert not left, f"left behind by dpkg -P: {left}"
        assert not _exists("/etc/offloadctl")
        assert not _exists(enable_link)
        assert not glob.glob("/var/lib/systemd/deb-systemd-helper-enabled/**/offloadctl*", recursive=True)
    finally:
        if _installed() not in ("", "un"):
            subprocess.run(["dpkg", "-P", "offloadctl"], capture_output=True)
        if not lock_before and os.path.exists("/run/offloadctl.lock"):
            os.unlink("/run/offloadctl.lock")
