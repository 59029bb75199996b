"""The paper's table (docs/results.md "The paper's table", summed up in the README's
results): every row this project scored ships its controller, its logs and its 100-track
scores, and both pages quote those files."""

import re
import shlex

import numpy as np
import pytest
from conftest import ROOT, run_in_process
from test_shipped import check_logs, published_rewards

from common import UserError, read_json
from model import MODES, load_controller_params


def table_rows() -> list[dict[str, str]]:
    """The table's rows that this project has scored, as {column: cell}."""
    text = (ROOT / "docs/results.md").read_text()
    section = text.split("## The paper's table", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = [
        dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True))
        for line in lines[2:]
    ]
    return [r for r in rows if r["scores"]]


def command_args(row: dict[str, str]) -> list[str]:
    """The row's re-score command, `model.py norender ...`, as arguments for run_script."""
    command = shlex.split(row["re-score (100 tracks)"].strip("`"))
    assert command[:2] == ["model.py", "norender"], row
    return command


def option(args: list[str], name: str, default: str) -> str:
    return args[args.index(name) + 1] if name in args else default


ROWS = table_rows()
IDS = [r["agent"].split(":")[0].split("(")[0].strip() for r in ROWS]


def test_the_table_has_the_papers_rows_and_this_projects():
    text = (ROOT / "docs/results.md").read_text().split("## The paper's table", 1)[1]
    for paper in ("632 +/- 251", "788 +/- 141", "906 +/- 21"):
        assert paper in text.split("\n## ", 1)[0]
    modes = {option(command_args(r), "--mode", "zh") for r in ROWS}
    assert {"zh", "z"} <= modes, "the full agent and V only are scored"


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_row_controller_loads_with_its_mode_only(row):
    args = command_args(row)
    mode = option(args, "--mode", "zh")
    load_controller_params(ROOT / args[2], mode)
    for other in set(MODES) - {mode}:
        with pytest.raises(UserError, match=f"--mode {mode}"):
            load_controller_params(ROOT / args[2], other)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_row_logs_record_the_evaluation_that_chose_it(row):
    args = command_args(row)
    check_logs(str(ROOT / args[2])[: -len(".best.json")], option(args, "--mode", "zh"))


# the README's results table: the paper's rows and the untrained M (the 3-hour recipe's
# row is quoted by the README's laptop section instead, see test_shipped)
README_ROWS = [r for r in ROWS if "log/laptop/" not in r["scores"]]


@pytest.mark.parametrize("row", README_ROWS, ids=[IDS[ROWS.index(r)] for r in README_ROWS])
def test_readme_results_quote_the_rows_score_file(row):
    """The README's results table gives each of the paper's rows the same score."""
    rewards = published_rewards(ROOT / row["scores"].strip("`"))
    readme = (ROOT / "README.md").read_text().split("## Results", 1)[1].split("\n## ", 1)[0]
    assert f"| {np.mean(rewards):.1f} +/- {np.std(rewards):.1f} |" in readme


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_results_quote_the_rows_score_file(row):
    """mean +/- standard deviation and median of the 100 tracks in the row's score file,
    which is `model.py norender`'s output for seeds 0..99."""
    rewards = published_rewards(ROOT / row["scores"].strip("`"))
    quoted = re.fullmatch(r"([\d.]+) \+/- ([\d.]+) \(median ([\d.]+)\)", row["this project"])
    assert quoted, row["this project"]
    assert quoted.groups() == (
        f"{np.mean(rewards):.1f}",
        f"{np.std(rewards):.1f}",
        f"{np.median(rewards):.0f}",
    )


def stored_weights(path) -> np.ndarray:
    """Every number of an rnn.json (the authors' format: weights x 10000, as integers)."""
    return np.concatenate([np.ravel(np.asarray(w, np.int64)) for w in read_json(path, "M")])


def test_untrained_m_is_what_its_command_makes(tmp_path):
    """log/untrained_m/rnn.json is `rnn_train.py --untrained --seed 0`'s output, to the
    last stored digit: TensorFlow's initializers run on its own kernels for the CPU (not
    pinned, docs/guide.md), so a handful of the 422k weights may round the other way."""
    run_in_process("rnn_train.py", "--untrained", "--seed", "0", "--out", str(tmp_path))
    shipped = ROOT / "log/untrained_m/rnn.json"
    made, published = stored_weights(tmp_path / "rnn.json"), stored_weights(shipped)
    assert made.shape == published.shape == (422368,)
    assert np.abs(made - published).max() <= 1
    assert np.count_nonzero(made != published) < 100
    assert shipped.read_bytes() != (ROOT / "rnn/rnn.json").read_bytes()
    results = (ROOT / "docs/results.md").read_text()
    assert "rnn_train.py --untrained --seed 0 --out log/untrained_m" in results
