"""``tinygrad_edu.nn`` is the top-level ``nn`` package itself (one package, two names)."""

import sys

import nn as _nn

sys.modules[__name__] = _nn
