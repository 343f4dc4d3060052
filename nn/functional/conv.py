"""Convolution, pooling, padding and resizing as functions (PyTorch's ``F.conv2d``, ...).

Everything here is built from three window primitives of ``tinygrad_edu/ops.py`` and plain
Tensor operations, so nothing in this file has a derivative of its own:

- ``ops.Pad`` puts a border around the image (zeros, or -inf before a max pool);
- ``ops.Unfold`` copies every kernel-sized window out into its own row (im2col):
  x (N, C, H, W) -> windows (N, Ho, Wo, C, kh, kw);
- ``ops.Fold`` adds windows back into an image (its adjoint, for ``F.fold``).

A convolution is then one matrix product of the windows with the flattened kernels (one
BLAS call: ``windows.reshape(N*Ho*Wo, C*kh*kw) @ weight.reshape(O, C*kh*kw).T``); an
average pool sums each window and divides. A max pool chooses each window's winner in numpy
(a choice has no derivative) and reads the winners out of the image by indexing, whose
gradient (``ops.GetItem``'s) sends each output's gradient to its winner alone.
Sizes follow PyTorch: ``Ho = floor((H + 2*padding - dilation*(kh - 1) - 1) / stride) + 1``.
Inputs may be batched, (N, C, H, W), or unbatched, (C, H, W), as in PyTorch; the 1-D
versions take (N, C, L) or (C, L) and run as 2-D ones of height 1.
"""

import functools
import math
import numbers

import numpy as np

from tinygrad_edu import Tensor, ops
from tinygrad_edu.autograd import apply

from .activations import _as_tensor

# ----- argument checking ---------------------------------------------------------------------


def _tuple(value, n, name, op, minimum=1):
    """``value`` as a tuple of ``n`` ints (an int is repeated), each at least ``minimum``."""
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool):
        value = (int(value),) * n
    elif isinstance(value, (tuple, list)) and len(value) == 1 and n > 1:
        value = (value[0],) * n   # PyTorch accepts (2,) for a square 2-D kernel
    if (not isinstance(value, (tuple, list)) or len(value) != n
            or not all(isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool)
                       for v in value)):
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if any(v < minimum for v in value):
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {tuple(value)}")
    return tuple(int(v) for v in value)


def _batched(input, dims, op, integers=False):
    """(input as a batched Tensor (N, C, *spatial), whether a batch axis was added); floats
    only, unless ``integers`` (max pooling takes integer images too, as PyTorch)."""
    x = _as_tensor(input)
    if x.ndim not in (dims + 1, dims + 2):
        raise ValueError(f"{op}: expected a {dims + 1}-D (unbatched) or {dims + 2}-D (batched) "
                         f"input, got shape {tuple(x.shape)}")
    if x.dtype.kind != "f" and not (integers and x.dtype.kind in "iu"):
        raise TypeError(f"{op}: needs a floating-point input, got dtype {x.dtype} (shape "
                        f"{tuple(x.shape)}); convert it with x.float()")
    if x.ndim == dims + 1:
        return x.unsqueeze(0), True
    return x, False


def _as_2d(x):
    """(N, C, L) -> (N, C, 1, L): a 1-D signal is a 2-D image of height 1."""
    return x.unsqueeze(2)


