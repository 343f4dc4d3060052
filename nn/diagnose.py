"""``nn.diagnose``: why doesn't my network learn? The usual dozen checks, answered with evidence.

    report = nn.diagnose(model, loss_fn, X, y, optimizer=opt, steps=50)
    print(report)                         # findings with evidence and fixes, or "no problem found"
    [f.name for f in report.findings]     # stable identifiers, e.g. ["lr_too_high"]

It works in four stages, each on the data or on copies of the model:

1. the batch: NaN/inf, labels out of range, shapes that would broadcast, feature scales;
2. the model against the loss and the targets: output activations, biases, layer widths, init;
3. one forward and backward pass on a copy: dead ReLUs, saturated sigmoid/tanh units, gradients;
4. a short training probe on a copy (``steps`` full-batch steps with a copy of the optimizer),
   plus, only when that probe looks wrong, a sweep of learning rates on further copies.

The probe is judged against chance level, the loss of the best constant guess (and, for
classes, the accuracy of always guessing the most frequent one); when the batch has more rows
than the probe trains on, also on up to 512 of the others, to tell learning from memorising.
A loss that sums over rows is scaled to the whole batch, so the probe takes the user's step.
When the probe learns, its learning rate is not questioned; when the sweep shows larger steps
train (or stay steady), advice to lower the learning rate is dropped.

The user's model (weights, gradients, train/eval mode), the optimizer (settings and state) and
the engine's random stream are left exactly as they were: the probe trains ``copy.deepcopy``-ed
objects, and the random state is put back afterwards (Dropout draws from it).

Each check is one function ``_check_<name>(setup)`` returning a list of findings; its thresholds
are the named constants just below, each with the reason for its value. Finding names:

========================  ===================================================================
``bad_data``              NaN/inf in X or y, labels out of range, silently broadcasting shapes
``unnormalized_inputs``   feature scales far from 1, or mostly constant features
``loss_output_mismatch``  softmax/sigmoid before CrossEntropyLoss, MSE on one-hot classes, ...
``bounded_output``        a sigmoid/tanh output while the targets lie outside its range
``missing_bias``          no bias anywhere, off-centre data, targets that need an offset
``symmetric_init``        identical hidden units (all-zero or all-equal weights)
``bottleneck``            a hidden layer narrower than the number of classes
``saturated_units``       most sigmoid/tanh pre-activations beyond +-5
``dead_relu``             ReLU units that output 0 for the whole batch
``exploding_gradients``   gradients huge next to the weights, or growing without bound
``lr_too_high``           the probe's loss diverges or oscillates; a smaller lr trains
``lr_too_low``            the probe does not move, or stays at chance level; a larger lr trains
``over_regularized``      weight decay undoes most of what the gradient learns
``collapsed_predictions`` no better than a constant guess: the same prediction for every
                          input, loss (or accuracy) at chance level, or below it only on
                          the rows the probe trained on
========================  ===================================================================
"""

import copy
import math
import textwrap

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Tensor, ops

from . import functional as F
from .activations import LogSoftmax, Sigmoid, Softmax, Tanh
from .layers import Linear
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module
from .optim import Adam

# ----- thresholds ----------------------------------------------------------------------------

# the probe trains on at most this many rows: enough for per-unit statistics, and fast
PROBE_ROWS = 512
# without an optimizer, the probe uses Adam at its usual default, which trains most small nets;
# when that does not beat chance level within the probe's few steps, also 10 times as much
DEFAULT_PROBE_LRS = (1e-3, 1e-2)

# default init is scaled for inputs of size ~1; five times that already gives pre-activations
# five times too large (saturated sigmoids, a first layer whose gradient dwarfs the others')
SCALE_TOO_LARGE = 5.0
# every feature 100 times smaller than 1: the first layer's weights barely get a gradient
SCALE_TOO_SMALL = 0.01
# a few constant features are harmless (a weight on a constant acts as a bias); when most are
# constant, the preprocessing has usually thrown the data away
CONSTANT_SHARE = 0.5

# "off-centre": the data's mean is farther from the origin than the data is spread around it
OFFCENTRE_RATIO = 1.0
# "needs an offset": a least-squares fit of the targets explains 10% more with an intercept
OFFSET_GAIN = 0.1

# sigmoid'(5) = 0.0066 and tanh'(5) = 0.00018: beyond +-5 a unit passes almost no gradient
SATURATION_Z = 5.0
# "most" pre-activations of a layer, as the SPEC says
SATURATED_SHARE = 0.5
# some dead ReLUs are normal; half a layer dead means half its capacity is gone for good
DEAD_SHARE = 0.5

# gradient norm / weight norm of a layer is 0.01-1 at a healthy start; 100 times its weights
# means one step even at lr 0.01 replaces the weights entirely, so training cannot settle
EXPLODING_RATIO = 100.0
# during the probe, gradients 1000x larger than at the start are growing, not fluctuating
GRADIENT_GROWTH = 1e3

# the probe's loss above twice its starting value is not noise: the steps overshoot
BLOWUP_FACTOR = 2.0
# far above the start the probe has clearly diverged; stop it early to save time
DIVERGED_FACTOR = 100.0
# the loss rising on a third of the steps is oscillation, not the odd bump of momentum
OSCILLATION_SHARE = 0.3
# the loss falls by 10% within the probe, to below chance level: training works at that lr
GOOD_PROGRESS = 0.1
# the loss moves by less than 2% within the probe: nothing is happening
STALL_PROGRESS = 0.02
# the learning rates tried by the sweep, as multiples (or fractions) of the user's
LR_SWEEP_FACTORS = (10.0, 100.0, 1e3, 1e4, 1e5, 1e6)   # stops early once past a good lr

# 95% of the inputs get the same prediction: the model ignores its input
COLLAPSED_SHARE = 0.95
# predictions varying by under 5% of the targets' spread count as "the same" for regression
REGRESSION_SPREAD = 0.05
# within 10% of the best constant prediction's loss is "at chance level"
CHANCE_MARGIN = 0.9
# a classifier beats chance by accuracy when it closes half the gap between always guessing
# the most frequent class and being always right ...
ACCURACY_GAIN = 0.5
# ... by more than two standard errors of that guess: on 4 rows (XOR) no accuracy is evidence
ACCURACY_NOISE = 2.0
# "the model learns": its loss is at most half the chance level, or its accuracy closes 90% of
# that gap; a probe that learns has a working learning rate, whatever its curve looked like
LEARNED_LOSS_SHARE = 0.5
LEARNED_ACCURACY_GAIN = 0.9
# rows the probe did not train on must gain at least a quarter of what its own rows gained
# below chance level; less is memorising the rows, not learning how y depends on X
GENERALISE_SHARE = 0.25
# a loss whose value on half the rows is below 2/3 of its value on all of them sums over rows
# (a mean stays about the same; a sum halves)
SUM_LOSS_RATIO = 1.5

# weight decay is "dominating" when it undoes more than half the progress made without it
DECAY_SHARE = 0.5

_LOSSES = ((CrossEntropyLoss, F.cross_entropy, "cross_entropy"), (NLLLoss, F.nll_loss, "nll"),
           (MSELoss, F.mse_loss, "mse"), (BCELoss, F.binary_cross_entropy, "bce"),
           (BCEWithLogitsLoss, F.binary_cross_entropy_with_logits, "bce_logits"))
_CLASS_LOSSES = ("cross_entropy", "nll")
_RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}
# primitive op -> activation, for finding activations in the recorded graph
_ACTIVATION_OPS = ((ops.Relu, "relu"), (ops.Sigmoid, "sigmoid"), (ops.Tanh, "tanh"))


# ----- the report ------------------------------------------------------------------------------

class Finding:
    """One problem: ``name`` (a stable identifier), ``evidence``, ``why``, ``fix``, ``numbers``.

    ``evidence`` is a sentence with the measured numbers, ``why`` says how the problem stops
    learning, ``fix`` what to change; ``numbers`` holds the key measurements for code.
    """

    def __init__(self, name, evidence, why, fix, **numbers):
        self.name = name
        self.evidence = evidence
        self.why = why
        self.fix = fix
        self.numbers = numbers

    def __str__(self):
        return "\n".join([self.name, _wrap("evidence: " + self.evidence),
                          _wrap("why: " + self.why), _wrap("fix: " + self.fix)])

    def __repr__(self):
        return f"<Finding {self.name}: {self.evidence}>"


