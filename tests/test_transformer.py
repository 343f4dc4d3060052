"""nn.Transformer and its parts: the math against a numpy formula, shapes, masks, gradients,
PyTorch's parameter names, errors, and the word_language_model way of subclassing it.

The numpy reference below is written from the formulas in "Attention Is All You Need" and
PyTorch's documentation (post-norm: x = norm(x + block(x)); pre-norm: x = x + block(norm(x))),
reading the weights from the module's state_dict, never calling our forward.
"""

import copy
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
import tinygrad_edu as tg
from nn.module import Parameter
from tinygrad_edu import Tensor

rng = np.random.default_rng(0)
E, H, FF = 4, 2, 6          # d_model, heads, dim_feedforward: tiny, so tests stay fast


# ----- a numpy reference of the math --------------------------------------------------------

def np_layer_norm(x, w, b, eps=1e-5):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)       # biased, as LayerNorm
    return (x - mean) / np.sqrt(var + eps) * w + b


def np_mha(sd, prefix, q_in, kv_in, bias):
    """Multi-head attention of (N, L, E) queries on (N, S, E) keys/values; bias (N, 1|H, L, S)."""
    w, b = sd[prefix + "in_proj_weight"], sd[prefix + "in_proj_bias"]
    q = q_in @ w[:E].T + b[:E]
    k = kv_in @ w[E:2 * E].T + b[E:2 * E]
    v = kv_in @ w[2 * E:].T + b[2 * E:]
    d = E // H
    heads = []
    for h in range(H):
        cut = slice(h * d, (h + 1) * d)
        scores = q[..., cut] @ np.swapaxes(k[..., cut], -1, -2) / math.sqrt(d) + bias[:, 0]
        p = np.exp(scores - scores.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        heads.append(p @ v[..., cut])
    out = np.concatenate(heads, -1)
    return out @ sd[prefix + "out_proj.weight"].T + sd[prefix + "out_proj.bias"]


def np_ff(sd, x, act):
    hidden = act(x @ sd["linear1.weight"].T + sd["linear1.bias"])
    return hidden @ sd["linear2.weight"].T + sd["linear2.bias"]


def np_relu(x):
    return np.maximum(x, 0)


def np_norm(sd, name):
    return lambda x: np_layer_norm(x, sd[name + ".weight"], sd[name + ".bias"])


def np_encoder_layer(sd, x, bias, norm_first, act=np_relu):
    """x: (N, S, E); bias: additive mask broadcastable to (N, 1, S, S)."""
    norm1, norm2 = np_norm(sd, "norm1"), np_norm(sd, "norm2")
    if norm_first:
        y = norm1(x)
        x = x + np_mha(sd, "self_attn.", y, y, bias)
        return x + np_ff(sd, norm2(x), act)
    x = norm1(x + np_mha(sd, "self_attn.", x, x, bias))
    return norm2(x + np_ff(sd, x, act))


def np_decoder_layer(sd, x, memory, self_bias, cross_bias, norm_first):
    norm1, norm2, norm3 = np_norm(sd, "norm1"), np_norm(sd, "norm2"), np_norm(sd, "norm3")
    if norm_first:
        y = norm1(x)
        x = x + np_mha(sd, "self_attn.", y, y, self_bias)
        x = x + np_mha(sd, "multihead_attn.", norm2(x), memory, cross_bias)
        return x + np_ff(sd, norm3(x), np_relu)
    x = norm1(x + np_mha(sd, "self_attn.", x, x, self_bias))
    x = norm2(x + np_mha(sd, "multihead_attn.", x, memory, cross_bias))
    return norm3(x + np_ff(sd, x, np_relu))


def arrays(module):
    """The state_dict as float64 arrays, with the norms' weights made non-trivial."""
    for name, p in module.named_parameters():
        if name.startswith("norm") or ".norm" in name:      # not just 1 and 0: test the affine
            p.data[...] = rng.uniform(0.5, 1.5, p.shape) if name.endswith("weight") \
                else rng.standard_normal(p.shape)
        if name.endswith("in_proj_bias") or name.endswith("out_proj.bias"):
            p.data[...] = rng.standard_normal(p.shape) * 0.1   # zeros at init: make them count
    return {k: np.asarray(v.numpy(), dtype=np.float64) for k, v in module.state_dict().items()}


def causal_bias(n):
    return np.triu(np.full((n, n), -np.inf), 1)


def padding_bias(mask):
    """(N, S) bool, True = padding -> (N, 1, 1, S) additive bias."""
    return np.where(mask, -np.inf, 0.0)[:, None, None, :]


# ----- the math --------------------------------------------------------------------------

@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
def test_encoder_layer_matches_numpy_formula(norm_first):
    layer = nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, norm_first=norm_first,
                                       batch_first=True, dtype=np.float64).eval()
    sd = arrays(layer)
    x = rng.standard_normal((2, 5, E))
    pad = np.array([[False] * 5, [False, False, False, True, True]])
    out = layer(Tensor(x), src_mask=nn.Transformer.generate_square_subsequent_mask(5),
                src_key_padding_mask=Tensor(pad), is_causal=True)
    bias = causal_bias(5)[None, None] + padding_bias(pad)
    expected = np_encoder_layer(sd, x, bias, norm_first)
    assert out.shape == (2, 5, E) and out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_encoder_layer_gelu_and_callable_activation():
    gelu = np.vectorize(lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2))))
    x = rng.standard_normal((3, 1, E))
    for activation, act in (("gelu", gelu), (nn.GELU(), gelu), (lambda t: t.tanh(), np.tanh)):
        layer = nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, activation=activation,
                                           dtype=np.float64)
        sd = arrays(layer)
        expected = np_encoder_layer(sd, x.transpose(1, 0, 2), np.zeros((1, 1, 3, 3)), False,
                                    act).transpose(1, 0, 2)
        np.testing.assert_allclose(layer(Tensor(x)).numpy(), expected, rtol=1e-10, atol=1e-12)
    # a Module activation is a sub-module (as in PyTorch); a function is a plain attribute
    assert "activation" not in dict(layer.named_modules())
    gelu_layer = nn.TransformerEncoderLayer(E, H, activation=nn.GELU())
    assert isinstance(dict(gelu_layer.named_modules())["activation"], nn.GELU)


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
def test_decoder_layer_matches_numpy_formula(norm_first):
    layer = nn.TransformerDecoderLayer(E, H, FF, dropout=0.0, norm_first=norm_first,
                                       dtype=np.float64).eval()
    sd = arrays(layer)
    tgt = rng.standard_normal((4, 2, E))             # (T, N, E): batch_first=False
    memory = rng.standard_normal((3, 2, E))
    memory_pad = np.array([[False, False, True], [False, False, False]])
    out = layer(Tensor(tgt), Tensor(memory),
                tgt_mask=nn.Transformer.generate_square_subsequent_mask(4, dtype=np.float64),
                memory_key_padding_mask=Tensor(memory_pad), tgt_is_causal=True)
    expected = np_decoder_layer(sd, tgt.transpose(1, 0, 2), memory.transpose(1, 0, 2),
                                causal_bias(4)[None, None], padding_bias(memory_pad),
                                norm_first).transpose(1, 0, 2)
    assert out.shape == (4, 2, E)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_dropout_only_in_training():
    tg.manual_seed(0)
    layer = nn.TransformerEncoderLayer(E, H, FF, dropout=0.5)
    x = Tensor(rng.standard_normal((3, 2, E)).astype(np.float32))
    assert not np.allclose(layer(x).numpy(), layer(x).numpy())     # two different masks
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), layer(x).numpy())


