"""nn.optim: every update checked against the formulas worked out by hand in numpy."""

import numpy as np
import pytest

import nn
import tinygrad_edu as tg
from nn.optim import SGD, Adadelta, Adagrad, Adam, AdamW, RMSprop
from tinygrad_edu import Tensor

rng = np.random.default_rng(0)


def make_param(shape=(3, 2), dtype=np.float64):
    return nn.Parameter(rng.standard_normal(shape).astype(dtype))


def run_steps(opt, param, grads):
    """Feed the given gradients one step at a time; returns the parameter after each step."""
    history = []
    for g in grads:
        param.grad = Tensor(g.copy())
        opt.step()
        history.append(param.numpy().copy())
    return history


# ----- SGD ---------------------------------------------------------------------------------

def test_sgd_plain_step_is_p_minus_lr_times_grad():
    p = make_param()
    start = p.numpy().copy()
    g = rng.standard_normal(p.shape)
    run_steps(SGD([p], lr=0.1), p, [g])
    np.testing.assert_allclose(p.data, start - 0.1 * g)


def test_sgd_momentum_nesterov_weight_decay_match_numpy():
    start = rng.standard_normal((4,))
    grads = [rng.standard_normal(4) for _ in range(3)]
    lr, mu, wd = 0.05, 0.9, 0.01
    p = nn.Parameter(start.copy())
    got = run_steps(SGD([p], lr=lr, momentum=mu, weight_decay=wd, nesterov=True), p, grads)

    theta, buf = start.copy(), None
    for t, g in enumerate(grads):
        d = g + wd * theta
        buf = d.copy() if t == 0 else mu * buf + d
        theta = theta - lr * (d + mu * buf)
        np.testing.assert_allclose(got[t], theta, rtol=1e-12)


def test_sgd_momentum_with_dampening_matches_numpy():
    start = rng.standard_normal((2, 3))
    grads = [rng.standard_normal((2, 3)) for _ in range(3)]
    lr, mu, tau = 0.1, 0.8, 0.3
    p = nn.Parameter(start.copy())
    got = run_steps(SGD([p], lr=lr, momentum=mu, dampening=tau), p, grads)

    theta, buf = start.copy(), None
    for t, g in enumerate(grads):
        # the first step sets the buffer to the raw gradient: dampening does not apply yet
        buf = g.copy() if t == 0 else mu * buf + (1 - tau) * g
        theta = theta - lr * buf
        np.testing.assert_allclose(got[t], theta, rtol=1e-12)


def test_sgd_momentum_buffer_is_not_the_gradient_array():
    p = make_param()
    opt = SGD([p], lr=0.1, momentum=0.9)
    g = rng.standard_normal(p.shape)
    p.grad = Tensor(g.copy())
    opt.step()
    p.grad.data[...] = 0           # changing the gradient afterwards must not touch the buffer
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"], g)


# ----- Adam / AdamW ------------------------------------------------------------------------

def adam_by_hand(start, grads, lr, b1, b2, eps, wd=0.0, decoupled=False, amsgrad=False,
                 maximize=False):
    theta = start.copy()
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    v_max = np.zeros_like(theta)
    out = []
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        if decoupled:
            theta = theta - lr * wd * theta
        else:
            g = g + wd * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        v_max = np.maximum(v_max, v)   # AMSGrad divides by the largest v so far
        m_hat = m / (1 - b1 ** t)
        v_hat = (v_max if amsgrad else v) / (1 - b2 ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(theta)
    return out


def test_adam_two_steps_match_numpy():
    start = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))]
    p = nn.Parameter(start.copy())
    got = run_steps(Adam([p], lr=0.01, betas=(0.8, 0.99), eps=1e-6), p, grads)
    want = adam_by_hand(start, grads, 0.01, 0.8, 0.99, 1e-6)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_adam_first_step_moves_each_weight_by_about_lr():
    # bias correction makes the first step lr * g / |g|, whatever the gradient's scale
    p = nn.Parameter(np.zeros(3))
    run_steps(Adam([p], lr=0.1), p, [np.array([1e-3, -5.0, 200.0])])
    np.testing.assert_allclose(p.data, [-0.1, 0.1, -0.1], rtol=1e-4)


