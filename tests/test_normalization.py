"""BatchNorm2d, LayerNorm, GroupNorm and their F. forms: values worked out by hand, running
statistics in train and eval mode, gradients against finite differences, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
import nn.functional as F
import tinygrad_edu as tg
from tinygrad_edu import Tensor

rng = np.random.default_rng(5)


# ----- LayerNorm ----------------------------------------------------------------------------

def test_layer_norm_of_one_row_worked_on_paper():
    # [1, 2, 3, 6]: mean 3, deviations [-2, -1, 0, 3], biased variance (4+1+0+9)/4 = 3.5;
    # with eps 0.5 the divisor is sqrt(4) = 2
    ln = nn.LayerNorm(4, eps=0.5)
    x = Tensor(np.array([[1.0, 2.0, 3.0, 6.0]], dtype=np.float32))
    np.testing.assert_allclose(ln(x).numpy(), [[-1.0, -0.5, 0.0, 1.5]], rtol=1e-6)
    with tg.no_grad():
        ln.weight[1] = 2.0
        ln.bias[2] = 1.0
    np.testing.assert_allclose(ln(x).numpy(), [[-1.0, -1.0, 1.0, 1.5]], rtol=1e-6)


def test_layer_norm_over_two_trailing_axes_and_its_parameters():
    ln = nn.LayerNorm((2, 3))
    assert ln.weight.shape == (2, 3) and ln.bias.shape == (2, 3)
    assert repr(ln) == "LayerNorm((2, 3), eps=1e-05, elementwise_affine=True, bias=True)"
    x = rng.standard_normal((4, 2, 3))
    out = ln(Tensor(x)).numpy()
    centred = x - x.mean(axis=(1, 2), keepdims=True)
    expected = centred / np.sqrt((centred ** 2).mean(axis=(1, 2), keepdims=True) + 1e-5)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    bare = nn.LayerNorm(3, elementwise_affine=False)
    assert bare.weight is None and bare.bias is None and list(bare.parameters()) == []
    assert nn.LayerNorm(3, bias=False).bias is None


def test_layer_norm_gradient_matches_finite_differences():
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = Tensor(rng.standard_normal(4), requires_grad=True)
    b = Tensor(rng.standard_normal(4), requires_grad=True)
    g = Tensor(rng.standard_normal((3, 4)))
    assert tg.gradcheck(lambda x, w, b: (F.layer_norm(x, 4, w, b) * g).sum(), [x, w, b])


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(1, 2))
def test_layer_norm_gives_each_slice_mean_0_and_variance_1(shape, trailing):
    trailing = min(trailing, len(shape))
    x = rng.standard_normal(shape) * 5 + 3
    normalized = tuple(shape[len(shape) - trailing:])
    out = F.layer_norm(Tensor(x), normalized, eps=1e-12).numpy()
    axes = tuple(range(len(shape) - trailing, len(shape)))
    assert out.shape == x.shape
    np.testing.assert_allclose(out.mean(axis=axes), 0, atol=1e-9)
    if np.prod(normalized) > 1:   # (one value per slice: it becomes 0, variance 0)
        np.testing.assert_allclose(out.var(axis=axes), 1, rtol=1e-6)


# ----- BatchNorm2d ----------------------------------------------------------------------------

def batch_of_two_channels():
    # channel 0 holds 0, 2, 4, 6 (mean 3, deviations -3 -1 1 3, biased variance 5);
    # channel 1 holds 1 everywhere (variance 0)
    x = np.zeros((2, 2, 1, 2))
    x[:, 0] = np.array([[[0.0, 2.0]], [[4.0, 6.0]]])
    x[:, 1] = 1.0
    return x


def test_batch_norm_2d_training_step_worked_on_paper():
    bn = nn.BatchNorm2d(2, eps=4.0).double()          # variance 5 + eps 4: divisor 3
    out = bn(Tensor(batch_of_two_channels())).numpy()
    np.testing.assert_allclose(out[:, 0].ravel(), [-1, -1 / 3, 1 / 3, 1])
    np.testing.assert_allclose(out[:, 1], 0)
    # running = 0.9 * initial + 0.1 * batch; the variance unbiased: 20 / 3 for channel 0
    np.testing.assert_allclose(bn.running_mean.numpy(), [0.3, 0.1])
    np.testing.assert_allclose(bn.running_var.numpy(), [0.9 + 0.1 * 20 / 3, 0.9])
    assert bn.num_batches_tracked.item() == 1


def test_batch_norm_2d_eval_uses_the_running_statistics():
    bn = nn.BatchNorm2d(2, eps=4.0).double()
    bn(Tensor(batch_of_two_channels()))
    bn.eval()
    x = np.full((1, 2, 1, 1), 5.0)
    out = bn(Tensor(x)).numpy().ravel()
    expected_0 = (5 - 0.3) / np.sqrt(0.9 + 0.1 * 20 / 3 + 4)
    np.testing.assert_allclose(out, [expected_0, (5 - 0.1) / np.sqrt(0.9 + 4)])
    assert bn.num_batches_tracked.item() == 1          # eval leaves the buffers alone


def test_batch_norm_momentum_none_averages_all_batches():
    bn = nn.BatchNorm2d(1, momentum=None)
    for scale in (1.0, 2.0, 3.0):
        bn(Tensor(np.array([1.0, 3.0]).reshape(2, 1, 1, 1) * scale))
    # batch means 2, 4, 6 -> 4; unbiased variances 2, 8, 18 -> 28/3
    np.testing.assert_allclose(bn.running_mean.numpy(), [4.0])
    np.testing.assert_allclose(bn.running_var.numpy(), [28 / 3], rtol=1e-6)


def test_batch_norm_without_running_stats_uses_the_batch_in_eval_too():
    bn = nn.BatchNorm2d(2, affine=False, track_running_stats=False).eval()
    assert bn.running_mean is None and list(bn.parameters()) == []
    out = bn(Tensor(batch_of_two_channels())).numpy()
    np.testing.assert_allclose(out[:, 0].ravel(), np.array([-3, -1, 1, 3]) / np.sqrt(5 + 1e-5))


def test_batch_norm_2d_gradient_matches_finite_differences():
    x = Tensor(rng.standard_normal((3, 2, 2, 2)), requires_grad=True)
    w = Tensor(rng.standard_normal(2), requires_grad=True)
    b = Tensor(rng.standard_normal(2), requires_grad=True)
    g = Tensor(rng.standard_normal((3, 2, 2, 2)))

    def loss(x, w, b):
        return (F.batch_norm(x, None, None, w, b, training=True) * g).sum()

    assert tg.gradcheck(loss, [x, w, b])


def test_batch_norm_2d_state_dict_and_repr():
    bn = nn.BatchNorm2d(3)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    assert bn.num_batches_tracked.dtype == np.int64
    assert repr(bn) == ("BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, "
                        "track_running_stats=True)")


# ----- GroupNorm ------------------------------------------------------------------------------

def test_group_norm_worked_on_paper():
    # channels [1, 3 | 10, 14] in two groups: means 2 and 12, variances 1 and 4
    gn = nn.GroupNorm(2, 4, eps=0.0)
    out = gn(Tensor(np.array([1.0, 3.0, 10.0, 14.0]).reshape(1, 4, 1)))
    np.testing.assert_allclose(out.numpy().ravel(), [-1, 1, -1, 1], rtol=1e-6)


def test_group_norm_with_one_group_is_layer_norm_over_channels_and_positions():
    x = rng.standard_normal((2, 4, 3))
    ours = F.group_norm(Tensor(x), 1).numpy()
    np.testing.assert_allclose(ours, F.layer_norm(Tensor(x), (4, 3)).numpy(), rtol=1e-12)


def test_group_norm_gradient_matches_finite_differences():
    x = Tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
    w = Tensor(rng.standard_normal(4), requires_grad=True)
    b = Tensor(rng.standard_normal(4), requires_grad=True)
    g = Tensor(rng.standard_normal((2, 4, 3)))
    assert tg.gradcheck(lambda x, w, b: (F.group_norm(x, 2, w, b) * g).sum(), [x, w, b])


# ----- normalize ------------------------------------------------------------------------------

def test_normalize_makes_unit_rows_and_leaves_zero_rows_at_zero():
    x = Tensor(np.array([[3.0, 4.0], [0.0, 0.0]]), requires_grad=True)
    out = F.normalize(x, dim=1)
    np.testing.assert_allclose(out.numpy(), [[0.6, 0.8], [0.0, 0.0]])
    out.sum().backward()
    # d/dx of (x/|x|) summed: (1 - x_hat * sum(x_hat)) / |x| = ([1, 1] - 1.4 [0.6, 0.8]) / 5
    np.testing.assert_allclose(x.grad.numpy(), [[0.032, -0.024], [1e12, 1e12]])


# ----- errors ---------------------------------------------------------------------------------

def test_normalisation_errors_name_the_layer_and_the_shapes():
    model = nn.Sequential(nn.Identity(), nn.BatchNorm2d(3))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\) at model\.1 expected input of "
                                         r"shape \(N, 3, H, W\), got \(2, 3, 4\)"):
        model(Tensor(np.zeros((2, 3, 4))))
    with pytest.raises(ValueError, match=r"more than 1 value per channel"):
        nn.BatchNorm2d(3)(Tensor(np.zeros((1, 3, 1, 1))))
    with pytest.raises(ValueError, match=r"LayerNorm\(\(4,\)\) expected .*\(\*, 4\), got \(2, 3\)"):
        nn.LayerNorm(4)(Tensor(np.zeros((2, 3))))
    with pytest.raises(ValueError, match=r"num_channels \(4\) must be divisible by num_groups"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match=r"GroupNorm\(2, 4\) expected .*\(N, 4, \*\), got \(2, 6\)"):
        nn.GroupNorm(2, 4)(Tensor(np.zeros((2, 6))))
    with pytest.raises(ValueError, match="batch_norm: training=False .* running_mean"):
        F.batch_norm(Tensor(np.zeros((2, 3))), None, None)
    with pytest.raises(TypeError, match="layer_norm: expects a floating-point input"):
        F.layer_norm(Tensor(np.zeros((2, 3), dtype=np.int64)), 3)


def test_normalisation_agrees_with_torch():
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((4, 4, 3, 3)) * 2 + 1
    ours = nn.BatchNorm2d(4).double()
    theirs = torch.nn.BatchNorm2d(4).double()
    for _ in range(2):
        np.testing.assert_allclose(ours(Tensor(x)).numpy(),
                                   theirs(torch.tensor(x)).detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-12)
    np.testing.assert_allclose(F.group_norm(Tensor(x), 2).numpy(),
                               torch.nn.functional.group_norm(torch.tensor(x), 2).numpy(),
                               atol=1e-12)
