"""Integer inputs: one_hot and embedding (PyTorch's ``F.one_hot``, ``F.embedding``).

An embedding lookup is plain integer indexing, ``weight[indices]``: its gradient is the
adjoint of indexing (``ops.GetItem``'s backward adds each output row's gradient back into
the row it was read from, twice for an index used twice), so nothing here differentiates.
"""

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Tensor

from .activations import _as_tensor

# PyTorch's renormalisation divides by norm + 1e-7, so a row of norm exactly max_norm still
# shrinks a hair; kept for identical values
_MAX_NORM_EPS = 1e-7


def _integer_indices(input, name):
    """The index array of ``input`` (a Tensor, array or list of ints), or a TypeError."""
    indices = input.numpy() if isinstance(input, Tensor) else np.asarray(input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{name}: indices must be integers (int64, as PyTorch's LongTensor), "
                        f"got {indices.dtype} of shape {indices.shape}; convert with .long()")
    return indices


def one_hot(tensor, num_classes=-1):
    """Class labels as one-hot rows: shape (*, ) -> (*, num_classes), dtype int64, no gradient.

    ``one_hot(tg.tensor([0, 2]), 3)`` is ``[[1, 0, 0], [0, 0, 1]]``. With ``num_classes=-1`` the
    number of classes is ``max(tensor) + 1`` (an empty tensor then raises: there is nothing
    to count). Negative labels and labels >= num_classes raise a ValueError naming the first
    one. The result is int64, as in PyTorch: call ``.float()`` to multiply it with logits.
    """
    name = "one_hot"
    labels = _integer_indices(tensor, name)
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"{name}: num_classes must be an int, got {num_classes!r}")
    if num_classes < -1:
        raise ValueError(f"{name}: num_classes must be -1 (infer) or non-negative, got "
                         f"{num_classes}")
    if labels.size and labels.min() < 0:
        raise ValueError(f"{name}: class values must be non-negative, found {labels.min()} "
                         f"(input shape {labels.shape})")
    if num_classes == -1:
        if labels.size == 0:
            raise ValueError(f"{name}: cannot infer the number of classes from an empty "
                             f"tensor (shape {labels.shape}); pass num_classes=")
        num_classes = int(labels.max()) + 1
    elif labels.size and labels.max() >= num_classes:
        raise ValueError(f"{name}: class values must be smaller than num_classes="
                         f"{num_classes}, found {labels.max()} (input shape {labels.shape})")
    out = (labels[..., None] == np.arange(num_classes)).astype(np.int64)
    return Tensor(out)


def _check_index_range(indices, num_embeddings, name):
    """An IndexError for the first index outside 0..num_embeddings-1 (numpy would wrap -1)."""
    bad = (indices < 0) | (indices >= num_embeddings)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise IndexError(f"{name}: index {indices[where]} at position {where} is out of range "
                         f"for a table of {num_embeddings} rows (indices must be in "
                         f"0..{num_embeddings - 1}; input shape {indices.shape})")


def _padding_row(padding_idx, num_embeddings, name):
    """padding_idx as a row number in 0..num_embeddings-1 (negative counts from the end)."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"{name}: padding_idx must be within num_embeddings "
                         f"({num_embeddings}), got {padding_idx}")
    return padding_idx % num_embeddings


def renorm_rows_(weight, indices, max_norm, norm_type=2.0):
    """Shrink, in place, each row of ``weight`` used by ``indices`` whose norm exceeds max_norm.

    Rows are scaled to norm ``max_norm`` (PyTorch's ``embedding_renorm_``). A plain update of
    the table under ``no_grad``, not part of the graph.
    """
    rows = np.unique(indices)
    with tg.no_grad():
        picked = weight.numpy()[rows]
        norms = np.linalg.norm(picked, ord=norm_type, axis=1)
        big = norms > max_norm
        if big.any():
            scale = (max_norm / (norms[big] + _MAX_NORM_EPS)).astype(picked.dtype)
            weight[rows[big]] = picked[big] * scale[:, None]


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by integer ``input``: (*) indices, (V, D) table -> (*, D).

    ``weight[input]``; the gradient adds up in the rows that were picked. ``padding_idx``: that
    row's outputs get no gradient (its value is used as it is). ``max_norm``: before the
    lookup, the rows used whose ``norm_type``-norm exceeds max_norm are rescaled in place to
    norm max_norm, as in PyTorch. Indices outside 0..V-1 raise an IndexError (numpy would read
    -1 as the last row). ``scale_grad_by_freq`` and ``sparse`` gradients are not supported.
    """
    name = "embedding"
    if scale_grad_by_freq:
        raise ValueError(f"{name}: scale_grad_by_freq=True is not supported (it needs its own "
                         "derivative); leave it False")
    if sparse:
        raise ValueError(f"{name}: sparse=True is not supported (there are no sparse "
                         "tensors); leave it False: the gradient is a dense tensor")
    weight = _as_tensor(weight)
    if weight.ndim != 2:
        raise ValueError(f"{name}: weight must be a 2-D table (num_embeddings, embedding_dim), "
                         f"got shape {weight.shape}")
    indices = _integer_indices(input, name)
    num_embeddings = weight.shape[0]
    _check_index_range(indices, num_embeddings, name)
    padding_idx = _padding_row(padding_idx, num_embeddings, name)
    if max_norm is not None:
        renorm_rows_(weight, indices, max_norm, norm_type)
    out = weight[indices]                                  # (*, D)
    if padding_idx is not None and weight.requires_grad:
        at_padding = (indices == padding_idx)[..., None]   # (*, 1), broadcast over D
        if at_padding.any():
            # same values, but the padding positions read a detached copy: no gradient
            out = tg.where(at_padding, out.detach(), out)
    return out
