"""Layers: Linear, Dropout (and channel dropout), BatchNorm1d, Flatten, Unflatten, Identity.

Each forward is a Tensor expression (autograd differentiates it); the only numpy arithmetic
here is BatchNorm1d's running-statistics update, which is bookkeeping, not part of the graph.
Errors from bad input name the layer and its path in the model ("Linear(5→64) at model.0 ...").
"""

import math

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Tensor

from . import functional as F
from . import init
from .module import Module, Parameter


def _check_size(value, name, layer):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{layer}: {name} must be a non-negative int, got {value!r}")
    return int(value)


class Linear(Module):
    """Affine map y = x @ weight.T + bias.  x: (..., in_features) -> (..., out_features).

    ``weight`` has shape (out_features, in_features), as in PyTorch, so ``x @ weight.T``.
    Initialised as PyTorch does: weight ~ U(-k, k) with k = 1/sqrt(in_features) (that is
    ``kaiming_uniform_(weight, a=sqrt(5))``), and bias ~ U(-k, k). Parameters are float32
    unless ``dtype`` says otherwise; a float64 input gives a float64 output.
    """

    def __init__(self, in_features, out_features, bias=True, dtype=np.float32):
        super().__init__()
        self.in_features = _check_size(in_features, "in_features", "Linear")
        self.out_features = _check_size(out_features, "out_features", "Linear")
        self.weight = Parameter(Tensor.zeros(self.out_features, self.in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(Tensor.zeros(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw fresh weights with PyTorch's default initialisation (see the class docstring)."""
        # kaiming_uniform_ with a = sqrt(5): gain = sqrt(2 / (1 + 5)), bound = gain *
        # sqrt(3 / fan_in) = 1 / sqrt(fan_in)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):                      # x: (batch, in) -> (batch, out)
        x = x if isinstance(x, Tensor) else Tensor(x)
        shape = x.shape
        if not shape or shape[-1] != self.in_features:
            got = shape[-1] if shape else "a scalar"
            raise ValueError(f"{self._describe()} expected {self.in_features} input features, got "
                             f"{got} (input shape {shape})")
        if x.dtype.kind != "f":
            raise TypeError(f"{self._describe()} got input of dtype {x.dtype}; layers need "
                            "floating-point input: convert it with x.float()")
        return x.linear(self.weight, self.bias)    # x @ weight.T + bias, weight: (out, in)

    def _short_repr(self):
        return f"Linear({self.in_features}→{self.out_features})"

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Dropout(Module):
    """Randomly zero elements with probability ``p`` while training; the identity in eval mode.

    Survivors are scaled by 1/(1 - p) ("inverted dropout"), so the expected activation is
    the same in both modes. Seeded by ``tg.manual_seed``. ``inplace=True`` writes the result
    into the input (see ``nn.functional.activations``).
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"Dropout: p is the probability of zeroing an element and must be "
                             f"in [0, 1], got {p!r}")
        self.p = float(p)
        self.inplace = inplace

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}"


class BatchNorm1d(Module):
    """Normalise each feature over the batch, then scale and shift: y = x_hat * weight + bias.

    Input (N, C) or (N, C, L), with C = ``num_features``; statistics are per channel C,
    over N (and L). In training mode x_hat = (x - mean) / sqrt(var + eps) with the batch's
    mean and biased variance, and the buffers are updated:
    ``running = (1 - momentum) * running + momentum * batch``, where running_var takes the
    *unbiased* batch variance (``momentum=None`` gives a plain cumulative average). In eval
    mode the running statistics are used instead, so one sample gives the same output
    whatever else is in its batch. With ``track_running_stats=False`` batch statistics are
    used in both modes. weight starts at 1 and bias at 0 (``affine=False``: neither).
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True):
        super().__init__()
        self.num_features = _check_size(num_features, "num_features", "BatchNorm1d")
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"BatchNorm1d: momentum must be in [0, 1] or None, got {momentum!r}")
        if not eps > 0:
            raise ValueError(f"BatchNorm1d: eps must be positive, got {eps!r}")
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(Tensor.ones(num_features))
            self.bias = Parameter(Tensor.zeros(num_features))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor.zeros(num_features))
            self.register_buffer("running_var", Tensor.ones(num_features))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(x)
        C = self.num_features
        if x.ndim not in (2, 3) or x.shape[1] != C:
            raise ValueError(f"{self._describe()} expected input of shape (N, {C}) or "
                             f"(N, {C}, L), got {x.shape}")
        axes = (0,) if x.ndim == 2 else (0, 2)       # everything but the channel axis
        shape = (1, C) if x.ndim == 2 else (1, C, 1)  # per-channel values broadcast like this
        if self.training or not self.track_running_stats:
            count = x.numel() // C                  # values per channel
            if self.training and count <= 1:
                raise ValueError(f"{self._describe()} expected more than 1 value per "
                                 f"channel when training, got input of shape {x.shape}; use "
                                 "batches of at least 2 samples, or call model.eval()")
            mean = x.mean(axis=axes, keepdims=True)
            var = x.var(axis=axes, keepdims=True, correction=0)   # biased: normalises the batch
            if self.training and self.track_running_stats:
                self._update_running_stats(mean.numpy().reshape(C), var.numpy().reshape(C), count)
        else:
            mean = self.running_mean.reshape(shape)   # buffers: constants, no gradient
            var = self.running_var.reshape(shape)
        x_hat = (x - mean) / (var + self.eps).sqrt()
        if not self.affine:
            return x_hat
        return x_hat * self.weight.reshape(shape) + self.bias.reshape(shape)

    def _short_repr(self):
        return f"BatchNorm1d({self.num_features})"

    def _update_running_stats(self, mean, var, count):
        """Blend this batch's statistics into the running buffers (plain updates, no graph)."""
        with tg.no_grad():
            self.num_batches_tracked += 1
            if self.momentum is None:   # cumulative average over all batches so far
                factor = 1.0 / int(self.num_batches_tracked)
            else:
                factor = self.momentum
            # the running variance estimates the population's, hence Bessel's correction
            # n/(n-1)
            unbiased_var = var * count / (count - 1)
            self.running_mean.copy_((1 - factor) * self.running_mean.numpy() + factor * mean)
            self.running_var.copy_((1 - factor) * self.running_var.numpy() + factor * unbiased_var)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class Flatten(Module):
    """Merge axes ``start_dim..end_dim`` into one: (N, 2, 3, 4) -> (N, 24) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(x)
        for dim in (self.start_dim, self.end_dim):
            if not -max(x.ndim, 1) <= dim < max(x.ndim, 1):
                raise ValueError(f"{self._describe()}: dimension {dim} is out of range for "
                                 f"input of shape {x.shape}")
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class _ChannelDropout(Module):
    """Shared by Dropout1d and Dropout2d: p, inplace, and PyTorch's repr."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        F.activations.check_dropout_p(p, type(self).__name__)
        self.p = float(p)
        self.inplace = inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_ChannelDropout):
    """Zero whole channels of (N, C, L) (or (C, L)) input with probability ``p`` while training.

    Each channel is dropped along its full length and survivors are scaled by 1/(1 - p); the
    identity in eval mode.
    """

    def forward(self, x):
        return F.dropout1d(x, self.p, self.training, self.inplace)


