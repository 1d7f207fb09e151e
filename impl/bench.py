"""``resclaims bench``: timings of the deep linear engine, written to ``reports/bench.md``.

The benchmark of ``impl`` lives with it (it imports nothing from ``claims``).

Run as ``resclaims bench`` (which starts this module with BLAS capped at one thread, so that
the ratios measure the algorithm, not thread scheduling). Every timing is the best of several
repetitions (``timeit`` practice: the minimum is the least disturbed run).

The floor of a gradient step is the time of 3L matrix products of the same size on L distinct
layers (the memory footprint of the network), with preallocated outputs.
"""
from __future__ import annotations

import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np


DEPTHS = (8, 32, 128)
WIDTHS = (4, 16, 64, 256)
#: Targets from issue 3, each checked and marked in the table.
STEP_RATIO_TARGET = 1.15  # for d >= 64
BATCH_SPEEDUP_TARGET = 10.0
SYMMETRIC_SPEEDUP_TARGET = 50.0
SYMMETRIC_AGREEMENT = 1e-10


def best_time(fn, *, budget: float = 0.4, repeat: int = 5) -> float:
    """Seconds per call of ``fn``: the minimum over ``repeat`` batches of about ``budget``/``repeat`` s."""
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    number = max(1, int(budget / repeat / once))
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return min(times)


def _near_identity_problem(d: int, L: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    layers = np.eye(d) + (0.1 / L) * rng.standard_normal((L, d, d))
    target = np.eye(d) + 0.1 * rng.standard_normal((d, d)) / np.sqrt(d)
    return layers, target


def _floor(layers: np.ndarray):
    """3L products on the L layers, outputs preallocated (no update, no Python arithmetic)."""
    L, d, _ = layers.shape
    prefix = np.empty((L + 1, d, d))
    prefix[0] = np.eye(d)
    back, out = np.eye(d), np.empty((2, d, d))

    def run():
        for i in range(L):
            np.matmul(layers[i], prefix[i], out=prefix[i + 1])
        for i in range(L - 1, -1, -1):
            np.matmul(layers[i].T, back, out=out[0])
            np.matmul(out[0], prefix[i].T, out=out[1])
    return run


def step_table() -> tuple[list[list[str]], bool]:
    from resclaims.impl.deep_linear import _Stepper

    rows, ok = [], True
    for d in WIDTHS:
        for L in DEPTHS:
            layers, target = _near_identity_problem(d, L)
            eta = 1e-6
            stepper = _Stepper(layers.copy(), target, eta, 0.0)
            t_step = best_time(lambda: (stepper.evaluate(), stepper.update()))
            t_floor = best_time(_floor(layers.copy()))
            ratio = t_step / t_floor
            verdict = ("" if d < 64 else "meets ≤ 1.15" if ratio <= STEP_RATIO_TARGET else "**misses 1.15**")
            ok &= d < 64 or ratio <= STEP_RATIO_TARGET
            rows.append([str(d), str(L), f"{t_step * 1e3:.3f}", f"{t_floor * 1e3:.3f}", f"{ratio:.3f}", verdict])
    return rows, ok


def batch_rows() -> tuple[list[list[str]], bool]:
    from resclaims.impl.deep_linear import batched_gradient_descent, gradient_descent

    rows, ok = [], True
    rng = np.random.default_rng(1)
    B, d, steps = 1024, 4, 50
    targets = np.eye(d) + 0.3 * rng.standard_normal((B, d, d)) / np.sqrt(d)
    batched_gradient_descent(targets[:2], 2, 0.1, 1)  # warm-up: loads (or compiles) the numba kernel
    for L in (8, 32):
        eta = 0.5 / L
        start = time.perf_counter()
        layers, losses = batched_gradient_descent(targets, L, eta, steps)
        t_batch = time.perf_counter() - start
        start = time.perf_counter()
        single = [gradient_descent(targets[b], L, eta, steps) for b in range(B)]
        t_loop = time.perf_counter() - start
        err = max(float(np.abs(single[b].layers - layers[b]).max()) for b in range(B))
        speedup = t_loop / t_batch
        ok &= speedup >= BATCH_SPEEDUP_TARGET and err < 1e-12
        rows.append([str(d), str(L), str(B), str(steps), f"{t_batch:.3f}", f"{t_loop:.3f}", f"{speedup:.1f}",
                     f"{err:.1e}", "meets ≥ 10" if speedup >= BATCH_SPEEDUP_TARGET else "**misses 10**"])
    return rows, ok


#: Batched-engine throughput cases (d, L), one thread: the issue-10 search sizes.
THROUGHPUT_CASES = ((4, 8), (4, 32), (8, 16), (16, 8))
THROUGHPUT_PROBLEMS, THROUGHPUT_STEPS = 1024, 50
#: Issue 10: at least twice the GFLOP/s of the engine before it, at d = 4 and d = 8.
THROUGHPUT_SPEEDUP_TARGET = 2.0


def batched_flops(d: int, L: int, problems: int, steps: int) -> float:
    """Useful flops of ``steps`` GD steps on ``problems`` problems: per step 3L - 2 products of
    d x d matrices (L - 1 prefixes, L - 1 back-propagations, L gradients) of 2 d^3 flops each."""
    return 2.0 * d ** 3 * (3 * L - 2) * problems * steps


def _reference_batched(targets, depth, step, steps):
    """The batched engine as it was before issue 10 (kept here, for the side-by-side ratio):
    layer-major stacks, one ``matmul`` per product, the gradient product on a transposed view."""
    B, d, _ = targets.shape
    layers = np.broadcast_to(np.eye(d), (depth, B, d, d)).copy()
    prefix = np.empty((depth + 1, B, d, d))
    scratch = np.empty((2, B, d, d))
    losses = np.empty((steps + 1, B))
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + 1):
            prefix[0] = np.eye(d)
            prefix[1] = layers[0]
            for i in range(1, depth):
                np.matmul(layers[i], prefix[i], out=prefix[i + 1])
            residual = prefix[depth] - targets
            losses[t] = 0.5 * np.einsum("bij,bij->b", residual, residual)
            if t == steps:
                break
            back = residual
            for i in range(depth - 1, -1, -1):
                if i:
                    nxt = scratch[(depth - i) & 1]
                    np.matmul(np.swapaxes(layers[i], -1, -2), back, out=nxt)
                layers[i] -= step * (back @ np.swapaxes(prefix[i], -1, -2))
                if i:
                    back = nxt
    return layers.transpose(1, 0, 2, 3).copy(), losses


