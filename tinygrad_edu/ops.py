"""Every primitive operation of tinygrad_edu: forward and backward side by side.

This file is the only place in the project where a derivative is written down, and it
imports nothing from the project. Each class is one operation: ``forward`` takes numpy
arrays and returns a numpy array, ``backward`` takes the gradient arriving at the output
(``grad``, shaped like the output) and returns one gradient per input, in order (``None``
for inputs that have no derivative, such as masks or indices). Composite operations
(softmax, mean, var, ...) live in ``composites.py`` and are written in terms of these, so
they never need a backward of their own. ``PRIMITIVES`` at the end lists them all.

Broadcasting: the forward of an elementwise op broadcasts like numpy, so its backward has
to sum the gradient over the broadcast axes to give each input back its own shape. That is
what ``unbroadcast`` does, and it stays visible in every binary backward.

One definition serves two modes, through numpy's own dispatch. Ordinarily forward and
backward run on arrays. For ``backward(create_graph=True)`` the engine runs ``forward``
again on the input *Tensors*, so that what it saves is Tensors, and then ``backward`` on a
Tensor gradient, so that every step of the backward pass is recorded and can itself be
differentiated. That works because the code here uses only what arrays and Tensors both
understand: operators, ``.reshape``, ``.sum``, ``.T``, and numpy functions (``np.exp``,
``np.where``, ...), which a Tensor takes over through numpy's ``__array_ufunc__`` and
``__array_function__`` protocols (``interop.py``). So ``np.exp(x)`` here is numpy's exp on
an array and a recorded Exp on a Tensor. The one step numpy has no function for,
``scatter_add``, asks the Tensor to do it (``scatter_add_to``).
"""

import math

import numpy as np


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched, to get ``shape``.

    Broadcasting copies an operand along some axes; the adjoint of a copy is a sum. Leading
    axes that did not exist in ``shape`` are summed away, and axes where ``shape`` has 1 but
    ``grad`` does not are summed with keepdims.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    stretched = tuple(i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1)
    axes = tuple(range(extra)) + stretched
    if axes:
        grad = accurate_sum(grad, axis=axes, keepdims=True)
    return grad.reshape(shape)


def expand_reduced(grad, shape, axis, keepdims):
    """Put back the axes a reduction over ``axis`` removed, so ``grad`` broadcasts to ``shape``."""
    if keepdims or axis is None and grad.ndim == len(shape):
        return grad
    if axis is None:
        return grad.reshape((1,) * len(shape))
    return np.expand_dims(grad, axis)


def amax(x, axis, keepdims):
    """The largest values over ``axis``, of an array (its own method: quicker than np.amax)
    or, in create_graph mode, of a Tensor (whose ``max`` with an axis gives indices too)."""
    if type(x) is np.ndarray:
        return x.max(axis=axis, keepdims=keepdims)
    return np.amax(x, axis=axis, keepdims=keepdims)


ACCURATE_SUM_TERMS = 4096   # from this many terms per result on, float32 sums go via float64


def accurate_sum(x, axis=None, keepdims=False):
    """x.sum(...), but long float32/float16 sums are added up in float64 and rounded once.

    numpy adds along a leading axis one row at a time, so a million float32 rows lose about
    1% of the total; summing in float64 keeps the result accurate. Below
    ``ACCURATE_SUM_TERMS`` terms per result the float32 error stays under about
    n * 6e-8 = 2.4e-4 in the worst case (~sqrt(n) * 6e-8 typically), as in PyTorch, and the
    float64 detour would cost more than the sum itself (a batch's bias gradient, every step).
    Tensors (in create_graph mode) are summed plainly.
    """
    if isinstance(x, np.ndarray) and x.dtype.itemsize < 8 and x.dtype.kind == "f":
        if axis is None:
            terms = x.size
        else:
            terms = 1
            for a in (axis,) if isinstance(axis, int) else axis:
                terms *= x.shape[a]
        if terms >= ACCURATE_SUM_TERMS:
            return x.sum(axis=axis, keepdims=keepdims, dtype=np.float64).astype(x.dtype)
    return x.sum(axis=axis, keepdims=keepdims)


class Primitive:
    """One recorded operation: the node between its input tensors and its output tensor.

    ``inputs`` are the input Tensors (kept so backward can walk the graph) and ``params``
    the keyword arguments of ``forward`` (axis, shape, ...). Whatever ``forward`` stores on
    ``self`` is the op's saved state, and each op lists those names in its ``__slots__``:
    an op is made for every operation of every step, and slots make it small and quick to
    build (no per-op ``__dict__``). ``release`` drops the saved state after a backward pass
    so the memory can be reused, and marks the op as released. (An op class written without
    ``__slots__`` works too; its saved state then lives in a ``__dict__``.)
    """

    # set by the engine when it records the op (tensor._apply); created_at / created_in
    # by detect_anomaly()
    __slots__ = ("inputs", "params", "needs_grad", "scope", "released", "created_at",
                 "created_in")

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # what release() lets go of: the class's own slots, or None for a class without
        # __slots__, whose saved state is in its __dict__
        cls._saved = cls.__dict__.get("__slots__")

    @property
    def next_functions(self):
        """PyTorch's ``grad_fn.next_functions``: one ``(node, 0)`` per input, where node is the
        op that made the input, an ``AccumulateGrad`` for a leaf that requires grad (its
        ``.variable`` is the leaf, whose ``.grad`` backward fills), or None for a constant.
        Following it from ``loss.grad_fn`` walks the graph backward, as backward() does."""
        return tuple((_grad_node(t), 0) for t in self.inputs)

    def __repr__(self):
        state = " (released)" if getattr(self, "released", False) else ""
        return f"<{type(self).__name__} op{state}>"

    def release(self):
        # keep the graph's shape (inputs) and the module it ran in (scope, for drawings)
        if self._saved is None:
            self.__dict__.clear()
        else:
            for name in self._saved:
                setattr(self, name, None)
        self.released = True