class DiagnosisReport:
    """What ``nn.diagnose`` found: ``findings`` (a list), ``ok``, ``numbers``; print it to read.

    ``numbers`` holds the key measurements (losses, chance level, accuracies, ...), also given
    when nothing is wrong, so a clean report still says what was measured.
    """

    def __init__(self, findings, summary, numbers):
        self.findings = findings
        self.summary = summary
        self.numbers = numbers

    @property
    def ok(self):
        """True when no problem was found."""
        return not self.findings

    @property
    def names(self):
        """The findings' names, in report order."""
        return [f.name for f in self.findings]

    def __str__(self):
        if self.ok:
            lines = ["nn.diagnose: no problem found"]
        else:
            count = len(self.findings)
            lines = [f"nn.diagnose: {count} problem{'s' if count > 1 else ''} found: "
                     + ", ".join(self.names)]
        lines += [_wrap("  " + line, indent="  ") for line in self.summary]
        for i, finding in enumerate(self.findings, 1):
            lines += ["", f"{i}. " + str(finding).replace("\n", "\n   ")]
        return "\n".join(lines)

    __repr__ = __str__


def _wrap(text, indent="   "):
    """Wrap a line at 96 characters; continuation lines get an extra two spaces."""
    return textwrap.fill(text, width=96, subsequent_indent=indent + "  ",
                         break_long_words=False, break_on_hyphens=False)


# ----- the entry point ----------------------------------------------------------------------------

def diagnose(model, loss_fn, X, y, *, optimizer=None, steps=50):
    """Check a model, a loss and a batch for the usual reasons a network does not learn.

    ``X`` and ``y`` are one batch (numpy arrays or Tensors; at most 512 rows are used for the
    model checks and the probe, all of them for the data checks). ``optimizer`` is the one you
    train with: the probe trains a copy of the model with a copy of it for ``steps`` full-batch
    steps, and judges its learning rate (without it, the probe uses Adam(lr=1e-3), or 1e-2 if
    that does not beat chance level, and the learning rate is not judged). With a loss that
    sums over rows (``reduction='sum'``) the probe's gradient is scaled to your whole batch, so
    learning rates are judged, and suggested, in your own terms. Returns a
    ``DiagnosisReport``; nothing you passed is changed.

    A report never says "no problem found" when the probe ends no better than chance level
    (the loss of the best constant guess; for classes, also the accuracy of always guessing
    the most frequent one), or beats it only on the rows it trained on.

    Problems in the data are reported as ``bad_data`` findings, not raised. Only arguments
    that are not a model, a loss or a step count raise (TypeError / ValueError).
    """
    if not isinstance(model, Module):
        raise TypeError(f"diagnose: model must be an nn.Module, got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"diagnose: loss_fn must be callable (e.g. nn.CrossEntropyLoss()), got "
                        f"{type(loss_fn).__name__}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 2:
        raise ValueError(f"diagnose: steps must be an int of at least 2, got {steps!r}")
    with _random_state_kept(), np.errstate(all="ignore"):
        setup = _Setup(model, loss_fn, optimizer, int(steps))
        findings = _prepare_data(setup, X, y)
        if setup.usable:
            findings += _inspect(setup)
        for check in (_check_unnormalized_inputs, _check_loss_output_mismatch,
                      _check_bounded_output, _check_missing_bias, _check_symmetric_init,
                      _check_bottleneck, _check_saturated_units, _check_dead_relu):
            findings += check(setup)
        if setup.usable:
            setup.probe = _first_probe(setup)
            findings += _check_exploding_gradients(setup)
            decay = _check_over_regularized(setup)
            _merge(findings, decay or _check_learning_rate(setup))
            _settle_lr_advice(setup, findings)
            # never "no problem found" for a probe that does not beat chance level; but that is
            # the symptom users see: when a cause was found it is only told in the summary, as
            # a finding of its own it would just repeat that cause
            if not [f for f in findings if f.name != "bottleneck"]:
                findings += _check_collapsed_predictions(setup)
        return DiagnosisReport(findings, _summary(setup), setup.numbers)


def _merge(findings, new):
    """Add ``new`` findings; one whose name is already there adds its evidence to the first."""
    for finding in new:
        same = next((f for f in findings if f.name == finding.name), None)
        if same is None:
            findings.append(finding)
        else:
            same.evidence += "; " + finding.evidence
            same.numbers.update(finding.numbers)


class _random_state_kept:
    """Put the engine's random generator back as it was (the probe's Dropout draws from it)."""

    def __enter__(self):
        self.state = tg.get_rng_state()
        return self

    def __exit__(self, *exc):
        tg.set_rng_state(self.state)
        return False


class _Setup:
    """Everything the checks look at; filled in stage by stage."""

    def __init__(self, model, loss_fn, optimizer, steps):
        self.model, self.loss_fn, self.optimizer, self.steps = model, loss_fn, optimizer, steps
        self.kind = next((kind for cls, fn, kind in _LOSSES
                          if isinstance(loss_fn, cls) or loss_fn is fn), None)
        self.usable = True          # False once the data cannot go through model and loss
        self.inspected = False
        self.rows_total = 0
        self.X_all = self.X = self.y = None
        self.X_held = self.y_held = None   # rows the probe does not train on, if there are any
        self.classes = None         # number of mutually exclusive classes, if any
        self.labels = None          # integer class per row, if any
        self.one_hot = False        # targets given as one-hot rows
        self.output = None          # the model's output on the batch, at the start
        self.output_activation = None
        self.loss = None
        self.chance = None          # the loss of the best constant prediction
        self.held_chance = None     # the same constant's loss on the held-out rows
        self.sums_rows = False      # the loss sums over rows (reduction='sum')
        self.loss_scale = 1.0       # rows_total / rows for such a loss: see _inspect
        self.linears = []           # (path, Linear) in call order
        self.activations = []       # _Activation, input side first
        self.layer_grads = []       # (path, |gradient|, |weight|) per Linear, at the start
        self.grad_norm = self.weight_norm = 0.0
        self.probe = None
        self.sweep_up = None        # the probes at larger learning rates, if they were tried
        self.numbers = {}


def _to_array(data):
    return data.numpy() if isinstance(data, Tensor) else np.asarray(data)


def _bad_data(evidence, fix, **numbers):
    why = ("Training on this batch either fails outright or silently optimises something "
           "other than what you meant.")
    return Finding("bad_data", evidence, why, fix, **numbers)


# ----- stage 1: the batch ------------------------------------------------------------------------

def _prepare_data(s, X, y):
    """Check X and y as arrays (dtype, rows, NaN/inf) and pick the rows the probe trains on."""
    X, y = _to_array(X), _to_array(y)
    for name, array in (("X", X), ("y", y)):
        if array.dtype.kind not in "biuf":
            s.usable = False
            return [_bad_data(f"{name} holds {array.dtype} values, not numbers",
                              f"convert {name} to a numeric array, e.g. np.asarray({name}, "
                              "dtype=np.float32)")]
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y) or len(X) == 0:
        s.usable = False
        return [_bad_data(f"X has shape {X.shape} but y has shape {y.shape}: they need the same "
                          "number of rows (one target per sample)",
                          "check that X and y come from the same samples, in the same order")]
    findings = []
    for name, array in (("X", X), ("y", y)):
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            s.usable = False
            rows = int((~np.isfinite(array.reshape(len(array), -1))).any(axis=1).sum())
            findings.append(_bad_data(
                f"{name} contains {int(np.isnan(array).sum())} NaN and "
                f"{int(np.isinf(array).sum())} inf values, in {rows} of {len(array)} rows",
                f"find where they come from (a division by a zero std, a log of 0, missing "
                f"values read as NaN) and remove or impute those rows: "
                f"mask = np.isfinite({name}).all(axis=1)", nonfinite_rows=rows))
    if X.dtype.kind != "f":
        findings.append(_bad_data(
            f"X holds integers ({X.dtype}); Linear layers need floating-point input and raise "
            "on integers (the rest of this diagnosis uses X as float32)",
            "convert once when loading: X = X.astype(np.float32)"))
        X = X.astype(np.float32)
    if s.kind in _CLASS_LOSSES and y.dtype.kind == "f" and y.ndim == 1:
        if np.all(np.mod(y[np.isfinite(y)], 1) == 0):
            findings.append(_bad_data(
                f"the class labels in y are floats ({y.dtype}); {type(s.loss_fn).__name__} "
                "needs integer labels and raises on floats (the rest of this diagnosis uses "
                "them as integers)", "y = y.astype(np.int64)"))
            y = y.astype(np.int64)
    s.rows_total = len(X)
    s.X_all = X
    rows = np.arange(len(X))
    if len(X) > PROBE_ROWS:
        # a fixed, evenly spread sample: datasets are often sorted by class; up to as many
        # of the other rows are held out, to tell learning from memorising the probe's rows
        rows = np.sort(np.random.default_rng(0).choice(len(X), PROBE_ROWS, replace=False))
        held = np.setdiff1d(np.arange(len(X)), rows)
        if len(held) > PROBE_ROWS:
            held = np.sort(np.random.default_rng(1).choice(held, PROBE_ROWS, replace=False))
        s.X_held, s.y_held = X[held], y[held]
    s.X, s.y = X[rows].copy(), y[rows].copy()
    return findings


