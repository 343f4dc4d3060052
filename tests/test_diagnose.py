"""nn.diagnose: every finding fires on a broken setup and stays quiet once it is fixed.

Each case below builds one classic mistake and the same setup with that mistake corrected;
a false alarm on the fixed one fails as surely as a miss on the broken one. Then: the user's
model and optimizer come back bit for bit unchanged, bad data is reported rather than raised,
the report reads well, and the example script diagnoses its four setups correctly. Last, the
verdicts that once went wrong: a probe stuck at chance level (shuffled digit labels, XOR at
0.5) is never "no problem found", learning-rate advice never contradicts itself or the sweep,
and a loss with reduction='sum' on a batch larger than the probe's is judged at the user's step.
At the end, the package's stages one at a time: each returns its own result, a check reads only
the results it is given, and the stage modules import one another one way.
"""

import ast
import dataclasses
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import nn
import tinygrad_edu as tg
import tinygrad_edu.nn as tg_nn
from nn.diagnose import (Batch, Observation, ProbeResult, TrainingRun, checks, observe_model,
                         prepare_batch, run_probe, summarize)
from nn.diagnose.observe import Activation
from nn.optim import SGD, Adam
from tinygrad_edu import Tensor

STEPS = 30
EXAMPLE = pathlib.Path(__file__).resolve().parent.parent / "examples" / "diagnose_classics.py"


def blobs(n=240, classes=3, features=2, spread=0.4, weights=None, seed=0):
    """Well separated Gaussian clusters, standardised: X (n, features) float32, y (n,) int64."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((classes, features)) * 2
    y = rng.choice(classes, size=n, p=weights)
    X = centres[y] + spread * rng.standard_normal((n, features))
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X.astype(np.float32), y.astype(np.int64)


def mlp(sizes, act=nn.ReLU, bias=True, out=None):
    """Linear layers of the given sizes with ``act`` between them (and ``out`` at the end)."""
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b, bias=bias))
        if i < len(sizes) - 2:
            layers.append(act())
    if out is not None:
        layers.append(out())
    return nn.Sequential(*layers)


def run(model, loss_fn, X, y, optimizer="adam", lr=0.01, steps=STEPS, **opt_kwargs):
    if optimizer == "adam":
        optimizer = Adam(model.parameters(), lr=lr, **opt_kwargs)
    elif optimizer == "sgd":
        optimizer = SGD(model.parameters(), lr=lr, **opt_kwargs)
    return nn.diagnose(model, loss_fn, X, y, optimizer=optimizer, steps=steps)


# ----- one broken and one fixed setup per finding ------------------------------------------

def case_bad_data(broken):
    X, y = blobs()
    if broken:
        X = X.copy()
        X[5, 1] = np.nan
    tg.manual_seed(0)
    return run(mlp([2, 16, 3]), nn.CrossEntropyLoss(), X, y)


def case_unnormalized_inputs(broken):
    X, y = blobs()
    if broken:
        X = X * 50 + 200            # e.g. raw measurements in some large unit
    tg.manual_seed(0)
    return run(mlp([2, 16, 3]), nn.CrossEntropyLoss(), X, y)


def case_loss_output_mismatch(broken):
    X, y = blobs()
    tg.manual_seed(0)
    model = mlp([2, 16, 3], out=nn.Softmax if broken else None)     # double softmax
    return run(model, nn.CrossEntropyLoss(), X, y)


def regression(n=200, seed=0):
    """Targets in [0, 4]: y = 2 + 2 sin(x0) cos(x1), as a column."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 2)).astype(np.float32)
    y = (2 + 2 * np.sin(X[:, :1]) * np.cos(X[:, 1:])).astype(np.float32)
    return X, y


def case_bounded_output(broken):
    X, y = regression()
    tg.manual_seed(0)
    model = mlp([2, 32, 1], act=nn.Tanh, out=nn.Sigmoid if broken else None)
    return run(model, nn.MSELoss(), X, y)


