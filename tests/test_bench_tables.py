"""`make bench` regenerates BENCHMARKS.md's tables from one run (bench/tables.py)."""

import re
import sys

import pytest
from conftest import ROOT, run_script

sys.path.insert(0, str(ROOT / "bench"))
from tables import blocks, print_table, replace_blocks  # noqa: E402

from common import UserError  # noqa: E402

PAGE = """# Page

text before
<!-- table a -->
old a
<!-- /table -->
between
<!-- table b -->
old b
<!-- /table -->
after
"""


def test_a_printed_table_replaces_its_block_and_nothing_else(capsys):
    print_table("b", ["what", "figure"], [["speed", "12.5 steps/s"], ["ratio", "2.00 x"]])
    printed = capsys.readouterr().out
    new = blocks(printed)
    assert list(new) == ["b"]
    assert "| speed | 12.5 steps/s |" in new["b"] and "cores:" in new["b"]
    page = replace_blocks(PAGE, new)
    assert "old b" not in page and "| ratio | 2.00 x |" in page
    assert "old a" in page  # a table not in this run keeps its figures
    assert page.startswith("# Page\n\ntext before\n") and page.endswith("after\n")
    assert blocks(page).keys() == {"a", "b"}


def test_a_table_without_a_block_is_an_error():
    with pytest.raises(UserError, match="no block for table"):
        replace_blocks(PAGE, {"c": "x\n"})


def test_a_page_with_two_blocks_of_one_name_is_an_error():
    with pytest.raises(UserError, match="more than one block for table.s. a"):
        replace_blocks(PAGE + PAGE.split("between\n")[0], {"b": "x\n"})


def test_benchmarks_page_has_a_block_for_every_bench_table():
    """Otherwise `make bench` would stop at its last step."""
    printed = set()
    for script in (ROOT / "bench").glob("bench_*.py"):
        printed |= set(re.findall(r'print_table\(\s*"(\w+)"', script.read_text()))
    tables = {"extract", "world_model", "agent", "multihost", "dream", "render", "numerics"}
    assert printed == tables
    page = (ROOT / "BENCHMARKS.md").read_text()
    assert set(blocks(page)) == printed
    assert len(re.findall(r"^<!-- table ", page, re.M)) == len(printed)
    headings = re.findall(r"^## .*", page, re.M)
    assert len(headings) == len(set(headings)), "a section of BENCHMARKS.md appears twice"
    run_all = (ROOT / "bench/run_all.bash").read_text()
    assert "bench/tables.py" in run_all
    for script in (ROOT / "bench").glob("bench_*.py"):
        assert f"bench/{script.name}" in run_all, f"make bench does not run {script.name}"


def test_bad_log_leaves_the_page_as_it_was(tmp_path):
    page = tmp_path / "BENCHMARKS.md"
    page.write_text(PAGE)
    log = tmp_path / "bench.log"
    log.write_text("<!-- table zzz -->\n| x |\n<!-- /table -->\n")
    proc = run_script("bench/tables.py", str(log), "--markdown", str(page), check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "no block for table(s) zzz" in proc.stderr
    assert page.read_text() == PAGE
    log.write_text("<!-- table a -->\nnew a\n<!-- /table -->\n")
    run_script("bench/tables.py", str(log), "--markdown", str(page))
    assert page.read_text() == PAGE.replace("old a", "new a")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["BENCHMARKS.md", "bench.log"]