def _window_count(size, kernel, stride, padding, dilation, ceil_mode=False):
    """Windows along one axis, as PyTorch counts them (ceil_mode: a last, partial window
    counts if it starts inside the input or its left padding)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    count = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (count - 1) * stride >= size + padding:
        count -= 1
    return count


def _check_windows(op, in_size, padding, kernel, dilation, out_size):
    if min(out_size) < 1:
        raise ValueError(f"{op}: the input's spatial size {tuple(in_size)} (padding "
                         f"{tuple(padding)} on each side) is smaller than the kernel "
                         f"{tuple(kernel)} with dilation {tuple(dilation)}; output size would be "
                         f"{tuple(out_size)}")


# ----- convolution -----------------------------------------------------------------------------


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as in PyTorch) of an image batch with kernels.

    input: (N, C_in, H, W) or unbatched (C_in, H, W); weight: (C_out, C_in / groups, kh, kw);
    bias: (C_out,) or None -> (N, C_out, Ho, Wo) with
    Ho = floor((H + 2 ph - dh (kh - 1) - 1) / sh) + 1 (likewise Wo).

    ``out[n, o, p, q] = bias[o] + sum_{c,i,j} weight[o, c, i, j] x[n, c, p sh + i dh, q sw + j dw]``
    over the zero-padded x. ``padding`` is an int, a pair, 'valid' (0) or 'same' (output as
    large as the input; stride 1 only; an odd total padding puts the extra row at the end,
    as PyTorch). ``groups`` splits the channels into independent convolutions.
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution: input (N, C_in, L) or (C_in, L), weight (C_out, C_in / groups, k).

    Arguments as ``conv2d`` with single ints; runs as a 2-D convolution of height 1.
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def _check_groups(groups, op):
    """A ValueError naming ``op`` unless ``groups`` is a positive int."""
    if isinstance(groups, bool) or not isinstance(groups, (numbers.Integral, np.integer)) \
            or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")


def _conv(input, weight, bias, stride, padding, dilation, groups, dims, op):
    x, added_batch = _batched(input, dims, op)
    weight = _as_tensor(weight)
    if weight.ndim != dims + 2:
        raise ValueError(f"{op}: weight must be {dims + 2}-D (out_channels, in_channels / groups, "
                         f"{'kh, kw' if dims == 2 else 'k'}), got shape {tuple(weight.shape)}")
    _check_groups(groups, op)
    out_channels, group_channels = weight.shape[:2]
    channels = x.shape[1]
    if group_channels * groups != channels:
        raise ValueError(f"{op}: weight of shape {tuple(weight.shape)} with groups={groups} "
                         f"expects {group_channels * groups} input channels, but the input of "
                         f"shape {tuple(input.shape)} has {channels}")
    if out_channels % groups:
        raise ValueError(f"{op}: out_channels ({out_channels}, weight shape "
                         f"{tuple(weight.shape)}) must be divisible by groups ({groups})")
    if bias is not None:
        bias = _as_tensor(bias)
        if tuple(bias.shape) != (out_channels,):
            raise ValueError(f"{op}: bias must have shape ({out_channels},) for a weight of shape "
                             f"{tuple(weight.shape)}, got {tuple(bias.shape)}")
    kernel = tuple(weight.shape[2:])
    stride = _tuple(stride, dims, "stride", op)
    dilation = _tuple(dilation, dims, "dilation", op)
    widths = _conv_padding(padding, kernel, stride, dilation, dims, op)
    if dims == 1:   # run as 2-D of height 1
        x, weight = _as_2d(x), weight.unsqueeze(2)
        kernel, stride, dilation = (1,) + kernel, (1,) + stride, (1,) + dilation
        widths = ((0, 0),) + widths
    padded = tuple(size + before + after for size, (before, after) in zip(x.shape[2:], widths))
    out_size = tuple(ops.window_count(s, k, st, d)
                     for s, k, st, d in zip(padded, kernel, stride, dilation))
    if min(out_size) < 1:
        raise ValueError(f"{op}: the input of shape {tuple(input.shape)}, padded to spatial size "
                         f"{padded[-dims:]}, is smaller than the kernel {kernel[-dims:]} "
                         f"(dilation {dilation[-dims:]})")
    if any(before or after for before, after in widths):
        x = apply(ops.Pad, x, widths=((0, 0), (0, 0)) + widths)
    windows = apply(ops.Unfold, x, kernel_size=kernel, stride=stride, dilation=dilation)
    n, ho, wo = windows.shape[:3]
    if groups == 1:
        # (N*Ho*Wo, C*kh*kw) @ (C*kh*kw, O) + bias: one matrix product for every window (kept
        # 2-D: numpy's matmul on a stack of matrices would loop over the stack, without BLAS)
        out = windows.reshape(n * ho * wo, -1).linear(weight.reshape(out_channels, -1), bias)
        out = out.reshape(n, ho, wo, out_channels)
    else:
        # each group of channels has its own kernels: (G, N*Ho*Wo, C/G*kh*kw) @ (G, ., O/G)
        cols = windows.reshape(n * ho * wo, groups, -1).permute(1, 0, 2)
        kernels = weight.reshape(groups, out_channels // groups, -1).permute(0, 2, 1)
        out = (cols @ kernels).permute(1, 0, 2).reshape(n, ho, wo, out_channels)
        if bias is not None:
            out = out + bias
    out = out.permute(0, 3, 1, 2)            # (N, Ho, Wo, O) -> (N, O, Ho, Wo)
    if dims == 1:
        out = out.squeeze(2)
    return out.squeeze(0) if added_batch else out


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 2-D convolution (the adjoint of conv2d in its input; "deconvolution").

    input: (N, C_in, H, W) or (C_in, H, W); weight: (C_in, C_out / groups, kh, kw), as
    PyTorch's; bias: (C_out,) -> (N, C_out, Ho, Wo) with
    Ho = (H - 1) sh - 2 ph + dh (kh - 1) + output_padding + 1 (likewise Wo).
    Each input pixel scatters its kernel-weighted copy into the output: one matrix product
    gives every pixel's kh x kw patch, and ``ops.Fold`` adds the patches up where they
    overlap; ``padding`` then crops that many rows and columns from each border.
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 2, "conv_transpose2d")


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 1-D convolution: input (N, C_in, L) or (C_in, L), weight (C_in, C_out / groups,
    k); as ``conv_transpose2d``."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 1, "conv_transpose1d")


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                    dims, op):
    x, added_batch = _batched(input, dims, op)
    weight = _as_tensor(weight)
    if weight.ndim != dims + 2:
        raise ValueError(f"{op}: weight must be {dims + 2}-D (in_channels, out_channels / groups, "
                         f"{'kh, kw' if dims == 2 else 'k'}), got shape {tuple(weight.shape)}")
    _check_groups(groups, op)
    channels = x.shape[1]
    if weight.shape[0] != channels or channels % groups:
        raise ValueError(f"{op}: weight of shape {tuple(weight.shape)} expects "
                         f"{weight.shape[0]} input channels (divisible by groups={groups}), but "
                         f"the input of shape {tuple(input.shape)} has {channels}")
    out_channels = weight.shape[1] * groups
    if bias is not None:
        bias = _as_tensor(bias)
        if tuple(bias.shape) != (out_channels,):
            raise ValueError(f"{op}: bias must have shape ({out_channels},) for a weight of shape "
                             f"{tuple(weight.shape)} and groups={groups}, got "
                             f"{tuple(bias.shape)}")
    kernel = tuple(weight.shape[2:])
    stride = _tuple(stride, dims, "stride", op)
    dilation = _tuple(dilation, dims, "dilation", op)
    padding = _tuple(padding, dims, "padding", op, minimum=0)
    output_padding = _tuple(output_padding, dims, "output_padding", op, minimum=0)
    if any(o >= max(s, d) for o, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"{op}: output_padding {output_padding} must be smaller than either "
                         f"stride {stride} or dilation {dilation}")
    if dims == 1:   # run as 2-D of height 1
        x, weight = _as_2d(x), weight.unsqueeze(2)
        kernel, stride, dilation = (1,) + kernel, (1,) + stride, (1,) + dilation
        padding, output_padding = (0,) + padding, (0,) + output_padding
    n, _, h, w = x.shape
    # the patches cover (H - 1) sh + dh (kh - 1) + 1 rows; output_padding adds rows at the
    # end that no patch reaches, then padding crops both borders
    covered = tuple((size - 1) * s + d * (k - 1) + 1
                    for size, s, d, k in zip((h, w), stride, dilation, kernel))
    out_size = tuple(c + o - 2 * p for c, o, p in zip(covered, output_padding, padding))
    if min(out_size) < 1:
        raise ValueError(f"{op}: padding {padding[-dims:]} crops the whole output of the input "
                         f"of shape {tuple(input.shape)}")
    pixels = x.permute(0, 2, 3, 1).reshape(n * h * w, channels)    # one row per input pixel
    if groups == 1:
        # (N*H*W, C_in) @ (C_in, C_out*kh*kw): every pixel's weighted patch, one BLAS call
        patches = pixels @ weight.reshape(channels, -1)
    else:
        per_group = channels // groups
        rows = pixels.reshape(n * h * w, groups, per_group).permute(1, 0, 2)
        kernels = weight.reshape(groups, per_group, -1)             # (G, C_in/G, C_out/G*k)
        patches = (rows @ kernels).permute(1, 0, 2).reshape(n * h * w, -1)
    patches = patches.reshape(n, h, w, out_channels, kernel[0], kernel[1])
    out = apply(ops.Fold, patches, output_shape=(n, out_channels) + covered,
                kernel_size=kernel, stride=stride, dilation=dilation)
    if any(output_padding):
        out = apply(ops.Pad, out, widths=((0, 0), (0, 0)) + tuple((0, o) for o in output_padding))
    if any(padding):
        out = out[:, :, padding[0]:padding[0] + out_size[0], padding[1]:padding[1] + out_size[1]]
    if bias is not None:
        out = out + bias.reshape(-1, 1, 1)
    if dims == 1:
        out = out.squeeze(2)
    return out.squeeze(0) if added_batch else out


def _conv_padding(padding, kernel, stride, dilation, dims, op):
    """((before, after), ...) per spatial axis from an int, a tuple, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * dims
        if padding != "same":
            raise ValueError(f"{op}: padding must be an int, a tuple, 'valid' or 'same', "
                             f"got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                             f"(stride {stride}), as in PyTorch")
        # total d (k - 1) per axis; an odd total puts the extra one after, as PyTorch does
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    pads = _tuple(padding, dims, "padding", op, minimum=0)
    return tuple((p, p) for p in pads)


# ----- pooling ---------------------------------------------------------------------------------


def _pool_setup(input, kernel_size, stride, padding, dilation, ceil_mode, dims, op,
                integers=False):
    """Common checks of the pools: (x as 2-D batched, added_batch, kernel, stride, padding,
    dilation, extra) where extra is ceil_mode's additional padding at the end of each axis."""
    x, added_batch = _batched(input, dims, op, integers)
    kernel = _tuple(kernel_size, dims, "kernel_size", op)
    stride = kernel if stride is None or stride == [] or stride == () else \
        _tuple(stride, dims, "stride", op)
    padding = _tuple(padding, dims, "padding", op, minimum=0)
    dilation = _tuple(dilation, dims, "dilation", op)
    for p, k, d in zip(padding, kernel, dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise ValueError(f"{op}: padding should be at most half of the effective kernel size, "
                             f"got padding={padding}, kernel_size={kernel}, dilation={dilation}")
    size = tuple(x.shape[2:])
    out_size = tuple(_window_count(s, k, st, p, d, ceil_mode)
                     for s, k, st, p, d in zip(size, kernel, stride, padding, dilation))
    _check_windows(op, size, padding, kernel, dilation, out_size)
    # ceil_mode's last window may reach past the padding: pad a little more at the end
    extra = tuple(max(0, (o - 1) * st + d * (k - 1) + 1 - (s + 2 * p))
                  for o, st, d, k, s, p in zip(out_size, stride, dilation, kernel, size, padding))
    if dims == 1:
        x = _as_2d(x)
        kernel, stride, padding, dilation, extra = ((1,) + kernel, (1,) + stride, (0,) + padding,
                                                    (1,) + dilation, (0,) + extra)
    return x, added_batch, kernel, stride, padding, dilation, extra


def _windows(x, kernel, stride, padding, dilation, extra, value):
    """Pad x (N, C, H, W) with ``value`` (and ``extra`` at the ends), then cut its windows."""
    widths = tuple((p, p + e) for p, e in zip(padding, extra))
    if any(before or after for before, after in widths):
        x = apply(ops.Pad, x, widths=((0, 0), (0, 0)) + widths, value=value)
    return apply(ops.Unfold, x, kernel_size=kernel, stride=stride, dilation=dilation)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The largest value of each kh x kw window: (N, C, H, W) or (C, H, W) -> (N, C, Ho, Wo).

    ``stride`` defaults to ``kernel_size``; padding (at most half the kernel) counts as
    -inf, so it is never picked. Integer images work too (without gradient), as in PyTorch. Gradient: all of it goes to the window's maximum; among
    tied maxima, to the first in row-major order (as PyTorch, whose ``return_indices``
    names that element) -- unlike ``Tensor.max``, which splits it among ties. A NaN in a
    window is its maximum (the last NaN, as PyTorch). ``return_indices=True`` also returns
    each maximum's flat index into its input plane (h * W + w), int64.
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     2, "max_pool2d")


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The largest value of each window: (N, C, L) or (C, L) -> (N, C, Lo); as ``max_pool2d``."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
                     1, "max_pool1d")


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, dims,
              op):
    x, added_batch, kernel, stride, padding, dilation, extra = _pool_setup(
        input, kernel_size, stride, padding, dilation, ceil_mode, dims, op, integers=True)
    widths = tuple((p, p + e) for p, e in zip(padding, extra))
    if any(before or after for before, after in widths):   # padding is -inf: it never wins
        lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        x = apply(ops.Pad, x, widths=((0, 0), (0, 0)) + widths, value=lowest)
    n, c, height, width = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    ho, wo = (ops.window_count(height, kh, sh, dh), ops.window_count(width, kw, sw, dw))
    # Which element of each window wins is a choice made on the values, in numpy (no
    # gradient flows through a choice): a scan over the kernel's taps, each tap a strided
    # view holding that tap of every window at once. PyTorch's rule: a later tap replaces
    # the pick only if strictly greater (the first of tied maxima wins) or NaN (the last NaN).
    values = x.detach().numpy()
    has_nan = values.dtype.kind == "f" and bool(np.isnan(values).any())
    # flat position in x of each window's first tap (N, C, Ho, Wo), and each tap's offset
    first = _first_taps(n, c, height, width, ho, wo, sh, sw)
    best, offset = None, np.zeros(first.shape, dtype=np.int64)
    for i in range(kh):
        for j in range(kw):
            seen = values[:, :, i * dh: i * dh + sh * (ho - 1) + 1: sh,
                          j * dw: j * dw + sw * (wo - 1) + 1: sw]
            if best is None:
                best = seen
                continue
            better = (seen > best) | np.isnan(seen) if has_nan else seen > best
            best = np.maximum(best, seen)   # the new pick's value (NaN once a NaN is seen)
            np.copyto(offset, i * dh * width + j * dw, where=better)
    # then the winners are read out of x by index: the gradient of indexing sends each
    # output's gradient to its window's winner, and to nothing else
    flat = first + offset
    out = x.reshape(-1)[flat]                           # (N, C, Ho, Wo)
    indices = None
    if return_indices:
        # the winner's place in its unpadded input plane, h * W + w (PyTorch's indices)
        rows, cols = np.divmod(flat % (height * width), width)
        plane_width = width - padding[1] * 2 - extra[1]
        indices = Tensor((rows - padding[0]) * plane_width + cols - padding[1])
    if dims == 1:
        out = out.squeeze(2)
        indices = indices.squeeze(2) if indices is not None else None
    if added_batch:
        out = out.squeeze(0)
        indices = indices.squeeze(0) if indices is not None else None
    return (out, indices) if return_indices else out


