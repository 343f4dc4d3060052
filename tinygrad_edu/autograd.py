"""The engine: recording ops, and the backward pass that walks what was recorded.

Every op on tensors that require grad leaves a node behind: the result points to the op that
made it (``tensor._op``), and the op points to its input tensors (``op.inputs``)::

    x ──┐
        ├─ Mul ── h ── Sum ── loss          loss._op is Sum, Sum.inputs == (h,)
    w ──┘                                   h._op is Mul,  Mul.inputs == (x, w)

Read it top to bottom: what a tensor is to the engine (``TensorBase``), grad mode, ``apply``
(run an op forward and record it), then ``backward``, whose loop ``_propagate`` visits the
tensors so that each one comes after every tensor computed from it.

Features that are not the engine's own plug in at four named places, so the loop stays
short: ``on_record`` (after every op's forward: anomaly detection), ``on_backward_step``
(after every op's backward: anomaly detection), ``on_release`` (after a backward pass frees
an op's saved arrays: ``memory.py`` lets go of large results) and ``state.scope`` (a label
stored on every op: ``nn`` puts the module calls there for the drawing). The in-place write
check (``versions.py``) and tensor hooks (``register_hook``) are part of the loop itself.

Imports run one way: this module uses ``ops.py`` (the primitives) and ``versions.py``, and
knows tensors as ``TensorBase``; ``tensor.py`` builds the Tensor users see on top of it and
tells the engine, with ``register_tensor_class``, which class results are made of.
"""

import functools
import heapq
import math
import sys
import threading
import types
import warnings

import numpy as np

from . import callsite
from . import ops
from . import versions


# ----- what a tensor is to the engine ----------------------------------------------------------

class TensorBase:
    """The part of a tensor the engine works with: its values and its place in the graph.

    ``_data``: the numpy array. ``_op``: the op that made it (None for a leaf). ``_seq``: its
    creation number (recorded results only). ``grad``, ``_requires_grad``, ``name``;
    ``_hooks``, ``_retains_grad`` for backward; ``_base`` (a view's tensor) and ``_previous``
    (history before a recorded in-place change) for ``inplace.py``. ``Tensor`` adds the rest.
    """

    __slots__ = ("_data", "grad", "_requires_grad", "name", "_op", "_seq", "_retains_grad",
                 "_hooks", "_base", "_previous", "__weakref__")

    @staticmethod
    def _wrap(array, requires_grad=False):
        """A Tensor around an op's result, without re-checking it (the hot path)."""
        t = _new(_tensor_class)
        t._data = array if type(array) is np.ndarray else np.asarray(array)
        t.grad, t._op, t.name, t._hooks, t._base = None, None, None, None, None
        t._requires_grad = requires_grad and t._data.dtype.kind == "f"
        t._retains_grad = False
        return t


_new = object.__new__
_tensor_class = TensorBase   # replaced by Tensor: see register_tensor_class


def register_tensor_class(cls):
    """Make results of ops instances of ``cls`` (tensor.py passes ``Tensor``, once)."""
    global _tensor_class
    _tensor_class = cls


# ----- grad mode, and what else is set per thread ---------------------------------------------

class ThreadState(threading.local):
    """Per-thread settings; class attributes are each new thread's defaults.

    Public, for the layers above: ``nn`` sets ``state.scope`` during a module call.
    """

    enabled = True   # is the graph being recorded (False inside no_grad)
    scope = ()       # a label stored on every recorded op: the nn.Module calls under way,
                     # outermost first ((path, class name), ...), for the drawing
    strict = False   # inside gradcheck / compare_gradients: float(t) of a tensor that
                     # requires grad raises, since the number would leave the graph unseen
    backward_of = ()  # ops whose backward is being recorded (create_graph), innermost last


state = ThreadState()


def is_grad_enabled():
    """True unless inside ``no_grad()`` (the setting is per thread, as in PyTorch)."""
    return state.enabled


