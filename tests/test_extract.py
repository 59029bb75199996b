import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT, run_script, script_env

from common import UserError, iter_episodes, list_episode_files, load_episode
from env import make_env, squash_action
from extract import episode_seeds, random_policy_episode
from model import Agent, load_controller_params

SHIPPED = ("log/carracing.cma.8.32.best.json", "vae/vae.json", "rnn/rnn.json")


def test_random_policy_actions_in_range_and_its_rewards_the_envs():
    env = make_env(full_episode=True, max_episode_steps=60)
    for seed in (1, 2, 3):
        obs, action, reward = random_policy_episode(env, seed, 60)
        assert obs.shape == (60, 64, 64, 3) and obs.dtype == np.uint8
        assert action.shape == (60, 3) and action.dtype == np.float16
        assert reward.shape == (60,) and reward.dtype == np.float32
        env.reset(seed=seed)  # the same actions, unrounded, step by step: the same rewards
        rng = np.random.default_rng(seed)
        scale = rng.uniform(0.0, 0.01)
        weight, bias = rng.standard_cauchy((32, 3)) * scale, rng.standard_cauchy(3) * scale
        again = [
            env.step(squash_action(np.tanh(rng.standard_normal(32) @ weight + bias)))[1]
            for _ in range(60)
        ]
        np.testing.assert_array_equal(reward, np.asarray(again, np.float32))
        assert reward[0] > 0 > reward[-1]  # the first step visits the first tile; then -0.1
        assert np.all(np.abs(action[:, 0]) <= 1)
        assert np.all((action[:, 1] >= 0) & (action[:, 1] <= 1))
        assert np.all((action[:, 2] >= 0) & (action[:, 2] <= 1))
    env.close()


def test_episode_seeds_distinct_and_deterministic():
    seeds = episode_seeds(3, 500)
    assert len(set(seeds)) == 500
    assert seeds == episode_seeds(3, 500)
    assert episode_seeds(3, 10) == seeds[:10]
    assert seeds[:10] != episode_seeds(4, 10)


def test_extract_writes_episode_files(tmp_path):
    run_script(
        "extract.py",
        "--trials",
        "2",
        "--max-frames",
        "25",
        "--seed",
        "11",
        "--out",
        str(tmp_path / "a"),
    )
    files = list_episode_files(tmp_path / "a")
    assert [int(f.stem) for f in files] == sorted(episode_seeds(11, 2))
    for f in files:
        with np.load(f) as data:
            assert set(data.files) == {"obs", "action", "reward"}
            assert data["obs"].dtype == np.uint8 and data["obs"].shape == (25, 64, 64, 3)
            assert data["action"].dtype == np.float16 and data["action"].shape == (25, 3)
    # obs[0] is the reset frame of the episode's seed
    seed = int(files[0].stem)
    env = make_env(full_episode=True)
    reset_obs, _ = env.reset(seed=seed)
    np.testing.assert_array_equal(load_episode(files[0])["obs"][0], reset_obs)
    # same --seed, same files
    run_script(
        "extract.py",
        "--trials",
        "2",
        "--max-frames",
        "25",
        "--seed",
        "11",
        "--out",
        str(tmp_path / "b"),
    )
    for f in files:
        a, b = load_episode(f), load_episode(tmp_path / "b" / f.name)
        np.testing.assert_array_equal(a["obs"], b["obs"])
        np.testing.assert_array_equal(a["action"], b["action"])


def test_extract_with_a_trained_controller(tmp_path):
    """--controller: the episodes are the shipped agent's own drive, step for step."""
    controller, vae, rnn = SHIPPED
    out = tmp_path / "agent"
    proc = run_script(
        "extract.py",
        "--controller",
        controller,
        "--vae",
        vae,
        "--rnn",
        rnn,
        "--trials",
        "2",
        "--max-frames",
        "120",
        "--seed",
        "3",
        "--out",
        str(out),
    )
    assert f"controller {controller}" in proc.stderr
    files = list_episode_files(out)
    assert {int(f.stem) for f in files} == set(episode_seeds(3, 2))
    agent = Agent.from_files(ROOT / vae, ROOT / rnn)
    agent.controller.set_params(load_controller_params(ROOT / controller))
    env = make_env(full_episode=True, max_episode_steps=120)
    for f in files:
        seed, episode, steps = int(f.stem), load_episode(f), []
        agent.rollout(env, np.random.default_rng(seed), seed=seed, max_steps=120, record=steps)
        assert episode["obs"].shape == (120, 64, 64, 3)
        np.testing.assert_array_equal(episode["obs"], np.stack([o for o, _, _ in steps]))
        np.testing.assert_array_equal(
            episode["action"], np.asarray([a for _, a, _ in steps], np.float16)
        )
        np.testing.assert_array_equal(
            episode["reward"], np.asarray([r for _, _, r in steps], np.float32)
        )
        _, random_action, _ = random_policy_episode(env, seed, 120)
        assert not np.array_equal(episode["action"], random_action)
    env.close()


