"""The trained agents the repository ships: the best one at the default paths (vae/, rnn/,
initial_z/, log/carracing.cma.*) and the 3-hour recipe's in log/laptop/. Their weights
load, their controllers' logs record the evaluation that chose them, and their 100-track
scores (BASE.score.txt, quoted in the README) are what the shipped files give, track for
track."""

import csv
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, run_script, script_env

from common import read_json
from model import param_count
from rnn.numpy_rnn import NumpyRNN
from vae.numpy_vae import NumpyVAE


def shipped_base():
    bests = sorted((ROOT / "log").glob("carracing.cma.*.best.json"))
    assert len(bests) == 1, f"expected one shipped controller in log/, found {bests}"
    return str(bests[0])[: -len(".best.json")]


SCORE = Path(f"{shipped_base()}.score.txt")
LAPTOP = ROOT / "log/laptop"  # the 3-hour recipe's agent (make laptop, seed 1)


def read(path):
    return read_json(path, "a shipped JSON file")


def published_rewards(path: Path) -> np.ndarray:
    """Seeds 0..99's rewards from `model.py norender`'s output, checked against its summary."""
    lines = path.read_text().split("\n")
    rewards = dict(line.split() for line in lines[:100])
    assert sorted(int(i) for i in rewards) == list(range(100))
    rewards = np.array([float(rewards[str(i)]) for i in range(100)])
    assert lines[100] == f"average_reward {np.mean(rewards)} stdev {np.std(rewards)}"
    return rewards


def read_details(path: Path) -> list[dict[str, str]]:
    """The rows of a `model.py norender --details` CSV, one per track."""
    return list(csv.DictReader(path.read_text().splitlines()))


@pytest.mark.parametrize("folder", ["", "log/laptop/", "log/iterative/"])
def test_shipped_weights_load(folder):
    names = ("vae.json", "rnn.json", "initial_z.json")
    if not folder:
        names = tuple(f"{name.split('.')[0]}/{name}" for name in names)
    vae_path, rnn_path, initial_z = (ROOT / folder / name for name in names)
    vae = NumpyVAE.from_json(vae_path)
    NumpyRNN.from_json(rnn_path)
    mus, logvars = read(initial_z)
    assert np.shape(mus) == np.shape(logvars) and np.shape(mus)[1] == 32
    z = vae.encode(np.zeros((64, 64, 3), np.uint8), np.random.default_rng(0))
    assert z.shape[-1] == 32 and np.all(np.isfinite(z))


def check_logs(base: str, mode: str = "zh") -> None:
    """A run's five logs are there, without its checkpoint, and the controller in
    BASE.best.json is the mean whose evaluation was the best of the run's evaluations."""
    folder = Path(base).parent
    for ext in ("json", "hist.json", "best.json", "hist_best.json", "log.json"):
        assert Path(f"{base}.{ext}").is_file(), ext
    assert not list(folder.glob("*.pkl")), "the checkpoint is not shipped"
    params, score = read(f"{base}.best.json")
    assert len(params) == param_count(mode)
    evals = read(f"{base}.log.json")  # [gen, evaluation of the mean, mean]
    chosen = [e for e in evals if e[2] == params]
    assert len(chosen) == 1 and chosen[0][1] == score
    assert score == max(e[1] for e in evals)
    assert read(f"{base}.hist_best.json")[-1][9] == score
    hist = read(f"{base}.hist.json")
    assert [r[0] for r in hist] == list(range(1, len(hist) + 1))
    assert chosen[0][0] <= len(hist)


def test_shipped_logs_record_the_evaluation_that_chose_the_controller():
    check_logs(shipped_base())
    assert param_count("zh") == 867


def test_published_score_is_the_shipped_agents():
    rewards = published_rewards(SCORE)
    readme = (ROOT / "README.md").read_text()
    assert f"{np.mean(rewards):.1f} +/- {np.std(rewards):.1f}" in readme
    assert f"\n    {SCORE.read_text().splitlines()[-1]}\n" in readme  # norender's last line
    assert re.search(r"log/carracing\.cma\.\d+\.\d+\.best\.json", readme)
    # the first two tracks again, as a user runs them: the same rewards, to the last bit,
    # on any x86-64 CPU with AVX2 (numerics.py pins the arithmetic): in one process; with
    # another kernel family inherited from the environment, standing for another CPU; and
    # as two MPI ranks
    replay = ["model.py", "norender", f"{shipped_base()}.best.json", "--trials", "2"]
    other_cpu = script_env(OPENBLAS_CORETYPE="SkylakeX", NPY_DISABLE_CPU_FEATURES="")
    runs = {
        "one process": run_script(*replay),
        "another CPU's kernels": run_script(*replay, env=other_cpu),
        "mpirun -np 2": run_script(*replay, mpirun=2),
    }
    for how, proc in runs.items():
        again = [line.split() for line in proc.stdout.splitlines()[:2]]
        assert [int(i) for i, _ in again] == [0, 1], how
        assert [float(r) for _, r in again] == list(rewards[:2]), how


