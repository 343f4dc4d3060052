"""Compare gradients derived by hand with the engine's, and name the mistake.

``compare_gradients(loss_fn, params, hand_grads)`` runs ``loss_fn`` on Tensors made from
``params`` (it may be a learner's unchanged numpy forward pass: numpy functions on Tensors
build the graph), differentiates it in float64, and sets each hand-derived gradient beside
the true one. When a hand gradient is a simple distortion of the truth the report says which:

=================  ====================================================================
verdict            what it usually means
=================  ====================================================================
``ok``             matches within the tolerances
``negative``       a sign mix-up: (y - out) instead of (out - y), or ascent for descent
``scaled``         off by a constant factor k: a missing 1/N (k = N), a factor 2 from a
                   squared error, a learning rate folded into the gradient
``transposed``     X @ delta.T where X.T @ delta was meant
``not_summed``     one gradient per sample: the sum over the batch axis is missing
``wrong_shape``    an outer product where a dot was meant, a bias of the wrong shape
``rows``           wrong only in some rows (or ``columns``, or some ``indices``): one
                   layer's slice, a bias column, one unit
``zero``           all zeros where the true gradient is not
``nonfinite``      NaN or inf in the hand gradient
``missing``        no hand gradient was given for this parameter
``mismatch``       wrong, and not in one of the simple ways above
=================  ====================================================================
"""

import numpy as np

from .autograd import strict_numbers
from .tensor import Tensor

# default relative tolerances by the precision of the hand gradient: float32 code carries
# rounding noise of about 1e-6 relative to the gradient's scale, summed over a batch
DEFAULT_RTOL = {np.dtype(np.float16): 1e-2, np.dtype(np.float32): 1e-3}
FLOAT64_RTOL = 1e-6

HINTS = {
    "negative": "it is the negative of the true gradient: check the sign of the error term "
                "((out - y), not (y - out)) and that the update is W -= lr * grad",
    "transposed": "it is the transpose of the true gradient: for y = x @ W the gradient is "
                  "x.T @ delta, not delta.T @ x",
    "not_summed": "a parameter gets one gradient for the whole batch: add up the "
                  "per-sample ones, e.g. d_out.sum(axis=0)",
    "zero": "it is zero everywhere but the true gradient is not: was it computed at all?",
    "nonfinite": "it contains NaN or inf: look for log(0), division by zero or overflow",
    "missing": "no hand gradient was given for this parameter",
    "mismatch": "it is wrong, and not by a sign, a factor, a transpose or a few rows: "
                "re-derive it step by step and compare intermediate deltas (retain_grad)",
}


class GradientComparison:
    """The verdict for one parameter: shapes, errors, verdict, and a plain-words detail."""

    def __init__(self, name, true_grad, hand_grad, verdict, detail, max_abs_error=None,
                 rel_error=None, factor=None, where=None):
        self.name = name
        self.true_grad = true_grad
        self.hand_grad = hand_grad
        self.expected_shape = true_grad.shape
        self.hand_shape = None if hand_grad is None else np.shape(hand_grad)
        self.shape_ok = self.hand_shape == self.expected_shape
        self.verdict = verdict
        self.detail = detail
        self.max_abs_error = max_abs_error
        self.rel_error = rel_error
        self.factor = factor
        self.where = where
        self.ok = verdict == "ok"

    def __repr__(self):
        return f"<{self.name}: {self.verdict}, {self.detail}>"


class GradientReport:
    """Per-parameter comparisons: ``report.ok``, ``report[name]``, ``print(report)``."""

    def __init__(self, comparisons, loss):
        self.comparisons = comparisons
        self.loss = loss

    @property
    def ok(self):
        return all(c.ok for c in self.comparisons.values())

    def __getitem__(self, name):
        return self.comparisons[name]

    def __iter__(self):
        return iter(self.comparisons.values())

    def __len__(self):
        return len(self.comparisons)

    def __str__(self):
        header = ("parameter", "shape (yours / true)", "max abs err", "rel err", "verdict")
        rows = []
        for c in self.comparisons.values():
            yours = "-" if c.hand_shape is None else _shape_text(c.hand_shape)
            shape = yours if c.shape_ok else f"{yours} / {_shape_text(c.expected_shape)}"
            rows.append((c.name, shape, _number(c.max_abs_error), _number(c.rel_error),
                         _short_verdict(c)))
        widths = [max(len(row[i]) for row in rows + [header]) for i in range(4)]
        lines = [f"gradient check (loss = {self.loss:.6g})"]
        lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths)) + "  " + header[4])
        lines.append("  ".join("-" * w for w in widths) + "  " + "-" * len(header[4]))
        for row in rows:
            lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths)) + "  " + row[4])
        wrong = [c for c in self.comparisons.values() if not c.ok]
        if wrong:
            lines.append("")
            for c in wrong:
                hint = HINTS.get(c.verdict)
                lines.append(f"{c.name}: {c.detail}" + (f"\n    {hint}" if hint else ""))
        else:
            lines.append("all gradients match")
        return "\n".join(lines)

    __repr__ = __str__


