"""A real Xen: Debian's Xen 4.17 in QEMU (TCG), a dom0, a PV, a PVH and an HVM domU
(issue 11 "A real Xen", issue 19's lab part).  tests/vm/README-xen.md.

The lab boots once (xenlab.run_lab(), about 10-15 minutes with a cached
image) and collects; the tests here judge what it collected:

- `offloadctl virt` in each guest says what it is and agrees with
  systemd-detect-virt, and the fixture tree captured there gives the same
  answer offline;
- `facts` equal `ethtool --json -k` key for key on every interface of each
  domU (netfront) and on the dom0's vifs (netback) and bridge, by both
  backends;
- `apply` of `tx: off` leaves the same whole feature set as
  `ethtool -K IF tx off` on a twin NIC, and a second apply changes nothing;
- the shipped examples/xen-domu.yaml, in the PV domU: check before (not in
  sync), apply, check after (in sync), the state ethtool -K would give.

OFFLOADCTL_XENLAB_RESULTS=DIR judges the results of an earlier run instead
of booting (build/vmlab/xen keeps the last one).  OFFLOADCTL_XENLAB_CAPTURE=1
also writes the fixtures (tests/vm/capture-xen-fixtures).
"""
import json
import os

import pytest

import vmlab
import xenlab

# The domUs this run boots (xenlab.DOMUS: PV and PVH; the HVM domU, whose
# firmware and device model take three times as long under TCG, when
# OFFLOADCTL_XENLAB_DOMUS names it, as a fixture capture does).
GUESTS = {
    # name: (folder in the results, expected xen domain, guest type)
    "dom0": ("", "dom0", "PV"),
    **{f"{d}-domu": (f"{d}/domu", "domU", d.upper()) for d in xenlab.DOMUS},
}
# Where the NIC checks ran: a domU's netfront NICs, the dom0's vifs of it.
SIDES = {
    **{f"{d}-domu": f"{d}/domu" for d in xenlab.DOMUS},
    **({"dom0-vifs": "pv/dom0-side"} if "pv" in xenlab.DOMUS else {}),  # netback, the PV domU's vifs
}


class Results:
    def __init__(self, path, times, error):
        self.path, self.times, self.error = path, times, error

    def p(self, *parts):
        return os.path.join(self.path, *parts)

    def text(self, *parts, default=None):
        try:
            with open(self.p(*parts), errors="replace") as f:
                return f.read()
        except OSError:
            if default is not None:
                return default
            raise AssertionError(f"the lab left no {os.path.join(*parts)}"
                                 + (f" (lab error: {self.error[:3000]})" if self.error else ""))

    def json(self, *parts):
        t = self.text(*parts)
        try:
            return json.loads(t)
        except ValueError as e:
            raise AssertionError(f"{os.path.join(*parts)} is not JSON ({e}): {t[:2000]}")

    def rc(self, *parts):
        return int(self.text(*parts).strip())

    def ethtool(self, *parts):
        d = self.json(*parts)[0]
        d.pop("ifname", None)
        return d


@pytest.fixture(scope="module")
def lab():
    given = os.environ.get("OFFLOADCTL_XENLAB_RESULTS")
    if given:
        return Results(given, {}, None)
    missing = vmlab.missing_tools()
    if missing or os.geteuid() != 0:
        pytest.skip(f"the Xen lab needs root and {missing}")
    error = None
    times = {}
    try:
        path, times = xenlab.run_lab()
    except (vmlab.LabError, OSError) as e:
        error = str(e)
        path = xenlab.RESULTS
    if not error:
        vmlab.report("Xen lab (tests/vm/test_vm_xen.py), wall times:")
        for k, v in times.items():
            vmlab.report(f"  {k}: {v}")
    if os.environ.get("OFFLOADCTL_XENLAB_CAPTURE") == "1":
        xenlab.save_fixtures(path)
    return Results(path, times, error)