def _jax_batched():
    """``jit(vmap(...))`` of GD with JAX autodiff (float64, one thread), or a note why not."""
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None, "not installed"
    jax.config.update("jax_enable_x64", True)
    cache = {}

    def run(targets, depth, step, steps):
        key = (targets.shape, depth, step, steps)
        if key not in cache:
            d = targets.shape[1]

            def loss(layers, target):
                P = layers[0]
                for i in range(1, depth):
                    P = layers[i] @ P
                return 0.5 * jnp.sum((P - target) ** 2)

            def descend(target):
                def body(layers, _):
                    value, g = jax.value_and_grad(loss)(layers, target)
                    return layers - step * g, value
                layers, values = jax.lax.scan(body, jnp.broadcast_to(jnp.eye(d), (depth, d, d)), None, length=steps)
                return layers, jnp.append(values, loss(layers, target))
            cache[key] = jax.jit(jax.vmap(descend))
        layers, losses = cache[key](targets)
        return np.asarray(layers), np.asarray(losses).T
    return run, f"jax {metadata.version('jax')}, jit + vmap, autodiff"


def _torch_batched():
    """Batched autograd in PyTorch (float64, one thread), or a note why not."""
    try:
        import torch
    except ImportError:
        return None, "not installed"
    torch.set_num_threads(1)

    def run(targets, depth, step, steps):
        B, d, _ = targets.shape
        target = torch.from_numpy(targets)
        layers = torch.eye(d, dtype=torch.float64).expand(depth, B, d, d).clone().requires_grad_(True)
        losses = np.empty((steps + 1, B))
        for t in range(steps + 1):
            P = layers[0]
            for i in range(1, depth):
                P = torch.bmm(layers[i], P)
            per_problem = 0.5 * ((P - target) ** 2).sum(dim=(1, 2))
            losses[t] = per_problem.detach().numpy()
            if t == steps:
                break
            per_problem.sum().backward()
            with torch.no_grad():
                layers -= step * layers.grad
            layers.grad = None
        return layers.detach().numpy().transpose(1, 0, 2, 3), losses
    return run, f"torch {metadata.version('torch')}, batched autograd"


