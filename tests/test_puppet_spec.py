"""The Puppet module's rspec-puppet specs (modules/puppet/spec: the class, the
nic_offload type, its provider and the external fact), run with Debian's
ruby-rspec-puppet, one pytest test per spec file so the summary counts them."""
import glob
import json
import os
import shutil

import pytest

from ocutil import ROOT, agent_path, run

MODULE = os.path.join(ROOT, "modules", "puppet")
SPECS = sorted(os.path.relpath(p, MODULE) for p in glob.glob(os.path.join(MODULE, "spec", "**", "*_spec.rb"),
                                                             recursive=True))


def test_there_are_specs_for_the_class_type_provider_and_fact():
    assert "spec/classes/offloadctl_spec.rb" in SPECS
    assert "spec/unit/puppet/type/nic_offload_spec.rb" in SPECS
    assert "spec/unit/puppet/provider/nic_offload/offloadctl_spec.rb" in SPECS
    assert "spec/unit/facter/offloadctl_spec.rb" in SPECS


@pytest.mark.parametrize("spec", SPECS)
def test_rspec(spec, tmp_path):
    rspec = shutil.which("rspec")
    if rspec is None:
        pytest.fail("rspec is missing: scripts/install-deps check installs ruby-rspec-puppet")
    out = tmp_path / "rspec.json"
    env = dict(os.environ, OFFLOADCTL=os.path.abspath(agent_path()), HOME=str(tmp_path))
    p = run(["/bin/sh", "-c", f'cd "{MODULE}" && exec "{rspec}" --format progress --format json --out "{out}" "{spec}"'],
            check=False, env=env, timeout=600)
    assert out.exists(), p.stdout + p.stderr
    summary = json.loads(out.read_text())["summary"]
    assert summary["example_count"] > 0, p.stdout
    # a pending or skipped example is a failure here, as any skip is in CI
    assert summary["failure_count"] == 0 and summary["pending_count"] == 0, p.stdout + p.stderr
    assert p.returncode == 0, p.stdout + p.stderr
    # rspec-puppet left nothing behind in the module (no spec/fixtures)
    assert not os.path.exists(os.path.join(MODULE, "spec", "fixtures"))
