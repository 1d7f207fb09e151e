"""B8: symmetric target, identity start: every GD iterate stays commuting normal with Phi and
follows the scalar recurrence (any step size, with and without the penalty).

Float full GD (``impl.deep_linear.gradient_descent``) is compared iterate by iterate with the
fast path (``impl.symmetric_dynamics``); a deviation beyond the tolerance is re-run at 50
digits (the mathematical GD) before it counts. Exact rational GD covers arbitrary step sizes
with zero tolerance for a few steps, and SymPy derives the recurrence from the loss.
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
    EXACT_DIGITS,
    exact_eigh,
    exact_gradient_descent,
    exact_invariance_defects,
    exact_scalar_recurrence,
    invariance_defects,
    recurrence_step,
    slide_step,
)
from resclaims.claims.engine.profiles import budget
from resclaims.impl.deep_linear import gradient, gradient_descent
from resclaims.impl.symmetric_dynamics import ScalarTrajectory, scalar_recurrence, symmetric_gradient_descent
from canaries import expect_caught
from strategies.symmetric import SymmetricTarget, log_uniform, penalties, symmetric_from_spectrum, symmetric_targets
from tolerances import EPS, INVARIANCE_C


#: Iterates whose entries exceed this are not compared: the products in the defect formulas
#: would overflow (the run is diverging; GD itself stops at the first non-finite loss).
MAX_ENTRY = 1e100




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
                  recurrence=scalar_recurrence, descent=gradient_descent) -> list[dict]:
    """Invariance defects of every finite iterate of float GD (compared with ``recurrence``)."""
    run = descent(target, L, step, steps, penalty=penalty, start=start, keep_iterates=True)
    mu, U = np.linalg.eigh(target)
    sr = recurrence(mu, L, step, steps, penalty=penalty, keep_history=True)
    out = []
    for t in range(min(len(run.iterates), len(sr.history))):
        layers = run.iterates[t]
        if not np.all(np.abs(layers) <= MAX_ENTRY) or not np.all(np.abs(sr.history[t]) <= MAX_ENTRY):
            break
        defects = invariance_defects(layers, target, U, sr.history[t])
        if not all(math.isfinite(v) for v in defects.values()):
            break
        out.append(defects)
    return out


def exact_defects(target: np.ndarray, L: int, step: float, steps: int, penalty: float = 0.0) -> list[dict]:
    """The same defects for GD run at 50 digits (the mathematical trajectory, to rounding 1e-50)."""
    import mpmath

    with mpmath.workdps(EXACT_DIGITS):
        iterates = exact_gradient_descent(target, L, step, steps, penalty=penalty)
        w, U = exact_eigh(target)
        xs = exact_scalar_recurrence(w, L, step, steps, penalty=penalty)
        return [exact_invariance_defects(th, target, U, x) for th, x in zip(iterates, xs)]


def check(target: SymmetricTarget | np.ndarray, L: int, step: float, steps: int, penalty: float = 0.0,
          *, extra: dict | None = None) -> float:
    Phi = target.Phi if isinstance(target, SymmetricTarget) else target
    d = Phi.shape[0]
    defects = float_defects(Phi, L, step, steps, penalty)
    error, per_kind, at = _worst(defects, L, d)
    n = len(defects) - 1  # steps actually compared

    def exact():
        import mpmath

        worst = _worst(exact_defects(Phi, L, step, n, penalty), L, d)[0]
        return mpmath.mpf(worst), mpmath.mpf(INVARIANCE_C)

    instance = {"Phi": Phi, "d": d, "L": L, "step": step, "step_over_slide": step / slide_step(Phi, L),
                "penalty": penalty, "steps": steps, "steps_compared": n, "worst_t": at, **(extra or {})}
    if isinstance(target, SymmetricTarget):
        instance.update(spectrum=target.spectrum, seed=target.seed)
    # Per-kind float defects as metrics only where the dynamics does not amplify rounding
    # (steps up to twice the slide's); beyond, float defects measure the amplification, and
    # the 50-digit re-run decides.
    factor = instance["step_over_slide"]
    metrics = {f"{k} defect / ((t+1) L d eps), step <= 2x slide": v for k, v in per_kind.items()} if factor <= 2 else {}
    if factor > 2:
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
        steps = min(steps, max(20, int(10.0 / (step * lam))))
    full = gradient_descent(Phi, L, step, steps, penalty=penalty)
    fast, run = symmetric_gradient_descent(Phi, L, step, steps, penalty=penalty)
    assert isinstance(run, ScalarTrajectory) and not full.diverged and not run.diverged
    scale = max(float(np.linalg.norm(full.layers[0])), 1.0)
    diff = float(np.linalg.norm(full.layers - fast, axis=(1, 2)).max()) / scale
    loss_diff = abs(full.loss[-1] - run.loss[-1]) / max(full.loss[0], 1.0)
    evidence.record_metric(CLAIM, "max |full GD - symmetric_gradient_descent|_F / ||Theta||_F (final layers)", diff)
    evidence.record_metric(CLAIM, "max |loss(full GD) - loss(fast path)| / loss(0)", loss_diff)
    evidence.record_metric(CLAIM, "max |full GD - fast path| / ((T+1) L d eps)", diff / _normalizer(steps, L, d))
    assert loss_diff <= INVARIANCE_C * _normalizer(steps, L, d) * max(1.0, float(np.linalg.norm(Phi)) ** 2)
    check(target, L, step, steps, penalty, extra={"regime": "slide step, long run"})


# --- exact rational GD: any step size, zero tolerance ----------------------------------------

def _rational_orthogonal(skew_entries: list[int], d: int) -> sympy.Matrix:
    """Cayley transform (I - K)(I + K)^{-1} of a rational skew K: exactly orthogonal, rational."""
    K = sympy.zeros(d, d)
    for (r, c), v in zip(((r, c) for r in range(d) for c in range(r + 1, d)), skew_entries):
        K[r, c], K[c, r] = sympy.Rational(v, 2), -sympy.Rational(v, 2)
    return (sympy.eye(d) - K) * (sympy.eye(d) + K).inv()


def _exact_gd(Phi: sympy.Matrix, L: int, eta, kappa, steps: int) -> list[list[sympy.Matrix]]:
    """GD in exact rationals, straight from the slide's gradient formula."""
    d = Phi.rows
    layers = [sympy.eye(d) for _ in range(L)]
    out = [layers]
    for _ in range(steps):
        prefix = [sympy.eye(d)]
        for th in layers:
            prefix.append(th * prefix[-1])
        back, grads = prefix[L] - Phi, [None] * L
        for i in range(L - 1, -1, -1):
            grads[i] = back * prefix[i].T
            back = layers[i].T * back
        layers = [layers[i] - eta * (grads[i] + kappa * (layers[i] - sympy.eye(d))) for i in range(L)]
        out.append(layers)
    return out


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
    assert U.T * U == sympy.eye(d)
    Phi = U * sympy.diag(*mu) * U.T
    eta_s, kappa_s = sympy.Rational(eta.numerator, eta.denominator), sympy.Rational(kappa.numerator, kappa.denominator)
    steps = 4
    iterates = _exact_gd(Phi, L, eta_s, kappa_s, steps)
    x = [sympy.Integer(1)] * d
    mismatches = 0
    for t, layers in enumerate(iterates):
        predicted = U * sympy.diag(*x) * U.T
        mismatches += sum(th != predicted for th in layers)
        x = [recurrence_step(xj, mj, L, eta_s, kappa_s) for xj, mj in zip(x, mu)]
    instance = {"Phi": np.array(Phi.evalf(17).tolist(), dtype=float), "exact": True, "d": d, "L": L,
                "spectrum": [float(m) for m in mu], "step": float(eta), "penalty": float(kappa), "steps": steps}
    instance["Phi"] = 0.5 * (instance["Phi"] + instance["Phi"].T)
    evidence.check_close(CLAIM, instance, error=mismatches, tol=0.5, what="layers differing from U diag(x_t) U^T (exact)")


