"""Normalisation layers: BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm.

Each forward is ``nn.functional``'s function of the same name (a Tensor expression). The
only numpy arithmetic is the batch norms' running-statistics update, which is bookkeeping
under ``no_grad``, not part of the graph. Errors name the layer and its place in the model.
"""

import numbers

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Tensor

from . import functional as F
from .module import Module, Parameter, _check_device


def _check_count(value, name, layer):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{layer}: {name} must be a non-negative int, got {value!r}")
    return int(value)


def _as_input(x):
    return x if isinstance(x, Tensor) else Tensor(x)


class _BatchNorm(Module):
    """Batch normalisation over axis 1 (the channels); subclasses say which shapes they take.

    Training mode: each channel is normalised with the batch's mean and biased variance over
    every other axis, and the running statistics are updated:
    ``running = (1 - momentum) * running + momentum * batch`` with the *unbiased* batch
    variance (``momentum=None``: a plain cumulative average over all batches so far). Eval
    mode: the running statistics normalise, so a sample's output does not depend on the rest
    of its batch. ``track_running_stats=False``: batch statistics in both modes, no buffers.
    weight starts at 1 and bias at 0 (``affine=False``: neither; ``bias=False``: no bias).
    """

    _layouts = ()       # the accepted numbers of axes
    _layout_text = ""   # and how error messages describe them

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, bias=True):
        super().__init__()
        name = type(self).__name__
        if device is not None:
            _check_device(device, name)
        self.num_features = _check_count(num_features, "num_features", name)
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, got {momentum!r}")
        if not eps > 0:
            raise ValueError(f"{name}: eps must be positive, got {eps!r}")
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dtype = np.float32 if dtype is None else dtype
        C = self.num_features
        if affine:
            self.weight = Parameter(Tensor.ones(C, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        if affine and bias:
            self.bias = Parameter(Tensor.zeros(C, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor.zeros(C, dtype=dtype))
            self.register_buffer("running_var", Tensor.ones(C, dtype=dtype))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            with tg.no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1.0)
                self.num_batches_tracked.zero_()

    def forward(self, x):
        x = _as_input(x)
        C = self.num_features
        if x.ndim not in self._layouts or x.shape[1] != C:
            layout = self._layout_text.format(C=C)
            raise ValueError(f"{self._describe()} expected input of shape {layout}, got "
                             f"{x.shape}")
        if self.training and x.numel() // max(C, 1) <= 1:
            raise ValueError(f"{self._describe()} expected more than 1 value per channel when "
                             f"training, got input of shape {x.shape}; use batches of at least "
                             "2 samples, or call model.eval()")
        factor = 0.0
        if self.training and self.track_running_stats:
            with tg.no_grad():
                self.num_batches_tracked += 1
            # momentum=None: the cumulative average, each batch weighted 1/(batches so far)
            factor = (1.0 / int(self.num_batches_tracked) if self.momentum is None
                      else self.momentum)
        use_batch_stats = self.training or not self.track_running_stats
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            use_batch_stats, factor, self.eps)

    def _short_repr(self):
        return f"{type(self).__name__}({self.num_features})"

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) input, per channel C = ``num_features``.

    Training mode: each channel is normalised with the batch's mean and biased variance over
    N (and L), then scaled by ``weight`` and shifted by ``bias``; the running statistics are
    updated (``running = (1 - momentum) * running + momentum * batch``, the variance
    unbiased; ``momentum=None``: a cumulative average). Eval mode: the running statistics
    normalise, so a sample's output does not depend on its batch.
    ``track_running_stats=False``: batch statistics in both modes.
    """
    _layouts = (2, 3)
    _layout_text = "(N, {C}) or (N, {C}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of images (N, C, H, W), per channel C = ``num_features``.

    After a convolution, each feature map is normalised over N, H and W together: in
    training mode with the batch's mean and biased variance (and the running statistics are
    updated, the variance unbiased, as BatchNorm1d), in eval mode with the running
    statistics. Then ``* weight + bias`` per channel (starting at 1 and 0).
    """
    _layouts = (4,)
    _layout_text = "(N, {C}, H, W)"


class LayerNorm(Module):
    """Normalise each sample over its last axes, ``normalized_shape`` (an int or a tuple).

    Input (*, *normalized_shape) -> the same shape; for (N, L, D) and normalized_shape D,
    each position's D features get mean 0 and (biased) variance 1, then ``* weight + bias``,
    both of shape normalized_shape (starting at 1 and 0; ``elementwise_affine=False``:
    neither, ``bias=False``: no bias). No running statistics: the same in train and eval.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        if device is not None:
            _check_device(device, "LayerNorm")
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(_check_count(n, "normalized_shape", "LayerNorm")
                                      for n in normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        dtype = np.float32 if dtype is None else dtype
        if elementwise_affine:
            self.weight = Parameter(Tensor.ones(*self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        if elementwise_affine and bias:
            self.bias = Parameter(Tensor.zeros(*self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("bias", None)

    def forward(self, x):
        x = _as_input(x)
        shape = self.normalized_shape
        if x.ndim < len(shape) or tuple(x.shape[x.ndim - len(shape):]) != shape:
            raise ValueError(f"{self._describe()} expected input of shape "
                             f"(*, {', '.join(map(str, shape))}), got {x.shape}")
        return F.layer_norm(x, shape, self.weight, self.bias, self.eps)

    def _short_repr(self):
        return f"LayerNorm({self.normalized_shape})"

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalise each sample's channels in groups: input (N, C, *), C = ``num_channels``.

    The C channels are split into ``num_groups`` consecutive groups; each group (with all its
    positions) gets mean 0 and biased variance 1, then every channel is scaled and shifted
    by ``weight`` and ``bias`` (C,) (``affine=False``: neither). Independent of the batch size,
    so it works for batches of one; the same in train and eval.
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, bias=True):
        super().__init__()
        if device is not None:
            _check_device(device, "GroupNorm")
        self.num_groups = _check_count(num_groups, "num_groups", "GroupNorm")
        self.num_channels = _check_count(num_channels, "num_channels", "GroupNorm")
        if self.num_groups == 0 or self.num_channels % self.num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.eps = eps
        self.affine = affine
        dtype = np.float32 if dtype is None else dtype
        if affine:
            self.weight = Parameter(Tensor.ones(self.num_channels, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        if affine and bias:
            self.bias = Parameter(Tensor.zeros(self.num_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)

    def forward(self, x):
        x = _as_input(x)
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"{self._describe()} expected input of shape "
                             f"(N, {self.num_channels}, *), got {x.shape}")
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def _short_repr(self):
        return f"GroupNorm({self.num_groups}, {self.num_channels})"

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")