@functools.lru_cache(maxsize=64)
def _first_taps(n, c, height, width, ho, wo, sh, sw):
    """Flat index into x (N, C, H, W) of the first tap of each window: (N, C, Ho, Wo).

    Kept between calls (the same shapes come back every step); read-only."""
    first = ((np.arange(n)[:, None, None, None] * c + np.arange(c)[:, None, None]) * height
             + np.arange(ho)[:, None] * sh) * width + np.arange(wo) * sw
    first.flags.writeable = False
    return first


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """The mean of each kh x kw window: (N, C, H, W) or (C, H, W) -> (N, C, Ho, Wo).

    ``stride`` defaults to ``kernel_size``. Padding is zeros; ``count_include_pad`` says
    whether those zeros count in the divisor (PyTorch's default: yes). In ``ceil_mode`` a
    last window hanging past the padding divides only by the part inside input and padding,
    as PyTorch does. ``divisor_override`` replaces the divisor for every window.
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2, "avg_pool2d")


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """The mean of each window: (N, C, L) or (C, L) -> (N, C, Lo); as ``avg_pool2d``."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None,
                     1, "avg_pool1d")


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, dims, op):
    x, added_batch, kernel, stride, padding, dilation, extra = _pool_setup(
        input, kernel_size, stride, padding, 1, ceil_mode, dims, op)
    windows = _windows(x, kernel, stride, padding, dilation, extra, 0.0)
    totals = windows.sum(axis=(4, 5))                      # (N, Ho, Wo, C)
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(
                divisor_override, (numbers.Integral, np.integer)) or divisor_override == 0:
            raise ValueError(f"{op}: divisor_override must be a non-zero int, got "
                             f"{divisor_override!r}")
        divisor = float(divisor_override)
    else:
        ho, wo = windows.shape[1:3]
        rows = _divisors(x.shape[2], ho, kernel[0], stride[0], padding[0], count_include_pad)
        cols = _divisors(x.shape[3], wo, kernel[1], stride[1], padding[1], count_include_pad)
        divisor = (rows[:, None] * cols[None, :])[:, :, None].astype(totals.dtype)   # (Ho, Wo, 1)
    out = (totals / divisor).permute(0, 3, 1, 2)
    if dims == 1:
        out = out.squeeze(2)
    return out.squeeze(0) if added_batch else out


