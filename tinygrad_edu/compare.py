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
                   squared error, a learning rate folded into the gradient; a factor made
                   of several of these (k = -1/2: a sign mix-up AND a dropped 2) names each
``transposed``     X @ delta.T where X.T @ delta was meant
``not_summed``     one gradient per sample: the sum over the batch axis is missing
``wrong_shape``    an outer product where a dot was meant, a bias of the wrong shape (the
                   detail says whether the values are right once reshaped)
``rows``           wrong only in some rows (or ``columns``, or some ``indices``): one
                   layer's slice, a bias column, one unit
``zero``           all zeros where the true gradient is not
``nonfinite``      NaN or inf in the hand gradient
``missing``        no hand gradient was given for this parameter
``mismatch``       wrong, and not in one of the simple ways above
=================  ====================================================================

To find *where* in a hand-written backward pass a gradient goes wrong, see
``check_backprop``, which builds on this module.
"""

import numpy as np

from . import autograd
from .autograd import strict_numbers
from .tensor import Tensor

# default relative tolerances by the precision of the hand gradient: float32 code carries
# rounding noise of about 1e-6 relative to the gradient's scale, summed over a batch
DEFAULT_RTOL = {np.dtype(np.float16): 1e-2, np.dtype(np.float32): 1e-3}
FLOAT64_RTOL = 1e-6
# a factor counts as "2" or "N" when it is within this relative distance of it
FACTOR_RTOL = 1e-3

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
                "re-derive it step by step and compare intermediate deltas (retain_grad), "
                "or let tg.check_backprop(forward, backward, params) find the line",
}

# what each part of a factor means, and what to do about it (see explain_factor)
FACTOR_HINTS = {
    "sign": "check the sign of the error term ((out - y), not (y - out)) and that the update "
            "is W -= lr * grad",
    "half": "the derivative of a square keeps its 2: d/d out of (out - y)**2 is 2 * (out - y)",
    "double": "an extra 2: the loss has a 1/2 in front (0.5 * sum((out - y)**2)) whose 2 "
              "cancels, or the 2 was applied twice",
    "times_n": "the loss takes a mean, so its gradient is divided by the count N",
    "over_n": "the 1/N of the mean was applied more than once (once per layer?)",
    "unexplained": "the factor is none of the usual ones (2, 1/N, -1): a learning rate folded "
                   "in? With one sample or one output unit a wrong delta also looks like a "
                   "multiple of the gradient: tg.check_backprop(forward, backward, params) "
                   "finds the line",
}


def explain_factor(k, counts=()):
    """Split a factor k into the usual slips, as [(key, words), ...]; None if it does not split.

    k = sign * 2^a * N^b with a, b in {-1, 0, 1} and N one of ``counts`` (the sizes that a
    mean may divide by: batch size, number of outputs). The split with fewest parts wins, so
    k = 2 is "a factor 2" even when the batch has 2 rows. ``[]`` means k = 1.
    """
    parts = [("sign", "a sign mix-up")] if k < 0 else []
    size = abs(k)
    options = [(0, 0, None)] + [(a, 0, None) for a in (-1, 1)]
    options += [(0, b, n) for n in counts for b in (1, -1)]
    options += [(a, b, n) for n in counts for a in (-1, 1) for b in (1, -1)]
    for a, b, n in options:
        value = 2.0 ** a * (float(n) ** b if n else 1.0)
        if abs(size - value) <= FACTOR_RTOL * value:
            if a == -1:
                parts.append(("half", "a dropped factor 2"))
            if a == 1:
                parts.append(("double", "an extra factor 2"))
            if b == 1:
                parts.append(("times_n", f"a missing 1/N with N = {n}"))
            if b == -1:
                parts.append(("over_n", f"a division by N = {n} too many"))
            return parts
    return None


def graph_counts(loss):
    """The sizes a mean in the graph behind ``loss`` may have divided by (each >= 3)."""
    counts = set()
    for t in autograd.walk(loss):
        if t.ndim:
            counts.update((t.shape[0], t._data.size))
    return sorted(n for n in counts if n >= 3)


class GradientComparison:
    """The verdict for one parameter: shapes, errors, verdict, and a plain-words detail.

    ``hints`` lists what to check, one line per part of the verdict (a factor -1/2 gets a
    hint for the sign and one for the dropped 2).
    """

    def __init__(self, name, true_grad, hand_grad, verdict, detail, max_abs_error=None,
                 rel_error=None, factor=None, where=None, hints=None):
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
        self.hints = hints if hints is not None else [h for h in [HINTS.get(verdict)] if h]
        self.ok = verdict == "ok"

    def __repr__(self):
        return f"<{self.name}: {self.verdict}, {self.detail}>"


class GradientReport:
    """Per-parameter comparisons: ``report.ok``, ``report[name]``, ``print(report)``.

    ``report.notes`` holds remarks that are not errors, e.g. that every weight gradient is
    exactly zero (a zero-initialised network: right gradients, and nothing will learn).
    """

    def __init__(self, comparisons, loss):
        self.comparisons = comparisons
        self.loss = loss
        self.notes = _notes(comparisons)

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
        return self.text()

    def text(self, hints=True):
        """The table, then a line per wrong parameter (with what to check, if ``hints``)."""
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
                lines.append(f"{c.name}: {c.detail}")
                lines.extend(f"    {hint}" for hint in (c.hints if hints else []))
        else:
            lines.append("all gradients match")
        lines.extend(self.notes)
        return "\n".join(lines)

    __repr__ = __str__


def _notes(comparisons):
    """Remarks on a report whose gradients all match (nothing to say otherwise)."""
    if not comparisons or not all(c.ok for c in comparisons.values()):
        return []
    # weights: the matrices; a network of vectors only (a single neuron) counts all of them
    weights = [c for c in comparisons.values() if c.true_grad.ndim >= 2]
    weights = weights or list(comparisons.values())
    if all(not np.any(c.true_grad) for c in weights):
        names = ", ".join(c.name for c in weights)
        return [f"note: every weight gradient ({names}) is exactly zero. The gradients are "
                "right, and nothing will learn: a network whose weights start at zero (or "
                "all equal) keeps every hidden unit the same. Initialise the weights "
                "randomly, e.g. rng.standard_normal(shape) * 0.1"]
    return []


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
    check_names(hand_grads, params, "compare_gradients", "hand_grads")
    tensors = leaf_tensors(params)
    with strict_numbers():   # float(t), math.log(t) inside loss_fn would drop the graph: raise
        loss = loss_fn(**tensors)
    check_loss(loss, "compare_gradients", "loss_fn")
    if loss.requires_grad:
        loss.backward()
    true = {name: (t.grad._data if t.grad is not None else np.zeros(t.shape))
            for name, t in tensors.items()}
    counts = graph_counts(loss) if loss.requires_grad else []
    return build_report(true, hand_grads, float(loss.item()), counts, rtol, atol)


def check_names(hand_grads, params, caller, what):
    """Raise a ValueError naming any gradient that has no parameter of that name."""
    unknown = sorted(set(hand_grads) - set(params))
    if unknown:
        raise ValueError(f"{caller}: {what} has {unknown}, which are not in params "
                         f"({sorted(params)})")


def leaf_tensors(params):
    """{name: float64 Tensor that requires grad}, one per parameter (copies of the arrays)."""
    return {name: Tensor(np.array(value, dtype=np.float64), requires_grad=True, name=name)
            for name, value in params.items()}


def check_loss(loss, caller, fn_name):
    """Raise a clear error unless ``loss`` is a one-element Tensor."""
    if not isinstance(loss, Tensor):
        raise TypeError(
            f"{caller}: {fn_name} returned {type(loss).__name__}, not a Tensor, so the "
            "graph was lost on the way; look for float(), np.asarray() or .item() in it")
    if loss._data.size != 1:
        raise ValueError(f"{caller}: {fn_name} must return one number, got shape "
                         f"{loss.shape}; take the mean or sum of the loss")


def build_report(true, hand_grads, loss_value, counts=(), rtol=None, atol=None):
    """The ``GradientReport`` for true gradients {name: array} against hand ones.

    ``counts``: sizes a mean may divide by, to explain a factor N (see ``explain_factor``).
    """
    global_scale = max((float(np.max(np.abs(g))) for g in true.values() if g.size), default=0.0)
    judge = _Judge(global_scale, counts, rtol, atol)
    comparisons = {name: judge.compare(name, true[name], hand_grads.get(name))
                   for name in true}
    return GradientReport(comparisons, loss_value)


class _Judge:
    """Compares one hand gradient with the true one, at the tolerances of its dtype."""

    def __init__(self, global_scale, counts, rtol, atol):
        self.global_scale = global_scale
        self.counts = counts
        self.rtol = rtol
        self.atol = atol

    def compare(self, name, true, hand):
        if hand is None:
            return GradientComparison(name, true, None, "missing", "no hand gradient given")
        hand_array = np.asarray(hand)
        dtype = hand_array.dtype if hand_array.dtype.kind == "f" else np.dtype(np.float64)
        if hand_array.dtype.kind not in "biuf":
            raise TypeError(f"the hand gradient for {name!r} is not an array of numbers "
                            f"({type(hand).__name__} of dtype {hand_array.dtype})")
        hand = hand_array.astype(np.float64)
        rtol = self.rtol if self.rtol is not None else DEFAULT_RTOL.get(dtype, FLOAT64_RTOL)
        # agreement is judged against the size of the gradients in the whole problem, so a
        # near-zero gradient with rounding noise still counts as matching
        atol = self.atol if self.atol is not None else rtol * max(self.global_scale, 1e-8)

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
            verdict = self.classify(hand, true, close, atol, rtol)
        else:
            verdict = self.classify_shape(hand, true, close, atol, rtol)
        return GradientComparison(name, true, hand_array, verdict.name, verdict.detail,
                                  **stats, **verdict.extra, hints=verdict.hints)

    def classify(self, hand, true, close, atol, rtol):
        """The verdict for a hand gradient of the right shape."""
        if close(hand, true):
            return _Verdict("ok", "matches")
        if not np.any(hand) and np.any(true):
            return _Verdict("zero", "all zeros where the true gradient is not")
        if close(-hand, true):
            return _Verdict("negative", "the negative of the true gradient", factor=-1.0)
        factor = float(np.sum(hand * true) / np.sum(true * true)) if np.any(true) else 0.0
        if factor != 0.0 and close(hand / factor, true):
            return self.scaled(factor)
        if true.ndim == 2 and true.shape[0] == true.shape[1] and close(hand.T, true):
            return _Verdict("transposed", "the transpose of the true gradient")
        bad = np.abs(hand - true) > atol + rtol * np.abs(true)
        localized = _localize(bad)
        if localized is not None:
            name, indices, total = localized
            return _Verdict(name, f"wrong only in {name} {_list_text(indices)} "
                                  f"({len(indices)} of {total})", where=indices)
        return _Verdict("mismatch", f"{int(bad.sum())} of {bad.size} elements differ")

    def scaled(self, factor):
        """'scaled by k', with every part of k that can be named and a hint for each."""
        parts = explain_factor(factor, self.counts)
        if parts is None:
            return _Verdict("scaled", f"scaled by {factor:.4g}", factor=factor,
                            hints=[FACTOR_HINTS["unexplained"]])
        words = " AND ".join(text for _, text in parts)
        return _Verdict("scaled", f"scaled by {factor:.4g}: {words}", factor=factor,
                        hints=[FACTOR_HINTS[key] for key, _ in parts])

    def classify_shape(self, hand, true, close, atol, rtol):
        """The hand gradient has the wrong shape: say whether it is a known rearrangement,
        and whether its values are right once rearranged."""
        shapes = f"{_shape_text(hand.shape)} instead of {_shape_text(true.shape)}"
        if true.ndim == 2 and hand.shape == true.T.shape:
            inner = self.classify(hand.T, true, close, atol, rtol)
            return _also("transposed", f"the transpose of the true gradient ({shapes})",
                         "transposed back", inner)
        axis = per_sample_axis(hand.shape, true.shape)
        if axis is not None:
            # one gradient per sample: judge the sum over the batch as well, since a second
            # mistake (a missing factor, a sign) often comes with this one
            summed = hand.sum(axis=axis).reshape(true.shape)
            inner = self.classify(summed, true, close, atol, rtol)
            verdict = _also("not_summed", f"one gradient per sample ({shapes})", "summed", inner)
            if axis != 0:   # one column per sample
                verdict.hints[0] = ("a parameter gets one gradient for the whole batch: add up "
                                    f"the per-sample columns, e.g. dZ.sum(axis={hand.ndim - 1}, "
                                    "keepdims=True)")
            return verdict
        if hand.size == true.size:
            inner = self.classify(hand.reshape(true.shape), true, close, atol, rtol)
            if inner.name == "ok":
                return _Verdict("wrong_shape", f"right values, wrong shape ({shapes}); "
                                               f"reshape it",
                                hints=["reshape it to the parameter's shape"])
            return _also("wrong_shape", f"wrong shape ({shapes})",
                         f"reshaped to {_shape_text(true.shape)}", inner)
        return _Verdict("wrong_shape", f"wrong shape ({shapes})",
                        hints=["the gradient of a parameter has the parameter's shape"])


def per_sample_axis(shape, true_shape):
    """The batch axis if an array of ``shape`` holds one ``true_shape`` gradient per sample:
    rows (axis 0, with or without keepdims) or, in column layout, columns (axis -1). A
    leading axis of 1 is a keepdims slip, not a batch: that is a reshape."""
    if len(shape) >= 1 and shape[0] > 1 and (shape[1:] == true_shape or (
            len(shape) == len(true_shape) and true_shape[:1] == (1,) and
            shape[1:] == true_shape[1:])):
        return 0
    if len(shape) == len(true_shape) >= 2 and true_shape[-1] == 1 and shape[-1] > 1 and \
            shape[:-1] == true_shape[:-1]:
        return -1
    return None



class _Verdict:
    """A verdict's name, its detail in words, extra fields (factor, where) and hints."""

    def __init__(self, name, detail, hints=None, **extra):
        self.name = name
        self.detail = detail
        self.extra = extra
        self.hints = hints if hints is not None else [h for h in [HINTS.get(name)] if h]


def _also(name, detail, rearranged, inner):
    """A shape verdict, plus what the values are once rearranged (if still wrong)."""
    hints = [h for h in [HINTS.get(name)] if h]
    if inner.name == "ok":
        return _Verdict(name, detail, hints=hints, **inner.extra)
    return _Verdict(name, f"{detail}; {rearranged}, it is still wrong: {inner.detail}",
                    hints=hints + inner.hints, **inner.extra)


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


def _list_text(indices, limit=8):
    shown = ", ".join(str(i) for i in indices[:limit])
    return shown + (", ..." if len(indices) > limit else "")
