"""numerics.py: every script pins numpy's arithmetic before numpy loads, and the pin
overrides a kernel choice inherited from the environment (which stands for another CPU)."""

import ast
import platform
import subprocess
import sys

from conftest import ROOT, script_env

import numerics


def entry_points():
    scripts = [
        p
        for p in [*ROOT.glob("*.py"), *ROOT.glob("bench/*.py")]
        if '__name__ == "__main__"' in p.read_text()
    ]
    assert len(scripts) >= 12
    return scripts


def imported_names(path):
    """Top-level modules imported by a file's module body, in order."""
    names = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names += [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            names.append((node.module or "").split(".")[0])
    return names


def test_every_script_imports_numerics_before_anything_that_loads_numpy():
    late = []
    for path in entry_points():
        names = imported_names(path)
        before = names[: names.index("numerics")] if "numerics" in names else names
        if "numerics" not in names or any(n not in sys.stdlib_module_names for n in before):
            late.append(f"{path.relative_to(ROOT)}: {before}")
    assert not late, "imports before numerics:\n" + "\n".join(late)


def pinnable():
    flags = numerics.cpu_flags()
    return platform.machine().lower() in ("x86_64", "amd64") and {"avx2", "fma"} <= flags


def test_the_pin_overrides_an_inherited_kernel_choice():
    probe = "import numerics, numpy; print(numerics.PINNED, numerics.openblas_core())"
    env = script_env(OPENBLAS_CORETYPE="SkylakeX", NPY_DISABLE_CPU_FEATURES="")
    env.pop("WORLDMODELS_CPU", None)
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, text=True, capture_output=True, check=True
    ).stdout.split()
    assert out == (["Haswell", "Haswell"] if pinnable() else ["unpinned", out[1]])
    # and this test process, like every script, runs the pinned kernels too
    assert numerics.PINNED == ("Haswell" if pinnable() else "unpinned")


def test_native_leaves_the_choice_to_the_libraries():
    probe = "import numerics, os; print(numerics.PINNED, os.environ['OPENBLAS_CORETYPE'])"
    env = script_env(OPENBLAS_CORETYPE="Sandybridge", WORLDMODELS_CPU="native")
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, text=True, capture_output=True, check=True
    ).stdout.split()
    assert out == ["native", "Sandybridge"]
