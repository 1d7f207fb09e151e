r"""Gradient descent on deep linear (residual) networks, :math:`f_\Theta(x) = \Theta_L \cdots \Theta_1 x`.

Loss with isotropic inputs and targets :math:`y = \Phi x` (slide "Deep linear networks"; [BHL18]_
Sec. 2):

.. math::  \ell(\Theta) = \tfrac12 \|\Theta_{1:L} - \Phi\|_F^2, \qquad
           \Theta_{1:L} = \Theta_L \cdots \Theta_1,

with gradient (slide "Gradient descent"; [BHL18]_ Lemma 1)
:math:`\nabla_{\Theta_i}\ell = \Theta_{i+1:L}^\top (\Theta_{1:L} - \Phi)\,\Theta_{1:i-1}^\top`.

Layers are stored as one array ``layers`` of shape ``(L, d, d)``; ``layers[i - 1]`` is
:math:`\Theta_i` (the first layer acts first). The gradient of all layers costs about 3L
matrix products: L - 1 for the prefix products :math:`\Theta_{1:i-1}`, L - 1 for the
back-propagated residual :math:`\Theta_{i+1:L}^\top E`, and L for the gradients themselves,
whose products are fused with the update in one BLAS ``gemm`` per layer
(:math:`\Theta_i \leftarrow \Theta_i - \eta\, S_i P_i^\top`), so that a step runs at the floor
of 3L products.

.. [BHL18] P. L. Bartlett, D. P. Helmbold, P. M. Long. Gradient descent with identity
   initialization efficiently learns positive definite linear transformations by deep residual
   networks. ICML 2018, arXiv:1802.06093.
.. [HM16] M. Hardt, T. Ma. Identity matters in deep learning. ICLR 2017, arXiv:1611.04231.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
from scipy.linalg.blas import dgemm

from ._validation import finite_array, finite_real, nonnegative_int, positive_int, positive_real, square_matrix

#: Trajectory quantities that :func:`gradient_descent` can record per iteration.
RECORDABLE = ("loss", "radius", "margin", "singular_values")


def identity_layers(d: int, depth: int) -> np.ndarray:
    """The identity start :math:`\\Theta_i = I`, shape ``(depth, d, d)``."""
    d, depth = positive_int("d", d), positive_int("depth", depth)
    return np.broadcast_to(np.eye(d), (depth, d, d)).copy()


def validate_layers(layers, target=None) -> np.ndarray:
    """``layers`` as a finite float array of shape (L, d, d), matching ``target`` if given."""
    layers = finite_array("layers", layers, ndim=3)
    if layers.shape[1] != layers.shape[2]:
        raise ValueError(f"layers must have shape (L, d, d) with square layers, got {layers.shape}")
    if target is not None and target.shape != layers.shape[1:]:
        raise ValueError(f"target must have shape {layers.shape[1:]} like each layer, got {target.shape}")
    return layers


def product(layers) -> np.ndarray:
    r""":math:`\Theta_{1:L} = \Theta_L \cdots \Theta_1` (the first layer acts first).

    Examples
    --------
    >>> A = np.array([[1.0, 1.0], [0.0, 1.0]]); B = np.array([[2.0, 0.0], [0.0, 1.0]])
    >>> product([A, B])  # B @ A
    array([[2., 2.],
           [0., 1.]])
    """
    layers = validate_layers(layers)
    out = layers[0].copy()
    for theta in layers[1:]:
        out = theta @ out
    return out


def loss(layers, target) -> float:
    r"""The slide's loss :math:`\ell(\Theta) = \tfrac12\|\Theta_{1:L} - \Phi\|_F^2`."""
    target = square_matrix("target", target)
    residual = product(validate_layers(layers, target)) - target
    return 0.5 * float(np.vdot(residual, residual))


def _transpose(stack: np.ndarray) -> np.ndarray:
    """The transposes of a matrix or of a stack of matrices (a view)."""
    return np.swapaxes(stack, -1, -2)


