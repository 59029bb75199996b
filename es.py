"""CMA-ES as an ask/tell object over the `cma` library (SPEC "CMA-ES training").

Initial mean 0 (or a given controller's parameters) and sigma 0.1, everything else the
library's defaults, with weight decay applied as a penalty:
fitness = reward - weight_decay * mean(theta^2), and
optionally (`max_sigma`) the overall step size clamped after every update. The whole
state, random generator included, pickles, so training can stop and resume exactly.
"""

from __future__ import annotations

import pickle
import sys
import warnings

import numpy as np

from common import without_matplotlib


def _import_cma():
    """cma, imported without matplotlib (common.without_matplotlib): two thirds of the
    start-up of every CMA-ES process was cma's import of pyplot."""
    if "cma" in sys.modules:
        return sys.modules["cma"]
    with without_matplotlib(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Could not import matplotlib")
        import cma
    return cma


cma = _import_cma()


class _Randn:
    """cma's `randn(lam, N)` from a seeded numpy Generator that travels with the state."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def __call__(self, *shape: int) -> np.ndarray:
        return self.rng.standard_normal(shape)


class CMAES:
    """ask() -> popsize candidate parameter vectors; tell(rewards) with higher = better."""

    def __init__(
        self,
        num_params: int,
        sigma_init: float = 0.1,
        popsize: int = 64,
        weight_decay: float = 0.01,
        seed: int = 0,
        max_sigma: float | None = None,
        mean_init: np.ndarray | None = None,
    ):
        self.num_params, self.popsize, self.weight_decay = num_params, popsize, weight_decay
        self.max_sigma = max_sigma  # None: cma's step-size adaptation alone (the paper's)
        x0 = np.zeros(num_params) if mean_init is None else np.asarray(mean_init, np.float64)
        if x0.shape != (num_params,):
            raise ValueError(f"initial mean of shape {x0.shape}, expected ({num_params},)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # cma warns about settings it then uses
            self.es = cma.CMAEvolutionStrategy(
                x0.tolist(),
                sigma_init,
                {"popsize": popsize, "randn": _Randn(seed), "seed": np.nan, "verbose": -9},
            )
        self.solutions: np.ndarray | None = None

    def ask(self) -> np.ndarray:
        self.solutions = np.asarray(self.es.ask(), dtype=np.float64)
        return self.solutions

    def fitness(self, rewards: np.ndarray) -> np.ndarray:
        decay = self.weight_decay * np.mean(self.solutions**2, axis=1)
        return np.asarray(rewards, np.float64) - decay

    def tell(self, rewards) -> None:
        if self.solutions is None:
            raise RuntimeError("tell() before ask()")
        # cma minimises
        self.es.tell(list(self.solutions), (-self.fitness(rewards)).tolist())
        self.solutions = None
        if self.max_sigma and self.es.sigma > self.max_sigma:
            self.es.sigma = self.max_sigma  # step-size adaptation may shrink it, not grow it past

    def current_param(self) -> np.ndarray:
        """The distribution mean."""
        return np.asarray(self.es.mean, dtype=np.float64).copy()

    def best_param(self) -> np.ndarray:
        return np.asarray(self.es.result.xbest, dtype=np.float64).copy()

    def rms_stdev(self) -> float:
        return float(self.es.sigma * np.sqrt(np.mean(self.es.sm.variances)))

    def state(self) -> bytes:
        return pickle.dumps(self)

    @staticmethod
    def from_state(state: bytes) -> CMAES:
        return pickle.loads(state)
