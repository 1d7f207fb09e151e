"""B3 as a PL inequality: along GD from the identity, every step's loss ratio is at most the
PL + descent-lemma prediction 1 - eta mu_t (1 - beta_t eta/2); how conservative it is, per (d, L, eta)."""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from resclaims.claims.b3_polyak_lojasiewicz_rate import (
    CLAIM, CONTRACTION_RATIO_METRIC, DESCENT_FACTOR_METRIC, PL_FACTOR_METRIC, pl_modulus, predicted_ratio,
    segment_smoothness)
from resclaims.claims.engine import evidence, profiles
from resclaims.claims.engine.profiles import budget
from resclaims.impl.deep_linear import gradient, gradient_descent
from canaries import expect_caught, raises_violation
from strategies.convergence import DIRECTION_KINDS, make_direction
from tolerances import PL_STEP_FLOOR_HEADROOM, gd_loss_floor, pl_step_ratio_atol

#: GD steps per run at most (the runs of these tests reach the loss floor within about 150 steps).
MAX_STEPS = 300
#: Step sizes eta L of the runs (the largest, eta = 1/L, is exact at the identity: (1 - eta L)^2 = 0).
STEP_FRACTIONS = (0.25, 0.5, 1.0)
#: The measurement grid: (d, L) per eta L, one target Phi = I + 0.3 D per point (fixed seeds); the
#: nightly profile measures larger sizes.
GRID = [(d, L) for d in (2, 8) for L in (2, 8, 32)] + ([(16, 8), (4, 64)] if profiles.current_profile() == "nightly" else [])
GRID_DISTANCE = 0.3
#: The grid point whose per-step ratios are plotted.
SERIES_SIZE = (2, 8)


class PLSteps(NamedTuple):
    """Per-step quantities of one GD run (arrays over the checked steps t = 0 .. T - 1)."""

    loss: np.ndarray        # loss(t)
    loss_next: np.ndarray   # loss(t + 1)
    a: np.ndarray           # max_i (1 - sigma_min(Theta_i^(t)))
    cond: np.ndarray        # sigma_max / sigma_min over the layers of Theta^(t)
    grad_sq: np.ndarray     # ||grad loss(Theta^(t))||_F^2
    mu: np.ndarray
    beta: np.ndarray
    predicted: np.ndarray   # q_t
    floor: float


def pl_steps(Phi: np.ndarray, L: int, eta: float, *, mu_of=pl_modulus, beta_of=segment_smoothness) -> PLSteps:
    """Run GD (the engine, from the identity) until the loss is PL_STEP_FLOOR_HEADROOM above its
    rounding floor or MAX_STEPS, and compute the prediction of every step from its iterates."""
    d = Phi.shape[0]
    floor = gd_loss_floor(d, L, float(np.linalg.norm(Phi, 2)))
    run = gradient_descent(Phi, L, eta, MAX_STEPS, tol=PL_STEP_FLOOR_HEADROOM * floor,
                           record=("loss", "singular_values"), keep_iterates=True)
    sigma = run.singular_values  # (T + 1, L, d)
    rows = []
    for t in range(len(run.loss) - 1):  # every step whose both ends are finite
        loss = float(run.loss[t])
        g, _ = gradient(run.iterates[t], Phi)
        grad_sq = float(np.vdot(g, g))
        smallest, largest = float(sigma[t].min()), float(sigma[t].max())
        a = 1.0 - smallest
        M = max(largest, float(sigma[t + 1].max()))
        mu = mu_of(L, a) if a < 1 else 0.0
        beta = beta_of(L, M, math.sqrt(2.0 * loss), eta * math.sqrt(grad_sq))
        rows.append((loss, run.loss[t + 1], a, largest / smallest if smallest > 0 else math.inf, grad_sq, mu, beta,
                     predicted_ratio(eta, mu, beta)))
    columns = np.array(rows, dtype=float).reshape(-1, 8).T
    return PLSteps(*columns, floor=floor)