def rings(n=240, seed=0):
    """Two classes along the diagonal, told apart by distance from the origin (off-centre)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    t = np.where(y == 0, 2.0, 3.0) + 0.15 * rng.standard_normal(n)
    X = np.stack([t, t], axis=1) + 0.3 * rng.standard_normal((n, 2))
    return X.astype(np.float32), y.astype(np.int64)


def case_missing_bias(broken):
    X, y = rings()
    tg.manual_seed(0)
    return run(mlp([2, 16, 2], bias=not broken), nn.CrossEntropyLoss(), X, y)


def case_symmetric_init(broken):
    X, y = blobs()
    tg.manual_seed(0)
    model = mlp([2, 16, 16, 3])
    if broken:
        for p in model.parameters():
            nn.init.zeros_(p)
    return run(model, nn.CrossEntropyLoss(), X, y)


def case_saturated_units(broken):
    X, y = blobs(features=10)
    tg.manual_seed(0)
    model = mlp([10, 32, 3], act=nn.Tanh)
    if broken:
        nn.init.normal_(model[0].weight, std=5.0)     # pre-activations of size ~15
    return run(model, nn.CrossEntropyLoss(), X, y)


def case_dead_relu(broken):
    X, y = blobs()
    tg.manual_seed(0)
    model = mlp([2, 32, 3])
    if broken:
        nn.init.constant_(model[0].bias, -10.0)       # every unit below zero for all inputs
    return run(model, nn.CrossEntropyLoss(), X, y)


def case_bottleneck(broken):
    X, y = blobs(classes=8, features=8)
    tg.manual_seed(0)
    return run(mlp([8, 3 if broken else 32, 8]), nn.CrossEntropyLoss(), X, y)


def case_exploding_gradients(broken):
    X, y = regression()
    tg.manual_seed(0)
    model = mlp([2, 64, 64, 64, 1])
    if broken:
        for layer in (model[0], model[2], model[4], model[6]):
            nn.init.normal_(layer.weight, std=1.0)    # 8x too large for 64 inputs, per layer
    return run(model, nn.MSELoss(), X, y, optimizer="sgd", lr=0.01)


def case_lr_too_high(broken):
    X, y = blobs()
    tg.manual_seed(0)
    return run(mlp([2, 16, 3]), nn.CrossEntropyLoss(), X, y, optimizer="sgd",
               lr=60.0 if broken else 0.5)


def case_lr_too_low(broken):
    X, y = blobs()
    tg.manual_seed(0)
    return run(mlp([2, 16, 3]), nn.CrossEntropyLoss(), X, y, optimizer="sgd",
               lr=1e-4 if broken else 0.5)


def test_lr_far_too_low_is_found_by_a_wide_sweep():
    # 1e-7 is a million times below a working lr: the sweep must reach that far
    X, y = blobs()
    tg.manual_seed(0)
    report = run(mlp([2, 16, 3]), nn.CrossEntropyLoss(), X, y, optimizer="sgd", lr=1e-7)
    assert report.names == ["lr_too_low"]


def case_over_regularized(broken):
    X, y = blobs()
    tg.manual_seed(0)
    return run(mlp([2, 16, 3]), nn.CrossEntropyLoss(), X, y, optimizer="sgd", lr=0.5,
               weight_decay=3.0 if broken else 1e-4)


def case_collapsed_predictions(broken):
    # the classic: X and y shuffled separately, so the labels no longer depend on the inputs
    X, y = blobs(weights=[0.8, 0.1, 0.1])
    if broken:
        y = np.random.default_rng(1).permutation(y)
    tg.manual_seed(0)
    return run(mlp([2, 16, 3]), nn.CrossEntropyLoss(), X, y)


CASES = {
    "bad_data": case_bad_data,
    "unnormalized_inputs": case_unnormalized_inputs,
    "loss_output_mismatch": case_loss_output_mismatch,
    "bounded_output": case_bounded_output,
    "missing_bias": case_missing_bias,
    "symmetric_init": case_symmetric_init,
    "saturated_units": case_saturated_units,
    "dead_relu": case_dead_relu,
    "bottleneck": case_bottleneck,
    "lr_too_high": case_lr_too_high,
    "lr_too_low": case_lr_too_low,
    "collapsed_predictions": case_collapsed_predictions,
    "exploding_gradients": case_exploding_gradients,
    "over_regularized": case_over_regularized,
}


def test_every_finding_name_of_the_spec_has_a_case_and_a_line_in_the_docs():
    names = {"unnormalized_inputs", "bounded_output", "loss_output_mismatch", "missing_bias",
             "symmetric_init", "saturated_units", "dead_relu", "bottleneck", "lr_too_high",
             "lr_too_low", "collapsed_predictions", "exploding_gradients", "over_regularized",
             "bad_data"}
    assert set(CASES) == names
    table = sys.modules["nn.diagnose"].__doc__
    assert all(f"``{name}``" in table for name in names)


@pytest.mark.parametrize("name", CASES)
def test_finding_fires_on_the_broken_setup(name):
    report = CASES[name](broken=True)
    assert name in report.names, str(report)
    finding = next(f for f in report.findings if f.name == name)
    assert finding.evidence and finding.why and finding.fix
    assert any(ch.isdigit() for ch in finding.evidence)      # evidence carries numbers


@pytest.mark.parametrize("name", CASES)
def test_finding_stays_quiet_on_the_fixed_setup(name):
    report = CASES[name](broken=False)
    assert name not in report.names, str(report)


def test_fixed_setups_get_an_entirely_clean_report():
    # stronger than "this one name is absent": no check raises a false alarm on any of them
    for name, case in CASES.items():
        report = case(broken=False)
        assert report.ok and report.findings == [], f"{name}:\n{report}"


# ----- the other ways to mismatch loss and output --------------------------------------------

def mismatch_nll(broken):
    X, y = blobs()
    tg.manual_seed(0)
    return run(mlp([2, 16, 3], out=None if broken else nn.LogSoftmax), nn.NLLLoss(), X, y)


def mismatch_bce_logits_after_sigmoid(broken):
    X, y = blobs(classes=2)
    tg.manual_seed(0)
    model = mlp([2, 16, 1], out=nn.Sigmoid if broken else None)
    return run(model, nn.BCEWithLogitsLoss(), X, y.reshape(-1, 1).astype(np.float32))


def mismatch_bce_on_exclusive_classes(broken):
    X, y = blobs(classes=4)
    tg.manual_seed(0)
    if broken:
        one_hot = np.eye(4, dtype=np.float32)[y]
        return run(mlp([2, 16, 4], out=nn.Sigmoid), nn.BCELoss(), X, one_hot)
    return run(mlp([2, 16, 4]), nn.CrossEntropyLoss(), X, y)


def mismatch_bce_on_raw_scores(broken):
    X, y = blobs(classes=2)
    tg.manual_seed(0)
    model = mlp([2, 16, 1], out=None if broken else nn.Sigmoid)
    return run(model, nn.BCELoss(), X, y.reshape(-1, 1).astype(np.float32))


@pytest.mark.parametrize("case", [mismatch_nll, mismatch_bce_logits_after_sigmoid,
                                  mismatch_bce_on_exclusive_classes, mismatch_bce_on_raw_scores],
                         ids=lambda c: c.__name__)
def test_loss_output_mismatch_variants_fire_and_clear(case):
    assert "loss_output_mismatch" in case(broken=True).names
    assert case(broken=False).ok


# ----- the user's objects are left alone -------------------------------------------------------

def snapshot(model, optimizer):
    """Everything diagnose must not touch, as bytes and flags (arrays compared bit for bit)."""
    state = {name: (t.dtype, t.shape, t.numpy().tobytes(), id(t.numpy()))
             for name, t in list(model.named_parameters()) + list(model.named_buffers())}
    grads = {name: None if p.grad is None else (p.grad.numpy().tobytes(), id(p.grad))
             for name, p in model.named_parameters()}
    modes = {path: m.training for path, m in model.named_modules()}
    opt_state = {k: {key: (v.tobytes() if isinstance(v, np.ndarray) else v)
                     for key, v in s.items()}
                 for k, s in optimizer.state_dict()["state"].items()}
    groups = [{k: (list(map(id, v)) if k == "params" else v) for k, v in g.items()}
              for g in optimizer.param_groups]
    return state, grads, modes, opt_state, groups, len(optimizer.state)


def test_diagnose_leaves_model_optimizer_and_random_stream_bit_for_bit_unchanged():
    X, y = blobs(features=4)
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2),
                          nn.Linear(16, 3))
    optimizer = SGD(model.parameters(), lr=5.0, momentum=0.9, weight_decay=1e-3)  # lr too high
    for _ in range(2):                      # some optimizer state and running statistics
        loss = nn.CrossEntropyLoss()(model(Tensor(X)), Tensor(y))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    loss = nn.CrossEntropyLoss()(model(Tensor(X)), Tensor(y))
    loss.backward()                         # gradients pending, as mid-training
    model.eval()
    model[3].train()                        # mixed modes must survive too
    before = snapshot(model, optimizer)

    tg.manual_seed(123)
    report = nn.diagnose(model, nn.CrossEntropyLoss(), Tensor(X), Tensor(y),
                         optimizer=optimizer, steps=10)
    after_draw = Tensor.rand(5).numpy().copy()
    tg.manual_seed(123)
    expected_draw = Tensor.rand(5).numpy()

    assert "lr_too_high" in report.names    # the probe and the sweep did run
    assert snapshot(model, optimizer) == before
    np.testing.assert_array_equal(after_draw, expected_draw)


# ----- bad data is reported, never raised ------------------------------------------------------

def test_labels_out_of_range_are_bad_data_with_the_off_by_one_hint():
    X, y = blobs()
    tg.manual_seed(0)
    report = run(mlp([2, 16, 3]), nn.CrossEntropyLoss(), X, y + 1)     # labels 1..3
    assert report.names == ["bad_data"]
    assert "subtract 1" in report.findings[0].evidence


def test_shapes_that_would_broadcast_silently_are_bad_data():
    X, y = regression()
    tg.manual_seed(0)

    def squared_error(pred, target):        # a hand-written loss does not check shapes
        return ((pred - target) ** 2).mean()

    report = run(mlp([2, 16, 1]), squared_error, X, y.reshape(-1))     # (N, 1) vs (N,)
    assert report.names == ["bad_data"]
    assert "(200, 200)" in report.findings[0].evidence


def test_nan_targets_and_wrong_feature_count_are_bad_data_not_exceptions():
    X, y = regression()
    y = y.copy()
    y[3] = np.inf
    tg.manual_seed(0)
    assert run(mlp([2, 16, 1]), nn.MSELoss(), X, y).names == ["bad_data"]
    report = run(mlp([5, 16, 1]), nn.MSELoss(), X, regression()[1])   # X has 2 features
    assert report.names == ["bad_data"] and "5" in report.findings[0].evidence


def test_integer_pixels_are_bad_data_and_the_diagnosis_goes_on():
    X, y = blobs()
    pixels = np.clip(X * 60 + 128, 0, 255).astype(np.uint8)           # raw 0..255 bytes
    tg.manual_seed(0)
    report = run(mlp([2, 16, 3]), nn.CrossEntropyLoss(), pixels, y)
    assert report.names[0] == "bad_data" and "uint8" in report.findings[0].evidence
    assert "unnormalized_inputs" in report.names


def test_float_class_labels_are_bad_data_and_the_diagnosis_goes_on():
    X, y = blobs()
    tg.manual_seed(0)
    report = run(mlp([2, 16, 3]), nn.CrossEntropyLoss(), X, y.astype(np.float32))
    assert report.names == ["bad_data"] and "astype(np.int64)" in report.findings[0].fix
    assert report.numbers["accuracy_end"] > 0.8      # the probe ran on the converted labels


def test_probe_whose_loss_turns_nan_inside_bce_does_not_raise():
    # BCELoss refuses NaN input; once the weights blow up the probe must just record it
    X, y = blobs(classes=2)
    tg.manual_seed(0)
    model = mlp([2, 16, 1], out=nn.Sigmoid)
    report = run(model, nn.BCELoss(), X, y.reshape(-1, 1).astype(np.float32), optimizer="sgd",
                 lr=1e4)
    assert report.names and set(report.names) <= {"lr_too_high", "exploding_gradients"}


# ----- the report ---------------------------------------------------------------------------

def test_healthy_report_says_no_problem_found_with_key_numbers():
    report = case_lr_too_high(broken=False)
    text = str(report)
    assert text.startswith("nn.diagnose: no problem found")
    assert "chance level" in text and "accuracy on the batch" in text
    assert report.numbers["loss_end"] < report.numbers["loss_start"]
    assert report.numbers["chance_loss"] == pytest.approx(np.log(3), rel=0.05)


def test_broken_report_lists_each_finding_with_evidence_why_and_fix():
    report = case_lr_too_high(broken=True)
    text = str(report)
    assert text.startswith("nn.diagnose: 1 problem found: lr_too_high")
    assert all(word in text for word in ("evidence:", "why:", "fix:"))
    low, high = report.findings[0].numbers["suggested_lr"]
    assert 0 < low <= high < 60.0          # smaller than the lr that diverged
    assert repr(report.findings[0]).startswith("<Finding lr_too_high")


def test_collapse_is_described_in_the_words_users_use():
    report = case_collapsed_predictions(broken=True)
    evidence = report.findings[0].evidence
    assert "predicts class 0 for 100% of the inputs" in evidence
    assert "chance level" in evidence


def test_without_an_optimizer_the_probe_uses_adam_and_does_not_judge_the_lr():
    X, y = blobs()
    tg.manual_seed(0)
    model = mlp([2, 16, 3])
    report = nn.diagnose(model, nn.CrossEntropyLoss(), X, y, steps=STEPS)
    assert report.ok
    assert "no optimizer given" in str(report)


def test_custom_module_with_functional_activations_is_inspected_through_the_graph():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(2, 16)
            self.fc2 = nn.Linear(16, 3)

        def forward(self, x):
            return self.fc2(self.fc1(x).relu())

    X, y = blobs()
    tg.manual_seed(0)
    model = Net()
    nn.init.constant_(model.fc1.bias, -10.0)
    report = run(model, nn.CrossEntropyLoss(), X, y)
    assert report.names == ["dead_relu"]
    assert "relu after fc1 (Linear 2→16)" in report.findings[0].evidence


def test_bad_arguments_raise_before_anything_runs():
    X, y = blobs()
    with pytest.raises(TypeError, match="nn.Module"):
        nn.diagnose(lambda x: x, nn.CrossEntropyLoss(), X, y)
    with pytest.raises(ValueError, match="steps"):
        nn.diagnose(mlp([2, 3]), nn.CrossEntropyLoss(), X, y, steps=0)


# ----- the example ----------------------------------------------------------------------------

def test_example_diagnoses_each_classic_with_its_cause_and_clears_the_fixed_ones():
    result = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    sections = {}
    for block in result.stdout.split("=== ")[1:]:
        title, first = block.splitlines()[:2]
        sections[title.split(":")[0]] = first
    expected = {
        "broken 1": "unnormalized_inputs, bottleneck, lr_too_high",
        "broken 2": "bounded_output",
        "broken 3": "loss_output_mismatch, missing_bias",
        "broken 4": "symmetric_init",
    }
    for key, names in expected.items():
        assert sections[key].endswith("found: " + names), (key, sections[key])
    for i in range(1, 5):
        assert sections[f"fixed {i}"] == "nn.diagnose: no problem found"


# ----- a probe that does not beat chance level is never "no problem found" ------------------

def digits_run(shuffled, optimizer, lr):
    """scikit-learn's digits (pixels / 16) into 64-64-10; labels shuffled apart from X if asked."""
    from sklearn.datasets import load_digits
    data = load_digits()
    X, y = (data.data / 16).astype(np.float32), data.target.astype(np.int64)
    if shuffled:
        y = np.random.default_rng(0).permutation(y)
    tg.manual_seed(0)
    return run(mlp([64, 64, 10]), nn.CrossEntropyLoss(), X, y, optimizer=optimizer, lr=lr)


