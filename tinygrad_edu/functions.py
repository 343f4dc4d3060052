"""PyTorch-style module functions: ``tg.tensor``, ``tg.zeros``, ``tg.cat``, ``tg.exp``, ...

Each is a thin wrapper over a Tensor factory or method, so that a PyTorch script runs with
``import tinygrad_edu as torch``. Anything array-like is accepted where a tensor is expected.
"""

import builtins   # this module defines all, any, round, sum, max, ... as PyTorch's
import functools
import math
import types

import numpy as np

from . import composites
from . import devices
from . import factories
from .checks import pick_axis
from .dtypes import bool_, float16, float32, float64, int32, int64, long, double  # noqa: F401
from .tensor import Tensor

# PyTorch's names, used as tg.float and tg.bool; they hide Python's float and bool in this
# module, so the code below writes builtins.float where it means the number type
float = float32   # noqa: A001
bool = bool_   # noqa: A001


def _t(x):
    # not Tensor(x): that would make float32 of a list of ints (PyTorch's legacy constructor)
    return x if isinstance(x, Tensor) else Tensor(factories.as_array(x))


def _on_cpu(device, op):
    """Accept PyTorch's ``device=`` when it names the CPU (the only device); else raise."""
    if device is not None:
        devices.check(device, op)


def tensor(data, dtype=None, requires_grad=False, name=None, *, device=None):
    """A new tensor holding a copy of ``data`` (PyTorch's ``torch.tensor``).

    dtypes as PyTorch infers them: Python ints give int64, floats float32, bools bool; a numpy
    array or a tensor keeps its dtype. (``Tensor([1, 2])``, the legacy constructor, is float32.)
    """
    _on_cpu(device, "tensor")
    array = factories.as_array(data, dtype)
    if isinstance(data, (np.ndarray, np.generic, Tensor)):
        array = array.copy()   # a copy, never a view of the input
    return Tensor(array, requires_grad=requires_grad, name=name)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory with a numpy array (or tensor) when the dtype
    already fits (``torch.as_tensor``)."""
    _on_cpu(device, "as_tensor")
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    return Tensor(factories.as_array(data, dtype))   # dtypes as tg.tensor infers them


def from_numpy(array):
    """A tensor sharing memory with a numpy array, keeping its dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy array, got {type(array).__name__}")
    return Tensor(array)


# tg.accelerator (PyTorch 2.6+), what the quickstart tutorial asks before it picks "cpu":
# ``torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"``
accelerator = types.SimpleNamespace(
    is_available=lambda: False,          # no GPU or other accelerator, ever
    current_accelerator=lambda: None,    # as PyTorch answers on a machine without one
    device_count=lambda: 0,
)


# every factory takes PyTorch's device= (the CPU only: see devices.py)

def zeros(*shape, dtype=np.float32, requires_grad=False, device=None):
    _on_cpu(device, "zeros")
    return Tensor.zeros(*shape, dtype=dtype, requires_grad=requires_grad)


def ones(*shape, dtype=np.float32, requires_grad=False, device=None):
    _on_cpu(device, "ones")
    return Tensor.ones(*shape, dtype=dtype, requires_grad=requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False, device=None):
    _on_cpu(device, "full")
    return Tensor.full(shape, fill_value, dtype=dtype, requires_grad=requires_grad)


def rand(*shape, dtype=np.float32, requires_grad=False, generator=None, device=None):
    _on_cpu(device, "rand")
    return Tensor.rand(*shape, dtype=dtype, requires_grad=requires_grad, generator=generator)


def randn(*shape, dtype=np.float32, requires_grad=False, generator=None, device=None):
    _on_cpu(device, "randn")
    return Tensor.randn(*shape, dtype=dtype, requires_grad=requires_grad, generator=generator)


def eye(n, m=None, dtype=np.float32, requires_grad=False, device=None):
    _on_cpu(device, "eye")
    return Tensor.eye(n, m, dtype=dtype, requires_grad=requires_grad)


def arange(start, stop=None, step=1, dtype=None, requires_grad=False, device=None):
    _on_cpu(device, "arange")
    return Tensor.arange(start, stop, step, dtype=dtype, requires_grad=requires_grad)


