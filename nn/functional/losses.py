"""Losses as functions: mse_loss, l1_loss, smooth_l1_loss, huber_loss, cross_entropy,
nll_loss, binary_cross_entropy(_with_logits), kl_div.

Losses take ``reduction='mean'`` (average over the elements), ``'sum'`` or ``'none'`` (one
loss per element or sample). They check their inputs before computing anything, because a
wrong shape is the most common silent bug: ``(N,)`` predictions against ``(N, 1)`` targets
would broadcast to an ``(N, N)`` matrix and train on nonsense.

Weighted means follow PyTorch: with per-class ``weight`` (cross_entropy, nll_loss) or a
per-element weight (mse_loss, l1_loss), ``'mean'`` divides the weighted sum by the sum of
the weights used, so a weight of 2 counts a sample twice; samples whose label is
``ignore_index`` count for nothing, in the sum and in the divisor. The weights of BCE and
huber_loss only multiply: their mean divides by the number of elements.
"""

import warnings

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.checks import broadcasts_to, first_bad_label

from .activations import _as_tensor

_REDUCTIONS = ("mean", "sum", "none")


# ----- loss helpers -----------------------------------------------------------------------

def _legacy_reduction(name, reduction, size_average=None, reduce=None):
    """PyTorch's losses take ``weight`` (some of them) and the deprecated ``size_average`` and
    ``reduce`` before ``reduction``: ``F.mse_loss(x, y, 'sum')`` passes 'sum' as
    size_average there. Read the old arguments as PyTorch does, so that no positional
    argument is silently read differently."""
    if size_average is None and reduce is None:
        return reduction
    if isinstance(size_average, str) or isinstance(reduce, str):
        raise TypeError(f"{name}: got {size_average or reduce!r} in the place of PyTorch's "
                        "old size_average/reduce arguments; write reduction= by keyword, "
                        f"e.g. reduction={size_average or reduce!r}")
    warnings.warn(f"{name}: size_average and reduce are deprecated (as in PyTorch); use "
                  "reduction='mean', 'sum' or 'none'", UserWarning, stacklevel=3)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return ("mean" if size_average else "sum") if reduce else "none"