def dgemm_peak(d: int = 256) -> float:
    """GFLOP/s of one d x d dgemm (one thread): the machine's reference peak."""
    A, B, C = np.ones((d, d)), np.ones((d, d)), np.empty((d, d))
    return 2.0 * d ** 3 / best_time(lambda: np.matmul(A, B, out=C), budget=0.5) / 1e9


def throughput_rows() -> tuple[list[list[str]], list[str], bool]:
    """GFLOP/s of today's batched engine, its paths, the engine before issue 10, JAX and PyTorch,
    side by side on the same problems; and the agreement of each with the per-problem engine."""
    from resclaims.impl import deep_linear

    kernel = deep_linear._compiled_dispatcher()  # None without numba
    peers = {"JAX": _jax_batched(), "PyTorch": _torch_batched()}
    notes = [f"{name}: {note}" for name, (_, note) in peers.items()]
    notes.append("numba kernel: " + (f"numba {metadata.version('numba')}" if kernel is not None else "not installed"))
    rows, ok = [], True
    rng = np.random.default_rng(4)
    B, steps = THROUGHPUT_PROBLEMS, THROUGHPUT_STEPS
    for d, L in THROUGHPUT_CASES:
        targets = np.eye(d) + 0.3 * rng.standard_normal((B, d, d)) / np.sqrt(d)
        eta = 0.5 / L
        engines = {"before": lambda: _reference_batched(targets, L, eta, steps),
                   "engine": lambda: deep_linear.batched_gradient_descent(targets, L, eta, steps),
                   "stacked": lambda: deep_linear._batched_stacked(targets, L, eta, steps, 0.0)}
        if kernel is not None and d in deep_linear._COMPILED_WIDTHS:
            engines["numba"] = lambda: deep_linear._batched_compiled(deep_linear._compiled_kernel(d), targets, L,
                                                                     eta, steps, 0.0)
        for name, (run, _) in peers.items():
            if run is not None:
                engines[name] = (lambda run=run: run(targets, L, eta, steps))
        single = [deep_linear.gradient_descent(targets[b], L, eta, steps) for b in range(0, B, 256)]
        gflops, worst = {}, 0.0
        for name, fn in engines.items():
            layers, losses = fn()  # also the warm-up (JIT compilation) before timing
            worst = max(worst, max(float(np.abs(layers[b] - run.layers).max())
                                   for b, run in zip(range(0, B, 256), single)))
            gflops[name] = batched_flops(d, L, B, steps) / best_time(fn, budget=0.2, repeat=3) / 1e9
        speedup = gflops["engine"] / gflops["before"]
        meets = speedup >= THROUGHPUT_SPEEDUP_TARGET
        if d in (4, 8):
            ok &= meets
        cell = lambda name: f"{gflops[name]:.2f}" if name in gflops else "–"
        rows.append([str(d), str(L), cell("before"), cell("stacked"), cell("numba"), cell("engine"), f"{speedup:.1f}",
                     cell("JAX"), cell("PyTorch"), f"{worst:.1e}",
                     ("" if d not in (4, 8) else "meets ≥ 2" if meets else "**misses 2**")])
    return rows, notes, ok


