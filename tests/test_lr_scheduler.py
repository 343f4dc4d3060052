"""nn.optim.lr_scheduler: every schedule checked against its formula written out here.

PyTorch's conventions: creating a scheduler is its first step (last_epoch 0, the rate
unchanged); each step() after optimizer.step() moves last_epoch on by one.
"""

import io
import math
import warnings

import numpy as np
import pytest

import nn
import tinygrad_edu as tg
from nn.optim import SGD, Adam
from nn.optim.lr_scheduler import (ChainedScheduler, ConstantLR, CosineAnnealingLR,
                                   CosineAnnealingWarmRestarts, ExponentialLR, LambdaLR,
                                   LinearLR, MultiplicativeLR, MultiStepLR, OneCycleLR,
                                   PolynomialLR, ReduceLROnPlateau, SequentialLR, StepLR)


def make_opt(lr=0.1, kind=SGD, **kwargs):
    return kind([nn.Parameter(np.zeros(2))], lr=lr, **kwargs)


def rates(opt, scheduler, steps, metrics=None):
    """The rate after each of ``steps`` scheduler steps (optimizer step first, as you should)."""
    out = []
    for i in range(steps):
        opt.step()
        scheduler.step(*([metrics[i]] if metrics else []))
        assert scheduler.get_last_lr() == [g["lr"] for g in opt.param_groups]
        out.append(scheduler.get_last_lr()[0])
    return out


def test_creating_a_scheduler_is_step_zero_and_keeps_the_rate():
    opt = make_opt(0.1)
    scheduler = StepLR(opt, step_size=2)
    assert scheduler.last_epoch == 0 and scheduler.get_last_lr() == [0.1]
    assert opt.param_groups[0]["initial_lr"] == 0.1 and scheduler.base_lrs == [0.1]


