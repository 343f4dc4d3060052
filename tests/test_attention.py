"""F.scaled_dot_product_attention and nn.MultiheadAttention against the formula in numpy.

Expected values: ``np_attention`` below, softmax(q k^T * scale + bias) v written in numpy,
and small cases worked out by hand (equal scores give equal weights). PyTorch, when
importable, is a second opinion.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
import tinygrad_edu as tg
from nn import functional as F
from tinygrad_edu import Tensor

rng = np.random.default_rng(0)


def np_attention(q, k, v, bias=0.0, scale=None):
    """softmax(q k^T * scale + bias) v in numpy, and the weights."""
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ np.swapaxes(k, -1, -2) * scale + bias
    e = np.exp(scores - scores.max(-1, keepdims=True))
    weights = e / e.sum(-1, keepdims=True)
    return weights @ v, weights


def qkv(*batch, L=3, S=4, E=5, Ev=6):
    return (rng.standard_normal(batch + (L, E)), rng.standard_normal(batch + (S, E)),
            rng.standard_normal(batch + (S, Ev)))


# ----- scaled_dot_product_attention ------------------------------------------------------------

def test_sdpa_by_hand_equal_scores_average_the_values():
    # every key scores the same for the query, so the output is the plain mean of the values
    q = Tensor([[1.0, 0.0]])
    k = Tensor([[0.0, 1.0], [0.0, -1.0], [0.0, 2.0]])
    v = Tensor([[3.0], [6.0], [9.0]])
    assert F.scaled_dot_product_attention(q, k, v).numpy() == pytest.approx(np.array([[6.0]]))
    # scores 2/sqrt(2) and 0: weights e^sqrt2 / (e^sqrt2 + 1) and 1 / (e^sqrt2 + 1)
    out = F.scaled_dot_product_attention(Tensor([[1.0, 1.0]]), Tensor([[1.0, 1.0], [0.0, 0.0]]),
                                         Tensor([[1.0], [0.0]]))
    w = math.exp(math.sqrt(2)) / (math.exp(math.sqrt(2)) + 1)
    assert out.numpy() == pytest.approx(np.array([[w]]))


def test_sdpa_matches_the_formula_with_batch_and_head_axes_and_scale():
    q, k, v = qkv(2, 3)
    got = F.scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v))
    assert got.shape == (2, 3, 3, 6)
    np.testing.assert_allclose(got.numpy(), np_attention(q, k, v)[0], rtol=1e-12)
    got = F.scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), scale=0.25)
    np.testing.assert_allclose(got.numpy(), np_attention(q, k, v, scale=0.25)[0], rtol=1e-12)
    # key and value broadcast over the heads axis
    got = F.scaled_dot_product_attention(Tensor(q), Tensor(k[:, :1]), Tensor(v[:, :1]))
    np.testing.assert_allclose(got.numpy(), np_attention(q, k[:, :1], v[:, :1])[0], rtol=1e-12)


@settings(max_examples=20, deadline=None)
@given(batch=st.lists(st.integers(1, 3), max_size=2), L=st.integers(1, 4), S=st.integers(1, 4),
       E=st.integers(1, 4), Ev=st.integers(1, 4), causal=st.booleans())
def test_sdpa_shapes_and_convex_weights(batch, L, S, E, Ev, causal):
    q, k, v = qkv(*batch, L=L, S=S, E=E, Ev=Ev)
    out = F.scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), is_causal=causal)
    assert out.shape == (*batch, L, Ev)
    # every output is a weighted mean of the values it may see: within their range
    low, high = v.min(axis=-2, keepdims=True), v.max(axis=-2, keepdims=True)
    assert (out.numpy() >= low - 1e-12).all() and (out.numpy() <= high + 1e-12).all()


def test_sdpa_boolean_mask_true_means_take_part():
    q, k, v = qkv(2)
    mask = np.array([[True, False, True, True], [True, True, False, False],
                     [False, False, False, True]])
    got = F.scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), attn_mask=mask)
    want = np_attention(q, k, v, bias=np.where(mask, 0.0, -np.inf))[0]
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    # the last query sees only key 3: its output is value 3
    np.testing.assert_allclose(got.numpy()[:, 2], v[:, 3], rtol=1e-12)


def test_sdpa_float_mask_is_added_and_keeps_its_gradient():
    q, k, v = qkv(2)
    bias = rng.standard_normal((3, 4))
    bias_t = Tensor(bias, requires_grad=True)
    got = F.scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), attn_mask=bias_t)
    np.testing.assert_allclose(got.numpy(), np_attention(q, k, v, bias=bias)[0], rtol=1e-12)
    assert tg.gradcheck(lambda b: F.scaled_dot_product_attention(Tensor(q), Tensor(k),
                                                                 Tensor(v), attn_mask=b),
                        [bias_t])


def test_sdpa_causal_lets_each_query_see_itself_and_the_past():
    q, k, v = qkv(2, L=4, S=4)
    got = F.scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), is_causal=True)
    causal = np.tril(np.ones((4, 4), dtype=bool))
    want = np_attention(q, k, v, bias=np.where(causal, 0.0, -np.inf))[0]
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(got.numpy()[:, 0], v[:, 0], rtol=1e-12)   # query 0: key 0 only
    # L != S: the triangle starts at the top left, as PyTorch's
    q2 = q[:, :2]
    got = F.scaled_dot_product_attention(Tensor(q2), Tensor(k), Tensor(v), is_causal=True)
    want = np_attention(q2, k, v, bias=np.where(np.tril(np.ones((2, 4), bool)), 0.0, -np.inf))
    np.testing.assert_allclose(got.numpy(), want[0], rtol=1e-12)


def test_sdpa_fully_masked_query_gives_zeros_and_no_nan_gradient():
    q, k, v = qkv(L=2, S=3)
    mask = np.array([[True, True, False], [False, False, False]])
    qt, kt, vt = (Tensor(a, requires_grad=True) for a in (q, k, v))
    out = F.scaled_dot_product_attention(qt, kt, vt, attn_mask=mask)
    np.testing.assert_array_equal(out.numpy()[1], 0.0)
    out.sum().backward()
    assert np.isfinite(qt.grad.numpy()).all() and np.isfinite(kt.grad.numpy()).all()
    np.testing.assert_array_equal(qt.grad.numpy()[1], 0.0)


def test_sdpa_gradients_match_finite_differences():
    q, k, v = (Tensor(a, requires_grad=True) for a in qkv(2, L=2, S=3, E=3, Ev=2))
    mask = np.array([[True, False, True], [True, True, True]])
    assert tg.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, mask), [q, k, v])
    assert tg.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                                                       scale=0.7), [q, k, v])


def test_sdpa_dropout_one_drops_every_weight_and_zero_changes_nothing():
    q, k, v = qkv()
    out = F.scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), dropout_p=1.0)
    np.testing.assert_array_equal(out.numpy(), 0.0)
    out = F.scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), dropout_p=0.0)
    np.testing.assert_allclose(out.numpy(), np_attention(q, k, v)[0], rtol=1e-12)


def test_sdpa_grouped_query_heads_share_key_and_value_heads():
    q = rng.standard_normal((1, 4, 3, 5))
    k, v = rng.standard_normal((1, 2, 4, 5)), rng.standard_normal((1, 2, 4, 5))
    got = F.scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), enable_gqa=True)
    # query heads 0, 1 use key/value head 0; heads 2, 3 use head 1
    want = np_attention(q, np.repeat(k, 2, axis=1), np.repeat(v, 2, axis=1))[0]
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


def test_sdpa_errors_name_the_function_and_shapes():
    q, k, v = (Tensor(a) for a in qkv())
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention.*\(3, 5\).*\(4, 2\)"):
        F.scaled_dot_product_attention(q, Tensor.randn(4, 2), v)
    with pytest.raises(ValueError, match=r"\(2, 6\) need the same sequence length"):
        F.scaled_dot_product_attention(q, k, Tensor.randn(2, 6))
    with pytest.raises(ValueError, match=r"attn_mask of shape \(3, 3\).*\(3, 4\)"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((3, 3), bool))
    with pytest.raises(ValueError, match="either attn_mask or is_causal"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((3, 4), bool), is_causal=True)
    with pytest.raises(TypeError, match="attn_mask must be boolean or floating"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((3, 4), np.int64))
    with pytest.raises(ValueError, match="dropout_p"):
        F.scaled_dot_product_attention(q, k, v, dropout_p=2)
    with pytest.raises(ValueError, match=r"leading.*do not broadcast"):
        F.scaled_dot_product_attention(Tensor.randn(2, 3, 5), Tensor.randn(3, 4, 5),
                                       Tensor.randn(3, 4, 6))


# ----- MultiheadAttention -------------------------------------------------------------------

def np_mha(mha, query, key, value, bias=0.0):
    """PyTorch's multi-head attention in numpy, time-major (L, N, E) inputs."""
    E, heads = mha.embed_dim, mha.num_heads
    d = E // heads
    w, b = mha.in_proj_weight.numpy(), mha.in_proj_bias.numpy()
    q, k, v = (x @ w[i * E:(i + 1) * E].T + b[i * E:(i + 1) * E]
               for i, x in enumerate((query, key, value)))

    def split(x):                 # (len, N, E) -> (N, heads, len, d)
        return x.reshape(x.shape[0], x.shape[1], heads, d).transpose(1, 2, 0, 3)

    out, weights = np_attention(split(q), split(k), split(v), bias)
    out = out.transpose(2, 0, 1, 3).reshape(query.shape)
    return out @ mha.out_proj.weight.numpy().T + mha.out_proj.bias.numpy(), weights


