"""Test-session settings that must be in place before numpy is imported.

One BLAS thread: the tests multiply small matrices, where OpenBLAS's thread pool only costs
(on a busy 2-core machine a (4096, 9) @ (9, 16) product took 15 ms with its threads and
0.09 ms without). Examples the tests start as subprocesses inherit the setting. A value set
by the caller is kept.
"""

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
