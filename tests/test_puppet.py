"""The Puppet module (modules/puppet): lint, parser, and real `puppet apply` runs.

Every run works on veth pairs in a fresh network namespace (the class and the
type take `netns`) and on a configuration directory in a temporary directory
(`config_dir`), so neither the machine's interfaces nor /etc/offloadctl are
touched. Puppet's own state goes to a temporary confdir and vardir too.
The agent under test is the one tests/ocutil.py names, first on PATH.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from advice_cases import add_vxlans, k8s_vxlan_advice_id
from ocutil import ROOT, FeatureMonitor, agent_path, run

A, B = "veth0", "veth1"  # a veth pair in each test's namespace
MODULE = os.path.join(ROOT, "modules", "puppet")
FACT = os.path.join(MODULE, "facts.d", "offloadctl")

# Noise from this container's facter (NOTES.md: /proc/1/environ is EACCES).
NOISE = re.compile(r"^.*(Facter: Permission denied @ rb_sysopen - /proc/1/environ).*$\n?", re.M)


def _env():
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(os.path.abspath(agent_path())) + ":" + env.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    env.pop("OFFLOADCTL_FACT_CONF", None)
    env.pop("OFFLOADCTL_PATH", None)
    return env


@pytest.fixture(scope="module")
def puppet_home(tmp_path_factory):
    """A modulepath holding the module as `offloadctl`, and Puppet's dirs."""
    base = tmp_path_factory.mktemp("puppet")
    modules = base / "modules"
    modules.mkdir()
    os.symlink(MODULE, modules / "offloadctl")
    for d in ("conf", "var"):
        (base / d).mkdir()
    return base


class Puppet:
    def __init__(self, home, tmp_path):
        self.home = home
        self.tmp = tmp_path
        self.config_dir = tmp_path / "etc-offloadctl"
        self.runs = []

    def _common(self):
        return ["--modulepath", str(self.home / "modules"), "--confdir", str(self.home / "conf"),
                "--vardir", str(self.home / "var"), "--color=false"]

    def apply(self, manifest, *extra):
        path = self.tmp / f"m{len(self.runs)}.pp"
        path.write_text(manifest)
        cmd = ["puppet", "apply", "--detailed-exitcodes", *self._common(), *extra, str(path)]
        t = time.monotonic()
        p = run(cmd, check=False, env=_env(), timeout=180)
        self.runs.append((extra, p.returncode, round(time.monotonic() - t, 2)))
        p.stderr = NOISE.sub("", p.stderr)
        return p

    def cmd(self, *args, netns=None):
        cmd = ["puppet", *args, *self._common()]
        if netns:
            cmd = ["ip", "netns", "exec", netns, *cmd]
        p = run(cmd, check=False, env=_env(), timeout=180)
        p.stderr = NOISE.sub("", p.stderr)
        return p


@pytest.fixture
def puppet(puppet_home, tmp_path):
    pp = Puppet(puppet_home, tmp_path)
    yield pp
    print("puppet runs (options, exit, seconds):", pp.runs)


