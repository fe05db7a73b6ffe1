"""Helpers for the test suites: run the agent, make namespaces and interfaces."""
import itertools
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

_counter = itertools.count()


def agent_path():
    return os.environ.get("OFFLOADCTL") or os.path.join(ROOT, "build", "offloadctl")


def plain_agent():
    """The agent without sanitizers, for valgrind and address-space limits
    (ASan reserves terabytes of address space): when OFFLOADCTL points at the
    sanitized build, the plain build/offloadctl, made if missing."""
    a = agent_path()
    if os.path.basename(a) == "sanitized-agent" or b"__asan_init" in open(a, "rb").read():
        a = os.path.join(ROOT, "build", "offloadctl")
        if not os.path.exists(a):
            run(["make", "-C", ROOT, "--no-print-directory", "all", "SANITIZE="])
    return a


def run(cmd, check=True, input=None, env=None, timeout=120):
    """Run a command (list), return CompletedProcess with text output."""
    p = subprocess.run(cmd, input=input, capture_output=True, text=True, env=env,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd!r} exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def agent(*args, check=False, input=None, env=None, timeout=120):
    return run([agent_path(), *args], check=check, input=input, env=env, timeout=timeout)


class NetNS:
    """A network namespace of our own, named oct-PID-N."""

    def __init__(self):
        self.name = f"oct-{os.getpid()}-{next(_counter)}"
        run(["ip", "netns", "add", self.name])
        run(["ip", "-n", self.name, "link", "set", "lo", "up"])

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)

    def ip(self, *args, check=True):
        return run(["ip", "-n", self.name, *args], check=check)

    def exec(self, *args, check=True, input=None):
        return run(["ip", "netns", "exec", self.name, *args], check=check, input=input)

    def veth(self, a, b, up=True):
        self.ip("link", "add", "name", a, "type", "veth", "peer", "name", b)
        if up:
            self.ip("link", "set", "dev", a, "up")
            self.ip("link", "set", "dev", b, "up")

    def ethtool_json(self, ifname):
        """`ethtool --json -k IFACE` as a dict (without ifname)."""
        out = self.exec("ethtool", "--json", "-k", ifname).stdout
        d = json.loads(out)[0]
        d.pop("ifname", None)
        return d

    def ethtool_K(self, ifname, *settings, check=False):
        return self.exec("ethtool", "-K", ifname, *settings, check=check)

    def agent(self, *args, check=False, input=None, timeout=120):
        return agent("--netns", self.name, *args, check=check, input=input, timeout=timeout)

    def as_host(self, *args, check=False, input=None, env=None, timeout=120):
        """The agent inside this namespace without --netns: the namespace
        stands for a host, and the host scope (offloadctl.yaml, conf.d) is
        what is read, not the scope of a named namespace."""
        return run(["ip", "netns", "exec", self.name, agent_path(), *args], check=check,
                   input=input, env=env, timeout=timeout)

    def facts(self, *args):
        p = self.agent("facts", *args, check=True)
        return json.loads(p.stdout)


class FeatureMonitor:
    """`ethtool --monitor` in a namespace: every features notification the
    kernel sends while it runs, whoever made the change. A flap (a feature
    switched one way and back within a run) shows here and nowhere else.

        with FeatureMonitor(ns) as mon:
            ...
        mon.states("veth0", "generic-receive-offload")  # ['on', 'off', ...]
    """

    def __init__(self, ns):
        self.ns = ns
        self.text = ""

    def __enter__(self):
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns.name, "stdbuf", "-oL", "ethtool", "--monitor"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.proc.stdout.readline().startswith("listening"), "ethtool --monitor did not start"
        return self

    def __exit__(self, *exc):
        # Time for the last notifications to be read and printed.
        time.sleep(0.5)
        self.proc.terminate()
        self.text = self.proc.communicate(timeout=10)[0]
        return False

    def states(self, ifname, key):
        """The values of an `ethtool -k` line for ifname, one per
        notification, in order."""
        out = []
        for block in self.text.split("\nFeatures for ")[1:]:
            head, _, body = block.partition(":\n")
            if head != ifname:
                continue
            for line in body.splitlines():
                name, _, value = line.strip().partition(": ")
                if name == key:
                    out.append(value.split()[0])
        return out