# ----- stage 2: one pass on a copy ------------------------------------------------------------

class _Call:
    """One recorded module call: where it sits in the model, the module, its output Tensor."""

    def __init__(self, path, module, output):
        self.path, self.module, self.output = path, module, output


class _Activation:
    """A relu/sigmoid/tanh found in the graph: its kind, a label, its input (pre-activation)."""

    def __init__(self, kind, label, pre, is_output):
        self.kind, self.label, self.pre, self.is_output = kind, label, pre, is_output


def _copy_for_probe(model, optimizer):
    """Deep copies of the model and the optimizer, made together so that the copied optimizer
    holds the copied parameters (one memo maps each parameter to its copy); no gradients,
    training mode."""
    model_copy, optimizer_copy = copy.deepcopy((model, optimizer))
    for param in model_copy.parameters():
        param.grad = None
    model_copy.train()
    return model_copy, optimizer_copy


def _record_calls(model):
    """Make every leaf module of ``model`` (a copy!) log its calls, in order, into a list."""
    calls = []
    for path, module in model.named_modules():
        if next(module.children(), None) is not None:
            continue

        def forward(*args, _path=path, _module=module, _forward=module.forward, **kwargs):
            output = _forward(*args, **kwargs)
            calls.append(_Call(_path, _module, output))
            return output

        module.forward = forward      # an instance attribute shadows the class's forward
    return calls


def _scalar(loss):
    """The loss as one number (a loss with reduction='none' is averaged)."""
    return loss if loss.numel() == 1 else loss.mean()


def _inspect(s):
    """Run the batch through a copy once, forward and backward, and keep what the checks need."""
    model, _ = _copy_for_probe(s.model, None)
    calls = _record_calls(model)
    try:
        output = model(Tensor(s.X))
    except (ValueError, TypeError, IndexError) as error:
        s.usable = False
        return [_bad_data(f"the model cannot take this X (shape {s.X.shape}): {error}",
                          "give X the shape the first layer expects: (rows, in_features)")]
    s.output = output.numpy().copy()
    s.output_activation = _output_activation(output, calls)
    s.linears = _unique((c.path, c.module) for c in calls if isinstance(c.module, Linear))
    s.activations = _find_activations(output, calls)
    findings = _check_targets(s)
    if not s.usable:
        return findings
    try:
        loss = _scalar(s.loss_fn(output, Tensor(s.y)))
    except (ValueError, TypeError, IndexError) as error:
        s.usable = False
        return findings + [_bad_data(f"the loss cannot be computed on this batch: {error}",
                                     "make predictions and targets fit as the message says")]
    s.loss = loss.item()
    s.inspected = True
    constant = _constant_prediction(s)
    s.chance = _loss_of_constant(s, constant, s.y)
    if s.X_held is not None:
        s.held_chance = _loss_of_constant(s, constant, s.y_held)
    s.sums_rows = _sums_over_rows(s)
    # a summed loss's gradient grows with the rows it adds up: the probe multiplies its loss by
    # rows_total / rows, so that its steps are as large as yours on the whole batch
    s.loss_scale = s.rows_total / len(s.X) if s.sums_rows else 1.0
    if loss.requires_grad and math.isfinite(s.loss):
        loss.backward()
    # per Linear layer: |gradient| / |weight|, which an optimizer step multiplies by the lr;
    # per row for a summed loss, as the thresholds assume a mean (and its lr is smaller by as much)
    per_row = len(s.X) if s.sums_rows else 1
    s.layer_grads = [(path, _norm([m.weight.grad.numpy()]) / per_row
                      if m.weight.grad is not None else 0.0,
                      _norm([m.weight.numpy()])) for path, m in s.linears]
    s.grad_norm = _norm([p.grad.numpy() for p in model.parameters()
                         if p.grad is not None]) / per_row
    s.weight_norm = _norm([p.numpy() for p in model.parameters()])
    return findings


def _sums_over_rows(s):
    """Does the loss add up its rows (reduction='sum') rather than average them?

    Told by the loss's ``reduction`` if it has one, else measured: on every second row a sum
    halves while a mean stays about the same.
    """
    reduction = getattr(s.loss_fn, "reduction", None)
    if isinstance(reduction, str):
        return reduction == "sum"
    if s.kind is not None or len(s.X) < 4:
        return False       # nn.functional's losses take the mean unless told otherwise
    try:
        with tg.no_grad():
            whole = _scalar(s.loss_fn(Tensor(s.output), Tensor(s.y))).item()
            half = _scalar(s.loss_fn(Tensor(s.output[::2]), Tensor(s.y[::2]))).item()
    except (ValueError, TypeError, IndexError):
        return False
    return whole > 0 and half > 0 and whole / half > SUM_LOSS_RATIO


def _unique(pairs):
    """(path, module) pairs in order, each module once (a module may be called twice)."""
    seen, result = set(), []
    for path, module in pairs:
        if id(module) not in seen:
            seen.add(id(module))
            result.append((path, module))
    return result


def _norm(arrays):
    return math.sqrt(sum(float(np.sum(np.square(a, dtype=np.float64))) for a in arrays))


def _output_activation(output, calls):
    """'sigmoid', 'tanh', 'softmax' or 'log_softmax' if the model ends with one, else None."""
    op = output.grad_fn
    last = calls[-1].module if calls and calls[-1].output is output else None
    if isinstance(op, ops.Sigmoid) or isinstance(last, Sigmoid):
        return "sigmoid"
    if isinstance(op, ops.Tanh) or isinstance(last, Tanh):
        return "tanh"
    values = output.numpy().astype(np.float64)
    if values.ndim != 2 or values.shape[1] < 2:
        return None
    # recognised by value too, so a softmax written inside forward() is found as well
    if isinstance(last, Softmax) or ((values >= 0).all()
                                     and np.allclose(values.sum(axis=1), 1, atol=1e-3)):
        return "softmax"
    logsumexp = np.log(np.exp(values - values.max(axis=1, keepdims=True)).sum(axis=1))
    logsumexp += values.max(axis=1)
    if isinstance(last, LogSoftmax) or np.allclose(logsumexp, 0, atol=1e-3):
        return "log_softmax"
    return None


def _find_activations(output, calls):
    """Every relu/sigmoid/tanh op behind ``output``, with its input array, input side first.

    Found in the recorded graph (``grad_fn`` and each op's ``inputs``) rather than among the
    modules, so ``x.relu()`` written inside a custom ``forward`` counts as much as nn.ReLU().
    """
    module_calls = {id(c.output): c for c in calls}
    found, seen, stack = [], set(), [output]
    while stack:
        tensor = stack.pop()
        op = tensor.grad_fn
        if op is None or id(op) in seen:
            continue
        seen.add(id(op))
        inputs = getattr(op, "inputs", ())
        kind = next((kind for cls, kind in _ACTIVATION_OPS if isinstance(op, cls)), None)
        if kind is not None and inputs:
            label = _activation_label(kind, tensor, inputs[0], module_calls)
            found.append(_Activation(kind, label, inputs[0].numpy(), tensor is output))
        stack.extend(inputs)
    found.reverse()
    return found


def _activation_label(kind, tensor, pre, module_calls):
    """'1 (ReLU)' for a module, 'relu after fc1 (Linear 64→256)' for a function call."""
    call = module_calls.get(id(tensor))
    if call is not None:
        return f"{call.path or 'model'} ({type(call.module).__name__})"
    source = module_calls.get(id(pre))
    if source is not None:
        return f"{kind} after {_layer_name(source.path, source.module)}"
    return kind


def _layer_name(path, module):
    if isinstance(module, Linear):
        return f"{path or 'model'} (Linear {module.in_features}→{module.out_features})"
    return f"{path or 'model'} ({type(module).__name__})"


