"""The same floating-point results on every x86-64 CPU with AVX2 (README "Same numbers on
every machine"). Every script imports this module first, before numpy loads.

CarRacing is chaotic: z that differ in the last bit send the car down another path, and
every score after it differs. Two libraries choose their arithmetic by CPU at run time:
- numpy's OpenBLAS picks its matrix kernels (V's encoder is a few matrix products); they
  are pinned to OpenBLAS's Haswell kernels (AVX2 + FMA), which every x86-64 CPU with AVX2
  and FMA runs, Intel's and AMD's alike, and which are as fast as the others here;
- numpy dispatches its own loops (exp, tanh, ...) to AVX-512 variants where the CPU has
  them, and those may round differently: they are switched off, so every CPU runs the
  AVX2 variants.
Each process also keeps to one math thread: workers share the cores.

WORLDMODELS_CPU=native leaves both choices to numpy and OpenBLAS (then OPENBLAS_CORETYPE
and NPY_DISABLE_CPU_FEATURES apply as usual); any other value names the OpenBLAS kernel
family to pin (e.g. SkylakeX). Where the pin cannot apply (a CPU without AVX2 or FMA,
ARM, no /proc/cpuinfo), nothing is pinned and results may differ from the published ones
by the run-to-run spread.
"""

from __future__ import annotations

import os
import platform
import sys

SETTING = "WORLDMODELS_CPU"
OPENBLAS_CORE = "Haswell"
NUMPY_AVX512 = ("X86_V4", "AVX512_ICL", "AVX512_SPR")  # numpy 2's AVX-512 dispatch targets
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo (Linux); empty where it is not there."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.partition(":")[2].split())
    except OSError:
        pass
    return set()


def pin() -> str:
    """Set the environment numpy reads when it loads; returns the OpenBLAS kernel family
    pinned, "native" (left to the libraries), "unpinned" (the CPU cannot take the pin) or
    "late" (numpy was imported first, a mistake the tests look for)."""
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, "1")
    choice = os.environ.get(SETTING, "").strip() or "auto"
    if choice == "native":
        return "native"
    if "numpy" in sys.modules:  # too late: OpenBLAS has chosen its kernels already
        return "late"
    flags = cpu_flags()
    x86 = platform.machine().lower() in ("x86_64", "amd64")
    if choice == "auto":
        if not (x86 and {"avx2", "fma"} <= flags):
            return "unpinned"
        choice = OPENBLAS_CORE
    os.environ["OPENBLAS_CORETYPE"] = choice
    if "avx512f" in flags:
        os.environ["NPY_DISABLE_CPU_FEATURES"] = " ".join(NUMPY_AVX512)
    return choice


PINNED = pin()


def openblas_core() -> str:
    """The kernel family numpy's OpenBLAS runs, asked of the library itself once numpy is
    loaded (Linux); "unknown" where it cannot be asked."""
    import ctypes

    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "openblas" in line.lower()})
    except OSError:
        return "unknown"
    for path in paths:
        lib = ctypes.CDLL(path)
        for name in (
            "scipy_openblas_get_corename64_",
            "openblas_get_corename64_",
            "openblas_get_corename",
        ):
            get = getattr(lib, name, None)
            if get is not None:
                get.restype = ctypes.c_char_p
                return get().decode()
    return "unknown"
