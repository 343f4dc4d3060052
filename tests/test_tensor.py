"""The Tensor surface: dtype rules, factories, PyTorch-style module functions, conversions,
comparisons, small accessors, repr, and error messages for bad input."""

import re

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor

# ----- dtype rules -----------------------------------------------------------------------


def test_numpy_float64_stays_float64():
    assert Tensor(np.random.randn(4, 3)).dtype == np.float64
    assert Tensor(np.float64(1.5)).dtype == np.float64


def test_numpy_array_is_shared_not_copied():
    a = np.zeros(3)
    t = Tensor(a)
    a[0] = 7.0
    assert t.numpy()[0] == 7.0


def test_python_floats_give_float32():
    assert Tensor(1.5).dtype == np.float32
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor([[1, 2.5]]).dtype == np.float32


def test_python_ints_give_int64_and_bools_bool_in_tg_tensor():
    assert tg.tensor(3).dtype == np.int64 and tg.tensor(3).shape == ()
    assert tg.tensor([1, 2, 3]).dtype == np.int64
    assert tg.tensor([True, False]).dtype == np.bool_


def test_the_legacy_constructor_makes_float32_of_python_data_as_pytorch():
    # torch.Tensor([1, 2]) is tensor([1., 2.]); torch.Tensor(3) has shape (3,)
    ints, bools = Tensor([1, 2, 3]), Tensor(((True, False),))
    assert ints.dtype == np.float32 and ints.tolist() == [1.0, 2.0, 3.0]
    assert bools.dtype == np.float32 and bools.tolist() == [[1.0, 0.0]]
    assert Tensor(range(3)).tolist() == [0.0, 1.0, 2.0]
    assert Tensor(3).shape == (3,) and Tensor(3).dtype == np.float32 and not Tensor(3).any()
    assert Tensor(0).shape == (0,)
    with pytest.raises(TypeError, match="non-negative ints"):
        Tensor(-1)


def test_numpy_data_and_tensors_keep_their_dtype_in_the_legacy_constructor():
    # a deliberate difference (SPEC): torch.Tensor(np.array([1, 2])) would be float32
    labels = np.array([0, 2, 1])
    assert Tensor(labels).dtype == np.int64 and Tensor(labels).numpy() is labels
    assert Tensor(np.random.default_rng(0).standard_normal(2)).dtype == np.float64
    assert Tensor(np.int64(3)).shape == () and Tensor(np.int64(3)).dtype == np.int64
    assert Tensor(np.bool_(True)).dtype == np.bool_
    assert Tensor(tg.tensor([1, 2])).dtype == np.int64   # as torch.Tensor(LongTensor)


def test_a_python_float_or_bool_alone_is_a_0d_float32_tensor():
    # PyTorch refuses torch.Tensor(2.5); here it is the number, never a shape
    assert Tensor(2.5).shape == () and Tensor(2.5).item() == 2.5
    assert Tensor(True).dtype == np.float32 and Tensor(True).item() == 1.0


def test_explicit_dtype_wins():
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert Tensor(np.ones(2), dtype=np.float32).dtype == np.float32


def test_python_number_with_float32_tensor_stays_float32():
    t = Tensor([1.0, 2.0])
    for result in (t + 1, t * 0.5, 2 - t, 1.5 / t, t ** 2, 2.0 ** t, t - 3, -t, t / 4):
        assert result.dtype == np.float32


def test_python_number_with_float64_tensor_stays_float64():
    t = Tensor(np.array([1.0, 2.0]))
    assert (t * 0.5).dtype == np.float64 and (3 + t).dtype == np.float64


def test_numpy_array_on_the_left_gives_tensor_with_gradients():
    t = Tensor([1.0, 2.0], requires_grad=True)
    a = np.array([3.0, 4.0])
    products = [a * t, a + t, a - t, a / t, a ** t, 2 - t, 2 * t, 2 / t, 2 + t]
    for r in products:
        assert isinstance(r, Tensor) and r.requires_grad
    (a * t).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), [3.0, 4.0])
    t.grad = None
    (a - t).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), [-1.0, -1.0])
    t.grad = None
    (2 / t).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), [-2.0, -0.5])   # d(2/t)/dt = -2/t^2


