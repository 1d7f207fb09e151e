"""Every public function of ``impl`` rejects bad input with an error naming the argument and
the violated condition (never a silent NaN or a wrong answer). Table-driven."""
from __future__ import annotations

import numpy as np
import pytest

from resclaims.impl.balanced_factorization import balanced_factorization, polar_so
from resclaims.impl.least_squares import empirical_risk, least_squares_map
from resclaims.impl.margin_projection import margin, project_to_margin
from resclaims.impl.near_identity_factorization import near_identity_factorization
from resclaims.impl.residual_layer import ResidualLayer
from resclaims.impl.rotation_power import rotation_power

I2 = np.eye(2)
NAN = np.array([[1.0, np.nan], [0.0, 1.0]])
INF = np.array([[1.0, 0.0], [np.inf, 1.0]])
REFLECTION = np.diag([1.0, -1.0])
A_OK, B_OK = 0.1 * np.ones((2, 3)), 0.1 * np.ones((3, 2))

BAD_INPUTS = [
    # (call, exception, message fragment)
    (lambda: balanced_factorization(np.ones((2, 3)), 2), ValueError, "A must be square"),
    (lambda: balanced_factorization(np.ones(3), 2), ValueError, "A must have 2 dimension"),
    (lambda: balanced_factorization(NAN, 2), ValueError, "A must be finite"),
    (lambda: balanced_factorization(INF, 2), ValueError, "A must be finite"),
    (lambda: balanced_factorization(I2, 0), ValueError, "L must be >= 1"),
    (lambda: balanced_factorization(I2, 2.5), TypeError, "L must be an integer"),
    (lambda: balanced_factorization(I2, True), TypeError, "L must be an integer"),
    (lambda: balanced_factorization(I2 * (1 + 1j), 2), TypeError, "A must be real"),
    (lambda: balanced_factorization(np.empty((0, 0)), 2), ValueError, "A must not be empty"),
    (lambda: balanced_factorization([["a", "b"], ["c", "d"]], 2), TypeError, "A must be an array of real numbers"),
    (lambda: polar_so(NAN), ValueError, "A must be finite"),
    (lambda: near_identity_factorization(REFLECTION, 4), ValueError, "A must have det > 0, got det < 0"),
    (lambda: near_identity_factorization(np.diag([1.0, 0.0]), 4), ValueError, "A must have det > 0, got det = 0"),
    (lambda: near_identity_factorization(I2, -1), ValueError, "m must be >= 1"),
    (lambda: near_identity_factorization(I2, "3"), TypeError, "m must be an integer"),
    (lambda: rotation_power(2 * I2, 0.5), ValueError, "R must be orthogonal"),
    (lambda: rotation_power(REFLECTION, 0.5), ValueError, "R must have det +1"),
    (lambda: rotation_power(I2, np.nan), ValueError, "t must be finite"),
    (lambda: project_to_margin(I2, 0.0), ValueError, "gamma must be finite and > 0"),
    (lambda: project_to_margin(I2, -1.0), ValueError, "gamma must be finite and > 0"),
    (lambda: project_to_margin(I2, np.inf), ValueError, "gamma must be finite and > 0"),
    (lambda: margin(np.ones((3, 2))), ValueError, "A must be square"),
    (lambda: least_squares_map(np.ones((3, 2)), np.ones((4, 1))), ValueError, "same number of rows"),
    (lambda: least_squares_map(np.ones(3), np.ones((3, 1))), ValueError, "X must have 2 dimension"),
    (lambda: empirical_risk(np.ones((2, 2)), np.ones((3, 2)), np.ones((3, 1))), ValueError, "Theta must have shape (1, 2)"),
    (lambda: ResidualLayer(A_OK, B_OK.T, "tanh"), ValueError, "B"),
    (lambda: ResidualLayer(A_OK, B_OK, "softplus"), ValueError, "activation must be one of"),
    (lambda: ResidualLayer(A_OK * np.nan, B_OK, "tanh"), ValueError, "A must be finite"),
    (lambda: ResidualLayer(10 * np.ones((2, 3)), np.ones((3, 2)), "tanh").inverse(np.zeros(2)), ValueError, "residual_lipschitz_bound() < 1"),
]


@pytest.mark.parametrize("call, exception, fragment", BAD_INPUTS,
                         ids=[f"{i:02d}-{frag}" for i, (_, _, frag) in enumerate(BAD_INPUTS)])
def test_bad_input_is_rejected_with_a_clear_error(call, exception, fragment):
    with pytest.raises(exception) as info:
        call()
    assert fragment in str(info.value)


def test_the_table_is_large_enough():
    assert len(BAD_INPUTS) >= 20


# --- C1/C3: smooth maps, near-identity decompositions, functional and parameter gradients -----