def test_shuffled_digit_labels_stuck_at_chance_are_reported():
    # the probe's loss stays at the class frequencies' (2.298 -> 2.288, chance 2.297) and its
    # accuracy at the majority rate: this used to read "no problem found"
    report = digits_run(shuffled=True, optimizer="sgd", lr=0.1)
    assert report.names == ["collapsed_predictions"], str(report)
    evidence, fix = report.findings[0].evidence, report.findings[0].fix
    assert "chance level" in evidence and "most frequent class" in evidence
    assert "aligned" in fix and "learning rate" in evidence + fix
    assert report.numbers["loss_end"] > 0.9 * report.numbers["chance_loss"]
    # the same setup with the real labels learns and gets a clean report
    assert digits_run(shuffled=False, optimizer="sgd", lr=0.1).ok


def test_memorising_shuffled_labels_is_told_apart_by_rows_the_probe_did_not_train_on():
    # Adam at 0.01 memorises 512 shuffled rows (loss far below chance on them), but on the
    # held-out rows it is worse than chance: the labels carry no signal
    report = digits_run(shuffled=True, optimizer="adam", lr=0.01)
    assert report.names == ["collapsed_predictions"], str(report)
    assert report.numbers["loss_end"] < 0.9 * report.numbers["chance_loss"]
    assert report.numbers["held_out_loss"] > report.numbers["held_out_chance"]
    assert "memorised" in report.findings[0].evidence
    assert digits_run(shuffled=False, optimizer="adam", lr=0.01).ok


XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=np.float32)


def xor_run(act, loss_fn, lr, seed=0, init=None, steps=50):
    """The seeds' XOR: a 2-4-1 net with a sigmoid output, full-batch SGD."""
    tg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 4), act(), nn.Linear(4, 1), nn.Sigmoid())
    if init is not None:
        nn.init.normal_(model[0].weight, std=init[0])
        nn.init.normal_(model[2].weight, std=init[1])
    return run(model, loss_fn, XOR_X, XOR_Y, optimizer="sgd", lr=lr, steps=steps)


@pytest.mark.parametrize("act, loss_fn, lr", [(nn.Sigmoid, nn.BCELoss, 0.1),
                                              (nn.Sigmoid, nn.BCELoss, 1.0),
                                              (nn.Tanh, nn.MSELoss, 0.1)],
                         ids=["sigmoid-bce-0.1", "sigmoid-bce-1", "tanh-mse-0.1"])
def test_xor_stuck_at_one_half_gets_a_finding(act, loss_fn, lr):
    report = xor_run(act, loss_fn(), lr)
    chance = report.numbers["chance_loss"]
    assert report.numbers["loss_end"] > 0.9 * chance          # the probe is stuck at 0.5
    assert report.names and set(report.names) <= {"collapsed_predictions", "lr_too_low"}
    assert "chance level" in report.findings[0].evidence, str(report)


