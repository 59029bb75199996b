"""V in numpy, from `vae.json` (no TensorFlow): frames -> (mu, logvar), and z -> frames.

The encoder is used by every rollout (extraction-free stages: model.py, train.py
workers), so a worker starts in a fraction of a second and never touches a GPU; the
decoder draws the pictures (figures.py, `model.py dream`).
"""

from __future__ import annotations

import functools

import numpy as np

from common import load_weights_json

Z_SIZE = 32
# (kernel, in, out) of enc_conv1..4, stride 2
CONVS = [(4, 3, 32), (4, 32, 64), (4, 64, 128), (4, 128, 256)]
VAE_SHAPES = (
    [s for k, i, o in CONVS for s in [(k, k, i, o), (o,)]]
    + [(1024, Z_SIZE), (Z_SIZE,), (1024, Z_SIZE), (Z_SIZE,), (Z_SIZE, 1024), (1024,)]
    + [
        (5, 5, 128, 1024),
        (128,),
        (5, 5, 64, 128),
        (64,),
        (6, 6, 32, 64),
        (32,),
        (6, 6, 3, 32),
        (3,),
    ]
)


def conv2d_valid(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, stride: int) -> np.ndarray:
    """x [B,H,W,C], kernel [k,k,C,O], bias [O] (or already repeated to the output's
    shape), 'valid' padding -> relu(conv + bias).

    The k x k x C windows are gathered with strides (no copy until the reshape) and
    multiplied with the kernel in one matrix product. The strided view is made with
    the ndarray constructor, as `as_strided` would make it, without its Python cost.
    """
    x = np.ascontiguousarray(x)
    k = kernel.shape[0]
    b, h, w, c = x.shape
    ho, wo = (h - k) // stride + 1, (w - k) // stride + 1
    s = x.strides
    windows = np.ndarray(
        (b, ho, wo, k, k, c),
        x.dtype,
        x,
        strides=(s[0], s[1] * stride, s[2] * stride, s[1], s[2], s[3]),
    )
    out = windows.reshape(b * ho * wo, k * k * c) @ kernel.reshape(k * k * c, -1)
    out = out.reshape(b, ho, wo, -1) + bias
    # The ReLU against an array of zeros: the same maximum as against the scalar 0,
    # which numpy computes about 6 times slower (a broadcast operand)
    return np.maximum(out, _zeros(out.shape, out.dtype), out=out)


def conv2d_transpose_valid(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, stride: int):
    """x [B,H,W,C], kernel [k,k,O,C] (Keras's Conv2DTranspose layout), 'valid' padding
    -> conv_transpose + bias, [B, (H-1)*stride+k, (W-1)*stride+k, O]: each input pixel's
    k x k x O patch (one matrix product for all of them) added in at stride spacing."""
    b, h, w, c = x.shape
    k, _, o, _ = kernel.shape
    patches = x.reshape(b * h * w, c) @ kernel.transpose(3, 0, 1, 2).reshape(c, k * k * o)
    patches = patches.reshape(b, h, w, k, k, o)
    out = np.zeros((b, (h - 1) * stride + k, (w - 1) * stride + k, o), patches.dtype)
    for p in range(k):
        for q in range(k):
            out[
                :, p : p + stride * (h - 1) + 1 : stride, q : q + stride * (w - 1) + 1 : stride
            ] += patches[:, :, :, p, q]
    return out + bias


@functools.lru_cache(maxsize=32)
def _zeros(shape: tuple[int, ...], dtype) -> np.ndarray:
    zeros = np.zeros(shape, dtype)
    zeros.flags.writeable = False
    return zeros


class NumpyVAE:
    """V from a `vae.json` file."""

    def __init__(self, tensors: list[np.ndarray]):
        self.convs = [(tensors[2 * i], tensors[2 * i + 1]) for i in range(4)]
        self.w_mu, self.b_mu, self.w_logvar, self.b_logvar = tensors[8:12]
        self.w_dec, self.b_dec = tensors[12:14]
        self.deconvs = [(tensors[i], tensors[i + 1]) for i in range(14, 22, 2)]
        self.z_size = self.w_mu.shape[1]
        # For one frame (every rollout step), each bias repeated to its layer's whole
        # output: the same sums as broadcasting it, which numpy does about 2x slower.
        size, self.frame_biases = 64, []
        for kernel, bias in self.convs:
            size = (size - kernel.shape[0]) // 2 + 1
            self.frame_biases.append(np.tile(bias, (1, size, size, 1)))

    @classmethod
    def from_json(cls, path) -> NumpyVAE:
        what = "the 22 tensors of V (vae.json)"
        return cls(load_weights_json(path, VAE_SHAPES, what, cache=True))

    def encode_mu_logvar(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """obs: uint8 [64,64,3] or [B,64,64,3] -> (mu, logvar), float32 [B, z]."""
        x = np.asarray(obs, np.float32).reshape(-1, 64, 64, 3) / 255.0
        for (kernel, bias), frame_bias in zip(self.convs, self.frame_biases, strict=True):
            x = conv2d_valid(x, kernel, frame_bias if len(x) == 1 else bias, 2)
        x = x.reshape(len(x), -1)
        return x @ self.w_mu + self.b_mu, x @ self.w_logvar + self.b_logvar

    def decode(self, z: np.ndarray) -> np.ndarray:
        """z [B, z] -> frames, float32 [B,64,64,3] in [0, 1] (ConvVAE.decode's layers:
        dense, then transposed convolutions with ReLU, the last with a sigmoid)."""
        x = (np.asarray(z, np.float32) @ self.w_dec + self.b_dec).reshape(-1, 1, 1, 1024)
        for i, (kernel, bias) in enumerate(self.deconvs):
            x = conv2d_transpose_valid(x, kernel, bias, 2)
            x = 1.0 / (1.0 + np.exp(-x)) if i == len(self.deconvs) - 1 else np.maximum(x, 0.0)
        return x

    def encode(self, obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A sample z = mu + exp(logvar/2) * eps (SPEC "C": z is sampled, not the mean)."""
        mu, logvar = self.encode_mu_logvar(obs)
        return mu + np.exp(logvar / 2.0) * rng.standard_normal(mu.shape).astype(np.float32)