def test_mha_matches_numpy_formula_and_averages_the_heads():
    tg.manual_seed(0)
    mha = nn.MultiheadAttention(6, 3).double()
    with tg.no_grad():    # non-zero biases, so a bias mix-up would show
        mha.in_proj_bias.copy_(rng.standard_normal(18))
        mha.out_proj.bias.copy_(rng.standard_normal(6))
    query, key, value = (rng.standard_normal((L, 2, 6)) for L in (3, 4, 4))
    want_out, want_w = np_mha(mha, query, key, value)
    out, weights = mha(Tensor(query), Tensor(key), Tensor(value))
    assert out.shape == (3, 2, 6) and weights.shape == (2, 3, 4)
    np.testing.assert_allclose(out.numpy(), want_out, rtol=1e-10)
    np.testing.assert_allclose(weights.numpy(), want_w.mean(axis=1), rtol=1e-10)
    _, per_head = mha(Tensor(query), Tensor(key), Tensor(value), average_attn_weights=False)
    assert per_head.shape == (2, 3, 3, 4)
    np.testing.assert_allclose(per_head.numpy(), want_w, rtol=1e-10)
    np.testing.assert_allclose(per_head.numpy().sum(-1), 1.0)
    out2, none = mha(Tensor(query), Tensor(key), Tensor(value), need_weights=False)
    assert none is None
    np.testing.assert_allclose(out2.numpy(), want_out, rtol=1e-10)


