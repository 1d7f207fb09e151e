"""The depth experiment's training code beyond the claim: seeding, padding, validation.

The numpy parts need no framework; the one check that runs JAX (a padded stack acts as the shorter
network) skips without the optional extra ``experiment``.
"""
from __future__ import annotations

import numpy as np
import pytest

from resclaims.impl import depth_experiment as experiment


def test_a_seed_gives_the_same_blocks_at_every_depth():
    """Block l of a seed does not depend on how many blocks follow (what padding relies on)."""
    short, long = experiment.init_params(3, 2, 8), experiment.init_params(3, 5, 8)
    for name in ("W_in", "W_out"):
        np.testing.assert_array_equal(short[name], long[name])
    np.testing.assert_array_equal(short["W"], long["W"][:2])
    assert short["W"].dtype == np.float32 and short["W"].shape == (2, 8, 8)


def test_he_normal_scale_of_the_blocks():
    W = experiment.init_params(0, 40, 64)["W"]
    assert abs(W.std() - experiment.he_normal_std(64)) < 0.01 * experiment.he_normal_std(64)


def test_minibatches_are_seeded_and_in_range():
    rows = experiment.minibatch_rows(7, 20, 16, 100)
    np.testing.assert_array_equal(rows, experiment.minibatch_rows(7, 20, 16, 100))
    assert rows.shape == (20, 16) and rows.min() >= 0 and rows.max() < 100
    assert not np.array_equal(rows, experiment.minibatch_rows(8, 20, 16, 100))


@pytest.mark.parametrize("bad", [dict(width=0), dict(steps=-1), dict(learning_rate=0.0), dict(batch_size=0),
                                 dict(normalization="batch")])
def test_bad_configs_are_rejected(bad):
    with pytest.raises(ValueError):
        experiment.TrainingConfig(**bad)


def test_he_normal_std_rejects_an_empty_layer():
    with pytest.raises(ValueError, match="fan_in"):
        experiment.he_normal_std(0)


def test_padded_stack_acts_as_the_shorter_network():
    """``active`` = 2 on a stack of 4 gives the logits of the 2-block network (same seed), both skips."""
    jax = pytest.importorskip("jax", reason="needs the optional extra `experiment`")
    pytest.importorskip("sklearn", reason="needs the optional extra `experiment`")
    forward = jax.jit(experiment.forward, static_argnames="normalization")  # eager scan compiles per op: slower
    pixels, _ = experiment.load_digits_data(5)
    padded, short = experiment.init_params(0, 4, 6), experiment.init_params(0, 2, 6)
    for skip in (0.0, 1.0):
        np.testing.assert_allclose(forward(padded, pixels, skip=skip, active=2), forward(short, pixels, skip=skip),
                                   rtol=1e-6, atol=1e-6)