def _prefixes(layers: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out[i] = Theta_{1:i} (product of the first i layers), i = 0..L; L - 1 products.

    ``layers`` is ``(L, d, d)``, or layer-major ``(L, B, d, d)`` for a batch of problems."""
    L = layers.shape[0]
    out[0] = np.eye(layers.shape[-1])
    out[1] = layers[0]
    for i in range(1, L):
        np.matmul(layers[i], out[i], out=out[i + 1])
    return out


def _backpropagate(layers: np.ndarray, prefix: np.ndarray, residual: np.ndarray, scratch: np.ndarray,
                   visit) -> None:
    r"""The back-propagation of the slide's gradient, the one copy of it in the engine.

    With :math:`S_L = E = \Theta_{1:L} - \Phi` and :math:`S_{i-1} = \Theta_i^\top S_i`, the gradient of
    layer i is :math:`S_i\,\Theta_{1:i-1}^\top` (``S @ prefix[i].T``). ``visit(i, S_i)`` consumes it
    (forms the gradient, or updates the layer) and is called after :math:`S_{i-1}` has been formed
    from the old layer i, so it may update ``layers[i]`` in place. ``scratch`` holds two arrays of
    the shape of ``residual``; works on single problems and on layer-major batches alike.
    """
    L = layers.shape[0]
    transposed = _transpose(layers)  # a view: transposed[i] follows in-place updates of layers[i]
    back = residual
    for i in range(L - 1, -1, -1):
        if i:  # propagate through the old layer i before visit may update it
            nxt = scratch[(L - i) & 1]
            np.matmul(transposed[i], back, out=nxt)
        visit(i, back)
        if i:
            back = nxt


def gradient(layers, target, *, penalty: float = 0.0) -> tuple[np.ndarray, float]:
    r"""All layer gradients and the loss, in 3L - 2 matrix products.

    Parameters
    ----------
    layers : array_like, shape (L, d, d)
        :math:`\Theta_1, \dots, \Theta_L`.
    target : array_like, shape (d, d)
        :math:`\Phi`.
    penalty : float, optional
        :math:`\kappa \ge 0` of the penalty :math:`\tfrac\kappa2 \sum_i \|\Theta_i - I\|_F^2`
        toward the identity (slide "Regularized gradient descent"); adds
        :math:`\kappa(\Theta_i - I)` to each gradient and its value to the loss.

    Returns
    -------
    grads : ndarray, shape (L, d, d)
        :math:`\nabla_{\Theta_i}\ell = \Theta_{i+1:L}^\top (\Theta_{1:L} - \Phi) \Theta_{1:i-1}^\top`
        (+ penalty term), slide "Gradient descent".
    value : float
        The (penalized) loss at ``layers``.

    Examples
    --------
    >>> g, value = gradient(identity_layers(2, 3), 2 * np.eye(2))
    >>> value, bool(np.allclose(g, -np.eye(2)))
    (1.0, True)
    """
    target = square_matrix("target", target)
    layers = validate_layers(layers, target)
    penalty = _penalty(penalty)
    L, d, _ = layers.shape
    prefix = _prefixes(layers, np.empty((L + 1, d, d)))
    residual = prefix[L] - target
    value = 0.5 * float(np.vdot(residual, residual))
    grads = np.empty_like(layers)

    def gradient_of(i: int, back: np.ndarray) -> None:
        np.matmul(back, prefix[i].T, out=grads[i])

    _backpropagate(layers, prefix, residual, np.empty((2, d, d)), gradient_of)
    if penalty:
        offset = layers - np.eye(d)
        grads += penalty * offset
        value += 0.5 * penalty * float(np.vdot(offset, offset))
    return grads, value


def _penalty(penalty) -> float:
    penalty = finite_real("penalty", penalty)
    if penalty < 0:
        raise ValueError(f"penalty must be >= 0, got {penalty}")
    return penalty


class _Stepper:
    """In-place GD steps in 3L - 2 products with preallocated buffers (no allocation per step).

    :meth:`evaluate` forms the prefix products and the loss; :meth:`update` then moves every
    layer. The gradient product of each layer is fused with its update in one ``dgemm``
    (alpha = -eta, beta = 1), issued after the layer's back-propagation product has used it.
    """

    def __init__(self, layers: np.ndarray, target: np.ndarray, step: float, penalty: float):
        L, d, _ = layers.shape
        self.layers, self.target, self.step, self.penalty = layers, target, step, penalty
        self.prefix = np.empty((L + 1, d, d))
        self.back = np.empty((3, d, d))  # the residual, then two buffers of the back-propagation
        self.eye = np.eye(d)

    def evaluate(self) -> float:
        """The (penalized) loss of the current layers."""
        L = self.layers.shape[0]
        _prefixes(self.layers, self.prefix)
        np.subtract(self.prefix[L], self.target, out=self.back[0])
        value = 0.5 * float(np.vdot(self.back[0], self.back[0]))
        if self.penalty:
            offset = self.layers - self.eye
            value += 0.5 * self.penalty * float(np.vdot(offset, offset))
        return value

    def update(self) -> None:
        """One step from the layers last evaluated."""
        layers, prefix, eta = self.layers, self.prefix, self.step
        offset = layers - self.eye if self.penalty else None

        def step_layer(i: int, back: np.ndarray) -> None:
            # layers[i] -= eta * back @ prefix[i].T, as one gemm on the transposes (a C-ordered
            # array is the Fortran-ordered transpose): Theta_i^T -= eta * P_i S_i^T.
            dgemm(-eta, prefix[i].T, back.T, 1.0, layers[i].T, trans_a=1, overwrite_c=1)

        _backpropagate(layers, prefix, self.back[0], self.back[1:], step_layer)
        if offset is not None:
            layers -= (eta * self.penalty) * offset


@dataclass
class Trajectory:
    """What a gradient-descent run leaves behind (per-iteration arrays have length steps + 1,
    entry t describing the iterate after t steps).

    Attributes
    ----------
    layers : ndarray, shape (L, d, d)
        The last iterate.
    loss : ndarray
        :math:`\\ell(\\Theta^{(t)})` (with the penalty term if one was used).
    radius, margin : ndarray or None
        :math:`\\max_i\\|\\Theta_i^{(t)} - I\\|_2` and the margin
        :math:`\\lambda_{\\min}(\\tfrac12(\\Theta_{1:L} + \\Theta_{1:L}^\\top))` of the product.
    singular_values : ndarray or None, shape (steps + 1, L, d)
        Singular values of every layer.
    iterates : list of ndarray or None
        Every iterate, only if asked for.
    steps : int
        Steps taken (fewer than asked if ``tol`` was reached or the run diverged).
    converged, diverged : bool
        ``loss <= tol`` was reached; the iterates stopped being finite (the run stops there,
        ``loss`` ends with the last finite value and ``layers`` is the non-finite iterate).
    """

    layers: np.ndarray
    loss: np.ndarray
    radius: np.ndarray | None = None
    margin: np.ndarray | None = None
    singular_values: np.ndarray | None = None
    iterates: list | None = None
    steps: int = 0
    converged: bool = False
    diverged: bool = False


class _Recorder:
    """Collects the requested per-iteration quantities."""

    def __init__(self, record, keep_iterates: bool):
        record = tuple(record)
        unknown = set(record) - set(RECORDABLE)
        if unknown:
            raise ValueError(f"record must name quantities among {RECORDABLE}, got {sorted(unknown)}")
        self.record, self.keep = record, keep_iterates
        self.data = {name: [] for name in record if name != "loss"}
        self.iterates = [] if keep_iterates else None

    def __call__(self, layers: np.ndarray) -> None:
        if "radius" in self.data:
            eye = np.eye(layers.shape[1])
            self.data["radius"].append(float(np.linalg.norm(layers - eye, 2, axis=(1, 2)).max()))
        if "margin" in self.data:
            P = product(layers)
            self.data["margin"].append(float(np.linalg.eigvalsh(0.5 * (P + P.T))[0]))
        if "singular_values" in self.data:
            self.data["singular_values"].append(np.linalg.svd(layers, compute_uv=False))
        if self.keep:
            self.iterates.append(layers.copy())

    def finish(self, layers, losses, steps, converged, diverged) -> Trajectory:
        arrays = {k: np.asarray(v) for k, v in self.data.items()}
        return Trajectory(layers=layers, loss=np.asarray(losses), iterates=self.iterates, steps=steps,
                          converged=converged, diverged=diverged, **arrays)


def _descent_arguments(target, depth, step, steps, tol, penalty, start):
    target = square_matrix("target", target)
    depth = positive_int("depth", depth)
    step = positive_real("step", step)
    steps = nonnegative_int("steps", steps)
    if tol is not None:
        tol = positive_real("tol", tol)
    penalty = _penalty(penalty)
    if start is None:
        layers = identity_layers(target.shape[0], depth)
    else:
        layers = validate_layers(start, target).copy()
        if layers.shape[0] != depth:
            raise ValueError(f"start must have depth {depth} layers, got {layers.shape[0]}")
    return target, depth, step, steps, tol, penalty, np.ascontiguousarray(layers)


def gradient_descent(target, depth, step, steps, *, tol=None, penalty=0.0, start=None,
                     record=("loss",), keep_iterates=False) -> Trajectory:
    r"""Gradient descent on :math:`\ell` from the identity (slide "Gradient descent"; [BHL18]_ Sec. 3).

    :math:`\Theta_i \leftarrow \Theta_i - \eta(\nabla_{\Theta_i}\ell + \kappa(\Theta_i - I))`,
    all layers updated simultaneously from the same iterate.

    Parameters
    ----------
    target : array_like, shape (d, d)
        :math:`\Phi`.
    depth : int
        :math:`L \ge 1`.
    step : float
        :math:`\eta > 0`.
    steps : int
        Maximum number of steps (>= 0).
    tol : float, optional
        Stop as soon as the loss is <= ``tol``.
    penalty : float, optional
        :math:`\kappa \ge 0` of the penalty toward the identity (regularized GD, [BHL18]_ Sec. 5).
    start : array_like, shape (depth, d, d), optional
        Initial layers; the identity by default.
    record : tuple of str
        Quantities to record per iteration, among :data:`RECORDABLE` (the loss is always
        recorded; the others cost L SVDs or an eigendecomposition per step).
    keep_iterates : bool
        Keep every iterate (memory ``steps * L * d * d``).

    Returns
    -------
    Trajectory

    Notes
    -----
    Divergence (a non-finite iterate, e.g. from a step size far above 1/L) stops the run with
    ``diverged=True``, never a silent NaN.

    Examples
    --------
    >>> run = gradient_descent(np.diag([1.5, 0.8]), depth=4, step=0.1, steps=500, tol=1e-12)
    >>> run.converged, run.steps < 500, bool(run.loss[-1] <= 1e-12)
    (True, True, True)
    """
    target, depth, step, steps, tol, penalty, layers = _descent_arguments(
        target, depth, step, steps, tol, penalty, start)
    return descend(_Stepper(layers, target, step, penalty), _Recorder(record, keep_iterates), steps, tol)


def descend(stepper: _Stepper, recorder: _Recorder, steps: int, tol: float | None, after_step=None) -> Trajectory:
    """The descent loop shared by the algorithms: evaluate, record, stop at ``tol`` or
    ``steps``, else step (and ``after_step(layers)``, e.g. power projection's reset)."""
    layers, losses = stepper.layers, []
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + 1):
            value = stepper.evaluate()
            if not np.isfinite(value):  # every layer enters the product: a non-finite layer shows here
                return recorder.finish(layers, losses, t, False, True)
            losses.append(value)
            recorder(layers)
            if (tol is not None and value <= tol) or t == steps:
                return recorder.finish(layers, losses, t, tol is not None and value <= tol, False)
            stepper.update()
            if after_step is not None and np.isfinite(layers).all():
                layers[...] = after_step(layers)
    raise AssertionError("unreachable")


def hessian_vector_product(layers, target, direction, *, penalty: float = 0.0) -> np.ndarray:
    r"""Hessian of :math:`\ell` applied to ``direction`` :math:`V`, in about 7L products.

    Forward mode on the gradient formula: with :math:`P_i = \Theta_{1:i-1}`,
    :math:`S_i = \Theta_{i+1:L}^\top E` and their derivatives
    :math:`\dot P_{i+1} = \Theta_i \dot P_i + V_i P_i`,
    :math:`\dot S_i = V_{i+1}^\top S_{i+1} + \Theta_{i+1}^\top \dot S_{i+1}`,
    :math:`\dot S_L = \dot E = \dot P_{L+1}`:
    :math:`(\nabla^2\ell\,V)_i = \dot S_i P_i^\top + S_i \dot P_i^\top` (+ :math:`\kappa V_i`).

    Examples
    --------
    >>> th = identity_layers(1, 2); V = np.array([[[1.0]], [[0.0]]])
    >>> hessian_vector_product(th, np.array([[3.0]]), V).ravel()  # [[1, 2 - phi], [2 - phi, 1]] @ e1
    array([ 1., -1.])
    """
    target = square_matrix("target", target)
    layers = validate_layers(layers, target)
    direction = finite_array("direction", direction, ndim=3)
    if direction.shape != layers.shape:
        raise ValueError(f"direction must have the layers' shape {layers.shape}, got {direction.shape}")
    penalty = _penalty(penalty)
    L, d, _ = layers.shape
    prefix = _prefixes(layers, np.empty((L + 1, d, d)))
    dprefix = np.zeros((L + 1, d, d))
    for i in range(L):
        dprefix[i + 1] = layers[i] @ dprefix[i] + direction[i] @ prefix[i]
    back, dback = prefix[L] - target, dprefix[L].copy()
    out = np.empty_like(layers)
    for i in range(L - 1, -1, -1):
        out[i] = dback @ prefix[i].T + back @ dprefix[i].T
        if i:
            back, dback = layers[i].T @ back, direction[i].T @ back + layers[i].T @ dback
    return out + penalty * direction if penalty else out


def hessian(layers, target, *, penalty: float = 0.0) -> np.ndarray:
    r"""The exact Hessian of :math:`\ell` as a ``(L d^2, L d^2)`` matrix, for small ``d * L``.

    Column k is the Hessian-vector product with the k-th unit direction (layers flattened in
    C order: layer, row, column); symmetric up to rounding, symmetrized exactly.

    Examples
    --------
    >>> hessian(identity_layers(1, 2), np.array([[7.0]]))
    array([[ 1., -5.],
           [-5.,  1.]])
    """
    target = square_matrix("target", target)
    layers = validate_layers(layers, target)
    n = layers.size
    if n > 4096:
        raise ValueError(f"layers has {n} entries; the explicit Hessian is for L*d*d <= 4096 "
                         "(use hessian_vector_product)")
    H = np.empty((n, n))
    unit = np.zeros(n)
    for k in range(n):
        unit[k] = 1.0
        H[:, k] = hessian_vector_product(layers, target, unit.reshape(layers.shape), penalty=penalty).ravel()
        unit[k] = 0.0
    return 0.5 * (H + H.T)


# --- many problems at once ----------------------------------------------------------------

#: Widths run by the compiled kernel (numba, optional) rather than the stacked BLAS products:
#: ``resclaims bench`` measures it 2-10x faster up to d = 16 (one thread); at d = 32 still ~1.5x,
#: but its unrolled products, compiled once per width, grow as d^3 in code and compile time.
_COMPILED_WIDTHS = range(1, 17)
#: Problems per SIMD block of the compiled kernel: every matrix entry of a block is one vector of
#: 8 float64 (one AVX-512 register, two AVX2 ones); a block's whole descent stays in cache.
_LANES = 8
#: Rows and columns of the output block that the compiled product keeps in vector registers
#: (16 accumulators): each loaded vector feeds 4 FMAs, half a load per FMA.
_REGISTER_BLOCK = 4
_compiled_dispatcher_cache: list = []  # [] before the first look, then [dispatcher or None]
_compiled_kernels: dict = {}  # width d -> its compiled kernel, or None without numba


def batched_gradient_descent(targets, depth, step, steps, *, penalty=0.0) -> tuple[np.ndarray, np.ndarray]:
    r"""Gradient descent from the identity on a batch of independent problems (same d and L).

    Each problem follows the recursion of :func:`gradient_descent` (equal to it up to rounding:
    the products are summed in another order). For d <= 16, when numba is installed, a compiled
    kernel runs every step of each block of 8 problems in one pass, with the problems on the last
    (SIMD) axis; otherwise the batch is advanced with stacked matrix products (``matmul``
    over the leading axis), so that small problems cost one Python-level loop for the whole
    batch instead of one per problem.

    Parameters
    ----------
    targets : array_like, shape (B, d, d)
    depth, step, steps, penalty
        As in :func:`gradient_descent`.

    Returns
    -------
    layers : ndarray, shape (B, depth, d, d)
        Final iterates.
    losses : ndarray, shape (steps + 1, B)
        Loss of every problem at every iterate (non-finite entries mark diverged problems).

    Examples
    --------
    >>> layers, losses = batched_gradient_descent(np.stack([np.eye(2), 1.2 * np.eye(2)]), 3, 0.1, 200)
    >>> losses[0].round(3).tolist(), bool(losses[-1].max() < 1e-20)
    ([0.0, 0.04], True)
    """
    targets = finite_array("targets", targets, ndim=3)
    if targets.shape[1] != targets.shape[2]:
        raise ValueError(f"targets must have shape (B, d, d), got {targets.shape}")
    depth = positive_int("depth", depth)
    step = positive_real("step", step)
    steps = nonnegative_int("steps", steps)
    penalty = _penalty(penalty)
    kernel = _compiled_kernel(targets.shape[1]) if targets.shape[1] in _COMPILED_WIDTHS else None
    if kernel is not None:
        return _batched_compiled(kernel, targets, depth, step, steps, penalty)
    return _batched_stacked(targets, depth, step, steps, penalty)


def _batched_stacked(targets: np.ndarray, depth: int, step: float, steps: int,
                     penalty: float) -> tuple[np.ndarray, np.ndarray]:
    r"""The batch with stacked BLAS products, layer-major ``(L, B, d, d)``: per step L - 1
    forward products, L - 1 back-propagation products and one stacked call for the L - 1
    gradients of layers 2..L; every product has contiguous operands (numpy's fast path).

    The back-propagated residuals are kept transposed and scaled by the step,
    :math:`R_i = \eta S_i^\top` with :math:`R_{i-1} = R_i \Theta_i`, so that the step's
    gradient is :math:`\eta\nabla_i^\top = P_i R_i` (:math:`P_i = \Theta_{1:i-1}`,
    :math:`P_1 = I`, :math:`\eta\nabla_1^\top = R_1`) and all layers move in one subtraction.
    """
    B, d, _ = targets.shape
    eye = np.eye(d)
    layers = np.broadcast_to(eye, (depth, B, d, d)).copy()  # layer-major: layers[i] is a stack
    prefix = np.empty((depth + 1, B, d, d))
    prefix[0] = eye
    back = np.empty((depth, B, d, d))    # back[i] = eta S_{i+1}^T (0-based layer i)
    moves = np.empty((depth, B, d, d))   # moves[i] = eta grad_i^T
    residual = np.empty((B, d, d))
    losses = np.empty((steps + 1, B))
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + 1):
            _prefixes(layers, prefix)
            np.subtract(prefix[depth], targets, out=residual)
            losses[t] = 0.5 * np.einsum("bij,bij->b", residual, residual)
            if penalty:
                offset = layers - eye
                losses[t] += 0.5 * penalty * np.einsum("lbij,lbij->b", offset, offset)
            if t == steps:
                break
            np.multiply(_transpose(residual), step, out=back[depth - 1])
            for i in range(depth - 1, 0, -1):  # from the old layers, before any update
                np.matmul(back[i], layers[i], out=back[i - 1])
            moves[0] = back[0]
            np.matmul(prefix[1:depth], back[1:], out=moves[1:])
            layers -= _transpose(moves)
            if penalty:
                layers -= (step * penalty) * offset
    return layers.transpose(1, 0, 2, 3).copy(), losses