# ----- shapes and masks ------------------------------------------------------------------

@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_shapes_batched_and_unbatched(batch_first):
    model = nn.Transformer(E, H, 1, 1, FF, dropout=0.0, batch_first=batch_first)
    src_shape, tgt_shape = ((2, 5, E), (2, 3, E)) if batch_first else ((5, 2, E), (3, 2, E))
    out = model(Tensor.randn(*src_shape), Tensor.randn(*tgt_shape))
    assert out.shape == tgt_shape and out.dtype == np.float32
    assert model(Tensor.randn(5, E), Tensor.randn(3, E)).shape == (3, E)   # unbatched
    enc = model.encoder
    assert enc(Tensor.randn(*src_shape)).shape == src_shape
    memory = Tensor.randn(*src_shape)
    assert model.decoder(Tensor.randn(*tgt_shape), memory).shape == tgt_shape


SHAPE_MODELS = {bf: nn.Transformer(E, H, 1, 1, FF, dropout=0.0, batch_first=bf).eval()
                for bf in (False, True)}


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.booleans(), st.booleans())
def test_output_has_the_target_shape(S, T, N, batch_first, batched):
    model = SHAPE_MODELS[batch_first]
    if not batched:
        src_shape, tgt_shape = (S, E), (T, E)
    elif batch_first:
        src_shape, tgt_shape = (N, S, E), (N, T, E)
    else:
        src_shape, tgt_shape = (S, N, E), (T, N, E)
    out = model(Tensor.randn(*src_shape), Tensor.randn(*tgt_shape),
                tgt_mask=nn.Transformer.generate_square_subsequent_mask(T))
    assert out.shape == tgt_shape
    assert np.isfinite(out.numpy()).all()


