r"""Plain against residual networks of growing depth, trained on real data (the seed's empirical
slides, after [HZRS16]_).

The slides "Revolution of depth" and "Training deep plain nets vs deep residual nets" show that,
on CIFAR-10, a deeper *plain* network reaches a *higher* training error than a shallower one
(the "degradation problem", [HZRS16]_ Fig. 1 and Fig. 4 left), and that residual networks of the
same depths reverse that ([HZRS16]_ Fig. 4 right). This module is the training code of a small
analogue on scikit-learn's ``load_digits`` (1,797 8x8 images, shipped with the package):

* input embedding :math:`x_0 = W_{\mathrm{in}} v + b_{\mathrm{in}}` (:math:`v \in [0, 1]^{64}`);
* ``depth`` hidden blocks of one width :math:`w`, each :math:`f_l(x) = \mathrm{relu}(N(W_l x +
  b_l))`, with :math:`N` a parameter-free layer normalization (``normalization="layer"``, the
  role batch normalization plays after every convolution in [HZRS16]_ Sec. 3.4, in both its
  plain and its residual nets) or the identity (``normalization="none"``);
* plain: :math:`x_l = f_l(x_{l-1})`; residual: :math:`x_l = x_{l-1} + f_l(x_{l-1})` (the skip
  scaled by ``skip``: 0 plain, 1 residual; any other value is a planted defect);
* head :math:`z = W_{\mathrm{out}} N(x_L) + b_{\mathrm{out}}` and the mean cross-entropy.

Both families use the same He (Kaiming) normal initialisation (:math:`W \sim \mathcal N(0,
2/\mathrm{fan_{in}})`, :math:`b = 0`; [HZRS16]_ Sec. 3.4 uses [HZRS15]_'s), the same optimiser
(optax Adam, one learning rate), the same number of mini-batch steps and the same seeds (a seed
fixes the initial weights and the mini-batch stream, drawn with numpy outside the compiled
program): the only difference is the skip connection. The layers are one stacked array run
through ``jax.lax.scan``, and the runs of a sweep go through one compiled program per stack size
(``lax.map`` over runs of a ``lax.scan`` over steps); a stack padded to a larger capacity, with
the extra blocks switched off, lets several depths share one program (:func:`sweep`'s
``one_program``).

JAX, optax and scikit-learn are the optional extra ``experiment``; they are imported lazily, so
the rest of ``impl`` (and this module's pure helpers) work without them.

.. [HZRS16] K. He, X. Zhang, S. Ren, J. Sun. Deep residual learning for image recognition.
   CVPR 2016, arXiv:1512.03385, Fig. 1, Fig. 4, Table 2.
.. [HZRS15] K. He, X. Zhang, S. Ren, J. Sun. Delving deep into rectifiers. ICCV 2015,
   arXiv:1502.01852, Sec. 2.2 (the initialisation).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Sequence

import numpy as np

__all__ = ["FAMILIES", "TrainingConfig", "SweepResult", "he_normal_std", "load_digits_data", "init_params",
           "minibatch_rows", "forward", "relu_pattern", "cross_entropy", "loss_and_gradient", "train_runs", "sweep"]

#: The skip factor of each family: the residual block adds its input back, the plain one does not.
FAMILIES = {"plain": 0.0, "residual": 1.0}

#: Classes and pixels of ``load_digits``.
N_CLASSES, N_PIXELS = 10, 64

#: Added to the variance inside the layer normalization (the usual guard of a zero variance).
NORMALIZATION_EPSILON = 1e-5


def he_normal_std(fan_in: int) -> float:
    r"""The standard deviation :math:`\sqrt{2/\mathrm{fan_{in}}}` of He normal initialisation
    ([HZRS15]_ Eq. (10)), the same for every layer of both families.

    >>> he_normal_std(64)
    0.1767766952966369
    >>> he_normal_std(2)
    1.0
    """
    if fan_in < 1:
        raise ValueError(f"fan_in must be >= 1, got {fan_in!r}")
    return math.sqrt(2.0 / fan_in)


@dataclass(frozen=True)
class TrainingConfig:
    """Everything both families share: width, optimiser, budget, normalization, data size.

    Attributes
    ----------
    width : int
        Width :math:`w` of every hidden block.
    learning_rate : float
        Adam's step size (optax defaults otherwise).
    steps : int
        Mini-batch optimiser steps (the fixed budget).
    normalization : {"layer", "none"}
        The normalization :math:`N` inside each block and before the head.
    n_samples : int or None
        Train on the first ``n_samples`` images (``None``: all 1,797).
    batch_size : int
        Images per step, drawn with replacement from the seed's stream.
    """

    width: int = 64
    learning_rate: float = 1e-3
    steps: int = 300
    normalization: str = "layer"
    n_samples: int | None = None
    batch_size: int = 128

    def __post_init__(self) -> None:
        if self.width < 1 or self.batch_size < 1 or self.steps < 0 or not self.learning_rate > 0:
            raise ValueError(f"invalid TrainingConfig {self!r}")
        if self.normalization not in ("layer", "none"):
            raise ValueError(f"normalization must be 'layer' or 'none', got {self.normalization!r}")


@lru_cache(maxsize=None)
def load_digits_data(n_samples: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits: pixels scaled to [0, 1] (float32, shape (n, 64)) and labels (int32).

    The first ``n_samples`` images in the package's order (``None``: all 1,797); no download.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = (digits.data / 16.0).astype(np.float32)
    labels = digits.target.astype(np.int32)
    return pixels[:n_samples], labels[:n_samples]


#: Streams of ``numpy.random.default_rng((seed, stream, ...))``: one per kind of draw, so that a
#: run's initialisation and its mini-batches never share random numbers.
_EMBEDDING, _BLOCK, _HEAD, _BATCHES = range(4)


def init_params(seed: int, depth: int, width: int) -> dict[str, np.ndarray]:
    """He normal weights and zero biases (float32) for the embedding, ``depth`` blocks and the head.

    Block ``l`` draws from its own stream ``(seed, 1, l)``, so a network's first blocks do not
    depend on how many blocks follow (a seed gives the same block ``l`` at every depth, and a
    stack padded to a larger capacity changes nothing).
    """
    def normal(shape, fan_in, *stream):
        return (he_normal_std(fan_in) * np.random.default_rng((int(seed), *stream)).standard_normal(shape)
                ).astype(np.float32)

    return {
        "W_in": normal((N_PIXELS, width), N_PIXELS, _EMBEDDING),
        "b_in": np.zeros(width, np.float32),
        "W": np.stack([normal((width, width), width, _BLOCK, l) for l in range(depth)]).reshape(depth, width, width),
        "b": np.zeros((depth, width), np.float32),
        "W_out": normal((width, N_CLASSES), width, _HEAD),
        "b_out": np.zeros(N_CLASSES, np.float32),
    }


def minibatch_rows(seed: int, steps: int, batch_size: int, n_samples: int) -> np.ndarray:
    """The rows of every mini-batch of a run, shape ``(steps, batch_size)``, drawn with replacement
    from the seed's stream (the same for both families at one seed)."""
    return np.random.default_rng((int(seed), _BATCHES)).integers(0, n_samples, (steps, batch_size), dtype=np.int32)