def test_published_details_are_the_published_scores():
    """BASE.tracks.csv (model.py norender --details) explains the same 100 scores:
    every reward is 1000 over the tiles visited minus 0.1 a step."""
    rows = read_details(Path(f"{shipped_base()}.tracks.csv"))
    published = dict(line.split() for line in SCORE.read_text().split("\n")[:100])
    assert [r["track"] for r in rows] == [str(i) for i in range(100)]
    for r in rows:
        assert r["reward"] == published[r["track"]]
        visited, total, steps = int(r["tiles_visited"]), int(r["tiles_total"]), int(r["steps"])
        expected = 1000 * visited / total - 0.1 * steps - 100 * int(r["left_playfield"])
        assert abs(float(r["reward"]) - expected) < 1e-6, r
    assert (ROOT / "docs/worst_track.png").stat().st_size > 10000
    assert "](docs/worst_track.png)" in (ROOT / "README.md").read_text()


ITERATIVE = ROOT / "log/iterative"  # the hand-run round, shipped until 2026-12-07 (docs/results.md)


def check_published_score(base: Path, docs: list[str]) -> None:
    """BASE.score.txt holds 100 tracks' rewards, BASE.tracks.csv (`--details`) the same
    ones, and each of `docs` quotes their mean and standard deviation."""
    rewards = published_rewards(Path(f"{base}.score.txt"))
    rows = read_details(Path(f"{base}.tracks.csv"))
    assert [float(r["reward"]) for r in rows] == list(rewards)
    quoted = f"{np.mean(rewards):.1f} +/- {np.std(rewards):.1f}"
    for doc in docs:
        assert quoted in (ROOT / doc).read_text(), doc


def test_iterative_round_ships_its_logs_scores_and_details():
    """The hand-run round of iterative training, its CMA-ES from zero and the refinement
    that was the shipped agent until 2026-12-07: logs, the 100-track scores the docs quote,
    and the details behind them."""
    for name in ("carracing.cma.4.32", "carracing.cma.8.32"):
        check_logs(str(ITERATIVE / name))
        check_published_score(ITERATIVE / name, ["docs/results.md"])


def check_first_track_replays(base: Path, vae: str, rnn: str) -> None:
    """BASE.best.json drives track 0 on VAE and RNN to the reward BASE.score.txt
    publishes for it, as the README says to re-score it."""
    proc = run_script(
        "model.py", "norender", f"{base}.best.json", "--vae", vae, "--rnn", rnn, "--trials", "1"
    )
    published = published_rewards(Path(f"{base}.score.txt"))
    assert proc.stdout.splitlines()[0].split() == ["0", repr(float(published[0]))]


@pytest.mark.parametrize(
    "base, vae, rnn",
    [
        (ITERATIVE / "carracing.cma.4.32", "log/iterative/vae.json", "log/iterative/rnn.json"),
        (ITERATIVE / "carracing.cma.8.32", "log/iterative/vae.json", "log/iterative/rnn.json"),
        (LAPTOP / "carracing.cma.4.32", "log/laptop/vae.json", "log/laptop/rnn.json"),
    ],
)
def test_earlier_controllers_replay_their_published_tracks(base, vae, rnn):
    """The hand-run round's two controllers and the 3-hour agent, each on its own V and M:
    the first track again from the shipped files."""
    check_first_track_replays(base, vae, rnn)


def test_laptop_agent_ships_its_logs_and_score():
    """The 3-hour recipe's agent (make laptop, seed 1): its logs, and the 100-track score
    and details the docs quote."""
    check_logs(str(LAPTOP / "carracing.cma.4.32"))
    check_published_score(LAPTOP / "carracing.cma.4.32", ["docs/results.md"])
    seeds = [LAPTOP / "carracing.cma.4.32", SEED2 / "carracing.cma.4.32"]
    means = [np.mean(published_rewards(Path(f"{base}.score.txt"))) for base in seeds]
    quoted = f"{means[0]:.1f} (seed 1), {means[1]:.1f} (seed 2)"
    assert quoted in (ROOT / "README.md").read_text()


