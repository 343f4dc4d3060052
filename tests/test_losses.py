"""Losses: values against numpy, gradients against finite differences, stability, bad input."""

import warnings

import numpy as np
import pytest

import nn
import nn.functional as F
import tinygrad_edu as tg
from tinygrad_edu import Tensor

rng = np.random.default_rng(1)


def logits64(n=5, c=4, scale=1.0):
    return Tensor(scale * rng.standard_normal((n, c)), requires_grad=True)


def np_log_softmax(z):
    # independent of the code under test: numpy's own stable logaddexp reduction
    return z - np.logaddexp.reduce(z, axis=1, keepdims=True)


def np_sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ----- reduction ---------------------------------------------------------------------------

@pytest.mark.parametrize("loss_cls", [nn.MSELoss, nn.CrossEntropyLoss, nn.NLLLoss, nn.BCELoss,
                                      nn.BCEWithLogitsLoss], ids=lambda c: c.__name__)
def test_bad_reduction_raises_value_error_naming_the_loss(loss_cls):
    with pytest.raises(ValueError, match=f"{loss_cls.__name__}.*'mean', 'sum' or 'none'"):
        loss_cls(reduction="average")


def test_functional_bad_reduction_raises_value_error():
    x = Tensor(np.zeros(3))
    with pytest.raises(ValueError, match="mse_loss.*'avg'"):
        F.mse_loss(x, x, reduction="avg")


def test_loss_modules_are_modules_without_parameters():
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    assert isinstance(loss_fn, nn.Module)
    assert list(loss_fn.parameters()) == []
    # PyTorch prints a loss without its arguments; the reduction is an attribute
    assert repr(loss_fn) == "CrossEntropyLoss()" and loss_fn.reduction == "sum"
    assert repr(nn.MSELoss()) == "MSELoss()"


# ----- MSE ---------------------------------------------------------------------------------

def test_mse_loss_matches_numpy_for_each_reduction():
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    sq = (a - b) ** 2
    assert nn.MSELoss()(Tensor(a), Tensor(b)).item() == pytest.approx(sq.mean())
    assert nn.MSELoss(reduction="sum")(Tensor(a), Tensor(b)).item() == pytest.approx(sq.sum())
    np.testing.assert_allclose(nn.MSELoss(reduction="none")(Tensor(a), Tensor(b)).numpy(), sq)


def test_mse_loss_gradient_matches_finite_differences():
    target = Tensor(rng.standard_normal((4, 3)))
    assert tg.gradcheck(lambda z: F.mse_loss(z, target), [logits64(4, 3)])


def test_mse_loss_rejects_n_against_n_by_1_in_both_orders():
    pred, target = Tensor(np.zeros(8)), Tensor(np.zeros((8, 1)))
    for a, b in ((pred, target), (target, pred)):
        with pytest.raises(ValueError) as info:
            nn.MSELoss()(a, b)
        message = str(info.value)
        assert "MSELoss" in message and "(8,)" in message and "(8, 1)" in message
        assert "(8, 8)" in message          # says what broadcasting would have done


def test_mse_loss_accepts_numpy_targets_and_keeps_float32():
    pred = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    loss = F.mse_loss(pred, np.array([0.0, 1.0, 3.0]))
    assert loss.dtype == np.float32
    assert loss.item() == pytest.approx((1 + 0 + 4) / 3)


def test_mse_loss_integer_input_raises_type_error():
    with pytest.raises(TypeError, match="MSELoss.*floating point"):
        F.mse_loss(Tensor(np.arange(3)), Tensor(np.arange(3)))


# ----- cross-entropy -----------------------------------------------------------------------

def test_cross_entropy_matches_numpy_for_each_reduction():
    z = rng.standard_normal((6, 4))
    y = np.array([0, 3, 1, 1, 2, 0])
    per_sample = -np_log_softmax(z)[np.arange(6), y]
    assert nn.CrossEntropyLoss()(Tensor(z), Tensor(y)).item() == pytest.approx(per_sample.mean())
    assert F.cross_entropy(Tensor(z), y, reduction="sum").item() == pytest.approx(per_sample.sum())
    np.testing.assert_allclose(F.cross_entropy(Tensor(z), y, reduction="none").numpy(), per_sample)


