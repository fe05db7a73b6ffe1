"""The agent's layers are folders (README.md "Layout"), and the code keeps to them.

    lib  <  model  <  backend, host  <  cli

A file may include headers of its own layer and of the layers below it; backend
and host are peers that never include each other.  Every quoted include names
its layer ("model/plan.h"), except the generated "version.h".  The model is
pure: it neither logs nor does I/O of its own (it may write into a FILE or
a JSON writer, struct jw, its caller hands it, as facts_write() and
report_write_json() do, but it opens, reads and writes nothing, and never
touches stdin, stdout or stderr).

One printer: JSON is written by lib/json-writer.c alone; jansson is for
reading (facts-load, a child's report), never for printing.
"""
import glob
import os
import re

import pytest

from ocutil import ROOT

SRC = os.path.join(ROOT, "agent", "src")
RANK = {"lib": 0, "model": 1, "backend": 2, "host": 2, "cli": 3}
GENERATED = {"version.h"}

# What the model may not call: opening, reading and writing files, sockets,
# directories, the environment, the kernel, the standard streams.  (fclose
# is not here: a model file may build a string with open_memstream.)
MODEL_FORBIDDEN_CALLS = [
    "open", "openat", "openat2", "fopen", "fdopen", "freopen", "read", "write", "pread", "pwrite",
    "close", "socket", "ioctl", "opendir", "readdir", "closedir", "stat", "fstat",
    "lstat", "fstatat", "access", "faccessat", "uname", "getenv", "secure_getenv", "printf",
    "vprintf", "puts", "putchar", "perror", "getchar", "fgets", "fread", "getline", "scanf",
    "unlink", "rename", "mkdir", "json_load_file", "json_dump_file", "inotify_init1",
]
MODEL_FORBIDDEN_HEADERS = ["dirent.h", "fcntl.h", "unistd.h", "sys/socket.h", "sys/ioctl.h",
                           "sys/utsname.h", "sys/inotify.h", "netlink/", "linux/netlink.h"]
MODEL_FORBIDDEN_NAMES = ["stdin", "stdout", "stderr", "STDIN_FILENO", "STDOUT_FILENO",
                         "STDERR_FILENO"]


def sources():
    return sorted(glob.glob(os.path.join(SRC, "**", "*.[ch]"), recursive=True))


def layer_of(path):
    return os.path.relpath(path, SRC).split(os.sep)[0]


def strip_c(text):
    """C source without comments and string literals (include lines kept)."""
    out = []
    for line in re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text,
                       flags=re.S).split("\n"):
        if line.lstrip().startswith("#include"):
            out.append(line)
        else:
            out.append(re.sub(r'//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', '""', line))
    return "\n".join(out)