def symmetric_rows() -> tuple[list[list[str]], bool]:
    from resclaims.impl.deep_linear import gradient_descent
    from resclaims.impl.symmetric_dynamics import symmetric_gradient_descent

    rows, ok = [], True
    rng = np.random.default_rng(2)
    d, L, steps = 64, 32, 300
    Q = np.linalg.qr(rng.standard_normal((d, d)))[0]
    target = (Q * rng.uniform(0.5, 2.0, d)) @ Q.T
    target = 0.5 * (target + target.T)
    eta = 1.0 / (L * (1 + np.linalg.norm(target, 2) ** 2))
    t_fast = best_time(lambda: symmetric_gradient_descent(target, L, eta, steps), budget=0.5)
    start = time.perf_counter()
    full = gradient_descent(target, L, eta, steps)
    t_full = time.perf_counter() - start
    fast, _ = symmetric_gradient_descent(target, L, eta, steps)
    err = float(np.abs(fast - full.layers).max())
    speedup = t_full / t_fast
    ok = speedup >= SYMMETRIC_SPEEDUP_TARGET and err <= SYMMETRIC_AGREEMENT
    rows.append([str(d), str(L), str(steps), f"{t_fast * 1e3:.2f}", f"{t_full * 1e3:.1f}", f"{speedup:.0f}",
                 f"{err:.1e}", "meets ≥ 50, ≤ 1e-10" if ok else "**misses**"])
    return rows, ok


def deep_rows() -> list[list[str]]:
    """d = 256, L = 1000: one full step and the scalar recurrence, all finite."""
    from resclaims.impl.balanced_factorization import balanced_factorization
    from resclaims.impl.deep_linear import gradient_descent
    from resclaims.impl.symmetric_dynamics import scalar_recurrence

    rows = []
    d, L = 256, 1000
    rng = np.random.default_rng(3)
    target = np.eye(d) + 0.5 * rng.standard_normal((d, d)) / np.sqrt(d)
    start = time.perf_counter()
    run = gradient_descent(target, L, 0.5 / L, 2)
    rows.append([f"full GD, d={d}, L={L}, 2 steps", f"{time.perf_counter() - start:.2f}",
                 f"finite={np.isfinite(run.layers).all() and not run.diverged}, loss {run.loss[0]:.4g} → "
                 f"{run.loss[-1]:.4g}"])
    mu = np.linspace(0.5, 4.0, d)
    start = time.perf_counter()
    srun = scalar_recurrence(mu, L, 1.0 / (L * (1 + mu.max() ** 2)), 20000, tol=1e-20)
    rows.append([f"scalar recurrence (B8), d={d}, L={L}, eta=1/(L(1+|Phi|^2)), to loss 1e-20", f"{time.perf_counter() - start:.2f}",
                 f"finite={np.isfinite(srun.x).all() and not srun.diverged}, {srun.steps} steps, "
                 f"loss {srun.loss[-1]:.3g}"])
    for dd in (64, 256):
        A = np.eye(dd) + rng.standard_normal((dd, dd)) / np.sqrt(dd)
        t = best_time(lambda: balanced_factorization(A, 32), budget=1.0, repeat=3)
        rows.append([f"balanced factorization d={dd}, L=32", f"{t:.4f}",
                     f"{t / (_two_l_gemms(dd, 32)):.2f}× the time of 2L products"])
    return rows


def _two_l_gemms(d: int, L: int) -> float:
    A, B, C = np.eye(d), np.eye(d), np.empty((d, d))
    return best_time(lambda: [np.matmul(A, B, out=C) for _ in range(2 * L)], budget=0.3, repeat=3)


