"""Every Hypothesis strategy of the suite, in one place, in Hypothesis' own house style.

Strategies are plural nouns with keyword-only, validated arguments (``InvalidArgument`` names
the argument and the violated condition) and build valid instances by construction (no
``assume``/filter for structure), so shrinking lands on the simplest valid value, usually the
identity. Builders (``make_*``: plain functions from parameters to an instance, used by
strategies and by reproductions) stand apart from strategies. One module per domain:

* ``matrices``: square matrices, rotations, depths, layer stacks, and the shared argument
  validators ``check_integer``/``check_real`` (A, B1-B5, B9);
* ``factorizations``: residual stacks, linear residual models, regression samples, margin
  targets (A1-A4, B9);
* ``deep_linear``: deep linear problems, near-identity problems, descent cases (B1, B3-B5);
* ``convergence``: convergence problems, directions and families (B2, B6);
* ``symmetric``: symmetric targets, spectra, symmetric GD runs, penalties, log-uniform steps
  (B6-B8);
* ``layers``: residual layers x + A sigma(Bx), chains, invertible and folding maps (C1-C3);
* ``maps``: smooth maps with schedules, compositions, random networks (C1, C3).
"""
