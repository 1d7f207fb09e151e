"""B1: the slide's gradient formula, the engine's gradient / HVP / Hessian, and the GD update.

Numerical checks compare with central differences whose tolerance is the proven truncation +
rounding bound of tests/tolerances.py (no fudge factor); symbolic checks differentiate the trace
form with SymPy (MatrixSymbol, general L) and entry by entry (tiny explicit matrices).
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import example, given, settings
from hypothesis import strategies as st

from resclaims.claims.engine import evidence
from resclaims.claims.b1_gradient_formula import (
    CLAIM,
    partial_product,
    slide_gradient,
    symbolic_loss,
    symbolic_slide_gradient,
)
from resclaims.claims.engine.profiles import budget
from resclaims.impl.deep_linear import (
    batched_gradient_descent,
    gradient,
    gradient_descent,
    hessian,
    hessian_vector_product,
)
from canaries import expect_caught, raises_violation
from tolerances import (
    EPS,
    central_difference_step_and_tol,
    gd_step_tol,
    gradient_rounding,
    gradient_third_derivative_bound,
    hvp_rounding,
    loss_rounding,
    loss_third_derivative_bound,
    trajectory_agreement_tol,
)


# --- instances -----------------------------------------------------------------------------

def _floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def make_instance(d: int, L: int, seed: int, *, spread: float = 0.5, target_scale: float = 1.0,
                  penalty: float = 0.0) -> dict:
    """Layers U_i diag(s_i) V_i^T with singular values in [1 - spread/2, 1 + spread] (generic,
    non-symmetric), a Gaussian target times ``target_scale``, and the penalty kappa."""
    rng = np.random.default_rng(seed)
    s = 1.0 + spread * rng.uniform(-0.5, 1.0, size=(L, d))
    U = np.linalg.qr(rng.standard_normal((L, d, d)))[0]
    V = np.linalg.qr(rng.standard_normal((L, d, d)))[0]
    layers = (U * s[:, None, :]) @ np.swapaxes(V, -1, -2)
    target = target_scale * rng.standard_normal((d, d))
    return {"d": d, "L": L, "seed": seed, "penalty": penalty, "layers": layers, "target": target}


@st.composite
def instances(draw, *, max_d: int = 4, max_L: int = 6, max_seed: int = 2**32 - 1):
    """Shrinks toward d = L = 1, layers orthogonal (spread 0), target 0, no penalty."""
    d, L = draw(st.integers(1, max_d)), draw(st.integers(1, max_L))
    penalty = draw(st.sampled_from([0.0, 0.0, 0.5, 2.0]))
    return make_instance(d, L, draw(st.integers(0, max_seed)), spread=draw(_floats(0.0, 1.0)),
                         target_scale=draw(_floats(0.0, 3.0)), penalty=penalty)


def canary_instances():
    """Small instances with few seeds, so that the sensitivity searches shrink quickly."""
    return instances(max_d=3, max_L=4, max_seed=255)


def _norms(inst):
    layers, target = inst["layers"], inst["target"]
    return float(np.linalg.norm(layers, 2, axis=(1, 2)).max()), float(np.linalg.norm(target)), float(np.linalg.norm(target, 2))


def _penalty_rounding(inst, A):
    """Rounding of the penalty's value kappa/2 sum ||Theta_i - I||_F^2: a sum of L d^2 squares,
    each within a few eps, of total at most kappa/2 L d (A + 1)^2; factor 4 headroom."""
    d, L, kappa = inst["d"], inst["L"], inst["penalty"]
    return 4.0 * L * d * d * EPS * 0.5 * kappa * L * d * (A + 1.0) ** 2


# --- (ii) the engine against central differences ------------------------------------------

def gradient_errors(inst, grad_fn=gradient):
    """Per coordinate k: |(loss(Theta + t e_k) - loss(Theta - t e_k)) / 2t - grad_k| / tol_k, and
    the engine's gradient against the slide's formula evaluated literally (normwise / tol)."""
    layers, target, kappa = inst["layers"], inst["target"], inst["penalty"]
    d, L = inst["d"], inst["L"]
    a, phi_fro, _ = _norms(inst)
    g, _ = grad_fn(layers, target, penalty=kappa)

    def rounding(A):
        return loss_rounding(d, L, A, phi_fro) + _penalty_rounding(inst, A) + gradient_rounding(d, L, A, phi_fro)

    t, tol = central_difference_step_and_tol(a, 1.0, lambda A: loss_third_derivative_bound(d, L, A, 1.0, phi_fro),
                                             rounding)
    n = layers.size
    shifts = t * np.eye(n).reshape((n,) + layers.shape)
    values = _penalized_losses(np.concatenate([layers + shifts, layers - shifts]), target, kappa)
    fd = (values[:n] - values[n:]) / (2 * t)
    fd_ratio = float(np.max(np.abs(fd - g.ravel()))) / tol
    reference = slide_gradient(layers, target) + kappa * (layers - np.eye(d))
    formula_ratio = float(np.linalg.norm(g - reference)) / (2 * gradient_rounding(d, L, a, phi_fro) + 4 * EPS * kappa * (a + 1) * d)
    return fd_ratio, formula_ratio, t


def _penalized_losses(stacks, target, kappa):
    """The (penalized) loss of each stack of layers, shape (n, L, d, d): the definition
    1/2 ||Theta_L ... Theta_1 - Phi||_F^2 + kappa/2 sum ||Theta_i - I||_F^2, evaluated for all
    stacks at once (L - 1 stacked products: the rounding of tolerances.loss_rounding)."""
    P = stacks[:, 0]
    for i in range(1, stacks.shape[1]):
        P = stacks[:, i] @ P
    E = P - target
    values = 0.5 * np.einsum("nij,nij->n", E, E)
    if kappa:
        offset = stacks - np.eye(stacks.shape[-1])
        values += 0.5 * kappa * np.einsum("nlij,nlij->n", offset, offset)
    return values


def check_gradient(inst, grad_fn=gradient) -> float:
    fd_ratio, formula_ratio, t = gradient_errors(inst, grad_fn)
    return evidence.check_close(CLAIM, inst, error=max(fd_ratio, formula_ratio), tol=1.0,
                                what="max(central-difference error, slide-formula error) / tolerance",
                                metrics={"gradient: central-difference error / tolerance": fd_ratio,
                                         "gradient: |engine - slide formula| / tolerance": formula_ratio})


@given(inst=instances())
@example(inst=make_instance(1, 1, 0))
@example(inst=make_instance(3, 6, 7, spread=1.0, target_scale=3.0, penalty=2.0))
def test_gradient_matches_central_differences(inst):
    """Every coordinate of the engine's gradient (with the penalty term) against a central
    difference of the loss; and against the slide's formula evaluated literally."""
    check_gradient(inst)


