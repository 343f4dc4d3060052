"""Backward mechanics: accumulation, reuse, no_grad, detach, retain_graph, retain_grad,
dtypes of gradients, very deep graphs and releasing saved buffers."""

import threading

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor


# ----- accumulation and reuse ------------------------------------------------------------

def test_gradients_accumulate_across_backward_calls():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), [2, 4, 6])
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4, 8, 12])


def test_gradients_accumulate_across_separate_graphs():
    x = Tensor([1.0, -1.0], requires_grad=True)
    (3 * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2, 3 - 2])


def test_zeroed_gradient_starts_again():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (5 * x).sum().backward()
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 4])
    x.grad.data[...] = 0          # zeroing in place works as well
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 4])


def test_tensor_used_twice_gets_sum_of_paths():
    x = Tensor([3.0], requires_grad=True)
    # y = x * x + x: dy/dx = 2x + 1 = 7; both factors of x * x are the same tensor
    (x * x + x).sum().backward()
    assert x.grad.numpy()[0] == pytest.approx(7.0)


def test_diamond_graph_adds_both_branches():
    x = Tensor([2.0], requires_grad=True)
    a = x * 3          # da/dx = 3
    b = x.exp()        # db/dx = e^x
    c = a * b          # dc/dx = 3 e^x + 3x e^x
    d = a + c          # dd/dx = 3 + 3 e^x (1 + x)
    d.sum().backward()
    assert x.grad.numpy()[0] == pytest.approx(3 + 3 * np.exp(2.0) * 3, rel=1e-6)


def test_shared_subexpression_in_deep_diamond():
    # h is used by both branches and then by the sum: 2^k paths collapse into one pass
    x = Tensor([1.5], dtype=np.float64, requires_grad=True)
    h = x
    for _ in range(30):
        h = h + h          # h = 2^30 x
    h.sum().backward()
    assert x.grad.numpy()[0] == 2.0 ** 30


def test_gradient_only_for_tensors_that_require_it():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([5.0, 6.0])
    (x * c).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5, 6])
    assert c.grad is None


# ----- no_grad, enable_grad, detach ------------------------------------------------------

def test_no_grad_records_nothing():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with tg.no_grad():
        y = (x * 2).exp().sum()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    assert tg.is_grad_enabled()
    with pytest.raises(RuntimeError):
        y.backward()


def test_no_grad_nested_restores_outer_state():
    x = Tensor([1.0], requires_grad=True)
    with tg.no_grad():
        with tg.no_grad():
            pass
        assert not tg.is_grad_enabled()
        assert not (x * 2).requires_grad
    assert tg.is_grad_enabled()
    assert (x * 2).requires_grad


def test_no_grad_restores_state_after_exception():
    with pytest.raises(KeyError):
        with tg.no_grad():
            raise KeyError("boom")
    assert tg.is_grad_enabled()


def test_enable_grad_inside_no_grad_records():
    x = Tensor([1.0], requires_grad=True)
    with tg.no_grad():
        with tg.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and y.grad_fn is not None
    assert not z.requires_grad


def test_no_grad_as_decorator():
    x = Tensor([1.0], requires_grad=True)

    @tg.no_grad()
    def double(t):
        assert not tg.is_grad_enabled()
        return t * 2

    assert not double(x).requires_grad
    assert tg.is_grad_enabled()
    assert (x * 2).requires_grad


def test_no_grad_is_thread_local():
    x = Tensor([1.0], requires_grad=True)
    inside, checked = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with tg.no_grad():
            inside.set()
            checked.wait(timeout=10)
            seen["worker"] = (x * 2).requires_grad

    thread = threading.Thread(target=worker)
    thread.start()
    assert inside.wait(timeout=10)
    # the worker is inside no_grad right now; this thread still records
    seen["main"] = (x * 2).requires_grad
    checked.set()
    thread.join(timeout=10)
    assert seen == {"main": True, "worker": False}


