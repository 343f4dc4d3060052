"""Which arrays were changed in place, and when: what keeps a saved value honest.

An op saves arrays for its backward (``Mul`` keeps both factors, ``Exp`` its result). If one
of them is changed in place before backward runs (``h += 1``, ``p -= lr * p.grad``,
``x[0] = 5``), the backward would compute with the new values and give a wrong gradient
without any sign of it. PyTorch keeps a version counter per tensor for this; here every
recorded result and every in-place write draw a number from one counter, ``sequence``, so
"changed after the op was recorded" is simply "written with a larger number".

Writes are remembered per *storage*: the numpy array that owns the memory (a view's
``.base``, followed to the end), so a write through any view, alias or ``.data`` of a tensor
is seen by every op that saved another view of it. Nothing is done per op while recording:
the check runs in backward, and only for an op recorded before the latest write.
"""

import itertools
import weakref

import numpy as np

from . import callsite

sequence = itertools.count(1)   # numbers recorded results and in-place writes, in order


class _Writes:
    """The number of the latest in-place write (0: none yet), read by backward."""

    last = 0


state = _Writes()
_by_storage = {}   # id(owner array) -> [number, weakref to the owner, where it happened]


def _owner(array):
    """The array that owns ``array``'s memory (itself, unless it is a view)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _forget(ref, key):
    # the owner was freed: drop its entry, unless the id already belongs to a new array
    entry = _by_storage.get(key)
    if entry is not None and entry[1] is ref:
        del _by_storage[key]


def note_write(array, where=None):
    """Record that ``array``'s memory is being changed in place now.

    ``where`` is the line of user code that does it (found on the stack when not given), so
    that a failing backward can point at it.
    """
    note_writes((array,), callsite.user_frame() if where is None else where)


def note_writes(arrays, where):
    """``note_write`` for several arrays changed by one line (an optimizer step: every
    parameter, every step). The common case, an array that owns its memory and was written
    before, costs a dict lookup and two stores."""
    number = next(sequence)
    for array in arrays:
        owner = array if array.base is None else _owner(array)
        key = id(owner)
        entry = _by_storage.get(key)
        if entry is not None and entry[1]() is owner:
            entry[0], entry[2] = number, where
        else:
            _by_storage[key] = [number, weakref.ref(owner, lambda r, key=key: _forget(r, key)),
                                where]
    state.last = number


def write_after(array, number):
    """``(number, where)`` of a write to ``array``'s memory made after ``number``, or None."""
    owner = _owner(array)
    entry = _by_storage.get(id(owner))
    if entry is None or entry[1]() is not owner or entry[0] <= number:
        return None
    return entry[0], entry[2]


def version_used_by(tensor, number):
    """The version of ``tensor`` that an op recorded with ``number`` took as its input.

    An op points at its input *Tensor objects*. A recorded in-place change (``h += 1`` on
    an intermediate, ``x[i] = v``) gives the changed tensor a new history, and keeps the old
    one in a snapshot, ``tensor._previous = (number of the change, snapshot)``. An op
    recorded before the change must go on into the old history, so backward asks here.
    """
    previous = getattr(tensor, "_previous", None)
    while previous is not None and number < previous[0]:
        tensor = previous[1]
        previous = getattr(tensor, "_previous", None)
    return tensor


def check_saved(op, number):
    """Raise if an array that ``op`` saved for backward was changed in place after the op
    was recorded (with ``number``); called by backward only when some write came later."""
    saved = op.__dict__.items() if op._saved is None else (
        (name, getattr(op, name, None)) for name in op._saved)
    for name, value in saved:
        if not isinstance(value, np.ndarray):
            continue
        found = write_after(value, number)
        if found is not None:
            where = f" at {found[1]} ({found[1].source()})" if found[1] is not None else ""
            op_name = type(op).__name__
            raise RuntimeError(
                f"backward: {op_name} saved a value for its gradient ({name!r}), and that value "
                f"was changed in place{where} after {op_name} used it, so the gradient would "
                "come out wrong. Change it only after backward(), or work on a copy: "
                "write `x = x + 1` instead of `x += 1`, or use `x.clone()` before changing it")
