"""Activation modules: thin wrappers around ``nn.functional``, so they fit in a Sequential.

None has parameters. ``inplace`` is accepted for PyTorch compatibility and has no effect:
results are always new tensors.
"""

from . import functional as F
from .module import Module


class ReLU(Module):
    """max(x, 0), elementwise. Its derivative at exactly 0 is taken as 0, as in PyTorch."""

    def __init__(self, inplace=False):
        super().__init__()

    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    """x where x > 0, else negative_slope * x: a ReLU whose units cannot die completely."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """1 / (1 + e^-x), elementwise: squashes to (0, 1). Saturates (tiny gradient) for |x| > 5."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x), elementwise: squashes to (-1, 1)."""

    def forward(self, x):
        return F.tanh(x)


class Softmax(Module):
    """e^x / sum(e^x) along ``dim``. Do not put it before CrossEntropyLoss, which wants logits."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably; pair it with NLLLoss."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
