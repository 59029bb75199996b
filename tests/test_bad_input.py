"""Nonsense settings and folders with nothing in them: every script says so in one line
(`prog: error: ...`), exits with status 2 and writes nothing."""

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import ROOT, SHARED, run_script, script_env

RNN = str(SHARED / "reference/original/rnn.json")


@pytest.fixture(scope="module")
def data(weights, tmp_path_factory):
    """Good inputs beside bad ones: one short episode, corrupt and empty folders, one
    series, a controller file."""
    d = tmp_path_factory.mktemp("inputs")
    (d / "rec").mkdir()
    np.savez_compressed(
        d / "rec/1.npz",
        obs=np.zeros((120, 64, 64, 3), np.uint8),
        action=np.zeros((120, 3), np.float16),
    )
    (d / "bad").mkdir()
    (d / "bad/1.npz").write_bytes(b"not a zip")
    np.savez(d / "bad/2.npz", obs=np.zeros((3, 8, 8), np.uint8), action=np.zeros((3, 3)))
    (d / "empty").mkdir()
    (d / "series").mkdir()
    np.savez(
        d / "series/1.npz",
        mu=np.zeros((50, 32), np.float16),
        logvar=np.zeros((50, 32), np.float16),
        action=np.zeros((50, 3), np.float16),
    )
    (d / "c.json").write_text(json.dumps([[0.0] * 867]))
    (d / "hist").mkdir()
    (d / "hist/r.hist.json").write_text("[]")
    (d / "good").mkdir()
    (d / "good/r.hist.json").write_text(
        json.dumps([[g, g, 5.0, 1.0, 9.0, 2.0, 0.1, 50, 60] for g in (1, 2)])
    )
    (d / "nan.json").write_text("[[NaN" + ", 0.0" * 866 + "], 0]")
    (d / "inf.json").write_text("[[Infinity" + ", 0.0" * 866 + "]]")
    (d / "badseries").mkdir()
    np.savez(
        d / "badseries/1.npz",
        mu=np.zeros((50, 16), np.float16),
        logvar=np.zeros((50, 16), np.float16),
        action=np.zeros((50, 3), np.float16),
    )
    (d / "trunc").mkdir()
    whole = (d / "rec/1.npz").read_bytes()
    (d / "trunc/1.npz").write_bytes(whole[: len(whole) // 2])
    return {"dir": d, "vae": str(weights["vae"])}


@pytest.fixture(scope="module")
def read_only(tmp_path_factory):
    """A folder nothing can be written in, even by root (immutable), with a file in it."""
    ro = tmp_path_factory.mktemp("read_only")
    (ro / "kept.txt").write_text("kept\n")
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(ro)], check=True)
    else:
        ro.chmod(0o555)
    yield ro
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(ro)], check=True)
    else:
        ro.chmod(0o755)


