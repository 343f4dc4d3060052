"""Normalisation as functions: batch_norm, layer_norm, group_norm, normalize.

Each subtracts a mean and divides by a standard deviation, then (optionally) scales and
shifts: ``(x - mean) / sqrt(var + eps) * weight + bias``. They differ only in *which* values
share a mean: batch_norm averages over the batch (and positions) per channel, layer_norm
over the last few axes of each sample, group_norm over groups of channels of each sample.
The variance that normalises is the biased one (divide by n), as in PyTorch; batch_norm's
running variance is the unbiased one (divide by n - 1). All Tensor expressions: the
gradient through the mean and variance comes from autograd.
"""

import numbers

import tinygrad_edu as tg

from .activations import _as_tensor, _float_tensor


def _float_input(input, name):
    return _float_tensor(input, name, "input")


def _normalise(x, axes, eps):
    """(x - mean) / sqrt(var + eps) over ``axes``, with the biased variance."""
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=axes, keepdims=True)
    return centred / (var + eps).sqrt()


def _check_per_channel(t, what, channels, name):
    if t is not None and tuple(t.shape) != (channels,):
        raise ValueError(f"{name}: {what} must have shape ({channels},), one value per channel, "
                         f"got {tuple(t.shape)}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel (axis 1) of (N, C, *) input over the batch and all positions.

    ``training=True``: the batch's mean and biased variance normalise; if running_mean and
    running_var are given they are updated in place (``running = (1 - momentum) * running +
    momentum * batch``, the variance unbiased: times n/(n-1)). ``training=False``: the
    running statistics normalise (they must be given). weight and bias, (C,) each, scale and
    shift every channel.
    """
    name = "batch_norm"
    input = _float_input(input, name)
    if input.ndim < 2:
        raise ValueError(f"{name}: expects input of shape (N, C, *), got {input.shape}")
    channels = input.shape[1]
    for what, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        _check_per_channel(t, what, channels, name)
    axes = (0,) + tuple(range(2, input.ndim))             # every axis but the channel's
    shape = (1, channels) + (1,) * (input.ndim - 2)       # per-channel values broadcast so
    if training:
        count = input.numel() // channels if channels else 0
        if count <= 1:
            raise ValueError(f"{name}: expected more than 1 value per channel when training, "
                             f"got input of shape {input.shape}")
        mean = input.mean(axis=axes, keepdims=True)
        centred = input - mean
        var = (centred * centred).mean(axis=axes, keepdims=True)   # biased: normalises
        if running_mean is not None or running_var is not None:
            _update_running(running_mean, running_var, mean, var, count, momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(f"{name}: training=False normalises with the running statistics, "
                             "so running_mean and running_var must be given")
        centred = input - _as_tensor(running_mean).reshape(shape)   # buffers: constants
        var = _as_tensor(running_var).reshape(shape)
    out = centred / (var + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def _update_running(running_mean, running_var, mean, var, count, momentum):
    """Blend the batch statistics into the running buffers: plain updates, not in the graph."""
    with tg.no_grad():
        mean, var = mean.numpy().reshape(-1), var.numpy().reshape(-1)
        # the running variance estimates the population's, hence Bessel's correction n/(n-1)
        unbiased = var * count / (count - 1)
        if running_mean is not None:
            running_mean.copy_((1 - momentum) * running_mean.numpy() + momentum * mean)
        if running_var is not None:
            running_var.copy_((1 - momentum) * running_var.numpy() + momentum * unbiased)


def _shape_tuple(normalized_shape, name):
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    try:
        shape = tuple(int(n) for n in normalized_shape)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: normalized_shape must be an int or a tuple of ints, got "
                        f"{normalized_shape!r}") from None
    return shape


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise each sample over its last axes, those of ``normalized_shape``.

    input (*, *normalized_shape): for a transformer's (N, L, D) and normalized_shape D,
    every position's D features get mean 0 and variance 1 (biased), then
    ``* weight + bias`` (each of shape normalized_shape). Independent of the batch: the same
    in training and evaluation.
    """
    name = "layer_norm"
    input = _float_input(input, name)
    shape = _shape_tuple(normalized_shape, name)
    if not shape:
        raise ValueError(f"{name}: normalized_shape must name at least one axis, got ()")
    if input.ndim < len(shape) or tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise ValueError(f"{name}: normalized_shape={shape} needs input of shape "
                         f"(*, {', '.join(map(str, shape))}), got {input.shape}")
    for what, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise ValueError(f"{name}: {what} must have shape {shape} (normalized_shape), got "
                             f"{tuple(t.shape)}")
    out = _normalise(input, tuple(range(input.ndim - len(shape), input.ndim)), eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each sample's channels in ``num_groups`` groups (with all their positions).

    input (N, C, *), C divisible by num_groups: channels c*C/G .. (c+1)*C/G - 1 share a mean
    and variance. One group is LayerNorm over (C, *); C groups is InstanceNorm. weight and
    bias, (C,) each, scale and shift every channel. Independent of the batch.
    """
    name = "group_norm"
    input = _float_input(input, name)
    if input.ndim < 2:
        raise ValueError(f"{name}: expects input of shape (N, C, *), got {input.shape}")
    n, channels = input.shape[:2]
    if num_groups <= 0 or channels % num_groups:
        raise ValueError(f"{name}: the {channels} channels of input {input.shape} cannot be "
                         f"split into {num_groups} equal groups")
    _check_per_channel(weight, "weight", channels, name)
    _check_per_channel(bias, "bias", channels, name)
    grouped = input.reshape(n, num_groups, -1)       # (N, G, C/G * positions)
    out = _normalise(grouped, (2,), eps).reshape(input.shape)
    shape = (1, channels) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """input / max(||input||_p, eps) along ``dim``: unit vectors (PyTorch's F.normalize).

    ``eps`` keeps a zero vector at zero instead of 0/0.
    """
    input = _float_input(input, "normalize")
    return input / input.norm(p=p, dim=dim, keepdim=True).clamp_min(eps)