def _set_enabled(flag):
    state.enabled = bool(flag)


class _GradMode:
    """Shared by the grad-mode switches: a context manager that restores the previous mode
    on exit (even on an exception), and a decorator that runs a function in the mode."""

    mode = True

    def __enter__(self):
        self.previous = is_grad_enabled()
        _set_enabled(self.mode)
        return self

    def __exit__(self, *exc):
        _set_enabled(self.previous)
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            previous = is_grad_enabled()
            _set_enabled(mode)
            try:
                return fn(*args, **kwargs)
            finally:
                _set_enabled(previous)
        return wrapper


class no_grad(_GradMode):
    """Record nothing inside the block: results have ``requires_grad=False`` and no graph.

    Use it for evaluation and for optimizer updates::

        with tg.no_grad():
            accuracy = (model(x_test).argmax(axis=1) == y_test).float().mean()

    Also a decorator: ``@tg.no_grad()`` or ``@tg.no_grad``.
    """

    mode = False

    def __new__(cls, fn=None):
        if fn is not None:  # used bare, as @tg.no_grad
            return cls()(fn)
        return super().__new__(cls)


class enable_grad(no_grad):
    """Record again inside the block, even within an outer ``no_grad()``."""

    mode = True


class inference_mode(_GradMode):
    """PyTorch's ``torch.inference_mode``: here the same as ``no_grad`` (record nothing).

    ``inference_mode(False)`` leaves the grad mode as it is. PyTorch also marks the tensors
    made inside as usable only outside autograd; here they are ordinary tensors without a
    graph, exactly as under ``no_grad``. Also a decorator: ``@tg.inference_mode()``.
    """

    def __new__(cls, mode=True):
        if callable(mode):   # used bare, as @tg.inference_mode
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        if not isinstance(mode, bool):
            raise TypeError(f"inference_mode: mode must be True or False, got {mode!r}")
        self.active = mode

    def __enter__(self):
        self.mode = False if self.active else is_grad_enabled()
        return super().__enter__()

    def __call__(self, fn):
        self.mode = False if self.active else None
        if self.mode is None:
            return fn
        return super().__call__(fn)


class set_grad_enabled(_GradMode):
    """Turn graph recording on or off, at once; as a context manager, until the block ends.

    ``tg.set_grad_enabled(False)`` switches recording off right away (as in PyTorch);
    ``with tg.set_grad_enabled(is_training): ...`` sets it for the block only.
    """

    def __init__(self, mode):
        self.mode = bool(mode)
        self.previous = is_grad_enabled()
        _set_enabled(self.mode)

    def __enter__(self):
        return self  # already applied by __init__; __exit__ restores the previous mode

    def __call__(self, fn):
        _set_enabled(self.previous)  # as a decorator it only applies inside fn
        return super().__call__(fn)


def Variable(tensor, requires_grad=False, volatile=False):   # noqa: N802 - PyTorch's name
    """PyTorch's old wrapper (before 0.4), kept so old tutorials run: returns ``tensor`` itself,
    which already records its graph; ``requires_grad=True`` turns it on, as the old class did.
    New code does not need it."""
    if not isinstance(tensor, TensorBase):
        raise TypeError(f"Variable: expected a Tensor, got {type(tensor).__name__}; write "
                        "Tensor(data) (Variable is not needed any more)")
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


class strict_numbers:
    """Inside the block, ``float(t)`` (and so ``math.log(t)``, ``math.exp(t)``, ...) of a tensor
    that requires grad raises instead of giving a number outside the graph.

    ``gradcheck`` and ``compare_gradients`` run the user's function inside it: a forward
    pass that computes part of the loss with ``math.log`` would otherwise lose that part's
    gradient, and a correct hand gradient would be reported wrong.
    """

    def __enter__(self):
        self.previous = state.strict
        state.strict = True
        return self

    def __exit__(self, *exc):
        state.strict = self.previous
        return False