def check_reduction(reduction, name):
    """Raise a ValueError naming the loss unless ``reduction`` is mean, sum or none."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _float_input(input, name):
    input = _as_tensor(input)
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: the input (predictions) must be floating point, got "
                        f"{input.dtype}; convert it with .float()")
    return input


def _same_shape_target(input, target, name):
    """The target as a Tensor of the input's shape, or a ValueError naming both shapes.

    Its dtype: a float Tensor keeps its own (PyTorch promotes); numbers, arrays and int or
    bool labels take the input's.
    """
    given_as_tensor = isinstance(target, Tensor)
    target = _as_tensor(target)
    if target.shape != input.shape:
        hint = ""
        if target.shape == input.shape + (1,) or input.shape == target.shape + (1,):
            hint = (f" Comparing them would broadcast to shape "
                    f"{np.broadcast_shapes(input.shape, target.shape)}, every prediction "
                    f"against every target; make them match, e.g. target.reshape({input.shape}) "
                    "or input.squeeze(1).")
        elif (target.dtype.kind in "iu" and input.ndim == 2 and input.shape[1] > 1
              and target.shape == input.shape[:1]):
            hint = (" The target looks like class labels: for classification use "
                    "CrossEntropyLoss, which takes logits (N, C) and labels (N,).")
        raise ValueError(f"{name}: input has shape {input.shape} but target has shape "
                         f"{target.shape}; they must be equal.{hint}")
    if target.dtype.kind not in "biuf":
        raise TypeError(f"{name}: target must hold numbers, got {target.dtype}")
    # 0/1 labels given as ints or bools are fine: compare them in the input's float dtype, as
    # numpy data (a float64 array) is too. A float Tensor target keeps its dtype, and the
    # arithmetic promotes as in PyTorch (float32 input, float64 target: a float64 loss)
    if given_as_tensor and target.dtype.kind == "f":
        return target
    return target.to(input.dtype)


def _class_labels(target, n, num_classes, input_shape, name, check_range=True,
                  ignore_index=None):
    """Check integer class labels: shape (n,), values in 0..num_classes-1 (or ignore_index).
    Returns the array.

    ``check_range=False`` leaves the values to the caller (cross_entropy: the fused op checks
    them anyway, and this runs again only to explain a failure).
    """
    labels = target.numpy()
    if labels.dtype.kind == "b":
        raise TypeError(f"{name}: target holds booleans; class labels must be integers, "
                        "e.g. target.long()")
    if labels.shape != (n,):
        hint = " (use target.reshape(-1))" if labels.size == n else ""
        raise ValueError(f"{name}: input of shape {input_shape} needs one class label per "
                         f"sample, i.e. a target of shape ({n},), got {labels.shape}{hint}")
    if check_range:
        _check_label_range(labels, num_classes, input_shape, name, ignore_index)
    return labels


def _check_label_range(labels, num_classes, input_shape, name, ignore_index=None):
    """A ValueError naming the first label outside 0..num_classes-1 that is not ignored."""
    counted = labels if ignore_index is None else np.where(labels == ignore_index, 0, labels)
    i = first_bad_label(counted.reshape(-1), num_classes)
    if i is None:
        return
    flat = labels.reshape(-1)
    where = (f"sample {i}" if labels.ndim == 1
             else f"position {tuple(int(j) for j in np.unravel_index(i, labels.shape))}")
    hint = ""
    if num_classes == 1:
        hint = (f". The input of shape {input_shape} has a single column, so there is only "
                "one class: give the last layer one output per class, or, for two classes "
                "with one score each, use BCEWithLogitsLoss")
    classes = "1 class" if num_classes == 1 else f"{num_classes} classes"
    raise ValueError(f"{name}: label {flat[i]} ({where}) is out of range for {classes} (input "
                     f"shape {input_shape}); labels must be integers in "
                     f"0..{num_classes - 1}{hint}")


def _as_batch(input, target, name):
    """A single sample (C,) with a scalar label becomes a batch of one: (1, C) and (1,)."""
    if input.ndim == 1:
        if target.ndim != 0:
            raise ValueError(
                f"{name}: input of shape {input.shape} is read as the scores of one sample over "
                f"{input.shape[0]} classes, which needs a single label, but target has shape "
                f"{target.shape}. For a batch pass scores of shape (N, C); with one score per "
                "sample (two classes), use BCEWithLogitsLoss instead")
        return input.reshape(1, -1), target.reshape(1), True
    return input, target, False


def _classes_last(input):
    """(N, C, d1, ..., dk) -> (N * d1 * ... * dk, C): one row of class scores per position."""
    axes = (0,) + tuple(range(2, input.ndim)) + (1,)
    return input.permute(axes).reshape(-1, input.shape[1])


def _class_rows(input, target, name, ignore_index):
    """Scores as rows (M, C), labels (M,) as an array, and the shape of an unreduced result.

    (C,) with a scalar label, (N, C) with (N,) labels, or (N, C, d1, ...) with (N, d1, ...)
    labels (one per position: segmentation, sequences), as PyTorch's losses take them.
    """
    if input.ndim == 0:
        raise ValueError(f"{name}: expected scores of shape (C,), (N, C) or (N, C, d1, ...), "
                         f"got a scalar")
    input, target, single = _as_batch(input, target, name)
    num_classes = input.shape[1]
    if input.ndim == 2:
        labels = _class_labels(target, input.shape[0], num_classes, input.shape, name,
                               ignore_index=ignore_index)
        return input, labels, (() if single else labels.shape)
    labels = target.numpy()
    if labels.dtype.kind == "b":
        raise TypeError(f"{name}: target holds booleans; class labels must be integers, "
                        "e.g. target.long()")
    expected = input.shape[:1] + input.shape[2:]
    if labels.shape != expected:
        raise ValueError(f"{name}: input of shape {input.shape} (N, C, d1, ...) needs a label "
                         f"per sample and position, a target of shape {expected}, got "
                         f"{labels.shape}")
    _check_label_range(labels, num_classes, input.shape, name, ignore_index)
    return _classes_last(input), labels.reshape(-1), expected


def _class_weight(weight, input, name):
    """The per-class weights as a Tensor (C,) in the input's dtype, or None."""
    if weight is None:
        return None
    if isinstance(weight, str):
        raise TypeError(f"{name}: got {weight!r} in the place of weight= (per-class weights); "
                        f"to pass a reduction write it by keyword: reduction={weight!r}")
    weight = _as_tensor(weight)
    classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    if weight.shape != (classes,):
        raise ValueError(f"{name}: weight must hold one value per class, shape ({classes},) for "
                         f"input of shape {input.shape}, got {weight.shape}")
    return weight.to(input.dtype)


