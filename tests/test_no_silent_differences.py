"""Places where tinygrad_edu used to give a quietly different answer from PyTorch.

Each test pins PyTorch's documented behaviour with values worked out by hand: the same answer,
or a clear error, never a plausible wrong number.
"""

import math

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import Tensor


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


# ----- max / min with a dim return (values, indices) --------------------------------------

X = [[1.0, 7.0, 3.0], [9.0, 2.0, 9.0]]


@pytest.mark.parametrize("call", [
    lambda x: x.max(1), lambda x: x.max(dim=1), lambda x: x.max(axis=1),
    lambda x: tg.max(x, 1), lambda x: x.max(-1),
])
def test_max_along_a_dim_gives_values_and_indices(call):
    values, indices = call(Tensor(X))
    np.testing.assert_array_equal(values.numpy(), [7.0, 9.0])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])      # the first of the tied 9s
    assert indices.dtype == np.int64
    assert call(Tensor(X))[1] is not None and call(Tensor(X)).indices.shape == (2,)


def test_min_along_a_dim_gives_values_and_indices_and_keepdim_keeps_the_axis():
    values, indices = Tensor(X).min(0, keepdim=True)
    np.testing.assert_array_equal(values.numpy(), [[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(indices.numpy(), [[0, 1, 0]])


def test_accuracy_from_max_indices_is_right():
    logits = Tensor([[0.1, 2.0], [3.0, -1.0], [0.0, 0.5]])
    labels = tg.tensor([1, 0, 0])
    accuracy = (logits.max(1)[1] == labels).float().mean().item()
    assert accuracy == pytest.approx(2 / 3)


def test_max_without_dim_is_one_value_and_amax_reduces_several_axes():
    assert Tensor(X).max().item() == 9.0
    np.testing.assert_array_equal(Tensor(X).amax(axis=(0, 1)).numpy(), 9.0)
    with pytest.raises(TypeError, match="amax"):
        Tensor(X).max(dim=(0, 1))


def test_max_dim_gives_the_whole_gradient_to_the_returned_index():
    x = leaf([[1.0, 5.0, 5.0]])
    x.max(1)[0].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0, 0.0]])
    x.grad = None
    x.amax(1).sum().backward()              # values only: ties share, as PyTorch's amax
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 0.5, 0.5]])


def test_max_of_two_tensors_is_the_elementwise_maximum():
    np.testing.assert_array_equal(Tensor([1.0, 5.0]).max(Tensor([3.0, 2.0])).numpy(), [3.0, 5.0])


# ----- cat and stack refuse a single tensor -------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda: tg.cat(tg.ones(2, 3, 4), 1), lambda: tg.stack(tg.ones(2, 3)),
    lambda: Tensor.cat(tg.ones(2, 3)), lambda: Tensor.stack(np.ones((2, 3))),
])
def test_cat_and_stack_refuse_a_single_tensor(call):
    with pytest.raises(TypeError, match="list or tuple of tensors"):
        call()


# ----- indexing: an int beside an index array -----------------------------------------------

def test_int_beside_an_index_array_selects_first_as_pytorch():
    data = np.arange(60.0).reshape(2, 5, 6)
    x = leaf(data)
    out = x[1, :, tg.tensor([0, 2, 4])]
    assert out.shape == (5, 3)                                   # numpy's rule: (3, 5)
    np.testing.assert_array_equal(out.numpy(), data[1][:, [0, 2, 4]])
    out.sum().backward()
    expected = np.zeros_like(data)
    expected[1][:, [0, 2, 4]] = 1
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_index_arrays_alone_follow_the_common_rule():
    data = np.arange(24.0).reshape(2, 3, 4)
    x = Tensor(data)
    assert x[[0, 1], :, [1, 2]].shape == (2, 3)                  # separated: to the front
    assert x[:, [0, 2], [1, 3]].shape == (2, 2)                  # adjacent: in place
    np.testing.assert_array_equal(x[:, [0, 2], [1, 3]].numpy(), data[:, [0, 2], [1, 3]])


# ----- gradients at edge points ------------------------------------------------------------