def _check_targets(s):
    """bad_data for targets that do not fit the output and the loss; sets classes and labels."""
    out, y = s.output, s.y
    n = len(y)
    if s.kind in _CLASS_LOSSES and out.ndim == 2:
        classes = out.shape[1]
        if s.kind == "cross_entropy" and y.dtype.kind == "f" and y.shape == out.shape:
            s.classes, s.labels = classes, y.argmax(axis=1)      # class probabilities
            return []
        if y.dtype.kind in "iu" and y.shape == (n,):
            bad = (y < 0) | (y >= classes)
            if bad.any():
                s.usable = False
                hint = (" (labels 1..C: subtract 1)" if y.min() == 1 and y.max() == classes
                        else "")
                return [_bad_data(
                    f"{int(bad.sum())} of {n} labels lie outside 0..{classes - 1}: the labels "
                    f"run from {y.min()} to {y.max()} but the model has {classes} outputs, one "
                    f"per class{hint}",
                    "make the last layer's out_features the number of classes, and the labels "
                    "0..C-1", labels_out_of_range=int(bad.sum()))]
            s.classes, s.labels = classes, y.astype(np.int64)
        return []
    same_shape_loss = s.kind in (None, "mse", "bce", "bce_logits")
    if y.dtype.kind == "f" and same_shape_loss and out.shape != y.shape:
        try:
            shape = np.broadcast_shapes(out.shape, y.shape)
        except ValueError:
            return []      # does not broadcast at all: the loss raises and says so
        s.usable = False
        return [_bad_data(
            f"predictions have shape {out.shape} but targets {y.shape}; comparing them "
            f"broadcasts to {shape}, every prediction against every target",
            f"make the shapes equal, e.g. y = y.reshape({out.shape})", broadcast_shape=shape)]
    if s.kind in ("bce", "bce_logits") and ((y < 0) | (y > 1)).any():
        s.usable = False
        return [_bad_data(f"{type(s.loss_fn).__name__} targets must lie in [0, 1]; they run "
                          f"from {y.min():.3g} to {y.max():.3g}",
                          "use 0/1 labels (or probabilities) as targets")]
    if s.kind == "bce" and out.size and ((out < 0) | (out > 1)).any():
        s.usable = False      # BCELoss refuses these; _check_loss_output_mismatch explains
        return []
    if s.kind in ("mse", "bce", "bce_logits") and _is_one_hot(y):
        s.one_hot, s.classes, s.labels = True, y.shape[1], y.argmax(axis=1)
    return []


def _is_one_hot(y):
    return (y.ndim == 2 and y.shape[1] >= 2 and np.isin(y, (0, 1)).all()
            and (y.sum(axis=1) == 1).all())


def _constant_prediction(s):
    """The best constant prediction for the probe's rows (one output row), or None: the class
    frequencies (as the loss wants them), or the targets' mean."""
    y = s.y
    if s.labels is not None and s.output.ndim == 2:
        prior = np.bincount(s.labels, minlength=s.output.shape[1])[:s.output.shape[1]]
        prior = prior / prior.sum()
        if s.kind in _CLASS_LOSSES:
            constant = np.log(np.maximum(prior, 1e-12))    # logits and log-probabilities alike
        elif s.kind == "bce_logits":
            constant = _logit(prior)
        else:
            constant = prior
    elif y.dtype.kind == "f" and y.shape == s.output.shape and y.ndim >= 1:
        mean = y.mean(axis=0)
        constant = _logit(mean) if s.kind == "bce_logits" else mean
    else:
        return None
    return constant


def _loss_of_constant(s, constant, y):
    """The loss of predicting ``constant`` for every row of targets ``y``: the chance level."""
    if constant is None:
        return None
    shape = (len(y),) + s.output.shape[1:]
    prediction = np.broadcast_to(constant, shape).astype(s.output.dtype)
    try:
        with tg.no_grad():
            return _scalar(s.loss_fn(Tensor(prediction), Tensor(y))).item()
    except (ValueError, TypeError, IndexError):
        return None


def _logit(p):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


# ----- stage 2 checks: data, model and loss ----------------------------------------------------

def _check_unnormalized_inputs(s):
    if s.X_all is None or not np.isfinite(s.X_all).all():
        return []
    X = s.X_all.reshape(len(s.X_all), -1).astype(np.float64)
    scale = np.sqrt(np.mean(X ** 2, axis=0))      # root mean square: spread and offset together
    constant = np.ptp(X, axis=0) == 0
    problems = []
    too_large = scale > SCALE_TOO_LARGE
    if too_large.any():
        problems.append(f"{int(too_large.sum())} of {X.shape[1]} features have a scale (root "
                        f"mean square) above {SCALE_TOO_LARGE:g}, the largest "
                        f"{scale.max():.3g}; values run from {X.min():.3g} to {X.max():.3g}")
    elif scale.max() < SCALE_TOO_SMALL:
        problems.append(f"every feature is tiny: the largest scale (root mean square) is "
                        f"{scale.max():.2g}")
    if len(X) > 1 and constant.mean() > CONSTANT_SHARE:
        problems.append(f"{int(constant.sum())} of {X.shape[1]} features are constant")
    elif problems and constant.any():
        problems.append(f"{int(constant.sum())} features are constant")
    if not problems:
        return []
    return [Finding(
        "unnormalized_inputs", "; ".join(problems),
        "Default initialisation assumes inputs of size about 1: bigger inputs give huge "
        "pre-activations (saturated units) and a first layer whose gradients dwarf the others', "
        "so no learning rate suits all layers; constant features carry no information.",
        "standardise each feature with statistics of the training set, X = (X - mean) / std "
        "(or divide pixels by their maximum: X / 16, X / 255); drop constant features",
        largest_scale=float(scale.max()), constant_features=int(constant.sum()))]


def _check_loss_output_mismatch(s):
    if s.output is None:
        return []
    act, kind, loss_name = s.output_activation, s.kind, type(s.loss_fn).__name__
    squashed = ("Squashing twice leaves outputs in a narrow range whose gradient is small and "
                "flat, so the loss stalls long before the predictions are right.")
    if kind == "cross_entropy" and s.y.dtype.kind != "f" and act in ("softmax", "sigmoid"):
        evidence = (f"the model ends with a {act} (outputs in [0, 1]) and feeds "
                    "CrossEntropyLoss, which applies log_softmax itself")
        fix = (f"remove the final {act.capitalize()}: CrossEntropyLoss takes raw scores "
               "(logits); apply softmax only to read probabilities")
        why = squashed
    elif kind == "bce_logits" and act == "sigmoid":
        evidence = ("the model ends with a sigmoid and feeds BCEWithLogitsLoss, which applies "
                    "a sigmoid itself")
        fix = "remove the final Sigmoid (or keep it and use BCELoss)"
        why = squashed
    elif kind == "nll" and act != "log_softmax":
        evidence = ("NLLLoss is given outputs that are not log-probabilities (the log-sum-exp "
                    "of each row is not 0)")
        fix = "end the model with nn.LogSoftmax(dim=1), or use CrossEntropyLoss on raw scores"
        why = ("NLLLoss only picks out the true class's output and negates it, so on raw scores "
               "it rewards making that one number huge and never reaches a minimum.")
    elif kind == "bce" and ((s.output < 0) | (s.output > 1)).any():
        evidence = (f"BCELoss needs probabilities, but the outputs run from "
                    f"{s.output.min():.3g} to {s.output.max():.3g}")
        fix = "use BCEWithLogitsLoss on the raw scores (or end the model with nn.Sigmoid())"
        why = "BCELoss takes the log of its input: outside [0, 1] it is undefined and raises."
    elif kind == "mse" and s.one_hot:
        evidence = f"MSELoss is given one-hot class targets ({s.classes} classes, one 1 per row)"
        fix = ("for mutually exclusive classes use CrossEntropyLoss with integer labels "
               "(y.argmax(axis=1)) and raw scores")
        why = ("Squared error treats class scores as numbers to hit exactly: its gradient "
               "shrinks as a confidently wrong score approaches its target, where cross-entropy's "
               "stays large, so learning slows to a crawl.")
    elif kind in ("bce", "bce_logits") and s.one_hot:
        evidence = (f"{loss_name} scores each of {s.classes} outputs as a separate yes/no, but "
                    "every target row has exactly one 1: the classes exclude each other")
        fix = ("use CrossEntropyLoss with integer labels (y.argmax(axis=1)) and raw scores, "
               "so the classes compete through one softmax")
        why = ("Independent yes/no outputs do not know that exactly one class is true: they "
               "learn mostly to say 'no' to everything, which is right (C-1)/C of the time.")
    else:
        return []
    return [Finding("loss_output_mismatch", evidence, why, fix)]


def _check_bounded_output(s):
    bounds = _RANGES.get(s.output_activation)
    if bounds is None or s.kind in _CLASS_LOSSES or s.y.dtype.kind != "f" or s.kind == "bce":
        return []
    low, high = bounds
    outside = (s.y < low - 1e-6) | (s.y > high + 1e-6)
    if not outside.any():
        return []
    return [Finding(
        "bounded_output",
        f"the output is a {s.output_activation} (range {low:g} to {high:g}) but "
        f"{outside.mean():.0%} of the targets lie outside it: they run from {s.y.min():.3g} "
        f"to {s.y.max():.3g}",
        f"The model cannot output those values: chasing them drives the {s.output_activation} "
        "into saturation, where its gradient vanishes.",
        f"remove the final {s.output_activation.capitalize()} (a Linear output can take any "
        f"value), or rescale the targets into ({low:g}, {high:g}) and undo that on the "
        "predictions", share_outside=float(outside.mean()))]


