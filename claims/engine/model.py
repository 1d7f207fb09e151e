r"""The claim record: what a theorem of the seed says, in a form the engine can act on.

A claim module (``claims/<id>.py``) defines one module-level ``CLAIM`` of type
:class:`Claim` and the pure formulas its tests need (bounds, rates, predicates). It never
imports ``impl``: the mathematics stays independent of the algorithms under test.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

Instance = Mapping[str, Any]


class Kind(str, enum.Enum):
    """What sort of statement a claim is; decides how slack is read."""

    IDENTITY = "identity"
    UPPER_BOUND = "upper bound"
    LOWER_BOUND = "lower bound"
    RATE = "rate"
    IMPOSSIBILITY = "impossibility"
    INVARIANT = "invariant"
    EXISTENCE = "existence"


class Provenance(str, enum.Enum):
    """Where the statement of record comes from (see shared/REFERENCES.md)."""

    SLIDE = "slide"
    PAPER = "paper"
    DERIVED = "derived"
    UNVERIFIED = "unverified"


class Expected(str, enum.Enum):
    """The verdict the suite expects: the claim holds, or it is false as stated."""

    HOLDS = "holds"
    REFUTED = "refuted"


@dataclass(frozen=True)
class Reference:
    """A citation with a locator, e.g. ``Reference("HM16", "1611.04231", "Thm 2.1")``."""

    paper: str
    arxiv: str | None
    locator: str

    def __str__(self) -> str:
        arxiv = f", arXiv:{self.arxiv}" if self.arxiv else ""
        return f"{self.paper}{arxiv}, {self.locator}"


@dataclass(frozen=True)
class Hypothesis:
    r"""One named hypothesis with a predicate evaluable on an instance.

    ``predicate(instance) -> bool``; ``statement`` is LaTeX for the report. ``edge``
    (optional) is the instance's signed distance to the hypothesis' boundary (>= 0 where it
    holds, e.g. ``1 - tau`` for ``tau < 1``): the report shows how close the search came.
    """

    name: str
    statement: str
    predicate: Callable[[Instance], bool]
    edge: Callable[[Instance], float] | None = None

    def holds(self, instance: Instance) -> bool:
        return bool(self.predicate(instance))


@dataclass(frozen=True)
class Tracked:
    """A metric the regression gate compares with the committed baseline.

    ``better`` is ``"higher"`` or ``"lower"``; a run fails the gate when the metric is worse
    than the baseline by more than ``rtol * |baseline| + atol``. Track only metrics that are
    reproducible under the ``ci`` profile (fixed seeds or derandomized examples).
    """

    metric: str
    better: str
    rtol: float = 0.0
    atol: float = 0.0

    def __post_init__(self) -> None:
        if self.better not in ("higher", "lower"):
            raise ValueError(f"Tracked({self.metric!r}): better must be 'higher' or 'lower', got {self.better!r}")
        if self.rtol < 0 or self.atol < 0:
            raise ValueError(f"Tracked({self.metric!r}): rtol and atol must be >= 0")

    def limit(self, baseline: float) -> float:
        """The worst value still accepted."""
        margin = self.rtol * abs(baseline) + self.atol
        return baseline - margin if self.better == "higher" else baseline + margin


#: Every claim's worst slack is tracked (higher is better) unless the claim tracks it itself.
WORST_SLACK = "worst slack"
DEFAULT_SLACK_TRACKING = Tracked(WORST_SLACK, "higher", atol=1e-3)


@dataclass(frozen=True)
class Claim:
    r"""The machine-readable record of one theorem of the seed.

    Attributes
    ----------
    id : str
        Equal to the module name (``claims/<id>.py``) and the test module
        (``tests/test_<id>.py``).
    statement : str
        The statement of record in LaTeX, as the slide states it.
    hypotheses : tuple of Hypothesis
        Every hypothesis, named, with a predicate.
    conclusion : str
        The conclusion in LaTeX (what the tests check on each instance).
    expected : Expected
        ``HOLDS``, or ``REFUTED`` when the statement is false as written; a refuted claim
        names its ``corrected_variant`` (the id of the claim that the suite verifies instead).
    tracked : tuple of Tracked
        Metrics the regression gate compares with ``reports/baseline.json``, each with its
        direction and tolerance (the worst slack is always tracked, see :data:`WORST_SLACK`).
    """

    id: str
    title: str
    statement: str
    hypotheses: tuple[Hypothesis, ...]
    conclusion: str
    kind: Kind
    references: tuple[Reference, ...]
    provenance: Provenance
    expected: Expected = Expected.HOLDS
    corrected_variant: str | None = None
    notes: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)
    tracked: tuple[Tracked, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.expected is Expected.REFUTED and not self.corrected_variant:
            raise ValueError(f"claim {self.id!r}: a refuted claim must name its corrected_variant")
        names = [t.metric for t in self.tracked]
        if len(set(names)) != len(names):
            raise ValueError(f"claim {self.id!r}: a metric is tracked twice")

    def gate_metrics(self) -> tuple[Tracked, ...]:
        """The tracked metrics, with the worst slack added unless the claim sets its own."""
        own = tuple(self.tracked)
        return own if any(t.metric == WORST_SLACK for t in own) else own + (DEFAULT_SLACK_TRACKING,)

    def hypotheses_held(self, instance: Instance) -> dict[str, bool]:
        """Evaluate every hypothesis predicate on ``instance``."""
        return {h.name: h.holds(instance) for h in self.hypotheses}

    def source(self) -> str:
        """Short source string for the summary table (first reference)."""
        return str(self.references[0]) if self.references else self.provenance.value
