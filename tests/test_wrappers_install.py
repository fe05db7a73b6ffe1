"""The wrappers' install and service branches, for real: the Puppet class and
the Ansible role install the package `make deb` built, a second run changes
nothing, and `service => 'boot'` / `offloadctl_service: boot` enable
offloadctl-boot.service and disable offloadctl-watch.service.

Every test installs a real package on this machine. It fails (it does not
skip) when offloadctl is already installed as a package here, or when
/etc/offloadctl exists without it, and in a `finally` it purges the package
and removes what the wrappers made beside it (/etc/offloadctl, the .deb cache,
enable symlinks, the lock), so that the machine is left as it was found.

What needs a running systemd (PID 1) cannot be tested here, where PID 1 is
not systemd: starting offloadctl-watch.service and keeping it running, the
wrappers' reloads and restarts of it, and the boot oneshot running at boot.
Enabling and disabling units need no running systemd: systemctl does them
offline, on the unit files the package installed, and `systemctl
is-enabled` reads them back. Where systemd does not run, the watch branch must
fail, and these tests check that it does (no success is faked); on a host
booted with systemd they check that the watch service runs instead.

Puppet's systemd service provider is confined to hosts whose /proc/1/comm says
`systemd`; elsewhere Puppet picks the `debian` provider, which would run
update-rc.d on init scripts the package does not have. The Puppet runs
therefore see a /proc/1/comm that says `systemd`, bind-mounted in a mount
namespace of their own (nothing else is changed, and nothing outside that
namespace sees it), so that they use the provider a Debian host uses. That
provider's enable, disable and is-enabled are real systemctl calls; its
status (`systemctl is-active`) finds no unit running, which is true, and its
start fails, which the watch test checks.

Do not run this file at the same time as tests/test_install.py: both install
and purge the same package.
"""
import glob
import json
import os
import re
import shutil
import subprocess

import pytest

from ocutil import ROOT, run

MODULE = os.path.join(ROOT, "modules", "puppet")
ROLE = os.path.join(ROOT, "roles", "ansible")
PLAYBOOK = os.path.join(ROOT, "tests", "ansible", "converge.yml")
PYTHON = "/usr/bin/python3"
BOOT, WATCH = "offloadctl-boot.service", "offloadctl-watch.service"
CONFIG_DIR = "/etc/offloadctl"
DEB_CACHE = "/var/cache/offloadctl"  # where the role copies a .deb (roles/ansible/vars/main.yml)
LOCK = "/run/offloadctl.lock"
DEB_STATE = "/var/lib/systemd/deb-systemd-helper-enabled"
DEB_MASKED = "/var/lib/systemd/deb-systemd-helper-masked"
# Sandbox noise of this container's facter (as in tests/test_puppet.py).
NOISE = re.compile(r"^.*(Facter: Permission denied @ rb_sysopen - /proc/1/environ).*$\n?", re.M)
RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
                   r"unreachable=\d+\s+failed=(?P<failed>\d+)", re.M)


def systemd_runs():
    """sd_booted(3): systemd is the running service manager."""
    return os.path.isdir("/run/systemd/system")


def installed(pkg="offloadctl"):
    p = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", pkg], capture_output=True, text=True)
    return p.stdout.strip() if p.returncode == 0 else ""


def is_enabled(unit):
    return subprocess.run(["systemctl", "is-enabled", unit], capture_output=True, text=True).stdout.strip()


def unit_traces():
    """Every file systemd or deb-systemd-helper keeps about offloadctl's units."""
    found = set()
    for pattern in ("/etc/systemd/system/**/offloadctl*", DEB_STATE + "/**/offloadctl*",
                    DEB_MASKED + "/offloadctl*"):
        found.update(glob.glob(pattern, recursive=True))
    return found


# ---------------------------------------------------------------- the package

def _make_deb():
    """`make deb`, with tests/test_install.py's helper when it imports, so that
    both suites build the package the same way."""
    try:
        from test_install import make  # noqa: PLC0415
    except Exception:  # noqa: BLE001  (that file's own imports failing must not stop this one)
        def make(*args, timeout=300):
            return run(["make", "-s", "--no-print-directory", "-C", ROOT, *args], timeout=timeout)
    make("deb", timeout=600)