def test_numpy_matrix_on_the_left_of_matmul():
    t = Tensor(np.eye(2), requires_grad=True)
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    out = a @ t
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.numpy(), a)
    out.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), [[4.0, 4.0], [6.0, 6.0]])  # a^T @ ones


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="floating"):
        tg.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError):
        tg.tensor([True], requires_grad=True)
    with pytest.raises(TypeError):
        tg.tensor([1, 2]).requires_grad_()
    assert Tensor([1, 2], requires_grad=True).requires_grad   # float32: Python data


def test_ops_on_integer_tensors_do_not_require_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    idx = tg.tensor([0, 1])
    assert not (idx * 2).requires_grad
    assert x[idx].requires_grad


def test_unsupported_data_raises_type_error():
    with pytest.raises(TypeError):
        Tensor("hello")
    with pytest.raises(TypeError):
        Tensor(np.array(["a", "b"]))


# ----- factories -------------------------------------------------------------------------

FACTORIES = {
    "zeros": (lambda **kw: Tensor.zeros(2, 3, **kw), np.zeros((2, 3))),
    "ones": (lambda **kw: Tensor.ones((2, 3), **kw), np.ones((2, 3))),
    "full": (lambda **kw: Tensor.full((2, 3), 7.0, **kw), np.full((2, 3), 7.0)),
    "eye": (lambda **kw: Tensor.eye(3, **kw), np.eye(3)),
    "eye-rect": (lambda **kw: Tensor.eye(2, 3, **kw), np.eye(2, 3)),
    "arange": (lambda **kw: Tensor.arange(0.0, 2.0, 0.5, **kw), np.array([0.0, 0.5, 1.0, 1.5])),
    "zeros_like": (lambda **kw: Tensor.zeros_like(Tensor(np.ones((2, 2))), **kw), np.zeros((2, 2))),
    "ones_like": (lambda **kw: Tensor.ones_like(np.zeros(3), **kw), np.ones(3)),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_factory_values_dtype_and_requires_grad(name):
    make, expected = FACTORIES[name]
    t = make()
    np.testing.assert_array_equal(t.numpy(), expected)
    assert not t.requires_grad
    t = make(requires_grad=True)
    assert t.requires_grad and t.is_leaf
    t = make(dtype=np.float64)
    assert t.dtype == np.float64
    np.testing.assert_array_equal(t.numpy(), expected)


@pytest.mark.parametrize("name", ["zeros", "ones", "full", "eye", "arange"])
def test_factories_default_to_float32(name):
    make, _ = FACTORIES[name]
    assert make().dtype == np.float32


def test_like_factories_follow_the_input_dtype():
    assert Tensor.zeros_like(Tensor(np.ones(2))).dtype == np.float64
    assert Tensor.ones_like(tg.tensor([1, 2])).dtype == np.int64
    assert Tensor.zeros_like(tg.tensor([1, 2]), dtype=np.float32).dtype == np.float32


def test_full_and_arange_with_ints_give_int64():
    assert Tensor.full((2,), 3).dtype == np.int64
    t = Tensor.arange(5)
    assert t.dtype == np.int64
    np.testing.assert_array_equal(t.numpy(), [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(Tensor.arange(2, 8, 3).numpy(), [2, 5])


def test_integer_factory_with_requires_grad_raises():
    with pytest.raises(TypeError):
        Tensor.zeros(2, dtype=np.int64, requires_grad=True)


@pytest.mark.parametrize("name", ["randn", "rand", "uniform"])
def test_random_factories_shape_dtype_requires_grad(name):
    make = getattr(Tensor, name)
    t = make(200, 3)
    assert t.shape == (200, 3) and t.dtype == np.float32 and not t.requires_grad
    assert make(2, requires_grad=True).requires_grad
    assert make(2, 2, dtype=np.float64).dtype == np.float64
    assert make((4, 5)).shape == (4, 5)


def test_random_factories_ranges():
    tg.manual_seed(3)
    u = Tensor.rand(1000).numpy()
    assert u.min() >= 0 and u.max() < 1
    v = Tensor.uniform(1000, low=-2.0, high=-1.0).numpy()
    assert v.min() >= -2 and v.max() < -1
    n = Tensor.randn(20000).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05


def test_manual_seed_makes_random_factories_reproducible():
    tg.manual_seed(42)
    first = [Tensor.randn(3).numpy(), Tensor.rand(2).numpy(), tg.randn(2).numpy()]
    tg.manual_seed(42)
    second = [Tensor.randn(3).numpy(), Tensor.rand(2).numpy(), tg.randn(2).numpy()]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    tg.manual_seed(43)
    assert not np.array_equal(Tensor.randn(3).numpy(), first[0])


def test_factories_reject_bad_shapes():
    with pytest.raises(ValueError, match="shape"):
        Tensor.zeros(-1, 2)
    with pytest.raises(ValueError, match="step"):
        Tensor.arange(0, 5, 0)
    with pytest.raises(ValueError, match="low"):
        Tensor.uniform(3, low=1.0, high=0.0)


# ----- PyTorch-style module functions ----------------------------------------------------

def test_module_factories():
    t = tg.tensor([1.0, 2.0], requires_grad=True)
    assert t.dtype == np.float32 and t.requires_grad
    assert tg.tensor([1, 2]).dtype == np.int64
    assert tg.zeros(2, 3).shape == (2, 3) and tg.zeros(2).dtype == np.float32
    np.testing.assert_array_equal(tg.ones((2,)).numpy(), [1, 1])
    assert tg.rand(3, 4).shape == (3, 4)
    assert tg.randn(5, requires_grad=True).requires_grad
    np.testing.assert_array_equal(tg.arange(3).numpy(), [0, 1, 2])
    assert tg.zeros(2, dtype=tg.float64).dtype == np.float64


def test_module_tensor_copies_its_input():
    a = np.zeros(3)
    t = tg.tensor(a)
    a[0] = 1.0
    assert t.numpy()[0] == 0.0


def test_module_cat_and_stack():
    a, b = tg.tensor([[1.0, 2.0]]), tg.tensor([[3.0, 4.0]])
    np.testing.assert_array_equal(tg.cat([a, b]).numpy(), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(tg.cat([a, b], dim=1).numpy(), [[1, 2, 3, 4]])
    assert tg.stack([a, b]).shape == (2, 1, 2)
    assert tg.stack([a, b], dim=2).shape == (1, 2, 2)


def test_module_max_with_dim_returns_values_and_indices():
    x = tg.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    values, indices = tg.max(x, 1)
    np.testing.assert_array_equal(values.numpy(), [5.0, 7.0])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    result = tg.max(x, 0, keepdim=True)
    assert result.values.shape == (1, 3) and result.indices.shape == (1, 3)
    assert tg.max(x).item() == 7.0


def test_max_with_dim_keyword_passes_gradient_to_values():
    x = Tensor([[1.0, 5.0], [7.0, 0.0]], requires_grad=True)
    values, _ = x.max(dim=1)
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1], [1, 0]])


# ----- comparisons -----------------------------------------------------------------------

def test_comparisons_return_bool_tensors_without_grad():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = Tensor([3.0, 2.0, 1.0], requires_grad=True)
    cases = {
        "<": (x < y, [True, False, False]),
        "<=": (x <= y, [True, True, False]),
        ">": (x > y, [False, False, True]),
        ">=": (x >= 2, [False, True, True]),
        "==": (x == y, [False, True, False]),
        "!=": (x != 2.0, [True, False, True]),
    }
    for name, (result, expected) in cases.items():
        assert isinstance(result, Tensor), name
        assert result.dtype == np.bool_ and not result.requires_grad, name
        assert result.grad_fn is None, name
        np.testing.assert_array_equal(result.numpy(), expected, err_msg=name)


def test_comparison_result_as_float_mask():
    x = Tensor([-1.0, 2.0])
    np.testing.assert_array_equal((x > 0).float().numpy(), [0.0, 1.0])
    assert (x > 0).float().dtype == np.float32


# ----- accessors and conversions ---------------------------------------------------------

def test_item_numpy_shape_dtype_requires_grad():
    y = Tensor([[2.5]], requires_grad=True)
    assert y.item() == 2.5 and isinstance(y.item(), float)
    assert isinstance(y.numpy(), np.ndarray) and y.numpy().shape == (1, 1)
    assert y.shape == (1, 1) and y.dtype == np.float32 and y.requires_grad
    assert tg.tensor(3).item() == 3 and isinstance(tg.tensor(3).item(), int)


def test_size_dim_numel():
    t = Tensor(np.zeros((2, 3, 4)))
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.dim() == 3 and t.ndim == 3
    assert t.numel() == 24
    assert len(t) == 2


def test_float_double_long_conversions():
    t = Tensor([1.7, -2.2])
    assert t.double().dtype == np.float64 and t.float().dtype == np.float32
    long = t.long()
    assert long.dtype == np.int64
    np.testing.assert_array_equal(long.numpy(), [1, -2])        # truncation, as in PyTorch
    assert Tensor([1, 2]).float().dtype == np.float32
    assert t.float() is t                                          # already float32


def test_double_keeps_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.requires_grad and y.dtype == np.float64
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert not x.long().requires_grad


def test_argmax():
    x = Tensor([[1.0, 9.0, 3.0], [8.0, 2.0, 8.5]], requires_grad=True)
    assert x.argmax().item() == 1
    np.testing.assert_array_equal(x.argmax(axis=1).numpy(), [1, 2])
    np.testing.assert_array_equal(x.argmax(dim=0).numpy(), [1, 0, 1])
    assert x.argmax(axis=1).dtype == np.int64 and not x.argmax(axis=1).requires_grad
    assert x.argmax(axis=1, keepdims=True).shape == (2, 1)
    np.testing.assert_array_equal(tg.argmax(x, dim=1).numpy(), [1, 2])


def test_repr():
    r = repr(Tensor([1.0, 2.0], requires_grad=True))
    assert r.startswith("tensor(") and "1." in r and "2." in r and "requires_grad=True" in r
    assert "dtype=float64" in repr(Tensor(np.ones(2)))
    assert "dtype" not in repr(Tensor([1.0]))
    assert "grad_fn=Mul" in repr(Tensor([1.0], requires_grad=True) * 2)
    assert "name='w'" in repr(Tensor([1.0], name="w"))


def test_len_and_iteration():
    rows = list(Tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert len(rows) == 2 and all(isinstance(r, Tensor) for r in rows)
    np.testing.assert_array_equal(rows[1].numpy(), [3.0, 4.0])


# ----- errors for bad input --------------------------------------------------------------

def test_matmul_inner_dimension_mismatch_names_both_shapes():
    with pytest.raises(ValueError) as info:
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))
    message = str(info.value)
    assert "matmul" in message and "(2, 3)" in message and "(4, 5)" in message


