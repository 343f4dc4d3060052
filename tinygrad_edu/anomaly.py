"""Anomaly detection: find the first op whose output or gradient holds NaN or inf.

A NaN spreads: once one op produces it, every value computed from it is NaN too, and by the
time the loss shows ``nan`` the op that started it is long gone. Inside ::

    with tg.detect_anomaly():
        loss = loss_fn(model(x), y)
        loss.backward()

every op records the line of your code that created it, and the first op whose forward
result or backward gradient holds NaN or inf raises ``FloatingPointError`` naming the op,
the ranges of its inputs and that line::

    FloatingPointError: exp overflowed: input min -3, max 1.2e4, created at xor.py:31

How it plugs in: while the mode is on, ``check_forward`` sits in the engine's ``on_record``
list (called after every op's forward) and ``check_backward`` in its ``on_backward_step``
list (after every op's backward). Outside the mode both lists are empty: the engine checks
one list per op and nothing else happens, so normal runs pay nothing.

Infinities used on purpose (a mask filled with ``-inf``) also count as anomalies here; use a
large finite value such as ``-1e9`` instead while debugging.
"""

import contextlib
import re
import textwrap

import numpy as np

from . import autograd
from . import ops
from .callsite import user_frame

ACTIVE = 0          # > 0 while detection is on (blocks nest)
_check_nan = True   # False: only record where ops were created, raise nothing


def _plug_in():
    """Put the two checks into the engine's extension points while the mode is on, and take
    them out when it is off, so that the engine does nothing extra outside the mode."""
    for hooks, check in ((autograd.on_record, check_forward),
                         (autograd.on_backward_step, check_backward)):
        if ACTIVE and check not in hooks:
            hooks.append(check)
        elif not ACTIVE and check in hooks:
            hooks.remove(check)


def is_anomaly_enabled():
    """True inside ``detect_anomaly()`` (or after ``set_detect_anomaly(True)``)."""
    return ACTIVE > 0


def is_anomaly_check_nan_enabled():
    """True if anomaly mode raises on NaN/inf (False: it only records where ops were created)."""
    return _check_nan


class detect_anomaly(contextlib.ContextDecorator):
    """Raise ``FloatingPointError`` at the first op whose output or gradient holds NaN or inf.

    A context manager (or a decorator): inside it every op remembers the file and line of
    your code that created it (``op.created_at``), and forward results and backward
    gradients are checked. The error names the op, the ranges of its inputs and that line.
    ``check_nan=False`` records the lines but raises nothing. Blocks nest; on leaving one,
    the previous setting comes back, also when an exception leaves it. Checking every
    value is slow: use it to find a NaN, not for training.
    """

    def __init__(self, check_nan=True):
        self.check_nan = bool(check_nan)
        self._saved = []   # a stack, so that one instance can be entered again while open

    def __enter__(self):
        global ACTIVE, _check_nan
        self._saved.append((ACTIVE, _check_nan))
        ACTIVE += 1
        _check_nan = self.check_nan
        _plug_in()
        return self

    def __exit__(self, *exc):
        global ACTIVE, _check_nan
        ACTIVE, _check_nan = self._saved.pop()
        _plug_in()
        return False


class set_detect_anomaly:
    """Turn anomaly detection on or off at once; as a context manager, until the block ends.

    ``tg.set_detect_anomaly(True)`` switches it on for the rest of the program (as in
    PyTorch); ``with tg.set_detect_anomaly(False): ...`` switches it off for a block only.
    """

    def __init__(self, mode, check_nan=True):
        global ACTIVE, _check_nan
        self.previous = (ACTIVE, _check_nan)
        ACTIVE = max(ACTIVE, 1) if mode else 0
        _check_nan = bool(check_nan)
        _plug_in()

    def __enter__(self):
        return self   # already applied by __init__; __exit__ restores the previous setting

    def __exit__(self, *exc):
        global ACTIVE, _check_nan
        ACTIVE, _check_nan = self.previous
        _plug_in()
        return False


# ----- the two checks the engine calls ---------------------------------------------------------