@pytest.mark.parametrize("layout", ["time_major", "batch_first", "unbatched"])
def test_mha_shapes_for_every_layout(layout):
    mha = nn.MultiheadAttention(8, 2, batch_first=layout == "batch_first", kdim=3, vdim=5)
    shapes = {"time_major": ((4, 2, 8), (6, 2, 3), (6, 2, 5)),
              "batch_first": ((2, 4, 8), (2, 6, 3), (2, 6, 5)),
              "unbatched": ((4, 8), (6, 3), (6, 5))}[layout]
    out, weights = mha(*(Tensor.randn(*s) for s in shapes))
    assert out.shape == shapes[0]
    assert weights.shape == ((4, 6) if layout == "unbatched" else (2, 4, 6))
    _, per_head = mha(*(Tensor.randn(*s) for s in shapes), average_attn_weights=False)
    assert per_head.shape == ((2, 4, 6) if layout == "unbatched" else (2, 2, 4, 6))


def test_mha_masks_true_means_keep_out():
    mha = nn.MultiheadAttention(4, 2).double()
    x = Tensor(rng.standard_normal((3, 2, 4)))
    padding = np.array([[False, False, True], [False, True, True]])   # (N, S)
    _, weights = mha(x, x, x, key_padding_mask=padding)
    np.testing.assert_array_equal(weights.numpy()[0, :, 2], 0.0)
    np.testing.assert_array_equal(weights.numpy()[1, :, 1:], 0.0)
    np.testing.assert_allclose(weights.numpy()[1, :, 0], 1.0)
    causal = np.triu(np.ones((3, 3), dtype=bool), k=1)                 # True above the diagonal
    _, weights = mha(x, x, x, attn_mask=causal)
    assert (weights.numpy()[:, causal] == 0).all()
    _, weights = mha(x, x, x, attn_mask=causal, is_causal=True)       # the hint changes nothing
    assert (weights.numpy()[:, causal] == 0).all()
    query = rng.standard_normal((3, 2, 4))
    float_mask = rng.standard_normal((2 * 2, 3, 3))                   # (N * heads, L, S)
    _, weights = mha(Tensor(query), Tensor(query), Tensor(query), attn_mask=float_mask,
                     average_attn_weights=False)
    want = np_mha(mha, query, query, query, bias=float_mask.reshape(2, 2, 3, 3))[1]
    np.testing.assert_allclose(weights.numpy(), want, rtol=1e-10)