def _batched_compiled(kernel, targets: np.ndarray, depth: int, step: float, steps: int,
                      penalty: float) -> tuple[np.ndarray, np.ndarray]:
    """The batch through the compiled kernel, in blocks of :data:`_LANES` problems laid out
    batch-last, ``(blocks, ..., d, d, _LANES)``; the last block is padded with the target I
    (which stays at the identity, loss 0) and the padding dropped."""
    B, d, _ = targets.shape
    blocks = -(-B // _LANES)
    padded = np.broadcast_to(np.eye(d), (blocks * _LANES, d, d)).copy()
    padded[:B] = targets
    block_targets = padded.reshape(blocks, _LANES, d, d).transpose(0, 2, 3, 1).copy()
    layers = np.broadcast_to(np.eye(d)[:, :, None], (blocks, depth, d, d, _LANES)).copy()
    losses = np.empty((blocks, steps + 1, _LANES))
    kernel(block_targets, layers, np.empty((depth + 1, d, d, _LANES)), np.empty((2, d, d, _LANES)),
           step, penalty, steps, losses)
    layers_out = layers.transpose(0, 4, 1, 2, 3).reshape(blocks * _LANES, depth, d, d)[:B].copy()
    return layers_out, losses.transpose(1, 0, 2).reshape(steps + 1, blocks * _LANES)[:, :B].copy()


def _compiled_kernel(d: int):
    """The compiled descent of :func:`_descend_blocks` for width ``d``, called as
    ``kernel(targets, layers, prefix, work, step, penalty, steps, losses)``, or None where numba
    is not installed. Compiled once per width on first use and cached on disk by numba, so later
    processes load it; the entry point is called directly (numba's dispatcher would retype the
    call on every use to find the literal width)."""
    if d not in _compiled_kernels:
        dispatcher = _compiled_dispatcher()
        if dispatcher is None:
            _compiled_kernels[d] = None
        else:
            from numba.core import types

            def stack(ndim):
                return types.Array(types.float64, ndim, "C")
            signature = (types.literal(d), stack(4), stack(5), stack(4), stack(4), types.float64, types.float64,
                         types.int64, stack(3))
            dispatcher.compile(signature)
            _compiled_kernels[d] = partial(dispatcher.overloads[signature].entry_point, d)
    return _compiled_kernels[d]


def _compiled_dispatcher():
    """numba's dispatcher of :func:`_descend_blocks` (its block operations bound first), or None
    where numba is not installed."""
    global _literally, _forward_product, _backward_product, _gradient_step, _residual_and_loss
    if not _compiled_dispatcher_cache:
        try:
            import numba
        except ImportError:
            _compiled_dispatcher_cache.append(None)
        else:
            # the kernel calls these module globals, bound before it compiles
            _literally = numba.literally
            _forward_product = _block_product_intrinsic(numba, transpose_a=False, transpose_m=False)
            _backward_product = _block_product_intrinsic(numba, transpose_a=True, transpose_m=False)
            _gradient_step = _block_product_intrinsic(numba, transpose_a=False, transpose_m=True, step=True)
            _residual_and_loss = _residual_and_loss_intrinsic(numba)
            options = dict(cache=True, boundscheck=False, fastmath={"contract"})  # contract: FMA only
            _compiled_dispatcher_cache.append(numba.njit(**options)(_descend_blocks))
    return _compiled_dispatcher_cache[0]


# bound by _compiled_kernel: numba.literally and the block operations (numba intrinsics)
_literally = _forward_product = _backward_product = _gradient_step = _residual_and_loss = None


class _BlockEmitter:
    """LLVM IR for one block of :data:`_LANES` problems: C-contiguous ``(d, d, _LANES)`` arrays
    whose entries are vectors of the block's problems.

    The block operations are written in LLVM IR, with the literal d, because numba cannot tell
    LLVM that the arrays do not overlap, and LLVM's loop vectorizer gives up on the runtime
    overlap checks that the equivalent loops need."""

    def __init__(self, context, builder, d: int):
        from llvmlite import ir
        from numba.core import cgutils

        self.ir, self.cgutils, self.context, self.builder, self.d = ir, cgutils, context, builder, d
        self.vector = ir.VectorType(ir.DoubleType(), _LANES)
        self.fma_function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(self.vector, [self.vector] * 3), f"llvm.fma.v{_LANES}f64")

    def data(self, array_type, value):
        """The data pointer of an array argument."""
        return self.context.make_array(array_type)(self.context, self.builder, value).data

    def shifted(self, pointer, entries):
        """``pointer`` moved by ``entries`` (an IR integer) vectors."""
        offset = self.builder.mul(entries, self.ir.Constant(entries.type, _LANES))
        return self.builder.gep(pointer, [offset], inbounds=True)

    def _address(self, pointer, row: int, column: int):
        offset = self.ir.Constant(self.ir.IntType(64), (row * self.d + column) * _LANES)
        return self.builder.bitcast(self.builder.gep(pointer, [offset], inbounds=True), self.vector.as_pointer())

    def load(self, pointer, row: int = 0, column: int = 0):
        """The vector of entry (row, column) of the block at ``pointer``."""
        return self.builder.load(self._address(pointer, row, column), align=8)

    def store(self, value, pointer, row: int = 0, column: int = 0):
        self.builder.store(value, self._address(pointer, row, column), align=8)

    def fma(self, a, b, c):
        """a * b + c, one rounding."""
        return self.builder.call(self.fma_function, [a, b, c])

    def splat(self, scalar):
        """The vector with every lane equal to ``scalar`` (an IR double)."""
        ir = self.ir
        undefined = ir.Constant(self.vector, ir.Undefined)
        one = self.builder.insert_element(undefined, scalar, ir.Constant(ir.IntType(32), 0))
        return self.builder.shuffle_vector(one, undefined, ir.Constant(ir.VectorType(ir.IntType(32), _LANES),
                                                                       [0] * _LANES))