def test_lab_ran(lab):
    print(lab.text("times.txt", default="(no times)"))
    print(lab.text("progress.log", default=""))
    assert lab.error is None, lab.error
    script = lab.text("dom0-script.txt")
    assert script.startswith("rc=0"), script[-4000:]
    for g, (d, _, _) in GUESTS.items():
        phases = lab.text(d, "phases.txt")
        assert phases.strip().split("\n")[-1].startswith("done "), (g, phases)


def test_agent_installed_from_the_package(lab):
    """The package from `make deb`, unpacked (dpkg-deb -x) in dom0 and onto the
    domUs' disks: its maintainer scripts cost 90 s in a PV domain."""
    assert lab.rc("dpkg-deb-x.rc") == 0, lab.text("dpkg-deb-x.err")
    for g, (d, _, _) in GUESTS.items():
        assert lab.text(d, "version.out").startswith("offloadctl"), g


@pytest.mark.parametrize("guest", GUESTS)
def test_virt_says_what_it_is(lab, guest):
    d, domain, gtype = GUESTS[guest]
    assert lab.rc(d, "virt.rc") == 0, lab.text(d, "virt.err")
    v = lab.json(d, "virt.out")
    sdv = lab.text(d, "sdv.out").strip()
    brief = lab.text(d, "virt-brief.out").strip()
    print(f"{guest}: offloadctl virt --brief: {brief}; systemd-detect-virt: {sdv} "
          f"(--vm {lab.text(d, 'sdv-vm.out').strip()}, --container {lab.text(d, 'sdv-container.out').strip()})")
    print(f"{guest}: offloadctl virt: {json.dumps(v)}")
    print(f"{guest}: cpuid plain: {lab.text(d, 'cpuid.out')!r}; forced emulation: {lab.text(d, 'cpuid-fep.out')!r}")
    assert v["xen"] == {"domain": domain, "guest_type": gtype}, v
    assert v["container"] == "none", v
    if domain == "dom0":
        assert v["role"] == "host", v  # CONTRACT.md: a Xen dom0 is a host, nested or not
    else:
        assert v["role"] == "guest", v
        assert v["vm"] == "xen", v
    # The same word as systemd-detect-virt (a dom0 in QEMU: both say qemu).
    assert brief == sdv, (brief, sdv)
    assert v["vm"] == lab.text(d, "sdv-vm.out").strip(), v


@pytest.mark.parametrize("guest", GUESTS)
def test_captured_tree_gives_the_live_answer(lab, guest):
    """The fixture tree copied from the guest (--root) answers as the guest did."""
    d = GUESTS[guest][0]
    assert lab.rc(d, "virt-root.rc") == 0, lab.text(d, "virt-root.err")
    assert lab.json(d, "virt-root.out") == lab.json(d, "virt.out")


@pytest.mark.parametrize("guest", GUESTS)
def test_committed_fixture_matches_this_guest(lab, guest):
    """tests/fixtures/virt/xen-real-GUEST (committed from an earlier run of this
    lab) still says what this guest says."""
    d = GUESTS[guest][0]
    fx = os.path.join(xenlab.ROOT, "tests", "fixtures", "virt", f"xen-real-{guest}")
    with open(os.path.join(fx, "expected.json")) as f:
        assert json.load(f) == lab.json(d, "virt.out")


def _compare(eth, facts_if, where):
    """Every key ethtool prints agrees with offloads or features; every key of
    ours is printed by ethtool (directly or under its summary name).  Returns
    the number of ethtool keys compared."""
    offloads, features = facts_if["offloads"], facts_if["features"]
    bad = []
    for key, val in eth.items():
        want = {"active": val["active"], "fixed": val["fixed"], "requested": val["requested"]}
        got = offloads.get(key, features.get(key))
        if got != want:
            bad.append((key, got, want))
    for key in offloads:
        if key not in eth:
            bad.append((key, "ours only", offloads[key]))
    single = [k for k in features if k not in eth]
    summaries = [v for v in offloads.values() if v["fixed"] is not None]
    if len(single) != len(summaries):
        bad.append(("single-feature summaries", sorted(single), len(summaries)))
    for k in single:
        if features[k] not in summaries:
            bad.append((k, features[k], "no summary line"))
    assert not bad, (where, bad)
    return len(eth)


