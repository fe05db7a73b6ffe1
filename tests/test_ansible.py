"""End-to-end tests of the Ansible role (roles/ansible) with a real ansible-playbook.

Every host of an inventory is a network namespace of its own, reached with the
local connection: the role acts in it through offloadctl_netns, and writes its
configuration and local fact under the test's temporary directory, never under
/etc. Results are checked with ethtool itself.
"""
import json
import os
import re
import shutil
import subprocess
import time

import pytest

from advice_cases import add_vxlans, k8s_vxlan_advice_id
from ocutil import ROOT, agent_path, run

ROLE = os.path.join(ROOT, "roles", "ansible")
PLAYBOOK = os.path.join(ROOT, "tests", "ansible", "converge.yml")
PYTHON = "/usr/bin/python3"
DROPIN = "50-ansible-offloadctl.yaml"

RECAP = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
    r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)\s+"
    r"skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)",
    re.M)

# veth: TX checksumming and TSO on, GRO off, LRO fixed off.
RULES = [{"match": {"kind": "veth"}, "features": {"tx": False, "gro": "on"}}]


def tool(name):
    path = shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/sbin:/bin:/sbin")
    if path is None:
        pytest.skip(f"{name} is not installed (scripts/install-deps check installs it)")
    return path


class Play:
    """One ansible-playbook run: output, exit status and the PLAY RECAP."""

    def __init__(self, proc, seconds):
        self.rc = proc.returncode
        self.out = proc.stdout + proc.stderr
        self.seconds = seconds
        self.recap = {m["host"]: {k: int(v) for k, v in m.groupdict().items() if k != "host"}
                      for m in RECAP.finditer(proc.stdout)}

    def total(self, key):
        return sum(r[key] for r in self.recap.values())

    def __str__(self):
        return f"ansible-playbook exited {self.rc}\n{self.out}"

    __repr__ = __str__  # pytest shows repr() in a failed assert


class Ansible:
    """ansible-playbook with the role, the agent under test first on PATH, and
    every temporary file under tmp."""

    def __init__(self, tmp, forks=5):
        self.tmp = tmp
        self.playbook_bin = tool("ansible-playbook")
        roles = tmp / "roles"
        roles.mkdir()
        (roles / "offloadctl").symlink_to(ROLE)
        self.bin = tmp / "bin"
        self.bin.mkdir()
        agent = agent_path()
        assert os.access(agent, os.X_OK), f"no agent at {agent}: run make first"
        (self.bin / "offloadctl").symlink_to(os.path.abspath(agent))
        self.cfg = tmp / "ansible.cfg"
        self.cfg.write_text(
            "[defaults]\n"
            f"roles_path = {roles}\n"
            f"local_tmp = {tmp}/ansible-local\n"
            f"remote_tmp = {tmp}/ansible-remote\n"
            f"interpreter_python = {PYTHON}\n"
            f"forks = {forks}\n"
            "retry_files_enabled = False\n"
            "nocolor = True\n"
            "stdout_callback = default\n"
            "[connection]\n"
            "pipelining = True\n")

    def inventory(self, hosts, rules=None, name="inventory.yml", **common):
        """Write a YAML inventory (JSON is YAML) of local-connection hosts."""
        group_vars = {"ansible_connection": "local", "ansible_python_interpreter": PYTHON}
        if rules is not None:
            group_vars["offloadctl_rules"] = rules
        group_vars.update(common)
        path = self.tmp / name
        path.write_text(json.dumps({"all": {"hosts": hosts, "vars": group_vars}}, indent=1))
        return path

    def host(self, ns, label=None):
        """Host variables for a host that is the namespace ns."""
        d = self.tmp / (label or ns.name)
        d.mkdir(exist_ok=True)
        return {
            "offloadctl_netns": ns.name,
            "offloadctl_config_dir": str(d / "etc"),
            "offloadctl_facts_dir": str(d / "facts.d"),
            "offloadctl_test_fact_dump": str(d / "fact.json"),
        }

    def play(self, inventory, *args, check=False, diff=False, agent_on_path=True, timeout=300):
        env = dict(os.environ)
        env["ANSIBLE_CONFIG"] = str(self.cfg)
        env["ANSIBLE_NOCOLOR"] = "1"
        env.pop("ANSIBLE_FORCE_COLOR", None)
        path = env.get("PATH", "/usr/bin:/bin")
        env["PATH"] = f"{self.bin}:{path}" if agent_on_path else path
        cmd = [self.playbook_bin, "-i", str(inventory), PLAYBOOK, *args]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        start = time.monotonic()
        proc = run(cmd, check=False, env=env, timeout=timeout)
        return Play(proc, time.monotonic() - start)


