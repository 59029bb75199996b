"""The authors' weights format (vae.json, rnn.json): read fast, to the same numbers."""

import glob
import json

import numpy as np
import pytest
from conftest import ROOT, SHARED

from common import WEIGHT_SCALE, UserError, _read_int_tensors, load_weights_json
from rnn.numpy_rnn import RNN_SHAPES
from vae.numpy_vae import VAE_SHAPES


def test_weights_files_read_fast_give_the_json_parsers_numbers(tmp_path):
    """The authors' format read at C speed gives the arrays json and numpy give, on every
    shipped file and on the authors' own M (one number a line); any file not exactly in
    the format goes to the JSON parser, which reads it the same way or names the fault."""

    def parsed(path):
        data = json.loads(path.read_text())
        return [np.asarray(t, dtype=np.float32) / WEIGHT_SCALE for t in data]

    files = [(p, VAE_SHAPES) for p in ["vae/vae.json", *glob.glob("log/*/vae.json")]]
    files += [(p, RNN_SHAPES) for p in ["rnn/rnn.json", *glob.glob("log/*/rnn.json")]]
    files += [(SHARED / "reference/original/rnn.json", RNN_SHAPES)]
    for path, shapes in files:
        fast = _read_int_tensors(ROOT / path, shapes)
        assert fast is not None, path
        for a, b in zip(fast, parsed(ROOT / path), strict=True):
            assert a.dtype == b.dtype and np.array_equal(a, b), path

    small = [(2, 3), (2,)]
    cases = {
        "[[[1,2,3],[4,5,-6]],[7,8]]": [[[1, 2, 3], [4, 5, -6]], [7, 8]],
        "[[[1, 2, 3],\n [4, 5, 6]],\n [7, 8]]": [[[1, 2, 3], [4, 5, 6]], [7, 8]],
        "[[[1,2,3],[4,5,6]],[7,8.5]]": [[[1, 2, 3], [4, 5, 6]], [7, 8.5]],  # a float
    }
    for text, numbers in cases.items():
        (tmp_path / "w.json").write_text(text)
        got = load_weights_json(tmp_path / "w.json", small, "two tensors")
        want = [np.asarray(t, np.float32) / WEIGHT_SCALE for t in numbers]
        assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True)), text
    for text in (
        "[[[1,2,3],[4,5]],[7,8,9]]",  # ragged
        "[[[1,2,3],[4,5,6]],[7,,8]]",  # an empty place
        "[[[1,2,3],[4,5 6]],[7,]]",  # two numbers in one place, one place empty
        "[[[1,2,3],[4,5-6]],[,8]]",
        "[[[1,2,3],[4,5,6]],[7,8]",  # cut short
        "[[[1,2,3],[4,5,6]],[--7,8]]",
    ):
        (tmp_path / "w.json").write_text(text)
        assert _read_int_tensors(tmp_path / "w.json", small) is None, text
        with pytest.raises(UserError, match="w.json"):
            load_weights_json(tmp_path / "w.json", small, "two tensors")
