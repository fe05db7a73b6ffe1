"""Hardening: no shell and no other program is ever run by the agent, and a
hostile desired state is refused with a message in bounded time and memory.

Two places make processes, by design and with a fixed argument list, never
from input: `apply/check --all-scopes` runs each network namespace's scope in
a child (fork, no exec), and the host's `watch` starts a watch of its own for
each namespace scope (fork and exec of /proc/self/exe with --netns NAME, a
name that is both a directory of /etc/offloadctl/netns and /run/netns).
Nothing else may.

The parser's limits themselves (DS_MAX_FILE_SIZE, DS_MAX_RULES, DS_MAX_DEPTH
in agent/src/model/desired-state.h) and their messages are tested in
test_validate.py; here every hostile input also runs under a hard address
space limit (prlimit --as), which an input that made the agent allocate in
proportion to it would hit.
"""
import glob
import os
import re
import subprocess
import time

import pytest

from ocutil import ROOT, agent_path, run, plain_agent

SOURCES = sorted(glob.glob(os.path.join(ROOT, "agent", "src", "**", "*.[ch]"), recursive=True))

# Everything that starts a program or a shell, or makes a process to run one.
SPAWNERS = ["system", "popen", "execl", "execlp", "execle", "execv", "execvp", "execvpe", "execve",
            "execveat", "fexecve", "posix_spawn", "posix_spawnp", "wordexp", "fork", "vfork",
            "clone", "clone3", "dlopen"]

# Twice what the worst hostile input below needs (32 MiB of address space on
# this machine, with the shared libraries mapped), far below what an input
# of up to 16 MiB would need if the agent kept it or expanded it.
AS_LIMIT = 64 * 1024 * 1024
SECONDS = 5



def strip_c(text):
    """C source without comments, string literals and character constants."""
    return re.sub(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'',
                  lambda m: " " if m.group(0).startswith("/") else '""', text, flags=re.S)


# ---- no shell, no program -------------------------------------------------


def test_sources_are_there():
    names = {os.path.basename(s) for s in SOURCES}
    assert {"main.c", "desired-state.c", "apply.c", "ethnl-features.c"} <= names


def test_strip_c_keeps_calls_and_drops_comments():
    code = 'x = system("ls"); /* popen(a) */ // execv(b)\n s = "fork()"; c = \'(\';'
    out = strip_c(code)
    assert "system(" in out and "popen" not in out and "execv" not in out and "fork" not in out


# The only process-making calls, where they may be (see the module's text).
ALLOWED = {("cmd-state.c", "fork"), ("watch-scopes.c", "fork"), ("watch-scopes.c", "execv")}


def test_no_source_calls_a_shell_or_a_program():
    pattern = re.compile(r"\b(" + "|".join(SPAWNERS) + r")\s*\(")
    found, allowed = [], set()
    for path in SOURCES:
        with open(path, encoding="utf-8") as f:
            code = strip_c(f.read())
        for m in pattern.finditer(code):
            line = code.count("\n", 0, m.start()) + 1
            if (os.path.basename(path), m.group(1)) in ALLOWED:
                allowed.add((os.path.basename(path), m.group(1)))
                continue
            found.append(f"{os.path.relpath(path, ROOT)}:{line}: {m.group(1)}()")
    assert found == []
    assert allowed == ALLOWED  # the list is not stale


def test_binary_imports_no_spawner():
    binary = plain_agent()
    out = run(["nm", "-D", "--undefined-only", binary]).stdout
    imported = {ln.split()[-1].split("@")[0] for ln in out.splitlines() if ln.strip()}
    assert "malloc" in imported  # the listing works
    assert imported & set(SPAWNERS) == {"fork", "execv"}


