"""nn.utils: gradient clipping and parameter vectors, checked against numpy."""

import math

import numpy as np
import pytest

import nn
import tinygrad_edu as tg
from tinygrad_edu import Tensor

rng = np.random.default_rng(0)


def params_with_grads(*shapes, scale=1.0):
    params = []
    for shape in shapes:
        p = nn.Parameter(rng.standard_normal(shape))
        p.grad = Tensor(rng.standard_normal(shape) * scale)
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.0, math.inf])
def test_clip_grad_norm_scales_all_gradients_by_one_factor(norm_type):
    params = params_with_grads((3, 2), (4,), scale=5.0)
    before = [p.grad.numpy().copy() for p in params]
    flat = np.concatenate([g.ravel() for g in before])
    if norm_type == math.inf:
        total = np.max(np.abs(flat))
    else:
        total = np.sum(np.abs(flat) ** norm_type) ** (1 / norm_type)
    returned = nn.utils.clip_grad_norm_(params, max_norm=1.0, norm_type=norm_type)
    assert isinstance(returned, Tensor) and returned.shape == ()
    assert returned.item() == pytest.approx(total, rel=1e-12)
    factor = 1.0 / (total + 1e-6)          # PyTorch's factor: max_norm / (total + 1e-6)
    for p, g in zip(params, before):
        np.testing.assert_allclose(p.grad.numpy(), g * factor, rtol=1e-12)


def test_clip_grad_norm_leaves_small_gradients_alone_and_skips_missing_ones():
    small = params_with_grads((5,), scale=0.01)
    no_grad = nn.Parameter(np.zeros(3))
    before = small[0].grad.numpy().copy()
    nn.utils.clip_grad_norm_(small + [no_grad], max_norm=10)
    np.testing.assert_array_equal(small[0].grad.numpy(), before)
    assert no_grad.grad is None
    assert nn.utils.clip_grad_norm_([no_grad], 1.0).item() == 0.0


def test_clip_grad_norm_accepts_a_single_tensor_and_model_parameters():
    model = nn.Linear(3, 2)
    model(tg.randn(4, 3)).sum().backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), 0.1)
    assert total.dtype == np.float32
    grads = np.concatenate([p.grad.numpy().ravel() for p in model.parameters()])
    assert np.linalg.norm(grads) == pytest.approx(0.1, rel=1e-4)
    p = params_with_grads((2,))[0]
    nn.utils.clip_grad_norm_(p, 1e-3)
    assert np.linalg.norm(p.grad.numpy()) == pytest.approx(1e-3, rel=1e-3)


def test_clip_grad_norm_nonfinite_raises_only_when_asked():
    p = params_with_grads((2,))[0]
    p.grad = Tensor([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="clip_grad_norm_: the total norm .* inf"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    with np.errstate(invalid="ignore"):   # inf * 0: NaN gradients, as in PyTorch
        assert math.isinf(nn.utils.clip_grad_norm_([p], 1.0).item())


def test_clip_grad_value_clamps_each_element():
    p = nn.Parameter(np.zeros(4))
    p.grad = Tensor(np.array([-3.0, -0.5, 0.2, 7.0]))
    assert nn.utils.clip_grad_value_([p], 1.0) is None
    np.testing.assert_array_equal(p.grad.numpy(), [-1.0, -0.5, 0.2, 1.0])


def test_parameters_to_vector_and_back():
    model = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (8,)
    np.testing.assert_array_equal(vec.numpy()[:6], model.weight.numpy().ravel())
    (vec * vec).sum().backward()   # still in the graph, as PyTorch's
    np.testing.assert_allclose(model.bias.grad.numpy(), 2 * model.bias.numpy())
    nn.utils.vector_to_parameters(Tensor(np.arange(8, dtype=np.float32)), model.parameters())
    np.testing.assert_array_equal(model.weight.numpy(), np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(model.bias.numpy(), [6, 7])


def test_bad_arguments_name_the_function_and_the_value():
    p = params_with_grads((2,))
    with pytest.raises(ValueError, match="clip_grad_norm_: max_norm must be .* got -1"):
        nn.utils.clip_grad_norm_(p, -1)
    with pytest.raises(TypeError, match="clip_grad_norm_: parameter 0 is a ndarray"):
        nn.utils.clip_grad_norm_([np.zeros(2)], 1.0)
    with pytest.raises(ValueError, match="clip_grad_value_: clip_value .* got -0.5"):
        nn.utils.clip_grad_value_(p, -0.5)
    with pytest.raises(ValueError,
                       match="vector_to_parameters: vec has 3 elements, the parameters 2"):
        nn.utils.vector_to_parameters(Tensor(np.zeros(3)), p)


def test_torch_style_path():
    import tinygrad_edu.nn as tnn
    assert tnn.utils.clip_grad_norm_ is nn.utils.clip_grad_norm_