def _block_product_intrinsic(numba, *, transpose_a: bool, transpose_m: bool, step: bool = False):
    r"""A numba intrinsic ``product(out, A, M, eta, shrink, width)`` on one block (see
    :class:`_BlockEmitter`), with ``width`` the literal d: the product :math:`X = A M`
    (:math:`A^\top` if ``transpose_a``, :math:`M^\top` if ``transpose_m``) and

    - ``out = X`` (``eta`` and ``shrink`` unused), or with ``step``
    - the gradient step on a layer ``out``: ``out = (out - eta X) - shrink (out - I)``.

    Rows are taken :data:`_REGISTER_BLOCK` at a time (an IR loop, then the remaining rows), and
    each row block :data:`_REGISTER_BLOCK` columns at a time, accumulated in registers over the
    unrolled k (``fma``, k ascending); each loaded vector feeds 4 FMAs.
    """
    from numba.core import types

    block = types.Array(types.float64, 3, "C")

    def typer(typingctx, out, A, M, eta, shrink, width):
        if (not isinstance(width, types.IntegerLiteral) or any(arg != block for arg in (out, A, M))
                or not all(isinstance(x, types.Float) for x in (eta, shrink))):
            return None
        d = width.literal_value

        def codegen(context, builder, signature, args):
            emit = _BlockEmitter(context, builder, d)
            ir = emit.ir
            out_p, a_p, m_p = (emit.data(t, v) for t, v in zip(signature.args[:3], args[:3]))
            if step:
                minus_eta, minus_shrink = (emit.splat(builder.fneg(context.cast(builder, v, t, types.float64)))
                                           for t, v in zip(signature.args[3:5], args[3:5]))

            def rows_from(first, count: int):
                """Rows first .. first + count - 1 of the output (``first`` an IR integer)."""
                out_rows = emit.shifted(out_p, builder.mul(first, ir.Constant(first.type, d)))
                a_rows = emit.shifted(a_p, first if transpose_a else builder.mul(first, ir.Constant(first.type, d)))
                for c0 in range(0, d, _REGISTER_BLOCK):
                    columns = range(c0, min(d, c0 + _REGISTER_BLOCK))
                    acc = {}
                    for k in range(d):
                        a = [emit.load(a_rows, k, r) if transpose_a else emit.load(a_rows, r, k) for r in range(count)]
                        m = {c: emit.load(m_p, c, k) if transpose_m else emit.load(m_p, k, c) for c in columns}
                        for r in range(count):
                            for c in columns:
                                acc[r, c] = builder.fmul(a[r], m[c]) if k == 0 else emit.fma(a[r], m[c], acc[r, c])
                    for r in range(count):
                        for c in columns:
                            value = acc[r, c]
                            if step:
                                old = emit.load(out_rows, r, c)
                                value = emit.fma(minus_eta, value, old)
                                on_diagonal = builder.icmp_signed("==", builder.add(first, ir.Constant(first.type, r)),
                                                                  ir.Constant(first.type, c))
                                diagonal = builder.select(on_diagonal, ir.Constant(ir.DoubleType(), 1.0),
                                                          ir.Constant(ir.DoubleType(), 0.0))
                                value = emit.fma(minus_shrink, builder.fsub(old, emit.splat(diagonal)), value)
                            emit.store(value, out_rows, r, c)

            index = ir.IntType(64)
            full = d // _REGISTER_BLOCK
            if full:
                with emit.cgutils.for_range(builder, ir.Constant(index, full)) as loop:
                    rows_from(builder.mul(loop.index, ir.Constant(index, _REGISTER_BLOCK)), _REGISTER_BLOCK)
            if d % _REGISTER_BLOCK:
                rows_from(ir.Constant(index, full * _REGISTER_BLOCK), d % _REGISTER_BLOCK)
            return context.get_dummy_value()

        return types.void(out, A, M, eta, shrink, width), codegen

    typer.__name__ = "block_product_{}{}{}".format("t" if transpose_a else "n", "t" if transpose_m else "n",
                                                   "_step" if step else "")
    return numba.extending.intrinsic(typer)