def offloads(ns, ifname):
    """active state of every feature ethtool shows, by its ethtool -k name."""
    return {k: v["active"] for k, v in ns.ethtool_json(ifname).items() if isinstance(v, dict)}


@pytest.fixture
def ansible(tmp_path):
    return Ansible(tmp_path)


def test_lint_role():
    """ansible-lint (production profile) and yamllint pass on the role and the test playbook."""
    lint = subprocess.run([tool("ansible-lint"), "--nocolor"], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "ANSIBLE_NOCOLOR": "1"}, cwd=ROLE)
    assert lint.returncode == 0, f"ansible-lint:\n{lint.stdout}\n{lint.stderr}"
    yl = run([tool("yamllint"), "-s", "-c", os.path.join(ROLE, ".yamllint"), ROLE,
              os.path.dirname(PLAYBOOK)], check=False)
    assert yl.returncode == 0, f"yamllint:\n{yl.stdout}\n{yl.stderr}"


def test_module_documentation():
    """ansible-doc reads the module's DOCUMENTATION, EXAMPLES and RETURN."""
    doc = run([tool("ansible-doc"), "-M", os.path.join(ROLE, "library"), "--json",
               "offloadctl_state"], check=False)
    assert doc.returncode == 0, doc.stderr
    d = json.loads(doc.stdout)["offloadctl_state"]
    assert {"rules", "desired_state", "path", "netns"} <= set(d["doc"]["options"])
    assert "offloadctl_state:" in d["examples"]
    assert {"changed", "report", "interfaces"} <= set(d["return"])


def test_check_diff_apply_and_idempotence(ansible, netns):
    netns.veth("va", "vb")
    before = {i: offloads(netns, i) for i in ("va", "vb")}
    assert before["va"]["tx-checksumming"] and not before["va"]["generic-receive-offload"]
    hv = ansible.host(netns, "h")
    inv = ansible.inventory({"h": hv}, rules=RULES)
    # the role acts in a named namespace: its drop-in is in that scope
    dropin = os.path.join(hv["offloadctl_config_dir"], "netns", netns.name, DROPIN)
    fact = os.path.join(hv["offloadctl_facts_dir"], "offloadctl.fact")

    # --check --diff: the changes are shown, nothing is touched.
    p = ansible.play(inv, check=True, diff=True)
    assert p.rc == 0 and p.total("failed") == 0, p
    assert p.recap["h"]["changed"] > 0, p
    assert f"va (netns {netns.name}): features before" in p.out, p
    assert "-tx-checksum-ip-generic: on" in p.out and "+tx-checksum-ip-generic: off" in p.out, p
    assert "+rx-gro: on" in p.out, p
    assert {i: offloads(netns, i) for i in ("va", "vb")} == before
    assert not os.path.exists(dropin) and not os.path.exists(fact)

    # The real run changes them, and the local fact shows the result.
    p = ansible.play(inv, diff=True)
    assert p.rc == 0 and p.total("failed") == 0, p
    assert p.recap["h"]["changed"] > 0, p
    for i in ("va", "vb"):
        now = offloads(netns, i)
        assert now["tx-checksumming"] is False and now["tx-checksum-ip-generic"] is False, now
        assert now["generic-receive-offload"] is True, now
        assert now["rx-checksumming"] == before[i]["rx-checksumming"]
    assert os.access(fact, os.X_OK)
    # the one fact adapter, as the package and the Puppet module ship it
    assert open(fact).read() == open(os.path.join(ROOT, "facts", "offloadctl-fact")).read()
    assert run([agent_path(), "validate", dropin], check=False).returncode == 0
    # JSON after the comments, the rules as given (a boolean stays a boolean)
    text = open(dropin).read()
    assert json.loads("".join(line for line in text.splitlines(True) if not line.startswith("#")))["interfaces"] == RULES
    # Nothing of the namespace's in the host's own set (issue 12), and the
    # scope is what the namespace's boot and watch read: in sync.
    assert not os.path.exists(os.path.join(hv["offloadctl_config_dir"], "conf.d", DROPIN))
    c = run([agent_path(), "--netns", netns.name, "--config-dir", hv["offloadctl_config_dir"], "check"],
            check=False)
    assert c.returncode == 0, c.stdout + c.stderr
    local = json.loads(open(hv["offloadctl_test_fact_dump"]).read())
    assert local["virtualization"]["vm"], local
    # the namespace's scope is under netns; the top level is the namespace
    # Ansible runs in (this machine's own, only read)
    mine = local["netns"][netns.name]
    assert set(local["netns"]) == {netns.name}, local["netns"].keys()
    assert mine["interfaces"]["va"]["offloads"]["tx-checksumming"]["active"] is False, mine
    assert mine["interfaces"]["va"]["offloads"]["generic-receive-offload"]["active"] is True
    assert "features" not in mine["interfaces"]["va"]  # --format ansible leaves them out
    assert "va" not in local["interfaces"]

    # Converged: a second run and a check run report no change.
    p = ansible.play(inv)
    assert p.rc == 0 and p.recap["h"]["changed"] == 0 and p.recap["h"]["failed"] == 0, p
    # ... also with the install branch on, for a package that is there already
    # (ethtool: offloadctl has no package yet), in check mode.
    p = ansible.play(inv, "-e", "offloadctl_install=true", "-e", "offloadctl_package=ethtool",
                     check=True, diff=True)
    assert p.rc == 0 and p.recap["h"]["changed"] == 0 and p.recap["h"]["failed"] == 0, p
    assert re.search(r"TASK \[offloadctl : Install the offloadctl package\][^\n]*\nok: \[h\]", p.out), p

    # Drift made behind Ansible's back is reported and repaired.
    netns.ethtool_K("va", "tx", "on", check=True)
    p = ansible.play(inv)
    assert p.rc == 0 and p.recap["h"]["changed"] == 1, p
    assert offloads(netns, "va")["tx-checksumming"] is False


