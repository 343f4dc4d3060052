"""Composite ops (written in primitives): values against numpy formulas, gradients against
finite differences, and numerical stability at extreme inputs."""

import collections
import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor

_rng = np.random.default_rng(99)


def _np_softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _np_logsumexp(a, axis, keepdims=False):
    m = a.max(axis=axis, keepdims=True)
    result = np.log(np.exp(a - m).sum(axis=axis, keepdims=True)) + m
    return result if keepdims else np.squeeze(result, axis=axis)


Composite = collections.namedtuple("Composite", ["name", "fn", "reference", "inputs"])

_x = _rng.standard_normal((3, 4))
_y = _rng.standard_normal((3, 4))
_cube = _rng.standard_normal((2, 3, 4))
# a shuffled grid: no ties, no element at 0, so min/leaky_relu are differentiable everywhere
_grid = (0.25 * _rng.permutation(12) - 1.375).reshape(3, 4)
_cond = _rng.standard_normal((3, 4)) > 0

COMPOSITES = [
    Composite("sigmoid", lambda x: x.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), [_x]),
    Composite("tanh", lambda x: x.tanh(), np.tanh, [_x]),
    Composite("softmax", lambda x: x.softmax(), lambda a: _np_softmax(a, -1), [_x]),
    Composite("softmax-axis0", lambda x: x.softmax(axis=0), lambda a: _np_softmax(a, 0), [_x]),
    Composite("softmax-dim1-3d", lambda x: x.softmax(dim=1), lambda a: _np_softmax(a, 1), [_cube]),
    Composite("log_softmax", lambda x: x.log_softmax(), lambda a: np.log(_np_softmax(a, -1)), [_x]),
    Composite("log_softmax-axis0", lambda x: x.log_softmax(axis=0),
              lambda a: np.log(_np_softmax(a, 0)), [_x]),
    Composite("logsumexp-axis1", lambda x: x.logsumexp(axis=1),
              lambda a: np.log(np.exp(a).sum(axis=1)), [_x]),
    Composite("logsumexp-axis-1-keepdims", lambda x: x.logsumexp(axis=-1, keepdims=True),
              lambda a: np.log(np.exp(a).sum(axis=-1, keepdims=True)), [_cube]),
    Composite("logsumexp-all", lambda x: x.logsumexp(), lambda a: np.log(np.exp(a).sum()), [_x]),
    Composite("logsumexp-axis(0,2)", lambda x: x.logsumexp(axis=(0, 2)),
              lambda a: np.log(np.exp(a).sum(axis=(0, 2))), [_cube]),
    Composite("mean-all", lambda x: x.mean(), lambda a: a.sum() / a.size, [_cube]),
    Composite("mean-axis1", lambda x: x.mean(axis=1), lambda a: a.sum(axis=1) / 3, [_cube]),
    Composite("mean-axis(0,2)-keepdims", lambda x: x.mean(axis=(0, 2), keepdims=True),
              lambda a: a.sum(axis=(0, 2), keepdims=True) / 8, [_cube]),
    Composite("var-correction1", lambda x: x.var(),
              lambda a: ((a - a.mean()) ** 2).sum() / (a.size - 1), [_x]),
    Composite("var-correction0", lambda x: x.var(correction=0),
              lambda a: ((a - a.mean()) ** 2).sum() / a.size, [_x]),
    Composite("var-axis0-correction1", lambda x: x.var(axis=0),
              lambda a: ((a - a.mean(axis=0)) ** 2).sum(axis=0) / 2, [_x]),
    Composite("var-axis-1-correction0-keepdims",
              lambda x: x.var(axis=-1, correction=0, keepdims=True),
              lambda a: ((a - a.mean(axis=-1, keepdims=True)) ** 2).mean(axis=-1, keepdims=True),
              [_cube]),
    Composite("min-all", lambda x: x.min(), lambda a: a.min(), [_grid]),
    Composite("amin-axis1", lambda x: x.amin(axis=1), lambda a: a.min(axis=1), [_grid]),
    Composite("minimum", lambda x, y: x.minimum(y), np.minimum, [_x, _y]),
    Composite("minimum-broadcast", lambda x, y: x.minimum(y), np.minimum, [_x, _y[0]]),
    Composite("leaky_relu", lambda x: x.leaky_relu(), lambda a: np.where(a > 0, a, 0.01 * a),
              [_grid]),
    Composite("leaky_relu-slope0.2", lambda x: x.leaky_relu(0.2),
              lambda a: np.where(a > 0, a, 0.2 * a), [_grid]),
    Composite("transpose", lambda x: x.transpose(), lambda a: np.swapaxes(a, -1, -2), [_cube]),
    Composite("transpose-0-2", lambda x: x.transpose(0, 2), lambda a: np.swapaxes(a, 0, 2),
              [_cube]),
    Composite("T", lambda x: x.T, lambda a: a.T, [_x]),
    Composite("permute", lambda x: x.permute(1, 2, 0), lambda a: np.transpose(a, (1, 2, 0)),
              [_cube]),
    Composite("flatten", lambda x: x.flatten(), lambda a: a.ravel(), [_cube]),
    Composite("flatten-from-1", lambda x: x.flatten(1), lambda a: a.reshape(2, 12), [_cube]),
    Composite("unsqueeze", lambda x: x.unsqueeze(1), lambda a: a[:, None], [_x]),
    Composite("unsqueeze-negative", lambda x: x.unsqueeze(-1), lambda a: a[..., None], [_x]),
    Composite("squeeze", lambda x: x.reshape(3, 1, 4, 1).squeeze(),
              lambda a: a, [_x]),
    Composite("squeeze-dim", lambda x: x.reshape(3, 1, 4, 1).squeeze(1),
              lambda a: a.reshape(3, 4, 1), [_x]),
    Composite("reshape", lambda x: x.reshape(4, 6), lambda a: a.reshape(4, 6), [_cube]),
    Composite("view", lambda x: x.view(-1, 3), lambda a: a.reshape(-1, 3), [_cube]),
    Composite("stack", lambda x, y: Tensor.stack([x, y]), lambda a, b: np.stack([a, b]), [_x, _y]),
    Composite("stack-axis-1", lambda x, y: Tensor.stack([x, y], axis=-1),
              lambda a, b: np.stack([a, b], axis=-1), [_x, _y]),
    Composite("where", lambda x, y: tg.where(_cond, x, y),
              lambda a, b: np.where(_cond, a, b), [_x, _y]),
    Composite("where-method", lambda x, y: x.where(_cond, y),
              lambda a, b: np.where(_cond, a, b), [_x, _y]),
    Composite("where-scalar-other", lambda x: tg.where(_cond, x, 0.0),
              lambda a: np.where(_cond, a, 0.0), [_x]),
]


