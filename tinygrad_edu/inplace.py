"""In-place operations: ``x += 1``, ``x.add_(y)``, ``x.zero_()``, ``x[idx] = v``, ...

They change the tensor's own memory, so every alias sees the change (``.data``,
``.detach()``, and views made by slicing, ``reshape`` or ``transpose``), as in PyTorch. What
happens to the graph depends on the situation:

- nothing needs recording (inside ``no_grad()``, or neither the tensor nor the value
  requires grad): a plain update of the values. This is how an update step is written:
  ``with tg.no_grad(): p -= lr * p.grad``;
- the tensor is a leaf that requires grad (a parameter) and the graph is being recorded:
  an error, since its value is what the gradients are computed for;
- otherwise the update is recorded like any op. The tensor's history now ends in that op,
  whose input is a copy of the values the tensor had before. A view passes the change on
  to the tensor it views (``x[0] += w`` changes ``x``'s history too).

Every write is noted in ``versions``: an op recorded earlier that saved these values for
its backward refuses to run on the changed ones, naming the line that changed them.
"""

import numpy as np

from . import autograd
from . import ops
from . import versions
from .autograd import TensorBase, apply
from .checks import broadcasts_to
from .factories import as_array


def update(target, name, compute, *operands, plain=None):
    """Set ``target`` to ``compute(target, *operands)`` in place and return ``target``.

    ``compute`` is written in Tensor operations (out of place); when nothing is recorded,
    ``plain(array, *operand_arrays)`` (if given) does the same directly on the arrays.
    """
    recording = autograd.state.enabled and (target._requires_grad or any(
        isinstance(o, TensorBase) and o._requires_grad for o in operands))
    if not recording:
        if plain is not None:
            _check_writeable(target, name)
            versions.note_write(target._data)
            arrays = [o._data if isinstance(o, TensorBase) else o for o in operands]
            try:
                plain(target._data, *arrays)
            except ValueError as error:   # numpy: the result does not fit the tensor's shape
                raise ValueError(_shape_message(name, target, operands, error)) from None
            except TypeError as error:    # numpy: the result's dtype does not fit
                raise TypeError(_dtype_message(name, target, str(error))) from None
            return target
        with autograd.no_grad():
            value = compute(target, *operands)
        _store(target, value, name, operands)
        return target
    if target._op is None and target._requires_grad:
        raise RuntimeError(
            f"{name}: this tensor is a leaf that requires grad (a parameter, or an input you "
            "asked gradients for), and it cannot be changed in place while the graph is "
            "recorded: its value is what the gradients are computed for. For an update step, "
            "do it inside `with tg.no_grad():` (p -= lr * p.grad); for a new value in the "
            "graph, make a new tensor instead (x = x + 1 rather than x += 1)")
    # the values and history the tensor had before, for the new op's input (a copy: the
    # op may save it, and the tensor's memory is about to change)
    before = TensorBase._wrap(target._data.copy(), target._requires_grad)
    before._op, before.name = target._op, target.name
    before._previous = getattr(target, "_previous", None)
    if target._op is not None:
        before._seq = target._seq
    value = compute(before, *operands)
    _store(target, value, name, operands)
    target._op, target._requires_grad = value._op, value._requires_grad
    if value._op is not None:
        target._seq = value._seq
        # ops recorded earlier point at this same Tensor object: backward sends their
        # gradients into the old history (versions.version_used_by)
        target._previous = (value._seq, before)
    if target._base is not None:   # a view: the tensor it views changes with it
        base, rebuild = target._base
        rebuild(base, target)
    return target


def _store(target, value, name, operands):
    """Copy ``value``'s array into ``target``'s memory, checking shape and dtype first."""
    array = value._data
    if array.shape != target._data.shape:
        raise ValueError(_shape_message(name, target, operands, None, array.shape))
    if not np.can_cast(array.dtype, target._data.dtype, casting="same_kind"):
        raise TypeError(_dtype_message(name, target, f"the result is {array.dtype}"))
    _check_writeable(target, name)
    versions.note_write(target._data)
    target._data[...] = array


def _check_writeable(target, name):
    if not target._data.flags.writeable:
        raise RuntimeError(f"{name}: this tensor's memory is read-only (a broadcast view, a "
                           "shared constant, or a graph's released buffer); change a copy "
                           "instead: x = x.clone()")


