"""Composite Tensor methods: written in primitive ops, so they need no backward of their own.

``mean`` is a sum and a division, ``softmax`` an exp divided by its sum, ``min`` a max of
negatives: autograd differentiates them through the primitives they are made of. ``Tensor``
inherits these methods from ``Composites``.
"""

import collections

import numpy as np

from . import ops

MaxResult = collections.namedtuple("MaxResult", ["values", "indices"])


def _pick_axis(axis, dim):
    """Methods take numpy's ``axis``; PyTorch's ``dim`` is accepted as another name for it."""
    return dim if dim is not None else axis


class Composites:
    """Methods of ``Tensor`` written in terms of its primitive methods."""

    __slots__ = ()   # Tensor keeps to its own slots: no per-tensor __dict__

    def pow(self, exponent):
        """x ** exponent (PyTorch's method name)."""
        return self ** exponent

    def square(self):
        """x * x."""
        return self * self

    def mm(self, other):
        """Matrix product of two matrices (PyTorch's ``mm``): the same as ``@``."""
        return self.matmul(other)

    def t(self):
        """The transpose of a matrix (a vector is returned as it is), as ``torch.t``."""
        return self.transpose()

    def transpose(self, axis0=-2, axis1=-1):
        """Swap two axes (by default the last two: a matrix transpose), as ``torch.transpose``."""
        if self.ndim < 2:
            return self
        axes = list(range(self.ndim))
        a = ops.normalize_axis(axis0, self.shape, "transpose")[0]
        b = ops.normalize_axis(axis1, self.shape, "transpose")[0]
        axes[a], axes[b] = axes[b], axes[a]
        return self.permute(axes)


    def flatten(self, start_dim=0, end_dim=-1):
        """Merge axes ``start_dim..end_dim`` into one (all of them by default)."""
        if self.ndim == 0:
            return self.reshape(1)
        start = ops.normalize_axis(start_dim, self.shape, "flatten")[0]
        end = ops.normalize_axis(end_dim, self.shape, "flatten")[0]
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                             f"for a tensor of shape {self.shape}")
        return self.reshape(self.shape[:start] + (-1,) + self.shape[end + 1:])


    def unsqueeze(self, dim):
        """Insert an axis of size 1 at position ``dim``."""
        if not -self.ndim - 1 <= dim <= self.ndim:
            raise ValueError(f"unsqueeze: dim {dim} is out of range for a tensor of shape "
                             f"{self.shape}; it must lie in [{-self.ndim - 1}, {self.ndim}]")
        dim = dim % (self.ndim + 1)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])


    def squeeze(self, dim=None):
        """Drop axes of size 1 (only axis ``dim`` if given and of size 1)."""
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        if self.ndim == 0:
            ops.normalize_axis(dim, self.shape, "squeeze")   # only checks dim is 0 or -1
            return self
        dim = ops.normalize_axis(dim, self.shape, "squeeze")[0]
        if self.shape[dim] != 1:
            return self
        return self.reshape(self.shape[:dim] + self.shape[dim + 1:])


    def min(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Smallest element over ``axis``: -max(-x). With ``dim=``, ``(values, indices)``."""
        keepdims = bool(keepdim or keepdims)
        if dim is not None:
            return MaxResult(self.min(dim, keepdims), self.argmin(dim, keepdims))
        return -((-self).max(axis, keepdims))


    def minimum(self, other):
        """Elementwise minimum: -max(-x, -y)."""
        try:
            return -((-self).maximum(-self._operand(other)))
        except ValueError as error:   # name the op the user called, not the one inside
            raise ValueError(str(error).replace("maximum", "minimum", 1)) from None


    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Average over ``axis``: the sum divided by the number of elements summed."""
        axis = ops.normalize_axis(_pick_axis(axis, dim), self.shape, "mean")
        count = self.data.size if axis is None else int(np.prod([self.shape[a] for a in axis]))
        if count == 0:
            raise ValueError(f"mean: nothing to average in a tensor of shape {self.shape}")
        return self.sum(axis, bool(keepdim or keepdims)) / count


    def var(self, axis=None, keepdims=False, correction=1, *, dim=None, keepdim=None):
        """Variance over ``axis``: sum((x - mean)^2) / (n - correction).

        ``correction=1`` (the default, as in PyTorch) is the unbiased sample variance;
        ``correction=0`` is numpy's default ``np.var``.
        """
        axis = ops.normalize_axis(_pick_axis(axis, dim), self.shape, "var")
        count = self.data.size if axis is None else int(np.prod([self.shape[a] for a in axis]))
        if count - correction <= 0:
            raise ValueError(f"var: {count} element(s) with correction={correction} leave "
                             "nothing to divide by")
        deviation = self - self.mean(axis, keepdims=True)
        return (deviation * deviation).sum(axis, bool(keepdim or keepdims)) / (count - correction)


    def leaky_relu(self, slope=0.01):
        """x for x > 0, slope * x otherwise."""
        return self.where(self > 0, self * slope)


    def logsumexp(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """log(sum(exp(x))) over ``axis``, computed without overflow."""
        axis = ops.normalize_axis(_pick_axis(axis, dim), self.shape, "logsumexp")
        # shift by the max so exp never overflows; the shift is a constant (detached) because
        # m + log(sum(e^(x-m))) equals log(sum(e^x)) for any m, so its gradient cancels out
        m = self.data.max(axis=axis, keepdims=True)
        m = self._wrap(np.where(np.isfinite(m), m, 0))
        result = (self - m).exp().sum(axis, keepdims=True).log() + m
        if keepdim or keepdims:
            return result
        return result.reshape(tuple(n for i, n in enumerate(self.shape) if axis is not None and i not in axis))


    def softmax(self, axis=-1, *, dim=None):
        """e^x / sum(e^x) along ``axis``; every slice along it sums to 1."""
        axis = _pick_axis(axis, dim)
        if self.ndim == 0:
            return self.log_softmax(axis=axis).exp()
        # e^(x - max) / sum e^(x - max); the shift is a constant, so .detach() is exact
        shifted = self - self.max(axis=axis, keepdims=True).detach()
        e = shifted.exp()
        return e / e.sum(axis=axis, keepdims=True)

