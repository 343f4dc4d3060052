"""numpy functions applied to Tensors return Tensors that carry gradients.

numpy lets other array types take over its functions: a ufunc such as ``np.exp`` calls
``Tensor.__array_ufunc__``, and most other functions (``np.dot``, ``np.sum``, ``np.where``,
...) call ``Tensor.__array_function__``. Both land here and are translated into Tensor
operations, so a learner's unchanged numpy forward pass builds a graph::

    def forward(W1, b1, W2, b2):              # written for numpy arrays
        h = np.maximum(0, np.dot(X, W1) + b1)
        return np.mean((np.dot(h, W2) + b2 - y) ** 2)

    forward(*[Tensor(p, requires_grad=True) for p in params]).backward()

The tables below only translate names; no derivative is written here (they all live in
``ops.py``). A numpy function that is not in the tables raises a TypeError naming it, rather
than silently turning the Tensor into an array and dropping the graph.
"""

import numpy as np

from . import autograd
from . import versions
from .autograd import TensorBase


def _tensors(values):
    """Turn the non-Tensor operands into Tensors, Python numbers taking a Tensor's dtype."""
    ref = next(v for v in values if isinstance(v, TensorBase))
    return [v if isinstance(v, TensorBase) else ref._operand(v) for v in values]


def _cat(tensors, axis):
    return tensors[0].cat(tensors, axis=axis)   # Tensor.cat, a static method


def _data(value):
    return value._data if isinstance(value, TensorBase) else value


# ufunc -> Tensor operation; all differentiable
DIFFERENTIABLE_UFUNCS = {
    np.add: lambda x, y: x + y,
    np.subtract: lambda x, y: x - y,
    np.multiply: lambda x, y: x * y,
    np.true_divide: lambda x, y: x / y,
    np.power: lambda x, y: x ** y,
    np.float_power: lambda x, y: x.double() ** y.double(),
    np.matmul: lambda x, y: x.matmul(y),
    np.maximum: lambda x, y: x.maximum(y),
    np.minimum: lambda x, y: x.minimum(y),
    np.fmax: lambda x, y: x.maximum(y),
    np.fmin: lambda x, y: x.minimum(y),
    np.negative: lambda x: -x,
    np.positive: lambda x: x,
    np.exp: lambda x: x.exp(),
    np.expm1: lambda x: x.expm1(),
    np.exp2: lambda x: (x * np.log(2.0)).exp(),
    np.log: lambda x: x.log(),
    np.log1p: lambda x: x.log1p(),
    np.log2: lambda x: x.log() / np.log(2.0),
    np.log10: lambda x: x.log() / np.log(10.0),
    np.sqrt: lambda x: x.sqrt(),
    np.square: lambda x: x * x,
    np.reciprocal: lambda x: 1 / x,
    np.absolute: lambda x: x.abs(),
    np.sin: lambda x: x.sin(),
    np.cos: lambda x: x.cos(),
    np.tan: lambda x: x.tan(),
    np.arcsin: lambda x: x.asin(),
    np.arccos: lambda x: x.acos(),
    np.sinh: lambda x: x.sinh(),
    np.cosh: lambda x: x.cosh(),
    np.arcsinh: lambda x: x.asinh(),
    np.arccosh: lambda x: x.acosh(),
    np.arctanh: lambda x: x.atanh(),
    np.tanh: lambda x: x.tanh(),
    np.remainder: lambda x, y: x % y,
    np.arctan2: lambda y, x: y.atan2(x),
    np.copysign: lambda x, y: x.copysign(y),
}

# ufuncs whose result is piecewise constant (or boolean): computed on the values, no gradient
CONSTANT_UFUNCS = (
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
    np.isnan, np.isinf, np.isfinite, np.sign, np.floor, np.ceil, np.rint, np.trunc,
    np.floor_divide, np.signbit,
)