def zeros_like(t, dtype=None, requires_grad=False, device=None):
    _on_cpu(device, "zeros_like")
    return Tensor.zeros_like(t, dtype=dtype, requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False, device=None):
    _on_cpu(device, "ones_like")
    return Tensor.ones_like(t, dtype=dtype, requires_grad=requires_grad)


def cat(tensors, dim=0):
    """Join tensors along an existing axis (PyTorch's ``torch.cat``)."""
    return Tensor.cat(tensors, axis=dim)


def stack(tensors, dim=0):
    """Join same-shaped tensors along a new axis (PyTorch's ``torch.stack``)."""
    return Tensor.stack(tensors, axis=dim)


def exp(x):
    return _t(x).exp()


def log(x):
    return _t(x).log()


def sqrt(x):
    return _t(x).sqrt()


def abs(x):  # noqa: A001 - PyTorch's name
    return _t(x).abs()


def sin(x):
    return _t(x).sin()


def cos(x):
    return _t(x).cos()


def tanh(x):
    return _t(x).tanh()


def sigmoid(x):
    return _t(x).sigmoid()


def relu(x):
    return _t(x).relu()


def softmax(x, dim=-1):
    return _t(x).softmax(axis=dim)


def log_softmax(x, dim=-1):
    return _t(x).log_softmax(axis=dim)


def matmul(x, y):
    return _t(x).matmul(y)


def maximum(x, y):
    return _t(x).maximum(y)


def minimum(x, y):
    return _t(x).minimum(y)


def clamp(x, min=None, max=None):  # noqa: A002 - PyTorch's names
    return _t(x).clip(min, max)


clip = clamp


