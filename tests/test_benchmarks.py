"""The benchmark harness (benchmarks/run.py) runs and checks losses; nothing here times anything.

The harness is run end to end in its smoke mode (a few steps per workload, one round), and its
loss comparison is shown to stop a run whose engine disagrees with numpy-by-hand.
"""

import os
import subprocess
import sys

import pytest

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "benchmarks")
sys.path.insert(0, BENCHMARKS)

import run  # noqa: E402  (benchmarks/run.py, found through the path above)
import worker  # noqa: E402


def test_smoke_run_writes_a_table_with_every_workload(tmp_path):
    out = tmp_path / "results.md"
    done = subprocess.run(
        [sys.executable, os.path.join(BENCHMARKS, "run.py"), "--smoke", "--million",
         "--engines", "numpy,tinygrad_edu", "--out", str(out)],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    table = out.read_text()
    for row in ("| W1 |", "| W1-inf |", "| W2 |", "| W3 |", "| W4 |", "| W5 |",
                "| W2 peak memory |", "| W4-1M |"):
        assert row in table
    assert "Losses agree with numpy-by-hand" in table
    assert "OMP/OPENBLAS/MKL" in table


def test_engines_agree_with_numpy_by_hand_in_process():
    reference = worker.measure("W1", "numpy", "smoke")
    report = worker.measure("W1", "tinygrad_edu", "smoke")
    assert run.check_report(report, reference) < run.CHECK_RTOL


def test_a_wrong_loss_stops_the_run():
    reference = worker.measure("W4", "numpy", "smoke")
    wrong = dict(reference, engine="tinygrad_edu", checked=[[v * 1.01 for v in step]
                                                            for step in reference["checked"]])
    with pytest.raises(run.LossMismatch, match="disagrees with numpy-by-hand at checked step 1"):
        run.check_report(wrong, reference)


def test_children_get_one_blas_thread_and_may_drop_openblas_tuning(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    env = run.child_environment(threads=1, unset_openblas_tuning=False)
    assert env["OMP_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "1"
    assert env["OPENBLAS_CORETYPE"] == "Haswell"
    assert "OPENBLAS_CORETYPE" not in run.child_environment(1, unset_openblas_tuning=True)


def test_the_cnn_workload_agrees_with_numpy_by_hand_in_process():
    # W5: the CNN step written with nn.Conv2d / MaxPool2d against im2col by hand
    reference = worker.measure("W5", "numpy", "smoke")
    report = worker.measure("W5", "tinygrad_edu", "smoke")
    assert run.check_report(report, reference) < run.CHECK_RTOL
