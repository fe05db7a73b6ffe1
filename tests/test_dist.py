"""Where users get the wrappers (issue 17): the Ansible collection and the
Puppet module tarballs as `make` builds them, their documentation checks,
and one licence and one list of platforms across every metadata file."""
import glob
import json
import os
import re
import shutil
import subprocess
import tarfile

import pytest
import yaml

from ocutil import ROOT, run

VERSION = open(os.path.join(ROOT, "VERSION")).read().strip()
DIST = os.path.join(ROOT, "build", "dist")
COLLECTION_TGZ = os.path.join(DIST, f"offloadctl-offloadctl-{VERSION}.tar.gz")
PUPPET_TGZ = os.path.join(DIST, "puppet", f"offloadctl-offloadctl-{VERSION}.tar.gz")
VALIDATE_MODULES = "/usr/lib/python3/dist-packages/ansible_test/_util/controller/sanity/validate-modules"
FQCN = "offloadctl.offloadctl.offloadctl_state"


def make(*targets):
    return run(["make", "-s", "--no-print-directory", "-C", ROOT, *targets], timeout=600)


@pytest.fixture(scope="module")
def collection():
    make("ansible-collection")
    assert os.path.isfile(COLLECTION_TGZ)
    return COLLECTION_TGZ


@pytest.fixture(scope="module")
def puppet_module():
    make("puppet-module")
    assert os.path.isfile(PUPPET_TGZ)
    return PUPPET_TGZ


def members(tgz):
    with tarfile.open(tgz) as t:
        return {m.name: m for m in t.getmembers()}


def read_member(tgz, name):
    with tarfile.open(tgz) as t:
        return t.extractfile(name).read().decode()


# ------------------------------------------------------------ the collection

def test_collection_tarball_holds_the_role_and_the_module_once(collection):
    names = set(members(collection))
    assert "plugins/modules/offloadctl_state.py" in names
    assert "roles/offloadctl/tasks/main.yml" in names
    assert "roles/offloadctl/meta/argument_specs.yml" in names
    assert "meta/runtime.yml" in names and "LICENSE" in names and "README.md" in names
    # one copy of the module: no library/ in the collection's role
    assert not [n for n in names if "/library/" in n or n.endswith("/library")]
    assert not [n for n in names if n.endswith((".ansible-lint", ".yamllint"))]
    src = open(os.path.join(ROOT, "roles", "ansible", "library", "offloadctl_state.py")).read()
    assert read_member(collection, "plugins/modules/offloadctl_state.py") == src
    # the one fact adapter, as a file (the role's files/ holds a link to it)
    fact = members(collection)["roles/offloadctl/files/offloadctl.fact"]
    assert fact.isfile() and fact.mode & 0o111
    adapter = open(os.path.join(ROOT, "facts", "offloadctl-fact")).read()
    assert read_member(collection, "roles/offloadctl/files/offloadctl.fact") == adapter
    manifest = json.loads(read_member(collection, "MANIFEST.json"))["collection_info"]
    assert (manifest["namespace"], manifest["name"], manifest["version"]) == ("offloadctl", "offloadctl", VERSION)
    assert manifest["license"] == ["GPL-3.0-or-later"]
    assert manifest["authors"] == ["offloadctl maintainers (@offloadctl)"]


def validate_modules(collection_root, module_rel):
    """ansible-test's validate-modules, run offline with Debian's
    python3-voluptuous (ansible-test sanity would fetch pip into a venv)."""
    if not os.path.isdir(VALIDATE_MODULES):
        pytest.fail("ansible-test's validate-modules is missing (Debian's ansible-core ships it)")
    coll = os.path.join(collection_root, "ansible_collections", "offloadctl", "offloadctl")
    env = dict(os.environ, PYTHONPATH=f"{VALIDATE_MODULES}:{collection_root}",
               ANSIBLE_COLLECTIONS_PATH=collection_root)
    return subprocess.run(["/usr/bin/python3", os.path.join(VALIDATE_MODULES, "validate.py"), "-w", "--format", "json",
                           "--arg-spec", "--collection", "ansible_collections/offloadctl/offloadctl",
                           "--collection-version", VERSION, module_rel],
                          cwd=coll, env=env, capture_output=True, text=True, timeout=300)


