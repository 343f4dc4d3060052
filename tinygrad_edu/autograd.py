"""Reverse-mode differentiation: grad mode, topological order, and the backward pass.

The forward pass leaves a graph behind: every Tensor made by an op points to that op
(``tensor._op``), and every op points to its input Tensors (``op.inputs``)::

    x ──┐
        ├─ Mul ── h ── Sum ── loss          loss._op is Sum, Sum.inputs == (h,)
    w ──┘                                   h._op is Mul,  Mul.inputs == (x, w)

``backward`` orders the tensors so that each one comes after every tensor computed from it
(a topological order, built with an explicit stack rather than recursion, so a chain of a
million ops does not overflow Python's stack), then walks that order once: each op turns the
gradient of its output into gradients of its inputs, and gradients from several uses of the
same tensor are added together.
"""

import functools
import threading

import numpy as np

from . import anomaly

_state = threading.local()


def is_grad_enabled():
    """True unless inside ``no_grad()`` (the setting is per thread, as in PyTorch)."""
    return getattr(_state, "enabled", True)


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


def current_scope():
    """The ``nn.Module`` calls under way, outermost first, as ((path, class name), ...)."""
    return getattr(_state, "scope", ())


class module_scope:
    """Mark the ops recorded inside the block as run by the module at ``path``.

    ``nn.Module.__call__`` uses it so that the graph drawing can box each module's ops.
    """

    def __init__(self, path, kind):
        self.entry = (path, kind)

    def __enter__(self):
        self.previous = current_scope()
        _state.scope = self.previous + (self.entry,)

    def __exit__(self, *exc):
        _state.scope = self.previous
        return False


def toposort(root):
    """Tensors that ``root`` depends on and that require grad, each after all its inputs.

    Iterative depth-first search: a tensor is appended once all of its inputs are.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        op = tensor._op
        if op is not None:
            for parent in op.inputs:
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    return order


def _store_grad(tensor, grad):
    """Add ``grad`` into ``tensor.grad`` (creating it), in the tensor's own dtype."""
    from .tensor import Tensor

    if tensor.grad is None:
        # a fresh, writable copy: grad may be a read-only broadcast view or shared with the graph
        tensor.grad = Tensor(np.array(grad, dtype=tensor.data.dtype, copy=True))
    else:
        tensor.grad.data += grad


def backward(root, gradient=None, retain_graph=False):
    """Fill ``.grad`` of every leaf tensor that ``root`` depends on and that requires grad.

    ``gradient`` is d(something)/d(root); it defaults to 1 when ``root`` has one element.
    Gradients add up across calls until zeroed. Unless ``retain_graph`` is True, the saved
    buffers of every op in the graph are released afterwards.
    """
    from .tensor import Tensor

    if not root.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad and has no graph; make sure some "
            "input was created with requires_grad=True and that you are not inside no_grad()")
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward: the tensor has shape {root.shape}, not a single element; pass "
                "gradient= (an array of that shape), or reduce it first, e.g. loss.sum()")
        seed = np.ones(root.shape, dtype=root.data.dtype)
    else:
        seed = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient)
        if seed.shape != root.shape:
            raise ValueError(
                f"backward: gradient has shape {seed.shape} but the tensor has shape {root.shape}")
        seed = seed.astype(root.data.dtype, copy=False)

    def keep(tensor, grad):
        if tensor._op is None or tensor._retains_grad:
            _store_grad(tensor, grad)

    _propagate(root, seed, retain_graph, keep)


def gradients(root, tensors):
    """d root / d t for each of ``tensors``, as {id(t): array}, leaving every ``.grad`` alone.

    ``root`` must have one element; the graph is kept (as with ``retain_graph=True``).
    """
    wanted = {id(t) for t in tensors}
    found = {}

    def keep(tensor, grad):
        if id(tensor) in wanted:
            found[id(tensor)] = grad

    _propagate(root, np.ones(root.shape, dtype=root.data.dtype), True, keep)
    return found


def _propagate(root, seed, retain_graph, keep):
    """The backward pass proper: walk the graph from ``root`` with ``seed`` as its gradient.

    ``keep(tensor, grad)`` receives the total gradient of every tensor on the way, once all
    of its uses have contributed.
    """
    order = toposort(root)
    grads = {id(root): seed}
    for tensor in reversed(order):
        grad = grads.pop(id(tensor), None)
        if grad is None:
            continue
        keep(tensor, grad)
        op = tensor._op
        if op is None:
            continue
        if op.released:
            raise RuntimeError(
                f"backward: the graph through {type(op).__name__} was released by an earlier "
                "backward(); pass retain_graph=True to the first backward() call if you need "
                "to go through the same graph twice")
        input_grads = op.backward(grad)
        if anomaly.ACTIVE:
            anomaly.check_backward(op, grad, input_grads)
        for parent, parent_grad in zip(op.inputs, input_grads):
            if parent_grad is None or not parent.requires_grad:
                continue
            key = id(parent)
            if key in grads:
                grads[key] = grads[key] + parent_grad
            else:
                grads[key] = parent_grad
    if not retain_graph:
        for tensor in order:
            if tensor._op is not None:
                tensor._op.release()
