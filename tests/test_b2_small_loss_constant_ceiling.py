"""B2 ceiling: witnesses with loss(I) <= c for every c > 1/2 from which gradient descent stays above
lambda^2/2, through the exact symmetric dynamics (long runs) and full gradient descent (safe horizon)."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from resclaims.claims.b2_small_loss_constant_ceiling import (
    CLAIM, initial_loss, largest_witness_lambda, loss_floor, witness_spectrum)
from resclaims.claims.engine import evidence
from resclaims.impl.deep_linear import gradient_descent
from resclaims.impl.symmetric_dynamics import scalar_recurrence
from canaries import expect_caught
from oracles import start_radius
from strategies.symmetric import log_uniform, symmetric_from_spectrum
from tolerances import SADDLE_ESCAPE_SAFE, coordinate_loss_atol, loss_rounding

#: Steps of the exact dynamics per example (the negative coordinate has decayed far by then at the
#: slide's step) and the cap of a full gradient-descent run.
FAST_STEPS = 2000
FULL_STEPS = 300

witnesses = st.builds(
    lambda c, fraction, d, seed: (c, symmetric_from_spectrum(witness_spectrum(c, fraction, d), seed)),
    c=st.floats(0.5, 3.0, exclude_min=True), fraction=st.floats(0.01, 0.999), d=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1))


def slide_step(Phi: np.ndarray, L: int) -> float:
    """The slide's step size 1/(L (1 + ||Phi||^2))."""
    return 1.0 / (L * (1.0 + np.linalg.norm(Phi, 2) ** 2))


def exact_run(Phi: np.ndarray, L: int, step: float, steps: int) -> tuple[dict, float, float]:
    """Gradient descent from the identity through its exact symmetric dynamics (B8's recurrence on
    the eigenvalues of Phi): the instance, the smallest finite loss and its rounding allowance."""
    mu = np.linalg.eigvalsh(Phi)
    run = scalar_recurrence(mu, L, step, steps, keep_history=True)
    finite = run.loss[np.isfinite(run.loss)]
    least = float(finite.min())
    instance = {"c": None, "Phi": Phi, "L": L, "step": step, "steps": run.steps, "diverged": run.diverged,
                "start_radius": float(np.max(np.abs(run.history[0] - 1.0)))}
    return instance, least, coordinate_loss_atol(L, least, float(np.linalg.norm(mu)))


def check(c: float, Phi: np.ndarray, L: int, step: float, steps: int = FAST_STEPS) -> float:
    instance, least, atol = exact_run(Phi, L, step, steps)
    lam = -float(np.linalg.eigvalsh(Phi)[0])
    return evidence.check_lower(CLAIM, {**instance, "c": c, "min_loss": least}, lhs=least, rhs=loss_floor(lam),
                                rtol=0.0, atol=atol, size=L)


@given(witness=witnesses, half_L=st.integers(1, 8), factor=log_uniform(0.01, 4.0))
def test_no_iterate_gets_below_the_floor(witness, half_L, factor):
    """Any step, up to 4x the slide's (diverging runs are checked at every finite iterate)."""
    c, target = witness
    L = 2 * half_L
    check(c, target.Phi, L, factor * slide_step(target.Phi, L))


@given(witness=witnesses, half_L=st.integers(1, 3), factor=log_uniform(0.1, 2.0))
def test_full_gradient_descent_on_the_safe_horizon(witness, half_L, factor):
    """Full float gradient descent, on the horizon eta lambda T <= SADDLE_ESCAPE_SAFE before rounding
    can leave B8's invariant set (B7's notes): every iterate stays above lambda^2/2."""
    c, target = witness
    Phi, L = target.Phi, 2 * half_L
    lam = -float(np.linalg.eigvalsh(Phi)[0])
    step = factor * slide_step(Phi, L)
    # (lambda <= 0: rounding ate the negative eigenvalue; the hypothesis fails and the run is not counted)
    steps = FULL_STEPS if step * lam * FULL_STEPS <= SADDLE_ESCAPE_SAFE else int(SADDLE_ESCAPE_SAFE / (step * lam))
    run = gradient_descent(Phi, L, step, steps, keep_iterates=True)
    finite = run.loss[np.isfinite(run.loss)]
    least = float(finite.min())
    largest_layer = max(float(np.linalg.norm(layer, 2)) for iterate in run.iterates for layer in iterate)
    instance = {"c": c, "Phi": Phi, "L": L, "step": step, "steps": int(run.steps), "min_loss": least,
                "start_radius": start_radius(run.iterates[0])}
    evidence.check_lower(CLAIM, instance, lhs=least, rhs=loss_floor(lam), rtol=0.0,
                         atol=loss_rounding(len(Phi), L, largest_layer, float(np.linalg.norm(Phi))), size=L)


