"""The command line: --help for every command, usage errors exit 2."""
import re

import pytest

from ocutil import agent

COMMANDS = ["facts", "virt", "show", "advise", "validate", "check", "apply", "watch"]


def test_version():
    p = agent("--version")
    assert p.returncode == 0
    assert re.fullmatch(r"offloadctl \d+\.\d+\.\d+\n", p.stdout)


def test_global_help_lists_every_command():
    p = agent("--help")
    assert p.returncode == 0
    for c in COMMANDS:
        assert re.search(rf"^  {c}\s", p.stdout, re.M), c


@pytest.mark.parametrize("cmd", COMMANDS)
def test_command_help(cmd):
    p = agent(cmd, "--help")
    assert p.returncode == 0
    assert p.stdout.startswith(f"Usage: offloadctl [GLOBAL OPTIONS] {cmd}")
    q = agent("help", cmd)
    assert q.returncode == 0 and q.stdout == p.stdout


@pytest.mark.parametrize("cmd", COMMANDS)
def test_unknown_option_exits_2(cmd):
    p = agent(cmd, "--no-such-option")
    assert p.returncode == 2
    assert "--no-such-option" in p.stderr and f"offloadctl {cmd} --help" in p.stderr


def test_unknown_command_exits_2():
    p = agent("frobnicate")
    assert p.returncode == 2
    assert "unknown command 'frobnicate'" in p.stderr


def test_no_command_exits_2():
    p = agent()
    assert p.returncode == 2 and "no command" in p.stderr


def test_unknown_global_option_exits_2():
    p = agent("--bogus", "facts")
    assert p.returncode == 2 and "--bogus" in p.stderr


def test_bad_backend_exits_2():
    p = agent("--backend", "smoke-signals", "facts")
    assert p.returncode == 2 and "smoke-signals" in p.stderr