def test_matmul_batch_mismatch_names_both_shapes():
    with pytest.raises(ValueError) as info:
        Tensor(np.ones((2, 3, 4))) @ Tensor(np.ones((5, 4, 6)))
    message = str(info.value)
    assert "(2, 3, 4)" in message and "(5, 4, 6)" in message and "batch" in message


def test_matmul_with_scalar_raises():
    with pytest.raises(ValueError, match="matmul"):
        Tensor(2.0) @ Tensor([1.0, 2.0])


@pytest.mark.parametrize("op, name", [(lambda a, b: a + b, "add"), (lambda a, b: a - b, "sub"),
                                      (lambda a, b: a * b, "mul"), (lambda a, b: a / b, "div"),
                                      (lambda a, b: a ** b, "pow"),
                                      (lambda a, b: a.maximum(b), "maximum")],
                         ids=["add", "sub", "mul", "div", "pow", "maximum"])
def test_elementwise_shape_mismatch_names_op_and_shapes(op, name):
    with pytest.raises(ValueError) as info:
        op(Tensor(np.ones((2, 3))), Tensor(np.ones((4,))))
    message = str(info.value)
    assert message.startswith(name) and "(2, 3)" in message and "(4,)" in message
    assert "broadcast" in message


@pytest.mark.parametrize("call", [
    lambda t: t.sum(axis=3),
    lambda t: t.sum(axis=-4),
    lambda t: t.max(axis=2),
    lambda t: t.mean(axis=(0, 5)),
    lambda t: t.softmax(axis=2),
    lambda t: t.permute(0, 2),
    lambda t: t.permute(0, 0),
    lambda t: t.unsqueeze(3),
    lambda t: t.unsqueeze(-4),
    lambda t: t.transpose(0, 2),
    lambda t: t.squeeze(2),
    lambda t: Tensor.cat([t, t], axis=2),
    lambda t: Tensor.stack([t, t], axis=4),
], ids=["sum", "sum-neg", "max", "mean", "softmax", "permute-range", "permute-repeat",
        "unsqueeze", "unsqueeze-neg", "transpose", "squeeze", "cat", "stack"])