def test_step_lr_multiplies_by_gamma_every_step_size_steps():
    opt = make_opt(0.1)
    got = rates(opt, StepLR(opt, step_size=3, gamma=0.5), 10)
    want = [0.1 * 0.5 ** (t // 3) for t in range(1, 11)]
    np.testing.assert_allclose(got, want, rtol=1e-15)


def test_multistep_lr_counts_the_milestones_passed_and_repeated_ones_twice():
    opt = make_opt(1.0)
    got = rates(opt, MultiStepLR(opt, milestones=[2, 5, 5], gamma=0.1), 7)
    want = [1.0 * 0.1 ** (sum(m <= t for m in [2, 5, 5])) for t in range(1, 8)]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_exponential_lr_is_initial_times_gamma_to_the_t():
    opt = make_opt(0.2)
    got = rates(opt, ExponentialLR(opt, gamma=0.9), 6)
    np.testing.assert_allclose(got, [0.2 * 0.9 ** t for t in range(1, 7)], rtol=1e-14)


def test_cosine_annealing_follows_half_a_cosine_then_rises_again():
    opt = make_opt(0.1)
    T, low = 8, 0.01
    got = rates(opt, CosineAnnealingLR(opt, T_max=T, eta_min=low), 12)
    # PyTorch's closed form on the way down and up again (its recursion gives the same values)
    want = [low + (0.1 - low) * (1 + math.cos(math.pi * t / T)) / 2 for t in range(1, 13)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert got[T - 1] == pytest.approx(low)


def test_lambda_lr_scales_the_initial_rate_per_group():
    a, b = nn.Parameter(np.zeros(1)), nn.Parameter(np.zeros(1))
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    scheduler = LambdaLR(opt, [lambda t: 0.5 ** t, lambda t: 1 / (t + 1)])
    for _ in range(3):
        opt.step()
        scheduler.step()
    assert scheduler.get_last_lr() == pytest.approx([0.1 * 0.5 ** 3, 1.0 / 4])


def test_one_cycle_rises_then_anneals_and_cycles_momentum():
    opt = make_opt(0.1, momentum=0.9)
    total, peak = 20, 1.0
    scheduler = OneCycleLR(opt, max_lr=peak, total_steps=total)
    start, low = peak / 25.0, peak / 25.0 / 1e4
    rise_end, last = 0.3 * total - 1, total - 1

    def cos_anneal(a, b, pct):
        return b + (a - b) / 2 * (math.cos(math.pi * pct) + 1)

    def expected(t):
        if t <= rise_end:
            pct = t / rise_end
            return cos_anneal(start, peak, pct), cos_anneal(0.95, 0.85, pct)
        pct = (t - rise_end) / (last - rise_end)
        return cos_anneal(peak, low, pct), cos_anneal(0.85, 0.95, pct)

    assert opt.param_groups[0]["lr"] == pytest.approx(start)
    for t in range(1, total):
        opt.step()
        scheduler.step()
        lr, momentum = expected(t)
        assert opt.param_groups[0]["lr"] == pytest.approx(lr, rel=1e-12)
        assert opt.param_groups[0]["momentum"] == pytest.approx(momentum, rel=1e-12)
    assert opt.param_groups[0]["lr"] == pytest.approx(low)
    opt.step()
    scheduler.step()   # step number total is still allowed (as PyTorch) ...
    with pytest.raises(ValueError, match="OneCycleLR: stepped 21 times, but total_steps is 20"):
        scheduler.step()


def test_one_cycle_with_adam_cycles_beta1_linearly():
    opt = make_opt(0.1, kind=Adam)
    scheduler = OneCycleLR(opt, max_lr=0.5, epochs=2, steps_per_epoch=5,
                           anneal_strategy="linear")
    assert opt.param_groups[0]["betas"] == (0.95, 0.999)
    rates(opt, scheduler, 2)
    # rise over 0.3 * 10 - 1 = 2 steps: at step 2 the peak, beta1 at base_momentum
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5)
    assert opt.param_groups[0]["betas"] == pytest.approx((0.85, 0.999))


def test_reduce_on_plateau_waits_patience_then_reduces_and_cools_down():
    opt = make_opt(1.0)
    scheduler = ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    losses = [5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4]
    got = rates(opt, scheduler, len(losses), metrics=losses)
    # bad steps counted after the best (4): the 3rd one (> patience) halves the rate; the
    # cooldown step after it is not counted; min_lr stops the halving at 0.2
    assert got == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]
    got = rates(opt, scheduler, 4, metrics=[4] * 4)
    assert got[-1] == 0.2


def test_reduce_on_plateau_max_mode_with_an_absolute_threshold():
    opt = make_opt(1.0)
    scheduler = ReduceLROnPlateau(opt, mode="max", threshold_mode="abs", threshold=0.1,
                                  patience=0)
    # 0.55 is not better than 0.5 + 0.1: a bad step, and patience 0 reduces at once
    assert rates(opt, scheduler, 3, metrics=[0.5, 0.55, 0.8]) == [1.0, pytest.approx(0.1),
                                                                pytest.approx(0.1)]
    scheduler.step(tg.tensor(0.1))   # a one-element Tensor is a metric too: worse, reduce
    assert scheduler.get_last_lr() == [pytest.approx(0.01)] and scheduler.num_bad_epochs == 0


def test_linear_warm_up_goes_from_start_to_end_factor_then_stays():
    opt = make_opt(0.5)
    scheduler = LinearLR(opt, start_factor=0.1, end_factor=1.0, total_iters=4)
    assert scheduler.get_last_lr() == [pytest.approx(0.05)]   # step 0 already scaled
    got = rates(opt, scheduler, 6)
    want = [0.5 * (0.1 + 0.9 * min(t, 4) / 4) for t in range(1, 7)]
    np.testing.assert_allclose(got, want, rtol=1e-14)


def test_constant_polynomial_and_multiplicative_follow_their_formulas():
    opt = make_opt(0.3)
    got = rates(opt, ConstantLR(opt, factor=0.5, total_iters=3), 5)
    np.testing.assert_allclose(got, [0.15, 0.15, 0.3, 0.3, 0.3], rtol=1e-14)
    opt = make_opt(0.3)
    got = rates(opt, PolynomialLR(opt, total_iters=4, power=2.0), 6)
    want = [0.3 * (1 - min(t, 4) / 4) ** 2 for t in range(1, 7)]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-18)
    opt = make_opt(0.3)
    got = rates(opt, MultiplicativeLR(opt, lambda t: 1 - 0.1 * t), 3)
    np.testing.assert_allclose(got, [0.3 * 0.9, 0.3 * 0.9 * 0.8, 0.3 * 0.9 * 0.8 * 0.7],
                               rtol=1e-14)


