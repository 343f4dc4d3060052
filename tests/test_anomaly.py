"""Anomaly mode: the first op whose output or gradient holds NaN/inf raises, naming the op,
its input ranges and the line of user code (this file) that created it."""

import os
import sys

import numpy as np
import pytest

import nn
import tinygrad_edu as tg
from tinygrad_edu import Tensor, anomaly
from tinygrad_edu.anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly

HERE = os.path.basename(__file__)

# numpy's own overflow warnings come first; these tests are about the error that follows
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def next_line():
    """The line number of the statement after the caller's current one."""
    return sys._getframe(1).f_lineno + 1


def anomaly_message(fn):
    with pytest.raises(FloatingPointError) as info:
        fn()
    return str(info.value)


@pytest.fixture(autouse=True)
def mode_is_off_around_each_test():
    assert anomaly.ACTIVE == 0
    yield
    assert anomaly.ACTIVE == 0


# ----- forward ---------------------------------------------------------------------------------

def test_exp_overflow_in_forward_names_op_input_max_and_user_line():
    x = Tensor(np.array([1.0, -3.0, 1.2e4], dtype=np.float32), requires_grad=True)

    def run():
        with detect_anomaly():
            h = x * 1.0
            line[0] = next_line()
            return h.exp().sum()

    line = [None]
    message = anomaly_message(run)
    assert message.startswith("exp overflowed: input min -3, max 1.2e4, created at ")
    assert f"created at {HERE}:{line[0]}" in message
    assert "return h.exp().sum()" in message          # the line itself is quoted
    assert "x.max()" in message                       # and what to do about it


def test_forward_check_stops_at_the_first_bad_op_not_the_ones_after_it():
    x = Tensor(np.array([0.0, 2.0]), requires_grad=True)
    with pytest.raises(FloatingPointError) as info:
        with detect_anomaly():
            ((x.log() * 2).exp() + 1).sum()
    assert str(info.value).startswith("log of 0 gave -inf: input min 0, max 2")


def test_log_of_negative_and_division_by_zero_say_so():
    x = Tensor([-1.0, 4.0], requires_grad=True)
    with detect_anomaly():
        assert "log of a negative number gave nan" in anomaly_message(lambda: x.log())
        assert "div by 0 gave inf" in anomaly_message(lambda: x / Tensor([0.0, 1.0]))
        assert "sqrt of a negative number" in anomaly_message(lambda: x.sqrt())


def test_nan_already_in_the_data_is_reported_at_the_first_op_that_sees_it():
    data = Tensor(np.array([[0.5, np.nan], [1.0, 2.0]]))
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    with detect_anomaly():
        line = next_line()
        message = anomaly_message(lambda: model(data))
    assert "received nan (1 of 4) in input 0" in message.splitlines()[0]
    assert f"created at {HERE}:{line} in model.0 (Linear)" in message
    assert "your data" in message


def test_overflow_inside_a_model_names_the_module_that_ran_the_op():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid())
    with tg.no_grad():
        model[0].weight.data[...] = 1e38
    x = Tensor(np.array([[3.0, 3.0]], dtype=np.float32))
    with detect_anomaly():
        line = next_line()
        message = anomaly_message(lambda: model(x))
    assert "overflowed" in message.splitlines()[0]
    assert f"{HERE}:{line} in model.0 (Linear)" in message


# ----- backward --------------------------------------------------------------------------------

def test_nan_arising_only_in_backward_names_the_op_and_where_it_was_created():
    x = Tensor(np.array([0.0, 4.0]), requires_grad=True)
    with detect_anomaly():
        line = next_line()
        root = x.sqrt()                 # forward is fine: sqrt(0) = 0
        loss = (root * 3).sum()
        assert np.isfinite(loss.item())
        message = anomaly_message(loss.backward)
    assert message.startswith("backward of sqrt produced inf (1 of 2) in the gradient of input 0")
    assert "input min 0, max 4" in message
    assert f"created at {HERE}:{line}" in message
    assert "arose in the backward of sqrt" in message
    assert "(x + 1e-12).sqrt()" in message


def test_second_derivatives_are_unchanged_inside_the_mode():
    x = Tensor(np.array([0.5, 2.0]), requires_grad=True)
    with detect_anomaly():
        first, = tg.grad((x ** 3).sum(), [x], create_graph=True)       # 3x^2
        second, = tg.grad(first.sum(), [x])                             # 6x
    np.testing.assert_allclose(second.numpy(), [3.0, 12.0])


