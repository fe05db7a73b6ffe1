#!/usr/bin/python3
"""offloadctl benchmark: facts, check and apply against ethtool, N veths.

For each N (10, 100, 1000, 4000 by default) a network namespace of its own
gets N veth interfaces (N/2 pairs, made with one `ip -batch`).  Inside it
(this process enters it with setns, so no wrapper is timed) every command
runs several times; wall time, CPU time (user + system, from wait4) and peak
RSS (ru_maxrss) of each child are recorded, and the median and the spread
(min, max) are reported.  Ratios are taken within the same run only: these
machines are shared and noisy, absolute times are not comparable across
runs.

    bench/bench.py [--offloadctl PATH] [--sizes 10,100,1000,4000] [--runs 7]
                   [--quick] [--json OUT] [--markdown OUT]

Needs root (network namespaces, setns, ethtool -K).  Prints the table;
--json writes the same as JSON, --markdown the table for docs/bench.md.
"""
import argparse
import ctypes
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CLONE_NEWNET = 0x40000000
FEATURE = "generic-receive-offload"  # switched on and off by apply and the -K loop
KFEATURE = "rx-gro"                   # its kernel name, for bench/floor

_libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def sh(*cmd, **kw):
    return subprocess.run(list(cmd), check=True, capture_output=True, text=True, **kw)


# --------------------------------------------------------------- measuring

def run_once(cmd, stdout=None, env=None, ok=(0,)):
    """Run cmd; return (wall_ms, cpu_ms).  stdout: a path or None (/dev/null).
    The child's rusage covers its own children (the -K loop's ethtools)."""
    out = open(stdout, "wb") if stdout else open(os.devnull, "wb")
    err = tempfile.TemporaryFile()
    try:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        t1 = time.perf_counter()
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode not in ok:
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: "
                               f"{err.read().decode(errors='replace')[-2000:]}")
    finally:
        out.close()
        err.close()
    return ((t1 - t0) * 1e3, (ru.ru_utime + ru.ru_stime) * 1e3)


def peak_rss(cmd, env=None, ok=(0,)):
    """Peak RSS (KiB) of cmd.  Not from our own wait4: a child forked from
    this Python starts with Python's high-water mark (exec keeps it in
    signal->maxrss), so cmd is run by /usr/bin/time, a small parent."""
    with tempfile.NamedTemporaryFile("r") as f:
        run_once(["/usr/bin/time", "-f", "%M", "-o", f.name, *cmd], env=env, ok=ok)
        return int(f.read().split()[-1])


