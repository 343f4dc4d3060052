"""Making the arrays behind new tensors: the dtype rules, and the values of the factories.

dtype rules: a numpy array keeps its dtype (float64 stays float64); Python floats and the
factories default to float32, Python ints to int64, as in PyTorch.

Every random factory (and so every ``nn`` initialisation and ``Dropout``) draws from one
generator, seeded by ``tg.manual_seed``. ``Tensor.zeros``, ``Tensor.randn``, ... (tensor.py)
wrap the arrays made here.
"""

import numpy as np

from .autograd import TensorBase
from .generator import Generator

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


# ----- operands: Python numbers and mixed dtypes, as PyTorch combines them ----------------

FLOAT32 = np.dtype(np.float32)
_constants = {}   # (type, value, dtype) -> 0-d constant Tensor; see constant


def constant(value, dtype):
    """A Python number as a 0-d Tensor of ``dtype``, shared by every op that uses it.

    ``x * 0.5`` in a training loop would otherwise make a new constant tensor on every
    step. Constants never require grad and nothing writes to them, so sharing is safe; the
    cache is emptied when it grows past 512 entries (a loop over changing numbers).
    """
    key = (type(value), value, dtype)
    shared = _constants.get(key)
    if shared is None:
        if len(_constants) >= 512:
            _constants.clear()
        array = np.array(value, dtype=dtype)
        array.flags.writeable = False
        shared = _constants[key] = TensorBase._wrap(array)
    return shared


def promote(x, y):
    """Operands of different dtypes, made alike as PyTorch does (numpy's rules differ).

    Mixed int/float: the integer one takes the float dtype (numpy: int64 with float32 gives
    float64). Same kind, one of them 0-d: the 0-d one takes the other's dtype, as a Python
    number would (float32 * a 0-d float64 stays float32). Otherwise numpy's promotion.
    """
    x_float, y_float = x._data.dtype.kind == "f", y._data.dtype.kind == "f"
    if x_float and not y_float:
        return x, y._cast(x._data.dtype)
    if y_float and not x_float:
        return x._cast(y._data.dtype), y
    if x._data.dtype.kind == y._data.dtype.kind and (x._data.ndim == 0) != (y._data.ndim == 0):
        if x._data.ndim == 0:
            return x._cast(y._data.dtype), y
        return x, y._cast(x._data.dtype)
    return x, y


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


def rng_of(generator, op="random"):
    """The numpy generator to draw from: a ``tg.Generator``'s own, or the shared one."""
    if generator is None:
        return _rng
    if not isinstance(generator, Generator):
        raise TypeError(f"{op}: generator must be a tg.Generator, got "
                        f"{type(generator).__name__}")
    return generator.rng


def randn(shape, dtype, generator=None):
    """Samples of the standard normal distribution."""
    return rng_of(generator, "randn").standard_normal(shape_from(shape)).astype(dtype)


def rand(shape, dtype, generator=None):
    """Samples uniform on [0, 1)."""
    return rng_of(generator, "rand").random(shape_from(shape)).astype(dtype)


def uniform(shape, low, high, dtype, generator=None):
    """Samples uniform on [low, high)."""
    if not low <= high:
        raise ValueError(f"uniform: low ({low}) must not exceed high ({high})")
    return rng_of(generator, "uniform").uniform(low, high, shape_from(shape)).astype(dtype)


def randint(low, high, shape, dtype, generator=None):
    """Integers uniform on [low, high) (int64 by default, as PyTorch)."""
    if not low < high:
        raise ValueError(f"randint: low ({low}) must be smaller than high ({high}); the "
                         "values are drawn from [low, high)")
    values = rng_of(generator, "randint").integers(low, high, shape_from(shape))
    return values.astype(np.int64 if dtype is None else dtype)


def randperm(n, dtype, generator=None):
    """0, 1, ..., n - 1 in random order."""
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative int, got {n!r}")
    return rng_of(generator, "randperm").permutation(int(n)).astype(dtype)


def normal(mean, std, shape, generator=None):
    """Samples of N(mean, std^2); mean and std are numbers or arrays that broadcast."""
    if np.any(np.asarray(std) < 0):
        raise ValueError(f"normal: std must not be negative, got {std}")
    return rng_of(generator, "normal").normal(mean, std, shape)


def bernoulli(p, generator=None):
    """1 with probability p, else 0, elementwise; in p's (floating) dtype."""
    if p.size and (np.nanmin(p) < 0 or np.nanmax(p) > 1 or np.isnan(p).any()):
        raise ValueError(f"bernoulli: probabilities must lie in [0, 1], got values from "
                         f"{np.nanmin(p)} to {np.nanmax(p)}")
    return (rng_of(generator, "bernoulli").random(p.shape) < p).astype(p.dtype)


def multinomial(weights, num_samples, replacement, generator=None):
    """Indices drawn with probability proportional to ``weights`` (one row, or one draw
    per row of a matrix): int64 of shape (num_samples,) or (rows, num_samples)."""
    if weights.ndim not in (1, 2):
        raise ValueError(f"multinomial: weights must be a vector or a matrix, got shape "
                         f"{weights.shape}")
    rows = weights.reshape(-1, weights.shape[-1]).astype(np.float64)
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise ValueError("multinomial: weights must be finite and non-negative")
    rng = rng_of(generator, "multinomial")
    drawn = []
    for row in rows:
        total, nonzero = row.sum(), int((row > 0).sum())
        if total <= 0:
            raise ValueError("multinomial: a row of weights sums to 0; at least one weight "
                             "must be positive")
        if not replacement and num_samples > nonzero:
            raise ValueError(f"multinomial: cannot draw {num_samples} samples without "
                             f"replacement from {nonzero} categories with nonzero weight; "
                             "pass replacement=True")
        drawn.append(rng.choice(len(row), num_samples, replace=replacement, p=row / total))
    out = np.array(drawn, dtype=np.int64).reshape(rows.shape[0], num_samples)
    return out[0] if weights.ndim == 1 else out


def linspace(start, end, steps, dtype):
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}")
    return np.linspace(start, end, int(steps)).astype(np.float32 if dtype is None else dtype)


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
