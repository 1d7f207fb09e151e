"""Mutation canaries: plausible algorithm bugs planted in ``impl/``; the claims must catch them.

``resclaims mutants`` copies ``impl/`` into a temporary folder laid out as the package
``resclaims.impl`` (``claims`` linked, not copied), applies one mutant, and runs the tests
that can see it (the test modules importing the mutated module or an ``impl`` module that
depends on it, plus the doctests and bad-input tests) with that folder first on
``PYTHONPATH``, so the working tree is never modified. A mutant is *killed* when a test goes
red; the report ``reports/mutants.{md,json}`` says which claims' tests killed it. Each
catalogue entry replaces one exact snippet, which must occur exactly once (a stale entry is
an error, not a silent survivor); a known survivor carries its explanation in ``note``.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .cli import project_root

PROJECT_ROOT = project_root()


@dataclass(frozen=True)
class Mutant:
    id: str
    file: str  # relative to impl/
    old: str
    new: str
    description: str
    note: str = ""  # why it survives (equivalent mutant, or the gap it documents)


def catalogue(tests_dir: Path) -> tuple[Mutant, ...]:
    """The catalogue of planted bugs: test data, ``CATALOGUE`` in ``tests/mutation_catalogue.py``
    (loaded from its file, so no folder is put on ``sys.path``)."""
    path = tests_dir / "mutation_catalogue.py"
    spec = importlib.util.spec_from_file_location("resclaims_mutation_catalogue", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tuple(module.CATALOGUE)



def _apply(mutant: Mutant, impl_dir: Path) -> None:
    path = impl_dir / mutant.file
    text = path.read_text()
    count = text.count(mutant.old)
    if count != 1:
        raise LookupError(f"mutant {mutant.id}: snippet occurs {count} times in impl/{mutant.file}: {mutant.old!r}")
    path.write_text(text.replace(mutant.old, mutant.new))


ALWAYS_RUN = ("tests/impl/test_doctests.py", "tests/impl/test_bad_input.py")


def impl_dependents(module: str) -> set[str]:
    """``module`` and every ``impl`` module importing it, directly or not (static, from the
    relative imports of the source)."""
    imports = {}
    for path in (PROJECT_ROOT / "impl").glob("*.py"):
        found = re.findall(r"^from \.(\w+) import|^from \. import (\w+)", path.read_text(), flags=re.M)
        imports[path.stem] = {a or b for a, b in found}
    closure, frontier = {module}, [module]
    while frontier:
        current = frontier.pop()
        for name, deps in imports.items():
            if current in deps and name not in closure:
                closure.add(name)
                frontier.append(name)
    return closure


def tests_seeing(module: str) -> list[str]:
    """Test files that import ``module`` or a dependent of it (directly, or through a helper
    module of ``tests/``), plus :data:`ALWAYS_RUN`."""
    names = impl_dependents(module)
    impl_import = re.compile(r"resclaims\.impl(?:\.(\w+)| import ([\w, ]+))")
    local_import = re.compile(r"^(?:from (\w+) import|import (\w+))", flags=re.M)
    tests = PROJECT_ROOT / "tests"
    paths = {path.stem: path for path in tests.rglob("*.py")}
    sources = {stem: path.read_text() for stem, path in paths.items()}
    sees = {}
    for stem, text in sources.items():
        used = set()
        for dotted, listed in impl_import.findall(text):
            used |= {dotted} if dotted else {x.split()[0] for x in listed.split(",") if x.strip()}
        sees[stem] = bool(used & names)
    changed = True
    while changed:  # through helpers: a file importing a tests/ module that sees it
        changed = False
        for stem, text in sources.items():
            if not sees[stem] and any(sees.get(a or b) for a, b in local_import.findall(text)):
                sees[stem] = changed = True
    chosen = set(ALWAYS_RUN) | {paths[stem].relative_to(PROJECT_ROOT).as_posix()
                                   for stem, yes in sees.items() if yes and stem.startswith("test_")}
    return sorted(chosen)


def _claim_of(nodeid: str) -> str:
    stem = Path(nodeid.split("::", 1)[0]).stem.removeprefix("test_")
    return stem


def run_mutant(mutant: Mutant | None, *, workers: str = "auto", timeout: float = 900) -> dict:
    """Run the tests that can see ``mutant`` (``None``: the whole unmutated suite)."""
    with tempfile.TemporaryDirectory(prefix="resclaims-mutant-") as tmp:
        package = Path(tmp) / "resclaims"
        package.mkdir()
        shutil.copytree(PROJECT_ROOT / "impl", package / "impl", ignore=shutil.ignore_patterns("__pycache__"))
        (package / "claims").symlink_to(PROJECT_ROOT / "claims")
        if mutant is not None:
            _apply(mutant, package / "impl")
        env = {**os.environ, "PYTHONPATH": tmp + os.pathsep + os.environ.get("PYTHONPATH", ""),
               "PYTHONDONTWRITEBYTECODE": "1"}
        files = ["tests"] if mutant is None else tests_seeing(Path(mutant.file).stem)
        cmd = [sys.executable, "-m", "pytest", *files, "-q", "-p", "no:cacheprovider", "-n", workers,
               "--resclaims-no-report", "--hypothesis-profile=ci", "-rf"]
        start = time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout)
            status, out = proc.returncode, proc.stdout
        except subprocess.TimeoutExpired:
            status, out = -1, ""
    failed = re.findall(r"^FAILED (\S+)", out, flags=re.M)
    return {"id": mutant.id if mutant else "(none)", "killed": status != 0, "exit": status,
            "killed_by": sorted({_claim_of(f) for f in failed}), "failed_tests": len(failed),
            "test_files": len(files), "first_failure": failed[0] if failed else ("timeout" if status == -1 else ""),
            "seconds": round(time.perf_counter() - start, 1)}


def write_report(rows: list[tuple[Mutant, dict]], out_dir: Path) -> Path:
    """``mutants.md`` and ``mutants.json``: the kill matrix, the kill rate, survivors explained."""
    from .report import _table, atomic_write

    killed = sum(r["killed"] for _, r in rows)
    doc = {"killed": killed, "total": len(rows),
           "mutants": [{"id": m.id, "file": m.file, "description": m.description, "note": m.note, **r} for m, r in rows]}
    atomic_write(out_dir / "mutants.json", json.dumps(doc, indent=1) + "\n")
    survivors = [(m, r) for m, r in rows if not r["killed"]]
    text = "\n".join([
        "# Mutation canaries", "",
        f"Command: `resclaims mutants`. **{killed} of {len(rows)} mutants killed "
        f"({100 * killed / max(len(rows), 1):.0f}%).** Each mutant is one plausible bug planted in a "
        "temporary copy of `impl/`; the tests that can see it run on the ci profile; \"killed by\" "
        "lists the claims (test modules) that went red.", "",
        _table(["mutant", "file", "bug", "killed", "killed by", "s"],
               [[m.id, m.file, m.description, "yes" if r["killed"] else "**no**",
                 ", ".join(r["killed_by"]) or ("timeout" if r["exit"] == -1 else "–"), f"{r['seconds']:.0f}"]
                for m, r in rows]), "",
        "## Survivors", "",
        *([f"- `{m.id}` ({m.description}): {m.note or '**unexplained: a gap in the claims**'}" for m, r in survivors]
          or ["None."]), ""])
    atomic_write(out_dir / "mutants.md", text)
    return out_dir / "mutants.md"


def main(ids: list[str] | None = None, workers: str = "auto") -> int:
    CATALOGUE = catalogue(PROJECT_ROOT / "tests")
    unknown = set(ids or ()) - {m.id for m in CATALOGUE}
    if unknown:
        print(f"resclaims mutants: unknown mutant ids {sorted(unknown)}")
        return 2
    chosen = [m for m in CATALOGUE if not ids or m.id in ids]
    baseline = run_mutant(None, workers=workers)
    if baseline["killed"]:
        print(f"resclaims mutants: the unmutated suite fails ({baseline['first_failure']}); fix that first")
        return 2
    rows = []
    for m in chosen:
        r = run_mutant(m, workers=workers)
        rows.append((m, r))
        print(f"{'killed  ' if r['killed'] else 'SURVIVED'} {m.id:30} {r['seconds']:6.1f}s  "
              f"{', '.join(r['killed_by']) or r['first_failure']}", flush=True)
    killed = sum(r["killed"] for _, r in rows)
    if not ids:
        print(f"report: {write_report(rows, PROJECT_ROOT / 'reports')}")
    print(f"\n{killed}/{len(rows)} mutants killed")
    return 0 if killed == len(rows) else 1
