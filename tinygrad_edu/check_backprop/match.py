"""Step 3, match: what each of the learner's arrays stands for.

Every array the backward pass computed is set against the truth (``Matcher.identify``): a
forward value (``a2``), a right local derivative (``a2 * (1 - a2)``), or some dL/dt, exactly
or times a constant the learner undoes later (-1 for deltas as ``y - out``, N for a 1/N
applied at the end). ``match_events`` does it for every event of the backward pass, in
order. ``name_hint`` reads the learner's names: ``dJdW1`` points at W1, ``delta3`` at z3.
"""

import re

import numpy as np

from ..compare import DEFAULT_RTOL, FACTOR_RTOL, FLOAT64_RTOL, explain_factor


class Match:
    """What a learner's array stands for.

    ``kind``: "grad" (``factor`` times the gradient of ``tensors``), "known" (a forward
    value or a simple function of one: ``a2``, ``1 - a2``, ``z1 > 0``) or None (not
    recognised). A factor other than 1 is a convention while the learner restores it later
    (-1 for deltas as ``y - out``, N for a 1/N left to the end); it is a mistake where it is
    returned.
    """

    def __init__(self, kind, tensors=(), factor=1.0, layout="same"):
        self.kind, self.tensors, self.factor, self.layout = kind, list(tensors), factor, layout

    @property
    def acceptable(self):
        return self.kind in ("grad", "known")

    @property
    def scaled(self):
        return self.kind == "grad" and not is_one(self.factor)


def is_one(factor):
    return abs(factor - 1) <= FACTOR_RTOL


_UNKNOWN = Match(None)


def variants(v, shape):
    """v arranged to ``shape`` as a learner's layout may differ: as is, squeezed, transposed."""
    if v.shape == shape:
        return [("same", v)]
    out = []
    if v.size == int(np.prod(shape)) and tuple(n for n in v.shape if n != 1) == \
            tuple(n for n in shape if n != 1):
        out.append(("same", v.reshape(shape)))
    if v.ndim == 2 and v.T.shape == shape:
        out.append(("transposed", v.T))
    return out


class Matcher:
    """Compares arrays with true values and gradients, at the tolerance of their dtype."""

    def __init__(self, truth, counts):
        self.truth = truth
        self.counts = counts
        self.by_shape = {}
        for key in truth.tensor:
            self.by_shape.setdefault(truth.value[key].shape, []).append(key)
        self._forms = {}

    @staticmethod
    def rtol(value):
        return DEFAULT_RTOL.get(value.dtype, FLOAT64_RTOL) if value.dtype.kind == "f" \
            else FLOAT64_RTOL

    def close(self, v, h, rtol):
        scale = float(np.max(np.abs(h))) if h.size else 0.0
        return bool(np.all(np.abs(v - h) <= rtol * (scale + np.abs(h)) + 1e-300))

    def fit(self, v, h, rtol):
        """The factor c with v = c * h, if there is one (else None)."""
        hh = float(np.sum(h * h))
        if hh == 0.0:
            return None
        c = float(np.sum(v * h)) / hh
        return c if c != 0.0 and self.close(v, c * h, rtol) else None

    def candidates(self, v):
        """Tensors whose value could be v arranged: (tensor id, layout, v arranged)."""
        out = []
        for shape, keys in self.by_shape.items():
            for layout, arranged in variants(v, shape):
                out.extend((key, layout, arranged) for key in keys)
        return out

    def identify(self, raw):
        """The ``Match`` for one of the learner's arrays."""
        if raw is None:
            return _UNKNOWN
        rtol = self.rtol(raw)
        v = raw.astype(np.float64)
        if not np.all(np.isfinite(v)):
            return _UNKNOWN
        if not np.any(v) and v.size > 1:
            return Match("known")   # np.zeros_like(W): an accumulator to be filled
        found = []   # (rank: exact first, then -1, then other factors; factor, key, layout)
        for key, layout, arranged in self.candidates(v):
            g = self.truth.grad.get(key)
            factor = None if g is None or not np.any(g) else self.factor(arranged, g, rtol)
            if factor is not None:   # simplest factor first, then the learner's names
                rank = (0 if is_one(factor) else 1 if is_one(-factor) else
                        2 + len(explain_factor(factor, self.counts)))
                found.append((rank, factor, key, layout))
        if found:
            rank, factor, _, layout = min(
                found, key=lambda f: (f[0], f[2] not in self.truth.names))
            keys = [k for r, c, k, _ in found if r == rank and abs(c - factor) <= FACTOR_RTOL *
                    abs(factor)]
            return Match("grad", self.truth.preferred(keys), factor, layout)
        if self.known(v, rtol):
            return Match("known")
        return _UNKNOWN

    def factor(self, v, g, rtol):
        """c if v = c * g for c = 1, -1 or a factor made of 2 and a count N; else None.
        (A single number is proportional to anything: only 1 and -1 count for it.)"""
        if self.close(v, g, rtol):
            return 1.0
        if self.close(v, -g, rtol):
            return -1.0
        if v.size < 2:
            return None
        c = self.fit(v, g, rtol)
        return c if c is not None and explain_factor(c, self.counts) is not None else None

    def forms(self, key):
        """A forward value and the simple functions of it a backward pass computes on the
        way: -u, 1 - u, u * (1 - u), 1 - u**2, u**2, the mask u > 0."""
        if key not in self._forms:
            u = self.truth.value[key]
            forms = [u, -u, 1 - u, u * (1 - u), 1 - u * u, u * u, (u > 0).astype(np.float64)]
            self._forms[key] = [f for f in forms if f.size == 1 or np.ptp(f) > 0 or f is u]
        return self._forms[key]

    def known(self, v, rtol):
        for key, _, arranged in self.candidates(v):
            if any(self.close(arranged, f, rtol) for f in self.forms(key)):
                return True
        return False

    def forward_names(self, v):
        """The tensors whose forward value v is (arranged as it is)."""
        rtol = self.rtol(v)
        v = v.astype(np.float64)
        return [key for key, layout, arranged in self.candidates(v)
                if layout == "same" and self.close(arranged, self.truth.value[key], rtol)]

    def forward_name(self, v):
        """The tensor whose forward value v is, or None."""
        keys = self.forward_names(v)
        return keys[0] if keys else None