class AccumulateGrad:
    """Where backward ends for a leaf that requires grad: its gradient is added to
    ``variable.grad``. Only a name for ``next_functions`` (PyTorch's node of the same name);
    the engine itself stores the gradient."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    next_functions = ()

    def __repr__(self):
        return "<AccumulateGrad>"


def _grad_node(tensor):
    """The node ``next_functions`` shows for ``tensor``: its op, AccumulateGrad, or None."""
    if tensor._op is not None:
        return tensor._op
    return AccumulateGrad(tensor) if tensor.requires_grad else None


# ----- elementwise binary ops -------------------------------------------------------------

class Add(Primitive):
    """z = x + y, elementwise, numpy broadcasting."""

    __slots__ = ("x_shape", "y_shape")

    def forward(self, x, y):
        self.x_shape, self.y_shape = x.shape, y.shape
        return x + y

    def backward(self, grad):
        # dz/dx = 1 ;  dz/dy = 1 ;  then sum broadcast axes back to each shape
        # (each gradient only if that input needs one: one of them is often a constant)
        need_x, need_y = self.needs_grad
        return (unbroadcast(grad, self.x_shape) if need_x else None,
                unbroadcast(grad, self.y_shape) if need_y else None)


class Sub(Primitive):
    """z = x - y, elementwise, numpy broadcasting."""

    __slots__ = ("x_shape", "y_shape")

    def forward(self, x, y):
        self.x_shape, self.y_shape = x.shape, y.shape
        return x - y

    def backward(self, grad):
        # dz/dx = 1 ;  dz/dy = -1
        need_x, need_y = self.needs_grad
        return (unbroadcast(grad, self.x_shape) if need_x else None,
                unbroadcast(-grad, self.y_shape) if need_y else None)


class Mul(Primitive):
    """z = x * y, elementwise, numpy broadcasting."""

    __slots__ = ("x", "y")

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, grad):
        x, y = self.x, self.y
        need_x, need_y = self.needs_grad
        # dz/dx = y ;  dz/dy = x
        return (unbroadcast(grad * y, x.shape) if need_x else None,
                unbroadcast(grad * x, y.shape) if need_y else None)


class Div(Primitive):
    """z = x / y, elementwise, numpy broadcasting."""

    __slots__ = ("x", "y")

    def forward(self, x, y):
        self.x, self.y = x, y
        return x / y

    def backward(self, grad):
        x, y = self.x, self.y
        need_x, need_y = self.needs_grad
        # dz/dx = 1/y ;  dz/dy = -x/y^2
        return (unbroadcast(grad / y, x.shape) if need_x else None,
                unbroadcast(-grad * x / (y * y), y.shape) if need_y else None)


class Pow(Primitive):
    """z = x ** y, elementwise, numpy broadcasting (y is often a constant such as 2)."""

    __slots__ = ("x", "y", "out")

    def forward(self, x, y):
        self.x, self.y = x, y
        self.out = np.power(x, y)
        return self.out

    def backward(self, grad):
        x, y, out = self.x, self.y, self.out
        # dz/dx = y * x^(y-1), taken as 0 where y == 0 (x^0 is constant 1, even at x = 0,
        #         where the formula would give 0 * inf) ;
        # dz/dy = x^y * ln(x), taken as 0 where x == 0 and y >= 0 (the limit of x^y ln x);
        #         where x == 0 and y < 0 it is inf * -inf = -inf. Both as in PyTorch.
        grad_x = grad_y = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.needs_grad[0]:
                grad_x = unbroadcast(np.where(y == 0, 0, grad * y * np.power(x, y - 1)), x.shape)
            if self.needs_grad[1]:
                log_x = np.log(np.where(np.logical_and(x == 0, y >= 0), 1, x))
                grad_y = unbroadcast(grad * out * log_x, y.shape)
        return grad_x, grad_y


class Maximum(Primitive):
    """z = max(x, y), elementwise, numpy broadcasting; ties share the gradient equally."""

    __slots__ = ("x", "y")

    def forward(self, x, y):
        self.x, self.y = x, y
        return np.maximum(x, y)

    def backward(self, grad):
        x, y = self.x, self.y
        # dz/dx = 1 where x > y, 1/2 where x == y, else 0 ;  dz/dy the mirror image
        half = grad / 2
        grad_x = np.where(x > y, grad, np.where(x == y, half, 0))
        grad_y = np.where(x < y, grad, np.where(x == y, half, 0))
        return unbroadcast(grad_x, x.shape), unbroadcast(grad_y, y.shape)


class Where(Primitive):
    """z = x where cond else y, numpy broadcasting over all three; cond gets no gradient."""

    __slots__ = ("cond", "x_shape", "y_shape")

    def forward(self, cond, x, y):
        self.cond, self.x_shape, self.y_shape = cond, x.shape, y.shape
        return np.where(cond, x, y)

    def backward(self, grad):
        cond = self.cond
        # dz/dx = 1 where cond, else 0 ;  dz/dy = 0 where cond, else 1
        grad_x = unbroadcast(np.where(cond, grad, 0), self.x_shape)
        grad_y = unbroadcast(np.where(cond, 0, grad), self.y_shape)
        return None, grad_x, grad_y


class Remainder(Primitive):
    """z = x mod y, with the sign of y (Python's ``%``, PyTorch's ``remainder``), broadcasting."""

    __slots__ = ("x", "y")

    def forward(self, x, y):
        self.x, self.y = x, y
        return np.remainder(x, y)

    def backward(self, grad):
        x, y = self.x, self.y
        need_x, need_y = self.needs_grad
        # z = x - y * floor(x / y), and floor(x / y) is flat between its jumps:
        # dz/dx = 1 ;  dz/dy = -floor(x / y)
        return (unbroadcast(grad, x.shape) if need_x else None,
                unbroadcast(-grad * np.floor_divide(x, y), y.shape) if need_y else None)


class Atan2(Primitive):
    """z = atan2(y, x): the angle of the point (x, y), in (-pi, pi], broadcasting.

    Inputs in PyTorch's order: ``atan2(input, other)`` is atan2(y=input, x=other).
    """

    __slots__ = ("y", "x")

    def forward(self, y, x):
        self.y, self.x = y, x
        return np.arctan2(y, x)

    def backward(self, grad):
        y, x = self.y, self.x
        need_y, need_x = self.needs_grad
        # dz/dy = x / (x^2 + y^2) ;  dz/dx = -y / (x^2 + y^2)
        r2 = x * x + y * y
        return (unbroadcast(grad * x / r2, y.shape) if need_y else None,
                unbroadcast(-grad * y / r2, x.shape) if need_x else None)


class Copysign(Primitive):
    """z = |x| with the sign of y (its sign bit: -0.0 counts as negative), broadcasting."""

    __slots__ = ("x_shape", "y_shape", "slope")

    def forward(self, x, y):
        self.x_shape, self.y_shape = x.shape, y.shape
        out = np.copysign(x, y)
        # +1 where x kept its sign, -1 where it flipped, 0 at x = 0 (as d|x|/dx, PyTorch)
        self.slope = np.sign(x) * np.sign(out)
        return out

    def backward(self, grad):
        # dz/dx = slope ;  dz/dy = 0: only y's sign matters, and it is flat
        grad_x = unbroadcast(grad * self.slope, self.x_shape)
        return grad_x, np.zeros(self.y_shape, dtype=grad_x.dtype)


# ----- step functions: flat between jumps, so their derivative is 0 -------------------------

class StepFunction(Primitive):
    """Base of the piecewise-constant ops (floor, ceil, round, trunc, sign, floor division).

    Their value jumps but is flat in between, so dz/dx = 0 wherever it is defined, and, as in
    PyTorch, 0 at the jumps too. Each subclass only has a forward.
    """

    __slots__ = ("shapes",)

    def backward(self, grad):
        # dz/dx = 0 for every input: zeros in each input's shape (not grad * 0, which
        # would turn an infinite grad into NaN)
        return tuple(np.zeros(shape, dtype=grad.dtype) for shape in self.shapes)


class Floor(StepFunction):
    """z = floor(x), the largest integer <= x."""

    __slots__ = ()

    def forward(self, x):
        self.shapes = (x.shape,)
        return np.floor(x)


class Ceil(StepFunction):
    """z = ceil(x), the smallest integer >= x."""

    __slots__ = ()

    def forward(self, x):
        self.shapes = (x.shape,)
        return np.ceil(x)


class Round(StepFunction):
    """z = x rounded to ``decimals`` places, halves to even (2.5 -> 2), as numpy and PyTorch."""

    __slots__ = ()

    def forward(self, x, decimals=0):
        self.shapes = (x.shape,)
        return np.round(x, decimals)


class Trunc(StepFunction):
    """z = x with its fractional part dropped (rounded toward 0)."""

    __slots__ = ()

    def forward(self, x):
        self.shapes = (x.shape,)
        return np.trunc(x)


class Sign(StepFunction):
    """z = -1, 0 or 1 as x is negative, zero or positive; 0 for NaN, as in PyTorch."""

    __slots__ = ()

    def forward(self, x):
        self.shapes = (x.shape,)
        return np.where(np.isnan(x), np.zeros((), x.dtype), np.sign(x))


class FloorDivide(StepFunction):
    """z = floor(x / y), computed exactly as Python's ``//`` (1 // 0.1 is 9), broadcasting."""

    __slots__ = ()

    def forward(self, x, y):
        self.shapes = (x.shape, y.shape)
        return np.floor_divide(x, y)