# check mode must already fail for a fixed feature; that TSO cannot stay on
# without TX checksumming only the kernel tells, when apply asks it.
@pytest.mark.parametrize("features, names, check_fails", [
    ({"lro": True}, ("lro", "large-receive-offload", "rx-lro"), True),
    ({"tx": False, "tso": True}, ("tso", "tcp-segmentation-offload", "tx-tcp"), False),
], ids=["fixed-lro", "tso-needs-tx"])
def test_unsatisfiable_rule_fails_and_changes_nothing(ansible, netns, features, names, check_fails):
    netns.veth("va", "vb")
    before = {i: offloads(netns, i) for i in ("va", "vb")}
    hv = ansible.host(netns, "h")
    # the role acts in a named namespace: its drop-in is in that scope
    dropin = os.path.join(hv["offloadctl_config_dir"], "netns", netns.name, DROPIN)
    ok = ansible.inventory({"h": hv}, rules=[{"match": {"name": "vb"}, "features": {"gro": True}}],
                           name="ok.yml")
    p = ansible.play(ok)
    assert p.rc == 0 and p.recap["h"]["failed"] == 0, p
    before["vb"] = offloads(netns, "vb")
    kept = open(dropin).read()

    bad = ansible.inventory({"h": hv}, rules=[{"match": {"name": "va"}, "features": features}],
                            name="bad.yml")
    for check in (True, False):
        p = ansible.play(bad, check=check)
        assert {i: offloads(netns, i) for i in ("va", "vb")} == before
        if check and not check_fails:
            assert p.recap["h"]["failed"] == 0 or "offloadctl check failed" in p.out, p
            continue
        assert p.rc != 0 and p.recap["h"]["failed"] == 1, p
        failure = [line for line in p.out.splitlines() if line.startswith("fatal:")]
        assert failure, p
        msg = failure[-1]
        assert f"offloadctl {'check' if check else 'apply'} failed" in msg, p
        assert re.search(r"\bva\b", msg), p
        assert any(n in msg for n in names), p
        if not check:
            assert f"{DROPIN}:" in msg, p  # the rule's place in the configuration set
        # The configuration set is what it was before the failed run.
        assert open(dropin).read() == kept


def test_wrong_variables_rejected_by_argument_specs(ansible, netns):
    netns.veth("va", "vb")
    before = offloads(netns, "va")
    hv = ansible.host(netns, "h")
    cases = [
        ({"offloadctl_install": "maybe"}, "offloadctl_install"),
        ({"offloadctl_service": "always"}, "offloadctl_service"),
        ({"offloadctl_rules": [{"match": {"name": "va"}, "feature": {"tx": False}}]}, "feature"),
        ({"offloadctl_rules": [{"match": "va", "features": {"tx": False}}]}, "match"),
        ({"offloadctl_defaults": {"missing-interface": "shrug"}}, "missing-interface"),
    ]
    for i, (bad, word) in enumerate(cases):
        common = {"offloadctl_rules": RULES, **bad}
        inv = ansible.inventory({"h": hv}, name=f"bad{i}.yml", **common)
        p = ansible.play(inv)
        assert p.rc != 0 and p.recap["h"]["failed"] == 1, p
        assert "Validation of arguments failed" in p.out, p
        assert word in p.out, p
        assert p.recap["h"]["changed"] == 0, p
    assert offloads(netns, "va") == before
    assert not os.path.exists(hv["offloadctl_facts_dir"])
    assert not os.path.exists(hv["offloadctl_config_dir"])