def match_events(events, matcher):
    """Set ``event.match`` for each array of the backward pass, in the order they were made.

    A forward value the forward pass left unnamed takes the name the backward pass gives it
    (``_borrow_name`` writes it into ``truth.names``); the events after it are matched
    knowing that name.
    """
    for event in events:
        event.match = matcher.identify(event.value)
        if event.match.kind == "known":
            _borrow_name(event, matcher)


def _borrow_name(event, matcher):
    """A forward tensor the forward pass left unnamed (``np.tanh(X @ W1 + b1)``) takes
    the backward pass's name for the same value (``z1 = X @ W1 + b1``)."""
    truth = matcher.truth
    keys = matcher.forward_names(event.value)
    if not keys or any(k in truth.names for k in keys) or event.variable.endswith(")"):
        return
    sites = [k for k in keys if k in truth.site_of_z]
    key = sites[0] if sites else max(keys, key=truth.position.get)
    truth.names[key] = event.variable


# ----- the learner's names -------------------------------------------------------------------

_HINTS = [
    (re.compile(r"^d[JLE]_?d_?(?P<base>\w+)$"), "exact"),
    (re.compile(r"^delta_?(?P<base>\d+)$"), "pre"),
    (re.compile(r"^d_?(?P<base>\d+)$"), "pre"),
    (re.compile(r"^(?P<base>\w+?)_delta$"), "pre"),
    (re.compile(r"^(?P<base>\w+?)_error$"), "post"),
    (re.compile(r"^(?:err|error)_?(?P<base>\d+)$"), "post"),
    (re.compile(r"^(?:d|grad|g)_(?P<base>\w+)$"), "exact"),
    (re.compile(r"^(?P<base>\w+?)_grad$"), "exact"),
    (re.compile(r"^d(?P<base>[A-Za-z]\w*)$"), "exact"),
]


def name_hint(variable, truth):
    """The tensor a learner's name points at (``dJdW1`` -> W1, ``delta3`` -> z3, ``d_a2`` ->
    a2, ``layer_2_delta`` -> the input of layer_2's activation), or None."""
    name = variable.replace("self.", "")
    name = re.sub(r"\[.*\]$", "", name)
    by_name = {}
    for key, known in truth.names.items():
        by_name.setdefault(known.replace("self.", ""), key)
    for pattern, kind in _HINTS:
        found = pattern.match(name)
        if not found:
            continue
        base = found.group("base")
        if base.isdigit():
            sites = [s for s in truth.sites
                     if truth.name(s.z).endswith(base) or truth.name(s.a).endswith(base)]
            if sites:
                return sites[0].a if kind == "post" else sites[0].z
            named = [k for k, n in by_name.items() if k.endswith(base) and n in truth.grad]
            return by_name[named[0]] if named else None
        key = by_name.get(base)
        if key is None:
            continue
        if kind == "pre" and key in truth.site_of_a:
            return truth.site_of_a[key].z
        if kind == "post" and key in truth.site_of_z:
            return truth.site_of_z[key].a
        return key
    return None
