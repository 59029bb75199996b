"""The progress plot, its notebook, and their errors."""

import json

import pytest
from conftest import ROOT, SHARED, run_script, script_env

AUTHORS_BASE = SHARED / "reference/original/carracing.cma.16.64"


@pytest.fixture(scope="module")
def tiny_log(weights, tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("log")
    run_script(
        "train.py",
        "-n",
        "4",
        "-e",
        "1",
        "--max-steps",
        "40",
        "--eval_steps",
        "1",
        "--eval-episodes",
        "1",
        "--generations",
        "2",
        "--vae",
        str(weights["vae"]),
        "--rnn",
        str(weights["rnn"]),
        "--log-dir",
        str(log_dir),
    )
    return log_dir / "carracing.cma.1.4"


def run_notebook(log_base):
    # imported here, not at collection: nbformat's validator loads jsonschema, whose
    # format checks build 38 grammars (about 2 s of CPU in every test process)
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "plot_training_progress.ipynb", as_version=4)
    assert nb.cells[0].source.rstrip().endswith('LOG_BASE = "log/carracing.cma.16.64"')
    nb.cells[0].source += f"\nLOG_BASE = {str(log_base)!r}"
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    ).execute()
    images = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    text = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    return images, text


def test_notebook_on_authors_logs():
    images, text = run_notebook(AUTHORS_BASE)
    assert len(images) == 1
    assert "1800 generations" in text and "best evaluation 900.5 at generation 1800" in text


def test_notebook_on_tiny_run(tiny_log):
    images, text = run_notebook(tiny_log)
    assert len(images) == 1 and "2 generations" in text and "best evaluation" in text


def test_plot_cli_writes_png(tiny_log, tmp_path):
    from PIL import Image

    for base in (AUTHORS_BASE, tiny_log):
        out = tmp_path / f"{base.name}.png"
        run_script("plot_training_progress.py", str(base), "--out", str(out))
        assert Image.open(out).size == (1300, 450)


def test_plot_cli_errors(tmp_path):
    proc = run_script("plot_training_progress.py", str(tmp_path / "missing"), check=False)
    assert proc.returncode == 2 and "missing.hist.json: file not found" in proc.stderr
    (tmp_path / "bad.hist.json").write_text(json.dumps([[1, "x"]]))
    proc = run_script("plot_training_progress.py", str(tmp_path / "bad"), check=False)
    assert proc.returncode == 2 and "bad.hist.json: expected" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    (tmp_path / "bad.hist.json").write_text("[[1, 10, 1.0, 0.0, 2.0]]")
    (tmp_path / "bad.hist_best.json").write_text("{not json")
    proc = run_script("plot_training_progress.py", str(tmp_path / "bad"), check=False)
    assert proc.returncode == 2 and "bad.hist_best.json: not valid JSON" in proc.stderr


def test_jupyter_notebook_server_from_the_venv(tmp_path):
    """The README's `jupyter notebook plot_training_progress.ipynb` needs nothing else."""
    import os
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    import requests

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    jupyter = Path(sys.executable).parent / "jupyter"
    as_root = ["--allow-root"] if os.geteuid() == 0 else []  # as the README says
    server = subprocess.Popen(
        [
            str(jupyter),
            "notebook",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--IdentityProvider.token=t",
            f"--ServerApp.root_dir={ROOT}",
            *as_root,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={
            **script_env(),
            "JUPYTER_RUNTIME_DIR": str(tmp_path),
            "JUPYTER_DATA_DIR": str(tmp_path),
            "JUPYTER_CONFIG_DIR": str(tmp_path),
        },
    )
    try:
        url = f"http://127.0.0.1:{port}/api/contents/plot_training_progress.ipynb?token=t"
        deadline, reply = time.time() + 120, None
        while time.time() < deadline and reply is None:
            try:
                reply = requests.get(url, timeout=5)
            except requests.ConnectionError:
                time.sleep(0.5)
        assert reply is not None and reply.status_code == 200
        assert reply.json()["type"] == "notebook"
        page = requests.get(f"http://127.0.0.1:{port}/tree?token=t", timeout=10)
        assert page.status_code == 200 and "Jupyter Notebook" in page.text
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_averaged_candidates_plot_apart_from_the_mean(tmp_path):
    from plot_training_progress import load_averaged, load_history

    base = tmp_path / "carracing.cma.1.4"
    (tmp_path / f"{base.name}.hist.json").write_text(
        json.dumps([[g, 60 * g, 1.0, 0.0, 2.0, 1.0, 0.1, 40.0, 40] for g in (1, 2, 3, 4)])
    )
    mean_row = [2, 120, "improvement", 1.0, "curr", 5.0, "prev", 4.0, "best", 5.0]
    averaged_row = [
        2,
        130,
        "improvement",
        2.0,
        "curr",
        7.0,
        "prev",
        5.0,
        "best",
        7.0,
        "average_of_last",
        2,
    ]
    (tmp_path / f"{base.name}.hist_best.json").write_text(json.dumps([mean_row, averaged_row]))
    _, evals = load_history(base)
    assert evals.tolist() == [[2.0, 120 / 3600, 5.0]]
    assert load_averaged(base).tolist() == [[2.0, 130 / 3600, 7.0]]
    out = tmp_path / "p.png"
    run_script("plot_training_progress.py", str(base), "--out", str(out))
    assert out.stat().st_size > 1000
