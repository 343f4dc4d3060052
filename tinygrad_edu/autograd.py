"""Reverse-mode differentiation: grad mode, topological order, and the backward pass.

The forward pass leaves a graph behind: every Tensor made by an op points to that op
(``tensor._op``), and every op points to its input Tensors (``op.inputs``)::

    x ──┐
        ├─ Mul ── h ── Sum ── loss          loss._op is Sum, Sum.inputs == (h,)
    w ──┘                                   h._op is Mul,  Mul.inputs == (x, w)

``backward`` visits the tensors so that each one comes after every tensor computed from it
(a topological order): every recorded result carries a creation number larger than its
inputs', and a heap hands out the largest number waiting (see ``_propagate``), with no
recursion, so a chain of a million ops does not overflow Python's stack. Each op turns the
gradient of its output into gradients of its inputs, and gradients from several uses of the
same tensor are added together.
"""

import functools
import heapq
import math
import sys
import threading
import warnings

import numpy as np

from . import anomaly
from . import versions


class _ThreadState(threading.local):
    """Per-thread settings; class attributes are each new thread's defaults."""

    enabled = True   # is the graph being recorded (False inside no_grad)
    scope = ()       # the nn.Module calls under way, outermost first; Module.__call__
                     # extends it with its own ((path, class name),) for its forward
    strict = False   # inside gradcheck / compare_gradients: float(t) of a tensor that
                     # requires grad raises, since the number would leave the graph unseen


_state = _ThreadState()


# after _state: tensor.py imports this module back and binds _state for _apply
from .tensor import Tensor  # noqa: E402


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


def is_grad_enabled():
    """True unless inside ``no_grad()`` (the setting is per thread, as in PyTorch)."""
    return _state.enabled


def _set_enabled(flag):
    _state.enabled = bool(flag)


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
        where = anomaly.user_frame()
    else:
        frame = sys._getframe(stacklevel)
        where = anomaly.CreatedAt(frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name)
    versions.note_writes([t._data for t in tensors], where)


class strict_numbers:
    """Inside the block, ``float(t)`` (and so ``math.log(t)``, ``math.exp(t)``, ...) of a tensor
    that requires grad raises instead of giving a number outside the graph.

    ``gradcheck`` and ``compare_gradients`` run the user's function inside it: a forward
    pass that computes part of the loss with ``math.log`` would otherwise lose that part's
    gradient, and a correct hand gradient would be reported wrong.
    """

    def __enter__(self):
        self.previous = _state.strict
        _state.strict = True
        return self

    def __exit__(self, *exc):
        _state.strict = self.previous
        return False


def current_scope():
    """The ``nn.Module`` calls under way, outermost first, as ((path, class name), ...)."""
    return _state.scope


def _store_grad(tensor, grad, taken):
    """Add ``grad`` into ``tensor.grad`` (creating it), in the tensor's own dtype.

    ``taken`` holds the ids of the arrays already stored as some ``.grad`` in this backward
    pass: an array can be adopted as ``.grad`` without a copy only if it is a fresh,
    writable array of its own that no other tensor holds (ops may hand the same array to
    two inputs, or return a read-only broadcast view).
    """
    if isinstance(grad, Tensor):
        # create_graph=True: keep the gradient's own graph, and add out of place to keep it
        grad = grad.to(tensor._data.dtype)
        tensor.grad = grad if tensor.grad is None else tensor.grad + grad
    elif tensor.grad is None:
        adoptable = (grad.base is None and grad.flags.writeable and id(grad) not in taken
                     and grad.dtype == tensor._data.dtype)
        if not adoptable:
            grad = np.array(grad, dtype=tensor._data.dtype, copy=True)
        taken.add(id(grad))
        tensor.grad = Tensor._wrap(grad)
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
    seed = gradient._data if isinstance(gradient, Tensor) else np.asarray(gradient)
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
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} output(s) but {len(grad_outputs)} grad_outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
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
        if g is not None and not isinstance(g, Tensor):
            g = Tensor(np.array(g, dtype=t._data.dtype, copy=True))
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
    as_tensor = grad if create_graph else Tensor._wrap(grad)
    for hook in list(tensor._hooks.values()):
        result = hook(as_tensor)
        if result is not None:
            if not isinstance(result, Tensor):
                result = Tensor(result)
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
    ``grad`` then builds a graph of the gradient itself.
    """
    clone = type(op)()
    clone.needs_grad = op.needs_grad
    with enable_grad(), anomaly.backward_of(op):   # anomalies inside are op's backward's
        clone.forward(*op.inputs, **op.params)
        return clone.backward(grad)


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
    grads, waiting, leaves, ghosts = {}, [], [], {}
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
        arrive(root, Tensor._wrap(seed) if create_graph else seed)
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
        if anomaly.ACTIVE:
            anomaly.check_backward(op, grad, input_grads)
        for parent, parent_grad in zip(inputs, input_grads):
            if parent_grad is None or not parent._requires_grad:
                continue
            arrive(parent, parent_grad)
        if not retain_graph:   # its saved arrays are not needed again: free them now
            op.release()
            for parent in op.inputs:
                if parent._op is not None and parent._data.nbytes >= LIGHTEN_MIN_BYTES:
                    op.inputs = tuple([_lighten(t, ghosts) for t in op.inputs])
                    break
    for tensor in leaves:
        grad = grads.pop(id(tensor))
        if tensor._hooks:
            grad = _run_hooks(tensor, grad, create_graph)
        keep(tensor, grad)


# a released graph keeps its shape, for drawings, but not the memory of large results
LIGHTEN_MIN_BYTES = 1 << 16
_STAND_INS = {}   # (shape, dtype) -> a read-only array of zeros of that shape, in one element


def _lighten(tensor, ghosts):
    """``tensor``, or for a large intermediate result a stand-in without its memory.

    After backward a released op still points at its inputs, so as long as the loss is
    alive (``loss = ...`` in a loop keeps it until the next step is computed), every
    activation of the step would stay in memory. The stand-in has the same shape, dtype,
    name and op, so the graph can still be walked and drawn, but its data is a single
    repeated zero. Leaves (parameters, inputs) and small results are kept as they are; the
    user's own references to intermediate tensors are not touched. ``ghosts`` makes one
    stand-in per tensor within a backward pass.
    """
    if tensor._op is None or tensor._data.nbytes < LIGHTEN_MIN_BYTES:
        return tensor
    ghost = ghosts.get(id(tensor))
    if ghost is None:
        key = (tensor._data.shape, tensor._data.dtype)
        data = _STAND_INS.get(key)
        if data is None:   # made once per shape: a training loop meets the same ones again
            if len(_STAND_INS) >= 256:
                _STAND_INS.clear()
            zero = np.zeros(1, dtype=key[1])
            zero.flags.writeable = False
            data = _STAND_INS[key] = np.ndarray(key[0], key[1], buffer=zero,
                                                strides=(0,) * len(key[0]))
        ghost = ghosts[id(tensor)] = Tensor._wrap(data, tensor.requires_grad)
        ghost._op, ghost._seq, ghost.name = tensor._op, tensor._seq, tensor.name
    return ghost