def test_x_to_the_zero_has_gradient_zero_even_at_zero():
    x = leaf([0.0, 2.0])
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_gradient_of_zero_to_a_negative_power_wrt_the_exponent_is_minus_inf():
    # d/dy 0^y = 0^y ln 0: inf * -inf = -inf for y < 0; 0 for y > 0 (the limit)
    y = leaf([-2.0, -0.3, 0.5, 3.0])
    (Tensor(np.zeros(4)) ** y).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [-np.inf, -np.inf, 0.0, 0.0])


def test_gradient_of_x_to_the_y_at_zero_and_minus_point_three():
    x, y = leaf([0.0]), leaf([-0.3])
    with np.errstate(divide="ignore"):
        (x ** y).sum().backward()
    assert y.grad.item() == -np.inf
    assert x.grad.item() == -np.inf      # -0.3 * 0^(-1.3) = -inf, as PyTorch


def test_std_over_one_element_has_gradient_zero():
    x = leaf(np.random.default_rng(0).standard_normal((1, 3)))
    np.std(x, axis=0).sum().backward()     # numpy's ddof=0: std of one value is 0
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((1, 3)))
    s = leaf(2.5)
    np.std(s).backward()
    assert s.grad.item() == 0.0


def test_std_elsewhere_is_sqrt_of_var_with_its_gradient():
    x = leaf([1.0, 2.0, 4.0])                # mean 7/3, deviations -4/3, -1/3, 5/3
    std = x.std()                            # unbiased: sqrt((16 + 1 + 25) / 9 / 2) = sqrt(7/3)
    assert std.item() == pytest.approx(math.sqrt(7 / 3))
    std.backward()                           # d std / dx_i = (x_i - mean) / ((n - 1) std)
    expected = np.array([-4 / 3, -1 / 3, 5 / 3]) / (2 * math.sqrt(7 / 3))
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_var_takes_pytorchs_positional_unbiased():
    x = Tensor([[1.0, 3.0]])
    assert x.var(1, False).item() == 1.0     # biased: ((-1)^2 + 1^2) / 2
    assert x.var(1, True).item() == 2.0      # unbiased: / 1
    with pytest.raises(TypeError, match="unbiased"):
        x.var(1, 1)


def test_max_gives_zero_not_nan_to_the_losers_when_the_upstream_gradient_is_infinite():
    # log'(0) = inf arrives at the maximum (0); the other elements get 0, as in PyTorch
    x = leaf([[-1.0, 0.0, -3.0]])
    with np.errstate(divide="ignore"):
        x.amax(1).log().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, np.inf, 0.0]])


def test_relu_with_an_infinite_upstream_gradient_is_nan_where_flat_a_known_difference():
    # documented in the README: grad * mask keeps relu's backward quick; inf * 0 is NaN
    # (PyTorch: 0). detect_anomaly names the op.
    x = leaf([-1.0, 0.25])
    with np.errstate(divide="ignore", invalid="ignore"):
        x.relu().sqrt().sum().backward()
    assert np.isnan(x.grad.numpy()[0]) and x.grad.numpy()[1] == pytest.approx(1.0)


# ----- integers ------------------------------------------------------------------------------

def test_integer_min_is_exact_at_the_types_minimum():
    low = np.iinfo(np.int32).min
    t = Tensor(np.array([0, low], dtype=np.int32))
    assert t.min().item() == low and t.min().dtype == np.int32
    assert t.amin(0).item() == low
    np.testing.assert_array_equal(t.minimum(Tensor(np.array([1, 1], np.int32))).numpy(), [0, low])
    big = Tensor(np.array([np.iinfo(np.int64).min, 5]))
    assert big.min().item() == np.iinfo(np.int64).min
    assert tg.min(big, 0)[1].item() == 0


def test_int_compared_with_a_large_float_compares_as_pytorch():
    # 16777217 is not a float32; PyTorch compares an int64 tensor with a Python float in
    # float32, where both sides round to 16777216
    assert (tg.tensor([16777217]) == 16777217.0).item()


def test_math_on_ints_and_bools_gives_float32():
    assert tg.tensor([True]).exp().dtype == np.float32
    assert tg.tensor([1, 2]).sqrt().dtype == np.float32
    assert tg.tensor([1, 2]).exp().numpy()[0] == pytest.approx(math.e)