# ----- no contradictory learning-rate advice -------------------------------------------------

TINY_THEN_LARGE = (0.001, 3.0)     # first layer's weights tiny: its gradient is 250x its weights


def test_xor_that_learns_gets_no_lr_or_exploding_finding():
    # learns XOR to 100% at lr 1 although its first layer's gradient / weight ratio is 250
    # (this used to say exploding_gradients, "lower the learning rate")
    report = xor_run(nn.Tanh, nn.BCELoss(), 1.0, seed=1, init=TINY_THEN_LARGE)
    assert report.numbers["accuracy_end"] == 1.0
    assert report.ok, str(report)


def test_lr_sweep_wins_over_a_large_starting_gradient():
    # at lr 0.01 the same net is stuck at chance; larger steps train, so "raise the lr" and
    # "lower the lr" must not both be said
    report = xor_run(nn.Tanh, nn.BCELoss(), 0.01, seed=1, init=TINY_THEN_LARGE)
    assert report.names == ["lr_too_low"], str(report)
    low, high = report.findings[0].numbers["suggested_lr"]
    assert 0.01 < low <= high
    assert "large next to the weights" in report.findings[0].evidence
    # the suggestion really trains: a probe at it learns
    again = xor_run(nn.Tanh, nn.BCELoss(), high, seed=1, init=TINY_THEN_LARGE)
    assert again.ok and again.numbers["accuracy_end"] == 1.0, str(again)


