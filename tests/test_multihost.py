"""The cluster path on two hosts (tests/multihost.py makes them with network namespaces):
the README's commands with a host file give the results of one host, byte for byte, and
a host cut off in the middle of CMA-ES costs no finished generation.

The moment of the cut is drawn from CUT_SEED (printed); set it to replay a failure."""

import json
import os
import re
import shlex
import subprocess
import time

import numpy as np
import pytest
from conftest import ROOT, run_script, script_env, shared_run
from multihost import Cluster

from common import load_episode
from train import load_run

MPIRUN, PYTHON = ".venv/bin/mpirun", ".venv/bin/python"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with Cluster(2, tmp_path_factory.mktemp("cluster")) as c:
        yield c


def test_ranks_start_on_every_host_of_the_host_file(cluster):
    hosts = cluster.hostfile(2)
    # SIGPIPE ignored, as the scripts' host check runs mpirun (common.bash: check_hosts)
    proc = cluster.run("h1", f"trap '' PIPE; {MPIRUN} -f {hosts} -np 4 hostname")
    assert sorted(proc.stdout.split()) == ["h1", "h1", "h2", "h2"]


def extract_command(out, workers=4, hostfile=None, extra=""):
    hosts = f"HOSTFILE={hostfile} " if hostfile else ""
    args = f"--trials 3 --max-frames 100 --seed 5 --out {out} {extra}"
    return f"WORKERS={workers} {hosts}bash extract.bash {args}"


def same_episodes(a, b):
    names = sorted(p.name for p in a.glob("*.npz"))
    assert len(names) == 12 and names == sorted(p.name for p in b.glob("*.npz"))
    for name in names:
        x, y = load_episode(a / name), load_episode(b / name)
        assert all(np.array_equal(x[k], y[k]) for k in x), name


@pytest.fixture(scope="module")
def one_host(tmp_path_factory):
    """The reference: extract.bash with 4 workers on this machine, made once."""

    def make(out):
        return subprocess.run(
            ["bash", "-c", extract_command(out)],
            cwd=ROOT,
            env=script_env(),
            check=True,
            capture_output=True,
            text=True,
        )

    return shared_run(tmp_path_factory, "one_host_extraction", make)[0]


def test_extract_over_two_hosts_writes_the_one_host_episodes(cluster, one_host, tmp_path):
    """extract.bash: 4 MPI ranks over 2 hosts write the episodes 4 workers here write."""
    two = tmp_path / "two"
    cluster.run("h1", extract_command(two, hostfile=cluster.hostfile(2)))
    same_episodes(one_host, two)


