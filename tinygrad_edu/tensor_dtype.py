"""Tensor methods for dtypes and devices: ``to``, ``float()``, ``long()``, ``type``, ``cpu()``.

Part of ``Tensor`` (tensor.py lists the parts). Float-to-float conversions are recorded
(``ops.Cast``) so the gradient passes through; conversions to integers or bools are not.
There is only the CPU: ``cuda()`` and ``to("cuda")`` raise.
"""

import numpy as np

from . import devices
from . import dtypes
from . import ops
from .autograd import TensorBase, apply
from .factories import FLOAT32


class DtypeMethods:
    """Conversions between dtypes, and PyTorch's device methods (everything is on the CPU).

    A part of ``Tensor`` (tensor.py): its methods work on ``self`` as a Tensor.
    """

    __slots__ = ()   # the slots are TensorBase's

    def is_floating_point(self):
        """True for float16/32/64 tensors."""
        return self._data.dtype.kind == "f"

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False,
           memory_format=None):
        """This tensor in another dtype (or "on a device": there is only the CPU), as PyTorch.

        ``x.to(tg.float64)``, ``x.to("cpu")``, ``x.to(device, dtype)``, ``x.to(other)``
        (other's dtype), ``x.to(device=..., dtype=..., non_blocking=True)``. Returns ``self``
        when nothing changes (with ``copy=True``, a copy); float-to-float conversions keep
        the graph. ``non_blocking`` and ``memory_format`` change nothing on the CPU. A GPU
        device (``"cuda"``) raises a RuntimeError.
        """
        for arg in args:
            if isinstance(arg, TensorBase):
                dtype = arg._data.dtype
            elif isinstance(arg, (str, devices.device, int)) and not isinstance(arg, bool):
                devices.check(arg, "to")
            else:
                dtype = arg
        if device is not None:
            devices.check(device, "to")
        if dtype is None:
            return self.clone() if copy else self
        out = self._cast(dtypes.resolve(dtype, "to"))
        return out.clone() if copy and out is self else out

    def _cast(self, dtype):
        """This tensor in numpy dtype ``dtype`` (itself if it is already); floats keep the graph."""
        if dtype == self._data.dtype:
            return self
        if dtype.kind == "f":
            return apply(ops.Cast, self, dtype=dtype)
        return TensorBase._wrap(self._data.astype(dtype))

    def astype(self, dtype):
        """numpy's name for a conversion: the same as ``to(dtype)``."""
        return self._cast(dtypes.resolve(dtype, "astype"))

    def type(self, dtype=None, non_blocking=False):
        """Without an argument, PyTorch's type name (``'torch.FloatTensor'``); with a dtype
        (or such a name), the tensor converted to it, as ``to(dtype)``."""
        if dtype is None:
            return dtypes.TYPE_NAMES[self._data.dtype]
        return self._cast(dtypes.resolve(dtype, "type"))

    def type_as(self, other):
        """This tensor in ``other``'s dtype."""
        return self._cast(other.dtype)

    @property
    def device(self):
        """Where the tensor lives: always ``device(type='cpu')``."""
        return devices.CPU

    @property
    def is_cuda(self):
        """Always False: tensors live on the CPU."""
        return False

    def cpu(self):
        """The tensor itself: it is on the CPU already."""
        return self

    def cuda(self, device=None, non_blocking=False):
        """Raises: there is no GPU (see ``tg.cuda.is_available()``)."""
        raise devices.cuda_error("cuda()")

    def contiguous(self, memory_format=None):
        """The tensor itself (its array is laid out in order whenever it matters here)."""
        return self

    def is_contiguous(self, memory_format=None):
        """Whether the values are laid out in order in memory."""
        return bool(self._data.flags.c_contiguous)

    def float(self):
        return self._cast(FLOAT32)

    def double(self):
        return self._cast(np.dtype(np.float64))

    def half(self):
        """This tensor as float16."""
        return self._cast(np.dtype(np.float16))

    def long(self):
        return self._cast(np.dtype(np.int64))

    def int(self):
        return self._cast(np.dtype(np.int32))

    def short(self):
        """This tensor as int16."""
        return self._cast(np.dtype(np.int16))

    def char(self):
        """This tensor as int8."""
        return self._cast(np.dtype(np.int8))

    def byte(self):
        """This tensor as uint8."""
        return self._cast(np.dtype(np.uint8))

    def bool(self):
        return self._cast(np.dtype(np.bool_))