def test_mha_parameters_and_initialisation_follow_pytorch():
    tg.manual_seed(0)
    mha = nn.MultiheadAttention(16, 4)
    assert [(n, p.shape) for n, p in mha.named_parameters()] == [
        ("in_proj_weight", (48, 16)), ("in_proj_bias", (48,)),
        ("out_proj.weight", (16, 16)), ("out_proj.bias", (16,))]
    bound = math.sqrt(6 / (16 + 48))                 # xavier_uniform_ over the (48, 16) matrix
    w = mha.in_proj_weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    np.testing.assert_array_equal(mha.in_proj_bias.numpy(), 0.0)
    np.testing.assert_array_equal(mha.out_proj.bias.numpy(), 0.0)
    other = nn.MultiheadAttention(16, 4, kdim=3, vdim=5, bias=False, add_bias_kv=True)
    assert [(n, p.shape) for n, p in other.named_parameters()] == [
        ("q_proj_weight", (16, 16)), ("k_proj_weight", (16, 3)), ("v_proj_weight", (16, 5)),
        ("bias_k", (1, 1, 16)), ("bias_v", (1, 1, 16)), ("out_proj.weight", (16, 16))]
    assert other.in_proj_weight is None and other.in_proj_bias is None


def test_mha_extra_key_positions_from_bias_kv_and_zero_attn():
    x = Tensor.randn(3, 2, 4)
    _, weights = nn.MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True)(x, x, x)
    assert weights.shape == (2, 3, 5)                # 3 keys + bias_k + the zero key
    np.testing.assert_allclose(weights.numpy().sum(-1), 1.0, rtol=1e-6)


def test_mha_gradients_match_finite_differences():
    mha = nn.MultiheadAttention(4, 2, dropout=0.3).double().eval()   # eval: no dropout
    x = Tensor(rng.standard_normal((2, 2, 4)), requires_grad=True)
    kv = Tensor(rng.standard_normal((3, 2, 4)), requires_grad=True)
    padding = np.array([[False, False, True], [False, False, False]])
    assert tg.gradcheck(lambda x, kv: mha(x, kv, kv, key_padding_mask=padding)[0], [x, kv])


def test_mha_dropout_only_while_training():
    tg.manual_seed(0)
    mha = nn.MultiheadAttention(4, 2, dropout=0.5)
    x = Tensor.randn(5, 1, 4)
    a, b = mha(x, x, x)[0].numpy(), mha(x, x, x)[0].numpy()
    assert not np.allclose(a, b)
    mha.eval()
    np.testing.assert_array_equal(mha(x, x, x)[0].numpy(), mha(x, x, x)[0].numpy())


def test_mha_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match="embed_dim 10 must be divisible by num_heads 4"):
        nn.MultiheadAttention(10, 4)
    mha = nn.MultiheadAttention(8, 2)
    x = Tensor.randn(3, 2, 8)
    with pytest.raises(ValueError, match=r"MultiheadAttention\(8, heads=2\).*query.*\(3, 2, 7\)"):
        mha(Tensor.randn(3, 2, 7), x, x)
    with pytest.raises(ValueError, match=r"key_padding_mask must have shape \(2, 3\).*\(3, 2\)"):
        mha(x, x, x, key_padding_mask=np.zeros((3, 2), bool))
    with pytest.raises(ValueError, match=r"attn_mask must have shape \(L, S\) = \(3, 3\)"):
        mha(x, x, x, attn_mask=np.zeros((3, 4), bool))
    with pytest.raises(ValueError, match="is_causal=True is only a hint"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(ValueError, match="same number of axes"):
        mha(x, Tensor.randn(3, 8), Tensor.randn(3, 8))
    with pytest.raises(ValueError, match=r"same sequence length.*\(4, 2, 8\)"):
        mha(x, x, Tensor.randn(4, 2, 8))


def test_mha_matches_pytorch_when_installed():
    torch = pytest.importorskip("torch")
    ours = nn.MultiheadAttention(8, 2, batch_first=True).double()
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=True).double()
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(torch.tensor(dict(ours.named_parameters())[name].numpy()))
    x = rng.standard_normal((2, 4, 8))
    mask = rng.random((4, 4)) > 0.7
    ours_x, torch_x = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, w = ours(ours_x, ours_x, ours_x, attn_mask=mask)
    t_out, t_w = theirs(torch_x, torch_x, torch_x, attn_mask=torch.tensor(mask))
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(w.numpy(), t_w.detach().numpy(), rtol=1e-10)
    out.sum().backward()
    t_out.sum().backward()
    np.testing.assert_allclose(ours_x.grad.numpy(), torch_x.grad.numpy(), rtol=1e-8)
    q, k, v = (rng.standard_normal((2, 2, 3, 4)) for _ in range(3))
    got = F.scaled_dot_product_attention(Tensor(q), Tensor(k), Tensor(v), is_causal=True)
    want = torch.nn.functional.scaled_dot_product_attention(
        torch.tensor(q), torch.tensor(k), torch.tensor(v), is_causal=True)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10)
