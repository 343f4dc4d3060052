"""Broadcasting in every binary elementwise op and in matmul's batch axes.

Hypothesis draws shapes that broadcast together; each operand's gradient must come back in
that operand's own shape and agree with finite differences.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tinygrad_edu import Tensor

SETTINGS = settings(max_examples=30, deadline=None)
SEEDS = st.integers(0, 2**32 - 1)
TWO_SHAPES = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)


def _normal(rng, shape):
    return rng.standard_normal(shape)


def _positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def _away_from_zero(rng, shape):
    return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


# op name -> (function, value maker for x, value maker for y); inputs avoid x/0 and log of <= 0
BINARY_OPS = {
    "add": (lambda x, y: x + y, _normal, _normal),
    "sub": (lambda x, y: x - y, _normal, _normal),
    "mul": (lambda x, y: x * y, _normal, _normal),
    "div": (lambda x, y: x / y, _normal, _away_from_zero),
    "pow": (lambda x, y: x ** y, _positive, _normal),
    "maximum": (lambda x, y: x.maximum(y), _normal, _normal),
    "minimum": (lambda x, y: x.minimum(y), _normal, _normal),
}


def _check_shapes_and_gradients(fn, arrays, result_shape):
    xs = [Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    assert out.shape == result_shape
    out.backward(gradient=np.ones(result_shape))
    for x in xs:
        assert x.grad.shape == x.shape
    assert tg.gradcheck(fn, [Tensor(a, requires_grad=True) for a in arrays])


@pytest.mark.parametrize("name", sorted(BINARY_OPS))
@SETTINGS
@given(shapes=TWO_SHAPES, seed=SEEDS)
def test_binary_op_broadcast_gradients(name, shapes, seed):
    fn, make_x, make_y = BINARY_OPS[name]
    rng = np.random.default_rng(seed)
    x_shape, y_shape = shapes.input_shapes
    arrays = [make_x(rng, x_shape), make_y(rng, y_shape)]
    _check_shapes_and_gradients(fn, arrays, shapes.result_shape)


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3),
       seed=SEEDS)
def test_where_broadcast_gradients(shapes, seed):
    rng = np.random.default_rng(seed)
    cond_shape, x_shape, y_shape = shapes.input_shapes
    cond = rng.standard_normal(cond_shape) > 0
    arrays = [rng.standard_normal(x_shape), rng.standard_normal(y_shape)]
    _check_shapes_and_gradients(lambda x, y: tg.where(cond, x, y), arrays, shapes.result_shape)


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=2,
                                                 max_side=3),
       seed=SEEDS)
def test_matmul_batch_broadcast_gradients(shapes, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes.input_shapes]
    _check_shapes_and_gradients(lambda x, y: x @ y, arrays, shapes.result_shape)


@SETTINGS
@given(shapes=TWO_SHAPES)
def test_broadcast_gradient_counts_copies(shapes):
    # d sum(x + y) / dx: every element of x is copied (result size / x size) times
    x_shape, y_shape = shapes.input_shapes
    x = Tensor(np.zeros(x_shape), requires_grad=True)
    y = Tensor(np.zeros(y_shape), requires_grad=True)
    (x + y).sum().backward()
    size = int(np.prod(shapes.result_shape))
    np.testing.assert_array_equal(x.grad.numpy(), np.full(x_shape, size / max(x.numel(), 1)))
    np.testing.assert_array_equal(y.grad.numpy(), np.full(y_shape, size / max(y.numel(), 1)))
