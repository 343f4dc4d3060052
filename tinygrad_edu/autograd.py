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

_state = threading.local()


def is_grad_enabled():
    """True unless inside ``no_grad()`` (the setting is per thread, as in PyTorch)."""
    return getattr(_state, "enabled", True)


def _set_enabled(flag):
    _state.enabled = bool(flag)


class set_grad_enabled:
    """Context manager (and decorator) that turns graph recording on or off.

    ``with tg.set_grad_enabled(False): ...`` records nothing inside the block. The previous
    setting comes back when the block ends, even on an exception.
    """

    def __init__(self, mode):
        self.mode = bool(mode)

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
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


class no_grad(set_grad_enabled):
    """Record nothing inside the block: results have ``requires_grad=False`` and no graph.

    Use it for evaluation and for optimizer updates::

        with tg.no_grad():
            accuracy = (model(x_test).argmax(axis=1) == y_test).float().mean()

    Also works as a decorator (``@tg.no_grad()``).
    """

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Record again inside the block, even within an outer ``no_grad()``."""

    def __init__(self):
        super().__init__(True)


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

    order = toposort(root)
    grads = {id(root): seed}
    for tensor in reversed(order):
        grad = grads.pop(id(tensor), None)
        if grad is None:
            continue
        op = tensor._op
        if op is None:
            _store_grad(tensor, grad)
            continue
        if tensor._retains_grad:
            _store_grad(tensor, grad)
        if op.released:
            raise RuntimeError(
                f"backward: the graph through {type(op).__name__} was released by an earlier "
                "backward(); pass retain_graph=True to the first backward() call if you need "
                "to go through the same graph twice")
        for parent, parent_grad in zip(op.inputs, op.backward(grad)):
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
