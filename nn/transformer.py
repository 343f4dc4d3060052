"""The Transformer of "Attention Is All You Need", as PyTorch's ``nn.Transformer`` family.

Built only from modules this package already has: each layer is a ``MultiheadAttention``,
two ``Linear`` maps with an activation between them (the feed-forward block), ``LayerNorm``s
and ``Dropout``s, joined by residual connections. The stacks deep-copy one layer
``num_layers`` times. Autograd differentiates all of it through the Tensor operations.

Sub-module and parameter names are PyTorch's (``self_attn.in_proj_weight``,
``linear1.weight``, ``norm1.bias``, ``encoder.layers.0...``), so a PyTorch ``state_dict``
loads with ``load_state_dict``.
"""

import copy

import numpy as np

from tinygrad_edu import Tensor

from . import functional as F
from . import init
from .attention import MultiheadAttention
from .layers import Dropout, Linear
from .module import Module, ModuleList, _check_device
from .normalization import LayerNorm

_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


def _activation(activation, layer):
    """The feed-forward activation: "relu" / "gelu" name nn.functional's, a callable is kept."""
    if isinstance(activation, str):
        if activation not in _ACTIVATIONS:
            raise ValueError(f"{layer}: activation should be 'relu' or 'gelu' (or a callable), "
                             f"not {activation!r}")
        return _ACTIVATIONS[activation]
    if not callable(activation):
        raise TypeError(f"{layer}: activation must be 'relu', 'gelu' or a callable, got a "
                        f"{type(activation).__name__}")
    return activation


