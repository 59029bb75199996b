"""Record random-policy CarRacing episodes for training V and M (SPEC "Extraction").

Each episode is saved as `OUT/<episode seed>.npz` with `obs` uint8 [T,64,64,3] and
`action` float16 [T,3]. The policy is the agent with random weights: a controller
with Cauchy weights of a random scale acting on z ~ N(0, I), h = 0.

With `--controller FILE` the policy is a trained agent instead (V, M and that
controller, as `model.py` drives it): the first step of the paper's iterative
training, episodes that reach the speeds and parts of the track that random driving
never sees, for training V and M again on both (`vae_train.py --data record agent`).

The episode seeds of a run are drawn from the base seed (`--seed`), so the same
command gives the same files and, after a crash, only makes those still missing.
Several workers (`extract.bash`, or `mpirun -np K python extract.py`) split one list
of distinct seeds between them.
"""

from __future__ import annotations

import numerics  # noqa: F401 - first of all: numpy's arithmetic pinned before it loads

# isort: split

import os
import sys
import time
from pathlib import Path

import numpy as np

from common import (
    COUNT,
    NON_NEGATIVE,
    POSITIVE,
    SEED,
    ArgumentParser,
    EpisodeError,
    UserError,
    abort_job,
    atomic_savez,
    load_episode,
    mark_job_end,
    mpi_world,
    parse_with_preset,
    progress,
    run_main,
    running_time,
    under_mpi,
    writable_folder,
)
from env import make_env, squash_action
from model import MODES, Agent, load_controller_params

Z_SIZE = 32
SEED_FILE = "extract_seed.txt"


def episode_seeds(base_seed: int, count: int) -> list[int]:
    """`count` distinct episode seeds in [0, 2^31-1) drawn from `base_seed`."""
    rng = np.random.default_rng(base_seed)
    seeds: dict[int, None] = {}
    while len(seeds) < count:
        seeds.setdefault(int(rng.integers(0, 2**31 - 1)), None)
    return list(seeds)


