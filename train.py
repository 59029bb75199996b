"""Train the controller with CMA-ES over MPI (SPEC "CMA-ES training").

    python train.py                               # one process, does everything itself
    mpirun -np 64 python train.py -o cma -n 64 -t 1 -e 16 --eval_steps 25 -s 0 --sigma_init 0.1
    python train.py --resume                      # go on from the last finished generation
    python train.py --restart                     # start over, overwriting this run's logs

Rank 0 is the master: it asks the ES for a population (n x t members), sends it to every
rank as float64, and each rank (the master included) evaluates its share of the members;
the results come back to the master, which tells the ES. Member i and member i + pop/2
share one seed (antithetic seeding): each runs its e episodes one after another from that
seed, so they drive the same e tracks. Every --eval_steps generations the distribution
mean is scored on --eval-episodes episodes of fixed seeds (with --average-last W, so is
the average of the last W generations' means); the best so far is kept.

Every generation writes, atomically, the authors' five log files under --log-dir
(`<env>.<optimizer>.<episodes>.<popsize>` + `.json`, `.hist.json`, `.best.json`,
`.hist_best.json`, `.log.json`) and a checkpoint (`.checkpoint.pkl`) from which --resume
continues exactly as if the run had never stopped. Run again without --resume, the same
command finds its checkpoint and resumes too; a command whose settings differ from the
checkpoint's, or logs without a checkpoint, stop with a one-line error that gives both
ways on: --resume (go on with the checkpoint) and --restart (start over, overwriting).
"""

from __future__ import annotations

import numerics  # noqa: F401 - first of all: numpy's arithmetic pinned before it loads

# isort: split

import hashlib
import json
import os
import pickle
import shlex
import socket
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from common import (
    COUNT,
    NON_NEGATIVE,
    POSITIVE,
    SEED,
    ArgumentParser,
    UserError,
    abort_job,
    atomic_write_pickle,
    atomic_write_text,
    float_at_least,
    mark_job_end,
    mpi_world,
    parse_with_preset,
    progress,
    run_main,
    run_settings,
    running_time,
    under_mpi,
    writable_folder,
    write_text_if_changed,
)
from env import make_env
from es import CMAES
from model import Agent, DreamAgent, load_controller_params, param_count
from rnn import reward

EVAL_EPISODES_PER_TASK = 16


class SingleProcess:
    """The part of an MPI communicator train.py uses, for a run without mpirun."""

    def Get_rank(self) -> int:  # noqa: N802 - mpi4py's names
        return 0

    def Get_size(self) -> int:  # noqa: N802
        return 1

    def bcast(self, obj, root=0):
        return obj

    def gather(self, obj, root=0):
        return [obj]

    def Abort(self, code: int = 1):  # noqa: N802
        sys.exit(code)


def communicator():
    return mpi_world() if under_mpi() else SingleProcess()