def _check_smoothing(label_smoothing, name):
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")


def _weighted_nll(log_probs, labels, weight, ignore_index, reduction, out_shape,
                  label_smoothing=0.0):
    """The loss for rows of log-probabilities (M, C) and labels (M,), with PyTorch's options.

    Per row: -w[y] * log_probs[y] (w = 1 without weights), 0 where y == ignore_index. The
    mean divides by the total weight of the rows counted (their number, without weights):
    all rows ignored gives 0/0 = nan, as in PyTorch. With label smoothing e the loss is
    (1 - e) * that + (e / C) * the same reduction of -sum_c w_c log_probs[c].
    """
    rows, num_classes = log_probs.shape
    kept = labels != ignore_index                              # (M,) bool: counted rows
    if weight is None and label_smoothing == 0 and kept.all():
        # the plain negative log-likelihood: no weights to apply, nothing to leave out
        loss = -log_probs[np.arange(rows), labels]
        return loss.reshape(out_shape) if reduction == "none" else _reduce(loss, reduction)
    safe = np.where(kept, labels, 0)                           # a valid index everywhere
    picked = -log_probs[np.arange(rows), safe]                 # (M,)
    row_weight = Tensor(kept.astype(log_probs.dtype))          # 1 per counted row
    if weight is not None:
        row_weight = weight[safe] * row_weight                 # w[y], 0 where ignored
    nll = picked * row_weight
    if label_smoothing > 0:
        every_class = -log_probs if weight is None else -log_probs * weight
        smooth = every_class.sum(axis=1) * Tensor(kept.astype(log_probs.dtype))
    if reduction == "none":
        loss = nll
        if label_smoothing > 0:
            loss = (1 - label_smoothing) * nll + (label_smoothing / num_classes) * smooth
        return loss.reshape(out_shape)
    total = nll.sum()
    if label_smoothing > 0:
        total = (1 - label_smoothing) * total + (label_smoothing / num_classes) * smooth.sum()
    if reduction == "sum":
        return total
    counted = row_weight.sum()
    if counted.item() == 0:
        # nothing counted: the mean is 0/0 = nan, as in PyTorch, whose gradient is 0 (not
        # the nan that dividing by the zero would send back)
        return total + float("nan")
    return total / counted


def _soft_cross_entropy(input, target, weight, reduction, label_smoothing, name):
    """Cross-entropy against class probabilities of the input's own shape (N, C, ...)."""
    if target.shape != input.shape:
        raise TypeError(
            f"{name}: target has dtype {target.dtype} and shape {target.shape}. Class labels "
            f"must be integers: pass target.long(). (A float target is read as class "
            f"probabilities and must have the logits' shape {input.shape}.)")
    axis = 0 if input.ndim == 1 else 1
    probs = target.to(input.dtype)
    if label_smoothing > 0:
        probs = probs * (1 - label_smoothing) + label_smoothing / input.shape[axis]
    log_probs = input.log_softmax(axis=axis)
    if weight is not None:
        log_probs = log_probs * weight.reshape((-1,) + (1,) * (input.ndim - axis - 1))
    loss = -(probs * log_probs).sum(axis=axis)        # one per sample (and position)
    return _reduce(loss, reduction)   # the mean: over samples and positions, not weights


# ----- losses -----------------------------------------------------------------------------

def _element_weight(weight, input, name):
    """A per-element weight of exactly the input's shape (PyTorch's mse/l1/huber rule)."""
    if weight is None:
        return None
    weight = _as_tensor(weight)
    if weight.shape != input.shape:
        raise ValueError(f"{name}: weight must have the input's shape {input.shape}, got "
                         f"{weight.shape}")
    return weight