class TruncDivide(StepFunction):
    """z = x / y rounded toward 0 (C's integer division), broadcasting."""

    __slots__ = ()

    def forward(self, x, y):
        self.shapes = (x.shape, y.shape)
        if x.dtype.kind == "f":
            return np.trunc(x / y)
        return np.sign(x) * np.sign(y) * (np.abs(x) // np.abs(y))   # integers stay integers


# ----- elementwise unary ops --------------------------------------------------------------

class Neg(Primitive):
    """z = -x."""

    __slots__ = ()

    def forward(self, x):
        return -x

    def backward(self, grad):
        # dz/dx = -1
        return (-grad,)


class Exp(Primitive):
    """z = e^x."""

    __slots__ = ("out",)

    def forward(self, x):
        self.out = np.exp(x)
        return self.out

    def backward(self, grad):
        # dz/dx = e^x = z
        return (grad * self.out,)


class Log(Primitive):
    """z = ln(x), natural logarithm."""

    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return np.log(x)

    def backward(self, grad):
        # dz/dx = 1/x
        return (grad / self.x,)


class Sqrt(Primitive):
    """z = sqrt(x)."""

    __slots__ = ("out",)

    def forward(self, x):
        self.out = np.sqrt(x)
        return self.out

    def backward(self, grad):
        # dz/dx = 1 / (2 sqrt(x)) = 1 / (2z)
        return (grad / (2 * self.out),)


class Abs(Primitive):
    """z = |x|; the derivative at 0 is taken as 0, as in PyTorch."""

    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return np.abs(x)

    def backward(self, grad):
        # dz/dx = sign(x)
        return (grad * np.sign(self.x),)


class Sin(Primitive):
    """z = sin(x)."""

    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return np.sin(x)

    def backward(self, grad):
        # dz/dx = cos(x)
        return (grad * np.cos(self.x),)


class Cos(Primitive):
    """z = cos(x)."""

    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return np.cos(x)

    def backward(self, grad):
        # dz/dx = -sin(x)
        return (-grad * np.sin(self.x),)


class Tanh(Primitive):
    """z = tanh(x)."""

    __slots__ = ("out",)

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, grad):
        # dz/dx = 1 - tanh(x)^2 = 1 - z^2   (written through the output z, not x)
        return (grad * (1 - self.out * self.out),)