@pytest.mark.parametrize("act", [nn.Sigmoid, nn.Tanh], ids=["sigmoid", "tanh"])
@pytest.mark.parametrize("loss_fn", [nn.BCELoss, nn.MSELoss], ids=["bce", "mse"])
@pytest.mark.parametrize("lr", [1e-4, 0.01, 0.1, 1.0, 3.0, 10.0])
def test_xor_reports_never_contradict_themselves(act, loss_fn, lr):
    report = xor_run(act, loss_fn(), lr, seed=1, init=TINY_THEN_LARGE)
    names = set(report.names)
    lower = names & {"exploding_gradients", "lr_too_high"}
    assert not ("lr_too_low" in names and lower), str(report)
    if "lr_too_low" in names:
        assert not any("smaller learning rate" in f.fix or "lower the learning rate" in f.fix
                       for f in report.findings)
    learned = report.numbers["loss_end"] <= 0.5 * report.numbers["chance_loss"]
    if learned:
        assert not names & {"lr_too_low", "lr_too_high", "exploding_gradients"}, str(report)
    for finding in report.findings:
        if "suggested_lr" in finding.numbers:          # never an lr that diverged
            assert xor_run(act, loss_fn(), finding.numbers["suggested_lr"][1], seed=1,
                           init=TINY_THEN_LARGE).ok


