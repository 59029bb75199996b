"""A CMA-ES generation on one host and on two, at the same process count.

    python bench/bench_multihost.py [--procs 2] [--gen-steps 500] [--repeats 3]

The two hosts are network namespaces of this machine (tests/multihost.py), joined by a
bridge: the ranks on the second host talk to the master over TCP, as on a cluster,
but share this machine's cores. So the ratio measures what running over several hosts
costs (MPI over TCP instead of shared memory, hydra's proxy on each host), not what
more machines would gain. Each run is `gce_train.bash` with a host file (population 8,
1 episode each of --gen-steps steps, 3 generations): --procs ranks on h1 alone, then
--procs / 2 on each of h1 and h2, alternated, best of --repeats. Figures come from
`timing.json`: each generation's wall-clock, and the ranks' busy share (the seconds
they spent on episodes over the round's wall-clock times the ranks). Needs root, for
the namespaces.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
import numerics  # noqa: E402, F401 - before numpy: the same arithmetic on every CPU

# isort: split

from multihost import Cluster  # noqa: E402
from tables import print_table  # noqa: E402

from common import COUNT, ArgumentParser  # noqa: E402


def generation(cluster: Cluster, hosts: list[str], procs: int, steps: int, log: Path):
    """(seconds a generation, busy share) of a run with `procs` ranks over `hosts`."""
    hostfile = cluster.hostfile(procs // len(hosts), hosts, name=f"hosts{len(hosts)}")
    cluster.run(
        "h1",
        f"NP={procs} HOSTFILE={hostfile} bash gce_train.bash -n 8 -e 1 --max-steps {steps} "
        f"--eval_steps 1000 --generations 3 --log-dir {log}",
    )
    timing = json.loads((log / "carracing.cma.1.8.timing.json").read_text())
    walls = [wall for _, _, wall, _ in timing]
    busy = [sum(seconds) / (wall * size) for _, size, wall, seconds in timing]
    return sum(walls) / len(walls), sum(busy) / len(busy)


def main() -> None:
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--procs", type=COUNT, default=2, help="MPI ranks (even)")
    parser.add_argument("--gen-steps", type=COUNT, default=500)
    parser.add_argument("--repeats", type=COUNT, default=3)
    args = parser.parse_args()
    if args.procs % 2:
        parser.error(f"--procs {args.procs}: expected an even number (half on each host)")
    best = {1: (float("inf"), 0.0), 2: (float("inf"), 0.0)}
    with tempfile.TemporaryDirectory() as tmp, Cluster(2, Path(tmp)) as cluster:
        for r in range(args.repeats):
            for n, hosts in ((1, ["h1"]), (2, ["h1", "h2"])):
                seconds, busy = generation(
                    cluster, hosts, args.procs, args.gen_steps, Path(tmp) / f"{n}-{r}"
                )
                best[n] = min(best[n], (seconds, busy))
    (one, busy_one), (two, busy_two) = best[1], best[2]
    what = f"pop 8 x 1 episode x {args.gen_steps} steps, {args.procs} ranks"
    print_table(
        "multihost",
        ["what", "seconds a generation", "ranks busy", "ratio"],
        [
            [
                f"CMA-ES, {what}, 1 host (best of {args.repeats})",
                f"{one:.2f}",
                f"{busy_one:.0%}",
                "",
            ],
            [
                f"the same over 2 hosts, {args.procs // 2} rank{'s' * (args.procs > 2)} "
                f"each (best of {args.repeats}, alternating)",
                f"{two:.2f}",
                f"{busy_two:.0%}",
                f"{two / one:.2f} x the 1-host time",
            ],
        ],
    )


if __name__ == "__main__":
    main()