class Log1p(Primitive):
    """z = ln(1 + x), accurate for tiny x (where 1 + x would round to 1)."""

    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return np.log1p(x)

    def backward(self, grad):
        # dz/dx = 1 / (1 + x)
        return (grad / (1 + self.x),)


class Expm1(Primitive):
    """z = e^x - 1, accurate for tiny x."""

    __slots__ = ("out",)

    def forward(self, x):
        self.out = np.expm1(x)
        return self.out

    def backward(self, grad):
        # dz/dx = e^x = z + 1
        return (grad * (self.out + 1),)


class Tan(Primitive):
    """z = tan(x)."""

    __slots__ = ("out",)

    def forward(self, x):
        self.out = np.tan(x)
        return self.out

    def backward(self, grad):
        # dz/dx = 1 / cos^2(x) = 1 + tan^2(x) = 1 + z^2
        return (grad * (1 + self.out * self.out),)


class Asin(Primitive):
    """z = arcsin(x), for x in [-1, 1]."""

    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return np.arcsin(x)

    def backward(self, grad):
        # dz/dx = 1 / sqrt(1 - x^2)
        return (grad / np.sqrt(1 - self.x * self.x),)


class Acos(Primitive):
    """z = arccos(x), for x in [-1, 1]."""

    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return np.arccos(x)

    def backward(self, grad):
        # dz/dx = -1 / sqrt(1 - x^2)
        return (-grad / np.sqrt(1 - self.x * self.x),)


class Atan(Primitive):
    """z = arctan(x)."""

    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        # (a Tensor, in create_graph mode, does it itself: np.arctan is not among the
        # ufuncs interop.py takes over)
        return np.arctan(x) if isinstance(x, np.ndarray) else x.atan()

    def backward(self, grad):
        # dz/dx = 1 / (1 + x^2)
        return (grad / (1 + self.x * self.x),)


class Sinh(Primitive):
    """z = sinh(x) = (e^x - e^-x) / 2."""

    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return np.sinh(x)

    def backward(self, grad):
        # dz/dx = cosh(x)
        return (grad * np.cosh(self.x),)


class Cosh(Primitive):
    """z = cosh(x) = (e^x + e^-x) / 2."""

    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return np.cosh(x)

    def backward(self, grad):
        # dz/dx = sinh(x)
        return (grad * np.sinh(self.x),)


class Asinh(Primitive):
    """z = asinh(x), the inverse of sinh: log(x + sqrt(x^2 + 1))."""

    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return np.arcsinh(x)

    def backward(self, grad):
        # dz/dx = 1 / sqrt(x^2 + 1)
        return (grad / np.sqrt(self.x * self.x + 1),)


class Acosh(Primitive):
    """z = acosh(x) for x >= 1, the inverse of cosh: log(x + sqrt(x^2 - 1)); NaN below 1."""

    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        with np.errstate(invalid="ignore"):
            return np.arccosh(x)

    def backward(self, grad):
        # dz/dx = 1 / sqrt(x^2 - 1)   (inf at x = 1, as in PyTorch)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (grad / np.sqrt(self.x * self.x - 1),)


class Atanh(Primitive):
    """z = atanh(x) for -1 < x < 1, the inverse of tanh: log((1 + x) / (1 - x)) / 2."""

    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.arctanh(x)

    def backward(self, grad):
        # dz/dx = 1 / (1 - x^2)   (inf at x = +-1, as in PyTorch)
        with np.errstate(divide="ignore"):
            return (grad / (1 - self.x * self.x),)


_erf_of_each = np.vectorize(math.erf, otypes=[np.float64])


def erf(x):
    """The error function of an array (math.erf element by element: numpy has none), or of
    a Tensor in create_graph mode (recorded as Erf)."""
    if not isinstance(x, (np.ndarray, np.generic)):
        return x.erf()
    return _erf_of_each(x).astype(x.dtype)


class Erf(Primitive):
    """z = erf(x) = 2/sqrt(pi) * integral from 0 to x of e^(-t^2) dt."""

    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return erf(x)

    def backward(self, grad):
        # dz/dx = 2/sqrt(pi) * e^(-x^2)
        x = self.x
        return (grad * (2 / math.sqrt(math.pi)) * np.exp(-x * x),)


class Sigmoid(Primitive):
    """z = 1 / (1 + e^-x), computed without overflow for any x."""

    __slots__ = ("out",)

    def forward(self, x):
        # e^-|x| never overflows; for x < 0 use the equivalent form e^x / (1 + e^x)
        e = np.exp(-np.abs(x))
        self.out = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return self.out

    def backward(self, grad):
        z = self.out
        # dz/dx = z (1 - z)   (written through the output z: the sigmoid of x, not of z)
        return (grad * z * (1 - z),)


class Relu(Primitive):
    """z = max(x, 0); the derivative at 0 is taken as 0, as in PyTorch."""

    __slots__ = ("x",)

    def forward(self, x):
        self.x = x
        return np.maximum(x, 0)

    def backward(self, grad):
        # dz/dx = 1 where x > 0, else 0.  (grad * mask: an infinite grad where x <= 0 gives
        # inf * 0 = NaN, where PyTorch gives 0; np.where would cost W2 11% a step)
        return (grad * (self.x > 0),)


class Clip(Primitive):
    """z = min(max(x, low), high); either bound may be None."""

    __slots__ = ("inside",)

    def forward(self, x, low=None, high=None):
        out = np.clip(x, low, high)
        self.inside = out == x         # where clipping left x alone (bounds included)
        return out

    def backward(self, grad):
        # dz/dx = 1 where low <= x <= high, else 0 (the bounds count as inside, like PyTorch;
        # grad * mask, quick, as in Relu)
        return (grad * self.inside,)


