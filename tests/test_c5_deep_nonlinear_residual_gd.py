"""C5 (observation): gradient descent from the identity (A_i = 0) on deep tanh / sigmoid residual
networks x + A sigma(B x), across depth, on realizable targets; measured against the linearised problem
at the start. The pass/fail parts: the backpropagated gradient (impl/residual_network.py) against
central differences, dQ/dB = 0 at A = 0, and a loss that never increases at the step 1/mu_max(K_0)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from resclaims.claims.engine import evidence, profiles
from resclaims.claims.c5_deep_nonlinear_residual_gd import (
    CLAIM, LINEARISATION_METRIC, NON_MONOTONE_METRIC, REACHED_METRIC, TARGET_REDUCTION, TARGET_SCALE,
    asymptotic_linearised_rate, feature_kernel, first_reached, linearised_floor, linearised_loss_curve, step_size,
    tail_rate)
from resclaims.impl.residual_layer import ResidualLayer, activation
from resclaims.impl.residual_network import ResidualNetwork
from canaries import raises_violation
from tolerances import C5_LINEARISED_CURVE_RTOL, C5_MONOTONE_RTOL, richardson_tol

NIGHTLY = profiles.current_profile() == "nightly"

#: The sample: n points in R^d, hidden width k (small, so that a GD step costs ~L x 0.1 ms).
N_SAMPLES, DIM, WIDTH = 32, 2, 8
#: Depths, seeds, activations and the GD budget (ci small; the nightly profile goes to L = 32).
DEPTHS = (1, 2, 4, 8, 16, 32) if NIGHTLY else (1, 2, 4, 8)
SEEDS = (0, 1, 2) if NIGHTLY else (0, 1)
ACTIVATIONS = ("tanh", "sigmoid") if NIGHTLY else ("tanh",)
STEPS = 2000 if NIGHTLY else 150
#: Central differences of the gradient: steps t and 2t (Richardson estimate), random directions.
FD_STEP, FD_DIRECTIONS = 1e-5, 3
#: The canary's step: beyond the linearised problem's stability limit 2 / mu_max.
UNSTABLE_STEP_FACTOR = 2.5

TABLE = "GD from the identity per depth and seed"
COLUMNS = ["activation", "L", "seed", "eta", "eta L", "Q(0)", "Q(T)/Q(0)", "linearised loss(T)/Q(0)",
           "linearised floor/Q(0)",
           "tail rate", "linearised tail rate", "linearised asymptotic rate -2 ln(1 - eta mu_min+)",
           f"first t with Q <= {TARGET_REDUCTION:g} Q(0)", "monotone", "max_i ||A_i(T)||_2",
           "max_i ||B_i(T) - B_i(0)||_2"]


@dataclass(frozen=True)
class Problem:
    """One run's data: the sample, the realizable target Y = g(X), the start (A = 0) and its features."""

    X: np.ndarray
    Y: np.ndarray
    start: ResidualNetwork
    activation: str
    L: int
    seed: int

    @property
    def features(self) -> np.ndarray:
        """F = [sigma(X B_1^T), ..., sigma(X B_L^T)] at the start (all layers see X, since A = 0)."""
        return np.concatenate([activation(self.activation, self.X @ f.B.T) for f in self.start.layers], axis=1)


def make_problem(L: int, seed: int, act: str) -> Problem:
    """X Gaussian (n x d); g of depth L with A^g = (TARGET_SCALE / L) G / sqrt(k), B^g = G / sqrt(d);
    start A = 0, B = G / sqrt(d), from independent streams of one seed."""
    sample, target, start = (np.random.default_rng([seed, L, stream]) for stream in range(3))
    X = sample.standard_normal((N_SAMPLES, DIM))

    def input_weights(rng):
        return rng.standard_normal((WIDTH, DIM)) / math.sqrt(DIM)

    g = ResidualNetwork([ResidualLayer(TARGET_SCALE / L * target.standard_normal((DIM, WIDTH)) / math.sqrt(WIDTH),
                                       input_weights(target), act) for _ in range(L)])
    net = ResidualNetwork([ResidualLayer(np.zeros((DIM, WIDTH)), input_weights(start), act) for _ in range(L)])
    return Problem(X, g(X), net, act, L, seed)


def run_gradient_descent(problem: Problem, eta: float, steps: int) -> tuple[np.ndarray, ResidualNetwork]:
    """GD on theta with impl's backpropagated gradient; the losses Q(0..T) and the last network
    (stops early, with the losses so far, if the parameters become non-finite)."""
    net, X, Y = problem.start, problem.X, problem.Y
    theta, losses = net.parameters(), [net.risk(X, Y)]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            theta = theta - eta * net.gradient_vector(X, Y)
            if not np.all(np.isfinite(theta)):
                losses.append(math.inf)
                break
            net = net.with_parameters(theta)
            losses.append(net.risk(X, Y))  # inf on overflow: the run then stops below
            if not math.isfinite(losses[-1]):
                break
    return np.array(losses), net


