"""C3 caveat, realizable case [BEL18, abstract]: suboptimal stationary points of near-identity
residual networks whose target is computed exactly by the same architecture. Two families (the
claim's docstring derives them): sigmoid theta = 0 with a centred realizable target (a strict
saddle) and ReLU with every unit dead on the sample (a flat local minimum); each also checked
in exact rational arithmetic on a witness."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from hypothesis import given, strategies as st

from resclaims.claims.engine import evidence
from resclaims.claims.c3_realizable_bad_stationary_point import CLAIM, negative_curvature_direction, zero_network_hessian
from resclaims.impl.functional_gradient import CompositionRisk
from resclaims.impl.residual_layer import ResidualLayer
from resclaims.impl.residual_network import ResidualNetwork
from canaries import raises_violation
from strategies.layers import CompositionCase, make_dead_relu_case
from strategies.maps import composition_instance
from tolerances import (BOUND_RTOL, SADDLE_DRIFT_RTOL, realizable_stationarity_atol, richardson_tol,
                        second_difference_tol)

SUBOPTIMAL = "suboptimal: Q(theta) > 0 = Q(theta*)"
STATIONARY = "max |grad_theta Q(theta)|"
DIRECTIONAL = "|central difference of Q along E - <grad, E>| / richardson_tol"
HESSIAN = "max over directions D of |second difference of Q along D - D^T H D| / tolerance"

#: Difference steps: first differences of Q along a random unit direction (stationarity,
#: independently of back-propagation), second differences along unit directions (the Hessian).
RISK_STEP = 1e-5
HESSIAN_STEP = 1e-3

#: Steps of gradient descent (eta = 1) from the sigmoid saddle and from a perturbation of it.
SADDLE_STEPS = 50

#: Random unit directions of the second-order checks (besides the negative-curvature certificate),
#: and the step of the ReLU local-constancy check (far inside the dead units' margin, >= 0.1).
CURVATURE_DIRECTIONS = 3
RELU_STEP = 1e-4


@dataclass(frozen=True, eq=False)
class RealizableCase:
    r"""A network :math:`\theta` (``network.layers``) with its sample, and the target network
    :math:`\theta^*` of the same architecture with ``network.Y`` = :math:`h_{\theta^*}(X)`."""

    network: CompositionCase
    target: tuple

    def __repr__(self) -> str:
        return repr(self.network)


def sigmoid(u):
    return 0.5 * (1.0 + np.tanh(0.5 * u))


def make_centred_sigmoid_case(*, m: int, d: int, k: int, n: int, seed: int, epsilon: float = 0.5,
                              b_scale: float = 1.0, centred: bool = True) -> RealizableCase:
    r"""Sigmoid, :math:`\theta = 0`, target :math:`\theta^*` with :math:`A^*_l\bar s_l = 0` per layer.

    :math:`B^*_l` = ``b_scale`` x Gaussian; :math:`\bar s_l` the mean of :math:`\sigma(B^*_l z)` over the
    layer's input sample; :math:`A^*_l = G(I - \bar s\bar s^\top/\|\bar s\|^2)` (``centred``; else
    :math:`G`, a broken construction for sensitivity checks) rescaled to the certified bound
    :math:`\varepsilon_l \in [\varepsilon/2, \varepsilon]`. Needs ``k >= 2`` and ``n >= 2``."""
    rng = np.random.default_rng([seed, 43])
    X = rng.standard_normal((n, d))
    Z, target = X, []
    for _ in range(m):
        B = b_scale * rng.standard_normal((k, d))
        s = sigmoid(Z @ B.T).mean(axis=0)
        G = rng.standard_normal((d, k))
        A0 = G - np.outer(G @ s, s) / (s @ s) if centred else G
        layer_epsilon = epsilon * rng.uniform(0.5, 1.0)
        layer = ResidualLayer(A0 * (layer_epsilon / ResidualLayer(A0, B, "sigmoid").residual_lipschitz_bound()), B, "sigmoid")
        target.append(layer)
        Z = layer(Z)
    network = tuple(ResidualLayer(np.zeros((d, k)), np.zeros((k, d)), "sigmoid") for _ in range(m))
    recipe = (f"make_centred_sigmoid_case(m={m}, d={d}, k={k}, n={n}, seed={seed}, epsilon={epsilon!r}, "
              f"b_scale={b_scale!r}" + ("" if centred else ", centred=False") + ")")
    return RealizableCase(CompositionCase(network, X, ResidualNetwork(target)(X), "sigmoid", seed, recipe), tuple(target))


def make_dead_relu_realizable_case(*, m: int, d: int, k: int, n: int, seed: int, alpha: float = 0.5) -> RealizableCase:
    r"""ReLU: the network of ``make_dead_relu_case`` (every unit dead on the sample), the target
    network the same with :math:`B^*_l = -B_l` (units alive, same certified bound ``alpha``)."""
    dead = make_dead_relu_case(m=m, d=d, k=k, n=n, seed=seed, alpha=alpha)
    target = tuple(ResidualLayer(f.A, -f.B, "relu") for f in dead.layers)
    recipe = f"make_dead_relu_realizable_case(m={m}, d={d}, k={k}, n={n}, seed={seed}, alpha={alpha!r})"
    return RealizableCase(CompositionCase(dead.layers, dead.X, ResidualNetwork(target)(dead.X), "relu", seed, recipe), target)


@st.composite
def realizable_stationary_points(draw) -> RealizableCase:
    """Both families, over depth, dimension, width, sample size, epsilon and the weights' scale."""
    args = dict(m=draw(st.integers(1, 3)), d=draw(st.integers(1, 3)), seed=draw(st.integers(0, 2**32 - 1)))
    if draw(st.sampled_from(("sigmoid", "relu"))) == "sigmoid":
        return make_centred_sigmoid_case(k=draw(st.integers(2, 3)), n=draw(st.integers(2, 10)),
                                         epsilon=draw(st.floats(0.01, 0.95)), b_scale=draw(st.floats(0.2, 3.0)), **args)
    return make_dead_relu_realizable_case(k=draw(st.integers(1, 3)), n=draw(st.integers(1, 10)),
                                          alpha=draw(st.floats(0.01, 0.95)), **args)


