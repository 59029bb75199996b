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


def test_a_binary_copy_gives_the_same_arrays_and_follows_the_file(tmp_path):
    """load_weights_json(cache=True): the first read writes `.NAME.<hash>.f32` beside the
    file, later reads give the parsed arrays bit for bit from it; a changed file gets a
    new copy (the old one goes); where no copy can be written the file is read."""
    (tmp_path / "vae.json").write_bytes((ROOT / "vae/vae.json").read_bytes())
    parsed = load_weights_json(tmp_path / "vae.json", VAE_SHAPES, "V")
    for _ in range(2):
        got = load_weights_json(tmp_path / "vae.json", VAE_SHAPES, "V", cache=True)
        assert all(
            a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(got, parsed, strict=True)
        )
        assert [a.shape for a in got] == [tuple(s) for s in VAE_SHAPES]
        copies = list(tmp_path.glob(".vae.json.*.f32"))
        assert len(copies) == 1 and copies[0].stat().st_size == 4 * sum(a.size for a in got)
    copies[0].write_bytes(np.zeros(sum(a.size for a in got), np.float32).tobytes())
    got = load_weights_json(tmp_path / "vae.json", VAE_SHAPES, "V", cache=True)
    assert not got[0].any()  # the copy is what is read

    small = [(2, 3), (2,)]
    (tmp_path / "w.json").write_text("[[[1,2,3],[4,5,-6]],[7,8]]")
    load_weights_json(tmp_path / "w.json", small, "two tensors", cache=True)
    first = list(tmp_path.glob(".w.json.*.f32"))
    (tmp_path / "w.json").write_text("[[[1,2,3],[4,5,-6]],[7,9]]")
    got = load_weights_json(tmp_path / "w.json", small, "two tensors", cache=True)
    assert got[1][1] == np.float32(9) / WEIGHT_SCALE
    later = list(tmp_path.glob(".w.json.*.f32"))
    assert len(first) == len(later) == 1 and first != later

    # where the copy cannot be written (here: a folder in its place), the file is read
    later[0].unlink()
    later[0].mkdir()
    got = load_weights_json(tmp_path / "w.json", small, "two tensors", cache=True)
    assert got[1][1] == np.float32(9) / WEIGHT_SCALE and later[0].is_dir()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