class Cast(Primitive):
    """z = x converted to another floating dtype (float32 <-> float64, ...)."""

    __slots__ = ("x_dtype",)

    def forward(self, x, dtype):
        self.x_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, grad):
        # dz/dx = 1 ;  the gradient goes back in the input's dtype
        return (grad.astype(self.x_dtype),)


# ----- reductions -------------------------------------------------------------------------

class Sum(Primitive):
    """z = sum of x over ``axis`` (None: all axes), optionally keeping reduced axes as size 1."""

    __slots__ = ("x_shape", "axis", "keepdims")

    def forward(self, x, axis=None, keepdims=False):
        self.x_shape, self.axis, self.keepdims = x.shape, axis, keepdims
        return accurate_sum(x, axis=axis, keepdims=keepdims)

    def backward(self, grad):
        # dz/dx_i = 1 for every summed element: copy grad back along the reduced axes
        grad = expand_reduced(grad, self.x_shape, self.axis, self.keepdims)
        return (np.broadcast_to(grad, self.x_shape),)


class Cumsum(Primitive):
    """z_i = x_0 + x_1 + ... + x_i along ``axis``: running totals."""

    __slots__ = ("axis",)

    def forward(self, x, axis):
        self.axis = axis
        # (a Tensor, in create_graph mode, does it itself: numpy's cumsum has no dispatch)
        return np.cumsum(x, axis=axis) if isinstance(x, np.ndarray) else x.cumsum(axis)

    def backward(self, grad):
        # x_i is in every z_j with j >= i, so dz/dx_i = grad_i + grad_(i+1) + ... : a running
        # total taken from the end (flip, cumsum, flip back)
        return (reverse_cumsum(grad, self.axis),)


def reverse_cumsum(x, axis):
    """Running totals along ``axis`` taken from the end; on a Tensor (create_graph mode),
    the same through its own flip and cumsum, which are recorded."""
    if not isinstance(x, np.ndarray):
        return x.flip(axis).cumsum(axis).flip(axis)
    return np.flip(np.cumsum(np.flip(x, axis), axis=axis), axis)


class Max(Primitive):
    """z = maximum of x over ``axis``; tied maxima share the gradient equally."""

    __slots__ = ("x", "axis", "keepdims", "out")

    def forward(self, x, axis=None, keepdims=False):
        self.x, self.axis, self.keepdims = x, axis, keepdims
        out = amax(x, axis, keepdims)
        # the maximum with the reduced axes kept (size 1), to compare with x in backward
        self.out = expand_reduced(out, x.shape, axis, keepdims)
        return out

    def backward(self, grad):
        x = self.x
        # dz/dx_i = 1/k for the k elements equal to the maximum, 0 elsewhere (a NaN maximum
        # is "equal" to the NaNs, as in PyTorch: x == NaN alone would send the gradient nowhere)
        winners = np.logical_or(x == self.out, np.logical_and(np.isnan(x), np.isnan(self.out)))
        count = winners.sum(axis=self.axis, keepdims=True).astype(grad.dtype)
        grad = expand_reduced(grad, x.shape, self.axis, self.keepdims)
        # (np.where, not grad * winners: an infinite grad must not make the losers NaN)
        return (np.where(winners, grad / count, 0),)


# ----- linear algebra ---------------------------------------------------------------------

class MatMul(Primitive):
    """z = x @ y, numpy's matmul: 1-D operands are promoted, leading (batch) axes broadcast."""

    __slots__ = ("x", "y")

    def forward(self, x, y):
        self.x, self.y = x, y
        return x @ y

    def backward(self, grad):
        x, y = self.x, self.y
        # view 1-D operands as matrices, as matmul does: x (k,) -> (1, k), y (k,) -> (k, 1)
        x2 = x.reshape(1, -1) if x.ndim == 1 else x
        y2 = y.reshape(-1, 1) if y.ndim == 1 else y
        batch = np.broadcast_shapes(x2.shape[:-2], y2.shape[:-2])
        grad = grad.reshape(batch + (x2.shape[-2], y2.shape[-1]))
        # x: (..., n, k), y: (..., k, m), grad: (..., n, m)
        # dz/dx = grad @ y^T : (..., n, k) ;  dz/dy = x^T @ grad : (..., k, m)
        grad_x = grad_y = None
        if self.needs_grad[0]:
            grad_x = unbroadcast(grad @ np.swapaxes(y2, -1, -2), x2.shape).reshape(x.shape)
        if self.needs_grad[1]:
            grad_y = unbroadcast(np.swapaxes(x2, -1, -2) @ grad, y2.shape).reshape(y.shape)
        return grad_x, grad_y


class Linear(Primitive):
    """z = x @ w^T + b, a fully connected layer as one op (b may be left out).

    x: (..., in), w: (out, in), b: (out,) -> z: (..., out). The same as MatMul, Transpose
    and Add in a row, fused because it is the most common step of every network.
    """

    __slots__ = ("x", "w")

    def forward(self, x, w, b=None):
        self.x, self.w = x, w
        z = x @ w.T
        return z if b is None else z + b

    def backward(self, grad):
        x, w = self.x, self.w
        # grad: (..., out).  dz/dx = grad @ w : (..., in) ;  dz/dw = grad^T @ x : (out, in),
        # summed over every sample ;  dz/db = grad summed over every sample : (out,)
        need_x, need_w = self.needs_grad[:2]
        grad_x = grad @ w if need_x else None
        if x.ndim != 2:   # samples in several leading axes: line them all up in one
            grad, x = grad.reshape(-1, grad.shape[-1]), x.reshape(-1, x.shape[-1])
        grad_w = grad.T @ x if need_w else None
        if len(self.needs_grad) == 2:
            return grad_x, grad_w
        return grad_x, grad_w, accurate_sum(grad, axis=0)


