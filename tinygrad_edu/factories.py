"""Making tensors: from data (the dtype rules), and the factories Tensor.zeros, ones, randn, ...

dtype rules: a numpy array keeps its dtype (float64 stays float64); Python floats and the
factories default to float32, Python ints to int64, as in PyTorch.

Every random factory (and so every ``nn`` initialisation and ``Dropout``) draws from one
generator, seeded by ``tg.manual_seed``.
"""

import numpy as np

_SUPPORTED_KINDS = "biuf"  # bool, signed and unsigned ints, floats
_rng = np.random.default_rng()   # replaced by manual_seed


def manual_seed(seed):
    """Seed the generator behind every random factory, nn init and Dropout."""
    global _rng
    _rng = np.random.default_rng(seed)


def _as_array(data, dtype=None):
    """Turn Tensor/array/Python data into an ndarray following the dtype rules above."""
    if isinstance(data, Factories):   # a Tensor (Factories is one of its base classes)
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


def _shape_from(shape):
    """Accept both ``f(2, 3)`` and ``f((2, 3))``, as PyTorch factories do."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(isinstance(n, (int, np.integer)) and n >= 0 for n in shape):
        raise ValueError(f"shape must be non-negative ints, got {shape}")
    return tuple(int(n) for n in shape)


def get_rng_state():
    """The state of the generator behind every random factory (for ``set_rng_state``)."""
    return _rng.bit_generator.state


def set_rng_state(state):
    """Put the generator back in a state returned by ``get_rng_state``."""
    _rng.bit_generator.state = state


def _tensor(data, requires_grad, dtype=None, name=None):
    from .tensor import Tensor   # tensor.py builds on this module: import when first called
    return Tensor(data, requires_grad, dtype=dtype, name=name)


class Factories:
    """The factories of ``Tensor`` (``Tensor.zeros(2, 3)``, ``Tensor.randn(...)``, ...).

    A base class of ``Tensor``, so that tensor.py stays about the Tensor itself.
    """

    __slots__ = ()   # Tensor keeps to its own slots: no per-tensor __dict__

    @staticmethod
    def zeros(*shape, dtype=np.float32, requires_grad=False, name=None):
        return _tensor(np.zeros(_shape_from(shape), dtype=dtype), requires_grad, name=name)

    @staticmethod
    def ones(*shape, dtype=np.float32, requires_grad=False, name=None):
        return _tensor(np.ones(_shape_from(shape), dtype=dtype), requires_grad, name=name)

    @staticmethod
    def full(shape, fill_value, dtype=None, requires_grad=False, name=None):
        """A tensor of ``shape`` filled with ``fill_value`` (float32 for a float, as PyTorch)."""
        shape = _shape_from((shape,))
        data = np.full(shape, fill_value, dtype=_as_array(fill_value, dtype).dtype)
        return _tensor(data, requires_grad, name=name)

    @staticmethod
    def randn(*shape, dtype=np.float32, requires_grad=False, name=None):
        """Samples of the standard normal distribution (seeded by ``tg.manual_seed``)."""
        data = _rng.standard_normal(_shape_from(shape)).astype(dtype)
        return _tensor(data, requires_grad, name=name)

    @staticmethod
    def rand(*shape, dtype=np.float32, requires_grad=False, name=None):
        """Samples uniform on [0, 1) (seeded by ``tg.manual_seed``)."""
        return _tensor(_rng.random(_shape_from(shape)).astype(dtype), requires_grad, name=name)

    @staticmethod
    def uniform(*shape, low=0.0, high=1.0, dtype=np.float32, requires_grad=False, name=None):
        """Samples uniform on [low, high) (seeded by ``tg.manual_seed``)."""
        if not low <= high:
            raise ValueError(f"uniform: low ({low}) must not exceed high ({high})")
        data = _rng.uniform(low, high, _shape_from(shape)).astype(dtype)
        return _tensor(data, requires_grad, name=name)

    @staticmethod
    def eye(n, m=None, dtype=np.float32, requires_grad=False, name=None):
        """The identity matrix of shape (n, m), m defaulting to n."""
        return _tensor(np.eye(n, m, dtype=dtype), requires_grad, name=name)

    @staticmethod
    def arange(start, stop=None, step=1, dtype=None, requires_grad=False, name=None):
        """Evenly spaced values in [start, stop); int64 for ints, float32 otherwise, as PyTorch."""
        if step == 0:
            raise ValueError("arange: step must not be 0")
        if stop is None:
            start, stop = 0, start
        data = np.arange(start, stop, step)
        if dtype is None and data.dtype.kind == "f":
            dtype = np.float32
        return _tensor(data, requires_grad, dtype=dtype, name=name)

    @staticmethod
    def zeros_like(t, dtype=None, requires_grad=False, name=None):
        return _tensor(np.zeros_like(_as_array(t), dtype=dtype), requires_grad, name=name)

    @staticmethod
    def ones_like(t, dtype=None, requires_grad=False, name=None):
        return _tensor(np.ones_like(_as_array(t), dtype=dtype), requires_grad, name=name)
