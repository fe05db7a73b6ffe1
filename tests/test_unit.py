"""The C unit tests (tests/unit/test-*.c, TAP output), one pytest case each."""
import glob
import os
import subprocess

import pytest

from ocutil import ROOT

UNIT_DIR = os.environ.get("UNIT_DIR") or os.path.join(ROOT, "build", "unit")
SOURCES = sorted(glob.glob(os.path.join(ROOT, "tests", "unit", "test-*.c")))


@pytest.mark.parametrize("src", SOURCES, ids=[os.path.basename(s)[:-2] for s in SOURCES])
def test_unit(src):
    binary = os.path.join(UNIT_DIR, os.path.basename(src)[:-2])
    assert os.path.exists(binary), f"{binary} not built (make unit)"
    p = subprocess.run([binary], capture_output=True, text=True, timeout=120)
    lines = p.stdout.splitlines()
    failed = [l for l in lines if l.startswith("not ok")]
    plan = [l for l in lines if l.startswith("1..")]
    assert p.returncode == 0 and not failed, p.stdout + p.stderr
    assert plan and int(plan[0][3:]) > 10