ITERATE = ROOT / "log/iterate"  # ITERATE=1's first run (docs/results.md), without V and M


@pytest.mark.parametrize(
    "base", ["round1/carracing.cma.4.32", "round2/carracing.cma.4.32", "round2/carracing.cma.8.32"]
)
def test_iterate_run_ships_its_logs(base):
    """Each CMA-ES stage of the `ITERATE=1` run keeps its five logs, and its best
    controller is the evaluation that chose it."""
    check_logs(str(ITERATE / base))


def test_iterate_run_score_is_the_one_the_docs_quote():
    check_published_score(
        ITERATE / "round2/carracing.cma.8.32", ["docs/results.md", "docs/pipeline.md"]
    )


FINETUNE = ROOT / "log/finetune"  # the round with V and M fine-tuned (docs/results.md)


def test_finetune_run_ships_its_logs_and_score():
    """Its CMA-ES logs (the kept controller is the evaluation that chose it), and the
    100-track score and details the docs quote."""
    check_logs(str(FINETUNE / "carracing.cma.8.32"))
    check_published_score(FINETUNE / "carracing.cma.8.32", ["docs/results.md"])


@pytest.mark.parametrize(
    "base, rnn",
    [
        ("log/m7200/carracing.cma.8.32", "log/laptop/rnn.json"),  # the 3-hour agent carried on
        ("log/m2400/carracing.cma.4.32", "log/m2400/rnn.json"),  # the recipe with M 2400 steps
    ],
)
def test_earlier_agents_ship_their_logs_scores_and_m(base, rnn):
    """The 3-hour agent carried on with 8 episodes a member, and the agent of the recipe
    with M at 2400 steps: CMA-ES logs, the 100-track score and details the docs quote,
    and the first track again from the 3-hour recipe's V and their own M, as the docs say
    to re-score them."""
    check_logs(str(ROOT / base))
    check_published_score(ROOT / base, ["docs/results.md"])
    check_first_track_replays(ROOT / base, "log/laptop/vae.json", rnn)


SEED2 = ROOT / "log/m7200_seed2"  # the shipped recipe's second seed (docs/results.md)


@pytest.mark.parametrize("name", ["carracing.cma.4.32", "carracing.cma.2.64"])
def test_second_seed_runs_ship_their_logs_and_scores(name):
    """The recipe's second seed, and CMA-ES with population 64 x 2 on its V and M: their
    logs (the kept controller is the evaluation that chose it), and the 100-track score
    and details the docs quote."""
    check_logs(str(SEED2 / name))
    check_published_score(SEED2 / name, ["docs/results.md"])


def check_stage_times(
    folder: Path, docs: tuple[str, ...] = ("README.md", "docs/results.md")
) -> tuple[list[str], list[str], float]:
    """A run's stage_times.tsv, from extraction to the GIF: its header, each row's stage
    (an "(interrupted)" or "(killed)" note dropped) and its hours, the sum of every row
    (every stage, every invocation), which each of `docs` quotes."""
    lines = (folder / "stage_times.tsv").read_text().splitlines()
    stages = [line.split("\t")[0].split(" (")[0] for line in lines[1:]]
    assert stages[0] == "extract" and stages[-2:] == ["evaluate", "plot_and_video"]
    hours = sum(int(line.split("\t")[1]) for line in lines[1:]) / 3600
    for doc in docs:
        assert f"{hours:.2f} hours" in (ROOT / doc).read_text(), doc
    return lines[0].split("\t"), stages, hours


def test_second_seed_hours_are_its_stage_times():
    """The wall-clock the docs quote for the second seed is the sum of its
    stage_times.tsv, extraction to the GIF."""
    header, stages, _ = check_stage_times(SEED2)
    assert header == ["stage", "seconds", "finished"]
    assert stages[:3] == ["extract", "world_model", "cma_es"]


CANDIDATES = ROOT / "log/candidates"  # the six best-evaluated candidates of two runs


