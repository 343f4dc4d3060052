"""Convolution layers: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, as PyTorch's.

Each forward is ``F.conv1d`` / ``F.conv2d`` (windows cut by ``ops.Unfold``, then one matrix
product with the flattened kernels) or a transposed one (one matrix product, then
``ops.Fold``), so nothing here differentiates. Parameters have
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
    transposed = False   # True for ConvTranspose*, as PyTorch's attribute

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
        self.output_padding = (0,) * dims     # PyTorch's attribute; ConvTranspose sets its own
        dtype = np.float32 if dtype is None else dtype
        self.weight = Parameter(Tensor.zeros(*self._weight_shape(), dtype=dtype))
        if bias:
            self.bias = Parameter(Tensor.zeros(self.out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _weight_shape(self):
        return (self.out_channels, self.in_channels // self.groups) + self.kernel_size

    def reset_parameters(self):
        """PyTorch's default: weight ~ kaiming_uniform_(a=sqrt(5)), i.e. U(-k, k) with
        k = 1/sqrt(fan_in), fan_in = in_channels / groups * prod(kernel_size); bias ~ U(-k, k)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def _channels_checked(self, x):
        """``x`` as a Tensor of shape (N, C, *spatial) or (C, *spatial) with C = in_channels,
        or a ValueError naming the layer and the shape."""
        x = x if isinstance(x, Tensor) else Tensor(x)
        dims = self.dims
        if x.ndim not in (dims + 1, dims + 2) or x.shape[-dims - 1] != self.in_channels:
            layout = "(N, C, L) or (C, L)" if dims == 1 else "(N, C, H, W) or (C, H, W)"
            raise ValueError(f"{self._describe()} expected input {layout} with C = "
                             f"{self.in_channels} channels, got shape {tuple(x.shape)}")
        return x

    def forward(self, x):
        x = self._channels_checked(x)
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
        if self.output_padding != (0,) * self.dims:
            text += f", output_padding={self.output_padding}"
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


class _ConvTransposeNd(_ConvNd):
    """What ConvTranspose1d and ConvTranspose2d share (weight (in, out / groups, *kernel))."""

    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f'{name}: only "zeros" padding mode is supported, got '
                             f"{padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an int or a tuple, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)
        self.output_padding = F.conv._tuple(output_padding, self.dims, "output_padding", name,
                                            minimum=0)

    def _weight_shape(self):
        # PyTorch's layout: (in, out / groups, *kernel), so init's fan_in (read from axis 1)
        # is out / groups * kernel size, as in PyTorch
        return (self.in_channels, self.out_channels // self.groups) + self.kernel_size

    def forward(self, x, output_size=None):
        """x: (N, C_in, *spatial) or unbatched; ``output_size`` picks the output_padding that
        gives that size (the last ``dims`` entries are used)."""
        x = self._channels_checked(x)
        output_padding = self.output_padding
        if output_size is not None:
            output_padding = self._output_padding_for(x, tuple(output_size)[-self.dims:])
        return type(self)._function(x, self.weight, self.bias, self.stride, self.padding,
                                    output_padding, self.groups, self.dilation)

    def _output_padding_for(self, x, wanted):
        sizes = x.shape[-self.dims:]
        smallest = tuple((n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in zip(
            sizes, self.stride, self.padding, self.dilation, self.kernel_size))
        largest = tuple(m + s - 1 for m, s in zip(smallest, self.stride))
        if any(not lo <= w <= hi for w, lo, hi in zip(wanted, smallest, largest)):
            raise ValueError(f"{self._describe()}: requested an output size of {wanted}, but "
                             f"valid sizes range from {smallest} to {largest} (for an input of "
                             f"spatial size {tuple(sizes)})")
        return tuple(w - lo for w, lo in zip(wanted, smallest))


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution layer ("deconvolution"): (N, C_in, H, W) -> (N, C_out, Ho, Wo).

    ``weight``: (in_channels, out_channels / groups, kh, kw), as PyTorch's; Ho = (H - 1) stride
    - 2 padding + dilation (kh - 1) + output_padding + 1. ``forward(x, output_size=...)``
    chooses output_padding for a wanted size. See ``F.conv_transpose2d``.
    """

    dims = 2
    _function = staticmethod(F.conv_transpose2d)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution layer: (N, C_in, L) -> (N, C_out, Lo); as ConvTranspose2d."""

    dims = 1
    _function = staticmethod(F.conv_transpose1d)
