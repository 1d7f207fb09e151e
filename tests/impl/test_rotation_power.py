"""Real powers of rotations (the building block of A1/A4): group law, orthogonality, angle pi."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from resclaims.impl.rotation_power import RotationSchur, rotation_power
from strategies.matrices import rotations
from tolerances import product_tol

EXPONENTS = st.floats(-2, 2, allow_nan=False, allow_subnormal=False)
PI_ROTATION_3D = np.diag([-1.0, -1.0, 1.0])


@st.composite
def rotation_matrices(draw):
    return draw(rotations(draw(st.integers(1, 6))))


@given(R=rotation_matrices(), s=EXPONENTS, t=EXPONENTS)
@example(R=-np.eye(2), s=0.5, t=0.5)
@example(R=-np.eye(4), s=1 / 3, t=2 / 3)
@example(R=PI_ROTATION_3D, s=0.25, t=0.75)
def test_powers_form_a_one_parameter_group_of_rotations(R, s, t):
    schur = RotationSchur.of(R)
    Rs, Rt, Rst = schur.power(s), schur.power(t), schur.power(s + t)
    d, tol = R.shape[0], product_tol(R.shape[0], 4)
    assert np.linalg.norm(Rs @ Rt - Rst) <= tol
    assert np.linalg.norm(Rs.T @ Rs - np.eye(d)) <= tol and np.linalg.det(Rs) > 0
    assert np.linalg.norm(schur.power(1.0) - R) <= tol
    assert np.all(np.abs(schur.angles) <= np.pi)


@pytest.mark.parametrize("R", [-np.eye(2), -np.eye(4), PI_ROTATION_3D], ids=["-I2", "-I4", "pi-3d"])
def test_square_root_of_angle_pi_is_real(R):
    half = rotation_power(R, 0.5)
    assert np.isrealobj(half) and np.allclose(half @ half, R, atol=1e-14)
