"""Beyond first order: tg.grad, hooks, create_graph, and a gradient-penalty example."""

import numpy as np
import pytest

import nn
import tinygrad_edu as tg
from tinygrad_edu import Tensor

rng = np.random.default_rng(11)


def leaf(*shape):
    return Tensor(rng.standard_normal(shape), requires_grad=True)


# ----- tg.grad ---------------------------------------------------------------------------

def test_grad_returns_gradients_and_leaves_dot_grad_untouched():
    x, w = leaf(4, 3), leaf(3, 2)
    gx, gw = tg.grad((x @ w).sum(), [x, w])
    # d sum(x @ w) / dx = ones @ w.T ;  / dw = x.T @ ones
    np.testing.assert_allclose(gx.numpy(), np.ones((4, 2)) @ w.numpy().T)
    np.testing.assert_allclose(gw.numpy(), x.numpy().T @ np.ones((4, 2)))
    assert x.grad is None and w.grad is None
    assert not gx.requires_grad


def test_grad_of_intermediate_tensor():
    x = leaf(3)
    h = x * 2.0
    gh, = tg.grad((h * h).sum(), [h])
    np.testing.assert_allclose(gh.numpy(), 2 * (2 * x.numpy()))


def test_grad_with_grad_outputs_and_several_outputs():
    x = leaf(3)
    y1, y2 = x * 2.0, x * x
    gx, = tg.grad([y1, y2], [x], grad_outputs=[np.ones(3), np.full(3, 0.5)])
    np.testing.assert_allclose(gx.numpy(), 2.0 + 0.5 * 2 * x.numpy())


def test_grad_unused_input_raises_unless_allowed():
    x, unused = leaf(3), leaf(2)
    with pytest.raises(RuntimeError, match="allow_unused"):
        tg.grad((x * x).sum(), [x, unused], retain_graph=True)
    gx, gu = tg.grad((x * x).sum(), [x, unused], allow_unused=True)
    assert gu is None and gx is not None


def test_grad_releases_graph_unless_retained():
    x = leaf(3)
    y = (x.exp()).sum()
    tg.grad(y, [x])
    with pytest.raises(RuntimeError, match="retain_graph"):
        tg.grad(y, [x])


def test_grad_keeps_input_dtype():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    gx, = tg.grad((x * np.arange(3.0)).sum(), [x])
    assert gx.dtype == np.float32


# ----- create_graph: second derivatives ----------------------------------------------------

def test_second_derivative_of_cubic():
    x = Tensor(np.array([3.0, -1.0]), requires_grad=True)
    dx, = tg.grad((x ** 3).sum(), [x], create_graph=True)
    np.testing.assert_allclose(dx.numpy(), 3 * x.numpy() ** 2)
    ddx, = tg.grad(dx.sum(), [x])
    np.testing.assert_allclose(ddx.numpy(), 6 * x.numpy())


def test_backward_create_graph_gives_differentiable_grad():
    x = Tensor(np.array([0.3, -0.7]), requires_grad=True)
    x.sin().sum().backward(create_graph=True)
    first = x.grad
    assert first.requires_grad
    np.testing.assert_allclose(first.numpy(), np.cos(x.numpy()))
    x.grad = None
    first.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), -np.sin(x.numpy()))


def test_hessian_vector_product_matches_explicit_hessian():
    # f(x) = sum(tanh(A x)) ; H = A^T diag(-2 tanh(Ax)(1 - tanh(Ax)^2)) A
    A = rng.standard_normal((4, 3))
    x = Tensor(rng.standard_normal(3), requires_grad=True)
    v = rng.standard_normal(3)
    g, = tg.grad((Tensor(A) @ x).tanh().sum(), [x], create_graph=True)
    hv, = tg.grad((g * v).sum(), [x])
    t = np.tanh(A @ x.numpy())
    H = A.T @ np.diag(-2 * t * (1 - t ** 2)) @ A
    np.testing.assert_allclose(hv.numpy(), H @ v, rtol=1e-10)


