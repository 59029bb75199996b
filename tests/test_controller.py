import csv
import json

import numpy as np
import pytest
from conftest import ROOT, SHARED, run_script, script_env

from common import UserError
from env import make_env
from es import CMAES
from model import Agent, Controller, load_controller_params, param_count

AUTHORS_BEST = SHARED / "reference/original/carracing.cma.16.64.best.json"


def test_parameter_counts():
    assert (param_count("zh"), param_count("z"), param_count("z_hidden")) == (867, 99, 1443)


def test_parameter_layouts():
    c = Controller("zh")
    c.set_params(np.arange(867))
    np.testing.assert_array_equal(c.bias, [0, 1, 2])
    np.testing.assert_array_equal(c.weight[0], [3, 4, 5])  # W (288 x 3), row-major
    np.testing.assert_array_equal(c.weight[287], [864, 865, 866])
    c = Controller("z")
    c.set_params(np.arange(99))
    assert c.weight.shape == (32, 3) and c.weight[31, 2] == 98
    c = Controller("z_hidden")
    c.set_params(np.arange(1443))
    np.testing.assert_array_equal(c.bias_hidden, np.arange(40))
    np.testing.assert_array_equal(c.weight_hidden[0], np.arange(40, 80))
    assert c.weight_hidden.shape == (32, 40)
    np.testing.assert_array_equal(c.bias, [1320, 1321, 1322])
    assert c.weight.shape == (40, 3) and c.weight[0, 0] == 1323 and c.weight[39, 2] == 1442
    with pytest.raises(ValueError, match="99 parameters, expected 867"):
        Controller("zh").set_params(np.zeros(99))


def test_action_squashing():
    c = Controller("zh")
    np.testing.assert_allclose(c.action(np.zeros(32), np.zeros(256)), [0, 0.5, 0])
    c.set_params(np.concatenate([[5, -5, -5], np.zeros(864)]))
    np.testing.assert_allclose(c.action(np.zeros(32), np.zeros(256)), [1, 0, 0], atol=1e-4)
    c.set_params(np.concatenate([[-5, 5, 5], np.zeros(864)]))
    np.testing.assert_allclose(c.action(np.zeros(32), np.zeros(256)), [-1, 1, 1], atol=1e-4)
    # h reaches the action in mode zh: the row of W for h_0 is the 33rd
    p = np.zeros(867)
    p[3 + 32 * 3] = 1.0
    c.set_params(p)
    assert c.action(np.zeros(32), np.eye(256)[0])[0] == pytest.approx(np.tanh(1.0))


def test_authors_best_json_loads():
    params = load_controller_params(AUTHORS_BEST)
    data = json.loads(AUTHORS_BEST.read_text())
    assert params.shape == (867,) and params[0] == data[0][0] == pytest.approx(0.4248)
    assert data[1] == pytest.approx(900.46, abs=0.01)


def test_wrong_length_controller_file(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps([list(range(99))]))
    with pytest.raises(UserError, match=r"99 parameters, expected 867.*--mode z\)"):
        load_controller_params(path)
    assert load_controller_params(path, "z").shape == (99,)


def norender(weights, *extra, np_=None):
    args = [
        "model.py",
        "norender",
        str(AUTHORS_BEST),
        "--vae",
        str(weights["vae"]),
        "--rnn",
        str(weights["rnn"]),
        "--trials",
        "3",
        "--max-steps",
        "40",
        *extra,
    ]
    return run_script(*args, mpirun=np_ or 0).stdout


def test_norender_reproducible_and_parallel(weights):
    first = norender(weights, "--seed", "3")
    lines = first.strip().splitlines()
    assert len(lines) == 4 and lines[-1].startswith("average_reward ")
    scores = [float(line.split()[1]) for line in lines[:3]]
    mean, std = float(lines[-1].split()[1]), float(lines[-1].split()[3])
    assert mean == pytest.approx(np.mean(scores)) and std == pytest.approx(np.std(scores))
    assert norender(weights, "--seed", "3") == first
    assert norender(weights, "--seed", "4") != first
    assert norender(weights, "--seed", "3", np_=2) == first  # same scores under mpirun