def sum(x, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    return _t(x).sum(axis=dim, keepdims=keepdim)


def mean(x, dim=None, keepdim=False):
    return _t(x).mean(axis=dim, keepdims=keepdim)


def max(x, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """The largest element; with ``dim``, ``(values, indices)`` as ``torch.max(x, dim)``."""
    return _t(x).max() if dim is None else _t(x).max(dim=dim, keepdim=keepdim)


def min(x, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """The smallest element; with ``dim``, ``(values, indices)`` as ``torch.min(x, dim)``."""
    return _t(x).min() if dim is None else _t(x).min(dim=dim, keepdim=keepdim)


def argmax(x, dim=None, keepdim=False):
    return _t(x).argmax(axis=pick_axis(None, dim), keepdims=keepdim)


def is_tensor(x):
    return isinstance(x, Tensor)


def _legacy_type(dtype, name):
    """PyTorch's legacy tensor types: ``FloatTensor([1, 2])`` (values) or ``FloatTensor(2, 3)``
    (a shape, of zeros here; PyTorch leaves the memory uninitialised)."""
    def make(*args):
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            return Tensor(args[0], dtype=dtype)
        if not builtins.all(isinstance(n, (int, np.integer)) and not isinstance(n, np.bool_)
                   and n is not True and n is not False and n >= 0 for n in args):
            raise TypeError(f"{name}: takes values (one list or array) or a shape (ints), "
                            f"got {args!r}")
        return Tensor(np.zeros(tuple(int(n) for n in args), dtype=dtype))
    make.__name__ = make.__qualname__ = name
    make.__doc__ = (f"A {np.dtype(dtype).name} tensor: ``{name}([1, 2])`` from values, "
                    f"``{name}(2, 3)`` of zeros in that shape (PyTorch's legacy type).")
    return make


FloatTensor = _legacy_type(np.float32, "FloatTensor")
DoubleTensor = _legacy_type(np.float64, "DoubleTensor")
HalfTensor = _legacy_type(np.float16, "HalfTensor")
LongTensor = _legacy_type(np.int64, "LongTensor")
IntTensor = _legacy_type(np.int32, "IntTensor")
ByteTensor = _legacy_type(np.uint8, "ByteTensor")
BoolTensor = _legacy_type(np.bool_, "BoolTensor")


def flip(x, dims):
    """``x`` reversed along each of ``dims`` (``torch.flip``)."""
    return _t(x).flip(dims)


def roll(x, shifts, dims=None):
    """``x`` shifted by ``shifts`` along ``dims``, wrapping around (``torch.roll``)."""
    return _t(x).roll(shifts, dims)


# ----- comparisons and logic (bool tensors, no gradient) ----------------------------------

def eq(x, other):
    """True where x == other (a bool tensor, broadcasting; no gradient)."""
    return _t(x).eq(other)


def ne(x, other):
    """True where x != other (a bool tensor)."""
    return _t(x).ne(other)


def lt(x, other):
    """True where x < other (a bool tensor)."""
    return _t(x).lt(other)


def le(x, other):
    """True where x <= other (a bool tensor)."""
    return _t(x).le(other)


def gt(x, other):
    """True where x > other (a bool tensor)."""
    return _t(x).gt(other)


def ge(x, other):
    """True where x >= other (a bool tensor)."""
    return _t(x).ge(other)


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def isnan(x):
    """True where the value is NaN."""
    return _t(x).isnan()


def isinf(x):
    """True where the value is +-inf."""
    return _t(x).isinf()


def isfinite(x):
    """True where the value is neither NaN nor infinite."""
    return _t(x).isfinite()


def isclose(x, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True where |x - other| <= atol + rtol * |other| (a bool tensor)."""
    return _t(x).isclose(other, rtol, atol, equal_nan)


def allclose(x, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True (a Python bool) if ``isclose`` holds everywhere."""
    return _t(x).allclose(other, rtol, atol, equal_nan)


def equal(x, other):
    """True (a Python bool) if both have the same shape and values."""
    return _t(x).equal(other)


def any(x, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """True if any element (along ``dim``) is nonzero."""
    return _t(x).any(dim, keepdim)


def all(x, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """True if every element (along ``dim``) is nonzero."""
    return _t(x).all(dim, keepdim)


def logical_and(x, other):
    """True where both are nonzero."""
    return _t(x).logical_and(other)


def logical_or(x, other):
    """True where either is nonzero."""
    return _t(x).logical_or(other)


def logical_xor(x, other):
    """True where exactly one is nonzero."""
    return _t(x).logical_xor(other)


def logical_not(x):
    """True where the value is zero."""
    return _t(x).logical_not()


def bitwise_and(x, other):
    """x & other, for integer or boolean tensors."""
    return _t(x).bitwise_and(other)


def bitwise_or(x, other):
    """x | other, for integer or boolean tensors."""
    return _t(x).bitwise_or(other)


def bitwise_xor(x, other):
    """x ^ other, for integer or boolean tensors."""
    return _t(x).bitwise_xor(other)


def bitwise_not(x):
    """~x, for integer or boolean tensors."""
    return _t(x).bitwise_not()


def masked_fill(x, mask, value):
    """A copy of x with ``value`` where ``mask`` is true."""
    return _t(x).masked_fill(mask, value)


def nonzero(x, as_tuple=False):
    """The indices of the nonzero elements (int64)."""
    return _t(x).nonzero(as_tuple=as_tuple)


def count_nonzero(x, dim=None):
    """The number of nonzero elements (along ``dim``), int64."""
    return _t(x).count_nonzero(dim)


# ----- arithmetic ---------------------------------------------------------------------------

def add(x, other, *, alpha=1):
    """x + alpha * other (``torch.add``)."""
    return _t(x).add(other, alpha=alpha)


def sub(x, other, *, alpha=1):
    """x - alpha * other (``torch.sub``)."""
    return _t(x).sub(other, alpha=alpha)


subtract = sub


def mul(x, other):
    """x * other."""
    return _t(x) * other


multiply = mul


def div(x, other, *, rounding_mode=None):
    """x / other, or rounded with ``rounding_mode="trunc"`` / ``"floor"`` (``torch.div``)."""
    return _t(x).div(other, rounding_mode=rounding_mode)


divide = true_divide = div


def floor_divide(x, other):
    """floor(x / other), as Python's ``//``."""
    return _t(x).floor_divide(other)


def remainder(x, other):
    """x mod other with the sign of ``other`` (Python's ``%``)."""
    return _t(x).remainder(other)


def neg(x):
    """-x."""
    return -_t(x)


negative = neg


def pow(x, exponent):  # noqa: A001 - PyTorch's name
    """x ** exponent; ``x`` may be a number (``torch.pow(2, t)``)."""
    if not isinstance(x, Tensor) and isinstance(exponent, Tensor):
        return exponent.__rpow__(x)
    return _t(x) ** exponent


def square(x):
    """x * x."""
    return _t(x).square()


def reciprocal(x):
    """1 / x (float32 for integers)."""
    return _t(x).reciprocal()


def rsqrt(x):
    """1 / sqrt(x)."""
    return _t(x).rsqrt()


def sign(x):
    """-1, 0 or 1 by the sign of x (0 for NaN); gradient 0."""
    return _t(x).sign()


def floor(x):
    """The largest integer <= x; gradient 0."""
    return _t(x).floor()


def ceil(x):
    """The smallest integer >= x; gradient 0."""
    return _t(x).ceil()


def round(x, decimals=0):  # noqa: A001 - PyTorch's name
    """x rounded to ``decimals`` places, halves to even; gradient 0."""
    return _t(x).round(decimals)


def trunc(x):
    """x rounded toward 0; gradient 0."""
    return _t(x).trunc()


fix = trunc


def frac(x):
    """x - trunc(x); gradient 1."""
    return _t(x).frac()


def atan2(x, other):
    """The angle of the point (other, x): atan2(y=x, x=other)."""
    return _t(x).atan2(other)


arctan2 = atan2


def copysign(x, other):
    """|x| with the sign of ``other``."""
    return _t(x).copysign(other)


def mm(x, other):
    """Matrix product of two matrices (``torch.mm``)."""
    return _t(x).mm(other)


def bmm(x, other):
    """Batched matrix product: (b, n, k) @ (b, k, m) -> (b, n, m) (``torch.bmm``)."""
    return _t(x).bmm(other)


# ----- shapes -------------------------------------------------------------------------------

def reshape(x, shape):
    """x with a new shape (one axis may be -1)."""
    return _t(x).reshape(shape)


def flatten(x, start_dim=0, end_dim=-1):
    """Axes start_dim..end_dim merged into one."""
    return _t(x).flatten(start_dim, end_dim)


def transpose(x, dim0, dim1):
    """x with axes ``dim0`` and ``dim1`` swapped."""
    return _t(x).transpose(dim0, dim1)


def swapaxes(x, axis0, axis1):
    """x with two axes swapped (``torch.swapaxes``, also ``swapdims``)."""
    return _t(x).swapaxes(axis0, axis1)


swapdims = swapaxes


def movedim(x, source, destination):
    """x with axes ``source`` moved to ``destination`` (``torch.movedim``, ``moveaxis``)."""
    return _t(x).movedim(source, destination)


moveaxis = movedim


def narrow(x, dim, start, length):
    """The ``length`` elements of x from ``start`` along ``dim`` (``torch.narrow``)."""
    return _t(x).narrow(dim, start, length)


def amax(x, dim=(), keepdim=False):
    """The largest values over ``dim`` (all axes by default); ties share the gradient."""
    return _t(x).amax(axis=None if dim == () else dim, keepdims=keepdim)


def amin(x, dim=(), keepdim=False):
    """The smallest values over ``dim`` (all axes by default); ties share the gradient."""
    return _t(x).amin(axis=None if dim == () else dim, keepdims=keepdim)


def permute(x, dims):
    """x with its axes reordered."""
    return _t(x).permute(dims)


def squeeze(x, dim=None):
    """x without its axes of size 1 (or those of ``dim``)."""
    return _t(x).squeeze(dim)


def unsqueeze(x, dim):
    """x with a new axis of size 1 at ``dim``."""
    return _t(x).unsqueeze(dim)


def t(x):
    """The transpose of a matrix."""
    return _t(x).t()


def numel(x):
    """The number of elements."""
    return _t(x).numel()


def argmin(x, dim=None, keepdim=False):
    """The index of the smallest element (along ``dim``)."""
    return _t(x).argmin(axis=pick_axis(None, dim), keepdims=keepdim)


# ----- math ---------------------------------------------------------------------------------

def erf(x):
    """The error function."""
    return _t(x).erf()


def log1p(x):
    """ln(1 + x), accurate for tiny x."""
    return _t(x).log1p()


def expm1(x):
    """e^x - 1, accurate for tiny x."""
    return _t(x).expm1()


def log2(x):
    """Base-2 logarithm."""
    return _t(x).log2()


def log10(x):
    """Base-10 logarithm."""
    return _t(x).log10()


def exp2(x):
    """2 ** x."""
    return _t(x).exp2()


def tan(x):
    """tan(x)."""
    return _t(x).tan()


def asin(x):
    """arcsin(x)."""
    return _t(x).asin()


def acos(x):
    """arccos(x)."""
    return _t(x).acos()


def atan(x):
    """arctan(x)."""
    return _t(x).atan()


arcsin, arccos, arctan = asin, acos, atan


def sinh(x):
    """sinh(x)."""
    return _t(x).sinh()


def cosh(x):
    """cosh(x)."""
    return _t(x).cosh()


def asinh(x):
    """asinh(x), the inverse of sinh."""
    return _t(x).asinh()


def acosh(x):
    """acosh(x), the inverse of cosh (x >= 1)."""
    return _t(x).acosh()


def atanh(x):
    """atanh(x), the inverse of tanh (-1 < x < 1)."""
    return _t(x).atanh()


arcsinh, arccosh, arctanh = asinh, acosh, atanh   # PyTorch's numpy-style aliases


def cumsum(x, dim, *, dtype=None):
    """Running totals along ``dim``."""
    return _t(x).cumsum(dim, dtype=dtype)


def norm(x, p="fro", dim=None, keepdim=False):
    """The p-norm (``torch.norm``): the 2-norm of all elements by default."""
    return _t(x).norm(p, dim, keepdim)


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation over ``dim`` (unbiased by default)."""
    return _t(x).std(dim, unbiased, keepdim, correction=correction)


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` (unbiased by default)."""
    return _t(x).var(dim, unbiased, keepdim, correction=correction)


def logsumexp(x, dim, keepdim=False):
    """log(sum(exp(x))) over ``dim``, without overflow."""
    return _t(x).logsumexp(dim, keepdim)


def tril(x, diagonal=0):
    """The lower triangle (zeros above ``diagonal``)."""
    return _t(x).tril(diagonal)


def triu(x, diagonal=0):
    """The upper triangle (zeros below ``diagonal``)."""
    return _t(x).triu(diagonal)


def diag(x, diagonal=0):
    """A vector's diagonal matrix, or a matrix's diagonal."""
    return _t(x).diag(diagonal)


def diagonal(x, offset=0):
    """A matrix's ``offset`` diagonal."""
    return _t(x).diagonal(offset)


def trace(x):
    """The sum of a matrix's diagonal."""
    return _t(x).trace()


def gather(x, dim, index):
    """Values of x picked by ``index`` along ``dim``."""
    return _t(x).gather(dim, index)


def scatter(x, dim, index, src=None, *, value=None):
    """A copy of x with ``src`` written at ``index`` along ``dim``."""
    return _t(x).scatter(dim, index, src, value=value)


def scatter_add(x, dim, index, src):
    """A copy of x with ``src`` added at ``index`` along ``dim``."""
    return _t(x).scatter_add(dim, index, src)


def sort(x, dim=-1, descending=False, stable=False):
    """``(values, indices)`` sorted along ``dim``."""
    return _t(x).sort(dim, descending, stable)


def argsort(x, dim=-1, descending=False, stable=False):
    """The indices that sort x along ``dim``."""
    return _t(x).argsort(dim, descending, stable)


def topk(x, k, dim=-1, largest=True, sorted=True):  # noqa: A002 - PyTorch's name
    """The ``k`` largest (or smallest) values along ``dim`` and their indices."""
    return _t(x).topk(k, dim, largest, sorted)


def unique(x, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct values, sorted."""
    return _t(x).unique(sorted, return_inverse, return_counts, dim)


def split(x, split_size_or_sections, dim=0):
    """Pieces of x along ``dim``."""
    return _t(x).split(split_size_or_sections, dim)


def chunk(x, chunks, dim=0):
    """x cut into ``chunks`` pieces along ``dim``."""
    return _t(x).chunk(chunks, dim)


# ----- factories and randomness (every draw seeded by tg.manual_seed, or a generator) ------

def linspace(start, end, steps, *, dtype=None, requires_grad=False, device=None):
    """``steps`` evenly spaced values from ``start`` to ``end``, both included (float32)."""
    _on_cpu(device, "linspace")
    return Tensor(factories.linspace(start, end, steps, dtype), requires_grad=requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, requires_grad=False, device=None):
    """base ** linspace(start, end, steps): ``steps`` values spaced evenly on a log scale."""
    _on_cpu(device, "logspace")
    exponents = factories.linspace(start, end, steps, np.float64)
    return Tensor((builtins.float(base) ** exponents).astype(dtype or np.float32),
                  requires_grad=requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, requires_grad=False,
            device=None):
    """Integers uniform on [low, high) in ``size`` (int64): ``randint(10, (3,))`` or
    ``randint(5, 10, (3,))``, as ``torch.randint``."""
    _on_cpu(device, "randint")
    if size is None:   # randint(high, size)
        low, high, size = 0, low, high
    if size is None or isinstance(size, (int, np.integer)):
        raise TypeError(f"randint: size must be a tuple such as (3,), got {size!r}")
    return Tensor(factories.randint(low, high, tuple(size), dtype, generator),
                  requires_grad=requires_grad)


def randperm(n, *, generator=None, dtype=np.int64, requires_grad=False, device=None):
    """0, ..., n - 1 in random order (int64), e.g. to shuffle: ``X[randperm(len(X))]``."""
    _on_cpu(device, "randperm")
    return Tensor(factories.randperm(n, dtype, generator), requires_grad=requires_grad)


def multinomial(input, num_samples, replacement=False, *, generator=None):  # noqa: A002
    """Indices drawn with probability proportional to ``input``'s weights (per row)."""
    return _t(input).multinomial(num_samples, replacement, generator=generator)


def bernoulli(input, p=None, *, generator=None):  # noqa: A002
    """1 with probability ``input`` (or ``p``), else 0, elementwise, in input's dtype."""
    input = _t(input)
    if p is not None:
        return Tensor(factories.bernoulli(np.full(input.shape, p, dtype=input._floating().dtype),
                                          generator))
    return input.bernoulli(generator=generator)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, requires_grad=False,
           device=None):
    """Samples of N(mean, std^2): ``normal(0.0, 1.0, size=(2, 3))``, or one per element of
    tensor ``mean`` and/or ``std`` (broadcast), as ``torch.normal``. No gradient."""
    _on_cpu(device, "normal")
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if tensors:
        if size is not None:
            raise TypeError("normal: give size only with numbers for mean and std")
        arrays = [v._data if isinstance(v, Tensor) else v for v in (mean, std)]
        shape = np.broadcast_shapes(*[np.shape(a) for a in arrays])
        out_dtype = dtype or np.result_type(*[t.dtype for t in tensors])
        return Tensor(factories.normal(arrays[0], arrays[1], shape, generator).astype(out_dtype),
                      requires_grad=requires_grad)
    if size is None:
        raise TypeError("normal: with numbers for mean and std, give size=(...)")
    shape = factories.shape_from((size,))
    return Tensor(factories.normal(mean, std, shape, generator).astype(dtype or np.float32),
                  requires_grad=requires_grad)


def empty(*shape, dtype=np.float32, requires_grad=False, device=None):
    """A tensor of ``shape`` (PyTorch leaves it uninitialised; here it holds zeros)."""
    _on_cpu(device, "empty")
    return Tensor.zeros(*shape, dtype=dtype, requires_grad=requires_grad)


def empty_like(t, dtype=None, requires_grad=False, *, device=None):
    """Like ``zeros_like`` (PyTorch leaves the values uninitialised)."""
    _on_cpu(device, "empty_like")
    return Tensor.zeros_like(t, dtype=dtype, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False, *, device=None):
    """A tensor of ``t``'s shape filled with ``fill_value``, in ``t``'s dtype unless given."""
    _on_cpu(device, "full_like")
    t = _t(t)
    return Tensor.full(t.shape, fill_value, dtype=dtype or t.dtype, requires_grad=requires_grad)


def rand_like(t, dtype=None, requires_grad=False, generator=None, *, device=None):
    """Samples uniform on [0, 1) in ``t``'s shape and (floating) dtype."""
    _on_cpu(device, "rand_like")
    t = _t(t)
    return Tensor.rand(*t.shape, dtype=dtype or t._floating().dtype, requires_grad=requires_grad,
                       generator=generator)


def randn_like(t, dtype=None, requires_grad=False, generator=None, *, device=None):
    """Standard normal samples in ``t``'s shape and (floating) dtype."""
    _on_cpu(device, "randn_like")
    t = _t(t)
    return Tensor.randn(*t.shape, dtype=dtype or t._floating().dtype,
                        requires_grad=requires_grad, generator=generator)


def randint_like(t, low=0, high=None, *, dtype=None, generator=None, device=None):
    """Integers uniform on [low, high) in ``t``'s shape and dtype (``randint_like(t, 10)``:
    [0, 10))."""
    _on_cpu(device, "randint_like")
    t = _t(t)
    if high is None:
        low, high = 0, low
    return Tensor(factories.randint(low, high, t.shape, dtype or t.dtype, generator))


def prod(x, dim=None, keepdim=False, *, dtype=None):
    """The product over ``dim``."""
    return _t(x).prod(dim, keepdim, dtype=dtype)


def cumprod(x, dim, *, dtype=None):
    """Running products along ``dim``."""
    return _t(x).cumprod(dim, dtype=dtype)


def einsum(equation, *operands):
    """Einstein summation, e.g. ``einsum("bij,bjk->bik", a, b)`` (see composites.einsum)."""
    from_list = len(operands) == 1 and isinstance(operands[0], (list, tuple))
    operands = [_t(t) for t in (operands[0] if from_list else operands)]
    return composites.einsum(equation, *operands)


def index_select(x, dim, index):
    """The slices at ``index`` along ``dim``."""
    return _t(x).index_select(dim, index)


def masked_select(x, mask):
    """The elements where ``mask`` is true, as a vector."""
    return _t(x).masked_select(mask)


def unbind(x, dim=0):
    """The slices along ``dim`` as a tuple."""
    return _t(x).unbind(dim)


def is_floating_point(x):
    """True for float16/32/64 tensors."""
    return _t(x).is_floating_point()


def clone(x):
    """A copy that stays in the graph."""
    return _t(x).clone()


def outer(x, other):
    """The outer product of two vectors."""
    return _t(x).outer(other)


def dot(x, other):
    """The dot product of two vectors (``torch.dot``)."""
    x, other = _t(x), _t(other)
    if x.ndim != 1 or other.ndim != 1:
        raise ValueError(f"dot: needs two vectors, got shapes {x.shape} and {other.shape}; "
                         "use matmul (@) for matrices")
    return x @ other


def clamp_min(x, min):  # noqa: A002 - PyTorch's name
    """max(x, min), elementwise."""
    return _t(x).clamp_min(min)


def clamp_max(x, max):  # noqa: A002 - PyTorch's name
    """min(x, max), elementwise."""
    return _t(x).clamp_max(max)


# ----- constants and small types --------------------------------------------------------------

inf = math.inf
nan = math.nan
pi = 3.141592653589793
e = 2.718281828459045


class Size(tuple):
    """PyTorch's ``torch.Size``: a tuple of ints, equal to the plain tuple ``x.shape`` gives."""

    def __repr__(self):
        return f"torch.Size({list(self)})"

    def numel(self):
        """The number of elements of a tensor of this shape."""
        return int(np.prod(self, dtype=np.int64))


# ----- PyTorch's out= argument ----------------------------------------------------------------

def _writes_out(fn):
    """``fn`` also taking PyTorch's ``out=``: the result is written into ``out``, which is
    returned. As in PyTorch, not for results that need a gradient; unlike PyTorch, ``out``
    is never resized: its shape must be the result's."""
    @functools.wraps(fn)
    def with_out(*args, out=None, **kwargs):
        result = fn(*args, **kwargs)
        if out is None:
            return result
        name = fn.__name__
        if not isinstance(out, Tensor):
            raise TypeError(f"{name}: out= must be a Tensor, got {type(out).__name__}")
        if result.requires_grad or out.requires_grad:
            raise RuntimeError(f"{name}(): functions with out=... arguments don't support "
                               "automatic differentiation, but one of the arguments requires "
                               f"grad; write y = torch.{name}(...) instead")
        if out.shape != result.shape:
            raise RuntimeError(f"{name}: out= has shape {out.shape} but the result has shape "
                               f"{result.shape}; tinygrad_edu does not resize out")
        if out.dtype.kind in "biu" and result.dtype.kind == "f":
            raise RuntimeError(f"{name}: result type {result.dtype} can't be cast to the "
                               f"desired output type {out.dtype}")
        out.copy_(result)
        return out
    return with_out


for _name in ("add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide",
              "matmul", "mm", "bmm", "pow", "exp", "log", "sqrt", "abs", "neg", "negative",
              "sin", "cos", "tanh", "sigmoid", "clamp", "clip", "maximum", "minimum", "cat",
              "stack", "floor", "ceil", "round", "trunc", "sign", "remainder", "reciprocal",
              "rsqrt", "square"):
    globals()[_name] = _writes_out(globals()[_name])
del _name