def same_architecture(network, target) -> bool:
    return len(network) == len(target) and all(
        f.A.shape == g.A.shape and f.B.shape == g.B.shape and f.activation == g.activation for f, g in zip(network, target))


def realizable_instance(case: RealizableCase, risk: CompositionRisk) -> dict:
    """The claim's instance: the composition's data (its ``recipe`` rebuilds both networks), both
    networks' certified epsilon, and the realizability gap max |h_theta*(x_j) - y_j| recomputed
    from the target network."""
    net = case.network
    target_epsilon = max(f.residual_lipschitz_bound() for f in case.target)
    return {**composition_instance(net, risk), "k": net.layers[0].k, "activation": net.kind,
            "epsilon": max(net.epsilon, target_epsilon), "epsilon_network": net.epsilon, "epsilon_target": target_epsilon,
            "same_architecture": same_architecture(net.layers, case.target),
            "realizability_gap": float(np.max(np.abs(ResidualNetwork(case.target)(net.X) - net.Y)))}


def directional_error(net: ResidualNetwork, X, Y, grad: np.ndarray, seed: int) -> float:
    """|(Q(theta + tE) - Q(theta - tE))/2t - <grad, E>| / richardson_tol, E a random unit vector."""
    theta = net.parameters()
    E = np.random.default_rng([seed, 47]).standard_normal(theta.size)
    E /= np.linalg.norm(E)
    fd = [(net.with_parameters(theta + t * E).risk(X, Y) - net.with_parameters(theta - t * E).risk(X, Y)) / (2 * t)
          for t in (RISK_STEP, 2 * RISK_STEP)]
    return abs(fd[0] - grad @ E) / richardson_tol(fd[0], fd[1], net.risk(X, Y) + 1.0, RISK_STEP)


def unit_directions(size: int, count: int, seed: int) -> list[np.ndarray]:
    """``count`` random unit vectors of R^size (seeded)."""
    E = np.random.default_rng([seed, 53]).standard_normal((count, size))
    return list(E / np.linalg.norm(E, axis=1, keepdims=True))