class Dropout2d(_ChannelDropout):
    """Zero whole feature maps of (N, C, H, W) (or (C, H, W)) input with probability ``p``.

    For convolutional features, where neighbouring pixels are correlated: dropping single
    pixels would barely regularise, so each channel of each sample goes at once. Survivors
    are scaled by 1/(1 - p); the identity in eval mode.
    """

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training, self.inplace)


class Identity(Module):
    """Returns its input unchanged (the same Tensor). Any arguments are accepted and ignored,
    as in PyTorch, so it can stand in for a layer that is switched off."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size``: Unflatten(1, (2, 3)) turns (N, 6) into
    (N, 2, 3). The inverse of Flatten; one entry of the size may be -1 (inferred)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if isinstance(dim, str):
            raise TypeError("Unflatten: named dimensions are not supported; give dim as an int")
        sizes = tuple(unflattened_size)
        if not sizes or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool)
                                for n in sizes):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, got "
                            f"{unflattened_size!r}")
        self.dim = dim
        self.unflattened_size = tuple(int(n) for n in sizes)

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(x)
        if not -max(x.ndim, 1) <= self.dim < max(x.ndim, 1):
            raise ValueError(f"{self._describe()}: dimension {self.dim} is out of range for "
                             f"input of shape {x.shape}")
        axis = self.dim % x.ndim
        length, sizes = x.shape[axis], self.unflattened_size
        known = math.prod(n for n in sizes if n != -1)
        fits = (length == known) if -1 not in sizes else (known > 0 and length % known == 0)
        if not fits or sizes.count(-1) > 1:
            raise ValueError(f"{self._describe()}: cannot split axis {axis} of size {length} "
                             f"(input shape {x.shape}) into {sizes}: the product must be {length}")
        return x.reshape(x.shape[:axis] + sizes + x.shape[axis + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
