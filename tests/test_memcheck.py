"""valgrind memcheck on the agent: no error and no leak (definite, indirect or
possible; still-reachable blocks are listed too) for facts, check, apply and
a watch session, on their success and their failure paths, against veth
pairs in a fresh namespace.

The plain build is used (valgrind cannot run an ASan build); its leak report
complements LeakSanitizer in the sanitized pass of `make check`.
"""
import json
import os
import re
import signal
import subprocess
import time

import pytest

from ocutil import ROOT, agent_path, run, plain_agent

VALGRIND = ["valgrind", "--tool=memcheck", "--leak-check=full", "--show-leak-kinds=all",
            "--errors-for-leak-kinds=definite,indirect,possible", "--error-exitcode=99",
            "--track-origins=yes", "--num-callers=30"]
TIMEOUT = 300



def check_log(log):
    """valgrind's own report is clean: no error, every block freed."""
    text = open(log).read()
    assert re.search(r"ERROR SUMMARY: 0 errors from 0 contexts", text), text[-6000:]
    assert "All heap blocks were freed -- no leaks are possible" in text, text[-6000:]
    return text


class Memcheck:
    def __init__(self, ns, tmp_path):
        self.ns = ns
        self.dir = tmp_path
        self.n = 0
        self.env = dict(os.environ, OFFLOADCTL_LOCK_FILE=str(tmp_path / "lock"))

    def __call__(self, *args, input=None, expect=0):
        self.n += 1
        log = str(self.dir / f"vg-{self.n}.log")
        p = subprocess.run([*VALGRIND, f"--log-file={log}", plain_agent(), "--netns",
                            self.ns.name, *args], input=input, capture_output=True, text=True,
                           env=self.env, timeout=TIMEOUT)
        assert p.returncode != 99, open(log).read()[-6000:]
        assert p.returncode == expect, (args, p.returncode, p.stderr)
        check_log(log)
        return p


@pytest.fixture
def vg(netns, tmp_path):
    netns.veth("vg0", "vg1")
    netns.veth("vg2", "vg3", up=False)
    netns.ip("link", "add", "vgbr", "type", "bridge")
    return Memcheck(netns, tmp_path)


