"""BENCHMARKS.md's tables, regenerated from one `make bench` run.

    python bench/tables.py BENCH_LOG [--markdown BENCHMARKS.md]

Each bench script prints its table between a `<!-- table NAME -->` line and a
`<!-- /table -->` line (`print_table`). This puts every table of the log into the
markdown file in place of the block with the same name, so that all of them come from
one run, and names the ones it replaced. A block missing from either side, or a page
with two blocks of one name, is an error: nothing is written.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import numerics  # noqa: E402, F401 - before numpy, as in every script

# isort: split

from common import ArgumentParser, UserError, atomic_write, run_main  # noqa: E402

BLOCK = re.compile(r"^<!-- table (\S+) -->\n(.*?)^<!-- /table -->\n", re.S | re.M)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def print_table(name: str, header: list[str], rows: list[list]) -> None:
    """A markdown table with the command, date and CPU that produced it, as a block that
    `tables.py` can put into BENCHMARKS.md."""
    command = " ".join(["python", f"bench/{Path(sys.argv[0]).name}", *sys.argv[1:]])
    lines = [
        f"<!-- table {name} -->",
        f"`{command}` on {datetime.date.today().isoformat()}, {cpu_name()}, "
        f"{os.cpu_count()} cores:",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    print("\n".join(lines + ["<!-- /table -->"]), flush=True)


def blocks(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in BLOCK.finditer(text)}


def replace_blocks(markdown: str, new: dict[str, str], where: str = "BENCHMARKS.md") -> str:
    """`markdown` with each named block's body replaced by `new`'s."""
    names = [m.group(1) for m in BLOCK.finditer(markdown)]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UserError(
            f"{where}: more than one block for table(s) {', '.join(twice)} "
            f"(expected one '<!-- table NAME -->' line for each)"
        )
    old = set(names)
    missing = sorted(set(new) - set(old))
    if missing:
        raise UserError(
            f"{where}: no block for table(s) {', '.join(missing)} "
            f"(expected a '<!-- table NAME -->' line for each)"
        )
    return BLOCK.sub(
        lambda m: (
            f"<!-- table {m.group(1)} -->\n{new.get(m.group(1), m.group(2))}<!-- /table -->\n"
        ),
        markdown,
    )


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("log", help="the output of bench/run_all.bash")
    parser.add_argument("--markdown", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args(argv)
    try:
        new = blocks(Path(args.log).read_text())
        markdown = Path(args.markdown).read_text()
    except OSError as e:
        raise UserError(f"{e.filename}: cannot read ({e.strerror})") from None
    if not new:
        raise UserError(
            f"{args.log}: no tables (expected '<!-- table NAME -->' blocks "
            f"printed by the bench scripts)"
        )
    text = replace_blocks(markdown, new, args.markdown)
    atomic_write(args.markdown, lambda f: f.write(text), "w")
    print(f"tables.py: {args.markdown}: replaced {', '.join(sorted(new))}")
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
