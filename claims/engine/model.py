r"""The claim record: what a theorem of the seed says, in a form the engine can act on.

A claim module (``claims/<id>.py``) defines one module-level ``CLAIM`` of type
:class:`Claim` and the pure formulas its tests need (bounds, rates, predicates). It never
imports ``impl``: the mathematics stays independent of the algorithms under test.
"""
from __future__ import annotations

import enum
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

Instance = Mapping[str, Any]


class MissingInstanceKey(KeyError):
    """A hypothesis read a key the instance does not have: an error, never a default."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0])


class InstanceView(Mapping):
    """The instance as hypotheses see it: reading a missing key raises
    :class:`MissingInstanceKey` (``get`` included), so a test that forgets to record a datum
    gets an error, not the hypothesis counted as held."""

    def __init__(self, claim_id: str, data: Instance) -> None:
        self._claim_id, self._data = claim_id, data

    def __getitem__(self, key: str) -> Any:
        try:
            return self._data[key]
        except KeyError:
            raise MissingInstanceKey(
                f"claim {self._claim_id!r}: a hypothesis reads {key!r}, absent from the instance "
                f"(keys: {', '.join(sorted(map(str, self._data)))}); record it in the instance") from None

    def get(self, key: str, default: Any = None) -> Any:
        return self[key]  # no silent default

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


_STATEMENT_SECTION = re.compile(r"^Statement of record\b.*?^\.\. math::[ \t]*\n((?:[ \t]*\n|[ \t]+\S[^\n]*\n)+)",
                                flags=re.M | re.S)


def statement_of_record(docstring: str | None) -> str:
    r"""The LaTeX statement of record, read from a claim module's docstring: the first
    ``.. math::`` block after the line starting ``Statement of record``. The docstring is its one
    source; ``Claim(statement=statement_of_record(__doc__))``.

    >>> statement_of_record('Statement of record (slide):\n\n.. math::\n\n   x \\le 1\n\nMore.\n')
    'x \\le 1'
    """
    match = _STATEMENT_SECTION.search((docstring or "") + "\n")
    if match is None:
        raise ValueError("the module docstring has no 'Statement of record' section with a '.. math::' block")
    return " ".join(textwrap.dedent(match.group(1)).split())


class Kind(str, enum.Enum):
    """What sort of statement a claim is; decides how slack is read."""

    IDENTITY = "identity"
    UPPER_BOUND = "upper bound"
    LOWER_BOUND = "lower bound"
    RATE = "rate"
    IMPOSSIBILITY = "impossibility"
    INVARIANT = "invariant"
    EXISTENCE = "existence"
    EXPERIMENT = "experiment"
    OBSERVATION = "observation"


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
        The statement of record in LaTeX, as the slide states it, read from the module
        docstring with :func:`statement_of_record` (written once).
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

    def view(self, instance: Instance) -> InstanceView:
        return instance if isinstance(instance, InstanceView) else InstanceView(self.id, instance)

    def hypotheses_held(self, instance: Instance) -> dict[str, bool]:
        """Evaluate every hypothesis predicate on ``instance`` (a missing key is an error)."""
        view = self.view(instance)
        return {h.name: h.holds(view) for h in self.hypotheses}

    def source(self) -> str:
        """Short source string for the summary table (first reference)."""
        return str(self.references[0]) if self.references else self.provenance.value