def test_check_mode_on_a_clean_host(ansible, netns):
    """No agent anywhere, nothing written yet: --check succeeds and touches nothing."""
    netns.veth("va", "vb")
    before = offloads(netns, "va")
    hv = ansible.host(netns, "h")
    missing = "offloadctl"
    if shutil.which("offloadctl", path=os.environ.get("PATH", "") + ":/usr/sbin:/usr/local/sbin:/sbin"):
        missing = "offloadctl-not-installed"  # an installed agent must not spoil the clean host
    inv = ansible.inventory({"h": hv}, rules=RULES, offloadctl_executable=missing)
    p = ansible.play(inv, "-v", check=True, diff=True, agent_on_path=False)
    assert p.rc == 0 and p.recap["h"]["failed"] == 0, p
    assert "nothing checked" in p.out, p
    assert offloads(netns, "va") == before
    assert not os.path.exists(hv["offloadctl_facts_dir"])
    assert not os.path.exists(hv["offloadctl_config_dir"])


@pytest.mark.parametrize("service, metrics", [("boot", False), ("watch", True)])
def test_check_mode_on_a_clean_host_for_every_service(ansible, netns, tmp_path, service, metrics):
    """No agent and no unit installed yet: --check with offloadctl_install
    and each offloadctl_service (and the metrics timer) predicts the run,
    says which units it cannot look at yet, fails nowhere and touches
    nothing. systemd is not PID 1 here: for `watch`, the role is pointed at a
    directory of the test's as the sign that systemd runs, so that the watch
    tasks are reached (where systemd truly does not run, watch fails at once,
    in check mode too: test_wrappers_install)."""
    units = run(["systemctl", "list-unit-files", "--no-legend", "offloadctl-*"], check=False).stdout
    assert units.strip() == "", f"offloadctl units are installed here; this test needs a clean host:\n{units}"
    netns.veth("va", "vb")
    before = offloads(netns, "va")
    hv = ansible.host(netns, "h")
    missing = "offloadctl"
    if shutil.which("offloadctl", path=os.environ.get("PATH", "") + ":/usr/sbin:/usr/local/sbin:/sbin"):
        missing = "offloadctl-not-installed"
    deb = tmp_path / "offloadctl_0.1.0_amd64.deb"
    deb.write_bytes(b"!<arch>\n")  # copied in check mode only: never read by apt
    systemd_dir = tmp_path / "run-systemd-system"
    systemd_dir.mkdir()
    inv = ansible.inventory({"h": hv}, rules=RULES, offloadctl_executable=missing, offloadctl_install=True,
                            offloadctl_deb=str(deb), offloadctl_service=service, offloadctl_metrics=metrics)
    # an extra var: the role's vars/ win over the inventory's
    p = ansible.play(inv, "-e", f"__offloadctl_systemd_marker={systemd_dir}", check=True, diff=True,
                     agent_on_path=False)
    assert p.rc == 0 and p.recap["h"]["failed"] == 0, p
    other = {"boot": "watch", "watch": "boot"}[service]
    assert f"offloadctl-{service}.service is not installed yet (the package install is only predicted in check " \
           "mode): the real run enables it" in p.out.replace("\n", " "), p
    assert f"offloadctl-{other}.service is not installed yet" in p.out and "real run disables it" in p.out, p
    assert ("offloadctl-metrics.timer is not installed yet" in p.out) is metrics, p
    copy = [t for t in p.out.split("\nTASK [") if t.startswith("offloadctl : Copy the .deb to the host]")]
    assert copy and "\nchanged: [h]" in copy[0], p
    assert offloads(netns, "va") == before
    assert not os.path.exists(hv["offloadctl_facts_dir"]) and not os.path.exists(hv["offloadctl_config_dir"])
    assert not os.path.exists("/var/cache/offloadctl/" + deb.name)