def test_module_documentation_passes_validate_modules(collection, tmp_path):
    root = os.path.join(ROOT, "build", "collection")
    p = validate_modules(root, "plugins/modules/offloadctl_state.py")
    assert p.returncode == 0 and json.loads(p.stdout or "{}") == {}, p.stdout + p.stderr
    # the check can fail: the four errors of issue 17 put back are found
    bad = tmp_path / "c"
    shutil.copytree(root, bad, symlinks=True)
    mod = bad / "ansible_collections/offloadctl/offloadctl/plugins/modules/offloadctl_state.py"
    text = mod.read_text()
    text = text.replace("offloadctl maintainers (@offloadctl)", "offloadctl developers")
    text = re.sub(r"\n    description: Can run in check mode.*?\n    support", "\n    support", text, flags=re.S)
    text = text.replace("# GNU General Public License v3.0+", "# licence:")
    mod.write_text(text)
    p = validate_modules(str(bad), "plugins/modules/offloadctl_state.py")
    codes = {e["code"] for errs in json.loads(p.stdout).values() for e in errs["errors"]}
    assert codes == {"invalid-documentation", "missing-gplv3-license"}, p.stdout
    assert "Invalid author" in p.stdout and "check_mode.description" in p.stdout


def test_ansible_doc_renders_the_module_and_the_role(collection):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "build", "collection"), ANSIBLE_NOCOLOR="1")
    p = run(["ansible-doc", "--json", FQCN], env=env)
    doc = json.loads(p.stdout)[FQCN]["doc"]
    assert doc["collection"] == "offloadctl.offloadctl" and "rules" in doc["options"]
    assert doc["attributes"]["diff_mode"]["support"] == "full"
    p = run(["ansible-doc", FQCN], env=env)
    assert "OFFLOADCTL.OFFLOADCTL.OFFLOADCTL_STATE" in p.stdout and "EXAMPLES" in p.stdout
    p = run(["ansible-doc", "-t", "role", "offloadctl.offloadctl.offloadctl"], env=env)
    assert "offloadctl_rules" in p.stdout and "offloadctl_metrics" in p.stdout


def test_examples_use_the_fully_qualified_name():
    role = os.path.join(ROOT, "roles", "ansible")
    for path in [os.path.join(role, "README.md"), os.path.join(ROOT, "collection", "README.md")]:
        text = open(path).read()
        assert FQCN in text, path
        assert not re.search(r"^\s*(- )?offloadctl_state:", text, re.M), f"{path}: short module name"


# ------------------------------------------------------------ the Puppet module

def test_puppet_module_tarball(puppet_module):
    m = members(puppet_module)
    top = f"offloadctl-offloadctl-{VERSION}"
    assert all(n == top or n.startswith(top + "/") for n in m), "one top directory, <author>-<name>-<version>"
    for f in ("metadata.json", "manifests/init.pp", "lib/puppet/type/nic_offload.rb",
              "lib/puppet/provider/nic_offload/offloadctl.rb", "facts.d/offloadctl", "CHANGELOG.md",
              "README.md", "REFERENCE.md", "LICENSE", "checksums.json", "spec/spec_helper.rb"):
        assert f"{top}/{f}" in m, f
    assert m[f"{top}/facts.d/offloadctl"].mode == 0o755  # pluginsync keeps it executable
    # the one fact adapter, as a file (the module's facts.d holds a link to it)
    assert read_member(puppet_module, f"{top}/facts.d/offloadctl") == open(os.path.join(ROOT, "facts", "offloadctl-fact")).read()
    assert not [n for n, x in m.items() if x.issym() or "/spec/fixtures" in n]
    meta = json.loads(read_member(puppet_module, f"{top}/metadata.json"))
    assert meta["name"] == "offloadctl-offloadctl" and meta["version"] == VERSION
    sums = json.loads(read_member(puppet_module, f"{top}/checksums.json"))
    assert "manifests/init.pp" in sums and len(sums) == len([x for x in m.values() if x.isfile()]) - 1
    # reproducible: the same bytes twice
    first = open(puppet_module, "rb").read()
    make("puppet-module")
    assert open(puppet_module, "rb").read() == first


def test_puppet_module_installs_with_puppet_module_install(puppet_module, tmp_path):
    target = tmp_path / "modules"
    common = ["--confdir", str(tmp_path / "conf"), "--vardir", str(tmp_path / "var"), "--color=false"]
    run(["puppet", "module", "install", "--ignore-dependencies", "--target-dir", str(target), *common, puppet_module])
    assert (target / "offloadctl" / "manifests" / "init.pp").is_file()
    p = run(["puppet", "module", "list", "--modulepath", str(target), *common])
    assert f"offloadctl-offloadctl (v{VERSION})" in p.stdout
    # unchanged since the release: `puppet module changes` compares with checksums.json
    p = run(["puppet", "module", "changes", str(target / "offloadctl"), *common], check=False)
    assert "No modified files" in p.stdout + p.stderr, p.stdout + p.stderr


# ------------------------------------------------------------ one story

