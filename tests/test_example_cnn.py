"""examples/cnn_digits.py runs as a user runs it and reaches its target: >= 97% test accuracy.

It runs in a fresh process with one BLAS thread: the convolutions are many small matrix
products, which a multi-threaded BLAS on a busy machine (the test suite on 2 cores) slows
down by an order of magnitude without changing a single number.
"""

import os
import pathlib
import re
import shutil
import subprocess
import sys

EXAMPLE = pathlib.Path(__file__).resolve().parent.parent / "examples" / "cnn_digits.py"


def test_cnn_digits_reaches_97_percent_and_draws_its_graph(tmp_path):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    svg = tmp_path / "cnn.svg"
    done = subprocess.run([sys.executable, str(EXAMPLE), str(svg)], capture_output=True,
                          text=True, timeout=180, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    final = [line for line in done.stdout.splitlines() if line.startswith("final:")]
    assert len(final) == 1, done.stdout
    accuracy = float(re.search(r"test accuracy ([0-9.]+)", final[0]).group(1))
    assert accuracy >= 0.97, final[0]
    if shutil.which("dot"):
        drawing = svg.read_text()
        assert "Conv2d" in drawing and "Unfold" in drawing and "MaxPool2d" in drawing


def test_the_docstring_names_the_mistake_it_avoids():
    doc = EXAMPLE.read_text().split('"""')[1]
    assert "classic failure" in doc and "(N, 1, 8, 8)" in doc
