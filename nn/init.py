"""Weight initialisation, in place, with PyTorch's names, formulas and fan conventions.

Every function fills the tensor in place and returns the tensor. Random values come from
the engine's seeded factories (``Tensor.uniform``, ``Tensor.randn``), so ``tg.manual_seed``
makes every initialisation reproducible. Nothing here touches the graph or ``.grad``.

Fans, as PyTorch computes them for a weight of shape (out, in, *kernel):
``fan_in = in * prod(kernel)`` and ``fan_out = out * prod(kernel)``. A Linear weight is
(out_features, in_features), so its fan_in is in_features.
"""

import math

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Tensor


def _check_tensor(tensor, fn):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init.{fn}: expected a Tensor, got {type(tensor).__name__}")
    if tensor.dtype.kind != "f":
        raise TypeError(f"nn.init.{fn}: the tensor must be floating point, got {tensor.dtype}")


def _fill(tensor, values):
    """Copy ``values`` into the tensor in place, keeping its dtype (no graph: as PyTorch's
    init functions, this works on parameters that require grad)."""
    with tg.no_grad():
        return tensor.copy_(values)


def calculate_gain(nonlinearity, param=None):
    """The factor by which an activation shrinks the spread of its input (PyTorch's table).

    'linear', 'identity', 'sigmoid' and conv names: 1; 'tanh': 5/3; 'relu': sqrt(2);
    'leaky_relu': sqrt(2 / (1 + slope^2)) with ``param`` the slope (default 0.01);
    'selu': 3/4.
    """
    if nonlinearity in ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d",
                        "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel); needs at least 2 axes."""
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out cannot be computed for a tensor with fewer than "
                         f"2 dimensions (shape {tensor.shape}); initialise biases with uniform_ "
                         "or zeros_")
    receptive_field = int(np.prod(tensor.shape[2:]))   # 1 for a Linear weight
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with samples of U(a, b)."""
    _check_tensor(tensor, "uniform_")
    return _fill(tensor, Tensor.uniform(*tensor.shape, low=a, high=b, dtype=tensor.dtype).numpy())


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with samples of N(mean, std^2)."""
    _check_tensor(tensor, "normal_")
    if std < 0:
        raise ValueError(f"nn.init.normal_: std must be non-negative, got {std}")
    noise = Tensor.randn(*tensor.shape, dtype=tensor.dtype).numpy()
    return _fill(tensor, mean + std * noise)


def constant_(tensor, val):
    """Fill with the value ``val``."""
    _check_tensor(tensor, "constant_")
    return _fill(tensor, val)


def zeros_(tensor):
    """Fill with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor):
    """Fill with 1."""
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain=1.0):
    """Glorot/Xavier uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).

    Keeps the variance of activations and gradients roughly equal across layers for
    tanh-like nets (pass ``gain=calculate_gain('tanh')``).
    """
    _check_tensor(tensor, "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    bound = math.sqrt(3.0) * std   # a uniform on [-a, a] has standard deviation a / sqrt(3)
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    """Glorot/Xavier normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    _check_tensor(tensor, "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """He/Kaiming uniform: U(-b, b) with b = gain * sqrt(3 / fan).

    ``gain = calculate_gain(nonlinearity, a)``; ``a`` is the negative slope of a leaky ReLU
    (0 gives plain ReLU's sqrt(2)). ``mode='fan_in'`` keeps the forward activations' variance,
    'fan_out' the backward gradients'. Linear's default init is this with ``a=sqrt(5)``.
    """
    _check_tensor(tensor, "kaiming_uniform_")
    if tensor.numel() == 0:   # nothing to fill, and the fan may be 0
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """He/Kaiming normal: N(0, std^2) with std = gain / sqrt(fan); arguments as kaiming_uniform_."""
    _check_tensor(tensor, "kaiming_normal_")
    if tensor.numel() == 0:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std)
