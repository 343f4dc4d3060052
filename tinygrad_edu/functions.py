"""PyTorch-style module functions: ``tg.tensor``, ``tg.zeros``, ``tg.cat``, ``tg.exp``, ...

Each is a thin wrapper over a Tensor factory or method, so that a PyTorch script runs with
``import tinygrad_edu as torch``. Anything array-like is accepted where a tensor is expected.
"""

import numpy as np

from .checks import pick_axis
from .tensor import Tensor

float16 = np.float16
float32 = float = np.float32
float64 = double = np.float64
int32 = np.int32
int64 = long = np.int64
bool = np.bool_  # noqa: A001 - PyTorch's name, used as tg.bool


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
