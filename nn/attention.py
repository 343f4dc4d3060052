"""MultiheadAttention, as PyTorch's ``nn.MultiheadAttention``.

Each head attends in its own slice of the embedding: the inputs are projected to queries,
keys and values (one weight matrix for all heads), cut into ``num_heads`` pieces of
``embed_dim // num_heads`` features, each piece runs softmax(q k^T / sqrt(head_dim)) v,
and the heads are joined and projected again (``out_proj``). All in Tensor operations.
"""

import numpy as np

from tinygrad_edu import Tensor

from . import init
from .functional.attention import attention, mask_to_bias
from .layers import Linear
from .module import Module, Parameter, _check_device


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under another name: the class of ``MultiheadAttention.out_proj``, as in
    PyTorch (whose quantization tools leave layers of this name alone), so the printed model
    reads the same. Nothing else differs from Linear."""


class MultiheadAttention(Module):
    """Attention with ``num_heads`` heads: out_proj(concat_h softmax(q_h k_h^T / sqrt(d)) v_h).

    ``MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
    add_zero_attn=False, kdim=None, vdim=None, batch_first=False)``.

    Call ``mha(query, key, value, key_padding_mask=None, need_weights=True,
    attn_mask=None, average_attn_weights=True, is_causal=False)`` ->
    ``(attn_output, attn_weights)``. Shapes: query (L, N, embed_dim), key (S, N, kdim), value
    (S, N, vdim) -> output (L, N, embed_dim); with ``batch_first`` every input and the output
    are (N, L, ...); unbatched inputs (L, embed_dim) give (L, embed_dim). The weights are
    (N, L, S) averaged over heads, (N, num_heads, L, S) with ``average_attn_weights=False``,
    None with ``need_weights=False``; taken after dropout, as PyTorch returns them.

    Masks, **True means "may not attend"** here (the opposite of
    ``F.scaled_dot_product_attention``): ``key_padding_mask`` (N, S) marks padding keys;
    ``attn_mask`` (L, S) or (N * num_heads, L, S) masks query/key pairs. Float masks are
    added to the scores instead. ``is_causal`` is only a hint, as in PyTorch: the mask
    itself must still be given as ``attn_mask``.

    Parameters, named as PyTorch's: ``in_proj_weight`` (3 * embed_dim, embed_dim), rows for
    q, k, v (or ``q_proj_weight``, ``k_proj_weight`` (embed_dim, kdim), ``v_proj_weight``
    (embed_dim, vdim) when kdim or vdim differ), ``in_proj_bias`` (3 * embed_dim,), and
    ``out_proj``, a Linear(embed_dim, embed_dim) (of the subclass
    NonDynamicallyQuantizableLinear, as PyTorch's); with ``add_bias_kv``, ``bias_k`` and
    ``bias_v`` (1, 1, embed_dim), appended to the keys and values as one more position.
    Initialised as PyTorch: Xavier-uniform input projections, zero biases, out_proj.weight
    as a Linear's. Surprise kept from PyTorch: a query whose keys are all masked gives NaN
    with ``need_weights=True`` and zeros with ``need_weights=False``.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        if device is not None:
            _check_device(device, "MultiheadAttention")
        dtype = np.float32 if dtype is None else dtype
        for name, value in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"MultiheadAttention: {name} must be a positive int, got "
                                 f"{value!r}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} must be divisible by "
                             f"num_heads {num_heads} (each head gets embed_dim // num_heads "
                             "features)")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0 <= dropout <= 1:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1], got {dropout!r}")
        self.embed_dim = int(embed_dim)
        self.kdim = self.embed_dim if kdim is None else int(kdim)
        self.vdim = self.embed_dim if vdim is None else int(vdim)
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.num_heads = int(num_heads)
        self.dropout = dropout                  # as given, as PyTorch
        self.batch_first = bool(batch_first)
        self.head_dim = self.embed_dim // self.num_heads
        self.add_zero_attn = bool(add_zero_attn)
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(Tensor.zeros(3 * E, E, dtype=dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(Tensor.zeros(E, E, dtype=dtype))
            self.k_proj_weight = Parameter(Tensor.zeros(E, self.kdim, dtype=dtype))
            self.v_proj_weight = Parameter(Tensor.zeros(E, self.vdim, dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(Tensor.zeros(3 * E, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(E, E, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(Tensor.zeros(1, 1, E, dtype=dtype))
            self.bias_v = Parameter(Tensor.zeros(1, 1, E, dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _short_repr(self):
        return f"MultiheadAttention({self.embed_dim}, heads={self.num_heads})"

    # ----- input checks ----------------------------------------------------------------------

    def _inputs(self, query, key, value):
        """query, key, value as (L, N, E), (S, N, kdim), (S, N, vdim), and whether batched."""
        names = ("query", "key", "value")
        sizes = (self.embed_dim, self.kdim, self.vdim)
        tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in (query, key, value)]
        layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
        for name, t, size in zip(names, tensors, sizes):
            if t.dtype.kind != "f":
                raise TypeError(f"{self._describe()} got {name} of dtype {t.dtype}; it needs "
                                "floating-point values")
            if t.ndim not in (2, 3) or t.shape[-1] != size:
                raise ValueError(f"{self._describe()} expected {name} of shape {layout} or "
                                 f"unbatched (L, E), with E = {size}, got {t.shape}")
        if len({t.ndim for t in tensors}) != 1:
            raise ValueError(f"{self._describe()}: query, key and value need the same number of "
                             "axes (3 batched, 2 unbatched), got shapes "
                             f"{tensors[0].shape}, {tensors[1].shape}, {tensors[2].shape}")
        batched = tensors[0].ndim == 3
        if batched and self.batch_first:
            tensors = [t.transpose(0, 1) for t in tensors]
        elif not batched:
            tensors = [t.unsqueeze(1) for t in tensors]
        q, k, v = tensors
        if k.shape[:2] != v.shape[:2] or q.shape[1] != k.shape[1]:
            raise ValueError(f"{self._describe()}: key and value need the same sequence length "
                             f"and all three the same batch size; got query {query.shape}, key "
                             f"{key.shape}, value {value.shape}")
        return q, k, v, batched

    def _masks(self, key_padding_mask, attn_mask, dtype, L, S, N, batched):
        """Both masks as one additive bias broadcastable to (N, heads, L, S), or None."""
        where = self._describe()
        bias = None
        if attn_mask is not None:
            mask = mask_to_bias(attn_mask, False, dtype, where, "attn_mask")
            allowed = ((L, S), (N * self.num_heads, L, S))
            if mask.shape not in allowed:
                raise ValueError(f"{where}: attn_mask must have shape (L, S) = {(L, S)} or "
                                 f"(N * num_heads, L, S) = {allowed[1]}, got {mask.shape}")
            bias = mask.reshape(-1, self.num_heads, L, S) if mask.ndim == 3 else mask
        if key_padding_mask is not None:
            mask = mask_to_bias(key_padding_mask, False, dtype, where, "key_padding_mask")
            expected = (N, S) if batched else (S,)
            if mask.shape != expected:
                raise ValueError(f"{where}: key_padding_mask must have shape {expected} "
                                 f"(batch, source length), got {mask.shape}")
            mask = mask.reshape(N, 1, 1, S)                # the same keys for every head, query
            bias = mask if bias is None else bias + mask
        return bias

    # ----- the computation -------------------------------------------------------------------

    def _project(self, query, key, value):
        """q, k, v = the inputs times their projection weights (plus in_proj_bias)."""
        E = self.embed_dim
        b = self.in_proj_bias                              # (3E,): q, then k, then v
        if self._qkv_same_embed_dim and query is key and key is value:
            return query.linear(self.in_proj_weight, b).chunk(3, -1)   # self-attention
        b_q, b_k, b_v = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight                        # rows: q, then k, then v
            w_q, w_k, w_v = w[:E], w[E:2 * E], w[2 * E:]
        else:
            w_q, w_k, w_v = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        return query.linear(w_q, b_q), key.linear(w_k, b_k), value.linear(w_v, b_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """Attend from ``query`` to ``key``/``value``; see the class docstring for shapes."""
        if is_causal and attn_mask is None:
            raise ValueError(f"{self._describe()}: is_causal=True is only a hint; pass the "
                             "causal mask itself as attn_mask (True above the diagonal)")
        same = query is key and key is value
        query, key, value, batched = self._inputs(query, key, value)
        L, N, E = query.shape
        S = key.shape[0]
        q, k, v = self._project(query, query, query) if same else \
            self._project(query, key, value)
        bias = self._masks(key_padding_mask, attn_mask, q.dtype, L, S, N, batched)
        if self.bias_k is not None:                        # one more key and value, learnt
            k = Tensor.cat([k, self.bias_k.expand(1, N, E)], 0)
            v = Tensor.cat([v, self.bias_v.expand(1, N, E)], 0)
            bias = _pad_last(bias)
        heads, d = self.num_heads, self.head_dim
        # (len, N, E) -> (N, heads, len, head_dim): each head attends on its own slice
        q = q.reshape(L, N, heads, d).permute(1, 2, 0, 3)
        k = k.reshape(k.shape[0], N, heads, d).permute(1, 2, 0, 3)
        v = v.reshape(v.shape[0], N, heads, d).permute(1, 2, 0, 3)
        if self.add_zero_attn:                             # one more key and value, all zeros
            zeros = Tensor.zeros(N, heads, 1, d, dtype=k.dtype)
            k, v = Tensor.cat([k, zeros], 2), Tensor.cat([v, zeros], 2)
            bias = _pad_last(bias)
        p = float(self.dropout) if self.training else 0.0
        out, weights = attention(q, k, v, bias, p, empty_rows_to_zero=not need_weights)
        out = out.permute(2, 0, 1, 3).reshape(L, N, E)      # heads side by side again
        out = self.out_proj(out)
        if need_weights:
            weights = weights.mean(axis=1) if average_attn_weights else weights
        else:
            weights = None
        if not batched:
            out = out.squeeze(1)
            weights = None if weights is None else weights.squeeze(0)
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, weights


def _pad_last(bias):
    """A mask bias with one more key position (allowed) at the end, or None."""
    if bias is None:
        return None
    zeros = Tensor.zeros(*bias.shape[:-1], 1, dtype=bias.dtype)
    return Tensor.cat([bias, zeros], -1)