def _normalize(x, normalization: str):
    import jax.numpy as jnp

    if normalization == "none":
        return x
    centred = x - jnp.mean(x, axis=-1, keepdims=True)
    return centred / jnp.sqrt(jnp.mean(centred * centred, axis=-1, keepdims=True) + NORMALIZATION_EPSILON)


def forward(params: dict, pixels, *, skip, normalization: str = "layer", active=None):
    r"""Logits of the network: embedding, blocks :math:`x \leftarrow \mathrm{skip}\cdot x +
    \mathrm{relu}(N(Wx + b))` (a ``lax.scan`` over the stacked layers), normalized head.

    ``active`` (optional, an integer, may be traced): only the first ``active`` blocks act, the
    others pass their input through unchanged, so networks of several depths share one compiled
    program (a stack padded to the largest depth).
    """
    x, _ = _blocks(params, pixels, skip=skip, normalization=normalization, active=active)
    return _normalize(x, normalization) @ params["W_out"] + params["b_out"]


def _blocks(params: dict, pixels, *, skip, normalization: str, active=None):
    """The embedding and the stack of blocks: the last block's output and every block's ReLU
    input, shape ``(depth, n, width)``."""
    import jax
    import jax.numpy as jnp

    depth = params["W"].shape[0]
    active = depth if active is None else active

    def block(x, layer):
        W, b, index = layer
        relu_input = _normalize(x @ W + b, normalization)
        out = skip * x + jax.nn.relu(relu_input)
        return jnp.where(index < active, out, x), relu_input

    x = pixels @ params["W_in"] + params["b_in"]
    return jax.lax.scan(block, x, (params["W"], params["b"], jnp.arange(depth)))


def relu_pattern(params: dict, pixels, *, skip, normalization: str = "layer"):
    """Which ReLU inputs are positive, shape ``(depth, n, width)``: the loss is smooth wherever this
    pattern is constant (layer normalization and softmax are smooth), so a finite difference is
    exact to second order only between two points with one pattern."""
    return _blocks(params, pixels, skip=skip, normalization=normalization)[1] > 0


def cross_entropy(params: dict, pixels, labels, *, skip, normalization: str = "layer", active=None):
    """Mean cross-entropy of the network's softmax on ``(pixels, labels)``."""
    import optax

    logits = forward(params, pixels, skip=skip, normalization=normalization, active=active)
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def loss_and_gradient(params: dict, pixels, labels, *, skip: float, normalization: str = "layer"):
    """``(loss, gradient)`` by JAX's reverse mode (what training uses), for checks against
    finite differences."""
    import jax

    return jax.value_and_grad(cross_entropy)(params, pixels, labels, skip=skip, normalization=normalization)


