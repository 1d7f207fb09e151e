"""The examples in the docstrings of ``impl`` run (doctest)."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import resclaims.impl

MODULES = [m.name for m in pkgutil.iter_modules(resclaims.impl.__path__) if not m.name.startswith("_")]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"resclaims.impl.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0, f"impl/{name}.py has no docstring example"
