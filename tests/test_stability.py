"""Numerical stability where learners hit it: extreme inputs give exact values and no warnings.

Every computation below runs under ``strict_numerics()``: numpy warnings are errors and
overflow, division by zero and invalid operations raise. Underflow is allowed: e^-10000 is 0
in every float type, and rounding it to 0 is the correct answer, not an accident (numpy
ignores underflow by default too).

References are computed in float64 with numpy formulas independent of the code under test
(``np.logaddexp``, ``np.log1p``).
"""

import contextlib
import warnings

import numpy as np
import pytest

import nn
import nn.functional as F
from tinygrad_edu import Tensor

DTYPES = [np.float32, np.float64]
EXTREMES = np.array([-1e4, -1e3, -100.0, -30.0, -1.0, 0.0, 1.0, 30.0, 100.0, 1e3, 1e4])


@contextlib.contextmanager
def strict_numerics():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            yield


def tolerance(dtype):
    return dict(rtol=1e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


def ref_sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))           # 1 / (1 + e^-x), in logs


def ref_log_softmax(x, axis=-1):
    return x - np.logaddexp.reduce(x, axis=axis, keepdims=True)


def extreme_rows(dtype):
    """Logit rows mixing +-1e4 with ordinary values, and rows of equal huge values."""
    return np.array([[1e4, 0.0, -1e4],
                     [-1e4, -1e4 + 1, -1e4 + 2],
                     [1e4, 1e4, 1e4],
                     [-3.0, 1e3, 2.0],
                     [0.5, -0.5, 0.0]], dtype=dtype)


# ----- elementwise squashing ---------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_sigmoid_is_exact_and_silent_at_plus_minus_1e4(dtype):
    x = Tensor(EXTREMES.astype(dtype), requires_grad=True)
    with strict_numerics():
        y = x.sigmoid()
        y.sum().backward()
    s = ref_sigmoid(EXTREMES)
    assert y.dtype == dtype
    np.testing.assert_allclose(y.numpy(), s, **tolerance(dtype))
    np.testing.assert_allclose(x.grad.numpy(), s * (1 - s), **tolerance(dtype))
    assert y.numpy()[0] == 0.0 and y.numpy()[-1] == 1.0


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_tanh_is_exact_and_silent_at_plus_minus_1e4(dtype):
    x = Tensor(EXTREMES.astype(dtype), requires_grad=True)
    with strict_numerics():
        y = x.tanh()
        y.sum().backward()
    t = np.tanh(EXTREMES)
    np.testing.assert_allclose(y.numpy(), t, **tolerance(dtype))
    np.testing.assert_allclose(x.grad.numpy(), 1 - t * t, **tolerance(dtype))


