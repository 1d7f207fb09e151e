"""The engine of the suite: it records evidence, judges, reports and drives runs.

It holds no mathematics; the claim modules beside this package do. Modules: ``model`` (the
claim record), ``registry`` (discovery), ``evidence`` (per-example recording), ``judge`` (every
verdict, decided once), ``plugin`` (pytest), ``report`` (renders what the judge decided),
``profiles``, ``gate``, ``nightly``, ``tightness``, ``mutants``, ``cli``.
"""