def test_first_order_backward_records_nothing():
    x = leaf(3)
    (x * x).sum().backward()
    assert x.grad.grad_fn is None and not x.grad.requires_grad


def _penalty(model, x):
    """||d sum(model(x)) / dx||^2: a gradient penalty, as in WGAN-GP."""
    out = model(x).sum()
    gx, = tg.grad(out, [x], create_graph=True)
    return (gx * gx).sum()


def test_gradient_penalty_matches_finite_differences():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1)).double()
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    params = list(model.parameters())
    _penalty(model, x).backward()
    # the last bias does not change d out / dx, so it gets no gradient at all (as in PyTorch)
    assert params[-1].grad is None
    analytic = [np.zeros(p.shape) if p.grad is None else p.grad.numpy().copy() for p in params]
    eps = 1e-6
    for p, grad in zip(params, analytic):
        for index in [(0,) * p.ndim, tuple(n - 1 for n in p.shape)]:
            original = p.data[index]
            p.data[index] = original + eps
            upper = _penalty(model, x).item()
            p.data[index] = original - eps
            lower = _penalty(model, x).item()
            p.data[index] = original
            assert grad[index] == pytest.approx((upper - lower) / (2 * eps), rel=1e-5, abs=1e-8)


# ----- hooks -----------------------------------------------------------------------------

def test_hook_sees_gradient_once_per_backward():
    x = leaf(3)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    y = x * 3.0
    (y + y).sum().backward()      # two paths into y, but x's hook fires once, with the total
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], np.full(3, 6.0))


def test_hook_can_replace_gradient_on_intermediate():
    x = leaf(3)
    h = x * 2.0
    h.register_hook(lambda g: g * 0.0 + 1.0)
    (h * h).sum().backward()
    # d/dx flows from the replaced gradient (ones) times dh/dx = 2
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 2.0))


def test_hook_on_leaf_runs_before_grad_is_filled():
    x = leaf(2)
    x.register_hook(lambda g: g.clip(-0.5, 0.5))
    (x * 10.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(2, 0.5))


def test_hooks_run_in_order_from_output_to_input():
    x = leaf(2)
    h = x * 1.0
    order = []
    x.register_hook(lambda g: order.append("x"))
    h.register_hook(lambda g: order.append("h"))
    h.register_hook(lambda g: order.append("h2"))
    h.sum().backward()
    assert order == ["h", "h2", "x"]


def test_removed_hook_no_longer_fires():
    x = leaf(2)
    calls = []
    handle = x.register_hook(lambda g: calls.append(1))
    (x * 1.0).sum().backward()
    handle.remove()
    (x * 1.0).sum().backward()
    assert calls == [1]


def test_hook_returning_wrong_shape_is_an_error():
    x = leaf(3)
    x.register_hook(lambda g: np.ones(2))
    with pytest.raises(ValueError, match="shape"):
        (x * 1.0).sum().backward()


def test_hook_on_tensor_without_grad_is_refused():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(np.ones(2)).register_hook(lambda g: g)


# ----- retain_grad -------------------------------------------------------------------------

def test_retain_grad_delta_matches_learner_layer_2_delta():
    X = rng.standard_normal((5, 3))
    y = rng.standard_normal((5, 1))
    W1, W2 = leaf(3, 4), leaf(4, 1)
    z1 = Tensor(X) @ W1
    a1 = z1.sigmoid()
    out = a1 @ W2
    out.retain_grad()
    z1.retain_grad()
    ((out - Tensor(y)) ** 2).mean().backward()
    # the learner's deltas, by hand in numpy
    a1_np = 1 / (1 + np.exp(-(X @ W1.numpy())))
    layer_2_delta = 2 * (a1_np @ W2.numpy() - y) / 5
    layer_1_delta = (layer_2_delta @ W2.numpy().T) * a1_np * (1 - a1_np)
    np.testing.assert_allclose(out.grad.numpy(), layer_2_delta)
    np.testing.assert_allclose(z1.grad.numpy(), layer_1_delta)
