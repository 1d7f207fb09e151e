"""B1: the slide's gradient formula, the engine's gradient / HVP / Hessian, and the GD update.

Numerical checks compare the engine (``impl/deep_linear.py``) with central differences whose
tolerance is the proven truncation + rounding bound of tests/tolerances.py (no fudge factor),
and with the differential oracle ``tests/oracles.py`` (the slide's formulas written plainly);
symbolic checks differentiate the trace form with SymPy (MatrixSymbol, general L; the oracle
runs on the MatrixSymbols) and entry by entry (tiny explicit matrices).
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import example, given, settings
from hypothesis import strategies as st

from resclaims.claims.engine import evidence
from resclaims.claims.b1_gradient_formula import CLAIM, symbolic_loss
from resclaims.claims.engine.profiles import budget
from resclaims.impl.deep_linear import (
    batched_gradient_descent,
    gradient,
    gradient_descent,
    hessian,
    hessian_vector_product,
    product,
)
from canaries import expect_caught, raises_violation
from oracles import partial_products, reference_gradient, reference_gradient_descent, reference_loss, slide_gradient
from strategies.deep_linear import finite_floats, make_problem, problem_batches, problems
from tolerances import (
    IDENTITY_LOSS_ATOL,
    IDENTITY_LOSS_RTOL,
    batched_layers_tol,
    batched_loss_tol,
    central_difference_step_and_tol,
    first_step_from_identity_tol,
    gradient_rounding,
    gradient_third_derivative_bound,
    hvp_rounding,
    loss_rounding,
    loss_third_derivative_bound,
    oracle_gradient_tol,
    oracle_step_tol,
    penalty_gradient_rounding,
    penalty_value_rounding,
)


def canary_problems():
    """Small instances with few seeds, so that the sensitivity searches shrink quickly."""
    return problems(max_d=3, max_L=4, max_seed=255)


def _norms(inst):
    layers, target = inst["layers"], inst["target"]
    return float(np.linalg.norm(layers, 2, axis=(1, 2)).max()), float(np.linalg.norm(target)), float(np.linalg.norm(target, 2))


def oracle_gradient(layers, target, kappa=0.0) -> np.ndarray:
    """The oracle's gradient (slide formula + kappa (Theta_i - I)) as an (L, d, d) array."""
    return np.stack(reference_gradient(list(layers), target, penalty=kappa))


# --- (ii) the engine against central differences and the oracle ----------------------------

def gradient_errors(inst, grad_fn=gradient):
    """Per coordinate k: |(loss(Theta + t e_k) - loss(Theta - t e_k)) / 2t - grad_k| / tol_k, and
    the engine's gradient against the oracle's (normwise / tol)."""
    layers, target, kappa = inst["layers"], inst["target"], inst["penalty"]
    d, L = inst["d"], inst["L"]
    a, phi_fro, _ = _norms(inst)
    g, _ = grad_fn(layers, target, penalty=kappa)

    def rounding(A):
        return loss_rounding(d, L, A, phi_fro) + penalty_value_rounding(d, L, kappa, A) + gradient_rounding(d, L, A, phi_fro)

    t, tol = central_difference_step_and_tol(a, 1.0, lambda A: loss_third_derivative_bound(d, L, A, 1.0, phi_fro),
                                             rounding)
    n = layers.size
    shifts = t * np.eye(n).reshape((n,) + layers.shape)
    values = _penalized_losses(np.concatenate([layers + shifts, layers - shifts]), target, kappa)
    fd = (values[:n] - values[n:]) / (2 * t)
    fd_ratio = float(np.max(np.abs(fd - g.ravel()))) / tol
    formula_ratio = float(np.linalg.norm(g - oracle_gradient(layers, target, kappa))) / oracle_gradient_tol(
        d, L, a, phi_fro, kappa)
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
                                what="max(central-difference error, |engine - oracle|) / tolerance",
                                metrics={"gradient: central-difference error / tolerance": fd_ratio,
                                         "gradient: |engine - slide formula| / tolerance": formula_ratio})


@given(inst=problems())
@example(inst=make_problem(1, 1, 0))
@example(inst=make_problem(3, 6, 7, spread=1.0, target_scale=3.0, penalty=2.0))
def test_gradient_matches_central_differences(inst):
    """Every coordinate of the engine's gradient (with the penalty term) against a central
    difference of the loss; and against the oracle's slide formula."""
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
        return gradient_rounding(d, L, A, phi_fro) + hvp_rounding(d, L, A, 1.0, phi_fro) + penalty_gradient_rounding(d, kappa, A)

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


