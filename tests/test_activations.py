"""Activations of issue 15: values from their formulas, gradients (also at the kinks), stability,
in-place behaviour, channel dropout, and errors."""

import math

import numpy as np
import pytest

import nn
import nn.functional as F
import tinygrad_edu as tg
from tinygrad_edu import Tensor

rng = np.random.default_rng(15)

ALPHA, SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_softplus(x):
    return np.log1p(np.exp(x))


def np_erf(x):
    return np.vectorize(math.erf)(x)


# (name, our function, the formula written with numpy): away from every kink
FORMULAS = [
    ("gelu", F.gelu, lambda x: x * 0.5 * (1 + np_erf(x / math.sqrt(2)))),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"),
     lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    ("silu", F.silu, lambda x: x * np_sigmoid(x)),
    ("elu", lambda x: F.elu(x, 0.7), lambda x: np.where(x > 0, x, 0.7 * (np.exp(x) - 1))),
    ("selu", F.selu, lambda x: SCALE * np.where(x > 0, x, ALPHA * (np.exp(x) - 1))),
    ("celu", lambda x: F.celu(x, 2.0), lambda x: np.where(x > 0, x, 2 * (np.exp(x / 2) - 1))),
    ("softplus", F.softplus, np_softplus),
    ("softplus_beta", lambda x: F.softplus(x, beta=3.0),
     lambda x: np.log1p(np.exp(3 * x)) / 3),
    ("hardtanh", lambda x: F.hardtanh(x, -0.5, 0.8), lambda x: np.clip(x, -0.5, 0.8)),
    ("relu6", lambda x: F.relu6(3 * x + 3), lambda x: np.clip(3 * x + 3, 0, 6)),
    ("logsigmoid", F.logsigmoid, lambda x: np.log(np_sigmoid(x))),
    ("mish", F.mish, lambda x: x * np.tanh(np_softplus(x))),
    ("hardswish", lambda x: F.hardswish(2 * x), lambda x: 2 * x * np.clip(2 * x + 3, 0, 6) / 6),
    ("hardsigmoid", lambda x: F.hardsigmoid(2 * x), lambda x: np.clip(2 * x + 3, 0, 6) / 6),
    ("softsign", F.softsign, lambda x: x / (1 + np.abs(x))),
    ("tanhshrink", F.tanhshrink, lambda x: x - np.tanh(x)),
    ("softmin", lambda x: F.softmin(x, dim=1),
     lambda x: np.exp(-x) / np.exp(-x).sum(axis=1, keepdims=True)),
    ("prelu", lambda x: F.prelu(x, Tensor(np.array([0.1, 0.2, 0.3])).to(x.dtype)),
     lambda x: np.where(x > 0, x, np.array([0.1, 0.2, 0.3])[:, None] * x)),
    ("softshrink", F.softshrink, lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0)),
    ("hardshrink", F.hardshrink, lambda x: np.where(np.abs(x) > 0.5, x, 0)),
    ("threshold", lambda x: F.threshold(x, 1.0, -2.0), lambda x: np.where(x > 1, x, -2.0)),
    ("glu", lambda x: F.glu(x, dim=-1),
     lambda x: x[..., :2] / (1 + np.exp(-x[..., 2:]))),
]


def away_from_kinks(shape=(2, 3, 4)):
    # kinks sit at 0, +-1 (in units of the scaled inputs above: 0, +-0.5, +-1.5); keep 0.05 away
    x = rng.uniform(-2.5, 2.5, shape)
    near = np.abs(x[..., None] - np.array([-1.5, -1, -0.5, 0, 0.5, 0.8, 1, 1.5])).min(-1) < 0.05
    return np.where(near, x + 0.1, x)


