"""Stage 4, the checks: each a function of the stage results it needs, returning findings.

    checks.dead_relu(batch, observation)               # [] or [Finding("dead_relu", ...)]
    checks.learning_rate(observation, probe)           # lr_too_high, lr_too_low, ... or []

The model checks read the Batch and the Observation; the learning-rate checks also read the
ProbeResult. Two functions at the end combine findings: ``merge`` (one finding per name) and
``settle_lr_advice`` (the learning-rate sweep overrules advice it contradicts).
"""

import math

import numpy as np

from ..layers import Linear
from .data import CLASS_LOSSES
from .observe import layer_name
from .probe import accuracy
from .report import Finding
from .thresholds import (COLLAPSED_SHARE, DEAD_SHARE, EXPLODING_RATIO, GRADIENT_GROWTH,
                         OFFCENTRE_RATIO, OFFSET_GAIN, REGRESSION_SPREAD, SATURATED_SHARE,
                         SATURATION_Z, SCALE_TOO_LARGE, STALL_PROGRESS)

# the range of each bounded output activation
OUTPUT_RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}


# ----- the model against the loss and the data ------------------------------------------------

def loss_output_mismatch(loss_fn, batch, observation):
    """loss_output_mismatch: the model's output is not what the loss expects."""
    if observation.output is None:
        return []
    output, classes = observation.output, observation.classes
    act, kind, loss_name = observation.output_activation, batch.kind, type(loss_fn).__name__
    squashed = ("Squashing twice leaves outputs in a narrow range whose gradient is small and "
                "flat, so the loss stalls long before the predictions are right.")
    if kind == "cross_entropy" and batch.y.dtype.kind != "f" and act in ("softmax", "sigmoid"):
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
    elif kind == "bce" and ((output < 0) | (output > 1)).any():
        evidence = (f"BCELoss needs probabilities, but the outputs run from "
                    f"{output.min():.3g} to {output.max():.3g}")
        fix = "use BCEWithLogitsLoss on the raw scores (or end the model with nn.Sigmoid())"
        why = "BCELoss takes the log of its input: outside [0, 1] it is undefined and raises."
    elif kind == "mse" and observation.one_hot:
        evidence = f"MSELoss is given one-hot class targets ({classes} classes, one 1 per row)"
        fix = ("for mutually exclusive classes use CrossEntropyLoss with integer labels "
               "(y.argmax(axis=1)) and raw scores")
        why = ("Squared error treats class scores as numbers to hit exactly: its gradient "
               "shrinks as a confidently wrong score approaches its target, where cross-entropy's "
               "stays large, so learning slows to a crawl.")
    elif kind in ("bce", "bce_logits") and observation.one_hot:
        evidence = (f"{loss_name} scores each of {classes} outputs as a separate yes/no, but "
                    "every target row has exactly one 1: the classes exclude each other")
        fix = ("use CrossEntropyLoss with integer labels (y.argmax(axis=1)) and raw scores, "
               "so the classes compete through one softmax")
        why = ("Independent yes/no outputs do not know that exactly one class is true: they "
               "learn mostly to say 'no' to everything, which is right (C-1)/C of the time.")
    else:
        return []
    return [Finding("loss_output_mismatch", evidence, why, fix)]


def bounded_output(batch, observation):
    """bounded_output: a sigmoid/tanh output while the targets lie outside its range."""
    act, kind, y = observation.output_activation, batch.kind, batch.y
    bounds = OUTPUT_RANGES.get(act)
    if bounds is None or kind in CLASS_LOSSES or y.dtype.kind != "f" or kind == "bce":
        return []
    low, high = bounds
    outside = (y < low - 1e-6) | (y > high + 1e-6)
    if not outside.any():
        return []
    return [Finding(
        "bounded_output",
        f"the output is a {act} (range {low:g} to {high:g}) but {outside.mean():.0%} of the "
        f"targets lie outside it: they run from {y.min():.3g} to {y.max():.3g}",
        f"The model cannot output those values: chasing them drives the {act} "
        "into saturation, where its gradient vanishes.",
        f"remove the final {act.capitalize()} (a Linear output can take any "
        f"value), or rescale the targets into ({low:g}, {high:g}) and undo that on the "
        "predictions", share_outside=float(outside.mean()))]