def test_cross_entropy_gradient_matches_finite_differences():
    labels = Tensor(np.array([2, 0, 3, 1, 1]))
    assert tg.gradcheck(lambda z: F.cross_entropy(z, labels), [logits64()])
    assert tg.gradcheck(lambda z: F.cross_entropy(z, labels, reduction="none"), [logits64()])


def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_n():
    z = logits64(3, 4)
    y = np.array([1, 0, 3])
    F.cross_entropy(z, y).backward()
    p = np.exp(np_log_softmax(z.numpy()))
    expected = (p - np.eye(4)[y]) / 3
    np.testing.assert_allclose(z.grad.numpy(), expected, rtol=1e-10)


def test_cross_entropy_is_stable_for_logits_of_plus_minus_1000():
    z = Tensor(np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0]], dtype=np.float32),
               requires_grad=True)
    y = Tensor(np.array([1, 2]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")        # no overflow warnings either
        loss = F.cross_entropy(z, y, reduction="none")
        loss.sum().backward()
    # sample 0: log-sum-exp is 1000, the true class scores -1000 -> loss 2000
    # sample 1: two equal top logits -> loss log 2
    np.testing.assert_allclose(loss.numpy(), [2000.0, np.log(2)], rtol=1e-6)
    assert np.isfinite(z.grad.numpy()).all()
    np.testing.assert_allclose(z.grad.numpy(), [[1, -1, 0], [0, 0.5, -0.5]], atol=1e-6)


def test_cross_entropy_with_class_probability_targets_matches_numpy():
    z = rng.standard_normal((4, 3))
    q = rng.random((4, 3))
    q /= q.sum(axis=1, keepdims=True)
    expected = -(q * np_log_softmax(z)).sum(axis=1).mean()
    assert F.cross_entropy(Tensor(z), Tensor(q)).item() == pytest.approx(expected)
    assert tg.gradcheck(lambda t: F.cross_entropy(t, Tensor(q)), [logits64(4, 3)])


def test_cross_entropy_one_hot_probabilities_equal_integer_labels():
    z = Tensor(rng.standard_normal((5, 3)))
    y = np.array([0, 2, 1, 2, 0])
    soft = F.cross_entropy(z, Tensor(np.eye(3)[y]))
    hard = F.cross_entropy(z, Tensor(y))
    assert soft.item() == pytest.approx(hard.item())


def test_cross_entropy_float_labels_raise_type_error_suggesting_long():
    z = Tensor(rng.standard_normal((4, 3)))
    with pytest.raises(TypeError) as info:
        nn.CrossEntropyLoss()(z, Tensor(np.array([0.0, 1.0, 2.0, 1.0])))
    message = str(info.value)
    assert "CrossEntropyLoss" in message and ".long()" in message and "(4,)" in message


def test_cross_entropy_label_out_of_range_names_label_and_class_count():
    z = Tensor(rng.standard_normal((3, 4)))
    with pytest.raises(ValueError) as info:
        nn.CrossEntropyLoss()(z, Tensor(np.array([1, 7, 0])))
    message = str(info.value)
    assert "CrossEntropyLoss" in message and "label 7" in message and "4 classes" in message
    assert "sample 1" in message
    with pytest.raises(ValueError, match="label -1"):
        F.cross_entropy(z, np.array([0, -1, 0]))


def test_cross_entropy_labels_of_shape_n_by_1_raise_with_reshape_hint():
    z = Tensor(rng.standard_normal((3, 4)))
    with pytest.raises(ValueError, match=r"\(3,\).*\(3, 1\).*reshape\(-1\)"):
        F.cross_entropy(z, np.array([[0], [1], [2]]))


def test_cross_entropy_boolean_labels_raise_type_error():
    with pytest.raises(TypeError, match="booleans"):
        F.cross_entropy(Tensor(np.zeros((2, 2))), np.array([True, False]))


def test_cross_entropy_single_sample_with_scalar_label():
    z = rng.standard_normal(4)
    loss = F.cross_entropy(Tensor(z), Tensor(np.array(2)), reduction="none")
    assert loss.shape == ()
    assert loss.item() == pytest.approx(-(z - np.logaddexp.reduce(z))[2])


def test_cross_entropy_with_float32_logits_returns_float32():
    z = Tensor(rng.standard_normal((2, 3)).astype(np.float32))
    assert F.cross_entropy(z, np.array([0, 1])).dtype == np.float32


# ----- NLL ---------------------------------------------------------------------------------

def test_nll_loss_picks_minus_log_probability_of_true_class():
    logp = np.log(np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]]))
    y = np.array([1, 0, 1])
    expected = -(np.log(0.8) + np.log(0.6) + np.log(0.5)) / 3
    assert nn.NLLLoss()(Tensor(logp), Tensor(y)).item() == pytest.approx(expected)
    assert F.nll_loss(Tensor(logp), y, reduction="sum").item() == pytest.approx(3 * expected)


