"""Tensor methods that compare and test: ``==``, ``eq``, ``isclose``, ``&``, ``where``, ...

Part of ``Tensor`` (tensor.py lists the parts). Comparisons, bitwise and logical operators
give bool (or integer) tensors and record nothing: they are not differentiable. ``where`` and
``masked_fill`` pick values and are differentiable through the values picked.
"""

import numpy as np

from . import autograd
from . import ops
from .autograd import TensorBase, apply
from .factories import as_array, promote


class ComparisonMethods:
    """Comparisons, bitwise and logical operators, and picking values by a condition.

    A part of ``Tensor`` (tensor.py): its methods work on ``self`` as a Tensor.
    """

    __slots__ = ()   # the slots are TensorBase's

    def _compare(self, ufunc, other):
        # comparisons give bool tensors: they are not differentiable and record nothing
        try:
            other = self._operand(other)
        except TypeError:   # not numbers (e.g. pytest.approx): let the other side answer
            return NotImplemented
        x, y = promote(self, other)   # int64 == 16777217.0 compares in float32, as PyTorch
        try:
            return TensorBase._wrap(ufunc(x._data, y._data))
        except ValueError:
            raise ValueError(autograd.no_broadcast(ufunc.__name__,
                                           f"{self.shape} and {other.shape}")) from None

    def __lt__(self, other):
        return self._compare(np.less, other)

    def __le__(self, other):
        return self._compare(np.less_equal, other)

    def __gt__(self, other):
        return self._compare(np.greater, other)

    def __ge__(self, other):
        return self._compare(np.greater_equal, other)

    def __eq__(self, other):
        if other is None:
            return False
        return self._compare(np.equal, other)

    def __ne__(self, other):
        if other is None:
            return True
        return self._compare(np.not_equal, other)

    # PyTorch's names for the comparisons: bool tensors, no gradient
    def eq(self, other):
        """True where x == other (a bool tensor, broadcasting; no gradient)."""
        return self._compare(np.equal, other)

    def ne(self, other):
        """True where x != other (a bool tensor)."""
        return self._compare(np.not_equal, other)

    def lt(self, other):
        """True where x < other (a bool tensor)."""
        return self._compare(np.less, other)

    def le(self, other):
        """True where x <= other (a bool tensor)."""
        return self._compare(np.less_equal, other)

    def gt(self, other):
        """True where x > other (a bool tensor)."""
        return self._compare(np.greater, other)

    def ge(self, other):
        """True where x >= other (a bool tensor)."""
        return self._compare(np.greater_equal, other)

    greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

    def isnan(self):
        """True where the value is NaN (a bool tensor)."""
        return TensorBase._wrap(np.isnan(self._data))

    def isinf(self):
        """True where the value is +inf or -inf."""
        return TensorBase._wrap(np.isinf(self._data))

    def isfinite(self):
        """True where the value is neither NaN nor infinite."""
        return TensorBase._wrap(np.isfinite(self._data))

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """True where |self - other| <= atol + rtol * |other|, elementwise (PyTorch's defaults)."""
        x, y = promote(self, self._operand(other))
        return TensorBase._wrap(np.isclose(x._data, y._data, rtol, atol, equal_nan))

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """True (a Python bool) if ``isclose`` holds everywhere."""
        return bool(self.isclose(other, rtol, atol, equal_nan)._data.all())

    def equal(self, other):
        """True (a Python bool) if ``other`` has the same shape and the same values."""
        other = self._operand(other)
        return self.shape == other.shape and bool((self._data == other._data).all())

    def _bitwise(self, ufunc, other, name):
        # &, |, ^ on integer or boolean tensors (logical for booleans), as PyTorch; no gradient
        other = self._operand(other)
        if self._data.dtype.kind not in "biu" or other._data.dtype.kind not in "biu":
            raise TypeError(f"{name}: needs integer or boolean tensors, got {self.dtype} and "
                            f"{other.dtype}; to combine conditions compare first and wrap each "
                            "in brackets: (x > 0) & (x < 1)")
        x, y = promote(self, other)
        try:
            return TensorBase._wrap(ufunc(x._data, y._data))
        except ValueError:
            raise ValueError(autograd.no_broadcast(name, f"{self.shape} and {other.shape}")) \
                from None

    def __and__(self, other):
        return self._bitwise(np.bitwise_and, other, "&")

    def __rand__(self, other):
        return self._bitwise(np.bitwise_and, other, "&")

    def __or__(self, other):
        return self._bitwise(np.bitwise_or, other, "|")

    def __ror__(self, other):
        return self._bitwise(np.bitwise_or, other, "|")

    def __xor__(self, other):
        return self._bitwise(np.bitwise_xor, other, "^")

    def __rxor__(self, other):
        return self._bitwise(np.bitwise_xor, other, "^")

    def __invert__(self):
        if self._data.dtype.kind not in "biu":
            raise TypeError(f"~: needs an integer or boolean tensor, got {self.dtype}; for the "
                            "opposite of a condition, compare first: ~(x > 0)")
        return TensorBase._wrap(np.invert(self._data))

    def bitwise_and(self, other):
        """x & other, for integer or boolean tensors."""
        return self._bitwise(np.bitwise_and, other, "bitwise_and")

    def bitwise_or(self, other):
        """x | other, for integer or boolean tensors."""
        return self._bitwise(np.bitwise_or, other, "bitwise_or")

    def bitwise_xor(self, other):
        """x ^ other, for integer or boolean tensors."""
        return self._bitwise(np.bitwise_xor, other, "bitwise_xor")

    def bitwise_not(self):
        """~x, for integer or boolean tensors."""
        return ~self

    def logical_and(self, other):
        """True where both are nonzero (a bool tensor, any dtypes)."""
        return TensorBase._wrap(np.logical_and(self._data, self._operand(other)._data))

    def logical_or(self, other):
        """True where either is nonzero."""
        return TensorBase._wrap(np.logical_or(self._data, self._operand(other)._data))

    def logical_xor(self, other):
        """True where exactly one of them is nonzero."""
        return TensorBase._wrap(np.logical_xor(self._data, self._operand(other)._data))

    def logical_not(self):
        """True where the value is zero."""
        return TensorBase._wrap(np.logical_not(self._data))

    def masked_fill(self, mask, value):
        """A copy with ``value`` where the boolean ``mask`` (broadcast to this shape) is true.

        The dtype stays this tensor's; the gradient flows where the mask is false (and to
        ``value``, if it is a tensor that requires grad, from where it is true).
        """
        mask = mask._data if isinstance(mask, TensorBase) else np.asarray(mask)
        if mask.dtype != np.bool_:
            raise TypeError(f"masked_fill: the mask must be boolean, got {mask.dtype}; "
                            "compare first, e.g. x.masked_fill(x < 0, 0.0)")
        value = self._operand(value)
        if value._data.ndim != 0:
            raise ValueError(f"masked_fill: takes one value (a number or a 0-d tensor), got a "
                             f"tensor of shape {value.shape}")
        try:
            shape = np.broadcast_shapes(mask.shape, self.shape)
        except ValueError:
            shape = None
        if shape != self.shape:
            raise ValueError(f"masked_fill: the mask of shape {mask.shape} does not broadcast "
                             f"to the tensor's shape {self.shape}")
        return where(mask, value._cast(self._data.dtype), self)

    def nonzero(self, as_tuple=False):
        """The indices of the nonzero elements: an int64 tensor (n, ndim), or with
        ``as_tuple=True`` one index tensor per axis (numpy's ``nonzero``)."""
        if as_tuple:
            return tuple(TensorBase._wrap(i) for i in np.nonzero(self._data))
        return TensorBase._wrap(np.argwhere(self._data))

    def count_nonzero(self, dim=None):
        """The number of nonzero elements (along ``dim``), int64."""
        return TensorBase._wrap(np.asarray(np.count_nonzero(self._data, axis=dim), np.int64))

    def where(self, condition, other):
        """``self`` where ``condition`` holds, else ``other`` (PyTorch's ``x.where(c, y)``)."""
        return where(condition, self, other)


def where(condition, x=None, y=None):
    """``x`` where ``condition`` is true, else ``y``; all three broadcast like numpy.

    With the condition alone, the indices where it holds: one int64 tensor per axis
    (``torch.where(c)``, the same as ``c.nonzero(as_tuple=True)``).
    """
    cond = condition._data if isinstance(condition, TensorBase) else np.asarray(condition)
    if x is None and y is None:
        return tuple(TensorBase._wrap(i) for i in np.nonzero(cond))
    if x is None or y is None:
        raise TypeError("where: give both x and y, or neither (for the indices)")
    if cond.dtype != np.bool_:
        raise TypeError(f"where: the condition must be boolean, got {cond.dtype}")
    if not isinstance(x, TensorBase):
        x = y._operand(x) if isinstance(y, TensorBase) else TensorBase._wrap(as_array(x))
    y = x._operand(y)
    x, y = promote(x, y)   # int with float gives the float dtype, as in PyTorch
    return apply(ops.Where, TensorBase._wrap(cond), x, y)