def resolve_base_seed(out_dir: Path, seed: int | None) -> int:
    """The given seed, else the one saved in OUT/extract_seed.txt, else a new random one.

    Saving it lets the same command resume; the file is created with a hard link so
    that workers starting at once all agree on one seed.
    """
    if seed is not None:
        return seed
    path = out_dir / SEED_FILE
    if not path.exists():
        fresh = int(np.random.SeedSequence().entropy % (2**31 - 1))
        tmp = out_dir / f".{SEED_FILE}.{os.getpid()}.tmp"
        tmp.write_text(f"{fresh}\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    text = path.read_text().strip()
    if not text.isdigit():
        raise UserError(f"{path}: expected one integer seed, got {text!r}")
    return int(text)


def worker_slot(worker_index: int | None, num_workers: int | None) -> tuple[int, int]:
    """(index, count) of this worker: from the flags, else from MPI, else (0, 1)."""
    if worker_index is not None or num_workers is not None:
        index, count = worker_index or 0, num_workers or 1
    elif under_mpi():
        world = mpi_world()
        index, count = world.Get_rank(), world.Get_size()
    else:
        index, count = 0, 1
    if not 0 <= index < count:
        raise UserError(
            f"--worker-index {index}: expected an index in [0, {count}) (--num-workers {count})"
        )
    return index, count


class RankWatch:
    """Under mpirun, the workers report to rank 0, which stops the run with one line when
    one is lost, rather than waiting for it for ever (a host that goes down leaves mpirun
    waiting on it). At the start, every rank reports whether it can read its files and
    write the run folder: a problem on any host stops every rank before any episode.
    Then each reports every episode it saves, and its end; rank 0 reads the reports
    between its own episodes and, once done, until every rank has ended. A rank silent
    for `timeout` seconds counts as lost: rank 0 names it and its host, and aborts the
    job. The episodes saved are kept: the same command on the hosts left makes only
    the missing ones."""

    TAG = 11

    def __init__(self, comm, problem: str | None, timeout: float):
        import socket

        self.comm, self.timeout = comm, timeout
        reports = comm.allgather((socket.gethostname(), problem))
        self.hosts = [host for host, _ in reports]
        bad = [(rank, host, p) for rank, (host, p) in enumerate(reports) if p]
        if bad:
            ranks = [rank for rank, host, _ in bad if host == bad[0][1]]
            where = f"on host {bad[0][1]} (rank{'s' if len(ranks) > 1 else ''} "
            where += f"{', '.join(map(str, ranks))})"
            if comm.Get_rank() == 0:
                raise UserError(f"{where}: {bad[0][2]}")
            raise SystemExit(2)  # rank 0 says it, once
        self.heard = dict.fromkeys(range(1, comm.Get_size()), running_time())
        self.ended: set[int] = set()

    def episode_done(self) -> None:
        if self.comm.Get_rank() == 0:
            self._read()
        else:
            self.comm.send("episode", dest=0, tag=self.TAG)

    def finished(self) -> None:
        if self.comm.Get_rank() != 0:
            self.comm.send("end", dest=0, tag=self.TAG)
            return
        while len(self.ended) < len(self.heard):
            self._read()
            time.sleep(0.05)
        mark_job_end()  # extract.bash: MPI's end begins

    def _read(self) -> None:
        from mpi4py import MPI

        status = MPI.Status()
        while self.comm.Iprobe(source=MPI.ANY_SOURCE, tag=self.TAG, status=status):
            rank = status.Get_source()
            if self.comm.recv(source=rank, tag=self.TAG) == "end":
                self.ended.add(rank)
            self.heard[rank] = running_time()
        now = running_time()  # a pause of the whole job is not silence
        lost = [
            r for r, last in self.heard.items() if r not in self.ended and now - last > self.timeout
        ]
        if lost:
            host = self.hosts[lost[0]]
            ranks = ", ".join(str(r) for r in lost if self.hosts[r] == host)
            abort_job(
                self.comm,
                3,
                f"extract.py: error: rank{'s' if ',' in ranks else ''} {ranks} on host {host} "
                f"reported no episode for {self.timeout:.0f} s: lost (its host down, or its "
                "process gone); every episode saved is kept: run the same command again on "
                "the hosts left to make the missing ones",
            )


def random_policy_episode(
    env, seed: int, max_frames: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One episode of the authors' random policy: obs[t] is the frame seen before action[t],
    reward[t] the reward that followed it."""
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.0, 0.01)
    weight = rng.standard_cauchy((Z_SIZE, 3)) * scale  # rows for h multiply h = 0
    bias = rng.standard_cauchy(3) * scale
    obs, _ = env.reset(seed=seed)
    frames, actions, rewards = [], [], []
    for _ in range(max_frames):
        z = rng.standard_normal(Z_SIZE)
        action = squash_action(np.tanh(z @ weight + bias))
        frames.append(obs)
        actions.append(action)
        obs, reward, terminated, truncated, _ = env.step(action)
        rewards.append(reward)
        if terminated or truncated:
            break
    return np.stack(frames), np.asarray(actions, dtype=np.float16), np.asarray(rewards, np.float32)


def agent_episode(
    agent: Agent, env, seed: int, max_frames: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One episode of a trained agent on the track of `seed`, z sampled from V with a
    generator of the same seed; obs[t] is the frame seen before action[t], reward[t] the
    reward that followed it."""
    steps: list = []
    agent.rollout(env, np.random.default_rng(seed), seed=seed, max_steps=max_frames, record=steps)
    return (
        np.stack([obs for obs, _, _ in steps]),
        np.asarray([action for _, action, _ in steps], dtype=np.float16),
        np.asarray([reward for _, _, reward in steps], dtype=np.float32),
    )


def is_complete(path: Path) -> bool:
    if not path.exists():
        return False
    try:
        load_episode(path)
        return True
    except EpisodeError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=COUNT, default=200, help="episodes per worker")
    parser.add_argument("--max-frames", type=COUNT, default=1000, help="frames per episode")
    parser.add_argument("--out", default="record", help="folder for the episode files")
    parser.add_argument(
        "--seed",
        type=SEED,
        default=None,
        help="base seed (default: the one in OUT/extract_seed.txt, else random)",
    )
    parser.add_argument(
        "--worker-index",
        type=NON_NEGATIVE,
        default=None,
        help="this worker's index (default: MPI rank, else 0)",
    )
    parser.add_argument(
        "--num-workers",
        type=COUNT,
        default=None,
        help="workers sharing the run (default: MPI size, else 1)",
    )
    parser.add_argument(
        "--rank-timeout",
        type=POSITIVE,
        default=600.0,
        metavar="SECONDS",
        help="under mpirun: a worker that reports no episode for this long counts as "
        "lost, and the run stops with one line naming it (default 600)",
    )
    parser.add_argument(
        "--controller",
        default=None,
        metavar="FILE",
        help="drive with this trained controller (and --vae, --rnn, --mode) "
        "instead of the random policy",
    )
    parser.add_argument("--vae", default="vae/vae.json", help="V's weights, with --controller")
    parser.add_argument("--rnn", default="rnn/rnn.json", help="M's weights, with --controller")
    parser.add_argument(
        "--mode",
        choices=sorted(MODES),
        default="zh",
        help="the controller's inputs, with --controller (model.py --mode)",
    )
    args = parse_with_preset(parser, "extract", argv)

    index, count = worker_slot(args.worker_index, args.num_workers)
    comm = mpi_world() if under_mpi() and args.worker_index is args.num_workers is None else None
    try:  # before anything is written: a bad file or folder, on any host, stops here
        agent = None
        if args.controller is not None:
            agent = Agent.from_files(args.vae, args.rnn, args.mode)
            agent.controller.set_params(load_controller_params(args.controller, args.mode))
        out_dir = writable_folder(args.out, "episode files")
        problem = None
    except UserError as e:
        if comm is None:
            raise
        problem = str(e)
    watch = RankWatch(comm, problem, args.rank_timeout) if comm is not None else None
    base_seed = resolve_base_seed(out_dir, args.seed)
    seeds = episode_seeds(base_seed, count * args.trials)[index * args.trials :][: args.trials]
    if index == 0:
        policy = f"controller {args.controller}" if agent else "random policy"
        print(
            f"extract: base seed {base_seed}, {count} worker(s) x {args.trials} episodes "
            f"of the {policy} -> {out_dir}/",
            file=sys.stderr,
        )

    todo = []
    for seed in seeds:
        for stale in out_dir.glob(f".{seed}.npz.*.tmp"):  # left by a killed run
            stale.unlink(missing_ok=True)
        if not is_complete(out_dir / f"{seed}.npz"):
            todo.append(seed)
    done = len(seeds) - len(todo)

    env = make_env(full_episode=True, max_episode_steps=args.max_frames)
    frames_total, start = 0, time.perf_counter()
    bar = progress(
        todo,
        desc=f"extract worker {index}",
        unit="ep",
        initial=done,
        total=len(seeds),
        mininterval=1.0 if count == 1 else 10.0,
    )
    for seed in bar:
        if agent is None:
            obs, action, reward = random_policy_episode(env, seed, args.max_frames)
        else:
            obs, action, reward = agent_episode(agent, env, seed, args.max_frames)
        atomic_savez(out_dir / f"{seed}.npz", obs=obs, action=action, reward=reward)
        frames_total += len(obs)
        bar.set_postfix(fps=f"{frames_total / (time.perf_counter() - start):.0f}")
        if watch:
            watch.episode_done()
    env.close()
    if watch:
        watch.finished()
    print(
        f"extract worker {index}: {len(todo)} new episodes ({frames_total} frames), "
        f"{done} already on disk",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