def test_adam_weight_decay_is_added_to_the_gradient():
    start = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(3)]
    p = nn.Parameter(start.copy())
    got = run_steps(Adam([p], lr=0.02, weight_decay=0.1), p, grads)
    want = adam_by_hand(start, grads, 0.02, 0.9, 0.999, 1e-8, wd=0.1)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_adamw_two_steps_match_numpy_with_decoupled_decay():
    start = rng.standard_normal((2, 2))
    grads = [rng.standard_normal((2, 2)), rng.standard_normal((2, 2))]
    p = nn.Parameter(start.copy())
    got = run_steps(AdamW([p], lr=0.01, weight_decay=0.5), p, grads)
    want = adam_by_hand(start, grads, 0.01, 0.9, 0.999, 1e-8, wd=0.5, decoupled=True)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    coupled = adam_by_hand(start, grads, 0.01, 0.9, 0.999, 1e-8, wd=0.5)
    assert not np.allclose(got[-1], coupled[-1])   # AdamW is not Adam with L2


def test_adamw_default_weight_decay_is_one_hundredth():
    opt = AdamW([make_param()])
    assert opt.param_groups[0]["weight_decay"] == 1e-2
    assert Adam([make_param()]).param_groups[0]["weight_decay"] == 0


def test_adamw_with_zero_gradient_only_shrinks_weights():
    start = np.array([1.0, -2.0])
    p = nn.Parameter(start.copy())
    run_steps(AdamW([p], lr=0.1, weight_decay=0.2), p, [np.zeros(2)])
    np.testing.assert_allclose(p.data, start * (1 - 0.1 * 0.2))


# ----- AMSGrad, maximize, RMSprop, Adagrad, Adadelta ------------------------------------

def test_adam_and_adamw_amsgrad_divide_by_the_largest_second_moment():
    start = rng.standard_normal(4)
    # a large gradient first, then small ones: v falls, v_max does not
    grads = [np.array([5.0, -4.0, 3.0, 1.0])] + [rng.standard_normal(4) * 0.1 for _ in range(3)]
    for cls, decoupled in ((Adam, False), (AdamW, True)):
        p = nn.Parameter(start.copy())
        got = run_steps(cls([p], lr=0.05, weight_decay=0.1, amsgrad=True), p, grads)
        want = adam_by_hand(start, grads, 0.05, 0.9, 0.999, 1e-8, wd=0.1, decoupled=decoupled,
                            amsgrad=True)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-12)
        plain = adam_by_hand(start, grads, 0.05, 0.9, 0.999, 1e-8, wd=0.1, decoupled=decoupled)
        assert not np.allclose(got[-1], plain[-1])


def test_maximize_flips_the_gradient_before_anything_else():
    start = rng.standard_normal(3)
    grads = [rng.standard_normal(3) for _ in range(3)]
    p = nn.Parameter(start.copy())
    got = run_steps(Adam([p], lr=0.1, weight_decay=0.2, maximize=True), p, grads)
    want = adam_by_hand(start, grads, 0.1, 0.9, 0.999, 1e-8, wd=0.2, maximize=True)
    np.testing.assert_allclose(got[-1], want[-1], rtol=1e-12)

    p = nn.Parameter(start.copy())
    got = run_steps(SGD([p], lr=0.1, momentum=0.5, weight_decay=0.2, maximize=True), p, grads)
    theta, buf = start.copy(), None
    for t, g in enumerate(grads):
        d = -g + 0.2 * theta          # weight decay still pulls towards 0
        buf = d.copy() if t == 0 else 0.5 * buf + d
        theta = theta - 0.1 * buf
    np.testing.assert_allclose(got[-1], theta, rtol=1e-12)


def test_gradient_ascent_with_maximize_climbs():
    p = nn.Parameter(np.array([0.0]))
    opt = SGD([p], lr=0.1, maximize=True)
    for _ in range(50):
        opt.zero_grad()
        (-(p - 3.0) ** 2).sum().backward()   # largest at p = 3
        opt.step()
    assert p.numpy()[0] == pytest.approx(3.0, abs=1e-3)