def pp_str(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def manifest(ns, config_dir, rules_b, resource_a, extra=""):
    """The class (rules for b) and a nic_offload for a, in namespace ns."""
    feats_b = ", ".join(f"'{k}' => '{v}'" for k, v in rules_b.items())
    return f"""
class {{ 'offloadctl':
  netns      => {pp_str(ns)},
  config_dir => {pp_str(str(config_dir))},
  rules      => {{
    'interfaces' => [
      {{ 'match' => {{ 'name' => '{B}', 'kind' => 'veth' }}, 'features' => {{ {feats_b} }} }},
    ],
  }},
}}

nic_offload {{ '{A}':
  netns      => {pp_str(ns)},
  config_dir => {pp_str(str(config_dir))},
  {resource_a}
}}
{extra}
"""


def feats(d):
    return "features => { " + ", ".join(f"'{k}' => '{v}'" for k, v in d.items()) + " },"


# `ethtool --json -k` prints a feature that is alone behind its summary
# line under the long name only.
ETHTOOL_KEY = {"rx-gro": "generic-receive-offload", "rx-lro": "large-receive-offload"}


def active(ns, ifname, feature):
    return ns.ethtool_json(ifname)[ETHTOOL_KEY.get(feature, feature)]["active"]


def dropin(config_dir, ifname=None, ns=None):
    """The type's drop-in: in the namespace's scope when it has one."""
    ifname = ifname or A
    scope = config_dir / "netns" / ns if ns else config_dir / "conf.d"
    return scope / f"50-puppet-nic_offload-{ifname}.yaml"


def class_rules(config_dir, ns):
    """The class's rules in the namespace's scope."""
    return config_dir / "netns" / ns / "40-puppet-offloadctl.yaml"


def changed_lines(out):
    return [line for line in out.splitlines() if "changed" in line or "created" in line or "removed" in line]


# --- static checks -------------------------------------------------------------------------


def test_puppet_lint_passes_with_no_warnings(tmp_path):
    # From the module root, so that --relative checks the layout against the
    # module's name rather than the directory's ("puppet").
    p = subprocess.run(["puppet-lint", "--relative", "--fail-on-warnings", "manifests", "types"],
                       cwd=MODULE, capture_output=True, text=True, env=_env(), timeout=120)
    assert p.returncode == 0 and p.stdout == "" and p.stderr == "", (p.stdout, p.stderr)
    # puppet-lint does find what it should here: a warning fails it.
    (tmp_path / "bad.pp").write_text('# @summary x\nclass bad { $a = "b" }\n')
    bad = run(["puppet-lint", "--relative", "--fail-on-warnings", str(tmp_path / "bad.pp")], check=False)
    assert bad.returncode != 0 and "double quoted string" in bad.stdout, bad.stdout


def test_parser_validate_passes_with_no_warnings():
    pps = sorted(
        os.path.join(d, f) for sub in ("manifests", "types", "examples")
        for d, _, fs in os.walk(os.path.join(MODULE, sub)) for f in fs if f.endswith(".pp"))
    assert len(pps) >= 8, pps
    p = run(["puppet", "parser", "validate", "--color=false", *pps], check=False, env=_env())
    assert p.returncode == 0 and NOISE.sub("", p.stderr) == "" and p.stdout == "", (p.stdout, p.stderr)
    # no templates: every file the module writes is JSON from offloadctl::dropin
    assert not os.path.exists(os.path.join(MODULE, "templates"))
    for d, _, fs in os.walk(os.path.join(MODULE, "lib")):
        for f in fs:
            p = run(["ruby", "-wc", os.path.join(d, f)], check=False)
            assert p.returncode == 0 and p.stderr == "", (f, p.stderr)
    meta = json.load(open(os.path.join(MODULE, "metadata.json")))
    assert meta["name"].endswith("-offloadctl")
    assert os.access(FACT, os.X_OK)


# --- puppet apply ------------------------------------------------------------------------------


def test_apply_changes_then_is_idempotent_and_persists(netns, puppet):
    netns.veth(A, B)
    # veth starts with TX checksumming on and GRO off.
    assert active(netns, A, "tx-checksum-ip-generic") is True
    assert active(netns, A, "rx-gro") is False and active(netns, B, "rx-gro") is False
    m = manifest(netns.name, puppet.config_dir, {"gro": "on"},
                 feats({"tx": "off", "generic-receive-offload": "on", "tx-scatter-gather": "on"}))

    p = puppet.apply(m)
    assert p.returncode == 2, p.stdout + p.stderr
    assert active(netns, A, "tx-checksum-ip-generic") is False
    assert active(netns, A, "rx-gro") is True
    assert active(netns, A, "tx-scatter-gather") is True
    assert active(netns, B, "rx-gro") is True
    assert active(netns, B, "tx-checksum-ip-generic") is True  # b's TX was not asked about
    # The change is in the report with its old and new values.
    assert re.search(r"Nic_offload\[veth0\]/features: features changed "
                     r"\{generic-receive-offload => off, tx => on, tx-scatter-gather => on\} to "
                     r"\{generic-receive-offload => on, tx => off, tx-scatter-gather => on\}", p.stdout), p.stdout
    assert re.search(r"Nic_offload\[veth0\]/persist: persist changed 'false' to 'true'", p.stdout), p.stdout
    # TSO cannot stay on without TX checksumming: reported, not fought.
    assert re.search(r"Nic_offload\[veth0\]\(provider=offloadctl\): the kernel changed on its own: "
                     r".*tx-tcp-segmentation on -> off", p.stdout), p.stdout
    # The class's rules: the feature they change, judged by the scope.
    assert re.search(r"Offloadctl_rules\[[^\]]+/40-puppet-offloadctl\.yaml\]/features: features changed "
                     r"\{veth1: rx-gro => off\} to \{veth1: rx-gro => on\}", p.stdout), p.stdout

    # The drop-in and the rules are in the temporary configuration directory,
    # valid, and in sync with the interfaces as the boot unit and watch read them.
    text = dropin(puppet.config_dir, ns=netns.name).read_text()
    # JSON (which is YAML), names and values as given
    assert re.search(r'^\s+"name": "veth0"$', text, re.M) and re.search(r'^\s+"tx": "off",?$', text, re.M), text
    doc = json.loads("".join(line for line in text.splitlines(True) if not line.startswith("#")))
    assert doc["interfaces"] == [{"match": {"name": A},
                                  "features": {"tx": "off", "generic-receive-offload": "on", "tx-scatter-gather": "on"}}]
    assert class_rules(puppet.config_dir, netns.name).exists()
    scope = puppet.config_dir / "netns" / netns.name
    assert not [f for f in os.listdir(scope) if f.startswith(".")]
    # Nothing of the namespace's reached the host's own set (issue 12).
    assert not (puppet.config_dir / "offloadctl.yaml").exists()
    assert os.listdir(puppet.config_dir / "conf.d") == []
    cfg = ["--netns", netns.name, "--config-dir", str(puppet.config_dir)]
    c = run([agent_path(), *cfg, "check"], check=False)
    assert c.returncode == 0, c.stdout + c.stderr

    p = puppet.apply(m)
    assert p.returncode == 0, p.stdout + p.stderr
    assert changed_lines(p.stdout) == [], p.stdout

    # Drift: the configuration set (what a reboot re-applies) puts it back.
    netns.ethtool_K(A, "tx", "on", "gro", "off", check=True)
    a = run([agent_path(), *cfg, "apply"], check=False)
    assert a.returncode == 0, a.stdout + a.stderr
    assert active(netns, A, "tx-checksum-ip-generic") is False and active(netns, A, "rx-gro") is True


def test_noop_reports_and_changes_nothing(netns, puppet):
    netns.veth(A, B)
    m1 = manifest(netns.name, puppet.config_dir, {"gro": "on"}, feats({"tx": "off"}))
    assert puppet.apply(m1).returncode == 2
    before_a, before_b = netns.ethtool_json(A), netns.ethtool_json(B)
    dropin_before = dropin(puppet.config_dir, ns=netns.name).read_text()
    yaml_before = class_rules(puppet.config_dir, netns.name).read_text()

    m2 = manifest(netns.name, puppet.config_dir, {"gro": "off"}, feats({"tx": "on", "gro": "on"}))
    p = puppet.apply(m2, "--noop")
    # Puppet counts noop events as out of sync, not as changes: --detailed-exitcodes says 0.
    assert p.returncode == 0, p.stdout + p.stderr
    assert re.search(r"Nic_offload\[veth0\]/features: current_value \{gro => off, tx => off\}, "
                     r"should be \{gro => on, tx => on\} \(noop\)", p.stdout), p.stdout
    assert re.search(r"offloadctl.yaml\]/content: current_value .* \(noop\)", p.stdout), p.stdout
    # The class shows the features its new rules would change, not only a checksum.
    assert re.search(r"Offloadctl_rules\[[^\]]+\]/features: current_value \{veth1: rx-gro => on\}, "
                     r"should be \{veth1: rx-gro => off\} \(noop\)", p.stdout), p.stdout
    assert netns.ethtool_json(A) == before_a and netns.ethtool_json(B) == before_b
    assert dropin(puppet.config_dir, ns=netns.name).read_text() == dropin_before
    assert class_rules(puppet.config_dir, netns.name).read_text() == yaml_before

    # The metaparameter on the resource alone: the rest of the catalog applies.
    m3 = m2.replace(f"nic_offload {{ '{A}':", f"nic_offload {{ '{A}':\n  noop       => true,")
    p = puppet.apply(m3)
    assert p.returncode == 2, p.stdout + p.stderr
    assert re.search(r"Nic_offload\[veth0\]/features: .* \(noop\)", p.stdout), p.stdout
    assert netns.ethtool_json(A) == before_a
    assert active(netns, B, "rx-gro") is False  # the class's new rule was applied
    assert dropin(puppet.config_dir, ns=netns.name).read_text() == dropin_before


def test_unsatisfiable_resource_fails_with_agent_message(netns, puppet):
    netns.veth(A, B)
    m1 = manifest(netns.name, puppet.config_dir, {"gro": "on"}, feats({"tx": "off"}))
    assert puppet.apply(m1).returncode == 2
    before = netns.ethtool_json(A)
    dropin_before = dropin(puppet.config_dir, ns=netns.name).read_text()

    # rx-lro is fixed off on veth: `offloadctl check` knows, and the property fails
    # with the agent's message before anything is touched.
    p = puppet.apply(manifest(netns.name, puppet.config_dir, {"gro": "on"}, feats({"tx": "off", "lro": "on"})))
    assert p.returncode == 4, p.stdout + p.stderr
    assert re.search(r"Error: /Stage\[main\]/Main/Nic_offload\[veth0\]/features: change from "
                     r"\{lro => absent, tx => off\} to \{lro => on, tx => off\} failed: offloadctl check in netns '[^']+': "
                     r".*cannot set 'lro' on 'veth0' to on: the feature is fixed off", p.stderr), p.stderr
    assert changed_lines(p.stdout) == [], p.stdout
    assert netns.ethtool_json(A) == before
    assert dropin(puppet.config_dir, ns=netns.name).read_text() == dropin_before

    # TSO on with TX checksumming off: the kernel keeps TSO off; the agent rolls back.
    p = puppet.apply(manifest(netns.name, puppet.config_dir, {"gro": "on"},
                              feats({"tx": "on", "gro": "on", "tso": "off"})))
    assert p.returncode == 2, p.stdout + p.stderr
    before = netns.ethtool_json(A)
    dropin_before = dropin(puppet.config_dir, ns=netns.name).read_text()
    p = puppet.apply(manifest(netns.name, puppet.config_dir, {"gro": "on"},
                              feats({"tx": "off", "gro": "off", "tso": "on"})))
    # Only the kernel can tell: the apply fails, the agent rolls back, the
    # resource fails with the agent's message and the drop-in is put back.
    assert p.returncode == 6, p.stdout + p.stderr
    assert re.search(r"Nic_offload\[veth0\]: Could not evaluate: offloadctl apply failed on 'veth0' in netns '[^']+' "
                     r"\(exit 1\) \(rolled back\): .*cannot set 'tx-tcp-segmentation' on 'veth0' to on", p.stderr), p.stderr
    assert netns.ethtool_json(A) == before
    assert dropin(puppet.config_dir, ns=netns.name).read_text() == dropin_before


def test_ensure_absent_removes_drop_in_and_leaves_interface(netns, puppet):
    netns.veth(A, B)
    m1 = manifest(netns.name, puppet.config_dir, {"gro": "on"}, feats({"tx": "off"}))
    assert puppet.apply(m1).returncode == 2
    assert dropin(puppet.config_dir, ns=netns.name).exists()
    before = netns.ethtool_json(A)
    m2 = manifest(netns.name, puppet.config_dir, {"gro": "on"}, "ensure => absent,")
    p = puppet.apply(m2)
    assert p.returncode == 2, p.stdout + p.stderr
    assert re.search(r"Nic_offload\[veth0\]/ensure: removed", p.stdout), p.stdout
    assert not dropin(puppet.config_dir, ns=netns.name).exists()
    assert netns.ethtool_json(A) == before
    p = puppet.apply(m2)
    assert p.returncode == 0 and changed_lines(p.stdout) == [], p.stdout + p.stderr


def test_missing_interface_gets_its_drop_in_and_is_applied_when_it_appears(netns, puppet):
    m = f"""
nic_offload {{ 'veth9':
  netns      => {pp_str(netns.name)},
  config_dir => {pp_str(str(puppet.config_dir))},
  features   => {{ 'tx' => 'off' }},
}}
"""
    p = puppet.apply(m)
    assert p.returncode == 2, p.stdout + p.stderr
    assert re.search(r"interface 'veth9' not found in netns .*: its drop-in .* is written", p.stderr), p.stderr
    assert re.search(r'^\s+"tx": "off"$', dropin(puppet.config_dir, "veth9", ns=netns.name).read_text(), re.M)
    p = puppet.apply(m)
    assert p.returncode == 0 and changed_lines(p.stdout) == [], p.stdout + p.stderr
    netns.veth("veth9", "veth8")
    p = puppet.apply(m)
    assert p.returncode == 2, p.stdout + p.stderr
    assert re.search(r"Nic_offload\[veth9\]/features: features changed \{tx => on\} to \{tx => off\}", p.stdout)
    assert active(netns, "veth9", "tx-checksum-ip-generic") is False


def test_invalid_rules_are_refused_before_they_are_written(netns, puppet):
    netns.veth(A, B)
    m = manifest(netns.name, puppet.config_dir, {"no-such-offload": "on"}, feats({"tx": "off"}))
    p = puppet.apply(m)
    assert p.returncode in (4, 6), p.stdout + p.stderr
    assert re.search(r"Offloadctl_rules\[[^\]]+/40-puppet-offloadctl\.yaml\]/features: .*failed: offloadctl check in netns "
                     r"'[^']+' failed \(exit 2\): .*40-puppet-offloadctl\.yaml:12:9: unknown feature 'no-such-offload'",
                     p.stderr), p.stderr
    assert not class_rules(puppet.config_dir, netns.name).exists()
    assert active(netns, B, "rx-gro") is False
    # The class's invalid rules, never written, do not hold up the resource.
    assert active(netns, A, "tx-checksum-ip-generic") is False
    dropin_before = dropin(puppet.config_dir, ns=netns.name).read_text()
    before = netns.ethtool_json(A)

    # A feature name the agent does not know fails the resource, touches nothing.
    m = manifest(netns.name, puppet.config_dir, {"gro": "on"}, feats({"txx": "off"}))
    p = puppet.apply(m)
    assert p.returncode in (4, 6), p.stdout + p.stderr
    assert re.search(r"Nic_offload\[veth0\]/features: change from \{txx => absent\} to \{txx => off\} failed: "
                     r"offloadctl check in netns '[^']+' failed \(exit 2\): .*unknown feature 'txx'", p.stderr), p.stderr
    assert "Nic_offload[veth0]/persist" not in p.stdout, p.stdout
    assert dropin(puppet.config_dir, ns=netns.name).read_text() == dropin_before
    assert netns.ethtool_json(A) == before


# --- scopes and owners (issue 12) -------------------------------------------------------------


def test_same_interface_in_two_namespaces_is_two_resources(netns_factory, puppet):
    """`blue/veth0` and veth0 with netns => red are two resources: both
    converge in one run, each in its own scope; a namespace that does not
    exist fails its own resource and no other; nothing reaches the host."""
    blue, red = netns_factory(), netns_factory()
    for ns in (blue, red):
        ns.veth(A, B)
    host_before = set(os.listdir("/sys/class/net"))
    cfg = pp_str(str(puppet.config_dir))
    m = f"""
nic_offload {{ '{blue.name}/{A}': config_dir => {cfg}, features => {{ 'tx' => 'off' }} }}
nic_offload {{ 'red-{A}':
  name       => '{A}',
  netns      => {pp_str(red.name)},
  config_dir => {cfg},
  features   => {{ 'gro' => 'on' }},
}}
nic_offload {{ 'oct-no-such-namespace/{A}': config_dir => {cfg}, features => {{ 'gro' => 'on' }} }}
"""
    p = puppet.apply(m)
    assert p.returncode == 6, p.stdout + p.stderr  # changes, and a failure
    assert re.search(rf"Nic_offload\[{blue.name}/{A}\]/features: features changed \{{tx => on\}} to \{{tx => off\}}", p.stdout)
    assert re.search(rf"Nic_offload\[red-{A}\]/features: features changed \{{gro => off\}} to \{{gro => on\}}", p.stdout)
    assert re.search(r"Nic_offload\[oct-no-such-namespace/veth0\]: Could not evaluate: offloadctl facts in netns "
                     r"'oct-no-such-namespace' failed \(exit 3\)", p.stderr), p.stderr
    assert active(blue, A, "tx-checksum-ip-generic") is False and active(blue, A, "rx-gro") is False
    assert active(red, A, "tx-checksum-ip-generic") is True and active(red, A, "rx-gro") is True
    assert '"tx": "off"' in dropin(puppet.config_dir, ns=blue.name).read_text()
    assert '"gro": "on"' in dropin(puppet.config_dir, ns=red.name).read_text()
    assert "Nic_offload[red-veth0] in netns" in dropin(puppet.config_dir, ns=red.name).read_text()
    # each scope holds its own rule and is in sync as the boot unit reads it
    for ns in (blue, red):
        c = run([agent_path(), "--netns", ns.name, "--config-dir", str(puppet.config_dir), "check"], check=False)
        assert c.returncode == 0, c.stdout + c.stderr
    assert not (puppet.config_dir / "conf.d").exists() and not (puppet.config_dir / "offloadctl.yaml").exists()
    assert not (puppet.config_dir / "netns" / "oct-no-such-namespace").exists()
    assert set(os.listdir("/sys/class/net")) == host_before
    p = puppet.apply(m)
    assert p.returncode == 4 and changed_lines(p.stdout) == [], p.stdout + p.stderr

    # The same interface twice in one namespace is a duplicate, as it should be.
    p = puppet.apply(m + f"nic_offload {{ '{A}': netns => {pp_str(blue.name)}, config_dir => {cfg}, features => {{ 'gro' => 'on' }} }}\n")
    assert p.returncode == 1 and re.search(r"Cannot alias Nic_offload\[veth0\] to \[\"veth0\", \"oct-[\d-]+\"\].*already declared",
                                           p.stderr), p.stderr


def fails_three_times(puppet, netns, m, failure, never_written):
    """Three runs of m, each failing with the message failure (a regex)
    and no warning of a later file, never_written never written, exit 6
    then 4 (the first run has the other resources' changes). Returns the
    monitor of the kernel's notifications over the runs."""
    with FeatureMonitor(netns) as mon:
        codes = []
        for _ in range(3):
            p = puppet.apply(m)
            codes.append(p.returncode)
            assert re.search(failure, p.stderr), p.stderr
            assert not re.search(r"Warning: .*a later file of its scope", p.stderr), p.stderr
            assert not never_written.exists()
    assert codes == [6, 4, 4], (codes, p.stdout, p.stderr)
    return mon


def test_later_file_of_the_scope_fails_the_resource_and_is_never_fought(netns, puppet):
    """An admin's 60-admin.yaml decides gro on veth0 after the resource's
    drop-in: each of three runs fails that resource with a message naming
    the file:line:col, the feature and what to do (exit 4, or 6 with the
    other resource's changes), writes and applies nothing of it (gro and tx
    on veth0 never change: the kernel's notifications say so), and the
    other resource (veth1) still converges."""
    netns.veth(A, B)
    scope = puppet.config_dir / "netns" / netns.name
    scope.mkdir(parents=True)
    admin = scope / "60-admin.yaml"
    admin.write_text("version: 1\ninterfaces:\n  - match: {name: veth0}\n    features: {gro: off}\n")
    tx_before = active(netns, A, "tx-checksum-ip-generic")
    m = f"""
nic_offload {{ '{netns.name}/{A}':
  config_dir => {pp_str(str(puppet.config_dir))},
  features   => {{ 'tx' => 'off', 'gro' => 'on' }},
}}
nic_offload {{ '{netns.name}/{B}':
  config_dir => {pp_str(str(puppet.config_dir))},
  features   => {{ 'tx' => 'off' }},
}}
"""
    failure = (rf"Error: /Stage\[main\]/Main/Nic_offload\[{netns.name}/veth0\]/features: change from .* failed: "
               rf"rx-gro on 'veth0' in netns '{netns.name}' is decided by {re.escape(str(admin))}:4:16, a later "
               r"file of its scope, not by this resource: .*remove or change that file, or drop the feature "
               r"from this resource")
    mon = fails_three_times(puppet, netns, m, failure, dropin(puppet.config_dir, A, ns=netns.name))
    assert active(netns, A, "rx-gro") is False and active(netns, A, "tx-checksum-ip-generic") is tx_before
    assert mon.states(A, "generic-receive-offload") == [], mon.text
    assert mon.states(A, "tx-checksumming") == [], mon.text
    assert "off" in mon.states(B, "tx-checksumming"), mon.text  # the other resource converged
    assert active(netns, B, "tx-checksum-ip-generic") is False
    assert dropin(puppet.config_dir, B, ns=netns.name).exists()


def test_class_and_resource_on_one_interface_never_flap_in_a_run(netns, puppet):
    """The class says gro on for every veth, a nic_offload says gro off for
    veth0, whose drop-in comes later in the scope: in the first run, where
    neither file exists yet, gro on veth0 never goes on at all."""
    netns.veth(A, B)
    m = manifest(netns.name, puppet.config_dir, {"gro": "on"}, feats({"gro": "off"})).replace(
        f"'name' => '{B}', ", "")
    with FeatureMonitor(netns) as mon:
        p = puppet.apply(m)
    assert p.returncode == 2, p.stdout + p.stderr
    assert mon.states(A, "generic-receive-offload") == [], mon.text
    assert mon.states(B, "generic-receive-offload") == ["on"], mon.text
    # The nic_offload's drop-in refines the class's rules: a notice, never a failure.
    assert re.search(r"Notice: .*Offloadctl_rules\[[^\]]+\]\(provider=offloadctl\): rx-gro on 'veth0' in netns '[^']+' is "
                     r"decided by \S+/50-puppet-nic_offload-veth0\.yaml:\d+:\d+, the file of Nic_offload\[veth0\], a later "
                     r"file of its scope that refines", p.stdout), p.stdout
    assert "Error" not in p.stderr and "Warning" not in p.stderr, p.stderr
    p = puppet.apply(m)
    assert p.returncode == 0 and changed_lines(p.stdout) == [], p.stdout + p.stderr


def test_class_fails_where_a_later_file_overrides_its_rules_and_is_never_fought(netns, puppet):
    """An admin's 60-admin.yaml decides gro on veth1 after the class's rules
    (issue 12): each of three runs fails the class's rules with a message
    naming that file:line:col, the feature and what to do, writes and
    applies nothing of them (gro on veth1 never changes: the kernel's
    notifications say so), and the nic_offload on veth0 still converges."""
    netns.veth(A, B)
    scope = puppet.config_dir / "netns" / netns.name
    scope.mkdir(parents=True)
    admin = scope / "60-admin.yaml"
    admin.write_text("version: 1\ninterfaces:\n  - match: {name: veth1}\n    features: {gro: off}\n")
    m = manifest(netns.name, puppet.config_dir, {"gro": "on"}, feats({"tx": "off"}))
    failure = (rf"Error: /Stage\[main\]/Offloadctl::Config/Offloadctl_rules\[\S+/40-puppet-offloadctl\.yaml\]/"
               rf"features: change from .* failed: rx-gro on 'veth1' in netns '{netns.name}' is decided by "
               rf"{re.escape(str(admin))}:4:16, a later file of its scope, not by \S+/40-puppet-offloadctl\.yaml: "
               r".*remove or change that file, or drop the feature from \S+; \S+ is left as it was")
    mon = fails_three_times(puppet, netns, m, failure, class_rules(puppet.config_dir, netns.name))
    assert mon.states(B, "generic-receive-offload") == [], mon.text
    assert active(netns, B, "rx-gro") is False
    assert active(netns, A, "tx-checksum-ip-generic") is False  # the resource converged
    # Once the admin's file gives way, the class's rules are written and applied.
    admin.unlink()
    p = puppet.apply(m)
    assert p.returncode == 2 and active(netns, B, "rx-gro") is True, p.stdout + p.stderr
    assert class_rules(puppet.config_dir, netns.name).exists()


def test_class_ensure_absent_removes_only_its_own_files(netns, puppet):
    """ensure => absent in a namespace's scope: the class's rules and advice
    drop-in and fact.conf go; a nic_offload's drop-in and an admin's file
    stay, the interfaces keep their offloads, no unit or package is
    touched; the second run changes nothing."""
    netns.veth(A, B)
    cfg = pp_str(str(puppet.config_dir))
    assert puppet.apply(manifest(netns.name, puppet.config_dir, {"gro": "on"}, feats({"tx": "off"}))).returncode == 2
    scope = puppet.config_dir / "netns" / netns.name
    (scope / "10-admin.yaml").write_text("version: 1\ninterfaces: []\n")
    (scope / "40-puppet-advice.yaml").write_text("version: 1\ninterfaces: []\n")  # as follow_advice leaves it
    assert (puppet.config_dir / "fact.conf").exists() and class_rules(puppet.config_dir, netns.name).exists()
    before_a, before_b = netns.ethtool_json(A), netns.ethtool_json(B)
    m = f"""
class {{ 'offloadctl':
  ensure     => absent,
  netns      => {pp_str(netns.name)},
  config_dir => {cfg},
  service    => 'watch',
  metrics    => true,
}}
nic_offload {{ '{netns.name}/{A}': config_dir => {cfg}, features => {{ 'tx' => 'off' }} }}
"""
    p = puppet.apply(m)
    assert p.returncode == 2, p.stdout + p.stderr
    assert not class_rules(puppet.config_dir, netns.name).exists()
    assert not (scope / "40-puppet-advice.yaml").exists()
    assert not (puppet.config_dir / "fact.conf").exists()
    assert sorted(os.listdir(scope)) == ["10-admin.yaml", "50-puppet-nic_offload-veth0.yaml"]
    assert netns.ethtool_json(A) == before_a and netns.ethtool_json(B) == before_b
    assert active(netns, B, "rx-gro") is True  # the class's rule is gone, its effect stays
    assert "Service[" not in p.stdout and "Package[" not in p.stdout, p.stdout
    p = puppet.apply(m)
    assert p.returncode == 0 and changed_lines(p.stdout) == [], p.stdout + p.stderr


def test_class_ensure_absent_in_the_host_scope_empties_only_its_own_offloadctl_yaml(netns, puppet):
    """The host scope's offloadctl.yaml stays (the package installs it, the
    boot unit needs a configuration): ensure => absent empties it when the
    class wrote it, and leaves an admin's alone. Puppet runs inside the
    test's namespace, which stands for the host."""
    netns.veth(A, B)
    cfg = pp_str(str(puppet.config_dir))
    main = puppet.config_dir / "offloadctl.yaml"
    present = f"""
class {{ 'offloadctl':
  config_dir => {cfg},
  apply      => false,
  rules      => {{ 'interfaces' => [{{ 'match' => {{ 'name' => '{B}' }}, 'features' => {{ 'gro' => 'on' }} }}] }},
}}
"""
    absent = f"class {{ 'offloadctl': ensure => absent, config_dir => {cfg} }}\n"
    p = _apply_in(puppet, netns, present, "present.pp")
    assert p.returncode == 2, p.stdout + p.stderr
    assert main.read_text().startswith("# Managed by Puppet (class offloadctl)")
    p = _apply_in(puppet, netns, absent, "absent.pp")
    assert p.returncode == 2, p.stdout + p.stderr
    text = main.read_text()
    assert text.startswith("# Managed by Puppet (class offloadctl), ensure => absent"), text
    c = run([agent_path(), "--config-dir", str(puppet.config_dir), "validate", "--json"], check=False)
    assert c.returncode == 0 and json.loads(c.stdout)["rules"] == 0, c.stdout + c.stderr
    assert not (puppet.config_dir / "fact.conf").exists()
    p = _apply_in(puppet, netns, absent, "absent.pp")
    assert p.returncode == 0, p.stdout + p.stderr
    # an offloadctl.yaml the class did not write is left as it is
    mine = "version: 1\ninterfaces:\n  - match: {name: veth1}\n    features: {gro: on}\n"
    main.write_text(mine)
    p = _apply_in(puppet, netns, absent, "absent.pp")
    assert p.returncode == 0, p.stdout + p.stderr
    assert main.read_text() == mine
    assert "does not start with '# Managed by Puppet (class offloadctl)': not written by Puppet, left as it is" in p.stdout


def test_watch_never_reverts_what_puppet_changes(netns_factory, puppet, tmp_path, monkeypatch):
    """`offloadctl watch` keeps every scope (run in a namespace of the test's
    that stands for the host); Puppet changes a nic_offload in namespace
    blue back and forth: every change holds, and the kernel's notifications
    show each feature switched once a run, never back by watch."""
    from test_watch import wait_for
    host, blue = netns_factory(), netns_factory()
    blue.veth(A, B)
    monkeypatch.setenv("OFFLOADCTL_LOCK_FILE", str(tmp_path / "lock"))  # watch and Puppet share it
    # watch wants a host set to start on (no rules in it)
    (puppet.config_dir / "conf.d").mkdir(parents=True)
    (puppet.config_dir / "conf.d" / "00-host.yaml").write_text("version: 1\ninterfaces: []\n")
    log = open(tmp_path / "watch.log", "w+")
    w = subprocess.Popen(["ip", "netns", "exec", host.name, agent_path(), "-v", "--config-dir",
                          str(puppet.config_dir), "watch"], stderr=log, stdout=subprocess.DEVNULL)
    text = lambda: open(log.name).read()  # noqa: E731
    try:
        with FeatureMonitor(blue) as mon:
            for value in ("off", "on", "off", "on"):
                p = puppet.apply(f"""
nic_offload {{ '{blue.name}/{A}':
  config_dir => {pp_str(str(puppet.config_dir))},
  features   => {{ 'tx' => '{value}' }},
}}
""")
                assert p.returncode == 2, p.stdout + p.stderr
                assert wait_for(lambda: f"offloadctl[{blue.name}]" in text(), 3), text()
                time.sleep(1.0)  # what watch would do, it has done by now
                assert active(blue, A, "tx-checksum-ip-generic") is (value == "on"), text()
        assert w.poll() is None, text()
    finally:
        w.send_signal(signal.SIGTERM)
        try:
            w.wait(timeout=10)
        except subprocess.TimeoutExpired:
            w.kill()
        log.close()
    assert mon.states(A, "tx-checksumming") == ["off", "on", "off", "on"], mon.text
    assert "reverted drift" not in text(), text()


def test_class_rule_that_cannot_be_reached_keeps_the_previous_file(netns, puppet):
    netns.veth(A, B)
    m1 = manifest(netns.name, puppet.config_dir, {"gro": "on"}, feats({"tx": "off"}))
    assert puppet.apply(m1).returncode == 2
    rules_before = class_rules(puppet.config_dir, netns.name).read_text()
    before = netns.ethtool_json(B)
    # lro is fixed off on veth: the agent knows before anything is written
    p = puppet.apply(manifest(netns.name, puppet.config_dir, {"gro": "off", "lro": "on"}, feats({"tx": "off"})))
    assert p.returncode in (4, 6), p.stdout + p.stderr
    assert re.search(r"Offloadctl_rules\[[^\]]+\]/features: change from .* failed: offloadctl check in netns '[^']+': "
                     r"\S+/40-puppet-offloadctl\.yaml:\d+:\d+: cannot set 'lro' on 'veth1' to on: the feature is fixed off.*"
                     r"40-puppet-offloadctl\.yaml is left as it was", p.stderr), p.stderr
    assert "Offloadctl_rules" not in "".join(changed_lines(p.stdout)), p.stdout
    assert class_rules(puppet.config_dir, netns.name).read_text() == rules_before
    assert netns.ethtool_json(B) == before  # gro stays on: nothing of the refused rules was applied
    # Also when the class only writes its rules (apply => false).
    m = manifest(netns.name, puppet.config_dir, {"gro": "off", "lro": "on"}, feats({"tx": "off"}))
    p = puppet.apply(m.replace("  rules      =>", "  apply      => false,\n  rules      =>", 1))
    assert p.returncode in (4, 6) and "cannot set 'lro' on 'veth1' to on" in p.stderr, p.stdout + p.stderr
    assert class_rules(puppet.config_dir, netns.name).read_text() == rules_before
    # the scope the boot unit and watch read still holds, and is in sync
    c = run([agent_path(), "--netns", netns.name, "--config-dir", str(puppet.config_dir), "check"], check=False)
    assert c.returncode == 0, c.stdout + c.stderr


# --- puppet resource and facts ---------------------------------------------------------------


def test_puppet_resource_lists_namespace_interfaces(netns, puppet):
    netns.veth(A, B)
    netns.ethtool_K(A, "tx", "off", "gro", "on", check=True)
    p = puppet.cmd("resource", "nic_offload", netns=netns.name)
    assert p.returncode == 0, p.stdout + p.stderr
    blocks = dict(re.findall(r"^nic_offload \{ '([^']+)':\n(.*?)^\}", p.stdout, re.M | re.S))
    assert set(blocks) == {"lo", A, B}, p.stdout
    assert "'tx-checksumming' => 'off'" in blocks[A] and "'generic-receive-offload' => 'on'" in blocks[A]
    assert "'tx-checksumming' => 'on'" in blocks[B] and "'generic-receive-offload' => 'off'" in blocks[B]
    assert "'large-receive-offload' => 'off'" in blocks[B]
    for b in blocks.values():
        assert "ensure   => 'present'" in b

    p = puppet.cmd("resource", "nic_offload", A, netns=netns.name)
    assert p.returncode == 0 and p.stdout.startswith(f"nic_offload {{ '{A}':"), p.stdout + p.stderr


def test_external_fact_in_puppet_facts(netns, puppet):
    netns.veth(A, B)
    netns.ethtool_K(A, "tx", "off", check=True)
    p = puppet.cmd("facts", "show", "offloadctl", netns=netns.name)
    assert p.returncode == 0, p.stdout + p.stderr
    fact = json.loads(p.stdout)["offloadctl"]
    assert set(fact["interfaces"]) == {"lo", A, B}
    assert fact["interfaces"][A]["offloads"]["tx-checksumming"]["active"] is False
    assert fact["interfaces"][B]["offloads"]["tx-checksumming"]["active"] is True
    assert "features" not in fact["interfaces"][A]  # the summary, unless mode=full
    assert fact["virtualization"]["vm"]


def test_external_fact_modes_and_missing_agent(netns, tmp_path):
    netns.veth(A, B)
    env = _env()
    env["OFFLOADCTL_PATH"] = str(tmp_path / "nowhere")
    p = run(["ip", "netns", "exec", netns.name, FACT], check=False, env=env)
    assert p.returncode == 0 and p.stdout == "{}\n", (p.stdout, p.stderr)
    assert p.stderr == ""  # a node without the agent stays quiet
    env["OFFLOADCTL_FACT_DEBUG"] = "1"
    p = run(["ip", "netns", "exec", netns.name, FACT], check=False, env=env)
    assert "offloadctl agent is not installed" in p.stderr
    del env["OFFLOADCTL_FACT_DEBUG"]
    # Through facter: no fact, no warning, never an error.
    p = run(["facter", "--external-dir", os.path.dirname(FACT), "--json", "offloadctl"], check=False, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert json.loads(p.stdout) == {"offloadctl": None}
    assert "offloadctl" not in NOISE.sub("", p.stderr), p.stderr

    conf = tmp_path / "fact.conf"
    env = _env()
    env["OFFLOADCTL_FACT_CONF"] = str(conf)
    conf.write_text("mode=full\n")
    p = run(["ip", "netns", "exec", netns.name, FACT], check=True, env=env)
    full = json.loads(p.stdout)["offloadctl"]
    assert full["interfaces"][A]["features"]["tx-checksum-ip-generic"]["active"] is True
    conf.write_text("mode=none\n")
    p = run(["ip", "netns", "exec", netns.name, FACT], check=True, env=env)
    assert p.stdout == "{}\n"


def test_fact_feeds_a_manifest(netns, puppet):
    """facts['offloadctl'] is there during a run, as a manifest uses it."""
    netns.veth(A, B)
    m = """
$tx = $facts.dig('offloadctl', 'interfaces', 'veth0', 'offloads', 'tx-checksumming', 'active')
notice("tx on veth0: ${tx}; vm: ${facts.dig('offloadctl', 'virtualization', 'vm')}")
"""
    path = puppet.tmp / "fact.pp"
    path.write_text(m)
    p = puppet.cmd("apply", "--detailed-exitcodes", str(path), netns=netns.name)
    assert p.returncode == 0, p.stdout + p.stderr
    assert re.search(r"tx on veth0: true; vm: \w+", p.stdout), p.stdout


# --- the parts of the class this machine cannot run for real -----------------------------------


def test_install_and_service_branches_in_noop(puppet):
    """No unit files and no package here yet, and systemd is not PID 1: a
    noop run shows what the class would do for `boot` (enable the oneshot
    with systemctl, from a catalog that compiled), and `watch` fails the
    catalog at once with words that say why."""
    assert not os.path.isdir("/run/systemd/system"), "this test is for a machine where systemd is not running"
    m = f"""
class {{ 'offloadctl':
  manage_package => true,
  package_source => '/srv/offloadctl_0.1.0_amd64.deb',
  service        => 'boot',
  config_dir     => {pp_str(str(puppet.config_dir))},
}}
"""
    p = puppet.apply(m, "--noop")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Error" not in p.stderr, p.stderr
    assert re.search(r"Offloadctl::Install/Package\[offloadctl\]/ensure: current_value '?\w+'?, "
                     r"should be '(present|installed)' \(noop\)", p.stdout), p.stdout
    assert re.search(r"Exec\[systemctl enable offloadctl-boot\.service\]/returns: current_value '?notrun'?, "
                     r"should be \['0'\] \(noop\)", p.stdout), p.stdout
    # the watch unit is not even installed: nothing to disable
    assert "offloadctl-watch" not in p.stdout, p.stdout
    assert not puppet.config_dir.exists()

    p = puppet.apply(m.replace("'boot'", "'watch'"), "--noop")
    assert p.returncode == 1, p.stdout + p.stderr
    assert re.search(r"service => 'watch' and metrics => true start systemd units, and systemd is not the running "
                     r"service manager here", p.stderr), p.stderr
    assert "Package[offloadctl]" not in p.stdout  # nothing of the catalog was applied


def test_reference_md_matches_the_code(tmp_path):
    """REFERENCE.md is what puppet-strings makes of the code today."""
    copy = tmp_path / "offloadctl"
    shutil.copytree(MODULE, copy, ignore=shutil.ignore_patterns(".yardoc", "doc"))
    p = subprocess.run(["puppet", "strings", "generate", "--format", "markdown", "--out", "REFERENCE.new.md"],
                       cwd=copy, capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stdout + p.stderr
    new = (copy / "REFERENCE.new.md").read_text()
    assert "### <a name=\"nic_offload\"></a>`nic_offload`" in new
    assert new == open(os.path.join(MODULE, "REFERENCE.md")).read(), \
        "REFERENCE.md is stale: run `puppet strings generate --format markdown` in modules/puppet"


# --- advice (issue 16) --------------------------------------------------------------------------




def _apply_in(puppet, ns, text, name):
    path = puppet.tmp / name
    path.write_text(text)
    return puppet.cmd("apply", "--detailed-exitcodes", str(path), netns=ns.name)


def _advice_class(puppet, netns_factory, follow):
    """A namespace with the VXLAN devices, and the class following one id there."""
    ns = netns_factory()
    add_vxlans(ns)
    return ns, f"""
class {{ 'offloadctl':
  config_dir    => {pp_str(str(puppet.config_dir))},
  follow_advice => ['{follow}'],
}}
"""


def test_follow_advice_turns_chosen_ids_into_rules(netns_factory, puppet):
    """follow_advice: the advice the fact carries for flannel.1 becomes a rule
    for flannel.1 alone (2), then nothing changes (0); the fact gathered in
    the namespace Puppet runs in says which advice applies."""
    advice_id = k8s_vxlan_advice_id()
    ns, m = _advice_class(puppet, netns_factory, advice_id)
    p = _apply_in(puppet, ns, m, "follow.pp")
    assert p.returncode == 2, p.stdout + p.stderr
    assert active(ns, "flannel.1", "tx-checksum-ip-generic") is False
    assert active(ns, "vxlan7", "tx-checksum-ip-generic") is True
    assert "not followed" not in p.stdout
    drop = puppet.config_dir / "conf.d" / "40-puppet-advice.yaml"
    import yaml
    assert yaml.safe_load(drop.read_text())["interfaces"] == [
        {"match": {"name": "flannel.1"}, "features": {"tx-checksum-ip-generic": "off"}}]  # the agent's word, as given
    assert re.search(r"Offloadctl_rules\[[^\]]+/40-puppet-advice\.yaml\]/features: features changed "
                     r"\{flannel\.1: tx-checksum-ip-generic => on\} to \{flannel\.1: tx-checksum-ip-generic => off\}",
                     p.stdout), p.stdout
    # Converged: the advice is followed (no longer pending), its rule stays.
    p = _apply_in(puppet, ns, m, "follow.pp")
    assert p.returncode == 0, p.stdout + p.stderr
    assert changed_lines(p.stdout) == [], p.stdout
    assert drop.exists()
    # the host scope of the namespace Puppet ran in (the class had no netns)
    c = run(["ip", "netns", "exec", ns.name, agent_path(), "--config-dir", str(puppet.config_dir),
             "check"], check=False)
    assert c.returncode == 0, c.stdout + c.stderr


def test_advice_not_chosen_is_a_notice_not_a_change(netns_factory, puppet):
    advice_id = k8s_vxlan_advice_id()
    ns, m = _advice_class(puppet, netns_factory, "xen-netfront-tx-csum")
    p = _apply_in(puppet, ns, m, "notice.pp")
    # 0 or 2 only for the configuration directory the class creates on a first run.
    assert p.returncode in (0, 2), p.stdout + p.stderr
    assert re.search(rf"Notice: Scope\(Class\[Offloadctl::Advice\]\): advice {advice_id} \(confidence B\) "
                     rf"on flannel\.1, not followed", p.stdout), p.stdout
    assert "follow_advice names xen-netfront-tx-csum, which does not apply to this host" in p.stdout
    assert active(ns, "flannel.1", "tx-checksum-ip-generic") is True
    assert not (puppet.config_dir / "conf.d" / "40-puppet-advice.yaml").exists()
    p = _apply_in(puppet, ns, m, "notice.pp")
    assert p.returncode == 0 and changed_lines(p.stdout) == [], p.stdout + p.stderr
    assert active(ns, "flannel.1", "tx-checksum-ip-generic") is True


# --- ethtool's other settings (issue 15) -----------------------------------------------------


def channels(ns, ifname):
    """`ethtool -l IF`'s current rx and tx channel counts."""
    current = ns.exec("ethtool", "-l", ifname).stdout.split("Current hardware settings:")[1]
    return {k.lower(): int(v) for k, v in re.findall(r"^(RX|TX):\s+(\d+)", current, re.M)}


def test_settings_beside_features_change_then_idempotent_and_persist(netns, puppet):
    """nic_offload's settings (a veth's channels: rx/tx, max 2) and the
    class's rules with channels: set as ethtool -L would, reported with old
    and new values, written into the drop-ins, idempotent; above the
    maximum fails the resource naming it, and nothing is touched."""
    netns.veth(A, B)
    assert channels(netns, A) == {"rx": 1, "tx": 1} == channels(netns, B)
    cfg = f"netns => {pp_str(netns.name)}, config_dir => {pp_str(str(puppet.config_dir))},"
    m = f"""
class {{ 'offloadctl':
  {cfg}
  rules => {{ 'interfaces' => [ {{ 'match' => {{ 'name' => '{B}' }}, 'channels' => {{ 'tx' => 'max' }} }} ] }},
}}
nic_offload {{ '{A}':
  {cfg}
  features => {{ 'gro' => 'on' }},
  settings => {{ 'channels' => {{ 'rx' => 'max', 'tx' => 2 }} }},
}}
"""
    p = puppet.apply(m)
    assert p.returncode == 2, p.stdout + p.stderr
    assert channels(netns, A) == {"rx": 2, "tx": 2} and channels(netns, B) == {"rx": 1, "tx": 2}
    assert active(netns, A, "rx-gro") is True
    assert re.search(r"Nic_offload\[veth0\]/settings: settings changed "
                     r"\{channels => \{rx => 1, tx => 1\}\} to \{channels => \{rx => max, tx => 2\}\}", p.stdout), p.stdout
    doc = json.loads("".join(line for line in dropin(puppet.config_dir, ns=netns.name).read_text().splitlines(True)
                             if not line.startswith("#")))
    assert doc["interfaces"] == [{"match": {"name": A}, "features": {"gro": "on"}, "channels": {"rx": "max", "tx": 2}}]
    c = run([agent_path(), "--netns", netns.name, "--config-dir", str(puppet.config_dir), "check"], check=False)
    assert c.returncode == 0, c.stdout + c.stderr
    p = puppet.apply(m)
    assert p.returncode == 0 and changed_lines(p.stdout) == [], p.stdout + p.stderr

    # A settings-only resource above the maximum: refused by the agent, naming it.
    m2 = f"""
nic_offload {{ '{B}':
  {cfg}
  settings => {{ 'channels' => {{ 'rx' => 3 }} }},
}}
"""
    before = dropin(puppet.config_dir, B, ns=netns.name)
    p = puppet.apply(m2)
    assert p.returncode in (4, 6), p.stdout + p.stderr
    assert "the maximum is 2" in p.stdout + p.stderr, p.stdout + p.stderr
    assert channels(netns, B) == {"rx": 1, "tx": 2} and not before.exists()