def test_agent_is_reproducible_in_process(weights):
    agent = Agent.from_files(weights["vae"], weights["rnn"])
    env = make_env(max_episode_steps=30)
    a = agent.evaluate(env, load_controller_params(AUTHORS_BEST), seed=5, num_episodes=2)
    b = agent.evaluate(env, load_controller_params(AUTHORS_BEST), seed=5, num_episodes=2)
    assert a == b and len(a[0]) == 2 and a[0][0] != a[0][1]  # two different tracks


def test_early_stop_ends_population_episodes_only_after_n_idle_steps(weights):
    agent = Agent.from_files(weights["vae"], weights["rnn"])
    env = make_env(max_episode_steps=200)
    parked = np.zeros(param_count("zh"))
    parked[1] = -10.0  # gas bias: (tanh(-10) + 1) / 2 = 0, the car never reaches a new tile
    rewards, lengths = agent.evaluate(
        env, parked, seed=3, num_episodes=2, max_steps=200, early_stop=25
    )
    # the first step scores the tile under the car, then 25 steps of -0.1 in a row
    assert lengths == [26, 26] and rewards[0] == pytest.approx(rewards[1], abs=5)
    full = agent.evaluate(env, parked, seed=3, num_episodes=1, max_steps=200)
    assert full[1] == [200] and full[0][0] == pytest.approx(rewards[0] - 0.1 * (200 - 26))


def record(weights, out, *extra):
    return run_script(
        "model.py",
        "record",
        str(AUTHORS_BEST),
        "--vae",
        str(weights["vae"]),
        "--rnn",
        str(weights["rnn"]),
        "--max-steps",
        "10",
        "--out",
        str(out),
        *extra,
    )


def test_record_writes_gif(weights, tmp_path):
    from PIL import Image

    record(weights, tmp_path / "agent.gif", "--every", "2")
    gif = Image.open(tmp_path / "agent.gif")
    assert gif.size == (600, 400) and gif.n_frames == 5
    record(weights, tmp_path / "odd.gif", "--every", "4")  # steps 4, 8 and the last, 10
    assert Image.open(tmp_path / "odd.gif").n_frames == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["agent.gif", "odd.gif"]


def test_record_writes_h264_mp4(weights, tmp_path):
    import imageio_ffmpeg

    proc = record(weights, tmp_path / "agent.mp4", "--every", "1")
    assert "10 frames" in proc.stdout
    reader = imageio_ffmpeg.read_frames(str(tmp_path / "agent.mp4"))
    meta = next(reader)
    frames = [np.frombuffer(f, np.uint8).reshape(400, 600, 3) for f in reader]
    assert meta["codec"] == "h264" and meta["size"] == (600, 400) and meta["fps"] == 50
    assert len(frames) == 10 and 40 < frames[-1].mean() < 220  # a picture, not black
    assert [p.name for p in tmp_path.iterdir()] == ["agent.mp4"]  # no temporary left


def test_render_without_display_suggests_record(weights):
    env = script_env()
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    proc = run_script(
        "model.py",
        "render",
        str(AUTHORS_BEST),
        "--vae",
        str(weights["vae"]),
        "--rnn",
        str(weights["rnn"]),
        env=env,
        check=False,
    )
    assert proc.returncode == 2 and "record" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_cmaes_minimises_a_quadratic():
    target = np.linspace(-1, 1, 12)
    es = CMAES(12, sigma_init=0.5, popsize=16, weight_decay=0.0, seed=1)
    for _ in range(200):
        solutions = es.ask()
        es.tell(-np.sum((solutions - target) ** 2, axis=1))
    np.testing.assert_allclose(es.current_param(), target, atol=1e-3)


def test_cmaes_weight_decay_is_a_penalty_and_state_restores():
    es = CMAES(4, popsize=6, weight_decay=0.01, seed=2)
    solutions = es.ask()
    fitness = es.fitness(np.zeros(6))
    np.testing.assert_allclose(fitness, -0.01 * np.mean(solutions**2, axis=1))
    assert np.all(fitness < 0)
    saved = CMAES.from_state(es.state())
    es.tell(np.arange(6.0))
    saved.tell(np.arange(6.0))
    np.testing.assert_array_equal(es.ask(), saved.ask())
    np.testing.assert_array_equal(es.current_param(), saved.current_param())