def test_extract_bad_controller_writes_nothing(tmp_path):
    bad = tmp_path / "c.json"
    bad.write_text("[[1, 2, 3]]")
    out = tmp_path / "agent"
    proc = run_script(
        "extract.py",
        "--controller",
        str(bad),
        "--trials",
        "1",
        "--max-frames",
        "5",
        "--seed",
        "3",
        "--out",
        str(out),
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and str(bad) in proc.stderr
    assert "867" in proc.stderr  # what was expected
    assert not out.exists()


def test_episode_files_from_several_folders(tmp_path):
    for name, seed in (("a", 1), ("b", 2)):
        run_script(
            "extract.py",
            "--trials",
            "2",
            "--max-frames",
            "5",
            "--seed",
            str(seed),
            "--out",
            str(tmp_path / name),
        )
    files = list_episode_files([tmp_path / "a", tmp_path / "b"])
    assert files == list_episode_files(tmp_path / "a") + list_episode_files(tmp_path / "b")
    (tmp_path / "b" / files[0].name).write_bytes(files[0].read_bytes())
    with pytest.raises(UserError, match="the same episode name"):
        list_episode_files([tmp_path / "a", tmp_path / "b"])


def test_extract_without_seed_saves_it_for_resume(tmp_path):
    out = tmp_path / "rec"
    run_script("extract.py", "--trials", "1", "--max-frames", "5", "--out", str(out))
    seed = int((out / "extract_seed.txt").read_text())
    first = {f.name for f in list_episode_files(out)}
    assert first == {f"{episode_seeds(seed, 1)[0]}.npz"}
    proc = run_script("extract.py", "--trials", "2", "--max-frames", "5", "--out", str(out))
    assert "1 new episodes" in proc.stderr and "1 already on disk" in proc.stderr
    assert first < {f.name for f in list_episode_files(out)}


def test_extract_killed_then_resumed(tmp_path):
    out = tmp_path / "rec"
    cmd = [
        sys.executable,
        "extract.py",
        "--trials",
        "3",
        "--max-frames",
        "600",
        "--seed",
        "5",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=script_env(), stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.glob("*.npz")):
        time.sleep(0.05)
    time.sleep(0.1)  # an episode of 600 frames takes about half a second
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    files = list(out.glob("*.npz"))
    assert 1 <= len(files) < 3, "kill should land after the first episode"
    for f in files:  # every visible file is complete
        load_episode(f)
    before = {f.name: os.stat(f).st_mtime_ns for f in files}
    proc = run_script(*cmd[1:])
    after = list_episode_files(out)
    assert len(after) == 3
    assert f"{3 - len(files)} new episodes" in proc.stderr
    for name, mtime in before.items():  # finished work is not redone
        assert os.stat(out / name).st_mtime_ns == mtime
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_extract_bash_two_workers(tmp_path):
    out = tmp_path / "rec"
    run_script(
        "extract.bash",
        "--trials",
        "2",
        "--max-frames",
        "10",
        "--seed",
        "9",
        "--out",
        str(out),
        env=script_env(WORKERS="2"),
    )
    names = {int(f.stem) for f in list_episode_files(out)}
    assert names == set(episode_seeds(9, 4))
    # ROUNDS: 1 worker at a time, 2 rounds -> the same four episodes
    out2 = tmp_path / "rec2"
    run_script(
        "extract.bash",
        "--trials",
        "2",
        "--max-frames",
        "10",
        "--seed",
        "9",
        "--out",
        str(out2),
        env=script_env(WORKERS="1", ROUNDS="2"),
    )
    assert {int(f.stem) for f in list_episode_files(out2)} == names


def test_extract_bash_with_a_seed_saves_none(tmp_path):
    """--seed given: no extract_seed.txt, however long the command line (a long one made
    the old `printf | grep -q` test of the flag fail now and then: grep ends at its match,
    printf dies of SIGPIPE, and pipefail read that as no --seed)."""
    out = tmp_path / "rec"
    repeated = ["--trials", "1"] * 2000  # the last one counts, as any flag given twice
    run_script(
        "extract.bash",
        "--seed",
        "9",
        "--out",
        str(out),
        "--max-frames",
        "10",
        *repeated,
        env=script_env(WORKERS="1"),
    )
    assert sorted(p.name for p in out.iterdir()) == [f"{episode_seeds(9, 1)[0]}.npz"]


def test_extract_bash_fails_when_a_worker_fails(tmp_path):
    proc = run_script(
        "extract.bash",
        "--trials",
        "0",
        "--out",
        str(tmp_path / "r"),
        env=script_env(WORKERS="2"),
        check=False,
    )
    assert proc.returncode != 0
    assert "2 of 2 workers failed" in proc.stderr


def test_extract_under_mpirun_splits_seeds(tmp_path):
    out = tmp_path / "rec"
    mpirun = os.path.join(os.path.dirname(sys.executable), "mpirun")
    proc = subprocess.run(
        [
            mpirun,
            "-np",
            "2",
            sys.executable,
            "extract.py",
            "--trials",
            "1",
            "--max-frames",
            "5",
            "--seed",
            "4",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env=script_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert {int(f.stem) for f in list_episode_files(out)} == set(episode_seeds(4, 2))


def test_check_record_reports_corrupt_file(tmp_path):
    run_script(
        "extract.py", "--trials", "2", "--max-frames", "5", "--seed", "1", "--out", str(tmp_path)
    )
    good = list_episode_files(tmp_path)
    (tmp_path / "123.npz").write_bytes(good[0].read_bytes()[:200])  # truncated
    np.savez_compressed(
        tmp_path / "456.npz",
        obs=np.zeros((5, 32, 32, 3), np.uint8),
        action=np.zeros((5, 3), np.float16),
    )
    proc = run_script("check_record.py", str(tmp_path), check=False)
    assert proc.returncode == 1
    assert "2 good episodes, 10 frames" in proc.stdout
    assert "123.npz" in proc.stdout and "456.npz" in proc.stdout
    loaded = list(iter_episodes(list_episode_files(tmp_path)))
    assert [p.name for p, _ in loaded] == [f.name for f in good]


@pytest.mark.parametrize("make", [False, True])
def test_check_record_missing_or_empty_folder(tmp_path, make):
    folder = tmp_path / "record"
    if make:
        folder.mkdir()
    proc = run_script("check_record.py", str(folder), check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert str(folder) in proc.stderr
