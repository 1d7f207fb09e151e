r"""D1. Deeper plain networks train worse; residual networks of the same depths do not [slides
"Revolution of depth" and "Training deep plain nets vs deep residual nets", after HZRS16].

Statement of record (slide, after HZRS16 Fig. 1 and Fig. 4, an empirical statement): for networks
of one width, one initialisation scheme and one optimiser, trained with one budget on one data set,
the training loss :math:`\ell_{\mathrm{plain}}(L)` reached by *plain* networks of depth :math:`L`
grows with :math:`L` (the degradation problem), while that of *residual* networks
(:math:`x \leftarrow x + f(x)`) does not:

.. math::

   \beta_{\mathrm{plain}} > 0 \quad\text{and not}\quad \beta_{\mathrm{residual}} > 0,\qquad
   \beta = \text{least-squares slope of } \bar\ell(L) \text{ against } L

where :math:`\bar\ell(L)` is the mean final training loss over seeds. Each sign is read from a
percentile bootstrap interval over seeds (:func:`bootstrap_slopes`, seeds resampled with
replacement at every depth): "grows" when the whole interval is above 0, "does not grow" when it
reaches 0 or lies below (:func:`reading`). The experiment (``impl/depth_experiment.py``): MLPs of
width :math:`w` on scikit-learn's ``load_digits``, blocks :math:`f(x) = \mathrm{relu}(N(Wx+b))`,
He normal initialisation, Adam, a fixed number of mini-batch steps, several seeds; the two
families differ by the skip connection alone (same seed: same weights, same mini-batches).

This module holds the statistics (pure numpy): the slope, its bootstrap interval, the ratio of
the deepest to the shallowest loss, and the reading of an interval. The verdict of record is the
nightly sweep's (depths 2 to 80, 5 seeds); the ci profile runs a small version and records what
it reads, with its uncertainty, as the same kind of evidence.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .engine.model import Claim, Expected, Hypothesis, Kind, Provenance, Reference, statement_of_record

#: Level of the bootstrap intervals (two-sided, percentile method).
INTERVAL_LEVEL = 0.90

#: The readings of a slope interval.
GROWS, DOES_NOT_GROW = "grows with depth", "does not grow with depth"

#: Smallest ratio of the deepest to the shallowest depth of a sweep, fewest depths and seeds.
MIN_DEPTH_RATIO, MIN_DEPTHS, MIN_SEEDS = 4, 3, 2


def slope(depths: Sequence[float], mean_losses: Sequence[float]) -> float:
    r"""Least-squares slope :math:`\beta` of the mean loss against the depth (loss per layer).

    >>> slope([2, 4, 6], [1.0, 2.0, 3.0])
    0.5
    """
    x, y = np.asarray(depths, dtype=float), np.asarray(mean_losses, dtype=float)
    centred = x - x.mean()
    return float(centred @ (y - y.mean()) / (centred @ centred))


def depth_ratio(losses: np.ndarray) -> float:
    r"""Mean loss at the deepest depth over the mean loss at the shallowest (rows: depths in
    increasing order, columns: seeds); > 1 where the deeper network trained worse."""
    means = np.asarray(losses, dtype=float).mean(axis=1)
    return float(means[-1] / means[0])


def _with_difference(slopes: dict[str, "np.ndarray | float"]) -> dict:
    if "plain" in slopes and "residual" in slopes:
        slopes["plain - residual"] = slopes["plain"] - slopes["residual"]
    return slopes


def family_slopes(depths: Sequence[float], losses: dict[str, np.ndarray]) -> dict[str, float]:
    """The slope of the mean loss of every family (rows = depths, columns = seeds), and of the
    difference ``plain - residual`` when both are present (the point estimates of
    :func:`bootstrap_slopes`)."""
    return _with_difference({name: slope(depths, np.asarray(values, dtype=float).mean(axis=1))
                             for name, values in losses.items()})


def bootstrap_slopes(depths: Sequence[float], losses: dict[str, np.ndarray], *, resamples: int, seed: int
                     ) -> dict[str, np.ndarray]:
    r"""Bootstrap distribution of the slope of every family (``losses[family]``: rows = depths,
    columns = seeds) and of the difference ``plain - residual`` when both are present.

    At every depth the seeds are resampled with replacement; one draw of seed indices serves every
    family, so that the difference keeps the pairing of the design (one seed = one initialisation
    and one mini-batch stream for both families).
    """
    families = {name: np.asarray(values, dtype=float) for name, values in losses.items()}
    n_depths, n_seeds = next(iter(families.values())).shape
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n_seeds, size=(resamples, n_depths, n_seeds))
    x = np.asarray(depths, dtype=float)
    centred = (x - x.mean()) / ((x - x.mean()) @ (x - x.mean()))
    out = {}
    for name, values in families.items():
        means = np.take_along_axis(values[None, :, :], picks, axis=2).mean(axis=2)  # (resamples, depths)
        out[name] = means @ centred  # the slope is linear in the means (centred x sums to 0)
    return _with_difference(out)


def interval(samples: np.ndarray, level: float = INTERVAL_LEVEL) -> tuple[float, float]:
    """Two-sided percentile interval of a bootstrap distribution."""
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(np.asarray(samples, dtype=float), [tail, 100 - tail])
    return float(low), float(high)


def reading(slope_interval: tuple[float, float]) -> str:
    """:data:`GROWS` when the whole interval is above 0, :data:`DOES_NOT_GROW` otherwise."""
    return GROWS if slope_interval[0] > 0 else DOES_NOT_GROW


def _depths_span(inst) -> float:
    depths = sorted(inst["depths"])
    return depths[-1] / depths[0] if len(depths) >= MIN_DEPTHS and depths[0] > 0 else 0.0


CLAIM = Claim(
    id="d1_plain_vs_residual_depth",
    title="Deeper plain networks train worse, residual ones do not (digits, plain vs residual MLPs)",
    statement=statement_of_record(__doc__),
    hypotheses=(
        Hypothesis("only_the_skip_differs", r"\text{same width, init, optimiser, budget, data, seeds}",
                   lambda inst: inst["plain_setup"] == inst["residual_setup"]),
        Hypothesis("depth_range", rf"\ge {MIN_DEPTHS}\ \text{{depths}},\ L_{{\max}}/L_{{\min}} \ge {MIN_DEPTH_RATIO}",
                   lambda inst: _depths_span(inst) >= MIN_DEPTH_RATIO,
                   edge=lambda inst: _depths_span(inst) - MIN_DEPTH_RATIO),
        Hypothesis("several_seeds", rf"\ge {MIN_SEEDS}\ \text{{seeds per depth}}",
                   lambda inst: len(inst["seeds"]) >= MIN_SEEDS),
    ),
    conclusion=r"\text{bootstrap interval of } \beta_{\mathrm{plain}} > 0,\ "
               r"\text{of } \beta_{\mathrm{residual}} \ni 0 \text{ or } < 0",
    kind=Kind.EXPERIMENT,
    references=(
        Reference("HZRS16", "1512.03385", "Fig. 1 (plain 20 vs 56 layers, CIFAR-10), Fig. 4 and Table 2"),
        Reference("Bartlett 2018 slides", None, 'slides "Revolution of depth" and '
                  '"Training deep plain nets vs deep residual nets"'),
    ),
    provenance=Provenance.SLIDE,
    expected=Expected.HOLDS,
    notes="Nightly sweep of record (2026-12-02; depths 2, 5, 10, 20, 30, 50, 80; seeds 0-4; width 64; all 1,797 "
    "images; Adam 1e-3, 500 steps of 128, about 36 epochs; layer normalization in every block of both "
    "families): mean final training loss plain 0.0108, 0.0029, 0.0043, 0.025, 0.106, 2.23, 2.31 (chance is "
    "ln 10 = 2.30: plain nets of depth >= 50 do not train at all within the budget); residual 0.0158, 0.0050, "
    "0.0030, 0.0025, 0.0023, 0.0020, 0.0017 (falls at every depth). Slope per 10 layers, 90% bootstrap interval "
    "over seeds: plain +0.351 [0.344, 0.355] (grows), residual -0.00097 [-0.00103, -0.00092] (does not grow: "
    "it falls), plain - residual +0.352 [0.345, 0.356]. So the data support the slide, with two qualifications "
    "the numbers show: (1) the plain curve is not monotone: from 2 to 5 blocks the loss falls in both "
    "families (a depth-2 net of width 64 is still capacity-limited in 500 steps); it grows from 10 blocks on, "
    "so the linear slope summarises 'deep plain nets train worse' and not 'every added layer hurts'; "
    "(2) the reversal needs the normalization: without it (N = identity, ablation test, nightly only) He "
    "initialisation doubles the second moment of the residual stream at every block and the residual family "
    "fails first (ablation, seeds 0-2, same budget: mean residual loss 0.27 at 20 blocks, 31 at 30, 1.4e6 at "
    "50; plain 0.012, 0.051, 0.93), as HZRS16's nets had batch normalization in both families. The ci profile "
    "runs a small sweep (depths 2, 8, 24; 2 seeds; width 32; 512 images; 100 steps of 32): plain 0.55, 0.55, "
    "1.39, residual 0.50, 0.32, 0.24, the same reading. Weakly tested by design: one sweep is one instance "
    "of the claim's hypotheses (the gradient checks hold their own). Float32 training at depth >= 24 (plain) "
    "is sensitive to rounding: XLA optimisation flags changed the ci plain depth-24 loss by up to 6% "
    "(1.38 to 1.46), never the reading; no metric of this claim is gated.",
)
