"""Pooling and resizing layers: MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d, Upsample.

Thin wrappers around the functions of ``nn/functional/conv.py``, with PyTorch's arguments
and reprs; no parameters, nothing differentiated here.
"""

import numbers

from tinygrad_edu import Tensor

from . import functional as F
from .module import Module


class _Pool(Module):
    """Runs ``self._pool(x)``; an error about the input gets the layer's name and path added
    by Module's call (``(raised inside MaxPool2d at model.2)``)."""

    def forward(self, x):
        return self._pool(x if isinstance(x, Tensor) else Tensor(x))


class MaxPool2d(_Pool):
    """The largest value of each window: (N, C, H, W) or (C, H, W) -> (N, C, Ho, Wo).

    ``stride`` defaults to ``kernel_size``; see ``F.max_pool2d`` for padding, dilation,
    ceil_mode, return_indices and how the gradient is routed among tied maxima.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def _pool(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(MaxPool2d):
    """The largest value of each window: (N, C, L) or (C, L) -> (N, C, Lo); as MaxPool2d."""

    def _pool(self, x):
        return F.max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class AvgPool2d(_Pool):
    """The mean of each window: (N, C, H, W) or (C, H, W) -> (N, C, Ho, Wo).

    ``stride`` defaults to ``kernel_size``; ``count_include_pad`` (default True) counts the
    zero padding in each divisor; see ``F.avg_pool2d``.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def _pool(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_Pool):
    """The mean of each window: (N, C, L) or (C, L) -> (N, C, Lo); as AvgPool2d."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        # PyTorch keeps these as 1-tuples (its repr shows kernel_size=(3,))
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def _pool(self, x):
        return F.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


def _single(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


class AdaptiveAvgPool2d(_Pool):
    """Average pooling to a fixed output size: (N, C, H, W) -> (N, C, *output_size).

    ``output_size`` an int or a pair (None keeps that axis); ``AdaptiveAvgPool2d(1)`` is
    global average pooling. See ``F.adaptive_avg_pool2d``.
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def _pool(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """Average pooling to a fixed output length: (N, C, L) -> (N, C, output_size)."""

    def _pool(self, x):
        return F.adaptive_avg_pool1d(x, self.output_size)


class Upsample(_Pool):
    """Resize by ``size`` or ``scale_factor`` with mode 'nearest' (default), 'linear' or
    'bilinear'; see ``F.interpolate``. As PyTorch, ``scale_factor`` is stored as floats
    (``(2, 3)`` becomes ``(2.0, 3.0)``) and ``.name`` is the class name."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        self.scale_factor = _as_floats(scale_factor)
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def _pool(self, x):
        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self):
        text = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else \
            f"size={self.size!r}"
        return text + f", mode={self.mode!r}"


def _as_floats(scale_factor):
    """A number or a tuple of numbers as float(s); anything else unchanged (interpolate
    names it in its error)."""
    def is_number(value):
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    if is_number(scale_factor):
        return float(scale_factor)
    if isinstance(scale_factor, tuple) and all(is_number(f) for f in scale_factor):
        return tuple(float(f) for f in scale_factor)
    return scale_factor