def second_differences(net: ResidualNetwork, X, Y, direction: np.ndarray, t: float) -> float:
    """(Q(theta + t D) + Q(theta - t D) - 2 Q(theta)) / t^2 = D^T Hessian D + O(t^2)."""
    theta = net.parameters()
    return (net.with_parameters(theta + t * direction).risk(X, Y) + net.with_parameters(theta - t * direction).risk(X, Y)
            - 2.0 * net.risk(X, Y)) / t ** 2


def residual_moment(X, Y) -> np.ndarray:
    r""":math:`C = \frac1n\sum_j x_j (x_j - y_j)^\top` (the residual of :math:`\theta = 0` is :math:`x - y`)."""
    return X.T @ (X - Y) / X.shape[0]


def check_witness(case: RealizableCase, gradient=None, hessian=zero_network_hessian) -> dict:
    """Stationary (back-propagation and, independently, central differences of Q), suboptimal
    with Q(theta*) = 0, the second order (sigmoid: closed-form Hessian against differences, a
    strict saddle; ReLU: Hessian exactly 0), and the function-space contrast."""
    c = case.network
    X, Y, (n, d), m = c.X, c.Y, c.X.shape, len(c.layers)
    net = ResidualNetwork(c.layers)
    risk = CompositionRisk(c.layers, X, Y)
    instance = realizable_instance(case, risk)
    grad = net.gradient_vector(X, Y) if gradient is None else gradient(net, X, Y)
    scale = max(1.0, float(np.abs(X).max()), float(np.abs(Y).max()))
    evidence.check_close(CLAIM, instance, error=float(np.abs(grad).max()), tol=realizable_stationarity_atol(n, d, m, scale),
                         what=STATIONARY)
    evidence.check_close(CLAIM, instance, error=directional_error(net, X, Y, grad, c.seed % 2**32), tol=1.0, what=DIRECTIONAL)
    q, q_star = net.risk(X, Y), ResidualNetwork(case.target).risk(X, Y)
    evidence.check_equal(CLAIM, instance, actual=q_star, expected=0.0, what="Q(theta*) (the global minimum)")
    evidence.check_true(CLAIM, instance, holds=q > 0.0, what=SUBOPTIMAL)
    out = {"instance": instance, "Q": q, "grad": float(np.abs(grad).max())}
    directions = unit_directions(net.parameters().size, CURVATURE_DIRECTIONS, c.seed % 2**32)
    if c.kind == "sigmoid":
        if np.any(net.parameters()):
            raise ValueError(f"the closed-form Hessian is that of theta = 0; {c!r} is another point")
        k = c.layers[0].k
        H = np.asarray(hessian(residual_moment(X, Y), m, k), dtype=float)
        certificate = negative_curvature_direction(residual_moment(X, Y), m, k)
        certificate = certificate / np.linalg.norm(certificate)
        ratios = []
        for D in [certificate] + directions:
            s_t, s_2t = (second_differences(net, X, Y, D, t) for t in (HESSIAN_STEP, 2 * HESSIAN_STEP))
            ratios.append(abs(s_t - D @ H @ D) / second_difference_tol(s_t, s_2t, q + scale * np.sqrt(2 * q), HESSIAN_STEP))
        evidence.check_close(CLAIM, instance, error=max(ratios), tol=1.0, what=HESSIAN)
        out.update(lambda_min=float(np.linalg.eigvalsh(H)[0]), curvature=float(certificate @ H @ certificate), kind="strict saddle")
        # lambda_min <= the certificate's curvature = -||C^T b||^2 / ||Delta||^2 (a few exact-zero and
        # rounding-relative terms): its sign is certain whenever C != 0, unlike a tiny eigenvalue's.
        evidence.check_true(CLAIM, instance, holds=out["curvature"] < 0.0,
                            what="strict saddle: Delta^T H Delta < 0 along the certificate (so lambda_min(Hessian) < 0)")
        evidence.record_metric(CLAIM, "sigmoid: max over instances of lambda_min(Hessian) (closest to flat)", out["lambda_min"])
    else:
        pre_activation = max(float((Z @ f.B.T).max()) for Z, f in zip(risk.states[:-1], c.layers))
        evidence.check_true(CLAIM, {**instance, "max pre-activation of theta": pre_activation}, holds=pre_activation < 0.0,
                            what="ReLU: every unit of theta dead on the sample (B_k z_(k-1) < 0)")
        theta = net.parameters()
        changes = [abs(net.with_parameters(theta + s * RELU_STEP * D).risk(X, Y) - q) for D in directions for s in (1, -1)]
        out.update(lambda_min=0.0, curvature=0.0, kind="flat local minimum")
        evidence.check_equal(CLAIM, instance, actual=max(changes), expected=0.0,
                             what=f"ReLU: max |Q(theta +- {RELU_STEP} D) - Q(theta)| (locally constant: Hessian 0)")
    derivative_norms = [risk.derivative_norm(i) for i in range(1, m + 1)]
    out["functional"] = min(derivative_norms)
    evidence.check_true(CLAIM, instance, holds=out["functional"] > 0.0,
                        what="function space: min_i ||D_(h_i) Q(h_theta)|| > 0 (a downhill direction exists there)")
    evidence.record_metric(CLAIM, f"{c.kind}: min over instances of Q(theta)", q, reduce="min")
    evidence.record_metric(CLAIM, f"{c.kind}: min over instances of min_i ||D_(h_i) Q(h_theta)||", out["functional"], reduce="min")
    evidence.record_metric(CLAIM, f"{c.kind}: max over instances of epsilon (theta and theta*)", instance["epsilon"])
    return out


