"""Sensitivity checks: a planted bug or a broken hypothesis that the search must catch.

A check that cannot fail is a defect, so every inequality claim runs its own check on
deliberately wrong input and records the outcome with ``evidence.record_canary`` (which fails
the test when nothing was caught). Searches are deterministic and run inside
``evidence.scratch()``, so the violations they provoke never count against the claim.
"""
from __future__ import annotations

from typing import Any, Callable

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import NoSuchExample
from hypothesis.strategies import SearchStrategy

from resclaims.claims.engine import evidence
from resclaims.claims.engine.model import Claim

#: Deterministic, and without the ``explain`` phase: it re-runs the predicate ~100 times to
#: annotate a failure that ``find`` never prints (2 s per canary on the slower checks).
CANARY_SEARCH = settings(max_examples=200, derandomize=True, database=None, deadline=None,
                         suppress_health_check=list(HealthCheck),
                         phases=[p for p in Phase if p is not Phase.explain])


def search_violation(strategy: SearchStrategy, violates: Callable[[Any], bool]) -> Any | None:
    """The minimal example of ``strategy`` for which ``violates`` is true, or ``None``."""
    with evidence.scratch():
        try:
            return find(strategy, violates, settings=CANARY_SEARCH)
        except NoSuchExample:
            return None


def expect_caught(claim: Claim, planted: str, strategy: SearchStrategy, violates: Callable[[Any], bool],
                  describe: Callable[[Any], str] = repr) -> Any:
    """Search for a violation of the planted bug ``planted``; record it as a canary of ``claim``."""
    found = search_violation(strategy, violates)
    detail = (f"minimal instance {describe(found)}" if found is not None
              else f"no violation in {CANARY_SEARCH.max_examples} examples")
    evidence.record_canary(claim, planted, caught=found is not None, detail=detail)
    return found


def raises_violation(check: Callable[..., Any], *args, **kwargs) -> bool:
    """True if ``check(*args, **kwargs)`` reports a violation (raises ``evidence.Violation``)."""
    try:
        check(*args, **kwargs)
    except evidence.Violation:
        return True
    return False