@pytest.mark.parametrize(
    "run, base",
    [("M 2400", "log/m2400/carracing.cma.4.32"), ("M 7200", "log/laptop/carracing.cma.4.32")],
)
def test_candidates_table_is_their_test_tracks(run, base):
    """docs/results.md's table of each run's six best-evaluated candidates: each row's
    evaluation is the run's log, and its 100-track mean, laps and steps off the road are
    the per-track details shipped for it; the kept one's details are the published ones."""
    rows = sorted(read(ROOT / f"{base}.log.json"), key=lambda r: -r[1])[:6]
    folder = CANDIDATES / run.lower().replace(" ", "")
    text = (ROOT / "docs/results.md").read_text()
    for k, row in enumerate(rows):
        avg = len(row) > 3
        details = read_details(folder / f"{k}_g{row[0]}{'_avg' if avg else ''}.tracks.csv")
        assert [int(r["track"]) for r in details] == list(range(100))
        rewards = [float(r["reward"]) for r in details]
        laps = sum(int(r["lap_finished"]) for r in details)
        off = np.mean([int(r["steps_off_road"]) for r in details])
        label = f"{row[0]}{' avg' if avg else ''}"
        if k == 0:
            label = f"**{label} (kept)**"
            kept = read_details(ROOT / f"{base}.tracks.csv")
            assert [float(r["reward"]) for r in kept] == rewards
        line = f"| {run} | {label} | {row[1]:.1f} | {np.mean(rewards):.1f} | {laps} | {off:.1f} |"
        assert line in text, line


def test_log_index_lists_every_folder_with_its_scores():
    """log/README.md: a row per folder of log/, and the scores it quotes are the folder's
    score files (the shipped agent's for log/ itself)."""
    rows = [
        line.split("|")[1:4]
        for line in (ROOT / "log/README.md").read_text().splitlines()
        if line.startswith("| `")
    ]
    listed = {cells[0].strip().strip("`").rstrip("/") for cells in rows}
    folders = {p.name for p in (ROOT / "log").iterdir() if p.is_dir()}
    assert listed == folders | {"log"}
    for cells in rows:
        name = cells[0].strip().strip("`").rstrip("/")
        folder = ROOT / "log" if name == "log" else ROOT / "log" / name
        pattern = "*.score.txt" if name == "log" else "**/*score.txt"
        scores = set()
        for path in folder.glob(pattern):
            rewards = published_rewards(path)
            scores.add(f"{np.mean(rewards):.1f} +/- {np.std(rewards):.1f}")
        quoted = set(re.findall(r"\d+\.\d \+/- \d+\.\d", cells[2]))
        assert quoted == scores, name


OVERNIGHT_SEEDS = {1: ROOT / "log/overnight", 2: ROOT / "log/overnight_seed2"}  # `make overnight`


def overnight_scores() -> str:
    """The README's quote of the overnight recipe's seeds: "886.0 (seed 1), 871.4 (seed 2)"."""
    return ", ".join(
        f"{np.mean(published_rewards(folder / 'carracing.cma.8.32.score.txt')):.1f} (seed {seed})"
        for seed, folder in OVERNIGHT_SEEDS.items()
    )


@pytest.mark.parametrize("seed", sorted(OVERNIGHT_SEEDS))
def test_overnight_runs_ship_their_logs_score_and_hours(seed):
    """Each of the overnight recipe's seeds: the refined controller's logs (the kept
    controller is the evaluation that chose it), the 100-track score and details the docs
    quote, the first track again from its own V and M, and its running time, the sum of its
    stage_times.tsv from extraction to the GIF, as the docs quote it."""
    folder = OVERNIGHT_SEEDS[seed]
    base = folder / "carracing.cma.8.32"
    check_logs(str(base))
    check_published_score(base, ["docs/results.md"])
    rel = folder.relative_to(ROOT)
    check_first_track_replays(base, f"{rel}/vae.json", f"{rel}/rnn.json")
    assert overnight_scores() in (ROOT / "README.md").read_text()
    header, stages, hours = check_stage_times(folder)
    assert header == ["stage", "seconds", "finished", "paused"]
    rounds = ["world_model", "cma_es", "agent_drives", "world_model_2", "cma_es_2", "refine"]
    assert set(rounds) <= set(stages)
    assert hours <= 8


# Seed 1's overnight run with its refinement changed (both dropped): 16 episodes x 15
# generations instead of 8 x 30, and 8 x 30 on episodes of 900 steps instead of 1000.
REFINEMENTS = {
    "overnight_refine16": "carracing.cma.16.32",
    "overnight_refine900": "carracing.cma.8.32",
}


@pytest.mark.parametrize("name", sorted(REFINEMENTS))
def test_overnight_refinement_variants_ship_their_logs_score_and_hours(name):
    """A variant of the overnight recipe's refinement on seed 1's run: its logs, the
    100-track score and details the docs quote, the first track again from seed 1's V and
    M, and its running time, at most 8 hours, as docs/results.md quotes it."""
    folder = ROOT / "log" / name
    base = folder / REFINEMENTS[name]
    check_logs(str(base))
    check_published_score(base, ["docs/results.md"])
    check_first_track_replays(base, "log/overnight/vae.json", "log/overnight/rnn.json")
    _, stages, hours = check_stage_times(folder, ("docs/results.md",))
    assert "refine" in stages and hours <= 8