def current_scope():
    """The ``nn.Module`` calls under way, outermost first, as ((path, class name), ...)."""
    return state.scope


# ----- extension points --------------------------------------------------------------------------

on_record = []          # f(op, inputs, out) after every op's forward, recorded or not
on_backward_step = []   # f(op, grad, input_grads) after every op's backward
on_release = []         # f(op, memo) after a backward pass freed op's saved arrays; memo is
                        # a dict that lives for one backward pass


# ----- recording -------------------------------------------------------------------------------

_sequence = versions.sequence   # numbers recorded results (and in-place writes) in order
# one shared copy of each needs_grad tuple and of "no params", instead of a new tuple and
# an empty dict per op that stay alive with the graph: the shared tuples alone take the
# million-op chain (W4-1M) from 574 to 513 MB peak RSS (measured); an empty dict is 64 bytes
_shared_flags = {}   # (True, False) -> the one tuple (True, False) that every op shares
_NO_PARAMS = types.MappingProxyType({})


def apply(op_cls, *inputs, **params):
    """Run ``op_cls`` forward on the inputs' arrays and, if grads are needed, record it.

    A recorded result gets the next creation number: since a tensor is always made after
    its inputs, backward can visit tensors in decreasing number and meet each one after all
    of its uses. Runs for every op of every step, so it is kept short.
    """
    op = op_cls()
    try:
        # one, two and three inputs spelled out, not looped over: W1 -2.3% instructions
        # (callgrind, 300 steps), against out = op.forward(*[t._data for t in inputs])
        if len(inputs) == 2:
            x, y = inputs
            out = op.forward(x._data, y._data, **params)
            needs_grad = (x._requires_grad, y._requires_grad)
        elif len(inputs) == 1:
            out = op.forward(inputs[0]._data, **params)
            needs_grad = (inputs[0]._requires_grad,)
        elif len(inputs) == 3:   # Linear with a bias, Where
            x, y, z = inputs
            out = op.forward(x._data, y._data, z._data, **params)
            needs_grad = (x._requires_grad, y._requires_grad, z._requires_grad)
        else:
            out = op.forward(*[t._data for t in inputs], **params)
            needs_grad = tuple([t._requires_grad for t in inputs])
    except ValueError as error:
        raise ValueError(_explain_failure(op_cls, inputs, error)) from None
    if on_record:   # (a check, not a bare loop: the list is empty unless something plugged in)
        for hook in on_record:
            hook(op, inputs, out)
    result = TensorBase._wrap(out)
    if True in needs_grad and state.enabled and result._data.dtype.kind == "f":
        result._requires_grad, result._op, result._seq = True, op, next(_sequence)
        needs_grad = _shared_flags.setdefault(needs_grad, needs_grad)
        op.inputs, op.params, op.needs_grad = inputs, params or _NO_PARAMS, needs_grad
        op.scope = state.scope
        op.released = False
    return result


def _explain_failure(op_cls, inputs, error):
    """A message naming the op and the shapes at fault, instead of numpy's bare one."""
    name = op_cls.__name__.lower()
    shapes = " and ".join(str(t.shape) for t in inputs)
    if op_cls is ops.MatMul:
        x, y = inputs[0].shape, inputs[1].shape
        inner_x = x[-1] if x else None
        inner_y = y[-2] if len(y) >= 2 else (y[0] if y else None)
        if inner_x == inner_y:
            return (f"matmul: shapes {x} and {y} do not fit: the batch axes {x[:-2]} and "
                    f"{y[:-2]} (all but the last two) do not broadcast")
        return (f"matmul: shapes {x} and {y} do not fit: x's last axis ({inner_x}) must equal "
                f"y's {'second-to-last' if len(y) >= 2 else 'only'} axis ({inner_y}); "
                "did you mean to transpose one of them?")
    if "broadcast" in str(error):
        return no_broadcast(name, shapes)
    return f"{name}: {error} (input shapes {shapes})"


