"""The libFuzzer targets in fuzz/: built, replayed on their seeds and on every
input that once crashed (fuzz/regressions/), and run for a short while.

`make fuzz` runs each target for FUZZ_TIME seconds (60 by default); here each
runs for FUZZ_CHECK_TIME seconds (20 by default), which is part of `make check`.
"""
import glob
import os
import re
import shutil
import subprocess

import pytest

from ocutil import ROOT

FUZZ = os.path.join(ROOT, "fuzz")
BUILD = os.path.join(ROOT, "build-fuzz")
TARGETS = ["desired-state", "netlink"]
CHECK_TIME = int(os.environ.get("FUZZ_CHECK_TIME", "20"))

# Every netlink regression input and the bug it found (all fixed): a reply
# that is malformed in one of these ways made a parser read past it.
NETLINK_REGRESSIONS = {
    "link-ifname-unterminated.bin": "IFLA_IFNAME without its NUL (link.c, found by fuzz-netlink)",
    "bitset-bit-name-unterminated.bin": "ETHTOOL_A_BITSET_BIT_NAME without its NUL",
    "bitset-bit-index-short.bin": "ETHTOOL_A_BITSET_BIT_INDEX shorter than a u32",
    "features-dev-index-short.bin": "ETHTOOL_A_HEADER_DEV_INDEX shorter than a u32",
    "strset-count-short.bin": "ETHTOOL_A_STRINGSET_COUNT shorter than a u32",
}


@pytest.fixture(scope="module")
def built():
    p = subprocess.run(["make", "-C", ROOT, "--no-print-directory", "fuzz-build"],
                       capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout + p.stderr
    for t in TARGETS:
        assert os.access(os.path.join(BUILD, f"fuzz-{t}"), os.X_OK)
    return BUILD


def fuzz_env():
    # The fuzzers report to their own stderr, whatever the runner set for the agent.
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = "detect_leaks=1"
    env["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1"
    return env


def replay(binary, files):
    """Run a fuzz target once on each file; returns the CompletedProcess."""
    return subprocess.run([binary, *files], capture_output=True, text=True, timeout=300,
                          env=fuzz_env())


def files(d):
    return sorted(glob.glob(os.path.join(d, "*")))


@pytest.mark.parametrize("target", TARGETS)
def test_seed_corpus_replays_clean(built, target):
    seeds = files(os.path.join(FUZZ, "corpus", target))
    assert len(seeds) >= 20
    p = replay(os.path.join(built, f"fuzz-{target}"), seeds)
    assert p.returncode == 0, p.stderr[-3000:]
    assert len(re.findall(r"^Executed ", p.stderr, re.M)) == len(seeds), p.stderr[-2000:]


def test_netlink_regressions_replay_clean(built):
    regs = files(os.path.join(FUZZ, "regressions", "netlink"))
    assert sorted(os.path.basename(f) for f in regs) == sorted(NETLINK_REGRESSIONS)
    for f in regs:
        p = replay(os.path.join(built, "fuzz-netlink"), [f])
        assert p.returncode == 0, f"{os.path.basename(f)}: {NETLINK_REGRESSIONS[os.path.basename(f)]}\n{p.stderr[-3000:]}"
        assert "Executed " in p.stderr


def test_desired_state_regressions_replay_clean(built):
    # Inputs that once crashed the parser, if any, and the hostile seeds that
    # test_validate.py generates, at the limits.
    regs = files(os.path.join(FUZZ, "regressions", "desired-state"))
    p = replay(os.path.join(built, "fuzz-desired-state"),
               regs + files(os.path.join(FUZZ, "corpus", "desired-state")))
    assert p.returncode == 0, p.stderr[-3000:]


def test_netlink_regressions_are_malformed_variants_of_replies(built):
    # Each regression is one netlink message whose nlmsg_len is its size.
    for f in files(os.path.join(FUZZ, "regressions", "netlink")):
        with open(f, "rb") as fh:
            data = fh.read()
        assert len(data) >= 20
        assert int.from_bytes(data[:4], "little") == len(data), f


def test_desired_state_corpus_has_every_repository_document():
    corpus = set(os.listdir(os.path.join(FUZZ, "corpus", "desired-state")))
    want = set()
    for kind, d in (("good", "tests/fixtures/desired/good"), ("bad", "tests/fixtures/desired/bad"),
                    ("warn", "tests/fixtures/desired/warn"), ("example", "examples")):
        want |= {f"{kind}-{n}" for n in os.listdir(os.path.join(ROOT, d)) if n.endswith(".yaml")}
    assert want <= corpus, f"refresh with fuzz/capture-corpus: missing {sorted(want - corpus)}"


def test_netlink_corpus_holds_every_reply_kind():
    names = os.listdir(os.path.join(FUZZ, "corpus", "netlink"))
    for kind in ("strset", "features-compact", "features-named", "features-set-reply", "link",
                 "channels", "coalesce"):
        assert any(n.startswith(kind + "-") for n in names), kind


def test_capture_tool_saves_what_the_parsers_take(built, netns, tmp_path):
    """The seeds are what this kernel sends: capture afresh and replay."""
    netns.veth("fz0", "fz1")
    netns.ip("link", "add", "fzbr", "type", "bridge")
    out = tmp_path / "cap"
    out.mkdir()
    netns.exec(os.path.join(built, "capture-netlink"), str(out), "fz0")
    got = sorted(os.listdir(out))
    # lo, fz0, fz1, fzbr: one reply each per dump
    for kind in ("features-compact", "features-named", "link"):
        assert len([n for n in got if n.startswith(kind + "-")]) == 4, got
    assert "strset-0.bin" in got and "features-set-reply-0.bin" in got
    p = replay(os.path.join(built, "fuzz-netlink"), [str(out / n) for n in got])
    assert p.returncode == 0, p.stderr[-3000:]


@pytest.mark.parametrize("target", TARGETS)
def test_short_fuzz_run_finds_nothing(built, target, tmp_path):
    work = tmp_path / "build"
    work.mkdir()
    os.symlink(os.path.join(built, f"fuzz-{target}"), work / f"fuzz-{target}")
    p = subprocess.run([os.path.join(FUZZ, "run-fuzzers"), str(work), str(CHECK_TIME), target],
                       capture_output=True, text=True, timeout=CHECK_TIME + 300)
    log = (work / f"fuzz-{target}.log").read_text(errors="replace")
    assert p.returncode == 0, p.stdout + log[-4000:]
    assert "no crash" in p.stdout
    runs = int(re.search(r"^stat::number_of_executed_units: *(\d+)", log, re.M).group(1))
    assert runs >= 200 * CHECK_TIME, p.stdout
    assert os.listdir(work / "artifacts" / target) == []
    shutil.rmtree(work / "corpus")
