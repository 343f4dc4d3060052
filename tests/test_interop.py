"""numpy functions on Tensors: results are Tensors whose gradients match finite differences."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor

rng = np.random.default_rng(7)


def leaf(*shape, positive=False):
    data = rng.standard_normal(shape)
    return Tensor(np.abs(data) + 0.5 if positive else data, requires_grad=True)


# (id, function of tensors, input shapes, inputs must be positive)
CASES = [
    ("dot-2d", lambda a, b: np.dot(a, b), [(3, 4), (4, 2)], False),
    ("dot-1d", lambda a, b: np.dot(a, b), [(4,), (4,)], False),
    ("dot-matrix-vector", lambda a, b: np.dot(a, b), [(3, 4), (4,)], False),
    ("exp", lambda a: np.exp(a), [(3, 4)], False),
    ("log", lambda a: np.log(a), [(3, 4)], True),
    ("log1p", lambda a: np.log1p(a), [(3, 4)], True),
    ("sqrt", lambda a: np.sqrt(a), [(3, 4)], True),
    ("square", lambda a: np.square(a), [(3, 4)], False),
    ("abs", lambda a: np.abs(a), [(3, 4)], True),
    ("sin", lambda a: np.sin(a), [(3, 4)], False),
    ("cos", lambda a: np.cos(a), [(3, 4)], False),
    ("tan", lambda a: np.tan(a * 0.3), [(3, 4)], False),
    ("tanh", lambda a: np.tanh(a), [(3, 4)], False),
    ("maximum-with-zero", lambda a: np.maximum(a, 0), [(3, 4)], False),
    ("maximum-zero-first", lambda a: np.maximum(0, a), [(3, 4)], False),
    ("minimum", lambda a, b: np.minimum(a, b), [(3, 4), (4,)], False),
    ("power", lambda a: np.power(a, 3), [(3, 4)], False),
    ("divide", lambda a, b: np.divide(a, b), [(3, 4), (4,)], True),
    ("sum-axis", lambda a: np.sum(a, axis=0), [(3, 4)], False),
    ("sum-keepdims", lambda a: np.sum(a, axis=1, keepdims=True), [(3, 4)], False),
    ("mean-axis", lambda a: np.mean(a, axis=1), [(3, 4)], False),
    ("mean-all", lambda a: np.mean(a), [(3, 4)], False),
    ("max-axis", lambda a: np.max(a, axis=1), [(3, 4)], False),
    ("var-ddof0", lambda a: np.var(a, axis=0), [(3, 4)], False),
    ("std", lambda a: np.std(a), [(3, 4)], False),
    ("where", lambda a, b: np.where(a.numpy() > 0, a, b), [(3, 4), (3, 4)], False),
    ("clip", lambda a: np.clip(a, -0.5, 0.5), [(3, 4)], False),
    ("outer", lambda a, b: np.outer(a, b), [(3,), (4,)], False),
    ("concatenate", lambda a, b: np.concatenate([a, b], axis=1), [(3, 4), (3, 2)], False),
    ("stack", lambda a, b: np.stack([a, b]), [(3, 4), (3, 4)], False),
    ("vstack", lambda a, b: np.vstack([a, b]), [(3, 4), (2, 4)], False),
    ("hstack", lambda a, b: np.hstack([a, b]), [(3, 4), (3, 1)], False),
    ("transpose", lambda a: np.transpose(a), [(3, 4)], False),
    ("reshape", lambda a: np.reshape(a, (4, 3)), [(3, 4)], False),
    ("ravel", lambda a: np.ravel(a), [(3, 4)], False),
    ("squeeze", lambda a: np.squeeze(a), [(3, 1, 4)], False),
    ("expand_dims", lambda a: np.expand_dims(a, 1), [(3, 4)], False),
    ("linalg-norm", lambda a: np.linalg.norm(a), [(3, 4)], False),
    ("method-T-dot", lambda a, b: a.T.dot(b), [(4, 3), (4, 2)], False),
    ("ndarray-left-matmul", lambda a: rng_fixed @ a, [(4, 2)], False),
    ("ndarray-left-add", lambda a: rng_fixed[:, :2] + a, [(3, 2)], False),
]
rng_fixed = np.random.default_rng(1).standard_normal((3, 4))


@pytest.mark.parametrize("name, fn, shapes, positive", CASES, ids=[c[0] for c in CASES])
def test_numpy_function_on_tensors_has_correct_gradient(name, fn, shapes, positive):
    inputs = [leaf(*s, positive=positive) for s in shapes]
    result = fn(*inputs)
    assert isinstance(result, Tensor)
    assert result.requires_grad
    assert tg.gradcheck(fn, inputs)


def test_unchanged_numpy_forward_pass_differentiates():
    X = rng.standard_normal((8, 3))
    y = rng.standard_normal((8, 1))

    def forward(W1, b1, W2):      # written for numpy arrays, run on Tensors unchanged
        h = np.maximum(0, np.dot(X, W1) + b1)
        out = 1 / (1 + np.exp(-np.dot(h, W2)))
        return np.mean((out - y) ** 2)

    params = [leaf(3, 5), leaf(5), leaf(5, 1)]
    assert isinstance(forward(*params), Tensor)
    assert tg.gradcheck(forward, params)


def test_ufunc_results_without_gradient_are_plain_values():
    t = leaf(3, 4)
    mask = np.greater(t, 0)
    assert isinstance(mask, Tensor) and mask.dtype == np.bool_ and not mask.requires_grad
    np.testing.assert_array_equal(np.argmax(t, axis=1), np.argmax(t.numpy(), axis=1))
    assert np.shape(t) == (3, 4)
    zeros = np.zeros_like(t)
    assert isinstance(zeros, np.ndarray) and zeros.shape == (3, 4)


def test_unsupported_numpy_function_names_itself_and_suggests_methods():
    with pytest.raises(TypeError, match=r"numpy\.cumsum is not supported.*Tensor method"):
        np.cumsum(leaf(3))


def test_unsupported_ufunc_raises_type_error_naming_it():
    with pytest.raises(TypeError, match=r"numpy\.arctan"):
        np.arctan(leaf(3))


def test_ufunc_reduce_method_is_refused():
    with pytest.raises(TypeError, match=r"numpy\.add\.reduce"):
        np.add.reduce(leaf(3))


def test_out_argument_is_refused():
    with pytest.raises(TypeError, match=r"numpy\.exp.*out"):
        np.exp(leaf(3), out=np.empty(3))


def test_numpy_keeps_float32_with_python_numbers():
    t = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    assert np.multiply(t, 2.5).dtype == np.float32
    assert np.maximum(t, 0).dtype == np.float32