# (script and arguments, environment); in the arguments {d} is the inputs' folder,
# {out} a fresh output folder that must stay empty, {vae} V's weights.
CASES = [
    # extraction
    ("extract.py --trials 0 --out {out}", {}),
    ("extract.py --max-frames -5 --out {out}", {}),
    ("extract.py --trials many --out {out}", {}),
    ("extract.py --seed -1 --out {out}", {}),
    ("extract.py --worker-index 2 --num-workers 2 --out {out}", {}),
    ("extract.py --num-workers 0 --out {out}", {}),
    ("extract.bash --out {out}", {"WORKERS": "0"}),
    ("extract.bash --out {out}", {"WORKERS": "two"}),
    ("extract.bash --out {out}", {"ROUNDS": "0"}),
    ("check_record.py {d}/empty", {}),
    ("check_record.py {d}/missing", {}),
    # V
    ("vae_train.py --data {d}/rec --out {out} --batch-size 0", {}),
    ("vae_train.py --data {d}/rec --out {out} --epochs 0", {}),
    ("vae_train.py --data {d}/rec --out {out} --learning-rate 0", {}),
    ("vae_train.py --data {d}/rec --out {out} --learning-rate nan", {}),
    ("vae_train.py --data {d}/rec --out {out} --kl-tolerance -1", {}),
    ("vae_train.py --data {d}/rec --out {out} --shuffle-buffer 0", {}),
    ("vae_train.py --data {d}/rec --out {out} --max-files 0", {}),
    ("vae_train.py --data {d}/rec --out {out} --checkpoint-every 0", {}),
    ("vae_train.py --data {d}/rec --out {out} --seed -3", {}),
    ("vae_train.py --data {d}/rec --out {out} --batch-size 500", {}),  # 120 frames
    ("vae_train.py --data {d}/empty --out {out}", {}),
    ("vae_train.py --data {d}/missing --out {out}", {}),
    ("vae_train.py --data {d}/bad --out {out}", {}),
    ("vae_train.py --data {d}/rec --out {out} --preset nope", {}),
    # series
    ("series.py --data {d}/rec --vae {vae} --out {out} --batch-size 0", {}),
    ("series.py --data {d}/bad --vae {vae} --out {out}", {}),
    ("series.py --data {d}/empty --vae {vae} --out {out}", {}),
    ("series.py --data {d}/rec --vae {d}/missing.json --out {out}", {}),
    # M
    ("rnn_train.py --series {d}/series --out {out} --steps 0", {}),
    ("rnn_train.py --series {d}/series --out {out} --batch-size 0", {}),
    ("rnn_train.py --series {d}/series --out {out} --seq-len 0", {}),
    ("rnn_train.py --series {d}/series --out {out} --learning-rate -1", {}),
    ("rnn_train.py --series {d}/series --out {out} --grad-clip 0", {}),
    ("rnn_train.py --series {d}/series --out {out} --initial-z-episodes 0", {}),
    ("rnn_train.py --series {d}/empty --out {out} --initial-z {out}/z.json", {}),
    ("rnn_train.py --series {d}/rec --out {out} --initial-z {out}/z.json", {}),
    ("gpu_jobs.bash --preset nope", {"DATA": "{d}/rec", "VAE_DIR": "{out}/v"}),
    ("gpu_jobs.bash --epochs 3", {}),
    # CMA-ES
    ("train.py -n 0 --log-dir {out} --vae {vae} --rnn " + RNN, {}),
    ("train.py -t 0 --log-dir {out} --vae {vae} --rnn " + RNN, {}),
    ("train.py -n 1 --log-dir {out} --vae {vae} --rnn " + RNN, {}),
    ("train.py -e 0 --log-dir {out} --vae {vae} --rnn " + RNN, {}),
    ("train.py --sigma_init -1 --log-dir {out} --vae {vae} --rnn " + RNN, {}),
    ("train.py --sigma_init inf --log-dir {out} --vae {vae} --rnn " + RNN, {}),
    ("train.py --weight-decay -0.1 --log-dir {out} --vae {vae} --rnn " + RNN, {}),
    ("train.py --eval_steps 0 --log-dir {out} --vae {vae} --rnn " + RNN, {}),
    ("train.py --eval-episodes 0 --log-dir {out} --vae {vae} --rnn " + RNN, {}),
    ("train.py --generations 0 --log-dir {out} --vae {vae} --rnn " + RNN, {}),
    ("train.py --max-steps 0 --log-dir {out} --vae {vae} --rnn " + RNN, {}),
    ("train.py --early-stop -1 --log-dir {out} --vae {vae} --rnn " + RNN, {}),
    ("train.py -s -1 --log-dir {out} --vae {vae} --rnn " + RNN, {}),
    ("train.py --resume --log-dir {out} --vae {vae} --rnn " + RNN, {}),
    ("train.py --log-dir {out} --vae {d}/missing.json --rnn " + RNN, {}),
    ("gce_train.bash --log-dir {out}", {"NP": "0"}),
    # the agent
    ("model.py norender {d}/c.json --vae {vae} --rnn " + RNN + " --trials 0", {}),
    ("model.py norender {d}/c.json --vae {vae} --rnn " + RNN + " --max-steps 0", {}),
    ("model.py norender {d}/c.json --vae {vae} --rnn " + RNN + " --seed -1", {}),
    ("model.py norender {d}/missing.json --vae {vae} --rnn " + RNN, {}),
    ("model.py norender {d}/c.json --vae {vae} --rnn " + RNN + " --mode z", {}),
    ("model.py record {d}/c.json --vae {vae} --rnn " + RNN + " --out {out}/a.avi", {}),
    ("model.py record {d}/c.json --vae {vae} --rnn " + RNN + " --every 0 --out {out}/a.gif", {}),
    # non-finite controllers
    ("model.py norender {d}/nan.json --vae {vae} --rnn " + RNN + " --trials 1", {}),
    ("model.py norender {d}/inf.json --vae {vae} --rnn " + RNN + " --trials 1", {}),
    ("model.py record {d}/nan.json --vae {vae} --rnn " + RNN + " --out {out}/a.gif", {}),
    ("model.py map {d}/c.json --vae {vae} --rnn " + RNN + " --out {out}/m.gif", {}),
    # series of the wrong shape, truncated episodes for the figures
    ("rnn_train.py --series {d}/badseries --out {out} --initial-z {out}/z.json", {}),
    ("figures.py --record {d}/trunc --vae {vae} --rnn " + RNN + " --out {out}", {}),
    # --out naming a file, or a folder that cannot exist
    ("extract.py --out {d}/c.json", {}),
    ("extract.bash --out {d}/c.json", {}),
    ("series.py --data {d}/rec --vae {vae} --out {d}/c.json", {}),
    ("extract.py --out /proc/nonexistent/rec", {}),
    # plots and pictures
    ("plot_training_progress.py {d}/missing --out {out}/p.png", {}),
    ("plot_training_progress.py {d}/hist/r --out {out}/p.png", {}),
    ("plot_training_progress.py {d}/hist/r --against {d}/hist/r --labels a --out {out}/p.png", {}),
    ("figures.py --record {d}/rec --vae {vae} --rnn " + RNN + " --frames 0 --out {out}", {}),
    ("figures.py --record {d}/rec --vae {vae} --rnn " + RNN + " --tau 0 --out {out}", {}),
    # pausing a recipe: none runs in that folder
    ("tools/pause.py {d}/rec stop", {}),
    ("tools/pause.py {d}/rec cont", {}),
    # whole pipelines
    ("demo.bash", {"RUN": "{out}/run", "SEED": "x"}),
    ("demo.bash", {"RUN": "{out}/run", "WORKERS": "0"}),
    ("reproduce.bash", {"RUN": "{out}/run", "WORKERS": "-2"}),
    ("reproduce.bash", {"RUN": "{out}/run", "SEED": "1.5"}),
    ("reproduce.bash", {"RUN": "{out}/run", "GENERATIONS": "0"}),
    ("reproduce.bash", {"RUN": "{out}/run", "ITERATE": "2"}),
    ("reproduce.bash", {"RUN": "{out}/run", "ITERATE": "1", "PRESET": "paper"}),
    ("reproduce.bash", {"RUN": "{out}/run", "ITERATE": "1", "REFINE_GENERATIONS": "x"}),
    ("reproduce.bash", {"RUN": "{out}/run", "OVERNIGHT": "1", "REFINE_EPISODES": "0"}),
    ("reproduce.bash", {"RUN": "{out}/run", "OVERNIGHT": "1", "REFINE_MAX_STEPS": "-5"}),
    ("reproduce.bash", {"RUN": "{out}/run", "OVERNIGHT": "1", "ROUND2_M_DATA": "agent"}),
    ("reproduce.bash", {"RUN": "{out}/run", "OVERNIGHT": "yes"}),
    ("reproduce.bash", {"RUN": "{out}/run", "OVERNIGHT": "1", "PRESET": "paper"}),
]