def test_sequential_lr_warms_up_then_starts_the_cosine_at_its_step_zero():
    opt = make_opt(0.1)
    warm, T = 3, 6
    scheduler = SequentialLR(opt, [LinearLR(opt, 0.5, total_iters=warm),
                                   CosineAnnealingLR(opt, T_max=T)], milestones=[warm])
    assert scheduler.get_last_lr() == [pytest.approx(0.05)]
    got = rates(opt, scheduler, 8)
    want = [0.1 * (0.5 + 0.5 * t / warm) for t in range(1, warm)]
    want += [0.1 * (1 + math.cos(math.pi * t / T)) / 2 for t in range(0, 8 - warm + 1)]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_warm_restarts_anneal_over_periods_growing_by_t_mult():
    opt = make_opt(0.1)
    got = rates(opt, CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2, eta_min=0.01), 8)
    # periods of 2, 4, 8 steps: T_cur counts the steps since the last restart
    t_cur_and_period = [(1, 2), (0, 4), (1, 4), (2, 4), (3, 4), (0, 8), (1, 8), (2, 8)]
    want = [0.01 + 0.09 * (1 + math.cos(math.pi * c / T)) / 2 for c, T in t_cur_and_period]
    np.testing.assert_allclose(got, want, rtol=1e-14)
    scheduler = CosineAnnealingWarmRestarts(make_opt(0.1), T_0=4)
    scheduler.step(5.5)   # a fractional epoch, per batch: 1.5 steps into the second period
    assert scheduler.get_last_lr()[0] == pytest.approx(0.05 * (1 + math.cos(math.pi * 1.5 / 4)))


def test_chained_scheduler_applies_each_change_in_turn():
    opt = make_opt(1.0)
    scheduler = ChainedScheduler([ConstantLR(opt, factor=0.5, total_iters=2),
                                  ExponentialLR(opt, gamma=0.9)])
    got = rates(opt, scheduler, 4)
    np.testing.assert_allclose(got, [0.5 * 0.9, 0.9 ** 2, 0.9 ** 3, 0.9 ** 4], rtol=1e-14)


def test_a_rate_changed_in_param_groups_is_carried_on_from():
    opt = make_opt(0.1)
    scheduler = StepLR(opt, step_size=2, gamma=0.5)
    rates(opt, scheduler, 1)
    opt.param_groups[0]["lr"] = 0.04
    assert rates(opt, scheduler, 1) == [0.02]   # step 2 halves whatever the rate is now
    opt.param_groups[0]["params"][0].grad = tg.ones(2, dtype=np.float64)
    opt.step()
    np.testing.assert_allclose(opt.param_groups[0]["params"][0].numpy(), [-0.02, -0.02])


@pytest.mark.parametrize("make", [lambda o: StepLR(o, 3, 0.5), lambda o: MultiStepLR(o, [2, 4]),
                                  lambda o: ExponentialLR(o, 0.9),
                                  lambda o: CosineAnnealingLR(o, 5, 0.001),
                                  lambda o: LambdaLR(o, lambda t: 0.9 ** t),
                                  lambda o: OneCycleLR(o, 1.0, total_steps=12),
                                  lambda o: ReduceLROnPlateau(o, patience=1),
                                  lambda o: LinearLR(o, 0.2, total_iters=6),
                                  lambda o: SequentialLR(o, [ConstantLR(o, 0.5, total_iters=2),
                                                             ExponentialLR(o, 0.8)], [3]),
                                  lambda o: CosineAnnealingWarmRestarts(o, 3, 2),
                                  lambda o: ChainedScheduler([ConstantLR(o, 0.5, total_iters=2),
                                                              ExponentialLR(o, 0.8)])],
                         ids=["step", "multistep", "exponential", "cosine", "lambda",
                              "onecycle", "plateau", "linear", "sequential", "warm_restarts",
                              "chained"])