def _nics(lab, side):
    return sorted(f[len("ethtool-k-"):-len(".out")] for f in os.listdir(lab.p(SIDES[side]))
                  if f.startswith("ethtool-k-") and f.endswith(".out"))


@pytest.mark.parametrize("backend", ["netlink", "ioctl"])
@pytest.mark.parametrize("side", SIDES)
def test_facts_equal_ethtool(lab, side, backend):
    d = SIDES[side]
    nics = _nics(lab, side)
    want = {"dom0-vifs": {"xenbr0"}}.get(side, {"enX0", "enX1"})
    assert want <= set(nics), nics
    if side.startswith("dom0"):
        assert sum(n.startswith("vif") for n in nics) == 2, nics
    counts = {}
    for nic in nics:
        eth = lab.ethtool(d, f"ethtool-k-{nic}.out")
        assert lab.ethtool(d, f"ethtool-k2-{nic}.out") == eth, (nic, "changed while we looked")
        assert lab.rc(d, f"facts-{backend}-{nic}.rc") == 0, lab.text(d, f"facts-{backend}-{nic}.err")
        doc = lab.json(d, f"facts-{backend}-{nic}.out")
        assert list(doc["interfaces"]) == [nic], doc["interfaces"].keys()
        counts[nic] = _compare(eth, doc["interfaces"][nic], (side, backend, nic))
        # The whole document (default backend) says the same of this NIC.
        whole = lab.json(d, "facts-all.out")["interfaces"][nic]
        assert whole["offloads"] == doc["interfaces"][nic]["offloads"], nic
        assert whole["features"] == doc["interfaces"][nic]["features"], nic
    print(f"{side} ({backend}): ethtool keys compared per NIC: {counts}")


@pytest.mark.parametrize("side", SIDES)
def test_driver_and_module(lab, side):
    """netfront and netback both say driver vif; the module tells them apart."""
    d = SIDES[side]
    doc = lab.json(d, "facts-all.out")["interfaces"]
    for nic in _nics(lab, side):
        if nic == "xenbr0" or nic == "lo":
            continue
        want = "xen_netback" if side.startswith("dom0") else "xen_netfront"
        assert "driver: vif" in lab.text(d, f"ethtool-i-{nic}.out"), nic
        assert lab.text(d, f"module-{nic}.txt").strip().endswith("/" + want), nic
        assert doc[nic]["driver"] == "vif", (nic, doc[nic]["driver"])
        assert doc[nic].get("module") == want, (nic, doc[nic].get("module"))


