"""Every claim record is complete, discoverable and paired with its test module."""
from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from resclaims.claims.engine import registry
from resclaims.claims.engine.model import Expected

TESTS = Path(__file__).resolve().parents[1]
CLAIMS = registry.all_claims()


def test_discovery_finds_the_claims():
    assert len(CLAIMS) >= 10
    assert list(CLAIMS) == sorted(CLAIMS)


@pytest.mark.parametrize("claim_id", list(CLAIMS))
def test_claim_record_is_complete(claim_id):
    c = CLAIMS[claim_id]
    module = importlib.import_module(f"resclaims.claims.{claim_id}")
    assert module.__doc__ and "Statement of record" in module.__doc__, "module docstring must hold the statement of record"
    assert c.title and c.statement and c.conclusion
    assert c.hypotheses and all(h.name and h.statement and callable(h.predicate) for h in c.hypotheses)
    assert len({h.name for h in c.hypotheses}) == len(c.hypotheses)
    assert c.references and all(r.paper and r.locator for r in c.references)
    if c.expected is Expected.REFUTED:
        assert c.corrected_variant in CLAIMS, "a refuted claim names a registered corrected variant"
        assert CLAIMS[c.corrected_variant].expected is Expected.HOLDS
    assert (TESTS / f"test_{claim_id}.py").is_file(), "each claim has tests/test_<id>.py"


def test_every_claim_test_module_has_a_claim():
    for path in TESTS.glob("test_*.py"):
        cid = path.stem.removeprefix("test_")
        if cid[:2] in {f"{p}{n}" for p in "abc" for n in range(10)}:
            assert cid in CLAIMS, f"{path.name} looks like a claim test but claims/{cid}.py is missing"


def test_unknown_claim_is_a_clear_error():
    with pytest.raises(KeyError, match="unknown claim 'nope'"):
        registry.get("nope")


# --- one source per fact, every conclusion through the evidence ------------------------------

import ast  # noqa: E402

from resclaims.claims.engine.model import statement_of_record  # noqa: E402


def _claim_test_tree(claim_id: str) -> ast.Module:
    return ast.parse((TESTS / f"test_{claim_id}.py").read_text(), filename=f"tests/test_{claim_id}.py")


def _bare_conclusions(tree: ast.Module) -> list[str]:
    """Conclusions that bypass the evidence API: ``assert``, ``raise AssertionError``,
    ``pytest.raises`` and ``pytest.fail`` (a failure of these is an anonymous error, not a
    refutation with its instance)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            found.append(f"line {node.lineno}: assert")
        elif isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, ast.Name) and exc.id == "AssertionError":
                found.append(f"line {node.lineno}: raise AssertionError")
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "pytest"
              and node.attr in ("raises", "fail")):
            found.append(f"line {node.lineno}: pytest.{node.attr}")
    return found


@pytest.mark.parametrize("claim_id", list(CLAIMS))
def test_claim_tests_conclude_only_through_the_evidence(claim_id):
    """No bare assert in a claim test module: every conclusion is recorded with its instance."""
    assert _bare_conclusions(_claim_test_tree(claim_id)) == []


def test_the_bare_conclusion_detector_finds_each_form():
    tree = ast.parse("assert x\nraise AssertionError('no')\nwith pytest.raises(E):\n    f()\npytest.fail('x')\n")
    assert len(_bare_conclusions(tree)) == 4


@pytest.mark.parametrize("claim_id", list(CLAIMS))
def test_statement_of_record_is_written_once(claim_id):
    """The statement of record is the docstring's; the record reads it, and notes do not repeat it."""
    module = importlib.import_module(f"resclaims.claims.{claim_id}")
    claim = CLAIMS[claim_id]
    assert claim.statement == statement_of_record(module.__doc__)
    assert module.__doc__.count("Statement of record") == 1
    assert claim.statement not in " ".join(claim.notes.split())


@pytest.mark.parametrize("claim_id", [cid for cid, c in CLAIMS.items() if c.tracked])
def test_tracked_metric_names_are_shared_constants(claim_id):
    """A tracked metric's name is a constant the claim exports and the test imports: the test
    module holds no string literal equal to it (a typo would silently end its tracking)."""
    module = importlib.import_module(f"resclaims.claims.{claim_id}")
    names = {t.metric for t in CLAIMS[claim_id].tracked}
    exported = {value for value in vars(module).values() if isinstance(value, str)}
    assert names <= exported, f"tracked metrics not exported as constants: {sorted(names - exported)}"
    literals = {node.value for node in ast.walk(_claim_test_tree(claim_id))
                if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert not names & literals, f"tracked metric names spelt out in the test: {sorted(names & literals)}"
