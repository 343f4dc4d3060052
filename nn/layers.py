"""Layers: Linear, Dropout (and channel dropout), Flatten, Unflatten, Identity.

Each forward is a Tensor expression (autograd differentiates it). BatchNorm1d lives with the
other normalisation layers in ``nn/normalization.py``.

Errors from bad input name the layer and its path in the model ("Linear(5→64) at model.0 ...").
"""

import math

import numpy as np

from tinygrad_edu import Tensor

from . import functional as F
from . import init
from .module import Module, Parameter
from .normalization import BatchNorm1d  # noqa: F401 - moved; nn.layers.BatchNorm1d still works


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
        self.p = p                  # kept as given (Dropout(1).p is 1), as PyTorch
        self.inplace = inplace

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


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
        self.p = p                  # kept as given, as PyTorch
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
    """Zero whole feature maps of (N, C, H, W) input with probability ``p``.

    For convolutional features, where neighbouring pixels are correlated: dropping single
    pixels would barely regularise, so each channel of each sample goes at once. Survivors
    are scaled by 1/(1 - p); the identity in eval mode. A 3-D input is read as (N, C, L),
    with a warning, as in PyTorch (see ``F.dropout2d``).
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
    (N, 2, 3). The inverse of Flatten; one entry of the size may be -1 (inferred).
    ``unflattened_size`` keeps its kind: a list stays a list (and prints as one), as PyTorch."""

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
        kind = list if isinstance(unflattened_size, list) else tuple
        self.unflattened_size = kind(int(n) for n in sizes)

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(x)
        if not -max(x.ndim, 1) <= self.dim < max(x.ndim, 1):
            raise ValueError(f"{self._describe()}: dimension {self.dim} is out of range for "
                             f"input of shape {x.shape}")
        axis = self.dim % x.ndim
        length, sizes = x.shape[axis], tuple(self.unflattened_size)
        known = math.prod(n for n in sizes if n != -1)
        fits = (length == known) if -1 not in sizes else (known > 0 and length % known == 0)
        if not fits or sizes.count(-1) > 1:
            raise ValueError(f"{self._describe()}: cannot split axis {axis} of size {length} "
                             f"(input shape {x.shape}) into {sizes}: the product must be {length}")
        return x.reshape(x.shape[:axis] + sizes + x.shape[axis + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