def test_rmsprop_matches_numpy():
    start = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(4)]
    p = nn.Parameter(start.copy())
    got = run_steps(RMSprop([p], lr=0.01, alpha=0.9, eps=1e-8), p, grads)
    theta, v = start.copy(), np.zeros(5)
    for t, g in enumerate(grads):
        v = 0.9 * v + 0.1 * g ** 2
        theta = theta - 0.01 * g / (np.sqrt(v) + 1e-8)   # eps after the square root
        np.testing.assert_allclose(got[t], theta, rtol=1e-12)


def test_rmsprop_centered_with_momentum_and_weight_decay_matches_numpy():
    start = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(4)]
    lr, alpha, mu, wd, eps = 0.01, 0.99, 0.9, 0.1, 1e-8
    p = nn.Parameter(start.copy())
    got = run_steps(RMSprop([p], lr=lr, alpha=alpha, momentum=mu, weight_decay=wd,
                            centered=True), p, grads)
    theta, v, a, b = start.copy(), np.zeros(5), np.zeros(5), np.zeros(5)
    for t, g in enumerate(grads):
        g = g + wd * theta
        v = alpha * v + (1 - alpha) * g ** 2
        a = alpha * a + (1 - alpha) * g
        b = mu * b + g / (np.sqrt(v - a ** 2) + eps)
        theta = theta - lr * b
        np.testing.assert_allclose(got[t], theta, rtol=1e-12)


def test_adagrad_with_lr_decay_and_initial_accumulator_matches_numpy():
    start = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(4)]
    lr, decay, init, wd, eps = 0.1, 0.1, 0.5, 0.01, 1e-10
    p = nn.Parameter(start.copy())
    got = run_steps(Adagrad([p], lr=lr, lr_decay=decay, initial_accumulator_value=init,
                            weight_decay=wd), p, grads)
    theta, s = start.copy(), np.full(5, init)
    for t, g in enumerate(grads, start=1):
        g = g + wd * theta
        s = s + g ** 2
        theta = theta - lr / (1 + (t - 1) * decay) * g / (np.sqrt(s) + eps)
        np.testing.assert_allclose(got[t - 1], theta, rtol=1e-12)


def test_adadelta_matches_numpy():
    start = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(4)]
    lr, rho, eps = 1.0, 0.8, 1e-6
    p = nn.Parameter(start.copy())
    got = run_steps(Adadelta([p], lr=lr, rho=rho, eps=eps), p, grads)
    theta, v, u = start.copy(), np.zeros(5), np.zeros(5)
    for t, g in enumerate(grads):
        v = rho * v + (1 - rho) * g ** 2
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta ** 2
        theta = theta - lr * delta
        np.testing.assert_allclose(got[t], theta, rtol=1e-12)


@pytest.mark.parametrize("make", [lambda ps: RMSprop(ps, momentum=0.9, centered=True),
                                  lambda ps: Adagrad(ps, lr=0.1),
                                  lambda ps: Adadelta(ps),
                                  lambda ps: Adam(ps, amsgrad=True)],
                         ids=["rmsprop", "adagrad", "adadelta", "amsgrad"])
def test_new_optimizers_resume_from_their_state_dict(make):
    start = rng.standard_normal(3).astype(np.float32)
    grads = [rng.standard_normal(3).astype(np.float32) for _ in range(4)]
    p1 = nn.Parameter(start.copy())
    straight = run_steps(make([p1]), p1, grads)
    p2 = nn.Parameter(start.copy())
    first = make([p2])
    run_steps(first, p2, grads[:2])
    second = make([p2])
    second.load_state_dict(first.state_dict())
    resumed = run_steps(second, p2, grads[2:])
    np.testing.assert_array_equal(resumed[-1], straight[-1])
    assert p2.dtype == np.float32


def test_new_optimizers_reject_bad_settings_by_name():
    with pytest.raises(ValueError, match="RMSprop: invalid alpha 1.5"):
        RMSprop([make_param()], alpha=1.5)
    with pytest.raises(ValueError, match="RMSprop: invalid momentum -1"):
        RMSprop([make_param()], momentum=-1)
    with pytest.raises(ValueError, match="Adagrad: invalid lr_decay -0.1"):
        Adagrad([make_param()], lr_decay=-0.1)
    with pytest.raises(ValueError, match="Adadelta: invalid rho 2"):
        Adadelta([make_param()], rho=2)
    with pytest.raises(ValueError, match="Adadelta: invalid eps -1"):
        Adadelta([make_param()], eps=-1)


