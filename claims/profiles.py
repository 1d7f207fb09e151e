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


def budget(base: int) -> int:
    """Example count for a test whose ``dev``/``ci`` budget is ``base``.

    Use as ``@settings(max_examples=budget(10))`` on tests that cost more than a few
    milliseconds per example, so that the nightly profile still scales them.
    """
    return max(1, base * SCALE.get(current_profile(), 1))