def _check_sizes(d_model, nhead, dim_feedforward, dropout, layer):
    for name, value in (("d_model", d_model), ("nhead", nhead),
                        ("dim_feedforward", dim_feedforward)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{layer}: {name} must be a positive int, got {value!r}")
    if d_model % nhead:
        raise ValueError(f"{layer}: d_model {d_model} must be divisible by nhead {nhead} "
                         "(each attention head gets d_model // nhead features)")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
            or not 0 <= dropout <= 1:
        raise ValueError(f"{layer}: dropout must be in [0, 1], got {dropout!r}")


def _as_input(x):
    return x if isinstance(x, Tensor) else Tensor(x)


class _Layer(Module):
    """What the encoder and decoder layers share: sizes, the feed-forward block, input checks."""

    def _setup(self, d_model, nhead, dim_feedforward, dropout, batch_first, norm_first, bias,
               device, dtype):
        """Check the sizes, keep them, and create ``self_attn``; returns the class name."""
        name = type(self).__name__
        if device is not None:
            _check_device(device, name)
        _check_sizes(d_model, nhead, dim_feedforward, dropout, name)
        self.d_model = int(d_model)
        self.nhead = int(nhead)
        self.batch_first = bool(batch_first)
        self.norm_first = bool(norm_first)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        return name

    def _feed_forward_modules(self, dim_feedforward, dropout, bias, dtype):
        # registered in PyTorch's order, so state_dict keys come out in the same order
        dtype = np.float32 if dtype is None else dtype
        self.linear1 = Linear(self.d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, self.d_model, bias=bias, dtype=dtype)

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _feed_forward(self, x):
        # the same small MLP at every position: (..., d_model) -> (..., dim_feedforward) -> back
        return self.linear2(self.dropout(self.activation(self.linear1(x))))

    def _check(self, name, x, ndim=None):
        """``x`` as a Tensor of shape (S, N, d_model), (N, S, d_model) or (S, d_model)."""
        x = _as_input(x)
        layout = "(N, S, d_model)" if self.batch_first else "(S, N, d_model)"
        if x.ndim not in (2, 3) or x.shape[-1] != self.d_model:
            raise ValueError(f"{self._describe()} expected {name} of shape {layout} or unbatched "
                             f"(S, d_model), with d_model = {self.d_model}, got {x.shape}")
        if ndim is not None and x.ndim != ndim:
            raise ValueError(f"{self._describe()}: {name} has {x.ndim} axes but the target has "
                             f"{ndim}; both batched (3 axes) or both unbatched (2)")
        return x

    def _short_repr(self):
        return f"{type(self).__name__}(d_model={self.d_model}, nhead={self.nhead})"


class TransformerEncoderLayer(_Layer):
    """Self-attention, then a feed-forward block, each with a residual connection and LayerNorm.

    ``TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1,
    activation="relu", layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True)``;
    ``activation`` is "relu", "gelu" or any callable (a Module such as ``nn.GELU()`` becomes a
    sub-module). Post-norm (the default, as the original paper)::

        x = norm1(x + dropout1(self_attn(x, x, x)))
        x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))

    ``norm_first=True`` (pre-norm) normalises each block's input instead:
    ``x = x + dropout1(self_attn(norm1(x)))``, ``x = x + dropout2(ff(norm2(x)))``.

    ``layer(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``: src (S, N, E),
    (N, S, E) with ``batch_first``, or unbatched (S, E) -> the same shape. Masks as
    ``MultiheadAttention``'s: src_mask (S, S) or (N * nhead, S, S), key padding (N, S); a
    bool True means "may not attend", a float mask is added to the scores. ``is_causal`` is
    only a hint, as in PyTorch: the causal mask itself must be passed as src_mask.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        name = self._setup(d_model, nhead, dim_feedforward, dropout, batch_first, norm_first,
                           bias, device, dtype)
        self._feed_forward_modules(dim_feedforward, dropout, bias, dtype)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(activation, name)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """One encoder layer; see the class docstring for shapes and masks."""
        x = self._check("src", src)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self.dropout2(self._feed_forward(self.norm2(x)))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self.dropout2(self._feed_forward(x)))
        return x


class TransformerDecoderLayer(_Layer):
    """Masked self-attention, attention to the encoder's output, then a feed-forward block.

    ``TransformerDecoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1,
    activation="relu", layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True)``.
    Post-norm (the default)::

        x = norm1(x + dropout1(self_attn(x, x, x)))
        x = norm2(x + dropout2(multihead_attn(x, memory, memory)))
        x = norm3(x + dropout3(linear2(dropout(activation(linear1(x))))))

    ``norm_first=True``: ``x = x + block(norm_i(x))`` for each of the three blocks.

    ``layer(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)``: tgt (T, N, E),
    memory (S, N, E) (``batch_first``: (N, T, E), (N, S, E); unbatched: (T, E), (S, E)) ->
    the shape of tgt. tgt_mask (T, T), memory_mask (T, S); key padding masks (N, T), (N, S).
    The ``*_is_causal`` flags are hints only: pass the masks themselves.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        name = self._setup(d_model, nhead, dim_feedforward, dropout, batch_first, norm_first,
                           bias, device, dtype)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first, dtype=dtype)
        self._feed_forward_modules(dim_feedforward, dropout, bias, dtype)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation(activation, name)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        """One decoder layer; see the class docstring for shapes and masks."""
        x = self._check("tgt", tgt)
        memory = self._check("memory", memory, ndim=x.ndim)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            x = x + self.dropout3(self._feed_forward(self.norm3(x)))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                               memory_is_causal))
            x = self.norm3(x + self.dropout3(self._feed_forward(x)))
        return x

    def _mha_block(self, x, memory, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, memory, memory, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, need_weights=False,
                                is_causal=is_causal)[0]
        return self.dropout2(x)


def _clones(layer, num_layers, stack):
    """``num_layers`` independent deep copies of ``layer`` (own parameters each), as a list."""
    if not isinstance(layer, Module):
        raise TypeError(f"{stack}: the layer to repeat must be a Module, got a "
                        f"{type(layer).__name__}")
    if isinstance(num_layers, bool) or not isinstance(num_layers, (int, np.integer)) \
            or num_layers < 0:
        raise ValueError(f"{stack}: num_layers must be a non-negative int, got {num_layers!r}")
    return ModuleList([copy.deepcopy(layer) for _ in range(num_layers)])


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of an encoder layer, then an optional final ``norm``.

    ``TransformerEncoder(encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
    mask_check=True)``: the layer is deep-copied, so every copy has its own parameters
    (``layers.0.self_attn.in_proj_weight``, ``layers.1...``) and the ``encoder_layer`` passed
    in is not itself part of the stack. ``enable_nested_tensor`` and ``mask_check`` are
    accepted and ignored: PyTorch's nested-tensor fast path is a speed trick, and where it
    applies (batch_first, eval mode, a key padding mask) PyTorch returns 0 at padded
    positions; here they hold ordinary values, which later layers never attend to.

    ``encoder(src, mask=None, src_key_padding_mask=None, is_causal=None)`` -> the shape of
    src; every layer gets the same masks.
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers, "TransformerEncoder")
        self.num_layers = int(num_layers)
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = False
        self.mask_check = mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        """Run src through every layer, then the final norm (if any)."""
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                           is_causal=bool(is_causal))
        return output if self.norm is None else self.norm(output)