def _directions(inst, count: int = 3) -> np.ndarray:
    """Random directions V with max_j ||V_j||_2 = 1."""
    rng = np.random.default_rng(inst["seed"] + 1)
    V = rng.standard_normal((count,) + inst["layers"].shape)
    return V / np.linalg.norm(V, 2, axis=(2, 3)).max(axis=1)[:, None, None, None]


def hvp_errors(inst, hvp_fn=hessian_vector_product, with_hessian: bool = True) -> float:
    """max over random unit directions V of ||(grad(Theta + tV) - grad(Theta - tV)) / 2t - H V||_F / tol,
    for the HVP and (small d L) for the exact Hessian applied to V."""
    layers, target, kappa = inst["layers"], inst["target"], inst["penalty"]
    d, L = inst["d"], inst["L"]
    a, phi_fro, phi_2 = _norms(inst)

    def rounding(A):
        return gradient_rounding(d, L, A, phi_fro) + hvp_rounding(d, L, A, 1.0, phi_fro) + 4 * EPS * kappa * d * (A + 1)

    t, tol = central_difference_step_and_tol(
        a, 1.0, lambda A: gradient_third_derivative_bound(d, L, A, 1.0, phi_2), rounding)
    H = hessian(layers, target, penalty=kappa) if with_hessian else None
    worst = 0.0
    for V in _directions(inst):
        fd = (gradient(layers + t * V, target, penalty=kappa)[0] - gradient(layers - t * V, target, penalty=kappa)[0]) / (2 * t)
        worst = max(worst, float(np.linalg.norm(fd - hvp_fn(layers, target, V, penalty=kappa))) / tol)
        if H is not None:
            worst = max(worst, float(np.linalg.norm(fd.ravel() - H @ V.ravel())) / tol)
    return worst


