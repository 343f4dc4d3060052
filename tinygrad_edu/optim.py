"""``tinygrad_edu.optim`` is ``nn.optim`` itself (see ``tinygrad_edu/nn.py``)."""

import sys

from . import nn as _nn

sys.modules[__name__] = _nn.optim
# and its submodule under this name too, so that ``import tinygrad_edu.optim.lr_scheduler``
# finds the module that is already loaded instead of loading a second copy
sys.modules[__name__ + ".lr_scheduler"] = _nn.optim.lr_scheduler