def test_detach_cuts_the_graph_and_shares_data():
    x = Tensor([2.0, 3.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    # d is treated as a constant: y = x * d has dy/dx = d = 2x
    (x * d).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4, 6])
    x2 = Tensor([1.0], requires_grad=True)
    assert np.shares_memory(x2.detach().numpy(), x2.numpy())


# ----- retain_graph and released buffers -------------------------------------------------

def test_second_backward_without_retain_graph_raises():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    y.backward()
    # d(x e^x)/dx = e^x (1 + x), three times
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.exp([1.0, 2.0]) * [2.0, 3.0], rtol=1e-6)


def test_buffers_released_after_backward():
    x = Tensor(np.ones((3, 3)), requires_grad=True)
    h = x.exp()
    y = (h * x).sum()
    ops_in_graph = [y.grad_fn, h.grad_fn, y.grad_fn.inputs[0].grad_fn]
    assert hasattr(h.grad_fn, "out")          # Exp saves its output for backward
    y.backward()
    for op in ops_in_graph:
        assert op.released
    assert h.grad_fn.out is None              # the saved arrays are let go
    assert ops_in_graph[2].x is None and ops_in_graph[2].y is None


def test_buffers_kept_with_retain_graph():
    x = Tensor(np.ones((3, 3)), requires_grad=True)
    h = x.exp()
    y = h.sum()
    y.backward(retain_graph=True)
    assert not h.grad_fn.released
    assert h.grad_fn.out is not None


def test_backward_through_partly_released_graph_raises():
    x = Tensor([1.0], requires_grad=True)
    h = x.exp()
    h.sum().backward()            # releases Exp
    with pytest.raises(RuntimeError, match="released"):
        (h * 2).sum().backward()


# ----- backward arguments ----------------------------------------------------------------

def test_backward_on_non_scalar_needs_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="gradient"):
        (x * 2).backward()


def test_backward_with_wrong_gradient_shape_raises():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        (x * 2).backward(gradient=np.ones(3))


def test_backward_with_gradient_argument():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * x).backward(gradient=Tensor([10.0, -1.0]))
    # vector-Jacobian product: v * 2x
    np.testing.assert_allclose(x.grad.numpy(), [20.0, -4.0])


def test_backward_on_one_element_non_scalar_tensor():
    x = Tensor([[2.0]], requires_grad=True)
    (x * 3).backward()
    np.testing.assert_allclose(x.grad.numpy(), [[3.0]])


def test_backward_without_requires_grad_raises():
    with pytest.raises(RuntimeError, match="requires grad|require grad"):
        Tensor([1.0]).sum().backward()


def test_backward_on_leaf_gives_ones():
    x = Tensor(5.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


# ----- retain_grad -----------------------------------------------------------------------

def test_retain_grad_matches_hand_computed_delta():
    # two-layer sigmoid net with squared error, the classic by-hand backprop:
    # l1 = sigmoid(X W0), l2 = sigmoid(l1 W1), loss = sum((l2 - y)^2) / 2
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 3))
    y = rng.uniform(0, 1, (4, 1))
    W0 = rng.standard_normal((3, 5))
    W1 = rng.standard_normal((5, 1))

    # numpy by hand
    def sig(z):
        return 1 / (1 + np.exp(-z))

    l1 = sig(X @ W0)
    l2 = sig(l1 @ W1)
    layer_2_delta = (l2 - y) * l2 * (1 - l2)          # d loss / d (l1 W1)
    layer_1_error = layer_2_delta @ W1.T               # d loss / d l1
    layer_1_delta = layer_1_error * l1 * (1 - l1)      # d loss / d (X W0)
    grad_W1 = l1.T @ layer_2_delta
    grad_W0 = X.T @ layer_1_delta

    w0 = Tensor(W0, requires_grad=True)
    w1 = Tensor(W1, requires_grad=True)
    z1 = Tensor(X) @ w0
    t1 = z1.sigmoid()
    z2 = t1 @ w1
    for t in (z1, t1, z2):
        t.retain_grad()
    t2 = z2.sigmoid()
    loss = ((t2 - Tensor(y)) ** 2).sum() / 2
    loss.backward()

    np.testing.assert_allclose(z2.grad.numpy(), layer_2_delta, rtol=1e-10)
    np.testing.assert_allclose(t1.grad.numpy(), layer_1_error, rtol=1e-10)
    np.testing.assert_allclose(z1.grad.numpy(), layer_1_delta, rtol=1e-10)
    np.testing.assert_allclose(w1.grad.numpy(), grad_W1, rtol=1e-10)
    np.testing.assert_allclose(w0.grad.numpy(), grad_W0, rtol=1e-10)
    assert t2.grad is None        # not retained: intermediates drop their gradient


