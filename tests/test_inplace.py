"""In-place operations: values, aliases, what they record, and the write check in backward.

Expected values are worked out by hand in the comments; PyTorch's behaviour is the reference
for what raises and what is recorded.
"""

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
from tinygrad_edu import Tensor


def leaf(values):
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True)


# ----- plain updates (nothing recorded) ---------------------------------------------------

def test_manual_sgd_step_under_no_grad_updates_the_parameters():
    w = leaf([1.0, -2.0])
    loss = (w * w).sum()            # d loss / dw = 2w = [2, -4]
    loss.backward()
    with tg.no_grad():
        w -= 0.1 * w.grad           # [1 - 0.2, -2 + 0.4]
    np.testing.assert_allclose(w.numpy(), [0.8, -1.6])
    assert w.is_leaf and w.requires_grad and w.grad_fn is None


def test_manual_sgd_loop_over_module_parameters_trains():
    # the tutorial loop: p -= lr * p.grad for every parameter, under no_grad
    tg.manual_seed(0)
    x = Tensor(np.linspace(-1, 1, 64).reshape(-1, 1).astype(np.float32))
    y = 3 * x - 0.5
    model = nn.Linear(1, 1)
    first = None
    for _ in range(200):
        loss = ((model(x) - y) ** 2).mean()
        first = loss.item() if first is None else first
        model.zero_grad()
        loss.backward()
        with tg.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    assert loss.item() < first / 100
    np.testing.assert_allclose(model.weight.numpy(), [[3.0]], atol=1e-2)
    np.testing.assert_allclose(model.bias.numpy(), [-0.5], atol=1e-2)


def test_polynomial_fit_with_manual_updates_reaches_a_small_loss():
    # y = sin(x) on [-pi, pi] fitted by a + b x + c x^2 + d x^3, weights updated by hand
    x = Tensor(np.linspace(-np.pi, np.pi, 200))
    y = np.sin(x)
    a, b, c, d = (Tensor(np.array(0.1 * k), requires_grad=True) for k in range(1, 5))
    losses = []
    for _ in range(2000):
        loss = ((a + b * x + c * x ** 2 + d * x ** 3 - y) ** 2).sum()
        losses.append(loss.item())
        loss.backward()
        with tg.no_grad():
            for p in (a, b, c, d):
                p -= 1e-6 * p.grad
                p.grad = None
    assert losses[-1] < losses[0] / 20 and losses[-1] < 30


def test_an_alias_sees_the_change():
    a = Tensor.ones(3)
    b = a
    b += 1
    np.testing.assert_array_equal(a.numpy(), [2.0, 2.0, 2.0])


@pytest.mark.parametrize("update, expected", [
    (lambda t: t.add_(Tensor([1.0, 2.0])), [2.0, 4.0]),
    (lambda t: t.add_(Tensor([1.0, 2.0]), alpha=-2), [-1.0, -2.0]),
    (lambda t: t.sub_(Tensor([1.0, 2.0]), alpha=0.5), [0.5, 1.0]),
    (lambda t: t.mul_(3), [3.0, 6.0]),
    (lambda t: t.div_(4), [0.25, 0.5]),
    (lambda t: t.pow_(2), [1.0, 4.0]),
    (lambda t: t.zero_(), [0.0, 0.0]),
    (lambda t: t.fill_(7), [7.0, 7.0]),
    (lambda t: t.copy_(Tensor([5.0])), [5.0, 5.0]),            # broadcast to (2,)
    (lambda t: t.clamp_(min=1.5), [1.5, 2.0]),
    (lambda t: t.neg_(), [-1.0, -2.0]),
    (lambda t: t.sqrt_(), [1.0, np.sqrt(2.0)]),
    (lambda t: t.exp_(), [np.e, np.e ** 2]),
])
def test_in_place_methods_change_the_values_and_return_self(update, expected):
    t = Tensor([1.0, 2.0])
    array = t.numpy()
    assert update(t) is t
    np.testing.assert_allclose(t.numpy(), expected)
    assert t.numpy() is array            # the same memory, changed in place
    assert t.dtype == np.float32


def test_data_is_a_tensor_that_shares_memory_and_has_no_graph():
    p = leaf([1.0, 2.0])
    d = p.data
    assert isinstance(d, Tensor) and not d.requires_grad and d.is_leaf
    p.grad = Tensor([10.0, 10.0])
    p.data -= 0.1 * p.grad                   # PyTorch's old-style update
    np.testing.assert_allclose(p.numpy(), [0.0, 1.0])
    p.data.add_(p.grad, alpha=-0.1)
    np.testing.assert_allclose(p.numpy(), [-1.0, 0.0])
    p.data.zero_()
    np.testing.assert_array_equal(p.numpy(), [0.0, 0.0])
    p.data = Tensor([[3.0, 4.0, 5.0]])       # assigning replaces the values, any shape
    assert p.shape == (1, 3) and p.requires_grad