def test_unbatched_equals_batch_of_one():
    model = nn.Transformer(E, H, 1, 1, FF, dropout=0.0, dtype=np.float64).eval()
    src, tgt = rng.standard_normal((5, E)), rng.standard_normal((3, E))
    one = model(Tensor(src), Tensor(tgt)).numpy()
    batched = model(Tensor(src[:, None]), Tensor(tgt[:, None])).numpy()[:, 0]
    np.testing.assert_allclose(one, batched, rtol=1e-12, atol=1e-12)


def test_generate_square_subsequent_mask():
    mask = nn.Transformer.generate_square_subsequent_mask(3)
    inf = -np.inf
    np.testing.assert_array_equal(mask.numpy(), [[0, inf, inf], [0, 0, inf], [0, 0, 0]])
    assert mask.dtype == np.float32 and not mask.requires_grad
    assert nn.Transformer.generate_square_subsequent_mask(2, dtype=np.float64).dtype == np.float64
    assert isinstance(nn.Transformer.__dict__["generate_square_subsequent_mask"], staticmethod)


def test_causal_mask_hides_the_future_and_padding_hides_keys():
    model = nn.Transformer(E, H, 2, 2, FF, dropout=0.0, batch_first=True,
                           dtype=np.float64).eval()
    src, tgt = rng.standard_normal((1, 4, E)), rng.standard_normal((1, 3, E))
    pad = Tensor(np.array([[False, False, True, True]]))
    kwargs = dict(tgt_mask=nn.Transformer.generate_square_subsequent_mask(3, dtype=np.float64),
                  src_key_padding_mask=pad, memory_key_padding_mask=pad)
    base = model(Tensor(src), Tensor(tgt), **kwargs).numpy()
    later = tgt.copy()
    later[0, 2] += 5.0                             # change only the last target position
    src_padded = src.copy()
    src_padded[0, 2:] += 5.0                       # change only padding source positions
    moved = model(Tensor(src_padded), Tensor(later), **kwargs).numpy()
    np.testing.assert_allclose(moved[0, :2], base[0, :2], rtol=1e-12, atol=1e-12)
    assert not np.allclose(moved[0, 2], base[0, 2])
    unmasked = model(Tensor(src), Tensor(later)).numpy()    # without the masks it would leak
    assert not np.allclose(unmasked[0, 0], base[0, 0])


def test_bool_mask_equals_float_mask():
    layer = nn.TransformerEncoderLayer(E, H, FF, dropout=0.0).eval()
    x = Tensor.randn(4, 2, E)
    bool_mask = Tensor(np.triu(np.ones((4, 4), dtype=bool), 1))
    np.testing.assert_allclose(layer(x, src_mask=bool_mask).numpy(),
                               layer(x, src_mask=nn.Transformer.generate_square_subsequent_mask(
                                   4)).numpy(), rtol=1e-6, atol=1e-6)


# ----- gradients -------------------------------------------------------------------------

def central_difference(loss, p, eps=1e-6):
    grad = np.zeros(p.shape)
    for index in np.ndindex(*p.shape):
        old = p.data[index]
        p.data[index] = old + eps
        up = loss().item()
        p.data[index] = old - eps
        down = loss().item()
        p.data[index] = old
        grad[index] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