def state(tmp_path, text, name="state.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


TX_OFF = "version: 1\ninterfaces:\n  - match: {name: 'vg*', kind: veth}\n    features: {tx: off, gro: on}\n"


def test_valgrind_works_here(tmp_path):
    # The harness itself: a leak is seen and fails the run.
    src = tmp_path / "leak.c"
    src.write_text("#include <stdlib.h>\nvoid *keep;\nint main(void){ keep = malloc(7); keep = 0; return 0; }\n")
    run(["gcc", "-g", "-o", str(tmp_path / "leak"), str(src)])
    p = subprocess.run([*VALGRIND, str(tmp_path / "leak")], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert p.returncode == 99 and "definitely lost: 7 bytes" in p.stderr


def test_facts(vg):
    doc = json.loads(vg("facts").stdout)
    assert {"vg0", "vg1", "vg2", "vg3", "vgbr", "lo"} <= set(doc["interfaces"])
    assert "offloadctl" in json.loads(vg("facts", "--format", "facter", "vg*").stdout)
    vg("facts", "--format", "ansible", "--full", "nothing-matches-this")
    vg("virt")
    vg("show", "--all")
    vg("facts", "no-such-if0", expect=0)


def test_advise(vg, tmp_path):
    """advise in every output form, and show with advice under the table."""
    vg.ns.ip("link", "add", "name", "flannel.1", "type", "vxlan", "id", "1", "dstport", "8472",
             "local", "127.0.0.1")
    assert "flannel.1" in vg("advise").stdout
    assert json.loads(vg("advise", "--json", "--all").stdout)["advice"]
    ds = vg("advise", "--desired-state").stdout
    assert "flannel.1" in ds
    assert "flannel.1+" in vg("show").stdout
    saved = tmp_path / "facts.json"
    saved.write_text(vg("facts").stdout)
    assert json.loads(vg("advise", "--json", "--facts", str(saved)).stdout)["advice"]
    vg("advise", "--id", "no-such-advice", expect=2)


def test_validate(vg, tmp_path):
    vg("validate", state(tmp_path, TX_OFF))
    bad = state(tmp_path, "version: 1\ninterfaces:\n  - match: {name: x}\n    features: {txx: of}\n"
                "  - {match: {name: [a, *b]}, features: {}}\n", "bad.yaml")
    p = vg("validate", bad, expect=2)
    assert "for feature 'txx'" in p.stderr


def test_check(vg, tmp_path):
    path = state(tmp_path, TX_OFF)
    p = vg("check", path, expect=1)
    assert "+tx-checksum-ip-generic: off" in p.stdout
    report = json.loads(vg("check", "--json", path, expect=1).stdout)
    assert report["in_sync"] is False
    facts = tmp_path / "facts.json"
    facts.write_text(vg("facts").stdout)
    vg("check", "--facts", str(facts), path, expect=1)
    vg("check", "-i", "vg2", path, expect=1)
    vg("check", state(tmp_path, "version: 1\ninterfaces: [oops\n", "broken.yaml"), expect=2)


def test_apply(vg, netns, tmp_path):
    path = state(tmp_path, TX_OFF)
    vg("apply", "--dry-run", path)
    assert netns.ethtool_json("vg0")["tx-checksumming"]["active"] is True
    report = json.loads(vg("apply", "--json", path).stdout)
    assert report["changed"] is True and report["in_sync"] is True
    assert netns.ethtool_json("vg0")["tx-checksumming"]["active"] is False
    report = json.loads(vg("apply", "--json", path).stdout)
    assert report["changed"] is False
    vg("check", path)


def test_apply_rollback(vg, netns, tmp_path):
    # TSO cannot stay on with TX checksumming off: apply fails and rolls back.
    path = state(tmp_path, "version: 1\ninterfaces:\n  - match: {name: vg0}\n"
                 "    features: {tx: off, tso: on, gro: on}\n")
    p = vg("apply", "--json", path, expect=1)
    report = json.loads(p.stdout)
    assert report["rolled_back"] is True and report["errors"]
    assert netns.ethtool_json("vg0")["tx-checksumming"]["active"] is True


def test_apply_missing_interface_error(vg, tmp_path):
    path = state(tmp_path, "version: 1\ndefaults: {missing-interface: error}\ninterfaces:\n"
                 "  - match: {name: nosuch0}\n    features: {tx: off}\n")
    vg("apply", path, expect=1)


def wait_for(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def test_watch_session(netns, tmp_path):
    """Start, configure a hot-plugged interface, revert drift, reload on a
    changed file and on SIGHUP, exit 0 on SIGTERM: no error, no leak."""
    conf = tmp_path / "etc"
    (conf / "conf.d").mkdir(parents=True)
    (conf / "offloadctl.yaml").write_text(
        "version: 1\ninterfaces:\n  - match: {name: 'w*'}\n    features: {tx: off}\n")
    netns.veth("w0", "w1")
    log = tmp_path / "vg-watch.log"
    err = open(tmp_path / "watch.err", "w+")
    env = dict(os.environ, OFFLOADCTL_LOCK_FILE=str(tmp_path / "lock"))
    p = subprocess.Popen(["ip", "netns", "exec", netns.name, *VALGRIND, f"--log-file={log}",
                          plain_agent(), "-vv", "--config-dir", str(conf), "watch"],
                         stdout=subprocess.DEVNULL, stderr=err, env=env)

    def text():
        err.flush()
        return (tmp_path / "watch.err").read_text()

    def tx(ifname):
        return netns.ethtool_json(ifname)["tx-checksumming"]["active"]

    try:
        assert wait_for(lambda: re.search(r"debug: pass \d+", text()), 60), text()
        assert wait_for(lambda: tx("w0") is False, 30), text()
        netns.veth("w2", "w3")                                  # hot-plug
        assert wait_for(lambda: tx("w2") is False and tx("w3") is False, 30), text()
        netns.ethtool_K("w0", "tx", "on")                      # drift
        assert wait_for(lambda: tx("w0") is False, 30), text()
        (conf / "conf.d" / "50-gro.yaml").write_text(           # a wrapper's drop-in
            "version: 1\ninterfaces:\n  - match: {name: 'w*'}\n    features: {gro: on}\n")
        assert wait_for(lambda: netns.ethtool_json("w1")["generic-receive-offload"]["active"]
                        is True, 30), text()
        (conf / "offloadctl.yaml").write_text("version: 1\ninterfaces: [oops\n")
        p.send_signal(signal.SIGHUP)                           # a broken reload
        time.sleep(2)
        assert p.poll() is None, text()
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        err.close()
    assert rc == 0, (tmp_path / "watch.err").read_text()[-3000:] + open(log).read()[-6000:]
    check_log(str(log))
