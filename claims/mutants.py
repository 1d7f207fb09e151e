"""Mutation canaries: plausible algorithm bugs planted in ``impl/``; the claims must catch them.

``resclaims mutants`` copies ``impl/`` into a temporary folder laid out as the package
``resclaims.impl`` (``claims`` linked, not copied), applies one mutant, and runs the tests
that can see it (the test modules importing the mutated module or an ``impl`` module that
depends on it, plus the doctests and bad-input tests) with that folder first on
``PYTHONPATH``, so the working tree is never modified. A mutant is *killed* when a test goes
red; the report ``reports/mutants.{md,json}`` says which claims' tests killed it. Each
catalogue entry replaces one exact snippet, which must occur exactly once (a stale entry is
an error, not a silent survivor); a known survivor carries its explanation in ``note``.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutant:
    id: str
    file: str  # relative to impl/
    old: str
    new: str
    description: str
    note: str = ""  # why it survives (equivalent mutant, or the gap it documents)


CATALOGUE = (
    Mutant("bf-exponent", "balanced_factorization.py", "polar.P_power(1.0 / L)", "polar.P_power(1.0 / (L + 1))",
           "exponent 1/L -> 1/(L+1) on P"),
    Mutant("bf-rotation-exponent", "balanced_factorization.py", "np.arange(L + 1) / L", "np.arange(L + 1) / (L + 1)",
           "rotation exponents k/L -> k/(L+1)"),
    Mutant("bf-off-by-one", "balanced_factorization.py", "np.swapaxes(W[:-1], -1, -2)", "np.swapaxes(W[1:], -1, -2)",
           "off-by-one layer index: W_i G W_i^T"),
    Mutant("bf-dropped-transpose", "balanced_factorization.py", "WG @ np.swapaxes(W[:-1], -1, -2)", "WG @ W[:-1]",
           "dropped transpose of W_{i-1}"),
    Mutant("bf-no-reflection", "balanced_factorization.py", "factors[0] = factors[0] @ polar.reflection",
           "factors[0] = factors[0]", "reflection for det A < 0 not folded into A_1"),
    Mutant("polar-swapped", "balanced_factorization.py", "PolarSO(R=U @ V.T,", "PolarSO(R=V @ U.T,",
           "swapped polar factor (R^T in place of R)"),
    Mutant("polar-singular-flip", "balanced_factorization.py", "U[:, -1] *= -1", "U[:, 0] *= -1",
           "singular case: flips the wrong singular vector"),
    Mutant("schur-angle-sign", "rotation_power.py", "T[i + 1, i] - T[i, i + 1]", "T[i, i + 1] - T[i + 1, i]",
           "rotation angle sign flipped"),
    Mutant("schur-minus-one-pair", "rotation_power.py", "angles.append(np.pi)", "angles.append(np.pi / 2)",
           "pair of -1 eigenvalues treated as angle pi/2"),
    Mutant("schur-rotation-sign", "rotation_power.py", "c * y - s * x", "c * y + s * x",
           "plane rotation with a sign error"),
    Mutant("nif-plus-identity", "near_identity_factorization.py", "residuals -= np.eye(A.shape[0])",
           "residuals -= 0.5 * np.eye(A.shape[0])", "residual parts off by I/2"),
    Mutant("margin-min", "margin_projection.py", "np.maximum(lam, gamma)", "np.minimum(lam, gamma)",
           "clip from above instead of below"),
    Mutant("margin-no-skew", "margin_projection.py", "@ V.T + skew", "@ V.T", "skew part dropped"),
    Mutant("margin-skipped", "margin_projection.py", "    return (V * np.maximum(lam, gamma)) @ V.T + skew",
           "    return A", "projection skipped"),
    Mutant("lstsq-no-transpose", "least_squares.py", "return coef.T", "return coef", "dropped transpose of Phi"),
    Mutant("risk-no-mean", "least_squares.py", "/ X.shape[0])", "/ max(1, X.shape[0] - 1))",
           "risk normalized by n-1 instead of n"),
    Mutant("validate-det-zero", "_validation.py", "if sign <= 0:", "if sign < 0:", "det = 0 accepted"),
    Mutant("sigmoid-slope", "residual_layer.py", 'SLOPE_MAX = {"sigmoid": 0.25,', 'SLOPE_MAX = {"sigmoid": 0.125,',
           "sigmoid slope bound 1/4 -> 1/8 (Lipschitz bound too small)"),
    Mutant("tanh-slope", "residual_layer.py", '"tanh": 1.0, "relu": 1.0}', '"tanh": 0.5, "relu": 1.0}',
           "tanh slope bound 1 -> 1/2"),
    Mutant("layer-jacobian-transposed", "residual_layer.py", "return np.eye(self.d) + (self.A * s) @ self.B",
           "return np.eye(self.d) + ((self.A * s) @ self.B).T", "Jacobian transposed"),
    Mutant("layer-inverse-sign", "residual_layer.py", "X_new = Y2 - _sigma(", "X_new = Y2 + _sigma(",
           "fixed-point inverse with the wrong sign"),
    Mutant("layer-inverse-stop-rule", "residual_layer.py", "factor = alpha / (1.0 - alpha)", "factor = alpha",
           "inverse stops without the 1/(1 - alpha) error factor"),
    Mutant("layer-vertices-all-on", "residual_layer.py",
           "S = smax * np.array(list(itertools.product((0.0, 1.0), repeat=self.k)))",
           "S = smax * np.ones((1, self.k))", "Lipschitz bound from the all-slopes-on vertex only"),
    Mutant("lipschitz-quotient", "residual_layer.py", "return np.linalg.norm(F1 - F2, axis=1) / dist",
           "return np.linalg.norm(F1 - F2, axis=1) / (2 * dist)", "difference quotients halved"),
    # deep linear engine (issue 3)
    Mutant("gd-prefix-order", "deep_linear.py", "np.matmul(layers[i], out[i], out=out[i + 1])",
           "np.matmul(out[i], layers[i], out=out[i + 1])", "product accumulated in the wrong order (Theta_1 ... Theta_L)"),
    Mutant("gd-gradient-transpose", "deep_linear.py", "np.matmul(back, prefix[i].T, out=grads[i])",
           "np.matmul(back, prefix[i], out=grads[i])", "gradient: dropped transpose of Theta_{1:i-1}"),
    Mutant("gd-gradient-off-by-one", "deep_linear.py", "            back = layers[i].T @ back",
           "            back = layers[i - 1].T @ back", "gradient: off-by-one layer index in back-propagation"),
    Mutant("gd-step-backprop-transpose", "deep_linear.py", "np.matmul(layers[i].T, back, out=nxt)",
           "np.matmul(layers[i], back, out=nxt)", "GD step: back-propagation without transpose"),
    Mutant("gd-step-sign", "deep_linear.py", "dgemm(-eta, prefix[i].T", "dgemm(eta, prefix[i].T",
           "GD step: ascent instead of descent"),
    Mutant("gd-penalty-sign", "deep_linear.py", "            layers -= (eta * self.penalty) * offset",
           "            layers += (eta * self.penalty) * offset", "regularizer pulls away from the identity"),
    Mutant("hvp-dropped-term", "deep_linear.py", "direction[i].T @ back + layers[i].T @ dback",
           "layers[i].T @ dback", "Hessian-vector product: the second-order term of the back-propagation dropped"),
    Mutant("batched-backprop-transpose", "deep_linear.py", "back = layers[i].transpose(0, 2, 1) @ back",
           "back = layers[i] @ back", "batched engine: back-propagation without transpose"),
    Mutant("scalar-exponent", "symmetric_dynamics.py", "power = x ** (depth - 1)", "power = x ** (depth - 2)",
           "scalar recurrence: x^{L-2} in place of x^{L-1}"),
    Mutant("scalar-penalty-center", "symmetric_dynamics.py", "delta -= (step * penalty) * (x - 1.0)",
           "delta -= (step * penalty) * x", "scalar recurrence: penalty toward 0 instead of the identity"),
    Mutant("pp-skipped-projection", "power_projection.py",
           "balanced_factorization(project_to_margin(P, margin), depth)",
           "balanced_factorization(P, depth)", "power projection: projection step skipped"),
    Mutant("pp-skipped-rebalancing", "power_projection.py",
           "return balanced_factorization(project_to_margin(P, margin), depth)",
           "stepped[0] = np.linalg.solve(product(stepped[1:]), project_to_margin(P, margin)) "
           "if depth > 1 else project_to_margin(P, margin)\n        return stepped",
           "power projection: re-balancing skipped (projection folded into the first layer)"),
    Mutant("lrm-gradient-factor", "linear_residual_model.py", "d * noise_variance, 2.0 * grads[1:]",
           "d * noise_variance, grads[1:]", "linear residual model: gradient of f without the factor 2"),
    # nonlinear maps (issue 4)
    Mutant("smooth-map-normalisation", "smooth_residual_map.py", "Z = Z @ self.J0.T", "Z = Z @ self.J0_inverse.T",
           "smooth map: normalisation by J0^{-1} applied as J0"),
    Mutant("smooth-map-jacobian-order", "smooth_residual_map.py", "return self.J0_inverse @ J",
           "return J @ self.J0_inverse", "smooth map: Jacobian factors in the wrong order"),
    Mutant("schedule-previous-scale", "near_identity_decomposition.py",
           "self.previous = np.concatenate([[0.0], self.schedule[:-1]])",
           "self.previous = np.concatenate([[0.0], self.schedule[1:]])", "decomposition: off-by-one previous scale a_{i-1}"),
    Mutant("lipschitz-pair-domain", "near_identity_decomposition.py",
           "np.linalg.norm(R1 - R2, axis=1) / np.linalg.norm(Z1 - Z2, axis=1)",
           "np.linalg.norm(R1 - R2, axis=1) / np.linalg.norm(X1 - X2, axis=1)",
           "Lipschitz estimator: pair quotients divided by distances in the wrong domain"),
    Mutant("functional-chain-rule-order", "functional_gradient.py",
           "upstream.append(upstream[-1] @ self.layers[k - 1].jacobians(Z[k - 1]))",
           "upstream.append(self.layers[k - 1].jacobians(Z[k - 1]) @ upstream[-1])",
           "functional derivative: upstream Jacobians multiplied in the wrong order"),
    Mutant("network-dropped-skip-gradient", "residual_network.py", "g = g + gu @ f.B", "g = gu @ f.B",
           "residual network backprop: skip connection's gradient dropped"),
)


def _apply(mutant: Mutant, impl_dir: Path) -> None:
    path = impl_dir / mutant.file
    text = path.read_text()
    count = text.count(mutant.old)
    if count != 1:
        raise LookupError(f"mutant {mutant.id}: snippet occurs {count} times in impl/{mutant.file}: {mutant.old!r}")
    path.write_text(text.replace(mutant.old, mutant.new))


ALWAYS_RUN = ("tests/test_doctests.py", "tests/test_bad_input.py")


def impl_dependents(module: str) -> set[str]:
    """``module`` and every ``impl`` module importing it, directly or not (static, from the
    relative imports of the source)."""
    imports = {}
    for path in (PROJECT_ROOT / "impl").glob("*.py"):
        found = re.findall(r"^from \.(\w+) import|^from \. import (\w+)", path.read_text(), flags=re.M)
        imports[path.stem] = {a or b for a, b in found}
    closure, frontier = {module}, [module]
    while frontier:
        current = frontier.pop()
        for name, deps in imports.items():
            if current in deps and name not in closure:
                closure.add(name)
                frontier.append(name)
    return closure


def tests_seeing(module: str) -> list[str]:
    """Test files that import ``module`` or a dependent of it (directly, or through a helper
    module of ``tests/``), plus :data:`ALWAYS_RUN`."""
    names = impl_dependents(module)
    impl_import = re.compile(r"resclaims\.impl(?:\.(\w+)| import ([\w, ]+))")
    local_import = re.compile(r"^(?:from (\w+) import|import (\w+))", flags=re.M)
    sources = {path.stem: path.read_text() for path in (PROJECT_ROOT / "tests").glob("*.py")}
    sees = {}
    for stem, text in sources.items():
        used = set()
        for dotted, listed in impl_import.findall(text):
            used |= {dotted} if dotted else {x.split()[0] for x in listed.split(",") if x.strip()}
        sees[stem] = bool(used & names)
    changed = True
    while changed:  # through helpers: a file importing a tests/ module that sees it
        changed = False
        for stem, text in sources.items():
            if not sees[stem] and any(sees.get(a or b) for a, b in local_import.findall(text)):
                sees[stem] = changed = True
    chosen = set(ALWAYS_RUN) | {f"tests/{stem}.py" for stem, yes in sees.items() if yes and stem.startswith("test_")}
    return sorted(chosen)


def _claim_of(nodeid: str) -> str:
    stem = Path(nodeid.split("::", 1)[0]).stem.removeprefix("test_")
    return stem


def run_mutant(mutant: Mutant | None, *, workers: str = "auto", timeout: float = 900) -> dict:
    """Run the tests that can see ``mutant`` (``None``: the whole unmutated suite)."""
    with tempfile.TemporaryDirectory(prefix="resclaims-mutant-") as tmp:
        package = Path(tmp) / "resclaims"
        package.mkdir()
        shutil.copytree(PROJECT_ROOT / "impl", package / "impl", ignore=shutil.ignore_patterns("__pycache__"))
        (package / "claims").symlink_to(PROJECT_ROOT / "claims")
        if mutant is not None:
            _apply(mutant, package / "impl")
        env = {**os.environ, "PYTHONPATH": tmp + os.pathsep + os.environ.get("PYTHONPATH", ""),
               "PYTHONDONTWRITEBYTECODE": "1"}
        files = ["tests"] if mutant is None else tests_seeing(Path(mutant.file).stem)
        cmd = [sys.executable, "-m", "pytest", *files, "-q", "-p", "no:cacheprovider", "-n", workers,
               "--resclaims-no-report", "--hypothesis-profile=ci", "-rf"]
        start = time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout)
            status, out = proc.returncode, proc.stdout
        except subprocess.TimeoutExpired:
            status, out = -1, ""
    failed = re.findall(r"^FAILED (\S+)", out, flags=re.M)
    return {"id": mutant.id if mutant else "(none)", "killed": status != 0, "exit": status,
            "killed_by": sorted({_claim_of(f) for f in failed}), "failed_tests": len(failed),
            "test_files": len(files), "first_failure": failed[0] if failed else ("timeout" if status == -1 else ""),
            "seconds": round(time.perf_counter() - start, 1)}


def write_report(rows: list[tuple[Mutant, dict]], out_dir: Path) -> Path:
    """``mutants.md`` and ``mutants.json``: the kill matrix, the kill rate, survivors explained."""
    from .report import _table, atomic_write

    killed = sum(r["killed"] for _, r in rows)
    doc = {"killed": killed, "total": len(rows),
           "mutants": [{"id": m.id, "file": m.file, "description": m.description, "note": m.note, **r} for m, r in rows]}
    atomic_write(out_dir / "mutants.json", json.dumps(doc, indent=1) + "\n")
    survivors = [(m, r) for m, r in rows if not r["killed"]]
    text = "\n".join([
        "# Mutation canaries", "",
        f"Command: `resclaims mutants`. **{killed} of {len(rows)} mutants killed "
        f"({100 * killed / max(len(rows), 1):.0f}%).** Each mutant is one plausible bug planted in a "
        "temporary copy of `impl/`; the tests that can see it run on the ci profile; \"killed by\" "
        "lists the claims (test modules) that went red.", "",
        _table(["mutant", "file", "bug", "killed", "killed by", "s"],
               [[m.id, m.file, m.description, "yes" if r["killed"] else "**no**",
                 ", ".join(r["killed_by"]) or ("timeout" if r["exit"] == -1 else "–"), f"{r['seconds']:.0f}"]
                for m, r in rows]), "",
        "## Survivors", "",
        *([f"- `{m.id}` ({m.description}): {m.note or '**unexplained: a gap in the claims**'}" for m, r in survivors]
          or ["None."]), ""])
    atomic_write(out_dir / "mutants.md", text)
    return out_dir / "mutants.md"


def main(ids: list[str] | None = None, workers: str = "auto") -> int:
    unknown = set(ids or ()) - {m.id for m in CATALOGUE}
    if unknown:
        print(f"resclaims mutants: unknown mutant ids {sorted(unknown)}")
        return 2
    chosen = [m for m in CATALOGUE if not ids or m.id in ids]
    baseline = run_mutant(None, workers=workers)
    if baseline["killed"]:
        print(f"resclaims mutants: the unmutated suite fails ({baseline['first_failure']}); fix that first")
        return 2
    rows = []
    for m in chosen:
        r = run_mutant(m, workers=workers)
        rows.append((m, r))
        print(f"{'killed  ' if r['killed'] else 'SURVIVED'} {m.id:30} {r['seconds']:6.1f}s  "
              f"{', '.join(r['killed_by']) or r['first_failure']}", flush=True)
    killed = sum(r["killed"] for _, r in rows)
    if not ids:
        print(f"report: {write_report(rows, PROJECT_ROOT / 'reports')}")
    print(f"\n{killed}/{len(rows)} mutants killed")
    return 0 if killed == len(rows) else 1
