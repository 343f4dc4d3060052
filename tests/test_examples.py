"""Each example runs as a user runs it (a script in a fresh process) and reaches its target."""

import pathlib
import re
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def run_script(name):
    """Run examples/<name> in a fresh Python process; return what it printed."""
    result = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def run_example(name):
    """Run a training example; return its output and its one 'final:' line."""
    out = run_script(name)
    final = [line for line in out.splitlines() if line.startswith("final:")]
    assert len(final) == 1, out
    return out, final[0]


def number_after(label, line):
    match = re.search(re.escape(label) + r" ([0-9.]+)", line)
    assert match, f"no {label!r} in {line!r}"
    return float(match.group(1).rstrip("."))


def test_classify_synthetic_reaches_90_percent_test_accuracy():
    out, final = run_example("classify_synthetic.py")
    assert out.count("epoch") >= 10          # progress is printed every epoch
    assert number_after("test accuracy", final) >= 0.90


def test_xor_reaches_full_accuracy():
    _, final = run_example("xor.py")
    assert "accuracy 100%" in final


def test_sine_regression_fits_the_curve():
    _, final = run_example("sine_regression.py")
    assert number_after("mean squared error", final) < 0.01


def test_digits_reaches_95_percent_test_accuracy():
    _, final = run_example("digits.py")
    assert number_after("test accuracy", final) >= 0.95


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_example_docstring_names_the_mistake_it_avoids(name):
    text = (EXAMPLES / name).read_text()
    assert text.startswith('"""')
    assert "classic failure" in text.split('"""')[1]


def test_check_my_backprop_names_both_mistakes_then_passes():
    out = run_script("check_my_backprop.py")
    before, after = out.split("== after fixing both mistakes")
    assert "WRONG: scaled by 0.5" in before and "WRONG: not summed" in before
    assert "all gradients match" in after and "WRONG" not in after


def test_find_my_backprop_bug_names_the_three_classic_mistakes():
    out = run_script("find_my_backprop_bug.py")
    sections = out.split("== ")[1:]
    assert len(sections) == 3
    for section, mistake in zip(sections, ["derivative_at_wrong_point",
                                           "elementwise_softmax_derivative", "wrong_relu_mask"]):
        assert f"mistake: {mistake}" in section
        assert "first wrong line: " in section and "# the mistake" in section
