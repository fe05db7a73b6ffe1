"""The advice fixtures (tests/fixtures/advice/cases.yaml): build a case's facts document."""
import copy
import glob
import json
import os

import yaml

from ocutil import ROOT

FIXTURES = os.path.join(ROOT, "tests", "fixtures", "advice")


def load_cases():
    with open(os.path.join(FIXTURES, "cases.yaml")) as f:
        return yaml.safe_load(f)


def entry_ids():
    """The knowledge base's ids, in order, from advice/*.yaml."""
    ids = []
    for p in sorted(glob.glob(os.path.join(ROOT, "advice", "*.yaml"))):
        with open(p) as f:
            ids.append(yaml.safe_load(f)["id"])
    return ids


def _state(value):
    words = str(value).split()
    on = words[0] in ("on", "True", "true")
    return {"active": on, "requested": on, "fixed": "fixed" in words[1:]}


def build(spec):
    """The facts document of one side (fires or quiet) of a case."""
    with open(os.path.join(FIXTURES, spec["base"])) as f:
        doc = json.load(f)
    doc = doc.get("offloadctl", doc)  # the facter format too
    doc.pop("advice", None)  # what the capturing agent said; the test asks afresh
    if "kernel" in spec:
        doc["kernel"] = {"release": spec["kernel"]}
    if "virtualization" in spec:
        doc["virtualization"].update(copy.deepcopy(spec["virtualization"]))
        if doc["virtualization"].get("vm") != "xen" and "xen" not in spec["virtualization"]:
            doc["virtualization"].pop("xen", None)
    if "interfaces" in spec:
        kept = {}
        for name, edit in spec["interfaces"].items():
            ifc = copy.deepcopy(doc["interfaces"][name])
            ifc.update(copy.deepcopy((edit or {}).get("set", {})))
            for feature, value in (edit or {}).get("features", {}).items():
                assert feature in ifc["features"], f"{feature} not in the capture"
                ifc["features"][feature] = _state(value)
            kept[(edit or {}).get("rename", name)] = ifc
        doc["interfaces"] = kept
    return doc


def write(spec, path):
    with open(path, "w") as f:
        json.dump(build(spec), f, indent=1)
    return str(path)


def k8s_vxlan_advice_id():
    """The id of the Kubernetes VXLAN advice this kernel gets (before 5.7
    the checksum bug is the NAT one)."""
    import platform
    old = [int(x) for x in platform.release().split("-")[0].split(".")[:2]] < [5, 7]
    return "k8s-vxlan-tx-csum-nat" if old else "k8s-vxlan-tx-csum"


def add_vxlans(ns):
    """flannel.1 (the advice's device) and vxlan7 (a VXLAN the advice is
    not about) in namespace ns, as the wrappers' advice tests use them."""
    for name, vni, port in (("flannel.1", "1", "8472"), ("vxlan7", "7", "4789")):
        ns.ip("link", "add", "name", name, "type", "vxlan", "id", vni, "dstport", port,
              "local", "127.0.0.1")