def run_instance(problem: Problem, eta: float, mu_max: float, steps: int) -> dict:
    """The recorded instance (builtins): what the hypotheses read, plus the run's settings."""
    return {"activation": problem.activation, "L": problem.L, "seed": problem.seed, "n": N_SAMPLES, "d": DIM,
            "k": WIDTH, "eta": eta, "mu_max": mu_max, "eta L": eta * problem.L, "steps": steps,
            "max |A_i(0)|": float(max(np.abs(f.A).max() for f in problem.start.layers)),
            "target depth": problem.L, "target scale": TARGET_SCALE}


# --- the checks ---------------------------------------------------------------------------------

def central_difference_check(instance: dict, net: ResidualNetwork, X, Y, gradient=None) -> float:
    """<grad Q, E> (impl's backpropagation, or ``gradient``) against central differences along
    FD_DIRECTIONS random directions E, within richardson_tol (truncation from steps t and 2t, rounding)."""
    theta = net.parameters()
    grad = net.gradient_vector(X, Y) if gradient is None else gradient(net, X, Y)
    directions = np.random.default_rng([instance["seed"], instance["L"], 7]).standard_normal(
        (FD_DIRECTIONS, theta.size))

    def difference(E, t):
        plus, minus = net.with_parameters(theta + t * E), net.with_parameters(theta - t * E)
        return (plus.risk(X, Y) - minus.risk(X, Y)) / (2 * t)

    fd = np.array([[difference(E, FD_STEP), difference(E, 2 * FD_STEP)] for E in directions])
    tol = max(richardson_tol(a, b, net.risk(X, Y) + 1.0, FD_STEP) for a, b in fd)
    return evidence.check_allclose(CLAIM, {**instance, "point": "after the run (A != 0)"}, actual=directions @ grad,
                                   desired=fd[:, 0], rtol=0.0, atol=tol,
                                   what="<grad Q, E> (backpropagation) against central differences")


def check_monotone(instance: dict, losses: np.ndarray, held=None) -> bool:
    """Q(t+1) <= Q(t) for every step, up to C5_MONOTONE_RTOL relative (rounding of Q); ``held`` as in
    the evidence API (the canary's run breaks the step rule on purpose)."""
    monotone = bool(np.all(losses[1:] <= losses[:-1] * (1.0 + C5_MONOTONE_RTOL)))
    evidence.check_true(CLAIM, {**instance, "largest increase Q(t+1)/Q(t)": float(np.max(losses[1:] / losses[:-1]))},
                        holds=monotone, what="loss non-increasing at every step", held=held)
    return monotone


