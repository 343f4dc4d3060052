"""The Tensor: a numpy array that remembers how it was computed.

Primitive methods (``exp``, ``__mul__``, ``sum``, ...) are one-liners that apply an op from
``ops.py``; composite methods (``sigmoid`` aside, which is a primitive for stability:
``softmax``, ``mean``, ``var``, ``logsumexp``, ...) are written in primitives and have no
backward of their own.

dtype rules: a numpy array keeps its dtype (float64 stays float64); Python floats and the
factories default to float32, Python ints to int64, as in PyTorch. Only floating tensors can
require grad. A Python number combined with a tensor takes the tensor's dtype.

``Tensor`` is one class read in parts, one module per topic; this file holds what every
tensor is (its data, its place in the graph, ``backward``), the arithmetic operators and the
factories. The other methods come from these parts, which ``Tensor`` inherits:

    tensor_elementwise.py   ElementwiseMethods   add, div, floor, exp, log, sin, relu, clip, ...
    tensor_reduce.py        ReductionMethods     sum, max, mean, softmax, matmul, sort, ...
    tensor_shape.py         ShapeMethods         reshape, permute, x[i], gather, cat, stack, ...
    tensor_compare.py       ComparisonMethods    == < eq isclose & | ~ masked_fill where
    tensor_inplace.py       InPlaceMethods       += add_ zero_ copy_ fill_ normal_ ...
    tensor_dtype.py         DtypeMethods         to, float(), long(), type, cpu(), cuda()
"""

import numpy as np

from . import autograd
from . import factories
from . import interop
from . import ops
from . import versions
from .autograd import TensorBase, apply, state
from .composites import MaxResult
from .factories import FLOAT32, constant, promote
from .tensor_compare import ComparisonMethods, where  # noqa: F401 - where: tg.where
from .tensor_dtype import DtypeMethods
from .tensor_elementwise import ElementwiseMethods
from .tensor_inplace import InPlaceMethods
from .tensor_reduce import ReductionMethods
from .tensor_shape import ShapeMethods


class RemovableHandle:
    """Returned by ``register_hook``: ``handle.remove()`` takes the hook off again."""

    _next_id = 0

    def __init__(self, hooks):
        self.hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self):
        self.hooks.pop(self.id, None)


_LEAVES_GRAPH = (
    "{call}: this tensor requires grad, and the result would be a plain number or array, "
    "cut off from the graph, so its gradient would be lost without a sign. Keep it a Tensor: "
    "np.dot(X, t) or X @ t instead of X.dot(t), tg.stack([...]) or tg.cat instead of "
    "np.array([...]) / np.c_, np.log(t) or t.log() instead of math.log(t). If you only want "
    "the values, say so: t.detach().numpy() or t.item()")


