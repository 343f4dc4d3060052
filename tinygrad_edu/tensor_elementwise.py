"""Elementwise Tensor methods: arithmetic by PyTorch's names, rounding, exp, log, trig, clip.

Part of ``Tensor`` (tensor.py lists the parts; the operators ``+ - * / **`` are there). Most
methods are one line applying a primitive from ``ops.py``; a few are short composites.
"""

import numpy as np

from . import composites
from . import ops
from .autograd import TensorBase, apply
from .factories import FLOAT32, promote


class ElementwiseMethods:
    """Elementwise operations: every element of the result depends on the same element of the
    input(s), after numpy broadcasting.

    A part of ``Tensor`` (tensor.py): its methods work on ``self`` as a Tensor.
    """

    __slots__ = ()   # the slots are TensorBase's

    def add(self, other, *, alpha=1):
        """self + alpha * other."""
        return self + (other if alpha == 1 else self._operand(other) * alpha)

    def sub(self, other, *, alpha=1):
        """self - alpha * other."""
        return self - (other if alpha == 1 else self._operand(other) * alpha)

    subtract = sub

    def mul(self, other):
        """x * other."""
        return self * other

    multiply = mul

    def div(self, other, *, rounding_mode=None):
        """self / other; ``rounding_mode="trunc"`` rounds toward 0, ``"floor"`` down.

        True division of integers gives float32; with a rounding mode, integers stay
        integers (dividing by 0 raises). The rounded quotients are flat between their
        jumps, so their gradient is 0 (as PyTorch's).
        """
        if rounding_mode is None:
            return self / other
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got "
                             f"{rounding_mode!r}")
        x, y = promote(self, self._operand(other))
        _no_integer_zero(x, y, f"div(rounding_mode={rounding_mode!r})")
        return apply(ops.TruncDivide if rounding_mode == "trunc" else ops.FloorDivide, x, y)

    divide = true_divide = div

    def floor_divide(self, other):
        """floor(self / other), as Python's ``//``."""
        return self.div(other, rounding_mode="floor")

    def __floordiv__(self, other):
        return self.div(other, rounding_mode="floor")

    def __rfloordiv__(self, other):
        return self._operand(other).div(self, rounding_mode="floor")

    def remainder(self, other):
        """self mod other with the sign of ``other`` (Python's ``%``): 5.3 % -2 is -0.7."""
        x, y = promote(self, self._operand(other))
        _no_integer_zero(x, y, "remainder (%)")
        return apply(ops.Remainder, x, y)

    def __mod__(self, other):
        return self.remainder(other)

    def __rmod__(self, other):
        return self._operand(other).remainder(self)

    def neg(self):
        """-x."""
        return -self

    negative = neg

    def reciprocal(self):
        """1 / x (float32 for integers)."""
        return 1.0 / (self if self._data.dtype.kind == "f" else self.float())

    def rsqrt(self):
        """1 / sqrt(x)."""
        return 1.0 / self.sqrt()

    def atan2(self, other):
        """The angle of the point (other, self) in (-pi, pi]: atan2(y=self, x=other)."""
        y, x = promote(self, self._operand(other))
        if y._data.dtype.kind != "f":
            y, x = y.float(), x.float()
        return apply(ops.Atan2, y, x)

    arctan2 = atan2

    def copysign(self, other):
        """|self| with the sign of ``other`` (float32 for integers); no gradient to other."""
        if isinstance(other, (float, np.floating)):
            # a tensor of its own: _operand's shared constants take -0.0 for 0.0 (equal keys)
            dtype = self.dtype if self.dtype.kind == "f" else FLOAT32
            other = TensorBase._wrap(np.array(other, dtype))
        x, y = promote(self, self._operand(other))
        if x._data.dtype.kind != "f":
            x, y = x.float(), y.float()
        return apply(ops.Copysign, x, y)

    def floor(self):
        """The largest integer <= x; gradient 0."""
        return self._step(ops.Floor)

    def ceil(self):
        """The smallest integer >= x; gradient 0."""
        return self._step(ops.Ceil)

    def trunc(self):
        """x rounded toward 0; gradient 0."""
        return self._step(ops.Trunc)

    fix = trunc

    def round(self, decimals=0):
        """Round to ``decimals`` places; halves go to the even neighbour (2.5 -> 2)."""
        if self._data.dtype.kind != "f":
            return self._step(ops.Round)
        return apply(ops.Round, self, decimals=decimals)

    def sign(self):
        """-1, 0 or 1 as the value is negative, zero or positive (bools stay bools)."""
        if self._data.dtype.kind in "iu":
            return TensorBase._wrap(np.sign(self._data))
        return self._step(ops.Sign)

    def _step(self, op):
        if self._data.dtype.kind != "f":
            return TensorBase._wrap(self._data.copy())
        return apply(op, self)

    def frac(self):
        """The fractional part, x - trunc(x) (its sign is x's); gradient 1."""
        return self - self.trunc()

    def exp(self):
        return apply(ops.Exp, self if self._data.dtype.kind == "f" else self.float())

    def log(self):
        """Natural logarithm."""
        return apply(ops.Log, self if self._data.dtype.kind == "f" else self.float())

    def sqrt(self):
        return apply(ops.Sqrt, self if self._data.dtype.kind == "f" else self.float())

    def abs(self):
        return apply(ops.Abs, self)

    def sin(self):
        return apply(ops.Sin, self if self._data.dtype.kind == "f" else self.float())

    def cos(self):
        return apply(ops.Cos, self if self._data.dtype.kind == "f" else self.float())

    def tanh(self):
        return apply(ops.Tanh, self if self._data.dtype.kind == "f" else self.float())

    def sigmoid(self):
        """1 / (1 + e^-x), without overflow for large |x|."""
        return apply(ops.Sigmoid, self if self._data.dtype.kind == "f" else self.float())

    def _floating(self):
        # math of integers or booleans gives float32, as in PyTorch
        return self if self._data.dtype.kind == "f" else self.float()

    def log1p(self):
        """ln(1 + x), accurate for tiny x."""
        return apply(ops.Log1p, self._floating())

    def expm1(self):
        """e^x - 1, accurate for tiny x."""
        return apply(ops.Expm1, self._floating())

    def tan(self):
        """tan(x)."""
        return apply(ops.Tan, self._floating())

    def asin(self):
        """arcsin(x)."""
        return apply(ops.Asin, self._floating())

    def acos(self):
        """arccos(x)."""
        return apply(ops.Acos, self._floating())

    def atan(self):
        """arctan(x)."""
        return apply(ops.Atan, self._floating())

    arcsin, arccos, arctan = asin, acos, atan

    def sinh(self):
        """sinh(x)."""
        return apply(ops.Sinh, self._floating())

    def cosh(self):
        """cosh(x)."""
        return apply(ops.Cosh, self._floating())

    def asinh(self):
        """asinh(x), the inverse of sinh."""
        return apply(ops.Asinh, self._floating())

    def acosh(self):
        """acosh(x), the inverse of cosh (x >= 1; NaN below)."""
        return apply(ops.Acosh, self._floating())

    def atanh(self):
        """atanh(x), the inverse of tanh (-1 < x < 1; +-inf at +-1, NaN beyond)."""
        return apply(ops.Atanh, self._floating())

    def erf(self):
        """The error function, 2/sqrt(pi) * integral of e^(-t^2) from 0 to x (as in GELU)."""
        return apply(ops.Erf, self._floating())

    def log2(self):
        """Base-2 logarithm: ln(x) / ln(2)."""
        return self.log() / float(np.log(2.0))

    def log10(self):
        """Base-10 logarithm: ln(x) / ln(10)."""
        return self.log() / float(np.log(10.0))

    def exp2(self):
        """2 ** x (exact at integers)."""
        return 2.0 ** self._floating()

    def relu(self):
        """max(x, 0)."""
        return apply(ops.Relu, self)

    def maximum(self, other):
        """Elementwise maximum with broadcasting; ties split the gradient equally."""
        return self._binary(ops.Maximum, other)

    def clip(self, min=None, max=None):
        """Clamp every element into [min, max]; either bound may be None, a number or a
        tensor (broadcast; the gradient then goes to whichever value was picked)."""
        if min is None and max is None:
            raise ValueError("clip: give at least one of min and max")
        if isinstance(min, (TensorBase, np.ndarray)) or isinstance(max, (TensorBase, np.ndarray)):
            return composites.clamp_between(self, min, max)
        if min is not None and max is not None and min > max:
            raise ValueError(f"clip: min ({min}) is larger than max ({max})")
        if self._data.dtype.kind != "f" and any(isinstance(b, float) for b in (min, max)):
            return self.float().clip(min, max)   # int with float bounds: float32, as PyTorch
        return apply(ops.Clip, self, low=min, high=max)

    clamp = clip

    def minimum(self, other):
        """Elementwise minimum: -max(-x, -y) for floats (exact, as negation is)."""
        return composites.minimum(self, other)

    def leaky_relu(self, slope=0.01):
        """x for x > 0, slope * x otherwise."""
        return composites.leaky_relu(self, slope)

    def clamp_min(self, min):
        """max(x, min), elementwise."""
        return self.clip(min=min)

    def clamp_max(self, max):
        """min(x, max), elementwise."""
        return self.clip(max=max)

    def pow(self, exponent):
        """x ** exponent (PyTorch's method name)."""
        return self ** exponent

    def square(self):
        """x * x."""
        return self * self


def _no_integer_zero(x, y, name):
    """Integer division by zero raises, as in PyTorch (numpy would give 0 and a warning)."""
    if x._data.dtype.kind in "biu" and y._data.dtype.kind in "biu" and not y._data.all():
        raise ValueError(f"{name}: integer division by zero (divisor of shape "
                                f"{y.shape}); convert to float for inf/NaN, e.g. x.float()")
