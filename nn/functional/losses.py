"""Losses as functions: mse_loss, cross_entropy, nll_loss, binary_cross_entropy, ...

Losses take ``reduction='mean'`` (average over the elements), ``'sum'`` or ``'none'`` (one
loss per element or sample). They check their inputs before computing anything, because a
wrong shape is the most common silent bug: ``(N,)`` predictions against ``(N, 1)`` targets
would broadcast to an ``(N, N)`` matrix and train on nonsense.
"""

import warnings

import numpy as np

from tinygrad_edu import Tensor
from tinygrad_edu.checks import first_bad_label

from .activations import _as_tensor

_REDUCTIONS = ("mean", "sum", "none")


# ----- loss helpers -----------------------------------------------------------------------

def _legacy_reduction(name, reduction, size_average=None, reduce=None, weight=None):
    """PyTorch's losses take ``weight`` (some of them) and the deprecated ``size_average`` and
    ``reduce`` before ``reduction``: ``F.mse_loss(x, y, 'sum')`` passes 'sum' as
    size_average there. Read the old arguments as PyTorch does, and refuse a weight (not
    supported yet), so that no positional argument is silently read differently."""
    if weight is not None:
        raise TypeError(f"{name}: weight= (per-class or per-element weights) is not supported "
                        "yet; to pass a reduction write it by keyword: reduction='sum'")
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


def _class_labels(target, n, num_classes, input_shape, name, check_range=True):
    """Check integer class labels: shape (n,), values in 0..num_classes-1. Returns the array.

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
    i = first_bad_label(labels, num_classes) if check_range else None
    if i is not None:
        hint = ""
        if num_classes == 1:
            hint = (f". The input of shape {input_shape} has a single column, so there is only "
                    "one class: give the last layer one output per class, or, for two classes "
                    "with one score each, use BCEWithLogitsLoss")
        classes = "1 class" if num_classes == 1 else f"{num_classes} classes"
        raise ValueError(f"{name}: label {labels[i]} (sample {i}) is out of range for "
                         f"{classes} (input shape {input_shape}); labels must be "
                         f"integers in 0..{num_classes - 1}{hint}")
    return labels


def _pick(log_probs, target, name, input_shape):
    """-log_probs[i, label_i] for each sample i: the negative log-likelihood of the true class."""
    n, num_classes = log_probs.shape
    labels = _class_labels(target, n, num_classes, input_shape, name)
    return -log_probs[np.arange(n), labels]


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


def _finish(loss, reduction, single):
    loss = _reduce(loss, reduction)
    return loss.reshape(()) if single and reduction == "none" else loss


# ----- losses -----------------------------------------------------------------------------

def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Mean squared error: mean((input - target)^2). input and target must have equal shapes."""
    name = "mse_loss (MSELoss)"
    reduction = _legacy_reduction(name, reduction, size_average, reduce)
    check_reduction(reduction, name)
    input = _float_input(input, name)
    target = _same_shape_target(input, target, name)
    diff = input - target
    return _reduce(diff * diff, reduction)


def cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                  reduction="mean"):
    """Softmax cross-entropy of raw scores: -log softmax(input)[label], averaged over samples.

    input: logits (N, C) (or (C,) for one sample), *not* probabilities: do not apply softmax
    first. target: integer class labels (N,) in 0..C-1, or float class probabilities of
    shape (N, C) (then the loss is -sum(p * log_softmax(input))). Computed through
    ``log_softmax``, so logits of +-1000 give finite, exact values.
    """
    name = "cross_entropy (CrossEntropyLoss)"
    reduction = _legacy_reduction(name, reduction, size_average, reduce, weight)
    check_reduction(reduction, name)
    input = _float_input(input, name)
    target = _as_tensor(target)
    if input.ndim not in (1, 2):
        raise ValueError(f"{name}: expected logits of shape (N, C) or (C,), got {input.shape}")
    if target.dtype.kind == "f":
        if target.shape != input.shape:
            raise TypeError(
                f"{name}: target has dtype {target.dtype} and shape {target.shape}. Class labels "
                f"must be integers: pass target.long(). (A float target is read as class "
                f"probabilities and must have the logits' shape {input.shape}.)")
        # soft labels: the cross-entropy between the target distribution and softmax(input)
        loss = -(target.to(input.dtype) * input.log_softmax(axis=-1)).sum(axis=-1)
        return _reduce(loss, reduction)
    input, target, single = _as_batch(input, target, name)
    n, num_classes = input.shape
    labels = _class_labels(target, n, num_classes, input.shape, name, check_range=False)
    try:
        loss = input.cross_entropy(Tensor(labels), reduction)   # one fused op
    except ValueError:   # a label out of range: say so with this loss's name and hints
        _class_labels(target, n, num_classes, input.shape, name)
        raise
    return loss.reshape(()) if single and reduction == "none" else loss