def test_nll_of_log_softmax_equals_cross_entropy():
    z = Tensor(rng.standard_normal((5, 3)))
    y = np.array([0, 1, 2, 2, 1])
    a = F.nll_loss(nn.LogSoftmax(dim=1)(z), y)
    b = F.cross_entropy(z, y)
    assert a.item() == pytest.approx(b.item())


def test_nll_loss_gradient_matches_finite_differences():
    labels = np.array([1, 0, 2, 2, 3])
    assert tg.gradcheck(lambda z: F.nll_loss(z.log_softmax(axis=1), labels), [logits64()])


def test_nll_loss_float_labels_raise_type_error():
    with pytest.raises(TypeError, match="NLLLoss.*long"):
        nn.NLLLoss()(Tensor(np.zeros((2, 3))), Tensor(np.array([0.0, 1.0])))


def test_nll_loss_label_out_of_range_raises():
    with pytest.raises(ValueError, match="NLLLoss.*label 3.*3 classes"):
        F.nll_loss(Tensor(np.zeros((2, 3))), np.array([0, 3]))


# ----- BCE ---------------------------------------------------------------------------------

def test_bce_loss_matches_numpy():
    p = rng.uniform(0.05, 0.95, (4, 2))
    y = (rng.random((4, 2)) > 0.5).astype(np.float64)
    per = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert nn.BCELoss()(Tensor(p), Tensor(y)).item() == pytest.approx(per.mean())
    np.testing.assert_allclose(F.binary_cross_entropy(Tensor(p), y, reduction="none").numpy(), per)


def test_bce_loss_gradient_matches_finite_differences():
    y = Tensor((rng.random((3, 2)) > 0.5).astype(np.float64))
    p = Tensor(rng.uniform(0.1, 0.9, (3, 2)), requires_grad=True)
    assert tg.gradcheck(lambda t: F.binary_cross_entropy(t, y), [p])


