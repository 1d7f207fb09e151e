r"""Hypothesis strategies for the deep linear network claims B1, B3 (corrected), B4 and B5.

Public strategies take keyword-only arguments, validate them when called (``InvalidArgument``
names the argument and the violated condition) and build valid instances by construction (no
``assume``/filter). Hypothesis draws only small things (sizes, modes, a seed, scales); matrices
come from ``np.random.default_rng(seed)``, so shrinking moves toward d = L = 1, seed 0 and the
identity. Builders (``make_*``: plain functions from parameters to an instance, used by the
strategies, by explicit ``@example``\ s and by reproductions) stand apart from strategies.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.linalg
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from resclaims.impl.deep_linear import product

#: Largest seed drawn (numpy's ``default_rng`` accepts any non-negative integer).
MAX_SEED = 2**32 - 1


# --- argument validation (at call time) ------------------------------------------------------

def _check_integer(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidArgument(f"{name}={value!r} must be an integer >= {minimum}")


def _check_real(name: str, value, *, at_least: float | None = None) -> None:
    ok = (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
          and math.isfinite(value) and (at_least is None or value >= at_least))
    if not ok:
        raise InvalidArgument(f"{name}={value!r} must be a finite number"
                              + (f" >= {at_least!r}" if at_least is not None else ""))


def _check_order(lo_name: str, lo: float, hi_name: str, hi: float) -> None:
    if not lo <= hi:
        raise InvalidArgument(f"{lo_name}={lo!r} must be <= {hi_name}={hi!r}")


def finite_floats(*, min_value: float, max_value: float) -> st.SearchStrategy[float]:
    """Finite floats in [``min_value``, ``max_value``], no subnormals (shrink toward 0 or the
    bound nearest to it)."""
    _check_real("min_value", min_value)
    _check_real("max_value", max_value)
    _check_order("min_value", min_value, "max_value", max_value)
    return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def _orthogonal(rng: np.random.Generator, shape) -> np.ndarray:
    return np.linalg.qr(rng.standard_normal(shape))[0]


# --- B1: layers, target and penalty ------------------------------------------------------------

def make_problem(d: int, L: int, seed: int, *, spread: float = 0.5, target_scale: float = 1.0,
                 penalty: float = 0.0) -> dict:
    """Layers U_i diag(s_i) V_i^T with singular values in [1 - spread/2, 1 + spread] (generic,
    non-symmetric), a Gaussian target times ``target_scale``, and the penalty kappa."""
    rng = np.random.default_rng(seed)
    s = 1.0 + spread * rng.uniform(-0.5, 1.0, size=(L, d))
    U = _orthogonal(rng, (L, d, d))
    V = _orthogonal(rng, (L, d, d))
    layers = (U * s[:, None, :]) @ np.swapaxes(V, -1, -2)
    target = target_scale * rng.standard_normal((d, d))
    return {"d": d, "L": L, "seed": seed, "penalty": penalty, "layers": layers, "target": target}


def problems(*, max_d: int = 4, max_L: int = 6, max_seed: int = MAX_SEED) -> st.SearchStrategy[dict]:
    """Instances of :func:`make_problem` (penalty 0, 0.5 or 2). Shrinks toward d = L = 1, layers
    orthogonal (spread 0), target 0, no penalty."""
    _check_integer("max_d", max_d, 1)
    _check_integer("max_L", max_L, 1)
    _check_integer("max_seed", max_seed, 0)
    return _problems(max_d=max_d, max_L=max_L, max_seed=max_seed)


@st.composite
def _problems(draw, *, max_d, max_L, max_seed):
    d, L = draw(st.integers(1, max_d)), draw(st.integers(1, max_L))
    penalty = draw(st.sampled_from([0.0, 0.0, 0.5, 2.0]))
    return make_problem(d, L, draw(st.integers(0, max_seed)), spread=draw(finite_floats(min_value=0.0, max_value=1.0)),
                        target_scale=draw(finite_floats(min_value=0.0, max_value=3.0)), penalty=penalty)


def problem_batches(*, max_d: int = 4, max_L: int = 6, max_B: int = 5, max_steps: int = 12) -> st.SearchStrategy[dict]:
    """B problems sharing d and L: targets I + scale G / sqrt(d), a step eta at the slide's scale
    1/(L (1 + ||Phi||^2)) times a factor in [0.05, 4], penalty 0 or 0.3, 0..``max_steps`` steps.
    Shrinks toward d = L = B = 1, no step, targets I."""
    _check_integer("max_d", max_d, 1)
    _check_integer("max_L", max_L, 1)
    _check_integer("max_B", max_B, 1)
    _check_integer("max_steps", max_steps, 0)
    return _problem_batches(max_d=max_d, max_L=max_L, max_B=max_B, max_steps=max_steps)


@st.composite
def _problem_batches(draw, *, max_d, max_L, max_B, max_steps):
    d, L = draw(st.integers(1, max_d)), draw(st.integers(1, max_L))
    B, steps = draw(st.integers(1, max_B)), draw(st.integers(0, max_steps))
    rng = np.random.default_rng(draw(st.integers(0, MAX_SEED)))
    scale = draw(finite_floats(min_value=0.0, max_value=1.0))
    targets = np.eye(d) + scale * rng.standard_normal((B, d, d)) / np.sqrt(d)
    # the slide's step-size scale 1/(L (1 + ||Phi||^2)), up to 4x larger
    eta = draw(finite_floats(min_value=0.05, max_value=4.0)) / (
        L * (1 + float(np.linalg.norm(targets, 2, axis=(1, 2)).max()) ** 2))
    penalty = draw(st.sampled_from([0.0, 0.3]))
    return {"d": d, "L": L, "B": B, "steps": steps, "eta": eta, "penalty": penalty, "targets": targets}


# --- B3: layer stacks with a Gaussian target ---------------------------------------------------

def stacks_with_targets(*, layers: st.SearchStrategy[np.ndarray], max_scale: float = 3.0) -> st.SearchStrategy[tuple]:
    """``(layers, target)``: a stack drawn from ``layers`` and a Gaussian target of the layers'
    size times a scale in [0, ``max_scale``] (shrinks to the target 0)."""
    if not isinstance(layers, st.SearchStrategy):
        raise InvalidArgument(f"layers={layers!r} must be a SearchStrategy of (L, d, d) arrays")
    _check_real("max_scale", max_scale, at_least=0.0)
    return st.tuples(layers, finite_floats(min_value=0.0, max_value=max_scale), st.integers(0, MAX_SEED)).map(
        lambda t: (t[0], t[1] * np.random.default_rng(t[2]).standard_normal(t[0].shape[1:])))


# --- B4: layers of norm at most 1 + z, targets of norm at most f (1 + z)^L --------------------

LAYER_MODES = ("identity", "orthogonal", "edge", "interior")
TARGET_MODES = ("against_product", "random_edge", "random")


def make_near_identity_problem(d: int, L: int, z: float, *, layer_mode: str = "identity",
                               target_mode: str = "against_product", target_factor: float = 1.0,
                               flips: int = 0, seed: int = 0) -> dict:
    r"""An instance with every layer of norm at most c = 1 + z and ||Phi||_2 = target_factor c^L.

    Layers: ``identity`` :math:`\pm cI` (sign of layer i from bit i of ``flips``); ``orthogonal``
    :math:`cQ_i` (every singular value c); ``edge`` :math:`cU_i\operatorname{diag}(s)V_i^\top`
    with :math:`s_1 = 1` exactly, the rest uniform in [0, 1]; ``interior`` all :math:`s` uniform.
    Target: ``against_product`` :math:`\Phi = -f c^L P/\|P\|_2` (the residual is as large as the
    hypotheses allow: :math:`\|E\|_2 = \|P\|_2 + fc^L`), ``random_edge`` singular values with the
    largest exactly :math:`fc^L`, ``random`` any within.
    """
    if layer_mode not in LAYER_MODES:
        raise ValueError(f"layer_mode={layer_mode!r} must be one of {LAYER_MODES}")
    if target_mode not in TARGET_MODES:
        raise ValueError(f"target_mode={target_mode!r} must be one of {TARGET_MODES}")
    rng = np.random.default_rng(seed)
    c = 1.0 + z
    signs = np.array([-1.0 if (flips >> i) & 1 else 1.0 for i in range(L)])
    if layer_mode == "identity":
        layers = c * signs[:, None, None] * np.eye(d)
    elif layer_mode == "orthogonal":
        layers = c * signs[:, None, None] * _orthogonal(rng, (L, d, d))
    else:
        s = rng.uniform(0.0, 1.0, (L, d))
        if layer_mode == "edge":
            s[:, 0] = 1.0
        layers = c * (_orthogonal(rng, (L, d, d)) * s[:, None, :]) @ np.swapaxes(_orthogonal(rng, (L, d, d)), 1, 2)
    scale = target_factor * c**L
    P = np.eye(d)
    for th in layers:
        P = th @ P
    norm_p = float(np.linalg.norm(P, 2))
    if target_mode == "against_product" and norm_p > 0:
        target = -scale * P / norm_p
    else:
        t = rng.uniform(0.0, 1.0, d) * rng.choice([-1.0, 1.0], d)
        if target_mode != "random":
            t[0] = 1.0
        target = scale * (_orthogonal(rng, (d, d)) * t) @ _orthogonal(rng, (d, d)).T
    return {"d": d, "L": L, "z": z, "layer_mode": layer_mode, "target_mode": target_mode,
            "target_factor": target_factor, "flips": flips, "seed": seed, "layers": layers, "target": target}


def near_identity_problems(*, max_d: int = 4, max_L: int = 6, max_factor: float = 1.0,
                           z_range: tuple[float, float] = (0.0, 2.0)) -> st.SearchStrategy[dict]:
    """Instances of :func:`make_near_identity_problem`, pushed toward the edge: z at its lowest
    admissible value or within 1e-6 of it two times in three, ||Phi|| at the limit (factor
    exactly ``max_factor``) half the time. Shrinks to d = 1, L = 1, z = 0, Theta = I, Phi = -I.
    ``z_range`` below 0 breaks the hypothesis z >= 0 (for sensitivity tests)."""
    _check_integer("max_d", max_d, 1)
    _check_integer("max_L", max_L, 1)
    _check_real("max_factor", max_factor, at_least=0.0)
    if not (isinstance(z_range, tuple) and len(z_range) == 2):
        raise InvalidArgument(f"z_range={z_range!r} must be a pair (lo, hi)")
    _check_real("z_range[0]", z_range[0], at_least=-1.0)
    _check_real("z_range[1]", z_range[1])
    _check_order("z_range[0]", z_range[0], "z_range[1]", z_range[1])
    return _near_identity_problems(max_d=max_d, max_L=max_L, max_factor=max_factor, z_range=z_range)


@st.composite
def _near_identity_problems(draw, *, max_d, max_L, max_factor, z_range):
    d, L = draw(st.integers(1, max_d)), draw(st.integers(1, max_L))
    lo, hi = z_range
    z0 = min(max(0.0, lo), hi)
    z = draw(st.one_of(st.just(z0), finite_floats(min_value=z0, max_value=z0 + 1e-6),
                       finite_floats(min_value=lo, max_value=hi)))
    factor = draw(st.one_of(st.just(max_factor), finite_floats(min_value=0.0, max_value=max_factor)))
    return make_near_identity_problem(d, L, z, layer_mode=draw(st.sampled_from(LAYER_MODES)),
                                      target_mode=draw(st.sampled_from(TARGET_MODES)), target_factor=factor,
                                      flips=draw(st.integers(0, 2**L - 1)), seed=draw(st.integers(0, MAX_SEED)))


def scaled_identity_problems(*, d: int, L: int, max_z: float = 1.0, max_phi: float = 20.0) -> st.SearchStrategy[dict]:
    r"""Layers :math:`\Theta_i = \pm(1+z) I` (every layer at the edge, norm 1 + z), target
    :math:`\varphi I`, for one size (d, L). Draw order is shrink priority: z, then :math:`|\varphi|`,
    then the layer signs, then the sign of :math:`\varphi`."""
    _check_integer("d", d, 1)
    _check_integer("L", L, 1)
    _check_real("max_z", max_z, at_least=0.0)
    _check_real("max_phi", max_phi, at_least=0.0)
    return _scaled_identity_problems(d=d, L=L, max_z=max_z, max_phi=max_phi)


@st.composite
def _scaled_identity_problems(draw, *, d, L, max_z, max_phi):
    z = draw(finite_floats(min_value=0.0, max_value=max_z))
    magnitude = draw(finite_floats(min_value=0.0, max_value=max_phi))
    flips = draw(st.integers(0, 2**L - 1))
    phi = -magnitude if draw(st.booleans()) else magnitude
    signs = np.array([-1.0 if (flips >> i) & 1 else 1.0 for i in range(L)])
    layers = ((1.0 + z) * signs)[:, None, None] * np.eye(d)
    return {"d": d, "L": L, "z": z, "phi": phi, "layers": layers, "target": phi * np.eye(d)}


# --- B5: gradient-descent trajectories from near the identity ----------------------------------

START_MODES = ("identity", "scaled_identity", "near_identity", "rotations")
DESCENT_TARGET_MODES = ("near", "above_product", "negative_eigenvalue", "large")


def make_descent_case(d: int, L: int, seed: int = 0, *, start: str = "identity", r: float = 0.0,
                      target: str = "near", s: float = 0.5, eta_log: float = -1.0, steps: int = 20) -> dict:
    r"""Start layers, target and step size eta = 10^eta_log / L.

    Starts: ``identity``; ``scaled_identity`` :math:`(1 + r)I`; ``near_identity``
    :math:`I + rA_i` with :math:`\|A_i\|_2 = 1`; ``rotations`` :math:`\exp(K_i)` with
    :math:`K_i` skew of spectral norm :math:`r\pi` (so :math:`\|\Theta_i - I\|` up to 2 while the
    product stays orthogonal). Targets: ``near`` :math:`I + sG/\sqrt d`; ``above_product``
    :math:`\Theta^{(0)}_{1:L} + s\,uu^\top`; ``negative_eigenvalue`` symmetric with eigenvalue
    :math:`-s`; ``large`` :math:`3sG`.
    """
    if start not in START_MODES:
        raise ValueError(f"start={start!r} must be one of {START_MODES}")
    if target not in DESCENT_TARGET_MODES:
        raise ValueError(f"target={target!r} must be one of {DESCENT_TARGET_MODES}")
    rng = np.random.default_rng(seed)
    eye = np.eye(d)
    if start == "identity":
        layers = np.broadcast_to(eye, (L, d, d)).copy()
    elif start == "scaled_identity":
        layers = np.broadcast_to((1 + r) * eye, (L, d, d)).copy()
    elif start == "near_identity":
        A = rng.standard_normal((L, d, d))
        layers = eye + r * A / np.linalg.norm(A, 2, axis=(1, 2))[:, None, None]
    else:
        K = rng.standard_normal((L, d, d))
        K = K - np.swapaxes(K, 1, 2)
        norms = np.linalg.norm(K, 2, axis=(1, 2))
        K = r * np.pi * K / np.where(norms > 0, norms, 1.0)[:, None, None]
        layers = scipy.linalg.expm(K) if d > 1 else np.broadcast_to(eye, (L, d, d)).copy()
    G = rng.standard_normal((d, d))
    if target == "near":
        phi = eye + s * G / np.sqrt(d)
    elif target == "above_product":
        u = rng.standard_normal(d)
        u /= np.linalg.norm(u)
        phi = product(layers) + s * np.outer(u, u)
    elif target == "negative_eigenvalue":
        lam = rng.uniform(0.5, 1.5, d)
        lam[0] = -s
        Q = _orthogonal(rng, (d, d))
        phi = (Q * lam) @ Q.T
    else:
        phi = 3 * s * G
    eta = 10.0**eta_log / L
    return {"d": d, "L": L, "seed": seed, "start": start, "r": r, "target_mode": target, "s": s,
            "eta": eta, "steps": steps, "layers": layers, "target": phi}


def descent_cases(*, max_d: int = 5, max_L: int = 10) -> st.SearchStrategy[dict]:
    """Cases of :func:`make_descent_case`, step sizes from 1e-3/L to 10^0.5/L. Shrinks toward
    d = L = 1 from the identity with a target near I and eta = 0.1 / L."""
    _check_integer("max_d", max_d, 1)
    _check_integer("max_L", max_L, 1)
    return _descent_cases(max_d=max_d, max_L=max_L)


@st.composite
def _descent_cases(draw, *, max_d, max_L):
    d, L = draw(st.integers(1, max_d)), draw(st.integers(1, max_L))
    start = draw(st.sampled_from(START_MODES))
    r = draw(st.one_of(st.just(0.0), finite_floats(min_value=1e-6, max_value=1.0 if start == "rotations" else 0.5)))
    return make_descent_case(
        d, L, draw(st.integers(0, MAX_SEED)), start=start, r=r, target=draw(st.sampled_from(DESCENT_TARGET_MODES)),
        s=draw(st.one_of(st.just(0.0), finite_floats(min_value=1e-6, max_value=2.0))),
        eta_log=draw(st.one_of(st.just(-1.0), finite_floats(min_value=-3.0, max_value=0.5))))