@given(inst=instances())
@example(inst=make_instance(2, 1, 3))
@example(inst=make_instance(4, 6, 11, spread=1.0, target_scale=3.0, penalty=0.5))
def test_hessian_vector_product_and_hessian_match_central_differences(inst):
    """HVP and the exact Hessian against central differences of the engine's gradient."""
    ratio = hvp_errors(inst)
    evidence.check_close(CLAIM, inst, error=ratio, tol=1.0, what="HVP / Hessian central-difference error / tolerance",
                         metrics={"HVP and Hessian: central-difference error / tolerance": ratio})


# --- (iii) the GD update and the batched engine --------------------------------------------

def gd_step_error(inst, eta: float, run_fn=gradient_descent) -> float:
    """||one engine step from Theta - (Theta - eta (slide gradient + kappa (Theta - I)))||_F / tol."""
    layers, target, kappa = inst["layers"], inst["target"], inst["penalty"]
    d, L = inst["d"], inst["L"]
    a, phi_fro, _ = _norms(inst)
    run = run_fn(target, L, eta, 1, start=layers, penalty=kappa)
    expected = layers - eta * (slide_gradient(layers, target) + kappa * (layers - np.eye(d)))
    tol = (gd_step_tol(d, L, a, phi_fro, eta, float(np.linalg.norm(layers)))
           + eta * (2 * gradient_rounding(d, L, a, phi_fro) + 4 * EPS * kappa * d * (a + 1)))
    return float(np.linalg.norm(run.layers - expected)) / tol


@given(inst=instances(), eta=_floats(1e-4, 0.5))
@example(inst=make_instance(2, 3, 5, target_scale=2.0, penalty=0.5), eta=0.1)
def test_gd_step_is_theta_minus_eta_gradient(inst, eta):
    """One step of ``gradient_descent`` from ``start=Theta`` is Theta - eta grad (penalty included)."""
    ratio = gd_step_error(inst, eta)
    evidence.check_close(CLAIM, {**inst, "eta": eta}, error=ratio, tol=1.0, what="GD step error / tolerance",
                         metrics={"GD step: error / tolerance": ratio})


@given(d=st.integers(1, 4), L=st.integers(1, 8), phi=_floats(-3.0, 3.0), eta=_floats(1e-3, 0.5))
def test_gd_starts_at_identity(d, L, phi, eta):
    """From the identity every layer's gradient is I - Phi, so the first iterate is
    I - eta (I - Phi) for every layer (Phi = phi I + a fixed non-symmetric part)."""
    target = phi * np.eye(d) + np.triu(np.ones((d, d)), 1)
    run = gradient_descent(target, L, eta, 1, record=("loss",))
    expected = np.broadcast_to(np.eye(d) - eta * (np.eye(d) - target), (L, d, d))
    tol = 8 * d * EPS * (1 + eta * np.linalg.norm(np.eye(d) - target))
    err = float(np.linalg.norm(run.layers - expected, axis=(1, 2)).max())
    instance = {"d": d, "L": L, "eta": eta, "layers": np.broadcast_to(np.eye(d), (L, d, d)), "target": target}
    evidence.check_close(CLAIM, instance, error=err / tol, tol=1.0, what="first iterate from I error / tolerance")
    assert run.loss[0] == pytest.approx(0.5 * np.linalg.norm(np.eye(d) - target) ** 2, rel=1e-14)


