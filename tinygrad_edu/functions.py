"""PyTorch-style module functions: ``tg.tensor``, ``tg.zeros``, ``tg.cat``, ``tg.exp``, ...

Each is a thin wrapper over a Tensor factory or method, so that a PyTorch script runs with
``import tinygrad_edu as torch``. Anything array-like is accepted where a tensor is expected.
"""

import numpy as np

from .checks import pick_axis
from .dtypes import float16, float32, float64, int32, int64, long, double  # noqa: F401
from .tensor import Tensor

float = float32   # noqa: A001 - PyTorch's names, used as tg.float and tg.bool
bool = np.bool_   # noqa: A001


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def tensor(data, dtype=None, requires_grad=False, name=None):
    """A new tensor holding a copy of ``data`` (PyTorch's ``torch.tensor``)."""
    array = data._data if isinstance(data, Tensor) else data
    return Tensor(np.array(array, copy=True) if isinstance(array, np.ndarray) else array,
                  requires_grad=requires_grad, dtype=dtype, name=name)


def from_numpy(array):
    """A tensor sharing memory with a numpy array, keeping its dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy array, got {type(array).__name__}")
    return Tensor(array)


def zeros(*shape, dtype=np.float32, requires_grad=False):
    return Tensor.zeros(*shape, dtype=dtype, requires_grad=requires_grad)


def ones(*shape, dtype=np.float32, requires_grad=False):
    return Tensor.ones(*shape, dtype=dtype, requires_grad=requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False):
    return Tensor.full(shape, fill_value, dtype=dtype, requires_grad=requires_grad)


def rand(*shape, dtype=np.float32, requires_grad=False):
    return Tensor.rand(*shape, dtype=dtype, requires_grad=requires_grad)


def randn(*shape, dtype=np.float32, requires_grad=False):
    return Tensor.randn(*shape, dtype=dtype, requires_grad=requires_grad)


def eye(n, m=None, dtype=np.float32, requires_grad=False):
    return Tensor.eye(n, m, dtype=dtype, requires_grad=requires_grad)


def arange(start, stop=None, step=1, dtype=None, requires_grad=False):
    return Tensor.arange(start, stop, step, dtype=dtype, requires_grad=requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    return Tensor.zeros_like(t, dtype=dtype, requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
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
        if not all(isinstance(n, (int, np.integer)) and not isinstance(n, np.bool_)
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