def test_decoder_layer_gradients_match_finite_differences(norm_first):
    layer = nn.TransformerDecoderLayer(E, H, FF, dropout=0.0, norm_first=norm_first,
                                       dtype=np.float64)
    arrays(layer)
    tgt = Tensor(rng.standard_normal((3, 1, E)), requires_grad=True)
    memory = Tensor(rng.standard_normal((2, 1, E)), requires_grad=True)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=np.float64)
    weights = Tensor(rng.standard_normal((3, 1, E)))      # so the loss is not a symmetric sum

    def fn(t, m):
        return (layer(t, m, tgt_mask=mask) * weights).sum()

    assert tg.gradcheck(fn, [tgt, memory])
    layer.zero_grad()                     # gradcheck's backward passes also reached the weights
    loss = fn(tgt, memory)
    loss.backward()
    with tg.no_grad():
        for name in ("self_attn.in_proj_weight", "multihead_attn.out_proj.bias",
                     "linear1.weight", "norm2.weight", "norm3.bias"):
            p = dict(layer.named_parameters())[name]
            numeric = central_difference(lambda: fn(tgt, memory), p)
            np.testing.assert_allclose(p.grad.numpy(), numeric, rtol=1e-5, atol=1e-7,
                                       err_msg=name)


def test_encoder_gradcheck_through_two_layers():
    layer = nn.TransformerEncoderLayer(E, H, FF, dropout=0.0, dtype=np.float64)
    encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(E, dtype=np.float64))
    x = Tensor(rng.standard_normal((3, 2, E)), requires_grad=True)
    weights = Tensor(rng.standard_normal((3, 2, E)))
    assert tg.gradcheck(lambda t: (encoder(t) * weights).sum(), [x])


# ----- stacks, names, init ---------------------------------------------------------------

def encoder_layer_keys(prefix):
    return [prefix + k for k in (
        "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
        "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight",
        "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias")]


def decoder_layer_keys(prefix):
    return [prefix + k for k in (
        "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
        "self_attn.out_proj.bias", "multihead_attn.in_proj_weight", "multihead_attn.in_proj_bias",
        "multihead_attn.out_proj.weight", "multihead_attn.out_proj.bias", "linear1.weight",
        "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias",
        "norm2.weight", "norm2.bias", "norm3.weight", "norm3.bias")]


def test_state_dict_keys_are_pytorchs():
    model = nn.Transformer(E, H, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=FF)
    expected = (encoder_layer_keys("encoder.layers.0.") + encoder_layer_keys("encoder.layers.1.")
                + ["encoder.norm.weight", "encoder.norm.bias"]
                + decoder_layer_keys("decoder.layers.0.")
                + ["decoder.norm.weight", "decoder.norm.bias"])
    assert list(model.state_dict()) == expected
    shapes = dict((k, v.shape) for k, v in model.state_dict().items())
    assert shapes["encoder.layers.1.self_attn.in_proj_weight"] == (3 * E, E)
    assert shapes["decoder.layers.0.linear1.weight"] == (FF, E)
    assert shapes["decoder.layers.0.linear2.weight"] == (E, FF)
    assert list(nn.TransformerEncoderLayer(E, H, bias=False).state_dict()) == [
        "self_attn.in_proj_weight", "self_attn.out_proj.weight", "linear1.weight",
        "linear2.weight", "norm1.weight", "norm2.weight"]


def test_stack_layers_are_independent_deep_copies():
    layer = nn.TransformerEncoderLayer(E, H, FF)
    encoder = nn.TransformerEncoder(layer, 3)
    first, second = encoder.layers[0], encoder.layers[1]
    assert len(encoder.layers) == 3 and encoder.num_layers == 3 and encoder.norm is None
    w0, w1 = first.linear1.weight, second.linear1.weight
    assert w0 is not w1 and not np.shares_memory(w0.numpy(), w1.numpy())
    np.testing.assert_array_equal(w0.numpy(), layer.linear1.weight.numpy())   # copied values
    with tg.no_grad():
        w0 += 1.0
    assert not np.allclose(w0.numpy(), w1.numpy())
    original = {id(p) for p in layer.parameters()}           # the layer passed in is not used
    assert not original & {id(p) for p in encoder.parameters()}
    assert len(list(encoder.parameters())) == 3 * 12