def test_a_0d_operand_takes_the_other_operands_dtype_of_its_kind():
    x = Tensor(np.ones(2, dtype=np.float32))
    assert (x * Tensor(np.array(2.0))).dtype == np.float32
    i = Tensor(np.ones(2, dtype=np.int32))
    assert (i + Tensor(np.array(3))).dtype == np.int32


# ----- requires_grad -------------------------------------------------------------------------

def test_only_floating_leaves_can_require_grad():
    t = tg.tensor([1, 2])
    with pytest.raises(TypeError, match="floating"):
        t.requires_grad = True
    assert not t.requires_grad
    h = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        h.requires_grad = False
    w = Tensor([1.0])
    w.requires_grad = True
    assert w.requires_grad


# ----- values that would leave the graph -----------------------------------------------------

def test_numpy_array_methods_and_constructors_refuse_a_tensor_that_requires_grad():
    X = np.ones((2, 3))
    w = leaf(np.ones((3, 2)))
    x = leaf([1.0, 2.0])
    with pytest.raises(TypeError, match=r"np\.dot\(X, t\)"):
        X.dot(w)
    with pytest.raises(TypeError, match="tg.stack"):
        np.array([x, 2 * x])
    with pytest.raises(TypeError, match="requires grad"):
        np.c_[x, x]
    with pytest.raises(TypeError, match="requires grad"):
        np.r_[x, x]
    with pytest.raises(TypeError, match="requires grad"):
        np.max(np.array([x, x]))
    with pytest.raises(TypeError, match="requires grad"):
        np.mean([x, x + 2])
    with pytest.raises(TypeError, match="requires grad"):
        np.asarray(w)
    # the ways that keep the graph
    assert np.dot(X, w).requires_grad and (X @ w).requires_grad
    np.testing.assert_array_equal(np.asarray(w.detach()), np.ones((3, 2)))
    np.testing.assert_array_equal(w.numpy(), np.ones((3, 2)))   # asking for values by name


def test_float_of_a_loss_works_outside_gradient_checks():
    loss = (leaf([2.0]) * 3).sum()
    assert float(loss) == 6.0 and f"{loss:.1f}" == "6.0" and math.log(loss) == math.log(6.0)


def test_math_log_inside_compare_gradients_raises_instead_of_reporting_wrong():
    X = np.array([[1.0, 2.0], [0.5, -1.0]])

    def with_math(W):
        return math.log(np.sum(np.exp(np.dot(X, W)))) * Tensor(1.0)

    def with_numpy(W):
        return np.log(np.sum(np.exp(np.dot(X, W))))

    W = np.array([[0.1], [0.2]])
    e = np.exp(X @ W)
    right = X.T @ (e / e.sum())                  # d log(sum e^(XW)) / dW = X^T softmax
    with pytest.raises(TypeError, match=r"math\.log\(t\).*np\.log\(t\)"):
        tg.compare_gradients(with_math, {"W": W}, {"W": right})
    assert tg.compare_gradients(with_numpy, {"W": W}, {"W": right}).ok


def test_float_inside_gradcheck_raises():
    with pytest.raises(TypeError, match="requires grad"):
        tg.gradcheck(lambda t: Tensor(float(t.sum())), [leaf([1.0, 2.0])])


# ----- losses read their arguments as PyTorch does ------------------------------------------

def test_a_positional_reduction_is_refused_not_misread():
    x, y = Tensor([1.0, 2.0]), Tensor([0.0, 0.0])
    with pytest.raises(TypeError, match="reduction="):
        F.mse_loss(x, y, "sum")                   # PyTorch: size_average='sum' means mean
    with pytest.raises(TypeError, match="weight="):
        F.cross_entropy(Tensor([[1.0, 2.0]]), tg.tensor([1]), "sum")   # PyTorch: weight='sum'
    assert F.mse_loss(x, y, reduction="sum").item() == 5.0
    with pytest.warns(UserWarning, match="deprecated"):
        assert F.mse_loss(x, y, size_average=False).item() == 5.0