def test_fact_per_namespace_scope(ansible, netns_factory):
    """Two uses of the role on one host, for two namespaces (here two
    inventory hosts that share the host's facts and configuration
    directories): each writes its own scope's drop-in, and the one local
    fact reports both scopes under netns, neither overwriting the other;
    the second run changes nothing."""
    blue, red = netns_factory(), netns_factory()
    for ns in (blue, red):
        ns.veth("va", "vb")
    shared = ansible.host(blue, "shared")
    hosts = {"b": dict(shared), "r": dict(shared, offloadctl_netns=red.name)}
    del hosts["r"]["offloadctl_test_fact_dump"]
    rules_b = [{"match": {"name": "va"}, "features": {"tx": False}}]
    rules_r = [{"match": {"name": "va"}, "features": {"gro": True}}]
    hosts["b"]["offloadctl_rules"], hosts["r"]["offloadctl_rules"] = rules_b, rules_r
    inv = ansible.inventory(hosts)
    p = ansible.play(inv)
    assert p.rc == 0 and p.total("failed") == 0, p
    assert offloads(blue, "va")["tx-checksumming"] is False and offloads(blue, "va")["generic-receive-offload"] is False
    assert offloads(red, "va")["tx-checksumming"] is True and offloads(red, "va")["generic-receive-offload"] is True
    etc = shared["offloadctl_config_dir"]
    for ns, word in ((blue, "tx"), (red, "gro")):
        assert word in open(os.path.join(etc, "netns", ns.name, DROPIN)).read()
    assert not os.path.exists(os.path.join(etc, "conf.d", DROPIN))
    # The fact, read afresh (the play's dump may predate the other host's
    # marker): both scopes, each with its own interfaces' state.
    fact = run([os.path.join(shared["offloadctl_facts_dir"], "offloadctl.fact")], check=True,
               env=dict(os.environ, PATH=f"{ansible.bin}:{os.environ['PATH']}"))
    local = json.loads(fact.stdout)
    assert set(local["netns"]) == {blue.name, red.name}, local["netns"].keys()
    assert local["netns"][blue.name]["interfaces"]["va"]["offloads"]["tx-checksumming"]["active"] is False
    assert local["netns"][red.name]["interfaces"]["va"]["offloads"]["generic-receive-offload"]["active"] is True
    assert local["virtualization"]["vm"] and "va" not in local["interfaces"]
    p = ansible.play(inv)
    assert p.rc == 0 and p.total("changed") == 0 and p.total("failed") == 0, p
    # A namespace that is gone is left out of the fact, never an error.
    red.delete()
    local = json.loads(run([os.path.join(shared["offloadctl_facts_dir"], "offloadctl.fact")], check=True,
                           env=dict(os.environ, PATH=f"{ansible.bin}:{os.environ['PATH']}")).stdout)
    assert set(local["netns"]) == {blue.name}, local["netns"].keys()


def test_defaults_change_no_offload(ansible, netns):
    """No rules: the fact is installed and read, no offload and no configuration is touched."""
    netns.veth("va", "vb")
    before = {i: offloads(netns, i) for i in ("va", "vb")}
    hv = ansible.host(netns, "h")
    inv = ansible.inventory({"h": hv})
    for run_no in (1, 2):
        p = ansible.play(inv)
        assert p.rc == 0 and p.recap["h"]["failed"] == 0, p
        if run_no == 2:
            assert p.recap["h"]["changed"] == 0, p
    assert {i: offloads(netns, i) for i in ("va", "vb")} == before
    assert not os.path.exists(hv["offloadctl_config_dir"])
    local = json.loads(open(hv["offloadctl_test_fact_dump"]).read())
    assert set(local["netns"][netns.name]["interfaces"]) == {"lo", "va", "vb"}, local


FLEET = 20
FORKS = int(os.environ.get("OFFLOADCTL_TEST_FORKS", "10"))