@given(inst=problems())
@example(inst=make_problem(2, 1, 3))
@example(inst=make_problem(4, 6, 11, spread=1.0, target_scale=3.0, penalty=0.5))
def test_hessian_vector_product_and_hessian_match_central_differences(inst):
    """HVP and the exact Hessian against central differences of the engine's gradient."""
    ratio = hvp_errors(inst)
    evidence.check_close(CLAIM, inst, error=ratio, tol=1.0, what="HVP / Hessian central-difference error / tolerance",
                         metrics={"HVP and Hessian: central-difference error / tolerance": ratio})


# --- (iii) the GD update and the batched engine --------------------------------------------

def gd_step_error(inst, eta: float, run_fn=gradient_descent) -> float:
    """||one engine step from Theta - one oracle step from Theta||_F / tol (penalty included)."""
    layers, target, kappa = inst["layers"], inst["target"], inst["penalty"]
    d, L = inst["d"], inst["L"]
    a, phi_fro, _ = _norms(inst)
    run = run_fn(target, L, eta, 1, start=layers, penalty=kappa)
    expected = np.stack(reference_gradient_descent(target, L, eta, 1, penalty=kappa, start=layers).layers)
    tol = oracle_step_tol(d, L, a, phi_fro, eta, float(np.linalg.norm(layers)), kappa)
    return float(np.linalg.norm(np.asarray(run.layers) - expected)) / tol


@given(inst=problems(), eta=finite_floats(min_value=1e-4, max_value=0.5))
@example(inst=make_problem(2, 3, 5, target_scale=2.0, penalty=0.5), eta=0.1)
def test_gd_step_is_theta_minus_eta_gradient(inst, eta):
    """One step of ``gradient_descent`` from ``start=Theta`` is the oracle's Theta - eta grad
    (penalty included)."""
    ratio = gd_step_error(inst, eta)
    evidence.check_close(CLAIM, {**inst, "eta": eta}, error=ratio, tol=1.0, what="GD step error / tolerance",
                         metrics={"GD step: error / tolerance": ratio})


@given(d=st.integers(1, 4), L=st.integers(1, 8), phi=finite_floats(min_value=-3.0, max_value=3.0),
       eta=finite_floats(min_value=1e-3, max_value=0.5))
def test_gd_starts_at_identity(d, L, phi, eta):
    """From the identity every layer's gradient is I - Phi, so the first iterate is
    I - eta (I - Phi) for every layer (Phi = phi I + a fixed non-symmetric part), and the
    recorded loss at t = 0 is 1/2 ||I - Phi||_F^2."""
    target = phi * np.eye(d) + np.triu(np.ones((d, d)), 1)
    run = gradient_descent(target, L, eta, 1, record=("loss",))
    residual_fro = float(np.linalg.norm(np.eye(d) - target))
    expected = np.broadcast_to(np.eye(d) - eta * (np.eye(d) - target), (L, d, d))
    err = float(np.linalg.norm(run.layers - expected, axis=(1, 2)).max())
    # the start the engine used (its default): the identity stack
    instance = {"d": d, "L": L, "eta": eta, "layers": np.broadcast_to(np.eye(d), (L, d, d)), "target": target}
    evidence.check_close(CLAIM, instance, error=err, tol=first_step_from_identity_tol(d, eta, residual_fro),
                         what="first iterate from I: max_i ||Theta_i^(1) - (I - eta (I - Phi))||_2")
    expected_loss = 0.5 * residual_fro**2
    evidence.check_close(CLAIM, instance, error=abs(float(run.loss[0]) - expected_loss),
                         tol=max(IDENTITY_LOSS_RTOL * expected_loss, IDENTITY_LOSS_ATOL),
                         what="loss at the identity: |loss(0) - 1/2 ||I - Phi||_F^2|")


def batched_errors(case, single=gradient_descent) -> float:
    """max over problems of (||batched layers - per-problem layers||_F / tol, |loss diff| / loss tol)."""
    d, L, eta, steps, kappa = case["d"], case["L"], case["eta"], case["steps"], case["penalty"]
    layers_b, losses_b = batched_gradient_descent(case["targets"], L, eta, steps, penalty=kappa)
    worst = 0.0
    for b, target in enumerate(case["targets"]):
        run = single(target, L, eta, steps, penalty=kappa, keep_iterates=True)
        its = np.stack(run.iterates)
        A = float(np.linalg.norm(its, 2, axis=(2, 3)).max())
        err2 = max(float(np.linalg.norm(product(th) - target, 2)) for th in run.iterates)
        phi_fro = float(np.linalg.norm(target))
        layers_fro = float(np.sqrt((its ** 2).sum(axis=(1, 2, 3))).max())
        tol = batched_layers_tol(d, L, A, err2, phi_fro, eta, layers_fro, steps, kappa)
        worst = max(worst, float(np.linalg.norm(layers_b[b] - run.layers)) / tol)
        e_fro = float(np.sqrt(2 * np.max(run.loss)))
        loss_tol = batched_loss_tol(d, L, A, e_fro, phi_fro, kappa, layers_fro, tol)
        worst = max(worst, float(np.max(np.abs(losses_b[:, b] - run.loss))) / loss_tol)
    return worst


