"""Every Hypothesis strategy of the suite, in one place, in Hypothesis' own house style.

Strategies are plural nouns with keyword-only, validated arguments (``InvalidArgument`` names
the argument and the violated condition) and build valid instances by construction (no
``assume``/filter for structure), so shrinking lands on the simplest valid value, usually the
identity. Builders (``make_*``: plain functions from parameters to an instance, used by
strategies and by reproductions) stand apart from strategies. One module per domain:

* ``matrices``: square matrices, rotations, depths, layer stacks (A, B1-B5, B9);
* ``symmetric``: symmetric targets, penalties, log-uniform steps (B6-B8);
* ``layers``: residual layers x + A sigma(Bx) and their probe points (C2);
* further domain modules as the claims need them.
"""
