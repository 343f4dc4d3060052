"""Making the arrays behind new tensors: the dtype rules, and the values of the factories.

dtype rules: a numpy array keeps its dtype (float64 stays float64); Python floats and the
factories default to float32, Python ints to int64, as in PyTorch.

Every random factory (and so every ``nn`` initialisation and ``Dropout``) draws from one
generator, seeded by ``tg.manual_seed``. ``Tensor.zeros``, ``Tensor.randn``, ... (tensor.py)
wrap the arrays made here.
"""

import numpy as np

from .autograd import TensorBase

_SUPPORTED_KINDS = "biuf"  # bool, signed and unsigned ints, floats
_rng = np.random.default_rng()   # replaced by manual_seed


def manual_seed(seed):
    """Seed the generator behind every random factory, nn init and Dropout."""
    global _rng
    _rng = np.random.default_rng(seed)


def get_rng_state():
    """The state of the generator behind every random factory (for ``set_rng_state``)."""
    return _rng.bit_generator.state


def set_rng_state(state):
    """Put the generator back in a state returned by ``get_rng_state``."""
    _rng.bit_generator.state = state


def as_array(data, dtype=None):
    """Turn Tensor/array/Python data into an ndarray following the dtype rules above."""
    if isinstance(data, TensorBase):
        data = data._data
    if isinstance(data, (np.ndarray, np.generic)):
        arr = np.asarray(data) if dtype is None else np.asarray(data).astype(dtype, copy=False)
    else:
        try:
            arr = np.array(data, dtype=dtype)
        except (ValueError, TypeError) as error:
            raise TypeError(f"tensor: cannot make a tensor from {type(data).__name__}: {error}") from None
        if dtype is None and arr.dtype == np.float64:
            arr = arr.astype(np.float32)
    if arr.dtype.kind not in _SUPPORTED_KINDS:
        raise TypeError(f"tensor: unsupported dtype {arr.dtype}; use bool, integer or float data")
    return arr


def shape_from(shape):
    """Accept both ``f(2, 3)`` and ``f((2, 3))``, as PyTorch factories do."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(isinstance(n, (int, np.integer)) and n >= 0 for n in shape):
        raise ValueError(f"shape must be non-negative ints, got {shape}")
    return tuple(int(n) for n in shape)


def sizes_from(sizes):
    """``f(2, 3)`` or ``f((2, 3))`` as a tuple of ints (which may be negative, like -1)."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in sizes):
        raise TypeError(f"sizes must be ints, got {sizes}")
    return tuple(int(n) for n in sizes)


def full(shape, fill_value, dtype=None):
    """An array of ``shape`` filled with ``fill_value`` (float32 for a float, as PyTorch)."""
    return np.full(shape_from((shape,)), fill_value, dtype=as_array(fill_value, dtype).dtype)


def randn(shape, dtype):
    """Samples of the standard normal distribution."""
    return _rng.standard_normal(shape_from(shape)).astype(dtype)


def rand(shape, dtype):
    """Samples uniform on [0, 1)."""
    return _rng.random(shape_from(shape)).astype(dtype)


def uniform(shape, low, high, dtype):
    """Samples uniform on [low, high)."""
    if not low <= high:
        raise ValueError(f"uniform: low ({low}) must not exceed high ({high})")
    return _rng.uniform(low, high, shape_from(shape)).astype(dtype)


def arange(start, stop, step, dtype):
    """Evenly spaced values in [start, stop); int64 for ints, float32 otherwise, as PyTorch."""
    if step == 0:
        raise ValueError("arange: step must not be 0")
    if stop is None:
        start, stop = 0, start
    data = np.arange(start, stop, step)
    if dtype is None and data.dtype.kind == "f":
        dtype = np.float32
    return as_array(data, dtype)
