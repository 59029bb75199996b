import json
import math

import numpy as np
import pytest
from conftest import SHARED  # noqa: F401  (keeps sys.path set-up)

from common import UserError
from vae.numpy_vae import VAE_SHAPES, NumpyVAE, conv2d_valid


@pytest.fixture(scope="module", autouse=True)
def _tensorflow():
    """V in TensorFlow, imported when these tests run rather than when the suite is
    collected: 2 s of CPU in every test process, most of which never needs it."""
    global tf, keras, ConvVAE, Deconv1x1, vae_losses
    from vae.vae import ConvVAE, Deconv1x1, keras, tf, vae_losses


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(1)
    return ConvVAE()


def test_parameter_count_and_shapes(model):
    assert model.count_params() == 4_348_547
    assert [tuple(t.shape) for t in model.get_tensors()] == [tuple(s) for s in VAE_SHAPES]
    x = np.random.default_rng(0).random((2, 64, 64, 3), np.float32)
    y, mu, logvar = model(x)
    assert y.shape == (2, 64, 64, 3) and mu.shape == (2, 32) and logvar.shape == (2, 32)


def test_json_round_trip(model, tmp_path):
    model.save_json(tmp_path / "vae.json")
    data = json.loads((tmp_path / "vae.json").read_text())
    assert len(data) == 22 and all(isinstance(v, int) for v in np.ravel(data[0]).tolist())
    other = ConvVAE()
    other.load_json(tmp_path / "vae.json")
    for a, b in zip(model.get_tensors(), other.get_tensors(), strict=True):
        np.testing.assert_allclose(a, b, atol=0.5e-4 + 1e-7)
    other.save_json(tmp_path / "again.json")
    assert (tmp_path / "again.json").read_text() == (tmp_path / "vae.json").read_text()


def test_wrong_json_is_a_clear_error(tmp_path):
    path = tmp_path / "vae.json"
    path.write_text(json.dumps([[1, 2, 3]]))
    with pytest.raises(UserError, match=str(path)):
        ConvVAE().load_json(path)
    with pytest.raises(UserError, match="22 tensors"):
        NumpyVAE.from_json(path)


def test_numpy_encoder_matches_tensorflow(model, tmp_path):
    model.save_json(tmp_path / "vae.json")
    tf_model = ConvVAE()
    tf_model.load_json(tmp_path / "vae.json")
    np_model = NumpyVAE.from_json(tmp_path / "vae.json")
    obs = np.random.default_rng(2).integers(0, 256, (5, 64, 64, 3), dtype=np.uint8)
    mu_tf, logvar_tf = tf_model.encode(obs.astype(np.float32) / 255.0)
    mu_np, logvar_np = np_model.encode_mu_logvar(obs)
    np.testing.assert_allclose(mu_np, mu_tf, atol=1e-4)
    np.testing.assert_allclose(logvar_np, logvar_tf, atol=1e-4)
    assert np.abs(np.asarray(mu_tf)).max() > 1e-3  # not trivially zero
    mu1, _ = np_model.encode_mu_logvar(obs[0])  # a single frame works too
    np.testing.assert_allclose(mu1[0], mu_np[0], atol=1e-5)


def test_numpy_decoder_matches_tensorflow(root):
    """On the shipped V (a random one decodes everything to a flat grey)."""
    tf_model = ConvVAE()
    tf_model.load_json(root / "vae/vae.json")
    np_model = NumpyVAE.from_json(root / "vae/vae.json")
    z = np.random.default_rng(4).standard_normal((3, 32)).astype(np.float32)
    expected = np.asarray(tf_model.decode(z))
    got = np_model.decode(z)
    assert got.shape == (3, 64, 64, 3) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert expected.std() > 0.05  # a picture, not a flat colour


def test_dense_deconv_equals_conv2d_transpose():
    deconv = keras.layers.Conv2DTranspose(128, 5, strides=2, activation="relu")
    x = np.random.default_rng(3).standard_normal((4, 1, 1, 1024)).astype(np.float32)
    expected = deconv(x).numpy()
    ours = Deconv1x1(128, 5)
    ours.build((None, 1024))
    ours.set_hwoi(deconv.kernel.numpy(), deconv.bias.numpy())
    np.testing.assert_allclose(ours(x.reshape(4, 1024)).numpy(), expected, atol=1e-5)
    np.testing.assert_array_equal(ours.get_hwoi(), deconv.kernel.numpy())


def test_kl_floor():
    model = ConvVAE()
    x = tf.constant(np.random.default_rng(4).random((3, 64, 64, 3), np.float32))
    for layer in (model.enc_fc_mu, model.enc_fc_log_var):
        layer.kernel.assign(tf.zeros_like(layer.kernel))
        layer.bias.assign(tf.zeros_like(layer.bias))
    # mu = 0, logvar = 0: the KL is 0, floored at kl_tolerance * z_size = 16
    _, _, kl = vae_losses(model, x)
    assert float(kl) == pytest.approx(16.0)
    # mu = 2 in every dim: KL = 0.5 * 32 * 4 = 64, above the floor
    model.enc_fc_mu.bias.assign(tf.fill([32], 2.0))
    loss, r_loss, kl = vae_losses(model, x)
    assert float(kl) == pytest.approx(64.0, rel=1e-5)
    assert float(loss) == pytest.approx(float(r_loss) + 64.0, rel=1e-5)
    assert float(r_loss) > 0 and math.isfinite(float(r_loss))


def test_conv_relu_is_the_scalar_maximum_bit_for_bit():
    """conv2d_valid takes the ReLU against an array of zeros (faster): the same bits as
    against the scalar 0, zeros and negative zeros included."""
    special = np.array([-0.0, 0.0, -1.0, np.nan, 2.0] * 20, np.float32)
    zeros = np.zeros_like(special)
    assert np.maximum(special, 0.0).tobytes() == np.maximum(special, zeros).tobytes()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 9, 9, 4)).astype(np.float32)
    x[0, :4] = 0.0  # windows of zeros: sums of signed zeros
    x[1, :2] = -0.0
    kernel = rng.standard_normal((4, 4, 4, 6)).astype(np.float32)
    for bias in (rng.standard_normal(6).astype(np.float32), np.array([0.0, -0.0] * 3, np.float32)):
        k = kernel.reshape(-1, 6)
        windows = np.lib.stride_tricks.sliding_window_view(x, (4, 4), axis=(1, 2))[:, ::2, ::2]
        expected = np.maximum(
            (windows.transpose(0, 1, 2, 4, 5, 3).reshape(-1, 64) @ k).reshape(2, 3, 3, 6) + bias,
            0.0,
        )
        got = conv2d_valid(x, kernel, bias, 2)
        assert got.tobytes() == expected.tobytes()
