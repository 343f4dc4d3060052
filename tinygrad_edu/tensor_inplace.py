"""Tensor methods that change a tensor in place: ``+=``, ``add_``, ``zero_``, ``copy_``, ...

Part of ``Tensor`` (tensor.py lists the parts). Each method is one call into ``inplace.py``,
which explains what an in-place change records and how backward checks it.
"""

from . import factories
from . import inplace
from .autograd import TensorBase


class InPlaceMethods:
    """In-place methods: they change ``self`` (every view of it sees the change) and return it.

    A part of ``Tensor`` (tensor.py): its methods work on ``self`` as a Tensor.
    """

    __slots__ = ()   # the slots are TensorBase's

    def __iadd__(self, other):
        return inplace.add(self, other, name="+=")

    def __isub__(self, other):
        return inplace.sub(self, other, name="-=")

    def __imul__(self, other):
        return inplace.mul(self, other, name="*=")

    def __itruediv__(self, other):
        return inplace.div(self, other, name="/=")

    def __ipow__(self, other):
        return inplace.pow(self, other, name="**=")

    def add_(self, other, alpha=1):
        """self += alpha * other, in place; returns self (``p.data.add_(g, alpha=-lr)``)."""
        if isinstance(alpha, TensorBase) and not isinstance(other, TensorBase):
            other, alpha = alpha, other   # PyTorch's old add_(alpha, other) spelling
        return inplace.add(self, other, alpha)

    def sub_(self, other, alpha=1):
        """self -= alpha * other, in place; returns self."""
        return inplace.sub(self, other, alpha)

    def mul_(self, other):
        return inplace.mul(self, other)

    def div_(self, other):
        return inplace.div(self, other)

    def pow_(self, exponent):
        return inplace.pow(self, exponent)

    def zero_(self):
        """Set every element to zero in place (e.g. ``w.grad.zero_()``); returns self."""
        return inplace.fill(self, 0, name="zero_")

    def fill_(self, value):
        """Set every element to ``value`` in place; returns self."""
        return inplace.fill(self, value)

    def copy_(self, source):
        """Replace the values by ``source``'s (broadcast to this shape), in place."""
        return inplace.copy(self, source)

    def clamp_(self, min=None, max=None):
        """Clamp every element into [min, max] in place; returns self."""
        return inplace.clamp(self, min, max)

    clip_ = clamp_

    def neg_(self):
        return inplace.unary(self, "neg_", "__neg__")

    def exp_(self):
        return inplace.unary(self, "exp_", "exp")

    def log_(self):
        return inplace.unary(self, "log_", "log")

    def sqrt_(self):
        return inplace.unary(self, "sqrt_", "sqrt")

    def abs_(self):
        return inplace.unary(self, "abs_", "abs")

    def tanh_(self):
        return inplace.unary(self, "tanh_", "tanh")

    def sigmoid_(self):
        return inplace.unary(self, "sigmoid_", "sigmoid")

    def relu_(self):
        return inplace.unary(self, "relu_", "relu")

    def normal_(self, mean=0.0, std=1.0):
        """Fill in place with samples of N(mean, std^2) (seeded by ``tg.manual_seed``)."""
        return self.copy_(TensorBase._wrap(factories.randn(self.shape, self.dtype)) * std + mean)

    def uniform_(self, a=0.0, b=1.0):
        """Fill in place with samples uniform on [a, b) (seeded by ``tg.manual_seed``)."""
        return self.copy_(factories.uniform(self.shape, a, b, self.dtype))

    def masked_fill_(self, mask, value):
        """``masked_fill`` in place; returns self."""
        return inplace.update(self, "masked_fill_", lambda t: t.masked_fill(mask, value))

    def scatter_(self, dim, index, src=None, *, value=None):
        """``scatter`` in place; returns self (one-hot rows: ``zeros(n, c).scatter_(1, y[:, None],
        1.0)``)."""
        src = value if src is None else src
        return inplace.update(self, "scatter_", lambda t: t.scatter(dim, index, src))

    def scatter_add_(self, dim, index, src):
        """``scatter_add`` in place; returns self."""
        return inplace.update(self, "scatter_add_", lambda t: t.scatter_add(dim, index, src))
