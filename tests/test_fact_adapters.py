"""The facter and Ansible fact adapters in facts/: valid JSON, and {} with a
message when the agent is missing, so fact gathering never breaks."""
import json
import os
import shutil

import pytest

from ocutil import ROOT, agent_path, run

ADAPTERS = {"facter-offloadctl": "facter", "offloadctl.fact": "ansible"}


@pytest.mark.parametrize("name", ADAPTERS)
def test_adapter_prints_the_facts(name, tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink(agent_path(), bindir / "offloadctl")
    env = dict(os.environ, PATH=f"{bindir}:/usr/bin:/bin")
    p = run([os.path.join(ROOT, "facts", name)], env=env)
    doc = json.loads(p.stdout)
    if ADAPTERS[name] == "facter":
        assert list(doc) == ["offloadctl"]
        doc = doc["offloadctl"]
    assert doc["schema"] == 1 and "lo" in doc["interfaces"]
    assert all("features" not in i for i in doc["interfaces"].values())
    assert p.stderr == ""


@pytest.mark.parametrize("name", ADAPTERS)
def test_adapter_without_agent_prints_empty_object(name, tmp_path):
    if shutil.which("offloadctl", path="/usr/sbin:/usr/bin:/sbin:/bin"):
        pytest.fail("an installed offloadctl is on the system PATH; this test needs it absent")
    env = dict(os.environ, PATH=str(tmp_path))
    p = run(["/bin/sh", os.path.join(ROOT, "facts", name)], env=env)
    assert json.loads(p.stdout) == {}
    # quiet on a node without the agent: facter shows stderr as a warning
    assert p.stderr == ""
    env["OFFLOADCTL_FACT_DEBUG"] = "1"
    p = run(["/bin/sh", os.path.join(ROOT, "facts", name)], env=env)
    assert json.loads(p.stdout) == {}
    assert "not installed" in p.stderr


@pytest.mark.parametrize("name", ADAPTERS)
def test_adapter_prints_no_null(name, tmp_path):
    """A JSON null becomes '' in Puppet, which is truthy: none is printed."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink(agent_path(), bindir / "offloadctl")
    env = dict(os.environ, PATH=f"{bindir}:/usr/bin:/bin")
    p = run([os.path.join(ROOT, "facts", name)], env=env)
    assert "null" not in p.stdout
    lo = json.loads(p.stdout)
    lo = (lo["offloadctl"] if ADAPTERS[name] == "facter" else lo)["interfaces"]["lo"]
    assert "driver" not in lo and "kind" not in lo  # null in --format json


@pytest.mark.parametrize("name", ADAPTERS)
def test_adapter_with_failing_agent_prints_empty_object(name, tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "offloadctl"
    fake.write_text("#!/bin/sh\necho 'offloadctl: broken' >&2\nexit 3\n")
    fake.chmod(0o755)
    env = dict(os.environ, PATH=f"{bindir}:/usr/bin:/bin")
    p = run([os.path.join(ROOT, "facts", name)], env=env)
    assert json.loads(p.stdout) == {}
    assert "failed" in p.stderr