def _residual_and_loss_intrinsic(numba):
    r"""A numba intrinsic ``residual_and_loss(residual, product, target, loss, width)`` on one
    block (see :class:`_BlockEmitter`): ``residual = product - target`` and ``loss`` (a vector of
    :data:`_LANES`) :math:`= \tfrac12\|\text{residual}\|_F^2`, summed row by row."""
    from numba.core import types

    block = types.Array(types.float64, 3, "C")

    def typer(typingctx, residual, product, target, loss, width):
        if (not isinstance(width, types.IntegerLiteral) or any(arg != block for arg in (residual, product, target))
                or loss != types.Array(types.float64, 1, "C")):
            return None
        d = width.literal_value

        def codegen(context, builder, signature, args):
            emit = _BlockEmitter(context, builder, d)
            residual_p, product_p, target_p, loss_p = (emit.data(t, v) for t, v in zip(signature.args[:4], args[:4]))
            total = None
            for r in range(d):
                for c in range(d):
                    e = builder.fsub(emit.load(product_p, r, c), emit.load(target_p, r, c))
                    emit.store(e, residual_p, r, c)
                    total = builder.fmul(e, e) if total is None else emit.fma(e, e, total)
            emit.store(builder.fmul(total, emit.splat(emit.ir.Constant(emit.ir.DoubleType(), 0.5))), loss_p)
            return context.get_dummy_value()

        return types.void(residual, product, target, loss, width), codegen

    typer.__name__ = "block_residual_and_loss"
    return numba.extending.intrinsic(typer)


