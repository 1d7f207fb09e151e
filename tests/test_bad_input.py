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
