"""Benchmark tinygrad_edu against the same workloads written in numpy by hand (and PyTorch).

    python benchmarks/run.py                  # 5 rounds, then the 1,000,000-op chain once
    python benchmarks/run.py --quick          # 2 rounds, shorter runs, no million-op chain
    python benchmarks/run.py --out FILE.md    # where the markdown table goes
                                              # (default benchmarks/results.md)

The workloads (issue 4; defined in ``workloads.py``):

    W1      MLP 5-64-4, ReLU, batch 32, SGD, softmax cross-entropy   us per training step
    W1-inf  the W1 forward and loss under no_grad                      us per forward
    W2      MLP 784-256-256-10, batch 128, otherwise as W1              ms per training step
    W3      100 x tanh on a (32, 32) tensor, then backward              us per op
    W4      20,000 x (h * 1.00001) on shape (1,), then backward        us per op
    W4-1M   the W4 chain with 1,000,000 ops, once: does it complete?   us per op
    W5      the CNN of examples/cnn_digits.py, batch 64, SGD            ms per training step

Engines: ``numpy`` (written by hand in ``engine_numpy.py``: the floor), ``tinygrad_edu``
(``engine_tinygrad.py``: nn layers, CrossEntropyLoss and SGD, as a user writes them) and
``torch`` when it is importable (optional, never required). To compare with PyTorch, install a
CPU build into the same environment, e.g.
``pip install torch==<version> --index-url https://download.pytorch.org/whl/cpu``.

How it measures. Every workload on every engine runs in its own child process
(``worker.py``), and the children are interleaved: round 1 runs W1 on each engine, then
W1-inf on each engine, ..., and the next round again, with the engine order rotated, so slow
drifts of the machine hit every engine alike. A child reports the median of its timed blocks;
the table shows, per workload and engine, the median over rounds and the spread (lowest and
highest round). Ratios are to numpy-by-hand measured in the same run.

Times are what a user's loop sees: Python's garbage collector stays on, and each step's
result (the loss, hence its released graph) stays alive until the next step has finished,
as ``loss = ...`` in a loop keeps it.

Correctness. Each child starts with steps whose losses (for W3/W4: the output and two sums of
the input's gradient) are compared with numpy-by-hand one by one, and the values of its very
last step are compared too. Any disagreement stops the run with exit status 1: a fast wrong
engine is not fast.

Memory. In the first round, the W2 children also report the peak bytes seen by tracemalloc
during three training steps (weights, gradients, activations and graph). tracemalloc does
not see PyTorch's allocator, so torch has no memory figure.

Environment. Children run with OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS and
VECLIB_MAXIMUM_THREADS set to 1 (``--threads N`` to change). OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE, if set, are passed through unchanged (every engine uses the same numpy, so
the ratios stay fair); ``--unset-openblas-tuning`` removes them for the run. The report names
the values used.

Where the time goes: ``python benchmarks/profile_engine.py`` (phases, per-op clocks, cProfile,
optionally pyinstrument); findings in ``benchmarks/PROFILE.md``.
"""

import argparse
import datetime
import importlib.util
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time

import numpy as np

import workloads
from worker import RESULT_PREFIX

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS")
OPENBLAS_TUNING = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
# float32 and a different order of operations: the first steps agree to about 1e-6; the
# last one, after hundreds of steps, a little less (rounding differences compound)
CHECK_RTOL, FINAL_RTOL, ATOL = 1e-4, 2e-3, 1e-6


class BenchmarkError(Exception):
    """A child failed, or an engine's numbers disagree with numpy-by-hand."""


class LossMismatch(BenchmarkError):
    """An engine computed different losses (or gradients) than numpy-by-hand."""


def child_environment(threads, unset_openblas_tuning):
    env = dict(os.environ)
    for name in THREAD_VARIABLES:
        env[name] = str(threads)
    if unset_openblas_tuning:
        for name in OPENBLAS_TUNING:
            env.pop(name, None)
    # run from a checkout without installing: the children find tinygrad_edu and nn here
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO, env.get("PYTHONPATH")]))
    return env


def run_child(workload, engine, mode, env, memory=False):
    """Run worker.py for one workload and engine; its report as a dict."""
    command = [sys.executable, os.path.join(HERE, "worker.py"), workload, engine, "--mode", mode]
    if memory:
        command.append("--memory")
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if done.returncode != 0 or not lines:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise BenchmarkError(f"{workload} on {engine}: the child process failed "
                             f"(exit status {done.returncode}):\n{tail}")
    return json.loads(lines[-1][len(RESULT_PREFIX):])


