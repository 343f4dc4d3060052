"""Gradient clipping, as PyTorch's ``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_``.

Call it between ``loss.backward()`` and ``optimizer.step()``::

    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    opt.step()

The gradients are scaled in place (under ``no_grad``); parameters without a gradient are
skipped.
"""

import math
import warnings

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Tensor


def _gradients(parameters, where):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    try:
        parameters = list(parameters)
    except TypeError:
        raise TypeError(f"{where}: parameters must be a Tensor or an iterable of Tensors (such "
                        f"as model.parameters()), got {type(parameters).__name__}") from None
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"{where}: parameter {i} is a {type(p).__name__}, not a Tensor")
    return [p.grad for p in parameters if p.grad is not None]


def _norm(array, norm_type):
    """The norm of all elements of ``array``: (sum |x|^p)^(1/p), or max |x| for p = inf."""
    if norm_type == math.inf:
        return np.max(np.abs(array)) if array.size else np.zeros((), array.dtype)
    return np.linalg.norm(array.ravel(), ord=norm_type)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    The total norm is the ``norm_type``-norm of the vector of every gradient's norm (the
    norm of all gradients as one long vector; ``norm_type=float('inf')``: the largest
    absolute value). If it exceeds ``max_norm``, every gradient is multiplied by
    ``max_norm / (total_norm + 1e-6)``, as in PyTorch. Returns the total norm from before
    clipping, as a 0-d Tensor. ``error_if_nonfinite=True`` raises if it is NaN or inf;
    ``foreach`` is accepted and changes nothing.
    """
    grads = _gradients(parameters, "clip_grad_norm_")
    for name, value in (("max_norm", max_norm), ("norm_type", norm_type)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"clip_grad_norm_: {name} must be a non-negative number, got "
                             f"{value!r}")
    norm_type = float(norm_type)
    if not grads:
        return Tensor(np.zeros((), np.float32))
    norms = np.array([_norm(g.numpy(), norm_type) for g in grads])
    total = np.asarray(_norm(norms, norm_type), dtype=grads[0].dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           f"gradients is {total}, so they cannot be clipped; pass "
                           "error_if_nonfinite=False to clip anyway")
    # 1e-6 keeps the division finite for a zero norm; the factor never exceeds 1
    clip_coef = min(float(max_norm) / (float(total) + 1e-6), 1.0)
    with tg.no_grad():
        for g in grads:
            g.mul_(clip_coef)
    return Tensor(total)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element to ``[-clip_value, clip_value]``, in place."""
    grads = _gradients(parameters, "clip_grad_value_")
    if isinstance(clip_value, bool) or not isinstance(clip_value, (int, float)) \
            or clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be a non-negative number, got "
                         f"{clip_value!r}")
    with tg.no_grad():
        for g in grads:
            g.clamp_(-clip_value, clip_value)


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The old name of ``clip_grad_norm_`` (PyTorch keeps it, deprecated): the same, with a
    warning that says to add the underscore."""
    warnings.warn("clip_grad_norm is deprecated (as in PyTorch): use clip_grad_norm_, which "
                  "does the same in place", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)