# --- SymPy: the recurrence derived from the loss ---------------------------------------------

def _slide_update(x, lam, L, eta):
    return x + eta * x ** (L - 1) * (lam**L - x**L)


def _is_zero(expr) -> bool:
    """``expr == 0`` as a polynomial in powers with a symbolic exponent (x * x**(L-1) = x**L)."""
    return sympy.expand(sympy.powsimp(sympy.expand(expr), force=True)) == 0


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
    assert _is_zero(update.subs({mu: lam**L, kappa: 0}) - _slide_update(x, lam, L, eta))
    assert _is_zero(update - recurrence_step(x, mu, L, eta, kappa))
    assert not _is_zero(update - recurrence_step(x, mu, L, eta, 2 * kappa))  # the check can fail
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
    for xi in xs:
        update = x - eta * sympy.diff(ell, xi).subs(at)
        assert sympy.expand(update.subs({mu: lam**L, kappa: 0}) - _slide_update(x, lam, L, eta)) == 0
        assert sympy.expand(update - recurrence_step(x, mu, L, eta, kappa)) == 0
    evidence.record_metric(CLAIM, "sympy: recurrence derived per layer, L = 1..5", 1, reduce="sum")


def _on_unit_circle_zero(expr, c, s) -> bool:
    """``expr == 0`` for every rotation [[c, -s], [s, c]]: the remainder of the polynomial ``expr``
    modulo c^2 + s^2 - 1 (monic in c, so the remainder is unique) vanishes."""
    return sympy.rem(sympy.expand(expr), c**2 + s**2 - 1, c) == 0


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

    for A in entries:
        grad = sympy.Matrix(2, 2, [sympy.diff(ell, A[r, q]).subs(at_point) for r in range(2) for q in range(2)])
        rotated = U.T * grad * U
        assert all(_on_unit_circle_zero(e, c, s) for e in rotated - sympy.diag(g(x1, m1), g(x2, m2)))
    # the check can fail: a wrong exponent is not an identity on the circle
    assert not _on_unit_circle_zero((rotated - sympy.diag(g(x1, m1, L - 2), g(x2, m2, L - 2)))[0, 0], c, s)
    evidence.record_metric(CLAIM, "sympy: matrix gradient diagonal in Phi's eigenbasis (d = 2)", 1, reduce="sum")