def check_forward(op, inputs, out):
    """Called by the engine after ``op.forward`` while ``ACTIVE``: record, then check ``out``.

    ``inputs`` are the op's input Tensors and ``out`` the result array.
    """
    op.created_at = user_frame()
    op.created_in = autograd.current_scope()
    if not _check_nan or _finite(out):
        return
    arrays = [_array(t) for t in inputs]
    name = _op_name(op)
    if autograd.state.backward_of:   # a step of a recorded backward pass (create_graph=True)
        owner = autograd.state.backward_of[-1]
        owner_name = _op_name(owner)
        owner_inputs = [_array(t) for t in owner.inputs]
        raise FloatingPointError(
            f"backward of {owner_name} produced {_kinds(out)} (in its {name} step): "
            f"{_ranges(owner_inputs)}, {_where(owner)}{_source(owner)}\n" + _indent(
                f"The forward values were finite; the NaN/inf arose in the backward of "
                f"{owner_name}. {_BACKWARD_ADVICE.get(type(owner), _DEFAULT_BACKWARD_ADVICE)}"))
    bad_inputs = [i for i, a in enumerate(arrays) if not _finite(a)]
    if bad_inputs:
        i = bad_inputs[0]
        headline = (f"{name} received {_kinds(arrays[i])} in input {i}: {_ranges(arrays)}, "
                    f"{_where(op)}")
        advice = ("This input was not computed by an op inside detect_anomaly(), so it came "
                  "from your data, a parameter, or code run outside the block: check it, e.g. "
                  "np.isnan(x).any() and np.isinf(x).any().")
    else:
        headline = f"{_forward_fault(op, arrays, out)}: {_ranges(arrays)}, {_where(op)}"
        advice = _FORWARD_ADVICE.get(type(op), _DEFAULT_ADVICE)
    raise FloatingPointError(f"{headline}{_source(op)}\n  result: {_summary(out)}\n"
                             f"{_indent(advice)}")


def check_backward(op, grad, input_grads):
    """Called by the engine after ``op.backward`` while ``ACTIVE``: check the gradients.

    ``grad`` is the gradient arriving at the op's output; ``input_grads`` holds one gradient
    per input (arrays, or Tensors under ``create_graph=True``; None where there is none).
    """
    if not _check_nan:
        return
    name = _op_name(op)
    arrays = [_array(t) for t in op.inputs]
    grad = _array(grad)
    if not _finite(grad):
        raise FloatingPointError(
            f"backward: the gradient arriving at the output of {name} already holds "
            f"{_kinds(grad)}, {_where(op)}{_source(op)}\n" + _indent(
                "Either the gradient passed to backward() holds it, or the gradients from "
                "several uses of that output added up beyond the float range."))
    for i, g in enumerate(input_grads):
        g = _array(g)
        if g is None or _finite(g):
            continue
        raise FloatingPointError(
            f"backward of {name} produced {_kinds(g)} in the gradient of input {i}: "
            f"{_ranges(arrays)}, {_where(op)}{_source(op)}\n" + _indent(
                f"The forward values were finite and so was the gradient arriving at its "
                f"output (largest |grad| {_num(_abs_max(grad))}); the NaN/inf arose in the "
                f"backward of {name}. {_BACKWARD_ADVICE.get(type(op), _DEFAULT_BACKWARD_ADVICE)}"))


# ----- building the messages -------------------------------------------------------------------

_DEFAULT_ADVICE = ("Values grew beyond the float range: lower the learning rate, normalise the "
                   "inputs, or check the weight initialisation.")

_FORWARD_ADVICE = {
    ops.Exp: "e^x overflows float32 above x = 88.7 (float64: 709.8): subtract the maximum first "
           "(x - x.max()), or use softmax, log_softmax, logsumexp or sigmoid, which do that for "
           "you. Inputs this large often mean the learning rate is too high.",
    ops.Log: "log needs positive inputs: clamp them (x.clamp(min=1e-12)), or use log_softmax / "
           "CrossEntropyLoss / BCEWithLogitsLoss instead of taking the log of a probability.",
    ops.Sqrt: "sqrt needs non-negative inputs: clamp them (x.clamp(min=0)) or add an epsilon.",
    ops.Div: "A denominator is 0 (or tiny): add a small epsilon, e.g. x / (y + 1e-8).",
    ops.Pow: "A negative base with a fractional exponent, or 0 to a negative power: keep the base "
           "positive (x.abs() + 1e-12) or check the exponent.",
}

_DEFAULT_BACKWARD_ADVICE = ("The derivative itself overflowed: lower the learning rate or "
                            "normalise the inputs.")

