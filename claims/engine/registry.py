"""Automatic discovery of claims: every public module of ``resclaims.claims`` (the package above
this engine) defines ``CLAIM``. Packages (this engine) and ``_private`` helper modules hold none."""
from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from .. import __name__ as _package
from .. import __path__ as _package_path
from .model import Claim


def claim_module_names() -> list[str]:
    """Names of the claim modules, sorted (the report's order)."""
    return sorted(
        info.name
        for info in pkgutil.iter_modules(_package_path)
        if not info.ispkg and not info.name.startswith("_")
    )


@cache
def all_claims() -> dict[str, Claim]:
    """Import every claim module and return ``{id: Claim}`` in report order.

    Raises
    ------
    LookupError
        If a module has no ``CLAIM`` or its id differs from its module name.
    """
    claims: dict[str, Claim] = {}
    for name in claim_module_names():
        module = importlib.import_module(f"{_package}.{name}")
        claim = getattr(module, "CLAIM", None)
        if not isinstance(claim, Claim):
            raise LookupError(f"claims/{name}.py defines no CLAIM of type Claim")
        if claim.id != name:
            raise LookupError(f"claims/{name}.py: CLAIM.id is {claim.id!r}, expected {name!r}")
        claims[claim.id] = claim
    return claims


def get(claim_id: str) -> Claim:
    """Return the claim with this id, or raise ``KeyError`` listing the known ids."""
    claims = all_claims()
    try:
        return claims[claim_id]
    except KeyError:
        raise KeyError(f"unknown claim {claim_id!r}; known: {', '.join(claims)}") from None