def test_fleet_converges_in_one_run(tmp_path, netns_factory, capsys):
    """An inventory of FLEET hosts, each its own namespace with its own interfaces."""
    ansible = Ansible(tmp_path, forks=FORKS)
    hosts, spaces = {}, {}
    for n in range(FLEET):
        ns = netns_factory()
        ns.veth("eth0", "eth1")
        if n % 3 == 0:
            ns.ethtool_K("eth0", "tx", "off", check=True)   # half converged already
        if n % 3 == 1:
            ns.veth("eth2", "eth3")                       # more interfaces
        name = f"node{n:02d}"
        hosts[name] = ansible.host(ns, name)
        if n % 5:
            del hosts[name]["offloadctl_test_fact_dump"]  # a sample is enough, and cheaper
        spaces[name] = ns
    rules = [{"match": {"name": "eth*"}, "features": {"tx": "off", "gro": "on"}}]
    inv = ansible.inventory(hosts, rules=rules, offloadctl_defaults={"missing-interface": "ignore"})

    first = ansible.play(inv, timeout=600)
    assert first.rc == 0 and first.total("failed") == 0, first
    assert set(first.recap) == set(hosts), first
    assert all(r["changed"] > 0 for r in first.recap.values()), first
    for name, ns in spaces.items():
        names = [i for i in ("eth0", "eth1", "eth2", "eth3")
                 if ns.ip("link", "show", i, check=False).returncode == 0]
        for i in names:
            now = offloads(ns, i)
            assert now["tx-checksumming"] is False and now["generic-receive-offload"] is True, (name, i)
        if "offloadctl_test_fact_dump" not in hosts[name]:
            continue
        local = json.loads(open(hosts[name]["offloadctl_test_fact_dump"]).read())
        assert sorted(k for k in local["netns"][ns.name]["interfaces"] if k.startswith("eth")) == names, (name, local)

    second = ansible.play(inv, timeout=600)
    assert second.rc == 0 and second.total("failed") == 0, second
    assert second.total("changed") == 0, second

    note = (f"ansible fleet of {FLEET} namespaces (forks {FORKS}): "
            f"first run {first.seconds:.1f}s (changed={first.total('changed')}), "
            f"second run {second.seconds:.1f}s (changed=0)")
    with capsys.disabled():  # shown without -s, for the closing note
        print("\n" + note)
    out = os.environ.get("BUILD_DIR") or os.path.join(ROOT, "build")
    if os.path.isdir(out):
        with open(os.path.join(out, "ansible-fleet-timings.txt"), "w") as f:
            f.write(note + "\n")


def test_a_later_file_in_the_scope_is_reported_not_fought(ansible, netns):
    """One truth (issue 12): an admin's later drop-in in the same scope sets
    tx on where the role sets it off.  The boot unit and watch apply the
    whole scope, so the admin wins; the role says so (file:line) and never
    flaps: no change on three runs."""
    netns.veth("va", "vb")
    hv = ansible.host(netns, "h")
    scope = os.path.join(hv["offloadctl_config_dir"], "netns", netns.name)
    os.makedirs(scope)
    admin = os.path.join(scope, "60-admin.yaml")
    with open(admin, "w") as f:
        f.write("version: 1\ninterfaces:\n  - match: {name: va}\n    features: {tx: on}\n")
    inv = ansible.inventory({"h": hv}, rules=[{"match": {"kind": "veth"}, "features": {"tx": False}}])
    changes = []
    for run_no in range(3):
        p = ansible.play(inv)
        assert p.rc == 0 and p.recap["h"]["failed"] == 0, p
        flat = "".join(p.out.split())  # Ansible wraps its warnings, even inside a path
        assert "".join(f"decided by {admin}:4:16, a later file of the scope".split()) in flat, p
        changes.append(p.recap["h"]["changed"])
        assert offloads(netns, "va")["tx-checksumming"] is True  # the admin's later file wins
        assert offloads(netns, "vb")["tx-checksumming"] is False  # the role's own interface
    assert changes[1:] == [0, 0], changes
    # and the scope is in sync, as watch and the boot unit see it
    c = run([agent_path(), "--netns", netns.name, "--config-dir", hv["offloadctl_config_dir"], "check"],
            check=False)
    assert c.returncode == 0, c.stdout + c.stderr