@pytest.mark.parametrize("comp", COMPOSITES, ids=lambda c: c.name)
def test_composite_value_matches_numpy(comp):
    out = comp.fn(*[Tensor(a) for a in comp.inputs])
    expected = comp.reference(*comp.inputs)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("comp", COMPOSITES, ids=lambda c: c.name)
def test_composite_gradient(comp):
    assert tg.gradcheck(comp.fn, [Tensor(a.copy(), requires_grad=True) for a in comp.inputs])


# ----- hand-checked derivatives ----------------------------------------------------------

def test_min_ties_split_gradient_evenly():
    x = Tensor([2.0, 1.0, 1.0, 3.0], requires_grad=True)
    x.min().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 0.5, 0.5, 0])


def test_minimum_ties_split_gradient_in_half():
    x = Tensor([1.0, 5.0, 2.0], requires_grad=True)
    y = Tensor([1.0, 4.0, 3.0], requires_grad=True)
    x.minimum(y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0, 1])
    np.testing.assert_allclose(y.grad.numpy(), [0.5, 1, 0])


def test_leaky_relu_derivative_is_slope_at_and_below_zero():
    x = Tensor([-2.0, 0.0, 3.0], requires_grad=True)
    x.leaky_relu(0.1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.1, 0.1, 1.0])


def test_mean_gradient_is_one_over_n():
    x = Tensor(np.ones((4, 5)), requires_grad=True)
    x.mean().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((4, 5), 1 / 20))


def test_var_hand_values():
    x = Tensor([1.0, 2.0, 3.0, 4.0])
    # mean 2.5, squared deviations sum to 5
    assert x.var().item() == pytest.approx(5 / 3)
    assert x.var(correction=0).item() == pytest.approx(5 / 4)


def test_var_too_few_elements_raises():
    with pytest.raises(ValueError, match="var"):
        Tensor([1.0]).var()


def test_softmax_rows_sum_to_one():
    out = Tensor(_rng.standard_normal((5, 7))).softmax(axis=1)
    np.testing.assert_allclose(out.numpy().sum(axis=1), np.ones(5), rtol=1e-6)