def _weighted_reduce(loss, weight, reduction):
    """Reduce an elementwise loss; with weights, 'mean' is sum(w * loss) / sum(w)."""
    if weight is None:
        return _reduce(loss, reduction)
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error: mean((input - target)^2). input and target must have equal shapes.

    ``weight`` (the input's shape): each squared error times its weight; the mean is then
    sum(w * err^2) / sum(w).
    """
    name = "mse_loss (MSELoss)"
    reduction = _legacy_reduction(name, reduction, size_average, reduce)
    check_reduction(reduction, name)
    input = _float_input(input, name)
    target = _same_shape_target(input, target, name)
    diff = input - target
    return _weighted_reduce(diff * diff, _element_weight(weight, input, name), reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error: mean(|input - target|); the gradient at a zero error is 0.

    ``weight`` as in ``mse_loss``.
    """
    name = "l1_loss (L1Loss)"
    reduction = _legacy_reduction(name, reduction, size_average, reduce)
    check_reduction(reduction, name)
    input = _float_input(input, name)
    target = _same_shape_target(input, target, name)
    return _weighted_reduce((input - target).abs(), _element_weight(weight, input, name),
                            reduction)


def _huber(diff, delta):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta): quadratic near 0, linear
    beyond, with matching value and slope at |d| = delta."""
    size = diff.abs()
    # the quadratic branch reads d clamped to [-delta, delta]: same values where it is used,
    # and no huge squares where it is not
    near = diff.clip(-delta, delta)
    return tg.where(size < delta, 0.5 * near * near, delta * (size - 0.5 * delta))


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Smooth L1: 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target).

    Less sensitive to outliers than MSE, smooth at 0 unlike L1. ``beta=0`` is the L1 loss.
    HuberLoss(delta) equals delta * SmoothL1Loss(beta=delta).
    """
    name = "smooth_l1_loss (SmoothL1Loss)"
    reduction = _legacy_reduction(name, reduction, size_average, reduce)
    check_reduction(reduction, name)
    if beta < 0:
        raise ValueError(f"{name}: beta must be non-negative, got {beta}")
    input = _float_input(input, name)
    diff = input - _same_shape_target(input, target, name)
    if beta == 0:
        return _reduce(diff.abs(), reduction)
    return _reduce(_huber(diff, beta) / beta, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Huber loss: 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta).

    ``weight`` (the input's shape) multiplies each element's loss; unlike mse_loss and
    l1_loss (and as in PyTorch), the mean then divides by the number of elements, not by
    the sum of the weights.
    """
    name = "huber_loss (HuberLoss)"
    check_reduction(reduction, name)
    if not delta > 0:
        raise ValueError(f"{name}: delta must be positive, got {delta}")
    input = _float_input(input, name)
    diff = input - _same_shape_target(input, target, name)
    loss = _huber(diff, delta)
    weight = _element_weight(weight, input, name)
    return _reduce(loss if weight is None else loss * weight, reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy of raw scores: -log softmax(input)[label], averaged over samples.

    input: logits (N, C), (C,) for one sample, or (N, C, d1, ...) with a label per position
    (N, d1, ...), *not* probabilities: do not apply softmax first. target: integer class
    labels in 0..C-1, or float class probabilities of the input's shape (then the loss is
    -sum(p * log_softmax(input)) over the classes). Computed through ``log_softmax``, so
    logits of +-1000 give finite, exact values.

    ``weight`` (C,): each sample's loss times the weight of its label; the mean divides by
    the sum of those weights. ``ignore_index``: samples with that label count for nothing
    (for integer labels only). ``label_smoothing`` e in [0, 1]: the target becomes
    (1 - e) one_hot + e / C. Plain (N, C) input with labels uses one fused op.
    """
    name = "cross_entropy (CrossEntropyLoss)"
    reduction = _legacy_reduction(name, reduction, size_average, reduce)
    check_reduction(reduction, name)
    input = _float_input(input, name)
    weight = _class_weight(weight, input, name)
    _check_smoothing(label_smoothing, name)
    target = _as_tensor(target)
    if target.dtype.kind == "f":
        if ignore_index != -100:
            raise ValueError(f"{name}: ignore_index is not supported for class-probability "
                             f"(float) targets; give integer labels to ignore some")
        return _soft_cross_entropy(input, target, weight, reduction, label_smoothing, name)
    if input.ndim == 2 and weight is None and label_smoothing == 0:
        n, num_classes = input.shape
        labels = _class_labels(target, n, num_classes, input.shape, name, check_range=False)
        # the usual case, as one fused op. An ignore_index outside 0..C-1 (the default -100)
        # needs no check here: the fused op refuses such a label, and we look again then
        if not 0 <= ignore_index < num_classes or not (labels == ignore_index).any():
            try:
                return input.cross_entropy(Tensor(labels), reduction)
            except ValueError:   # a label out of range (or ignored): name this loss, hint
                if not (labels == ignore_index).any():
                    _class_labels(target, n, num_classes, input.shape, name)
                    raise
    rows, labels, out_shape = _class_rows(input, target, name, ignore_index)
    return _weighted_nll(rows.log_softmax(axis=1), labels, weight, ignore_index, reduction,
                         out_shape, label_smoothing)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood: -input[i, label_i], for log-probabilities (N, C) and labels (N,).

    Use after ``log_softmax``; ``nll_loss(log_softmax(x), y)`` equals ``cross_entropy(x, y)``,
    with the same shapes ((C,), (N, C), (N, C, d1, ...)), ``weight`` and ``ignore_index``.
    """
    name = "nll_loss (NLLLoss)"
    reduction = _legacy_reduction(name, reduction, size_average, reduce)
    check_reduction(reduction, name)
    input = _float_input(input, name)
    weight = _class_weight(weight, input, name)
    target = _as_tensor(target)
    if target.dtype.kind == "f":
        raise TypeError(f"{name}: target has dtype {target.dtype}; class labels must be "
                        "integers: pass target.long()")
    rows, labels, out_shape = _class_rows(input, target, name, ignore_index)
    return _weighted_nll(rows, labels, weight, ignore_index, reduction, out_shape)


def _check_unit_interval(values, name, what, fix):
    """Raise unless every value lies in [0, 1], saying what was found and how to fix it."""
    if values.size and not ((values >= 0) & (values <= 1)).all():
        raise ValueError(f"{name}: {what}, found values from {np.nanmin(values):.4g} to "
                         f"{np.nanmax(values):.4g}{' and nan' if np.isnan(values).any() else ''}"
                         f"; {fix}")


def _check_binary_target(target, name):
    """BCE targets are 0/1 labels or probabilities: values outside [0, 1] (such as -1/+1
    labels) give a loss that can go negative and trains towards nonsense."""
    _check_unit_interval(target.numpy(), name,
                         "target must hold 0/1 labels or probabilities in [0, 1]",
                         "labels of -1 and +1 become 0 and 1 with (target + 1) / 2")


def _broadcast_weight(weight, input, name, what="weight"):
    """A weight that broadcasts to the input's shape (without growing it), or None."""
    if weight is None:
        return None
    if isinstance(weight, str):
        raise TypeError(f"{name}: got {weight!r} in the place of {what}=; to pass a reduction "
                        f"write it by keyword: reduction={weight!r}")
    weight = _as_tensor(weight)
    if not broadcasts_to(weight.shape, input.shape):
        raise ValueError(f"{name}: {what} of shape {weight.shape} does not broadcast to the "
                         f"input's shape {input.shape}")
    return weight


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """Binary cross-entropy of probabilities: -(y log p + (1 - y) log(1 - p)), elementwise.

    input: probabilities in [0, 1] (e.g. after sigmoid), target: 0/1 (or soft) labels of the
    same shape. Each log is clamped at -100, so p exactly 0 or 1 gives a finite loss and
    gradient. ``weight`` (broadcast to the input's shape) multiplies each element's loss; the
    mean still divides by the number of elements. For raw scores prefer
    ``binary_cross_entropy_with_logits``, which is more accurate for confident predictions.
    """
    name = "binary_cross_entropy (BCELoss)"
    reduction = _legacy_reduction(name, reduction, size_average, reduce)
    check_reduction(reduction, name)
    input = _float_input(input, name)
    weight = _broadcast_weight(weight, input, name)
    target = _same_shape_target(input, target, name)
    if target.dtype != input.dtype:
        raise TypeError(f"{name}: input is {input.dtype} but target is {target.dtype}; as in "
                        f"PyTorch they must match: convert one, e.g. target.to({input.dtype})")
    _check_binary_target(target, name)
    _check_unit_interval(input.numpy(), name, "input must be probabilities in [0, 1]",
                         "apply sigmoid first, or pass the raw scores to BCEWithLogitsLoss")
    # one op (ops.BinaryCrossEntropy), so that p = 0 or 1 gets PyTorch's large finite slope
    loss = input.binary_cross_entropy(target)
    return _reduce(loss if weight is None else loss * weight, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Binary cross-entropy of raw scores x: BCE(sigmoid(x), y), computed stably.

    Uses max(x, 0) - x*y + log(1 + e^-|x|), which equals -(y log sigmoid(x) +
    (1 - y) log(1 - sigmoid(x))) but never exponentiates a positive number, so logits of
    +-1e4 give exact, finite values. input and target must have equal shapes.

    ``weight`` (broadcast to the input) multiplies each element's loss, the mean dividing by
    the number of elements. ``pos_weight`` (broadcast along the last axis, e.g. (C,) for
    C independent labels) multiplies the positive term: -(p y log sigmoid(x) + (1 - y)
    log(1 - sigmoid(x))); p > 1 favours recall, e.g. negatives/positives for rare labels.
    """
    name = "binary_cross_entropy_with_logits (BCEWithLogitsLoss)"
    reduction = _legacy_reduction(name, reduction, size_average, reduce)
    check_reduction(reduction, name)
    x = _float_input(input, name)
    weight = _broadcast_weight(weight, x, name)
    pos_weight = _broadcast_weight(pos_weight, x, name, "pos_weight")
    y = _same_shape_target(x, target, name)
    _check_binary_target(y, name)
    if pos_weight is None:
        # maximum, not relu: at x == 0 maximum shares the tie's gradient (1/2) and |x| has
        # derivative 0, which together give the exact derivative sigmoid(0) - y there
        loss = x.maximum(0.0) - x * y + ((-x.abs()).exp() + 1).log()
    else:
        # -log sigmoid(x) = log(1 + e^-|x|) + max(-x, 0) (stable); its coefficient is
        # p y + (1 - y), and (1 - y) x is what -log(1 - sigmoid(x)) adds beyond it
        minus_log_sigmoid = ((-x.abs()).exp() + 1).log() + (-x).maximum(0.0)
        loss = (1 - y) * x + (1 + (pos_weight - 1) * y) * minus_log_sigmoid
    return _reduce(loss if weight is None else loss * weight, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence KL(target || model), elementwise: t (log t - input).

    input: log-probabilities (e.g. after log_softmax), *not* probabilities; target:
    probabilities (or log-probabilities with ``log_target=True``: exp(t) (t - input)).
    A target of 0 contributes 0 (0 log 0 = 0). Reductions: ``'batchmean'`` (the sum divided
    by the batch size, input.shape[0]: the true KL divergence per sample), ``'sum'``,
    ``'none'``, and ``'mean'`` (the default, as in PyTorch: divides by the number of
    *elements*, which is not the KL divergence; it warns).
    """
    name = "kl_div (KLDivLoss)"
    reduction = _legacy_reduction(name, reduction, size_average, reduce)
    if reduction not in _REDUCTIONS + ("batchmean",):
        raise ValueError(f"{name}: reduction must be 'mean', 'batchmean', 'sum' or 'none', got "
                         f"{reduction!r}")
    input = _float_input(input, name)
    target = _same_shape_target(input, target, name)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # xlogy: t log t with 0 log 0 = 0 (the log reads 1 there, so no -inf * 0 = nan)
        zero = target == 0
        loss = tg.where(zero, 0.0, target * tg.where(zero, 1.0, target).log()) - target * input
    if reduction == "batchmean":
        batch = input.shape[0] if input.ndim else 1
        return loss.sum() / batch
    if reduction == "mean":
        warnings.warn("kl_div: reduction='mean' divides the total by the number of elements, "
                      "which is not the KL divergence; use reduction='batchmean' (as in "
                      "PyTorch, 'mean' is the default)", UserWarning, stacklevel=2)
    return _reduce(loss, reduction)
