"""The Tensor: a numpy array that remembers how it was computed.

Primitive methods (``exp``, ``__mul__``, ``sum``, ...) are one-liners that apply an op from
``ops.py``; composite methods (``sigmoid`` aside, which is a primitive for stability:
``softmax``, ``mean``, ``var``, ``logsumexp``, ...) are written in primitives and have no
backward of their own.

dtype rules: a numpy array keeps its dtype (float64 stays float64); Python floats and the
factories default to float32, Python ints to int64, as in PyTorch. Only floating tensors can
require grad. A Python number combined with a tensor takes the tensor's dtype.
"""

import numpy as np

from . import autograd
from . import composites
from . import devices
from . import dtypes
from . import factories
from . import inplace
from . import interop
from . import ops
from . import versions
from .autograd import TensorBase, apply, state
from .checks import first_bad_label, normalize_axis, pick_axis
from .composites import MaxResult

class RemovableHandle:
    """Returned by ``register_hook``: ``handle.remove()`` takes the hook off again."""

    _next_id = 0

    def __init__(self, hooks):
        self.hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self):
        self.hooks.pop(self.id, None)


_FLOAT32 = np.dtype(np.float32)
_LEAVES_GRAPH = (
    "{call}: this tensor requires grad, and the result would be a plain number or array, "
    "cut off from the graph, so its gradient would be lost without a sign. Keep it a Tensor: "
    "np.dot(X, t) or X @ t instead of X.dot(t), tg.stack([...]) or tg.cat instead of "
    "np.array([...]) / np.c_, np.log(t) or t.log() instead of math.log(t). If you only want "
    "the values, say so: t.detach().numpy() or t.item()")
_constants = {}   # (type, value, dtype) -> 0-d constant Tensor; see _constant


def _constant(value, dtype):
    """A Python number as a 0-d Tensor of ``dtype``, shared by every op that uses it.

    ``x * 0.5`` in a training loop would otherwise make a new constant tensor on every
    step. Constants never require grad and nothing writes to them, so sharing is safe; the
    cache is emptied when it grows past 512 entries (a loop over changing numbers).
    """
    key = (type(value), value, dtype)
    constant = _constants.get(key)
    if constant is None:
        if len(_constants) >= 512:
            _constants.clear()
        array = np.array(value, dtype=dtype)
        array.flags.writeable = False
        constant = _constants[key] = TensorBase._wrap(array)
    return constant


def _promote(x, y):
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


