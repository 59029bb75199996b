"""M, the MDN-RNN of SPEC "M", in TensorFlow 2 / Keras 3 (422,368 parameters).

The LSTM is Keras' own (fast, cuDNN on a GPU); its weights are converted to and
from the authors' layout when saved and loaded: one kernel [z + a + h, 4 * 256] with
gates in the order i, j, f, o and the forget bias +1.0 added, not stored. Keras
orders the gates i, f, c(=j), o and stores the whole forget bias.
"""

from __future__ import annotations

import math

from common import import_tensorflow, load_weights_json, save_weights_json

tf = import_tensorflow()
import keras  # noqa: E402
import numpy as np  # noqa: E402

from rnn.numpy_rnn import (  # noqa: E402
    ACTION_SIZE,
    FORGET_BIAS,
    HIDDEN,
    NUM_MIXTURES,
    RNN_SHAPES,
    Z_SIZE,
)

GATE_ORDER = [0, 2, 1, 3]  # authors' i, j, f, o <-> Keras' i, f, c, o (its own inverse)


def _reorder(w: np.ndarray) -> np.ndarray:
    return np.concatenate([np.split(w, 4, axis=-1)[g] for g in GATE_ORDER], axis=-1)


class MDNRNN(keras.Model):
    """[z_t, a_t] sequences -> MDN parameters of z_{t+1}: [B, T, z * K * 3]."""

    def __init__(
        self, z_size: int = Z_SIZE, hidden: int = HIDDEN, num_mixtures: int = NUM_MIXTURES, **kwargs
    ):
        super().__init__(**kwargs)
        self.z_size, self.hidden, self.num_mixtures = z_size, hidden, num_mixtures
        self.lstm = keras.layers.LSTM(
            hidden, return_sequences=True, unit_forget_bias=True, name="lstm"
        )
        self.mdn = keras.layers.Dense(z_size * num_mixtures * 3, name="mdn")
        self.build((None, None, z_size + ACTION_SIZE))

    def build(self, input_shape):
        self.mdn(self.lstm(keras.KerasTensor(input_shape)))
        self.built = True

    def call(self, x):
        return self.mdn(self.lstm(x))

    def get_tensors(self) -> list[np.ndarray]:
        cell = self.lstm.cell
        kernel = np.concatenate([cell.kernel.numpy(), cell.recurrent_kernel.numpy()], 0)
        bias = _reorder(cell.bias.numpy())
        bias[2 * self.hidden : 3 * self.hidden] -= FORGET_BIAS
        return [self.mdn.kernel.numpy(), self.mdn.bias.numpy(), _reorder(kernel), bias]

    def set_tensors(self, tensors: list[np.ndarray]) -> None:
        w_out, b_out, kernel, bias = tensors
        self.mdn.kernel.assign(w_out)
        self.mdn.bias.assign(b_out)
        bias = np.array(bias, np.float32)
        bias[2 * self.hidden : 3 * self.hidden] += FORGET_BIAS
        kernel = _reorder(kernel)
        n_in = self.z_size + ACTION_SIZE
        self.lstm.cell.kernel.assign(kernel[:n_in])
        self.lstm.cell.recurrent_kernel.assign(kernel[n_in:])
        self.lstm.cell.bias.assign(_reorder(bias))

    def save_json(self, path) -> None:
        save_weights_json(path, self.get_tensors())

    def load_json(self, path) -> None:
        self.set_tensors(load_weights_json(path, RNN_SHAPES, "the 4 tensors of M (rnn.json)"))


def mdn_loss(
    output: tf.Tensor, target: tf.Tensor, mask: tf.Tensor, num_mixtures: int = NUM_MIXTURES
) -> tf.Tensor:
    """Mean over valid (batch, time) and z dims of -log sum_k pi_k N(y; mean_k, std_k).

    output [B,T,z*K*3], target [B,T,z], mask [B,T] (1 where a target exists). Computed
    with log-softmax and log-sum-exp, so it stays finite where the densities underflow.
    """
    shape = tf.shape(target)
    out = tf.reshape(output, [shape[0], shape[1], shape[2], 3 * num_mixtures])
    logmix, mean, logstd = tf.split(out, 3, axis=-1)
    logmix = logmix - tf.reduce_logsumexp(logmix, axis=-1, keepdims=True)
    y = target[..., None]
    log_normal = (
        -0.5 * tf.square((y - mean) * tf.exp(-logstd)) - logstd - 0.5 * math.log(2.0 * math.pi)
    )
    nll = -tf.reduce_logsumexp(logmix + log_normal, axis=-1)  # [B, T, z]
    mask = tf.cast(mask, nll.dtype)
    total = tf.reduce_sum(tf.reduce_mean(nll, axis=-1) * mask)
    return total / tf.maximum(tf.reduce_sum(mask), 1.0)