def array_ufunc(ufunc, method, inputs, kwargs):
    """Handle ``np.<ufunc>(...)`` when one of the operands is a Tensor."""
    name = f"numpy.{ufunc.__name__}"
    if method != "__call__":
        raise TypeError(f"{name}.{method} is not supported on Tensors; use the Tensor method "
                        f"(e.g. t.sum(axis=...) instead of np.add.reduce)")
    if set(kwargs) == {"out"}:
        return _into(ufunc, inputs, kwargs["out"], name)
    if kwargs:
        raise TypeError(f"{name} on Tensors does not take {', '.join(sorted(kwargs))}=; "
                        "call it without them (results are always new Tensors)")
    if ufunc in DIFFERENTIABLE_UFUNCS:
        return DIFFERENTIABLE_UFUNCS[ufunc](*_tensors(inputs))
    if ufunc in CONSTANT_UFUNCS:
        return TensorBase._wrap(np.asarray(ufunc(*[_data(v) for v in inputs])))
    raise TypeError(f"{name} is not supported on Tensors, since it would drop the graph. "
                    f"Supported ufuncs: {_names(DIFFERENTIABLE_UFUNCS)}; use t.numpy() if "
                    "you only need the values")


def _into(ufunc, inputs, out, name):
    """``np.subtract(W, lr * dW, out=W)`` (what ``W -= lr * dW`` runs) with a Tensor among
    the operands: a plain in-place update of the values when nothing needs recording."""
    recording = autograd.is_grad_enabled() and any(
        isinstance(v, TensorBase) and v.requires_grad for v in inputs + tuple(out))
    if recording:
        raise TypeError(f"{name}(..., out=...) would write the result outside the graph, "
                        "and a tensor involved requires grad: write it as a new value "
                        "(W = W - lr * dW), or do the update inside `with tg.no_grad():`")
    arrays = [_data(v) for v in out]
    for array in arrays:
        if isinstance(array, np.ndarray):
            versions.note_write(array)
    result = ufunc(*[_data(v) for v in inputs], out=tuple(arrays))
    return out[0] if len(out) == 1 else out if result is not None else None


def _names(table):
    return ", ".join(sorted(f.__name__ for f in table))


def _no_extras(name, **extras):
    """Reject numpy keyword arguments that have no meaning for Tensors (dtype=, out=, ...)."""
    given = sorted(k for k, v in extras.items() if v is not None)
    if given:
        raise TypeError(f"numpy.{name} on Tensors does not take {', '.join(given)}=")


def _dot(a, b, out=None):
    _no_extras("dot", out=out)
    a, b = _tensors([a, b])
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.ndim > 2 or b.ndim > 2:
        raise TypeError(f"numpy.dot on Tensors supports up to 2-D operands, got shapes {a.shape} "
                        f"and {b.shape}; use @ (matmul) for stacks of matrices")
    return a @ b


def _reduction(method, name):
    def reduce(a, axis=None, dtype=None, out=None, keepdims=False, **extras):
        _no_extras(name, dtype=dtype, out=out, **extras)
        a = _tensors([a])[0]
        if isinstance(axis, tuple) and not axis:   # numpy: reduce over no axis at all
            return a.clone() if method != "mean" or a.dtype.kind == "f" else a.float()
        return getattr(a, method)(axis=axis, keepdims=keepdims)
    return reduce


def _var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **extras):
    _no_extras("var", dtype=dtype, out=out, **extras)
    return _tensors([a])[0].var(axis=axis, keepdims=keepdims, correction=ddof)


def _std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **extras):
    _no_extras("std", dtype=dtype, out=out, **extras)
    return _tensors([a])[0].std(axis=axis, keepdims=keepdims, correction=ddof)


def _where(condition, x=None, y=None):
    if x is None and y is None:
        return np.nonzero(_data(condition))
    x, y = _tensors([x, y])
    return x.where(condition, y)


def _clip(a, a_min=None, a_max=None, out=None, **extras):
    _no_extras("clip", out=out, **extras)
    return _tensors([a])[0].clip(_data(a_min), _data(a_max))


def _outer(a, b, out=None):
    _no_extras("outer", out=out)
    a, b = _tensors([a, b])
    return a.reshape(-1, 1) * b.reshape(1, -1)


def _concatenate(arrays, axis=0, out=None, **extras):
    _no_extras("concatenate", out=out, **extras)
    if axis is None:
        return _cat([t.reshape(-1) for t in _tensors(list(arrays))], axis=0)
    return _cat(_tensors(list(arrays)), axis=axis)


def _stack(arrays, axis=0, out=None, **extras):
    _no_extras("stack", out=out, **extras)
    tensors = _tensors(list(arrays))
    return tensors[0].stack(tensors, axis=axis)


def _vstack(tup, **extras):
    _no_extras("vstack", **extras)
    tensors = [t if t.ndim >= 2 else t.reshape(1, -1) for t in _tensors(list(tup))]
    return _cat(tensors, axis=0)