def _check_missing_bias(s):
    if not s.inspected:
        return []
    bias_free = [path for path, module in s.model.named_modules()
                 if isinstance(module, Linear) and module.bias is None]
    # any parameter called ...bias (BatchNorm1d's too) lets the network shift its boundaries
    has_offset = any(name.split(".")[-1] == "bias" for name, _ in s.model.named_parameters())
    if not bias_free or has_offset:
        return []
    X = s.X.reshape(len(s.X), -1).astype(np.float64)
    centre = float(np.linalg.norm(X.mean(axis=0)))
    spread = float(np.sqrt(X.var(axis=0).sum()))
    if centre <= OFFCENTRE_RATIO * spread:
        return []
    gain = _offset_gain(X, _fit_targets(s))
    if gain < OFFSET_GAIN:
        return []
    names = ", ".join(path or "model" for path in bias_free)
    return [Finding(
        "missing_bias",
        f"no layer has a bias (Linear {names}); the data's centre lies {centre:.3g} from the "
        f"origin, {centre / max(spread, 1e-12):.2g} times its spread, and a linear fit of the "
        f"targets explains {gain:.0%} more of them with an offset than without",
        "Without biases every boundary passes through the origin (a ReLU network without "
        "biases gives f(2x) = 2 f(x)), so classes that differ by an offset, such as distance "
        "from the origin, cannot be told apart.",
        "keep the default bias=True in Linear layers (or centre the data: X - X.mean(axis=0))",
        offset_gain=gain, centre_over_spread=centre / max(spread, 1e-12))]


def _fit_targets(s):
    """What the last layer must produce, as a matrix: one-hot minus 1/C for classes (softmax
    ignores a shift shared by all classes), targets minus 0.5 for 0/1 labels, else the targets."""
    if s.labels is not None and s.classes:
        return np.eye(s.classes)[s.labels] - 1.0 / s.classes
    y = s.y.reshape(len(s.y), -1).astype(np.float64)
    return y - 0.5 if s.kind in ("bce", "bce_logits") else y


def _offset_gain(X, targets):
    """The share of the targets' energy that a least-squares fit gains by adding an intercept."""
    with_intercept = np.hstack([X, np.ones((len(X), 1))])

    def residual(A):
        coefficients = np.linalg.lstsq(A, targets, rcond=None)[0]
        return float(np.sum((A @ coefficients - targets) ** 2))

    total = float(np.sum(targets ** 2))
    return (residual(X) - residual(with_intercept)) / total if total > 0 else 0.0


def _hidden_linears(s):
    """Every Linear layer but the last one called (the output layer may start at zero)."""
    return s.linears[:-1]


def _check_symmetric_init(s):
    problems, layers = [], []
    for path, module in _hidden_linears(s):
        units = module.weight.numpy().reshape(module.out_features, -1)
        if module.bias is not None:
            units = np.hstack([units, module.bias.numpy().reshape(-1, 1)])
        distinct = len(np.unique(units, axis=0))
        if module.out_features < 2 or distinct == module.out_features:
            continue
        layers.append(path)
        name = _layer_name(path, module)
        if distinct == 1:
            value = module.weight.numpy().flat[0]
            problems.append(f"all {module.out_features} units of {name} are identical "
                            f"(every weight is {value:g})")
        else:
            problems.append(f"{name} has only {distinct} distinct units out of "
                            f"{module.out_features}")
    if not problems:
        return []
    return [Finding(
        "symmetric_init", "; ".join(problems),
        "Identical units compute the same output and receive the same gradient, so they stay "
        "identical forever (with all-zero weights no gradient reaches them at all): the layer "
        "works like a single unit.",
        "use random initialisation (Linear's default, or nn.init.kaiming_uniform_ / "
        "xavier_uniform_); only the output layer may start at zero", layers=layers)]


def _check_bottleneck(s):
    if not s.classes or s.classes < 2:
        return []
    narrow = [(path, m) for path, m in _hidden_linears(s) if m.out_features < s.classes]
    if not narrow:
        return []
    names = ", ".join(f"{_layer_name(path, m)}" for path, m in narrow)
    return [Finding(
        "bottleneck",
        f"hidden layer {names} is narrower than the {s.classes} classes",
        "Everything the output layer learns must pass through that layer; with fewer units "
        "than classes, some classes cannot get a direction of their own, and a few dead ReLUs "
        "there lose them completely.",
        f"make every hidden layer at least as wide as the number of classes ({s.classes}); "
        "a few times wider is usual", narrowest=min(m.out_features for _, m in narrow))]


def _check_saturated_units(s):
    hidden = [a for a in s.activations if a.kind in ("sigmoid", "tanh") and not a.is_output]
    shares = [(a.label, float(np.mean(np.abs(a.pre) > SATURATION_Z))) for a in hidden]
    saturated = [(label, share) for label, share in shares if share > SATURATED_SHARE]
    if not saturated:
        return []
    per_layer = ", ".join(f"{label}: {share:.0%}" for label, share in saturated)
    grads = ", ".join(f"{path or 'model'}: {g:.2g}" for path, g, _ in s.layer_grads)
    return [Finding(
        "saturated_units",
        f"share of pre-activations beyond ±{SATURATION_Z:g}: {per_layer}; gradient norm per "
        f"Linear layer, input side first: {grads}",
        "A saturated sigmoid or tanh passes on a gradient of almost 0, and the layers below it "
        "get the product of such factors: their gradients vanish and they stop learning.",
        "normalise the inputs, keep the default initialisation (or xavier_uniform_ for "
        "tanh/sigmoid), or use ReLU in hidden layers", shares=dict(saturated))]


def _check_dead_relu(s):
    dead_layers = []
    for a in (a for a in s.activations if a.kind == "relu"):
        dead = _dead_units(a.pre)
        if dead.mean() >= DEAD_SHARE:
            dead_layers.append((a.label, float(dead.mean()), int(dead.sum()), dead.size))
    if not dead_layers:
        return []
    per_layer = "; ".join(f"{label}: {count} of {size} units ({share:.0%})"
                          for label, share, count, size in dead_layers)
    return [Finding(
        "dead_relu",
        f"ReLU units whose input is negative for all {len(s.X)} rows: {per_layer}",
        "A dead ReLU outputs 0 and passes back a gradient of 0 for every input, so nothing "
        "can revive it: the layer has lost those units for good.",
        _dead_relu_fix(smaller_lr=True),
        shares={label: share for label, share, _, _ in dead_layers})]


def _dead_relu_fix(smaller_lr):
    # too large a step is the usual killer, unless the probe showed that larger steps train
    restart = "start again from a fresh initialisation" + (
        " with a smaller learning rate" if smaller_lr else "")
    return (restart + "; normalise the inputs; or use nn.LeakyReLU, whose units cannot die "
            "completely")


def _dead_units(pre):
    """Per unit: is its input below 0 for every row? (A mask over the units.)

    Units stuck at exactly 0 for every row come from zero weights, which symmetric_init
    reports, so they are not counted here.
    """
    pre = pre.reshape(len(pre), -1)
    return (pre <= 0).all(axis=0) & (pre < 0).any(axis=0)


def _check_exploding_gradients(s):
    """Gradients far larger than the weights at the start, and the probe does not train.

    (Adam scales its steps to the lr whatever the gradient's size, so a large gradient alone
    is no problem when the probe trains; the probe's own growth is judged with the lr.)
    """
    if not s.inspected or s.probe.good:        # good: it trained well, or it learned
        return []
    if not math.isfinite(s.grad_norm) and math.isfinite(s.loss):
        return [_exploding(f"the gradient at the current weights overflows to inf/NaN although "
                           f"the loss is finite ({s.loss:.4g})")]
    ratios = [(path, g / w) for path, g, w in s.layer_grads if w > 0]
    big = [(path, r) for path, r in ratios if r > EXPLODING_RATIO]
    if not big:
        return []
    listed = ", ".join(f"{path or 'model'}: {r:.3g}" for path, r in ratios)
    evidence = (f"gradient norm / weight norm per Linear layer, input side first: {listed} "
                f"(above {EXPLODING_RATIO:g} means one ordinary step would replace the weights)")
    if s.labels is None and s.y.dtype.kind == "f":
        # regression targets far from 1 make the errors, and so every gradient, just as large
        target_scale = float(np.sqrt(np.mean(np.square(s.y, dtype=np.float64))))
        if target_scale > SCALE_TOO_LARGE:
            evidence += (f"; the targets' scale (root mean square) is {target_scale:.3g}: "
                         "standardise them and undo that on the predictions")
    return [_exploding(evidence, largest_ratio=max(r for _, r in big))]