def log_softmax(x, axis):
    """x - log(sum(e^x)) along ``axis``, for the forwards of LogSoftmax and CrossEntropy."""
    # shift by the max: e^(x - max) <= 1 never overflows, and the result is the same
    shifted = x - amax(x, axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


class LogSoftmax(Primitive):
    """z = x - log(sum(e^x)) along ``axis``: log-probabilities, without overflow."""

    __slots__ = ("out", "axis")

    def forward(self, x, axis=-1):
        self.out, self.axis = log_softmax(x, axis), axis
        return self.out

    def backward(self, grad):
        # dz_i/dx_j = [i == j] - softmax_j, so grad_x = grad - softmax * sum(grad),
        # with softmax = e^z (written through the output z)
        return (grad - np.exp(self.out) * grad.sum(axis=self.axis, keepdims=True),)


class CrossEntropy(Primitive):
    """z = -log softmax(x)[label] per sample, then averaged (or summed, or kept).

    x: logits (N, C); labels: integers (N,) in 0..C-1 (no gradient); reduction: "mean",
    "sum" or "none". The classifier loss as one op, with its famous gradient.
    """

    __slots__ = ("log_probs", "labels", "reduction")

    def forward(self, x, labels, reduction="mean"):
        log_probs = log_softmax(x, axis=1)
        self.log_probs, self.labels, self.reduction = log_probs, labels, reduction
        picked = log_probs[np.arange(x.shape[0]), labels]   # log p(right class), per sample
        if reduction == "none":
            return -picked
        # negate the total, not every sample; sum / n rather than .mean(): the same number,
        # without numpy's slower mean wrapper
        total = -picked.sum()
        return total / x.shape[0] if reduction == "mean" else total

    def backward(self, grad):
        n, classes = self.log_probs.shape
        one_hot = np.arange(classes) == self.labels.reshape(-1, 1)
        # dz_n/dx_nc = softmax(x_n)_c - [c == label_n] ;  "mean" also divides by N.
        # grad is a number ("mean", "sum") or one per sample ("none": grad (N,) -> (N, 1))
        per_sample = grad.reshape(-1, 1) if self.reduction == "none" else grad
        if self.reduction == "mean":
            per_sample = per_sample / n
        grad_x = np.exp(self.log_probs)
        if isinstance(grad_x, np.ndarray):   # in place: one result array instead of three
            grad_x -= one_hot
            grad_x *= per_sample
            return grad_x, None
        # Tensors (create_graph): out of place, so that the recorded Exp keeps its result
        return (grad_x - one_hot) * per_sample, None


BCE_LOG_FLOOR = -100.0     # BCE's logs are clamped here (PyTorch's BCELoss), so log(0) is finite
BCE_MIN_DENOMINATOR = 1e-12   # and its slope's denominator p (1 - p) is kept above this


def clamped_log(x):
    """log(x), but never below ``BCE_LOG_FLOOR``: log(0) gives -100, not -inf."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(x), BCE_LOG_FLOOR)


class BinaryCrossEntropy(Primitive):
    """z = -(y log p + (1 - y) log(1 - p)), elementwise, each log clamped below at -100.

    p: probabilities in [0, 1]; y: targets in [0, 1], of the same shape. Fused, like
    CrossEntropy, so that a prediction of exactly 0 or 1 still gets a finite value and a
    gradient that pushes it back (through two clamped logs it would get none).
    """

    __slots__ = ("p", "y")

    def forward(self, p, y):
        self.p, self.y = p, y
        return -(y * clamped_log(p) + (1 - y) * clamped_log(1 - p))

    def backward(self, grad):
        p, y = self.p, self.y
        need_p, need_y = self.needs_grad
        # dz/dp = -y/p + (1 - y)/(1 - p) = (p - y) / (p (1 - p)), the denominator kept at
        #         least 1e-12 as in PyTorch: p = 0 with y = 1 gives -1e12, not 0 or -inf ;
        # dz/dy = log(1 - p) - log(p), the logs clamped as in forward
        grad_p = unbroadcast(grad * (p - y) / np.maximum(p * (1 - p), BCE_MIN_DENOMINATOR),
                             p.shape) if need_p else None
        grad_y = unbroadcast(grad * (clamped_log(1 - p) - clamped_log(p)),
                             y.shape) if need_y else None
        return grad_p, grad_y


# ----- shape and indexing -----------------------------------------------------------------

class Reshape(Primitive):
    """z = x with a new shape (same elements, same order)."""

    __slots__ = ("x_shape",)

    def forward(self, x, shape):
        self.x_shape = x.shape
        return x.reshape(shape)

    def backward(self, grad):
        # dz/dx = identity on the elements: give grad back the input's shape
        return (grad.reshape(self.x_shape),)


class Transpose(Primitive):
    """z = x with its axes permuted: z.shape[i] == x.shape[axes[i]]."""

    __slots__ = ("axes",)

    def forward(self, x, axes):
        self.axes = axes
        return np.transpose(x, axes)

    def backward(self, grad):
        # dz/dx = the inverse permutation applied to grad
        return (np.transpose(grad, tuple(np.argsort(self.axes))),)


class Expand(Primitive):
    """z = x broadcast to ``shape`` (numpy's rules): elements copied along stretched axes."""

    __slots__ = ("x_shape",)

    def forward(self, x, shape):
        self.x_shape = x.shape
        out = np.broadcast_to(x, shape)
        # an array of its own: a broadcast view is read-only, and its copies share memory
        # (a Tensor, in create_graph mode, is a new one already)
        return out.copy() if isinstance(out, np.ndarray) else out

    def backward(self, grad):
        # dz/dx: each element of x reaches every copy of it, so its gradient is their sum
        # (the adjoint of broadcasting, as in every binary op's backward)
        return (unbroadcast(grad, self.x_shape),)


class GetItem(Primitive):
    """z = x[index]: ints, slices, None, Ellipsis, integer arrays and boolean masks."""

    __slots__ = ("x_shape", "index")

    def forward(self, x, index):
        self.x_shape, self.index = x.shape, index
        return x[index]

    def backward(self, grad):
        # dz/dx = 1 at each selected position, 0 elsewhere: put grad back where it came from
        return (scatter_add(grad, self.index, self.x_shape),)


class ScatterAdd(Primitive):
    """z = zeros(shape) with y added at [index]; a position listed twice gets both values.

    The adjoint of indexing: GetItem's backward is a ScatterAdd, and a ScatterAdd's
    backward is indexing again.
    """

    __slots__ = ("index",)

    def forward(self, y, index, shape):
        self.index = index
        return scatter_add(y, index, shape)

    def backward(self, grad):
        # dz/dy = 1 at the positions y was added to: read them back out
        return (grad[self.index],)


def scatter_add(values, index, shape):
    """zeros(shape) with ``values`` added at ``[index]``; on Tensors, recorded as ScatterAdd.

    numpy has no function for this that a Tensor could take over, so a Tensor (in
    create_graph mode) is asked to do it itself: ``values.scatter_add_to(shape, index)``.
    """
    if not isinstance(values, (np.ndarray, np.generic)):
        return values.scatter_add_to(shape, index)
    out = np.zeros(shape, dtype=values.dtype)
    if _may_repeat(index):
        np.add.at(out, index, values)   # plain assignment would keep only one of the repeats
    else:
        out[index] = values
    return out


def _may_repeat(index):
    """True if ``index`` holds an integer array or list (which may pick a position twice)."""
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, (list, np.ndarray)) and np.asarray(p).dtype != np.bool_
               for p in parts)