@st.composite
def batches(draw):
    d, L = draw(st.integers(1, 4)), draw(st.integers(1, 6))
    B, steps = draw(st.integers(1, 5)), draw(st.integers(0, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(_floats(0.0, 1.0))
    targets = np.eye(d) + scale * rng.standard_normal((B, d, d)) / np.sqrt(d)
    # the slide's step-size scale 1/(L (1 + ||Phi||^2)), up to 4x larger
    eta = draw(_floats(0.05, 4.0)) / (L * (1 + float(np.linalg.norm(targets, 2, axis=(1, 2)).max()) ** 2))
    penalty = draw(st.sampled_from([0.0, 0.3]))
    return {"d": d, "L": L, "B": B, "steps": steps, "eta": eta, "penalty": penalty, "targets": targets}


def batched_errors(case, single=gradient_descent) -> float:
    """max over problems of (||batched layers - per-problem layers||_F / tol, |loss diff| / loss tol)."""
    d, L, eta, steps, kappa = case["d"], case["L"], case["eta"], case["steps"], case["penalty"]
    layers_b, losses_b = batched_gradient_descent(case["targets"], L, eta, steps, penalty=kappa)
    worst = 0.0
    for b, target in enumerate(case["targets"]):
        run = single(target, L, eta, steps, penalty=kappa, keep_iterates=True)
        its = np.stack(run.iterates)
        A = float(np.linalg.norm(its, 2, axis=(2, 3)).max())
        err2 = max(float(np.linalg.norm(partial_product(th, 1, L) - target, 2)) for th in run.iterates)
        phi_fro = float(np.linalg.norm(target))
        layers_fro = float(np.sqrt((its ** 2).sum(axis=(1, 2, 3))).max())
        tol = trajectory_agreement_tol(d, L, A, err2, phi_fro, eta, layers_fro, max(steps, 1), penalty=kappa)
        # the penalty's own update: eta kappa (Theta - I) rounds to eps eta kappa ||Theta - I||_F per step
        tol += 4 * EPS * eta * kappa * max(steps, 1) * (layers_fro + np.sqrt(L * d))
        worst = max(worst, float(np.linalg.norm(layers_b[b] - run.layers)) / tol)
        # loss difference: d loss <= ||E||_F ||dP||_F <= ||E||_F sqrt(L) A^(L-1) ||d Theta||_F, plus each loss's rounding
        e_fro = float(np.sqrt(2 * np.max(run.loss)))
        # ... and the penalty's value moves by at most kappa ||Theta - I||_F ||d Theta||_F
        loss_tol = (e_fro * np.sqrt(L) * max(A, 1.0) ** (L - 1) * tol + kappa * (layers_fro + np.sqrt(L * d)) * tol
                    + 2 * loss_rounding(d, L, A, phi_fro) + 2 * _penalty_rounding({"d": d, "L": L, "penalty": kappa}, A))
        worst = max(worst, float(np.max(np.abs(losses_b[:, b] - run.loss))) / loss_tol)
    return worst


@given(case=batches())
@settings(max_examples=budget(25))
def test_batched_engine_matches_per_problem(case):
    """Each problem of ``batched_gradient_descent`` follows ``gradient_descent`` (layers and losses)."""
    ratio = batched_errors(case)
    instance = {k: case[k] for k in ("d", "L", "B", "steps", "eta", "penalty", "targets")}
    evidence.check_close(CLAIM, instance, error=ratio, tol=1.0, what="batched vs per-problem / tolerance",
                         metrics={"batched vs per-problem: error / tolerance": ratio})


# --- (i) symbolic ---------------------------------------------------------------------------

@pytest.mark.parametrize("L", [1, 2, 3, 4])
def test_slide_formula_is_the_matrix_derivative(L):
    """SymPy: d/dTheta_i of 1/2 tr(E^T E) (MatrixSymbols of symbolic size n) minus the slide's
    formula expands to the zero matrix, for every layer i."""
    n = sympy.Symbol("n", integer=True, positive=True)
    thetas = [sympy.MatrixSymbol(f"Theta{i + 1}", n, n) for i in range(L)]
    target = sympy.MatrixSymbol("Phi", n, n)
    ell = symbolic_loss(thetas, target)
    for i in range(1, L + 1):
        residual = (sympy.diff(ell, thetas[i - 1]) - symbolic_slide_gradient(thetas, target, i)).expand()
        zero = residual == sympy.ZeroMatrix(n, n)
        evidence.check_close(CLAIM, {"symbolic": True, "L": L, "i": i, "d": "n"}, error=0.0 if zero else 2.0, tol=1.0,
                             what=f"symbolic residual {residual}")
    evidence.record_metric(CLAIM, "symbolic (MatrixSymbol): largest L checked", L, reduce="max")


def _planted_formulas(thetas, target, i):
    """Plausible wrong formulas: each must leave a nonzero symbolic residual."""
    n, L = target.shape[0], len(thetas)

    def prod(a, b):
        factors = [thetas[k - 1] for k in range(b, a - 1, -1)]
        return sympy.Identity(n) if not factors else (sympy.MatMul(*factors) if len(factors) > 1 else factors[0])

    E = prod(1, L) - target
    return {
        "transposes dropped": prod(i + 1, L) * E * prod(1, i - 1),
        "off-by-one layer index": prod(i + 2, L).T * E * prod(1, i).T,
        "E transposed": prod(i + 1, L).T * E.T * prod(1, i - 1).T,
        "loss without 1/2": 2 * prod(i + 1, L).T * E * prod(1, i - 1).T,
    }


def test_symbolic_check_catches_planted_formulas():
    """The symbolic comparison can fail: each planted formula leaves a nonzero residual (L = 3, i = 2)."""
    n = sympy.Symbol("n", integer=True, positive=True)
    thetas = [sympy.MatrixSymbol(f"Theta{i + 1}", n, n) for i in range(3)]
    target = sympy.MatrixSymbol("Phi", n, n)
    derivative = sympy.diff(symbolic_loss(thetas, target), thetas[1])
    for name, wrong in _planted_formulas(thetas, target, 2).items():
        residual = (derivative - wrong).expand()
        evidence.record_canary(CLAIM, f"symbolic: {name}", caught=residual != sympy.ZeroMatrix(n, n),
                               detail=f"residual {residual}")


def _explicit(d: int, L: int):
    """Layers and target with symbolic entries, the loss, and the variables in the engine's order."""
    thetas = [sympy.Matrix(d, d, sympy.symbols(f"t{i + 1}_0:{d}_0:{d}")) for i in range(L)]
    target = sympy.Matrix(d, d, sympy.symbols(f"p0:{d}_0:{d}"))
    P = sympy.eye(d)
    for T in thetas:
        P = T * P
    E = P - target
    ell = sympy.Rational(1, 2) * sum(e**2 for e in E)
    return thetas, target, E, ell, [v for T in thetas for v in T]


@pytest.mark.parametrize("d, L", [(1, 1), (1, 4), (2, 2), (3, 1)])
def test_explicit_entries_and_exact_hessian(d, L):
    """Tiny explicit case: every entry of d loss / d Theta_i equals the slide's formula
    (expanded polynomials); at a rational point the engine's gradient and exact Hessian equal
    SymPy's exact values up to their rounding bounds."""
    thetas, target, E, ell, variables = _explicit(d, L)

    def prod(a, b):
        M = sympy.eye(d)
        for k in range(a, b + 1):
            M = thetas[k - 1] * M
        return M

    for i in range(1, L + 1):
        G = prod(i + 1, L).T * E * prod(1, i - 1).T
        for r in range(d):
            for c in range(d):
                assert sympy.expand(sympy.diff(ell, thetas[i - 1][r, c]) - G[r, c]) == 0, (i, r, c)
    rng = np.random.default_rng(d * 10 + L)
    # the exact values of the floats k/7 and k/5 (not dyadic: the engine's products round)
    values = {v: sympy.Rational(int(k) / 7) for v, k in zip(variables, rng.integers(-9, 10, len(variables)))}
    phis = {p: sympy.Rational(int(k) / 5) for p, k in zip(target, rng.integers(-8, 9, d * d))}
    subs = {**values, **phis}
    layers = np.array([float(values[v]) for v in variables]).reshape(L, d, d)
    phi = np.array([float(phis[p]) for p in target]).reshape(d, d)
    exact_g = np.array([float(sympy.diff(ell, v).subs(subs)) for v in variables]).reshape(L, d, d)
    exact_H = np.array(sympy.hessian(ell, variables).subs(subs), dtype=float)
    A, phi_fro = float(np.linalg.norm(layers, 2, axis=(1, 2)).max()), float(np.linalg.norm(phi))
    g_err = float(np.linalg.norm(gradient(layers, phi)[0] - exact_g)) / gradient_rounding(d, L, A, phi_fro)
    # Hessian: L d^2 columns, each an HVP along a unit entry (b = 1)
    H_err = float(np.linalg.norm(hessian(layers, phi) - exact_H)) / (
        np.sqrt(L * d * d) * hvp_rounding(d, L, A, 1.0, phi_fro))
    instance = {"d": d, "L": L, "layers": layers, "target": phi}
    evidence.check_close(CLAIM, instance, error=max(g_err, H_err), tol=1.0,
                         what="engine vs exact SymPy gradient/Hessian / rounding bound",
                         metrics={"explicit entries: engine vs exact / rounding bound": max(g_err, H_err)})


# --- sensitivity: planted bugs the numerical checks must catch -----------------------------

def _transposes_dropped(layers, target, penalty=0.0):
    """Planted: transposes dropped (Theta_{i+1:L} E Theta_{1:i-1})."""
    L, d = layers.shape[0], layers.shape[1]
    E = partial_product(layers, 1, L) - target
    g = np.stack([partial_product(layers, i + 1, L) @ E @ partial_product(layers, 1, i - 1) for i in range(1, L + 1)])
    return g + penalty * (layers - np.eye(d)), None


def _off_by_one(layers, target, penalty=0.0):
    """Planted: off-by-one layer index (layer i gets the formula of layer i + 1, cyclically)."""
    g, value = gradient(layers, target, penalty=penalty)
    return np.roll(g, -1, axis=0), value


def _without_half(layers, target, penalty=0.0):
    """Planted: gradient of the loss without its 1/2 (factor 2)."""
    g, value = gradient(layers, target)
    return 2 * g + penalty * (layers - np.eye(layers.shape[1])), value


def _penalty_sign(layers, target, penalty=0.0):
    """Planted: penalty term with the wrong sign."""
    g, value = gradient(layers, target)
    return g - penalty * (layers - np.eye(layers.shape[1])), value


@pytest.mark.parametrize("bug", [_transposes_dropped, _off_by_one, _without_half, _penalty_sign])
def test_gradient_check_catches_planted_bug(bug):
    expect_caught(CLAIM, "gradient: " + bug.__doc__.split(":", 1)[1].strip(), canary_instances(),
                  lambda inst: raises_violation(check_gradient, inst, grad_fn=bug),
                  describe=lambda inst: f"d={inst['d']}, L={inst['L']}, penalty={inst['penalty']}")


def _hvp_first_order_only(layers, target, direction, penalty=0.0):
    """Planted: Gauss-Newton product (the term with the residual E dropped)."""
    P = partial_product(layers, 1, layers.shape[0])
    return hessian_vector_product(layers, P, direction) + penalty * direction  # target = P: E = 0


def _hvp_transposed_direction(layers, target, direction, penalty=0.0):
    """Planted: direction transposed inside the product (V_i^T in place of V_i)."""
    return hessian_vector_product(layers, target, np.swapaxes(direction, -1, -2), penalty=penalty)


@pytest.mark.parametrize("bug", [_hvp_first_order_only, _hvp_transposed_direction])
def test_hvp_check_catches_planted_bug(bug):
    expect_caught(CLAIM, "HVP: " + bug.__doc__.split(":", 1)[1].strip(), canary_instances(),
                  lambda inst: hvp_errors(inst, hvp_fn=bug, with_hessian=False) > 1.0,
                  describe=lambda inst: f"d={inst['d']}, L={inst['L']}")


def _sequential_update(target, depth, step, steps, **kwargs):
    """Planted: layers updated one after another (Gauss-Seidel), each from the partly updated iterate."""
    layers = np.asarray(kwargs["start"], dtype=float).copy()
    for i in range(depth - 1, -1, -1):
        layers[i] -= step * gradient(layers, target, penalty=kwargs.get("penalty", 0.0))[0][i]
    return type("Run", (), {"layers": layers})


@pytest.mark.parametrize("bug", [_sequential_update])
def test_gd_step_check_catches_planted_bug(bug):
    expect_caught(CLAIM, "GD step: " + bug.__doc__.split(":", 1)[1].strip(),
                  st.tuples(canary_instances(), _floats(1e-4, 0.5)),
                  lambda case: gd_step_error(case[0], case[1], run_fn=bug) > 1.0,
                  describe=lambda case: f"d={case[0]['d']}, L={case[0]['L']}, eta={case[1]}")


def _per_problem_perturbed_step(target, depth, step, steps, *, penalty=0.0, keep_iterates=False):
    """Planted: the per-problem reference run with step size eta (1 + 1e-6)."""
    return gradient_descent(target, depth, step * (1 + 1e-6), steps, penalty=penalty, keep_iterates=keep_iterates)


@pytest.mark.parametrize("bug", [_per_problem_perturbed_step])
def test_batched_check_catches_planted_bug(bug):
    expect_caught(CLAIM, "batched: " + bug.__doc__.split(":", 1)[1].strip(), batches(),
                  lambda case: batched_errors(case, single=bug) > 1.0,
                  describe=lambda case: f"d={case['d']}, L={case['L']}, B={case['B']}, steps={case['steps']}")