@pytest.mark.parametrize("name, ours, formula", FORMULAS, ids=[f[0] for f in FORMULAS])
def test_activation_values_match_their_formula(name, ours, formula):
    x = away_from_kinks()
    np.testing.assert_allclose(ours(Tensor(x)).numpy(), formula(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, ours, formula", FORMULAS, ids=[f[0] for f in FORMULAS])
def test_activation_gradients_match_finite_differences(name, ours, formula):
    x = Tensor(away_from_kinks((2, 3, 2)), requires_grad=True)
    assert tg.gradcheck(ours, [x])


@pytest.mark.parametrize("name, ours, formula", FORMULAS, ids=[f[0] for f in FORMULAS])
def test_activations_keep_float32(name, ours, formula):
    out = ours(Tensor(away_from_kinks().astype(np.float32)))
    assert out.dtype == np.float32


# PyTorch's gradients at the kinks (checked with torch 2.13), each derived from its rule:
# hardtanh-like functions count the limits as outside (gradient 0); elu and prelu take their
# negative branch at 0; the smooth ones are just evaluated there
KINKS = [
    ("relu6 at 0", F.relu6, 0.0, 0.0), ("relu6 at 6", F.relu6, 6.0, 0.0),
    ("hardtanh at -1", F.hardtanh, -1.0, 0.0), ("hardtanh at 1", F.hardtanh, 1.0, 0.0),
    ("hardswish at -3", F.hardswish, -3.0, 0.0),          # relu6(0)/6 + (-3) * 0
    ("hardswish at 3", F.hardswish, 3.0, 1.0),            # relu6(6)/6 + 3 * 0
    ("hardswish at 0", F.hardswish, 0.0, 0.5),            # x/3 + 1/2
    ("hardsigmoid at -3", F.hardsigmoid, -3.0, 0.0), ("hardsigmoid at 3", F.hardsigmoid, 3.0, 0.0),
    ("elu(alpha=2) at 0", lambda x: F.elu(x, 2.0), 0.0, 2.0),   # alpha * e^0
    ("celu(alpha=2) at 0", lambda x: F.celu(x, 2.0), 0.0, 1.0),  # e^(0/alpha)
    ("selu at 0", F.selu, 0.0, SCALE * ALPHA),
    ("softplus at the threshold", F.softplus, 20.0, 1 / (1 + math.exp(-20))),
    ("softplus above it", F.softplus, 20.5, 1.0),
    ("logsigmoid at 0", F.logsigmoid, 0.0, 0.5),          # sigmoid(-0)
    ("mish at 0", F.mish, 0.0, 0.6),                      # tanh(log 2) = 3/5
    ("softsign at 0", F.softsign, 0.0, 1.0),
    ("gelu at 0", F.gelu, 0.0, 0.5),                      # Phi(0)
    ("prelu at 0", lambda x: F.prelu(x, Tensor(np.array([0.25]))), 0.0, 0.25),
    ("softshrink at 0.5", F.softshrink, 0.5, 0.0), ("hardshrink at -0.5", F.hardshrink, -0.5, 0.0),
    ("threshold at the threshold", lambda x: F.threshold(x, 1.0, 0.0), 1.0, 0.0),
]


@pytest.mark.parametrize("name, fn, x0, expected", KINKS, ids=[k[0] for k in KINKS])
def test_gradient_at_the_kink_is_pytorchs(name, fn, x0, expected):
    x = Tensor(np.array([x0]), requires_grad=True)
    fn(x).sum().backward()
    assert x.grad.numpy()[0] == pytest.approx(expected, rel=1e-12)


def test_activations_stay_finite_for_huge_inputs():
    x = Tensor(np.array([-1000.0, 1000.0]), requires_grad=True)
    for fn in (F.logsigmoid, F.softplus, F.silu, F.mish, F.elu, F.selu, F.celu, F.gelu):
        x.grad = None
        fn(x).sum().backward()
        assert np.isfinite(x.grad.numpy()).all(), fn.__name__
    np.testing.assert_array_equal(F.logsigmoid(x).numpy(), [-1000.0, 0.0])
    np.testing.assert_array_equal(F.softplus(x).numpy(), [0.0, 1000.0])


def test_prelu_module_learns_its_slope():
    act = nn.PReLU()
    assert act.weight.shape == (1,) and act.weight.numpy()[0] == np.float32(0.25)
    x = Tensor(np.array([-2.0, -1.0, 3.0], dtype=np.float32))
    out = act(x)
    np.testing.assert_allclose(out.numpy(), [-0.5, -0.25, 3.0])
    out.sum().backward()
    assert act.weight.grad.numpy()[0] == pytest.approx(-3.0)   # d/da of a*x summed over x < 0


def test_prelu_per_channel_broadcasts_along_axis_1():
    act = nn.PReLU(num_parameters=2, init=0.5)
    x = -np.ones((1, 2, 3))
    with tg.no_grad():
        act.weight[1] = 0.1
    np.testing.assert_allclose(act(Tensor(x)).numpy()[0], [[-0.5] * 3, [-0.1] * 3], rtol=1e-6)


def test_module_reprs_follow_pytorch():
    assert repr(nn.GELU()) == "GELU(approximate='none')"
    assert repr(nn.ELU(inplace=True)) == "ELU(alpha=1.0, inplace=True)"
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    assert repr(nn.Hardtanh()) == "Hardtanh(min_val=-1.0, max_val=1.0)"
    assert repr(nn.ReLU6()) == "ReLU6()" and repr(nn.ReLU(True)) == "ReLU(inplace=True)"
    assert repr(nn.PReLU(3)) == "PReLU(num_parameters=3)"
    assert isinstance(nn.ReLU6(), nn.Hardtanh)


@pytest.mark.parametrize("module", [nn.GELU(), nn.SiLU(), nn.Mish(), nn.ELU(), nn.CELU(),
                                    nn.SELU(), nn.Softplus(), nn.Hardtanh(), nn.ReLU6(),
                                    nn.Hardsigmoid(), nn.Hardswish(), nn.LogSigmoid(),
                                    nn.Softsign(), nn.Tanhshrink(), nn.Softmin(dim=1)],
                         ids=lambda m: type(m).__name__)
def test_modules_equal_their_functions(module):
    x = away_from_kinks((2, 3))
    name = type(module).__name__.lower()
    fn = getattr(F, {"logsigmoid": "logsigmoid"}.get(name, name))
    expected = fn(Tensor(x), dim=1) if name == "softmin" else fn(Tensor(x))
    np.testing.assert_array_equal(module(Tensor(x)).numpy(), expected.numpy())


# ----- inplace -------------------------------------------------------------------------------

def test_inplace_changes_the_input_and_keeps_the_gradient():
    x = Tensor(np.array([-1.0, 0.5, 2.0]), requires_grad=True)
    h = x * 2
    out = F.silu(h, inplace=True)
    assert out is h
    s = np_sigmoid(2 * x.numpy())
    np.testing.assert_allclose(h.numpy(), 2 * x.numpy() * s)
    (h * 3).sum().backward()
    # d/dx of 3 silu(2x) = 3 * 2 * (s + 2x s (1 - s)), s = sigmoid(2x)
    np.testing.assert_allclose(x.grad.numpy(), 6 * (s + 2 * x.numpy() * s * (1 - s)))


def test_inplace_false_leaves_the_input_alone():
    h = Tensor(np.array([-1.0, 7.0]))
    out = nn.ReLU6()(h)
    assert out is not h and h.numpy().tolist() == [-1.0, 7.0]
    assert out.numpy().tolist() == [0.0, 6.0]


def test_underscore_functions_work_in_place():
    h = Tensor(np.array([-2.0, 0.5, 3.0]))
    assert F.relu_(h) is h and h.numpy().tolist() == [0.0, 0.5, 3.0]
    assert F.hardtanh_(h).numpy().tolist() == [0.0, 0.5, 1.0]
    g = Tensor(np.array([-1.0, 1.0]))
    F.leaky_relu_(g, 0.5)
    assert g.numpy().tolist() == [-0.5, 1.0]
    F.elu_(g)
    np.testing.assert_allclose(g.numpy(), [math.exp(-0.5) - 1, 1.0])


def test_inplace_on_a_leaf_that_requires_grad_raises():
    w = Tensor(np.array([1.0]), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf that requires grad"):
        nn.ReLU(inplace=True)(w)


# ----- channel dropout ------------------------------------------------------------------------

def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    tg.manual_seed(3)
    x = Tensor(np.ones((8, 6, 3, 3)))
    out = nn.Dropout2d(p=0.25)(x).numpy()
    per_channel = out.reshape(8, 6, 9)
    assert ((per_channel == 0).all(-1) | (per_channel == 1 / 0.75).all(-1)).all()
    assert 0 < (per_channel[..., 0] == 0).sum() < 48


def test_dropout2d_in_eval_mode_is_the_identity_and_checks_shape():
    layer = nn.Dropout2d(0.5).eval()
    x = Tensor(rng.standard_normal((2, 3, 4, 4)))
    assert layer(x) is x
    with pytest.raises(ValueError, match=r"dropout2d: .*\(N, C, H, W\).*\(2, 3\)"):
        F.dropout2d(Tensor(np.ones((2, 3))))
    assert repr(nn.Dropout1d(0.2)) == "Dropout1d(p=0.2, inplace=False)"


def test_dropout2d_reads_3d_input_as_pytorch_does_with_a_warning():
    tg.manual_seed(1)
    with pytest.warns(UserWarning, match="3-D input is read as \\(N, C, L\\)"):
        out = F.dropout2d(Tensor(np.ones((4, 6, 5))), p=0.5).numpy()
    assert ((out == 0).all(-1) | (out == 2).all(-1)).all()      # whole rows of L
    assert not ((out == 0).all(1) | (out == 2).all(1)).all()    # not whole (6, 5) maps


def test_dropout1d_unbatched_input_drops_channels():
    tg.manual_seed(0)
    out = F.dropout1d(Tensor(np.ones((50, 4))), p=0.5).numpy()
    assert ((out == 0).all(1) | (out == 2).all(1)).all()


# ----- errors ---------------------------------------------------------------------------------

def test_activation_errors_name_the_function():
    with pytest.raises(TypeError, match="gelu: expects a floating-point tensor, got int64"):
        F.gelu(Tensor(np.array([1, 2])))
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        nn.GELU(approximate="fast")
    with pytest.raises(ValueError, match=r"prelu: weight has 4 .* \(2, 3, 5\) has 3 channels"):
        F.prelu(Tensor(np.ones((2, 3, 5))), Tensor(np.ones(4)))
    with pytest.raises(ValueError, match="Hardtanh: min_val"):
        nn.Hardtanh(2.0, 1.0)
    with pytest.raises(ValueError, match="CELU: alpha cannot be 0"):
        nn.CELU(0.0)
    with pytest.raises(ValueError, match=r"glu: .* even size, got 5 \(input shape \(3, 5\)\)"):
        nn.GLU()(Tensor(np.ones((3, 5))))


def test_activations_agree_with_torch_at_kinks_and_extremes():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    xs = np.array([-800, -21, -20, -3, -1, 0, 1, 3, 6, 20, 20.5, 800.0])
    for name in ("relu6", "hardtanh", "hardswish", "elu", "celu", "selu", "softplus",
                 "logsigmoid", "mish", "silu", "softsign", "tanhshrink", "gelu", "softshrink",
                 "hardshrink"):
        x = Tensor(xs, requires_grad=True)
        getattr(F, name)(x).sum().backward()
        t = torch.tensor(xs, requires_grad=True)
        getattr(tf, name)(t).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-15,
                                   err_msg=name)


# ----- Identity and Unflatten -----------------------------------------------------------------

def test_identity_returns_its_input_and_ignores_arguments():
    x = Tensor(np.ones(3))
    assert nn.Identity(54, unused="argument")(x) is x
    assert repr(nn.Identity()) == "Identity()"


def test_unflatten_splits_one_axis_and_undoes_flatten():
    x = Tensor(rng.standard_normal((4, 2, 3, 5)))
    flat = nn.Flatten(1, 2)(x)                                   # (4, 6, 5)
    back = nn.Unflatten(1, (2, -1))(flat)
    assert back.shape == (4, 2, 3, 5)
    np.testing.assert_array_equal(back.numpy(), x.numpy())
    assert nn.Unflatten(-1, (5, 1))(flat).shape == (4, 6, 5, 1)
    assert repr(nn.Unflatten(1, (2, 3))) == "Unflatten(dim=1, unflattened_size=(2, 3))"


def test_unflatten_errors_name_the_sizes():
    with pytest.raises(ValueError, match=r"Unflatten: cannot split axis 1 of size 6 .* \(4, 2\)"):
        nn.Unflatten(1, (4, 2))(Tensor(np.zeros((3, 6))))
    with pytest.raises(ValueError, match=r"dimension 3 is out of range .* \(3, 6\)"):
        nn.Unflatten(3, (2, 3))(Tensor(np.zeros((3, 6))))
    with pytest.raises(TypeError, match="tuple of ints"):
        nn.Unflatten(1, (2.0, 3))


# ----- found by the differential review against PyTorch 2.13 -------------------------------

@pytest.mark.parametrize("fn, expected", [
    (lambda x: F.threshold(x, 0.5, -3.0), [np.nan, 1.0, -3.0]),
    (lambda x: F.softshrink(x), [np.nan, 0.5, 0.0]),
    (lambda x: F.hardshrink(x), [np.nan, 1.0, 0.0]),
    (lambda x: nn.Threshold(0.5, -3.0)(x), [np.nan, 1.0, -3.0]),
])
def test_shrink_and_threshold_keep_nan_with_gradient_one_as_pytorch(fn, expected):
    # a NaN is neither inside nor outside the dead zone: PyTorch passes it through (slope 1)
    x = Tensor(np.array([np.nan, 1.0, 0.25]), requires_grad=True)
    y = fn(x)
    np.testing.assert_array_equal(y.numpy(), expected)
    y.sum().backward()
    assert x.grad.numpy()[0] == 1.0


@pytest.mark.parametrize("make", [
    lambda: nn.Softmax(), lambda: nn.LogSoftmax(), lambda: nn.Softmin(),
    lambda: F.softmax, lambda: F.log_softmax, lambda: F.softmin,
])
def test_softmax_without_dim_is_the_last_axis_up_to_2d_and_asks_for_it_beyond(make):
    fn = make()
    x = np.array([[1.0, 2.0, 4.0], [0.0, 0.0, 0.0]])
    out = fn(Tensor(x)).numpy()
    # PyTorch's implicit choice for 1-D and 2-D input is the last axis: rows are distributions
    is_log = fn is F.log_softmax or isinstance(fn, nn.LogSoftmax)
    probs = np.exp(out) if is_log else out
    np.testing.assert_allclose(probs.sum(axis=1), [1.0, 1.0])
    np.testing.assert_allclose(fn(Tensor(x[0])).numpy(), out[0])
    # for 3-D PyTorch would guess dim 0 (and for 4-D dim 1): we ask instead of differing
    with pytest.raises(TypeError, match="give dim= for a 3-D input of shape \\(2, 1, 3\\)"):
        fn(Tensor(x[:, None, :]))
    with pytest.raises(TypeError, match="4-D"):
        fn(Tensor(np.zeros((1, 2, 1, 3))))


def test_softmax_reprs_show_dim_none_as_pytorch():
    assert repr(nn.Softmax()) == "Softmax(dim=None)"
    assert repr(nn.LogSoftmax(dim=1)) == "LogSoftmax(dim=1)"
    assert repr(nn.Softmin()) == "Softmin(dim=None)"


def test_softmax_dtype_argument_casts_first():
    x = Tensor(np.array([0.0, np.log(3.0)], dtype=np.float32))
    y = F.softmax(x, dim=0, dtype=np.float64)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), [0.25, 0.75])
    assert F.log_softmax(x, 0, dtype=np.float64).dtype == np.float64