def test_apply_starts_no_process(netns, tmp_path):
    """With shell syntax in every string of a desired state, apply runs no
    program and makes no process: one execve (the agent's own), no clone."""
    netns.veth("hd0", "hd1")
    marker = tmp_path / "pwned"
    doc = (f"version: 1\ninterfaces:\n"
           f"  - match: {{name: ['$(touch {marker})', '`touch {marker}`', 'hd0']}}\n"
           f"    features: {{tx: off}}\n"
           f"  - match: {{name: 'hd1', driver: '; touch {marker}', kind: '|touch {marker}'}}\n"
           f"    features: {{gro: on}}\n")
    path = tmp_path / "state.yaml"
    path.write_text(doc)
    trace = tmp_path / "trace"
    p = netns.exec("strace", "-f", "-qq", "-e", "trace=process", "-o", str(trace),
                   plain_agent(), "apply", str(path), check=False)
    assert p.returncode == 0, p.stderr
    assert netns.ethtool_json("hd0")["tx-checksumming"]["active"] is False
    calls = trace.read_text()
    assert len(re.findall(r"\bexecve\(", calls)) == 1, calls
    assert not re.search(r"\b(clone3?|fork|vfork)\(", calls), calls
    assert not marker.exists()


# ---- limits in bounded time and memory -------------------------------------

RULE = "- {match: {name: eth0}, features: {tx: off}}\n"

HOSTILE = {
    # name: (text, fragment of the message)
    "over-size": ("version: 1\ninterfaces:\n" + RULE * (1024 * 1024 // len(RULE) + 10),
                  "file is larger than 1048576 bytes"),
    "over-rules": ("version: 1\ninterfaces:\n" + RULE * 10001, "more than 10000 rules"),
    "deep-flow": ("[" * 500000 + "]" * 500000 + "\n", "nesting deeper than 32 levels"),
    "deep-block": ("version: 1\nx:\n" + "".join(" " * i + "-\n" for i in range(1, 300)),
                   "nesting deeper than 32 levels"),
    "many-nodes": ("version: 1\nx: [" + "1," * 450000 + "]\n", "too many YAML nodes"),
    "many-keys": ("version: 1\n" + "".join(f"k{i}: 1\n" for i in range(60000)),
                  "unknown key 'k0'"),
    "long-scalar": ("version: 1\nx: " + "a" * (1024 * 1024 - 20) + "\n", "unknown key 'x'"),
    "aliases": ('version: 1\nl0: &l0 ["' + "lol" * 100 + '"]\n'
                + "".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n"
                          for i in range(1, 12)), "aliases"),
    "many-errors": ("version: 1\ninterfaces:\n- match: {name: x}\n  features:\n"
                    + "    tx: off\n" * 80000, "too many errors"),
}


def limited(args, input=None):
    """Run the plain agent under the address space limit; (process, seconds)."""
    start = time.monotonic()
    p = subprocess.run(["prlimit", f"--as={AS_LIMIT}", f"--cpu={SECONDS * 2}", "--",
                        plain_agent(), *args], input=input, capture_output=True,
                       timeout=60)
    return p, time.monotonic() - start


def test_the_limit_is_real():
    # A program that needs more than the limit fails under it.
    p = subprocess.run(["prlimit", f"--as={AS_LIMIT}", "--", "/usr/bin/python3", "-c",
                        f"b = bytearray({2 * AS_LIMIT})"], capture_output=True, timeout=60)
    assert p.returncode != 0 and b"MemoryError" in p.stderr