def _divisors(size, count, kernel, stride, padding, count_include_pad):
    """How many elements each window along one axis averages over (PyTorch's rule)."""
    start = np.arange(count) * stride - padding           # in input coordinates
    end = np.minimum(start + kernel, size + padding)       # never past the padding
    if not count_include_pad:
        start, end = np.maximum(start, 0), np.minimum(end, size)
    return end - start


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a given output size: (N, C, H, W) or (C, H, W) -> (N, C, oh, ow).

    ``output_size`` is an int, or a pair whose entries may be None (keep that size).
    Output row i averages input rows floor(i H / oh) to ceil((i + 1) H / oh) - 1, so the
    windows may differ in size and overlap when H is not a multiple of oh (as PyTorch).
    """
    return _adaptive_avg_pool(input, output_size, 2, "adaptive_avg_pool2d")


def adaptive_avg_pool1d(input, output_size):
    """Average pooling to a given output length: (N, C, L) or (C, L) -> (N, C, output_size)."""
    return _adaptive_avg_pool(input, output_size, 1, "adaptive_avg_pool1d")


def _adaptive_avg_pool(input, output_size, dims, op):
    x, added_batch = _batched(input, dims, op)
    if dims == 2 and isinstance(output_size, (tuple, list)):
        output_size = tuple(x.shape[2 + i] if s is None else s for i, s in enumerate(output_size))
    out_size = _tuple(output_size, dims, "output_size", op)
    size = tuple(x.shape[2:])
    if all(s % o == 0 for s, o in zip(size, out_size)):
        # equal, disjoint windows: an ordinary average pool
        kernel = tuple(s // o for s, o in zip(size, out_size))
        out = _avg_pool(x, kernel, kernel, 0, False, True, None, dims, op)
    else:
        # windows of varying size: average along each axis in turn (the mean over a
        # rectangle is the mean over its rows of the means over its columns)
        out = x
        for axis in range(2, 2 + dims):
            out = _adaptive_mean_last(out.transpose(axis, -1), out_size[axis - 2]).transpose(
                axis, -1)
    return out.squeeze(0) if added_batch else out


def _adaptive_mean_last(x, out_size):
    """Adaptive average along the last axis: (..., L) -> (..., out_size)."""
    length = x.shape[-1]
    start = (np.arange(out_size) * length) // out_size
    end = -((-(np.arange(out_size) + 1) * length) // out_size)        # ceil
    width = int((end - start).max())
    taps = np.arange(width)
    # every window read as `width` taps from its start; taps past its end are masked out
    index = np.minimum(start[:, None] + taps[None, :], length - 1)    # (out, width)
    inside = taps[None, :] < (end - start)[:, None]
    picked = x[..., index]                                            # (..., out, width)
    return picked.where(inside, 0.0).sum(axis=-1) / (end - start).astype(x.dtype)


# ----- padding ---------------------------------------------------------------------------------

_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input, pad, mode="constant", value=None):
    """Pad the last ``len(pad) // 2`` axes: ``pad = (left, right, top, bottom, ...)``, last axis
    first, as PyTorch.

    mode 'constant' fills with ``value`` (default 0) and accepts negative widths (which
    crop); 'reflect' mirrors without repeating the edge (widths < the axis size),
    'replicate' repeats the edge, 'circular' wraps around. Any number of leading axes.
    """
    x = _as_tensor(input)
    if not isinstance(pad, (tuple, list)) or len(pad) % 2 or not all(
            isinstance(p, (numbers.Integral, np.integer)) for p in pad):
        raise ValueError(f"pad: pad must be a tuple of an even number of ints (left, right, "
                         f"top, bottom, ...), got {pad!r}")
    if len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: {len(pad)} widths pad {len(pad) // 2} axes, but the input of "
                         f"shape {tuple(x.shape)} has only {x.ndim}")
    # ((before, after), ...) for every axis, first axis first
    widths = [(0, 0)] * x.ndim
    for k in range(len(pad) // 2):
        widths[x.ndim - 1 - k] = (int(pad[2 * k]), int(pad[2 * k + 1]))
    if mode == "constant":
        return _pad_constant(x, widths, 0.0 if value is None else value)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', "
                         f"got {mode!r}")
    if value is not None and value != 0:
        raise ValueError(f"pad: value={value!r} only applies to mode='constant', not {mode!r}")
    for axis, (before, after) in enumerate(widths):
        if not (before or after):
            continue
        size = x.shape[axis]
        if before < 0 or after < 0:
            raise ValueError(f"pad: mode {mode!r} needs non-negative widths, got {tuple(pad)}")
        if mode == "reflect" and max(before, after) >= size:
            raise ValueError(f"pad: reflect padding of ({before}, {after}) must be smaller than "
                             f"the axis it pads (axis {axis} of shape {tuple(x.shape)})")
        if mode == "circular" and max(before, after) > size:
            raise ValueError(f"pad: circular padding of ({before}, {after}) may be at most the "
                             f"size of the axis it pads (axis {axis} of shape {tuple(x.shape)})")
        # the source of each output position, found by padding the positions themselves
        source = np.pad(np.arange(size), (before, after), mode=_PAD_MODES[mode])
        x = x[(slice(None),) * axis + (source,)]
    return x


def _pad_constant(x, widths, value):
    """Constant padding through ops.Pad; negative widths first crop the input."""
    if any(before < 0 or after < 0 for before, after in widths):
        x = x[tuple(slice(max(-before, 0), size - max(-after, 0))
                    for size, (before, after) in zip(x.shape, widths))]
        widths = [(max(before, 0), max(after, 0)) for before, after in widths]
    if not any(before or after for before, after in widths):
        return x
    return apply(ops.Pad, x, widths=tuple(widths), value=value)


# ----- resizing --------------------------------------------------------------------------------


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial axes: (N, C, L) with mode 'nearest' or 'linear', (N, C, H, W) with
    'nearest' or 'bilinear'.

    Give ``size`` (int or tuple) or ``scale_factor`` (output = floor(input * factor)). As
    PyTorch: 'nearest' reads input position floor(out * scale), with scale = 1 / factor
    when the factor is given (unless ``recompute_scale_factor``), else in / out.
    (bi)linear with ``align_corners=False`` (the default) treats pixels as areas (source
    (out + 0.5) * scale - 0.5, clamped at 0); with True the corner pixels line up.
    """
    x = _as_tensor(input)
    dims = x.ndim - 2
    modes = {1: ("nearest", "linear"), 2: ("nearest", "bilinear")}
    if dims not in modes:
        raise ValueError(f"interpolate: expected a 3-D (N, C, L) or 4-D (N, C, H, W) input, got "
                         f"shape {tuple(x.shape)}")
    if mode not in modes[dims]:
        raise ValueError(f"interpolate: mode {mode!r} is not supported for a {dims + 2}-D input "
                         f"(shape {tuple(x.shape)}); use one of {modes[dims]}")
    if x.dtype.kind != "f":
        raise TypeError(f"interpolate: needs a floating-point input, got dtype {x.dtype}")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("interpolate: align_corners option can only be set with the "
                         "interpolating modes: linear | bilinear")
    if antialias:
        raise ValueError("interpolate: antialias=True is not supported here")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    in_size = tuple(x.shape[2:])
    if size is not None:
        out_size = _tuple(size, dims, "size", "interpolate")
        scales = [i / o for i, o in zip(in_size, out_size)]
    else:
        factors = (scale_factor,) * dims if isinstance(scale_factor, numbers.Real) \
            else tuple(scale_factor)
        if len(factors) != dims or not all(f > 0 for f in factors):
            raise ValueError(f"interpolate: scale_factor must be a positive number or {dims} of "
                             f"them, got {scale_factor!r}")
        out_size = tuple(int(math.floor(i * f)) for i, f in zip(in_size, factors))
        scales = [i / o if recompute_scale_factor else 1 / f
                  for i, o, f in zip(in_size, out_size, factors)]
    if min(out_size) < 1:
        raise ValueError(f"interpolate: output size {out_size} from input {in_size} is empty")
    out = x
    for k in range(dims):
        axis = 2 + k
        if out_size[k] == in_size[k] and (mode != "nearest" or dims == 2):
            continue   # PyTorch copies an axis whose size does not change, whatever the factor
        moved = out.transpose(axis, -1)
        if mode == "nearest":
            moved = _nearest_last(moved, out_size[k], scales[k], doubles=dims == 2)
        else:
            moved = _linear_last(moved, out_size[k], scales[k], bool(align_corners))
        out = moved.transpose(axis, -1)
    return out