class Tensor(ElementwiseMethods, ReductionMethods, ShapeMethods, ComparisonMethods,
             InPlaceMethods, DtypeMethods, TensorBase):
    """An n-dimensional array with reverse-mode automatic differentiation.

    ``Tensor(data, requires_grad=False, dtype=None, name=None)``: ``data`` is a numpy array
    (used as is, without a copy, when the dtype already matches), a Python number or nested
    list, or another Tensor. Operations on tensors that require grad record a graph, and
    ``backward()`` fills ``.grad`` of the leaves::

        w = Tensor([[1.0, 2.0]], requires_grad=True)
        (w * w).sum().backward()
        w.grad          # tensor([[2., 4.]])

    dtypes follow PyTorch's legacy constructor ``torch.Tensor``, with one exception:

    - Python data (numbers, nested lists or tuples of ints, bools or floats) gives float32:
      ``Tensor([0, 2, 1])`` is ``tensor([0., 2., 1.])``. For integer labels from Python
      lists, write ``tg.tensor([0, 2, 1])`` (int64, as ``torch.tensor``) or
      ``tg.LongTensor([0, 2, 1])``.
    - A numpy array or numpy scalar keeps its dtype (float64 stays float64, int64 labels
      stay int64). PyTorch's ``torch.Tensor(array)`` would make float32 of it.
    - A Tensor keeps its dtype and shares its memory, as in PyTorch.
    - ``Tensor(3)`` (one Python int) is a float32 tensor of shape (3,), ``Tensor(2, 3)`` of
      shape (2, 3), ``Tensor()`` an empty one; all zeros (PyTorch leaves them
      uninitialised).
    - ``Tensor(2.5)`` (one Python float or bool) is a 0-d float32 tensor; PyTorch refuses
      it, so portable code writes ``tg.tensor(2.5)``.
    - ``dtype=`` converts to that dtype (PyTorch's ``torch.Tensor`` has no ``dtype``).
    """

    __slots__ = ()   # the slots are TensorBase's (autograd.py): what the engine works with

    def __init__(self, data=(), requires_grad=False, dtype=None, name=None, *more_sizes):
        if type(data) is int and type(requires_grad) is int:   # Tensor(2, 3): PyTorch's
            # legacy constructor, a shape (type(...) is int: True and False are not ints here)
            data = np.zeros(_legacy_shape(data, requires_grad, dtype, name, more_sizes),
                            np.float32)
            requires_grad, dtype, name = False, None, None
        elif type(data) is int:   # Tensor(3): a shape too, (3,)
            data = np.zeros(_legacy_shape(data, None, None, None, ()), np.float32)
        elif type(data) is tuple and not data:   # Tensor(): PyTorch's empty float32 tensor
            data = np.zeros(0, np.float32)
        array = factories.as_array(data, dtype)
        # Python ints and bools become float32, as torch.Tensor makes them (numpy arrays,
        # the common case, are tested first: type(...) is cheaper than isinstance)
        if dtype is None and type(data) is not np.ndarray and array.dtype.kind != "f" and \
                not isinstance(data, (np.generic, TensorBase)):
            array = array.astype(FLOAT32)
        self._data = array
        self.grad = None
        self._requires_grad = False
        self.name = name
        self._op = None
        self._retains_grad = False
        self._hooks = None
        self._base = None   # (tensor, rebuild) for a view of another tensor's memory
        if requires_grad:
            self.requires_grad_(True)

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

    def __index__(self):
        # a one-element integer tensor as a Python index, as in PyTorch:
        # classes[pred.argmax()], range(n), xs[:k]
        if self._data.dtype.kind not in "biu" or self._data.size != 1:
            raise TypeError(f"only integer tensors of a single element can be used as an index, "
                            f"this one is {self._data.dtype} of shape {self.shape}")
        return int(self._data.item())

    def __format__(self, spec):
        # f"{loss:.4f}" formats the number of a 0-d tensor, as in PyTorch
        if self._data.ndim == 0:
            return self._data.item().__format__(spec)
        return object.__format__(self, spec)

    __hash__ = object.__hash__  # == is elementwise, so identity is the hash

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

    def _operand(self, other):
        """``other`` as a Tensor; a Python number takes this tensor's dtype (as in PyTorch)."""
        if isinstance(other, Tensor):
            return other
        # numbers are "weak", as in PyTorch: float32 * 0.5 stays float32
        dtype = self._data.dtype
        if type(other) is float:   # the common case (x * 0.5, x - 1.0), first
            return constant(other, dtype if dtype.kind == "f" else FLOAT32)
        if isinstance(other, (int, float, np.number, np.bool_)):  # Python bool is an int
            if isinstance(other, (float, np.floating)):
                if dtype.kind != "f":
                    dtype = FLOAT32
            elif not isinstance(other, (bool, np.bool_)) and dtype.kind == "b":
                dtype = np.dtype(np.int64)
            return constant(other, dtype)
        if isinstance(other, MaxResult):
            raise TypeError(
                "a (values, indices) pair from max/min along a dim was used as a number: as in "
                "PyTorch, x.max(dim) and x.max(axis=1) give both. Take .values (or [0]), or "
                "use x.amax(axis=1, keepdims=True); in numpy-style code, np.max(x, axis=1, "
                "keepdims=True) gives the values")
        return TensorBase._wrap(factories.as_array(other))   # lists as tg.tensor reads them

    def _binary(self, op, other, reverse=False):
        """Apply a binary op to (self, other), or (other, self) when ``reverse``."""
        if type(other) is not Tensor:
            other = self._operand(other)
        if self._data.dtype is not other._data.dtype:   # (is: the common case, quickly)
            x, y = promote(other, self) if reverse else promote(self, other)
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


def _legacy_shape(*sizes):
    """The shape of ``Tensor(2, 3)`` (the first four come in as Tensor's other parameters)."""
    *given, more = sizes
    shape = tuple(n for n in given if n is not None) + tuple(more)
    if not all(type(n) is int and n >= 0 for n in shape):
        raise TypeError(f"Tensor: Tensor(2, 3) makes a zero tensor of that shape (PyTorch's "
                        f"legacy constructor) and needs non-negative ints, got {shape}; to "
                        "make a tensor from values, pass them as one list: tg.tensor([2, 3])")
    return shape


autograd.register_tensor_class(Tensor)   # results of ops are Tensors
