"""Where in the user's code something happened: a file, a line and the source text.

Anomaly detection names the line that created an op, and the in-place write check the line
that changed a saved value. Both look for the first frame on the stack outside this library
(and numpy): that is the user's line.
"""

import functools
import linecache
import os
import sys

import numpy as np

# frames in these directories are library code; the op's creator is the first frame outside
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_LIBRARY_DIRS = tuple(os.path.join(d, "") for d in (
    _PACKAGE_DIR,
    os.path.join(os.path.dirname(_PACKAGE_DIR), "nn"),   # the nn package sits beside this one
    os.path.dirname(os.path.abspath(np.__file__)),
))


class CreatedAt:
    """Where user code created an op: ``str()`` gives ``"xor.py:31"``."""

    __slots__ = ("filename", "lineno", "function")

    def __init__(self, filename, lineno, function):
        self.filename, self.lineno, self.function = filename, lineno, function

    def __str__(self):
        return f"{os.path.basename(self.filename)}:{self.lineno}"

    def __repr__(self):
        return f"CreatedAt({self.filename!r}, {self.lineno}, {self.function!r})"

    def source(self):
        """The line of code itself, stripped ('' if the file cannot be read)."""
        return linecache.getline(self.filename, self.lineno).strip()


@functools.lru_cache(maxsize=None)
def is_library_file(filename):
    """True for a file of tinygrad_edu, nn or numpy (not the user's code)."""
    return os.path.abspath(filename).startswith(_LIBRARY_DIRS)


def user_frame():
    """The innermost stack frame outside tinygrad_edu, nn and numpy, as a CreatedAt."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not is_library_file(filename):
            return CreatedAt(filename, frame.f_lineno, frame.f_code.co_name)
        frame = frame.f_back
    return None