def _nearest_last(x, out_size, scale, doubles=False):
    """Nearest neighbour along the last axis: output j reads input floor(j * scale).

    ``doubles``: as PyTorch's 2-D kernel, an axis that exactly doubles reads input j // 2,
    whatever the factor (a factor of 2.16 on 5 pixels gives 10, read as 0 0 1 1 2 2 ...).
    """
    length = x.shape[-1]
    if doubles and out_size == 2 * length:
        return x[..., np.arange(out_size) // 2]
    source = np.minimum(np.floor(np.arange(out_size) * scale).astype(np.int64), length - 1)
    return x[..., source]


def _linear_last(x, out_size, scale, align_corners):
    """Linear interpolation along the last axis between the two nearest inputs."""
    length = x.shape[-1]
    positions = np.arange(out_size, dtype=np.float64)
    if align_corners:
        source = positions * ((length - 1) / (out_size - 1) if out_size > 1 else 0.0)
    else:
        source = np.maximum((positions + 0.5) * scale - 0.5, 0.0)
    left = np.minimum(np.floor(source).astype(np.int64), length - 1)
    right = np.minimum(left + 1, length - 1)
    weight = (source - left).astype(x.dtype)              # how far toward the right input
    return x[..., left] * (1 - weight) + x[..., right] * weight


# ----- the window primitives themselves --------------------------------------------------------


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Every kh x kw window as a column: (N, C, H, W) -> (N, C*kh*kw, L), L = Ho*Wo (im2col).

    Column l holds window l (row-major over the output positions); its rows run over
    (c, i, j), channel slowest, as PyTorch's ``F.unfold``. Unbatched (C, H, W) gives
    (C*kh*kw, L).
    """
    x, added_batch = _batched(input, 2, "unfold")
    kernel = _tuple(kernel_size, 2, "kernel_size", "unfold")
    dilation = _tuple(dilation, 2, "dilation", "unfold")
    padding = _tuple(padding, 2, "padding", "unfold", minimum=0)
    stride = _tuple(stride, 2, "stride", "unfold")
    out_size = tuple(_window_count(s, k, st, p, d)
                     for s, k, st, p, d in zip(x.shape[2:], kernel, stride, padding, dilation))
    _check_windows("unfold", x.shape[2:], padding, kernel, dilation, out_size)
    windows = _windows(x, kernel, stride, padding, dilation, (0, 0), 0.0)
    n, ho, wo = windows.shape[:3]
    out = windows.reshape(n, ho * wo, -1).permute(0, 2, 1)
    return out.squeeze(0) if added_batch else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Columns added back into an image, the adjoint of ``unfold`` (col2im).

    (N, C*kh*kw, L) or (C*kh*kw, L) -> (N, C, H, W) with (H, W) = ``output_size``; where
    windows overlap, their values add up (so fold(unfold(x)) is x times the number of
    windows covering each pixel).
    """
    x = _as_tensor(input)
    if x.ndim not in (2, 3):
        raise ValueError(f"fold: expected a 2-D (unbatched) or 3-D (batched) input "
                         f"(N, C*kh*kw, L), got shape {tuple(x.shape)}")
    added_batch = x.ndim == 2
    if added_batch:
        x = x.unsqueeze(0)
    size = _tuple(output_size, 2, "output_size", "fold")
    kernel = _tuple(kernel_size, 2, "kernel_size", "fold")
    dilation = _tuple(dilation, 2, "dilation", "fold")
    padding = _tuple(padding, 2, "padding", "fold", minimum=0)
    stride = _tuple(stride, 2, "stride", "fold")
    n, rows, length = x.shape
    ho, wo = (_window_count(s, k, st, p, d)
              for s, k, st, p, d in zip(size, kernel, stride, padding, dilation))
    taps = kernel[0] * kernel[1]
    if rows % taps or ho < 1 or wo < 1 or length != ho * wo:
        raise ValueError(f"fold: input of shape {tuple(input.shape)} does not match "
                         f"output_size={size}, kernel_size={kernel}, padding={padding}, "
                         f"stride={stride}, dilation={dilation}: expected (N, C*{taps}, "
                         f"{max(ho, 0) * max(wo, 0)})")
    c = rows // taps
    windows = x.reshape(n, c, kernel[0], kernel[1], ho, wo).permute(0, 4, 5, 1, 2, 3)
    padded = (n, c, size[0] + 2 * padding[0], size[1] + 2 * padding[1])
    out = apply(ops.Fold, windows, output_shape=padded, kernel_size=kernel, stride=stride,
                dilation=dilation)
    if any(padding):
        out = out[:, :, padding[0]:padding[0] + size[0], padding[1]:padding[1] + size[1]]
    return out.squeeze(0) if added_batch else out


__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d", "conv1d",
           "conv2d", "conv_transpose1d", "conv_transpose2d", "fold", "interpolate", "max_pool1d", "max_pool2d", "pad", "unfold"]