def no_broadcast(name, shapes):
    """The message for operands whose shapes do not broadcast."""
    return (f"{name}: shapes {shapes} do not broadcast (numpy broadcasting lines up the "
            f"trailing axes, which must be equal or 1)")


# ----- backward ----------------------------------------------------------------------------------

def _store_grad(tensor, grad, taken):
    """Add ``grad`` into ``tensor.grad`` (creating it), in the tensor's own dtype.

    ``taken`` holds the ids of the arrays already stored as some ``.grad`` in this backward
    pass: an array can be adopted as ``.grad`` without a copy only if it is a fresh,
    writable array of its own that no other tensor holds (ops may hand the same array to
    two inputs, or return a read-only broadcast view).
    """
    if isinstance(grad, TensorBase):
        # create_graph=True: keep the gradient's own graph, and add out of place to keep it
        grad = grad.to(tensor._data.dtype)
        tensor.grad = grad if tensor.grad is None else tensor.grad + grad
    elif tensor.grad is None:
        adoptable = (grad.base is None and grad.flags.writeable and id(grad) not in taken
                     and grad.dtype == tensor._data.dtype)
        if not adoptable:
            grad = np.array(grad, dtype=tensor._data.dtype, copy=True)
        taken.add(id(grad))
        tensor.grad = TensorBase._wrap(grad)
    else:
        tensor.grad._data += grad


def _seed(root, gradient, caller):
    """The gradient backward starts from: ``gradient``, or 1 for a one-element ``root``."""
    if not root.requires_grad:
        raise RuntimeError(
            f"{caller}: this tensor does not require grad and has no graph; make sure some "
            "input was created with requires_grad=True and that you are not inside no_grad()")
    if gradient is None:
        if root._data.size != 1:
            raise RuntimeError(
                f"{caller}: the tensor has shape {root.shape}, not a single element; pass "
                "gradient= (an array of that shape), or reduce it first, e.g. loss.sum()")
        if not math.isfinite(root._data.item()):
            warnings.warn(
                f"{caller}: the loss is {root._data.item()}, so every gradient will be NaN too. "
                "To find the op that produced it, run the forward pass inside "
                "`with tg.detect_anomaly():`; to find why training blows up, try "
                "nn.diagnose(model, loss_fn, X, y)", RuntimeWarning, stacklevel=3)
        return np.ones(root.shape, dtype=root._data.dtype)
    seed = gradient._data if isinstance(gradient, TensorBase) else np.asarray(gradient)
    if seed.shape != root.shape:
        raise ValueError(
            f"{caller}: gradient has shape {seed.shape} but the tensor has shape {root.shape}")
    return np.array(seed, dtype=root._data.dtype, copy=True)   # never the caller's own array