def _short_verdict(c):
    if c.ok:
        return "ok"
    if c.verdict == "scaled":
        return f"WRONG: scaled by {c.factor:.4g}"
    if c.where is not None:
        return f"WRONG: {c.verdict} {_list_text(c.where, limit=4)}"
    return "WRONG: " + c.verdict.replace("_", " ")


def _shape_text(shape):
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _number(value):
    return "-" if value is None else f"{value:.2g}"


def compare_gradients(loss_fn, params, hand_grads, rtol=None, atol=None):
    """Check hand-derived gradients against autograd; returns a ``GradientReport``.

    ``params``: {name: ndarray} of the values at which to differentiate.
    ``loss_fn(**tensors)``: the forward pass, returning a one-element Tensor; it may be plain
    numpy code (``np.dot``, ``np.exp``, ``np.maximum``, ``.T``, ...) since numpy functions
    applied to Tensors record the graph.
    ``hand_grads``: {name: ndarray}, your gradients of the loss with respect to each param.
    ``rtol`` (default 1e-6 for float64 hand gradients, 1e-3 for float32) and ``atol``
    (default ``rtol`` times the largest true gradient of all parameters) decide when two
    numbers agree: ``|hand - true| <= atol + rtol * |true|``. The true gradients are
    computed in float64, whatever the dtype of ``params``.
    """
    if not isinstance(params, dict) or not isinstance(hand_grads, dict):
        raise TypeError("compare_gradients: params and hand_grads must be dicts of "
                        "{name: numpy array}")
    unknown = sorted(set(hand_grads) - set(params))
    if unknown:
        raise ValueError(f"compare_gradients: hand_grads has {unknown}, which are not in params "
                         f"({sorted(params)})")
    tensors = {name: Tensor(np.array(value, dtype=np.float64), requires_grad=True, name=name)
               for name, value in params.items()}
    with strict_numbers():   # float(t), math.log(t) inside loss_fn would drop the graph: raise
        loss = loss_fn(**tensors)
    if not isinstance(loss, Tensor):
        raise TypeError(
            f"compare_gradients: loss_fn returned {type(loss).__name__}, not a Tensor, so the "
            "graph was lost on the way; look for float(), np.asarray() or .item() in it")
    if loss._data.size != 1:
        raise ValueError(f"compare_gradients: loss_fn must return one number, got shape "
                         f"{loss.shape}; take the mean or sum of the loss")
    if loss.requires_grad:
        loss.backward()
    true = {name: (t.grad._data if t.grad is not None else np.zeros(t.shape))
            for name, t in tensors.items()}
    global_scale = max((float(np.max(np.abs(g))) for g in true.values() if g.size), default=0.0)
    comparisons = {name: _compare_one(name, true[name], hand_grads.get(name), global_scale,
                                      rtol, atol)
                   for name in params}
    return GradientReport(comparisons, float(loss.item()))


def _compare_one(name, true, hand, global_scale, rtol, atol):
    if hand is None:
        return GradientComparison(name, true, None, "missing", "no hand gradient given")
    hand_array = np.asarray(hand)
    dtype = hand_array.dtype if hand_array.dtype.kind == "f" else np.dtype(np.float64)
    hand = hand_array.astype(np.float64)
    if rtol is None:
        rtol = DEFAULT_RTOL.get(dtype, FLOAT64_RTOL)
    if atol is None:
        # agreement is judged against the size of the gradients in the whole problem, so a
        # near-zero gradient with rounding noise still counts as matching
        atol = rtol * max(global_scale, 1e-8)

    def close(a, b):
        return bool(np.all(np.abs(a - b) <= atol + rtol * np.abs(b)))

    if not np.all(np.isfinite(hand)):
        count = int(np.sum(~np.isfinite(hand)))
        return GradientComparison(name, true, hand_array, "nonfinite",
                                  f"{count} NaN/inf value(s)")
    stats = {}
    if hand.shape == true.shape:
        error = np.abs(hand - true)
        scale = max(float(np.max(np.abs(true))) if true.size else 0.0, 1e-300)
        stats = {"max_abs_error": float(error.max()) if error.size else 0.0,
                 "rel_error": float(error.max() / scale) if error.size else 0.0}
        verdict, detail, extra = _classify(hand, true, close, atol, rtol)
    else:
        verdict, detail, extra = _classify_shape(hand, true, close, atol, rtol)
    return GradientComparison(name, true, hand_array, verdict, detail, **stats, **extra)


