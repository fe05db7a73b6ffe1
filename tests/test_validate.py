"""`offloadctl validate`: the desired-state parser, its limits and its messages.

Every bad file in tests/fixtures/desired/bad/ has a sidecar NAME.expect with
one or more lines "LINE:COLUMN fragment": validate must exit 2 and print
"offloadctl: FILE:LINE:COLUMN: ...fragment..." for each line.  Every file in
warn/ validates with a warning in the same form ("offloadctl: warning: ..."):
feature names outside the agent's static table, which the running kernel
judges at check and apply.  Every file in good/ and examples/ must validate
without a word.  Inputs that are too big are generated here
rather than committed.
"""
import json
import os
import random
import re
import shutil
import subprocess
import tempfile

import pytest

from ocutil import ROOT, agent, agent_path

FIXTURES = os.path.join(ROOT, "tests", "fixtures", "desired")
BAD = os.path.join(FIXTURES, "bad")
WARN = os.path.join(FIXTURES, "warn")
GOOD = os.path.join(FIXTURES, "good")
EXAMPLES = os.path.join(ROOT, "examples")

# Generous: a bounded input finishes in milliseconds; this only catches a hang.
TIMEOUT = 60

MAX_FILE_SIZE = 1024 * 1024
MAX_RULES = 10000
MAX_DEPTH = 32


def yaml_files(d):
    return sorted(f for f in os.listdir(d) if f.endswith(".yaml"))


