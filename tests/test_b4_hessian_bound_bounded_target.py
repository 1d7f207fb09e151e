"""B4 corrected: ||Hess||_F <= 3 L d^2 (1+z)^(2L-2) <= 3 L d^5 (1+z)^(2L) when ||Phi||_2 <= (1+z)^L.

Exact Hessian only (``impl.deep_linear.hessian``, small d L): an upper bound cannot be checked
with a lower estimate of the norm. Bounds are compared in log space.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from resclaims.claims.engine import evidence
from resclaims.claims.b4_hessian_bound import log_fro_norm, log_slide_bound
from resclaims.claims.b4_hessian_bound_bounded_target import CLAIM, log_derived_bound, scaled_identity_ratio
from resclaims.claims.engine.profiles import budget
from resclaims.impl.deep_linear import hessian
from canaries import expect_caught
from tolerances import hessian_rtol

LAYER_MODES = ("identity", "orthogonal", "edge", "interior")
TARGET_MODES = ("against_product", "random_edge", "random")


def _floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def _orthogonal(rng, shape):
    return np.linalg.qr(rng.standard_normal(shape))[0]


def make_b4_instance(d: int, L: int, z: float, *, layer_mode: str = "identity", target_mode: str = "against_product",
                     target_factor: float = 1.0, flips: int = 0, seed: int = 0) -> dict:
    r"""An instance with every layer of norm at most c = 1 + z and ||Phi||_2 = target_factor c^L.

    Layers: ``identity`` :math:`\pm cI` (sign of layer i from bit i of ``flips``); ``orthogonal``
    :math:`cQ_i` (every singular value c); ``edge`` :math:`cU_i\operatorname{diag}(s)V_i^\top`
    with :math:`s_1 = 1` exactly, the rest uniform in [0, 1]; ``interior`` all :math:`s` uniform.
    Target: ``against_product`` :math:`\Phi = -f c^L P/\|P\|_2` (the residual is as large as the
    hypotheses allow: :math:`\|E\|_2 = \|P\|_2 + fc^L`), ``random_edge`` singular values with the
    largest exactly :math:`fc^L`, ``random`` any within.
    """
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


@st.composite
def near_identity_instances(draw, *, max_d: int = 4, max_L: int = 6, max_factor: float = 1.0,
                            z_range: tuple[float, float] = (0.0, 2.0)):
    """Instances of :func:`make_b4_instance`, pushed toward the edge: z = 0 or tiny half the time,
    ||Phi|| at the limit (factor exactly ``max_factor``) half the time. Shrinks to d = 1, L = 1,
    z = 0, Theta = I, Phi = -I."""
    d, L = draw(st.integers(1, max_d)), draw(st.integers(1, max_L))
    lo, hi = z_range
    z = draw(st.one_of(st.just(min(max(0.0, lo), hi)), _floats(min(max(0.0, lo), hi), min(max(0.0, lo), hi) + 1e-6),
                       _floats(lo, hi)))
    factor = draw(st.one_of(st.just(max_factor), _floats(0.0, max_factor)))
    return make_b4_instance(d, L, z, layer_mode=draw(st.sampled_from(LAYER_MODES)),
                            target_mode=draw(st.sampled_from(TARGET_MODES)), target_factor=factor,
                            flips=draw(st.integers(0, 2**L - 1)), seed=draw(st.integers(0, 2**32 - 1)))


def hessian_ratios(inst, *, log_bound=log_slide_bound) -> tuple[float, float]:
    """(||H||_F / bound, ||H||_F / derived bound), from the exact Hessian, in log space."""
    H = hessian(inst["layers"], inst["target"])
    log_h = log_fro_norm(H)
    d, L, z = inst["d"], inst["L"], inst["z"]
    return math.exp(log_h - log_bound(d, L, z)), math.exp(log_h - log_derived_bound(d, L, z))


def check(inst) -> float | None:
    if evidence.hypotheses_fail(CLAIM, inst):
        return None
    ratio, ratio_derived = hessian_ratios(inst)
    d, L = inst["d"], inst["L"]
    rtol = hessian_rtol(d, L)
    # the derived intermediate bound must hold too (it is the proof of the slide's)
    assert ratio_derived <= 1 + rtol, f"derived bound 3 L d^2 (1+z)^(2L-2) exceeded: ratio {ratio_derived!r}"
    return evidence.check_upper(CLAIM, inst, lhs=ratio, rhs=1.0, rtol=rtol,
                                metrics={"max ||H||_F / (3 L d^5 (1+z)^(2L)) (slide's bound)": ratio,
                                         "max ||H||_F / (3 L d^2 (1+z)^(2L-2)) (derived bound)": ratio_derived},
                                size=L)


@given(inst=near_identity_instances())
@example(inst=make_b4_instance(1, 2, 0.0))  # Phi = -1: ||H||_F = sqrt(20) of 6
@example(inst=make_b4_instance(1, 200, 0.0))  # 0.998 of both bounds
@example(inst=make_b4_instance(1, 200, 1.0, layer_mode="identity", flips=5))  # (1+z)^(2L) = 2^400
@example(inst=make_b4_instance(2, 24, 0.05, layer_mode="orthogonal", seed=3))
@example(inst=make_b4_instance(3, 4, 1e-9, layer_mode="edge", target_mode="random_edge", seed=1))
@settings(max_examples=budget(40))
def test_hessian_bound_with_bounded_target(inst):
    """Random and edge instances: z -> 0, layers of norm exactly 1 + z, ||Phi|| = (1+z)^L."""
    check(inst)


@pytest.mark.parametrize("d, L", [(1, 1), (1, 2), (1, 7), (1, 60), (2, 1), (2, 3), (3, 2), (4, 2)])
@pytest.mark.parametrize("z", [0.0, 0.25])
def test_scaled_identity_against_target_matches_the_derived_formula(d, L, z):
    """Theta_i = (1+z) I, Phi = -(1+z)^L I (the per-entry extremal instance): the engine's
    ||H||_F / derived bound equals sqrt(L d^2 + L(L-1)(5d^2 + 4d)) / (3 L d^2); at d = 1 it tends to 1."""
    inst = make_b4_instance(d, L, z)
    slack = check(inst)
    ratio, ratio_derived = hessian_ratios(inst)
    predicted = scaled_identity_ratio(d, L)
    assert ratio_derived == pytest.approx(predicted, rel=hessian_rtol(d, L))
    evidence.record_table(CLAIM, "Theta_i = (1+z) I, Phi = -(1+z)^L I: tightness",
                          ["d", "L", "z", "||H|| / slide bound", "||H|| / derived bound"],
                          [[d, L, z, round(ratio, 6), round(ratio_derived, 6)]])
    assert slack is not None


# --- sensitivity: broken hypotheses and planted constants the search must catch -----------

def _violates(inst, *, log_bound=log_slide_bound, ignore: tuple[str, ...] = ()) -> bool:
    held = CLAIM.hypotheses_held(inst)
    if not all(v for k, v in held.items() if k not in ignore):
        return False
    ratio, _ = hessian_ratios(inst, log_bound=log_bound)
    return ratio > 1 + hessian_rtol(inst["d"], inst["L"])


def _describe(inst):
    return (f"d={inst['d']}, L={inst['L']}, z={inst['z']}, layers={inst['layer_mode']}, "
            f"target={inst['target_mode']} x {inst['target_factor']}")


def test_dropping_the_target_bound_is_caught():
    """Hypothesis ||Phi||_2 <= (1+z)^L dropped (the slide's statement): violations exist."""
    expect_caught(CLAIM, "hypothesis ||Phi||_2 <= (1+z)^L dropped",
                  near_identity_instances(max_d=2, max_L=3, max_factor=5.0),
                  lambda inst: _violates(inst, ignore=("target_bounded",)), describe=_describe)


def test_dropping_z_nonnegative_is_caught():
    """Hypothesis z >= 0 dropped: with c = 1 + z < 1 the slide's bound fails whatever Phi (L = 1:
    H = I, ||H||_F = d > 3 d^5 c^2 once c^2 < 1/3; d = 1, L = 2, Theta = c I, Phi = c^2 (E = 0):
    H = c^2 [[1, 1], [1, 1]], 2c^2 > 6c^4 once c^2 < 1/3)."""
    expect_caught(CLAIM, "hypothesis z >= 0 dropped (z in (-0.9, 0))",
                  near_identity_instances(max_d=2, max_L=3, z_range=(-0.9, 0.0)),
                  lambda inst: _violates(inst, ignore=("z_nonnegative",)), describe=_describe)


def _constant_two(d, L, z):
    """Planted: constant 2 in place of 3."""
    return math.log(2.0 * L) + 5.0 * math.log(d) + 2.0 * L * math.log1p(z)


def _exponent_2l_minus_3(d, L, z):
    """Planted: exponent 2L - 3 in place of 2L."""
    return math.log(3.0 * L) + 5.0 * math.log(d) + (2.0 * L - 3.0) * math.log1p(z)


@pytest.mark.parametrize("planted", [_constant_two, _exponent_2l_minus_3])
def test_check_catches_planted_bound(planted):
    expect_caught(CLAIM, planted.__doc__.split(":", 1)[1].strip(), near_identity_instances(max_d=2, max_L=3),
                  lambda inst: _violates(inst, log_bound=planted), describe=_describe)