def _descend_blocks(width, targets, layers, prefix, work, step, penalty, steps, losses):
    """:func:`gradient_descent` for blocks of :data:`_LANES` problems, every step of a block in
    one pass (the compiled path; ``width`` = d, made a compile-time literal).

    targets (blocks, d, d, lanes); layers (blocks, L, d, d, lanes), the start, overwritten by the
    last iterate; prefix (L + 1, d, d, lanes) and work (2, d, d, lanes) scratch; losses
    (blocks, steps + 1, lanes) out."""
    _literally(width)
    L, d = layers.shape[1], layers.shape[2]
    shrink = step * penalty
    for r in range(d):
        for c in range(d):
            prefix[0, r, c, :] = 1.0 if r == c else 0.0
    for block in range(layers.shape[0]):
        block_layers = layers[block]
        for t in range(steps + 1):
            prefix[1] = block_layers[0]
            for i in range(1, L):
                _forward_product(prefix[i + 1], block_layers[i], prefix[i], 0.0, 0.0, width)
            loss = losses[block, t]
            _residual_and_loss(work[0], prefix[L], targets[block], loss, width)
            if penalty != 0.0:
                for w in range(loss.shape[0]):
                    total = 0.0
                    for i in range(L):
                        for r in range(d):
                            for c in range(d):
                                o = block_layers[i, r, c, w] - (1.0 if r == c else 0.0)
                                total += o * o
                    loss[w] += 0.5 * penalty * total
            if t == steps:
                break
            back, spare = 0, 1  # S_i in work[back] (the residual first); S_{i-1} goes to work[spare]
            for i in range(L - 1, -1, -1):
                if i:  # through the old layer i, before its update
                    _backward_product(work[spare], block_layers[i], work[back], 0.0, 0.0, width)
                _gradient_step(block_layers[i], work[back], prefix[i], step, shrink, width)
                back, spare = spare, back