# ----- exp-based composites ----------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_softmax_is_exact_and_silent_for_logits_of_1e4(dtype):
    x = Tensor(extreme_rows(dtype), requires_grad=True)
    weights = np.arange(15.0).reshape(5, 3)
    with strict_numerics():
        p = x.softmax(axis=1)
        (p * Tensor(weights.astype(dtype))).sum().backward()
    expected = np.exp(ref_log_softmax(extreme_rows(np.float64)))
    np.testing.assert_allclose(p.numpy(), expected, **tolerance(dtype))
    np.testing.assert_allclose(p.numpy().sum(axis=1), 1.0, rtol=1e-6)
    # d sum(w * softmax(x)) / dx = p * (w - sum(w * p))
    grad = expected * (weights - (weights * expected).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(x.grad.numpy(), grad, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_log_softmax_is_exact_and_silent_for_logits_of_1e4(dtype):
    x = Tensor(extreme_rows(dtype), requires_grad=True)
    with strict_numerics():
        y = x.log_softmax(axis=1)
        y.sum().backward()
    expected = ref_log_softmax(extreme_rows(np.float64))
    np.testing.assert_allclose(y.numpy(), expected, **tolerance(dtype))
    assert y.numpy()[0, 2] == pytest.approx(-2e4)   # finite, not -inf
    # d sum(log_softmax(x)) / dx = 1 - C * softmax(x)
    np.testing.assert_allclose(x.grad.numpy(), 1 - 3 * np.exp(expected), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("axis, keepdims", [(1, False), (0, True), (None, False)])
def test_logsumexp_is_exact_and_silent_for_values_of_1e4(dtype, axis, keepdims):
    data = extreme_rows(dtype)
    x = Tensor(data, requires_grad=True)
    with strict_numerics():
        y = x.logsumexp(axis=axis, keepdims=keepdims)
        y.sum().backward()
    reference = extreme_rows(np.float64)
    expected = np.logaddexp.reduce(reference, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(y.numpy(), expected, **tolerance(dtype))
    # the gradient of logsumexp is softmax along the same axis
    softmax = np.exp(reference - np.logaddexp.reduce(reference, axis=axis, keepdims=True))
    np.testing.assert_allclose(x.grad.numpy(), softmax, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_cross_entropy_is_exact_and_silent_for_logits_of_1e4(dtype):
    logits = Tensor(extreme_rows(dtype), requires_grad=True)
    labels = np.array([2, 0, 1, 0, 1])
    with strict_numerics():
        loss = nn.CrossEntropyLoss(reduction="sum")(logits, Tensor(labels))
        loss.backward()
    log_probs = ref_log_softmax(extreme_rows(np.float64))
    expected = -log_probs[np.arange(5), labels]
    assert expected[0] == pytest.approx(2e4)
    assert loss.item() == pytest.approx(expected.sum(), rel=1e-6)
    one_hot = np.eye(3)[labels]
    np.testing.assert_allclose(logits.grad.numpy(), np.exp(log_probs) - one_hot, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_bce_with_logits_is_exact_and_silent_for_logits_of_1e4(dtype):
    x = np.repeat(EXTREMES, 2)
    y = np.tile([0.0, 1.0], len(EXTREMES))
    logits = Tensor(x.astype(dtype), requires_grad=True)
    with strict_numerics():
        loss = nn.BCEWithLogitsLoss(reduction="none")(logits, Tensor(y.astype(dtype)))
        loss.sum().backward()
    # -(y log s + (1 - y) log(1 - s)) with log s = -log(1 + e^-x), log(1 - s) = -log(1 + e^x)
    expected = y * np.logaddexp(0.0, -x) + (1 - y) * np.logaddexp(0.0, x)
    np.testing.assert_allclose(loss.numpy(), expected, **tolerance(dtype))
    assert loss.numpy()[0] == 0.0 and loss.numpy()[1] == pytest.approx(1e4)   # x = -1e4
    np.testing.assert_allclose(logits.grad.numpy(), ref_sigmoid(x) - y, atol=1e-6)


# ----- BCELoss clamps its logs at -100 -----------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_bce_loss_clamps_each_log_at_minus_100(dtype):
    p = Tensor(np.array([0.0, 1.0, 0.0, 1.0, 0.5], dtype=dtype), requires_grad=True)
    y = Tensor(np.array([1.0, 0.0, 0.0, 1.0, 1.0], dtype=dtype))
    with strict_numerics():
        loss = nn.BCELoss(reduction="none")(p, y)
        loss.sum().backward()
    np.testing.assert_allclose(loss.numpy(), [100.0, 100.0, 0.0, 0.0, np.log(2.0)], rtol=1e-6)
    assert np.isfinite(p.grad.numpy()).all()


def test_bce_loss_clamps_tiny_probabilities_but_not_small_ones():
    p = Tensor(np.array([1e-50, 1e-40]), requires_grad=True)    # log: -115.1 and -92.1
    with strict_numerics():
        loss = nn.BCELoss(reduction="none")(p, Tensor(np.array([1.0, 1.0])))
        loss.sum().backward()
    np.testing.assert_allclose(loss.numpy(), [100.0, -np.log(1e-40)], rtol=1e-12)
    assert np.isfinite(p.grad.numpy()).all()


# ----- float32 sums over large batches -----------------------------------------------------

MILLION = 1_000_000


def large_batch(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(MILLION) + 3.0, rng.standard_normal(MILLION)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_float32_mse_over_a_million_elements_matches_float64(reduction):
    prediction, target = large_batch()
    loss32 = F.mse_loss(Tensor(prediction.astype(np.float32)),
                        Tensor(target.astype(np.float32)), reduction=reduction)
    loss64 = F.mse_loss(Tensor(prediction), Tensor(target), reduction=reduction)
    assert loss32.dtype == np.float32
    assert loss32.item() == pytest.approx(loss64.item(), rel=1e-5)


def test_float32_cross_entropy_over_a_million_samples_matches_float64():
    rng = np.random.default_rng(1)
    logits, labels = rng.standard_normal((MILLION, 3)), rng.integers(0, 3, MILLION)
    loss32 = F.cross_entropy(Tensor(logits.astype(np.float32)), Tensor(labels))
    loss64 = F.cross_entropy(Tensor(logits), Tensor(labels))
    assert loss32.item() == pytest.approx(loss64.item(), rel=1e-5)


def test_float32_bce_with_logits_over_a_million_elements_matches_float64():
    scores, _ = large_batch(2)
    targets = (np.random.default_rng(3).random(MILLION) < 0.5).astype(np.float64)
    loss32 = F.binary_cross_entropy_with_logits(Tensor(scores.astype(np.float32)),
                                                Tensor(targets.astype(np.float32)))
    loss64 = F.binary_cross_entropy_with_logits(Tensor(scores), Tensor(targets))
    assert loss32.item() == pytest.approx(loss64.item(), rel=1e-5)


def test_float32_sum_along_a_long_leading_axis_matches_float64():
    per_sample = np.full((MILLION, 2), 0.1)       # e.g. reduction='none' losses, 2 outputs
    total32 = Tensor(per_sample.astype(np.float32)).sum(axis=0).numpy()
    np.testing.assert_allclose(total32, per_sample.sum(axis=0), rtol=1e-5)


@pytest.mark.parametrize("layer", [lambda x, b: x + b, lambda x, b: x.linear(Tensor.eye(2), b)],
                         ids=["add", "linear"])
def test_float32_bias_gradient_over_a_large_batch_matches_float64(layer):
    bias = Tensor(np.zeros(2, dtype=np.float32), requires_grad=True)
    x = Tensor(np.zeros((MILLION, 2), dtype=np.float32))
    (layer(x, bias) * 0.1).sum().backward()       # d/d bias = sum of a million 0.1s
    np.testing.assert_allclose(bias.grad.numpy(), [1e5, 1e5], rtol=1e-5)


def test_float32_sums_switch_to_float64_accumulation_at_the_documented_length():
    # Below ACCURATE_SUM_TERMS terms per result numpy's float32 sum is used as it is (cheap,
    # error ~n * 6e-8 at worst); from there on the terms are added in float64. 0.1 is not
    # exact in float32, so row-by-row float32 accumulation drifts measurably by 4096 rows.
    from tinygrad_edu.ops import ACCURATE_SUM_TERMS, accurate_sum

    for rows in (ACCURATE_SUM_TERMS - 1, ACCURATE_SUM_TERMS):
        column = np.full((rows, 3), 0.1, dtype=np.float32)
        exact = np.float32(column.astype(np.float64).sum(axis=0)[0])
        plain = column.sum(axis=0)[0]
        assert plain != exact                       # the drift the switch is about
        got = accurate_sum(column, axis=0)
        assert got.dtype == np.float32
        assert got[0] == (exact if rows >= ACCURATE_SUM_TERMS else plain)
    # the bound the docstring promises below the switch
    short = np.full((ACCURATE_SUM_TERMS - 1, 1), 0.1, dtype=np.float32)
    assert abs(float(accurate_sum(short, axis=0)[0]) - 0.1 * len(short)) < 2.4e-4 * 0.1 * len(short)