def _hstack(tup, **extras):
    _no_extras("hstack", **extras)
    tensors = _tensors(list(tup))
    return _cat(tensors, axis=0 if tensors[0].ndim == 1 else 1)


def _transpose(a, axes=None):
    a = _tensors([a])[0]
    return a.T if axes is None else a.permute(axes)


def _reshape(a, *args, **kwargs):
    shape = args[0] if args else kwargs.pop("shape", kwargs.pop("newshape", None))
    _no_extras("reshape", **{k: v for k, v in kwargs.items() if k != "order" or v != "C"})
    return _tensors([a])[0].reshape(shape)


def _ravel(a, order="C"):
    _no_extras("ravel", order=None if order == "C" else order)
    return _tensors([a])[0].reshape(-1)


def _squeeze(a, axis=None):
    a = _tensors([a])[0]
    if axis is None or isinstance(axis, (int, np.integer)):
        return a.squeeze(axis)
    for ax in sorted((ax % a.ndim for ax in axis), reverse=True):
        a = a.squeeze(ax)
    return a


def _expand_dims(a, axis):
    a = _tensors([a])[0]
    return a.unsqueeze(axis) if isinstance(axis, (int, np.integer)) else a.reshape(
        np.expand_dims(a._data, axis).shape)


def _broadcast_to(array, shape, subok=False):
    # copying along the new axes is the same as adding zeros of the target shape, which
    # records an Add whose backward sums the copies back up
    array = _tensors([array])[0]
    return array + np.zeros(shape, dtype=array.dtype)


def _swapaxes(a, axis1, axis2):
    return _tensors([a])[0].transpose(axis1, axis2)


def _linalg_norm(x, ord=None, axis=None, keepdims=False):
    _no_extras("linalg.norm", ord=ord)
    x = _tensors([x])[0]
    return (x * x).sum(axis=axis, keepdims=keepdims).sqrt()


def _values_only(func):
    """For functions whose result has no gradient (argmax, shape, ...): run them on the values."""
    def run(*args, **kwargs):
        args = [_data(a) for a in args]
        kwargs = {k: _data(v) for k, v in kwargs.items()}
        return func(*args, **kwargs)
    return run


FUNCTIONS = {
    np.dot: _dot,
    np.sum: _reduction("sum", "sum"),
    np.mean: _reduction("mean", "mean"),
    np.max: _reduction("amax", "max"),
    np.min: _reduction("amin", "min"),
    np.var: _var,
    np.std: _std,
    np.where: _where,
    np.clip: _clip,
    np.outer: _outer,
    np.concatenate: _concatenate,
    np.stack: _stack,
    np.vstack: _vstack,
    np.hstack: _hstack,
    np.transpose: _transpose,
    np.reshape: _reshape,
    np.ravel: _ravel,
    np.squeeze: _squeeze,
    np.expand_dims: _expand_dims,
    np.linalg.norm: _linalg_norm,
    np.broadcast_to: _broadcast_to,
    np.swapaxes: _swapaxes,
}
FUNCTIONS[np.amax] = FUNCTIONS[np.max]  # numpy's older names for max and min
FUNCTIONS[np.amin] = FUNCTIONS[np.min]

# results without gradient: indices, shapes, fresh constant arrays the user may fill in
VALUES_ONLY = (np.argmax, np.argmin, np.argsort, np.shape, np.ndim, np.size, np.zeros_like,
               np.ones_like, np.full_like, np.empty_like, np.allclose, np.isclose,
               np.array_equal, np.nonzero, np.count_nonzero, np.round, np.any, np.all)


def array_function(func, args, kwargs):
    """Handle ``np.<function>(...)`` when one of the arguments is a Tensor."""
    if func in FUNCTIONS:
        return FUNCTIONS[func](*args, **kwargs)
    if func in VALUES_ONLY:
        return _values_only(func)(*args, **kwargs)
    raise TypeError(
        f"numpy.{func.__name__} is not supported on Tensors, since it would drop the graph. "
        f"Use a Tensor method instead (t.sum(), t.reshape(), Tensor.cat, ...), or t.numpy() "
        f"if you only need the values. numpy functions that work on Tensors: "
        f"{', '.join(sorted(f.__name__ for f in FUNCTIONS))} and the math ufuncs "
        f"({_names(DIFFERENTIABLE_UFUNCS)})")