def cut_h2_during(cluster, command, started, delay, seed):
    """Run `command` on h1 and cut h2's link `delay` seconds after `started()` holds:
    the lines of its stderr that say "error:" (one, within 30 s of the cut), or None
    when it had ended before the cut. It must end within 60 s of the cut."""
    proc = subprocess.Popen(
        [str(cluster.launcher), "h1", f"bash -c {shlex.quote(command)}"],
        cwd=ROOT,
        env=cluster.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while not started() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(delay)
    cluster.cut("h2")
    cut_at = time.time()
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError(f"CUT_SEED={seed}: still running 60 s after h2 was cut") from None
    if proc.returncode == 0:
        print(f"CUT_SEED={seed}: it had ended before the cut")
        return None
    assert time.time() - cut_at < 30
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err[-2000:]
    return lines


def test_an_extraction_that_loses_a_host_ends_and_resumes(one_host, tmp_path):
    """h2's link goes down at a random moment of an extraction over two hosts: it ends
    within a bounded time with one line naming the lost rank and host, the episodes
    saved kept; with h2 gone, the same command on h1 makes only the missing episodes,
    and they are the one-host episodes."""
    (tmp_path / "hosts").mkdir()
    seed = int(os.environ.get("CUT_SEED", str(time.time_ns() % 10**6)))
    print(f"CUT_SEED={seed}")
    delay = float(np.random.default_rng(seed).uniform(0.0, 1.0))
    out = tmp_path / "out"
    with Cluster(2, tmp_path / "hosts") as cluster:
        hosts = cluster.hostfile(2)
        command = extract_command(out, hostfile=hosts, extra="--rank-timeout 5")
        command = f"END_TIMEOUT=5 HOST_TIMEOUT=5 {command}"
        started = lambda: bool(list(out.glob("*.npz")))  # noqa: E731 - in the middle
        lines = cut_h2_during(cluster, command, started, delay, seed)
        if lines:
            lost = (  # in the run, or once every worker had ended: its address
                "extract.py: error: rank" in lines[0] and "on host h2 reported" in lines[0]
            ) or f"host {cluster.addresses[1]} did not answer" in lines[0]
            assert lost, lines[0]
        cluster.kill("h2")  # the host is gone: nothing of it writes any more
        before = len(list(out.glob("*.npz")))
        left = cluster.hostfile(2, ["h1"], name="hosts_left")
        proc = cluster.run("h1", extract_command(out, hostfile=left))
        made = sum(int(n) for n in re.findall(r": (\d+) new episodes", proc.stderr))
        assert made == 12 - before, proc.stderr[-2000:]
        same_episodes(one_host, out)


def test_a_run_folder_one_host_cannot_write_is_a_one_line_error(tmp_path):
    """h2 sees the episodes folder read-only: the extraction stops before any episode,
    with one line naming the host and the folder; the episodes there stay as they were."""
    out = tmp_path / "out"
    run_script(
        "extract.py", "--trials", "2", "--max-frames", "20", "--seed", "5", "--out", str(out)
    )
    kept = {p.name: p.read_bytes() for p in out.iterdir()}
    (tmp_path / "hosts").mkdir()
    with Cluster(2, tmp_path / "hosts") as cluster:
        cluster.read_only("h2", out)
        proc = cluster.run("h1", extract_command(out, hostfile=cluster.hostfile(2)), check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(f"extract.py: error: on host h2 (ranks 2, 3): {out}/: cannot")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == kept


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


def test_a_host_cut_off_mid_run_costs_nothing(tmp_path):
    """h2's link goes down at a random moment of a CMA-ES run on two hosts: the run ends
    within a bounded time with one line naming the lost rank and host, every finished
    generation kept; the same command on the host left resumes, and the run ends with
    the logs of a run never interrupted."""
    (tmp_path / "hosts").mkdir()
    with Cluster(2, tmp_path / "hosts") as cluster:  # its own: h2 is cut off
        seed = int(os.environ.get("CUT_SEED", str(time.time_ns() % 10**6)))
        delay = float(np.random.default_rng(seed).uniform(0.0, 3.0))
        print(f"CUT_SEED={seed}: {delay:.2f} s after the first generation")
        args = (
            "--preset tiny --vae vae/vae.json --rnn rnn/rnn.json --generations 4 --rank-timeout 8"
        )
        cluster.run("h1", f"NP=2 bash gce_train.bash {args} --log-dir {tmp_path / 'alone'}")
        log = tmp_path / "cut"
        hosts = cluster.hostfile(2)
        command = f"NP=4 HOSTFILE={hosts} bash gce_train.bash {args} --log-dir {log}"
        checkpoint = log / "carracing.cma.1.8.checkpoint.pkl"
        lines = cut_h2_during(cluster, command, checkpoint.exists, delay, seed)
        if lines:
            assert "rank 2 on host h2 did not answer" in lines[0] or "rank 3 on host h2" in lines[0]
        done = load_run(log / "carracing.cma.1.8").gen
        assert done >= 1
        left = cluster.hostfile(2, ["h1"], name="hosts_left")
        again = f"NP=2 HOSTFILE={left} bash gce_train.bash {args} --log-dir {log}"
        proc = cluster.run("h1", again)
        if done < 4:
            assert f"resuming after generation {done}" in proc.stderr
        assert logs(log) == logs(tmp_path / "alone")


def test_other_code_or_weights_on_a_host_is_a_one_line_error(tmp_path):
    """A host whose copy of M's weights, or of the code, differs from the master's: CMA-ES
    stops before its first generation, with one line naming the file and the host."""
    (tmp_path / "hosts").mkdir()
    with Cluster(2, tmp_path / "hosts") as cluster:
        hosts = cluster.hostfile(2)
        log = tmp_path / "log"
        command = (
            f"NP=4 HOSTFILE={hosts} bash gce_train.bash --preset tiny --vae vae/vae.json "
            f"--rnn rnn/rnn.json --generations 1 --log-dir {log}"
        )
        for name, source in [("rnn/rnn.json", "log/laptop/rnn.json"), ("es.py", None)]:
            replacement = ROOT / source if source else tmp_path / name
            if source is None:  # the same code with one more line
                replacement.write_text((ROOT / name).read_text() + "# another copy\n")
            cluster.overlays.clear()
            cluster.overlay("h2", ROOT / name, replacement)
            proc = cluster.run("h1", command, check=False)
            errors = [line for line in proc.stderr.splitlines() if "error" in line]
            assert proc.returncode != 0 and len(errors) == 1, proc.stderr[-2000:]
            assert errors[0].startswith(f"train.py: error: {name}: host h2 (rank 2)"), errors
            assert not log.exists() or not list(log.iterdir())


def test_a_rank_that_ends_the_job_on_two_hosts_has_its_line_printed(cluster, tmp_path):
    """A rank that ends a job over two hosts (a lost rank, Ctrl-C) says why in one line,
    and the line gets out, every time: MPI's abort can cut the hosts' output short (a line
    printed to stderr just before MPI_Abort was lost in 3 runs of 15), so under
    mpirun_on_hosts the line goes through a file, printed once mpirun has ended."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import time\n"
        "from common import abort_job, mpi_world\n"
        "comm = mpi_world()\n"
        "if comm.Get_rank() == 0:\n"
        "    abort_job(comm, 3, 'probe.py: error: why')\n"
        "time.sleep(60)\n"
    )
    hosts = cluster.hostfile(1)
    command = (
        f"source common.bash && HOSTFILE={hosts} PYTHONPATH=. mpirun_on_hosts "
        f"{tmp_path}/end 'done' -f {hosts} -np 2 {PYTHON} {probe}"
    )
    for _ in range(10):
        proc = cluster.run("h1", command, check=False)
        assert proc.returncode != 0 and proc.stderr.count("probe.py: error: why") == 1, proc
    assert sorted(p.name for p in tmp_path.iterdir()) == ["probe.py"]


def test_a_host_that_does_not_answer_is_a_one_line_error(cluster, tmp_path):
    """A host file naming a host that does not answer: gce_train.bash stops before any
    work, with one line naming it."""
    hosts = cluster.hostfile(2)
    hosts.write_text(hosts.read_text() + f"{cluster.subnet}.99:2\n")
    log = tmp_path / "log"
    command = (
        f"NP=6 HOSTFILE={hosts} bash gce_train.bash --preset tiny --vae vae/vae.json "
        f"--rnn rnn/rnn.json --generations 1 --log-dir {log}"
    )
    proc = cluster.run("h1", command, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(
        f"gce_train.bash: error: {hosts}: host {cluster.subnet}.99 did not answer"
    )
    assert not log.exists()
