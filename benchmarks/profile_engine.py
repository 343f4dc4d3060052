"""Where tinygrad_edu spends its time on W1 and W2 (MLP training steps) and W4 (a long chain).

    python benchmarks/profile_engine.py                 # phases + cProfile of W1, W2 and W4
    python benchmarks/profile_engine.py W1 --top 30     # one workload, more rows
    python benchmarks/profile_engine.py --pyinstrument  # also pyinstrument's call tree
    python benchmarks/profile_engine.py --micro         # also costs of single hot-path pieces

Four views, from least to most intrusive:

- phases: plain ``perf_counter`` around forward / zero_grad / backward / optimizer step (W1,
  W2) or forward / backward (W4), in us per step, with no profiler attached; once with
  Python's garbage collector on and once with it off;
- op clock: time inside each primitive's forward and backward (and _store_grad,
  the optimizer's update), by wrapping them in ``perf_counter`` calls for the run; what is
  left of the step is the Python bookkeeping between them;
- cProfile: the functions with the most own time (tottime), as a share of the total and in
  us per step; cProfile adds a fixed cost to every Python call, so call-heavy code looks
  slower than it is, but the ranking is what matters here;
- micro: timeit of single pieces of the hot path (grad-mode lookup, one op, a scalar operand,
  ...), to put a price on each item of the optimisation list.

Run it with one BLAS thread (``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1``), as run.py does.
"""

import argparse
import collections
import cProfile
import gc
import os
import pstats
import statistics
import sys
import time
import timeit

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")   # before numpy is imported

import numpy as np  # noqa: E402

import engine_tinygrad  # noqa: E402
import workloads  # noqa: E402
from tinygrad_edu import Tensor, autograd  # noqa: E402


def _mlp_parts(name):
    """The W1 or W2 training step of engine_tinygrad, taken apart into its four phases."""
    weights, batches = workloads.mlp_setup(name)
    model = engine_tinygrad._mlp(weights)
    loss_fn = engine_tinygrad.nn.CrossEntropyLoss()
    optimizer = engine_tinygrad.SGD(model.parameters(), lr=workloads.LEARNING_RATE)
    holder = {}

    def forward(i):
        x, y = batches[i % len(batches)]
        holder["loss"] = loss_fn(model(Tensor(x)), Tensor(y))

    def phases():
        return [("forward (model + loss)", forward),
                ("zero_grad", lambda i: optimizer.zero_grad()),
                ("backward", lambda i: holder["loss"].backward()),
                ("optimizer step", lambda i: optimizer.step())]

    def step(i):
        for _, phase in phases():
            phase(i)

    return step, phases(), holder


def _w4_parts(n=20_000):
    x = workloads.chain_input("W4")
    holder = {}

    def forward(i):
        h = holder["x"] = Tensor(x, requires_grad=True)
        for _ in range(n):
            h = h * workloads.W4_FACTOR
        holder["loss"] = h.sum()

    def backward(i):
        holder["loss"].backward()

    phases = [("forward (20,000 ops)", forward), ("backward", backward)]

    def step(i):
        forward(i)
        backward(i)

    return step, phases, holder


PARTS = {
    "W1": (lambda: _mlp_parts("W1"), 3000, "training step"),
    "W2": (lambda: _mlp_parts("W2"), 100, "training step"),
    "W4": (_w4_parts, 10, "chain of 20,000 ops"),
}


