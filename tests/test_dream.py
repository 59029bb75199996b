"""`model.py dream`: the shipped controller driving in M's dream, decoded by V, as a video;
the same seed and temperature give the same dream, others another one."""

import numpy as np
from conftest import run_script, script_env
from PIL import Image

CONTROLLER = "log/carracing.cma.8.32.best.json"


def frames(path):
    im = Image.open(path)
    out = []
    for k in range(im.n_frames):
        im.seek(k)
        out.append(np.asarray(im.convert("RGB")))
    return out


def test_dream_video_is_deterministic_for_its_seed_and_temperature(tmp_path):
    def dream(name, *flags):
        args = ["--max-steps", "12", "--every", "4", "--out", str(tmp_path / name), *flags]
        proc = run_script("model.py", "dream", CONTROLLER, *args)
        assert proc.stdout.startswith(f"dream: {tmp_path / name}: 4 frames of 12 dream steps")
        return frames(tmp_path / name)

    first = dream("a.gif")
    assert len(first) == 4 and first[0].shape == (256, 256, 3)
    assert first[1].std() > 10  # a picture of a track, not a flat colour
    assert all(np.array_equal(a, b) for a, b in zip(first, dream("b.gif"), strict=True))
    other_seed = dream("c.gif", "--seed", "1")
    assert not np.array_equal(first[0], other_seed[0])  # another start
    hotter = dream("d.gif", "--temperature", "2.0")

    def differ(a, b):  # below the written line (which names the temperature)
        return np.abs(a[24:].astype(int) - b[24:]).mean()

    assert differ(first[0], hotter[0]) < 1  # the same start, another dream after it
    assert differ(first[-1], hotter[-1]) > 3
    assert not list(tmp_path.glob(".*"))  # no temporary file left


def test_dream_window_needs_a_display_and_bad_initial_z_is_one_line(tmp_path):
    env = script_env()
    env.pop("DISPLAY", None)
    proc = run_script("model.py", "dream", CONTROLLER, check=False, env=env)
    assert proc.returncode == 2 and "--out dream.gif" in proc.stderr
    bad = tmp_path / "initial_z.json"
    bad.write_text("[[1, 2], [3, 4]]")
    proc = run_script(
        "model.py",
        "dream",
        CONTROLLER,
        "--initial-z",
        str(bad),
        "--out",
        str(tmp_path / "x.gif"),
        check=False,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert f"{bad}: expected [mu list, logvar list] of 32 numbers each" in proc.stderr
    assert not (tmp_path / "x.gif").exists()
