"""Composite Tensor methods: written in primitive ops, so they need no backward of their own.

``mean`` is a sum and a division, ``softmax`` an exp divided by its sum, ``min`` a max of
negatives: autograd differentiates them through the primitives they are made of. ``Tensor``
inherits these methods from ``Composites``.
"""

import collections

import numpy as np

from . import ops

MaxResult = collections.namedtuple("MaxResult", ["values", "indices"])


def _correction(unbiased, correction, name):
    """PyTorch's two spellings of Bessel's correction: ``unbiased=`` (bool) or ``correction=``."""
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}: give unbiased= or correction=, not both")
    if unbiased is not None:
        if not isinstance(unbiased, (bool, np.bool_)):
            raise TypeError(f"{name}: unbiased must be True or False, got {unbiased!r} (the "
                            f"second positional argument is unbiased, as in PyTorch; for "
                            f"keepdim write keepdim=True)")
        return int(unbiased)
    return 1 if correction is None else correction


def _pick_axis(axis, dim):
    """Methods take numpy's ``axis``; PyTorch's ``dim`` is accepted as another name for it.

    An empty list of axes means all of them, as in PyTorch (``x.sum(dim=[])``; numpy would
    reduce nothing).
    """
    axis = dim if dim is not None else axis
    if isinstance(axis, (tuple, list)) and not axis:
        return None
    return axis


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
        """Drop axes of size 1: all of them, or those of ``dim`` (an int or a tuple) that
        have size 1 (the others are left alone, as in PyTorch)."""
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        dims = ops.normalize_axis(dim, self.shape, "squeeze")   # 0-d: only 0 or -1, and ()
        return self.reshape(tuple(n for i, n in enumerate(self.shape)
                                  if not (i in dims and n == 1)))


    def min(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Smallest element: over all of them, or along ``dim`` as ``(values, indices)``.

        As in PyTorch: ``x.min()`` is one value, ``x.min(1)`` (or ``dim=1``) a named tuple
        of the smallest values and their positions. ``amin`` gives values over any axes.
        """
        keepdims = bool(keepdim or keepdims)
        axis = _pick_axis(axis, dim)
        if isinstance(axis, type(self)):   # x.min(y): the elementwise minimum, as in PyTorch
            return self.minimum(axis)
        if axis is None:
            return self.amin(keepdims=keepdims)
        if not isinstance(axis, (int, np.integer)):
            raise TypeError(f"min: dim must be one int (PyTorch's min(dim) returns the values "
                            f"and their indices along one axis), got {axis!r}; for several "
                            f"axes at once use amin(dim={axis!r})")
        return self._pick_along(self.argmin(axis, keepdims=True), axis, keepdims)


    def amin(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Smallest value over ``axis`` (an int, a tuple, or None): -max(-x) for floats."""
        keepdims = bool(keepdim or keepdims)
        axis = _pick_axis(axis, dim)
        if self.dtype.kind != "f":
            # no gradient to keep, and -x overflows at the integer type's minimum
            axis = ops.normalize_axis(axis, self.shape, "min")
            if self.numel() == 0:
                raise ValueError(f"min: the tensor of shape {self.shape} is empty")
            return self._wrap(np.amin(self.numpy(), axis=axis, keepdims=keepdims))
        return -((-self).amax(axis, keepdims))


    def minimum(self, other):
        """Elementwise minimum: -max(-x, -y) for floats (exact, as negation is)."""
        other = self._operand(other)
        if self.dtype.kind != "f" and other.dtype.kind != "f":
            # integers have no gradient, and -x overflows at the type's minimum
            try:
                return self._wrap(np.minimum(self.numpy(), other.numpy()))
            except ValueError:
                pass   # shapes that do not broadcast: the error below names them
        try:
            return -((-self).maximum(-other))
        except ValueError as error:   # name the op the user called, not the one inside
            raise ValueError(str(error).replace("maximum", "minimum", 1)) from None


    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Average over ``axis``: the sum divided by the number of elements summed."""
        axis = ops.normalize_axis(_pick_axis(axis, dim), self.shape, "mean")
        count = self._data.size if axis is None else int(np.prod([self.shape[a] for a in axis]))
        if count == 0:
            raise ValueError(f"mean: nothing to average in a tensor of shape {self.shape}")
        return self.sum(axis, bool(keepdim or keepdims)) / count


    def var(self, axis=None, unbiased=None, keepdims=False, *, correction=None, dim=None,
            keepdim=None):
        """Variance over ``axis``: sum((x - mean)^2) / (n - correction).

        As in PyTorch: ``correction=1`` (the default) is the unbiased sample variance,
        ``correction=0`` numpy's default ``np.var``; ``unbiased=False`` (PyTorch's older
        spelling, also the second positional argument) means ``correction=0``.
        """
        correction = _correction(unbiased, correction, "var")
        axis = ops.normalize_axis(_pick_axis(axis, dim), self.shape, "var")
        count = self.numel() if axis is None else int(np.prod([self.shape[a] for a in axis]))
        if count - correction <= 0:
            raise ValueError(f"var: {count} element(s) with correction={correction} leave "
                             "nothing to divide by")
        deviation = self - self.mean(axis, keepdims=True)
        return (deviation * deviation).sum(axis, bool(keepdim or keepdims)) / (count - correction)


    def std(self, axis=None, unbiased=None, keepdims=False, *, correction=None, dim=None,
            keepdim=None):
        """Standard deviation over ``axis``: the square root of ``var`` (same arguments).

        Where the variance is 0 (equal values, or a single one with ``correction=0``) the
        gradient is taken as 0, as in PyTorch: the square root's slope there is infinite,
        but the variance cannot move in any direction that would use it.
        """
        var = self.var(axis, unbiased, keepdims, correction=correction, dim=dim,
                       keepdim=keepdim)
        positive = var > 0   # a bool tensor: no gradient
        return var.where(positive, 1.0).sqrt().where(positive, 0.0)


    def leaky_relu(self, slope=0.01):
        """x for x > 0, slope * x otherwise."""
        return self.where(self > 0, self * slope)


    def logsumexp(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """log(sum(exp(x))) over ``axis``, computed without overflow."""
        axis = ops.normalize_axis(_pick_axis(axis, dim), self.shape, "logsumexp")
        # shift by the max so exp never overflows; the shift is a constant (detached) because
        # m + log(sum(e^(x-m))) equals log(sum(e^x)) for any m, so its gradient cancels out
        m = self._data.max(axis=axis, keepdims=True)
        m = self._wrap(np.where(np.isfinite(m), m, 0))
        result = (self - m).exp().sum(axis, keepdims=True).log() + m
        if keepdim or keepdims:
            return result
        return result.reshape(tuple(n for i, n in enumerate(self.shape) if axis is not None and i not in axis))


    def softmax(self, axis=-1, *, dim=None):
        """e^x / sum(e^x) along ``axis``; every slice along it sums to 1."""
        axis = _pick_axis(axis, dim)
        if axis is None or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"softmax: needs one axis to normalise along, got {axis!r} "
                             "(a softmax over several axes is not a PyTorch operation)")
        if self.ndim == 0:
            return self.log_softmax(axis=axis).exp()
        # e^(x - max) / sum e^(x - max); the shift is a constant, so .detach() is exact
        shifted = self - self.amax(axis=axis, keepdims=True).detach()
        e = shifted.exp()
        return e / e.sum(axis=axis, keepdims=True)