def read_expect(name, corpus=BAD):
    out = []
    with open(os.path.join(corpus, name[:-len(".yaml")] + ".expect"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            pos, frag = line.split(" ", 1)
            lineno, col = pos.split(":")
            out.append((int(lineno), int(col), frag))
    return out


def validate(*args, input=None, timeout=TIMEOUT):
    return agent("validate", *args, input=input, timeout=timeout)


def assert_error(p, where, line, col, fragment):
    """stderr has a line 'offloadctl: WHERE:LINE:COLUMN: ...fragment...'."""
    prefix = f"offloadctl: {where}:{line}:{col}: "
    lines = p.stderr.splitlines()
    assert any(ln.startswith(prefix) and fragment in ln for ln in lines), (
        f"expected {prefix!r} with {fragment!r}; got:\n{p.stderr}")


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return str(path)


RULE = "- {match: {name: eth0}, features: {tx: off}}\n"


def rules_doc(n):
    return "version: 1\ninterfaces:\n" + RULE * n


# ---- the corpora --------------------------------------------------------


def test_bad_corpus_is_large_and_complete():
    bad = yaml_files(BAD)
    assert len(bad) >= 35
    for name in bad:
        assert read_expect(name), f"{name} has an empty .expect"
    expects = {f[:-len(".expect")] for f in os.listdir(BAD) if f.endswith(".expect")}
    assert expects == {f[:-len(".yaml")] for f in bad}


@pytest.mark.parametrize("name", yaml_files(BAD))
def test_bad_file(name):
    path = os.path.join(BAD, name)
    p = validate(path)
    assert p.returncode == 2, p.stderr
    assert p.stdout == ""
    for line, col, frag in read_expect(name):
        assert_error(p, path, line, col, frag)
    # Every message names the file, a line and a column, and reads as the
    # house style asks: lowercase, no full stop.
    for ln in p.stderr.splitlines():
        m = re.match(r"offloadctl: (.+?):(\d+):(\d+): (.*)$", ln)
        assert m, ln
        assert m.group(1) == path
        assert int(m.group(2)) >= 1 and int(m.group(3)) >= 1
        assert not m.group(4)[0].isupper() and not m.group(4).endswith("."), ln


@pytest.mark.parametrize("name", yaml_files(BAD))
def test_bad_file_on_stdin(name):
    with open(os.path.join(BAD, name), "rb") as f:
        data = f.read()
    p = subprocess.run([agent_path(), "validate", "-"], input=data, capture_output=True,
                       timeout=TIMEOUT)
    assert p.returncode == 2
    line, col, frag = read_expect(name)[0]
    err = p.stderr.decode("utf-8", "replace")
    assert f"offloadctl: <stdin>:{line}:{col}: " in err and frag in err, err


@pytest.mark.parametrize("name", yaml_files(WARN))
def test_warn_file(name):
    """A feature name validate does not know is a warning, and --json says
    the same: valid, with the warning at its file:line:column."""
    path = os.path.join(WARN, name)
    p = validate(path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("valid: 1 file, ")
    for line, col, frag in read_expect(name, WARN):
        assert_error(p, "warning: " + path, line, col, frag)
    j = validate("--json", path)
    assert j.returncode == 0 and j.stderr == ""
    doc = json.loads(j.stdout)
    assert doc["valid"] is True and doc["errors"] == [] and doc["files"] == [path]
    line, col, frag = read_expect(name, WARN)[0]
    assert any(w.startswith(f"{path}:{line}:{col}: ") and frag in w for w in doc["warnings"])
    # --kernel: this host's kernel judges the name, as check would
    k = validate("--kernel", path)
    assert k.returncode == 2 and k.stdout == ""
    assert_error(k, path, line, col, f"unknown feature '{frag.split(chr(39))[1]}' for this kernel "
                 f"({os.uname().release})")
    # validate -q still warns (it only drops the summary); the global -q
    # ("only errors") does not
    q = validate("-q", path)
    assert q.stdout == "" and "warning: " in q.stderr
    assert agent("-q", "validate", path).stderr == ""


def test_kernel_accepts_what_the_kernel_has():
    """validate --kernel: a kernel name outside the static table but known
    to this kernel is valid, without a warning."""
    names = set(json.loads(agent("names", "--json").stdout)["features"]["kernel"])
    facts = json.loads(agent("facts", check=True).stdout)
    here = {n for i in facts["interfaces"].values() for n in i["features"]}
    good = os.path.join(GOOD, "minimal.yaml")
    assert validate("--kernel", good).returncode == 0

    def doc(name):
        return f"version: 1\ninterfaces:\n  - match: {{name: eth0}}\n    features: {{{name}: off}}\n"

    # a name of offloadctl's table that this kernel lacks: plain validate
    # takes it silently, --kernel refuses it
    gone = sorted(names - here)
    assert gone, "this kernel has every name of the table (tx-lockless, ...)?"
    assert validate("-", input=doc(gone[0])).stderr == ""
    k = validate("--kernel", "-", input=doc(gone[0]))
    assert k.returncode == 2 and f"unknown feature '{gone[0]}' for this kernel" in k.stderr
    # a name this kernel has beyond the table (newer kernels): the other way
    for extra in sorted(here - names)[:1]:
        plain = validate("-", input=doc(extra))
        assert plain.returncode == 0 and "warning: " in plain.stderr
        k = validate("--kernel", "-", input=doc(extra))
        assert k.returncode == 0 and k.stderr == "", k.stderr


def test_warn_corpus_is_complete():
    files = yaml_files(WARN)
    assert len(files) >= 3
    assert {f[:-len(".expect")] for f in os.listdir(WARN) if f.endswith(".expect")} == \
        {f[:-len(".yaml")] for f in files}


@pytest.mark.parametrize("name", ["version-2.yaml", "several-errors.yaml"])
def test_bad_file_json(name):
    """validate --json: not valid, every error in the one location format."""
    path = os.path.join(BAD, name)
    p = validate("--json", path)
    assert p.returncode == 2
    doc = json.loads(p.stdout)
    assert doc["valid"] is False and doc["files"] == [path]
    want = [f"{path}:{line}:{col}: " for line, col, _ in read_expect(name)]
    for w in want:
        assert any(e.startswith(w) for e in doc["errors"]), (w, doc["errors"])
    assert all(re.match(re.escape(path) + r":\d+:\d+: ", e) for e in doc["errors"])


@pytest.mark.parametrize("name", yaml_files(GOOD))
def test_good_file(name):
    p = validate(os.path.join(GOOD, name))
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    assert p.stdout.startswith("valid: 1 file, ")


def test_good_counts():
    p = validate(os.path.join(GOOD, "contract-example.yaml"))
    assert p.stdout.strip() == "valid: 1 file, 1 rule, 3 feature settings"
    p = validate(os.path.join(GOOD, "virtualization.yaml"))
    assert p.stdout.strip() == "valid: 1 file, 4 rules, 5 feature settings"
    p = validate(os.path.join(GOOD, "commented-out.yaml"))
    assert p.stdout.strip() == "valid: 1 file, 0 rules, 0 feature settings"


@pytest.mark.parametrize("name", yaml_files(EXAMPLES))
def test_example(name):
    p = validate(os.path.join(EXAMPLES, name))
    assert p.returncode == 0, p.stderr


def test_examples_exist():
    names = set(yaml_files(EXAMPLES))
    assert {"xen-domu.yaml", "container-host.yaml", "offloadctl.yaml"} <= names


def test_shipped_configuration_changes_nothing():
    p = validate(os.path.join(EXAMPLES, "offloadctl.yaml"))
    assert p.returncode == 0
    assert ", 0 rules," in p.stdout


def test_xen_example_turns_offloads_off():
    p = validate(os.path.join(EXAMPLES, "xen-domu.yaml"))
    assert p.returncode == 0
    with open(os.path.join(EXAMPLES, "xen-domu.yaml")) as f:
        text = f.read()
    for want in ("xen_netfront", "xen-domU", "tx: off", "sg: off", "tso: off", "gso: off"):
        assert want in text


def test_quiet():
    p = validate("-q", os.path.join(GOOD, "minimal.yaml"))
    assert p.returncode == 0 and p.stdout == ""


# ---- stdin, several files -----------------------------------------------


def test_stdin_good():
    with open(os.path.join(GOOD, "contract-example.yaml")) as f:
        p = validate("-", input=f.read())
    assert p.returncode == 0, p.stderr
    assert "1 rule, 3 feature settings" in p.stdout


def test_stdin_bad_is_named_stdin():
    p = validate("-", input="version: 1\ninterfaces:\n  - match: {name: eth0}\n    features: {tx: nope}\n")
    assert p.returncode == 2
    assert_error(p, "<stdin>", 4, 20, "invalid value 'nope' for feature 'tx'")


def test_several_files_add_up():
    a = os.path.join(GOOD, "contract-example.yaml")
    b = os.path.join(GOOD, "virtualization.yaml")
    p = validate(a, b)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "valid: 2 files, 5 rules, 8 feature settings"


def test_several_files_every_error_reported():
    a = os.path.join(BAD, "version-2.yaml")
    g = os.path.join(GOOD, "minimal.yaml")
    b = os.path.join(BAD, "bool-maybe.yaml")
    p = validate(a, g, b)
    assert p.returncode == 2
    assert_error(p, a, 1, 10, "unsupported version")
    assert_error(p, b, 6, 11, "invalid value 'maybe'")
    assert p.stderr.index(a) < p.stderr.index(b)
    assert g not in p.stderr


def test_unreadable_file(tmp_path):
    missing = str(tmp_path / "nope.yaml")
    p = validate(os.path.join(GOOD, "minimal.yaml"), missing)
    assert p.returncode == 2
    assert f"offloadctl: cannot read '{missing}': No such file or directory" in p.stderr
    p = validate(str(tmp_path))
    assert p.returncode == 2
    assert f"refusing '{tmp_path}': it is a directory, not a regular file" in p.stderr


# ---- limits: bounded time and memory ------------------------------------


def test_huge_file_refused(tmp_path):
    path = write(tmp_path / "huge.yaml", rules_doc(MAX_FILE_SIZE // len(RULE) + 10))
    assert os.path.getsize(path) > MAX_FILE_SIZE
    p = validate(path)
    assert p.returncode == 2
    assert_error(p, path, 1, 1, "file is larger than 1048576 bytes")


def test_file_just_under_the_size_limit_is_read(tmp_path):
    text = "version: 1\ninterfaces:\n"
    text += "# padding\n" * ((MAX_FILE_SIZE - len(text) - 200) // 10)
    text += RULE
    assert len(text) <= MAX_FILE_SIZE
    p = validate(write(tmp_path / "big.yaml", text))
    assert p.returncode == 0, p.stderr


def test_huge_stdin_refused_without_reading_it_all():
    # 16 MiB of a valid-looking stream: refused after the first MiB.
    data = "version: 1\n" + "# " + "x" * (16 * MAX_FILE_SIZE) + "\n"
    p = validate("-", input=data)
    assert p.returncode == 2
    assert_error(p, "<stdin>", 1, 1, "file is larger than")


def test_rule_limit(tmp_path):
    ok = write(tmp_path / "ok.yaml", rules_doc(MAX_RULES))
    p = validate(ok)
    assert p.returncode == 0, p.stderr[:500]
    assert f"{MAX_RULES} rules" in p.stdout
    over = write(tmp_path / "over.yaml", rules_doc(MAX_RULES + 1))
    p = validate(over)
    assert p.returncode == 2
    assert_error(p, over, MAX_RULES + 3, 3, "more than 10000 rules")


def test_rule_limit_counts_every_file(tmp_path):
    a = write(tmp_path / "a.yaml", rules_doc(6000))
    b = write(tmp_path / "b.yaml", rules_doc(6000))
    assert validate(a).returncode == 0
    p = validate(a, b)
    assert p.returncode == 2
    assert_error(p, b, 4000 + 3, 3, "more than 10000 rules")


def test_nesting_limit_boundary(tmp_path):
    # The top-level mapping is one level, so MAX_DEPTH - 1 lists fit under it.
    fits = write(tmp_path / "fits.yaml",
                 "version: 1\nx: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n")
    p = validate(fits)
    assert p.returncode == 2
    assert "nesting deeper" not in p.stderr
    assert_error(p, fits, 2, 1, "unknown key 'x'")
    deep = write(tmp_path / "deep.yaml",
                 "version: 1\nx: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n")
    p = validate(deep)
    assert p.returncode == 2
    assert_error(p, deep, 2, 4 + MAX_DEPTH - 1, "nesting deeper than 32 levels")


def test_very_deep_nesting_is_cheap(tmp_path):
    path = write(tmp_path / "deep.yaml", "[" * 500000 + "]" * 500000 + "\n")
    p = validate(path)
    assert p.returncode == 2
    assert_error(p, path, 1, MAX_DEPTH + 1, "nesting deeper than 32 levels")


def test_too_many_nodes(tmp_path):
    path = write(tmp_path / "flat.yaml", "version: 1\nx: [" + "1," * 450000 + "]\n")
    assert os.path.getsize(path) <= MAX_FILE_SIZE
    p = validate(path)
    assert p.returncode == 2
    assert re.search(rf"{re.escape(path)}:2:\d+: too many YAML nodes", p.stderr), p.stderr


def test_many_duplicates_bounded_output(tmp_path):
    body = "".join("    tx: off\n" for _ in range(80000))
    path = write(tmp_path / "dups.yaml",
                 "version: 1\ninterfaces:\n- match: {name: x}\n  features:\n" + body)
    p = validate(path)
    assert p.returncode == 2
    assert_error(p, path, 6, 5, "duplicate key 'tx' (first at line 5, column 5)")
    lines = p.stderr.splitlines()
    assert len(lines) <= 60
    assert "too many errors" in lines[-1]


def test_many_keys_one_mapping(tmp_path):
    path = write(tmp_path / "keys.yaml",
                 "version: 1\n" + "".join(f"k{i}: 1\n" for i in range(100000)))
    p = validate(path)
    assert p.returncode == 2
    assert_error(p, path, 2, 1, "unknown key 'k0' at the top level")


def test_billion_laughs_wider(tmp_path):
    # Nine levels of nine aliases each would be 9**9 nodes if expanded.
    text = 'version: 1\nl0: &l0 ["' + "lol" * 100 + '"]\n'
    for i in range(1, 12):
        text += f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n"
    path = write(tmp_path / "lol.yaml", text)
    p = validate(path)
    assert p.returncode == 2
    assert_error(p, path, 3, 10, "aliases ('*l0') are not supported")
    assert p.stderr.count("aliases") == 1


# ---- the configuration set ----------------------------------------------


def confdir(tmp_path, main=None, dropins=None):
    d = tmp_path / "etc"
    d.mkdir()
    if main is not None:
        write(d / "offloadctl.yaml", main)
    if dropins is not None:
        (d / "conf.d").mkdir()
        for name, text in dropins.items():
            write(d / "conf.d" / name, text)
    return str(d)


def validate_dir(d, *args):
    return agent("--config-dir", d, "validate", *args, timeout=TIMEOUT)


def test_confdir_main_only(tmp_path):
    d = confdir(tmp_path, main=rules_doc(2))
    p = validate_dir(d)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "valid: 1 file, 2 rules, 2 feature settings"


def test_confdir_main_and_dropins(tmp_path):
    d = confdir(tmp_path, main=rules_doc(1), dropins={
        "20-b.yaml": rules_doc(2),
        "10-a.yaml": rules_doc(3),
        "README": "not yaml: [",
        "30-c.yaml.disabled": "not yaml: [",
        "40-d.yml": "not yaml: [",
        ".50-hidden.yaml": "not yaml: [",
    })
    p = validate_dir(d)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "valid: 3 files, 6 rules, 6 feature settings"


def test_confdir_dropins_only(tmp_path):
    d = confdir(tmp_path, dropins={"50-x.yaml": rules_doc(1)})
    p = validate_dir(d)
    assert p.returncode == 0, p.stderr
    assert "valid: 1 file, 1 rule" in p.stdout


def test_confdir_order_main_then_names(tmp_path):
    d = confdir(tmp_path, main="version: 7\n", dropins={
        "b.yaml": "version: 8\n", "a.yaml": "version: 9\n", "B.yaml": "version: 6\n"})
    p = validate_dir(d)
    assert p.returncode == 2
    order = [re.search(r"version '(\d)'", ln).group(1) for ln in p.stderr.splitlines()]
    # offloadctl.yaml first, then strcmp order: "B.yaml" < "a.yaml" < "b.yaml".
    assert order == ["7", "6", "9", "8"]


def test_confdir_nothing(tmp_path):
    d = confdir(tmp_path)
    p = validate_dir(d)
    assert p.returncode == 2
    assert (f"offloadctl: no configuration: neither '{d}/offloadctl.yaml' nor "
            f"'{d}/conf.d/*.yaml' exist; give a FILE or create one") in p.stderr


def test_confdir_empty_confd_and_no_main(tmp_path):
    d = confdir(tmp_path, dropins={"notes.txt": "hello"})
    p = validate_dir(d)
    assert p.returncode == 2
    assert "no configuration: neither" in p.stderr


def test_confdir_missing_dir(tmp_path):
    p = validate_dir(str(tmp_path / "does-not-exist"))
    assert p.returncode == 2
    assert "no configuration: neither" in p.stderr


def test_confdir_bad_dropin(tmp_path):
    d = confdir(tmp_path, main=rules_doc(1), dropins={"10-bad.yaml": "version: 1\ninterfaces: [\n"})
    p = validate_dir(d)
    assert p.returncode == 2
    assert_error(p, f"{d}/conf.d/10-bad.yaml", 3, 1, "invalid YAML")


def test_files_override_confdir(tmp_path):
    d = confdir(tmp_path, main="version: 5\n")
    p = validate_dir(d, os.path.join(GOOD, "minimal.yaml"))
    assert p.returncode == 0, p.stderr


def test_defaults_in_several_files(tmp_path):
    a = write(tmp_path / "a.yaml", "version: 1\ndefaults: {missing-interface: error}\n")
    b = write(tmp_path / "b.yaml", "version: 1\ndefaults: {missing-interface: ignore, fixed-feature: warn}\n")
    p = validate(a, b)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "valid: 2 files, 0 rules, 0 feature settings"


# ---- no privilege needed --------------------------------------------------


@pytest.fixture
def public_dir():
    d = tempfile.mkdtemp(prefix="oc-validate-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d)


def as_nobody(*args):
    if os.geteuid() != 0:
        pytest.skip("needs root to drop to uid 65534")
    cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", agent_path(), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)


def test_unprivileged_validate(public_dir):
    path = os.path.join(public_dir, "x.yaml")
    shutil.copy(os.path.join(GOOD, "contract-example.yaml"), path)
    os.chmod(path, 0o644)
    p = as_nobody("validate", path)
    assert p.returncode == 0, p.stderr
    assert "1 rule, 3 feature settings" in p.stdout


def test_unprivileged_confdir(public_dir):
    os.mkdir(os.path.join(public_dir, "conf.d"))
    os.chmod(os.path.join(public_dir, "conf.d"), 0o755)
    for rel in ("offloadctl.yaml", "conf.d/50-xen.yaml"):
        shutil.copy(os.path.join(EXAMPLES, "xen-domu.yaml"), os.path.join(public_dir, rel))
        os.chmod(os.path.join(public_dir, rel), 0o644)
    p = as_nobody("--config-dir", public_dir, "validate")
    assert p.returncode == 0, p.stderr
    assert "valid: 2 files, 2 rules" in p.stdout


def test_unprivileged_unreadable_file(public_dir):
    path = os.path.join(public_dir, "secret.yaml")
    shutil.copy(os.path.join(GOOD, "minimal.yaml"), path)
    os.chmod(path, 0o600)
    p = as_nobody("validate", path)
    assert p.returncode == 2
    assert f"cannot read '{path}': Permission denied" in p.stderr


# ---- no crash on any input ------------------------------------------------


def run_bytes(data):
    p = subprocess.run([agent_path(), "validate", "-"], input=data, capture_output=True,
                       timeout=TIMEOUT)
    assert p.returncode in (0, 2), (p.returncode, data[:200], p.stderr[-500:])
    return p


def test_random_bytes_never_crash():
    rnd = random.Random(20240501)
    for _ in range(150):
        data = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 400)))
        p = run_bytes(data)
        assert p.returncode == 2
        assert re.search(rb"^offloadctl: <stdin>:\d+:\d+: ", p.stderr, re.M), p.stderr


def test_mutated_documents_never_crash():
    rnd = random.Random(7)
    seeds = []
    for d in (GOOD, EXAMPLES):
        for name in yaml_files(d):
            with open(os.path.join(d, name), "rb") as f:
                seeds.append(f.read())
    alphabet = b" \t\n:-[]{},&*!|>'\"#?%@`0123456789abcxyzon\xc3\xa9\x00\xff"
    outcomes = set()
    for _ in range(300):
        data = bytearray(rnd.choice(seeds))
        for _ in range(rnd.randrange(1, 6)):
            pos = rnd.randrange(len(data) + 1)
            op = rnd.randrange(3)
            if op == 0 and data:
                del data[pos:pos + rnd.randrange(1, 8)]
            elif op == 1:
                data[pos:pos] = bytes([rnd.choice(alphabet)])
            elif data:
                data[min(pos, len(data) - 1)] = rnd.choice(alphabet)
        p = run_bytes(bytes(data))
        outcomes.add(p.returncode)
        if p.returncode == 2:
            assert re.search(rb"^offloadctl: <stdin>:\d+:\d+: ", p.stderr, re.M), p.stderr
    assert outcomes == {0, 2}