def test_nan_in_a_recorded_backward_names_the_op_whose_backward_it_is():
    x = Tensor(np.array([0.0, 4.0]), requires_grad=True)
    with detect_anomaly():
        line = next_line()
        loss = x.sqrt().sum()
        message = anomaly_message(lambda: tg.grad(loss, [x], create_graph=True))
    assert message.startswith("backward of sqrt produced inf")
    assert f"created at {HERE}:{line}" in message


def test_backward_of_op_created_outside_the_mode_says_how_to_locate_it():
    x = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    loss = x.sqrt().sum()
    with detect_anomaly():
        message = anomaly_message(loss.backward)
    assert "backward of sqrt" in message
    assert "created outside detect_anomaly()" in message


def test_nan_gradient_passed_to_backward_is_reported_as_arriving():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with detect_anomaly():
        y = x * 2
        message = anomaly_message(lambda: y.backward(gradient=np.array([np.nan, 1.0])))
    assert message.startswith("backward: the gradient arriving at the output of mul")


def test_a_healthy_training_step_gives_the_same_gradients_inside_the_mode():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x, y = Tensor(np.random.default_rng(0).standard_normal((5, 3))), tg.tensor([0, 1, 1, 0, 1])
    grads = []
    for mode in (lambda: detect_anomaly(), lambda: set_detect_anomaly(False)):
        model.zero_grad()
        with mode():
            nn.CrossEntropyLoss()(model(x), y).backward()
        grads.append([p.grad.numpy().copy() for p in model.parameters()])
    for inside, outside in zip(*grads):
        np.testing.assert_array_equal(inside, outside)


# ----- outside the mode, and switching it ------------------------------------------------------

def test_nothing_is_checked_or_recorded_outside_the_mode():
    x = Tensor(np.array([1e4, 0.0]), requires_grad=True)
    y = x.exp()                           # overflows, but no anomaly error outside the mode
    assert np.isinf(y.numpy()[0])
    assert not hasattr(y.grad_fn, "created_at")
    root = Tensor(np.array([0.0]), requires_grad=True)
    root.sqrt().sum().backward()          # inf gradient, no error
    assert np.isinf(root.grad.numpy()[0])


def test_ops_record_where_they_were_created_inside_the_mode():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly():
        line = next_line()
        y = x * 2
    assert str(y.grad_fn.created_at) == f"{HERE}:{line}"
    created_at = y.grad_fn.created_at
    assert created_at.function == "test_ops_record_where_they_were_created_inside_the_mode"


def test_check_nan_false_records_lines_but_raises_nothing():
    x = Tensor([1e4], requires_grad=True)
    with detect_anomaly(check_nan=False):
        assert not anomaly.is_anomaly_check_nan_enabled()
        line = next_line()
        y = x.exp()
    assert np.isinf(y.numpy()[0])
    assert str(y.grad_fn.created_at) == f"{HERE}:{line}"
    assert anomaly.is_anomaly_check_nan_enabled()


def test_mode_nests_and_each_exit_restores_the_level_before_it():
    assert not is_anomaly_enabled()
    with detect_anomaly():
        assert anomaly.ACTIVE == 1
        with detect_anomaly():
            assert anomaly.ACTIVE == 2
        assert anomaly.ACTIVE == 1 and is_anomaly_enabled()
    assert anomaly.ACTIVE == 0 and not is_anomaly_enabled()


def test_mode_is_restored_when_an_anomaly_or_another_error_leaves_the_block():
    with pytest.raises(FloatingPointError):
        with detect_anomaly():
            with detect_anomaly(check_nan=True):
                Tensor([1e4], requires_grad=True).exp()
    assert anomaly.ACTIVE == 0 and anomaly.is_anomaly_check_nan_enabled()
    with pytest.raises(KeyError):
        with detect_anomaly(check_nan=False):
            raise KeyError("boom")
    assert anomaly.ACTIVE == 0 and anomaly.is_anomaly_check_nan_enabled()


def test_set_detect_anomaly_switches_off_for_a_block_and_restores():
    with detect_anomaly():
        with set_detect_anomaly(False):
            assert anomaly.ACTIVE == 0
            assert np.isinf(Tensor([1e4], requires_grad=True).exp().numpy()[0])
        assert anomaly.ACTIVE == 1
    set_detect_anomaly(True)
    try:
        assert is_anomaly_enabled()
    finally:
        set_detect_anomaly(False)
    assert anomaly.ACTIVE == 0


def test_detect_anomaly_works_as_a_decorator():
    @detect_anomaly()
    def step(x):
        assert is_anomaly_enabled()
        return x.exp()

    with pytest.raises(FloatingPointError, match="exp overflowed"):
        step(Tensor([1e4], requires_grad=True))
    assert not is_anomaly_enabled()
