"""tg.gradcheck itself: it passes correct derivatives, catches wrong ones with a message that
names input, element and both values, and leaves the caller's tensors alone."""

import re

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import GradcheckError, Tensor
from tinygrad_edu.ops import Primitive
from tinygrad_edu.autograd import apply as _apply


class DoubledIdentity(Primitive):
    """z = x, but backward claims dz/dx = 2: a deliberately wrong derivative."""

    def forward(self, x):
        return x.copy()

    def backward(self, grad):
        return (2 * grad,)


class WrongAtOneElement(Primitive):
    """z = x^2, but backward is wrong only at flat position 3 (2x + 1 there)."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, grad):
        grad_x = 2 * self.x * grad
        grad_x.flat[3] += grad.flat[3]
        return (grad_x,)


def test_gradcheck_accepts_correct_function():
    x = Tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    y = Tensor(np.random.default_rng(1).standard_normal(4), requires_grad=True)
    assert tg.gradcheck(lambda a, b: (a * b).exp().sum(axis=0), [x, y]) is True


def test_gradcheck_accepts_single_tensor_input():
    x = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    assert tg.gradcheck(lambda t: t.log(), x)


def test_gradcheck_rejects_wrong_derivative():
    x = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        tg.gradcheck(lambda t: _apply(DoubledIdentity, t).sum(), [x])
    message = str(info.value)
    assert "input 0" in message
    assert "index (0,)" in message
    # autograd claims 2, the true derivative is 1
    assert re.search(r"autograd gives 2\b", message)
    assert re.search(r"finite differences give 1\b|finite differences give 0\.99999", message)


def test_gradcheck_error_names_the_right_input_and_element():
    ok = Tensor(np.ones(2), requires_grad=True)
    bad = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        tg.gradcheck(lambda a, b: a.sum() + _apply(WrongAtOneElement, b).sum(), [ok, bad])
    message = str(info.value)
    # flat position 3 of a (2, 3) array is row 1, column 0, where x = 3: 2x = 6, wrong 7
    assert "input 1" in message and "(2, 3)" in message
    assert "index (1, 0)" in message
    assert re.search(r"autograd gives 7\b", message)
    assert re.search(r"finite differences give (6\b|5\.9999)", message)
    assert "1 of 6 elements" in message


def test_gradcheck_error_is_an_assertion_error():
    assert issubclass(GradcheckError, AssertionError)


def test_gradcheck_raise_exception_false_returns_false():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    result = tg.gradcheck(lambda t: _apply(DoubledIdentity, t), [x], raise_exception=False)
    assert result is False


def test_gradcheck_leaves_caller_tensors_and_grads_untouched():
    values = np.array([[0.5, -1.0], [2.0, 0.25]], dtype=np.float32)
    x = Tensor(values.copy(), requires_grad=True)
    x.grad = Tensor(np.full((2, 2), 9.0, dtype=np.float32))
    assert tg.gradcheck(lambda t: (t * t).sum(), [x])
    np.testing.assert_array_equal(x.numpy(), values)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 2), 9.0))


def test_gradcheck_checks_float32_inputs_in_float64():
    seen = []

    def fn(t):
        seen.append(t.dtype)
        return (t * t * t).sum()

    # in float32, a 1e-6 step is lost in rounding; the float64 copy makes this check pass
    x = Tensor(np.array([0.3, 1.7, -2.2], dtype=np.float32), requires_grad=True)
    assert tg.gradcheck(fn, [x])
    assert seen and all(dtype == np.float64 for dtype in seen)


def test_gradcheck_passes_integer_and_non_tensor_inputs_through():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    index = tg.tensor([2, 0, 2])
    assert tg.gradcheck(lambda t, i, scale: t[i] * scale, [x, index, 3.0])


def test_gradcheck_without_grad_inputs_raises():
    with pytest.raises(ValueError, match="requires_grad"):
        tg.gradcheck(lambda t: t * 2, [Tensor(np.ones(2))])


def test_gradcheck_requires_tensor_output():
    with pytest.raises(TypeError, match="Tensor"):
        tg.gradcheck(lambda t: 1.0, [Tensor(np.ones(2), requires_grad=True)])


def test_gradcheck_catches_wrong_derivative_of_non_scalar_output():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    assert not tg.gradcheck(lambda t: _apply(DoubledIdentity, t) * t, [x], raise_exception=False)