# ----- shared behaviour --------------------------------------------------------------------

@pytest.mark.parametrize("make_opt", [lambda ps: SGD(ps, lr=0.1, momentum=0.9),
                                      lambda ps: Adam(ps, lr=0.1),
                                      lambda ps: AdamW(ps, lr=0.1),
                                      lambda ps: RMSprop(ps, momentum=0.5, centered=True),
                                      lambda ps: Adagrad(ps), lambda ps: Adadelta(ps)],
                         ids=["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta"])
def test_optimizer_updates_in_place_and_keeps_float32(make_opt):
    p = make_param(dtype=np.float32)
    array = p.numpy()
    opt = make_opt([p])
    p.grad = Tensor(np.ones(p.shape, dtype=np.float32))
    before = array.copy()
    opt.step()
    assert p.numpy() is array                       # same array: views and references stay valid
    assert p.dtype == np.float32
    assert not np.allclose(array, before)
    assert p.is_leaf and p.requires_grad and p.grad_fn is None


def test_optimizer_keeps_float64_parameters_float64():
    p = make_param(dtype=np.float64)
    p.grad = Tensor(np.ones(p.shape))
    Adam([p]).step()
    assert p.dtype == np.float64


def test_parameters_without_grad_are_skipped():
    used, unused = make_param(), make_param()
    before = unused.numpy().copy()
    opt = Adam([used, unused], lr=0.1)
    used.grad = Tensor(np.ones(used.shape))
    opt.step()
    np.testing.assert_array_equal(unused.data, before)
    assert unused not in opt.state or not opt.state[unused]


def test_zero_grad_sets_none_by_default_and_zeros_when_asked():
    p = make_param()
    opt = SGD([p], lr=0.1)
    p.grad = Tensor(np.ones(p.shape))
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.data, np.zeros(p.shape))
    opt.zero_grad()
    assert p.grad is None


def test_changing_lr_in_param_groups_changes_the_step():
    p = nn.Parameter(np.zeros(2))
    opt = SGD([p], lr=1.0)
    for group in opt.param_groups:
        group["lr"] = 0.25
    run_steps(opt, p, [np.array([1.0, 2.0])])
    np.testing.assert_allclose(p.data, [-0.25, -0.5])


def test_param_group_dicts_get_their_own_lr_and_defaults():
    a, b = nn.Parameter(np.zeros(1)), nn.Parameter(np.zeros(1))
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.0)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[0]["momentum"] == 0.0 and "nesterov" in opt.param_groups[1]
    a.grad, b.grad = Tensor(np.ones(1)), Tensor(np.ones(1))
    opt.step()
    assert a.data[0] == pytest.approx(-0.1) and b.data[0] == pytest.approx(-0.5)


def test_optimizer_accepts_a_generator_of_parameters():
    model = nn.Linear(3, 2)
    opt = SGD(model.parameters(), lr=0.1)     # a generator, consumed once
    assert len(opt.param_groups[0]["params"]) == 2
    x = Tensor(rng.standard_normal((4, 3)).astype(np.float32))
    before = model.weight.numpy().copy()
    model(x).sum().backward()
    opt.step()
    np.testing.assert_allclose(model.weight.data, before - 0.1 * model.weight.grad.data, rtol=1e-6)


def test_step_with_closure_returns_its_loss():
    p = nn.Parameter(np.array([3.0]))
    opt = SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == pytest.approx(9.0)
    assert p.data[0] == pytest.approx(3.0 - 0.1 * 6.0)


def test_step_records_no_graph():
    p = make_param()
    p.grad = Tensor(np.ones(p.shape))
    Adam([p]).step()
    assert p.grad_fn is None
    # the parameter can still be used in a fresh forward pass and differentiated
    (p * 2).sum().backward()
    np.testing.assert_allclose(p.grad.data, np.ones(p.shape) + 2)