def compare_values(workload, engine, values, reference, rtol, what):
    """Raise BenchmarkError unless ``values`` match numpy's ``reference`` within ``rtol``.

    Both are lists of steps, each step a list of numbers (the loss, ...). Returns the largest
    relative difference found.
    """
    worst = 0.0
    if len(values) != len(reference):
        raise BenchmarkError(f"{workload} on {engine}: {len(values)} {what} values, numpy-by-hand "
                             f"has {len(reference)}")
    for step, (got, want) in enumerate(zip(values, reference), start=1):
        got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
        if got.shape != want.shape or not np.all(np.abs(got - want) <= ATOL + rtol * np.abs(want)):
            raise LossMismatch(
                f"{workload} on {engine} disagrees with numpy-by-hand at {what} step {step}: "
                f"got {got.tolist()}, expected {want.tolist()} (relative tolerance {rtol}). "
                "A fast wrong engine is not fast: fix the engine before reading the timings.")
        worst = max(worst, float(np.max(np.abs(got - want) / np.maximum(np.abs(want), ATOL))))
    return worst


def check_report(report, reference):
    """Compare one child's values with numpy's (the reference report); the largest rel. diff."""
    name, engine = report["workload"], report["engine"]
    if report["steps"] != reference["steps"]:
        raise BenchmarkError(f"{name} on {engine}: ran {report['steps']} steps, numpy-by-hand "
                             f"{reference['steps']}; the final losses are not comparable")
    first = compare_values(name, engine, report["checked"], reference["checked"], CHECK_RTOL,
                           "checked")
    last = compare_values(name, engine, [report["final"]], [reference["final"]], FINAL_RTOL,
                          f"final (after {report['steps']} steps)")
    return max(first, last)


def run_rounds(names, engines, mode, rounds, env, log):
    """All rounds; returns {(workload, engine): [report per round]} and the worst differences."""
    reports = {(name, engine): [] for name in names for engine in engines}
    worst = {}
    reference = {}
    for r in range(rounds):
        # round 1 starts with numpy, whose values every other engine is checked against
        order = engines[r % len(engines):] + engines[:r % len(engines)]
        for name in names:
            for engine in order:
                start = time.perf_counter()
                report = run_child(name, engine, mode, env, memory=(name == "W2" and r == 0))
                if engine == "numpy" and name not in reference:
                    reference[name] = report
                diff = check_report(report, reference[name])
                worst[name, engine] = max(worst.get((name, engine), 0.0), diff)
                reports[name, engine].append(report)
                log(f"  round {r + 1}/{rounds}  {name:7s} {engine:13s} "
                    f"{statistics.median(report['times']):10.3f} "
                    f"{workloads.WORKLOADS[name].unit}  ({time.perf_counter() - start:.1f} s)")
    return reports, worst


def run_million(engines, mode, env, log):
    """The W4 chain with a million ops, once per engine; a failure is a result, not an error."""
    results, reference = {}, None
    for engine in engines:
        start = time.perf_counter()
        try:
            report = run_child("W4-1M", engine, mode, env)
            if engine == "numpy":
                reference = report
            elif reference is not None:
                check_report(report, reference)
            results[engine] = report
            log(f"  W4-1M   {engine:13s} {report['times'][0]:10.3f} us  "
                f"({time.perf_counter() - start:.1f} s)")
        except LossMismatch:
            raise
        except BenchmarkError as error:
            results[engine] = {"error": str(error).splitlines()[-1]}
            log(f"  W4-1M   {engine:13s} FAILED: {results[engine]['error']}")
    return results


# ----- the report -------------------------------------------------------------------------

def summarize(round_reports):
    """Median over rounds (each a child's median) and the lowest and highest round."""
    per_round = [statistics.median(r["times"]) for r in round_reports]
    return statistics.median(per_round), min(per_round), max(per_round)


def paired_ratio(engine_reports, numpy_reports):
    """engine / numpy within each round (they ran back to back), as (median, lowest, highest).

    Pairing by round cancels slow drifts of the machine that hit a whole round.
    """
    ratios = [statistics.median(e["times"]) / statistics.median(n["times"])
              for e, n in zip(engine_reports, numpy_reports)]
    return statistics.median(ratios), min(ratios), max(ratios)


def _number(value):
    decimals = 0 if value >= 100 else 1 if value >= 10 else 2
    return f"{value:.{decimals}f}"