def test_grad_zero_and_grad_none_as_in_pytorch():
    w = leaf([1.0, 2.0])
    (w * 3).sum().backward()
    w.grad.zero_()
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 0.0])
    (w * 3).sum().backward()                 # accumulates into the zeroed gradient
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 3.0])
    w.grad = None
    (w * 2).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 2.0])


def test_views_share_memory_with_their_base():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    x[0] += 10                               # [[10, 11, 12], [3, 4, 5]]
    x.reshape(-1)[5] = -1                    # the last element
    x.T[0, 1] = 100                          # x[1, 0]
    np.testing.assert_array_equal(x.numpy(), [[10, 11, 12], [100, 4, -1]])
    d = x.detach()
    d.mul_(0)
    assert not x.numpy().any()


def test_setitem_values_masks_and_index_arrays():
    x = Tensor(np.zeros((3, 4)))
    x[1] = 5
    x[:, 0] = Tensor([1.0, 2.0, 3.0])
    x[x > 4] = -1                            # row 1 apart from column 0
    x[np.array([0, 2]), np.array([3, 3])] = 9
    np.testing.assert_array_equal(x.numpy(), [[1, 0, 0, 9], [2, -1, -1, -1], [3, 0, 0, 9]])


def test_setitem_follows_pytorchs_rule_for_an_int_beside_an_index_array():
    # x[1, :, idx] selects x[1] first: shape (5, 3) in PyTorch (numpy's rule would give (3, 5))
    x = Tensor(np.zeros((2, 5, 6)))
    x[1, :, [0, 2, 4]] = Tensor(np.arange(15.0).reshape(5, 3))
    np.testing.assert_array_equal(x.numpy()[1][:, [0, 2, 4]], np.arange(15.0).reshape(5, 3))
    assert x.numpy()[0].sum() == 0 and x.numpy()[1][:, [1, 3, 5]].sum() == 0


# ----- errors --------------------------------------------------------------------------------

def test_a_leaf_that_requires_grad_refuses_in_place_changes_while_recording():
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf that requires grad.*no_grad"):
        w += 1
    with pytest.raises(RuntimeError, match="leaf that requires grad"):
        w.mul_(2)
    with pytest.raises(RuntimeError, match="leaf that requires grad"):
        w[0] = 5
    with pytest.raises(RuntimeError, match="leaf that requires grad"):
        w[0] += 5                            # a view of the leaf, as in PyTorch
    np.testing.assert_array_equal(w.numpy(), [1.0, 2.0])   # nothing was changed


def test_in_place_result_must_keep_the_shape_and_fit_the_dtype():
    a = Tensor([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"\+=.*\(3,\).*\(2, 3\)"):
        a += Tensor(np.ones((2, 3), dtype=np.float32))
    i = tg.tensor([1, 2])
    with pytest.raises(TypeError, match="int64.*x.float"):
        i += 0.5                              # PyTorch: Float can't be cast to Long
    with pytest.raises(TypeError, match="int64"):
        i /= 2
    i += 3                                    # int + int is fine
    np.testing.assert_array_equal(i.numpy(), [4, 5])


def test_read_only_memory_gives_a_clear_error():
    t = Tensor(np.broadcast_to(np.ones(3), (2, 3)))
    with pytest.raises(RuntimeError, match="read-only.*clone"):
        t += 1


# ----- recorded in-place changes -------------------------------------------------------------

def test_in_place_change_of_an_intermediate_is_recorded():
    w = leaf([1.0, 2.0])
    h = w * 2
    h += 1                                   # h = 2w + 1
    assert h.grad_fn is not None
    h.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 2.0])


def test_in_place_multiply_by_a_tensor_that_requires_grad():
    w = leaf([1.0, 3.0])
    h = w * 2
    h *= w                                   # h = 2 w^2, dh/dw = 4w
    h.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [4.0, 12.0])


def test_a_tensor_without_grad_changed_by_one_with_grad_joins_the_graph():
    w = leaf([1.0, 2.0])
    buffer = Tensor(np.zeros(4))
    buffer[1:3] = w * 3                      # recorded as SetItem
    buffer += 1
    assert buffer.requires_grad and not buffer.is_leaf
    (buffer * Tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [6.0, 9.0])   # 3 * [2, 3]


def test_in_place_change_through_a_view_reaches_the_base_s_gradient():
    w = leaf([1.0, 2.0, 3.0])
    x = w * 1
    x[1:] *= 10                              # x = [w0, 10 w1, 10 w2]
    x.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 10.0, 10.0])


def test_fill_and_zero_of_an_intermediate_stop_its_gradient():
    w = leaf([1.0, 2.0])
    h = w * 2
    h.zero_()
    assert h.requires_grad
    (h + w).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 1.0])