def test_follow_advice_turns_chosen_ids_into_rules(ansible, netns_factory):
    """offloadctl_follow_advice: the chosen advice becomes a rule for the
    interface it names (flannel.1), nothing else changes (vxlan7, a VXLAN
    device the advice is not about), and a second run changes nothing."""
    advice_id = k8s_vxlan_advice_id()
    follow, report = netns_factory(), netns_factory()
    for ns in (follow, report):
        add_vxlans(ns)
    hf = ansible.host(follow, "f")
    hf["offloadctl_follow_advice"] = [advice_id]
    hr = ansible.host(report, "r")
    inv = ansible.inventory({"f": hf, "r": hr}, rules=[])

    p = ansible.play(inv, check=True, diff=True)
    assert p.rc == 0 and p.total("failed") == 0, p
    assert "+tx-checksum-ip-generic: off" in p.out, p
    assert offloads(follow, "flannel.1")["tx-checksum-ip-generic"] is True

    # (both hosts change on the first run: the local fact is installed)
    p = ansible.play(inv)
    assert p.rc == 0 and p.total("failed") == 0, p
    assert offloads(follow, "flannel.1")["tx-checksum-ip-generic"] is False
    assert offloads(follow, "vxlan7")["tx-checksum-ip-generic"] is True
    dropin = os.path.join(hf["offloadctl_config_dir"], "netns", follow.name, DROPIN)
    text = open(dropin).read()
    # JSON after the comments (YAML to the agent), the advice's words as the agent gave them
    doc = json.loads("".join(line for line in text.splitlines(True) if not line.startswith("#")))
    assert doc["interfaces"] == [
        {"match": {"name": "flannel.1"}, "features": {"tx-checksum-ip-generic": "off"}}], text
    # The host told to follow nothing: the advice is reported, not acted on.
    assert offloads(report, "flannel.1")["tx-checksum-ip-generic"] is True
    assert not os.path.exists(os.path.join(hr["offloadctl_config_dir"], "netns", report.name, DROPIN))
    assert re.search(rf"advice {advice_id} \(confidence B\) on flannel\.1, not followed", p.out), p
    assert not re.search(rf"\[f\][^\n]*\n[^\n]*advice {advice_id}[^\n]*not followed", p.out), p

    # Converged: the followed advice is no longer pending, its rule stays.
    p = ansible.play(inv)
    assert p.rc == 0 and p.total("changed") == 0 and p.total("failed") == 0, p
    assert open(dropin).read() == text
    assert offloads(follow, "flannel.1")["tx-checksum-ip-generic"] is False


def test_follow_advice_that_does_not_apply_is_said(ansible, netns):
    netns.veth("va", "vb")
    hv = ansible.host(netns, "h")
    hv["offloadctl_follow_advice"] = ["xen-netfront-tx-csum"]
    inv = ansible.inventory({"h": hv}, rules=[])
    before = offloads(netns, "va")
    p = ansible.play(inv)
    assert p.rc == 0 and p.total("failed") == 0, p
    assert "names xen-netfront-tx-csum, which does not apply to this host" in p.out, p
    assert offloads(netns, "va") == before
    assert not os.path.exists(os.path.join(hv["offloadctl_config_dir"], "netns", netns.name, DROPIN))


def test_failed_validation_leaves_no_backup(ansible, netns):
    """A drop-in the agent refuses (a feature name this kernel does not have)
    fails the play before anything is applied: the previous drop-in stays
    byte for byte, and no backup (`NAME.yaml.PID.DATE~`) is left in the
    scope's directory."""
    netns.veth("va", "vb")
    hv = ansible.host(netns, "h")
    scope = os.path.join(hv["offloadctl_config_dir"], "netns", netns.name)
    dropin = os.path.join(scope, DROPIN)
    ok = ansible.inventory({"h": hv}, rules=[{"match": {"name": "va"}, "features": {"tx": False}}], name="ok.yml")
    p = ansible.play(ok)
    assert p.rc == 0 and p.recap["h"]["failed"] == 0, p
    with open(dropin, "rb") as f:
        kept = f.read()
    before = offloads(netns, "va")
    bad = ansible.inventory({"h": hv}, rules=[{"match": {"name": "va"},
                                               "features": {"no-such-offload-feature": True}}], name="bad.yml")
    for _ in range(2):
        p = ansible.play(bad)
        assert p.rc != 0 and p.recap["h"]["failed"] == 1, p
        assert "failed to validate" in p.out, p
        with open(dropin, "rb") as f:
            assert f.read() == kept
        left = sorted(os.listdir(scope))
        assert left == [DROPIN], left
        assert offloads(netns, "va") == before