def missing_bias(model, batch, observation):
    """missing_bias: no bias anywhere, off-centre data, and targets that need an offset."""
    if not observation.usable:
        return []
    bias_free = [path for path, module in model.named_modules()
                 if isinstance(module, Linear) and module.bias is None]
    # any parameter called ...bias (BatchNorm1d's too) lets the network shift its boundaries
    has_offset = any(name.split(".")[-1] == "bias" for name, _ in model.named_parameters())
    if not bias_free or has_offset:
        return []
    X = batch.X.reshape(len(batch.X), -1).astype(np.float64)
    centre = float(np.linalg.norm(X.mean(axis=0)))
    spread = float(np.sqrt(X.var(axis=0).sum()))
    if centre <= OFFCENTRE_RATIO * spread:
        return []
    gain = _offset_gain(X, _fit_targets(batch, observation))
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


def _fit_targets(batch, observation):
    """What the last layer must produce, as a matrix: one-hot minus 1/C for classes (softmax
    ignores a shift shared by all classes), targets minus 0.5 for 0/1 labels, else the targets."""
    classes, labels = observation.classes, observation.labels
    if labels is not None and classes:
        return np.eye(classes)[labels] - 1.0 / classes
    y = batch.y.reshape(len(batch.y), -1).astype(np.float64)
    return y - 0.5 if batch.kind in ("bce", "bce_logits") else y


def _offset_gain(X, targets):
    """The share of the targets' energy that a least-squares fit gains by adding an intercept."""
    with_intercept = np.hstack([X, np.ones((len(X), 1))])

    def residual(A):
        coefficients = np.linalg.lstsq(A, targets, rcond=None)[0]
        return float(np.sum((A @ coefficients - targets) ** 2))

    total = float(np.sum(targets ** 2))
    return (residual(X) - residual(with_intercept)) / total if total > 0 else 0.0


def _hidden_linears(observation):
    """Every Linear layer but the last one called (the output layer may start at zero)."""
    return observation.linears[:-1]


def symmetric_init(observation):
    """symmetric_init: hidden layers whose units are identical (all-zero or all-equal)."""
    problems, layers = [], []
    for path, module in _hidden_linears(observation):
        units = module.weight.numpy().reshape(module.out_features, -1)
        if module.bias is not None:
            units = np.hstack([units, module.bias.numpy().reshape(-1, 1)])
        distinct = len(np.unique(units, axis=0))
        if module.out_features < 2 or distinct == module.out_features:
            continue
        layers.append(path)
        name = layer_name(path, module)
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


def bottleneck(observation):
    """bottleneck: a hidden layer narrower than the number of classes."""
    classes = observation.classes
    if not classes or classes < 2:
        return []
    narrow = [(path, m) for path, m in _hidden_linears(observation) if m.out_features < classes]
    if not narrow:
        return []
    names = ", ".join(f"{layer_name(path, m)}" for path, m in narrow)
    return [Finding(
        "bottleneck",
        f"hidden layer {names} is narrower than the {classes} classes",
        "Everything the output layer learns must pass through that layer; with fewer units "
        "than classes, some classes cannot get a direction of their own, and a few dead ReLUs "
        "there lose them completely.",
        f"make every hidden layer at least as wide as the number of classes ({classes}); "
        "a few times wider is usual", narrowest=min(m.out_features for _, m in narrow))]


def saturated_units(observation):
    """saturated_units: most sigmoid/tanh pre-activations of a hidden layer beyond +-5."""
    hidden = [a for a in observation.activations
              if a.kind in ("sigmoid", "tanh") and not a.is_output]
    shares = [(a.label, float(np.mean(np.abs(a.pre) > SATURATION_Z))) for a in hidden]
    saturated = [(label, share) for label, share in shares if share > SATURATED_SHARE]
    if not saturated:
        return []
    per_layer = ", ".join(f"{label}: {share:.0%}" for label, share in saturated)
    grads = ", ".join(f"{path or 'model'}: {g:.2g}" for path, g, _ in observation.layer_grads)
    return [Finding(
        "saturated_units",
        f"share of pre-activations beyond ±{SATURATION_Z:g}: {per_layer}; gradient norm per "
        f"Linear layer, input side first: {grads}",
        "A saturated sigmoid or tanh passes on a gradient of almost 0, and the layers below it "
        "get the product of such factors: their gradients vanish and they stop learning.",
        "normalise the inputs, keep the default initialisation (or xavier_uniform_ for "
        "tanh/sigmoid), or use ReLU in hidden layers", shares=dict(saturated))]