def step_instance(Phi, L, eta, steps: PLSteps, t: int) -> dict:
    """The recorded instance of step t (the hypotheses read a, eta and beta)."""
    return {"d": Phi.shape[0], "L": L, "eta": eta, "eta_L": eta * L, "t": t, "Phi": Phi,
            "a": float(steps.a[t]), "mu": float(steps.mu[t]), "beta": float(steps.beta[t]),
            "loss": float(steps.loss[t]), "loss_next": float(steps.loss_next[t]),
            "predicted_ratio": float(steps.predicted[t])}


def steps_held(Phi, L, eta, steps: PLSteps) -> np.ndarray:
    """Which steps hold the claim's hypotheses (a_t < 1, eta beta_t <= 2)."""
    return np.array([all(CLAIM.hypotheses_held(step_instance(Phi, L, eta, steps, t)).values())
                     for t in range(steps.loss.size)], dtype=bool)


def check_steps(Phi, L, eta, steps: PLSteps) -> float | None:
    """Check the PL rate on every step of one run; the step with the largest excess
    (r_t - q_t - atol_t) among those holding the hypotheses is recorded (a violating step, if any)."""
    d = Phi.shape[0]
    if steps.loss.size == 0:
        evidence.record_unmeasurable(CLAIM, {"d": d, "L": L, "eta": eta, "Phi": Phi},
                                     reason="loss(0) within rounding of 0: no step to check")
        return None
    held = steps_held(Phi, L, eta, steps)
    if not held.any():
        evidence.hypotheses_fail(CLAIM, step_instance(Phi, L, eta, steps, 0))
        return None
    observed = steps.loss_next / steps.loss
    atol = np.array([pl_step_ratio_atol(d, L, c, loss, steps.floor) for c, loss in zip(steps.cond, steps.loss)])
    t = int(np.argmax(np.where(held, observed - steps.predicted - atol, -np.inf)))
    contraction = (1.0 - observed) / (1.0 - steps.predicted)
    return evidence.check_upper(CLAIM, step_instance(Phi, L, eta, steps, t), lhs=float(observed[t]),
                                rhs=float(steps.predicted[t]), rtol=0.0, atol=float(atol[t]), size=L,
                                metrics={CONTRACTION_RATIO_METRIC: float(np.median(contraction[held]))})


def check(Phi, L, eta, **planted) -> float | None:
    """Run GD and check the PL rate on every step (``planted``: a wrong mu_of or beta_of)."""
    return check_steps(Phi, L, eta, pl_steps(Phi, L, eta, **planted))


class PLInstance(NamedTuple):
    """A GD run: target, depth and step (unpacks as ``Phi, L, eta``)."""

    Phi: np.ndarray
    L: int
    eta: float


@st.composite
def pl_instances(draw, *, max_d: int = 4, max_L: int = 8) -> PLInstance:
    """Phi = I + s D (D a unit direction of one of DIRECTION_KINDS, s in [0, 1/2]), eta = f / L with
    f in STEP_FRACTIONS. Shrinks toward d = L = 1 (where the prediction is exact), s = 1/2, eta L = 1/4."""
    d = draw(st.integers(1, max_d))
    L = draw(st.integers(1, max_L))
    fraction = draw(st.sampled_from(STEP_FRACTIONS))
    s = 0.5 * (1.0 - draw(st.floats(0.0, 1.0)))
    D = make_direction(draw(st.sampled_from(DIRECTION_KINDS)), d, np.random.default_rng(draw(st.integers(0, 2**32 - 1))))
    return PLInstance(np.eye(d) + s * D, L, fraction / L)


@given(inst=pl_instances())
@example(inst=PLInstance(np.array([[1.5]]), 1, 0.25))  # L = 1: PL and the descent lemma are equalities
@example(inst=PLInstance(np.diag([1.5, 0.5]), 4, 0.25))  # toward a singular target: a grows along the run
@example(inst=PLInstance(np.eye(3) + 0.3 * np.diag([1.0, -1.0, 0.0]), 16, 1 / 16))  # eta = 1/L
@settings(max_examples=budget(8))
def test_pl_rate_on_every_step(inst):
    """Random targets near the identity, sizes and steps; L = 1 (equality), a target toward
    singularity, and the largest step eta = 1/L."""
    check(*inst)