def _cell(summary):
    median, low, high = summary
    return f"{_number(median)} ({_number(low)}–{_number(high)})"


def build_table(names, engines, reports, million):
    """The results as markdown rows, and a list of (target, met) lines."""
    others = [e for e in engines if e != "numpy"]
    header = ["workload", "unit", "numpy by hand"]
    for engine in others:
        header += [engine, "ratio"]
    header += ["target (tinygrad_edu)", "met"]
    rows = [header]
    verdicts = []
    for name in names:
        workload = workloads.WORKLOADS[name]
        base = summarize(reports[name, "numpy"])
        per = "op" if workload.per_op else "forward" if workload.kind == "eval" else "step"
        row = [name, f"{workload.unit}/{per}", _cell(base)]
        ours = None
        for engine in others:
            summary = summarize(reports[name, engine])
            ratio = paired_ratio(reports[name, engine], reports[name, "numpy"])
            row += [_cell(summary), f"{ratio[0]:.2f}× ({ratio[1]:.2f}–{ratio[2]:.2f})"]
            if engine == "tinygrad_edu":
                ours, our_ratio = summary, ratio[0]
        target, met = "—", ""
        if ours is not None and workload.target_ratio is not None:
            target = f"≤ {workload.target_ratio}× numpy"
            met = "yes" if our_ratio <= workload.target_ratio else "**no**"
        elif ours is not None and workload.target_abs is not None:
            target = f"≤ {workload.target_abs} {workload.unit}/op"
            met = "yes" if ours[0] <= workload.target_abs else "**no**"
        row += [target, met]
        rows.append(row)
        if met:
            verdicts.append((name, met == "yes"))

    if "W2" in names:
        base = reports["W2", "numpy"][0].get("peak_bytes")
        row = ["W2 peak memory", "MB", f"{base / 1e6:.2f}"]
        for engine in others:
            peak = reports["W2", engine][0].get("peak_bytes")
            row += ["n/a", ""] if peak is None else [f"{peak / 1e6:.2f}", f"{peak / base:.2f}×"]
        ours = None
        if "tinygrad_edu" in others:
            ours = reports["W2", "tinygrad_edu"][0].get("peak_bytes")
        met = "" if ours is None else ("yes" if ours / base <= workloads.MEMORY_TARGET_RATIO
                                       else "**no**")
        rows.append(row + [f"≤ {workloads.MEMORY_TARGET_RATIO}× numpy", met])
        if met:
            verdicts.append(("W2 peak memory", met == "yes"))

    if million:
        def million_cell(engine):
            report = million.get(engine, {})
            if "error" in report:
                return "failed"
            return f"{_number(report['times'][0])} (peak RSS {report['max_rss_kb'] / 1024:.0f} MB)"

        row = ["W4-1M", "us/op, once", million_cell("numpy")]
        for engine in others:
            row += [million_cell(engine), ""]
        ours = million.get("tinygrad_edu")
        met = "" if ours is None else "yes" if "error" not in ours else "**no**"
        rows.append(row + ["completes", met])
        if met:
            verdicts.append(("W4-1M", met == "yes"))
    return rows, verdicts


def markdown_table(rows):
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def engine_state():
    """The commit and whether tinygrad_edu/ or nn/ have uncommitted changes, plus the load."""
    def git(*command):
        try:
            return subprocess.run(["git", *command], cwd=REPO, capture_output=True, text=True,
                                  check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "unknown"

    commit = git("rev-parse", "--short", "HEAD")
    if git("status", "--porcelain", "--", "tinygrad_edu", "nn"):
        commit += " with uncommitted changes in tinygrad_edu/ or nn/"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return commit, load


def describe_setup(args, env, engines, before, after):
    if before[0] == after[0]:
        engine = f"engine at commit {before[0]}"
    else:
        engine = f"engine changed during the run: {before[0]} at the start, {after[0]} at the end"
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except (TypeError, KeyError):   # numpy < 1.25 prints its configuration instead
        blas = {}
    tuning = ", ".join(f"{name}={env[name]}" for name in OPENBLAS_TUNING if name in env) or "unset"
    return [
        f"- command: `{shlex.join(['python', 'benchmarks/run.py'] + args.argv)}`",
        f"- date: {datetime.datetime.now().isoformat(timespec='minutes')}; {engine}",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}; "
        f"Python {platform.python_version()}, numpy {np.__version__} "
        f"({blas.get('name', 'unknown BLAS')} {blas.get('version', '')})".rstrip(),
        f"- BLAS threads: {args.threads} (OMP/OPENBLAS/MKL/VECLIB); OpenBLAS tuning: {tuning}",
        f"- engines: {', '.join(engines)}; mode {args.mode}, {args.rounds} round(s); times: "
        "median over rounds (lowest–highest round); ratios: median of the per-round ratios "
        "(lowest–highest)",
        f"- 1-minute load average: {before[1]:.2f} at the start, {after[1]:.2f} at the end "
        f"(on {os.cpu_count()} CPUs; more than about 0.5 means something else was running)",
    ]