def dead_relu(batch, observation):
    """dead_relu: ReLU layers with half or more of their units below 0 for every row."""
    dead_layers = []
    for a in (a for a in observation.activations if a.kind == "relu"):
        dead = dead_units(a.pre)
        if dead.mean() >= DEAD_SHARE:
            dead_layers.append((a.label, float(dead.mean()), int(dead.sum()), dead.size))
    if not dead_layers:
        return []
    per_layer = "; ".join(f"{label}: {count} of {size} units ({share:.0%})"
                          for label, share, count, size in dead_layers)
    return [Finding(
        "dead_relu",
        f"ReLU units whose input is negative for all {len(batch.X)} rows: {per_layer}",
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


def dead_units(pre):
    """Per unit: is its input below 0 for every row? (A mask over the units.)

    Units stuck at exactly 0 for every row come from zero weights, which symmetric_init
    reports, so they are not counted here.
    """
    pre = pre.reshape(len(pre), -1)
    return (pre <= 0).all(axis=0) & (pre < 0).any(axis=0)


# ----- gradients, learning rate and weight decay, judged by the probe --------------------------

def exploding_gradients(batch, observation, probe):
    """exploding_gradients: gradients far larger than the weights at the start, and the probe
    does not train.

    (Adam scales its steps to the lr whatever the gradient's size, so a large gradient alone
    is no problem when the probe trains; the probe's own growth is judged with the lr.)
    """
    if probe.run.good:        # good: it trained well, or it learned
        return []
    if not math.isfinite(observation.grad_norm) and math.isfinite(observation.loss):
        return [_exploding(f"the gradient at the current weights overflows to inf/NaN although "
                           f"the loss is finite ({observation.loss:.4g})")]
    ratios = [(path, g / w) for path, g, w in observation.layer_grads if w > 0]
    big = [(path, r) for path, r in ratios if r > EXPLODING_RATIO]
    if not big:
        return []
    listed = ", ".join(f"{path or 'model'}: {r:.3g}" for path, r in ratios)
    evidence = (f"gradient norm / weight norm per Linear layer, input side first: {listed} "
                f"(above {EXPLODING_RATIO:g} means one ordinary step would replace the weights)")
    y = batch.y
    if observation.labels is None and y.dtype.kind == "f":
        # regression targets far from 1 make the errors, and so every gradient, just as large
        target_scale = float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
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


def over_regularized(observation, probe):
    """over_regularized: weight decay undoes most of what the probe learns without it."""
    if not probe.decay_dominates:
        return []
    run, free, decay = probe.run, probe.without_decay, probe.weight_decay
    grad_norm, weight_norm = observation.grad_norm, observation.weight_norm
    ratio = decay * weight_norm / grad_norm if grad_norm > 0 else math.inf
    return [Finding(
        "over_regularized",
        f"after {probe.steps} probe steps the loss is {_loss_text(run)} with weight_decay "
        f"{decay:g} but {free.end:.4g} without it (from {free.start:.4g}); at the start the "
        f"decay term weight_decay * |w| is {ratio:.3g} times the loss gradient's norm",
        "Weight decay pulls every weight towards 0 on each step; when that pull is stronger "
        "than the gradient of the loss, the weights shrink instead of learning.",
        "lower weight_decay by a factor 10-1000 (1e-4 to 1e-2 are usual), or set it to 0",
        weight_decay=decay, loss_with_decay=run.end, loss_without_decay=free.end)]


def learning_rate(observation, probe):
    """lr_too_high / lr_too_low when the sweep of copies at other learning rates trains where
    the probe did not; exploding_gradients when the probe blew up and nothing smaller helped.

    A probe that learns (loss far below chance, or accuracy near 100%) is left alone: its
    learning rate works, however bumpy the way down (``probe.lr_question`` is None then).
    """
    run = probe.run
    if probe.lr_question == "too high":
        if probe.sweep_down is not None and _trained_well(probe.sweep_down):
            return [_lr_too_high(probe, probe.sweep_down)]
        if run.diverged or run.gradient_growth > GRADIENT_GROWTH:
            return [_exploding_in_probe(run, also_smaller=probe.lr is not None)]
        return []
    if probe.lr_question == "too low" and probe.sweep_up is not None:
        stuck = run.judged and not run.beat_chance
        if any(stuck or r.progress > 5 * abs(run.progress)
               for r in _trained_well(probe.sweep_up)):
            return [_lr_too_low(observation, probe, probe.sweep_up)]
    return []


def _trained_well(runs):
    """The runs that trained well, each at a learning rate below every one that diverged,
    blew up or oscillated without learning: a learning rate seen to fail is never recommended."""
    failed = min((r.lr for r in runs if r.unstable and not r.good), default=math.inf)
    return [r for r in runs if r.good and r.lr < failed]


def _sweep_text(probe, runs):
    """The sweep in words ('... ended at loss 2.306 at lr 0.2, 1.649 at lr 0.02; lr 0.02
    trained well, best 0.02') and the (lowest, highest) learning rate that trained well."""
    good = _trained_well(runs)
    tried = ", ".join(f"{_loss_text(r)} at lr {r.lr:.3g}" for r in runs)
    low, high = min(r.lr for r in good), max(r.lr for r in good)
    best = max(good, key=lambda r: r.progress)
    span = f"lr {low:.3g} to {high:.3g}" if low != high else f"lr {low:.3g}"
    text = (f"a sweep on copies ({probe.steps} steps each) ended at loss {tried}; {span} "
            f"trained well, best {best.lr:.3g}")
    return text, (low, high)


def _loss_text(run):
    return f"{run.end:.4g}" if not run.diverged else "inf/NaN"


def _sweep_entry(run):
    """'2.297 at lr 0.1', and what else went wrong: '(oscillating)', '(2.61 on rows it did
    not train on)'."""
    text = f"{_loss_text(run)} at lr {run.lr:.3g}"
    if run.memorised:
        return text + f" ({run.held:.4g} on rows it did not train on)"
    if run.unstable and not run.diverged:
        return text + (" (oscillating)" if run.oscillating else " (blew up on the way)")
    return text


def _exploding_in_probe(run, also_smaller):
    steps = len(run.grad_norms)
    growth = ("to inf/NaN" if math.isinf(run.gradient_growth)
              else f"{run.gradient_growth:.3g}-fold")
    start = f" (starting at {run.grad_norms[0]:.3g})" if run.grad_norms else ""
    return _exploding(
        f"in {steps} probe step{'s' if steps != 1 else ''} the loss went from "
        f"{run.start:.4g} to {_loss_text(run)}"
        f"{' (the probe stopped there)' if run.diverged else ''}, the gradient norm grew "
        f"{growth}{start}" + (", and every smaller learning rate tried diverged or stalled too"
                              if also_smaller else ""),
        gradient_growth=run.gradient_growth)


def _lr_too_high(probe, sweep):
    run = probe.run
    text, (low, high) = _sweep_text(probe, sweep)
    growth = ("to inf/NaN" if math.isinf(run.weight_growth)
              else f"by a factor {run.weight_growth:.3g}")
    shape = ("diverged" if run.diverged else "blew up" if run.blew_up
             else "oscillated" if run.oscillating
             else "rose above its start, then settled at chance level" if run.at_chance
             else "rose above its start")
    return Finding(
        "lr_too_high",
        f"with lr {run.lr:g} the probe's loss {shape}: {run.start:.4g} → "
        f"{_loss_text(run)} (highest {max(v for v in run.losses if math.isfinite(v)):.4g}), "
        f"weights grew {growth}; {text}",
        "Each step overshoots the minimum it is heading for, so the loss jumps around or "
        "climbs instead of falling (and ReLU units die on the way).",
        _lr_fix(low, high), suggested_lr=(low, high))


def _lr_fix(low, high):
    if low == high:
        return f"use a learning rate of about {low:.3g}"
    return f"use a learning rate between {low:.3g} and {high:.3g}"


def _lr_too_low(observation, probe, sweep):
    run, steps = probe.run, probe.steps
    text, (low, high) = _sweep_text(probe, sweep)
    if abs(run.progress) < STALL_PROGRESS:
        moved = (f"barely moved in {steps} steps: {run.start:.4g} → {run.end:.4g} "
                 f"({-run.progress:+.2%})")
    else:
        chance = (f", chance level {observation.chance:.4g}"
                  if observation.chance is not None else "")
        moved = (f"did not beat chance level in {steps} steps: {run.start:.4g} → "
                 f"{run.end:.4g}{chance}")
    return Finding(
        "lr_too_low", f"with lr {run.lr:g} the probe's loss {moved}; {text}",
        "The steps are so small that the weights hardly change: training is not broken, "
        "just far too slow to get anywhere.",
        _lr_fix(low, high), suggested_lr=(low, high))


# ----- a probe no better than chance -------------------------------------------------------------

def collapsed_predictions(batch, observation, probe):
    """collapsed_predictions: the probe ends no better than a constant guess, by its loss, by
    its accuracy, or only on the rows it trained on. (diagnose asks only when no other finding
    explains it.)"""
    run, steps = probe.run, probe.steps
    if run.diverged or not run.judged or run.beat_chance:
        return []
    state = collapse(run.output, batch, observation)
    collapsed = state is not None and state[0]
    evidence = f"after {steps} training steps on a copy "
    if run.memorised:
        evidence += (f"the loss on its {len(batch.X)} rows fell from {run.start:.4g} to "
                     f"{run.final:.4g}, below chance level, {chance_text(batch, observation)}; "
                     f"but on {len(batch.X_held)} rows it did not train on it is "
                     f"{run.held:.4g}, against {observation.held_chance:.4g} for the same "
                     "constant guess there: it memorised its rows instead of learning how y "
                     "depends on X")
    else:
        if collapsed:
            evidence += f"{state[1]}; "
        evidence += f"the loss went from {run.start:.4g} to {run.final:.4g}"
        evidence += (f", stuck at chance level, {chance_text(batch, observation)}"
                     if observation.chance is not None else " and did not beat chance level")
    before, after = accuracy(observation.output, batch, observation), run.accuracy
    if after is not None:
        evidence += (f"; accuracy {before[0]:.0%} → {after[0]:.0%}, against {after[1]:.0%} for "
                     "always guessing the most frequent class")
    sweep = probe.sweep_up or ()
    tried = ", ".join(_sweep_entry(r) for r in sweep)
    unsteady = [r for r in sweep if r.beat_chance]     # below chance, but too bumpy to suggest
    if unsteady:
        evidence += f"; at larger learning rates the loss ended at {tried}"
    elif sweep:
        evidence += f"; larger learning rates did not beat chance either (loss {tried})"
    fix = ("first check that y carries signal about X: that X and y are aligned (shuffled "
           "together) and that y is computed from X; labels shuffled on their own look "
           "exactly like this")
    if run.memorised:
        fix += ("; if they are right, the model needs more rows, or fewer parameters, to find "
                "a rule instead of remembering rows")
    elif unsteady:
        fix += (f"; if they are right, steps larger than yours got below chance level, but "
                f"unsteadily: try a learning rate between {run.lr:.3g} and "
                f"{unsteady[0].lr:.3g} with more steps, or Adam")
    elif sweep:
        relu = ("" if any(a.kind == "relu" for a in observation.activations)
                else ", use ReLU hidden units")
        fix += ("; if they are right, the step size is not the reason: the model cannot fit "
                f"them, so make it wider or deeper{relu}, or give it more steps "
                f"(nn.diagnose(..., steps={10 * steps}))")
    else:
        fix += ("; if they are right, the model or its learning rate cannot fit them in "
                f"{steps} steps: try a larger learning rate (or Adam), a wider model, or "
                "more steps" + ("; pass your optimizer to have its learning rate judged"
                                if probe.optimizer_name is None else ""))
    if collapsed and observation.labels is not None:
        fix += "; if the classes are very unbalanced, weight or resample them"
    return [Finding(
        "collapsed_predictions", evidence,
        "The model's predictions are no better than a guess that ignores the input (the class "
        "frequencies, or the targets' mean): what it learned does not depend on X, so the "
        "gradient no longer points anywhere better.",
        fix + "; then re-run nn.diagnose",
        loss=run.final, chance=observation.chance, held_out_loss=run.held,
        accuracy=None if after is None else after[0])]


def collapse(output, batch, observation):
    """(collapsed?, description of the predictions) from the output, or None if unknown."""
    if output is None:
        return None
    y, kind = batch.y, batch.kind
    if observation.labels is not None and output.ndim == 2 and output.shape[1] >= 2:
        predicted = output.argmax(axis=1)
    elif kind in ("bce", "bce_logits") and output.size == len(output):
        predicted = (output.reshape(-1) > (0.5 if kind == "bce" else 0.0)).astype(int)
    elif y.dtype.kind == "f" and y.shape == output.shape:
        spread, target_spread = float(output.std(axis=0).mean()), float(y.std(axis=0).mean())
        collapsed = spread < REGRESSION_SPREAD * target_spread
        return collapsed, (f"its predictions vary by {spread:.3g} (standard deviation) while "
                           f"the targets vary by {target_spread:.3g}")
    else:
        return None
    values, counts = np.unique(predicted, return_counts=True)
    top, share = values[counts.argmax()], counts.max() / len(predicted)
    return share >= COLLAPSED_SHARE, f"it predicts class {top} for {share:.0%} of the inputs"


def chance_text(batch, observation):
    """'2.297, the loss of always predicting the class frequencies (≈ ln C = ln 10 = 2.303)'."""
    chance, classes, labels = observation.chance, observation.classes, observation.labels
    text = f"{chance:.4g}, the loss of always predicting "
    if labels is not None and batch.kind in CLASS_LOSSES:
        ln_c = math.log(classes)
        per_row = chance / len(batch.X) if observation.sums_rows else chance
        rows = f"{per_row:.4g} per row, " if observation.sums_rows else ""
        if abs(per_row - ln_c) < 0.05 * ln_c:
            return text + f"the class frequencies ({rows}≈ ln C = ln {classes} = {ln_c:.4g})"
        return text + (f"the class frequencies ({rows}below ln {classes} = {ln_c:.4g} "
                       "because the classes are unbalanced)")
    return text + ("the class frequencies" if labels is not None else "the targets' mean")


# ----- combining findings ----------------------------------------------------------------------

def merge(findings, new):
    """``findings`` and the ``new`` ones; a new one whose name is already there adds its
    evidence (and numbers) to the first of that name instead."""
    merged = list(findings)
    for finding in new:
        i = next((i for i, f in enumerate(merged) if f.name == finding.name), None)
        if i is None:
            merged.append(finding)
        else:
            same = merged[i]
            merged[i] = _amended(same, evidence=same.evidence + "; " + finding.evidence,
                                 **finding.numbers)
    return merged


def settle_lr_advice(findings, probe):
    """``findings`` without the advice that the learning-rate sweep contradicts (the sweep is
    the evidence).

    When copies at larger learning rates trained well (lr_too_low), or merely stayed steady,
    "lower the learning rate" is wrong: a large gradient at the start (exploding_gradients)
    did not throw them off, and the lr is not what kills ReLUs. (lr_too_high and
    exploding_gradients agree, so both stay.)
    """
    too_low = next((f for f in findings if f.name == "lr_too_low"), None)
    steady = [r for r in probe.sweep_up or () if not r.unstable]
    if too_low is None and not steady:
        return list(findings)
    exploding = next((f for f in findings if f.name == "exploding_gradients"), None)
    settled = []
    for finding in findings:
        if finding.name == "exploding_gradients":
            continue
        if finding.name == "dead_relu":
            finding = _amended(finding, fix=_dead_relu_fix(smaller_lr=False))
        if finding is too_low and exploding is not None:
            ratio = exploding.numbers.get("largest_ratio")
            size = f" (gradient norm / weight norm up to {ratio:.3g})" if ratio else ""
            finding = _amended(finding, evidence=finding.evidence + (
                f"; the gradients at the start are large next to the weights{size}, but the "
                "larger steps trained all the same"))
        settled.append(finding)
    return settled


def _amended(finding, evidence=None, fix=None, **numbers):
    """A copy of ``finding`` with another evidence or fix, and ``numbers`` added."""
    return Finding(finding.name, finding.evidence if evidence is None else evidence,
                   finding.why, finding.fix if fix is None else fix,
                   **{**finding.numbers, **numbers})
