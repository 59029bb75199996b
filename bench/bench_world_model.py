"""V and M: training throughput, streaming memory, numpy vs TensorFlow latency.

    python bench/bench_world_model.py

1. V training throughput (frames/s, batch 100) with dec_deconv1 as one matmul, against
   the same model with a Conv2DTranspose there (the baseline), in the same run;
2. peak memory of vae_train.py on two synthetic data sets 8x apart (both larger than the
   shuffle buffer); target: the larger grows peak memory by less than 10%;
3. latency at batch 1 of V's encoder and of one M step, numpy against TensorFlow
   (a compiled tf.function), on the same weights;
4. what every process pays to start: reading V's 19 MB vae.json from its binary copy
   (common.load_weights_json, cache=True) against parsing the text; importing
   TensorFlow and Keras without matplotlib (common.import_tensorflow) against a plain
   `import keras`, CPU seconds of a fresh process each.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import numerics  # noqa: E402, F401 - before numpy: the same arithmetic on every CPU

# isort: split

from tables import print_table  # noqa: E402

from common import import_tensorflow, load_weights_json  # noqa: E402

tf = import_tensorflow()
import keras  # noqa: E402
import numpy as np  # noqa: E402

from rnn.numpy_rnn import NumpyRNN  # noqa: E402
from rnn.rnn import MDNRNN  # noqa: E402
from vae.numpy_vae import VAE_SHAPES, NumpyVAE  # noqa: E402
from vae.vae import ConvVAE, vae_losses  # noqa: E402

PEAK_PROBE = """
import runpy, sys
sys.argv = ["vae_train.py"] + sys.argv[1:]
try:
    runpy.run_path("vae_train.py", run_name="__main__")
except SystemExit as e:
    assert not e.code, e.code
