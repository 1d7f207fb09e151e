"""The judge: the one place where a claim's verdict is decided, from the evidence of a run.

Everything a report says about a claim's standing comes from :func:`judge`: the status, its
reason, whether it matches the expected verdict, whether the claim was weakly tested, and how
tight an inequality looks. The report renders the :class:`Judgement`; nothing else decides.

The rules, in order (the first that applies decides):

1. no test of the claim ran: ``inconclusive``;
2. a test failed for a reason the evidence does not explain (a crash, a setup error, a
   reproduction that does not run): ``error``;
3. a sensitivity check was not caught (the check is not shown able to fail): ``error``;
4. a violation on an instance satisfying every hypothesis (from the search, from polishing, or a
   recorded counterexample): ``refuted``;
5. no instance satisfied the hypotheses: ``inconclusive``;
6. no sensitivity check ran: ``inconclusive`` (a check not shown able to fail proves nothing);
7. a constant the claim declares for the atlas was not searched: ``inconclusive``;
8. otherwise ``verified``: searched N instances, none violated.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

from .evidence import OWN_HYPOTHESES_METRIC, ClaimEvidence
from .model import Claim, Expected, Kind

STATUSES = ("verified", "refuted", "inconclusive", "error")
_MATCHES = {Expected.HOLDS: "verified", Expected.REFUTED: "refuted"}

#: A claim is "weakly tested" when fewer instances than this satisfied its hypotheses, or
#: fewer than this fraction of the generated ones.
WEAK_MIN_HELD, WEAK_MIN_FRACTION = 10, 0.2
#: A bound is "tight" when the best ratio found is within this of 1.
TIGHT_WITHIN = 0.01
#: A fitted gap exponent above this reads as "loose by a growing factor".
GROWING_GAP_EXPONENT = 0.15

#: How a failed test is explained (set by the plugin from the exception's type).
VIOLATION, CANARY, ERROR = "violation", "canary", "error"


@dataclass
class TestOutcome:
    nodeid: str
    outcome: str  # "passed", "failed", "skipped"
    exception: str | None = None  # exception type name when failed (for the report)
    message: str = ""
    duration: float = 0.0
    failure: str | None = None  # VIOLATION, CANARY or ERROR when failed


@dataclass(frozen=True)
class Judgement:
    status: str
    reason: str
    matches_expected: bool
    weakly_tested: bool
    tightness: dict | None


@dataclass
class ClaimRun:
    """Everything a run learned about one claim: the evidence and the outcome of its tests."""

    claim: Claim
    evidence: ClaimEvidence = field(default_factory=ClaimEvidence)
    tests: list[TestOutcome] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return sum(t.duration for t in self.tests)

    @cached_property
    def judgement(self) -> Judgement:
        return judge(self.claim, self.evidence, self.tests)


def weakly_tested(held: int, generated: int) -> bool:
    return held < WEAK_MIN_HELD or held < WEAK_MIN_FRACTION * generated


def _status(claim: Claim, ev: ClaimEvidence, tests: list[TestOutcome]) -> tuple[str, str]:
    ran = [t for t in tests if t.outcome != "skipped"]
    if not ran:
        return "inconclusive", "no test of this claim ran (not selected, or skipped)"
    violated = ev.violations > 0 or ev.counterexample is not None
    for t in ran:
        if t.outcome != "failed":
            continue
        explained = (t.failure == VIOLATION and violated) or (
            t.failure == CANARY and any(not c["caught"] for c in ev.canaries.values()))
        if not explained:
            return "error", f"{t.nodeid} raised {t.exception}: {t.message}"
    missed = sorted(name for name, c in ev.canaries.items() if not c["caught"])
    if missed:
        return "error", f"sensitivity check not caught (the check is not shown able to fail): {missed[0]}"
    if violated:
        polished = ev.polished or {}
        where = "polishing found" if polished.get("violated") else "the search found"
        return "refuted", f"{where} a violation on an instance satisfying every hypothesis"
    if ev.held == 0:
        return "inconclusive", "no generated instance satisfied the hypotheses"
    if not ev.canaries:
        return "inconclusive", ("no sensitivity check ran: the check is not shown able to fail "
                                f"({ev.held} instances held, none violated)")
    unsearched = [c.name for c in claim.constants if c.name not in ev.constants]
    if unsearched:
        return "inconclusive", f"constant {unsearched[0]} of the atlas was not searched"
    own = _own_hypotheses(ev)
    return "verified", (f"searched {ev.held} instances satisfying the hypotheses"
                        + (f" ({own} of them checked under hypotheses of their own)" if own else "")
                        + f", none violated; {len(ev.canaries)} sensitivity checks caught")


def _own_hypotheses(ev: ClaimEvidence) -> int:
    """Held instances of checks that replaced the claim's hypotheses by their own (``held=``)."""
    return int(ev.metrics.get(OWN_HYPOTHESES_METRIC, {}).get("value", 0))


def judge(claim: Claim, ev: ClaimEvidence, tests: list[TestOutcome]) -> Judgement:
    """The verdict of ``claim`` from its evidence and the outcome of its tests. Weak testing counts
    only the instances that satisfied the claim's own hypotheses."""
    status, reason = _status(claim, ev, tests)
    under_claim = ev.held - _own_hypotheses(ev)
    weak = weakly_tested(under_claim, ev.generated)
    if weak and status == "verified":
        reason += f" (weakly tested: {under_claim} of {ev.generated} generated instances held the claim's hypotheses)"
    return Judgement(status=status, reason=reason, matches_expected=status == _MATCHES[claim.expected],
                     weakly_tested=weak,
                     tightness=tightness(claim.kind, ev.worst_slack, ev.by_size) if status == "verified" else None)


def bound_ratio(kind: Kind, slack: float) -> float:
    """lhs/rhs of an upper bound, rhs/lhs of a lower bound (1 = attained), from the slack."""
    return 1.0 - slack if kind is Kind.UPPER_BOUND else 1.0 / (1.0 + slack)


def tightness(kind: Kind, worst_slack, by_size: dict) -> dict | None:
    """How tight an inequality looks: the best ratio found and its trend over problem sizes."""
    if kind not in (Kind.UPPER_BOUND, Kind.LOWER_BOUND) or worst_slack is None:
        return None
    best = bound_ratio(kind, max(worst_slack, 0.0))  # a verified claim's slack is >= 0 up to rounding
    sizes = sorted((float(k), bound_ratio(kind, max(v, 0.0))) for k, v in by_size.items())
    out = {"best_ratio": best, "per_size": [[n, r] for n, r in sizes]}
    if best >= 1 - TIGHT_WITHIN:
        out["verdict"] = f"tight: attained within {TIGHT_WITHIN:.0%}"
        return out
    usable = [(n, r) for n, r in sizes if n > 0 and r > 0]
    if len(usable) >= 3 and usable[-1][0] / usable[0][0] >= 4:
        xs = [math.log(n) for n, _ in usable]
        ys = [math.log(1 / r) for _, r in usable]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
        out["gap_exponent"] = slope
        if slope > GROWING_GAP_EXPONENT:
            out["verdict"] = f"loose by a growing factor (gap ~ size^{slope:.2f})"
            return out
        out["verdict"] = f"loose by a constant factor ≈ {1 / best:.3g}"
        return out
    out["verdict"] = f"loose by a factor ≈ {1 / best:.3g} (too few sizes for a trend)"
    return out
