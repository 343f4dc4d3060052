"""Checks of arguments shared by Tensor methods and nn: axes and class labels.

Not derivatives (those are all in ops.py): these turn what a user passed into what the ops
expect, or say clearly what is wrong with it.
"""

import numpy as np


def normalize_axis(axis, shape, op):
    """Return ``axis`` as None or a tuple of non-negative ints; raise a clear error if out of range.

    As in PyTorch, a 0-d tensor accepts axis 0 or -1 (its one "axis" of size 1): reducing
    over it changes nothing, so the result is the empty tuple.
    """
    if axis is None:
        return None
    ndim = len(shape)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    result = []
    for a in axes:
        if not isinstance(a, (int, np.integer)):
            raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of range for a tensor of shape {shape} "
                             f"({ndim} dimension(s)); use an axis in "
                             f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}]")
        if ndim:
            result.append(int(a) % ndim)
    if len(set(result)) != len(result):
        raise ValueError(f"{op}: axis {axis!r} repeats an axis")
    return tuple(result)


def first_bad_label(labels, num_classes):
    """Index of the first class label outside 0..num_classes-1, or None if all are fine.

    numpy indexing would read a label of -1 as the last class, so negative labels must be
    caught as well. One pass finds both kinds: read as unsigned integers of the same width,
    a negative label becomes huge, so the largest one is out of range if any is.
    """
    if labels.size == 0 or labels.view(labels.dtype.str.replace("i", "u")).max() < num_classes:
        return None
    return int(np.argmax((labels < 0) | (labels >= num_classes)))


def pick_axis(axis, dim):
    """Methods take numpy's ``axis``; PyTorch's ``dim`` is accepted as another name for it.

    An empty list of axes means all of them, as in PyTorch (``x.sum(dim=[])``; numpy would
    reduce nothing).
    """
    axis = dim if dim is not None else axis
    if isinstance(axis, (tuple, list)) and not axis:
        return None
    return axis


def broadcasts_to(shape, target):
    """Whether an array of ``shape`` broadcasts to ``target`` without growing it (as an
    in-place write or a per-element weight must)."""
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False