class TransformerDecoder(Module):
    """A stack of ``num_layers`` copies of a decoder layer, then an optional final ``norm``.

    ``TransformerDecoder(decoder_layer, num_layers, norm=None)``; the layer is deep-copied
    (``layers.0...``, ``layers.1...``, each with its own parameters).

    ``decoder(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False)`` -> the shape
    of tgt; every layer attends to the same ``memory`` with the same masks.
    """

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers, "TransformerDecoder")
        self.num_layers = int(num_layers)
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        """Run tgt through every layer (each attending to memory), then the final norm."""
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=bool(tgt_is_causal),
                           memory_is_causal=bool(memory_is_causal))
        return output if self.norm is None else self.norm(output)


class Transformer(Module):
    """Encoder-decoder Transformer: ``decoder(tgt, encoder(src))``, as PyTorch's.

    ``Transformer(d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
    dim_feedforward=2048, dropout=0.1, activation="relu", custom_encoder=None,
    custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True)``.
    Sub-modules ``encoder`` (a TransformerEncoder with a final LayerNorm ``encoder.norm``) and
    ``decoder`` (likewise, ``decoder.norm``), or the custom ones. Every parameter with more
    than one axis is re-drawn with ``xavier_uniform_``, as PyTorch does (biases and norms keep
    their layers' init).

    ``model(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
    src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
    src_is_causal=None, tgt_is_causal=None, memory_is_causal=False)``: src (S, N, E), tgt
    (T, N, E) (``batch_first``: (N, S, E), (N, T, E); unbatched (S, E), (T, E)) -> (T, N, E).
    For a decoder that may not look ahead, pass
    ``tgt_mask=Transformer.generate_square_subsequent_mask(T)``.
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None):
        super().__init__()
        if device is not None:
            _check_device(device, "Transformer")
        sizes = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                     layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                     norm_first=norm_first, bias=bias, dtype=dtype)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, **sizes)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            self.encoder = TransformerEncoder(layer, num_encoder_layers, norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, **sizes)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            self.decoder = TransformerDecoder(layer, num_decoder_layers, norm)
        self._reset_parameters()
        self.d_model = int(d_model)
        self.nhead = int(nhead)
        self.batch_first = bool(batch_first)

    def _reset_parameters(self):
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        """Encode src, decode tgt against it; see the class docstring for shapes."""
        src, tgt = _as_input(src), _as_input(tgt)
        batch_axis = 0 if self.batch_first else 1
        if src.ndim == 3 and (tgt.ndim != 3 or src.shape[batch_axis] != tgt.shape[batch_axis]):
            raise ValueError(f"{self._describe()}: the batch number of src and tgt must be equal; "
                             f"got src {src.shape} and tgt {tgt.shape} "
                             f"(batch_first={self.batch_first})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ValueError(f"{self._describe()}: the feature number of src and tgt must be "
                             f"equal to d_model = {self.d_model}; got src {src.shape} and tgt "
                             f"{tgt.shape}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """A float (sz, sz) mask for causal attention: 0 on and below the diagonal, -inf above.

        Added to the attention scores, it stops position i from attending to any j > i.
        float32 unless ``dtype`` says otherwise.
        """
        if device is not None:
            _check_device(device, "generate_square_subsequent_mask")
        if isinstance(sz, bool) or not isinstance(sz, (int, np.integer)) or sz < 0:
            raise ValueError(f"generate_square_subsequent_mask: sz must be a non-negative int, "
                             f"got {sz!r}")
        dtype = np.float32 if dtype is None else dtype
        return Tensor.full((int(sz), int(sz)), float("-inf"), dtype=dtype).triu(1)

    def _short_repr(self):
        return f"Transformer(d_model={self.d_model}, nhead={self.nhead})"