def phase_times(name, repeats=5, collect=True):
    """us per step of each phase: the median of ``repeats`` blocks. ``collect=False`` turns
    Python's cyclic garbage collector off while timing, to see what its passes cost."""
    make, steps, _ = PARTS[name]
    step, phases, _ = make()
    for i in range(steps // 10 + 1):   # warm up
        step(i)
    totals = {label: [] for label, _ in phases}
    if not collect:
        gc.collect()
        gc.disable()
    try:
        _time_phases(phases, steps, repeats, totals)
    finally:
        gc.enable()
    return {label: statistics.median(values) for label, values in totals.items()}


def _time_phases(phases, steps, repeats, totals):
    for _ in range(repeats):
        spent = dict.fromkeys(totals, 0.0)
        for i in range(steps):
            for label, phase in phases:
                start = time.perf_counter()
                phase(i)
                spent[label] += time.perf_counter() - start
        for label in totals:
            totals[label].append(spent[label] / steps * 1e6)


def graph_size(name):
    """How many ops one step records in its graph."""
    make, _, _ = PARTS[name]
    step, phases, holder = make()
    phases[0][1](0)
    return len([t for t in autograd.walk(holder["loss"]) if t._op is not None])


def op_clock(name):
    """us per step spent in each primitive's forward and backward, and in a few engine
    functions, measured by wrapping them in perf_counter calls (restored afterwards)."""
    import nn.optim
    from tinygrad_edu import ops

    spent, calls, originals = collections.Counter(), collections.Counter(), []

    def clock(owner, attr, label):
        fn = getattr(owner, attr)
        originals.append((owner, attr, owner.__dict__[attr]))

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - start
                calls[label] += 1
        setattr(owner, attr, timed)

    for cls in ops.PRIMITIVES:
        for attr in ("forward", "backward"):
            if attr in cls.__dict__:
                clock(cls, attr, f"{cls.__name__}.{attr}")
    clock(autograd, "_store_grad", "autograd._store_grad")
    clock(nn.optim.SGD, "_update", "SGD._update (numpy only)")
    try:
        make, steps, _ = PARTS[name]
        step, _, _ = make()
        steps = max(steps // 3, 1)
        for i in range(steps // 10 + 1):
            step(i)
        spent.clear()
        calls.clear()
        start = time.perf_counter()
        for i in range(steps):
            step(i)
        total = time.perf_counter() - start
    finally:
        for owner, attr, original in originals:
            setattr(owner, attr, original)
    lines = [f"time inside each op and engine function, {name} ({total / steps * 1e6:.0f} us per "
             "step with the clocks attached; the rest is Python bookkeeping around them):"]
    for label, value in spent.most_common():
        lines.append(f"{value / steps * 1e6:11.1f} us {calls[label] / steps:8.1f} calls  {label}")
    return "\n".join(lines)


def cprofile_table(name, top):
    make, steps, unit = PARTS[name]
    step, _, _ = make()
    for i in range(steps // 10 + 1):
        step(i)
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(steps):
        step(i)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    lines = [f"cProfile, {name}: {steps} x {unit}, {total / steps * 1e6:.0f} us per step under "
             "the profiler",
             f"{'own %':>6} {'own us/step':>11} {'cum us/step':>11} {'calls/step':>10}  function"]
    for (path, line, func), (_, calls, tottime, cumtime, _) in rows:
        where = f"{os.path.relpath(path) if os.path.isabs(path) else path}:{line}({func})"
        lines.append(f"{tottime / total * 100:6.1f} {tottime / steps * 1e6:11.2f} "
                     f"{cumtime / steps * 1e6:11.2f} {calls / steps:10.1f}  {where}")
    return "\n".join(lines)


def pyinstrument_tree(name):
    try:
        import pyinstrument
    except ImportError:
        return "(pyinstrument is not installed: pip install pyinstrument)"
    make, steps, _ = PARTS[name]
    step, _, _ = make()
    for i in range(steps // 10 + 1):
        step(i)
    profiler = pyinstrument.Profiler(interval=0.0002)
    profiler.start()
    for i in range(steps):
        step(i)
    profiler.stop()
    return profiler.output_text(unicode=True, color=False, show_all=False)


def micro_costs():
    """us per call of single pieces of the hot path (each the best of 5 timeit runs)."""
    import nn
    from tinygrad_edu import ops
    from tinygrad_edu.autograd import apply as _apply

    a = Tensor(np.ones((32, 64), dtype=np.float32), requires_grad=True)
    b = Tensor(np.ones((32, 64), dtype=np.float32), requires_grad=True)
    s = Tensor(np.ones(1, dtype=np.float32), requires_grad=True)
    g = np.ones((32, 64), dtype=np.float32)
    arr = np.ones((32, 64), dtype=np.float32)
    loss = Tensor(np.float32(1.0))
    relu = nn.ReLU()
    logits = Tensor(np.zeros((32, 4), dtype=np.float32), requires_grad=True)
    labels = Tensor(np.zeros(32, dtype=np.int64))
    cases = [
        ("autograd.is_grad_enabled() (thread-local getattr)", lambda: autograd.is_grad_enabled()),
        ("autograd.current_scope() (thread-local getattr)", lambda: autograd.current_scope()),
        ("Tensor._wrap(array)", lambda: Tensor._wrap(arr)),
        ("ops.Add() (an op instance with a __dict__)", lambda: ops.Add()),
        ("s._operand(1.00001) (scalar -> 0-d Tensor)", lambda: s._operand(1.00001)),
        ("ops.unbroadcast(g, same shape)", lambda: ops.unbroadcast(g, (32, 64))),
        ("numpy: arr * arr on (32, 64)", lambda: arr * arr),
        ("numpy: arr * 1.00001 on (1,)", lambda: s.data * 1.00001),
        ("a * b, recorded (32, 64)", lambda: a * b),
        ("s * 1.00001, recorded (1,)", lambda: s * 1.00001),
        ("np.isfinite(loss).all() in backward's _seed", lambda: np.isfinite(loss.data).all()),
        ("nn.ReLU()(a): Module.__call__ + module_scope", lambda: relu(a)),
        ("a.relu(): the same op without the Module", lambda: a.relu()),
        ("F.cross_entropy on (32, 4) logits", lambda: nn.functional.cross_entropy(logits, labels)),
        ("_apply(ops.Relu, a)", lambda: _apply(ops.Relu, a)),
    ]
    lines = ["micro costs (us per call, best of 5):"]
    for label, fn in cases:
        number = 2000
        best = min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6
        lines.append(f"{best:8.2f}  {label}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", help="some of W1, W2, W4 (default: all)")
    parser.add_argument("--top", type=int, default=20, help="rows of the cProfile table")
    parser.add_argument("--pyinstrument", action="store_true", help="also pyinstrument's tree")
    parser.add_argument("--micro", action="store_true", help="also time hot-path pieces")
    args = parser.parse_args(argv)
    names = args.workloads or list(PARTS)
    if any(name not in PARTS for name in names):
        parser.error(f"workloads are chosen from {list(PARTS)}, got {names}")
    for name in names:
        print(f"== {name}: {graph_size(name)} recorded ops per step")
        times = phase_times(name)
        total = sum(times.values())
        for label, value in times.items():
            print(f"{value:9.1f} us  {value / total * 100:5.1f} %  {label}")
        print(f"{total:9.1f} us  total per step (no profiler)")
        no_gc = phase_times(name, collect=False)
        print("  with the garbage collector off: " + ", ".join(
            f"{label} {value:.1f} us" for label, value in no_gc.items())
            + f"; total {sum(no_gc.values()):.1f} us\n")
        print(op_clock(name) + "\n")
        print(cprofile_table(name, args.top) + "\n")
        if args.pyinstrument:
            print(pyinstrument_tree(name))
    if args.micro:
        print(micro_costs())


if __name__ == "__main__":
    sys.exit(main())
