"""Stage 1, the batch: X and y checked as arrays, before any model sees them.

    batch = prepare_batch(X, y, loss_fn)   # a Batch: the probe's rows, bad_data findings, ...
    unnormalized_inputs(batch)             # [] or [Finding("unnormalized_inputs", ...)]
"""

import dataclasses

import numpy as np

from tinygrad_edu import Tensor

from .. import functional as F
from ..losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .report import Finding
from .thresholds import CONSTANT_SHARE, PROBE_ROWS, SCALE_TOO_LARGE, SCALE_TOO_SMALL

# how each built-in loss reads its targets; recognised as a module or as nn.functional's form
LOSS_KINDS = ((CrossEntropyLoss, F.cross_entropy, "cross_entropy"), (NLLLoss, F.nll_loss, "nll"),
              (MSELoss, F.mse_loss, "mse"), (BCELoss, F.binary_cross_entropy, "bce"),
              (BCEWithLogitsLoss, F.binary_cross_entropy_with_logits, "bce_logits"))
# the kinds that take one integer class label per row
CLASS_LOSSES = ("cross_entropy", "nll")


def loss_kind(loss_fn):
    """'cross_entropy', 'nll', 'mse', 'bce' or 'bce_logits' for a built-in loss, else None."""
    return next((kind for cls, fn, kind in LOSS_KINDS
                 if isinstance(loss_fn, cls) or loss_fn is fn), None)


@dataclasses.dataclass(frozen=True)
class Batch:
    """The batch as the later stages use it.

    ``findings`` are its bad_data findings; ``usable`` is False when it cannot go through a
    model at all (not numbers, rows that do not match, NaN/inf). ``kind`` is how the loss
    reads y (``loss_kind``). ``X_all`` holds every row (as floats), ``X`` and ``y`` the rows
    the probe trains on (at most ``PROBE_ROWS``), ``X_held`` and ``y_held`` up to as many
    other rows, held out from the probe, or None. The arrays are None when X or y is unusable
    as an array.
    """

    findings: tuple
    usable: bool
    kind: str = None
    rows_total: int = 0
    X_all: np.ndarray = None
    X: np.ndarray = None
    y: np.ndarray = None
    X_held: np.ndarray = None
    y_held: np.ndarray = None


def bad_data(evidence, fix, **numbers):
    """A bad_data finding (the batch, the model's input or the targets cannot be used)."""
    why = ("Training on this batch either fails outright or silently optimises something "
           "other than what you meant.")
    return Finding("bad_data", evidence, why, fix, **numbers)


def prepare_batch(X, y, loss_fn):
    """Check X and y as arrays (dtype, rows, NaN/inf) and pick the rows the probe trains on."""
    kind = loss_kind(loss_fn)
    X, y = _to_array(X), _to_array(y)
    for name, array in (("X", X), ("y", y)):
        if array.dtype.kind not in "biuf":
            return Batch((bad_data(f"{name} holds {array.dtype} values, not numbers",
                                   f"convert {name} to a numeric array, e.g. np.asarray({name}, "
                                   "dtype=np.float32)"),), usable=False, kind=kind)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y) or len(X) == 0:
        return Batch((bad_data(f"X has shape {X.shape} but y has shape {y.shape}: they need the "
                               "same number of rows (one target per sample)",
                               "check that X and y come from the same samples, in the same "
                               "order"),), usable=False, kind=kind)
    findings = []
    for name, array in (("X", X), ("y", y)):
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            rows = int((~np.isfinite(array.reshape(len(array), -1))).any(axis=1).sum())
            findings.append(bad_data(
                f"{name} contains {int(np.isnan(array).sum())} NaN and "
                f"{int(np.isinf(array).sum())} inf values, in {rows} of {len(array)} rows",
                f"find where they come from (a division by a zero std, a log of 0, missing "
                f"values read as NaN) and remove or impute those rows: "
                f"mask = np.isfinite({name}).all(axis=1)", nonfinite_rows=rows))
    usable = not findings
    if X.dtype.kind != "f":
        findings.append(bad_data(
            f"X holds integers ({X.dtype}); Linear layers need floating-point input and raise "
            "on integers (the rest of this diagnosis uses X as float32)",
            "convert once when loading: X = X.astype(np.float32)"))
        X = X.astype(np.float32)
    if kind in CLASS_LOSSES and y.dtype.kind == "f" and y.ndim == 1:
        if np.all(np.mod(y[np.isfinite(y)], 1) == 0):
            findings.append(bad_data(
                f"the class labels in y are floats ({y.dtype}); {type(loss_fn).__name__} "
                "needs integer labels and raises on floats (the rest of this diagnosis uses "
                "them as integers)", "y = y.astype(np.int64)"))
            y = y.astype(np.int64)
    rows = np.arange(len(X))
    X_held = y_held = None
    if len(X) > PROBE_ROWS:
        # a fixed, evenly spread sample: datasets are often sorted by class; up to as many
        # of the other rows are held out, to tell learning from memorising the probe's rows
        rows = np.sort(np.random.default_rng(0).choice(len(X), PROBE_ROWS, replace=False))
        held = np.setdiff1d(np.arange(len(X)), rows)
        if len(held) > PROBE_ROWS:
            held = np.sort(np.random.default_rng(1).choice(held, PROBE_ROWS, replace=False))
        X_held, y_held = X[held], y[held]
    return Batch(tuple(findings), usable, kind, rows_total=len(X), X_all=X,
                 X=X[rows].copy(), y=y[rows].copy(), X_held=X_held, y_held=y_held)


def _to_array(data):
    return data.numpy() if isinstance(data, Tensor) else np.asarray(data)


def unnormalized_inputs(batch):
    """unnormalized_inputs: features far larger or smaller than 1, or mostly constant."""
    if batch.X_all is None or not np.isfinite(batch.X_all).all():
        return []
    X = batch.X_all.reshape(len(batch.X_all), -1).astype(np.float64)
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