@pytest.fixture(scope="module")
def deb():
    """Built once for the whole file."""
    _make_deb()
    debs = glob.glob(os.path.join(ROOT, "build", "deb", "offloadctl_*.deb"))
    assert len(debs) == 1, f"expected one package in build/deb: {debs}"
    return debs[0]


@pytest.fixture
def clean_host():
    """Refuse to start on a host that has offloadctl; put back what the test
    changed, whatever happens."""
    if installed() not in ("", "un"):
        pytest.fail(f"offloadctl is already installed as a package here ({installed()!r}); "
                    "this test would change that: dpkg -P offloadctl first")
    if os.path.lexists(CONFIG_DIR):
        pytest.fail(f"{CONFIG_DIR} exists without the package; this test would remove it")
    had_cache = os.path.lexists(DEB_CACHE)
    had_lock = os.path.exists(LOCK)
    traces_before = unit_traces()
    try:
        yield
    finally:
        if installed() not in ("", "un"):
            subprocess.run(["dpkg", "-P", "offloadctl"], capture_output=True,
                           env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        # What the wrappers made beside the package (conf.d/, fact.conf, the
        # copied .deb), and enable symlinks the test or a wrapper made that
        # the purge does not know about.
        shutil.rmtree(CONFIG_DIR, ignore_errors=True)
        if not had_cache:
            shutil.rmtree(DEB_CACHE, ignore_errors=True)
        for path in unit_traces() - traces_before:
            if os.path.islink(path) or os.path.isfile(path):
                os.unlink(path)
        if not had_lock and os.path.exists(LOCK):
            os.unlink(LOCK)
    assert installed() in ("", "un"), installed()
    assert unit_traces() == traces_before


def assert_agent_installed():
    p = run(["dpkg", "-s", "offloadctl"])
    assert re.search(r"^Status: install ok installed$", p.stdout, re.M), p.stdout
    doc = json.loads(run(["/usr/sbin/offloadctl", "facts"]).stdout)
    assert doc["schema"] == 1 and "lo" in doc["interfaces"], doc


def admin_prefers_watch():
    """The state the boot branch has to undo: boot oneshot off, watch on (as
    an administrator would have left them), made offline with systemctl."""
    run(["systemctl", "disable", BOOT])
    run(["systemctl", "enable", WATCH])
    assert (is_enabled(BOOT), is_enabled(WATCH)) == ("disabled", "enabled")


# ---------------------------------------------------------------- Puppet

def _env():
    """No build tree on PATH: the wrappers must find the installed agent."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFFLOADCTL")}
    env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
    return env


class Puppet:
    def __init__(self, tmp):
        self.tmp = tmp
        (tmp / "modules").mkdir()
        os.symlink(MODULE, tmp / "modules" / "offloadctl")
        for d in ("conf", "var"):
            (tmp / d).mkdir()
        # The /proc/1/comm Puppet's systemd provider is confined on (see the docstring).
        self.comm = tmp / "comm"
        self.comm.write_text("systemd\n")
        self.n = 0

    def apply(self, manifest):
        self.n += 1
        path = self.tmp / f"m{self.n}.pp"
        path.write_text(manifest)
        cmd = ["puppet", "apply", "--detailed-exitcodes", "--color=false",
               "--modulepath", str(self.tmp / "modules"), "--confdir", str(self.tmp / "conf"),
               "--vardir", str(self.tmp / "var"), str(path)]
        if not systemd_runs():
            cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                   'mount --bind "$0" /proc/1/comm && exec "$@"', str(self.comm), *cmd]
        p = run(cmd, check=False, env=_env(), timeout=240)
        p.stderr = NOISE.sub("", p.stderr)
        return p


def klass(deb, service):
    return f"""
class {{ 'offloadctl':
  manage_package => true,
  package_source => '{deb}',
  service        => '{service}',
}}
"""


def test_puppet_installs_the_package_and_enables_the_boot_unit(deb, clean_host, tmp_path):
    pp = Puppet(tmp_path)

    # A clean host: the package is installed (its postinst enables the boot
    # oneshot, which the class then finds in sync).
    p = pp.apply(klass(deb, "boot"))
    assert p.returncode == 2, p.stdout + p.stderr
    assert "Offloadctl::Install/Package[offloadctl]/ensure: created" in p.stdout, p.stdout
    assert_agent_installed()
    assert (is_enabled(BOOT), is_enabled(WATCH)) == ("enabled", "disabled")
    assert os.path.isfile(f"{CONFIG_DIR}/fact.conf")

    p = pp.apply(klass(deb, "boot"))
    assert p.returncode == 0, "second run not idempotent:\n" + p.stdout + p.stderr

    # The class's own service branch: boot enabled, watch disabled.
    admin_prefers_watch()
    p = pp.apply(klass(deb, "boot"))
    assert p.returncode == 2, p.stdout + p.stderr
    # systemd is not PID 1 in this container (only /proc/1/comm says so, for
    # Puppet's provider default): Puppet's service_provider fact is not
    # 'systemd', and the class enables the boot oneshot (and disables watch)
    # with systemctl, which works on the unit files alone.
    assert "Exec[systemctl enable offloadctl-boot.service]/returns: executed successfully" in p.stdout, p.stdout
    assert "Exec[systemctl disable offloadctl-watch.service]/returns: executed successfully" in p.stdout, p.stdout
    assert "Package[offloadctl]" not in p.stdout, p.stdout
    assert (is_enabled(BOOT), is_enabled(WATCH)) == ("enabled", "disabled")
    p = pp.apply(klass(deb, "boot"))
    assert p.returncode == 0, p.stdout + p.stderr

    # Not started: a boot oneshot is enabled only; Puppet applies the rules itself.
    assert not re.search(r"Service\[offloadctl-boot\]/ensure", p.stdout)


def test_puppet_watch_branch_needs_a_running_systemd(deb, clean_host, tmp_path):
    pp = Puppet(tmp_path)
    p = pp.apply(klass(deb, "watch"))
    if systemd_runs():
        assert "Offloadctl::Install/Package[offloadctl]/ensure: created" in p.stdout, p.stdout
        assert_agent_installed()
        assert is_enabled(BOOT) == "disabled", p.stdout  # enable => false
        assert p.returncode == 2, p.stdout + p.stderr
        assert run(["systemctl", "is-active", WATCH], check=False).stdout.strip() == "active"
        assert is_enabled(WATCH) == "enabled"
    else:
        # systemd is not the running service manager (Puppet's service_provider
        # fact says so): the catalog fails before anything is done, with words
        # that say why and what to choose instead.
        assert p.returncode == 1, p.stdout + p.stderr
        assert "service => 'watch' and metrics => true start systemd units" in p.stderr, p.stderr
        assert "Use service => 'boot'" in p.stderr, p.stderr
        assert "Package[offloadctl]" not in p.stdout, p.stdout
        status = run(["dpkg-query", "-W", "-f=${Status}", "offloadctl"], check=False).stdout
        assert not status.endswith(" installed"), status


# ---------------------------------------------------------------- Ansible

class Ansible:
    def __init__(self, tmp):
        self.tmp = tmp
        self.bin = shutil.which("ansible-playbook", path="/usr/bin:/usr/local/bin")
        assert self.bin, "ansible-playbook is not installed (scripts/install-deps check installs it)"
        # The apt module installs python3-apt itself when it is missing:
        # that would change this machine, so it must be there already.
        p = subprocess.run([PYTHON, "-c", "import apt"], capture_output=True)
        assert p.returncode == 0, f"{PYTHON} lacks python3-apt, which the role's apt task needs"
        (tmp / "roles").mkdir()
        (tmp / "roles" / "offloadctl").symlink_to(ROLE)
        self.cfg = tmp / "ansible.cfg"
        self.cfg.write_text(
            "[defaults]\n"
            f"roles_path = {tmp}/roles\n"
            f"local_tmp = {tmp}/ansible-local\n"
            f"remote_tmp = {tmp}/ansible-remote\n"
            f"interpreter_python = {PYTHON}\n"
            "retry_files_enabled = False\n"
            "nocolor = True\n"
            "stdout_callback = default\n")
        self.fact_dump = tmp / "fact.json"

    def play(self, deb, service):
        inv = self.tmp / "inventory.yml"
        inv.write_text(json.dumps({"all": {"hosts": {"h": {}}, "vars": {
            "ansible_connection": "local",
            "ansible_python_interpreter": PYTHON,
            "offloadctl_install": True,
            "offloadctl_deb": deb,
            "offloadctl_service": service,
            # No rules: nothing on this host's interfaces changes.
            "offloadctl_facts_dir": str(self.tmp / "facts.d"),
            "offloadctl_test_fact_dump": str(self.fact_dump),
        }}}))
        env = dict(_env(), ANSIBLE_CONFIG=str(self.cfg), ANSIBLE_NOCOLOR="1")
        p = run([self.bin, "-i", str(inv), PLAYBOOK], check=False, env=env, timeout=300)
        m = RECAP.search(p.stdout)
        p.out = p.stdout + p.stderr
        p.changed = int(m["changed"]) if m else None
        p.failed = int(m["failed"]) if m else None
        return p


def test_ansible_installs_the_package_and_enables_the_boot_unit(deb, clean_host, tmp_path):
    an = Ansible(tmp_path)

    p = an.play(deb, "boot")
    assert p.returncode == 0 and p.failed == 0, p.out
    assert re.search(r"TASK \[offloadctl : Install the \.deb with apt\][^\n]*\nchanged: \[h\]", p.out), p.out
    assert_agent_installed()
    assert (is_enabled(BOOT), is_enabled(WATCH)) == ("enabled", "disabled")
    # The local fact comes from the installed agent.
    fact = json.loads(an.fact_dump.read_text())
    assert fact["schema"] == 1 and "lo" in fact["interfaces"], fact

    p = an.play(deb, "boot")
    assert p.returncode == 0 and p.changed == 0 and p.failed == 0, "second run not idempotent:\n" + p.out

    # The role's own service branch: boot enabled, watch disabled.
    admin_prefers_watch()
    p = an.play(deb, "boot")
    assert p.returncode == 0 and p.changed == 2 and p.failed == 0, p.out
    assert re.search(r"TASK \[offloadctl : Enable the offloadctl boot oneshot\][^\n]*\nchanged: \[h\]", p.out), p.out
    assert re.search(r"TASK \[offloadctl : Disable the other offloadctl unit\][^\n]*\n"
                     rf"changed: \[h\] => \(item={WATCH}\)", p.out), p.out
    assert (is_enabled(BOOT), is_enabled(WATCH)) == ("enabled", "disabled")
    p = an.play(deb, "boot")
    assert p.returncode == 0 and p.changed == 0 and p.failed == 0, p.out
    # The oneshot is not started; without systemd there is nothing to stop.
    if not systemd_runs():
        assert re.search(r"TASK \[offloadctl : Stop the other offloadctl unit\][^\n]*\nskipping: \[h\]", p.out), p.out


def test_ansible_watch_branch_needs_a_running_systemd(deb, clean_host, tmp_path):
    an = Ansible(tmp_path)
    p = an.play(deb, "watch")
    assert_agent_installed()
    if systemd_runs():
        assert p.returncode == 0 and p.failed == 0, p.out
        assert run(["systemctl", "is-active", WATCH], check=False).stdout.strip() == "active"
        assert (is_enabled(BOOT), is_enabled(WATCH)) == ("disabled", "enabled")
    else:
        # The role says why, and touches no unit.
        assert p.returncode != 0 and p.failed == 1, p.out
        assert "needs systemd" in p.out and "no /run/systemd/system" in p.out, p.out
        assert (is_enabled(BOOT), is_enabled(WATCH)) == ("enabled", "disabled")
