"""PyTorch's dtype names (``tg.float32``, ``tg.long``, ...) and turning them into numpy dtypes.

A dtype here is numpy's: ``tg.float32`` is ``np.dtype("float32")``, the very object
``t.dtype`` is, so ``t.dtype is tg.float32``, ``t.dtype == tg.float32`` and
``t.dtype == np.float32`` all hold. PyTorch's aliases follow
PyTorch (``tg.int`` is int32, ``tg.long`` int64, ``tg.half`` float16). ``tg.bfloat16`` exists
so that a script naming it gets a clear error where it uses it: numpy has no bfloat16.
"""

import numpy as np

# numpy dtype objects (not the scalar types), so that ``t.dtype is tg.float32`` holds too, as
# ``t.dtype is torch.float32`` does: numpy keeps one object per built-in dtype
float16 = half = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = short = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)
float_ = float32   # tg.float, PyTorch's name for float32 (tg.int: int32)
int_ = int32


class UnsupportedDtype:
    """A PyTorch dtype numpy cannot hold (``tg.bfloat16``): using it raises a TypeError.

    Naming it is fine (``dtype = tg.bfloat16 if fast else tg.float32``); making a tensor of
    it, or converting to it, says what to use instead.
    """

    def __init__(self, name, instead):
        self.name, self.instead = name, instead

    def __repr__(self):
        return f"tinygrad_edu.{self.name}"

    def error(self, op="dtype"):
        """The TypeError that names this dtype, ``op`` and what to use instead."""
        return TypeError(f"{op}: {self.name} is not supported: numpy, which holds the values, "
                         f"has no {self.name} type; use {self.instead} instead")

    @property
    def dtype(self):   # numpy asks for this when the object is passed as dtype=
        raise self.error()


bfloat16 = UnsupportedDtype("bfloat16", "tg.float32 (or tg.float16)")

# t.type() names, as PyTorch's legacy tensor types
TYPE_NAMES = {
    np.dtype(np.float32): "torch.FloatTensor", np.dtype(np.float64): "torch.DoubleTensor",
    np.dtype(np.float16): "torch.HalfTensor", np.dtype(np.int64): "torch.LongTensor",
    np.dtype(np.int32): "torch.IntTensor", np.dtype(np.int16): "torch.ShortTensor",
    np.dtype(np.int8): "torch.CharTensor", np.dtype(np.uint8): "torch.ByteTensor",
    np.dtype(np.bool_): "torch.BoolTensor",
}
_BY_TYPE_NAME = {name: dtype for dtype, name in TYPE_NAMES.items()}


def get_default_dtype():
    """The dtype of floating tensors made from Python floats and by the factories: float32."""
    return float32


def resolve(dtype, op):
    """``dtype`` (a numpy or PyTorch name, or ``'torch.FloatTensor'``) as a numpy dtype.

    Raises a TypeError naming ``op`` for what is not a dtype numpy can hold.
    """
    if isinstance(dtype, UnsupportedDtype):
        raise dtype.error(op)
    if isinstance(dtype, str) and dtype in _BY_TYPE_NAME:
        return _BY_TYPE_NAME[dtype]
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: {dtype!r} is not a dtype; use one such as tg.float32, "
                        "tg.float64, tg.int64 or tg.bool") from None
    if resolved.kind not in "biuf":
        raise TypeError(f"{op}: unsupported dtype {resolved}; use bool, integer or float")
    return resolved


finfo = np.finfo   # tg.finfo(tg.float32).eps, .max, .tiny: numpy's, which takes these dtypes
iinfo = np.iinfo   # tg.iinfo(tg.int64).max