def _shape_message(name, target, operands, error, shape=None):
    shapes = ", ".join(str(o.shape) for o in operands if hasattr(o, "shape"))
    result = f"the result would have shape {shape}" if shape is not None else (
        "the operands broadcast to a larger shape")
    return (f"{name}: {result}, but an in-place op must keep the tensor's own shape "
            f"{target.shape} (operand shapes: {shapes or 'none'}); write it out of place, "
            "x = x + y, to get the broadcast shape")


def _dtype_message(name, target, detail):
    return (f"{name}: the tensor is {target.dtype} and cannot hold the result ({detail}), as "
            f"in PyTorch; write it out of place (x = x + 0.5) or convert first (x = x.float())")


# ----- views: what a change to a view does to the tensor it views -------------------------

def set_view(view, base, rebuild):
    """Remember that ``view`` shares ``base``'s memory; ``rebuild(base, view)`` records,
    after a recorded in-place change of ``view``, the same change in ``base``'s history."""
    if view._data.base is not None and np.may_share_memory(view._data, base._data):
        view._base = (base, rebuild)
    return view


def rebuild_from_index(index):
    def rebuild(base, view):
        base[index] = view
    return rebuild


def rebuild_from_reshape(base, view):
    base.copy_(view.reshape(base.shape))


def rebuild_from_axes(axes):
    def rebuild(base, view):
        base.copy_(view.permute(tuple(np.argsort(axes))))
    return rebuild


# ----- the computations behind the in-place methods -----------------------------------------

def _scaled(other, alpha):
    return other if alpha == 1 else other * alpha


def add(target, other, alpha=1, name="add_"):
    other = target._operand(other)
    return update(target, name, lambda t, o: t + _scaled(o, alpha), other,
                  plain=lambda a, o: np.add(a, o if alpha == 1 else o * alpha, out=a,
                                            casting="same_kind"))


def sub(target, other, alpha=1, name="sub_"):
    other = target._operand(other)
    return update(target, name, lambda t, o: t - _scaled(o, alpha), other,
                  plain=lambda a, o: np.subtract(a, o if alpha == 1 else o * alpha, out=a,
                                                 casting="same_kind"))


def mul(target, other, name="mul_"):
    other = target._operand(other)
    return update(target, name, lambda t, o: t * o, other,
                  plain=lambda a, o: np.multiply(a, o, out=a, casting="same_kind"))


def div(target, other, name="div_"):
    other = target._operand(other)
    return update(target, name, lambda t, o: t / o, other)


def pow(target, exponent, name="pow_"):
    exponent = target._operand(exponent)
    return update(target, name, lambda t, e: t ** e, exponent)


def unary(target, name, method):
    """An elementwise op of one input applied in place: ``exp_``, ``relu_``, ``neg_``, ..."""
    return update(target, name, lambda t: getattr(t, method)())


def clamp(target, min=None, max=None):
    return update(target, "clamp_", lambda t: t.clip(min, max))


def fill(target, value, name="fill_"):
    """Every element set to ``value`` (a number or a one-element tensor)."""
    value = target._operand(value)
    if value._data.size != 1:
        raise ValueError(f"{name}: takes one number, got a tensor of shape {value.shape}")
    return update(target, name, _replace, value.reshape(()),
                  plain=lambda a, v: a.__setitem__(Ellipsis, v))


def copy(target, source):
    """``target``'s values replaced by ``source``'s (broadcast to target's shape)."""
    source = source if isinstance(source, TensorBase) else TensorBase._wrap(as_array(source))
    if not broadcasts_to(source.shape, target.shape):
        raise ValueError(f"copy_: the source of shape {source.shape} does not broadcast to "
                         f"the tensor's shape {target.shape}")
    return update(target, "copy_", _replace, source,
                  plain=lambda a, s: np.copyto(a, s, casting="unsafe"))


def _replace(t, value):
    """``value`` in the shape and dtype of ``t``, recorded with no path back to ``t``."""
    if t.dtype.kind == "f" and value.dtype != t.dtype:
        value = value.to(t.dtype)
    # where(False, t, value): the value everywhere; t gets a gradient of 0, not NaN
    return apply(ops.Where, TensorBase._wrap(np.zeros(t.shape, dtype=bool)), t, value)


def setitem(target, index, value):
    """``target[index] = value``: the selected elements replaced, the rest kept."""
    value = target._operand(value)

    def plain(array, v):
        try:
            array[index] = v
        except IndexError as error:
            raise IndexError(f"setitem: {error} (tensor shape {target.shape})") from None

    def compute(t, v):
        try:
            return apply(ops.SetItem, t, v, index=index)
        except IndexError as error:
            raise IndexError(f"setitem: {error} (tensor shape {target.shape})") from None

    return update(target, "setitem", compute, value, plain=plain)