@given(case=problem_batches())
@settings(max_examples=budget(25))
def test_batched_engine_matches_per_problem(case):
    """Each problem of ``batched_gradient_descent`` follows ``gradient_descent`` (layers and losses)."""
    ratio = batched_errors(case)
    instance = {k: case[k] for k in ("d", "L", "B", "steps", "eta", "penalty", "targets")}
    evidence.check_close(CLAIM, instance, error=ratio, tol=1.0, what="batched vs per-problem / tolerance",
                         metrics={"batched vs per-problem: error / tolerance": ratio})


# --- (i) symbolic ---------------------------------------------------------------------------

def _matrix_symbols(L: int):
    """Layers Theta_1..Theta_L and Phi as MatrixSymbols of symbolic size n x n."""
    n = sympy.Symbol("n", integer=True, positive=True)
    return n, [sympy.MatrixSymbol(f"Theta{i + 1}", n, n) for i in range(L)], sympy.MatrixSymbol("Phi", n, n)


def _symbolic_oracle(thetas, target, n):
    """The oracle's partial products and residual on MatrixSymbols (identity I_n)."""
    prefix, suffix = partial_products(thetas, sympy.Identity(n))
    return prefix, suffix, suffix[0] @ thetas[0] - target


def check_matrix_identity(instance, derivative, formula, what: str) -> None:
    """``derivative - formula`` expands to the zero matrix of symbolic size.

    ``evidence.check_symbolic`` cannot take matrix expressions of symbolic size (it forms an
    explicit ``sympy.Matrix``), so the expanded residual is compared exactly with ``ZeroMatrix``."""
    n = instance["target"].shape[0]
    evidence.check_equal(CLAIM, instance, actual=(derivative - formula).expand(), expected=sympy.ZeroMatrix(n, n),
                         what=what)


@pytest.mark.parametrize("L", [1, 2, 3, 4])
def test_slide_formula_is_the_matrix_derivative(L):
    """SymPy: d/dTheta_i of 1/2 tr(E^T E) (MatrixSymbols of symbolic size n) minus the slide's
    formula (the oracle on MatrixSymbols) expands to the zero matrix, for every layer i."""
    n, thetas, target = _matrix_symbols(L)
    ell = symbolic_loss(thetas, target)
    prefix, suffix, E = _symbolic_oracle(thetas, target, n)
    formulas = slide_gradient(thetas, prefix, suffix, E)
    for i in range(L):
        check_matrix_identity({"L": L, "i": i + 1, "layers": thetas, "target": target},
                              sympy.diff(ell, thetas[i]), formulas[i], what=f"d loss / d Theta_{i + 1} - slide formula")
    evidence.record_metric(CLAIM, "symbolic (MatrixSymbol): largest L checked", L, reduce="max")


def _planted_formulas(thetas, target, n, i):
    """Plausible wrong formulas for layer i (0-based): each must leave a nonzero symbolic residual."""
    prefix, suffix, E = _symbolic_oracle(thetas, target, n)
    return {
        "transposes dropped": suffix[i] @ E @ prefix[i],
        "off-by-one layer index": suffix[i + 1].T @ E @ prefix[i + 1].T,
        "E transposed": suffix[i].T @ E.T @ prefix[i].T,
        "loss without 1/2": 2 * suffix[i].T @ E @ prefix[i].T,
    }


def test_symbolic_check_catches_planted_formulas():
    """The symbolic comparison can fail: each planted formula leaves a nonzero residual (L = 3,
    layer 2), caught by the same check as the claim's."""
    n, thetas, target = _matrix_symbols(3)
    derivative = sympy.diff(symbolic_loss(thetas, target), thetas[1])
    instance = {"L": 3, "i": 2, "layers": thetas, "target": target}
    for name, wrong in _planted_formulas(thetas, target, n, 1).items():
        with evidence.scratch():
            caught = raises_violation(check_matrix_identity, instance, derivative, wrong, what=name)
        evidence.record_canary(CLAIM, f"symbolic: {name}", caught=caught,
                               detail=f"residual {(derivative - wrong).expand()}")


def _explicit(d: int, L: int):
    """Layers and target with symbolic entries, the loss, and the variables in the engine's order."""
    thetas = [sympy.Matrix(d, d, sympy.symbols(f"t{i + 1}_0:{d}_0:{d}")) for i in range(L)]
    target = sympy.Matrix(d, d, sympy.symbols(f"p0:{d}_0:{d}"))
    ell = reference_loss(thetas, target)
    return thetas, target, ell, [v for T in thetas for v in T]


