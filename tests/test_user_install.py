"""As a user would: install the collection tarball with `ansible-galaxy
collection install` and the Puppet module tarball with `puppet module
install`, then run a playbook (role and module by their fully qualified
names, nothing from this checkout on any path) and a `puppet apply` from what
was installed, each twice, against veth pairs in a network namespace of the
test's own.  Configuration and facts go under the test's directory."""
import json
import os
import re

import pytest

from ocutil import ROOT, agent_path, run
from test_dist import COLLECTION_TGZ, PUPPET_TGZ, VERSION, make
from test_puppet import NOISE

PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="module")
def tarballs():
    make("dist")
    assert os.path.isfile(COLLECTION_TGZ) and os.path.isfile(PUPPET_TGZ)
    return COLLECTION_TGZ, PUPPET_TGZ


def user_env(tmp_path):
    """The agent on PATH (as the package would put it), HOME of the test's
    own, and nothing that points into this checkout."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    if not (bindir / "offloadctl").exists():
        (bindir / "offloadctl").symlink_to(os.path.abspath(agent_path()))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "OFFLOADCTL"))}
    env.update(PATH=f"{bindir}:/usr/sbin:/usr/bin:/sbin:/bin", HOME=str(tmp_path / "home"),
               ANSIBLE_NOCOLOR="1")
    (tmp_path / "home").mkdir(exist_ok=True)
    return env


def tx_active(ns, ifname):
    return ns.ethtool_json(ifname)["tx-checksumming"]["active"]


def test_collection_from_its_tarball_runs_a_playbook(tarballs, netns, tmp_path):
    collection, _ = tarballs
    env = user_env(tmp_path)
    colls = tmp_path / "collections"
    p = run(["ansible-galaxy", "collection", "install", collection, "-p", str(colls)], env=env)
    assert "offloadctl.offloadctl:" + VERSION in p.stdout.replace(" ", "").replace("(", ":").replace(")", "") \
        or f"offloadctl.offloadctl:{VERSION} was installed successfully" in p.stdout, p.stdout
    installed = colls / "ansible_collections" / "offloadctl" / "offloadctl"
    assert (installed / "plugins" / "modules" / "offloadctl_state.py").is_file()
    assert not (installed / "roles" / "offloadctl" / "library").exists()

    netns.veth("ua0", "ua1")
    netns.veth("ub0", "ub1")
    etc = tmp_path / "etc"
    (tmp_path / "ansible.cfg").write_text(
        "[defaults]\n"
        f"collections_path = {colls}\n"
        "roles_path = /nonexistent\n"
        f"local_tmp = {tmp_path}/ansible-local\n"
        f"remote_tmp = {tmp_path}/ansible-remote\n"
        f"interpreter_python = {PYTHON}\n"
        "retry_files_enabled = False\n"
        "nocolor = True\n")
    env["ANSIBLE_CONFIG"] = str(tmp_path / "ansible.cfg")
    (tmp_path / "inventory.yml").write_text(json.dumps(
        {"all": {"hosts": {"node": {"ansible_connection": "local", "ansible_python_interpreter": PYTHON}}}}))
    (tmp_path / "site.yml").write_text(f"""---
- name: NIC offloads from the installed collection
  hosts: all
  gather_facts: false
  roles:
    - role: offloadctl.offloadctl.offloadctl
      vars:
        offloadctl_netns: {netns.name}
        offloadctl_config_dir: {etc}
        offloadctl_facts_dir: {tmp_path}/facts.d
        offloadctl_rules:
          - match: {{name: "ua*"}}
            features: {{tx: "off"}}
  tasks:
    - name: The module by its fully qualified name
      offloadctl.offloadctl.offloadctl_state:
        netns: {netns.name}
        rules:
          - match: {{name: "ub0"}}
            features: {{tx: "off"}}
    - name: Save the local fact
      ansible.builtin.copy:
        content: "{{{{ ansible_local.offloadctl | to_nice_json }}}}\\n"
        dest: {tmp_path}/fact.json
        mode: "0644"
      changed_when: false
