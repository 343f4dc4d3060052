"""``tinygrad_edu.optim`` is ``nn.optim`` itself (see ``tinygrad_edu/nn.py``)."""

import sys

from . import nn as _nn

sys.modules[__name__] = _nn.optim