def test_transformer_init_is_xavier_uniform():
    tg.manual_seed(0)
    model = nn.Transformer(8, 2, 1, 1, 16)
    for name, p in model.named_parameters():
        values = p.numpy()
        if p.ndim > 1:
            bound = math.sqrt(6 / (p.shape[0] + p.shape[1]))
            assert np.abs(values).max() <= bound, name
            assert np.abs(values).max() > 0.7 * bound, name          # spread over the range
        elif "norm" in name:
            assert np.all(values == (1 if name.endswith("weight") else 0)), name
    # the stack's copies are re-drawn separately, so they differ after Transformer's init
    encoder = nn.Transformer(8, 2, 2, 1, 16).encoder
    assert not np.allclose(encoder.layers[0].linear1.weight.numpy(),
                           encoder.layers[1].linear1.weight.numpy())


def test_enable_nested_tensor_accepted_and_custom_parts():
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H, FF), 1,
                                    enable_nested_tensor=False, mask_check=False)
    decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(E, H, FF), 1)
    model = nn.Transformer(E, H, custom_encoder=encoder, custom_decoder=decoder)
    assert model.encoder is encoder and model.decoder is decoder
    assert model(Tensor.randn(3, 1, E), Tensor.randn(2, 1, E)).shape == (2, 1, E)


# ----- errors ----------------------------------------------------------------------------

def test_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"TransformerEncoderLayer: d_model 5 .* nhead 2"):
        nn.TransformerEncoderLayer(5, 2)
    with pytest.raises(ValueError, match=r"TransformerDecoderLayer: d_model 6 .* nhead 4"):
        nn.TransformerDecoderLayer(6, 4)
    with pytest.raises(ValueError, match=r"activation .* 'tanh'"):
        nn.TransformerEncoderLayer(E, H, activation="tanh")
    model = nn.Transformer(E, H, 1, 1, FF)
    with pytest.raises(ValueError, match=r"TransformerEncoderLayer.*encoder\.layers\.0.*"
                                         r"d_model = 4, got \(3, 2, 5\)"):
        model.encoder(Tensor.randn(3, 2, 5))
    with pytest.raises(ValueError, match=r"TransformerDecoderLayer.*memory.*\(2, 1, 3\)"):
        model.decoder(Tensor.randn(3, 1, E), Tensor.randn(2, 1, 3))
    with pytest.raises(ValueError, match=r"batch number of src and tgt.*\(3, 2, 4\).*\(3, 5, 4\)"):
        model(Tensor.randn(3, 2, E), Tensor.randn(3, 5, E))
    with pytest.raises(ValueError, match=r"feature number .* d_model = 4"):
        model(Tensor.randn(3, 2, 5), Tensor.randn(3, 2, 5))
    with pytest.raises(ValueError, match="is_causal"):      # a hint only, as in PyTorch
        model.encoder(Tensor.randn(3, 2, E), is_causal=True)
    with pytest.raises(TypeError, match="TransformerEncoder: the layer to repeat"):
        nn.TransformerEncoder(nn.TransformerEncoderLayer, 2)


# ----- the word_language_model example's way of using nn.Transformer ------------------------

class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.1, max_len=50):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = tg.arange(0, max_len, dtype=np.float32).unsqueeze(1)
        div_term = (tg.arange(0, d_model, 2, dtype=np.float32)
                    * (-math.log(10000.0) / d_model)).exp()
        pe = tg.zeros(max_len, d_model)
        pe[:, 0::2] = (position * div_term).sin()
        pe[:, 1::2] = (position * div_term).cos()
        self.register_buffer("pe", pe.unsqueeze(0).transpose(0, 1))

    def forward(self, x):
        return self.dropout(x + self.pe[:x.size(0), :])