def test_sympy_recurrence_matches_fast_path_and_engine_gradient():
    """The derived update, lambdified, equals one step of impl's scalar_recurrence, and impl's
    matrix gradient at U diag(x) U^T equals U diag(x^{L-1}(x^L - mu) + kappa(x - 1)) U^T."""
    x, mu, eta, kappa = sympy.symbols("x mu eta kappa", real=True)
    f = sympy.lambdify((x, mu, eta, kappa), recurrence_step(x, mu, 3, eta, kappa), "numpy")
    rng = np.random.default_rng(0)
    xs, mus = rng.uniform(0.2, 1.5, 6), rng.uniform(-3, 3, 6)
    one = scalar_recurrence(mus, 3, 0.07, 1, penalty=0.4, start=xs, keep_history=True).history[1]
    assert np.allclose(one, f(xs, mus, 0.07, 0.4), rtol=1e-14, atol=0)
    target = symmetric_from_spectrum(mus, 5)
    U = target.basis
    layers = np.stack([(U * xs) @ U.T] * 3)
    g, _ = gradient(layers, target.Phi, penalty=0.4)
    want = (U * (xs**2 * (xs**3 - mus) + 0.4 * (xs - 1))) @ U.T
    assert np.allclose(g, want, rtol=0, atol=1e-13)


# --- sensitivity: broken hypotheses and planted bugs -----------------------------------------

def _normalized_error(Phi, L, step, steps, penalty=0.0, **kw) -> float:
    defects = float_defects(Phi, L, step, steps, penalty, **kw)
    return _worst(defects, L, Phi.shape[0])[0] if defects else 0.0


#: Spectrum values of the sensitivity searches: a small discrete space shrinks fast (the
#: searches run in every CI job), with negative, repeated and non-unit eigenvalues.
_CANARY_VALUES = (1.0, 2.0, 0.5, -1.0, 3.0, -0.25)


@st.composite
def _moderate_runs(draw):
    """Symmetric target (d <= 3), L <= 4, a step at most the slide's (non-expanding dynamics: no
    rounding amplification, so a violation is real), penalty 0 or 1/2, at most 8 steps."""
    mu = draw(st.lists(st.sampled_from(_CANARY_VALUES), min_size=1, max_size=3))
    target = symmetric_from_spectrum(mu, draw(st.integers(0, 3)))
    L = draw(st.integers(1, 4))
    step = draw(st.sampled_from([1.0, 0.5, 0.25])) * slide_step(target.Phi, L)
    return target, L, step, draw(st.sampled_from([0.0, 0.5])), draw(st.integers(1, 8))


_SIZES = st.sampled_from([1.0, 0.1, 0.01, 0.001])


def test_non_symmetric_target_breaks_invariance():
    """Hypothesis dropped: Phi = S + e (K - K^T), K from the target's seed; the search finds a run
    whose iterates leave the invariant set (layers unequal or not symmetric)."""
    strategy = st.tuples(_moderate_runs(), _SIZES)

    def violates(args):
        (target, L, step, penalty, steps), e = args
        K = np.random.default_rng(target.seed).standard_normal(target.Phi.shape)
        return _normalized_error(target.Phi + e * (K - K.T), L, step, steps, penalty) > INVARIANCE_C

    expect_caught(CLAIM, "non-symmetric target (S + e * skew)", strategy, violates,
                  describe=lambda a: f"d={a[0][0].Phi.shape[0]}, L={a[0][1]}, e={a[1]:.3g}, steps={a[0][4]}")


