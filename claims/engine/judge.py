"""From the evidence of a run to one verdict per claim."""
from __future__ import annotations

from dataclasses import dataclass, field

from .evidence import ClaimEvidence
from .model import Claim, Expected

STATUSES = ("verified", "refuted", "inconclusive", "error")
_MATCHES = {Expected.HOLDS: "verified", Expected.REFUTED: "refuted"}


@dataclass
class TestOutcome:
    nodeid: str
    outcome: str  # "passed", "failed", "skipped"
    exception: str | None = None  # exception type name when failed
    message: str = ""
    duration: float = 0.0


@dataclass
class ClaimRun:
    """Everything a run learned about one claim."""

    claim: Claim
    evidence: ClaimEvidence = field(default_factory=ClaimEvidence)
    tests: list[TestOutcome] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return sum(t.duration for t in self.tests)

    def status_and_reason(self) -> tuple[str, str]:
        ev = self.evidence
        ran = [t for t in self.tests if t.outcome != "skipped"]
        if not ran:
            return "inconclusive", "no test of this claim ran (not selected, or skipped)"
        errors = [t for t in ran if t.outcome == "failed" and t.exception not in ("AssertionError", None)]
        if errors:
            t = errors[0]
            return "error", f"{t.nodeid} raised {t.exception}: {t.message}"
        if ev.counterexample is not None or ev.violations:
            return "refuted", "a violation was found on an instance satisfying every hypothesis"
        failed = [t for t in ran if t.outcome == "failed"]
        if failed:
            t = failed[0]
            return "error", f"{t.nodeid} failed without a recorded violation: {t.message}"
        if ev.held == 0:
            return "inconclusive", "no generated instance satisfied the hypotheses"
        return "verified", f"searched {ev.held} instances satisfying the hypotheses, none violated"

    @property
    def status(self) -> str:
        return self.status_and_reason()[0]

    @property
    def matches_expected(self) -> bool:
        return self.status == _MATCHES[self.claim.expected]