def summarize(values):
    med = statistics.median(values)
    return {
        "median": round(med, 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
        "spread_pct": round(100.0 * (max(values) - min(values)) / med, 1) if med else 0.0,
        "samples": [round(v, 3) for v in values],
    }


def record(samples, cmd, rss=None):
    return {
        "cmd": " ".join(cmd) if isinstance(cmd, list) else cmd,
        "runs": len(samples),
        "wall_ms": summarize([s[0] for s in samples]),
        "cpu_ms": summarize([s[1] for s in samples]),
        "maxrss_kib": summarize(rss) if rss else None,
    }


def rss_runs(a):
    return max(1, min(a.runs, 3))


# ------------------------------------------------------------- namespaces

class Namespace:
    """A network namespace with n veth interfaces vb0, vb0p, vb1, ..."""

    def __init__(self, n, workdir, label=""):
        self.name = f"ocbench-{os.getpid()}-{label}{n}"
        self.fd = None
        t0 = time.perf_counter()
        sh("ip", "netns", "add", self.name)
        try:
            batch = os.path.join(workdir, f"links-{label}{n}.batch")
            with open(batch, "w") as f:
                f.write("link set lo up\n")
                for i in range(n // 2):
                    f.write(f"link add vb{i} type veth peer name vb{i}p\n")
            sh("ip", "-n", self.name, "-batch", batch)
            self.ifnames = [f"vb{i}{s}" for i in range(n // 2) for s in ("", "p")]
            self.fd = os.open(f"/run/netns/{self.name}", os.O_RDONLY)
        except BaseException:
            self.delete()
            raise
        self.setup_s = time.perf_counter() - t0

    def delete(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.delete()


class Inside:
    """with Inside(ns): this process (and so every child) is in ns."""

    def __init__(self, ns):
        self.ns = ns

    def __enter__(self):
        self.home = os.open("/proc/self/ns/net", os.O_RDONLY)
        setns(self.ns.fd)

    def __exit__(self, *exc):
        setns(self.home)
        os.close(self.home)


# -------------------------------------------------------------- the bench

def desired(path, value):
    with open(path, "w") as f:
        f.write("version: 1\n"
                "defaults:\n  missing-interface: ignore\n"
                "interfaces:\n"
                "  - match:\n      name: \"vb*\"\n"
                f"    features:\n      {FEATURE}: {value}\n")
    return path


def ethtool_loop(path, ifnames, value):
    with open(path, "w") as f:
        f.write("#!/bin/sh\nset -e\n")
        for name in ifnames:
            f.write(f"ethtool -K {name} gro {value}\n")
    return ["/bin/sh", path]


def bench_size(n, a, workdir, env):
    oc = a.offloadctl
    fl = a.floor
    runs = a.runs if n < 4000 else max(1, min(a.runs, a.runs_big))
    loop_runs = a.runs if n < 1000 else max(1, min(a.runs, a.loop_runs_big))
    if n >= 10000:  # 10,000 ethtool processes: half a minute a run or more
        loop_runs = max(1, min(loop_runs, a.loop_runs_huge))
    res = {"interfaces": None, "commands": {}, "sizes": {}, "ratios": {}}
    ns = Namespace(n, workdir)
    setup_s = ns.setup_s
    c = res["commands"]
    try:
        with Inside(ns):
            out_json = os.path.join(workdir, f"facts-{n}.json")
            out_facter = os.path.join(workdir, f"facter-{n}.json")
            out_eth_json = os.path.join(workdir, f"ethtool-{n}.json")
            out_eth = os.path.join(workdir, f"ethtool-{n}.txt")
            # Untimed first runs: warm caches, keep the outputs for sizes.
            run_once([oc, "facts"], stdout=out_json, env=env)
            run_once([oc, "facts", "--format", "facter"], stdout=out_facter, env=env)
            run_once(["ethtool", "--json", "-k", "*"], stdout=out_eth_json)
            run_once(["ethtool", "-k", "*"], stdout=out_eth)

            # check compares with a namespace in sync: every vb* has gro off.
            on, off = desired(os.path.join(workdir, "on.yaml"), "on"), \
                desired(os.path.join(workdir, "off.yaml"), "off")
            run_once([oc, "apply", off], env=env)

            # Interleaved, so that load changes on a shared machine hit them alike.
            cmds = {
                "facts_json": [oc, "facts"],
                "facts_facter": [oc, "facts", "--format", "facter"],
                "ethtool_json_k": ["ethtool", "--json", "-k", "*"],
                "ethtool_k": ["ethtool", "-k", "*"],
                "check_in_sync": [oc, "check", off],
                "floor_facts": [fl, "facts"],
                "floor_check": [fl, "check"],
            }
            run_once(cmds["check_in_sync"], env=env)
            run_once(cmds["floor_facts"])
            samples = {k: [] for k in cmds}
            for _ in range(runs):
                for k, cmd in cmds.items():
                    samples[k].append(run_once(cmd, env=env))
            for k, cmd in cmds.items():
                c[k] = record(samples[k], cmd,
                              [peak_rss(cmd, env=env) for _ in range(rss_runs(a))])
            c["check_in_sync"]["cmd"] = f"{oc} check off.yaml"

            # apply (offloadctl, one feature on every vb*), its floor (the same
            # FEATURES_SET requests) and the ethtool -K loop, in turn: each
            # run really changes every interface (off -> on; the loop and
            # the floor put them back).
            apply_s, loop_s, floor_s = [], [], []
            floor_on, floor_off = [fl, "apply", KFEATURE, "on", "vb"], \
                [fl, "apply", KFEATURE, "off", "vb"]
            loop = ethtool_loop(os.path.join(workdir, "loop.sh"), ns.ifnames, "off")
            for i in range(runs):
                apply_s.append(run_once([oc, "apply", on], env=env))
                if i < loop_runs:
                    loop_s.append(run_once(loop))
                else:
                    run_once(floor_off)
                floor_s.append(run_once(floor_on))
                run_once(floor_off)
            apply_rss, floor_rss = [], []
            for i in range(rss_runs(a)):
                apply_rss.append(peak_rss([oc, "apply", on], env=env))
                run_once(floor_off)
                floor_rss.append(peak_rss(floor_on))
                run_once(floor_off)
            c["apply"] = record(apply_s, [oc, "apply", "on.yaml"], apply_rss)
            c["floor_apply"] = record(floor_s, floor_on, floor_rss)
            # The loop's peak RSS is one ethtool's: not measured again.
            c["ethtool_K_loop"] = record(loop_s, f"sh: ethtool -K IFACE gro off, x{len(ns.ifnames)}")

    finally:
        ns.delete()
        # The kernel tears the namespace down in the background (thousands of
        # veths: seconds of kernel work); let it finish before the next size.
        if n >= 1000:
            settle_netns()

    with open(out_facter) as f:
        facter = json.load(f)
    n_if = len(facter["offloadctl"]["interfaces"])
    res["interfaces"] = n_if
    res["setup_s"] = round(setup_s, 2)
    s = res["sizes"]
    for key, path in (("facts_json", out_json), ("facts_facter", out_facter),
                      ("ethtool_json_k", out_eth_json), ("ethtool_k", out_eth)):
        size = os.path.getsize(path)
        s[key + "_bytes"] = size
        s[key + "_bytes_per_iface"] = round(size / n_if, 1)
    with open(out_json) as f:
        if len(json.load(f)["interfaces"]) != n_if:
            raise RuntimeError("facts json and facter disagree on the interfaces")

    def ratio(x, y, what="wall_ms"):
        return round(c[x][what]["median"] / c[y][what]["median"], 3)

    res["ratios"] = {
        "facts_json/ethtool_json_k": ratio("facts_json", "ethtool_json_k"),
        "facts_facter/ethtool_k": ratio("facts_facter", "ethtool_k"),
        "check_in_sync/ethtool_k": ratio("check_in_sync", "ethtool_k"),
        "ethtool_K_loop/apply": ratio("ethtool_K_loop", "apply"),
        "cpu:facts_json/ethtool_json_k": ratio("facts_json", "ethtool_json_k", "cpu_ms"),
        "cpu:facts_facter/ethtool_k": ratio("facts_facter", "ethtool_k", "cpu_ms"),
        "cpu:check_in_sync/ethtool_k": ratio("check_in_sync", "ethtool_k", "cpu_ms"),
        "cpu:ethtool_K_loop/apply": ratio("ethtool_K_loop", "apply", "cpu_ms"),
    }
    # Each command against its floor (bench/floor.c): the same requests to
    # the kernel, the replies read and not parsed.
    for cmd, fl_cmd in FLOOR_OF.items():
        res["ratios"][f"{cmd}/{fl_cmd}"] = ratio(cmd, fl_cmd)
        res["ratios"][f"cpu:{cmd}/{fl_cmd}"] = ratio(cmd, fl_cmd, "cpu_ms")
    return res


FLOOR_OF = {"facts_json": "floor_facts", "facts_facter": "floor_facts",
            "check_in_sync": "floor_check", "apply": "floor_apply"}


def settle_netns(timeout=30):
    """Wait until the kernel has torn down deleted namespaces (the netns
    cleanup worker, kworker netns/cleanup_net, busy): /proc/net/... cannot
    tell, so wait for the system CPU time to stop running away."""
    def busy():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[2], sum(v)  # system, total
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        s0, t0 = busy()
        time.sleep(0.5)
        s1, t1 = busy()
        # At most one CPU's worth of system time in half a second is the
        # background (the VM labs); the teardown keeps a CPU in the kernel.
        if t1 == t0 or (s1 - s0) / (t1 - t0) < 0.5 / os.cpu_count():
            return


# ------------------------------------------------------------------ watch

class Monitor:
    """bench/floor monitor: link and feature events, CLOCK_MONOTONIC stamped
    by the kernel's reader (not by this Python), read by a thread."""

    def __init__(self, floor, feature):
        import queue
        import threading
        self.q = queue.Queue()
        self.p = subprocess.Popen([floor, "monitor", feature], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        if line.strip() != "ready":
            self.p.kill()
            raise RuntimeError(f"floor monitor: {line!r} {self.p.stderr.read()}")
        self.lost = 0
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            f = line.split()
            if len(f) >= 3 and f[1] == "lost":
                self.lost += 1
            self.q.put(f)

    def clear(self):
        while not self.q.empty():
            self.q.get_nowait()

    def wait(self, pred, timeout):
        """The first event (fields) for which pred holds; None on timeout."""
        import queue
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            try:
                f = self.q.get(timeout=left)
            except queue.Empty:
                return None
            if pred(f):
                return f

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(timeout=5)
        except Exception:
            self.p.kill()
            self.p.wait()


def proc_cpu_s(pid):
    """CPU time of a process, in seconds: the scheduler's runtime in ns
    (/proc/PID/schedstat), not utime + stime of /proc/PID/stat, which
    count in clock ticks (10 ms) and would read 0 for most events."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ifindexes():
    out = sh("ip", "-o", "link", "show").stdout
    idx = {}
    for line in out.splitlines():
        num, name = line.split(":", 2)[:2]
        idx[name.strip().split("@")[0]] = int(num)
    return idx


def stat_ms(v):
    if not v:
        return None
    v = sorted(v)
    return {"median": round(statistics.median(v), 2), "worst": round(v[-1], 2),
            "p90": round(v[min(len(v) - 1, int(0.9 * len(v)))], 2), "best": round(v[0], 2),
            "events": len(v)}


def bench_watch(n, a, workdir, env):
    """watch in a namespace of n veths (rule: gro on for vb*): the time from
    an event to the FEATURES_NTF that carries the desired state, as the
    monitor saw both; drift = `ethtool -K IFACE gro off` by another process
    (from its FEATURES_NTF), appear = a new veth pair (from its first
    RTM_NEWLINK to both ends holding gro on)."""
    oc, events, timeout = a.offloadctl, a.watch_events, 10.0
    on = desired(os.path.join(workdir, "watch-on.yaml"), "on")
    wenv = dict(env)
    wenv["OFFLOADCTL_STATE_DIR"] = os.path.join(workdir, f"state-watch-{n}")
    os.makedirs(wenv["OFFLOADCTL_STATE_DIR"], exist_ok=True)
    res = {"interfaces": n + 1, "events": events}
    with Namespace(n, workdir, "watch") as ns, Inside(ns):
        run_once([oc, "apply", on], env=wenv)
        idx = ifindexes()
        mon = Monitor(a.floor, KFEATURE)
        log = open(os.path.join(workdir, f"watch-{n}.log"), "wb")
        w = subprocess.Popen([oc, "watch", on], stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT, env=wenv)
        try:
            # Ready when it reverts a drift (untimed warm-up).
            deadline = time.monotonic() + 60
            while True:
                mon.clear()
                sh("ethtool", "-K", "vb0", "gro", "off")
                if mon.wait(lambda f: f[1] == "feat" and f[2] == str(idx["vb0"])
                            and f[3] == "1", 3.0):
                    break
                if w.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"watch did not start (exit {w.poll()})")
            time.sleep(0.5)

            # Drift: ethtool -K by another process, on a different veth each
            # time.  watch takes FIGHT_REVERTS (5) reverts of one interface in
            # FIGHT_WINDOW (60 s) for a fight and leaves the interface alone:
            # no interface is drifted more than 4 times in 61 s (at N = 10
            # that paces the events; at 4000 each interface is drifted once).
            drift, spoilt = [], 0
            names = [x for x in ns.ifnames][:max(2, min(len(ns.ifnames), events))]
            history = {x: [] for x in names}
            cpu0 = proc_cpu_s(w.pid)
            for i in range(events):
                while True:
                    now = time.monotonic()
                    for x in names:
                        history[x] = [t for t in history[x] if now - t < 61.0]
                    free = [x for x in names if len(history[x]) < 4]
                    if free:
                        break
                    time.sleep(max(0.05, 61.0 - (now - min(h[0] for h in history.values()))))
                name = min(free, key=lambda x: (len(history[x]), history[x][-1:] or [0]))
                history[name].append(time.monotonic())
                k = str(idx[name])
                mon.clear()
                sh("ethtool", "-K", name, "gro", "off")
                f0 = mon.wait(lambda f: f[1] == "feat" and f[2] == k and f[3] == "0", timeout)
                f1 = f0 and mon.wait(lambda f: f[1] == "feat" and f[2] == k and f[3] == "1",
                                     timeout)
                if not f1:
                    spoilt += 1
                    continue
                drift.append((int(f1[0]) - int(f0[0])) / 1e6)
                time.sleep(a.watch_gap)
            cpu_drift = proc_cpu_s(w.pid) - cpu0

            # Appear: a veth pair added; then deleted again, and the pass
            # its deletion starts (after watch's coalescing delay) let run.
            appear, cpu_add, cpu_del = [], 0.0, 0.0
            for i in range(events):
                a_name, b_name = f"vbn{i}", f"vbn{i}p"
                mon.clear()
                c0 = proc_cpu_s(w.pid)
                sh("ip", "link", "add", a_name, "type", "veth", "peer", "name", b_name)
                first, seen, done = None, {}, set()
                end = time.monotonic() + timeout
                while len(done) < 2 and time.monotonic() < end:
                    f = mon.wait(lambda f: True, end - time.monotonic())
                    if not f:
                        break
                    if f[1] == "link" and f[3] in (a_name, b_name):
                        seen.setdefault(f[2], int(f[0]))
                        first = first or int(f[0])
                    elif f[1] == "feat" and f[2] in seen and f[3] == "1":
                        done.add(f[2])
                        last = int(f[0])
                if len(done) == 2:
                    appear.append((last - first) / 1e6)
                else:
                    spoilt += 1
                time.sleep(a.watch_gap)
                c1 = proc_cpu_s(w.pid)
                sh("ip", "link", "del", a_name)
                time.sleep(a.watch_gap + 0.25)  # the coalescing delay (150 ms) and the pass
                c2 = proc_cpu_s(w.pid)
                cpu_add += c1 - c0
                cpu_del += c2 - c1

            # Idle: nothing happens.
            c0 = proc_cpu_s(w.pid)
            time.sleep(a.idle)
            idle = proc_cpu_s(w.pid) - c0
            if w.poll() is not None:
                raise RuntimeError(f"watch exited {w.returncode} during the benchmark")
            # A fight (watch backing off an interface) spoils the reaction times.
            with open(log.name, "rb") as f:
                res["fights_logged"] = f.read().count(b"fight over")
        finally:
            w.terminate()
            try:
                w.wait(timeout=10)
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait()
            log.close()
            mon.close()
            if a.logdir:  # watch's own account of the run, for slow events
                os.makedirs(a.logdir, exist_ok=True)
                shutil.copy(log.name, os.path.join(a.logdir, f"watch-{n}.log"))
    res.update({
        "drift_ms": stat_ms(drift), "appear_ms": stat_ms(appear), "spoilt": spoilt,
        "lost_events": mon.lost,
        "cpu_ms_per_drift": round(1e3 * cpu_drift / max(1, len(drift)), 2),
        "cpu_ms_per_appear": round(1e3 * cpu_add / max(1, len(appear)), 2),
        "cpu_ms_per_delete": round(1e3 * cpu_del / max(1, events), 2),
        "idle_s": a.idle, "idle_cpu_ms": round(1e3 * idle, 1),
        "idle_cpu_pct": round(100 * idle / a.idle, 3) if a.idle else None,
    })
    return res


# --------------------------------------------------------------- wrappers

def agent_cpu(log):
    """Agent runs and their CPU ms, from bench/floor rusage's log."""
    runs, cpu = 0, 0.0
    if os.path.exists(log):
        with open(log) as f:
            for line in f:
                u, s_ = line.split()[:2]
                runs += 1
                cpu += (int(u) + int(s_)) / 1e3
    return runs, cpu


def bench_wrappers(a, workdir, env):
    """CPU of a no-change run of each wrapper (its whole process tree, from
    wait4) and of the agent inside it: the agent on PATH is a script that
    runs the real one under `floor rusage`, which logs its user + system
    time.  Each wrapper runs inside a namespace of its own (so that even
    the facts it gathers see only that namespace), one host."""
    out = {}
    base = os.path.join(workdir, "wrappers")
    bindir = os.path.join(base, "bin")
    os.makedirs(bindir, exist_ok=True)
    log = os.path.join(base, "agent-rusage.log")
    with open(os.path.join(bindir, "offloadctl"), "w") as f:
        f.write(f"#!/bin/sh\nexec {a.floor} rusage {log} {a.offloadctl} \"$@\"\n")
    os.chmod(os.path.join(bindir, "offloadctl"), 0o755)
    wenv = dict(env)
    wenv["PATH"] = bindir + ":" + env.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    wenv["OFFLOADCTL_STATE_DIR"] = os.path.join(base, "state")
    os.makedirs(wenv["OFFLOADCTL_STATE_DIR"], exist_ok=True)
    for k in ("OFFLOADCTL_PATH", "ANSIBLE_FORCE_COLOR"):
        wenv.pop(k, None)

    def measure(name, cmd, e, ok, runs):
        # The first run converges (changes); then no-change runs.
        run_once(cmd, env=e, ok=ok)
        samples, agent = [], []
        for _ in range(runs):
            if os.path.exists(log):
                os.unlink(log)
            wall, cpu = run_once(cmd, env=e, ok=(0,), stdout=os.path.join(base, "out.txt"))
            with open(os.path.join(base, "out.txt")) as f:
                text = f.read()
            if "changed=" in text and not re.search(r"\bchanged=0\b", text):
                raise RuntimeError(f"{name}: the run changed something:\n{text[-3000:]}")
            n_agent, cpu_agent = agent_cpu(log)
            samples.append((wall, cpu))
            agent.append((n_agent, cpu_agent))
        r = record(samples, " ".join(cmd[:2]) + " ...")
        r["agent_runs"] = agent[0][0]
        r["agent_cpu_ms"] = summarize([x[1] for x in agent])
        r["agent_share_pct"] = round(100 * statistics.median(
            [x[1] / s[1] for x, s in zip(agent, samples)]), 2)
        out[name] = r

    # Ansible: the role against one host (a namespace), local connection.
    pb = shutil.which("ansible-playbook")
    if pb:
        with Namespace(10, workdir, "ansible") as ns, Inside(ns):
            d = os.path.join(base, "ansible")
            roles = os.path.join(d, "roles")
            os.makedirs(roles, exist_ok=True)
            os.symlink(os.path.join(ROOT, "roles", "ansible"), os.path.join(roles, "offloadctl"))
            cfg = os.path.join(d, "ansible.cfg")
            with open(cfg, "w") as f:
                f.write("[defaults]\n"
                        f"roles_path = {roles}\nlocal_tmp = {d}/local\nremote_tmp = {d}/remote\n"
                        "interpreter_python = /usr/bin/python3\nretry_files_enabled = False\n"
                        "nocolor = True\n[connection]\npipelining = True\n")
            inv = os.path.join(d, "inventory.yml")
            with open(inv, "w") as f:
                json.dump({"all": {"hosts": {"h": {
                    "offloadctl_netns": ns.name,
                    "offloadctl_config_dir": os.path.join(d, "etc"),
                    "offloadctl_facts_dir": os.path.join(d, "facts.d")}},
                    "vars": {"ansible_connection": "local",
                             "ansible_python_interpreter": "/usr/bin/python3",
                             "offloadctl_rules": [{"match": {"name": "vb*"},
                                                   "features": {"tx": False, "gro": "on"}}]}}}, f)
            e = dict(wenv, ANSIBLE_CONFIG=cfg, ANSIBLE_NOCOLOR="1")
            measure("ansible_no_change", [pb, "-i", inv,
                                          os.path.join(ROOT, "tests", "ansible", "converge.yml")],
                    e, (0,), a.wrapper_runs)
            out["ansible_no_change"]["interfaces"] = 10
    # Puppet: 50 nic_offload resources (50 veths) and the class, one host.
    pp = shutil.which("puppet")
    if pp:
        with Namespace(50, workdir, "puppet") as ns, Inside(ns):
            d = os.path.join(base, "puppet")
            mods = os.path.join(d, "modules")
            os.makedirs(mods, exist_ok=True)
            os.symlink(os.path.join(ROOT, "modules", "puppet"), os.path.join(mods, "offloadctl"))
            for sub in ("conf", "var"):
                os.makedirs(os.path.join(d, sub), exist_ok=True)
            cdir = os.path.join(d, "etc-offloadctl")
            m = [f"class {{ 'offloadctl':\n  netns => '{ns.name}',\n  config_dir => '{cdir}',\n}}\n"]
            for name in ns.ifnames:
                m.append(f"nic_offload {{ '{name}':\n  netns => '{ns.name}',\n"
                         f"  config_dir => '{cdir}',\n"
                         "  features => { 'tx' => 'off', 'generic-receive-offload' => 'on' },\n}\n")
            manifest = os.path.join(d, "site.pp")
            with open(manifest, "w") as f:
                f.write("".join(m))
            e = dict(wenv, OFFLOADCTL_FACT_CONF=os.path.join(cdir, "fact.conf"))
            measure("puppet_no_change", [pp, "apply", "--detailed-exitcodes", "--modulepath", mods,
                                         "--confdir", os.path.join(d, "conf"),
                                         "--vardir", os.path.join(d, "var"), "--color=false",
                                         manifest], e, (0, 2), a.wrapper_runs)
            out["puppet_no_change"]["resources"] = len(ns.ifnames)
    return out


def bench_virt(a, env):
    runs = max(a.runs, 11) if not a.quick else a.runs
    cmds = {
        "offloadctl_virt": [a.offloadctl, "virt"],
        "offloadctl_virt_brief": [a.offloadctl, "virt", "--brief"],
        "systemd_detect_virt": ["systemd-detect-virt"],
    }
    for cmd in cmds.values():
        run_once(cmd, env=env, ok=(0, 1))
    samples = {k: [] for k in cmds}
    for _ in range(runs):
        for k, cmd in cmds.items():
            samples[k].append(run_once(cmd, env=env, ok=(0, 1)))
    c = {k: record(samples[k], cmd, [peak_rss(cmd, env=env, ok=(0, 1))])
         for k, cmd in cmds.items()}
    sdv = c["systemd_detect_virt"]["wall_ms"]["median"]
    return {"commands": c, "ratios": {
        "offloadctl_virt/systemd_detect_virt": round(c["offloadctl_virt"]["wall_ms"]["median"] / sdv, 3),
        "offloadctl_virt_brief/systemd_detect_virt":
            round(c["offloadctl_virt_brief"]["wall_ms"]["median"] / sdv, 3),
        "cpu:offloadctl_virt/systemd_detect_virt":
            round(c["offloadctl_virt"]["cpu_ms"]["median"] /
                  c["systemd_detect_virt"]["cpu_ms"]["median"], 3),
    }}


def growth(results):
    """For each command, median wall time at every N against the previous N."""
    sizes = sorted(int(k) for k in results)
    g = {}
    for cmd in ("facts_json", "facts_facter", "check_in_sync", "apply",
                "floor_facts", "floor_check", "floor_apply",
                "ethtool_json_k", "ethtool_k", "ethtool_K_loop"):
        row = {}
        for lo, hi in zip(sizes, sizes[1:]):
            a = results[str(lo)]["commands"][cmd]["wall_ms"]["median"]
            b = results[str(hi)]["commands"][cmd]["wall_ms"]["median"]
            row[f"{lo}->{hi}"] = round(b / a, 3)
            # Marginal cost of one more interface, without the fixed start-up.
            di = results[str(hi)]["interfaces"] - results[str(lo)]["interfaces"]
            row[f"{lo}->{hi} us/iface"] = round(1e3 * (b - a) / di, 2)
        g[cmd] = row
    return g


def rss_growth(results):
    """Peak RSS (max of the runs) at every N, and the bytes each extra
    interface costs from the smallest N to the largest."""
    sizes = sorted(int(k) for k in results)
    out = {}
    for cmd in ("facts_json", "facts_facter", "check_in_sync", "apply",
                "floor_facts", "floor_check", "floor_apply"):
        kib = {str(n): results[str(n)]["commands"][cmd]["maxrss_kib"]["max"] for n in sizes}
        lo, hi = sizes[0], sizes[-1]
        di = results[str(hi)]["interfaces"] - results[str(lo)]["interfaces"]
        out[cmd] = {"kib": kib,
                    "bytes_per_iface": round(1024 * (kib[str(hi)] - kib[str(lo)]) / di, 1)
                    if di else 0.0}
    return out


def targets(doc):
    res = doc["results"]
    sizes = sorted(int(k) for k in res)
    # The targets name 1000 and 4000; a shorter run judges its two largest.
    big = 4000 if 4000 in sizes else sizes[-1]
    ref = 1000 if 1000 in sizes and 1000 != big else sizes[-2] if len(sizes) > 1 else big
    R, B = res[str(ref)], res[str(big)]
    out = []

    def ok(x, op, limit):
        return None if x is None else (x <= limit if op == "<=" else x >= limit)

    # Issue 18: each command within 1.3 x its floor at 1000 and at the
    # largest N (10000); facts and check under 8 MiB there.
    floor_sizes = [n for n in (1000, sizes[-1]) if n in sizes]
    for n in sorted(set(floor_sizes)):
        q = res[str(n)]["ratios"]
        for cmd, fl_cmd in FLOOR_OF.items():
            out.append({"target": f"{cmd} / {fl_cmd} N={n}", "n": n,
                        "measured": q[f"{cmd}/{fl_cmd}"], "op": "<=", "limit": 1.3,
                        "met": ok(q[f"{cmd}/{fl_cmd}"], "<=", 1.3),
                        "measured_cpu": q[f"cpu:{cmd}/{fl_cmd}"],
                        "met_cpu": ok(q[f"cpu:{cmd}/{fl_cmd}"], "<=", 1.3)})
    top = res[str(sizes[-1])]
    for cmd in ("facts_json", "facts_facter", "check_in_sync"):
        mib = round(top["commands"][cmd]["maxrss_kib"]["max"] / 1024, 2)
        out.append({"target": f"peak RSS {cmd} (MiB) N={sizes[-1]}", "n": sizes[-1],
                    "measured": mib, "op": "<=", "limit": 8, "met": ok(mib, "<=", 8),
                    "measured_cpu": None, "met_cpu": None})

    def t(name, n, measured, op, limit, cpu=None):
        # Judged on wall time, as the targets say; the CPU-time ratio beside
        # it is steadier when the machine is loaded (wall then waits for a CPU).
        out.append({"target": name, "n": n, "measured": measured, "op": op, "limit": limit,
                    "met": ok(measured, op, limit), "measured_cpu": cpu,
                    "met_cpu": ok(cpu, op, limit)})

    for name, key, op, limit in (
            ("facts json / ethtool --json -k", "facts_json/ethtool_json_k", "<=", 1.5),
            ("check in sync / ethtool -k", "check_in_sync/ethtool_k", "<=", 0.5),
            ("ethtool -K loop / apply", "ethtool_K_loop/apply", ">=", 20)):
        t(name, ref, R["ratios"][key], op, limit, R["ratios"]["cpu:" + key])
    for cmd in ("facts_json", "facts_facter", "check_in_sync", "apply"):
        gr = grc = None
        if ref != big:
            gr = round(B["commands"][cmd]["wall_ms"]["median"] /
                       R["commands"][cmd]["wall_ms"]["median"], 3)
            grc = round(B["commands"][cmd]["cpu_ms"]["median"] /
                        R["commands"][cmd]["cpu_ms"]["median"], 3)
        # Linear: 4000 interfaces cost at most 4.5 times 1000 (the same slack
        # for other sizes: 4.5 / 4 times the ratio of the sizes).
        t(f"growth {cmd} N={big} / N={ref}", big, gr, "<=",
          round(4.5 / 4 * big / ref, 3) if ref != big else 4.5, grc)
    for cmd in ("facts_json", "facts_facter", "check_in_sync"):
        t(f"peak RSS {cmd} (MiB)", big,
          round(B["commands"][cmd]["maxrss_kib"]["max"] / 1024, 2), "<=", 16)
    t("facter bytes per interface", big, B["sizes"]["facts_facter_bytes_per_iface"], "<=", 1024)
    if doc.get("watch"):
        wn = max(doc["watch"], key=int)
        W = doc["watch"][wn]
        for kind in ("drift", "appear"):
            st = W[f"{kind}_ms"] or {}
            for what, limit in (("median", 50), ("worst", 250)):
                t(f"watch reaction, {kind}, {what} (ms)", int(wn), st.get(what), "<=", limit)
    for name, r in doc.get("wrappers", {}).items():
        t(f"agent share of {name} (%)", None, r["agent_share_pct"], "<=", 5)
    t("virt / systemd-detect-virt", None,
      doc["virt"]["ratios"]["offloadctl_virt/systemd_detect_virt"], "<=", 1.5,
      doc["virt"]["ratios"]["cpu:offloadctl_virt/systemd_detect_virt"])
    return out


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    eth = subprocess.run(["ethtool", "--version"], capture_output=True, text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
            "ethtool": eth, "python": platform.python_version(),
            "loadavg_start": [round(x, 2) for x in os.getloadavg()]}


# ------------------------------------------------------------------ output

def fmt_ms(x):
    return f"{x:.1f}" if x < 1000 else f"{x:.0f}"


def rss(c):
    return "-" if c["maxrss_kib"] is None else f"{c['maxrss_kib']['median']:.0f}"


def table(doc):
    L = []
    m = doc["machine"]
    L.append(f"machine: {m['nproc']} CPUs, {m['cpu_model']}, Linux {m['kernel']}, {m['ethtool']}; "
             f"load {m['loadavg_start']} -> {m.get('loadavg_end')}")
    L.append(f"runs: {doc['runs']} (median; spread = (max-min)/median)")
    L.append("")
    L.append("| N | command | wall ms | spread | CPU ms | peak RSS KiB | runs |")
    L.append("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    order = ["facts_json", "ethtool_json_k", "facts_facter", "ethtool_k", "floor_facts",
             "check_in_sync", "floor_check", "apply", "floor_apply", "ethtool_K_loop"]
    for n in sorted(doc["results"], key=int):
        r = doc["results"][n]
        for k in order:
            c = r["commands"][k]
            L.append(f"| {n} | {k} | {fmt_ms(c['wall_ms']['median'])} | "
                     f"{c['wall_ms']['spread_pct']:.0f}% | {fmt_ms(c['cpu_ms']['median'])} | "
                     f"{rss(c)} | {c['runs']} |")
    v = doc["virt"]["commands"]
    for k in v:
        L.append(f"| - | {k} | {fmt_ms(v[k]['wall_ms']['median'])} | "
                 f"{v[k]['wall_ms']['spread_pct']:.0f}% | {fmt_ms(v[k]['cpu_ms']['median'])} | "
                 f"{rss(v[k])} | {v[k]['runs']} |")
    L.append("")
    L.append("| N | facts json / ethtool --json -k | facter / ethtool -k | check / ethtool -k "
             "| -K loop / apply | facter B/iface | json B/iface |")
    L.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in sorted(doc["results"], key=int):
        r = doc["results"][n]
        q, s = r["ratios"], r["sizes"]
        L.append(f"| {n} | {q['facts_json/ethtool_json_k']:.2f} | {q['facts_facter/ethtool_k']:.2f} "
                 f"| {q['check_in_sync/ethtool_k']:.2f} | {q['ethtool_K_loop/apply']:.1f} "
                 f"| {s['facts_facter_bytes_per_iface']:.0f} | {s['facts_json_bytes_per_iface']:.0f} |")
    L.append("")
    L.append("| N | facts json / floor | facter / floor | check / floor | apply / floor "
             "| (CPU) facts json | facter | check | apply |")
    L.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in sorted(doc["results"], key=int):
        q = doc["results"][n]["ratios"]
        keys = [f"{c}/{f}" for c, f in FLOOR_OF.items()]
        L.append(f"| {n} | " + " | ".join(f"{q[k]:.2f}" for k in keys) + " | "
                 + " | ".join(f"{q['cpu:' + k]:.2f}" for k in keys) + " |")
    L.append("")
    rg = doc.get("rss_growth")
    if rg:
        ns_ = list(next(iter(rg.values()))["kib"])
        L.append("| peak RSS KiB (max of runs) | " + " | ".join(f"N={n}" for n in ns_)
                 + " | bytes per extra interface |")
        L.append("| --- | " + " | ".join("---:" for _ in ns_) + " | ---: |")
        for cmd, r in rg.items():
            L.append(f"| {cmd} | " + " | ".join(f"{r['kib'][n]:.0f}" for n in ns_)
                     + f" | {r['bytes_per_iface']:.0f} |")
        L.append("")
    if doc.get("watch"):
        L.append("| watch, N | kind | median ms | p90 ms | worst ms | events | CPU ms per event |")
        L.append("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
        for n in sorted(doc["watch"], key=int):
            w = doc["watch"][n]
            for kind, cpu in (("drift", w["cpu_ms_per_drift"]), ("appear", w["cpu_ms_per_appear"])):
                st = w[f"{kind}_ms"]
                if st:
                    L.append(f"| {n} | {kind} | {st['median']:.1f} | {st['p90']:.1f} | "
                             f"{st['worst']:.1f} | {st['events']} | {cpu:.2f} |")
            L.append(f"| {n} | (deletion pass) | | | | | {w['cpu_ms_per_delete']:.2f} |")
            L.append(f"| {n} | idle {w['idle_s']:g} s: {w['idle_cpu_ms']:.0f} ms CPU "
                     f"({w['idle_cpu_pct']:.3f} %) | | | | | |")
            if w["spoilt"] or w["lost_events"] or w.get("fights_logged"):
                L.append(f"| {n} | events without a reaction in 10 s: {w['spoilt']}, "
                         f"monitor overflows: {w['lost_events']}, fights logged by watch: "
                         f"{w.get('fights_logged')} | | | | | |")
        L.append("")
    if doc.get("wrappers"):
        L.append("| wrapper, no-change run | wall s | CPU s (whole tree) | agent runs "
                 "| agent CPU ms | agent share |")
        L.append("| --- | ---: | ---: | ---: | ---: | ---: |")
        for name, r in doc["wrappers"].items():
            L.append(f"| {name} | {r['wall_ms']['median'] / 1e3:.2f} | "
                     f"{r['cpu_ms']['median'] / 1e3:.2f} | {r['agent_runs']} | "
                     f"{r['agent_cpu_ms']['median']:.1f} | {r['agent_share_pct']:.2f} % |")
        L.append("")
    steps = []
    if doc["growth"]:
        steps = [k for k in next(iter(doc["growth"].values())) if not k.endswith("us/iface")]
    if steps:
        L.append("| growth (wall, N->N') | " + " | ".join(steps) + " | us per extra interface, "
                 + steps[-1] + " |")
        L.append("| --- | " + " | ".join("---:" for _ in steps) + " | ---: |")
        for cmd, row in doc["growth"].items():
            L.append(f"| {cmd} | " + " | ".join(f"{row[s]:.2f}x" for s in steps)
                     + f" | {row[steps[-1] + ' us/iface']:.0f} |")
        L.append("")
    L.append("| target | N | measured (wall) | limit | met | CPU time instead | met |")
    L.append("| --- | ---: | ---: | ---: | --- | ---: | --- |")

    def yn(m):
        return "n/a" if m is None else ("yes" if m else "NO")

    for t in doc["targets"]:
        meas = "-" if t["measured"] is None else t["measured"]
        cpu = "-" if t["measured_cpu"] is None else t["measured_cpu"]
        L.append(f"| {t['target']} | {t['n'] if t['n'] else '-'} | {meas} | {t['op']} {t['limit']:g} "
                 f"| {yn(t['met'])} | {cpu} | {yn(t['met_cpu']) if t['measured_cpu'] is not None else '-'} |")
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--offloadctl", default=os.path.join(ROOT, "build", "offloadctl"))
    ap.add_argument("--sizes", default="10,100,1000,4000,10000")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--runs-big", type=int, default=5, help="runs at N >= 4000")
    ap.add_argument("--loop-runs-big", type=int, default=3,
                    help="runs of apply beside the ethtool -K loop at N >= 1000")
    ap.add_argument("--floor", default=os.path.join(ROOT, "build", "bench", "floor"),
                    help="bench/floor.c, built (make build/bench/floor)")
    ap.add_argument("--watch-sizes", default="10,4000",
                    help="N for the watch reaction benchmark ('' to leave it out)")
    ap.add_argument("--watch-events", type=int, default=200, help="events of each kind")
    ap.add_argument("--watch-gap", type=float, default=0.05,
                    help="seconds between an event's reaction and the next event")
    ap.add_argument("--idle", type=float, default=60.0, help="seconds of idle watch measured")
    ap.add_argument("--wrapper-runs", type=int, default=3, help="no-change runs of each wrapper")
    ap.add_argument("--no-wrappers", action="store_true", help="leave out Ansible and Puppet")
    ap.add_argument("--loop-runs-huge", type=int, default=1,
                    help="runs of the ethtool -K loop at N >= 10000")
    ap.add_argument("--quick", action="store_true",
                    help="2 runs of everything, 5 watch events, 1 s idle, 1 wrapper run "
                         "(smoke test)")
    ap.add_argument("--json", help="write the results as JSON here")
    ap.add_argument("--markdown", help="write the tables (markdown) here")
    a = ap.parse_args()
    if a.quick:
        a.runs = a.runs_big = a.loop_runs_big = a.loop_runs_huge = 2
        a.watch_events, a.idle, a.wrapper_runs = 5, 1.0, 1
    a.offloadctl = os.path.abspath(a.offloadctl)
    a.floor = os.path.abspath(a.floor)
    a.logdir = os.path.dirname(os.path.abspath(a.json)) if a.json else None
    if not os.access(a.floor, os.X_OK):
        sys.exit(f"bench: no floor program at {a.floor} (make build/bench/floor)")
    sizes = [int(x) for x in a.sizes.split(",") if x]
    watch_sizes = [int(x) for x in a.watch_sizes.split(",") if x]
    if os.geteuid() != 0:
        sys.exit("bench: needs root (network namespaces, ethtool -K)")
    for tool in ("ip", "ethtool", "systemd-detect-virt"):
        if not shutil.which(tool):
            sys.exit(f"bench: '{tool}' not found")
    if any(n < 2 or n % 2 for n in sizes + watch_sizes):
        sys.exit("bench: sizes must be even (veth pairs)")

    env = dict(os.environ)
    started = time.perf_counter()
    doc = {"schema": 1, "offloadctl": a.offloadctl,
           "agent_version": subprocess.run([a.offloadctl, "--version"], capture_output=True,
                                           text=True).stdout.strip(),
           "machine": machine(), "quick": a.quick, "feature": FEATURE,
           "runs": {"default": a.runs, "n>=4000": a.runs_big, "ethtool_K_loop n>=1000": a.loop_runs_big,
                    "ethtool_K_loop n>=10000": a.loop_runs_huge},
           "sizes": sizes, "watch_sizes": watch_sizes, "results": {}, "watch": {},
           "wrappers": {}}
    with tempfile.TemporaryDirectory(prefix="ocbench-") as workdir:
        env["OFFLOADCTL_LOCK_FILE"] = os.path.join(workdir, "lock")
        env["OFFLOADCTL_STATE_DIR"] = os.path.join(workdir, "state")
        os.makedirs(env["OFFLOADCTL_STATE_DIR"])
        for n in sizes:
            t0 = time.perf_counter()
            doc["results"][str(n)] = bench_size(n, a, workdir, env)
            print(f"bench: N={n} done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        doc["virt"] = bench_virt(a, env)
        for n in watch_sizes:
            t0 = time.perf_counter()
            doc["watch"][str(n)] = bench_watch(n, a, workdir, env)
            print(f"bench: watch N={n} done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        if not a.no_wrappers:
            t0 = time.perf_counter()
            doc["wrappers"] = bench_wrappers(a, workdir, env)
            print(f"bench: wrappers done in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    doc["growth"] = growth(doc["results"])
    doc["rss_growth"] = rss_growth(doc["results"])
    doc["targets"] = targets(doc)
    doc["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    doc["elapsed_s"] = round(time.perf_counter() - started, 1)
    text = table(doc)
    sys.stdout.write(text)
    print(f"elapsed: {doc['elapsed_s']} s")
    if a.json:
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
    if a.markdown:
        os.makedirs(os.path.dirname(os.path.abspath(a.markdown)), exist_ok=True)
        with open(a.markdown, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
