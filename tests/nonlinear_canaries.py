"""Sensitivity searches of the C1/C3 tests: ``canaries.expect_caught`` without Hypothesis'
``explain`` phase, which re-runs the predicate about a hundred times to annotate a failure that
``find`` never prints (it cost ~2 s per canary on the composition searches)."""
from __future__ import annotations

from unittest import mock

from hypothesis import Phase, settings

import canaries

FAST_CANARY_SEARCH = settings(canaries.CANARY_SEARCH, phases=[p for p in Phase if p is not Phase.explain])


def expect_caught(claim, planted, strategy, violates, describe=repr):
    """``canaries.expect_caught`` with ``FAST_CANARY_SEARCH`` (same search, same minimal example)."""
    with mock.patch.object(canaries, "CANARY_SEARCH", FAST_CANARY_SEARCH):
        return canaries.expect_caught(claim, planted, strategy, violates, describe)
