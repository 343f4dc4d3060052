"""Anomaly detection: find the first op whose output or gradient holds NaN or inf.

(Placeholder: the engine calls these hooks only while ``ACTIVE`` is non-zero; the mode
itself, ``detect_anomaly``, is being written.)
"""

ACTIVE = 0  # number of detect_anomaly() blocks open; the engine checks nothing while 0


def check_forward(op, inputs, out):
    """Called by the engine after ``op.forward`` while ``ACTIVE``; may raise."""


def check_backward(op, grad, input_grads):
    """Called by the engine after ``op.backward`` while ``ACTIVE``; may raise."""
