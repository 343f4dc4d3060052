"""Convolution layers: Conv1d and Conv2d, as PyTorch's.

Each forward is ``F.conv1d`` / ``F.conv2d`` (windows cut by ``ops.Unfold``, then one matrix
product with the flattened kernels), so nothing here differentiates. Parameters have
PyTorch's names, shapes and default initialisation.
"""

import math

import numpy as np

from tinygrad_edu import Tensor

from . import functional as F
from . import init
from .module import Module, Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What Conv1d and Conv2d share: arguments, parameters, initialisation, repr."""

    dims = None          # 1 or 2, set by each subclass
    _function = None     # F.conv1d or F.conv2d

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        name, dims = type(self).__name__, self.dims
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels),
                           ("groups", groups)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name}: {arg} must be a positive int, got {value!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must both be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got "
                             f"{padding_mode!r}")
        if device is not None and str(device).split(":")[0] != "cpu":
            raise ValueError(f"{name}: only the CPU is available here, got device={device!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = F.conv._tuple(kernel_size, dims, "kernel_size", name)
        self.stride = F.conv._tuple(stride, dims, "stride", name)
        self.dilation = F.conv._tuple(dilation, dims, "dilation", name)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be an int, a tuple, 'same' or 'valid', "
                                 f"got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 f"convolutions (stride {self.stride})")
            self.padding = padding
        else:
            self.padding = F.conv._tuple(padding, dims, "padding", name, minimum=0)
        self.groups = int(groups)
        self.padding_mode = padding_mode
        dtype = np.float32 if dtype is None else dtype
        self.weight = Parameter(Tensor.zeros(self.out_channels, self.in_channels // self.groups,
                                             *self.kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(Tensor.zeros(self.out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: weight ~ kaiming_uniform_(a=sqrt(5)), i.e. U(-k, k) with
        k = 1/sqrt(fan_in), fan_in = in_channels / groups * prod(kernel_size); bias ~ U(-k, k)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(x)
        dims = self.dims
        if x.ndim not in (dims + 1, dims + 2) or x.shape[-dims - 1] != self.in_channels:
            layout = "(N, C, L) or (C, L)" if dims == 1 else "(N, C, H, W) or (C, H, W)"
            raise ValueError(f"{self._describe()} expected input {layout} with C = "
                             f"{self.in_channels} channels, got shape {tuple(x.shape)}")
        if x.dtype.kind != "f":
            raise TypeError(f"{self._describe()} got input of dtype {x.dtype}; layers need "
                            "floating-point input: convert it with x.float()")
        padding = self.padding
        if self.padding_mode != "zeros":
            x = F.pad(x, self._pad_widths(), mode=self.padding_mode)
            padding = 0
        return type(self)._function(x, self.weight, self.bias, self.stride, padding,
                                    self.dilation, self.groups)

    def _pad_widths(self):
        """F.pad's (left, right, top, bottom) for a non-zero padding_mode (last axis first)."""
        if self.padding == "valid":
            pairs = [(0, 0)] * self.dims
        elif self.padding == "same":
            totals = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
            pairs = [(t // 2, t - t // 2) for t in totals]
        else:
            pairs = [(p, p) for p in self.padding]
        return tuple(w for pair in reversed(pairs) for w in pair)

    def _short_repr(self):
        return f"{type(self).__name__}({self.in_channels}→{self.out_channels})"

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * self.dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv2d(_ConvNd):
    """2-D convolution layer: (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, Ho, Wo).

    ``weight``: (out_channels, in_channels / groups, kh, kw); ``bias``: (out_channels,).
    ``stride``, ``padding`` (int, pair, 'same' or 'valid'), ``dilation`` and ``groups`` as
    ``F.conv2d``; ``padding_mode`` 'zeros' (default), 'reflect', 'replicate' or 'circular'.
    Ho = floor((H + 2 padding - dilation (kh - 1) - 1) / stride) + 1. Float32 parameters
    unless ``dtype`` says otherwise.
    """

    dims = 2
    _function = staticmethod(F.conv2d)


class Conv1d(_ConvNd):
    """1-D convolution layer: (N, C_in, L) or (C_in, L) -> (N, C_out, Lo).

    ``weight``: (out_channels, in_channels / groups, k); other arguments as ``Conv2d``.
    """

    dims = 1
    _function = staticmethod(F.conv1d)