@given(case=realizable_stationary_points())
def test_realizable_suboptimal_stationary_points(case):
    check_witness(case)


# --- exact rational witnesses ---------------------------------------------------------------

def exact(a) -> np.ndarray:
    """A float (or integer) array as an object array of exact ``Fraction``."""
    return np.vectorize(Fraction, otypes=[object])(np.asarray(a))


def exact_relu(U):
    return np.vectorize(lambda u: max(u, Fraction(0)), otypes=[object])(U)


def exact_relu_slope(U):
    return np.vectorize(lambda u: Fraction(int(u > 0)), otypes=[object])(U)


def exact_sigmoid_ln2(U):
    r""":math:`\sigma(t\ln 2) = 2^t/(2^t + 1)`, exact for integer ``t`` (pre-activations in units of ln 2)."""
    def value(t):
        if t.denominator != 1:
            raise ValueError(f"the exact sigmoid needs an integer multiple of ln 2, got {t}")
        p = Fraction(2) ** int(t)
        return p / (p + 1)
    return np.vectorize(value, otypes=[object])(U)


def exact_sigmoid_ln2_slope(U):
    """sigma' = sigma (1 - sigma), as a derivative in the pre-activation itself (not in units of ln 2)."""
    S = exact_sigmoid_ln2(U)
    return S * (1 - S)


def exact_forward(layers, X, sigma) -> list:
    """States z_0 = X, ..., z_m of h_k(z) = z + A_k sigma(B_k z), in exact arithmetic."""
    states = [X]
    for A, B in layers:
        states.append(states[-1] + sigma(states[-1] @ B.T) @ A.T)
    return states


def exact_gradient(layers, X, Y, sigma, slope) -> list:
    """Back-propagation in exact arithmetic (an oracle independent of ``impl``): the gradient of
    Q = (1/2n) sum_j ||h(x_j) - y_j||^2 in (A_k, B_k), per layer. With ``exact_sigmoid_ln2`` the
    weights B are read in units of ln 2, which rescales the B-terms; it is used at theta = 0 only,
    where every term carrying B or sigma' has the factor A = 0."""
    states = exact_forward(layers, X, sigma)
    g = (states[-1] - Y) / X.shape[0]
    grads = []
    for (A, B), Z in zip(reversed(layers), reversed(states[:-1])):
        U = Z @ B.T
        gu = (g @ A) * slope(U)
        grads.append((g.T @ sigma(U), gu.T @ Z))
        g = g + gu @ B
    return grads[::-1]