def test_witnesses_as_c_approaches_one_half():
    """The ceiling: for c down to 1/2 + 1e-3 a witness exists; its floor lambda^2/2 shrinks to 0 as c -> 1/2."""
    rows = []
    for c in (0.501, 0.51, 0.55, 0.625, 1.0, 2.0):
        Phi = symmetric_from_spectrum(witness_spectrum(c, 0.999, 2), 0).Phi
        slack = check(c, Phi, 2, slide_step(Phi, 2), steps=20 * FAST_STEPS)
        lam = 0.999 * largest_witness_lambda(c)
        rows.append([c, lam, initial_loss(Phi), loss_floor(lam), loss_floor(lam) * (1 + slack)])
    evidence.record_table(CLAIM, "witnesses as c approaches 1/2 (d = 2, L = 2, slide step, 40000 steps)",
                          ["c", "lambda", "loss(I)", "lambda^2/2", "min_t loss"], rows)


# --- sensitivity: the check shown able to fail ----------------------------------------------

def _falls_below(floor_of, *, odd: bool):
    def violates(args):
        (c, target), half_L = args
        L = 2 * half_L + 1 if odd else 2 * half_L
        instance, least, atol = exact_run(target.Phi, L, slide_step(target.Phi, L), FAST_STEPS)
        return least < floor_of(-float(np.linalg.eigvalsh(target.Phi)[0])) - atol
    return violates


def test_odd_depth_breaks_the_floor():
    """Dropped hypothesis: at odd L the product can reach the negative eigenvalue (at L = 1 at once;
    at odd L >= 3 the slide's step keeps x > 0, B7's positivity, so the loss stalls there too), and
    the loss falls below lambda^2/2, to 0."""
    expect_caught(CLAIM, "even depth dropped (odd L)", st.tuples(witnesses, st.integers(0, 3)),
                  _falls_below(loss_floor, odd=True))


def test_planted_floor_twice_too_high_is_caught():
    """Planted wrong constant: lambda^2 in place of lambda^2/2."""
    expect_caught(CLAIM, "floor lambda^2 in place of lambda^2/2", st.tuples(witnesses, st.integers(1, 3)),
                  _falls_below(lambda lam: 2 * loss_floor(lam), odd=False))


def test_planted_ceiling_below_one_half_is_caught():
    """Planted wrong ceiling: witnesses built for c = 0.45 < 1/2 (lambda = sqrt(0.9) - 1 < 0, i.e. no
    negative eigenvalue) do not block gradient descent: the loss goes to 0."""
    def violates(args):
        fraction, d, seed = args
        spectrum = witness_spectrum(0.45, fraction, d)
        target = symmetric_from_spectrum(spectrum, seed)
        instance, least, atol = exact_run(target.Phi, 2, slide_step(target.Phi, 2), FAST_STEPS)
        return least < loss_floor(math.sqrt(0.9) - 1) - atol

    expect_caught(CLAIM, "ceiling below 1/2 (c = 0.45)",
                  st.tuples(st.floats(0.01, 0.999), st.integers(1, 3), st.integers(0, 2**16)), violates)


def test_odd_depth_with_the_slide_step_measured():
    """Odd L with the slide's step (the issue's question): the coordinate x of the eigenvalue
    -lambda stays positive (B7's positivity: the slide's step satisfies its conditions at L >= 2),
    so x^L > 0 > -lambda and the loss stays above lambda^2 / 2 at odd L >= 3 too; x decays only
    algebraically (x_t ~ (eta lambda (L - 2) t)^(-1/(L - 2))), so the loss tends to lambda^2 / 2
    from above and the run stalls. L = 1 is the exception (x = -lambda is reached, loss -> 0)."""
    rows = []
    c = 0.55
    Phi = symmetric_from_spectrum(witness_spectrum(c, 0.999, 2), 0).Phi
    lam = -float(np.linalg.eigvalsh(Phi)[0])
    for L in (1, 3, 5, 7):
        step = slide_step(Phi, L)
        run = scalar_recurrence(np.linalg.eigvalsh(Phi), L, step, FAST_STEPS, keep_history=True)
        x = run.history[:, 0]
        ratio = float(run.loss.min() / loss_floor(lam))
        rows.append([L, lam, step, float(x.min()), float(x[-1]), ratio])
        if L >= 3:
            evidence.check_lower(CLAIM, {"c": c, "Phi": Phi, "L": L, "step": step, "steps": FAST_STEPS,
                                         "start_radius": 0.0, "min_loss": float(run.loss.min())},
                                 lhs=float(run.loss.min()), rhs=loss_floor(lam), rtol=0.0,
                                 atol=coordinate_loss_atol(L, float(run.loss.min()), float(np.linalg.norm(Phi))))
    evidence.record_table(CLAIM, f"odd depth, slide step, witness c = {c} (d = 2, {FAST_STEPS} steps, exact dynamics)",
                          ["L", "lambda", "step", "min_t x_t (coordinate of -lambda)", "x_T",
                           "min_t loss / (lambda^2/2)"], rows)
