"""The classic slips of a hand-written backward pass, as hypotheses about a wrong value.

Each ``Hypothesis`` says "the value is c * h": h what a named slip computes in place of the
true gradient, c a factor found later. ``site_hypotheses`` gives the slips at an activation
(its derivative at the wrong point, left out, an element-wise softmax derivative, a ReLU mask
of ones), ``relu_mask_hypothesis`` a mask taken from the wrong tensor, and
``distortion_hypotheses`` a true gradient gone wrong as a whole (scaled, transposed, not
summed over the batch). ``MISTAKES`` lists the names a report may give.
"""

import numpy as np

from ..compare import per_sample_axis
from .match import variants
from .truth import sigmoid

MISTAKES = ("derivative_at_wrong_point", "elementwise_softmax_derivative", "wrong_relu_mask",
            "missing_activation_derivative", "negative", "scaled", "transposed", "not_summed")



class Hypothesis:
    """"The value is ``c * h``": h what a named slip would have computed, c a factor."""

    def __init__(self, mistake, variant, target, h, site=None, layout="same", axis=None):
        self.mistake, self.variant, self.target = mistake, variant, target
        self.h, self.site = h, site
        self.layout, self.axis = layout, axis   # how v is compared: same, transposed, summed
        self.factor = None
        self.score = None
        self.source = None      # wrong_relu_mask: the tensor the mask was taken from


def site_hypotheses(truth, site):
    """What each slip at an activation a = f(z) computes in place of dL/dz.

    g = dL/da arrives at the activation's output; the right value is dL/dz = g * f'(z)
    (for softmax, the Jacobian: a * (g - sum(g * a)) along the axis).
    """
    g, g_z = truth.grad[site.a], truth.grad[site.z]
    a, z = truth.value[site.a], truth.value[site.z]
    wrong = [("missing_activation_derivative", None, g)]            # g * 1
    if site.kind == "sigmoid":
        # sigmoid'(x) = s(x) (1 - s(x)): taken at x = a, or the output form x (1 - x) at z
        wrong += [("derivative_at_wrong_point", "output", g * sigmoid(a) * (1 - sigmoid(a))),
                  ("derivative_at_wrong_point", "input", g * z * (1 - z)),
                  (None, "twice", g_z * a * (1 - a))]     # a - y (cross-entropy) times a(1-a)
    elif site.kind == "tanh":
        # tanh'(x) = 1 - tanh(x)^2: taken at x = a, or the output form 1 - x^2 at z
        wrong += [("derivative_at_wrong_point", "output", g * (1 - np.tanh(a) ** 2)),
                  ("derivative_at_wrong_point", "input", g * (1 - z ** 2))]
    elif site.kind == "relu":
        # relu'(z) = [z > 0]; a mask of ones (a >= 0 on the output) leaves g unchanged
        wrong = [("wrong_relu_mask", "ones", g)]
    elif site.kind == "softmax":
        # the diagonal of the Jacobian only: g * a (1 - a), or (p - y)/N times a (1 - a)
        wrong += [("elementwise_softmax_derivative", "jacobian", g * a * (1 - a)),
                  ("elementwise_softmax_derivative", "cross_entropy", g_z * a * (1 - a))]
    return [Hypothesis(m, variant, site.z, h, site) for m, variant, h in wrong]


def relu_mask_hypothesis(truth, site, v):
    """For a ReLU: is v = g * m for a 0/1 mask m other than (z > 0)? (A mask taken from the
    wrong tensor.) The hypothesis names the tensor the mask came from, when one fits."""
    g, z = truth.grad[site.a], truth.value[site.z]
    if v.shape != g.shape or not np.any(g):
        return None
    nonzero = np.abs(g) > 1e-12 * np.max(np.abs(g))
    for sign in (1, -1):
        ratio = v[nonzero] / (sign * g[nonzero])
        mask = np.round(ratio)
        if not (np.allclose(ratio, mask, atol=1e-3) and np.all((mask == 0) | (mask == 1))):
            continue
        m = np.zeros(g.shape)
        m[nonzero] = mask
        if np.array_equal(m[nonzero], (z > 0)[nonzero]) or np.all(m[nonzero] == 1):
            return None   # the right mask, or all ones (a hypothesis of its own)
        hypothesis = Hypothesis("wrong_relu_mask", "other", site.z, g * m, site)
        hypothesis.source = _mask_source(truth, site, m, nonzero)
        return hypothesis
    return None


def _mask_source(truth, site, mask, where):
    """A forward tensor t (not z) with (t > 0) or (t >= 0) equal to ``mask``, or None."""
    for key in truth.order_ids:
        value = truth.value[key]
        if key == site.z or value.shape != mask.shape:
            continue
        for candidate in (value > 0, value >= 0):
            if np.array_equal(candidate[where], mask[where]):
                return key
    return None


def distortion_hypotheses(truth, key, v):
    """A true gradient gone wrong as a whole: scaled (or negated), transposed, not summed."""
    g = truth.grad[key]
    out = []
    for layout, arranged in variants(v, g.shape):
        out.append(Hypothesis("transposed" if layout == "transposed" else "scaled", None, key,
                              g, layout=layout))
    axis = per_sample_axis(v.shape, g.shape)
    if axis is not None:
        out.append(Hypothesis("not_summed", None, key, g, layout="summed", axis=axis))
    return out


def arrange(v, hypothesis):
    """v laid out as the hypothesis compares it."""
    if hypothesis.layout == "summed":
        return v.sum(axis=hypothesis.axis).reshape(hypothesis.h.shape)
    for layout, arranged in variants(v, hypothesis.h.shape):
        if layout == hypothesis.layout:
            return arranged
    return None