print([l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1])
"""


def timeit(fn, repeat: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


class Sample(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.seed_generator = keras.random.SeedGenerator(0)

    def call(self, mu, logvar):
        eps = keras.random.normal(keras.ops.shape(mu), seed=self.seed_generator)
        return mu + keras.ops.exp(logvar / 2) * eps


def conv_transpose_vae() -> keras.Model:
    """The baseline: the same V with dec_deconv1 as a Conv2DTranspose on a 1x1 input."""
    x = keras.Input((64, 64, 3))
    h = x
    for f in (32, 64, 128, 256):
        h = keras.layers.Conv2D(f, 4, strides=2, activation="relu")(h)
    h = keras.layers.Flatten()(h)
    mu, logvar = keras.layers.Dense(32)(h), keras.layers.Dense(32)(h)
    z = Sample()(mu, logvar)
    h = keras.layers.Reshape((1, 1, 1024))(keras.layers.Dense(1024)(z))
    for f, k, act in ((128, 5, "relu"), (64, 5, "relu"), (32, 6, "relu"), (3, 6, "sigmoid")):
        h = keras.layers.Conv2DTranspose(f, k, strides=2, activation=act)(h)
    return keras.Model(x, [h, mu, logvar])


def train_frames_per_s(model, steps: int = 10) -> float:
    optimizer = keras.optimizers.Adam(1e-4)
    x = tf.constant(np.random.default_rng(0).random((100, 64, 64, 3), np.float32))

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            y, mu, logvar = model(x, training=True)
            loss = tf.reduce_mean(tf.reduce_sum(tf.square(x - y), [1, 2, 3]))
            loss += tf.reduce_mean(
                tf.maximum(-0.5 * tf.reduce_sum(1 + logvar - mu**2 - tf.exp(logvar), 1), 16.0)
            )
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    return 100 / timeit(lambda: float(step()), steps)


def peak_memory_mb(data: Path, out: Path) -> float:
    args = [
        "--data",
        str(data),
        "--out",
        str(out),
        "--epochs",
        "1",
        "--batch-size",
        "100",
        "--shuffle-buffer",
        "1000",
        "--checkpoint-every",
        "100000",
    ]
    proc = subprocess.run(
        [sys.executable, "-c", PEAK_PROBE, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(proc.stdout.split()[-1]) / 1024


def import_cpu_s(code: str, repeat: int = 3) -> float:
    """CPU seconds (user + system) of `python -c code`, the least of `repeat` runs."""
    probe = f"{code}\nimport os; t = os.times(); print(t.user + t.system)"
    return min(
        float(
            subprocess.run(
                [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout.split()[-1]
        )
        for _ in range(repeat)
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:  # start-up costs first, on a quiet machine
        path = Path(tmp) / "vae.json"
        path.write_bytes((ROOT / "vae/vae.json").read_bytes())
        shapes = [tuple(s) for s in VAE_SHAPES]
        parse = timeit(lambda: load_weights_json(path, shapes, "V"), 5, warmup=1)
        copy = timeit(lambda: load_weights_json(path, shapes, "V", cache=True), 5, warmup=1)
    held = import_cpu_s("import common; common.import_tensorflow()")
    first_frame = "from env import make_env; make_env().reset(seed=1)"
    built = import_cpu_s(first_frame)
    jit = import_cpu_s(f"import os; os.environ['RASTER_JIT'] = '1'; {first_frame}")
    plain = import_cpu_s("import os; os.environ['TF_CPP_MIN_LOG_LEVEL'] = '2'; import keras")

    model = ConvVAE()
    assert vae_losses  # the training loss is the one bench 1 times
    ours = train_frames_per_s(model)
    base = train_frames_per_s(conv_transpose_vae())

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rng = np.random.default_rng(0)
        sizes = {"2": 2, "16": 16}
        for name, count in sizes.items():
            (tmp / name).mkdir()
            for i in range(count):
                np.savez(
                    tmp / name / f"{i}.npz",
                    obs=rng.integers(0, 256, (1000, 64, 64, 3), np.uint8),
                    action=np.zeros((1000, 3), np.float16),
                )
        small = peak_memory_mb(tmp / "2", tmp / "out2")
        large = peak_memory_mb(tmp / "16", tmp / "out16")

    with tempfile.TemporaryDirectory() as tmp:
        model.save_json(Path(tmp) / "vae.json")
        np_vae = NumpyVAE.from_json(Path(tmp) / "vae.json")
    obs = np.random.default_rng(1).integers(0, 256, (1, 64, 64, 3), np.uint8)
    tf_encode = tf.function(lambda x: model.encode(tf.cast(x, tf.float32) / 255.0))
    v_tf = timeit(lambda: [np.asarray(v) for v in tf_encode(obs)], 300)
    v_np = timeit(lambda: np_vae.encode_mu_logvar(obs), 300)

    rnn = MDNRNN()
    rnn.load_json(ROOT.parent / "shared/reference/original/rnn.json")
    np_rnn = NumpyRNN.from_json(ROOT.parent / "shared/reference/original/rnn.json")
    za = np.zeros((1, 35), np.float32)
    h, c = np_rnn.initial_state()
    cell = rnn.lstm.cell
    tf_step = tf.function(lambda x, h, c: cell(x, [h, c]))
    m_tf = timeit(lambda: [np.asarray(v) for v in tf_step(za, h, c)[1]], 1000)
    m_np = timeit(lambda: np_rnn.step(za[:, :32], za[:, 32:], (h, c)), 1000)
    device = ", ".join(d.device_type for d in tf.config.list_logical_devices()) or "CPU"
    print_table(
        "world_model",
        ["what", "figure", "baseline in the same run", "target"],
        [
            [
                f"V training, batch 100, `dec_deconv1` as one matmul ({device})",
                f"{ours:.1f} frames/s",
                f"{base:.1f} frames/s with `Conv2DTranspose` on the 1x1 input ({ours / base:.2f}x)",
                "",
            ],
            ["`vae_train.py` peak memory, 2 episodes (2,000 frames)", f"{small:.0f} MB", "", ""],
            [
                "`vae_train.py` peak memory, 16 episodes (16,000 frames, 8x)",
                f"{large:.0f} MB",
                f"{100 * (large / small - 1):+.1f}% (the extra frames alone are "
                f"{14000 * 12288 / 2**20:.0f} MB)",
                "< +10%",
            ],
            [
                "V encoder, batch 1, numpy",
                f"{v_np * 1e3:.3f} ms",
                f"TensorFlow `tf.function` {v_tf * 1e3:.3f} ms (numpy {v_tf / v_np:.1f}x faster)",
                "",
            ],
            [
                "M LSTM step, batch 1, numpy",
                f"{m_np * 1e3:.3f} ms",
                f"TensorFlow `tf.function` {m_tf * 1e3:.3f} ms (numpy {m_tf / m_np:.1f}x faster)",
                "",
            ],
            [
                "V's weights read (every process that drives the agent), from the binary copy",
                f"{copy:.3f} s",
                f"parsing vae.json's 19 MB of text {parse:.3f} s ({parse / copy:.1f}x)",
                "",
            ],
            [
                "A new process's first frame, the renderer built ahead of time (every process "
                "that drives the agent; `make venv`: raster.build)",
                f"{built:.2f} CPU s",
                f"numba's cached compilation (`RASTER_JIT=1`) {jit:.2f} CPU s "
                f"({jit - built:.2f} s more)",
                "",
            ],
            [
                "TensorFlow and Keras imported without matplotlib (every V, series, M process)",
                f"{held:.2f} CPU s",
                f"`import keras` {plain:.2f} CPU s ({plain - held:.2f} s more)",
                "",
            ],
        ],
    )


if __name__ == "__main__":
    main()
