"""``tinygrad_edu.optim`` is ``nn.optim`` itself (one module, two names)."""

import sys

import nn.optim as _optim

sys.modules[__name__] = _optim
