"""Long runs stay flat: memory over a long training loop, and a very deep graph.

1. Trains the ``examples/classify_synthetic.py`` model (Linear 5→64, ReLU, Linear 64→4, Adam,
   cross-entropy, batches of 32) for ``--steps`` steps and prints the peak memory traced by
   ``tracemalloc`` after step ``--first`` and after the last step, and their ratio. Every step
   builds a new graph, and ``backward()`` releases it; if anything kept a reference to old
   graphs (through ``.grad``, hooks or caches) the peak would keep growing with the steps.
   The ratio should stay within 1.05.
2. Builds a chain of ``--chain`` ops (alternately ``* c`` and ``+ d``) and differentiates it:
   the graph walk is a loop, not recursion, so no RecursionError. Prints its times and the
   process's peak resident memory (RSS).

Tracing memory makes the training loop several times slower than normal. Usage::

    python benchmarks/memory.py                      # 20,000 steps and a 1,000,000-op chain
    python benchmarks/memory.py --steps 2000 --chain 100000
"""

import argparse
import os
import sys
import time
import tracemalloc

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples"))

import classify_synthetic  # noqa: E402  (from examples/, found through the path above)
import nn  # noqa: E402
import tinygrad_edu as tg  # noqa: E402
from nn.optim import Adam  # noqa: E402
from tinygrad_edu import Tensor  # noqa: E402

try:
    import resource
except ImportError:      # not on Windows: peak RSS is then not reported
    resource = None


def peak_rss_mib():
    """The process's peak resident memory so far, in MiB (None where it cannot be read)."""
    if resource is None:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10   # bytes / KiB


def train_memory(steps=20_000, first=1_000, batch_size=32, seed=0, report=print):
    """Train the classify_synthetic model for ``steps`` steps, tracing memory from the start.

    Returns a dict: peak traced bytes after step ``first`` and after step ``steps``, their
    ``ratio``, the memory still in use at both points, the final loss and the seconds taken.
    """
    if not 0 < first <= steps:
        raise ValueError(f"train_memory: need 0 < first <= steps, got first={first}, "
                         f"steps={steps}")
    tg.manual_seed(seed)
    X, y, _, _ = classify_synthetic.load_data(seed)
    model = classify_synthetic.build_model()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(seed)
    order, position = rng.permutation(len(X)), 0

    result = {}
    tracemalloc.start()
    start = time.perf_counter()
    try:
        for step in range(1, steps + 1):
            if position + batch_size > len(order):
                rng.shuffle(order)       # a new epoch; in place, so no new array is traced
                position = 0
            batch = order[position:position + batch_size]
            position += batch_size
            loss = loss_fn(model(Tensor(X[batch])), Tensor(y[batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step in (first, steps):
                current, peak = tracemalloc.get_traced_memory()
                label = "first" if step == first else "last"
                result[f"peak_{label}"], result[f"current_{label}"] = peak, current
                report(f"step {step:>6,}: peak traced memory {peak / 1024:8.1f} KiB, in use "
                       f"{current / 1024:8.1f} KiB, loss {loss.item():.4f}")
    finally:
        tracemalloc.stop()
    result["seconds"] = time.perf_counter() - start
    result["loss"] = loss.item()
    result["ratio"] = result["peak_last"] / result["peak_first"]
    report(f"ratio of peaks, step {steps:,} / step {first:,}: {result['ratio']:.3f} "
           f"(target: within 1.05); {steps:,} steps in {result['seconds']:.1f} s with tracing")
    return result


def chain_memory(length=1_000_000, report=print):
    """Differentiate a chain of ``length`` ops; return its times, memory and gradient.

    The chain alternates y = y * c and y = y + d, so dy/dx = c^(length/2) exactly. Memory is
    the process's peak RSS (tracemalloc would triple the time and its own bookkeeping would
    dwarf what it measures), so it includes whatever ran before.
    """
    c, d = 1.0 + 1e-7, 1e-3
    x = Tensor(np.array(0.5), requires_grad=True)
    start = time.perf_counter()
    y = x
    for i in range(length):
        y = y * c if i % 2 == 0 else y + d
    built = time.perf_counter()
    y.backward()
    done = time.perf_counter()
    del y                         # freeing a million-deep chain must not overflow the stack
    freed = time.perf_counter()
    expected = c ** ((length + 1) // 2)
    result = dict(forward_seconds=built - start, backward_seconds=done - built,
                  free_seconds=freed - done, rss_mib=peak_rss_mib(),
                  grad=x.grad.item(), expected_grad=expected)
    memory = "" if result["rss_mib"] is None else f"; peak RSS {result['rss_mib']:.0f} MiB"
    report(f"chain of {length:,} ops: forward {result['forward_seconds']:.1f} s, backward "
           f"{result['backward_seconds']:.1f} s, freeing {result['free_seconds']:.1f} s"
           f"{memory}; dy/dx = {result['grad']:.9f} (exact: {expected:.9f})")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20_000, help="training steps (20000)")
    parser.add_argument("--first", type=int, default=1_000,
                        help="step whose peak the last step's is compared with (1000)")
    parser.add_argument("--chain", type=int, default=1_000_000,
                        help="ops in the chain to differentiate (1000000; 0 skips it)")
    args = parser.parse_args(argv)
    train_memory(args.steps, min(args.first, args.steps))
    if args.chain:
        chain_memory(args.chain)


if __name__ == "__main__":
    main()
