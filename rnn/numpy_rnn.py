"""M in numpy, from `rnn.json` (no TensorFlow): the LSTM step and the MDN sampler.

The cell is the authors' (SPEC "M"): g = [z, a, h] @ K + b split into i, j, f, o;
c' = c * sigmoid(f + 1.0) + sigmoid(i) * tanh(j); h' = tanh(c') * sigmoid(o).
"""

from __future__ import annotations

import numpy as np

from common import load_weights_json

Z_SIZE, ACTION_SIZE, HIDDEN, NUM_MIXTURES = 32, 3, 256, 5
FORGET_BIAS = 1.0
RNN_SHAPES = [
    (HIDDEN, Z_SIZE * NUM_MIXTURES * 3),
    (Z_SIZE * NUM_MIXTURES * 3,),
    (Z_SIZE + ACTION_SIZE + HIDDEN, 4 * HIDDEN),
    (4 * HIDDEN,),
]


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # overflow-free form


def split_mdn(output: np.ndarray, num_mixtures: int = NUM_MIXTURES):
    """[..., z*K*3] -> logmix (log-softmax), mean, logstd, each [..., z, K]."""
    out = output.reshape(*output.shape[:-1], -1, 3 * num_mixtures)
    logmix, mean, logstd = np.split(out, 3, axis=-1)
    m = logmix.max(axis=-1, keepdims=True)
    logmix = logmix - (m + np.log(np.exp(logmix - m).sum(axis=-1, keepdims=True)))
    return logmix, mean, logstd


class NumpyRNN:
    """M from the four tensors of `rnn.json`: output W [256,480], b [480], K [291,1024], b."""

    def __init__(self, tensors: list[np.ndarray]):
        self.w_out, self.b_out, self.kernel, self.bias = (
            np.asarray(t, np.float32) for t in tensors
        )
        self.hidden = self.kernel.shape[1] // 4
        self.z_size = self.kernel.shape[0] - ACTION_SIZE - self.hidden

    @classmethod
    def from_json(cls, path) -> NumpyRNN:
        return cls(load_weights_json(path, RNN_SHAPES, "the 4 tensors of M (rnn.json)"))

    def initial_state(self, batch: int = 1) -> tuple[np.ndarray, np.ndarray]:
        zeros = np.zeros((batch, self.hidden), np.float32)
        return zeros, zeros.copy()

    def step(self, z: np.ndarray, a: np.ndarray, state: tuple[np.ndarray, np.ndarray]):
        """One LSTM step on input [z, a]; z [B, 32], a [B, 3]; returns the new (h, c)."""
        h, c = state
        x = np.concatenate([np.reshape(z, (len(h), -1)), np.reshape(a, (len(h), -1)), h], 1)
        gates = x @ self.kernel + self.bias
        n = self.hidden  # i, j, f, o: views of the four blocks, as np.split gives them
        i, j, f, o = gates[:, :n], gates[:, n : 2 * n], gates[:, 2 * n : 3 * n], gates[:, 3 * n :]
        c = c * sigmoid(f + FORGET_BIAS) + sigmoid(i) * np.tanh(j)
        h = np.tanh(c) * sigmoid(o)
        return h.astype(np.float32), c.astype(np.float32)

    def mdn(self, h: np.ndarray):
        """The mixture for the next z given h: logmix, mean, logstd, each [B, z, K]."""
        return split_mdn(h @ self.w_out + self.b_out)

    def sample_z(self, h: np.ndarray, tau: float, rng: np.random.Generator) -> np.ndarray:
        """Draw the next z at temperature tau (SPEC "M", dream sampling)."""
        logmix, mean, logstd = self.mdn(h)
        logits = logmix / tau
        p = np.exp(logits - logits.max(axis=-1, keepdims=True))
        p /= p.sum(axis=-1, keepdims=True)
        u = rng.random(p.shape[:-1] + (1,))
        k = np.minimum((np.cumsum(p, axis=-1) < u).sum(axis=-1), p.shape[-1] - 1)
        pick = np.take_along_axis
        mu_k = pick(mean, k[..., None], -1)[..., 0]
        std_k = np.exp(pick(logstd, k[..., None], -1)[..., 0])
        return (mu_k + std_k * rng.standard_normal(mu_k.shape) * np.sqrt(tau)).astype(np.float32)