# ----- losses that sum over rows -----------------------------------------------------------------

def sum_loss_run(mean_lr, n=4096):
    """Blobs of n rows, CrossEntropyLoss(reduction='sum'), SGD at mean_lr / n: the step a
    mean loss would take at mean_lr."""
    X, y = blobs(n=n)
    tg.manual_seed(0)
    return run(mlp([2, 16, 3]), nn.CrossEntropyLoss(reduction="sum"), X, y, optimizer="sgd",
               lr=mean_lr / n)


@pytest.mark.parametrize("mean_lr", [0.1, 0.5, 2.0])
def test_sum_loss_on_a_large_batch_with_a_good_lr_is_healthy(mean_lr):
    # the probe's 512 rows sum to an eighth of the user's gradient; it used to see a step
    # eight times too small (and, at 0.1, a gradient 500 times its weights: "exploding")
    report = sum_loss_run(mean_lr)
    assert report.ok, str(report)
    assert report.numbers["loss_reduction"] == "sum"
    assert report.numbers["gradient_scale"] == 4096 / 512


def test_sum_loss_on_a_large_batch_with_too_high_an_lr_is_lr_too_high():
    # 12 / 4096 blows the loss up on the whole batch (1.4e5 after 10 steps, from 5326); on
    # 512 rows it used to look fine
    report = sum_loss_run(12.0)
    assert "lr_too_high" in report.names, str(report)
    low, high = next(f for f in report.findings if f.name == "lr_too_high").numbers["suggested_lr"]
    assert high < 12.0 / 4096                # in the user's own (summed) terms
    assert sum_loss_run(high * 4096).ok       # and it trains


def test_a_hand_written_sum_loss_is_recognised_by_measuring_it():
    X, y = regression(n=1024)
    tg.manual_seed(0)

    def summed_squares(pred, target):
        return ((pred - target) ** 2).sum()

    report = run(mlp([2, 16, 1]), summed_squares, X, y, optimizer="sgd", lr=0.05 / 1024)
    assert report.numbers["loss_reduction"] == "sum" and report.numbers["gradient_scale"] == 2
    mean_report = run(mlp([2, 16, 1]), nn.MSELoss(), X, y, optimizer="sgd", lr=0.05)
    assert "loss_reduction" not in mean_report.numbers


# ----- the stages, one at a time --------------------------------------------------------------

def test_each_stage_runs_on_its_own_and_returns_its_result():
    X, y = blobs()
    tg.manual_seed(0)
    model = mlp([2, 16, 3])
    loss_fn, optimizer = nn.CrossEntropyLoss(), Adam(model.parameters(), lr=0.01)

    batch = prepare_batch(X, y, loss_fn)
    assert isinstance(batch, Batch) and batch.usable and batch.findings == ()
    assert batch.kind == "cross_entropy" and batch.X.shape == (240, 2) and batch.X_held is None

    observation = observe_model(model, loss_fn, batch)
    assert isinstance(observation, Observation) and observation.usable
    assert observation.output.shape == (240, 3) and observation.classes == 3
    assert [path for path, _ in observation.linears] == ["0", "2"]
    assert [(a.kind, a.label, a.pre.shape) for a in observation.activations] == [
        ("relu", "1 (ReLU)", (240, 16))]
    assert observation.chance == pytest.approx(np.log(3), rel=0.05)

    probe = run_probe(model, optimizer, loss_fn, STEPS, batch, observation)
    assert isinstance(probe, ProbeResult) and isinstance(probe.run, TrainingRun)
    assert probe.run.good and probe.lr == 0.01 and probe.optimizer_name == "Adam"
    assert probe.lr_question is None and probe.sweep_down is None and probe.sweep_up is None

    assert checks.dead_relu(batch, observation) == []
    assert checks.learning_rate(observation, probe) == []
    lines, numbers = summarize(loss_fn, batch, observation, probe)
    assert lines[0].startswith("data: 240 rows") and numbers["chance_loss"] == observation.chance

    # the results are values: a later stage cannot change what an earlier one found
    for result in (batch, observation, probe):
        with pytest.raises(dataclasses.FrozenInstanceError):
            result.findings = ()


