import json
import math

import numpy as np
import pytest
from conftest import SHARED

from common import UserError
from rnn.numpy_rnn import NumpyRNN, split_mdn

AUTHORS_RNN = SHARED / "reference" / "original" / "rnn.json"


@pytest.fixture(scope="module", autouse=True)
def _tensorflow():
    """M in TensorFlow, imported when these tests run rather than when the suite is
    collected: 2 s of CPU in every test process, most of which never needs it."""
    global MDNRNN, mdn_loss
    from rnn.rnn import MDNRNN, mdn_loss


@pytest.fixture(scope="module")
def authors():
    model = MDNRNN()
    model.load_json(AUTHORS_RNN)
    return model


def test_parameter_count():
    assert MDNRNN().count_params() == 422_368


def test_authors_rnn_json_loads_and_round_trips(authors, tmp_path):
    authors.save_json(tmp_path / "rnn.json")
    ours = json.loads((tmp_path / "rnn.json").read_text())
    theirs = json.loads(AUTHORS_RNN.read_text())
    assert [np.shape(t) for t in ours] == [(256, 480), (480,), (291, 1024), (1024,)]
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(np.array(a), np.array(b))


def test_wrong_json_is_a_clear_error(tmp_path):
    path = tmp_path / "rnn.json"
    path.write_text(json.dumps([[0] * 480, [0] * 480]))
    with pytest.raises(UserError, match="4 tensors"):
        NumpyRNN.from_json(path)


def test_numpy_step_matches_tensorflow(authors):
    np_rnn = NumpyRNN.from_json(AUTHORS_RNN)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 20, 35)).astype(np.float32)
    out_tf = authors(x).numpy()
    state = np_rnn.initial_state(3)
    for t in range(20):
        state = np_rnn.step(x[:, t, :32], x[:, t, 32:], state)
        np.testing.assert_allclose(state[0] @ np_rnn.w_out + np_rnn.b_out, out_tf[:, t], atol=1e-4)


def test_numpy_cell_is_the_authors_cell():
    # c' = c sigmoid(f + 1) + sigmoid(i) tanh(j); h' = tanh(c') sigmoid(o), gates i, j, f, o
    rng = np.random.default_rng(1)
    k = rng.standard_normal((291, 1024)).astype(np.float32) * 0.05
    b = rng.standard_normal(1024).astype(np.float32) * 0.1
    rnn = NumpyRNN([np.zeros((256, 480)), np.zeros(480), k, b])
    z, a = rng.standard_normal((1, 32)), rng.standard_normal((1, 3))
    h, c = rng.standard_normal((1, 256)), rng.standard_normal((1, 256))
    g = np.concatenate([z, a, h], 1) @ k + b
    i, j, f, o = g[:, :256], g[:, 256:512], g[:, 512:768], g[:, 768:]
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    c2 = c * sig(f + 1.0) + sig(i) * np.tanh(j)
    h2 = np.tanh(c2) * sig(o)
    h_ours, c_ours = rnn.step(z, a, (h.astype(np.float32), c.astype(np.float32)))
    np.testing.assert_allclose(c_ours, c2, atol=1e-5)
    np.testing.assert_allclose(h_ours, h2, atol=1e-5)


def test_mdn_loss_matches_direct_computation():
    rng = np.random.default_rng(2)
    out = rng.standard_normal((2, 4, 480)).astype(np.float32)
    y = rng.standard_normal((2, 4, 32)).astype(np.float32)
    mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0]], np.float32)
    o = out.reshape(2, 4, 32, 15)
    logmix, mean, logstd = o[..., :5], o[..., 5:10], o[..., 10:]
    pi = np.exp(logmix) / np.exp(logmix).sum(-1, keepdims=True)
    std = np.exp(logstd)
    pdf = np.exp(-0.5 * ((y[..., None] - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))
    nll = -np.log((pi * pdf).sum(-1)).mean(-1)  # [2, 4]
    expected = (nll * mask).sum() / mask.sum()
    assert float(mdn_loss(out, y, mask)) == pytest.approx(expected, rel=1e-5)


def test_mdn_loss_stays_finite_far_from_the_mixture():
    out = np.zeros((1, 1, 480), np.float32)
    out[..., :] = -30.0  # logstd -30: densities underflow to 0 away from the mean
    y = np.full((1, 1, 32), 5.0, np.float32)
    loss = float(mdn_loss(out, y, np.ones((1, 1), np.float32)))
    assert math.isfinite(loss) and loss > 1e10


def test_sampler_temperature():
    np_rnn = NumpyRNN.from_json(AUTHORS_RNN)
    rng = np.random.default_rng(3)
    h = rng.standard_normal((1, 256)).astype(np.float32) * 0.5
    logmix, mean, _ = np_rnn.mdn(h)
    # a tiny temperature picks the most likely component and adds almost no noise
    z = np_rnn.sample_z(h, 1e-6, rng)
    best = np.take_along_axis(mean, logmix.argmax(-1)[..., None], -1)[..., 0]
    np.testing.assert_allclose(z, best, atol=1e-2)
    samples = np.stack([np_rnn.sample_z(h, 1.0, rng) for _ in range(200)])
    assert samples.shape == (200, 1, 32) and samples.std(0).min() > 0
    np.testing.assert_allclose(np.exp(split_mdn(h @ np_rnn.w_out)[0]).sum(-1), 1.0, rtol=1e-5)