def nll_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Negative log-likelihood: -input[i, label_i], for log-probabilities (N, C) and labels (N,).

    Use after ``log_softmax``; ``nll_loss(log_softmax(x), y)`` equals ``cross_entropy(x, y)``.
    """
    name = "nll_loss (NLLLoss)"
    reduction = _legacy_reduction(name, reduction, size_average, reduce, weight)
    check_reduction(reduction, name)
    input = _float_input(input, name)
    target = _as_tensor(target)
    if input.ndim not in (1, 2):
        raise ValueError(f"{name}: expected log-probabilities of shape (N, C) or (C,), got "
                         f"{input.shape}")
    if target.dtype.kind == "f":
        raise TypeError(f"{name}: target has dtype {target.dtype}; class labels must be "
                        "integers: pass target.long()")
    input, target, single = _as_batch(input, target, name)
    return _finish(_pick(input, target, name, input.shape), reduction, single)


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


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """Binary cross-entropy of probabilities: -(y log p + (1 - y) log(1 - p)), elementwise.

    input: probabilities in [0, 1] (e.g. after sigmoid), target: 0/1 (or soft) labels of the
    same shape. Each log is clamped at -100, so p exactly 0 or 1 gives a finite loss and
    gradient. For raw scores prefer ``binary_cross_entropy_with_logits``, which is more
    accurate for confident predictions.
    """
    name = "binary_cross_entropy (BCELoss)"
    reduction = _legacy_reduction(name, reduction, size_average, reduce, weight)
    check_reduction(reduction, name)
    input = _float_input(input, name)
    target = _same_shape_target(input, target, name)
    if target.dtype != input.dtype:
        raise TypeError(f"{name}: input is {input.dtype} but target is {target.dtype}; as in "
                        f"PyTorch they must match: convert one, e.g. target.to({input.dtype})")
    _check_binary_target(target, name)
    _check_unit_interval(input.numpy(), name, "input must be probabilities in [0, 1]",
                         "apply sigmoid first, or pass the raw scores to BCEWithLogitsLoss")
    # one op (ops.BinaryCrossEntropy), so that p = 0 or 1 gets PyTorch's large finite slope
    return _reduce(input.binary_cross_entropy(target), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean"):
    """Binary cross-entropy of raw scores x: BCE(sigmoid(x), y), computed stably.

    Uses max(x, 0) - x*y + log(1 + e^-|x|), which equals -(y log sigmoid(x) +
    (1 - y) log(1 - sigmoid(x))) but never exponentiates a positive number, so logits of
    +-1e4 give exact, finite values. input and target must have equal shapes.
    """
    name = "binary_cross_entropy_with_logits (BCEWithLogitsLoss)"
    reduction = _legacy_reduction(name, reduction, size_average, reduce, weight)
    check_reduction(reduction, name)
    x = _float_input(input, name)
    y = _same_shape_target(x, target, name)
    _check_binary_target(y, name)
    # maximum, not relu: at x == 0 maximum shares the tie's gradient (1/2) and |x| has
    # derivative 0, which together give the exact derivative sigmoid(0) - y there
    loss = x.maximum(0.0) - x * y + ((-x.abs()).exp() + 1).log()
    return _reduce(loss, reduction)