def test_retain_grad_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError):
        Tensor([1.0]).retain_grad()


# ----- dtypes ----------------------------------------------------------------------------

def test_leaf_grad_keeps_leaf_dtype_when_mixed_with_float64():
    w = Tensor([1.0, 2.0], requires_grad=True)                      # float32
    x = Tensor(np.array([0.5, 0.25]), requires_grad=True)           # float64
    y = w * x
    assert y.dtype == np.float64
    y.sum().backward()
    assert w.grad.dtype == np.float32 and x.grad.dtype == np.float64
    np.testing.assert_allclose(w.grad.numpy(), [0.5, 0.25])
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 2.0])


def test_float32_graph_gives_float32_grad():
    w = Tensor.randn(3, 2, requires_grad=True)
    (Tensor.ones(4, 3) @ w).relu().sum().backward()
    assert w.grad.dtype == np.float32 and w.grad.shape == (3, 2)


# ----- deep graphs -----------------------------------------------------------------------

def test_hundred_thousand_op_chain_has_no_recursion_error():
    n = 100_000
    c = 1.00001
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(n):
        y = y * c
    y.backward()
    # d(x c^n)/dx = c^n
    assert x.grad.item() == pytest.approx(c ** n, rel=1e-9)
    del y        # freeing the long chain must not overflow the stack either


def test_long_chain_of_mixed_ops():
    x = Tensor(np.array([0.3]), requires_grad=True)
    y = x
    for _ in range(20_000):
        y = (y + 1) - 1          # identity: gradient exactly 1
    y.sum().backward()
    assert x.grad.numpy()[0] == 1.0


def test_leaf_grads_never_share_memory():
    # Add hands the same gradient array to both inputs: the two .grad must still be separate
    x = Tensor(np.ones(3), requires_grad=True)
    y = Tensor(np.ones(3), requires_grad=True)
    (x + y).backward(gradient=np.ones(3))
    x.grad.zero_()
    np.testing.assert_array_equal(y.grad.numpy(), np.ones(3))


def test_leaf_grad_is_not_the_callers_gradient_array():
    x = Tensor(np.ones(3), requires_grad=True)
    seed = np.full(3, 2.0)
    x.backward(gradient=seed)
    x.grad.zero_()
    np.testing.assert_array_equal(seed, np.full(3, 2.0))


def test_leaf_grad_is_writable_after_broadcast_backward():
    # Sum's backward is a read-only broadcast view; the stored .grad must be a real array
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    x.sum().backward()
    x.grad.data[0, 0] = 5.0
    assert x.grad.numpy()[0, 0] == 5.0 and x.grad.numpy()[1, 2] == 1.0


def test_backward_on_nan_loss_warns_and_points_to_the_tools():
    x = Tensor(np.array([-1.0, 4.0]), requires_grad=True)
    with np.errstate(invalid="ignore"):
        loss = x.sqrt().sum()          # sqrt(-1) is NaN
    with pytest.warns(RuntimeWarning, match=r"nan.*detect_anomaly.*nn\.diagnose"):
        loss.backward()


def test_released_graph_does_not_keep_large_activations_alive():
    import weakref
    w = Tensor(np.ones((256, 256)), requires_grad=True)
    h = (w * 2.0).tanh()                 # 512 KB intermediate results
    probe = weakref.ref(h)
    loss = (h * 3.0).sum()
    del h
    loss.backward()
    # the loss (and so its graph) is alive, but the big intermediate is gone...
    assert probe() is None
    # ...while the graph can still be walked and drawn with the right shapes
    source = tg.draw_graph(loss).source
    assert "Tanh\\n(256, 256) float64" in source