def write_report(path, setup_lines, rows, verdicts, worst):
    legend = [
        "",
        "W3 applies `tanh` 100 times to a (32, 32) float32 tensor, then backward of the sum; "
        "W4 multiplies a (1,) tensor by the Python float 1.00001, 20,000 times, then backward; "
        "times per op include the backward pass and its share of the graph bookkeeping. "
        "W5 is one training step of the CNN of examples/cnn_digits.py (3x3 convolutions with "
        "16 and 32 channels, ReLU, 2x2 max pooling, Linear) on 64 images of 8x8; numpy by hand "
        "there is im2col with channels-last activations (engine_numpy.cnn_train_step). "
        "W2 peak memory: tracemalloc peak during three training steps, weights included.",
        "",
        "Losses agree with numpy-by-hand at every checked step (largest relative difference: "
        + ", ".join(f"{name} {engine} {diff:.1e}" for (name, engine), diff in sorted(worst.items())
                    if engine != "numpy") + ").",
        "",
        "Targets met: " + (", ".join(f"{name} {'yes' if ok else 'NO'}" for name, ok in verdicts)
                           or "none measured") + ".",
    ]
    text = "\n".join(["# tinygrad_edu benchmarks", ""] + setup_lines + ["", markdown_table(rows)]
                     + legend) + "\n"
    if path:
        with open(path, "w") as f:
            f.write(text)
    return text


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument("--quick", dest="mode", action="store_const", const="quick",
                       help="2 rounds of shorter runs, no million-op chain")
    modes.add_argument("--smoke", dest="mode", action="store_const", const="smoke",
                       help="1 round of a few steps: only checks that everything runs and agrees")
    parser.set_defaults(mode="full")
    parser.add_argument("--rounds", type=int, help="rounds (default: 5, --quick 2, --smoke 1)")
    parser.add_argument("--workloads", default=",".join(workloads.WORKLOADS),
                        help="comma-separated subset of %(default)s")
    parser.add_argument("--engines", help="comma-separated, from numpy,tinygrad_edu,torch "
                        "(default: all importable; numpy is always included)")
    parser.add_argument("--million", dest="million", action="store_true", default=None,
                        help="run the 1,000,000-op chain (default: only in the full mode)")
    parser.add_argument("--no-million", dest="million", action="store_false")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    parser.add_argument("--unset-openblas-tuning", action="store_true",
                        help="remove OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE from the children")
    parser.add_argument("--out", default=os.path.join(HERE, "results.md"),
                        help="markdown file to write (default %(default)s; '' for none)")
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.rounds is None:
        args.rounds = {"full": 5, "quick": 2, "smoke": 1}[args.mode]
    if args.million is None:
        args.million = args.mode == "full"
    return args


def main(argv=None):
    args = parse_args(argv)
    names = [n for n in args.workloads.split(",") if n]
    unknown = [n for n in names if n not in workloads.WORKLOADS]
    if unknown:
        sys.exit(f"run.py: unknown workload(s) {unknown}; choose from {list(workloads.WORKLOADS)}")
    if args.engines:
        engines = ["numpy"] + [e for e in args.engines.split(",") if e and e != "numpy"]
    else:
        engines = ["numpy", "tinygrad_edu"]
        if importlib.util.find_spec("torch") is not None:
            engines.append("torch")
    env = child_environment(args.threads, args.unset_openblas_tuning)

    def log(message):
        print(message, file=sys.stderr, flush=True)

    before = engine_state()
    try:
        reports, worst = run_rounds(names, engines, args.mode, args.rounds, env, log)
        million = run_million(engines, args.mode, env, log) if args.million else {}
    except BenchmarkError as error:
        print(f"\nBENCHMARK FAILED: {error}", file=sys.stderr)
        return 1
    rows, verdicts = build_table(names, engines, reports, million)
    setup = describe_setup(args, env, engines, before, engine_state())
    text = write_report(args.out, setup, rows, verdicts, worst)
    print(text)
    if args.out:
        print(f"(written to {args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