@pytest.mark.parametrize("eta_L", STEP_FRACTIONS)
def test_observed_against_predicted_rate(eta_L):
    """Per (d, L) of GRID at this eta L, on Phi = I + 0.3 D (seeded Gaussian D): every step checked,
    and the table of observed over predicted contraction with its PL and descent-lemma factors."""
    rows = []
    for d, L in GRID:
        Phi = np.eye(d) + GRID_DISTANCE * make_direction("gaussian", d, np.random.default_rng([d, L]))
        eta = eta_L / L
        steps = pl_steps(Phi, L, eta)
        check_steps(Phi, L, eta, steps)
        held = steps_held(Phi, L, eta, steps)
        observed = steps.loss_next / steps.loss
        contraction = ((1.0 - observed) / (1.0 - steps.predicted))[held]
        pl_factor = (steps.grad_sq / (steps.mu * steps.loss))[held]
        descent_factor = ((steps.loss - steps.loss_next) / (eta * (1 - 0.5 * steps.beta * eta) * steps.grad_sq))[held]
        observed_rate = -np.log(observed[held])
        predicted_rate = -np.log(steps.predicted[held])  # inf where q_t = 0 (eta L = 1 at the identity)
        rows.append([d, L, eta_L, int(steps.loss.size), int(held.sum()), float(steps.a.max()),
                     float(np.median(observed_rate)), float(np.median(predicted_rate)),
                     float(contraction.min()), float(np.median(contraction)), float(contraction.max()),
                     float(np.median(pl_factor)), float(np.median(descent_factor)), float((steps.beta * eta).max())])
        evidence.record_metric(CLAIM, "observed / predicted contraction, min over steps (min over grid)",
                               float(contraction.min()), reduce="min")
        evidence.record_metric(CLAIM, f"{PL_FACTOR_METRIC}, median over a run's steps (max over grid)",
                               float(np.median(pl_factor)), reduce="max")
        evidence.record_metric(CLAIM, f"{DESCENT_FACTOR_METRIC}, median over a run's steps (max over grid)",
                               float(np.median(descent_factor)), reduce="max")
        if (d, L) == SERIES_SIZE:
            t = np.arange(steps.loss.size)
            evidence.record_series(CLAIM, f"loss ratio per step, d = {d}, L = {L}, Phi = I + {GRID_DISTANCE} D",
                                   x_label="iteration t", y_label="loss(t+1) / loss(t)",
                                   curves={f"observed, eta L = {eta_L}": (t, observed),
                                           f"PL + descent lemma q_t, eta L = {eta_L}": (t, steps.predicted)})
    evidence.record_table(CLAIM, f"observed vs PL-predicted rate, Phi = I + {GRID_DISTANCE} D, eta L = {eta_L}",
                          ["d", "L", "eta L", "steps", "steps holding eta beta <= 2", "max a_t",
                           "observed -ln r_t (median)", "predicted -ln q_t (median)",
                           "(1-r)/(1-q) min", "(1-r)/(1-q) median", "(1-r)/(1-q) max",
                           "PL factor (median)", "descent factor (median)", "max eta beta_t"], rows)


# --- sensitivity: planted constants the check must catch ------------------------------------

def _mu_doubled(L, a):
    """Planted: mu = 4 L (1-a)^{2(L-1)}, twice the PL modulus."""
    return 2.0 * pl_modulus(L, a)


def _slide_mu(L, a):
    """Planted: the slide's B3 modulus 4 L (1-a)^{2L}."""
    return 2.0 * pl_modulus(L, a) * (1.0 - a) ** 2


def _no_curvature(L, layer_norm, residual_fro, step_length):
    """Planted: beta = 0 (the descent lemma's factor 1 - beta eta/2 dropped)."""
    return 0.0


@pytest.mark.parametrize("planted", [_mu_doubled, _slide_mu, _no_curvature])
def test_check_catches_planted_constant(planted):
    kwargs = {"beta_of": planted} if planted is _no_curvature else {"mu_of": planted}
    expect_caught(CLAIM, planted.__doc__.split(":", 1)[1].strip(), pl_instances(max_d=3, max_L=4),
                  lambda inst: raises_violation(check, *inst, **kwargs),
                  describe=lambda inst: f"d={inst.Phi.shape[0]}, L={inst.L}, eta L={inst.eta * inst.L:g}")