@lru_cache(maxsize=None)
def _compiled_trainer(config: TrainingConfig):
    """One jitted program per config (it recompiles per stack capacity and number of runs): a
    ``lax.map`` over runs of a ``scan`` over mini-batch Adam steps; returns the final full-data
    losses and the loss curves. Random numbers are drawn outside (numpy), so the program holds
    none (JAX's random hashing is slow to compile on CPU), and ``lax.map`` (runs one after the
    other) compiles in about two thirds of the time ``vmap`` takes (measured: 4.0 s against 6.3 s
    of CPU for 12 runs at capacity 24)."""
    import jax
    import optax

    optimiser = optax.adam(config.learning_rate)

    def train_one(params, rows, skip, depth, pixels, labels):
        def objective(p, x, y):
            return cross_entropy(p, x, y, skip=skip, normalization=config.normalization, active=depth)

        def step(carry, batch):
            p, state = carry
            loss, grad = jax.value_and_grad(objective)(p, pixels[batch], labels[batch])
            updates, state = optimiser.update(grad, state, p)
            return (optax.apply_updates(p, updates), state), loss

        (params, _), curve = jax.lax.scan(step, (params, optimiser.init(params)), rows)
        return objective(params, pixels, labels), curve

    def train_all(params, rows, skips, depths, pixels, labels):
        return jax.lax.map(lambda run: train_one(*run, pixels, labels), (params, rows, skips, depths))

    return jax.jit(train_all)


def train_runs(runs: Sequence[tuple[int, float, int]], *, config: TrainingConfig, capacity: int | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Train one network per run ``(depth, skip, seed)`` in one compiled program.

    The seed fixes the initialisation (:func:`init_params`) and the mini-batches
    (:func:`minibatch_rows`); ``capacity`` (default: the largest depth) is the padded stack.
    Returns the final training losses on all ``config.n_samples`` images, shape ``(n_runs,)``,
    and the mini-batch loss before each step, shape ``(n_runs, steps)``.
    """
    import jax.numpy as jnp

    depths = [int(d) for d, _, _ in runs]
    if not runs or min(depths) < 1:
        raise ValueError(f"every run needs depth >= 1, got {depths!r}")
    capacity = max(depths) if capacity is None else int(capacity)
    if capacity < max(depths):
        raise ValueError(f"capacity {capacity} is below the largest depth {max(depths)}")
    pixels, labels = load_digits_data(config.n_samples)
    inits = [init_params(seed, capacity, config.width) for _, _, seed in runs]
    params = {name: jnp.asarray(np.stack([p[name] for p in inits])) for name in inits[0]}
    rows = jnp.asarray(np.stack([minibatch_rows(seed, config.steps, config.batch_size, len(labels))
                                 for _, _, seed in runs]))
    skips = jnp.asarray([float(skip) for _, skip, _ in runs], dtype=jnp.float32)
    final, curves = _compiled_trainer(config)(params, rows, skips, jnp.asarray(depths), jnp.asarray(pixels),
                                              jnp.asarray(labels))
    return np.asarray(final, dtype=float), np.asarray(curves, dtype=float)


@dataclass
class SweepResult:
    """Final training losses of a sweep: ``losses[family]`` has shape ``(len(depths), len(seeds))``,
    ``curves[family]`` ``(len(depths), len(seeds), steps)``."""

    depths: tuple[int, ...]
    seeds: tuple[int, ...]
    config: TrainingConfig
    losses: dict[str, np.ndarray] = field(default_factory=dict)
    curves: dict[str, np.ndarray] = field(default_factory=dict)
    seconds: float = 0.0


def sweep(depths: Sequence[int], seeds: Sequence[int], config: TrainingConfig,
          families: dict[str, float] | None = None, *, one_program: bool = False) -> SweepResult:
    """Train every family of ``families`` (``{label: skip}``, default :data:`FAMILIES`) at every
    depth with every seed, under one ``config``.

    ``one_program``: all runs in one compiled program padded to the largest depth (one compile;
    best for small sweeps, where compiling dominates); otherwise one program per depth (best
    when training dominates). Both give the same numbers up to float rounding.
    """
    families = FAMILIES if families is None else families
    result = SweepResult(tuple(int(d) for d in depths), tuple(int(s) for s in seeds), config)
    groups = [result.depths] if one_program else [(d,) for d in result.depths]
    start = time.perf_counter()
    finals, curves = {}, {}
    for group in groups:
        runs = [(label, d, s) for d in group for label in families for s in result.seeds]
        final, curve = train_runs([(d, families[label], s) for label, d, s in runs], config=config)
        for run, f, c in zip(runs, final, curve):
            finals[run], curves[run] = f, c
    for label in families:
        result.losses[label] = np.array([[finals[(label, d, s)] for s in result.seeds] for d in result.depths])
        result.curves[label] = np.array([[curves[(label, d, s)] for s in result.seeds] for d in result.depths])
    result.seconds = time.perf_counter() - start
    return result