def test_lightening_never_touches_tensors_the_user_holds():
    w = Tensor(np.ones((256, 256)), requires_grad=True)
    h = (w * 2.0).tanh()
    (h * 3.0).sum().backward()
    np.testing.assert_allclose(h.numpy(), np.tanh(2.0))
    assert h.numpy().flags.writeable


# ----- visiting order: creation numbers on a heap ---------------------------------------------

def test_root_that_feeds_another_root_gets_both_gradients():
    # grad() from two outputs where one is computed from the other: the first output's
    # gradient must include what flows back from the second before it moves on to x
    x = Tensor([3.0], dtype=np.float64, requires_grad=True)
    a = x * x                 # da/dx = 2x = 6
    b = a * 2.0 + x           # db/dx = 4x + 1 = 13
    dx, = tg.grad([a, b], [x])
    assert dx.numpy()[0] == pytest.approx(6 + 13)


def test_tensor_used_long_after_it_was_made_waits_for_all_its_uses():
    # h is used once right away and once at the end; tensors made in between have higher
    # numbers, so h must be visited after all of them, with both contributions added
    x = Tensor([0.5], dtype=np.float64, requires_grad=True)
    h = x.exp()
    early = h * 2.0
    late = early
    for _ in range(50):
        late = late.sin()
    loss = (late + h).sum()
    loss.backward()
    # d/dx [sin^50(2 e^x) + e^x], by the chain rule step by step in float64
    value, slope = 2 * np.exp(0.5), 2 * np.exp(0.5)
    for _ in range(50):
        value, slope = np.sin(value), np.cos(value) * slope
    assert x.grad.numpy()[0] == pytest.approx(slope + np.exp(0.5), rel=1e-12)


def test_recorded_results_are_numbered_after_their_inputs():
    x = Tensor([1.0], requires_grad=True)
    a = x * 2.0
    b = a.exp()
    c = b + a
    assert a._seq < b._seq < c._seq
    with tg.no_grad():
        assert (a * 2.0)._op is None     # nothing recorded, nothing numbered


def test_every_primitive_keeps_its_saved_state_in_slots():
    # an op is made for every operation of every step: no per-op __dict__ (see Primitive)
    from tinygrad_edu import ops
    for op_cls in ops.PRIMITIVES:
        assert not hasattr(op_cls(), "__dict__"), op_cls.__name__


def test_inference_mode_records_nothing_as_a_block_and_as_a_decorator():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with tg.inference_mode():
        y = w * 3
    assert not y.requires_grad and y._op is None and tg.is_grad_enabled()

    @tg.inference_mode()
    def f(t):
        return t * 2

    @tg.inference_mode
    def g(t):
        return t * 2

    assert not f(w).requires_grad and not g(w).requires_grad and tg.is_grad_enabled()
    with tg.inference_mode(False):          # as PyTorch: False leaves the grad mode alone
        assert (w * 2).requires_grad
    with tg.no_grad(), tg.inference_mode(False):
        assert not (w * 2).requires_grad
    with pytest.raises(TypeError, match="inference_mode"):
        tg.inference_mode("yes")


def test_next_functions_walk_the_graph_backward_as_pytorch():
    # loss = sum(x * w) with w a constant: Sum <- Mul <- (AccumulateGrad of x, None for w)
    x = Tensor([1.0, 2.0], requires_grad=True)
    w = Tensor([3.0, 4.0])
    loss = (x * w).sum()
    ((mul, index),) = loss.grad_fn.next_functions
    assert index == 0 and mul is loss._op.inputs[0]._op
    (leaf, _), (constant, _) = mul.next_functions
    assert leaf.variable is x and leaf.next_functions == () and constant is None
    assert repr(loss.grad_fn) == "<Sum op>" and repr(leaf) == "<AccumulateGrad>"
    loss.backward()
    assert repr(loss.grad_fn) == "<Sum op (released)>"
    assert loss.grad_fn.next_functions[0][0] is mul      # the graph's shape is kept