def test_overnight_refinement_carried_on_continues_seed_1s_run_exactly():
    """The shipped agent is seed 1's overnight run with its refinement carried on from 30
    generations to 60: its first 30 generations' logs are seed 1's, value for value; its V
    and M are seed 1's files, byte for byte; docs/results.md quotes its score and its hours
    (seed 1's stages and the 30 more). The shipped tests above check its logs and replay."""
    base = shipped_base()
    seed1 = ROOT / "log/overnight"
    hist = read(f"{base}.hist.json")
    assert len(hist) == 60 and hist[:30] == read(seed1 / "carracing.cma.8.32.hist.json")
    first_evals = read(seed1 / "carracing.cma.8.32.log.json")
    assert read(f"{base}.log.json")[: len(first_evals)] == first_evals
    for name in ("vae/vae.json", "rnn/rnn.json"):
        assert (ROOT / name).read_bytes() == (seed1 / Path(name).name).read_bytes(), name
    check_published_score(Path(base), ["docs/results.md"])
    _, stages, _ = check_stage_times(ROOT / "log/overnight_refine60", ("docs/results.md",))
    assert stages.count("refine") == 3  # seed 1's two (one killed), then the 30 more


def test_shipped_agent_restarted_for_15_generations_ships_its_logs_and_score():
    """The shipped agent's kept controller carried on by a new CMA-ES (step size 0.05, the
    refinement's settings otherwise) for 15 generations (dropped): its logs, the 100-track
    score and details the docs quote, and the first track again from the shipped V and M."""
    base = ROOT / "log/refine_restart/carracing.cma.8.32"
    check_logs(str(base))
    assert len(read(f"{base}.hist.json")) == 15
    check_published_score(base, ["docs/results.md"])
    check_first_track_replays(base, "vae/vae.json", "rnn/rnn.json")


def test_overnight_chain_with_40_second_round_generations_ships_its_logs_and_score():
    """Seed 1's chain with its second CMA-ES cut to 40 generations and its refinement run
    for 50 from there (dropped): the refinement's logs, its start (generation 40's entry of
    seed 1's second round), the 100-track score and details the docs quote, and the first
    track again from seed 1's V and M."""
    base = ROOT / "log/overnight_r2g40/carracing.cma.8.32"
    check_logs(str(base))
    assert len(read(f"{base}.hist.json")) == 50
    start = read(str(ROOT / "log/overnight_r2g40/init_g40.json"))
    second_round = read(str(ROOT / "log/overnight/carracing.cma.4.32.log.json"))
    assert [e[:3] for e in second_round if e[0] == 40 and len(e) == 3] == [[40, start[1], start[0]]]
    check_published_score(base, ["docs/results.md"])
    check_first_track_replays(base, "log/overnight/vae.json", "log/overnight/rnn.json")


def test_overnight_with_m_on_the_drives_alone_ships_its_logs_score_and_hours():
    """Seed 2's overnight run with its second M trained on the agent's drives alone
    (`ROUND2_M_DATA=drives`, dropped): both CMA-ES runs' logs, the 100-track score and
    details the docs quote, the first track again from seed 2's second V and this M, and its
    running time, every stage from extraction on, as docs/results.md quotes it."""
    folder = ROOT / "log/m_drives_seed2"
    for name in ("carracing.cma.4.32", "carracing.cma.8.32"):
        check_logs(str(folder / name))
    base = folder / "carracing.cma.8.32"
    check_published_score(base, ["docs/results.md"])
    check_first_track_replays(base, "log/overnight_seed2/vae.json", "log/m_drives_seed2/rnn.json")
    _, stages, hours = check_stage_times(folder, ("docs/results.md",))
    assert {"world_model_2", "cma_es_2", "refine"} <= set(stages) and hours <= 8


def test_overnight_refinement_at_population_16_ships_its_logs_and_score():
    """Seed 1's refinement at population 16 for 60 generations, evaluated every 10
    (dropped): its logs, the 100-track score and details the docs quote, and the first
    track again from seed 1's V and M."""
    base = ROOT / "log/overnight_pop16/carracing.cma.8.16"
    check_logs(str(base))
    assert len(read(f"{base}.hist.json")) == 60
    assert sorted({e[0] for e in read(f"{base}.log.json")}) == [10, 20, 30, 40, 50, 60]
    check_published_score(base, ["docs/results.md"])
    check_first_track_replays(base, "log/overnight/vae.json", "log/overnight/rnn.json")
