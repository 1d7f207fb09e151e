"""B8: symmetric target, identity start: every GD iterate stays commuting normal with Phi and
follows the scalar recurrence (any step size, with and without the penalty).

Float full GD (``impl.deep_linear.gradient_descent``) is compared iterate by iterate with the
fast path (``impl.symmetric_dynamics``); a deviation beyond the tolerance is re-run at 50
digits (the differential oracle ``tests/oracles.py`` on mpmath numbers) before it counts. The
oracle on SymPy rationals covers arbitrary step sizes with zero tolerance for a few steps, and
SymPy derives the recurrence from the loss.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import example, given, settings
from hypothesis import strategies as st

from resclaims.claims.engine import evidence
from resclaims.claims.b8_commuting_normal_invariance import (
    CLAIM,
    invariance_defects,
    recurrence_iterates,
    recurrence_step,
    slide_step,
)
from resclaims.claims.engine.profiles import budget
from resclaims.impl.deep_linear import gradient, gradient_descent
from resclaims.impl.symmetric_dynamics import ScalarTrajectory, scalar_recurrence, symmetric_gradient_descent
from canaries import expect_caught, raises_violation
from oracles import mp_array, reference_gradient, reference_gradient_descent, start_radius
from strategies.symmetric import (
    SymmetricTarget,
    log_uniform,
    penalties,
    symmetric_from_spectrum,
    symmetric_gd_runs,
    symmetric_targets,
)
from tolerances import EIGENBASIS_GRADIENT_ATOL, EPS, INVARIANCE_C, RECURRENCE_STEP_RTOL, SADDLE_ESCAPE_SAFE


#: Iterates whose entries exceed this are not compared: the products in the defect formulas
#: would overflow (the run is diverging; GD itself stops at the first non-finite loss).
MAX_ENTRY = 1e100

#: Per-kind float defects are metrics only for steps up to this multiple of the slide's, where the
#: dynamics does not amplify rounding; beyond, float defects measure the amplification.
NON_AMPLIFYING_STEP_FACTOR = 2.0

#: SymPy derivations and differential checks of the fast path's formulas: symbolic or fixed data,
#: none of the claim's hypotheses (about a GD run) to evaluate on them.
NO_CLAIM_HYPOTHESES: dict = {}


def _normalizer(t: int, L: int, d: int) -> float:
    return (t + 1) * L * d * EPS


def _worst(defects_per_t: list[dict], L: int, d: int) -> tuple[float, dict, int]:
    """max_t max_k defect / ((t+1) L d eps), the per-kind maxima, and the worst t."""
    worst, per_kind, at = 0.0, dict.fromkeys(defects_per_t[0], 0.0), 0
    for t, defects in enumerate(defects_per_t):
        norm = _normalizer(t, L, d)
        for k, v in defects.items():
            per_kind[k] = max(per_kind[k], float(v) / norm)
            if float(v) / norm > worst:
                worst, at = float(v) / norm, t
    return worst, per_kind, at


def float_defects(target: np.ndarray, L: int, step: float, steps: int, penalty: float = 0.0, *, start=None,
                  recurrence=scalar_recurrence, descent=gradient_descent) -> tuple[list[dict], float]:
    """Invariance defects of every finite iterate of float GD (compared with ``recurrence``), and
    the start radius of the run."""
    run = descent(target, L, step, steps, penalty=penalty, start=start, keep_iterates=True)
    mu, U = np.linalg.eigh(target)
    sr = recurrence(mu, L, step, steps, penalty=penalty, keep_history=True)
    out = []
    for t in range(min(len(run.iterates), len(sr.history))):
        layers = np.asarray(run.iterates[t])
        if not np.all(np.abs(layers) <= MAX_ENTRY) or not np.all(np.abs(sr.history[t]) <= MAX_ENTRY):
            break
        defects = invariance_defects(layers, target, U, sr.history[t])
        if not all(math.isfinite(v) for v in defects.values()):
            break
        out.append(defects)
    return out, start_radius(run.iterates[0])


# --- high precision: the re-check of a float violation (inside mpmath.workdps) ---------------

def exact_eigh(target):
    """Eigenvalues (ascending) and orthonormal eigenvectors (object array) of the float symmetric
    ``target`` converted exactly, at the working precision (mpmath ``eigsy``)."""
    import mpmath

    w, Q = mpmath.eigsy(mpmath.matrix(np.asarray(target, dtype=float).tolist()))
    order = sorted(range(len(w)), key=lambda j: w[j])
    return [w[j] for j in order], np.array([[Q[r, j] for j in order] for r in range(Q.rows)], dtype=object)


def exact_invariance_defects(layers, target, basis, x) -> dict:
    """:func:`invariance_defects` of an iterate of the oracle on mpmath numbers (object arrays),
    with ``basis`` and ``x`` from :func:`exact_eigh` and the recurrence at the same precision."""
    import mpmath

    def fro(m):
        return mpmath.sqrt(sum(v * v for v in np.asarray(m).ravel()))

    Phi = mp_array(target)
    d = Phi.shape[0]
    scale = fro(layers[0]) or mpmath.mpf(np.finfo(float).tiny)
    predicted = (basis * np.array(x, dtype=object)) @ basis.T
    offs = []
    for m in layers:
        r = basis.T @ m @ basis
        offs.append(mpmath.sqrt(sum(r[a, b] ** 2 for a in range(d) for b in range(d) if a != b)))
    return {"unequal": max(fro(m - layers[0]) for m in layers) / scale,
            "asymmetric": max(fro(m - m.T) for m in layers) / scale,
            "commutator": max(fro(m @ Phi - Phi @ m) for m in layers) / (scale * (fro(Phi) or 1)),
            "off_diagonal": max(offs) / scale,
            "recurrence": max(fro(m - predicted) for m in layers) / scale}


def exact_defects(target: np.ndarray, L: int, step: float, steps: int, penalty: float = 0.0) -> list[dict]:
    """The same defects for GD run by the oracle at the working precision (the mathematical
    trajectory, to rounding 1e-50 inside the evidence API's re-check)."""
    import mpmath

    eta, kappa = mpmath.mpf(step), mpmath.mpf(penalty)
    run = reference_gradient_descent(mp_array(target), L, eta, steps, penalty=kappa, keep_iterates=True)
    w, U = exact_eigh(target)
    xs = recurrence_iterates(w, L, eta, steps, kappa, one=mpmath.mpf(1))
    return [exact_invariance_defects(th, target, U, x) for th, x in zip(run.iterates, xs)]


def check(target: SymmetricTarget | np.ndarray, L: int, step: float, steps: int, penalty: float = 0.0,
          *, extra: dict | None = None) -> float:
    Phi = target.Phi if isinstance(target, SymmetricTarget) else target
    d = Phi.shape[0]
    defects, start_radius = float_defects(Phi, L, step, steps, penalty)
    error, per_kind, at = _worst(defects, L, d)
    n = len(defects) - 1  # steps actually compared

    def exact():
        import mpmath

        worst = _worst(exact_defects(Phi, L, step, n, penalty), L, d)[0]
        return mpmath.mpf(worst), mpmath.mpf(INVARIANCE_C)

    instance = {"Phi": Phi, "d": d, "L": L, "step": step, "step_over_slide": step / slide_step(Phi, L),
                "penalty": penalty, "start_radius": start_radius, "steps": steps, "steps_compared": n,
                "worst_t": at, **(extra or {})}
    if isinstance(target, SymmetricTarget):
        instance.update(spectrum=target.spectrum, seed=target.seed)
    # Per-kind float defects as metrics only where the dynamics does not amplify rounding; beyond,
    # float defects measure the amplification, and the 50-digit re-run decides.
    factor = instance["step_over_slide"]
    metrics = ({f"{k} defect / ((t+1) L d eps), step <= 2x slide": v for k, v in per_kind.items()}
               if factor <= NON_AMPLIFYING_STEP_FACTOR else {})
    if factor > NON_AMPLIFYING_STEP_FACTOR:
        evidence.record_metric(CLAIM, "float defect / ((t+1) L d eps), steps > 2x slide (amplified rounding)", error)
    return evidence.check_close(
        CLAIM, instance, error=error, tol=INVARIANCE_C, what="max_t defect / ((t+1) L d eps)",
        metrics=metrics, exact=exact)


# --- float GD against the invariant set and the fast path -----------------------------------

@settings(max_examples=budget(30))
@given(target=symmetric_targets(max_d=4), L=st.integers(1, 6), factor=log_uniform(0.01, 100.0),
       penalty=penalties(), steps=st.integers(1, 25))
@example(target=symmetric_from_spectrum([-1.0, 0.5, 2.0], 0), L=4, factor=1.0, penalty=0.0, steps=25)
@example(target=symmetric_from_spectrum([2.0, 2.0, -0.5, -0.5], 1), L=2, factor=60.0, penalty=0.0, steps=25)
@example(target=symmetric_from_spectrum([1.5, 2.5], 2), L=2, factor=10.0, penalty=0.5, steps=25)
def test_every_iterate_commuting_normal_any_step(target, L, factor, penalty, steps):
    """Any step size (0.01 to 100 times the slide's), penalty or not, eigenvalues of any sign and
    repeated: every finite iterate has equal, symmetric layers commuting with Phi, diagonal in its
    eigenbasis and equal to U diag(x_t) U^T. Large steps make the dynamics chaotic or divergent,
    which amplifies float rounding: those iterates are re-run at 50 digits."""
    check(target, L, factor * slide_step(target.Phi, L), steps, penalty)


@settings(max_examples=budget(30))
@given(target=symmetric_targets(max_d=6), L=st.integers(1, 10), factor=st.floats(0.05, 1.0),
       penalty=penalties(), steps=st.integers(1, 200))
@example(target=symmetric_from_spectrum([3.0, 3.0, 3.0, 0.2], 3), L=8, factor=1.0, penalty=0.0, steps=200)
@example(target=symmetric_from_spectrum([-2.0, -2.0, 1.0], 4), L=6, factor=1.0, penalty=1.0, steps=200)
def test_full_gd_equals_fast_path(target, L, factor, penalty, steps):
    """The slide's step range, long runs: full GD equals symmetric_gradient_descent (final layers)
    and scalar_recurrence (every iterate) to near machine precision; the max difference is a metric."""
    Phi, d = target.Phi, target.Phi.shape[0]
    step = factor * slide_step(Phi, L)
    lam = -float(np.linalg.eigvalsh(Phi)[0])
    if lam > 0:  # stay before the saddle of a negative eigenvalue amplifies rounding (B7: eta lambda t ~ 18)
        steps = min(steps, max(20, int(SADDLE_ESCAPE_SAFE / (step * lam))))
    full = gradient_descent(Phi, L, step, steps, penalty=penalty, keep_iterates=True)
    fast, run = symmetric_gradient_descent(Phi, L, step, steps, penalty=penalty)
    instance = {"Phi": Phi, "d": d, "L": L, "step": step, "penalty": penalty, "steps": steps,
                "start_radius": start_radius(full.iterates[0]), "spectrum": target.spectrum,
                "seed": target.seed, "regime": "slide step, long run", "path": "full GD vs fast path"}
    evidence.check_true(CLAIM, instance, holds=isinstance(run, ScalarTrajectory) and not full.diverged
                        and not run.diverged, what="the fast path returns a scalar trajectory; neither run diverges")
    scale = max(float(np.linalg.norm(full.layers[0])), 1.0)
    diff = float(np.linalg.norm(full.layers - fast, axis=(1, 2)).max()) / scale
    loss_diff = abs(full.loss[-1] - run.loss[-1]) / max(full.loss[0], 1.0)
    evidence.record_metric(CLAIM, "max |full GD - symmetric_gradient_descent|_F / ||Theta||_F (final layers)", diff)
    evidence.record_metric(CLAIM, "max |loss(full GD) - loss(fast path)| / loss(0)", loss_diff)
    evidence.record_metric(CLAIM, "max |full GD - fast path| / ((T+1) L d eps)", diff / _normalizer(steps, L, d))
    evidence.check_upper(CLAIM, instance, lhs=loss_diff,
                         rhs=INVARIANCE_C * _normalizer(steps, L, d) * max(1.0, float(np.linalg.norm(Phi)) ** 2),
                         rtol=0.0)
    check(target, L, step, steps, penalty, extra={"regime": "slide step, long run"})


# --- exact rational GD (the oracle on SymPy rationals): any step size, zero tolerance --------

def _rational_orthogonal(skew_entries: list[int], d: int) -> sympy.Matrix:
    """Cayley transform (I - K)(I + K)^{-1} of a rational skew K: exactly orthogonal, rational."""
    K = sympy.zeros(d, d)
    for (r, c), v in zip(((r, c) for r in range(d) for c in range(r + 1, d)), skew_entries):
        K[r, c], K[c, r] = sympy.Rational(v, 2), -sympy.Rational(v, 2)
    return (sympy.eye(d) - K) * (sympy.eye(d) + K).inv()


@settings(max_examples=budget(10))
@given(d=st.integers(1, 3), L=st.integers(1, 4),
       spectrum=st.lists(st.integers(-6, 6), min_size=3, max_size=3),
       skew=st.lists(st.integers(-3, 3), min_size=3, max_size=3),
       eta=st.sampled_from([Fraction(1, 50), Fraction(1, 3), Fraction(1), Fraction(5, 2), Fraction(40)]),
       kappa=st.sampled_from([Fraction(0), Fraction(1, 2), Fraction(3)]))
@example(d=3, L=4, spectrum=[-4, -4, 2], skew=[1, 2, -1], eta=Fraction(40), kappa=Fraction(0))
def test_exact_rational_gd_any_step(d, L, spectrum, skew, eta, kappa):
    """Exact arithmetic, steps up to 40 (far past divergence): for t <= 4 every layer
    equals U diag(x_t) U^T exactly, x_t the exact scalar recurrence, also for repeated and
    negative eigenvalues (halved integers) and with the penalty."""
    mu = [sympy.Rational(m, 2) for m in spectrum[:d]]
    U = _rational_orthogonal(skew, d)
    Phi = U * sympy.diag(*mu) * U.T
    eta_s, kappa_s = sympy.Rational(eta.numerator, eta.denominator), sympy.Rational(kappa.numerator, kappa.denominator)
    steps = 4
    run = reference_gradient_descent(Phi, L, eta_s, steps, penalty=kappa_s, keep_iterates=True)
    xs = recurrence_iterates(mu, L, eta_s, steps, kappa_s, one=sympy.Integer(1))
    mismatches = sum(th != U * sympy.diag(*x) * U.T for layers, x in zip(run.iterates, xs) for th in layers)
    instance = {"Phi": np.array(Phi.tolist(), dtype=float), "d": d, "L": L, "spectrum": [float(m) for m in mu],
                "step": float(eta), "penalty": float(kappa), "steps": steps,
                "start_radius": start_radius(run.iterates[0]), "arithmetic": "rational"}
    evidence.check_symbolic(CLAIM, {**instance, "what": "U orthogonal"}, lhs=U.T * U, rhs=sympy.eye(d),
                            what="U^T U = I (Cayley transform)")
    evidence.check_equal(CLAIM, instance, actual=mismatches, expected=0,
                         what="layers differing from U diag(x_t) U^T (exact)")


# --- SymPy: the recurrence derived from the loss ---------------------------------------------

def _slide_update(x, lam, L, eta):
    return x + eta * x ** (L - 1) * (lam**L - x**L)


def _powers_combined(expr):
    """``expr`` expanded with powers of a symbolic exponent combined (x * x**(L-1) = x**L), the form
    in which check_symbolic's expand decides an identity in a symbolic depth."""
    return sympy.powsimp(sympy.expand(expr), force=True)


def _symbolic_canary(name: str, instance: dict, lhs, rhs, what: str) -> None:
    """The SymPy check must be able to fail: a planted wrong identity is reported as a violation."""
    with evidence.scratch():
        caught = raises_violation(evidence.check_symbolic, CLAIM, instance, lhs=lhs, rhs=rhs, what=what,
                                  held=NO_CLAIM_HYPOTHESES)
    evidence.record_canary(CLAIM, name, caught=caught, detail=f"{what}: the difference does not vanish")


def test_sympy_scalar_recurrence_general_depth():
    """For a symbolic depth L: with one layer's coordinate x_1 free and the other L - 1 equal to x,
    l = (x_1 x^{L-1} - mu)^2 / 2 + kappa/2 ((x_1 - 1)^2 + (L - 1)(x - 1)^2); the GD update of x_1
    at x_1 = x is the slide's recurrence with mu = lambda^L (plus -eta kappa (x - 1))."""
    x, x1, eta, kappa = sympy.symbols("x x_1 eta kappa", real=True)
    lam = sympy.Symbol("lambda", positive=True)
    mu = sympy.Symbol("mu", real=True)
    L = sympy.Symbol("L", integer=True, positive=True)
    ell = (x1 * x ** (L - 1) - mu) ** 2 / 2 + kappa / 2 * ((x1 - 1) ** 2 + (L - 1) * (x - 1) ** 2)
    update = x - eta * sympy.diff(ell, x1).subs(x1, x)
    instance = {"L": "symbolic", "derivation": "GD update of one layer's coordinate"}
    evidence.check_symbolic(CLAIM, instance, lhs=_powers_combined(update.subs({mu: lam**L, kappa: 0})),
                            rhs=_powers_combined(_slide_update(x, lam, L, eta)),
                            what="the update is the slide's recurrence (kappa = 0)", held=NO_CLAIM_HYPOTHESES)
    evidence.check_symbolic(CLAIM, instance, lhs=_powers_combined(update),
                            rhs=_powers_combined(recurrence_step(x, mu, L, eta, kappa)),
                            what="the update is recurrence_step (with the penalty)", held=NO_CLAIM_HYPOTHESES)
    _symbolic_canary("sympy: penalty doubled in the recurrence (symbolic L)", instance, _powers_combined(update),
                     _powers_combined(recurrence_step(x, mu, L, eta, 2 * kappa)), "update vs recurrence_step(2 kappa)")
    evidence.record_metric(CLAIM, "sympy: recurrence derived for symbolic L (with penalty)", 1, reduce="sum")


@pytest.mark.parametrize("L", [1, 2, 3, 4, 5])
def test_sympy_scalar_recurrence_each_layer(L):
    """Explicit L: every layer's partial derivative of (prod_i x_i - mu)^2/2 + kappa/2 sum (x_i-1)^2
    at x_1 = ... = x_L = x gives the same update, the slide's recurrence."""
    xs = sympy.symbols(f"x1:{L + 1}", real=True)
    x, eta, kappa, mu = sympy.symbols("x eta kappa mu", real=True)
    lam = sympy.Symbol("lambda", positive=True)
    ell = (sympy.Mul(*xs) - mu) ** 2 / 2 + kappa / 2 * sum((xi - 1) ** 2 for xi in xs)
    at = dict.fromkeys(xs, x)
    for i, xi in enumerate(xs):
        update = x - eta * sympy.diff(ell, xi).subs(at)
        instance = {"L": L, "layer": i + 1, "derivation": "GD update of every layer's coordinate"}
        evidence.check_symbolic(CLAIM, instance, lhs=update.subs({mu: lam**L, kappa: 0}),
                                rhs=_slide_update(x, lam, L, eta), what="the slide's recurrence (kappa = 0)",
                                held=NO_CLAIM_HYPOTHESES)
        evidence.check_symbolic(CLAIM, instance, lhs=update, rhs=recurrence_step(x, mu, L, eta, kappa),
                                what="recurrence_step (with the penalty)", held=NO_CLAIM_HYPOTHESES)
    evidence.record_metric(CLAIM, "sympy: recurrence derived per layer, L = 1..5", 1, reduce="sum")


def _modulo_unit_circle(matrix, c, s):
    """Each entry's remainder modulo c^2 + s^2 - 1 (monic in c, so unique): zero iff the entry
    vanishes for every rotation [[c, -s], [s, c]]."""
    return matrix.applyfunc(lambda e: sympy.rem(sympy.expand(e), c**2 + s**2 - 1, c))


@pytest.mark.parametrize("L", [2, 3])
def test_sympy_matrix_gradient_is_diagonal_in_the_eigenbasis(L):
    """d = 2, generic entries: the gradient of l(Theta) + kappa/2 sum ||Theta_i - I||^2, by
    differentiating every entry, at Theta_i = U diag(x_1, x_2) U^T with Phi = U diag(mu_1, mu_2) U^T
    (U = [[c, -s], [s, c]], any rotation: c^2 + s^2 = 1) is U diag(g(x_1, mu_1), g(x_2, mu_2)) U^T
    with g(x, mu) = x^{L-1}(x^L - mu) + kappa (x - 1), for every layer: so every layer moves by the
    same U diag(.) U^T and the coordinates follow the scalar recurrence."""
    c, s, kappa = sympy.symbols("c s kappa", real=True)
    x1, x2, m1, m2 = sympy.symbols("x_1 x_2 mu_1 mu_2", real=True)
    U = sympy.Matrix([[c, -s], [s, c]])
    Phi = U * sympy.diag(m1, m2) * U.T
    point = U * sympy.diag(x1, x2) * U.T
    entries = [sympy.Matrix(2, 2, sympy.symbols(f"a{i}_0:2_0:2", real=True)) for i in range(L)]
    P = sympy.eye(2)
    for A in entries:
        P = A * P
    ell = sum(r**2 for r in P - Phi) / 2 + kappa / 2 * sum(sum(e**2 for e in A - sympy.eye(2)) for A in entries)
    at_point = {A[r, q]: point[r, q] for A in entries for r in range(2) for q in range(2)}

    def g(x, m, exponent=L - 1):
        return x**exponent * (x**L - m) + kappa * (x - 1)

    for i, A in enumerate(entries):
        grad = sympy.Matrix(2, 2, [sympy.diff(ell, A[r, q]).subs(at_point) for r in range(2) for q in range(2)])
        rotated = U.T * grad * U
        evidence.check_symbolic(CLAIM, {"L": L, "layer": i + 1, "derivation": "matrix gradient in Phi's eigenbasis"},
                                lhs=_modulo_unit_circle(rotated - sympy.diag(g(x1, m1), g(x2, m2)), c, s),
                                rhs=sympy.zeros(2, 2), what="U^T grad U = diag(g(x_j, mu_j)) on the unit circle",
                                held=NO_CLAIM_HYPOTHESES)
    # the check can fail: a wrong exponent is not an identity on the circle
    _symbolic_canary(f"sympy: exponent L - 2 in g (matrix gradient, L = {L})", {"L": L},
                     _modulo_unit_circle(rotated - sympy.diag(g(x1, m1, L - 2), g(x2, m2, L - 2)), c, s),
                     sympy.zeros(2, 2), "U^T grad U vs diag(g) with exponent L - 2")
    evidence.record_metric(CLAIM, "sympy: matrix gradient diagonal in Phi's eigenbasis (d = 2)", 1, reduce="sum")


def test_sympy_recurrence_matches_fast_path_and_engine_gradient():
    """The derived update, lambdified, equals one step of impl's scalar_recurrence, and impl's
    matrix gradient at U diag(x) U^T equals U diag(x^{L-1}(x^L - mu) + kappa(x - 1)) U^T."""
    x, mu, eta, kappa = sympy.symbols("x mu eta kappa", real=True)
    f = sympy.lambdify((x, mu, eta, kappa), recurrence_step(x, mu, 3, eta, kappa), "numpy")
    rng = np.random.default_rng(0)
    xs, mus = rng.uniform(0.2, 1.5, 6), rng.uniform(-3, 3, 6)
    one = scalar_recurrence(mus, 3, 0.07, 1, penalty=0.4, start=xs, keep_history=True).history[1]
    instance = {"L": 3, "x": xs, "spectrum": mus, "step": 0.07, "penalty": 0.4}
    evidence.check_allclose(CLAIM, instance, actual=one, desired=f(xs, mus, 0.07, 0.4), rtol=RECURRENCE_STEP_RTOL,
                            what="impl's scalar_recurrence step vs the lambdified recurrence", held=NO_CLAIM_HYPOTHESES)
    target = symmetric_from_spectrum(mus, 5)
    U = target.basis
    layers = np.stack([(U * xs) @ U.T] * 3)
    g, _ = gradient(layers, target.Phi, penalty=0.4)
    want = (U * (xs**2 * (xs**3 - mus) + 0.4 * (xs - 1))) @ U.T
    evidence.check_allclose(CLAIM, {**instance, "seed": 5}, actual=g, desired=np.stack([want] * 3), rtol=0.0,
                            atol=EIGENBASIS_GRADIENT_ATOL, what="impl's gradient at U diag(x) U^T",
                            held=NO_CLAIM_HYPOTHESES)


# --- sensitivity: broken hypotheses and planted bugs -----------------------------------------

def _normalized_error(Phi, L, step, steps, penalty=0.0, **kw) -> float:
    defects, _ = float_defects(Phi, L, step, steps, penalty, **kw)
    return _worst(defects, L, Phi.shape[0])[0] if defects else 0.0


_SIZES = st.sampled_from([1.0, 0.1, 0.01, 0.001])


def test_non_symmetric_target_breaks_invariance():
    """Hypothesis dropped: Phi = S + e (K - K^T), K from the target's seed; the search finds a run
    whose iterates leave the invariant set (layers unequal or not symmetric)."""
    strategy = st.tuples(symmetric_gd_runs(), _SIZES)

    def violates(args):
        (target, L, step, penalty, steps), e = args
        K = np.random.default_rng(target.seed).standard_normal(target.Phi.shape)
        return _normalized_error(target.Phi + e * (K - K.T), L, step, steps, penalty) > INVARIANCE_C

    expect_caught(CLAIM, "non-symmetric target (S + e * skew)", strategy, violates,
                  describe=lambda a: f"d={a[0][0].Phi.shape[0]}, L={a[0][1]}, e={a[1]:.3g}, steps={a[0][4]}")


def test_random_start_breaks_invariance():
    """Hypothesis dropped: identity start replaced by layers I + e G_i (G_i Gaussian, one per
    layer); the invariance fails and the dynamics does not restore it."""
    strategy = st.tuples(symmetric_gd_runs(), _SIZES)

    def violates(args):
        (target, L, step, penalty, steps), e = args
        d = target.Phi.shape[0]
        start = np.eye(d) + e * np.random.default_rng(target.seed).standard_normal((L, d, d))
        run = gradient_descent(target.Phi, L, step, steps, penalty=penalty, start=start, keep_iterates=True)
        final = invariance_defects(run.iterates[-1], target.Phi, np.linalg.eigh(target.Phi)[1])
        return max(final.values()) / _normalizer(steps, L, d) > INVARIANCE_C

    expect_caught(CLAIM, "random start I + e G_i (still broken at the last iterate)", strategy, violates,
                  describe=lambda a: f"d={a[0][0].Phi.shape[0]}, L={a[0][1]}, e={a[1]:.3g}")


def _planted_recurrence(update):
    """A wrong scalar recurrence with impl's signature, ``x <- update(x, mu, L, step, penalty)`` from
    x = 1 (a planted bug: only the fast path is replaced, full GD is untouched)."""
    def recurrence(mu, L, step, steps, *, penalty=0.0, keep_history=False):
        x = np.ones_like(np.asarray(mu, dtype=float))
        hist = [x.copy()]
        for _ in range(steps):
            x = update(x, mu, L, step, penalty)
            hist.append(x.copy())
        return ScalarTrajectory(x=x, loss=np.zeros(steps + 1), history=np.array(hist), steps=steps,
                                converged=False, diverged=False)
    return recurrence


_recurrence_exponent_L_minus_2 = _planted_recurrence(
    lambda x, mu, L, step, penalty: x + step * x ** (L - 2) * (mu - x**L) - step * penalty * (x - 1.0))
_recurrence_exponent_L_minus_2.__doc__ = "Bug: x <- x + eta x^{L-2} (mu - x^L) (exponent L - 2 in place of L - 1)."

_recurrence_penalty_sign = _planted_recurrence(
    lambda x, mu, L, step, penalty: recurrence_step(x, mu, L, step, -penalty))
_recurrence_penalty_sign.__doc__ = "Bug: penalty term with the wrong sign, +eta kappa (x - 1)."


def _recurrence_penalty_times_L(mu, L, step, steps, *, penalty=0.0, keep_history=False):
    """Bug: penalty term -eta L kappa (x - 1) (the penalty's sum over layers folded into each layer)."""
    return scalar_recurrence(mu, L, step, steps, penalty=L * penalty, keep_history=True)


@pytest.mark.parametrize("bug", [_recurrence_exponent_L_minus_2, _recurrence_penalty_times_L, _recurrence_penalty_sign],
                         ids=["_recurrence_exponent_L_minus_2", "_recurrence_penalty_times_L",
                              "_recurrence_penalty_sign"])
def test_planted_wrong_recurrence_is_caught(bug):
    """A planted wrong recurrence disagrees with full GD; the comparison catches it."""
    def violates(run):
        target, L, step, penalty, steps = run
        if bug is not _recurrence_exponent_L_minus_2:
            penalty = 0.5  # the penalty bugs need a penalty
        return _normalized_error(target.Phi, L, step, steps, penalty, recurrence=bug) > INVARIANCE_C

    expect_caught(CLAIM, bug.__doc__.split(":")[1].strip(), symmetric_gd_runs(), violates,
                  describe=lambda a: f"d={a[0].Phi.shape[0]}, L={a[1]}, steps={a[4]}")


def _gauss_seidel_descent(target, L, step, steps, *, penalty=0.0, start=None, keep_iterates=True):
    """Bug: layers updated one after the other (each gradient sees the layers already updated):
    the oracle's GD with a planted ``gradient=`` that evaluates layer i's gradient at the layers
    before it already moved (the oracle then applies the same moves)."""
    identity = np.eye(target.shape[0])

    def sequential_gradient(layers, prefix, suffix, residual):
        current, grads = list(layers), []
        for i in range(len(layers)):
            g = reference_gradient(current, target)[i]
            grads.append(g)
            current[i] = current[i] - step * (g + penalty * (current[i] - identity))
        return grads

    return reference_gradient_descent(target, L, step, steps, penalty=penalty, start=start, keep_iterates=True,
                                      gradient=sequential_gradient)


def test_planted_sequential_update_is_caught():
    """A planted engine bug (Gauss-Seidel instead of simultaneous updates) breaks layer equality."""
    expect_caught(CLAIM, "layers updated sequentially, not simultaneously", symmetric_gd_runs(),
                  lambda a: _normalized_error(a[0].Phi, a[1], a[2], a[4], a[3], descent=_gauss_seidel_descent)
                  > INVARIANCE_C,
                  describe=lambda a: f"d={a[0].Phi.shape[0]}, L={a[1]}, steps={a[4]}")