def test_random_start_breaks_invariance():
    """Hypothesis dropped: identity start replaced by layers I + e G_i (G_i Gaussian, one per
    layer); the invariance fails and the dynamics does not restore it."""
    strategy = st.tuples(_moderate_runs(), _SIZES)

    def violates(args):
        (target, L, step, penalty, steps), e = args
        d = target.Phi.shape[0]
        start = np.eye(d) + e * np.random.default_rng(target.seed).standard_normal((L, d, d))
        run = gradient_descent(target.Phi, L, step, steps, penalty=penalty, start=start, keep_iterates=True)
        final = invariance_defects(run.iterates[-1], target.Phi, np.linalg.eigh(target.Phi)[1])
        return max(final.values()) / _normalizer(steps, L, d) > INVARIANCE_C

    expect_caught(CLAIM, "random start I + e G_i (still broken at the last iterate)", strategy, violates,
                  describe=lambda a: f"d={a[0][0].Phi.shape[0]}, L={a[0][1]}, e={a[1]:.3g}")


def _recurrence_exponent_L_minus_2(mu, L, step, steps, *, penalty=0.0, keep_history=False):
    """Bug: x <- x + eta x^{L-2} (mu - x^L) (exponent L - 2 in place of L - 1)."""
    x = np.ones_like(np.asarray(mu, dtype=float))
    hist = [x.copy()]
    for _ in range(steps):
        x = x + step * x ** (L - 2) * (mu - x**L) - step * penalty * (x - 1.0)
        hist.append(x.copy())
    return ScalarTrajectory(x=x, loss=np.zeros(steps + 1), history=np.array(hist), steps=steps, converged=False,
                            diverged=False)


def _recurrence_penalty_times_L(mu, L, step, steps, *, penalty=0.0, keep_history=False):
    """Bug: penalty term -eta L kappa (x - 1) (the penalty's sum over layers folded into each layer)."""
    return scalar_recurrence(mu, L, step, steps, penalty=L * penalty, keep_history=True)


def _recurrence_penalty_sign(mu, L, step, steps, *, penalty=0.0, keep_history=False):
    """Bug: penalty term with the wrong sign, +eta kappa (x - 1)."""
    x = np.ones_like(np.asarray(mu, dtype=float))
    hist = [x.copy()]
    for _ in range(steps):
        x = x + step * x ** (L - 1) * (mu - x**L) + step * penalty * (x - 1.0)
        hist.append(x.copy())
    return ScalarTrajectory(x=x, loss=np.zeros(steps + 1), history=np.array(hist), steps=steps, converged=False,
                            diverged=False)


@pytest.mark.parametrize("bug", [_recurrence_exponent_L_minus_2, _recurrence_penalty_times_L, _recurrence_penalty_sign])
def test_planted_wrong_recurrence_is_caught(bug):
    """A planted wrong recurrence disagrees with full GD; the comparison catches it."""
    def violates(run):
        target, L, step, penalty, steps = run
        if bug is not _recurrence_exponent_L_minus_2:
            penalty = 0.5  # the penalty bugs need a penalty
        return _normalized_error(target.Phi, L, step, steps, penalty, recurrence=bug) > INVARIANCE_C

    expect_caught(CLAIM, bug.__doc__.split(":")[1].strip(), _moderate_runs(), violates,
                  describe=lambda a: f"d={a[0].Phi.shape[0]}, L={a[1]}, steps={a[4]}")


def _sequential_gd(target, L, step, steps, *, penalty=0.0, start=None, keep_iterates=True):
    """Bug: layers updated one after the other (each gradient sees the layers already updated)."""
    from resclaims.impl.deep_linear import Trajectory

    layers = np.stack([np.eye(target.shape[0])] * L)
    iterates = [layers.copy()]
    for _ in range(steps):
        for i in range(L):
            g, _ = gradient(layers, target, penalty=penalty)
            layers[i] -= step * g[i]
        iterates.append(layers.copy())
    return Trajectory(layers=layers, loss=np.zeros(steps + 1), iterates=iterates, steps=steps)


def test_planted_sequential_update_is_caught():
    """A planted engine bug (Gauss-Seidel instead of simultaneous updates) breaks layer equality."""
    expect_caught(CLAIM, "layers updated sequentially, not simultaneously", _moderate_runs(),
                  lambda a: _normalized_error(a[0].Phi, a[1], a[2], a[4], a[3], descent=_sequential_gd) > INVARIANCE_C,
                  describe=lambda a: f"d={a[0].Phi.shape[0]}, L={a[1]}, steps={a[4]}")