def _c1_c3_bad_inputs():
    from resclaims.impl.functional_gradient import AffineLayer, CompositionRisk, conditional_means
    from resclaims.impl.near_identity_decomposition import (
        NearIdentityDecomposition, estimate_layer_lipschitz, estimate_max_layer_lipschitz, geometric_schedule,
        linear_schedule, validate_schedule)
    from resclaims.impl.residual_network import ResidualNetwork
    from resclaims.impl.smooth_residual_map import SmoothResidualMap

    tanh = ResidualLayer(A_OK, B_OK, "tanh")
    h = SmoothResidualMap([tanh])
    dec = NearIdentityDecomposition(h, linear_schedule(4))
    return [
        (lambda: SmoothResidualMap([]), ValueError, "layers must contain at least one"),
        (lambda: SmoothResidualMap([ResidualLayer(A_OK, B_OK, "relu")]), ValueError, "layers[0].activation must be one of"),
        (lambda: SmoothResidualMap([tanh, ResidualLayer(np.ones((3, 1)), np.ones((1, 3)), "tanh")]), ValueError,
         "layers must share one dimension d"),
        (lambda: SmoothResidualMap([np.eye(2)]), TypeError, "layers[0] must be a ResidualLayer"),
        (lambda: SmoothResidualMap([ResidualLayer([[-1.0]], [[1.0]], "tanh")]), ValueError, "invertible D(f_K o ... o f_1)(0)"),
        (lambda: h(np.zeros(3)), ValueError, "X must have shape (2,) or (n, 2)"),
        (lambda: h.inverse([0.0, 0.0], tol=0.0), ValueError, "tol must be finite and > 0"),
        (lambda: validate_schedule([0.0, 1.0]), ValueError, "schedule must have a_1 > 0"),
        (lambda: validate_schedule([0.5, 0.4, 1.0]), ValueError, "schedule must be strictly increasing"),
        (lambda: validate_schedule([0.5, 0.9]), ValueError, "schedule must end with a_m = 1"),
        (lambda: validate_schedule([[0.5, 1.0]]), ValueError, "schedule must have 1 dimension"),
        (lambda: validate_schedule([0.5, np.nan, 1.0]), ValueError, "schedule must be finite"),
        (lambda: linear_schedule(0), ValueError, "m must be >= 1"),
        (lambda: geometric_schedule(4, a1=1.5), ValueError, "a1 must be in (0, 1)"),
        (lambda: geometric_schedule(4, a1=-0.5), ValueError, "a1 must be finite and > 0"),
        (lambda: NearIdentityDecomposition(tanh, [1.0]), TypeError, "h must be a SmoothResidualMap"),
        (lambda: dec.layer(5, np.zeros((1, 2))), ValueError, "i must be a layer index in 1..4"),
        (lambda: dec.upper_bounds(-1.0), ValueError, "radius must be finite and > 0"),
        (lambda: estimate_layer_lipschitz(dec, 1, radius=1.0, starts=0), ValueError, "starts must be >= 1"),
        (lambda: estimate_max_layer_lipschitz(dec, radius=np.inf), ValueError, "radius must be finite and > 0"),
        (lambda: AffineLayer(np.ones((2, 3))), ValueError, "W must be square"),
        (lambda: AffineLayer(I2, [1.0]), ValueError, "b must have shape (2,)"),
        (lambda: conditional_means(np.ones((3, 1)), np.ones((2, 1))), ValueError, "same number of rows"),
        (lambda: CompositionRisk([], np.ones((2, 1)), np.ones((2, 1))), ValueError, "layers must contain at least one layer"),
        (lambda: CompositionRisk([AffineLayer(I2)], np.ones((2, 2)), np.ones((2, 1))), ValueError, "X and Y must have the same shape"),
        (lambda: CompositionRisk([AffineLayer(I2)], np.ones((2, 2)), np.ones((2, 2))).derivative_norm(2), ValueError,
         "i must be a layer index in 1..1"),
        (lambda: ResidualNetwork([]), ValueError, "layers must contain at least one ResidualLayer"),
        (lambda: ResidualNetwork([tanh]).risk(np.ones((2, 3)), np.ones((2, 3))), ValueError, "X and Y must both have shape (n, 2)"),
        (lambda: ResidualNetwork([tanh]).with_parameters(np.ones(3)), ValueError, "theta must have shape (12,)"),
        (lambda: tanh.jacobians(np.ones((2, 3))), ValueError, "X must have shape (n, 2)"),
    ]


@pytest.mark.parametrize("index", range(30))
def test_c1_c3_bad_input_is_rejected_with_a_clear_error(index):
    call, exception, fragment = _c1_c3_bad_inputs()[index]
    with pytest.raises(exception) as info:
        call()
    assert fragment in str(info.value)


def test_c1_c3_table_is_fully_parametrized():
    assert len(_c1_c3_bad_inputs()) == 30