def exact_risk(Z, Y) -> Fraction:
    R = Z - Y
    return sum((R * R).ravel(), Fraction(0)) / (2 * Z.shape[0])


#: The rational sigmoid witness: d = 2, width 2, depth 2, n = 4 integer inputs; the target's first
#: layer has integer B (in units of ln 2), so every sigmoid value 2^t / (2^t + 1) is rational, and
#: A = a (s_2, -s_1) with s the mean hidden activation; its second layer is the identity (A = B = 0).
WITNESS_X = [[-2, 1], [-1, -1], [1, 2], [3, 0]]
WITNESS_B_LN2 = [[1, 0], [-1, 2]]
WITNESS_a = [Fraction(1, 2), Fraction(-1, 3)]


def rational_sigmoid_witness():
    """(exact target layers, exact X, exact Y, the float RealizableCase of the same witness)."""
    X = exact(WITNESS_X)
    B1 = exact(WITNESS_B_LN2)
    s = exact_sigmoid_ln2(X @ B1.T).mean(axis=0)
    A1 = np.array([[a * s[1], -a * s[0]] for a in WITNESS_a], dtype=object)
    zero = exact(np.zeros((2, 2), dtype=int))
    target = [(A1, B1), (zero, zero)]
    Y = exact_forward(target, X, exact_sigmoid_ln2)[-1]
    floats = tuple(ResidualLayer(np.asarray(A, dtype=float), np.log(2.0) * np.asarray(B, dtype=float), "sigmoid")
                   for A, B in target)
    Xf = np.asarray(WITNESS_X, dtype=float)
    network = tuple(ResidualLayer(np.zeros((2, 2)), np.zeros((2, 2)), "sigmoid") for _ in range(2))
    case = RealizableCase(CompositionCase(network, Xf, ResidualNetwork(floats)(Xf), "sigmoid", 0,
                                          "rational sigmoid witness (WITNESS_X, WITNESS_B_LN2, WITNESS_a)"), floats)
    return target, X, Y, case


def exact_zero_gradient(grads) -> bool:
    return all(all(v == 0 for v in G.ravel()) for pair in grads for G in pair)


def test_rational_sigmoid_witness_is_an_exact_strict_saddle():
    """At theta = 0: the gradient is exactly 0, Q(0) > 0 = Q(theta*), and a rational direction of
    strictly negative curvature of the exact Hessian (closed form, checked against differences
    in the float mirror below)."""
    target, X, Y, case = rational_sigmoid_witness()
    zero = exact(np.zeros((2, 2), dtype=int))
    grads = exact_gradient([(zero, zero), (zero, zero)], X, Y, exact_sigmoid_ln2, exact_sigmoid_ln2_slope)
    q = exact_risk(X, Y)
    C = X.T @ (X - Y) / X.shape[0]
    direction = negative_curvature_direction(C, 2, 2)
    curvature = direction @ zero_network_hessian(C, 2, 2) @ direction
    instance = {**check_witness(case)["instance"], "exact Q(0)": str(q), "exact curvature": str(curvature)}
    evidence.check_true(CLAIM, instance, holds=exact_zero_gradient(grads), what="exact gradient at theta = 0 is 0")
    evidence.check_true(CLAIM, instance, holds=q > 0, what="exact " + SUBOPTIMAL)
    evidence.check_true(CLAIM, instance, holds=curvature < 0, what="exact negative curvature Delta^T H Delta < 0")
    evidence.check_equal(CLAIM, instance, actual=curvature, expected=-sum(C[int(np.argmax([float(r @ r) for r in C]))] ** 2),
                         what="Delta^T H Delta = -||C^T b||^2 (the direction's design)")
    evidence.record_metric(CLAIM, "rational sigmoid witness: exact Q(0)", float(q))
    evidence.record_metric(CLAIM, "rational sigmoid witness: exact Delta^T H Delta / ||Delta||^2",
                           float(curvature / (direction @ direction)))


