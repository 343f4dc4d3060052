"""Attention as a function: scaled_dot_product_attention, as PyTorch's.

softmax(Q K^T / sqrt(E) + mask) V, written in Tensor operations (two matmuls and a softmax),
so autograd differentiates it like anything else. ``nn.MultiheadAttention`` runs the same
computation (``attention``, below) on its projected heads.
"""

import math

import numpy as np

from tinygrad_edu import Tensor

from .activations import dropout


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _check_probability(p, where):
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"{where}: dropout_p is a probability and must be in [0, 1], got {p!r}")
    return float(p)


def mask_to_bias(mask, allowed_when, dtype, where, name):
    """A mask as an additive bias: 0 where a query may look at a key, -inf where it may not.

    ``mask``: a boolean array or Tensor (``allowed_when`` says which value allows: True for
    ``scaled_dot_product_attention``, False for ``MultiheadAttention``'s masks, as in
    PyTorch), or a float one, returned as it is (added to the scores: a learnable bias keeps
    its gradient). Returns a Tensor of ``dtype`` (floats are converted), or None for None.
    """
    if mask is None:
        return None
    mask = _as_tensor(mask)
    if mask.dtype == np.bool_:
        allowed = mask.numpy() if allowed_when else ~mask.numpy()
        return Tensor(np.where(allowed, 0.0, -np.inf).astype(dtype))
    if mask.dtype.kind != "f":
        raise TypeError(f"{where}: {name} must be boolean or floating point, got {mask.dtype}")
    return mask if mask.dtype == dtype else mask.to(dtype)


def attention(query, key, value, bias=None, dropout_p=0.0, scale=None, empty_rows_to_zero=True):
    """(softmax(query @ key^T * scale + bias) with dropout) @ value, and the weights.

    query (..., L, E), key (..., S, E), value (..., S, Ev), bias broadcastable to
    (..., L, S) or None -> (output (..., L, Ev), weights (..., L, S)); ``scale`` defaults
    to 1/sqrt(E). A query row whose keys are all at -inf has no distribution to take:
    with ``empty_rows_to_zero`` its weights (and output) are 0, as PyTorch's
    ``scaled_dot_product_attention`` gives, else NaN, as ``MultiheadAttention`` with
    ``need_weights=True`` gives. Shapes are not checked here: the callers do that.
    """
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * scale          # (..., L, S)
    if bias is not None:
        scores = scores + bias
    empty = None
    if bias is not None and empty_rows_to_zero:
        # rows masked everywhere: softmax of all -inf is 0/0. Give them plain zeros instead
        # (a constant row before the softmax, zeroed after: no gradient reaches them)
        masked = np.isneginf(np.broadcast_to(bias.detach().numpy(), scores.shape))
        empty = masked.all(-1, keepdims=True)
        if empty.any():
            scores = scores.masked_fill(empty, 0.0)
        else:
            empty = None
    weights = scores.softmax(-1)
    if empty is not None:
        weights = weights * Tensor((~empty).astype(weights.dtype))
    if dropout_p > 0:
        weights = dropout(weights, dropout_p, True)
    return weights @ value, weights


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(query @ key^T / sqrt(E) + mask) @ value: every query's weighted mean of values.

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); leading axes
    (batch, heads) broadcast. ``attn_mask``: boolean, **True where a query may attend**
    (PyTorch's convention here; ``MultiheadAttention``'s masks are the other way round), or
    float, added to the scores; broadcastable to (..., L, S). ``is_causal=True`` lets query
    i see keys 0..i only (a lower-triangular mask aligned at the top left; not together with
    ``attn_mask``). ``scale`` replaces 1/sqrt(E). ``dropout_p`` drops attention weights
    whenever it is above 0 (this function has no training flag: pass 0 to evaluate).
    ``enable_gqa=True`` lets key and value have fewer heads (axis -3) than query, each
    serving a group of consecutive query heads. A query row with every key masked gives
    zeros (and zero gradient), as PyTorch does, not NaN.
    """
    where = "scaled_dot_product_attention"
    query, key, value = _as_tensor(query), _as_tensor(key), _as_tensor(value)
    for name, t in (("query", query), ("key", key), ("value", value)):
        if t.ndim < 2:
            raise ValueError(f"{where}: {name} needs at least 2 axes (sequence, features), got "
                             f"shape {t.shape}")
        if t.dtype.kind != "f":
            raise TypeError(f"{where}: {name} must be floating point, got {t.dtype}")
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(f"{where}: query {query.shape} and key {key.shape} need the same "
                         "feature size E (last axis)")
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(f"{where}: key {key.shape} and value {value.shape} need the same "
                         "sequence length S (axis -2)")
    dropout_p = _check_probability(dropout_p, where)
    if enable_gqa:
        key, value = _repeat_heads(query, key, value, where)
    try:
        batch = np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except ValueError:
        raise ValueError(f"{where}: the leading (batch, head) axes of query {query.shape}, key "
                         f"{key.shape} and value {value.shape} do not broadcast") from None
    L, S = query.shape[-2], key.shape[-2]
    if is_causal and attn_mask is not None:
        raise ValueError(f"{where}: pass either attn_mask or is_causal=True, not both (the "
                         "causal mask is built from the shapes)")
    if is_causal:
        attn_mask = np.tril(np.ones((L, S), dtype=bool))      # query i sees keys 0..i
    bias = mask_to_bias(attn_mask, True, query.dtype, where, "attn_mask")
    if bias is not None:
        try:
            np.broadcast_shapes(bias.shape, batch + (L, S))
        except ValueError:
            raise ValueError(f"{where}: attn_mask of shape {bias.shape} does not broadcast to "
                             f"the attention scores' shape {batch + (L, S)} (..., L, S)") from None
    return attention(query, key, value, bias, dropout_p, scale)[0]


def _repeat_heads(query, key, value, where):
    """key and value with each of their heads repeated for its group of query heads."""
    if min(query.ndim, key.ndim, value.ndim) < 3:
        raise ValueError(f"{where}: enable_gqa needs a heads axis (-3) in query, key and value, "
                         f"got shapes {query.shape}, {key.shape}, {value.shape}")
    heads, kv_heads = query.shape[-3], key.shape[-3]
    if value.shape[-3] != kv_heads or heads % kv_heads:
        raise ValueError(f"{where}: with enable_gqa, key and value need the same number of heads, "
                         f"dividing query's {heads}; got key {key.shape}, value {value.shape}")
    group = heads // kv_heads

    def repeat(t):   # (..., Hkv, S, E) -> (..., Hkv * group, S, E), each head `group` times
        *lead, h, s, e = t.shape
        return t.unsqueeze(-3).expand(*lead, h, group, s, e).reshape(*lead, h * group, s, e)

    return repeat(key), repeat(value)