""")
    cmd = ["ansible-playbook", "-i", str(tmp_path / "inventory.yml"), str(tmp_path / "site.yml")]
    p = run(cmd, check=False, env=env, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert re.search(r"node\s+:\s+ok=\d+\s+changed=[1-9]", p.stdout), p.stdout
    assert "offloadctl.offloadctl.offloadctl : Apply the rules" in p.stdout, p.stdout
    assert not tx_active(netns, "ua0") and not tx_active(netns, "ua1") and not tx_active(netns, "ub0")
    assert tx_active(netns, "ub1")
    # the role's drop-in, in the namespace's scope (never the host's conf.d)
    assert (etc / "netns" / netns.name / "50-ansible-offloadctl.yaml").is_file()
    assert not (etc / "conf.d" / "50-ansible-offloadctl.yaml").exists()
    # the namespace's scope has its own document in the one local fact
    fact = json.loads((tmp_path / "fact.json").read_text())["netns"][netns.name]
    assert fact["interfaces"]["ua0"]["offloads"]["tx-checksumming"] == {"active": False}
    assert "kind" not in fact["interfaces"]["lo"] and "null" not in (tmp_path / "fact.json").read_text()
    p = run(cmd, check=False, env=env, timeout=300)
    assert p.returncode == 0 and re.search(r"node\s+:\s+ok=\d+\s+changed=0\s", p.stdout), p.stdout + p.stderr


def test_puppet_module_from_its_tarball_runs_puppet_apply(tarballs, netns, tmp_path):
    _, module = tarballs
    env = user_env(tmp_path)
    modules = tmp_path / "modules"
    common = ["--confdir", str(tmp_path / "conf"), "--vardir", str(tmp_path / "var"), "--color=false"]
    run(["puppet", "module", "install", "--ignore-dependencies", "--target-dir", str(modules), *common, module],
        env=env)
    assert (modules / "offloadctl" / "metadata.json").is_file()
    assert not (modules / "offloadctl").is_symlink()

    netns.veth("pa0", "pa1")
    netns.veth("pb0", "pb1")
    etc = tmp_path / "etc"
    manifest = tmp_path / "site.pp"
    manifest.write_text(f"""
class {{ 'offloadctl':
  netns      => '{netns.name}',
  config_dir => '{etc}',
  rules      => {{ 'interfaces' => [{{ 'match' => {{ 'name' => 'pa*' }}, 'features' => {{ 'tx' => 'off' }} }}] }},
}}
nic_offload {{ 'pb0':
  netns      => '{netns.name}',
  config_dir => '{etc}',
  features   => {{ 'tx' => 'off' }},
}}
# The fact from the installed module: no '' where the agent says null
$lo = $facts.dig('offloadctl', 'interfaces', 'lo')
if $lo == undef {{ fail('no fact offloadctl from the installed module') }}
if $lo['kind'] {{ fail("lo has a truthy kind: '${{lo['kind']}}'") }}
notice("vm: ${{facts.dig('offloadctl', 'virtualization', 'vm')}}")
""")
    cmd = ["ip", "netns", "exec", netns.name, "puppet", "apply", "--detailed-exitcodes",
           "--modulepath", str(modules), *common, str(manifest)]
    p = run(cmd, check=False, env=env, timeout=300)
    assert p.returncode == 2, p.stdout + NOISE.sub("", p.stderr)
    assert not tx_active(netns, "pa0") and not tx_active(netns, "pa1") and not tx_active(netns, "pb0")
    assert tx_active(netns, "pb1")
    # both in the namespace's scope, never the host's set
    assert (etc / "netns" / netns.name / "40-puppet-offloadctl.yaml").is_file()
    assert (etc / "netns" / netns.name / "50-puppet-nic_offload-pb0.yaml").is_file()
    assert not (etc / "offloadctl.yaml").exists()
    # no warning of ours (the namespace has no address: facter's serverip warns)
    assert not [l for l in p.stderr.splitlines() if "Warning" in l and "offloadctl" in l], p.stderr
    p = run(cmd, check=False, env=env, timeout=300)
    assert p.returncode == 0, p.stdout + NOISE.sub("", p.stderr)