class SetItem(Primitive):
    """z = a copy of x with z[index] = y (y broadcast to the selected shape).

    What ``x[index] = y`` records; numpy's indexing rules, as in GetItem.
    """

    __slots__ = ("index", "x_shape", "y_shape")

    def forward(self, x, y, index):
        self.index, self.x_shape, self.y_shape = index, x.shape, y.shape
        out = x.copy() if isinstance(x, np.ndarray) else x.clone()   # Tensors: create_graph
        out[index] = y
        return out

    def backward(self, grad):
        # dz/dx = 1 where x was kept, 0 at [index] (overwritten) ;
        # dz/dy = 1 at [index]: read grad there, then sum it back to y's shape (broadcast)
        overwritten = np.zeros(self.x_shape, dtype=bool)
        overwritten[self.index] = True
        grad_x = np.where(overwritten, 0, grad)
        grad_y = unbroadcast(grad[self.index], self.y_shape)
        return grad_x, grad_y


class Cat(Primitive):
    """z = the inputs joined along ``axis`` (all other axes must match)."""

    __slots__ = ("axis", "sizes")

    def forward(self, *xs, axis=0):
        self.axis = axis
        self.sizes = [x.shape[axis] for x in xs]
        return np.concatenate(xs, axis=axis)

    def backward(self, grad):
        # dz/dx_i = identity on x_i's slice of z: cut grad back into the pieces
        before = (slice(None),) * self.axis
        starts = np.cumsum([0] + self.sizes)
        return tuple(grad[before + (slice(start, start + size),)]
                     for start, size in zip(starts, self.sizes))


# ----- sliding windows: convolution and pooling ---------------------------------------------
#
# A convolution or a pooling layer looks at the image through a window that slides over it.
# ``Unfold`` copies every window out into its own row ("im2col"), so that a convolution
# becomes one matrix product and a pooling one reduction over the window axes. Its adjoint,
# ``Fold``, adds each window back where it came from ("col2im"): a pixel that sat in several
# windows gets the sum of their gradients. Each is the other's backward, like GetItem and
# ScatterAdd. Padding is a separate op, ``Pad``, done before the windows are cut.
#
# Layout: x (N, C, H, W)  ->  windows (N, Ho, Wo, C, kh, kw), where window (p, q) starts at
# row p*sh and column q*sw, and its element (i, j) is x[n, c, p*sh + i*dh, q*sw + j*dw]
# (stride s, dilation d). The channel and kernel axes come last so that windows.reshape(
# N, Ho, Wo, C*kh*kw) @ weight.reshape(O, C*kh*kw).T is the whole convolution, one BLAS call.

def window_count(size, kernel, stride, dilation):
    """How many windows of ``kernel`` taps, ``dilation`` apart, fit in ``size`` (``stride`` apart).

    (size - dilation (kernel - 1) - 1) // stride + 1, PyTorch's output size without padding.
    """
    return (size - dilation * (kernel - 1) - 1) // stride + 1


def _window_rows(out_size, kernel, stride, dilation):
    """Index arrays (out_size, kernel): the input position of tap i of window p."""
    return (np.arange(out_size) * stride)[:, None] + (np.arange(kernel) * dilation)[None, :]