def test_state_absent_removes_only_its_own_drop_in(ansible, netns):
    """Two uses of the role in one namespace's scope, each with its own
    drop-in (offloadctl_dropin): offloadctl_state: absent on one removes that
    drop-in alone, in check mode only says so, applies nothing (the
    interfaces stay as they are), keeps the namespace in the fact while the
    other's file is there, and a second run changes nothing; absent on the
    other then removes its file and the fact's marker."""
    netns.veth("va", "vb")
    shared = ansible.host(netns, "shared")
    etc, facts = shared["offloadctl_config_dir"], shared["offloadctl_facts_dir"]
    scope = os.path.join(etc, "netns", netns.name)
    marker = os.path.join(facts, "offloadctl.netns", netns.name)
    a = dict(shared, offloadctl_dropin="50-ansible-a.yaml",
             offloadctl_rules=[{"match": {"name": "va"}, "features": {"tx": False}}])
    b = dict(shared, offloadctl_dropin="50-ansible-b.yaml",
             offloadctl_rules=[{"match": {"name": "vb"}, "features": {"gro": True}}])
    admin = os.path.join(scope, "60-admin.yaml")
    for name, hv in (("a", a), ("b", b)):
        p = ansible.play(ansible.inventory({name: hv}, name=f"{name}.yml"))
        assert p.rc == 0 and p.total("failed") == 0, p
    with open(admin, "w") as f:  # another owner's file, never the role's
        f.write("version: 1\n")
    with open(os.path.join(scope, "50-ansible-b.yaml"), "rb") as f:
        b_text = f.read()
    assert os.path.exists(marker)
    state = {i: offloads(netns, i) for i in ("va", "vb")}
    assert state["va"]["tx-checksumming"] is False and state["vb"]["generic-receive-offload"] is True

    gone_a = ansible.inventory({"a": dict(a, offloadctl_state="absent")}, name="a-absent.yml")
    p = ansible.play(gone_a, check=True)
    assert p.rc == 0 and p.total("failed") == 0 and p.recap["a"]["changed"] > 0, p
    assert os.path.exists(os.path.join(scope, "50-ansible-a.yaml"))
    for run_no in (1, 2):
        p = ansible.play(gone_a)
        assert p.rc == 0 and p.total("failed") == 0, p
        assert p.recap["a"]["changed"] == (1 if run_no == 1 else 0), p
        assert sorted(os.listdir(scope)) == ["50-ansible-b.yaml", "60-admin.yaml"]
        with open(os.path.join(scope, "50-ansible-b.yaml"), "rb") as f:
            assert f.read() == b_text
        assert os.path.exists(marker)  # b's file and the admin's are still in the scope
        assert {i: offloads(netns, i) for i in ("va", "vb")} == state  # nothing applied, nothing reverted
    p = ansible.play(gone_a, check=True)
    assert p.rc == 0 and p.recap["a"]["changed"] == 0, p

    os.unlink(admin)
    gone_b = ansible.inventory({"b": dict(b, offloadctl_state="absent")}, name="b-absent.yml")
    for run_no in (1, 2):
        p = ansible.play(gone_b)
        assert p.rc == 0 and p.total("failed") == 0, p
        assert p.recap["b"]["changed"] == (2 if run_no == 1 else 0), p
        assert os.listdir(scope) == []
        assert not os.path.exists(marker)
        assert {i: offloads(netns, i) for i in ("va", "vb")} == state


def channels(ns, ifname):
    """`ethtool -l IF`'s current rx and tx channel counts."""
    out = ns.exec("ethtool", "-l", ifname).stdout
    current = out.split("Current hardware settings:")[1]
    return {k.lower(): int(v) for k, v in re.findall(r"^(RX|TX):\s+(\d+)", current, re.M)}


def test_rules_with_channels_check_diff_apply_and_idempotence(ansible, netns):
    """The groups beside features (issue 15): a veth's channels (rx/tx, max 2)
    through the role; check mode shows the setting and touches nothing, the
    real run sets it as ethtool -L would, a second run changes nothing."""
    netns.veth("ca", "cb")
    assert channels(netns, "ca") == {"rx": 1, "tx": 1}
    hv = ansible.host(netns, "h")
    rules = [{"match": {"name": "ca"}, "channels": {"rx": "max", "tx": 2}, "features": {"gro": "on"}}]
    inv = ansible.inventory({"h": hv}, rules=rules)
    p = ansible.play(inv, check=True, diff=True)
    assert p.rc == 0 and p.total("failed") == 0 and p.recap["h"]["changed"] > 0, p
    assert "+channels rx: 2  # may reset the link" in p.out and "-channels tx: 1" in p.out, p
    assert channels(netns, "ca") == {"rx": 1, "tx": 1}
    p = ansible.play(inv, diff=True)
    assert p.rc == 0 and p.total("failed") == 0 and p.recap["h"]["changed"] > 0, p
    assert channels(netns, "ca") == {"rx": 2, "tx": 2} and channels(netns, "cb") == {"rx": 1, "tx": 1}
    assert offloads(netns, "ca")["generic-receive-offload"] is True
    p = ansible.play(inv)
    assert p.rc == 0 and p.recap["h"]["changed"] == 0 and p.recap["h"]["failed"] == 0, p
    # Above the maximum: the agent refuses it, naming the maximum; nothing is touched.
    inv = ansible.inventory({"h": hv}, rules=[{"match": {"name": "ca"}, "channels": {"rx": 1, "tx": 3}}])
    p = ansible.play(inv)
    assert p.rc != 0 and p.recap["h"]["failed"] == 1, p
    assert "the maximum is 2" in p.out, p
    assert channels(netns, "ca") == {"rx": 2, "tx": 2}
