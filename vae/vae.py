"""The ConvVAE of SPEC "V" in TensorFlow 2 / Keras 3 (4,348,547 parameters).

Weights are saved in the authors' `vae.json` format (22 tensors, int-scaled) in their
tensor order, so a file from either side loads in the other.
"""

from __future__ import annotations

from common import import_tensorflow, load_weights_json, save_weights_json

tf = import_tensorflow()
import keras  # noqa: E402
import numpy as np  # noqa: E402

Z_SIZE = 32
KL_TOLERANCE = 0.5
ENCODER = [(32, 4), (64, 4), (128, 4), (256, 4)]  # (filters, kernel), stride 2, relu
DECODER = [(64, 5), (32, 6), (3, 6)]  # after dec_deconv1 (128 filters, kernel 5 on 1x1)


class Deconv1x1(keras.layers.Layer):
    """`dec_deconv1`: a stride-2 Conv2DTranspose (kernel 5, 128 filters) on a 1x1x1024 input.

    On a 1x1 input the transposed convolution is a matrix product, out[y,x,o] =
    sum_i in[i] K[y,x,o,i] + b[o]; done as one matmul it is several times faster on a
    CPU. The kernel is stored as [1024, 5*5*128] and saved as the [5,5,128,1024] tensor.
    """

    def __init__(self, filters: int = 128, kernel_size: int = 5, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size = filters, kernel_size

    def build(self, input_shape):
        k, f, n_in = self.kernel_size, self.filters, input_shape[-1]
        limit = float(np.sqrt(6.0 / (k * k * (f + n_in))))  # glorot, as Conv2DTranspose
        self.kernel = self.add_weight(
            shape=(n_in, k * k * f),
            name="kernel",
            initializer=keras.initializers.RandomUniform(-limit, limit),
        )
        self.bias = self.add_weight(shape=(f,), name="bias", initializer="zeros")

    def call(self, x):
        k, f = self.kernel_size, self.filters
        y = keras.ops.reshape(keras.ops.matmul(x, self.kernel), (-1, k, k, f))
        return keras.ops.relu(y + self.bias)

    def get_hwoi(self) -> np.ndarray:
        k, f = self.kernel_size, self.filters
        return self.kernel.numpy().reshape(-1, k, k, f).transpose(1, 2, 3, 0)

    def set_hwoi(self, kernel: np.ndarray, bias: np.ndarray) -> None:
        self.kernel.assign(kernel.transpose(3, 0, 1, 2).reshape(kernel.shape[3], -1))
        self.bias.assign(bias)


class ConvVAE(keras.Model):
    """Encoder 64x64x3 -> (mu, logvar) of z; decoder z -> 64x64x3 in [0, 1]."""

    def __init__(
        self, z_size: int = Z_SIZE, kl_tolerance: float = KL_TOLERANCE, seed: int = 0, **kwargs
    ):
        super().__init__(**kwargs)
        self.z_size, self.kl_tolerance = z_size, kl_tolerance
        # The noise of z = mu + exp(logvar/2) * eps comes from a state that is part of
        # the model's variables, so a resumed run draws the same eps as an unbroken one.
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.enc_convs = [
            keras.layers.Conv2D(f, k, strides=2, activation="relu", name=f"enc_conv{i + 1}")
            for i, (f, k) in enumerate(ENCODER)
        ]
        self.enc_fc_mu = keras.layers.Dense(z_size, name="enc_fc_mu")
        self.enc_fc_log_var = keras.layers.Dense(z_size, name="enc_fc_log_var")
        self.dec_fc = keras.layers.Dense(1024, name="dec_fc")
        self.dec_deconv1 = Deconv1x1(128, 5, name="dec_deconv1")
        self.dec_deconvs = [
            keras.layers.Conv2DTranspose(
                f,
                k,
                strides=2,
                activation="sigmoid" if i == 2 else "relu",
                name=f"dec_deconv{i + 2}",
            )
            for i, (f, k) in enumerate(DECODER)
        ]
        self.build((None, 64, 64, 3))

    def build(self, input_shape):
        x = keras.KerasTensor(input_shape)
        self.decode(self.encode(x)[0])
        self.built = True

    def encode(self, x):
        """x: float frames in [0, 1], [B,64,64,3] -> (mu, logvar), each [B, z]."""
        for conv in self.enc_convs:
            x = conv(x)
        x = keras.ops.reshape(x, (-1, 2 * 2 * 256))
        return self.enc_fc_mu(x), self.enc_fc_log_var(x)

    def decode(self, z):
        x = self.dec_deconv1(self.dec_fc(z))
        for deconv in self.dec_deconvs:
            x = deconv(x)
        return x

    def call(self, x, training=False):
        mu, logvar = self.encode(x)
        eps = keras.random.normal(keras.ops.shape(mu), seed=self.seed_generator)
        z = mu + keras.ops.exp(logvar / 2.0) * eps
        return self.decode(z), mu, logvar

    # ------------------------------------------------------------ authors' tensor order
    def get_tensors(self) -> list[np.ndarray]:
        out = []
        for layer in [*self.enc_convs, self.enc_fc_mu, self.enc_fc_log_var, self.dec_fc]:
            out += [layer.kernel.numpy(), layer.bias.numpy()]
        out += [self.dec_deconv1.get_hwoi(), self.dec_deconv1.bias.numpy()]
        for layer in self.dec_deconvs:
            out += [layer.kernel.numpy(), layer.bias.numpy()]
        return out

    def set_tensors(self, tensors: list[np.ndarray]) -> None:
        it = iter(tensors)
        for layer in [*self.enc_convs, self.enc_fc_mu, self.enc_fc_log_var, self.dec_fc]:
            layer.kernel.assign(next(it))
            layer.bias.assign(next(it))
        self.dec_deconv1.set_hwoi(next(it), next(it))
        for layer in self.dec_deconvs:
            layer.kernel.assign(next(it))
            layer.bias.assign(next(it))

    def tensor_shapes(self) -> list[tuple[int, ...]]:
        return [t.shape for t in self.get_tensors()]

    def save_json(self, path) -> None:
        save_weights_json(path, self.get_tensors())

    def load_json(self, path) -> None:
        self.set_tensors(load_weights_json(path, self.tensor_shapes(), "the 22 tensors of V"))


def vae_losses(model: ConvVAE, x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """(loss, r_loss, kl_loss), each a batch mean (SPEC "V": per-sample KL floored at
    kl_tolerance * z_size)."""
    y, mu, logvar = model(x, training=True)
    r_loss = tf.reduce_mean(tf.reduce_sum(tf.square(x - y), axis=[1, 2, 3]))
    kl = -0.5 * tf.reduce_sum(1.0 + logvar - tf.square(mu) - tf.exp(logvar), axis=1)
    kl = tf.maximum(kl, model.kl_tolerance * model.z_size)
    kl_loss = tf.reduce_mean(kl)
    return r_loss + kl_loss, r_loss, kl_loss