_BACKWARD_ADVICE = {
    ops.Sqrt: "Its derivative 1/(2 sqrt(x)) is infinite at x = 0: add an epsilon inside, "
            "(x + 1e-12).sqrt().",
    ops.Log: "Its derivative 1/x is infinite at x = 0: clamp the input, x.clamp(min=1e-12).",
    ops.Div: "Its derivative -x/y^2 overflows when the denominator y is 0 or tiny: add an "
           "epsilon to the denominator.",
    ops.Pow: "Its derivative p * x^(p-1) is infinite at x = 0 when p < 1: keep the base away "
           "from 0 (x + 1e-12).",
}


def _forward_fault(op, arrays, out):
    """'exp overflowed', 'log of 0 gave -inf', ...: what went wrong, given finite inputs."""
    kind, name = type(op), _op_name(op)
    if np.isnan(out).any():
        special = {ops.Log: "log of a negative number gave nan",
                   ops.Sqrt: "sqrt of a negative number gave nan",
                   ops.Pow: "pow of a negative base to a fractional power gave nan"}
        if kind is ops.Div and (arrays[1] == 0).any():
            return "div of 0 by 0 gave nan"
        return special.get(kind, f"{name} produced nan (an invalid operation such as "
                                 "inf - inf or 0 * inf)")
    if kind is ops.Log:
        return "log of 0 gave -inf"
    if kind is ops.Div and (arrays[1] == 0).any():
        return "div by 0 gave inf"
    if kind is ops.Pow and (arrays[0] == 0).any():
        return "pow of 0 to a negative power gave inf"
    return f"{name} overflowed"


def _indent(text):
    return textwrap.fill(text, 96, initial_indent="  ", subsequent_indent="  ")


def _op_name(op):
    return type(op).__name__.lower()


def _array(value):
    """The numpy array behind a gradient or input (Tensor or array), or None."""
    if value is None or isinstance(value, (np.ndarray, np.generic)):
        return value
    return np.asarray(value._data)   # a Tensor


def _finite(array):
    return array.dtype.kind not in "fc" or bool(np.isfinite(array).all())


def _kinds(array):
    """'nan', 'inf' or 'nan and inf', with how many of each."""
    parts = []
    nan = int(np.isnan(array).sum())
    inf = int(np.isinf(array).sum())
    if nan:
        parts.append(f"nan ({nan} of {array.size})" if array.size > 1 else "nan")
    if inf:
        parts.append(f"inf ({inf} of {array.size})" if array.size > 1 else "inf")
    return " and ".join(parts)


def _num(value):
    """A number in 3 significant digits, exponent without '+' or leading zeros: 1.2e4."""
    text = f"{value:.3g}"
    return re.sub(r"e([+-])0*(\d)", lambda m: "e" + m.group(1).replace("+", "") + m.group(2), text)


def _abs_max(array):
    return float(np.max(np.abs(array))) if array.size else 0.0


def _range(array):
    """'min -3, max 1.2e4' for one array (its finite part, plus a count of NaN/inf)."""
    if array.dtype.kind == "b":
        return "is a boolean mask"
    if array.size == 0:
        return "is empty"
    finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array
    text = (f"min {_num(finite.min())}, max {_num(finite.max())}" if finite.size
            else "no finite value")
    if finite.size < array.size:
        text += f", and {_kinds(array)}"
    return text


def _ranges(arrays):
    """The ranges of an op's inputs: 'input min .., max ..' or 'input 0 min ..; input 1 ..'."""
    if len(arrays) == 1:
        return f"input {_range(arrays[0])}"
    return "; ".join(f"input {i} {_range(a)}" for i, a in enumerate(arrays))


def _summary(array):
    return f"shape {array.shape} {array.dtype}, {_kinds(array)}"


def _where(op):
    """'created at xor.py:31 in model.0 (Linear)', or how to get that information."""
    created_at = getattr(op, "created_at", None)
    if created_at is None:
        return ("created outside detect_anomaly() (run the forward pass inside the block to "
                "see where)")
    scope = getattr(op, "created_in", ()) or getattr(op, "scope", ())
    module = f" in {scope[-1][0]} ({scope[-1][1]})" if scope else ""
    return f"created at {created_at}{module}"


def _source(op):
    """The line of user code that created the op, on a line of its own ('' if unknown)."""
    created_at = getattr(op, "created_at", None)
    line = created_at.source() if created_at is not None else ""
    return f"\n    {line}" if line else ""
