"""Progress bars: tqdm's own in a terminal, whole lines in a log."""

import io
import subprocess
import sys

from conftest import ROOT, script_env
from tqdm import tqdm

from common import PlainProgress, progress

LOOP = """
from common import progress
for i in progress(range(400), desc="work", unit="ep"):
    pass
"""


def test_progress_in_a_log_is_whole_lines_every_few_percent():
    proc = subprocess.run(
        [sys.executable, "-c", LOOP],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=script_env(),
        check=True,
    )
    assert "\r" not in proc.stderr and "\x1b" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert 15 <= len(lines) <= 21, lines  # one line per 5%, at most
    assert all(line.startswith("work: ") for line in lines)
    assert "400/400" in lines[-1] and "100%" in lines[-1]


def test_progress_in_a_log_without_total_prints_every_interval():
    out = io.StringIO()
    bar = PlainProgress(
        total=None, desc="gens", unit="gen", file=out, interval=0.0, mininterval=0, miniters=1
    )
    for _ in range(3):
        bar.update(1)
    bar.close()
    assert [line.split()[:2] for line in out.getvalue().splitlines()] == [
        ["gens:", "1gen"],
        ["gens:", "2gen"],
        ["gens:", "3gen"],
    ]


def test_progress_in_a_terminal_is_tqdm():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out = Terminal()
    bar = progress(range(3), file=out, desc="tty")
    list(bar)
    assert type(bar) is tqdm and "\r" in out.getvalue()
    assert type(progress(range(3), file=io.StringIO())) is PlainProgress
