"""What a released graph keeps: its shape, for drawings, but not the memory of large results.

After backward, a released op still points at its inputs, so as long as the loss is alive
(``loss = ...`` in a loop keeps it until the next step is computed) every activation of the
step would stay in memory. This module plugs into the engine's ``on_release`` point and
swaps each large intermediate input of a released op for a stand-in without the memory.
"""

import numpy as np

from . import autograd

LIGHTEN_MIN_BYTES = 1 << 16
_STAND_INS = {}   # (shape, dtype) -> a read-only array of zeros of that shape, in one element


def _lighten(tensor, ghosts):
    """``tensor``, or for a large intermediate result a stand-in without its memory.

    After backward a released op still points at its inputs, so as long as the loss is
    alive (``loss = ...`` in a loop keeps it until the next step is computed), every
    activation of the step would stay in memory. The stand-in has the same shape, dtype,
    name and op, so the graph can still be walked and drawn, but its data is a single
    repeated zero. Leaves (parameters, inputs) and small results are kept as they are; the
    user's own references to intermediate tensors are not touched. ``ghosts`` makes one
    stand-in per tensor within a backward pass.
    """
    if tensor._op is None or tensor._data.nbytes < LIGHTEN_MIN_BYTES:
        return tensor
    ghost = ghosts.get(id(tensor))
    if ghost is None:
        key = (tensor._data.shape, tensor._data.dtype)
        data = _STAND_INS.get(key)
        if data is None:   # made once per shape: a training loop meets the same ones again
            if len(_STAND_INS) >= 256:
                _STAND_INS.clear()
            zero = np.zeros(1, dtype=key[1])
            zero.flags.writeable = False
            data = _STAND_INS[key] = np.ndarray(key[0], key[1], buffer=zero,
                                                strides=(0,) * len(key[0]))
        ghost = ghosts[id(tensor)] = autograd.TensorBase._wrap(data, tensor._requires_grad)
        ghost._op, ghost._seq, ghost.name = tensor._op, tensor._seq, tensor.name
    return ghost


def lighten_inputs(op, memo):
    """After ``op`` was released: give it stand-ins for its large intermediate inputs.

    ``memo`` lives for one backward pass (the engine's ``on_release`` contract), so a tensor
    used by several ops gets one stand-in.
    """
    for parent in op.inputs:
        if parent._op is not None and parent._data.nbytes >= LIGHTEN_MIN_BYTES:
            op.inputs = tuple([_lighten(t, memo) for t in op.inputs])
            return


autograd.on_release.append(lighten_inputs)