# outputs in a folder nothing can be written in ({ro}): refused before any work
READ_ONLY_CASES = [
    ("extract.py --trials 1 --out {ro}", {}),
    ("extract.bash --trials 1 --out {ro}/rec", {"WORKERS": "1"}),
    ("vae_train.py --data {d}/rec --out {ro} --batch-size 32", {}),
    ("series.py --data {d}/rec --vae {vae} --out {ro}", {}),
    ("rnn_train.py --series {d}/series --out {ro} --initial-z {out}/z.json --seq-len 20", {}),
    ("rnn_train.py --series {d}/series --out {out} --initial-z {ro}/z.json --seq-len 20", {}),
    ("model.py record {d}/c.json --vae {vae} --rnn " + RNN + " --max-steps 5 --out {ro}/a.gif", {}),
    (
        "model.py norender {d}/c.json --vae {vae} --rnn " + RNN + " --trials 1 --max-steps 5 "
        "--details {ro}/tracks.csv",
        {},
    ),
    ("plot_training_progress.py {d}/good/r --out {ro}/p.png", {}),
    ("figures.py --record {d}/rec --vae {vae} --rnn " + RNN + " --out {ro}", {}),
    ("train.py -n 2 -e 1 --max-steps 5 --log-dir {ro} --vae {vae} --rnn " + RNN, {}),
    ("reproduce.bash", {"RUN": "{ro}/run", "PRESET": "tiny"}),
    ("demo.bash", {"RUN": "{ro}"}),
]