def _exploding(evidence, **numbers):
    return Finding(
        "exploding_gradients", evidence,
        "Steps that large throw the weights far past any minimum, each step making the next "
        "gradient larger still, until the loss overflows to inf or NaN.",
        "scale inputs and regression targets to about 1, keep the default initialisation "
        "(weights of size 1/sqrt(fan_in)), lower the learning rate, or clip the gradient norm; "
        "weights that have already blown up need a fresh initialisation",
        **numbers)


# ----- stage 3: the training probe -------------------------------------------------------------

class _ProbeResult:
    """Losses (one per step, then one after the last step), gradient and weight norms, and the
    verdicts drawn from them: unstable, good, beat_chance, learned, memorised."""

    def __init__(self, lr, losses, grad_norms, weight_norms, output, chance, accuracy=None,
                 held=None, held_chance=None):
        self.lr, self.losses, self.output = lr, losses, output
        self.grad_norms, self.weight_norms = grad_norms, weight_norms
        self.accuracy, self.held = accuracy, held
        finite = [v for v in losses if math.isfinite(v)]
        self.start = losses[0]
        self.diverged = len(finite) < len(losses) or output is None
        tail = losses[-max(1, len(losses) // 5):]          # robust to the last step's noise
        self.end = float(np.median(tail)) if not self.diverged else math.inf
        # the loss of the trained copy (eval mode), as the summary shows it
        self.final = losses[-1] if not self.diverged else math.inf
        self.progress = (self.start - self.end) / abs(self.start) if self.start else 0.0
        self.blew_up = bool(finite) and max(finite) > BLOWUP_FACTOR * abs(self.start)
        rises = np.diff(finite) > 1e-3 * np.abs(finite[:-1]) if len(finite) > 1 else []
        self.oscillating = len(rises) >= 4 and np.mean(rises) >= OSCILLATION_SHARE
        self.unstable = self.diverged or self.blew_up or self.oscillating
        # rising above the start at all is a sign of overshooting, even if it then settles
        self.rose = len(finite) > 1 and max(finite[1:]) > self.start + 1e-3 * abs(self.start)
        # the loss of the best constant prediction is where a model lands that learned nothing
        self.at_chance = chance is not None and self.end >= CHANCE_MARGIN * chance
        below_chance = chance is not None and self.final < CHANCE_MARGIN * chance
        gain = _accuracy_gain(accuracy)
        # below chance on its own rows but not on rows it never saw: memorised, not learned
        self.memorised = (below_chance and held is not None and _gain(held, held_chance)
                          < GENERALISE_SHARE * _gain(self.final, chance))
        self.judged = chance is not None or accuracy is not None
        self.beat_chance = (below_chance or gain >= ACCURACY_GAIN) and not self.memorised
        # learned: far below chance, or nearly always right (on a few rows, such as XOR's 4,
        # that counts together with a loss below chance level, not on its own)
        self.learned = (not self.diverged and not self.memorised
                        and (chance is not None and self.final <= LEARNED_LOSS_SHARE * chance
                             or gain >= LEARNED_ACCURACY_GAIN
                             or below_chance and _accuracy_gain(accuracy, noise=False)
                             >= LEARNED_ACCURACY_GAIN))
        # trained well: steadily and clearly below chance, or it learned, whatever the path
        self.good = self.learned or (not self.unstable and self.progress >= GOOD_PROGRESS
                                     and not self.at_chance and not self.memorised)
        finite_grads = [g for g in grad_norms if math.isfinite(g)]
        self.gradient_growth = (math.inf if len(finite_grads) < len(grad_norms)
                                else max(grad_norms) / grad_norms[0]
                                if grad_norms and grad_norms[0] > 0 else 1.0)
        self.weight_growth = (max(weight_norms) / weight_norms[0]
                              if weight_norms[0] > 0 and all(map(math.isfinite, weight_norms))
                              else math.inf)


def _gain(loss, chance):
    """How far below chance level ``loss`` lies, as a share of chance level (scale-free, so a
    summed loss on fewer rows compares too)."""
    if loss is None or chance is None or chance <= 0 or not math.isfinite(loss):
        return 0.0
    return (chance - loss) / chance


def _accuracy(s, output):
    """(accuracy, rate of always guessing the most frequent class, number of guesses) of the
    class predictions in ``output`` on the probe's rows, or None when y holds no classes."""
    if output is None:
        return None
    if s.labels is not None and output.ndim == 2 and output.shape[1] >= 2:
        predicted, truth = output.argmax(axis=1), s.labels
        majority = np.bincount(truth).max() / len(truth)
    elif (s.kind in ("bce", "bce_logits", "mse") and output.shape == s.y.shape
          and np.isin(s.y, (0, 1)).all()):
        # 0/1 targets: yes/no questions, one per output column, answered at 0.5 (logits at 0)
        predicted, truth = output > (0.0 if s.kind == "bce_logits" else 0.5), s.y > 0.5
        share = truth.mean(axis=0)
        majority = np.maximum(share, 1 - share).mean()
    else:
        return None
    return float((predicted == truth).mean()), float(majority), int(predicted.size)


def _accuracy_gain(accuracy, noise=True):
    """The share of the gap between always guessing the most frequent class and always being
    right that ``accuracy`` closes; 0 when the gain is within the noise of a guess (unless
    ``noise`` is False)."""
    if accuracy is None:
        return 0.0
    rate, majority, count = accuracy
    margin = ACCURACY_NOISE * math.sqrt(majority * (1 - majority) / count) if noise else 0.0
    if majority >= 1 or rate - majority <= margin:
        return 0.0
    return (rate - majority) / (1 - majority)


def _learning_rate(optimizer):
    groups = getattr(optimizer, "param_groups", None)
    return groups[0].get("lr") if groups else None


def _first_probe(s):
    """The probe with your optimizer; without one, with Adam at 1e-3, or at 1e-2 when 1e-3 does
    not beat chance level in the probe's few steps (the learning rate is not judged then)."""
    if s.optimizer is not None:
        return _probe(s)
    for lr in DEFAULT_PROBE_LRS:
        probe = _probe(s, default_lr=lr)
        if probe.beat_chance or probe.unstable or not probe.judged:
            break
    return probe


def _probe(s, lr_factor=1.0, weight_decay=None, default_lr=DEFAULT_PROBE_LRS[0]):
    """Train a fresh copy for ``s.steps`` full-batch steps; the lr scaled by ``lr_factor``."""
    model, optimizer = _copy_for_probe(s.model, s.optimizer)
    if optimizer is None:
        optimizer = Adam(model.parameters(), lr=default_lr)
    for group in getattr(optimizer, "param_groups", []):
        group["lr"] = group["lr"] * lr_factor
        if weight_decay is not None and "weight_decay" in group:
            group["weight_decay"] = weight_decay
    params = [p for p in model.parameters() if p.requires_grad]
    x, y = Tensor(s.X), Tensor(s.y)
    losses, grad_norms, weight_norms, output = [], [], [_norm(p.numpy() for p in params)], None
    held = None
    try:
        for _ in range(s.steps):
            loss = _scalar(s.loss_fn(model(x), y))
            losses.append(loss.item())
            if not math.isfinite(losses[-1]) or losses[-1] > DIVERGED_FACTOR * abs(losses[0]):
                break
            optimizer.zero_grad()
            (loss * s.loss_scale if s.loss_scale != 1 else loss).backward()   # see _inspect
            grad_norms.append(_norm(p.grad.numpy() for p in params if p.grad is not None))
            optimizer.step()
            weight_norms.append(_norm(p.numpy() for p in params))
        else:
            model.eval()       # the predictions as they would be used (Dropout off)
            with tg.no_grad():
                prediction = model(x)
                losses.append(_scalar(s.loss_fn(prediction, y)).item())
            output = prediction.numpy()
            held = _held_out_loss(s, model)
    except (ValueError, TypeError, FloatingPointError, OverflowError):
        # once the weights hold NaN some losses refuse their input (BCELoss checks [0, 1])
        losses.append(math.nan)
    return _ProbeResult(_learning_rate(optimizer), losses, grad_norms, weight_norms, output,
                        s.chance, _accuracy(s, output), held, s.held_chance)


def _held_out_loss(s, model):
    """The trained copy's loss on rows it did not train on, or None (none, or it fails)."""
    if s.X_held is None or s.held_chance is None:
        return None
    try:
        with tg.no_grad():
            loss = _scalar(s.loss_fn(model(Tensor(s.X_held)), Tensor(s.y_held))).item()
    except (ValueError, TypeError, IndexError):
        return None       # e.g. a label out of range among rows the data checks did not see
    return loss if math.isfinite(loss) else None


def _sweep(s, factors):
    """Probe copies at the lr times each factor, stopping once past the range that trains."""
    results = []
    for factor in factors:
        result = _probe(s, lr_factor=factor)
        results.append(result)
        if factor > 1 and result.unstable:
            break                           # larger learning rates only get worse
        if any(r.good for r in results) and not result.good:
            break                           # walked out of the range that trains
    return results


def _trained_well(results):
    """The probes that trained well, each at a learning rate below every one that diverged,
    blew up or oscillated without learning: a learning rate seen to fail is never recommended."""
    failed = min((r.lr for r in results if r.unstable and not r.good), default=math.inf)
    return [r for r in results if r.good and r.lr < failed]


def _sweep_text(s, results):
    """The sweep in words ('... ended at loss 2.306 at lr 0.2, 1.649 at lr 0.02; lr 0.02
    trained well, best 0.02') and the (lowest, highest) learning rate that trained well."""
    good = _trained_well(results)
    tried = ", ".join(f"{_loss_text(r)} at lr {r.lr:.3g}" for r in results)
    low, high = min(r.lr for r in good), max(r.lr for r in good)
    best = max(good, key=lambda r: r.progress)
    span = f"lr {low:.3g} to {high:.3g}" if low != high else f"lr {low:.3g}"
    text = (f"a sweep on copies ({s.steps} steps each) ended at loss {tried}; {span} trained "
            f"well, best {best.lr:.3g}")
    return text, (low, high)


def _loss_text(probe):
    return f"{probe.end:.4g}" if not probe.diverged else "inf/NaN"


def _sweep_entry(probe):
    """'2.297 at lr 0.1', and what else went wrong: '(oscillating)', '(2.61 on rows it did
    not train on)'."""
    text = f"{_loss_text(probe)} at lr {probe.lr:.3g}"
    if probe.memorised:
        return text + f" ({probe.held:.4g} on rows it did not train on)"
    if probe.unstable and not probe.diverged:
        return text + (" (oscillating)" if probe.oscillating else " (blew up on the way)")
    return text


def _check_learning_rate(s):
    """lr_too_high / lr_too_low when a sweep of copies at other learning rates trains where
    the probe did not; exploding_gradients when the probe blew up and nothing smaller helped.

    A probe that learns (loss far below chance, or accuracy near 100%) is left alone: its
    learning rate works, however bumpy the way down.
    """
    probe, lr = s.probe, _learning_rate(s.optimizer)
    losses = [v for v in probe.losses if math.isfinite(v)]
    if not losses or min(losses) < 0 or probe.start <= 1e-12:
        return []      # a loss that is already 0, or unbounded below: no lr to judge
    if probe.good:
        return []      # trained well, or learned however bumpy the way: the lr works
    if probe.unstable or probe.rose:
        if lr is not None:
            sweep = _sweep(s, [1 / f for f in LR_SWEEP_FACTORS])
            if _trained_well(sweep):
                return [_lr_too_high(s, probe, sweep)]
        if probe.diverged or probe.gradient_growth > GRADIENT_GROWTH:
            return [_exploding_in_probe(probe, also_smaller=lr is not None)]
        return []
    stuck = probe.judged and not probe.beat_chance
    if lr is not None and (abs(probe.progress) < STALL_PROGRESS or stuck):
        s.sweep_up = _sweep(s, LR_SWEEP_FACTORS)
        if any(stuck or r.progress > 5 * abs(probe.progress)
               for r in _trained_well(s.sweep_up)):
            return [_lr_too_low(s, probe, s.sweep_up)]
    return []


def _settle_lr_advice(s, findings):
    """Drop advice that the learning-rate sweep contradicts (the sweep is the evidence).

    When copies at larger learning rates trained well (lr_too_low), or merely stayed steady,
    "lower the learning rate" is wrong: a large gradient at the start (exploding_gradients)
    did not throw them off, and the lr is not what kills ReLUs. (lr_too_high and
    exploding_gradients agree, so both stay.)
    """
    too_low = next((f for f in findings if f.name == "lr_too_low"), None)
    steady = [r for r in s.sweep_up or [] if not r.unstable]
    if too_low is None and not steady:
        return
    for finding in list(findings):
        if finding.name == "exploding_gradients":
            findings.remove(finding)
            if too_low is not None:
                ratio = finding.numbers.get("largest_ratio")
                size = f" (gradient norm / weight norm up to {ratio:.3g})" if ratio else ""
                too_low.evidence += (f"; the gradients at the start are large next to the "
                                     f"weights{size}, but the larger steps trained all the same")
        elif finding.name == "dead_relu":
            finding.fix = _dead_relu_fix(smaller_lr=False)


def _exploding_in_probe(probe, also_smaller):
    steps = len(probe.grad_norms)
    growth = ("to inf/NaN" if math.isinf(probe.gradient_growth)
              else f"{probe.gradient_growth:.3g}-fold")
    start = f" (starting at {probe.grad_norms[0]:.3g})" if probe.grad_norms else ""
    return _exploding(
        f"in {steps} probe step{'s' if steps != 1 else ''} the loss went from "
        f"{probe.start:.4g} to {_loss_text(probe)}"
        f"{' (the probe stopped there)' if probe.diverged else ''}, the gradient norm grew "
        f"{growth}{start}" + (", and every smaller learning rate tried diverged or stalled too"
                              if also_smaller else ""),
        gradient_growth=probe.gradient_growth)


def _lr_too_high(s, probe, sweep):
    text, (low, high) = _sweep_text(s, sweep)
    growth = ("to inf/NaN" if math.isinf(probe.weight_growth)
              else f"by a factor {probe.weight_growth:.3g}")
    shape = ("diverged" if probe.diverged else "blew up" if probe.blew_up
             else "oscillated" if probe.oscillating
             else "rose above its start, then settled at chance level" if probe.at_chance
             else "rose above its start")
    return Finding(
        "lr_too_high",
        f"with lr {probe.lr:g} the probe's loss {shape}: {probe.start:.4g} → "
        f"{_loss_text(probe)} (highest {max(v for v in probe.losses if math.isfinite(v)):.4g}), "
        f"weights grew {growth}; {text}",
        "Each step overshoots the minimum it is heading for, so the loss jumps around or "
        "climbs instead of falling (and ReLU units die on the way).",
        _lr_fix(low, high), suggested_lr=(low, high))


def _lr_fix(low, high):
    if low == high:
        return f"use a learning rate of about {low:.3g}"
    return f"use a learning rate between {low:.3g} and {high:.3g}"


def _lr_too_low(s, probe, sweep):
    text, (low, high) = _sweep_text(s, sweep)
    if abs(probe.progress) < STALL_PROGRESS:
        moved = (f"barely moved in {s.steps} steps: {probe.start:.4g} → {probe.end:.4g} "
                 f"({-probe.progress:+.2%})")
    else:
        chance = f", chance level {s.chance:.4g}" if s.chance is not None else ""
        moved = (f"did not beat chance level in {s.steps} steps: {probe.start:.4g} → "
                 f"{probe.end:.4g}{chance}")
    return Finding(
        "lr_too_low", f"with lr {probe.lr:g} the probe's loss {moved}; {text}",
        "The steps are so small that the weights hardly change: training is not broken, "
        "just far too slow to get anywhere.",
        _lr_fix(low, high), suggested_lr=(low, high))


def _check_over_regularized(s):
    groups = getattr(s.optimizer, "param_groups", None) or []
    decay = max((g.get("weight_decay", 0) or 0 for g in groups), default=0)
    if decay <= 0:
        return []
    free = _probe(s, weight_decay=0.0)
    if not free.good:
        return []     # without decay it does not train either: the decay is not the reason
    gained = free.start - free.end
    lost = s.probe.end - free.end
    if lost <= DECAY_SHARE * gained:
        return []
    ratio = decay * s.weight_norm / s.grad_norm if s.grad_norm > 0 else math.inf
    return [Finding(
        "over_regularized",
        f"after {s.steps} probe steps the loss is {_loss_text(s.probe)} with weight_decay "
        f"{decay:g} but {free.end:.4g} without it (from {free.start:.4g}); at the start the "
        f"decay term weight_decay * |w| is {ratio:.3g} times the loss gradient's norm",
        "Weight decay pulls every weight towards 0 on each step; when that pull is stronger "
        "than the gradient of the loss, the weights shrink instead of learning.",
        "lower weight_decay by a factor 10-1000 (1e-4 to 1e-2 are usual), or set it to 0",
        weight_decay=decay, loss_with_decay=s.probe.end, loss_without_decay=free.end)]


def _check_collapsed_predictions(s):
    """The probe ends no better than a constant guess: by its loss, by its accuracy, or only on
    the rows it trained on. (diagnose asks only when no other finding explains it.)"""
    probe = s.probe
    if probe.diverged or not probe.judged or probe.beat_chance:
        return []
    state = _collapse(s, probe.output)
    collapsed = state is not None and state[0]
    evidence = f"after {s.steps} training steps on a copy "
    if probe.memorised:
        evidence += (f"the loss on its {len(s.X)} rows fell from {probe.start:.4g} to "
                     f"{probe.final:.4g}, below chance level, {_chance_text(s)}; but on "
                     f"{len(s.X_held)} rows it did not train on it is {probe.held:.4g}, "
                     f"against {s.held_chance:.4g} for the same constant guess there: it "
                     "memorised its rows instead of learning how y depends on X")
    else:
        if collapsed:
            evidence += f"{state[1]}; "
        evidence += f"the loss went from {probe.start:.4g} to {probe.final:.4g}"
        evidence += (f", stuck at chance level, {_chance_text(s)}" if s.chance is not None
                     else " and did not beat chance level")
    before, after = _accuracy(s, s.output), probe.accuracy
    if after is not None:
        evidence += (f"; accuracy {before[0]:.0%} → {after[0]:.0%}, against {after[1]:.0%} for "
                     "always guessing the most frequent class")
    sweep = s.sweep_up or []
    tried = ", ".join(_sweep_entry(r) for r in sweep)
    unsteady = [r for r in sweep if r.beat_chance]     # below chance, but too bumpy to suggest
    if unsteady:
        evidence += f"; at larger learning rates the loss ended at {tried}"
    elif sweep:
        evidence += f"; larger learning rates did not beat chance either (loss {tried})"
    fix = ("first check that y carries signal about X: that X and y are aligned (shuffled "
           "together) and that y is computed from X; labels shuffled on their own look "
           "exactly like this")
    if probe.memorised:
        fix += ("; if they are right, the model needs more rows, or fewer parameters, to find "
                "a rule instead of remembering rows")
    elif unsteady:
        fix += (f"; if they are right, steps larger than yours got below chance level, but "
                f"unsteadily: try a learning rate between {probe.lr:.3g} and "
                f"{unsteady[0].lr:.3g} with more steps, or Adam")
    elif sweep:
        relu = "" if any(a.kind == "relu" for a in s.activations) else ", use ReLU hidden units"
        fix += ("; if they are right, the step size is not the reason: the model cannot fit "
                f"them, so make it wider or deeper{relu}, or give it more steps "
                f"(nn.diagnose(..., steps={10 * s.steps}))")
    else:
        fix += ("; if they are right, the model or its learning rate cannot fit them in "
                f"{s.steps} steps: try a larger learning rate (or Adam), a wider model, or "
                "more steps" + ("; pass your optimizer to have its learning rate judged"
                                if s.optimizer is None else ""))
    if collapsed and s.labels is not None:
        fix += "; if the classes are very unbalanced, weight or resample them"
    return [Finding(
        "collapsed_predictions", evidence,
        "The model's predictions are no better than a guess that ignores the input (the class "
        "frequencies, or the targets' mean): what it learned does not depend on X, so the "
        "gradient no longer points anywhere better.",
        fix + "; then re-run nn.diagnose",
        loss=probe.final, chance=s.chance, held_out_loss=probe.held,
        accuracy=None if after is None else after[0])]


def _collapse(s, output):
    """(collapsed?, description of the predictions) from the output, or None if unknown."""
    if output is None:
        return None
    if s.labels is not None and output.ndim == 2 and output.shape[1] >= 2:
        predicted = output.argmax(axis=1)
    elif s.kind in ("bce", "bce_logits") and output.size == len(output):
        predicted = (output.reshape(-1) > (0.5 if s.kind == "bce" else 0.0)).astype(int)
    elif s.y.dtype.kind == "f" and s.y.shape == output.shape:
        spread, target_spread = float(output.std(axis=0).mean()), float(s.y.std(axis=0).mean())
        collapsed = spread < REGRESSION_SPREAD * target_spread
        return collapsed, (f"its predictions vary by {spread:.3g} (standard deviation) while "
                           f"the targets vary by {target_spread:.3g}")
    else:
        return None
    values, counts = np.unique(predicted, return_counts=True)
    top, share = values[counts.argmax()], counts.max() / len(predicted)
    return share >= COLLAPSED_SHARE, f"it predicts class {top} for {share:.0%} of the inputs"


def _chance_text(s):
    """'2.297, the loss of always predicting the class frequencies (≈ ln C = ln 10 = 2.303)'."""
    text = f"{s.chance:.4g}, the loss of always predicting "
    if s.labels is not None and s.kind in _CLASS_LOSSES:
        ln_c = math.log(s.classes)
        per_row = s.chance / len(s.X) if s.sums_rows else s.chance
        rows = f"{per_row:.4g} per row, " if s.sums_rows else ""
        if abs(per_row - ln_c) < 0.05 * ln_c:
            return text + f"the class frequencies ({rows}≈ ln C = ln {s.classes} = {ln_c:.4g})"
        return text + (f"the class frequencies ({rows}below ln {s.classes} = {ln_c:.4g} "
                       "because the classes are unbalanced)")
    return text + ("the class frequencies" if s.labels is not None else "the targets' mean")


# ----- the summary -----------------------------------------------------------------------------

def _summary(s):
    """The key numbers, in words, for the report (and in ``s.numbers`` for code)."""
    lines = []
    if s.X is None:
        return lines
    n = s.numbers
    n.update(rows=len(s.X), rows_total=s.rows_total, features=int(np.prod(s.X.shape[1:])),
             classes=s.classes, loss_fn=type(s.loss_fn).__name__)
    data = f"data: {len(s.X)} rows" + (f" (of {s.rows_total})" if s.rows_total > len(s.X)
                                      else "")
    data += f" × {n['features']} features"
    data += f", {s.classes} classes" if s.classes else ""
    lines.append(data + f"; loss {n['loss_fn']}")
    if s.probe is None:
        return lines
    probe = s.probe
    n.update(loss_start=probe.start, loss_end=probe.losses[-1], chance_loss=s.chance,
             probe_steps=s.steps, lr=probe.lr)
    optimizer = (f"{type(s.optimizer).__name__}(lr={probe.lr:g})" if s.optimizer is not None
                 else f"Adam(lr={probe.lr:g}) (no optimizer given, so the learning "
                      "rate was not judged)")
    end = "inf/NaN (diverged)" if probe.diverged else f"{probe.losses[-1]:.4g}"
    lines.append(f"probe: {s.steps} steps of {optimizer} on a copy: loss {probe.start:.4g} → "
                 f"{end}")
    if s.sums_rows:
        n.update(loss_reduction="sum", gradient_scale=s.loss_scale)
        if s.loss_scale != 1:
            lines.append(f"the loss sums over rows: the probe scales its gradient by "
                         f"{s.rows_total} / {len(s.X)} = {s.loss_scale:.3g}, so that its "
                         "steps are as large as yours on the whole batch")
    if s.chance is not None:
        lines.append(f"chance level: {_chance_text(s)}")
    if probe.held is not None:
        n.update(held_out_loss=probe.held, held_out_chance=s.held_chance)
        lines.append(f"on {len(s.X_held)} rows the probe did not train on: loss "
                     f"{probe.held:.4g}, chance level there {s.held_chance:.4g}")
    state = _collapse(s, probe.output)
    if state is not None and state[0]:
        lines.append(f"after the probe {state[1]}: collapsed predictions")
    before, after = _accuracy(s, s.output), probe.accuracy
    if before is not None and after is not None:
        n.update(accuracy_start=before[0], accuracy_end=after[0], majority_rate=after[1])
        lines.append(f"accuracy on the batch: {before[0]:.0%} → {after[0]:.0%} (always "
                     f"guessing the most frequent class: {after[1]:.0%})")
    ratios = ", ".join(f"{p or 'model'}: {g / w:.2g}" for p, g, w in s.layer_grads if w > 0)
    if ratios:
        per_row = " (per row, as for a mean loss)" if s.sums_rows else ""
        lines.append(f"gradient norm / weight norm per Linear layer at the start{per_row}: "
                     f"{ratios}")
    relus = [a for a in s.activations if a.kind == "relu"]
    if relus:
        shares = ", ".join(f"{a.label}: {_dead_units(a.pre).mean():.0%}" for a in relus)
        lines.append(f"dead ReLU units: {shares}")
    return lines
