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


class Truth(str, enum.Enum):
    """Which way a constant's valid values lie, hence which side a search bounds it from."""

    LARGEST_VALID = "largest valid"    # the statement holds for every value up to the truth (c_0, a step)
    SMALLEST_VALID = "smallest valid"  # ... for every value from the truth up (a bound's coefficient)


@dataclass(frozen=True)
class Constant:
    r"""A constant of a theorem, as the constants atlas shows it.

    The truth is the best valid value. The suite's ``proven`` value is valid (a proof in the claim
    module), so it bounds the truth from one side; an adversarial search (an optimizer over
    instances, from many starts) finds instances that bound it from the other side, recorded with
    :func:`~resclaims.claims.engine.evidence.record_constant`. For a ``LARGEST_VALID`` constant
    (:math:`c_0`) a search instance is a failure at a small value (the best found is the smallest);
    for a ``SMALLEST_VALID`` one (a bound's coefficient) an instance that needs a large value (the
    best found is the largest). ``room`` = proven / best found (largest valid) or best found /
    proven (smallest valid): 1 means the proven value is the truth.

    Attributes
    ----------
    name : str
        Unique within the claim, e.g. ``"c_0"``; the atlas and the gate use ``"<claim>: <name>"``.
    meaning : str
        What the constant bounds, in words (the search's objective).
    truth : Truth
        Which way valid values lie.
    slide, paper : str
        The slide's value (``"unnamed"`` when it names none) and the paper's, with its version
        (``"unknown"`` when the paper's text was not available).
    proven : float or None
        The suite's proven value (``None`` where the suite proves none).
    proven_by : str
        Where the proof is (or why there is none).
    other_side : str
        What bounds the truth beyond the search: a proof in the module, an exact family, or
        ``"open"``.
    """

    name: str
    meaning: str
    truth: Truth
    slide: str
    paper: str
    proven: float | None
    proven_by: str
    other_side: str

    @property
    def better(self) -> str:
        """The direction in which a search result is stronger (the gate's ``better``)."""
        return "lower" if self.truth is Truth.LARGEST_VALID else "higher"

    @property
    def metric(self) -> str:
        """The metric holding the best value found (folded over every search of the run)."""
        return f"atlas: {self.name}, best found"

    def room(self, found: float | None) -> float | None:
        """proven / found (largest valid) or found / proven (smallest valid); 1 = the proof is tight."""
        if found is None or self.proven is None or found == 0 or self.proven == 0:
            return None
        return self.proven / found if self.truth is Truth.LARGEST_VALID else found / self.proven


#: Relative tolerance of the gate on an atlas row: a search that finds a weaker extremal instance
#: than the baseline's by more than this fails the gate (searches are seeded in the ci profile).
ATLAS_GATE_RTOL = 1e-6

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
    constants : tuple of Constant
        The theorem's constants, one row each in the constants atlas; every one must be searched
        (the judge calls the claim inconclusive otherwise) and the gate tracks each.
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
    constants: tuple[Constant, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.expected is Expected.REFUTED and not self.corrected_variant:
            raise ValueError(f"claim {self.id!r}: a refuted claim must name its corrected_variant")
        names = [t.metric for t in self.tracked]
        if len(set(names)) != len(names):
            raise ValueError(f"claim {self.id!r}: a metric is tracked twice")
        constant_names = [c.name for c in self.constants]
        if len(set(constant_names)) != len(constant_names):
            raise ValueError(f"claim {self.id!r}: a constant is declared twice")

    def constant(self, name: str) -> Constant:
        """The declared constant ``name`` (a search may only record declared constants)."""
        for c in self.constants:
            if c.name == name:
                return c
        raise KeyError(f"claim {self.id!r} declares no constant {name!r} "
                       f"(declared: {', '.join(c.name for c in self.constants) or 'none'})")

    def gate_metrics(self) -> tuple[Tracked, ...]:
        """The tracked metrics, with the worst slack added unless the claim sets its own, and the
        best value found for every constant of the atlas."""
        own = tuple(self.tracked)
        own += tuple(Tracked(c.metric, c.better, rtol=ATLAS_GATE_RTOL) for c in self.constants)
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