def test_a_check_reads_only_the_stage_results_it_is_given():
    # an Observation written by hand, with one ReLU layer dead for every row and no model
    pre = -np.ones((8, 4))
    pre[:, 0] = 1.0
    observation = Observation(activations=(Activation("relu", "1 (ReLU)", pre, False),))
    batch = Batch((), True, X=np.zeros((8, 2)))
    [finding] = checks.dead_relu(batch, observation)
    assert finding.name == "dead_relu" and "3 of 4 units" in finding.evidence
    assert checks.bottleneck(observation) == [] and checks.symmetric_init(observation) == []


def test_a_later_stage_is_skipped_when_the_one_before_cannot_be_used():
    X, y = blobs()
    X = X.copy()
    X[0, 0] = np.nan
    batch = prepare_batch(X, y, nn.CrossEntropyLoss())
    assert not batch.usable and [f.name for f in batch.findings] == ["bad_data"]
    batch = prepare_batch(X[:, :1] * 0 + 1, y, nn.CrossEntropyLoss())      # 1 feature, not 2
    observation = observe_model(mlp([2, 16, 3]), nn.CrossEntropyLoss(), batch)
    assert not observation.usable and observation.output is None
    assert "cannot take this X" in observation.findings[0].evidence


def test_activations_are_found_by_op_class_in_the_public_graph_walk():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(2, 8)
            self.fc2 = nn.Linear(8, 8)
            self.out = nn.Linear(8, 1)

        def forward(self, x):
            return self.out(self.fc2(self.fc1(x).tanh()).relu()).sigmoid()

    X, y = blobs(classes=2)
    tg.manual_seed(0)
    batch = prepare_batch(X, y.reshape(-1, 1).astype(np.float32), nn.BCELoss())
    observation = observe_model(Net(), nn.BCELoss(), batch)
    assert [(a.kind, a.label, a.is_output) for a in observation.activations] == [
        ("tanh", "tanh after fc1 (Linear 2→8)", False),
        ("relu", "relu after fc2 (Linear 8→8)", False),
        ("sigmoid", "sigmoid after out (Linear 8→1)", True)]
    assert observation.output_activation == "sigmoid"


PACKAGE = pathlib.Path(nn.__file__).resolve().parent / "diagnose"
# each module may import only those listed before it
STAGE_ORDER = ["thresholds", "report", "data", "observe", "probe", "checks", "summary",
               "__init__"]


def test_diagnose_package_imports_run_one_way_and_none_is_delayed():
    assert sorted(p.stem for p in PACKAGE.glob("*.py")) == sorted(STAGE_ORDER)
    for rank, stem in enumerate(STAGE_ORDER):
        tree = ast.parse((PACKAGE / f"{stem}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                assert not any(isinstance(inner, (ast.Import, ast.ImportFrom))
                               for inner in ast.walk(node)), f"{stem}.{node.name}"
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                names = [node.module] if node.module else [a.name for a in node.names]
                for name in names:
                    assert STAGE_ORDER.index(name) < rank, f"{stem} imports {name}"


def test_names_of_the_former_single_file_module_are_still_importable():
    module = sys.modules["nn.diagnose"]
    assert nn.diagnose is module.diagnose and tg_nn.diagnose is nn.diagnose
    for name in ("Finding", "DiagnosisReport", "PROBE_ROWS", "SATURATION_Z", "EXPLODING_RATIO",
                 "LR_SWEEP_FACTORS", "DECAY_SHARE", "SUM_LOSS_RATIO"):
        assert hasattr(module, name), name
    assert module.Finding is sys.modules["nn.diagnose.report"].Finding