# ----- the write check ------------------------------------------------------------------------

def test_changing_a_saved_result_in_place_fails_at_backward_naming_op_and_line():
    w = leaf([0.0, 1.0])
    e = w.exp()                              # Exp saves its result for the gradient
    e += 1                                   # ... which this changes
    with pytest.raises(RuntimeError, match=r"Exp saved.*test_inplace.py:\d+ \(e \+= 1"):
        e.sum().backward()


def test_changing_a_saved_input_under_no_grad_fails_at_backward():
    w = leaf([1.0, 2.0])
    x = Tensor([3.0, 4.0])
    loss = (w * x).sum()                     # Mul saves x for w's gradient
    with tg.no_grad():
        x.mul_(0)
    with pytest.raises(RuntimeError, match="Mul saved"):
        loss.backward()


def test_optimizer_step_between_forward_and_backward_is_caught():
    tg.manual_seed(0)
    model = nn.Linear(3, 2)
    opt = tg.optim.SGD(model.parameters(), lr=0.1)
    x = Tensor.randn(4, 3)
    model(x).sum().backward()
    loss = model(x).sum()                    # Linear saves the weight
    opt.step()                               # changes it in place
    with pytest.raises(RuntimeError, match=r"Linear saved.*test_inplace.py:\d+ \(opt.step\(\)"):
        loss.backward()


def test_changes_to_values_no_op_saved_do_not_trigger_the_check():
    w = leaf([1.0, 2.0])
    x = w * 1
    y = x + 1                                # Add keeps only shapes
    with tg.no_grad():
        x += 5
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 1.0])


def test_changes_after_backward_are_fine_and_the_next_step_is_checked_afresh():
    w = leaf([1.0, 2.0])
    for _ in range(3):
        loss = (w * w).sum()
        loss.backward()
        with tg.no_grad():
            w -= 0.25 * w.grad
        w.grad = None
    np.testing.assert_allclose(w.numpy(), np.array([1.0, 2.0]) * 0.5 ** 3)


def test_increment_version_marks_direct_array_writes():
    w = leaf([1.0, 2.0])
    x = Tensor([3.0, 4.0])
    loss = (w * x).sum()
    x.numpy()[0] = 7                         # a write the engine cannot see ...
    tg.autograd.increment_version(x)         # ... until it is told
    with pytest.raises(RuntimeError, match="Mul saved"):
        loss.backward()


def test_a_buffer_filled_step_by_step_from_its_own_rows_differentiates_correctly():
    # the from-scratch RNN pattern: h[t + 1] = tanh(h[t] @ W), reading rows written before;
    # every read points at the buffer object, whose history changes with each write
    def unrolled(w, h0, clone=True):
        h = Tensor(np.zeros((4, 3)))
        h[0] = h0
        for t in range(3):
            row = h[t].clone() if clone else h[t]
            h[t + 1] = (row @ w).tanh()
        return (h * Tensor(np.arange(12.0).reshape(4, 3))).sum()

    rng = np.random.default_rng(0)
    w, h0 = leaf(rng.standard_normal((3, 3))), leaf(rng.standard_normal(3))
    assert tg.gradcheck(unrolled, [w, h0])
    # without the clone, MatMul saved a view of the buffer that the next write changes:
    # PyTorch refuses this too ("modified by an inplace operation")
    with pytest.raises(RuntimeError, match="MatMul saved"):
        unrolled(w, h0, clone=False).backward()


def test_gradients_of_in_place_updates_match_finite_differences():
    def fn(x, y):
        h = x * 1
        h *= y                       # recorded Mul on a snapshot
        h[0] += y[1] * 2             # through a view: CopySlices-like rebuild of h
        h.clamp_(-1.5, 1.5)
        h[h.numpy() > 10] = 0        # a mask that selects nothing
        return (h ** 2).sum()

    rng = np.random.default_rng(1)
    assert tg.gradcheck(fn, [leaf(rng.uniform(-1, 1, (3, 2))), leaf(rng.uniform(-1, 1, 2))])


def test_numpy_in_place_update_with_a_tensor_operand():
    W = np.ones(3)
    dW = Tensor(np.array([1.0, 2.0, 3.0]))
    W -= 0.5 * dW                            # np.subtract(W, ..., out=W): a plain update
    assert type(W) is np.ndarray
    np.testing.assert_array_equal(W, [0.5, 0.0, -0.5])
    t = Tensor([1.0, 2.0])
    np.multiply(t, 2, out=t)
    np.testing.assert_array_equal(t.numpy(), [2.0, 4.0])
    w = leaf([1.0, 2.0])
    A = np.zeros(2)
    with pytest.raises(TypeError, match="out=.*no_grad"):
        A += w                               # the sum would leave the graph unseen
    with tg.no_grad():
        A += w
    np.testing.assert_array_equal(A, [1.0, 2.0])