def test_bce_pushes_back_a_confidently_wrong_prediction():
    # dz/dp = (p - y) / max(p (1 - p), 1e-12): p = 0, y = 1 gives -1e12 (PyTorch), not 0
    p = leaf([0.0, 1.0, 0.0, 0.25])
    y = Tensor(np.array([1.0, 0.0, 0.0, 1.0]))      # float64, as p (BCELoss needs equal dtypes)
    loss = F.binary_cross_entropy(p, y, reduction="sum")
    assert loss.item() == pytest.approx(100 + 100 + 0 - math.log(0.25))
    loss.backward()
    np.testing.assert_allclose(p.grad.numpy(), [-1e12, 1e12, 0.0, -0.75 / 0.1875])


def test_empty_dim_list_reduces_everything_as_pytorch():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.sum(dim=()).item() == 10.0 and x.mean(dim=[]).item() == 2.5
    np.testing.assert_array_equal(np.sum(x, axis=()).numpy(), x.numpy())   # numpy: nothing


def test_squeeze_takes_a_tuple_of_dims():
    assert Tensor(np.zeros((1, 3, 1))).squeeze((0, 2)).shape == (3,)
    assert Tensor(np.zeros((1, 3, 1))).squeeze((0, 1)).shape == (3, 1)   # size 3 stays


def test_softmax_needs_one_axis():
    with pytest.raises(ValueError, match="one axis"):
        Tensor([[1.0, 2.0]]).softmax(axis=None)


def test_using_the_values_and_indices_pair_as_a_number_says_what_to_write():
    z = Tensor(np.array([[1.0, 3.0], [2.0, 0.0]]), requires_grad=True)
    with pytest.raises(TypeError, match=r"amax\(axis=1, keepdims=True\).*np\.max"):
        z - z.max(axis=1, keepdims=True)          # numpy's spelling, PyTorch's answer
    shifted = z - z.max(axis=1, keepdims=True).values
    np.testing.assert_array_equal(shifted.numpy(), [[-2.0, 0.0], [0.0, -2.0]])


def test_loss_dtypes_follow_pytorch_for_tensor_targets():
    p32 = Tensor(np.zeros(3, dtype=np.float32), requires_grad=True)
    t64 = Tensor(np.ones(3))
    loss = F.mse_loss(p32, t64)
    assert loss.dtype == np.float64 and loss.item() == 1.0      # promoted, as PyTorch
    loss.backward()
    assert p32.grad.dtype == np.float32
    assert F.binary_cross_entropy_with_logits(Tensor(np.zeros(3, np.float32)), t64).dtype \
        == np.float64
    with pytest.raises(TypeError, match="float32 but target is float64"):
        F.binary_cross_entropy(Tensor(np.full(3, 0.5, np.float32)), t64)   # PyTorch raises
    # numpy data and integer labels take the prediction's dtype
    assert F.mse_loss(p32, np.ones(3)).dtype == np.float32
    assert F.mse_loss(p32, tg.tensor([1, 0, 1])).dtype == np.float32


def test_dtype_names_are_the_dtype_objects_so_is_works_as_in_pytorch():
    assert tg.tensor([1.0]).dtype is tg.float32 and tg.tensor([1]).dtype is tg.long
    assert tg.zeros(2, dtype=tg.float64).dtype is tg.float64 and tg.float is tg.float32
    assert (Tensor([1.0]) > 0).dtype is tg.bool
    # logspace computes its powers in float64 before rounding (tg.float hides Python's float)
    np.testing.assert_array_equal(tg.logspace(0, 2, 3).numpy(), [1.0, 10.0, 100.0])


def test_inverse_hyperbolic_functions_and_their_edges():
    x = Tensor(np.array([0.0, 0.5, -2.0]), requires_grad=True)
    y = x.asinh()
    np.testing.assert_allclose(y.numpy(), np.log(x.numpy() + np.sqrt(x.numpy() ** 2 + 1)))
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 / np.sqrt(np.array([0.0, 0.25, 4.0]) + 1))
    assert np.isnan(tg.acosh(Tensor([0.5])).item()) and tg.acosh(Tensor([1.0])).item() == 0
    with np.errstate(divide="ignore"):
        assert tg.atanh(Tensor([1.0])).item() == np.inf
    t = Tensor(np.array([1.0]), requires_grad=True)
    with np.errstate(divide="ignore"):
        t.acosh().sum().backward()                 # 1 / sqrt(x^2 - 1) at 1: inf, as PyTorch
    assert t.grad.item() == np.inf
    assert np.arctanh(Tensor(np.array([0.5]), requires_grad=True)).requires_grad