class TransformerModel(nn.Transformer):
    """pytorch/examples word_language_model/model.py's TransformerModel, shrunk."""

    def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.5):
        super().__init__(d_model=ninp, nhead=nhead, dim_feedforward=nhid,
                         num_encoder_layers=nlayers)
        self.model_type = "Transformer"
        self.src_mask = None
        self.pos_encoder = PositionalEncoding(ninp, dropout)
        self.input_emb = nn.Embedding(ntoken, ninp)
        self.ninp = ninp
        self.decoder = nn.Linear(ninp, ntoken)      # replaces nn.Transformer's decoder
        nn.init.uniform_(self.input_emb.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def _generate_square_subsequent_mask(self, sz):
        return tg.log(tg.tril(tg.ones(sz, sz)))

    def forward(self, src, has_mask=True):
        if has_mask:
            if self.src_mask is None or self.src_mask.size(0) != len(src):
                self.src_mask = self._generate_square_subsequent_mask(len(src)).to(src.device)
        else:
            self.src_mask = None
        src = self.input_emb(src) * math.sqrt(self.ninp)
        src = self.pos_encoder(src)
        output = self.encoder(src, mask=self.src_mask)
        output = self.decoder(output)
        return nn.functional.log_softmax(output, dim=-1)


@pytest.mark.filterwarnings("ignore:divide by zero")     # log(0) = -inf is the mask's intent
def test_word_language_model_subclass_trains():
    tg.manual_seed(0)
    ntoken, seq, batch = 11, 5, 2
    model = TransformerModel(ntoken, ninp=8, nhead=2, nhid=16, nlayers=2, dropout=0.0)
    assert not any(k.startswith("decoder.layers") for k in model.state_dict())
    assert "encoder.layers.1.self_attn.in_proj_weight" in model.state_dict()
    own = np.random.default_rng(1)           # its own data, whatever order the tests run in
    data = tg.tensor(own.integers(0, ntoken, (seq, batch)))
    target = tg.tensor(own.integers(0, ntoken, (seq * batch,)))
    opt = nn.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        output = model(data)
        assert output.shape == (seq, batch, ntoken)
        loss = nn.functional.nll_loss(output.reshape(-1, ntoken), target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    # the causal mask: the first position's output ignores later tokens
    model.eval()
    changed = data.numpy().copy()
    changed[-1] = (changed[-1] + 1) % ntoken
    np.testing.assert_allclose(model(tg.tensor(changed)).numpy()[0], model(data).numpy()[0],
                               rtol=1e-5, atol=1e-6)


# ----- a second opinion from PyTorch (skipped when it is not installed) ----------------------

@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
def test_matches_pytorch(norm_first):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    kwargs = dict(d_model=E, nhead=H, num_encoder_layers=2, num_decoder_layers=2,
                  dim_feedforward=FF, dropout=0.0, batch_first=True, norm_first=norm_first)
    theirs = torch.nn.Transformer(**kwargs).double()
    ours = nn.Transformer(**kwargs, dtype=np.float64)
    state = {k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()}
    assert list(state) == list(ours.state_dict())
    ours.load_state_dict({k: Tensor(v) for k, v in state.items()})
    src, tgt = rng.standard_normal((2, 5, E)), rng.standard_normal((2, 3, E))
    pad = np.array([[False] * 5, [False, False, False, True, True]])
    src_t = torch.tensor(src, requires_grad=True)
    out_t = theirs(src_t, torch.tensor(tgt),
                   tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(
                       3, dtype=torch.float64),
                   src_key_padding_mask=torch.tensor(pad),
                   memory_key_padding_mask=torch.tensor(pad))
    src_o = Tensor(src, requires_grad=True)
    out_o = ours(src_o, Tensor(tgt),
                 tgt_mask=nn.Transformer.generate_square_subsequent_mask(3, dtype=np.float64),
                 src_key_padding_mask=Tensor(pad), memory_key_padding_mask=Tensor(pad))
    np.testing.assert_allclose(out_o.numpy(), out_t.detach().numpy(), rtol=1e-9, atol=1e-10)
    weights = rng.standard_normal(out_o.shape)
    (out_t * torch.tensor(weights)).sum().backward()
    (out_o * Tensor(weights)).sum().backward()
    np.testing.assert_allclose(src_o.grad.numpy(), src_t.grad.numpy(), rtol=1e-8, atol=1e-10)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(dict(ours.named_parameters())[name].grad.numpy(),
                                   p.grad.numpy(), rtol=1e-8, atol=1e-10, err_msg=name)
