"""The losses and options of issue 15: weight, ignore_index, label_smoothing, pos_weight,
(N, C, d1, ...) inputs, L1, SmoothL1, Huber and KL divergence. Expected values are worked
out by hand on rows whose softmax is simple ([0, 0] -> 1/2, 1/2; [ln 3, 0] -> 3/4, 1/4)."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
import nn.functional as F
import tinygrad_edu as tg
from tinygrad_edu import Tensor

rng = np.random.default_rng(16)
LN2, LN3 = math.log(2), math.log(3)


def simple_logits():
    # row 0: softmax 1/2, 1/2 ; row 1: softmax 3/4, 1/4
    return Tensor(np.array([[0.0, 0.0], [LN3, 0.0]]), requires_grad=True)


def np_log_softmax(z, axis):
    return z - np.logaddexp.reduce(z, axis=axis, keepdims=True)


# ----- weight and ignore_index --------------------------------------------------------------

def test_weighted_cross_entropy_worked_by_hand():
    labels, weight = Tensor(np.array([1, 0])), Tensor(np.array([2.0, 1.0]))
    # sample 0: w[1] * -ln(1/2) = ln 2 ;  sample 1: w[0] * -ln(3/4) = 2 ln(4/3)
    per_sample = [LN2, 2 * math.log(4 / 3)]
    loss = F.cross_entropy(simple_logits(), labels, weight=weight, reduction="none")
    np.testing.assert_allclose(loss.numpy(), per_sample)
    total = F.cross_entropy(simple_logits(), labels, weight=weight, reduction="sum")
    assert total.item() == pytest.approx(sum(per_sample))
    mean = nn.CrossEntropyLoss(weight)(simple_logits(), labels)       # weight: positional
    assert mean.item() == pytest.approx(sum(per_sample) / (1.0 + 2.0))   # / sum of w[label]


def test_ignore_index_drops_samples_from_sum_and_count():
    labels = Tensor(np.array([1, -100]))
    x = simple_logits()
    loss = F.cross_entropy(x, labels)
    assert loss.item() == pytest.approx(LN2)            # only sample 0, divided by 1
    loss.backward()
    # sample 0: softmax - one_hot = [1/2, -1/2] ; the ignored sample gets no gradient
    np.testing.assert_allclose(x.grad.numpy(), [[0.5, -0.5], [0.0, 0.0]])
    none = F.nll_loss(x.log_softmax(axis=1), Tensor(np.array([1, 0])), ignore_index=0,
                      reduction="none")
    np.testing.assert_allclose(none.numpy(), [LN2, 0.0])


def test_all_samples_ignored_gives_nan_mean_and_zero_gradient():
    x = simple_logits()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loss = F.cross_entropy(x, Tensor(np.array([-100, -100])))
        assert math.isnan(loss.item())
        loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0)
    assert F.cross_entropy(x, Tensor(np.array([-100, -100])), reduction="sum").item() == 0


def test_weighted_and_ignored_gradient_matches_finite_differences():
    x = Tensor(rng.standard_normal((6, 4)), requires_grad=True)
    labels = Tensor(np.array([0, 3, 2, 2, 1, 3]))
    weight = Tensor(np.array([0.5, 2.0, 1.0, 3.0]))
    assert tg.gradcheck(lambda x: F.cross_entropy(x, labels, weight, ignore_index=2,
                                                  label_smoothing=0.1), [x])


# ----- label smoothing -------------------------------------------------------------------------

def test_label_smoothing_worked_by_hand():
    x = Tensor(np.array([[LN3, 0.0]]))
    # e = 0.2, C = 2: 0.8 * -ln(3/4) + 0.2/2 * (-ln(3/4) - ln(1/4)) = 0.9 ln(4/3) + 0.1 ln 4
    loss = F.cross_entropy(x, Tensor(np.array([0])), label_smoothing=0.2)
    assert loss.item() == pytest.approx(0.9 * math.log(4 / 3) + 0.1 * math.log(4))
    # the same as probability targets (1 - e) one_hot + e / C = [0.9, 0.1]
    soft = F.cross_entropy(x, Tensor(np.array([[0.9, 0.1]])))
    assert soft.item() == pytest.approx(loss.item())


def test_label_smoothing_out_of_range_raises():
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0, got 1.5"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match="cross_entropy.*label_smoothing"):
        F.cross_entropy(simple_logits(), Tensor(np.array([0, 1])), label_smoothing=-0.1)


# ----- (N, C, d1, ...) inputs --------------------------------------------------------------------

def test_cross_entropy_per_position_matches_numpy():
    x = rng.standard_normal((2, 3, 4, 5))          # N=2, C=3, a 4x5 image of scores
    labels = rng.integers(0, 3, (2, 4, 5))
    logp = np_log_softmax(x, axis=1)
    picked = -np.take_along_axis(logp, labels[:, None], axis=1)[:, 0]   # (2, 4, 5)
    none = F.cross_entropy(Tensor(x), Tensor(labels), reduction="none")
    assert none.shape == (2, 4, 5)
    np.testing.assert_allclose(none.numpy(), picked, rtol=1e-12)
    assert nn.CrossEntropyLoss()(Tensor(x), Tensor(labels)).item() == pytest.approx(picked.mean())
    nll = F.nll_loss(Tensor(logp), Tensor(labels), reduction="sum")
    assert nll.item() == pytest.approx(picked.sum())


def test_probability_targets_per_position_match_numpy():
    x = rng.standard_normal((2, 3, 4))
    p = rng.dirichlet(np.ones(3), (2, 4)).transpose(0, 2, 1)      # sums to 1 along axis 1
    expected = -(p * np_log_softmax(x, axis=1)).sum(axis=1)        # (2, 4)
    out = F.cross_entropy(Tensor(x), Tensor(p), reduction="none")
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 3), st.integers(1, 4), st.lists(st.integers(1, 3), min_size=1, max_size=2))
def test_per_position_loss_equals_the_loss_of_the_rows_moved_to_a_batch(n, c, positions):
    x = rng.standard_normal((n, c, *positions))
    labels = rng.integers(0, c, (n, *positions))
    out = F.cross_entropy(Tensor(x), Tensor(labels), reduction="none")
    assert out.shape == labels.shape
    rows = np.moveaxis(x, 1, -1).reshape(-1, c)      # every position a sample of its own
    flat = F.cross_entropy(Tensor(rows), Tensor(labels.reshape(-1)), reduction="none")
    np.testing.assert_allclose(out.numpy().reshape(-1), flat.numpy(), rtol=1e-12)


def test_per_position_gradient_matches_finite_differences():
    x = Tensor(rng.standard_normal((2, 3, 2, 2)), requires_grad=True)
    labels = rng.integers(0, 3, (2, 2, 2))
    labels[1, 0, 1] = -100
    weight = Tensor(np.array([1.0, 2.0, 0.5]))
    assert tg.gradcheck(lambda x: F.cross_entropy(x, Tensor(labels), weight), [x])


def test_per_position_errors_name_shapes_and_labels():
    x = Tensor(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"target of shape \(2, 4\), got \(2, 5\)"):
        F.cross_entropy(x, Tensor(np.zeros((2, 5), dtype=np.int64)))
    bad = np.zeros((2, 4), dtype=np.int64)
    bad[1, 2] = 3
    with pytest.raises(ValueError, match=r"nll_loss.*label 3 \(position \(1, 2\)\).*3 classes"):
        F.nll_loss(x, Tensor(bad))


def test_weight_errors():
    with pytest.raises(ValueError, match=r"weight must hold one value per class, shape \(2,\)"):
        F.cross_entropy(simple_logits(), Tensor(np.array([0, 1])), weight=Tensor(np.ones(3)))
    with pytest.raises(TypeError, match="weight=.*reduction='sum'"):
        nn.NLLLoss("sum")
    with pytest.raises(ValueError, match="ignore_index is not supported for class-probability"):
        F.cross_entropy(simple_logits(), Tensor(np.full((2, 2), 0.5)), ignore_index=0)


# ----- binary cross-entropy options ---------------------------------------------------------------

def test_pos_weight_worked_by_hand():
    x = Tensor(np.zeros((2, 2)), requires_grad=True)            # sigmoid(0) = 1/2
    y = Tensor(np.array([[1.0, 1.0], [0.0, 0.0]]))
    pos_weight = Tensor(np.array([3.0, 1.0]))                    # per column
    loss = F.binary_cross_entropy_with_logits(x, y, pos_weight=pos_weight, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [[3 * LN2, LN2], [LN2, LN2]])
    loss.sum().backward()
    # d/dx = -p y (1 - s) + (1 - y) s with s = 1/2: -3/2, -1/2 for the positives, +1/2 else
    np.testing.assert_allclose(x.grad.numpy(), [[-1.5, -0.5], [0.5, 0.5]])
    module = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    assert module(x, y).item() == pytest.approx(6 * LN2 / 4)
    assert "pos_weight" in module.state_dict()


def test_bce_weights_multiply_and_the_mean_divides_by_the_count():
    p = Tensor(np.array([0.5, 0.5]))
    y = Tensor(np.array([1.0, 0.0]))
    w = Tensor(np.array([1.0, 3.0]))
    assert F.binary_cross_entropy(p, y, w).item() == pytest.approx((LN2 + 3 * LN2) / 2)
    logits = F.binary_cross_entropy_with_logits(Tensor(np.zeros(2)), y, weight=w)
    assert logits.item() == pytest.approx(4 * LN2 / 2)


def test_bce_with_logits_options_gradient_matches_finite_differences():
    x = Tensor(rng.standard_normal((3, 4)) * 3, requires_grad=True)
    y = Tensor(rng.uniform(size=(3, 4)))
    w, pw = Tensor(rng.uniform(size=4)), Tensor(np.array([0.5, 1.0, 2.0, 4.0]))
    assert tg.gradcheck(lambda x: F.binary_cross_entropy_with_logits(x, y, w, pos_weight=pw),
                        [x])


# ----- L1, SmoothL1, Huber -----------------------------------------------------------------------

def test_l1_smooth_l1_and_huber_worked_by_hand():
    pred, zero = Tensor(np.array([0.5, -2.0, 3.0])), Tensor(np.zeros(3))
    np.testing.assert_allclose(nn.L1Loss(reduction="none")(pred, zero).numpy(), [0.5, 2, 3])
    # beta 1: 0.5 * 0.5^2 = 0.125 ; 2 - 0.5 = 1.5 ; 3 - 0.5 = 2.5
    np.testing.assert_allclose(F.smooth_l1_loss(pred, zero, reduction="none").numpy(),
                               [0.125, 1.5, 2.5])
    # delta 2: 0.5 * 0.25 = 0.125 ; 0.5 * 4 = 2 (|d| = delta is the linear side: 2 (2 - 1) = 2)
    # 2 * (3 - 1) = 4
    np.testing.assert_allclose(nn.HuberLoss(delta=2.0, reduction="none")(pred, zero).numpy(),
                               [0.125, 2.0, 4.0])
    assert nn.SmoothL1Loss(beta=0.0)(pred, zero).item() == pytest.approx(5.5 / 3)   # L1


def test_huber_is_delta_times_smooth_l1():
    d = Tensor(rng.standard_normal(20) * 3)
    zero = Tensor(np.zeros(20))
    np.testing.assert_allclose(F.huber_loss(d, zero, delta=1.7).numpy(),
                               1.7 * F.smooth_l1_loss(d, zero, beta=1.7).numpy(), rtol=1e-12)


def test_l1_gradient_at_zero_error_is_zero_and_weights_make_a_weighted_mean():
    x = Tensor(np.array([1.0, 2.0, 0.0]), requires_grad=True)
    F.l1_loss(x, Tensor(np.array([0.0, 3.0, 0.0])), reduction="sum").backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, -1.0, 0.0])
    w = Tensor(np.array([1.0, 0.0, 2.0]))
    errors = Tensor(np.array([1.0, 2.0, 3.0]))
    assert F.mse_loss(errors, Tensor(np.zeros(3)), weight=w).item() == pytest.approx(19 / 3)
    assert F.l1_loss(errors, Tensor(np.zeros(3)), weight=w).item() == pytest.approx(7 / 3)


@pytest.mark.parametrize("loss", [
    lambda x, y: F.smooth_l1_loss(x, y, beta=0.7), lambda x, y: F.huber_loss(x, y, delta=0.7),
    lambda x, y: F.l1_loss(x, y)], ids=["smooth_l1", "huber", "l1"])
def test_robust_losses_gradients_match_finite_differences(loss):
    y = Tensor(np.zeros((3, 4)))
    d = rng.standard_normal((3, 4)) * 2
    d = np.where(np.abs(np.abs(d) - 0.7) < 0.05, d + 0.2, d)      # away from the seams
    assert tg.gradcheck(lambda x: loss(x, y), [Tensor(d, requires_grad=True)])


# ----- KL divergence ---------------------------------------------------------------------------

def test_kl_div_worked_by_hand():
    log_q = Tensor(np.log(np.array([[0.25, 0.5, 0.25]])))
    p = Tensor(np.array([[0.5, 0.5, 0.0]]))          # a zero contributes 0 (0 log 0 = 0)
    kl = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.5)
    assert nn.KLDivLoss(reduction="batchmean")(log_q, p).item() == pytest.approx(kl)
    assert F.kl_div(log_q, p, reduction="sum").item() == pytest.approx(kl)
    with pytest.warns(UserWarning, match="batchmean"):
        assert F.kl_div(log_q, p).item() == pytest.approx(kl / 3)   # 'mean': per element
    log_p = Tensor(np.log(np.array([[0.5, 0.25, 0.25]])))
    assert F.kl_div(log_q, log_p, reduction="batchmean", log_target=True).item() == \
        pytest.approx(0.5 * math.log(2) + 0.25 * math.log(0.5) + 0)


def test_kl_div_gradient_matches_finite_differences():
    log_q = Tensor(np.log(rng.dirichlet(np.ones(4), 3)), requires_grad=True)
    p = Tensor(rng.dirichlet(np.ones(4), 3))
    assert tg.gradcheck(lambda q: F.kl_div(q, p, reduction="batchmean"), [log_q])


def test_kl_div_reduction_errors():
    with pytest.raises(ValueError, match="KLDivLoss: reduction must be 'mean', 'batchmean'"):
        nn.KLDivLoss(reduction="avg")
    with pytest.raises(ValueError, match="mean', 'sum' or 'none', got 'batchmean'"):
        nn.L1Loss(reduction="batchmean")


# ----- a second opinion ---------------------------------------------------------------------------

def test_options_agree_with_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x = rng.standard_normal((4, 3, 5))
    labels = rng.integers(0, 3, (4, 5))
    labels[0, :2] = 1
    w = np.array([0.3, 1.0, 2.5])
    for reduction in ("mean", "sum", "none"):
        ours = F.cross_entropy(Tensor(x), Tensor(labels), Tensor(w), ignore_index=1,
                               reduction=reduction, label_smoothing=0.15)
        theirs = tf.cross_entropy(torch.tensor(x), torch.tensor(labels), torch.tensor(w),
                                  ignore_index=1, reduction=reduction, label_smoothing=0.15)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    z, y = rng.standard_normal((3, 4)), rng.uniform(size=(3, 4))
    pw = np.array([1.0, 2.0, 0.5, 3.0])
    ours = F.binary_cross_entropy_with_logits(Tensor(z), Tensor(y), pos_weight=Tensor(pw))
    theirs = tf.binary_cross_entropy_with_logits(torch.tensor(z), torch.tensor(y),
                                                 pos_weight=torch.tensor(pw))
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)