def test_rational_relu_witness_is_an_exact_flat_minimum():
    """Every pre-activation of theta on the sample is < 0 in exact arithmetic (so Q is constant
    near theta: gradient and Hessian exactly 0), the exact gradient is 0, and Q > 0 = Q(theta*)."""
    case = make_dead_relu_realizable_case(m=2, d=2, k=2, n=5, seed=0)
    c = case.network
    X = exact(c.X)
    network = [(exact(f.A), exact(f.B)) for f in c.layers]
    target = [(exact(f.A), exact(f.B)) for f in case.target]
    Y = exact_forward(target, X, exact_relu)[-1]
    states = exact_forward(network, X, exact_relu)
    margin = max(max((Z @ B.T).ravel()) for Z, (_, B) in zip(states[:-1], network))
    grads = exact_gradient(network, X, Y, exact_relu, exact_relu_slope)
    q = exact_risk(states[-1], Y)
    instance = {**check_witness(case)["instance"], "exact max pre-activation": float(margin), "exact Q(theta)": float(q)}
    evidence.check_true(CLAIM, instance, holds=margin < 0, what="exact: every ReLU unit of theta dead on the sample")
    evidence.check_true(CLAIM, instance, holds=exact_zero_gradient(grads), what="exact gradient at theta is 0")
    evidence.check_true(CLAIM, instance, holds=q > 0 and exact_risk(exact_forward(target, X, exact_relu)[-1], Y) == 0,
                        what="exact " + SUBOPTIMAL)
    evidence.record_metric(CLAIM, "rational ReLU witness: exact max pre-activation (< 0: dead)", float(margin))


#: The reproducible instances of the report's table.
TABLE_CASES = (make_centred_sigmoid_case(m=2, d=2, k=2, n=6, seed=0), make_centred_sigmoid_case(m=3, d=3, k=3, n=8, seed=1, epsilon=0.9),
               make_dead_relu_realizable_case(m=2, d=2, k=2, n=5, seed=0))


def test_witness_table():
    rows = []
    for case in TABLE_CASES + (rational_sigmoid_witness()[3],):
        out = check_witness(case)
        inst = out["instance"]
        rows.append([repr(case), inst["epsilon"], out["Q"], out["grad"], out["lambda_min"], out["curvature"], out["kind"],
                     out["functional"]])
    evidence.record_table(CLAIM, "suboptimal stationary points for realizable targets (builders in this test module)",
                          ["instance", "epsilon (theta, theta*)", "Q(theta) (Q(theta*) = 0)", "max |grad_theta Q|",
                           "lambda_min(Hessian)", "curvature along the certificate direction", "type",
                           "min_i ||D_(h_i) Q(h_theta)||"], rows)


def test_gradient_descent_from_the_saddle_does_not_move():
    """Gradient descent started exactly at theta = 0 keeps Q(0) (the zero initialization is a
    trap: only rounding moves it), while from a small random perturbation it descends below Q(0)
    (a strict saddle)."""
    case = TABLE_CASES[0]
    c = case.network
    net = ResidualNetwork(c.layers)
    q0 = net.risk(c.X, c.Y)

    def descend(theta):
        for _ in range(SADDLE_STEPS):
            theta = theta - net.with_parameters(theta).gradient_vector(c.X, c.Y)
        return net.with_parameters(theta).risk(c.X, c.Y)

    q_stuck = descend(net.parameters())
    q_escaped = descend(1e-2 * np.random.default_rng(0).standard_normal(net.parameters().size))
    instance = {**realizable_instance(case, CompositionRisk(c.layers, c.X, c.Y)), "steps": SADDLE_STEPS, "eta": 1.0}
    evidence.check_close(CLAIM, instance, error=abs(q_stuck / q0 - 1.0), tol=SADDLE_DRIFT_RTOL,
                         what=f"|Q(theta_T) / Q(0) - 1| after {SADDLE_STEPS} steps of gradient descent (eta = 1) from theta = 0")
    evidence.check_upper(CLAIM, instance, lhs=q_escaped, rhs=0.5 * q0, rtol=BOUND_RTOL,
                         metrics={f"Q after {SADDLE_STEPS} steps from a 1e-2 perturbation of theta = 0 / Q(0)": q_escaped / q0})


