"""Tensor methods that reduce, sort or multiply matrices: sum, max, mean, softmax, matmul, ...

Part of ``Tensor`` (tensor.py lists the parts). Also the fused ops a classifier uses
(``log_softmax``, ``cross_entropy``, ``linear``): primitives for speed and accuracy.
"""

import numpy as np

from . import composites
from . import ops
from .autograd import TensorBase, apply
from .checks import first_bad_label, normalize_axis, pick_axis
from .composites import MaxResult
from .factories import as_array


class ReductionMethods:
    """Reductions over axes, sorting, matrix products and the fused losses.

    A part of ``Tensor`` (tensor.py): its methods work on ``self`` as a Tensor.
    """

    __slots__ = ()   # the slots are TensorBase's

    def cumsum(self, dim, *, dtype=None):
        """Running totals along ``dim``: z_i = x_0 + ... + x_i (integers and bools in int64)."""
        axis = normalize_axis(dim, self.shape, "cumsum")
        out = self if dtype is None else self.to(dtype)
        if not axis:   # a 0-d tensor
            return out * 1
        if out._data.dtype.kind != "f":
            return TensorBase._wrap(np.cumsum(out._data, axis=axis[0], dtype=np.int64))
        return apply(ops.Cumsum, out, axis=axis[0])

    def matmul(self, other):
        """Matrix product with numpy's ``@`` rules: (n, k) @ (k, m) -> (n, m), batches broadcast."""
        other = self._operand(other)
        if self.ndim == 0 or other.ndim == 0:
            raise ValueError(f"matmul: both operands need at least one axis, got shapes "
                             f"{self.shape} and {other.shape}; use * to multiply by a scalar")
        return apply(ops.MatMul, self, other)

    def dot(self, other):
        """numpy's ``a.dot(b)`` for vectors and matrices: the same as ``a @ b`` there."""
        other = self._operand(other)
        if self.ndim == 0 or other.ndim == 0:
            return self * other
        if self.ndim > 2 or other.ndim > 2:
            raise ValueError(f"dot: supports up to 2-D operands, got shapes {self.shape} and "
                             f"{other.shape}; use @ (matmul) for stacks of matrices")
        return self.matmul(other)

    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Sum over ``axis`` (an int, a tuple, or None for all); ``keepdims`` keeps size-1 axes."""
        axis = normalize_axis(pick_axis(axis, dim), self.shape, "sum")
        return apply(ops.Sum, self, axis=axis, keepdims=bool(keepdim or keepdims))

    def max(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Largest element over ``axis``; tied maxima share the gradient.

        With PyTorch's keyword ``dim=`` it returns ``(values, indices)`` as ``torch.max`` does.
        """
        keepdims = bool(keepdim or keepdims)
        axis = pick_axis(axis, dim)
        if isinstance(axis, TensorBase):   # x.max(y): the elementwise maximum, as in PyTorch
            return self.maximum(axis)
        if axis is None:
            return self.amax(keepdims=keepdims)
        _one_dim(axis, "max", "amax")
        return self._pick_along(self.argmax(axis, keepdims=True), axis, keepdims)

    def _pick_along(self, indices, axis, keepdims):
        """``(values, indices)`` for ``max``/``min`` along ``axis``: the values are read at the
        indices (one GetItem), so the gradient goes to that one element, even among ties,
        as in PyTorch."""
        axis = normalize_axis(axis, self.shape, "max")
        if not axis:   # a 0-d tensor: itself, at index 0
            return MaxResult(self * 1, TensorBase._wrap(np.zeros((), dtype=np.int64)))
        axis = axis[0]
        # index arrays that broadcast against each other: every position along the other
        # axes, and the winner's position along ``axis``
        index = tuple(indices._data if k == axis else
                      np.arange(n).reshape([-1 if j == k else 1 for j in range(self.ndim)])
                      for k, n in enumerate(self.shape))
        values = self[index]
        if not keepdims:
            values, indices = values.squeeze(axis), indices.squeeze(axis)
        return MaxResult(values, indices)

    def amax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Largest value over ``axis`` (an int, a tuple, or None for all); values only.

        Tied maxima share the gradient equally. (``max`` with a dim also gives the indices.)
        """
        keepdims = bool(keepdim or keepdims)
        axis = normalize_axis(pick_axis(axis, dim), self.shape, "max")
        if self._data.size == 0:
            raise ValueError(f"max: the tensor of shape {self.shape} is empty")
        return apply(ops.Max, self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Smallest element: over all of them, or along ``dim`` as ``(values, indices)``.

        As in PyTorch: ``x.min()`` is one value, ``x.min(1)`` (or ``dim=1``) a named tuple
        of the smallest values and their positions. ``amin`` gives values over any axes.
        """
        keepdims = bool(keepdim or keepdims)
        axis = pick_axis(axis, dim)
        if isinstance(axis, TensorBase):   # x.min(y): the elementwise minimum, as in PyTorch
            return self.minimum(axis)
        if axis is None:
            return self.amin(keepdims=keepdims)
        _one_dim(axis, "min", "amin")
        return self._pick_along(self.argmin(axis, keepdims=True), axis, keepdims)

    def amin(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Smallest value over ``axis`` (an int, a tuple, or None): -max(-x) for floats."""
        return composites.amin(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Average over ``axis``: the sum divided by the number of elements summed."""
        return composites.mean(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def var(self, axis=None, unbiased=None, keepdims=False, *, correction=None, dim=None,
            keepdim=None):
        """Variance over ``axis``, by default unbiased (see ``composites.var``)."""
        return composites.var(self, axis, unbiased, keepdims, correction=correction, dim=dim,
                              keepdim=keepdim)

    def std(self, axis=None, unbiased=None, keepdims=False, *, correction=None, dim=None,
            keepdim=None):
        """Standard deviation over ``axis``: sqrt of ``var`` (see ``composites.std``)."""
        return composites.std(self, axis, unbiased, keepdims, correction=correction, dim=dim,
                              keepdim=keepdim)

    def logsumexp(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """log(sum(exp(x))) over ``axis``, computed without overflow."""
        return composites.logsumexp(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def softmax(self, axis=-1, *, dim=None):
        """e^x / sum(e^x) along ``axis``; every slice along it sums to 1."""
        return composites.softmax(self, axis, dim=dim)

    def prod(self, dim=None, keepdim=False, *, dtype=None):
        """The product over ``dim`` (all elements by default); exact gradients at zeros."""
        return composites.prod(self if dtype is None else self.to(dtype), dim, keepdim)

    def cumprod(self, dim, *, dtype=None):
        """Running products along ``dim``: z_i = x_0 * ... * x_i."""
        return composites.cumprod(self if dtype is None else self.to(dtype), dim)

    def norm(self, p="fro", dim=None, keepdim=False):
        """The p-norm over ``dim`` (default: the 2-norm of all elements); see composites.norm."""
        return composites.norm(self, p, dim, keepdim)

    def tril(self, diagonal=0):
        """The lower triangle (on and below ``diagonal``) of the last two axes; zeros above."""
        return composites.tril(self, diagonal)

    def triu(self, diagonal=0):
        """The upper triangle (on and above ``diagonal``) of the last two axes; zeros below."""
        return composites.triu(self, diagonal)

    def diag(self, diagonal=0):
        """A vector's diagonal matrix, or a matrix's diagonal as a vector."""
        return composites.diag(self, diagonal)

    def diagonal(self, offset=0):
        """A matrix's ``offset`` diagonal as a vector."""
        return composites.diagonal_of(self, offset)

    def trace(self):
        """The sum of a matrix's diagonal."""
        return composites.trace(self)

    def outer(self, other):
        """The outer product of two vectors: (n,) and (m,) give (n, m)."""
        other = self._operand(other)
        if self.ndim != 1 or other.ndim != 1:
            raise ValueError(f"outer: needs two vectors, got shapes {self.shape} and "
                             f"{other.shape}")
        return self.reshape(-1, 1) * other.reshape(1, -1)

    ger = outer

    def sort(self, dim=-1, descending=False, stable=False):
        """``(values, indices)`` sorted along ``dim`` (ties keep their order; NaN is largest)."""
        return composites.sort(self, dim, descending)

    def argsort(self, dim=-1, descending=False, stable=False):
        """The indices that sort the tensor along ``dim`` (int64)."""
        return composites.sort(self, dim, descending).indices

    def topk(self, k, dim=-1, largest=True, sorted=True):
        """The ``k`` largest (``largest=False``: smallest) along ``dim``: ``(values, indices)``."""
        return composites.topk(self, k, dim, largest, sorted)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        """The distinct values, sorted (no gradient); optionally with each element's position
        among them (``return_inverse``) and how often each occurs (``return_counts``)."""
        found = np.unique(self._data, return_inverse=return_inverse,
                          return_counts=return_counts, axis=dim)
        if not (return_inverse or return_counts):
            return TensorBase._wrap(found)
        values, *extras = found
        if return_inverse:   # numpy may give it flat; PyTorch gives the input's shape
            extras[0] = extras[0].reshape(self.shape if dim is None else -1)
        return (TensorBase._wrap(values),) + tuple(TensorBase._wrap(e.astype(np.int64))
                                                   for e in extras)

    def bmm(self, other):
        """Batched matrix product (PyTorch's ``bmm``): (b, n, k) @ (b, k, m) -> (b, n, m)."""
        other = self._operand(other)
        if self.ndim != 3 or other.ndim != 3 or self.shape[0] != other.shape[0]:
            raise ValueError(f"bmm: needs two 3-D tensors with the same batch size, got shapes "
                             f"{self.shape} and {other.shape}; use matmul (@) to broadcast")
        return self.matmul(other)

    def mm(self, other):
        """Matrix product of two matrices (PyTorch's ``mm``): the same as ``@``."""
        return self.matmul(other)

    def log_softmax(self, axis=-1, *, dim=None):
        """x - logsumexp(x) along ``axis``: the log of softmax, without overflow or log(0).

        A primitive (``ops.LogSoftmax``) rather than a composite: it is in every classifier's
        loss, and one op is both faster and more accurate than six.
        """
        axis = normalize_axis(pick_axis(axis, dim), self.shape, "log_softmax")
        if self.ndim == 0:   # a distribution over one value: log(1) = 0
            return self.reshape(1).log_softmax(axis=0).reshape(())
        if axis is None or len(axis) != 1:
            raise ValueError(f"log_softmax: needs exactly one axis, got {axis}")
        return apply(ops.LogSoftmax, self, axis=axis[0])

    def cross_entropy(self, labels, reduction="mean"):
        """Softmax cross-entropy of logits (N, C) with integer labels (N,), as one op.

        The mean (``reduction="mean"``), sum, or per-sample values (``"none"``) of
        ``-log_softmax(x)[n, labels[n]]``. Its gradient is ``softmax(x) - one_hot(labels)``
        (divided by N for the mean). ``nn.CrossEntropyLoss`` checks the labels and calls this.
        """
        labels = labels if isinstance(labels, TensorBase) else TensorBase._wrap(as_array(labels))
        x, y = self._data, labels._data
        if x.ndim != 2 or y.shape != x.shape[:1] or y.dtype.kind not in "iu":
            raise ValueError(f"cross_entropy: needs logits (N, C) and integer labels (N,), got "
                             f"shapes {x.shape} and {y.shape} ({y.dtype})")
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', "
                             f"got {reduction!r}")
        bad = first_bad_label(y, x.shape[1])
        if bad is not None:
            raise ValueError(f"cross_entropy: label {y[bad]} (sample {bad}) is out of range "
                             f"for {x.shape[1]} classes; labels must be in 0..{x.shape[1] - 1}")
        return apply(ops.CrossEntropy, self, labels, reduction=reduction)

    def binary_cross_entropy(self, target):
        """-(y log p + (1 - y) log(1 - p)) per element, for probabilities p (this tensor) and
        targets y of the same shape, each log clamped at -100 (as PyTorch's BCELoss).

        One op (``ops.BinaryCrossEntropy``); ``nn.BCELoss`` checks the values and reduces.
        """
        target = self._operand(target)
        if target.shape != self.shape:
            raise ValueError(f"binary_cross_entropy: probabilities of shape {self.shape} and "
                             f"targets of shape {target.shape} must have the same shape")
        return apply(ops.BinaryCrossEntropy, self, target.to(self.dtype))

    def linear(self, weight, bias=None):
        """x @ weight.T + bias as one op: x (..., in), weight (out, in), bias (out,).

        What ``nn.Linear`` computes; ``bias`` may be None.
        """
        weight = self._operand(weight)
        x, w = self._data, weight._data
        if w.ndim != 2 or x.ndim == 0 or x.shape[-1] != w.shape[1]:
            raise ValueError(f"linear: input of shape {self.shape} does not fit weight of shape "
                             f"{weight.shape}: the input's last axis must equal the weight's "
                             "second axis (in_features)")
        if bias is None:
            return apply(ops.Linear, self, weight)
        bias = self._operand(bias)
        if bias._data.shape != w.shape[:1]:
            raise ValueError(f"linear: bias of shape {bias.shape} does not fit weight of shape "
                             f"{weight.shape}: it needs shape ({weight.shape[0]},)")
        return apply(ops.Linear, self, weight, bias)

    def argmax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Index of the largest element along ``axis`` (int64, no gradient)."""
        axis = pick_axis(axis, dim)
        keepdims = bool(keepdim or keepdims)
        return TensorBase._wrap(np.argmax(self._data, axis=axis, keepdims=keepdims))

    def argmin(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Index of the smallest element along ``axis`` (int64, no gradient)."""
        axis = pick_axis(axis, dim)
        keepdims = bool(keepdim or keepdims)
        return TensorBase._wrap(np.argmin(self._data, axis=axis, keepdims=keepdims))

    def any(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """True if any element (along ``dim``) is nonzero: a bool tensor."""
        axis = normalize_axis(pick_axis(axis, dim), self.shape, "any")
        keepdims = bool(keepdims or keepdim)
        return TensorBase._wrap(np.any(self._data, axis=axis, keepdims=keepdims))

    def all(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """True if every element (along ``dim``) is nonzero: a bool tensor."""
        axis = normalize_axis(pick_axis(axis, dim), self.shape, "all")
        keepdims = bool(keepdims or keepdim)
        return TensorBase._wrap(np.all(self._data, axis=axis, keepdims=keepdims))

    def scatter_add_to(self, shape, index):
        """zeros(shape) with this tensor added at ``[index]``, recorded (ops.scatter_add)."""
        return apply(ops.ScatterAdd, self, index=index, shape=shape)


def _one_dim(axis, name, values_only):
    if not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}: dim must be one int (PyTorch's {name}(dim) returns the values "
                        f"and their indices along one axis), got {axis!r}; for several axes at "
                        f"once use {values_only}(dim={axis!r})")
