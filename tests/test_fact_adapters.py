"""The fact adapter, facts/offloadctl-fact: one script for facter and Ansible,
which the Puppet module (facts.d/offloadctl), the Ansible role
(files/offloadctl.fact) and the package (/usr/share/offloadctl) all ship.
Valid JSON in the format of the name it runs under, and {} with a message
when the agent is missing or fails, so fact gathering never breaks."""
import json
import os
import shutil
import subprocess

import pytest

from ocutil import ROOT, agent_path, run

ADAPTER = os.path.join(ROOT, "facts", "offloadctl-fact")
# Every name the adapter is shipped under, and the format that name gives.
NAMES = {
    os.path.join(ROOT, "facts", "offloadctl-fact"): "facter",
    os.path.join(ROOT, "modules", "puppet", "facts.d", "offloadctl"): "facter",
    os.path.join(ROOT, "roles", "ansible", "files", "offloadctl.fact"): "ansible",
}


@pytest.fixture
def on_path(tmp_path):
    """An environment whose PATH holds the agent under test as `offloadctl`,
    and nothing else of the settings."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink(agent_path(), bindir / "offloadctl")
    env = dict(os.environ, PATH=f"{bindir}:/usr/bin:/bin", OFFLOADCTL_FACT_CONF=str(tmp_path / "no-such.conf"))
    env.pop("OFFLOADCTL_PATH", None)
    return env


def document(stdout, fmt):
    doc = json.loads(stdout)
    if fmt == "facter":
        assert list(doc) == ["offloadctl"]
        doc = doc["offloadctl"]
    return doc


def test_one_adapter_under_every_name():
    """The wrappers ship the one adapter, not copies of it."""
    for name in NAMES:
        assert os.path.realpath(name) == ADAPTER, name
    assert os.access(ADAPTER, os.X_OK)
    assert not os.path.exists(os.path.join(ROOT, "roles", "ansible", "templates", "offloadctl.fact.j2"))


@pytest.mark.parametrize("name", NAMES)
def test_adapter_prints_the_facts(name, on_path):
    p = run([name], env=on_path)
    doc = document(p.stdout, NAMES[name])
    assert doc["schema"] == 1 and "lo" in doc["interfaces"]
    assert all("features" not in i for i in doc["interfaces"].values())
    assert doc["netns"] == {}
    assert p.stderr == ""
    # the agent's own document, and only the namespaces added
    want = json.loads(run([agent_path(), "facts", "--format", "ansible"]).stdout)
    assert set(doc) - {"netns"} == set(want)
    assert doc["virtualization"] == want["virtualization"]


def test_format_by_hand_and_a_wrong_one(on_path):
    p = run([ADAPTER, "--format", "ansible"], env=on_path)
    assert json.loads(p.stdout)["schema"] == 1
    p = run([ADAPTER, "--format", "yaml"], env=on_path)
    assert json.loads(p.stdout) == {} and "unknown format 'yaml'" in p.stderr


@pytest.mark.parametrize("name", NAMES)
def test_adapter_without_agent_prints_empty_object(name, tmp_path):
    if shutil.which("offloadctl", path="/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin"):
        pytest.fail("an installed offloadctl is on the system PATH; this test needs it absent")
    env = dict(os.environ, PATH=str(tmp_path), OFFLOADCTL_FACT_CONF=str(tmp_path / "no-such.conf"))
    p = run(["/bin/sh", name], env=env)
    assert json.loads(p.stdout) == {}
    # quiet on a node without the agent: facter shows stderr as a warning
    assert p.stderr == ""
    env["OFFLOADCTL_FACT_DEBUG"] = "1"
    p = run(["/bin/sh", name], env=env)
    assert json.loads(p.stdout) == {}
    assert "not installed" in p.stderr


@pytest.mark.parametrize("name", NAMES)
def test_adapter_prints_no_null(name, on_path):
    """A JSON null becomes '' in Puppet, which is truthy: none is printed."""
    p = run([name], env=on_path)
    assert "null" not in p.stdout
    lo = document(p.stdout, NAMES[name])["interfaces"]["lo"]
    assert "driver" not in lo and "kind" not in lo  # null in --format json


@pytest.mark.parametrize("name", NAMES)
def test_adapter_with_failing_agent_prints_empty_object(name, on_path, tmp_path):
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "offloadctl").write_text("#!/bin/sh\necho 'offloadctl: broken' >&2\nexit 3\n")
    (fake / "offloadctl").chmod(0o755)
    on_path["PATH"] = f"{fake}:/usr/bin:/bin"
    p = run([name], env=on_path)
    assert json.loads(p.stdout) == {}
    assert "failed" in p.stderr


def test_settings_beside_the_adapter_name_the_agent_and_the_mode(tmp_path):
    """What the Ansible role writes: offloadctl.fact.conf beside the fact."""
    facts = tmp_path / "facts.d"
    facts.mkdir()
    shutil.copy(ADAPTER, facts / "offloadctl.fact")
    conf = facts / "offloadctl.fact.conf"
    env = dict(os.environ, PATH="/usr/bin:/bin")
    env.pop("OFFLOADCTL_FACT_CONF", None)
    conf.write_text(f"# a comment\nmode=full\nagent={os.path.abspath(agent_path())}\n")
    doc = json.loads(run([str(facts / "offloadctl.fact")], env=env).stdout)
    assert "features" in doc["interfaces"]["lo"]
    conf.write_text("mode=none\n")
    assert json.loads(run([str(facts / "offloadctl.fact")], env=env).stdout) == {}
    conf.write_text(f"mode=sideways\nagent={os.path.abspath(agent_path())}\n")
    p = run([str(facts / "offloadctl.fact")], env=env)
    assert json.loads(p.stdout)["schema"] == 1 and "unknown mode 'sideways'" in p.stderr


def test_namespace_markers_add_their_documents(tmp_path, netns_factory):
    """A marker per named namespace beside the adapter (the Ansible role's)
    adds that namespace's document under netns; a marker for a namespace
    that does not exist is left out."""
    blue = netns_factory()
    blue.veth("va", "vb")
    facts = tmp_path / "facts.d"
    (facts / "offloadctl.netns").mkdir(parents=True)
    shutil.copy(ADAPTER, facts / "offloadctl.fact")
    (facts / "offloadctl.fact.conf").write_text(f"agent={os.path.abspath(agent_path())}\n")
    (facts / "offloadctl.netns" / blue.name).write_text("")
    (facts / "offloadctl.netns" / "oct-no-such-namespace").write_text("")
    env = dict(os.environ, PATH="/usr/bin:/bin")
    env.pop("OFFLOADCTL_FACT_CONF", None)
    p = run([str(facts / "offloadctl.fact")], env=env)
    doc = json.loads(p.stdout)
    assert list(doc["netns"]) == [blue.name], doc["netns"]
    assert set(doc["netns"][blue.name]["interfaces"]) == {"lo", "va", "vb"}
    assert "va" not in doc["interfaces"]
    # the same under facter's name, inside its one fact
    os.symlink(facts / "offloadctl.fact", facts / "offloadctl")
    os.symlink(facts / "offloadctl.fact.conf", facts / "offloadctl.conf")
    p = subprocess.run([str(facts / "offloadctl")], capture_output=True, text=True, env=env, timeout=60)
    assert list(json.loads(p.stdout)["offloadctl"]["netns"]) == [blue.name]