def backward(root, gradient=None, retain_graph=None, create_graph=False):
    """Fill ``.grad`` of every leaf tensor that ``root`` depends on and that requires grad.

    ``gradient`` is d(something)/d(root); it defaults to 1 when ``root`` has one element.
    Gradients add up across calls until zeroed. Unless ``retain_graph`` is True (its default
    is ``create_graph``), the saved buffers of every op in the graph are released afterwards.
    With ``create_graph=True`` the backward pass is recorded, so the gradients can be
    differentiated again.
    """
    seed = _seed(root, gradient, "backward")

    taken = set()

    def keep(tensor, grad):   # called for leaves and tensors that retain their grad
        _store_grad(tensor, grad, taken)

    retain = create_graph if retain_graph is None else retain_graph
    _propagate([(root, seed)], retain, keep, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned, not stored in ``.grad``.

    ``outputs`` and ``inputs`` are Tensors or sequences of them; ``grad_outputs`` gives the
    gradient to start from for each output (default: 1, for one-element outputs). Returns a
    tuple with one Tensor per input (None for an input the outputs do not depend on, if
    ``allow_unused``). With ``create_graph=True`` the returned gradients carry a graph and
    can be differentiated again::

        x = Tensor([3.0], requires_grad=True)
        dx, = tg.grad(x ** 3, [x], create_graph=True)     # 3x^2 = 27
        ddx, = tg.grad(dx, [x])                           # 6x = 18
    """
    outputs = [outputs] if isinstance(outputs, TensorBase) else list(outputs)
    inputs = [inputs] if isinstance(inputs, TensorBase) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, TensorBase):
        grad_outputs = [grad_outputs] * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} output(s) but {len(grad_outputs)} grad_outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, TensorBase) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad, so it has no gradient")
    roots = [(out, _seed(out, g, "grad")) for out, g in zip(outputs, grad_outputs)]
    retain = create_graph if retain_graph is None else retain_graph
    found = _gradients_of(roots, inputs, retain, create_graph)
    results = []
    for i, t in enumerate(inputs):
        g = found.get(id(t))
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) was not used to compute the "
                               "outputs; pass allow_unused=True to get None for it")
        if g is not None and not isinstance(g, TensorBase):
            g = TensorBase._wrap(np.array(g, dtype=t._data.dtype, copy=True))
        elif g is not None:
            g = g.to(t._data.dtype)
        results.append(g)
    return tuple(results)


def gradients(root, tensors):
    """d root / d t for each of ``tensors``, as {id(t): array}, leaving every ``.grad`` alone.

    ``root`` must have one element; the graph is kept (as with ``retain_graph=True``).
    """
    seed = np.ones(root.shape, dtype=root._data.dtype)
    return _gradients_of([(root, seed)], tensors, True, False)


def _gradients_of(roots, tensors, retain_graph, create_graph):
    """Run the backward pass from ``roots`` and collect {id(t): gradient} for ``tensors``."""
    wanted = {id(t) for t in tensors}
    found = {}

    def keep(tensor, g):
        if id(tensor) in wanted:
            found[id(tensor)] = g

    _propagate(roots, retain_graph, keep, create_graph, keep_all=True)
    return found


def _run_hooks(tensor, grad, create_graph):
    """Call ``tensor``'s hooks on its gradient, in registration order; a hook may replace it."""
    as_tensor = grad if create_graph else TensorBase._wrap(grad)
    for hook in list(tensor._hooks.values()):
        result = hook(as_tensor)
        if result is not None:
            if not isinstance(result, TensorBase):
                result = TensorBase._wrap(np.asarray(result, dtype=tensor._data.dtype))
            if result.shape != tensor.shape:
                raise ValueError(f"hook {getattr(hook, '__name__', hook)!r} returned a gradient "
                                 f"of shape {result.shape} for a tensor of shape {tensor.shape}")
            as_tensor = result
    # a replacement may be an array the hook's author still holds: never adopt it as .grad
    return as_tensor if create_graph else np.array(as_tensor._data)


def _backward_recorded(op, grad):
    """Run ``op``'s backward on Tensors, recording it (for create_graph=True).

    A fresh op of the same kind runs ``forward`` on the input Tensors, so that everything it
    saves for backward is a Tensor connected to the inputs; its backward on the Tensor
    ``grad`` then builds a graph of the gradient itself. ``state.backward_of`` says, for
    anomaly detection, whose backward the ops recorded meanwhile belong to.
    """
    clone = type(op)()
    clone.needs_grad = op.needs_grad
    outer = state.backward_of
    state.backward_of = outer + (op,)
    try:
        with enable_grad():
            clone.forward(*op.inputs, **op.params)
            return clone.backward(grad)
    finally:
        state.backward_of = outer


def _propagate(roots, retain_graph, keep, create_graph, keep_all=False):
    """The backward pass proper: walk the graph from each (root, seed) pair in ``roots``.

    ``keep(tensor, grad)`` receives the total gradient of every leaf on the way, and of
    every other tensor that retains its grad (or of all of them, with ``keep_all``), once
    all of its uses have contributed and its hooks have run. Gradients are arrays, or, with
    ``create_graph``, Tensors whose computation is recorded.

    Order: every recorded tensor carries a number (``_seq``) larger than its inputs' ones,
    because it was made after them. So a heap that always hands out the largest number
    waiting gives each tensor only after every tensor computed from it, i.e. once its
    gradient is complete: a topological order, found while walking, in one pass, and
    without recursion (a chain of a million ops is fine). Leaves have no inputs, so they
    simply wait in a list until the end.
    """
    grads, waiting, leaves, memo = {}, [], [], {}
    pop, push = heapq.heappop, heapq.heappush

    def arrive(tensor, grad):
        key = id(tensor)
        if key in grads:
            grads[key] = grads[key] + grad
            return
        grads[key] = grad
        if tensor._op is None:
            leaves.append(tensor)
        else:
            push(waiting, (-tensor._seq, key, tensor))

    for root, seed in roots:
        arrive(root, TensorBase._wrap(seed) if create_graph else seed)
    while waiting:
        tensor = pop(waiting)[2]
        grad = grads.pop(id(tensor))
        if tensor._hooks:
            grad = _run_hooks(tensor, grad, create_graph)
        if keep_all or tensor._retains_grad:
            keep(tensor, grad)
        op = tensor._op
        if op.released:
            raise RuntimeError(
                f"backward: the graph through {type(op).__name__} was released by an earlier "
                "backward(); pass retain_graph=True to the first backward() call if you need "
                "to go through the same graph twice")
        inputs = op.inputs
        if versions.state.last > tensor._seq:   # something changed in place after this op ran
            versions.check_saved(op, tensor._seq)
            inputs = [versions.version_used_by(t, tensor._seq) for t in inputs]
        input_grads = _backward_recorded(op, grad) if create_graph else op.backward(grad)
        if on_backward_step:
            for hook in on_backward_step:
                hook(op, grad, input_grads)
        for parent, parent_grad in zip(inputs, input_grads):
            if parent_grad is None or not parent._requires_grad:
                continue
            arrive(parent, parent_grad)
        if not retain_graph:   # its saved arrays are not needed again: free them now
            op.release()
            for hook in on_release:
                hook(op, memo)
    for tensor in leaves:
        grad = grads.pop(id(tensor))
        if tensor._hooks:
            grad = _run_hooks(tensor, grad, create_graph)
        keep(tensor, grad)


# ----- looking at a graph, and telling it about outside writes -----------------------------------

def walk(root):
    """Every tensor in the graph behind ``root`` (``root`` included), each once, as a list.

    It starts at ``root`` and follows each op to its inputs (``t.grad_fn.inputs``) with a
    stack, not recursion, so a chain of a million ops is fine. The order is depth-first from
    ``root``: a tensor comes before its inputs unless it is reached twice. Used by the
    drawing, ``nn.diagnose`` and the tests; useful to look at a graph by hand::

        [type(t.grad_fn).__name__ for t in tg.walk(loss) if t.grad_fn is not None]
    """
    seen, tensors, stack = set(), [], [root]
    while stack:
        tensor = stack.pop()
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        tensors.append(tensor)
        if tensor._op is not None:
            stack.extend(tensor._op.inputs)
    return tensors


def increment_version(*tensors, stacklevel=None):
    """Tell the engine that the arrays of ``tensors`` were changed in place just now.

    For code that writes into ``t.numpy()`` directly (an optimizer step, say): a recorded op
    that saved these values for its backward then refuses to run on the changed ones, as
    it does after ``t += ...``. (PyTorch: ``torch.autograd.graph.increment_version``.)
    The error names the line of user code responsible: the first one outside the library
    on the stack, or, with ``stacklevel=n``, the caller n levels up (1: the caller of
    ``increment_version``), which is quicker to find.
    """
    if stacklevel is None:
        where = callsite.user_frame()
    else:
        frame = sys._getframe(stacklevel)
        where = callsite.CreatedAt(frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)
    versions.note_writes([t._data for t in tensors], where)