@pytest.mark.parametrize("backend", ["netlink", "ioctl"])
@pytest.mark.parametrize("side", SIDES)
def test_apply_tx_off_equals_ethtool(lab, side, backend):
    t = os.path.join(SIDES[side], f"twins-{backend}")
    a0, b0 = lab.ethtool(t, "a0.json"), lab.ethtool(t, "b0.json")
    assert a0 == b0, "the twins differ before anything was changed"
    assert lab.rc(t, "ethtool-K.rc") == 0, lab.text(t, "ethtool-K.out")
    rc1 = lab.rc(t, "apply1.rc")
    rep1 = lab.json(t, "apply1.json")
    print(f"{side} ({backend}) apply tx: off: exit {rc1}, {json.dumps(rep1)}")
    print(f"ethtool -K tx off said: {lab.text(t, 'ethtool-K.out')!r}")
    assert rc1 == 0, (rep1, lab.text(t, "apply1.err"))
    assert rep1["changed"] is True and rep1["rolled_back"] is False, rep1
    a1, b1 = lab.ethtool(t, "a1.json"), lab.ethtool(t, "b1.json")
    assert a1 != a0, "tx: off changed nothing"
    diff = {k: (a1.get(k), b1.get(k)) for k in set(a1) | set(b1) if a1.get(k) != b1.get(k)}
    assert not diff, diff  # the whole feature set, requested states included
    rc2, rep2 = lab.rc(t, "apply2.rc"), lab.json(t, "apply2.json")
    assert rc2 == 0 and rep2["changed"] is False, (rc2, rep2)
    assert not any(i.get("changes") for i in rep2.get("interfaces", {}).values()), rep2
    assert lab.ethtool(t, "a2.json") == a1
    assert lab.rc(t, "check.rc") == 0, lab.text(t, "check.out") + lab.text(t, "check.err")
    # Put back as found: the next checks start from the same state.
    assert lab.ethtool(t, "a3.json") == a0 and lab.ethtool(t, "b3.json") == b0


@pytest.mark.skipif("pv" not in xenlab.DOMUS, reason="the PV domU is not in OFFLOADCTL_XENLAB_DOMUS")
def test_shipped_example_in_a_real_pv_domu(lab):
    """examples/xen-domu.yaml, as shipped, in the PV domU (issue 19)."""
    d = os.path.join("pv", "domu", "example")
    out = {n: lab.text(d, n, default="") for n in
           ("check-before.out", "check-before.err", "apply.out", "apply.err",
            "check-after.out", "check-after.err")}
    rcs = {n: lab.rc(d, n + ".rc") for n in ("check-before", "apply", "check-after", "apply2")}
    print("$ offloadctl check examples/xen-domu.yaml   # before, in the PV domU")
    print(out["check-before.out"] + out["check-before.err"] + f"[exit {rcs['check-before']}]")
    print("$ offloadctl apply examples/xen-domu.yaml")
    print(out["apply.out"] + out["apply.err"] + f"[exit {rcs['apply']}]")
    print("$ offloadctl check examples/xen-domu.yaml   # after")
    print(out["check-after.out"] + out["check-after.err"] + f"[exit {rcs['check-after']}]")
    for nic in ("enX0", "enX1"):
        s0, ref = lab.ethtool(d, f"{nic}-0.json"), lab.ethtool(d, f"{nic}-ref.json")
        assert lab.ethtool(d, f"{nic}-restored.json") == s0, f"{nic}: could not put back after ethtool -K"
        # The example asks for something this NIC does not have yet...
        assert ref != s0, f"{nic}: ethtool -K {xenlab.example_ethtool_args()} changed nothing"
    # ...so check must not call it in sync.
    assert rcs["check-before"] == 1, rcs
    assert "in sync" not in out["check-before.out"].lower().replace("not in sync", ""), out["check-before.out"]
    before = lab.json(d, "check-before.json")
    assert before["in_sync"] is False and set(before["interfaces"]) >= {"enX0", "enX1"}, before
    assert rcs["apply"] == 0, out["apply.err"]
    for nic in ("enX0", "enX1"):
        got, ref = lab.ethtool(d, f"{nic}-1.json"), lab.ethtool(d, f"{nic}-ref.json")
        diff = {k: (got.get(k), ref.get(k)) for k in set(got) | set(ref) if got.get(k) != ref.get(k)}
        assert not diff, (nic, "apply left another state than ethtool -K", diff)
    assert rcs["check-after"] == 0, out["check-after.out"] + out["check-after.err"]
    rep2 = lab.json(d, "apply2.json")
    assert rcs["apply2"] == 0 and rep2["changed"] is False, rep2
    for nic in ("enX0", "enX1"):
        assert lab.ethtool(d, f"{nic}-2.json") == lab.ethtool(d, f"{nic}-1.json")