def _table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table (``|`` inside a cell escaped).

    >>> print(_table(["d", "ms"], [["4", "0.1"]]))
    | d | ms |
    |---|---|
    | 4 | 0.1 |
    """
    def row(cells) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"
    return "\n".join([row(header), "|" + "---|" * len(header), *(row(r) for r in rows)])


def main(out: Path) -> int:
    started = time.perf_counter()
    steps, ok_step = step_table()
    batch, ok_batch = batch_rows()
    sym, ok_sym = symmetric_rows()
    throughput, throughput_notes, ok_throughput = throughput_rows()
    peak = dgemm_peak()
    deep = deep_rows()
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("numpy", "scipy"))
    text = "\n".join([
        "# Benchmark: deep linear engine",
        "",
        f"- date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; command: `resclaims bench`",
        f"- machine: Python {platform.python_version()} on {platform.platform()} ({os.cpu_count()} CPUs); "
        f"{versions}; BLAS threads: {os.environ.get('OPENBLAS_NUM_THREADS', '?')}",
        "- timings: best of 5 batches (`timeit` practice); ratios > 1 are slower than the reference.",
        "",
        f"Targets: step ≤ {STEP_RATIO_TARGET}× floor at d ≥ 64: **{'met' if ok_step else 'NOT met'}**; "
        f"batched ≥ {BATCH_SPEEDUP_TARGET:g}×: **{'met' if ok_batch else 'NOT met'}**; symmetric fast path "
        f"≥ {SYMMETRIC_SPEEDUP_TARGET:g}× and within {SYMMETRIC_AGREEMENT:g}: **{'met' if ok_sym else 'NOT met'}**; "
        f"batched throughput ≥ {THROUGHPUT_SPEEDUP_TARGET:g}× the engine before issue 10 at d = 4 and 8: "
        f"**{'met' if ok_throughput else 'NOT met'}**.",
        "",
        "## One gradient-descent step against the floor",
        "",
        "Floor: 3L products of d×d matrices over the L distinct layers, outputs preallocated.",
        "",
        _table(["d", "L", "step ms", "floor ms", "step / floor", "target"], steps),
        "",
        "## Batched engine (many problems, same d and L)",
        "",
        _table(["d", "L", "problems", "steps", "batched s", "loop s", "speed-up", "max |difference|", "target"], batch),
        "",
        "## Batched engine throughput (issue 10), one thread",
        "",
        f"GFLOP/s of useful work: 2 d³ (3L − 2) flops per problem and step (L − 1 prefix products, "
        f"L − 1 back-propagations, L gradients; the loss and the update are not counted), "
        f"{THROUGHPUT_PROBLEMS} problems × {THROUGHPUT_STEPS} steps from the identity, eta = 1/(2L). "
        f"Columns: *before* = the batched engine before issue 10 (kept in `impl/bench.py`), *stacked* = "
        f"its stacked-BLAS path now (used without numba and for d > 16), *numba* = the compiled kernel "
        f"(d ≤ 16, when numba is installed: blocks of 8 problems, one SIMD vector per matrix entry, "
        f"products unrolled in LLVM IR with 4×4 register blocks), *engine* = `batched_gradient_descent` "
        f"as dispatched; "
        f"speed-up = engine / before. Peers on the same problems: " + "; ".join(throughput_notes) + ". "
        f"Last difference column: max |layers − per-problem engine| over every engine and 4 of the problems. "
        f"Machine dgemm peak (d = 256, one thread): **{peak:.1f} GFLOP/s**.",
        "",
        _table(["d", "L", "before", "stacked", "numba", "engine", "speed-up", "JAX", "PyTorch",
                "max |difference|", "target"], throughput),
        "",
        "## Symmetric fast path (B8 scalar recurrence) against full gradient descent",
        "",
        _table(["d", "L", "steps", "fast ms", "full ms", "speed-up", "max |layer difference|", "target"], sym),
        "",
        "## Large depth and the balanced factorization",
        "",
        _table(["case", "seconds", "result"], deep),
        "",
        f"Total benchmark time: {time.perf_counter() - started:.0f} s.",
        "",
    ])
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, out)  # atomic: a reader never sees half a report
    print(text)
    return 0 if ok_step and ok_batch and ok_sym else 1  # the throughput target is reported, not gated


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("reports/bench.md")))