def spdx_headers(top, exts):
    out = {}
    for path in glob.glob(os.path.join(top, "**", "*"), recursive=True):
        if os.path.isfile(path) and path.endswith(exts):
            m = re.search(r"SPDX-License-Identifier:\s*(\S+)", open(path, errors="replace").read(4000))
            if m:
                out[os.path.relpath(path, ROOT)] = m.group(1)
    return out


def test_one_licence_story():
    assert open(os.path.join(ROOT, "LICENSE")).read().lstrip().startswith("Apache License")
    gpl = open(os.path.join(ROOT, "roles", "ansible", "LICENSE")).read()
    assert "GNU GENERAL PUBLIC LICENSE" in gpl and "Version 3" in gpl
    meta = json.load(open(os.path.join(ROOT, "modules", "puppet", "metadata.json")))
    assert meta["license"] == "Apache-2.0"
    role = yaml.safe_load(open(os.path.join(ROOT, "roles", "ansible", "meta", "main.yml")))
    assert role["galaxy_info"]["license"] == "GPL-3.0-or-later"
    galaxy = yaml.safe_load(open(os.path.join(ROOT, "collection", "galaxy.yml")))
    assert galaxy["license"] == ["GPL-3.0-or-later"]
    assert galaxy["version"] == VERSION == meta["version"]
    copyright_ = open(os.path.join(ROOT, "debian", "copyright")).read()
    stanzas = {m.group(1).strip(): m.group(2) for m in re.finditer(r"^Files: (.*)\n(?:.*\n)*?License: (\S+)", copyright_, re.M)}
    assert stanzas == {"*": "Apache-2.0", "roles/ansible/* collection/*": "GPL-3.0-or-later"}
    # SPDX headers agree with their component
    for path, lic in spdx_headers(os.path.join(ROOT, "roles"), (".py", ".yml", ".j2")).items():
        assert lic == "GPL-3.0-or-later", path
    for top in ("agent", "modules", "facts", "scripts", "systemd"):
        for path, lic in spdx_headers(os.path.join(ROOT, top), (".c", ".h", ".rb", ".pp", ".py", "")).items():
            assert lic == "Apache-2.0", path
    assert spdx_headers(os.path.join(ROOT, "roles"), (".py",)) != {}, "the module has no SPDX header"


# Which releases carry libjansson4 >= 2.14 (symbol-versioned, so a binary built
# on Debian 12 needs it): Debian 11 and Ubuntu 22.04 have 2.13.1.
JANSSON = {("Debian", "11"): "2.13.1", ("Debian", "12"): "2.14", ("Ubuntu", "22.04"): "2.13.1",
           ("Ubuntu", "24.04"): "2.14"}
CODENAMES = {"bookworm": ("Debian", "12"), "bullseye": ("Debian", "11"), "jammy": ("Ubuntu", "22.04"),
             "noble": ("Ubuntu", "24.04")}


def test_supported_platforms_are_true_and_agree():
    shlibs = glob.glob("/var/lib/dpkg/info/libjansson4*.shlibs")
    assert shlibs, "libjansson4 is not installed"
    need = re.search(r"libjansson4 \(>= ([0-9.]+)\)", open(shlibs[0]).read()).group(1)
    meta = json.load(open(os.path.join(ROOT, "modules", "puppet", "metadata.json")))
    puppet = {(o["operatingsystem"], r) for o in meta["operatingsystem_support"] for r in o["operatingsystemrelease"]}
    assert puppet == {("Debian", "12"), ("Ubuntu", "24.04")}
    for osr in puppet:
        have = [int(x) for x in JANSSON[osr].split(".")]
        assert have >= [int(x) for x in need.split(".")], f"{osr} has libjansson4 {JANSSON[osr]} < {need}"
    role = yaml.safe_load(open(os.path.join(ROOT, "roles", "ansible", "meta", "main.yml")))
    ansible = {CODENAMES[v] for p in role["galaxy_info"]["platforms"] for v in p["versions"]}
    # Ubuntu noble is missing from meta/main.yml only because ansible-lint
    # 6.13's Galaxy schema does not know it (the file says so)
    assert ansible | {("Ubuntu", "24.04")} == puppet
    for readme in ("README.md", "modules/puppet/README.md", "roles/ansible/README.md", "collection/README.md"):
        text = open(os.path.join(ROOT, readme)).read()
        assert "Debian 12" in text and "Ubuntu 24.04" in text, readme
        assert not re.search(r"Debian 11|Ubuntu 22\.04|focal|bullseye", text), readme


def test_changelog_names_this_version():
    text = open(os.path.join(ROOT, "modules", "puppet", "CHANGELOG.md")).read()
    assert re.search(rf"^## \[?{re.escape(VERSION)}\]?", text, re.M)
