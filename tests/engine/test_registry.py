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