def test_optimizer_state_dict_round_trip_continues_identically():
    start = rng.standard_normal(4)
    grads = [rng.standard_normal(4) for _ in range(4)]
    p1 = nn.Parameter(start.copy())
    straight = run_steps(Adam([p1], lr=0.05), p1, grads)

    p2 = nn.Parameter(start.copy())
    first = Adam([p2], lr=0.05)
    run_steps(first, p2, grads[:2])
    saved = first.state_dict()
    first.state[p2]["exp_avg"][...] = 123.0     # the saved copy must not see later changes
    second = Adam([p2], lr=0.05)
    second.load_state_dict(saved)
    resumed = run_steps(second, p2, grads[2:])
    np.testing.assert_allclose(resumed[-1], straight[-1], rtol=1e-12)
    assert saved["param_groups"][0]["params"] == [0]
    assert saved["state"][0]["step"] == 2


def test_optimizer_load_state_dict_rejects_other_layouts():
    saved = SGD([make_param(), make_param()], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="parameters"):
        SGD([make_param()], lr=0.1).load_state_dict(saved)


def test_optimizer_repr_lists_settings():
    text = repr(SGD([make_param()], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (") and "lr: 0.1" in text and "momentum: 0.9" in text


# ----- errors ------------------------------------------------------------------------------

def test_empty_parameter_list_raises_value_error():
    with pytest.raises(ValueError, match="empty parameter list"):
        Adam([])
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD(nn.ReLU().parameters(), lr=0.1)


def test_non_tensor_parameter_raises_type_error_naming_its_type():
    with pytest.raises(TypeError, match="parameter 1 is a ndarray"):
        SGD([make_param(), np.zeros(3)], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        SGD(make_param(), lr=0.1)


def test_negative_learning_rate_raises_value_error():
    with pytest.raises(ValueError, match="learning rate -0.1"):
        SGD([make_param()], lr=-0.1)
    with pytest.raises(ValueError, match="learning rate"):
        Adam([make_param()], lr=-1e-3)


def test_invalid_hyperparameters_raise_value_error():
    with pytest.raises(ValueError, match="nesterov"):
        SGD([make_param()], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta2"):
        Adam([make_param()], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="weight_decay"):
        AdamW([make_param()], weight_decay=-1)
    with pytest.raises(ValueError, match="momentum"):
        SGD([make_param()], lr=0.1, momentum=-0.5)


def test_non_leaf_tensor_is_rejected():
    p = make_param()
    with pytest.raises(ValueError, match="not a leaf"):
        SGD([p * 2], lr=0.1)


def test_duplicate_parameter_is_kept_once_with_a_warning():
    p = make_param()
    with pytest.warns(UserWarning, match="twice"):
        opt = SGD([p, p], lr=0.1)
    assert len(opt.param_groups[0]["params"]) == 1


def test_optim_alias_is_the_same_module():
    import tinygrad_edu.optim as tg_optim
    import nn.optim
    assert tg_optim is nn.optim
    assert tg.optim.Adam is Adam


def test_load_state_dict_takes_tensors_and_rejects_what_does_not_fit():
    p = make_param((2,))
    opt = Adam([p], lr=0.1)
    p.grad = Tensor(np.ones(2))
    opt.step()
    saved = opt.state_dict()
    as_tensors = {"param_groups": saved["param_groups"],
                  "state": {0: {"step": Tensor(np.array(1)),
                                "exp_avg": Tensor(saved["state"][0]["exp_avg"]),
                                "exp_avg_sq": Tensor(saved["state"][0]["exp_avg_sq"])}}}
    other = Adam([p], lr=0.5)
    other.load_state_dict(as_tensors)
    assert other.state[p]["step"] == 1 and other.param_groups[0]["lr"] == 0.1
    np.testing.assert_array_equal(other.state[p]["exp_avg"], saved["state"][0]["exp_avg"])
    with pytest.raises(ValueError,
                       match=r"Adam.load_state_dict: expected the dict .* \['exp_avg'\]"):
        other.load_state_dict({"exp_avg": 1})
    wrong = {"param_groups": [dict(saved["param_groups"][0], lr=9.0)],
             "state": {0: {"step": 1, "exp_avg": np.zeros(3), "exp_avg_sq": np.zeros(3)}}}
    with pytest.raises(ValueError, match="state 'exp_avg' of parameter 0 has shape"):
        other.load_state_dict(wrong)
    assert other.param_groups[0]["lr"] == 0.1   # nothing changed
