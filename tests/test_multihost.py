"""The cluster path on two hosts (tests/multihost.py makes them with network namespaces):
the README's commands with a host file give the results of one host, byte for byte."""

import json

import numpy as np
import pytest
from conftest import run_script
from multihost import Cluster

from common import load_episode

MPIRUN, PYTHON = ".venv/bin/mpirun", ".venv/bin/python"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with Cluster(2, tmp_path_factory.mktemp("cluster")) as c:
        yield c


def test_ranks_start_on_every_host_of_the_host_file(cluster):
    hosts = cluster.hostfile(2)
    proc = cluster.run("h1", f"{MPIRUN} -f {hosts} -np 4 hostname")
    assert sorted(proc.stdout.split()) == ["h1", "h1", "h2", "h2"]


def test_extract_over_two_hosts_writes_the_one_host_episodes(cluster, tmp_path):
    args = "--trials 2 --max-frames 40 --seed 5"
    one, two = tmp_path / "one", tmp_path / "two"
    cluster.run("h1", f"{MPIRUN} -np 4 {PYTHON} extract.py {args} --out {one}")
    hosts = cluster.hostfile(2)
    cluster.run("h1", f"{MPIRUN} -f {hosts} -np 4 {PYTHON} extract.py {args} --out {two}")
    names = sorted(p.name for p in one.glob("*.npz"))
    assert len(names) == 8 and names == sorted(p.name for p in two.glob("*.npz"))
    for name in names:
        a, b = load_episode(one / name), load_episode(two / name)
        assert all(np.array_equal(a[k], b[k]) for k in a), name


def logs(folder):
    out = {}
    for ext in ("json", "best.json", "log.json", "hist.json", "hist_best.json"):
        rows = json.loads((folder / f"carracing.cma.1.8.{ext}").read_text())
        if ext.startswith("hist"):  # column 1: seconds since the start
            rows = [row[:1] + row[2:] for row in rows]
        out[ext] = rows
    return out


def test_cma_es_on_two_hosts_and_four_processes_gives_the_one_host_logs(cluster, tmp_path):
    args = "--preset tiny --vae vae/vae.json --rnn rnn/rnn.json --generations 3"
    cluster.run("h1", f"NP=2 bash gce_train.bash {args} --log-dir {tmp_path / 'one'}")
    hosts = cluster.hostfile(2)
    two = tmp_path / "two"
    cluster.run("h1", f"NP=4 HOSTFILE={hosts} bash gce_train.bash {args} --log-dir {two}")
    assert logs(two) == logs(tmp_path / "one")
    timing = json.loads((two / "carracing.cma.1.8.timing.json").read_text())
    assert [row[1] for row in timing] == [4, 4, 4]  # processes


def test_norender_across_hosts_prints_the_one_process_scores(cluster):
    args = "norender log/carracing.cma.8.32.best.json --trials 4 --max-steps 200"
    alone = run_script("model.py", *args.split())
    hosts = cluster.hostfile(2)
    proc = cluster.run("h1", f"{MPIRUN} -f {hosts} -np 4 {PYTHON} model.py {args}")
    assert proc.stdout == alone.stdout
