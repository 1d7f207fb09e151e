"""Hypothesis profiles of the suite, and the example budget of expensive tests.

* ``dev``: quick, randomized, with the example database (the default on a workstation).
* ``ci``: deterministic (``derandomize=True``), no database; loaded automatically when the
  ``CI`` environment variable is set (Hypothesis' own rule, which the plugin respects).
* ``nightly``: randomized, many more examples, every phase including ``target``.

Choose one with ``pytest --hypothesis-profile NAME`` or ``resclaims verify --profile NAME``.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

#: Multiplier applied by :func:`budget` per profile.
SCALE = {"dev": 1, "ci": 1, "nightly": 20}

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

settings.register_profile("dev", max_examples=40, **_COMMON)
settings.register_profile(
    "ci", max_examples=40, derandomize=True, database=None, print_blob=True, **_COMMON
)
settings.register_profile(
    "nightly",
    max_examples=40 * SCALE["nightly"],
    phases=list(Phase),
    database=None,
    **_COMMON,
)

PROFILES = tuple(SCALE)


def default_profile() -> str:
    """``ci`` when running under CI (as Hypothesis itself decides), else ``dev``."""
    return "ci" if os.environ.get("CI") else "dev"


def current_profile() -> str:
    name = settings._current_profile  # no public accessor in Hypothesis
    return name if name in SCALE else default_profile()


def make_generation_order_independent() -> bool:
    """Stop Hypothesis from drawing "local constants" harvested from ``sys.modules``.

    Since 6.131 Hypothesis sometimes draws literals found in the project's loaded modules,
    and freezes that pool per process at first use, so a derandomized test generates
    different examples depending on which modules an xdist worker had imported before it.
    The ``ci`` profile must give identical results with ``-n 0`` and ``-n auto``, so it uses
    the (empty) initial pool. Private API: if it moves, this returns False and the engine
    test comparing ``-n 0`` with ``-n 2`` says so.
    """
    try:
        from hypothesis.internal.conjecture import providers

        empty = providers._local_constants
        providers._get_local_constants = lambda: empty
        return True
    except (ImportError, AttributeError):
        return False


def budget(base: int) -> int:
    """Example count for a test whose ``dev``/``ci`` budget is ``base``.

    Use as ``@settings(max_examples=budget(10))`` on tests that cost more than a few
    milliseconds per example, so that the nightly profile still scales them.
    """
    return max(1, base * SCALE.get(current_profile(), 1))