@pytest.mark.parametrize("d, L", [(1, 1), (1, 4), (2, 2), (3, 1)])
def test_explicit_entries_and_exact_hessian(d, L):
    """Tiny explicit case: every entry of d loss / d Theta_i equals the slide's formula (the
    oracle on SymPy matrices; expanded polynomials); at a rational point the engine's gradient and
    exact Hessian equal SymPy's exact values up to their rounding bounds."""
    thetas, target, ell, variables = _explicit(d, L)
    formulas = reference_gradient(thetas, target)
    for i in range(L):
        derivative = thetas[i].applyfunc(lambda v: sympy.diff(ell, v))
        evidence.check_symbolic(CLAIM, {"d": d, "L": L, "i": i + 1, "layers": thetas, "target": target},
                                lhs=derivative, rhs=formulas[i], what=f"d loss / d Theta_{i + 1} - slide formula, entrywise")
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
    d = layers.shape[1]
    prefix, suffix = partial_products(list(layers), np.eye(d))
    E = suffix[0] @ layers[0] - target
    g = np.stack([suffix[i] @ E @ prefix[i] for i in range(layers.shape[0])])
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
    expect_caught(CLAIM, "gradient: " + bug.__doc__.split(":", 1)[1].strip(), canary_problems(),
                  lambda inst: raises_violation(check_gradient, inst, grad_fn=bug),
                  describe=lambda inst: f"d={inst['d']}, L={inst['L']}, penalty={inst['penalty']}")


def _hvp_first_order_only(layers, target, direction, penalty=0.0):
    """Planted: Gauss-Newton product (the term with the residual E dropped)."""
    return hessian_vector_product(layers, product(layers), direction) + penalty * direction  # target = P: E = 0


def _hvp_transposed_direction(layers, target, direction, penalty=0.0):
    """Planted: direction transposed inside the product (V_i^T in place of V_i)."""
    return hessian_vector_product(layers, target, np.swapaxes(direction, -1, -2), penalty=penalty)


@pytest.mark.parametrize("bug", [_hvp_first_order_only, _hvp_transposed_direction])
def test_hvp_check_catches_planted_bug(bug):
    expect_caught(CLAIM, "HVP: " + bug.__doc__.split(":", 1)[1].strip(), canary_problems(),
                  lambda inst: hvp_errors(inst, hvp_fn=bug, with_hessian=False) > 1.0,
                  describe=lambda inst: f"d={inst['d']}, L={inst['L']}")


def _sequential_update(target, depth, step, steps, **kwargs):
    """Planted: layers updated one after another (Gauss-Seidel), each from the partly updated iterate."""

    def gauss_seidel(layers, prefix, suffix, residual):
        # the oracle's step is theta - step * g: return the g that reproduces a sweep from the last
        # layer down, each layer's gradient taken at the partly updated iterate
        current, grads = list(layers), [None] * depth
        for i in range(depth - 1, -1, -1):
            p, s = partial_products(current, np.eye(target.shape[0]))
            grads[i] = slide_gradient(current, p, s, s[0] @ current[0] - target)[i]
            current[i] = current[i] - step * (grads[i] + kwargs.get("penalty", 0.0) * (current[i] - np.eye(target.shape[0])))
        return grads

    run = reference_gradient_descent(target, depth, step, steps, penalty=kwargs.get("penalty", 0.0),
                                     start=list(kwargs["start"]), gradient=gauss_seidel)
    return type("Run", (), {"layers": np.stack(run.layers)})


@pytest.mark.parametrize("bug", [_sequential_update])
def test_gd_step_check_catches_planted_bug(bug):
    expect_caught(CLAIM, "GD step: " + bug.__doc__.split(":", 1)[1].strip(),
                  st.tuples(canary_problems(), finite_floats(min_value=1e-4, max_value=0.5)),
                  lambda case: gd_step_error(case[0], case[1], run_fn=bug) > 1.0,
                  describe=lambda case: f"d={case[0]['d']}, L={case[0]['L']}, eta={case[1]}")


def _per_problem_perturbed_step(target, depth, step, steps, *, penalty=0.0, keep_iterates=False):
    """Planted: the per-problem reference run with step size eta (1 + 1e-6)."""
    return gradient_descent(target, depth, step * (1 + 1e-6), steps, penalty=penalty, keep_iterates=keep_iterates)


@pytest.mark.parametrize("bug", [_per_problem_perturbed_step])
def test_batched_check_catches_planted_bug(bug):
    expect_caught(CLAIM, "batched: " + bug.__doc__.split(":", 1)[1].strip(), problem_batches(),
                  lambda case: batched_errors(case, single=bug) > 1.0,
                  describe=lambda case: f"d={case['d']}, L={case['L']}, B={case['B']}, steps={case['steps']}")