class Tensor(TensorBase):
    """An n-dimensional array with reverse-mode automatic differentiation.

    ``Tensor(data, requires_grad=False, dtype=None, name=None)``: ``data`` is a numpy array
    (used as is, without a copy, when the dtype already matches), a Python number or nested
    list, or another Tensor. Operations on tensors that require grad record a graph, and
    ``backward()`` fills ``.grad`` of the leaves::

        w = Tensor([[1.0, 2.0]], requires_grad=True)
        (w * w).sum().backward()
        w.grad          # tensor([[2., 4.]])

    dtypes follow ``tg.tensor`` (PyTorch's ``torch.tensor``): a numpy array keeps its dtype,
    Python floats give float32 and Python ints int64, so ``Tensor([0, 2, 1])`` holds integer
    labels. (PyTorch's legacy ``torch.Tensor([1, 2])`` gives float32: write
    ``tg.FloatTensor([1, 2])`` or ``Tensor([1.0, 2.0])`` for that.) As in PyTorch,
    ``Tensor(2, 3)`` (two or more ints) is a float32 tensor of that shape, of zeros, and
    ``Tensor()`` an empty one; a single int is a 0-d tensor (PyTorch: shape (n,)).
    """

    __slots__ = ()   # the slots are TensorBase's (autograd.py): what the engine works with

    def __init__(self, data=(), requires_grad=False, dtype=None, name=None, *more_sizes):
        if type(data) is int and type(requires_grad) is int:   # Tensor(2, 3): PyTorch's
            # legacy constructor, a shape (type(...) is int: True and False are not ints here)
            data = np.zeros(_legacy_shape(data, requires_grad, dtype, name, more_sizes),
                            np.float32)
            requires_grad, dtype, name = False, None, None
        elif type(data) is tuple and not data:   # Tensor(): PyTorch's empty float32 tensor
            data = np.zeros(0, np.float32)
        self._data = factories.as_array(data, dtype)
        self.grad = None
        self._requires_grad = False
        self.name = name
        self._op = None
        self._retains_grad = False
        self._hooks = None
        self._base = None   # (tensor, rebuild) for a view of another tensor's memory
        if requires_grad:
            self.requires_grad_(True)

    # ----- basic properties --------------------------------------------------------------

    @property
    def shape(self):
        return self._data.shape

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        """Number of axes (PyTorch's name for ``ndim``)."""
        return self._data.ndim

    def size(self, dim=None):
        """The shape (PyTorch's ``size()``), or the length of axis ``dim``."""
        return self._data.shape if dim is None else self._data.shape[dim]

    def numel(self):
        """Number of elements."""
        return self._data.size

    @property
    def is_leaf(self):
        """True for tensors not made by a recorded op (inputs, parameters, detached values)."""
        return self._op is None

    @property
    def grad_fn(self):
        """The op that made this tensor (None for leaves), as in PyTorch."""
        return self._op

    def numpy(self):
        """The values as a numpy array (shared, not copied: changing one changes the other).

        Unlike PyTorch, this works on a tensor that requires grad too: asking for the values
        by name is explicit. The array is outside the graph; for code that should keep the
        gradient, use Tensor operations or numpy functions on the Tensor itself.
        """
        return self._data

    @property
    def data(self):
        """The values as a new Tensor outside the graph, sharing memory with this one.

        As in PyTorch: ``p.data`` has ``requires_grad=False`` and no history, and changing it
        in place changes ``p`` (``p.data -= lr * p.grad``, ``p.data.zero_()``). Assigning
        ``p.data = values`` replaces the values (any shape). Prefer ``with tg.no_grad():``
        and ``p -= lr * p.grad``, which backward can check. ``p.numpy()`` gives the array.
        """
        return TensorBase._wrap(self._data)

    @data.setter
    def data(self, values):
        array = factories.as_array(values)
        versions.note_write(self._data)   # ops that saved the old values must not run
        self._data = array

    @property
    def requires_grad(self):
        """Whether gradients are computed for this tensor (only floating tensors may)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item: only one-element tensors can be turned into a number, "
                             f"this one has shape {self.shape}")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def __array__(self, dtype=None, copy=None):
        # numpy turns a Tensor into a plain array here (ndarray.dot(t), np.array([t, u]),
        # np.c_[...]); for a tensor that requires grad that would drop its gradient unseen
        if self._requires_grad:
            raise TypeError(_LEAVES_GRAPH.format(call="numpy turned a Tensor into a plain array "
                                                      "(e.g. ndarray.dot(t), np.array([t, ...]), "
                                                      "np.c_[t, ...], np.mean([t, ...]))"))
        array = self._data if dtype is None else self._data.astype(dtype)
        return array.copy() if copy and array is self._data else array

    # numpy functions on Tensors (np.exp(t), np.dot(a, t), ...) become Tensor operations:
    # see interop.py
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return interop.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return interop.array_function(func, args, kwargs)

    def __repr__(self):
        body = np.array2string(self._data, separator=", ", prefix="tensor(")
        extras = ""
        if self._data.dtype not in (np.float32, np.int64, np.bool_):
            extras += f", dtype={self._data.dtype}"
        if self.name is not None:
            extras += f", name={self.name!r}"
        if self._op is not None:
            extras += f", grad_fn={type(self._op).__name__}"
        elif self.requires_grad:
            extras += ", requires_grad=True"
        return f"tensor({body}{extras})"

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self):
        if self._data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                             "use .any() or .all()")
        return bool(self._data)

    def __float__(self):
        if self._requires_grad and state.strict:
            raise TypeError(_LEAVES_GRAPH.format(call="float(t), or a math.* function of a Tensor "
                                                      "(math.log(t), math.exp(t), ...)"))
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __format__(self, spec):
        # f"{loss:.4f}" formats the number of a 0-d tensor, as in PyTorch
        if self._data.ndim == 0:
            return self._data.item().__format__(spec)
        return object.__format__(self, spec)

    __hash__ = object.__hash__  # == is elementwise, so identity is the hash

    # ----- graph handling ----------------------------------------------------------------

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place and return self; only floating tensors may.

        Only a leaf's flag can be changed: a result of recorded ops requires grad because
        its inputs do (use ``.detach()`` for a copy outside the graph), as in PyTorch.
        """
        if requires_grad and self._data.dtype.kind != "f":
            raise TypeError(f"requires_grad: only floating-point tensors can require gradients, "
                            f"this one is {self._data.dtype}; convert it first, e.g. t.float()")
        if self._op is not None and not requires_grad:
            raise RuntimeError("requires_grad: only a leaf tensor's flag can be changed; this one "
                               f"was computed by {type(self._op).__name__}. Use t.detach() for "
                               "its values outside the graph")
        self._requires_grad = bool(requires_grad)
        return self

    def clone(self):
        """A copy with its own memory that stays in the graph (the gradient passes through)."""
        if self._data.dtype.kind == "f":
            return apply(ops.Cast, self, dtype=self._data.dtype)   # astype copies
        return TensorBase._wrap(self._data.copy())

    # ----- in-place operations (inplace.py explains what they record) ---------------------

    def __iadd__(self, other):
        return inplace.add(self, other, name="+=")

    def __isub__(self, other):
        return inplace.sub(self, other, name="-=")

    def __imul__(self, other):
        return inplace.mul(self, other, name="*=")

    def __itruediv__(self, other):
        return inplace.div(self, other, name="/=")

    def __ipow__(self, other):
        return inplace.pow(self, other, name="**=")

    def add_(self, other, alpha=1):
        """self += alpha * other, in place; returns self (``p.data.add_(g, alpha=-lr)``)."""
        if isinstance(alpha, Tensor) and not isinstance(other, Tensor):
            other, alpha = alpha, other   # PyTorch's old add_(alpha, other) spelling
        return inplace.add(self, other, alpha)

    def sub_(self, other, alpha=1):
        """self -= alpha * other, in place; returns self."""
        return inplace.sub(self, other, alpha)

    def mul_(self, other):
        return inplace.mul(self, other)

    def div_(self, other):
        return inplace.div(self, other)

    def pow_(self, exponent):
        return inplace.pow(self, exponent)

    def zero_(self):
        """Set every element to zero in place (e.g. ``w.grad.zero_()``); returns self."""
        return inplace.fill(self, 0, name="zero_")

    def fill_(self, value):
        """Set every element to ``value`` in place; returns self."""
        return inplace.fill(self, value)

    def copy_(self, source):
        """Replace the values by ``source``'s (broadcast to this shape), in place."""
        return inplace.copy(self, source)

    def clamp_(self, min=None, max=None):
        """Clamp every element into [min, max] in place; returns self."""
        return inplace.clamp(self, min, max)

    clip_ = clamp_

    def neg_(self):
        return inplace.unary(self, "neg_", "__neg__")

    def exp_(self):
        return inplace.unary(self, "exp_", "exp")

    def log_(self):
        return inplace.unary(self, "log_", "log")

    def sqrt_(self):
        return inplace.unary(self, "sqrt_", "sqrt")

    def abs_(self):
        return inplace.unary(self, "abs_", "abs")

    def tanh_(self):
        return inplace.unary(self, "tanh_", "tanh")

    def sigmoid_(self):
        return inplace.unary(self, "sigmoid_", "sigmoid")

    def relu_(self):
        return inplace.unary(self, "relu_", "relu")

    def normal_(self, mean=0.0, std=1.0):
        """Fill in place with samples of N(mean, std^2) (seeded by ``tg.manual_seed``)."""
        return self.copy_(Tensor.randn(*self.shape, dtype=self.dtype) * std + mean)

    def uniform_(self, a=0.0, b=1.0):
        """Fill in place with samples uniform on [a, b) (seeded by ``tg.manual_seed``)."""
        return self.copy_(Tensor.uniform(*self.shape, low=a, high=b, dtype=self.dtype))

    def detach(self):
        """A new leaf sharing this tensor's data, with no graph and no gradient."""
        return TensorBase._wrap(self._data)

    def retain_grad(self):
        """Keep ``.grad`` of this intermediate tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        if self._op is not None:
            self._retains_grad = True

    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Compute gradients of this tensor w.r.t. every leaf that requires grad.

        On a one-element tensor ``gradient`` defaults to 1; otherwise pass an array of this
        tensor's shape. Gradients add into ``.grad`` across calls until zeroed. The graph's
        saved buffers are freed afterwards unless ``retain_graph=True``. With
        ``create_graph=True`` the backward pass itself is recorded: ``.grad`` then has a
        graph and can be differentiated again (second derivatives).
        """
        autograd.backward(self, gradient, retain_graph, create_graph)

    def register_hook(self, hook):
        """Call ``hook(grad)`` with the gradient arriving at this tensor during backward.

        If the hook returns a Tensor (or array), that replaces the gradient from there on:
        ``w.register_hook(lambda g: g.clip(-1, 1))``. Hooks run in the order registered,
        on leaves before ``.grad`` is filled. Returns a handle whose ``remove()`` unhooks it.
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook: this tensor does not require grad, so no "
                               "gradient will ever arrive at it")
        if self._hooks is None:
            self._hooks = {}
        handle = RemovableHandle(self._hooks)
        self._hooks[handle.id] = hook
        return handle

    # ----- operators ---------------------------------------------------------------------

    def _operand(self, other):
        """``other`` as a Tensor; a Python number takes this tensor's dtype (as in PyTorch)."""
        if isinstance(other, Tensor):
            return other
        # numbers are "weak", as in PyTorch: float32 * 0.5 stays float32
        dtype = self._data.dtype
        if type(other) is float:   # the common case (x * 0.5, x - 1.0), first
            return _constant(other, dtype if dtype.kind == "f" else _FLOAT32)
        if isinstance(other, (int, float, np.number, np.bool_)):  # Python bool is an int
            if isinstance(other, (float, np.floating)):
                if dtype.kind != "f":
                    dtype = _FLOAT32
            elif not isinstance(other, (bool, np.bool_)) and dtype.kind == "b":
                dtype = np.dtype(np.int64)
            return _constant(other, dtype)
        if isinstance(other, MaxResult):
            raise TypeError(
                "a (values, indices) pair from max/min along a dim was used as a number: as in "
                "PyTorch, x.max(dim) and x.max(axis=1) give both. Take .values (or [0]), or "
                "use x.amax(axis=1, keepdims=True); in numpy-style code, np.max(x, axis=1, "
                "keepdims=True) gives the values")
        return Tensor(other)

    def _binary(self, op, other, reverse=False):
        """Apply a binary op to (self, other), or (other, self) when ``reverse``."""
        if type(other) is not Tensor:
            other = self._operand(other)
        if self._data.dtype is not other._data.dtype:   # (is: the common case, quickly)
            x, y = _promote(other, self) if reverse else _promote(self, other)
            return apply(op, x, y)
        return apply(op, other, self) if reverse else apply(op, self, other)

    def __add__(self, other):
        return self._binary(ops.Add, other)

    def __radd__(self, other):
        return self._binary(ops.Add, other, reverse=True)

    def __sub__(self, other):
        return self._binary(ops.Sub, other)

    def __rsub__(self, other):
        return self._binary(ops.Sub, other, reverse=True)

    def __mul__(self, other):
        return self._binary(ops.Mul, other)

    def __rmul__(self, other):
        return self._binary(ops.Mul, other, reverse=True)

    def __truediv__(self, other):
        return self._divide(self._operand(other), reverse=False)

    def __rtruediv__(self, other):
        return self._divide(self._operand(other), reverse=True)

    def _divide(self, other, reverse):
        # true division of integers gives floats: float32, as in PyTorch (numpy: float64)
        if self._data.dtype.kind != "f" and other._data.dtype.kind != "f":
            return self.float()._binary(ops.Div, other.float(), reverse)
        return self._binary(ops.Div, other, reverse)

    def __pow__(self, other):
        return self._binary(ops.Pow, other)

    def __rpow__(self, other):
        return self._binary(ops.Pow, other, reverse=True)

    def __matmul__(self, other):
        return self.matmul(other)

    def __rmatmul__(self, other):
        return self._operand(other).matmul(self)

    def __neg__(self):
        return apply(ops.Neg, self)

    def __pos__(self):
        return self

    def _compare(self, ufunc, other):
        # comparisons give bool tensors: they are not differentiable and record nothing
        try:
            other = self._operand(other)
        except TypeError:   # not numbers (e.g. pytest.approx): let the other side answer
            return NotImplemented
        x, y = _promote(self, other)   # int64 == 16777217.0 compares in float32, as PyTorch
        try:
            return TensorBase._wrap(ufunc(x._data, y._data))
        except ValueError:
            raise ValueError(autograd.no_broadcast(ufunc.__name__,
                                           f"{self.shape} and {other.shape}")) from None

    def __lt__(self, other):
        return self._compare(np.less, other)

    def __le__(self, other):
        return self._compare(np.less_equal, other)

    def __gt__(self, other):
        return self._compare(np.greater, other)

    def __ge__(self, other):
        return self._compare(np.greater_equal, other)

    def __eq__(self, other):
        if other is None:
            return False
        return self._compare(np.equal, other)

    def __ne__(self, other):
        if other is None:
            return True
        return self._compare(np.not_equal, other)

    # PyTorch's names for the comparisons: bool tensors, no gradient
    def eq(self, other):
        """True where x == other (a bool tensor, broadcasting; no gradient)."""
        return self._compare(np.equal, other)

    def ne(self, other):
        """True where x != other (a bool tensor)."""
        return self._compare(np.not_equal, other)

    def lt(self, other):
        """True where x < other (a bool tensor)."""
        return self._compare(np.less, other)

    def le(self, other):
        """True where x <= other (a bool tensor)."""
        return self._compare(np.less_equal, other)

    def gt(self, other):
        """True where x > other (a bool tensor)."""
        return self._compare(np.greater, other)

    def ge(self, other):
        """True where x >= other (a bool tensor)."""
        return self._compare(np.greater_equal, other)

    greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

    def isnan(self):
        """True where the value is NaN (a bool tensor)."""
        return TensorBase._wrap(np.isnan(self._data))

    def isinf(self):
        """True where the value is +inf or -inf."""
        return TensorBase._wrap(np.isinf(self._data))

    def isfinite(self):
        """True where the value is neither NaN nor infinite."""
        return TensorBase._wrap(np.isfinite(self._data))

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """True where |self - other| <= atol + rtol * |other|, elementwise (PyTorch's defaults)."""
        x, y = _promote(self, self._operand(other))
        return TensorBase._wrap(np.isclose(x._data, y._data, rtol, atol, equal_nan))

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """True (a Python bool) if ``isclose`` holds everywhere."""
        return bool(self.isclose(other, rtol, atol, equal_nan)._data.all())

    def equal(self, other):
        """True (a Python bool) if ``other`` has the same shape and the same values."""
        other = self._operand(other)
        return self.shape == other.shape and bool((self._data == other._data).all())

    def _bitwise(self, ufunc, other, name):
        # &, |, ^ on integer or boolean tensors (logical for booleans), as PyTorch; no gradient
        other = self._operand(other)
        if self._data.dtype.kind not in "biu" or other._data.dtype.kind not in "biu":
            raise TypeError(f"{name}: needs integer or boolean tensors, got {self.dtype} and "
                            f"{other.dtype}; to combine conditions compare first and wrap each "
                            "in brackets: (x > 0) & (x < 1)")
        x, y = _promote(self, other)
        try:
            return TensorBase._wrap(ufunc(x._data, y._data))
        except ValueError:
            raise ValueError(autograd.no_broadcast(name, f"{self.shape} and {other.shape}")) \
                from None

    def __and__(self, other):
        return self._bitwise(np.bitwise_and, other, "&")

    def __rand__(self, other):
        return self._bitwise(np.bitwise_and, other, "&")

    def __or__(self, other):
        return self._bitwise(np.bitwise_or, other, "|")

    def __ror__(self, other):
        return self._bitwise(np.bitwise_or, other, "|")

    def __xor__(self, other):
        return self._bitwise(np.bitwise_xor, other, "^")

    def __rxor__(self, other):
        return self._bitwise(np.bitwise_xor, other, "^")

    def __invert__(self):
        if self._data.dtype.kind not in "biu":
            raise TypeError(f"~: needs an integer or boolean tensor, got {self.dtype}; for the "
                            "opposite of a condition, compare first: ~(x > 0)")
        return TensorBase._wrap(np.invert(self._data))

    def bitwise_and(self, other):
        """x & other, for integer or boolean tensors."""
        return self._bitwise(np.bitwise_and, other, "bitwise_and")

    def bitwise_or(self, other):
        """x | other, for integer or boolean tensors."""
        return self._bitwise(np.bitwise_or, other, "bitwise_or")

    def bitwise_xor(self, other):
        """x ^ other, for integer or boolean tensors."""
        return self._bitwise(np.bitwise_xor, other, "bitwise_xor")

    def bitwise_not(self):
        """~x, for integer or boolean tensors."""
        return ~self

    def logical_and(self, other):
        """True where both are nonzero (a bool tensor, any dtypes)."""
        return TensorBase._wrap(np.logical_and(self._data, self._operand(other)._data))

    def logical_or(self, other):
        """True where either is nonzero."""
        return TensorBase._wrap(np.logical_or(self._data, self._operand(other)._data))

    def logical_xor(self, other):
        """True where exactly one of them is nonzero."""
        return TensorBase._wrap(np.logical_xor(self._data, self._operand(other)._data))

    def logical_not(self):
        """True where the value is zero."""
        return TensorBase._wrap(np.logical_not(self._data))

    def masked_fill(self, mask, value):
        """A copy with ``value`` where the boolean ``mask`` (broadcast to this shape) is true.

        The dtype stays this tensor's; the gradient flows where the mask is false (and to
        ``value``, if it is a tensor that requires grad, from where it is true).
        """
        mask = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
        if mask.dtype != np.bool_:
            raise TypeError(f"masked_fill: the mask must be boolean, got {mask.dtype}; "
                            "compare first, e.g. x.masked_fill(x < 0, 0.0)")
        value = self._operand(value)
        if value._data.ndim != 0:
            raise ValueError(f"masked_fill: takes one value (a number or a 0-d tensor), got a "
                             f"tensor of shape {value.shape}")
        try:
            shape = np.broadcast_shapes(mask.shape, self.shape)
        except ValueError:
            shape = None
        if shape != self.shape:
            raise ValueError(f"masked_fill: the mask of shape {mask.shape} does not broadcast "
                             f"to the tensor's shape {self.shape}")
        return where(mask, value._cast(self._data.dtype), self)

    def masked_fill_(self, mask, value):
        """``masked_fill`` in place; returns self."""
        return inplace.update(self, "masked_fill_", lambda t: t.masked_fill(mask, value))

    def nonzero(self, as_tuple=False):
        """The indices of the nonzero elements: an int64 tensor (n, ndim), or with
        ``as_tuple=True`` one index tensor per axis (numpy's ``nonzero``)."""
        if as_tuple:
            return tuple(TensorBase._wrap(i) for i in np.nonzero(self._data))
        return TensorBase._wrap(np.argwhere(self._data))

    def count_nonzero(self, dim=None):
        """The number of nonzero elements (along ``dim``), int64."""
        return TensorBase._wrap(np.asarray(np.count_nonzero(self._data, axis=dim), np.int64))

    # ----- arithmetic with PyTorch's method names --------------------------------------------

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
        x, y = _promote(self, self._operand(other))
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
        x, y = _promote(self, self._operand(other))
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
        y, x = _promote(self, self._operand(other))
        if y._data.dtype.kind != "f":
            y, x = y.float(), x.float()
        return apply(ops.Atan2, y, x)

    arctan2 = atan2

    def copysign(self, other):
        """|self| with the sign of ``other`` (float32 for integers); no gradient to other."""
        if isinstance(other, (float, np.floating)):
            # a tensor of its own: _operand's shared constants take -0.0 for 0.0 (equal keys)
            other = Tensor(np.array(other, self.dtype if self.dtype.kind == "f" else _FLOAT32))
        x, y = _promote(self, self._operand(other))
        if x._data.dtype.kind != "f":
            x, y = x.float(), y.float()
        return apply(ops.Copysign, x, y)

    # piecewise-constant ops: their gradient is 0 (ops.StepFunction); on integers and bools
    # they change nothing, as in PyTorch

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

    # ----- primitive methods (one op each) -----------------------------------------------

    # exp, log, sqrt, sin, cos, tanh and sigmoid of integers or booleans give float32, as in
    # PyTorch (numpy: float64, or float16 for booleans)

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

    def cumsum(self, dim, *, dtype=None):
        """Running totals along ``dim``: z_i = x_0 + ... + x_i (integers and bools in int64)."""
        axis = normalize_axis(dim, self.shape, "cumsum")
        out = self if dtype is None else self.to(dtype)
        if not axis:   # a 0-d tensor
            return out * 1
        if out._data.dtype.kind != "f":
            return TensorBase._wrap(np.cumsum(out._data, axis=axis[0], dtype=np.int64))
        return apply(ops.Cumsum, out, axis=axis[0])

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
        if isinstance(min, (Tensor, np.ndarray)) or isinstance(max, (Tensor, np.ndarray)):
            return composites.clamp_between(self, min, max)
        if min is not None and max is not None and min > max:
            raise ValueError(f"clip: min ({min}) is larger than max ({max})")
        if self._data.dtype.kind != "f" and any(isinstance(b, float) for b in (min, max)):
            return self.float().clip(min, max)   # int with float bounds: float32, as PyTorch
        return apply(ops.Clip, self, low=min, high=max)

    clamp = clip

    def matmul(self, other):
        """Matrix product with numpy's ``@`` rules: (n, k) @ (k, m) -> (n, m), batches broadcast."""
        other = self._operand(other)
        if self.ndim == 0 or other.ndim == 0:
            raise ValueError(f"matmul: both operands need at least one axis, got shapes "
                             f"{self.shape} and {other.shape}; use * to multiply by a scalar")
        return apply(ops.MatMul, self, other)

    def dot(self, other):
        """numpy's ``a.dot(b)`` for vectors and matrices: the same as ``a @ b`` there."""
        other = self._operand(other)
        if self.ndim == 0 or other.ndim == 0:
            return self * other
        if self.ndim > 2 or other.ndim > 2:
            raise ValueError(f"dot: supports up to 2-D operands, got shapes {self.shape} and "
                             f"{other.shape}; use @ (matmul) for stacks of matrices")
        return self.matmul(other)

    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Sum over ``axis`` (an int, a tuple, or None for all); ``keepdims`` keeps size-1 axes."""
        axis = normalize_axis(pick_axis(axis, dim), self.shape, "sum")
        return apply(ops.Sum, self, axis=axis, keepdims=bool(keepdim or keepdims))

    def max(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Largest element over ``axis``; tied maxima share the gradient.

        With PyTorch's keyword ``dim=`` it returns ``(values, indices)`` as ``torch.max`` does.
        """
        keepdims = bool(keepdim or keepdims)
        axis = pick_axis(axis, dim)
        if isinstance(axis, Tensor):   # x.max(y): the elementwise maximum, as in PyTorch
            return self.maximum(axis)
        if axis is None:
            return self.amax(keepdims=keepdims)
        _one_dim(axis, "max", "amax")
        return self._pick_along(self.argmax(axis, keepdims=True), axis, keepdims)

    def _pick_along(self, indices, axis, keepdims):
        """``(values, indices)`` for ``max``/``min`` along ``axis``: the values are read at the
        indices (one GetItem), so the gradient goes to that one element, even among ties,
        as in PyTorch."""
        axis = normalize_axis(axis, self.shape, "max")
        if not axis:   # a 0-d tensor: itself, at index 0
            return MaxResult(self * 1, TensorBase._wrap(np.zeros((), dtype=np.int64)))
        axis = axis[0]
        # index arrays that broadcast against each other: every position along the other
        # axes, and the winner's position along ``axis``
        index = tuple(indices._data if k == axis else
                      np.arange(n).reshape([-1 if j == k else 1 for j in range(self.ndim)])
                      for k, n in enumerate(self.shape))
        values = self[index]
        if not keepdims:
            values, indices = values.squeeze(axis), indices.squeeze(axis)
        return MaxResult(values, indices)

    def amax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Largest value over ``axis`` (an int, a tuple, or None for all); values only.

        Tied maxima share the gradient equally. (``max`` with a dim also gives the indices.)
        """
        keepdims = bool(keepdim or keepdims)
        axis = normalize_axis(pick_axis(axis, dim), self.shape, "max")
        if self._data.size == 0:
            raise ValueError(f"max: the tensor of shape {self.shape} is empty")
        return apply(ops.Max, self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Smallest element: over all of them, or along ``dim`` as ``(values, indices)``.

        As in PyTorch: ``x.min()`` is one value, ``x.min(1)`` (or ``dim=1``) a named tuple
        of the smallest values and their positions. ``amin`` gives values over any axes.
        """
        keepdims = bool(keepdim or keepdims)
        axis = pick_axis(axis, dim)
        if isinstance(axis, Tensor):   # x.min(y): the elementwise minimum, as in PyTorch
            return self.minimum(axis)
        if axis is None:
            return self.amin(keepdims=keepdims)
        _one_dim(axis, "min", "amin")
        return self._pick_along(self.argmin(axis, keepdims=True), axis, keepdims)

    # ----- composites: written in primitives in composites.py, no backward of their own -----

    def amin(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Smallest value over ``axis`` (an int, a tuple, or None): -max(-x) for floats."""
        return composites.amin(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def minimum(self, other):
        """Elementwise minimum: -max(-x, -y) for floats (exact, as negation is)."""
        return composites.minimum(self, other)

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Average over ``axis``: the sum divided by the number of elements summed."""
        return composites.mean(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def var(self, axis=None, unbiased=None, keepdims=False, *, correction=None, dim=None,
            keepdim=None):
        """Variance over ``axis``, by default unbiased (see ``composites.var``)."""
        return composites.var(self, axis, unbiased, keepdims, correction=correction, dim=dim,
                              keepdim=keepdim)

    def std(self, axis=None, unbiased=None, keepdims=False, *, correction=None, dim=None,
            keepdim=None):
        """Standard deviation over ``axis``: sqrt of ``var`` (see ``composites.std``)."""
        return composites.std(self, axis, unbiased, keepdims, correction=correction, dim=dim,
                              keepdim=keepdim)

    def logsumexp(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """log(sum(exp(x))) over ``axis``, computed without overflow."""
        return composites.logsumexp(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def softmax(self, axis=-1, *, dim=None):
        """e^x / sum(e^x) along ``axis``; every slice along it sums to 1."""
        return composites.softmax(self, axis, dim=dim)

    def leaky_relu(self, slope=0.01):
        """x for x > 0, slope * x otherwise."""
        return composites.leaky_relu(self, slope)

    def prod(self, dim=None, keepdim=False, *, dtype=None):
        """The product over ``dim`` (all elements by default); exact gradients at zeros."""
        return composites.prod(self if dtype is None else self.to(dtype), dim, keepdim)

    def cumprod(self, dim, *, dtype=None):
        """Running products along ``dim``: z_i = x_0 * ... * x_i."""
        return composites.cumprod(self if dtype is None else self.to(dtype), dim)

    def norm(self, p="fro", dim=None, keepdim=False):
        """The p-norm over ``dim`` (default: the 2-norm of all elements); see composites.norm."""
        return composites.norm(self, p, dim, keepdim)

    def tril(self, diagonal=0):
        """The lower triangle (on and below ``diagonal``) of the last two axes; zeros above."""
        return composites.tril(self, diagonal)

    def triu(self, diagonal=0):
        """The upper triangle (on and above ``diagonal``) of the last two axes; zeros below."""
        return composites.triu(self, diagonal)

    def diag(self, diagonal=0):
        """A vector's diagonal matrix, or a matrix's diagonal as a vector."""
        return composites.diag(self, diagonal)

    def diagonal(self, offset=0):
        """A matrix's ``offset`` diagonal as a vector."""
        return composites.diagonal_of(self, offset)

    def trace(self):
        """The sum of a matrix's diagonal."""
        return composites.trace(self)

    def gather(self, dim, index):
        """out[i][j] = self[i][index[i][j]] for dim 1 (alike for other dims)."""
        return composites.gather(self, dim, index)

    def scatter(self, dim, index, src=None, *, value=None):
        """A copy with out[i][index[i][j]] = src[i][j] for dim 1 (``src`` may be a number)."""
        return composites.scatter(self, dim, index, value if src is None else src)

    def scatter_add(self, dim, index, src):
        """A copy with src[i][j] added at out[i][index[i][j]] for dim 1; repeats add up."""
        return composites.scatter_add(self, dim, index, src)

    def scatter_(self, dim, index, src=None, *, value=None):
        """``scatter`` in place; returns self (one-hot rows: ``zeros(n, c).scatter_(1, y[:, None],
        1.0)``)."""
        src = value if src is None else src
        return inplace.update(self, "scatter_", lambda t: t.scatter(dim, index, src))

    def scatter_add_(self, dim, index, src):
        """``scatter_add`` in place; returns self."""
        return inplace.update(self, "scatter_add_", lambda t: t.scatter_add(dim, index, src))

    def index_select(self, dim, index):
        """The slices at ``index`` (a 1-D integer tensor) along ``dim``, in that order."""
        index = index._data if isinstance(index, Tensor) else np.asarray(index)
        if index.ndim > 1 or index.dtype.kind not in "iu":
            raise TypeError(f"index_select: index must be a 1-D integer tensor, got "
                            f"{index.dtype} of shape {index.shape}")
        axis = normalize_axis(dim, self.shape, "index_select")
        return self[(slice(None),) * (axis[0] if axis else 0) + (index.reshape(-1),)]

    def masked_select(self, mask):
        """The elements where the boolean ``mask`` (broadcast) is true, as a 1-D tensor."""
        mask = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
        return self.expand(np.broadcast_shapes(self.shape, mask.shape))[
            np.broadcast_to(mask, np.broadcast_shapes(self.shape, mask.shape))]

    def unbind(self, dim=0):
        """The slices along ``dim`` as a tuple of tensors, each without that axis."""
        axis = normalize_axis(dim, self.shape, "unbind")[0]
        return tuple(self[(slice(None),) * axis + (i,)] for i in range(self.shape[axis]))

    def is_floating_point(self):
        """True for float16/32/64 tensors."""
        return self._data.dtype.kind == "f"

    def clamp_min(self, min):
        """max(x, min), elementwise."""
        return self.clip(min=min)

    def clamp_max(self, max):
        """min(x, max), elementwise."""
        return self.clip(max=max)

    def outer(self, other):
        """The outer product of two vectors: (n,) and (m,) give (n, m)."""
        other = self._operand(other)
        if self.ndim != 1 or other.ndim != 1:
            raise ValueError(f"outer: needs two vectors, got shapes {self.shape} and "
                             f"{other.shape}")
        return self.reshape(-1, 1) * other.reshape(1, -1)

    ger = outer

    def sort(self, dim=-1, descending=False, stable=False):
        """``(values, indices)`` sorted along ``dim`` (ties keep their order; NaN is largest)."""
        return composites.sort(self, dim, descending)

    def argsort(self, dim=-1, descending=False, stable=False):
        """The indices that sort the tensor along ``dim`` (int64)."""
        return composites.sort(self, dim, descending).indices

    def topk(self, k, dim=-1, largest=True, sorted=True):
        """The ``k`` largest (``largest=False``: smallest) along ``dim``: ``(values, indices)``."""
        return composites.topk(self, k, dim, largest, sorted)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        """The distinct values, sorted (no gradient); optionally with each element's position
        among them (``return_inverse``) and how often each occurs (``return_counts``)."""
        found = np.unique(self._data, return_inverse=return_inverse,
                          return_counts=return_counts, axis=dim)
        if not (return_inverse or return_counts):
            return TensorBase._wrap(found)
        values, *extras = found
        if return_inverse:   # numpy may give it flat; PyTorch gives the input's shape
            extras[0] = extras[0].reshape(self.shape if dim is None else -1)
        return (TensorBase._wrap(values),) + tuple(TensorBase._wrap(e.astype(np.int64))
                                                   for e in extras)

    def split(self, split_size_or_sections, dim=0):
        """Pieces along ``dim``: each of ``split_size`` (the last may be smaller), or of the
        listed sizes; a tuple of views."""
        return composites.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        """``chunks`` pieces along ``dim``, each of ceil(n / chunks) elements."""
        return composites.chunk(self, chunks, dim)

    def transpose(self, axis0=-2, axis1=-1):
        """Swap two axes (by default the last two: a matrix transpose), as ``torch.transpose``."""
        return composites.transpose(self, axis0, axis1)

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge axes ``start_dim..end_dim`` into one (all of them by default)."""
        return composites.flatten(self, start_dim, end_dim)

    def unsqueeze(self, dim):
        """Insert an axis of size 1 at position ``dim``."""
        return composites.unsqueeze(self, dim)

    def squeeze(self, dim=None):
        """Drop axes of size 1: all of them, or those of ``dim`` (an int or a tuple)."""
        return composites.squeeze(self, dim)

    def pow(self, exponent):
        """x ** exponent (PyTorch's method name)."""
        return self ** exponent

    def square(self):
        """x * x."""
        return self * self

    def bmm(self, other):
        """Batched matrix product (PyTorch's ``bmm``): (b, n, k) @ (b, k, m) -> (b, n, m)."""
        other = self._operand(other)
        if self.ndim != 3 or other.ndim != 3 or self.shape[0] != other.shape[0]:
            raise ValueError(f"bmm: needs two 3-D tensors with the same batch size, got shapes "
                             f"{self.shape} and {other.shape}; use matmul (@) to broadcast")
        return self.matmul(other)

    def mm(self, other):
        """Matrix product of two matrices (PyTorch's ``mm``): the same as ``@``."""
        return self.matmul(other)

    def t(self):
        """The transpose of a matrix (a vector is returned as it is), as ``torch.t``."""
        return self.transpose()

    def reshape(self, *shape):
        """Same elements in a new shape; one axis may be -1. Accepts ``(2, 3)`` or ``2, 3``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        out = apply(ops.Reshape, self, shape=tuple(shape))
        return inplace.set_view(out, self, inplace.rebuild_from_reshape)

    view = reshape

    def view_as(self, other):
        """Same elements in ``other``'s shape (``reshape(other.shape)``)."""
        return self.reshape(other.shape)

    def expand(self, *sizes):
        """This tensor broadcast to ``sizes`` (-1 keeps an axis; new axes go in front).

        Only axes of size 1 can grow, as in PyTorch: ``(3, 1)`` expands to ``(2, 3, 4)``.
        The result is a copy (PyTorch: a view); its gradient sums over the copies.
        """
        sizes = factories.sizes_from(sizes)
        new = len(sizes) - self.ndim
        if new < 0:
            raise ValueError(f"expand: the target {sizes} has fewer axes than the tensor's "
                             f"shape {self.shape}")
        shape = tuple(n if n != -1 or i >= new else None for i, n in enumerate(sizes))
        if None in shape:
            raise ValueError(f"expand: -1 cannot be used for a new leading axis ({sizes}, "
                             f"tensor shape {self.shape})")
        shape = shape[:new] + tuple(old if n == -1 else n
                                    for old, n in zip(self.shape, shape[new:]))
        for old, n in zip(self.shape, shape[new:]):
            if old != n and old != 1:
                raise ValueError(f"expand: cannot expand shape {self.shape} to {sizes}: only "
                                 f"axes of size 1 can grow (size {old} would become {n}); "
                                 "use repeat() to tile")
        if shape == self.shape:
            return self
        return apply(ops.Expand, self, shape=shape)

    def expand_as(self, other):
        """This tensor broadcast to ``other``'s shape (``expand(other.shape)``)."""
        return self.expand(other.shape)

    def repeat(self, *sizes):
        """The tensor tiled ``sizes[i]`` times along axis i (numpy's ``tile``), as PyTorch:
        ``(2, 3).repeat(2, 1)`` is ``(4, 3)``; extra sizes add leading axes."""
        return composites.repeat(self, factories.sizes_from(sizes))

    def flip(self, *dims):
        """The elements in reverse order along each of ``dims`` (a copy, as in PyTorch)."""
        return composites.flip(self, factories.sizes_from(dims))

    def roll(self, shifts, dims=None):
        """Elements shifted by ``shifts`` along ``dims``, wrapping around (``torch.roll``);
        without ``dims``, along the flattened tensor, keeping the shape."""
        return composites.roll(self, shifts, dims)

    def permute(self, *axes):
        """Reorder the axes: result axis i is input axis ``axes[i]``."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list, np.ndarray)):
            axes = tuple(axes[0])
        if len(axes) != self.ndim:
            raise ValueError(f"permute: {axes} is not a permutation of the {self.ndim} axes "
                             f"of a tensor of shape {self.shape}")
        # out-of-range and repeated axes raise here, rather than wrapping around silently
        axes = normalize_axis(axes, self.shape, "permute")
        out = apply(ops.Transpose, self, axes=axes)
        return inplace.set_view(out, self, inplace.rebuild_from_axes(axes))

    def __getitem__(self, index):
        """Indexing as in PyTorch: ints, slices, None, ..., integer arrays, boolean masks.

        Where PyTorch and numpy differ, PyTorch's rule holds: an int next to an index array
        selects first (``x[1, :, idx]`` on (2, 5, 6) with 3 indices is (5, 3); numpy: (3, 5)).
        A result that shares memory (slices, ints) is a view: changing it changes ``self``.
        """
        index = _plain_index(index)
        first, rest = _split_index(index)
        if first is not None:
            return self[first][rest]
        try:
            out = apply(ops.GetItem, self, index=index)
        except IndexError as error:
            raise IndexError(f"getitem: {error} (tensor shape {self.shape})") from None
        return inplace.set_view(out, self, inplace.rebuild_from_index(index))

    def __setitem__(self, index, value):
        """``x[index] = value`` changes ``x`` in place (see ``add_`` for what is recorded)."""
        index = _plain_index(index)
        first, rest = _split_index(index)
        if first is not None:   # PyTorch's rule (see __getitem__): through the view x[first]
            self[first][rest] = value
            return
        inplace.setitem(self, index, value)

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False,
           memory_format=None):
        """This tensor in another dtype (or "on a device": there is only the CPU), as PyTorch.

        ``x.to(tg.float64)``, ``x.to("cpu")``, ``x.to(device, dtype)``, ``x.to(other)``
        (other's dtype), ``x.to(device=..., dtype=..., non_blocking=True)``. Returns ``self``
        when nothing changes (with ``copy=True``, a copy); float-to-float conversions keep
        the graph. ``non_blocking`` and ``memory_format`` change nothing on the CPU. A GPU
        device (``"cuda"``) raises a RuntimeError.
        """
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg._data.dtype
            elif isinstance(arg, (str, devices.device, int)) and not isinstance(arg, bool):
                devices.check(arg, "to")
            else:
                dtype = arg
        if device is not None:
            devices.check(device, "to")
        if dtype is None:
            return self.clone() if copy else self
        out = self._cast(dtypes.resolve(dtype, "to"))
        return out.clone() if copy and out is self else out

    def _cast(self, dtype):
        """This tensor in numpy dtype ``dtype`` (itself if it is already); floats keep the graph."""
        if dtype == self._data.dtype:
            return self
        if dtype.kind == "f":
            return apply(ops.Cast, self, dtype=dtype)
        return TensorBase._wrap(self._data.astype(dtype))

    def astype(self, dtype):
        """numpy's name for a conversion: the same as ``to(dtype)``."""
        return self._cast(dtypes.resolve(dtype, "astype"))

    def type(self, dtype=None, non_blocking=False):
        """Without an argument, PyTorch's type name (``'torch.FloatTensor'``); with a dtype
        (or such a name), the tensor converted to it, as ``to(dtype)``."""
        if dtype is None:
            return dtypes.TYPE_NAMES[self._data.dtype]
        return self._cast(dtypes.resolve(dtype, "type"))

    def type_as(self, other):
        """This tensor in ``other``'s dtype."""
        return self._cast(other.dtype)

    @property
    def device(self):
        """Where the tensor lives: always ``device(type='cpu')``."""
        return devices.CPU

    @property
    def is_cuda(self):
        """Always False: tensors live on the CPU."""
        return False

    def cpu(self):
        """The tensor itself: it is on the CPU already."""
        return self

    def cuda(self, device=None, non_blocking=False):
        """Raises: there is no GPU (see ``tg.cuda.is_available()``)."""
        raise devices.cuda_error("cuda()")

    def contiguous(self, memory_format=None):
        """The tensor itself (its array is laid out in order whenever it matters here)."""
        return self

    def is_contiguous(self, memory_format=None):
        """Whether the values are laid out in order in memory."""
        return bool(self._data.flags.c_contiguous)

    def float(self):
        return self._cast(_FLOAT32)

    def double(self):
        return self._cast(np.dtype(np.float64))

    def half(self):
        """This tensor as float16."""
        return self._cast(np.dtype(np.float16))

    def long(self):
        return self._cast(np.dtype(np.int64))

    def int(self):
        return self._cast(np.dtype(np.int32))

    def short(self):
        """This tensor as int16."""
        return self._cast(np.dtype(np.int16))

    def char(self):
        """This tensor as int8."""
        return self._cast(np.dtype(np.int8))

    def byte(self):
        """This tensor as uint8."""
        return self._cast(np.dtype(np.uint8))

    def bool(self):
        return self._cast(np.dtype(np.bool_))

    # ----- ops applied directly (the composites are in composites.py) --------------------

    @property
    def T(self):
        """The tensor with its axes reversed (the transpose of a matrix)."""
        return self.permute(tuple(range(self.ndim))[::-1])

    def where(self, condition, other):
        """``self`` where ``condition`` holds, else ``other`` (PyTorch's ``x.where(c, y)``)."""
        return where(condition, self, other)

    def log_softmax(self, axis=-1, *, dim=None):
        """x - logsumexp(x) along ``axis``: the log of softmax, without overflow or log(0).

        A primitive (``ops.LogSoftmax``) rather than a composite: it is in every classifier's
        loss, and one op is both faster and more accurate than six.
        """
        axis = normalize_axis(pick_axis(axis, dim), self.shape, "log_softmax")
        if self.ndim == 0:   # a distribution over one value: log(1) = 0
            return self.reshape(1).log_softmax(axis=0).reshape(())
        if axis is None or len(axis) != 1:
            raise ValueError(f"log_softmax: needs exactly one axis, got {axis}")
        return apply(ops.LogSoftmax, self, axis=axis[0])

    def cross_entropy(self, labels, reduction="mean"):
        """Softmax cross-entropy of logits (N, C) with integer labels (N,), as one op.

        The mean (``reduction="mean"``), sum, or per-sample values (``"none"``) of
        ``-log_softmax(x)[n, labels[n]]``. Its gradient is ``softmax(x) - one_hot(labels)``
        (divided by N for the mean). ``nn.CrossEntropyLoss`` checks the labels and calls this.
        """
        labels = labels if isinstance(labels, Tensor) else Tensor(labels)
        x, y = self._data, labels._data
        if x.ndim != 2 or y.shape != x.shape[:1] or y.dtype.kind not in "iu":
            raise ValueError(f"cross_entropy: needs logits (N, C) and integer labels (N,), got "
                             f"shapes {x.shape} and {y.shape} ({y.dtype})")
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', "
                             f"got {reduction!r}")
        bad = first_bad_label(y, x.shape[1])
        if bad is not None:
            raise ValueError(f"cross_entropy: label {y[bad]} (sample {bad}) is out of range "
                             f"for {x.shape[1]} classes; labels must be in 0..{x.shape[1] - 1}")
        return apply(ops.CrossEntropy, self, labels, reduction=reduction)

    def binary_cross_entropy(self, target):
        """-(y log p + (1 - y) log(1 - p)) per element, for probabilities p (this tensor) and
        targets y of the same shape, each log clamped at -100 (as PyTorch's BCELoss).

        One op (``ops.BinaryCrossEntropy``); ``nn.BCELoss`` checks the values and reduces.
        """
        target = self._operand(target)
        if target.shape != self.shape:
            raise ValueError(f"binary_cross_entropy: probabilities of shape {self.shape} and "
                             f"targets of shape {target.shape} must have the same shape")
        return apply(ops.BinaryCrossEntropy, self, target.to(self.dtype))

    def linear(self, weight, bias=None):
        """x @ weight.T + bias as one op: x (..., in), weight (out, in), bias (out,).

        What ``nn.Linear`` computes; ``bias`` may be None.
        """
        weight = self._operand(weight)
        x, w = self._data, weight._data
        if w.ndim != 2 or x.ndim == 0 or x.shape[-1] != w.shape[1]:
            raise ValueError(f"linear: input of shape {self.shape} does not fit weight of shape "
                             f"{weight.shape}: the input's last axis must equal the weight's "
                             "second axis (in_features)")
        if bias is None:
            return apply(ops.Linear, self, weight)
        bias = self._operand(bias)
        if bias._data.shape != w.shape[:1]:
            raise ValueError(f"linear: bias of shape {bias.shape} does not fit weight of shape "
                             f"{weight.shape}: it needs shape ({weight.shape[0]},)")
        return apply(ops.Linear, self, weight, bias)

    def argmax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Index of the largest element along ``axis`` (int64, no gradient)."""
        axis = pick_axis(axis, dim)
        return TensorBase._wrap(np.argmax(self._data, axis=axis, keepdims=bool(keepdim or keepdims)))

    def argmin(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Index of the smallest element along ``axis`` (int64, no gradient)."""
        axis = pick_axis(axis, dim)
        return TensorBase._wrap(np.argmin(self._data, axis=axis, keepdims=bool(keepdim or keepdims)))

    def any(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """True if any element (along ``dim``) is nonzero: a bool tensor."""
        axis = normalize_axis(pick_axis(axis, dim), self.shape, "any")
        keepdims = bool(keepdims or keepdim)
        return TensorBase._wrap(np.any(self._data, axis=axis, keepdims=keepdims))

    def all(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """True if every element (along ``dim``) is nonzero: a bool tensor."""
        axis = normalize_axis(pick_axis(axis, dim), self.shape, "all")
        keepdims = bool(keepdims or keepdim)
        return TensorBase._wrap(np.all(self._data, axis=axis, keepdims=keepdims))

    # ----- joining -----------------------------------------------------------------------

    @staticmethod
    def cat(tensors, axis=0, *, dim=None):
        """Join tensors along an existing axis; all other axes must match."""
        tensors = _common_dtype(_tensor_list(tensors, "cat"))
        if not tensors:
            raise ValueError("cat: needs at least one tensor")
        if tensors[0].ndim == 0:
            raise ValueError("cat: 0-d tensors have no axis to join along; use Tensor.stack")
        axis = normalize_axis(pick_axis(axis, dim), tensors[0].shape, "cat")[0]
        first = tensors[0].shape
        for i, t in enumerate(tensors):
            if t.ndim != len(first) or t.shape[:axis] + t.shape[axis + 1:] != first[:axis] + first[axis + 1:]:
                raise ValueError(f"cat: tensor {i} has shape {t.shape}, which does not match "
                                 f"tensor 0's shape {first} outside axis {axis}")
        return apply(ops.Cat, *tensors, axis=axis)

    @staticmethod
    def stack(tensors, axis=0, *, dim=None):
        """Join same-shaped tensors along a new axis."""
        tensors = _tensor_list(tensors, "stack")
        if not tensors:
            raise ValueError("stack: needs at least one tensor")
        shapes = {t.shape for t in tensors}
        if len(shapes) != 1:
            raise ValueError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
        axis, ndim = pick_axis(axis, dim), tensors[0].ndim
        if not -ndim - 1 <= axis <= ndim:
            raise ValueError(f"stack: axis {axis} is out of range for tensors of shape "
                             f"{tensors[0].shape}; it must lie in [{-ndim - 1}, {ndim}]")
        axis = axis % (ndim + 1)
        return Tensor.cat([t.unsqueeze(axis) for t in tensors], axis=axis)


    # ----- factories: the values are made in factories.py -------------------------------------

    @staticmethod
    def zeros(*shape, dtype=np.float32, requires_grad=False, name=None):
        return Tensor(np.zeros(factories.shape_from(shape), dtype=dtype), requires_grad,
                      name=name)

    @staticmethod
    def ones(*shape, dtype=np.float32, requires_grad=False, name=None):
        return Tensor(np.ones(factories.shape_from(shape), dtype=dtype), requires_grad,
                      name=name)

    @staticmethod
    def full(shape, fill_value, dtype=None, requires_grad=False, name=None):
        """A tensor of ``shape`` filled with ``fill_value`` (float32 for a float, as PyTorch)."""
        return Tensor(factories.full(shape, fill_value, dtype), requires_grad, name=name)

    @staticmethod
    def randn(*shape, dtype=np.float32, requires_grad=False, name=None, generator=None):
        """Samples of the standard normal distribution (seeded by ``tg.manual_seed``, or
        drawn from ``generator``, a ``tg.Generator``)."""
        return Tensor(factories.randn(shape, dtype, generator), requires_grad, name=name)

    @staticmethod
    def rand(*shape, dtype=np.float32, requires_grad=False, name=None, generator=None):
        """Samples uniform on [0, 1) (seeded by ``tg.manual_seed``, or from ``generator``)."""
        return Tensor(factories.rand(shape, dtype, generator), requires_grad, name=name)

    @staticmethod
    def uniform(*shape, low=0.0, high=1.0, dtype=np.float32, requires_grad=False, name=None,
                generator=None):
        """Samples uniform on [low, high) (seeded by ``tg.manual_seed``, or from ``generator``)."""
        return Tensor(factories.uniform(shape, low, high, dtype, generator), requires_grad,
                      name=name)

    @staticmethod
    def eye(n, m=None, dtype=np.float32, requires_grad=False, name=None):
        """The identity matrix of shape (n, m), m defaulting to n."""
        return Tensor(np.eye(n, m, dtype=dtype), requires_grad, name=name)

    @staticmethod
    def arange(start, stop=None, step=1, dtype=None, requires_grad=False, name=None):
        """Evenly spaced values in [start, stop); int64 for ints, float32 otherwise, as PyTorch."""
        return Tensor(factories.arange(start, stop, step, dtype), requires_grad, name=name)

    @staticmethod
    def zeros_like(t, dtype=None, requires_grad=False, name=None):
        return Tensor(np.zeros_like(factories.as_array(t), dtype=dtype), requires_grad, name=name)

    @staticmethod
    def ones_like(t, dtype=None, requires_grad=False, name=None):
        return Tensor(np.ones_like(factories.as_array(t), dtype=dtype), requires_grad, name=name)

    # PyTorch's x.new_*: a new tensor with this one's dtype (unless given)

    def new_zeros(self, *size, dtype=None, requires_grad=False):
        """Zeros of ``size`` in this tensor's dtype."""
        return Tensor.zeros(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad=False):
        """Ones of ``size`` in this tensor's dtype."""
        return Tensor.ones(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    new_empty = new_zeros   # PyTorch leaves it uninitialised; zeros here

    def new_full(self, size, fill_value, dtype=None, requires_grad=False):
        """``fill_value`` in ``size``, in this tensor's dtype."""
        return Tensor.full(size, fill_value, dtype=dtype or self.dtype,
                           requires_grad=requires_grad)

    def new_tensor(self, data, dtype=None, requires_grad=False):
        """A copy of ``data`` as a new leaf, in this tensor's dtype unless given."""
        data = data._data if isinstance(data, Tensor) else data
        return Tensor(np.array(data, dtype=dtype or self.dtype), requires_grad=requires_grad)

    def bernoulli(self, *, generator=None):
        """1 with probability given by each element (in [0, 1]), else 0; no gradient."""
        return TensorBase._wrap(factories.bernoulli(self._floating()._data, generator))

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        """Indices drawn with probability proportional to the (non-negative) weights, per
        row: int64 (num_samples,) or (rows, num_samples)."""
        return TensorBase._wrap(factories.multinomial(self._data, num_samples, replacement,
                                                      generator))

    # ----- for ops.py, in create_graph mode ---------------------------------------------------

    def scatter_add_to(self, shape, index):
        """zeros(shape) with this tensor added at ``[index]``, recorded (ops.scatter_add)."""
        return apply(ops.ScatterAdd, self, index=index, shape=shape)


def _legacy_shape(*sizes):
    """The shape of ``Tensor(2, 3)`` (the first four come in as Tensor's other parameters)."""
    *given, more = sizes
    shape = tuple(n for n in given if n is not None) + tuple(more)
    if not all(type(n) is int and n >= 0 for n in shape):
        raise TypeError(f"Tensor: Tensor(2, 3) makes a zero tensor of that shape (PyTorch's "
                        f"legacy constructor) and needs non-negative ints, got {shape}; to "
                        "make a tensor from values, pass them as one list: Tensor([2, 3])")
    return shape


def _plain_index(index):
    """An index with Tensors and lists turned into numpy arrays (numpy can't read Tensors)."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(_plain_index(i) if isinstance(i, (Tensor, list)) else i for i in index)
    if isinstance(index, list):
        return np.asarray([i._data if isinstance(i, Tensor) else i for i in index])
    return index


def _is_int(part):
    return isinstance(part, (int, np.integer)) and not isinstance(part, bool)


def _is_array(part):
    return isinstance(part, np.ndarray) and part.ndim > 0


def _split_index(index):
    """``(first, rest)`` where PyTorch's indexing rule differs from numpy's, else (None, None).

    numpy counts an int as an advanced index when an index array is present, so
    ``x[1, :, idx]`` moves the array's axis to the front; PyTorch applies the int first
    (basic indexing), then the rest. ``x[first][rest]`` follows PyTorch.
    """
    if not isinstance(index, tuple) or not any(_is_int(p) for p in index) or not any(
            _is_array(p) for p in index):
        return None, None
    first, rest = [], []
    for part in index:
        if _is_int(part):
            first.append(part)
        elif part is None:
            first.append(None)
            rest.append(slice(None))
        elif part is Ellipsis:
            first.append(Ellipsis)
            rest.append(Ellipsis)
        else:   # a slice, an index array, or a mask (which spans mask.ndim axes)
            span = part.ndim if isinstance(part, np.ndarray) and part.dtype == np.bool_ else 1
            first.extend([slice(None)] * span)
            rest.append(part)
    return tuple(first), tuple(rest)


def _common_dtype(tensors):
    """The tensors in one dtype, as PyTorch's cat and stack choose it: with any float among
    them, the widest float (numpy would make int64 with float32 float64); else numpy's."""
    dtypes = {t._data.dtype for t in tensors}
    if len(dtypes) <= 1:
        return tensors
    floats = [d for d in dtypes if d.kind == "f"]
    dtype = np.result_type(*floats) if floats else np.result_type(*dtypes)
    return [t._cast(dtype) for t in tensors]


def _one_dim(axis, name, values_only):
    if not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}: dim must be one int (PyTorch's {name}(dim) returns the values "
                        f"and their indices along one axis), got {axis!r}; for several axes at "
                        f"once use {values_only}(dim={axis!r})")


def _tensor_list(tensors, name):
    """``tensors`` as a list of Tensors; a single Tensor is refused, as in PyTorch."""
    if isinstance(tensors, (Tensor, np.ndarray)):
        raise TypeError(f"{name}: expects a list or tuple of tensors, got a single "
                        f"{type(tensors).__name__} of shape {tensors.shape}; write "
                        f"{name}([a, b], dim=...) (a tensor would be split along its first axis)")
    return [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]


def _no_integer_zero(x, y, name):
    """Integer division by zero raises, as in PyTorch (numpy would give 0 and a warning)."""
    if x._data.dtype.kind in "biu" and y._data.dtype.kind in "biu" and not y._data.all():
        raise ValueError(f"{name}: integer division by zero (divisor of shape "
                                f"{y.shape}); convert to float for inf/NaN, e.g. x.float()")


def where(condition, x=None, y=None):
    """``x`` where ``condition`` is true, else ``y``; all three broadcast like numpy.

    With the condition alone, the indices where it holds: one int64 tensor per axis
    (``torch.where(c)``, the same as ``c.nonzero(as_tuple=True)``).
    """
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if x is None and y is None:
        return tuple(TensorBase._wrap(i) for i in np.nonzero(cond))
    if x is None or y is None:
        raise TypeError("where: give both x and y, or neither (for the indices)")
    if cond.dtype != np.bool_:
        raise TypeError(f"where: the condition must be boolean, got {cond.dtype}")
    if not isinstance(x, Tensor):
        x = y._operand(x) if isinstance(y, Tensor) else Tensor(x)
    y = x._operand(y)
    x, y = _promote(x, y)   # int with float gives the float dtype, as in PyTorch
    return apply(ops.Where, TensorBase._wrap(cond), x, y)


autograd.register_tensor_class(Tensor)   # results of ops are Tensors