def curve_points(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most ~120 log-spaced iterations of a curve (the JSON keeps the points)."""
    t = np.unique(np.concatenate([[0], np.geomspace(1, values.size - 1, 120).astype(int)]))
    return t, values[t]


def table_row(problem: Problem, eta: float, losses: np.ndarray, linear: np.ndarray, net: ResidualNetwork,
              monotone: bool) -> list:
    """One row of TABLE (COLUMNS) for a run and its linearised counterpart."""
    F, R0 = problem.features, problem.X - problem.Y
    reached = first_reached(losses)
    return [problem.activation, problem.L, problem.seed, eta, eta * problem.L, float(losses[0]),
            float(losses[-1] / losses[0]), float(linear[-1] / linear[0]), linearised_floor(F, R0) / float(losses[0]),
            tail_rate(losses), tail_rate(linear), asymptotic_linearised_rate(F, eta),
            "no" if reached is None else reached, monotone,
            max(float(np.linalg.norm(f.A, 2)) for f in net.layers),
            max(float(np.linalg.norm(f.B - f0.B, 2)) for f, f0 in zip(net.layers, problem.start.layers))]


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("L", DEPTHS)
def test_gradient_descent_from_the_identity(act, L):
    """Per seed: GD for STEPS steps at eta = 1/mu_max(K_0) from A = 0; the table row, the loss curves
    against the linearised problem's, the gradient against central differences at the end, and
    monotonicity."""
    rows, curves = [], {}
    for seed in SEEDS:
        problem = make_problem(L, seed, act)
        X, Y, F = problem.X, problem.Y, problem.features
        eta = step_size(F)
        instance = run_instance(problem, eta, 1.0 / eta, STEPS)
        # A = 0 is stationary in B: dQ/dB_i = ((g A_i) * sigma'(B_i z))^T z = 0 exactly
        dB_start = np.concatenate([dB.ravel() for _, dB in problem.start.gradient(X, Y)])
        evidence.check_equal(CLAIM, {**instance, "point": "start"}, actual=float(np.abs(dB_start).max()),
                             expected=0.0, what="max |dQ/dB_i| at A = 0")
        losses, net = run_gradient_descent(problem, eta, STEPS)
        linear = linearised_loss_curve(F, X - Y, eta, STEPS)
        monotone = check_monotone(instance, losses)
        central_difference_check(instance, net, X, Y)
        rows.append(table_row(problem, eta, losses, linear, net, monotone))
        evidence.record_metric(CLAIM, LINEARISATION_METRIC, abs(math.log(losses[-1] / linear[-1])))
        evidence.record_metric(CLAIM, NON_MONOTONE_METRIC, int(not monotone), reduce="sum")
        evidence.record_metric(CLAIM, REACHED_METRIC, int(first_reached(losses) is not None), reduce="sum")
        evidence.record_metric(CLAIM, f"{act}, L = {L}: Q(T)/Q(0) (max over seeds)", float(losses[-1] / losses[0]))
        evidence.record_metric(CLAIM, f"{act}, L = {L}: tail rate (min over seeds)", tail_rate(losses),
                               reduce="min")
        if seed == SEEDS[0]:
            curves[f"L = {L:2d}, GD"] = curve_points(losses / losses[0])
            curves[f"L = {L:2d}, linearised"] = curve_points(linear / linear[0])
    evidence.record_table(CLAIM, TABLE, COLUMNS, rows)
    evidence.record_series(CLAIM, f"{act}: Q(t)/Q(0), seed {SEEDS[0]}", x_label="iteration t",
                           y_label="Q(t)/Q(0)", curves=curves, log_y=True)


# --- sensitivity --------------------------------------------------------------------------------

def test_central_differences_catch_a_wrong_gradient():
    """Planted: the last layer's dQ/dB doubled (a factor-2 slip in backpropagation through sigma');
    the central-difference check must fail at a point with A != 0 (after 20 GD steps, L = 2)."""
    problem = make_problem(2, 0, "tanh")
    eta = step_size(problem.features)
    _, net = run_gradient_descent(problem, eta, 20)

    def doubled_last_dB(net, X, Y):
        grad = net.gradient_vector(X, Y)
        grad[-net.layers[-1].B.size:] *= 2.0
        return grad

    instance = run_instance(problem, eta, 1.0 / eta, 20)
    with evidence.scratch():
        caught = raises_violation(central_difference_check, instance, net, problem.X, problem.Y, doubled_last_dB)
    evidence.record_canary(CLAIM, "last layer's dQ/dB doubled", caught=caught,
                           detail="central differences along 3 random directions, L = 2 after 20 steps")


def test_monotonicity_check_catches_an_unstable_step():
    """Planted: the step 2.5 / mu_max(K_0), beyond the linearised problem's stability limit 2 / mu_max:
    the loss must increase at some step within 40 steps (L = 1)."""
    problem = make_problem(1, 0, "tanh")
    eta = UNSTABLE_STEP_FACTOR * step_size(problem.features)
    losses, _ = run_gradient_descent(problem, eta, 40)
    instance = run_instance(problem, eta, 1.0 / step_size(problem.features), 40)
    with evidence.scratch():
        caught = raises_violation(check_monotone, instance, losses, {"planted step eta = 2.5 / mu_max": True})
    evidence.record_canary(CLAIM, "step 2.5/mu_max (beyond the stability limit)", caught=caught,
                           detail=f"largest Q(t+1)/Q(t) = {float(np.max(losses[1:] / losses[:-1])):.3g}")


def test_linearised_curve_matches_gradient_descent_on_the_linear_model():
    """The closed form of the linearised loss curve against 30 explicit GD steps on W (the formula of
    the comparison column, checked as an identity)."""
    problem = make_problem(2, 1, "tanh")
    F, R0 = problem.features, problem.X - problem.Y
    eta, n = step_size(F), N_SAMPLES
    W, explicit = np.zeros((F.shape[1], DIM)), []
    for _ in range(31):
        residual = R0 + F @ W
        explicit.append(0.5 / n * float(np.sum(residual ** 2)))
        W = W - eta * F.T @ residual / n
    instance = run_instance(problem, eta, float(np.linalg.eigvalsh(feature_kernel(F))[-1]), 30)

    def check_curve(curve):
        evidence.check_allclose(CLAIM, instance, actual=curve, desired=explicit, rtol=C5_LINEARISED_CURVE_RTOL,
                                what="closed-form linearised loss curve against explicit GD")

    check_curve(linearised_loss_curve(F, R0, eta, 30))
    # planted: the residual's contraction (1 - eta mu)^t taken for the loss's (1 - eta mu)^(2t)
    wrong_power = linearised_loss_curve(F, R0, eta / 2, 30)  # (1 - eta mu / 2)^(2t) ~ (1 - eta mu)^t
    with evidence.scratch():
        caught = raises_violation(check_curve, wrong_power)
    evidence.record_canary(CLAIM, "linearised curve at half the step (the residual's power t for 2t)",
                           caught=caught, detail="explicit GD on the linear model, 30 steps, L = 2")
