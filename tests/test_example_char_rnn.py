"""examples/char_rnn.py runs as a user runs it and learns the sonnet by heart."""

import pathlib
import re
import subprocess
import sys

EXAMPLE = pathlib.Path(__file__).resolve().parent.parent / "examples" / "char_rnn.py"


def test_char_rnn_recites_the_sonnet_from_its_first_line():
    result = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count("epoch") >= 4                       # samples printed as it learns
    final = [line for line in out.splitlines() if line.startswith("final:")]
    assert len(final) == 1, out
    match = re.search(r"recited (\d+) of (\d+) characters", final[0])
    assert match, final[0]
    recited, total = int(match.group(1)), int(match.group(2))
    assert total == 581 and recited == total, final[0]   # every line after the first, exactly
    accuracy = float(re.search(r"next-char accuracy ([0-9.]+)", final[0]).group(1))
    assert accuracy >= 0.99, final[0]
    # the recitation printed is the text itself
    text = (EXAMPLE.parent / "data" / "sonnet_18.txt").read_text()
    assert text in out
