"""The strategies of tests/strategies/ validate their arguments (Hypothesis' house style): a typo or
an impossible bound is an ``InvalidArgument`` naming the argument, never a silently different
search (e.g. ``det_sign="postive"`` used to mean "either sign")."""
from __future__ import annotations

import pytest
from hypothesis import find, settings
from hypothesis.errors import InvalidArgument

from strategies.convergence import small_loss_instances, symmetric_positive_instances
from strategies.deep_linear import descent_cases, near_identity_problems, problems
from strategies.factorizations import regression_samples, residual_models, residual_stacks
from strategies.layers import compositions, invertible_maps, residual_layers
from strategies.maps import maps_with_schedules
from strategies.matrices import depths, layer_stacks, square_matrices
from strategies.symmetric import spectra, symmetric_targets

INVALID = [
    (square_matrices, {"det_sign": "postive"}, "det_sign"),
    (square_matrices, {"min_d": 3, "max_d": 2}, "max_d"),
    (square_matrices, {"max_log_sigma": -1.0}, "max_log_sigma"),
    (depths, {"max_L": 0}, "max_L"),
    (layer_stacks, {"min_sigma": 0.0}, "min_sigma"),
    (residual_stacks, {"max_d": 0}, "max_d"),
    (residual_models, {"max_tau": 1.5}, "max_tau"),
    (regression_samples, {"max_n": 0}, "max_n"),
    (problems, {"max_L": 0}, "max_L"),
    (near_identity_problems, {"max_d": 0}, "max_d"),
    (descent_cases, {"max_L": -1}, "max_L"),
    (small_loss_instances, {"kinds": ("diagonal-ish",)}, "kinds"),
    (symmetric_positive_instances, {"max_d": 0}, "max_d"),
    (symmetric_targets, {"max_abs": -1.0}, "max_abs"),
    (spectra, {"min_d": 0}, "min_d"),
    (residual_layers, {"activations": ("sigmoidd",)}, "activations"),
    (invertible_maps, {"max_depth": 0}, "max_depth"),
    (compositions, {"kinds": ("nope",)}, "kinds"),
    (maps_with_schedules, {"kinds": ("spiral",)}, "kinds"),
]


@pytest.mark.parametrize("strategy, arguments, named", INVALID, ids=lambda x: getattr(x, "__name__", str(x)))
def test_invalid_argument_is_named(strategy, arguments, named):
    with pytest.raises(InvalidArgument, match=named):
        find(strategy(**arguments), lambda _: True, settings=settings(database=None, max_examples=1))


@pytest.mark.parametrize("strategy", [square_matrices, layer_stacks, residual_stacks, problems, symmetric_targets,
                                      residual_layers])
def test_arguments_are_keyword_only(strategy):
    with pytest.raises(TypeError):
        strategy(3)
