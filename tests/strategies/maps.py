r"""Strategies and builders for the C1 / C3 claims: smooth maps with schedules, networks of
residual layers of one dimension, and the instance dicts their checks record.

The maps, layers and compositions themselves come from :mod:`strategies.layers` (owned by the
C2 group); this module only combines them. Strategies are valid by construction (no
``assume``/filter) and shrink toward the simplest instance (d = 1, one layer, seed 0, the first
schedule kind, the smallest depth). Plain builders (``make_*``, ``*_instance``) are functions of
their parameters, used by the strategies, the tests and the reproductions.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from resclaims.impl.near_identity_decomposition import geometric_schedule, linear_schedule
from resclaims.impl.residual_layer import ACTIVATIONS
from strategies.layers import MIN_ALPHA, CompositionCase, LayerCase, MapCase, invertible_maps, make_layer_case

#: Schedule kinds of :func:`make_schedule`.
SCHEDULE_KINDS = ("linear", "geometric", "random")

#: Interior of the random schedules: a_1, ..., a_{m-1} uniform in [RANDOM_SCHEDULE_MARGIN,
#: 1 - RANDOM_SCHEDULE_MARGIN] (a drawing range, not a tolerance).
RANDOM_SCHEDULE_MARGIN = 1e-3


def _check_int(name: str, value, minimum: int) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise InvalidArgument(f"{name}={value!r} must be an integer >= {minimum}")


def _check_choices(name: str, values, allowed: Sequence) -> None:
    if not isinstance(values, (tuple, list)) or not values or any(v not in allowed for v in values):
        raise InvalidArgument(f"{name}={values!r} must be a non-empty tuple of elements of {tuple(allowed)!r}")


# --- builders -------------------------------------------------------------------------------

def make_schedule(kind: str, m: int, rng: np.random.Generator) -> np.ndarray:
    """A schedule 0 < a_1 < ... < a_m = 1 of the given kind ("random": sorted uniforms, then 1)."""
    if kind == "linear":
        return linear_schedule(m)
    if kind == "geometric":
        return geometric_schedule(m)
    if kind == "random":
        return np.append(np.sort(rng.uniform(RANDOM_SCHEDULE_MARGIN, 1.0 - RANDOM_SCHEDULE_MARGIN, m - 1)), 1.0)
    raise ValueError(f"kind={kind!r} must be one of {SCHEDULE_KINDS}")


def map_instance(case: MapCase) -> dict:
    """The instance of a smooth map for the C1 hypotheses: the map's recorded data, with the
    activations read from its layers (``activations``) in place of any recorded tag."""
    data = {key: value for key, value in case.instance.items() if key != "activation"}
    return {**data, "activations": sorted({f.activation for f in case.h.layers})}


def zero_offset(layers) -> float:
    r""":math:`\max_i \|h_i(0)\|_2`, computed from the layers (0 exactly iff every layer fixes 0)."""
    d = layers[0].d
    return max(float(np.linalg.norm(f(np.zeros((1, d))))) for f in layers)


def composition_instance(case: CompositionCase, risk) -> dict:
    r"""The instance of a composition with its sample for the C3 hypotheses: the case's data, the
    offset :math:`\max_i \|h_i(0)\|` and the activations read from the layers,
    :math:`Q(h) - Q(h^*)` and :math:`\|h - h^*\|` from ``risk`` (an ``impl`` ``CompositionRisk``)."""
    data = {key: value for key, value in case.instance.items() if key != "zero_fixing"}
    activations = sorted({getattr(f, "activation", "affine") for f in case.layers})
    return {**data, "zero_offset": zero_offset(case.layers), "activations": activations,
            "excess": risk.risk() - risk.optimal_risk(), "distance": risk.distance_to_optimum()}


def make_random_network_case(layer_cases: Sequence[LayerCase], *, seed: int, n: int = 6) -> CompositionCase:
    """A (generally non-stationary) network from residual layers of one dimension, with a
    standard normal sample of ``n`` points and targets from ``default_rng([seed, 37])``."""
    d = layer_cases[0].layer.d
    if any(c.layer.d != d for c in layer_cases):
        raise ValueError("layer_cases must share one dimension d")
    rng = np.random.default_rng([seed, 37])
    return CompositionCase(tuple(c.layer for c in layer_cases), rng.standard_normal((n, d)),
                           rng.standard_normal((n, d)), layer_cases[0].layer.activation, seed)


# --- strategies -----------------------------------------------------------------------------

@st.composite
def _maps_with_schedules(draw, max_d, max_depth, kinds, depths):
    return (draw(invertible_maps(max_d=max_d, max_depth=max_depth)), draw(st.sampled_from(kinds)),
            draw(st.sampled_from(depths)))


def maps_with_schedules(*, max_d: int = 3, max_depth: int = 3, kinds: tuple[str, ...] = SCHEDULE_KINDS,
                        depths: tuple[int, ...] = (2, 4, 8)) -> st.SearchStrategy:
    """Triples ``(MapCase, schedule kind, m)``: a map satisfying the C1 hypotheses, a kind of
    :func:`make_schedule` and a depth. Shrinks toward d = depth = 1, the first kind and depth."""
    _check_int("max_d", max_d, 1)
    _check_int("max_depth", max_depth, 1)
    _check_choices("kinds", kinds, SCHEDULE_KINDS)
    if not isinstance(depths, (tuple, list)) or not depths or any(
            not isinstance(m, int) or isinstance(m, bool) or m < 1 for m in depths):
        raise InvalidArgument(f"depths={depths!r} must be a non-empty tuple of integers >= 1")
    return _maps_with_schedules(max_d, max_depth, tuple(kinds), tuple(depths))


@st.composite
def _same_dimension_layer_lists(draw, max_d, max_layers, max_k, activations):
    d = draw(st.integers(1, max_d))
    return [make_layer_case(d=d, k=draw(st.integers(1, max_k)), activation=draw(st.sampled_from(activations)),
                            seed=draw(st.integers(0, 2**32 - 1)),
                            alpha=draw(st.floats(MIN_ALPHA, 0.95, allow_nan=False, allow_subnormal=False)),
                            b_scale=draw(st.floats(0.1, 5.0, allow_nan=False, allow_subnormal=False)))
            for _ in range(draw(st.integers(1, max_layers)))]


def same_dimension_layer_lists(*, max_d: int = 4, max_layers: int = 3, max_k: int = 6,
                               activations: tuple[str, ...] = ACTIVATIONS) -> st.SearchStrategy:
    r"""Lists of 1..``max_layers`` residual layers of one dimension :math:`d \le` ``max_d``, each
    with certified :math:`\|f - \mathrm{Id}\|_L \in [10^{-6}, 0.95]`. Shrinks toward one layer,
    d = k = 1, the first activation."""
    _check_int("max_d", max_d, 1)
    _check_int("max_layers", max_layers, 1)
    _check_int("max_k", max_k, 1)
    _check_choices("activations", activations, ACTIVATIONS)
    return _same_dimension_layer_lists(max_d, max_layers, max_k, tuple(activations))


@st.composite
def _random_networks(draw, max_d, max_layers, activations):
    layers = draw(same_dimension_layer_lists(max_d=max_d, max_layers=max_layers, activations=activations))
    return make_random_network_case(layers, seed=draw(st.integers(0, 2**32 - 1)))


def random_networks(*, max_d: int = 4, max_layers: int = 3,
                    activations: tuple[str, ...] = ACTIVATIONS) -> st.SearchStrategy:
    """Residual networks (:func:`same_dimension_layer_lists`) with a random sample of 6 points
    (:func:`make_random_network_case`): generally not stationary."""
    _check_int("max_d", max_d, 1)
    _check_int("max_layers", max_layers, 1)
    _check_choices("activations", activations, ACTIVATIONS)
    return _random_networks(max_d, max_layers, tuple(activations))
