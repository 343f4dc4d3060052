"""Find the line of a hand-written backward pass where the gradient goes wrong, and say why.

A learner's question is rarely "is my gradient wrong?" but "*where* is it wrong, and why?".
``check_backprop(forward, backward, params)`` answers it in five steps, a module each:

1. **follow** (``follow.py``). Both functions run under Python's line tracer
   (``sys.settrace``), limited to the learner's own code (not tinygrad_edu, nn, numpy or the
   standard library). After each line the arrays it produced are recorded (locals, and
   attributes set on ``self``), together with the names the line read:
   ``delta2 = np.dot(delta3, W2.T) * f(z2)`` read ``delta3``, ``W2`` and ``z2``.
2. **truth** (``truth.py``). ``forward`` ran on Tensors, so autograd gives the true gradient
   of the loss with respect to *every* intermediate, dL/dz2 as well as dL/dW1; the values
   show which tensors are activations (a = sigmoid(z), tanh(z), relu(z), softmax(z)).
3. **match** (``match.py``). Every array of ``backward`` is set against the truth: a forward
   value (``a2``), a right local derivative (``a2 * (1 - a2)``), or some dL/dt, exactly or
   times a constant the learner undoes later (-1 for deltas as ``y - out``, N for a 1/N
   applied at the end).
4. **search** (``search.py``). From each wrong parameter gradient, back through what each
   line read, to the first line whose result is wrong while everything it was computed from
   was right.
5. **words** (``words.py``). That line's value is compared with the classic slips (the
   hypotheses of ``slips.py``), and the mistake is said with the learner's names and a fix:

=================================  =========================================================
mistake                            what was written
=================================  =========================================================
``derivative_at_wrong_point``      an activation's derivative at its output where it takes
                                   its input, ``sigmoid'(sigmoid(z))``, or the reverse,
                                   ``z * (1 - z)`` on the pre-activation
``elementwise_softmax_derivative`` ``s * (1 - s)`` where the softmax's Jacobian (with
                                   cross-entropy simply ``p - y``) is needed
``wrong_relu_mask``                a ReLU mask that is 1 everywhere (``out >= 0`` on the
                                   output) or taken from the wrong tensor
``missing_activation_derivative``  a delta passed back through an activation without its
                                   derivative
``negative``                       the sign flips here and is never flipped back: updates
                                   returned as gradients
``scaled``                         off by a factor k: 2 from a square, N from a mean, -1 from
                                   a sign convention, or a product of them (k = -1/2)
``transposed``                     ``delta.T @ x`` where ``x.T @ delta`` was meant
``not_summed``                     one gradient per sample where a parameter needs their sum
=================================  =========================================================

Such a convention kept throughout and undone at the end is recognised, said once in the
report, and looked past; one never undone is reported where it starts (``negative`` for
updates returned as gradients, ``scaled`` for a dropped 2 or 1/N).

``source.py`` reads the learner's source for ``follow.py`` (statements, the names they read);
``report.py`` holds what is returned, ``BackpropReport`` and ``WrongLine``. Imports run one
way: source <- follow; truth <- match <- slips <- search <- words -> report -> source; this
module calls the steps in order.
"""

import numpy as np

from ..compare import build_report, graph_counts, leaf_tensors
from .follow import forward_names, run_backward, run_forward
from .match import Matcher, match_events
from .report import BackpropReport, WrongLine
from .search import Analysis
from .slips import MISTAKES
from .truth import Truth
from .words import Explainer, convention_notes

__all__ = ["check_backprop", "BackpropReport", "WrongLine", "MISTAKES"]


def check_backprop(forward, backward, params):
    """Find the first line of a hand-written backward pass that computes a wrong gradient.

    ``forward(**params)``: the loss computation, plain numpy code; it runs on Tensors (numpy
    functions applied to Tensors record the graph), as in ``compare_gradients``.
    ``backward(**params)``: the hand-written backward pass, run unchanged on numpy arrays
    (copies of ``params``), returning {name: gradient} or a tuple in the order of
    ``params``. Both may call the learner's own functions and methods.
    ``params``: {name: ndarray}, the values at which to check.

    Returns a ``BackpropReport``: ``print(report)`` shows the gradient table, then the first
    wrong line (file:line and its code), what its variable should have been, the named
    mistake and the fix; ``report.ok``; ``report.first_wrong`` (None when all is right) with
    ``.filename``, ``.line``, ``.variable``, ``.mistake`` and ``.explanation``::

        report = tg.check_backprop(forward, backward, {"W1": W1, "W2": W2})
        print(report)
        report.first_wrong.mistake        # 'derivative_at_wrong_point'

    Both functions are followed with Python's line tracer, limited to the learner's code; a
    trace function set before (a debugger, coverage) is restored afterwards. A forward pass
    that leaves the graph (``math.log(t)``, ``ndarray.dot(t)``) raises a TypeError naming the
    line and how to write it instead.
    """
    _check_arguments(forward, backward, params)
    tensors = leaf_tensors(params)
    # 1. follow the forward pass, on Tensors; 2. the truth autograd gives from it
    loss, forward_recorder = run_forward(forward, tensors)
    truth = Truth(loss, forward_names(forward_recorder), forward_recorder.array_names, tensors)
    # 1. follow the backward pass, on numpy copies; its gradients in compare_gradients' table
    hand, recorder = run_backward(backward, params)
    counts = graph_counts(loss)
    true = {name: truth.grad[id(t)] for name, t in tensors.items()}
    gradients = build_report(true, hand, float(loss.item()), counts)
    # 3. match every array of the backward pass, 4. search for the first wrong line
    matcher = Matcher(truth, counts)
    match_events(recorder.events, matcher)
    analysis = Analysis(truth, recorder, hand, gradients.comparisons, matcher)
    root = analysis.find()
    # 5. the words, and the report
    first_wrong = Explainer(analysis).explain(root) if root is not None else None
    notes = convention_notes(analysis, root) + (gradients.notes if first_wrong is None else [])
    gradients.notes = []   # shown once, below the first wrong line
    files = sorted(forward_recorder.files | recorder.files)
    return BackpropReport(gradients, first_wrong, notes, files)


def _check_arguments(forward, backward, params):
    for name, fn in (("forward", forward), ("backward", backward)):
        if not callable(fn):
            raise TypeError(f"check_backprop: {name} must be a function, got "
                            f"{type(fn).__name__}")
    if not isinstance(params, dict) or not params:
        raise TypeError("check_backprop: params must be a non-empty dict {name: numpy array}, "
                        f"got {type(params).__name__}")
    for name, value in params.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"check_backprop: parameter names are passed as keyword "
                             f"arguments, so each must be a Python name; got {name!r}")
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"check_backprop: params[{name!r}] is not an array of numbers "
                            f"({type(value).__name__})")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"check_backprop: params[{name!r}] contains NaN or inf")