def includes(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for n, line in enumerate(text.split("\n"), 1):
        m = re.match(r'\s*#\s*include\s*([<"])([^">]+)[">]', line)
        if m:
            yield n, m.group(1), m.group(2)


def test_every_source_is_in_a_layer():
    loose = [p for p in glob.glob(os.path.join(SRC, "*")) if os.path.isfile(p)]
    assert loose == [], "files outside the layer folders"
    folders = {d for d in os.listdir(SRC) if os.path.isdir(os.path.join(SRC, d))}
    assert folders == set(RANK)
    assert len(sources()) > 40


def test_includes_name_their_layer_and_go_down():
    bad = []
    for path in sources():
        me = layer_of(path)
        rel = os.path.relpath(path, ROOT)
        for n, kind, name in includes(path):
            if kind == "<":
                continue
            if name in GENERATED:
                continue
            top = name.split("/")[0]
            if "/" not in name or top not in RANK:
                bad.append(f"{rel}:{n}: \"{name}\" does not name its layer")
            elif not os.path.exists(os.path.join(SRC, name)):
                bad.append(f"{rel}:{n}: \"{name}\" does not exist")
            elif RANK[top] > RANK[me] or (RANK[top] == RANK[me] and top != me):
                bad.append(f"{rel}:{n}: {me} includes {top} (\"{name}\")")
    assert not bad, "\n".join(bad)


def test_the_model_neither_logs_nor_does_io():
    calls = re.compile(r"(?<![\w.>])(" + "|".join(MODEL_FORBIDDEN_CALLS) + r")\s*\(")
    names = re.compile(r"\b(" + "|".join(MODEL_FORBIDDEN_NAMES) + r")\b")
    bad = []
    for path in sources():
        if layer_of(path) != "model":
            continue
        rel = os.path.relpath(path, ROOT)
        for n, kind, name in includes(path):
            if name == "lib/log.h" or any(name.startswith(h) for h in MODEL_FORBIDDEN_HEADERS):
                bad.append(f"{rel}:{n}: includes {name}")
        with open(path, encoding="utf-8") as f:
            code = strip_c(f.read())
        for n, line in enumerate(code.split("\n"), 1):
            if line.lstrip().startswith("#"):
                continue
            for m in calls.finditer(line):
                bad.append(f"{rel}:{n}: calls {m.group(1)}()")
            for m in re.finditer(r"\blog_\w+\s*\(", line):
                bad.append(f"{rel}:{n}: logs ({m.group(0).rstrip('(').strip()})")
            for m in names.finditer(line):
                bad.append(f"{rel}:{n}: uses {m.group(1)}")
    assert not bad, "\n".join(bad)


JSON_PRINTER = os.path.join("lib", "json-writer.c")
JANSSON_PRINTING = re.compile(r"(?<![\w.>])(json_dump\w*|json_pack\w*)\s*\(")


def test_one_printer():
    """No jansson tree is built to be printed: json_dump*() and json_pack()
    appear in the writer only."""
    bad = []
    for path in sources():
        if os.path.relpath(path, SRC) == JSON_PRINTER:
            continue
        with open(path, encoding="utf-8") as f:
            code = strip_c(f.read())
        for n, line in enumerate(code.split("\n"), 1):
            for m in JANSSON_PRINTING.finditer(line):
                bad.append(f"{os.path.relpath(path, ROOT)}:{n}: {m.group(1)}()")
    assert not bad, "JSON printed outside lib/json-writer.c:\n" + "\n".join(bad)


def failure_of(check, tmp_path, monkeypatch, files):
    """What check says of a tree of its own (path -> text): the checks
    below show that the ones above can fail."""
    src = tmp_path / "src"
    for path, text in files.items():
        (src / path).parent.mkdir(parents=True, exist_ok=True)
        (src / path).write_text(text)
    monkeypatch.setattr(__import__(__name__), "SRC", str(src))
    with pytest.raises(AssertionError) as e:
        check()
    return str(e.value)


@pytest.mark.parametrize("snippet, what", [
    ('#include "cli/cli.h"\n', "includes cli"),
    ('#include "plan.h"\n', "does not name its layer"),
])
def test_the_include_check_catches(tmp_path, snippet, what, monkeypatch):
    """A model file including the command layer, or an include without its
    layer, is caught."""
    text = failure_of(test_includes_name_their_layer_and_go_down, tmp_path, monkeypatch,
                      {"cli/cli.h": "", "model/plan.h": "", "model/bad.c": snippet})
    assert what in text


def test_the_io_check_catches(tmp_path, monkeypatch):
    text = failure_of(test_the_model_neither_logs_nor_does_io, tmp_path, monkeypatch, {
        "lib/log.h": "",
        "model/bad.c": '#include "lib/log.h"\n/* fopen( in a comment is fine */\n'
                       'int f(void) { log_warn("x"); fprintf(stderr, "y"); return open("z", 0); }\n',
    })
    assert "includes lib/log.h" in text and "logs" in text and "uses stderr" in text
    assert "calls open()" in text and "fopen" not in text


def test_the_printer_check_catches(tmp_path, monkeypatch):
    text = failure_of(test_one_printer, tmp_path, monkeypatch, {
        "cli/bad.c": '/* json_dumpf( in a comment is fine */\n'
                     'void f(json_t *j) { json_dumpf(j, stdout, 0); }\n',
    })
    assert "cli/bad.c:2: json_dumpf()" in text
