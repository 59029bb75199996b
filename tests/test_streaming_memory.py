"""The VAE's frame stream holds a bounded number of frames, whatever the data set size."""

import subprocess
import sys

import numpy as np
from conftest import ROOT, script_env

PROBE = """
import sys
from pathlib import Path
from vae_train import frame_dataset
files = sorted(Path(sys.argv[1]).glob("*.npz"))
n = 0
for batch in frame_dataset(files, epoch=0, seed=0, batch_size=50, shuffle_buffer=200):
    n += int(batch.shape[0])
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(n, int(hwm) // 1024)
"""


def peak_mb(folder) -> tuple[int, int]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(folder)],
        cwd=ROOT,
        env=script_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    frames, mb = out.split()
    return int(frames), int(mb)


def test_peak_memory_does_not_grow_with_episodes(tmp_path):
    rng = np.random.default_rng(0)
    for name, count in (("small", 4), ("large", 32)):
        folder = tmp_path / name
        folder.mkdir()
        for i in range(count):  # incompressible frames: 4.9 MB per episode in memory
            np.savez(
                folder / f"{i}.npz",
                obs=rng.integers(0, 256, (400, 64, 64, 3), np.uint8),
                action=np.zeros((400, 3), np.float16),
            )
    small_frames, small_mb = peak_mb(tmp_path / "small")
    large_frames, large_mb = peak_mb(tmp_path / "large")
    assert (small_frames, large_frames) == (1600, 12800)
    # holding the large set would take 137 MB more than the small one
    assert large_mb - small_mb < 30, (small_mb, large_mb)