def test_bad_axis_raises_value_error(call):
    with pytest.raises(ValueError, match="axis|dim|permutation"):
        call(Tensor(np.ones((2, 3))))


def test_sum_with_repeated_axis_raises():
    with pytest.raises(ValueError, match="repeats"):
        Tensor(np.ones((2, 3))).sum(axis=(1, -1))


def test_item_on_many_elements_raises():
    with pytest.raises(ValueError, match=re.escape("(2, 2)")):
        Tensor(np.ones((2, 2))).item()


def test_bool_of_many_elements_raises():
    with pytest.raises(ValueError, match="ambiguous"):
        bool(Tensor([1.0, 2.0]))


def test_reshape_to_wrong_size_names_op():
    with pytest.raises(ValueError, match="reshape"):
        Tensor(np.ones((2, 3))).reshape(4, 2)


def test_cat_mismatched_shapes_raise():
    with pytest.raises(ValueError, match=r"cat.*\(2, 4\)"):
        Tensor.cat([Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4)))])
    with pytest.raises(ValueError, match="stack"):
        Tensor.stack([Tensor(np.ones(2)), Tensor(np.ones(3))])


def test_index_out_of_range_names_shape():
    with pytest.raises(IndexError, match=re.escape("(2, 3)")):
        Tensor(np.ones((2, 3)))[5]


def test_where_needs_boolean_condition():
    with pytest.raises(TypeError, match="boolean"):
        tg.where(np.array([1, 0]), Tensor([1.0, 2.0]), 0.0)


def test_clip_bad_bounds():
    with pytest.raises(ValueError, match="clip"):
        Tensor([1.0]).clip()
    with pytest.raises(ValueError, match="clip"):
        Tensor([1.0]).clip(2.0, 1.0)


def test_mean_of_empty_raises():
    with pytest.raises(ValueError, match="mean"):
        Tensor(np.ones((0, 3))).mean()
    with pytest.raises(ValueError, match="max"):
        Tensor(np.ones((0,))).max()


@pytest.mark.parametrize("func, name", [
    (lambda t: np.cumsum(t), "cumsum"),
    (lambda t: np.prod(t, axis=0), "prod"),
    (lambda t: np.sort(t), "sort"),
    (lambda t: np.diff(t), "diff"),
], ids=["cumsum", "prod", "sort", "diff"])
def test_unsupported_numpy_functions_on_tensors_raise_naming_the_function(func, name):
    with pytest.raises(TypeError, match=rf"numpy\.{name}\b"):
        func(Tensor(np.ones((2, 3))))