def _classify(hand, true, close, atol, rtol):
    """(verdict, detail, extra fields) for a hand gradient of the right shape."""
    if close(hand, true):
        return "ok", "matches", {}
    if not np.any(hand) and np.any(true):
        return "zero", "all zeros where the true gradient is not", {}
    if close(-hand, true):
        return "negative", "the negative of the true gradient", {"factor": -1.0}
    factor = float(np.sum(hand * true) / np.sum(true * true)) if np.any(true) else 0.0
    if factor != 0.0 and close(hand / factor, true):
        return "scaled", f"scaled by {factor:.4g}{_factor_hint(factor)}", {"factor": factor}
    if true.ndim == 2 and true.shape[0] == true.shape[1] and close(hand.T, true):
        return "transposed", "the transpose of the true gradient", {}
    bad = np.abs(hand - true) > atol + rtol * np.abs(true)
    localized = _localize(bad)
    if localized is not None:
        verdict, indices, total = localized
        return (verdict, f"wrong only in {verdict} {_list_text(indices)} ({len(indices)} of "
                         f"{total})", {"where": indices})
    return "mismatch", f"{int(bad.sum())} of {bad.size} elements differ", {}


def _classify_shape(hand, true, close, atol, rtol):
    """The hand gradient has the wrong shape: say whether it is a known rearrangement."""
    shapes = f"{_shape_text(hand.shape)} instead of {_shape_text(true.shape)}"
    if hand.shape == true.T.shape and true.ndim == 2 and close(hand.T, true):
        return "transposed", f"the transpose of the true gradient ({shapes})", {}
    if hand.ndim == true.ndim + 1 and hand.shape[1:] == true.shape:
        # one gradient per sample: judge the sum over the batch as well, since a second
        # mistake (a missing factor, a sign) often comes with this one
        verdict, detail, extra = _classify(hand.sum(axis=0), true, close, atol, rtol)
        then = "" if verdict == "ok" else f"; summed, it is still wrong: {detail}"
        return "not_summed", f"one gradient per sample ({shapes}){then}", extra
    if hand.size == true.size and close(hand.reshape(true.shape), true):
        return "wrong_shape", f"right values, wrong shape ({shapes}); reshape it", {}
    return "wrong_shape", f"wrong shape ({shapes})", {}


def _localize(bad):
    """If the wrong elements fill only some rows/columns/indices, say which (fewest slices)."""
    if bad.ndim == 0:
        return None
    names = {1: ("indices",), 2: ("rows", "columns")}.get(bad.ndim, ())
    best = None
    for axis, verdict in enumerate(names):
        other = tuple(a for a in range(bad.ndim) if a != axis)
        hit = np.flatnonzero(bad.any(axis=other) if other else bad)
        if 0 < len(hit) < bad.shape[axis] and (best is None or len(hit) < len(best[1])):
            best = (verdict, [int(i) for i in hit], bad.shape[axis])
    return best


def _factor_hint(factor):
    rounded = round(factor)
    if abs(factor - 2) < 1e-3:
        return " (a factor 2 from the derivative of a square, or a 1/2 missing?)"
    if abs(factor - 0.5) < 1e-4:
        return " (a factor 1/2: the 2 from the derivative of a square dropped?)"
    if rounded > 2 and abs(factor - rounded) < 1e-3 * rounded:
        return f" (a missing 1/N with N = {rounded}? divide by the batch size)"
    if factor < 1 and abs(1 / factor - round(1 / factor)) < 1e-3 / factor:
        return f" (divided by {round(1 / factor)} once too often?)"
    return ""


def _list_text(indices, limit=8):
    shown = ", ".join(str(i) for i in indices[:limit])
    return shown + (", ..." if len(indices) > limit else "")
