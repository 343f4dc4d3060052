"""One child process of run.py: one workload on one engine, reported as one line of JSON.

    python benchmarks/worker.py W1 tinygrad_edu [--mode full|quick|smoke] [--memory]

The child first runs ``check`` steps and records the numbers to compare with numpy-by-hand
(the loss; for the chains also two sums of the input's gradient); these double as warm-up.
Then it times ``blocks`` blocks of ``per_block`` steps, and records the values of the very
last step, which every engine reaches after the same steps on the same batches. With
``--memory`` it finally builds a fresh model under tracemalloc and reports the peak bytes
traced during three training steps (weights, gradients, activations and graph included).
"""

import argparse
import importlib
import json
import resource
import sys
import time
import tracemalloc

import numpy as np

import workloads

ENGINE_MODULES = {
    "numpy": "engine_numpy",
    "tinygrad_edu": "engine_tinygrad",
    "torch": "engine_torch",
}
RESULT_PREFIX = "RESULT "


def check_values(result):
    """The numbers compared across engines: the loss, and for chains two sums of the gradient.

    numpy arrays, tinygrad_edu Tensors and torch tensors all convert with float() and
    np.asarray, so one function serves every engine.
    """
    if isinstance(result, tuple):
        loss, grad = result
        grad = np.asarray(grad, dtype=np.float64)
        return [float(loss), float(grad.sum()), float(np.abs(grad).sum())]
    return [float(result)]


def _build(engine, workload, lengths):
    """The function doing one unit of work, and the argument tuples it cycles through."""
    if workload.kind == "train":
        weights, batches = workloads.mlp_setup(workload.name)
        return engine.train_step(weights, workloads.LEARNING_RATE), batches
    if workload.kind == "cnn_train":
        weights, batches = workloads.cnn_setup()
        return engine.cnn_train_step(weights, workloads.LEARNING_RATE), batches
    if workload.kind == "eval":
        weights, batches = workloads.mlp_setup(workload.name)
        return engine.eval_step(weights), batches
    x = workloads.chain_input(workload.name)
    if workload.kind == "tanh_chain":
        return engine.tanh_chain(lengths["chain"]), [(x,)]
    return engine.scale_chain(lengths["chain"], workloads.W4_FACTOR), [(x,)]


def _run(fn, inputs, start, count):
    """Call ``fn`` ``count`` times on the inputs from position ``start`` on; the last result."""
    result = None
    for i in range(start, start + count):
        result = fn(*inputs[i % len(inputs)])
    return result


def _peak_memory(engine, workload, steps=3):
    """Peak bytes traced during ``steps`` training steps, counting what is alive at the start
    (the model's weights) but not its construction (init draws temporaries we do not want)."""
    weights, batches = workloads.mlp_setup(workload.name)
    tracemalloc.start()
    step = engine.train_step(weights, workloads.LEARNING_RATE)
    live_weights = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    _run(step, batches, 0, steps)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, live_weights


def measure(workload_name, engine_name, mode, memory=False):
    """Run one workload on one engine; return a dict that run.py reads (see module docstring)."""
    workload = workloads.WORKLOADS.get(workload_name) or workloads.MILLION
    lengths = workloads.LENGTHS[mode][workload_name]
    engine = importlib.import_module(ENGINE_MODULES[engine_name])
    fn, inputs = _build(engine, workload, lengths)
    ops_per_call = lengths["chain"] if workload.per_op else 1

    checked = [check_values(fn(*inputs[i % len(inputs)])) for i in range(lengths["check"])]
    done = lengths["check"]
    times = []
    result = None
    for _ in range(lengths["blocks"]):
        start = time.perf_counter()
        result = _run(fn, inputs, done, lengths["per_block"])
        elapsed = time.perf_counter() - start
        done += lengths["per_block"]
        times.append(elapsed / (lengths["per_block"] * ops_per_call) * workload.scale)
    report = {
        "workload": workload_name,
        "engine": engine_name,
        "times": times,
        "checked": checked,
        "final": check_values(result),
        "steps": done,
        "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    if memory and workload.kind != "train":
        raise ValueError(f"--memory measures training steps; {workload_name} has none")
    if memory and engine_name != "torch":   # torch allocates outside tracemalloc's sight
        report["peak_bytes"], report["weight_bytes"] = _peak_memory(engine, workload)
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=list(workloads.LENGTHS["full"]))
    parser.add_argument("engine", choices=list(ENGINE_MODULES))
    parser.add_argument("--mode", choices=list(workloads.LENGTHS), default="full")
    parser.add_argument("--memory", action="store_true", help="also measure peak memory")
    args = parser.parse_args(argv)
    report = measure(args.workload, args.engine, args.mode, args.memory)
    sys.stdout.write(RESULT_PREFIX + json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