def test_bce_loss_is_finite_at_probabilities_exactly_0_and_1():
    p = Tensor(np.array([0.0, 1.0, 0.0, 1.0], dtype=np.float32), requires_grad=True)
    y = Tensor(np.array([0.0, 1.0, 1.0, 0.0], dtype=np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")        # no divide-by-zero in log either
        loss = F.binary_cross_entropy(p, y, reduction="none")
        loss.sum().backward()
    # right and certain: 0; wrong and certain: the log is clamped at -100, as PyTorch does
    np.testing.assert_allclose(loss.numpy(), [0.0, 0.0, 100.0, 100.0])
    assert np.isfinite(p.grad.numpy()).all()


def test_bce_loss_rejects_values_outside_0_1():
    with pytest.raises(ValueError) as info:
        nn.BCELoss()(Tensor(np.array([0.5, 1.2, -0.1])), Tensor(np.array([1.0, 0.0, 1.0])))
    message = str(info.value)
    assert "BCELoss" in message and "[0, 1]" in message and "BCEWithLogitsLoss" in message
    assert "1.2" in message and "-0.1" in message


def test_bce_loss_rejects_shape_mismatch():
    with pytest.raises(ValueError, match=r"BCELoss.*\(5, 1\).*\(5,\)"):
        nn.BCELoss()(Tensor(np.full((5, 1), 0.5)), Tensor(np.ones(5)))


def test_bce_loss_accepts_integer_targets():
    loss = F.binary_cross_entropy(Tensor(np.array([0.25, 0.5])), np.array([1, 0]))
    assert loss.item() == pytest.approx(-(np.log(0.25) + np.log(0.5)) / 2)


# ----- BCE with logits ---------------------------------------------------------------------

def test_bce_with_logits_matches_numpy():
    x = rng.standard_normal((5, 2)) * 3
    y = (rng.random((5, 2)) > 0.5).astype(np.float64)
    # log(1 + e^x) - x y, with numpy's stable logaddexp
    per = np.logaddexp(0, x) - x * y
    assert nn.BCEWithLogitsLoss()(Tensor(x), Tensor(y)).item() == pytest.approx(per.mean())
    assert F.binary_cross_entropy_with_logits(Tensor(x), y, reduction="sum").item() == \
        pytest.approx(per.sum())


def test_bce_with_logits_equals_bce_of_sigmoid():
    x = rng.standard_normal(6)
    y = rng.random(6)                          # soft targets work too
    a = F.binary_cross_entropy_with_logits(Tensor(x), Tensor(y))
    b = F.binary_cross_entropy(Tensor(np_sigmoid(x)), Tensor(y))
    assert a.item() == pytest.approx(b.item())


def test_bce_with_logits_gradient_matches_finite_differences():
    y = Tensor((rng.random((4, 3)) > 0.5).astype(np.float64))
    assert tg.gradcheck(lambda t: F.binary_cross_entropy_with_logits(t, y), [logits64(4, 3)])


def test_bce_with_logits_gradient_is_sigmoid_minus_target_even_at_zero():
    x = Tensor(np.array([0.0, 0.0, 2.0, -3.0]), requires_grad=True)
    y = np.array([1.0, 0.0, 0.0, 1.0])
    F.binary_cross_entropy_with_logits(x, y, reduction="sum").backward()
    np.testing.assert_allclose(x.grad.numpy(), np_sigmoid(x.numpy()) - y, rtol=1e-12)


def test_bce_with_logits_is_stable_for_logits_of_1e4():
    x = Tensor(np.array([1e4, 1e4, -1e4, -1e4], dtype=np.float32), requires_grad=True)
    y = Tensor(np.array([1.0, 0.0, 1.0, 0.0], dtype=np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
        loss.sum().backward()
    np.testing.assert_allclose(loss.numpy(), [0.0, 1e4, 1e4, 0.0])
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1.0, -1.0, 0.0])


def test_bce_with_logits_rejects_n_against_n_by_1():
    with pytest.raises(ValueError, match=r"BCEWithLogitsLoss.*\(6,\).*\(6, 1\)"):
        nn.BCEWithLogitsLoss()(Tensor(np.zeros(6)), Tensor(np.zeros((6, 1))))


@pytest.mark.parametrize("bad", [-1, 3])
def test_tensor_cross_entropy_rejects_labels_out_of_range(bad):
    # numpy would read -1 as "the last class" and give a plausible, wrong loss
    logits = Tensor(np.zeros((2, 3), dtype=np.float32), requires_grad=True)
    with pytest.raises(ValueError, match=rf"cross_entropy: label {bad} \(sample 1\) is out of "
                                         r"range for 3 classes"):
        logits.cross_entropy(Tensor(np.array([0, bad])))


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8, np.uint64])
def test_first_bad_label_finds_negative_and_too_large_labels_of_every_integer_width(dtype):
    from tinygrad_edu.checks import first_bad_label
    assert first_bad_label(np.array([0, 2, 1], dtype=dtype), 3) is None
    assert first_bad_label(np.array([], dtype=dtype), 3) is None
    assert first_bad_label(np.array([0, 3, 1, 7], dtype=dtype), 3) == 1
    if np.dtype(dtype).kind == "i":
        assert first_bad_label(np.array([0, 1, -1], dtype=dtype), 3) == 2
