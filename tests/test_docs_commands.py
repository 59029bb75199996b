"""The commands in the README's and docs/' code blocks run as written: each repository
file they name exists, each `make` target is in the Makefile, and each flag they pass is
in its script's --help (for the bash wrappers, the script they hand their flags to)."""

import functools
import re
import shlex
import subprocess
import sys

import pytest
from conftest import ROOT

PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
# a bash wrapper's own flags, and the script it passes the rest to
WRAPPERS = {
    "gce_train.bash": "train.py",
    "extract.bash": "extract.py",
    "gpu_jobs.bash": None,
    "reproduce.bash": None,
    "demo.bash": None,
}
WRAPPER_FLAGS = {"gpu_jobs.bash": {"--preset"}}
LAUNCHERS = {"python", "python3", ".venv/bin/python", "bash", "mpirun", ".venv/bin/mpirun"}
INPUT_FLAGS = {"--vae", "--rnn", "--init", "--controller", "--initial-z", "--against"}
PLACEHOLDERS = ("RUN", "$", "runs/", "cand", "FILE", "agent", "record", "figures", "tf_")


def commands(page: str) -> list[str]:
    """The lines of a page's indented code blocks, continuation lines joined."""
    out, pending = [], ""
    for line in (ROOT / page).read_text().splitlines():
        if not line.startswith("    "):
            continue
        text = line.strip()
        if text.endswith("\\"):
            pending += text[:-1] + " "
            continue
        out.append(pending + text)
        pending = ""
    return out


def split(command: str) -> list[str] | None:
    """The words of a command, without its comment and leading VAR=value settings; None
    when the line is not a command (sample output, a host file, BibTeX)."""
    try:
        words = shlex.split(command, comments=True)
    except ValueError:
        return None
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
        words = words[1:]
    if not words or words[0] not in LAUNCHERS | {"make", ".venv/bin/pip", "jupyter"}:
        return None
    return words


@functools.cache
def help_text(script: str) -> str:
    proc = subprocess.run(
        [sys.executable, script, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, f"{script} --help: {proc.stderr[-500:]}"
    return proc.stdout


def make_targets() -> set[str]:
    return set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))


CASES = [(page, c) for page in PAGES for c in commands(page) if split(c)]


def test_pages_have_commands():
    assert sum(page == "README.md" for page, _ in CASES) >= 8
    assert {"README.md", "docs/pipeline.md", "docs/results.md"} <= {page for page, _ in CASES}


@pytest.mark.parametrize("page, command", CASES, ids=[f"{p}: {c[:60]}" for p, c in CASES])
def test_command_runs_as_written(page, command):
    words = split(command)
    if words[0] == "make":
        assert set(words[1:]) <= make_targets(), f"{page}: {command}: no such make target"
        return
    if words[0] in (".venv/bin/pip", "jupyter"):
        named = [w for w in words if w.endswith(".ipynb")]
        assert all((ROOT / w).is_file() for w in named), command
        return
    if "-c" in words[1:2]:  # python -c "...": code, not a script
        return
    scripts = [i for i, w in enumerate(words) if w.endswith((".py", ".bash"))]
    assert scripts, f"{page}: {command}: names no script"
    k = scripts[0]
    script, args = words[k], words[k + 1 :]
    assert (ROOT / script).is_file(), f"{page}: {command}: {script} is not in the repository"
    target = WRAPPERS.get(script, script)
    own = WRAPPER_FLAGS.get(script, set())
    flags = [a.split("=")[0] for a in args if re.match(r"--?[a-zA-Z]", a)]
    if target is None:
        assert set(flags) <= own, f"{page}: {command}: {script} takes only {own or 'no flags'}"
        return
    text = help_text(target)
    for flag in flags:
        if flag in own:
            continue
        assert re.search(rf"(^|[\s,\[]){re.escape(flag)}([\s,=\]]|$)", text, re.M), (
            f"{page}: {command}: {flag} is not in {target} --help"
        )
    if target == "model.py" and args:
        assert args[0] in {"render", "norender", "record", "map", "dream"}, command
    reading = None  # the input flag whose values come next (--against takes several)
    for a in args:  # the files a command reads must be there
        if a.startswith("-"):
            reading = a if a in INPUT_FLAGS else None
            continue
        values = []
        if reading:
            values = a.split(":") if reading == "--against" else [a]
            reading = reading if reading == "--against" else None
        elif a.endswith(".json"):
            values = [a]
        elif re.fullmatch(r"log/[\w/]*carracing\.cma\.\d+\.\d+", a):  # a run's log base
            values = [f"{a}.hist.json"]
        for v in values:
            if not any(p in v for p in PLACEHOLDERS):
                assert (ROOT / v).is_file(), f"{page}: {command}: {v} is not in the repository"


def test_readme_reads_in_five_minutes():
    """At most 200 lines and 1,800 words, and no paragraph or list item over 80 words."""
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 200 and len(text.split()) <= 1800
    for block in re.split(r"\n\s*\n", text):
        if block.startswith(("    ", "|")):
            continue  # code and tables
        for item in re.split(r"\n(?=- |\d+\. )", block):
            assert len(item.split()) <= 80, item[:80]