def tree(folder):
    return sorted((str(p.relative_to(folder)), p.stat().st_mtime_ns) for p in folder.rglob("*"))


def run_case(case, data, out, ro=None):
    command, env = case
    fill = {"d": data["dir"], "out": out, "vae": data["vae"], "ro": ro}
    args = command.format(**fill).split()
    cmd = ["bash" if args[0].endswith(".bash") else sys.executable, *args]
    env = script_env(**{k: v.format(**fill) for k, v in env.items()})
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)


def failures_of(cases, data, tmp_path, ro=None):
    """Run every case into a fresh output folder; what each did wrong, if anything."""
    outs = [tmp_path / f"out{i}" for i in range(len(cases))]
    for out in outs:
        out.mkdir()
    with ThreadPoolExecutor(2) as pool:
        procs = list(pool.map(lambda i: run_case(cases[i], data, outs[i], ro), range(len(cases))))
    failures = []
    for (command, env), proc, out in zip(cases, procs, outs, strict=True):
        lines = proc.stderr.strip().splitlines()
        errors = [line for line in lines if not line.startswith("warning: ")]
        problems = []
        if proc.returncode != 2:
            problems.append(f"exit {proc.returncode}")
        # the script's own name, or for a bash script the stage it ran
        if len(errors) != 1 or not re.match(r"[\w.]+\.(py|bash): error: \S", errors[0]):
            problems.append(f"stderr {lines[-3:]}")
        if "Traceback" in proc.stderr:
            problems.append("traceback")
        if list(out.iterdir()):
            problems.append(f"wrote {[p.name for p in out.iterdir()]}")
        if problems:
            failures.append(f"{env or ''} {command}: {'; '.join(problems)}")
    return failures


def test_bad_invocations_fail_in_one_line_and_write_nothing(data, tmp_path):
    before = tree(data["dir"])
    failures = failures_of(CASES, data, tmp_path)
    assert tree(data["dir"]) == before
    assert not failures, "\n".join(failures)


def test_unwritable_outputs_fail_in_one_line_before_any_work(data, read_only, tmp_path):
    before = tree(data["dir"]), tree(read_only)
    failures = failures_of(READ_ONLY_CASES, data, tmp_path, read_only)
    assert (tree(data["dir"]), tree(read_only)) == before
    assert not failures, "\n".join(failures)


def test_non_finite_controller_under_mpirun(data, tmp_path):
    command = f"model.py norender {data['dir']}/nan.json --vae {data['vae']} --rnn {RNN}"
    proc = run_script(*command.split(), "--trials", "2", mpirun=2, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "nan.json: 1 of the 867 parameters are NaN or infinite" in proc.stderr


def test_error_names_the_flag_and_the_range(data, tmp_path):
    cases = [
        ("vae_train.py --data {d}/rec --out {out} --batch-size 0", {}),
        ("train.py --sigma_init -1 --log-dir {out}", {}),
        ("extract.bash --out {out}", {"WORKERS": "0"}),
        ("series.py --data {d}/bad --vae {vae} --out {out}", {}),
    ]
    expected = [
        "vae_train.py: error: argument --batch-size: expected an integer >= 1, got '0'",
        "train.py: error: argument --sigma_init: expected a number > 0, got '-1'",
        "extract.bash: error: WORKERS=0: expected an integer >= 1",
        "none of the 2 episode files could be read",
    ]
    for case, text in zip(cases, expected, strict=True):
        proc = run_case(case, data, tmp_path)
        assert text in proc.stderr.strip().splitlines()[-1]
