"""A few hundred steps of benchmarks/memory.py, to keep the script working (no timings checked).

The full measurement (20,000 steps, a 1,000,000-op chain) is run by hand:
``python benchmarks/memory.py``.
"""

import importlib.util
import pathlib

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "memory.py"


@pytest.fixture(scope="module")
def memory():
    pytest.importorskip("sklearn")          # the example's data comes from scikit-learn
    spec = importlib.util.spec_from_file_location("benchmark_memory", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_training_loop_reports_peaks_at_both_steps_and_their_ratio(memory):
    lines = []
    result = memory.train_memory(steps=300, first=100, report=lines.append)
    assert result["peak_last"] >= result["peak_first"] > 0
    assert result["ratio"] == result["peak_last"] / result["peak_first"]
    assert lines[0].startswith("step    100: peak traced memory")
    assert lines[1].startswith("step    300: peak traced memory")
    assert "ratio of peaks, step 300 / step 100" in lines[2]


def test_chain_is_differentiated_and_reported(memory):
    lines = []
    result = memory.chain_memory(length=2_001, report=lines.append)
    assert result["grad"] == pytest.approx(result["expected_grad"], rel=1e-12)
    assert result["rss_mib"] is None or result["rss_mib"] > 0
    assert lines[0].startswith("chain of 2,001 ops:")


def test_command_line_takes_steps_and_chain_length(memory, capsys):
    memory.main(["--steps", "20", "--first", "10", "--chain", "0"])
    out = capsys.readouterr().out
    assert "step     10:" in out and "step     20:" in out and "ratio of peaks" in out
    assert "chain" not in out