def test_state_dict_through_save_and_load_continues_identically(make):
    metrics = [3.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]
    plateau = "Plateau" in type(make(make_opt())).__name__
    opt = make_opt(0.1, momentum=0.9)
    scheduler = make(opt)
    straight = rates(opt, scheduler, 10, metrics if plateau else None)

    opt = make_opt(0.1, momentum=0.9)
    scheduler = make(opt)
    first = rates(opt, scheduler, 4, metrics if plateau else None)
    buffer = io.BytesIO()
    tg.save({"optimizer": opt.state_dict(), "scheduler": scheduler.state_dict()}, buffer)
    buffer.seek(0)
    checkpoint = tg.load(buffer)
    opt2 = make_opt(0.1, momentum=0.9)
    scheduler2 = make(opt2)
    opt2.load_state_dict(checkpoint["optimizer"])
    scheduler2.load_state_dict(checkpoint["scheduler"])
    rest = rates(opt2, scheduler2, 6, metrics[4:] if plateau else None)
    assert first + rest == straight


def test_lambda_state_dict_leaves_functions_out():
    scheduler = LambdaLR(make_opt(), lambda t: 1.0)
    assert scheduler.state_dict()["lr_lambdas"] == [None] and "optimizer" not in \
        scheduler.state_dict()


def test_resuming_with_last_epoch_needs_initial_lr_and_continues_from_the_current_rate():
    opt = make_opt(0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        CosineAnnealingLR(opt, T_max=10, last_epoch=3)
    opt.param_groups[0]["initial_lr"] = 0.2
    scheduler = CosineAnnealingLR(opt, T_max=10, last_epoch=3)
    # as PyTorch: the constructor's step moves last_epoch to 4 and keeps the rate (0.1, which
    # a resumed optimizer's state would hold); the next step applies the cosine's ratio
    assert scheduler.last_epoch == 4 and scheduler.get_last_lr() == [0.1]
    opt.step()
    scheduler.step()
    ratio = (1 + math.cos(math.pi * 5 / 10)) / (1 + math.cos(math.pi * 4 / 10))
    assert scheduler.get_last_lr()[0] == pytest.approx(0.1 * ratio, rel=1e-14)


def test_stepping_the_scheduler_before_the_optimizer_warns():
    opt = make_opt()
    scheduler = StepLR(opt, 1)
    with pytest.warns(UserWarning, match="before optimizer.step"):
        scheduler.step()
    opt2 = make_opt()
    scheduler2 = StepLR(opt2, 1)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler2.step()


def test_bad_arguments_name_the_scheduler_and_the_value():
    with pytest.raises(TypeError, match="StepLR: expected an optimizer.*Linear"):
        StepLR(nn.Linear(2, 2), 3)
    with pytest.raises(ValueError, match="StepLR: step_size must be a positive int, got 0"):
        StepLR(make_opt(), 0)
    with pytest.raises(ValueError, match="CosineAnnealingLR: T_max .* got 2.5"):
        CosineAnnealingLR(make_opt(), 2.5)
    with pytest.raises(ValueError, match="OneCycleLR: give total_steps"):
        OneCycleLR(make_opt(), 1.0)
    with pytest.raises(ValueError, match="ReduceLROnPlateau: factor must be below 1.0, got 2"):
        ReduceLROnPlateau(make_opt(), factor=2)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max', got 'best'"):
        ReduceLROnPlateau(make_opt(), mode="best")
    with pytest.raises(ValueError, match="LambdaLR: expected 1 lr_lambdas"):
        LambdaLR(make_opt(), [lambda t: 1, lambda t: 2])
    with pytest.raises(ValueError, match="LinearLR: start_factor must be in .*, got 0"):
        LinearLR(make_opt(), start_factor=0)
    opt = make_opt()
    with pytest.raises(ValueError, match="SequentialLR: 2 schedulers need 1 milestones, got 0"):
        SequentialLR(opt, [StepLR(opt, 1), StepLR(opt, 1)], [])
    with pytest.raises(ValueError, match="SequentialLR: scheduler 0 .* another optimizer"):
        SequentialLR(opt, [StepLR(make_opt(), 1)], [])


def test_torch_style_paths_reach_the_same_classes():
    import tinygrad_edu.optim.lr_scheduler as lr_scheduler
    assert tg.optim.lr_scheduler is lr_scheduler and lr_scheduler.StepLR is StepLR