def test_min_and_max_with_dim_return_values_and_indices():
    x = Tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    values, indices = x.min(dim=1)
    np.testing.assert_array_equal(values.numpy(), [1.0, 0.0])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    values, indices = x.max(dim=0)
    np.testing.assert_array_equal(values.numpy(), [3.0, 5.0, 4.0])
    np.testing.assert_array_equal(indices.numpy(), [0, 1, 1])


# ----- numerical stability ---------------------------------------------------------------

def _no_float_trouble():
    # overflow, 0/0, log(0) and inf - inf raise; underflow to 0 (e^-2000) is exact enough
    return np.errstate(over="raise", divide="raise", invalid="raise", under="ignore")


_EXTREME = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -999.0], [1000.0, 1000.0, 999.0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_softmax_of_extreme_logits_is_finite_and_correct(dtype):
    x = Tensor(_EXTREME.astype(dtype), requires_grad=True)
    with _no_float_trouble():
        out = x.softmax(axis=1)
        (out * Tensor(np.arange(9.0).reshape(3, 3).astype(dtype))).sum().backward()
    # after the shift by the row max: row 2 is e^[-1, -1, 0], row 3 is e^[0, 0, -1]
    row2 = np.exp([-1.0, -1.0, 0.0]) / (1 + 2 * np.exp(-1.0))
    row3 = np.exp([0.0, 0.0, -1.0]) / (2 + np.exp(-1.0))
    expected = np.array([[1.0, 0.0, 0.0], row2, row3])
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-30)
    assert np.isfinite(x.grad.numpy()).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_log_softmax_of_extreme_logits_is_finite_and_correct(dtype):
    x = Tensor(_EXTREME.astype(dtype), requires_grad=True)
    with _no_float_trouble():
        out = x.log_softmax(axis=1)
        out.sum().backward()
    # log of the shifted normalisers: row 2 sums e^[-1, -1, 0], row 3 sums e^[0, 0, -1]
    log_norm2 = np.log(1 + 2 * np.exp(-1.0))
    log_norm3 = np.log(2 + np.exp(-1.0))
    expected = np.array([[0.0, -2000.0, -1000.0],
                         [-1 - log_norm2, -1 - log_norm2, -log_norm2],
                         [-log_norm3, -log_norm3, -1 - log_norm3]])
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5)
    assert np.isfinite(x.grad.numpy()).all()
    # d sum(log_softmax) / dx = 1 - n * softmax(x): here 1 - 3 * softmax
    np.testing.assert_allclose(x.grad.numpy()[0], [1 - 3, 1, 1], atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_logsumexp_of_extreme_values_is_finite_and_correct(dtype):
    x = Tensor(_EXTREME.astype(dtype), requires_grad=True)
    with _no_float_trouble():
        out = x.logsumexp(axis=1)
        out.sum().backward()
    expected = [1000.0, -999.0 + np.log(1 + 2 * np.exp(-1.0)), 1000.0 + np.log(2 + np.exp(-1.0))]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    # the gradient of logsumexp is softmax, so every row sums to 1
    np.testing.assert_allclose(x.grad.numpy().sum(axis=1), np.ones(3), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_sigmoid_at_large_magnitudes_warns_nothing(dtype):
    x = Tensor(np.array([-1e4, -50.0, 0.0, 50.0, 1e4], dtype=dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with _no_float_trouble():
            out = x.sigmoid()
            out.sum().backward()
    assert out.numpy()[0] == 0.0 and out.numpy()[-1] == 1.0 and out.numpy()[2] == 0.5
    assert np.isfinite(x.grad.numpy()).all()
    assert x.grad.numpy()[2] == pytest.approx(0.25)
    assert x.grad.numpy()[0] == 0.0 and x.grad.numpy()[-1] == 0.0


def test_tanh_at_large_magnitudes_is_finite():
    x = Tensor(np.array([-1e4, 1e4]), requires_grad=True)
    with _no_float_trouble():
        out = x.tanh()
        out.sum().backward()
    np.testing.assert_array_equal(out.numpy(), [-1.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_pytorch_method_aliases_match_their_definitions():
    rng = np.random.default_rng(5)
    a = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = Tensor(rng.standard_normal((4, 2)), requires_grad=True)
    np.testing.assert_allclose(a.pow(3).numpy(), a.numpy() ** 3)
    np.testing.assert_allclose(a.square().numpy(), a.numpy() ** 2)
    np.testing.assert_allclose(a.mm(b).numpy(), a.numpy() @ b.numpy())
    np.testing.assert_allclose(a.t().numpy(), a.numpy().T)
    assert tg.gradcheck(lambda x, y: x.pow(3).mm(y).t().square(), [a, b])