def unfold_windows(x, kernel_size, stride, dilation):
    """Every window of x (N, C, H, W), copied out: (N, Ho, Wo, C, kh, kw) (see above).

    On an array, a strided view that walks over x in place (no copy) followed by one copy;
    on a Tensor (create_graph mode), the same windows picked by integer indexing (GetItem).
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    n, c, h, w = x.shape
    ho, wo = window_count(h, kh, sh, dh), window_count(w, kw, sw, dw)
    if isinstance(x, np.ndarray):
        s_n, s_c, s_h, s_w = x.strides
        # moving one window down is sh rows of x, one tap down is dh rows: both are just
        # steps through x's memory, so the 6-axis view costs nothing until it is copied
        view = np.lib.stride_tricks.as_strided(
            x, shape=(n, ho, wo, c, kh, kw),
            strides=(s_n, sh * s_h, sw * s_w, s_c, dh * s_h, dw * s_w), writeable=False)
        return view.copy()
    rows = _window_rows(ho, kh, sh, dh)[:, None, :, None]   # (Ho, 1, kh, 1)
    cols = _window_rows(wo, kw, sw, dw)[None, :, None, :]   # (1, Wo, 1, kw)
    # x[:, :, rows, cols]: (N, C, Ho, Wo, kh, kw); then channels after the window position
    return np.transpose(x[:, :, rows, cols], (0, 2, 3, 1, 4, 5))


def fold_windows(windows, x_shape, kernel_size, stride, dilation):
    """The adjoint of ``unfold_windows``: zeros(x_shape) with every window added back in place.

    windows: (N, Ho, Wo, C, kh, kw) -> (N, C, H, W). Where windows overlap, their values add
    up. On an array: one strided slice-add per kernel tap (kh * kw of them, each covering
    every window at once), no loop over positions; on a Tensor (create_graph mode), a
    recorded ScatterAdd of the same indices that ``unfold_windows`` reads.
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    n, ho, wo, c = windows.shape[:4]
    if not isinstance(windows, np.ndarray):
        rows = _window_rows(ho, kh, sh, dh)[:, None, :, None]
        cols = _window_rows(wo, kw, sw, dw)[None, :, None, :]
        index = (slice(None), slice(None), rows, cols)
        return scatter_add(np.transpose(windows, (0, 3, 1, 2, 4, 5)), index, x_shape)
    # accumulate channels-last, (N, H, W, C), in the windows' own order, then turn it round
    out = np.zeros((x_shape[0], x_shape[2], x_shape[3], x_shape[1]), dtype=windows.dtype)
    for i in range(kh):
        for j in range(kw):
            # tap (i, j) of window (p, q) is pixel (p*sh + i*dh, q*sw + j*dw): a strided slice
            out[:, i * dh: i * dh + sh * (ho - 1) + 1: sh,
                j * dw: j * dw + sw * (wo - 1) + 1: sw] += windows[:, :, :, :, i, j]
    return out.transpose(0, 3, 1, 2)


class Unfold(Primitive):
    """z = every kh x kw window of x, copied out (im2col): (N, C, H, W) -> (N, Ho, Wo, C, kh, kw).

    z[n, p, q, c, i, j] = x[n, c, p*sh + i*dh, q*sw + j*dw], with Ho = (H - dh(kh-1) - 1)//sh + 1
    (likewise Wo). No padding here: pad first with Pad. A convolution is this and one matmul.
    """

    __slots__ = ("x_shape", "kernel_size", "stride", "dilation")

    def forward(self, x, kernel_size, stride=(1, 1), dilation=(1, 1)):
        self.x_shape, self.kernel_size = x.shape, kernel_size
        self.stride, self.dilation = stride, dilation
        return unfold_windows(x, kernel_size, stride, dilation)

    def backward(self, grad):
        # grad: (N, Ho, Wo, C, kh, kw).  dz[n,p,q,c,i,j]/dx[n,c,p*sh+i*dh, q*sw+j*dw] = 1, so
        # dL/dx[n,c,a,b] = sum of grad over every (p, q, i, j) that read pixel (a, b): Fold
        return (fold_windows(grad, self.x_shape, self.kernel_size, self.stride, self.dilation),)


class Fold(Primitive):
    """z = windows added back into an image (col2im), the adjoint of Unfold.

    x: (N, Ho, Wo, C, kh, kw) -> z: ``output_shape`` (N, C, H, W); overlapping windows add up.
    """

    __slots__ = ("kernel_size", "stride", "dilation")

    def forward(self, x, output_shape, kernel_size, stride=(1, 1), dilation=(1, 1)):
        self.kernel_size, self.stride, self.dilation = kernel_size, stride, dilation
        return fold_windows(x, output_shape, kernel_size, stride, dilation)

    def backward(self, grad):
        # each x[n,p,q,c,i,j] was added to exactly one pixel, z[n,c,p*sh+i*dh, q*sw+j*dw], so
        # dL/dx is that pixel's gradient: read the windows out of grad (Unfold)
        return (unfold_windows(grad, self.kernel_size, self.stride, self.dilation),)


class Pad(Primitive):
    """z = x with ``value`` added around it: ``widths`` is ((before, after), ...) per axis, >= 0."""

    __slots__ = ("inside",)

    def forward(self, x, widths, value=0.0):
        shape = tuple(size + before + after for size, (before, after) in zip(x.shape, widths))
        # where x sits inside z
        self.inside = tuple(slice(before, before + size)
                            for size, (before, _) in zip(x.shape, widths))
        if isinstance(x, np.ndarray):
            out = np.full(shape, value, dtype=x.dtype)
            out[self.inside] = x
            return out
        # a Tensor (create_graph mode): x put in place, the border filled by a recorded Where
        placed = scatter_add(x, self.inside, shape)
        border = np.ones(shape, dtype=bool)
        border[self.inside] = False
        return np.where(border, np.asarray(value, dtype=x.dtype), placed) if value else placed

    def backward(self, grad):
        # dz/dx = 1 for the elements of x, which sit at [inside]; the border is a constant
        return (grad[self.inside],)


PRIMITIVES = (
    Add, Sub, Mul, Div, Pow, Maximum, Where, Remainder, Atan2, Copysign,
    Floor, Ceil, Round, Trunc, Sign, FloorDivide, TruncDivide,
    Neg, Exp, Log, Sqrt, Abs, Sin, Cos, Tanh, Sigmoid, Relu, Clip, Cast,
    Log1p, Expm1, Tan, Asin, Acos, Atan, Sinh, Cosh, Asinh, Acosh, Atanh, Erf,
    Sum, Cumsum, Max, LogSoftmax, CrossEntropy, BinaryCrossEntropy,
    MatMul, Linear,
    Reshape, Transpose, Expand, GetItem, ScatterAdd, SetItem, Cat,
    Unfold, Fold, Pad,
)