def test_largest_valid_state_fits_the_limit(tmp_path):
    path = tmp_path / "max.yaml"
    path.write_text("version: 1\ninterfaces:\n" + RULE * 10000)
    p, secs = limited(["validate", str(path)])
    assert p.returncode == 0, p.stderr
    assert b"10000 rules" in p.stdout
    assert secs < SECONDS


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_refused_in_bounded_memory(tmp_path, name):
    text, fragment = HOSTILE[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    p, secs = limited(["validate", str(path)])
    err = p.stderr.decode(errors="replace")
    assert p.returncode == 2, err[-2000:]
    assert fragment in err and "out of memory" not in err
    assert re.match(rf"offloadctl: {re.escape(str(path))}:\d+:\d+: ", err)
    assert secs < SECONDS


@pytest.mark.parametrize("name", ["over-size", "deep-flow", "many-nodes"])
def test_hostile_stdin_refused_in_bounded_memory(name):
    text, fragment = HOSTILE[name]
    p, secs = limited(["validate", "-"], input=text.encode())
    assert p.returncode == 2, p.stderr[-2000:]
    assert fragment.encode() in p.stderr
    assert secs < SECONDS


def test_endless_stdin_is_not_read_into_memory():
    # 16 times the file size limit, more than the address space allowed.
    data = b"version: 1\n# " + b"x" * (80 * 1024 * 1024) + b"\n"
    assert len(data) > AS_LIMIT
    p, secs = limited(["validate", "-"], input=data)
    assert p.returncode == 2, p.stderr
    assert b"<stdin>:1:1: file is larger than 1048576 bytes" in p.stderr
    assert secs < SECONDS


def test_hostile_state_refused_by_check_and_apply_too(tmp_path, netns):
    path = tmp_path / "rules.yaml"
    path.write_text(HOSTILE["over-rules"][0])
    for cmd in ("check", "apply"):
        start = time.monotonic()
        p = subprocess.run(["prlimit", f"--as={AS_LIMIT}", "--", plain_agent(), "--netns",
                            netns.name, cmd, str(path)], capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 2, (cmd, p.stderr)
        assert "more than 10000 rules" in p.stderr
        assert time.monotonic() - start < SECONDS


def test_too_little_memory_is_a_message_not_a_crash(tmp_path):
    """Starved of memory the agent says so and exits 3; it never dies of a signal."""
    path = tmp_path / "max.yaml"
    path.write_text("version: 1\ninterfaces:\n" + RULE * 10000)
    outcomes = set()
    for mib in (6, 8, 10, 12, 14, 16, 18):
        p = subprocess.run(["prlimit", f"--as={mib * 1024 * 1024}", "--", plain_agent(),
                            "validate", str(path)], capture_output=True, text=True, timeout=60)
        assert p.returncode in (0, 3), (mib, p.returncode, p.stderr[-500:])
        if p.returncode == 3:
            assert "out of memory" in p.stderr or "cannot" in p.stderr, p.stderr[-500:]
        outcomes.add(p.returncode)
    assert 3 in outcomes


# ---- the sanitized pass of make check reports what the sanitizers find ----


LEAKY = r"""
#include <stdio.h>
#include <stdlib.h>
void *sink;
int main(void) { sink = malloc(10); sink = 0; puts("ok"); return 0; }
"""

PROBE_TEST = """
import os, subprocess
def test_probe():
    p = subprocess.run([os.environ["OFFLOADCTL"]], capture_output=True, text=True)
    assert p.stdout == "ok\\n"
"""


def sanitized_run(tmp_path, *prefix):
    """scripts/run-tests on one probe test whose agent leaks 10 bytes."""
    src = tmp_path / "leaky.c"
    src.write_text(LEAKY)
    run(["gcc", "-g", "-fsanitize=address,undefined", "-o", str(tmp_path / "leaky"), str(src)])
    probe = tmp_path / "test_probe.py"
    probe.write_text(PROBE_TEST.replace("[os.environ[\"OFFLOADCTL\"]]",
                                        repr(list(prefix)) + " + [os.environ[\"OFFLOADCTL\"]]"))
    env = {k: v for k, v in os.environ.items()
           if k not in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "CI", "SAN_OFFLOADCTL")}
    env.update(BUILD_DIR=str(tmp_path / "out"), OFFLOADCTL=os.path.join(ROOT, "tests", "sanitized-agent"),
               SANITIZED_AGENT=str(tmp_path / "leaky"))
    return subprocess.run([os.path.join(ROOT, "scripts", "run-tests"), str(probe)],
                          capture_output=True, text=True, env=env, timeout=120)


def test_a_leak_fails_the_sanitized_run(tmp_path):
    p = sanitized_run(tmp_path)
    lines = p.stdout.strip().splitlines()
    assert p.returncode == 1
    assert lines[-1] == "0 passed, 2 failed", p.stdout[-3000:]  # exit 97, and the report
    assert "LeakSanitizer: detected memory leaks" in p.stdout
    assert "leaky.c:5" in p.stdout


def test_under_strace_asan_still_runs_without_leak_checks(tmp_path):
    # LeakSanitizer cannot work under ptrace; tests/sanitized-agent turns it
    # off there instead of letting it die, and ASan stays on.
    p = sanitized_run(tmp_path, "strace", "-f", "-qq", "-e", "trace=none")
    lines = p.stdout.strip().splitlines()
    assert lines[-1] == "1 passed, 0 failed", p.stdout[-3000:]
    assert p.returncode == 0