def test_cmaes_max_sigma_stops_the_step_size_growing():
    # a linear objective makes cma's step-size adaptation grow sigma every generation
    def run(max_sigma):
        es = CMAES(20, sigma_init=0.1, popsize=8, weight_decay=0.0, seed=3, max_sigma=max_sigma)
        sigmas = []
        for _ in range(30):
            es.tell(es.ask().sum(axis=1))
            sigmas.append(es.es.sigma)
        return np.array(sigmas), es

    free, _ = run(None)
    capped, es = run(0.1)
    assert free[-1] > 0.2  # without the cap it grows
    assert np.all(capped <= 0.1) and capped[-1] == 0.1
    assert CMAES.from_state(es.state()).max_sigma == 0.1  # the cap travels with the state


def test_norender_details_explain_each_track(tmp_path):
    """--details on the shipped agent: a row per track whose tiles and steps add up to its
    reward (1000 over the tiles, minus 0.1 a step), the same in one process and under mpirun."""
    shipped = sorted((ROOT / "log").glob("carracing.cma.*.best.json"))[0]
    args = ["model.py", "norender", str(shipped), "--trials", "2", "--max-steps", "300"]
    tables = []
    for np_ in (0, 2):
        out = tmp_path / f"tracks{np_}.csv"
        proc = run_script(*args, "--details", str(out), mpirun=np_)
        assert "points lost per track" in proc.stderr and "tiles never reached" in proc.stderr
        rows = list(csv.DictReader(out.read_text().splitlines()))
        rewards = [float(line.split()[1]) for line in proc.stdout.splitlines()[:2]]
        assert [float(r["reward"]) for r in rows] == rewards
        for r in rows:
            steps, visited, total = int(r["steps"]), int(r["tiles_visited"]), int(r["tiles_total"])
            assert steps == 300 and r["lap_finished"] == "0" and r["left_playfield"] == "0"
            assert float(r["reward"]) == pytest.approx(1000 * visited / total - 0.1 * steps)
            furthest, other_way = int(r["furthest_tile"]), int(r["tiles_other_way"])
            assert 0 < visited <= furthest + other_way and furthest + other_way <= total
            assert 0 <= int(r["steps_off_road"]) <= steps
            assert 0 < float(r["mean_speed"]) <= float(r["top_speed"])
        tables.append(rows)
    assert tables[0] == tables[1]


def test_map_draws_the_track_and_the_path(tmp_path):
    shipped = sorted((ROOT / "log").glob("carracing.cma.*.best.json"))[0]
    out = tmp_path / "maps" / "track3.png"
    proc = run_script(
        "model.py", "map", str(shipped), "--seed", "3", "--max-steps", "60", "--out", str(out)
    )
    assert proc.stdout.startswith(f"map: {out}: reward ") and "in 60 steps" in proc.stdout
    from PIL import Image

    with Image.open(out) as image:
        assert image.format == "PNG" and image.size[0] > 400
        colors = image.convert("RGB").getcolors(1 << 20)
    red = sum(n for n, (r, g, b) in colors if r > 180 and g < 80 and b < 80)
    assert red > 1000, "the tiles not reached in 60 steps are drawn red"


def test_v_only_controllers_do_not_step_m(weights, monkeypatch):
    """--mode z never reads h, so the rollout skips M's step, with the same rewards as a
    rollout that steps M."""
    agent = Agent.from_files(weights["vae"], weights["rnn"], "z")
    agent.controller.set_params(np.random.default_rng(1).standard_normal(99) * 0.3)
    env = make_env(max_episode_steps=40)
    # the rollout as it was, stepping M after every action
    obs, _ = env.reset(seed=2)
    rng, state, stepped = np.random.default_rng(2), agent.rnn.initial_state(), 0.0
    for _ in range(40):
        z = agent.vae.encode(obs, rng)
        action = agent.controller.action(z, state[0])
        obs, reward, terminated, truncated, _ = env.step(action)
        state = agent.rnn.step(z, action[None].astype(np.float32), state)
        stepped += reward
        if terminated or truncated:
            break
    calls = []
    step = agent.rnn.step
    monkeypatch.setattr(agent.rnn, "step", lambda *a: calls.append(1) or step(*a))
    assert agent.rollout(env, np.random.default_rng(2), seed=2, max_steps=40)[0] == stepped
    assert not calls