# --- sensitivity --------------------------------------------------------------------------------

SENSITIVITY_CASES = (dict(m=1, d=1, k=2, n=3, seed=0), dict(m=2, d=2, k=2, n=6, seed=1), dict(m=3, d=3, k=3, n=8, seed=2))


def caught_by_check(case: RealizableCase, message: str, **planted) -> bool:
    """True if ``check_witness`` reports a violation whose message contains ``message``."""
    with evidence.scratch():
        try:
            check_witness(case, **planted)
        except evidence.Violation as exc:
            return message in str(exc)
    return False


def test_check_catches_a_gradient_that_returns_zeros():
    """Planted: back-propagation replaced by zeros, at theta = 0 with a target that is not
    centred (not stationary): the central differences of Q must disagree."""
    def zeros(net, X, Y):
        return np.zeros(net.parameters().size)

    caught = [caught_by_check(make_centred_sigmoid_case(centred=False, **args), DIRECTIONAL, gradient=zeros)
              for args in SENSITIVITY_CASES]
    evidence.record_canary(CLAIM, "gradient returning zeros (not-centred target)", caught=all(caught),
                           detail=f"caught on {sum(caught)} of {len(caught)} instances")


def test_check_catches_a_target_that_is_not_centred():
    """Broken construction: A*_l not orthogonal to the mean activation; theta = 0 is not stationary."""
    caught = [caught_by_check(make_centred_sigmoid_case(centred=False, **args), STATIONARY) for args in SENSITIVITY_CASES]
    evidence.record_canary(CLAIM, "target not centred: theta = 0 not stationary", caught=all(caught),
                           detail=f"caught on {sum(caught)} of {len(caught)} instances")


def test_check_catches_a_non_realizable_target():
    """A target mistaken as realizable (the target network's output moved by 1e-12, or the
    caveat's non-realizable x + noise) must fail the hypothesis: the evidence would not count."""
    caught = []
    for args in SENSITIVITY_CASES:
        for case in (make_centred_sigmoid_case(**args), make_dead_relu_realizable_case(**args)):
            c = case.network
            for Y in (c.Y + 1e-12 * np.random.default_rng(0).standard_normal(c.Y.shape),
                      c.X + np.random.default_rng(1).standard_normal(c.Y.shape)):
                moved = RealizableCase(CompositionCase(c.layers, c.X, Y, c.kind, c.seed, c.recipe + " with Y moved"), case.target)
                instance = realizable_instance(moved, CompositionRisk(c.layers, c.X, Y))
                caught.append(not CLAIM.hypotheses_held(instance)["realizable"])
    evidence.record_canary(CLAIM, "non-realizable target presented as realizable", caught=all(caught),
                           detail=f"hypothesis 'realizable' rejected {sum(caught)} of {len(caught)} moved targets")


def test_check_catches_an_optimal_network():
    """Broken instance: the network at theta = theta* (Q = 0): the suboptimality check must fail."""
    caught = []
    for args in SENSITIVITY_CASES:
        for case in (make_centred_sigmoid_case(**args), make_dead_relu_realizable_case(**args)):
            c = case.network
            optimal = RealizableCase(CompositionCase(case.target, c.X, c.Y, c.kind, c.seed, c.recipe + " at theta*"), case.target)
            caught.append(caught_by_check(optimal, SUBOPTIMAL))
    evidence.record_canary(CLAIM, "network at theta* (optimal)", caught=all(caught),
                           detail=f"caught on {sum(caught)} of {len(caught)} instances")


def test_check_catches_a_wrong_hessian_constant():
    """Planted: the A-B block of the closed-form Hessian doubled (1/2 C instead of 1/4 C)."""
    caught = [caught_by_check(make_centred_sigmoid_case(**args), HESSIAN,
                              hessian=lambda C, m, k: zero_network_hessian(2 * C, m, k))
              for args in SENSITIVITY_CASES]
    evidence.record_canary(CLAIM, "Hessian closed form with the A-B block doubled", caught=all(caught),
                           detail=f"caught on {sum(caught)} of {len(caught)} instances")