def generation_seeds(
    seed_start: int, gen: int, popsize: int, same_tracks: bool = False
) -> list[int]:
    """One seed per antithetic pair: members i and i + popsize/2 share it. With
    `same_tracks`, the whole population shares the pair 0 seed (common random numbers)."""
    half = np.random.default_rng([seed_start, gen]).integers(0, 2**31 - 1, (popsize + 1) // 2)
    if same_tracks:
        return [int(half[0])] * popsize
    return [int(s) for s in np.concatenate([half, half])[:popsize]]


def eval_seeds(seed_start: int, episodes: int) -> list[int]:
    """Fixed seeds for scoring the mean, the same at every evaluation."""
    n = max(1, -(-episodes // EVAL_EPISODES_PER_TASK))
    return [int(s) for s in np.random.default_rng([seed_start, 2**31]).integers(0, 2**31 - 1, n)]


# ------------------------------------------------------------------ workers (every rank)


def run_tasks(agent: Agent, env, tasks: list[tuple], rank: int, size: int) -> dict:
    """Evaluate this rank's share of `tasks` [(params, seed, episodes, max_steps,
    early_stop)]: {task: (rewards, lengths, seconds)}."""
    out = {}
    try:
        for i in range(rank, len(tasks), size):
            begin = running_time()
            rewards, lengths = agent.evaluate(env, *tasks[i])
            out[i] = rewards, lengths, running_time() - begin
    except Exception:  # noqa: BLE001 - any failure goes to the master, which stops cleanly
        return {"error": f"rank {rank}:\n{traceback.format_exc()}"}
    return out


TASKS, RESULTS = 1, 2  # message tags: master to workers, workers to master


class RankLost(Exception):
    """A rank that did not answer a round in time: its host down, or its process gone."""


def distributed_run(comm, agent, env, tasks: list[tuple], timeout: float = 0.0) -> list:
    """Master side: send tasks to every rank, work on its own share, collect all results.
    A rank whose results have not come `timeout` seconds after the round began (0: no
    limit) is lost: RankLost names it."""
    size, begin = comm.Get_size(), running_time()  # a pause of the whole job is not lateness
    sends = [comm.isend(("tasks", tasks), dest=r, tag=TASKS) for r in range(1, size)]
    parts = {0: run_tasks(agent, env, tasks, 0, size)}
    waiting = set(range(1, size))
    while waiting:  # point to point, polled: a lost rank cannot hold the master for ever
        for r in sorted(waiting):
            try:
                ready = comm.iprobe(source=r, tag=RESULTS)
            except Exception as e:  # an MPI error: MPI knows the rank's process is gone
                raise RankLost(r) from e
            if ready:
                parts[r] = comm.recv(source=r, tag=RESULTS)
                waiting.discard(r)
        if waiting and timeout and running_time() - begin > timeout:
            raise RankLost(min(waiting))
        if waiting:
            time.sleep(0.002)
    for request in sends:  # all delivered: every rank has answered
        request.wait()
    errors = [p["error"] for p in parts.values() if "error" in p]
    if errors:
        raise WorkerError(errors[0])
    results = {k: v for r in range(size) for k, v in parts[r].items()}
    return [results[i] for i in range(len(tasks))]


def busy_fraction(seconds: list[float], ranks: int) -> float:
    """The share of `ranks` processes' time spent evaluating, when members of these
    durations are dealt out round-robin (member i to rank i % ranks, as run_tasks does)
    and the slowest rank sets the round's time."""
    loads = [sum(seconds[r::ranks]) for r in range(ranks)]
    return sum(seconds) / (ranks * max(loads))


class WorkerError(Exception):
    pass


def worker_loop(comm, agent, env) -> None:
    while True:
        command, tasks = comm.recv(source=0, tag=TASKS)
        if command == "stop":
            return
        comm.send(run_tasks(agent, env, tasks, comm.Get_rank(), comm.Get_size()), 0, RESULTS)


# ------------------------------------------------------------------ master


class Run:
    """The master's state: ES, histories and best; all of it goes into the checkpoint, as
    plain data (lists, numbers, strings and the ES's own state) that any program reads."""

    def __init__(self, args, num_params: int, mean_init: np.ndarray | None = None):
        self.es = CMAES(
            num_params,
            sigma_init=args.sigma_init,
            popsize=args.popsize,
            weight_decay=args.weight_decay,
            seed=args.seed_start,
            max_sigma=args.max_sigma or None,
            mean_init=mean_init,
        )
        self.gen, self.elapsed = 0, 0.0
        self.hist, self.hist_best, self.eval_log = [], [], []
        self.best_params, self.best_reward = None, None
        self.recent_means = []  # the last --average-last generations' means
        self.timing = []  # [gen, processes, wall seconds, [seconds of each member]]
        self.settings = run_settings(args, RUN_FLAGS)

    def state(self) -> dict:
        return {
            "format": CHECKPOINT_FORMAT,
            "es": self.es.state(),
            "gen": self.gen,
            "elapsed": self.elapsed,
            "hist": self.hist,
            "hist_best": self.hist_best,
            "eval_log": self.eval_log,
            "best_params": None if self.best_params is None else self.best_params.tolist(),
            "best_reward": self.best_reward,
            "recent_means": [m.tolist() for m in self.recent_means],
            "timing": self.timing,
            "settings": self.settings,
        }

    @classmethod
    def from_state(cls, state: dict) -> Run:
        run = cls.__new__(cls)
        run.es = CMAES.from_state(state["es"])
        run.gen, run.elapsed = state["gen"], state["elapsed"]
        run.hist, run.hist_best, run.eval_log = state["hist"], state["hist_best"], state["eval_log"]
        best = state["best_params"]
        run.best_params = None if best is None else np.asarray(best, np.float64)
        run.best_reward = state["best_reward"]
        run.recent_means = [np.asarray(m, np.float64) for m in state["recent_means"]]
        run.timing = state.get("timing", [])  # not in checkpoints from before it was kept
        run.settings = state.get("settings")  # nor in those from before settings were kept
        return run


CHECKPOINT_FORMAT = "train.py checkpoint 2"
LOG_EXTENSIONS = ("json", "hist.json", "best.json", "hist_best.json", "log.json")

# The flags that make a run what it is, beside those in the log name (-e, -n, -t): a
# checkpoint made with other values is another run. --generations, --max-sigma and the
# weights may change from one invocation to the next.
RUN_FLAGS = {
    "seed_start": "-s",
    "sigma_init": "--sigma_init",
    "weight_decay": "--weight-decay",
    "same_tracks": "--same-tracks",
    "early_stop": "--early-stop",
    "max_steps": "--max-steps",
    "mode": "--mode",
    "eval_steps": "--eval_steps",
    "eval_episodes": "--eval-episodes",
    "average_last": "--average-last",
    "init": "--init",
    "dream": "--dream",
    "dream_temperature": "--dream-temperature",
}


def fingerprint(args) -> dict[str, str]:
    """sha1 of the project's code this process runs and of the weights it read, by path:
    every host of a run must have the same. Code is its Python files: raster.py's build
    (.compiled/, made on each host by `make venv`) draws what raster.py draws."""
    root = Path(__file__).resolve().parent
    files = {
        Path(m.__file__).resolve()
        for m in list(sys.modules.values())
        if getattr(m, "__file__", None)
        and m.__file__.endswith(".py")
        and Path(m.__file__).resolve().is_relative_to(root)
        and ".venv" not in Path(m.__file__).parts
    }
    dream = (args.dream, args.initial_z) if args.dream else ()
    files |= {Path(f).resolve() for f in (args.vae, args.rnn, args.init, *dream) if f}
    return {
        str(f.relative_to(root) if f.is_relative_to(root) else f): hashlib.sha1(
            f.read_bytes()
        ).hexdigest()
        for f in sorted(files)
    }


def same_everywhere(hosts: list[str], prints: list[dict[str, str]]) -> None:
    """A one-line error when a rank runs other code or weights than the master."""
    for rank, other in enumerate(prints):
        for path in sorted(set(prints[0]) | set(other)):
            mine, theirs = prints[0].get(path, "none"), other.get(path, "none")
            if mine != theirs:
                raise UserError(
                    f"{path}: host {hosts[rank]} (rank {rank}) has another file than host "
                    f"{hosts[0]} (sha1 {theirs[:12]} against {mine[:12]}): every host needs "
                    f"the same code and weights at the same path"
                )


def this_command() -> str:
    """The command line as the user typed it: gce_train.bash says its own
    (WORLDMODELS_COMMAND), else `[mpirun -np N] python train.py ARGS`."""
    if os.environ.get("WORLDMODELS_COMMAND"):
        return os.environ["WORLDMODELS_COMMAND"]
    line = shlex.join(["python", "train.py", *sys.argv[1:]])
    return f"mpirun -np {mpi_world().Get_size()} {line}" if under_mpi() else line


def run_to_go_on(base: Path, args) -> Run | None:
    """Without --resume or --restart: the checkpoint of this command's run, to resume;
    None when nothing of it is there. Another run's checkpoint, or logs without one, are
    not overwritten: a one-line error gives the two ways on."""
    again = this_command()
    ways = f"to go on with it: {again} --resume; to start over, overwriting it: {again} --restart"
    if not Path(f"{base}.checkpoint.pkl").exists():
        logs = [ext for ext in LOG_EXTENSIONS if Path(f"{base}.{ext}").exists()]
        if logs:
            raise UserError(
                f"{base}.{logs[0]}: the logs of a run are there without its checkpoint, so "
                f"nothing can resume them; to start over, overwriting them: "
                f"{this_command()} --restart (or choose another --log-dir)"
            )
        return None
    run = load_run(base)
    if run.settings is None:
        raise UserError(
            f"{base}.checkpoint.pkl: a run of {run.gen} generations, made before runs "
            f"recorded their settings; {ways}"
        )
    mine = run_settings(args, RUN_FLAGS)
    differ = [
        f"{RUN_FLAGS[k]} {run.settings.get(k)} (this command: {mine[k]})"
        for k in RUN_FLAGS
        if run.settings.get(k) != mine[k]
    ]
    if differ:
        raise UserError(
            f"{base}.checkpoint.pkl: a run of {run.gen} generations made with "
            f"{', '.join(differ)}; {ways}"
        )
    return run


def log_base(args) -> Path:
    return (
        Path(args.log_dir) / f"{args.env_name}.{args.optimizer}.{args.num_episode}.{args.popsize}"
    )


def write_logs(base: Path, run: Run, catch_up: bool = False) -> None:
    """The checkpoint first, then the five logs: a stop between them leaves logs one
    generation behind a checkpoint that rewrites them, never logs without a checkpoint.
    With `catch_up` (on resume) only the logs that differ from the checkpoint are
    written: a finished run's files stay as they are, with their times."""
    if not catch_up:
        atomic_write_pickle(f"{base}.checkpoint.pkl", run.state())
    logs = {
        "json": [run.es.current_param().tolist()],
        "hist.json": run.hist,
        "timing.json": run.timing,
    }
    if run.best_params is not None:
        logs["best.json"] = [run.best_params.tolist(), run.best_reward]
        logs["hist_best.json"] = run.hist_best
        logs["log.json"] = run.eval_log
    for ext, obj in logs.items():
        write = write_text_if_changed if catch_up else atomic_write_text
        write(f"{base}.{ext}", json.dumps(obj))


class _CheckpointUnpickler(pickle.Unpickler):
    """Checkpoints written before the plain-data format pickled `__main__.Run`."""

    def find_class(self, module: str, name: str):
        if (module, name) == ("__main__", "Run"):
            return Run
        return super().find_class(module, name)


def load_run(base: Path) -> Run:
    path = Path(f"{base}.checkpoint.pkl")
    if not path.exists():
        raise UserError(f"{path}: no checkpoint to resume from (start without --resume)")
    try:
        with open(path, "rb") as f:
            state = _CheckpointUnpickler(f).load()
        if isinstance(state, Run):
            return state
        if not (isinstance(state, dict) and state.get("format") == CHECKPOINT_FORMAT):
            raise ValueError(f"not a {CHECKPOINT_FORMAT!r} file")
        return Run.from_state(state)
    except Exception as e:  # noqa: BLE001
        raise UserError(f"{path}: unreadable checkpoint ({type(e).__name__}: {e})") from None


def one_generation(comm, agent, env, run: Run, args, start: float) -> None:
    gen = run.gen + 1
    solutions = run.es.ask()
    seeds = generation_seeds(args.seed_start, gen, args.popsize, args.same_tracks)
    tasks = [
        (solutions[i], seeds[i], args.num_episode, args.max_steps, args.early_stop)
        for i in range(args.popsize)
    ]
    begin = running_time()
    results = distributed_run(comm, agent, env, tasks, rank_timeout(args, run))
    wall = running_time() - begin
    rewards = np.array([np.mean(r) for r, _, _ in results])
    lengths = np.concatenate([n for _, n, _ in results])
    run.timing.append([gen, comm.Get_size(), round(wall, 3), [round(s, 3) for _, _, s in results]])
    run.es.tell(rewards)
    if args.average_last:
        run.recent_means = (run.recent_means + [run.es.current_param()])[-args.average_last :]
    run.gen = gen
    run.elapsed = time.time() - start
    run.hist.append(
        [
            gen,
            int(run.elapsed),
            round(float(rewards.mean()), 2),
            round(float(rewards.min()), 2),
            round(float(rewards.max()), 2),
            round(float(rewards.std()), 2),
            int(run.es.rms_stdev() * 100000) / 100000.0,
            round(float(lengths.mean()), 2),
            int(lengths.max()),
        ]
    )
    if gen == 1:
        run.best_reward = round(float(rewards.mean()), 2)  # the authors' starting "prev"
    if gen % args.eval_steps == 0:
        evaluate_candidates(comm, agent, env, run, args, start)


def evaluate_candidates(comm, agent, env, run: Run, args, start: float) -> None:
    """Score the distribution mean (and, with --average-last W, the average of the last W
    generations' means) on the fixed evaluation seeds; keep the best so far."""
    candidates = [(run.es.current_param(), None)]
    if args.average_last and len(run.recent_means) == args.average_last:
        candidates.append((np.mean(run.recent_means, axis=0), args.average_last))
    seeds = eval_seeds(args.seed_start, args.eval_episodes)
    per_task = min(EVAL_EPISODES_PER_TASK, args.eval_episodes)
    tasks = [(params, s, per_task, args.max_steps, 0) for params, _ in candidates for s in seeds]
    results = distributed_run(comm, agent, env, tasks, rank_timeout(args, run))  # one round
    for k, (params, averaged) in enumerate(candidates):
        part = results[k * len(seeds) : (k + 1) * len(seeds)]
        reward_eval = float(np.mean([np.mean(r) for r, _, _ in part]))
        prev = run.best_reward
        tag = [] if averaged is None else ["average_of_last", averaged]
        run.eval_log.append([run.gen, reward_eval, params.tolist()] + tag)
        if run.best_params is None or reward_eval > run.best_reward:
            run.best_params, run.best_reward = params, reward_eval
        run.hist_best.append(
            [
                run.gen,
                int(time.time() - start),
                "improvement",
                reward_eval - prev,
                "curr",
                reward_eval,
                "prev",
                prev,
                "best",
                run.best_reward,
            ]
            + tag
        )


RANK_TIMEOUT_FLOOR = 600.0  # seconds: a lost rank is found within 10 rounds' time, or this


def rank_timeout(args, run: Run) -> float:
    """How long a round may wait for a rank before the rank counts as lost: --rank-timeout,
    else 10 times the longest population round so far, at least RANK_TIMEOUT_FLOOR."""
    if args.rank_timeout:
        return args.rank_timeout
    return max(RANK_TIMEOUT_FLOOR, 10 * max((row[2] for row in run.timing), default=0.0))


def master(comm, agent, env, args, hosts: list[str]) -> int:
    base = log_base(args)
    writable_folder(base.parent, "CMA-ES logs and the checkpoint")  # before any work
    num_params = param_count(args.mode)
    run = None
    if args.resume:
        run = load_run(base)
    elif not args.restart:
        run = run_to_go_on(base, args)
    if run is None:
        init = None if args.init is None else load_controller_params(args.init, args.mode)
        run = Run(args, num_params, init)
    if not hasattr(run, "recent_means"):  # a checkpoint from before --average-last
        run.recent_means = []
    if not hasattr(run, "timing"):  # a checkpoint from before the timing log
        run.timing = []
    run.es.max_sigma = args.max_sigma or None  # like --generations, taken from this command
    if run.es.num_params != num_params or run.es.popsize != args.popsize:
        raise UserError(
            f"{base}.checkpoint.pkl: made for {run.es.num_params} parameters and "
            f"population {run.es.popsize}, not {num_params} and {args.popsize}"
        )
    start = time.time() - run.elapsed
    print(
        f"train: population {args.popsize} ({args.num_episode} episodes each) on "
        f"{comm.Get_size()} process(es); logs {base}.*; "
        + (f"resuming after generation {run.gen}" if run.gen else "starting")
        + (f" from the controller {args.init}" if args.init and not run.gen else "")
        + (
            " (its checkpoint was there; --restart starts over)"
            if run.gen and not args.resume
            else ""
        ),
        file=sys.stderr,
    )
    if run.gen:  # logs a generation behind the checkpoint (a stop between them) caught up
        write_logs(base, run, catch_up=True)
    bar = progress(
        initial=run.gen, total=args.generations, desc="CMA-ES", unit="gen", interval=0
    )  # in a log, a line for every generation
    try:
        while args.generations is None or run.gen < args.generations:
            one_generation(comm, agent, env, run, args, start)
            write_logs(base, run)
            h = run.hist[-1]
            bar.update(1)
            _, size, wall, seconds = run.timing[-1]
            bar.set_postfix(
                mean=h[2],
                max=h[4],
                best_eval=run.best_params is not None and round(run.best_reward, 1) or "-",
                busy=f"{sum(seconds) / (size * wall):.0%}",
            )
    except RankLost as e:
        rank = e.args[0]
        raise RankLost(
            f"rank {rank} on host {hosts[rank]} did not answer within "
            f"{rank_timeout(args, run):.0f} s in generation {run.gen + 1}: lost (its host "
            f"down, or its process gone); {base}.checkpoint.pkl holds generation {run.gen}: "
            f"run the same command again on the hosts left to resume"
        ) from None
    except WorkerError as e:
        print(str(e), file=sys.stderr)
        raise UserError(
            f"a worker failed in generation {run.gen + 1} (traceback above); "
            f"stopped. {base}.checkpoint.pkl holds generation {run.gen}: "
            f"fix the cause and run again"
        ) from None
    finally:
        bar.close()
    print(
        f"train: {run.gen} generations; best evaluation "
        f"{run.best_reward if run.best_params is not None else 'none yet'}; logs {base}.*",
        file=sys.stderr,
    )
    mark_job_end()  # gce_train.bash: the run has finished
    return 0


def parse_args(argv: list[str] | None = None):
    parser = ArgumentParser(prog="train.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("env_name", nargs="?", default="carracing")
    parser.add_argument("-o", "--optimizer", default="cma", choices=["cma"])
    parser.add_argument("-e", "--num_episode", type=COUNT, default=16, help="episodes per member")
    parser.add_argument("-n", "--num_worker", type=COUNT, default=64)
    parser.add_argument(
        "-t",
        "--num_worker_trial",
        type=COUNT,
        default=1,
        help="members per worker: the population is n x t, at least 2; "
        "members i and i + pop/2 share seeds, and with an odd "
        "population the last member has seeds of its own",
    )
    parser.add_argument("--eval_steps", type=COUNT, default=25, help="score the mean every N gens")
    parser.add_argument("--eval-episodes", type=COUNT, default=1024)
    parser.add_argument("-s", "--seed_start", type=SEED, default=0)
    parser.add_argument("--sigma_init", type=POSITIVE, default=0.1)
    parser.add_argument(
        "--max-sigma",
        type=float_at_least(0.0),
        default=0.0,
        metavar="S",
        help="clamp CMA-ES's step size at S after every generation (0: off, "
        "the paper's loop, where it adapts freely)",
    )
    parser.add_argument("--weight-decay", type=float_at_least(0.0), default=0.01)
    parser.add_argument(
        "--generations",
        type=COUNT,
        default=None,
        help="stop after this many (default: run until stopped)",
    )
    parser.add_argument("--max-steps", type=COUNT, default=1000, help="steps per episode")
    parser.add_argument(
        "--early-stop",
        type=NON_NEGATIVE,
        default=0,
        metavar="N",
        help="end a population episode after N consecutive steps of negative "
        "reward (0: off, the paper's loop); evaluations never stop early",
    )
    parser.add_argument(
        "--same-tracks",
        action="store_true",
        help="every member of a generation runs the same tracks, so members "
        "are ranked on equal terms (off: the paper's loop, where only "
        "members i and i + pop/2 share tracks)",
    )
    parser.add_argument(
        "--average-last",
        type=NON_NEGATIVE,
        default=0,
        metavar="W",
        help="every evaluation also scores the average of the last W "
        "generations' means, a candidate for the best controller "
        "(0: off, the paper's loop); the search itself is unchanged",
    )
    again = parser.add_mutually_exclusive_group()
    again.add_argument(
        "--resume",
        action="store_true",
        help="go on from the checkpoint of these settings' run (also done without "
        "this flag when the checkpoint was made with the same settings)",
    )
    again.add_argument(
        "--restart",
        action="store_true",
        help="start over, overwriting the logs and checkpoint of these settings' run",
    )
    parser.add_argument(
        "--init",
        default=None,
        metavar="FILE",
        help="start the search's mean at this controller's parameters "
        "(default: zeros; a new run only, --resume takes the checkpoint's)",
    )
    parser.add_argument(
        "--rank-timeout",
        type=float_at_least(0.0),
        default=0.0,
        metavar="S",
        help="a rank whose results are S seconds late in a round is lost: the run stops "
        "with an error naming it, its finished generations kept (0: 10 times the longest "
        f"round so far, at least {RANK_TIMEOUT_FLOOR:.0f} s)",
    )
    parser.add_argument("--log-dir", default="log")
    parser.add_argument("--vae", default="vae/vae.json")
    parser.add_argument("--rnn", default="rnn/rnn.json")
    parser.add_argument("--mode", default="zh", choices=["zh", "z", "z_hidden"])
    parser.add_argument(
        "--dream",
        default=None,
        metavar="REWARD_JSON",
        help="train in M's dream instead of the environment, with this reward head "
        "(reward_train.py; opt-in, not the paper's CarRacing loop): every episode, "
        "evaluations too, is a dream of --max-steps steps",
    )
    parser.add_argument(
        "--dream-temperature",
        type=POSITIVE,
        default=None,
        metavar="TAU",
        help="with --dream: M's sampling temperature (default 1.0)",
    )
    parser.add_argument(
        "--initial-z",
        default="initial_z/initial_z.json",
        help="with --dream: the first frames' z the dreams start from",
    )
    parser.add_argument(
        "--print-log-base",
        action="store_true",
        help="print the log files' common path for these settings and exit",
    )
    args = parse_with_preset(parser, "train", argv)
    if args.dream_temperature is not None and not args.dream:
        parser.error("argument --dream-temperature: only with --dream")
    if args.dream and args.dream_temperature is None:
        args.dream_temperature = 1.0
    args.popsize = args.num_worker * args.num_worker_trial
    if args.popsize < 2:
        parser.error(
            f"argument -n/--num_worker: a population of n x t = {args.popsize}; "
            f"CMA-ES needs at least 2"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.print_log_base:
        print(log_base(args))
        return 0
    comm = communicator()
    try:
        agent, error = Agent.from_files(args.vae, args.rnn, args.mode), None
        if args.dream:
            agent = DreamAgent(
                agent, reward.load(args.dream), args.initial_z, args.dream_temperature
            )
    except UserError as e:
        agent, error = None, e
    answers = comm.gather((error, socket.gethostname(), error or fingerprint(args)), root=0)
    if comm.Get_rank() != 0:
        if agent is not None:
            worker_loop(comm, agent, make_env(max_episode_steps=args.max_steps))
        return 0
    stopped = False  # by Ctrl-C or a lost rank: the workers may not answer now
    try:
        failed = [e for e, _, _ in answers if e is not None]
        if failed:
            raise failed[0]
        hosts = [host for _, host, _ in answers]
        same_everywhere(hosts, [prints for _, _, prints in answers])
        return master(comm, agent, make_env(max_episode_steps=args.max_steps), args, hosts)
    except KeyboardInterrupt:
        stopped = True  # run_main ends every rank
        raise
    except RankLost as e:
        stopped = True
        abort_job(comm, 3, f"train.py: error: {e}")  # every other rank, and mpirun, end with it
    finally:
        if not stopped:  # every worker leaves its loop, whatever else happened
            for request in [
                comm.isend(("stop", None), r, TASKS) for r in range(1, comm.Get_size())
            ]:
                request.wait()


if __name__ == "__main__":
    sys.exit(run_main(main))
