"""Layers and activations as functions: linear, relu, gelu, silu, softplus, dropout, ...

Each is a Tensor expression; autograd differentiates it through ``tinygrad_edu/ops.py``.
Where an activation has a kink (relu6 at 0 and 6, hardtanh at its limits, hardswish at
+-3, elu at 0), the expression is chosen so that its gradient *at* the kink is PyTorch's:
``where(inside, x, limit)`` gives 0 on the boundary, ``clamp`` would give 1.

``inplace=True`` (where PyTorch has it) really changes the input: the result is computed
out of place from a copy and written back with ``copy_``, so the input's history ends in
the activation, as in PyTorch. As there, a leaf that requires grad refuses (raise), and
``inplace=False`` (the default) leaves the input alone.
"""

import math
import warnings

import tinygrad_edu as tg
from tinygrad_edu import Tensor

# SELU's constants (Klambauer et al. 2017), as PyTorch spells them
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _float_tensor(input, name, what="tensor"):
    """``input`` as a floating-point Tensor, or a TypeError naming the function (``what``:
    how the message calls the input)."""
    input = _as_tensor(input)
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: expects a floating-point {what}, got {input.dtype} (shape "
                        f"{input.shape}); convert it with .float()")
    return input


def _apply(input, inplace, formula):
    """``formula(input)``, or with ``inplace`` the same values written into ``input``.

    In place, the formula reads a copy: the ops it records save the copy's values, which the
    write into ``input`` does not change (so backward still has what it needs).
    """
    if not inplace:
        return formula(input)
    return input.copy_(formula(input.clone()))


# ----- layers and activations -------------------------------------------------------------

def linear(input, weight, bias=None):
    """y = x @ weight.T + bias.  x: (..., in), weight: (out, in), bias: (out,) -> (..., out)."""
    return _as_tensor(input).linear(weight, bias)


def relu(input, inplace=False):
    """max(x, 0), elementwise; the derivative at 0 is 0."""
    return _apply(_as_tensor(input), inplace, Tensor.relu)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x where x > 0, else negative_slope * x."""
    return _apply(_as_tensor(input), inplace, lambda x: x.leaky_relu(negative_slope))


def sigmoid(input):
    """1 / (1 + e^-x), elementwise, without overflow."""
    return _as_tensor(input).sigmoid()


def tanh(input):
    """tanh(x), elementwise."""
    return _as_tensor(input).tanh()


def _implicit_dim(input, dim, name):
    """``dim`` if given; without it the last axis, for up to 2-D input only.

    There PyTorch's deprecated guess (dim 0 for 0-, 1- and 3-D input, else dim 1) is also the
    last axis. For 3-D and more it guesses an axis that is rarely the one meant (dim 0 of a
    (N, L, C) batch mixes the samples), so rather than answer differently from PyTorch, or
    copy its guess, ask for the axis.
    """
    if dim is not None:
        return dim
    if input.ndim <= 2:
        return -1
    raise TypeError(f"{name}: give dim= for a {input.ndim}-D input of shape {input.shape}: "
                    "PyTorch's implicit choice (dim 0 for 3-D, dim 1 for 4-D and more, with a "
                    "deprecation warning) is rarely the axis of the classes; for (N, C, ...) "
                    "scores write dim=1, for (..., C) write dim=-1")


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """e^x / sum(e^x) along ``dim``: every slice along ``dim`` becomes a distribution.

    Without ``dim``: the last axis of a 0-, 1- or 2-D input (as PyTorch); a 3-D or larger
    input needs ``dim``. ``dtype=`` casts the input first, as in PyTorch.
    """
    input = _as_tensor(input)
    input = input if dtype is None else input.to(dtype)
    return input.softmax(axis=_implicit_dim(input, dim, "softmax"))


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along ``dim``, computed as x - logsumexp(x) (no overflow, no log 0).

    ``dim`` and ``dtype`` as for ``softmax``.
    """
    input = _as_tensor(input)
    input = input if dtype is None else input.to(dtype)
    return input.log_softmax(axis=_implicit_dim(input, dim, "log_softmax"))


def dropout(input, p=0.5, training=True, inplace=False):
    """Inverted dropout: zero each element with probability ``p`` and scale survivors by 1/(1-p).

    The scaling keeps the expected value of every element unchanged, so nothing needs to be
    rescaled at evaluation time, where (``training=False``) this is the identity. The mask
    comes from ``Tensor.rand``, so ``tg.manual_seed`` makes it reproducible. The mask is a
    constant: gradients flow only through the kept elements, scaled the same way.
    """
    check_dropout_p(p, "dropout")
    input = _as_tensor(input)
    if not training or p == 0:
        return input
    return _apply(input, inplace, lambda x: x * _keep_mask(input.shape, p, input.dtype))


def check_dropout_p(p, name):
    """Raise a ValueError naming ``name`` unless ``p`` is a probability in [0, 1]."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"{name}: p is the probability of zeroing an element and must be in "
                         f"[0, 1], got {p!r}")


def _keep_mask(shape, p, dtype):
    """A constant Tensor of 0 (probability p) and 1/(1-p) (the survivors' scale)."""
    keep = Tensor.rand(*shape).numpy() >= p        # True with probability 1 - p
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    return Tensor((keep * scale).astype(dtype))


def _feature_dropout(input, p, training, inplace, name, spatial_dims):
    """Zero whole channels: the mask has shape (N, C, 1, ...) and broadcasts over positions."""
    check_dropout_p(p, name)
    input = _as_tensor(input)
    batched = 2 + spatial_dims
    if input.ndim not in (batched - 1, batched):
        layout = "(N, C, L) or (C, L)" if spatial_dims == 1 else "(N, C, H, W)"
        raise ValueError(f"{name}: expects input of shape {layout}, got {input.shape}")
    if not training or p == 0:
        return input
    channels = input.ndim - spatial_dims               # 1 (C only) or 2 (N and C)
    mask_shape = input.shape[:channels] + (1,) * spatial_dims
    return _apply(input, inplace, lambda x: x * _keep_mask(mask_shape, p, input.dtype))


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Dropout of whole channels of (N, C, L) (or (C, L)) input: each channel zeroed with
    probability ``p`` along its full length, survivors scaled by 1/(1-p)."""
    return _feature_dropout(input, p, training, inplace, "dropout1d", 1)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Dropout of whole feature maps of (N, C, H, W) input.

    Each channel of each sample is zeroed with probability ``p`` (all its H*W values at once:
    neighbouring pixels are correlated, so zeroing single pixels would barely regularise);
    survivors are scaled by 1/(1-p). The identity when ``training=False``. A 3-D input is
    read as PyTorch reads it today, as (N, C, L) (the dropout1d behaviour), with PyTorch's
    warning that this will change: use dropout1d for that.
    """
    input = _as_tensor(input)
    if input.ndim == 3:
        warnings.warn("dropout2d: a 3-D input is read as (N, C, L), as PyTorch does for now, "
                      "dropping whole rows of L values (channel-wise 1-D dropout); use "
                      "dropout1d for that, or give (N, C, H, W)", UserWarning, stacklevel=2)
        return _feature_dropout(input, p, training, inplace, "dropout2d", 1)
    return _feature_dropout(input, p, training, inplace, "dropout2d", 2)


# ----- activations of issue 15 -------------------------------------------------------------

def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clipped to [min_val, max_val]; the gradient is 1 strictly inside, 0 on and beyond
    the limits (PyTorch's choice: unlike ``clamp``, whose bounds count as inside)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not be greater than max_val "
                         f"({max_val})")
    input = _float_tensor(input, "hardtanh")

    def formula(x):
        inside = (x > min_val) & (x < max_val)
        return tg.where(inside, x, x.detach().clip(min_val, max_val))

    return _apply(input, inplace, formula)


def relu6(input, inplace=False):
    """min(max(x, 0), 6): hardtanh(x, 0, 6); the gradient at 0 and at 6 is 0."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between; gradient 0 at +-3."""
    input = _float_tensor(input, "hardsigmoid")
    return _apply(input, inplace, lambda x: relu6(x + 3) / 6)


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6 (MobileNetV3): 0 below -3, x above 3.

    Its gradient is 0 at -3 and 1 at 3, as in PyTorch (relu6's gradient is 0 there).
    """
    input = _float_tensor(input, "hardswish")
    return _apply(input, inplace, lambda x: x * relu6(x + 3) / 6)


def _expm1_of_negative_part(x, scale=1.0):
    """e^(min(x, 0)/scale) - 1. The clamp keeps e^x from overflowing where x is large
    (``where`` would send 0 * inf = NaN back through the branch it did not pick)."""
    return (x.clamp_max(0.0) / scale).expm1() if scale != 1.0 else x.clamp_max(0.0).expm1()


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, else alpha * (e^x - 1). At 0 the gradient is alpha, as in PyTorch."""
    input = _float_tensor(input, "elu")
    return _apply(input, inplace,
                  lambda x: tg.where(x > 0, x, alpha * _expm1_of_negative_part(x)))


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants (alpha 1.6733, scale 1.0507)."""
    input = _float_tensor(input, "selu")
    return _apply(input, inplace, lambda x: SELU_SCALE * elu(x, SELU_ALPHA))


def celu(input, alpha=1.0, inplace=False):
    """x for x > 0, else alpha * (e^(x/alpha) - 1): an ELU whose slope at 0 is 1 for any alpha."""
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0 (it divides x)")
    input = _float_tensor(input, "celu")
    return _apply(input, inplace,
                  lambda x: tg.where(x > 0, x, alpha * _expm1_of_negative_part(x, alpha)))


def gelu(input, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF: 0.5 x (1 + erf(x / sqrt 2)).

    ``approximate='tanh'``: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), the form of
    the original GPT code.
    """
    input = _float_tensor(input, "gelu")
    if approximate == "none":
        return 0.5 * input * (1 + (input / math.sqrt(2)).erf())
    if approximate == "tanh":
        inner = math.sqrt(2 / math.pi) * (input + 0.044715 * input ** 3)
        return 0.5 * input * (1 + inner.tanh())
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(input, inplace=False):
    """x * sigmoid(x) (also called swish)."""
    input = _float_tensor(input, "silu")
    return _apply(input, inplace, lambda x: x * x.sigmoid())


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + e^(beta x)) / beta: a smooth ReLU. Where beta * x > threshold it is x itself
    (as in PyTorch: there the two differ by less than e^-threshold)."""
    input = _float_tensor(input, "softplus")
    z = input * beta
    # the clamp keeps e^z finite in the branch where is not going to use
    smooth = z.clamp_max(threshold).exp().log1p()
    return tg.where(z > threshold, input, smooth / beta if beta != 1 else smooth)


def logsigmoid(input):
    """log(sigmoid(x)), stable for any x: x - log(1 + e^x) for x < 0, else -log(1 + e^-x).

    Neither branch exponentiates a positive number, so -1000 gives -1000 and 1000 gives 0,
    and the gradient at 0 is 1/2.
    """
    input = _float_tensor(input, "logsigmoid")
    negative = input.clamp_max(0.0)
    positive = input.clamp_min(0.0)
    return tg.where(input < 0, negative - negative.exp().log1p(),
                    -(-positive).exp().log1p())


def mish(input, inplace=False):
    """x * tanh(softplus(x)); its gradient at 0 is tanh(log 2) = 0.6."""
    input = _float_tensor(input, "mish")
    return _apply(input, inplace, lambda x: x * softplus(x).tanh())


def softsign(input):
    """x / (1 + |x|): squashes to (-1, 1) more gently than tanh."""
    input = _float_tensor(input, "softsign")
    return input / (1 + input.abs())


def tanhshrink(input):
    """x - tanh(x)."""
    input = _float_tensor(input, "tanhshrink")
    return input - input.tanh()


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``: the smallest values get the most weight.

    ``dim`` and ``dtype`` as for ``softmax``.
    """
    input = _float_tensor(input, "softmin")
    input = input if dtype is None else input.to(dtype)
    return softmax(-input, _implicit_dim(input, dim, "softmin"))


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else ``value``; the gradient at x == threshold is 0."""
    input = _float_tensor(input, "threshold")
    # NaN > threshold is False: keep NaN (as PyTorch) by testing "not <=" instead
    return _apply(input, inplace, lambda x: tg.where(x <= threshold, value, x))


def _check_lambd(lambd, name):
    if lambd < 0:
        raise ValueError(f"{name}: lambd must be non-negative, got {lambd}")


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between (the gradient is 0 at +-lambd)."""
    _check_lambd(lambd, "softshrink")
    input = _float_tensor(input, "softshrink")
    # the tests are "not inside [-lambd, lambd]", so a NaN input stays NaN (as PyTorch)
    shrunk = tg.where(input >= -lambd, input - lambd, input + lambd)
    return tg.where((input >= -lambd) & (input <= lambd), 0.0, shrunk)


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0 (the gradient is 0 at +-lambd)."""
    _check_lambd(lambd, "hardshrink")
    input = _float_tensor(input, "hardshrink")
    # zero only inside [-lambd, lambd], so a NaN input stays NaN (as PyTorch)
    return tg.where((input >= -lambd) & (input <= lambd), 0.0, input)


def glu(input, dim=-1):
    """Gated linear unit: a * sigmoid(b), a and b the two halves of ``input`` along ``dim``.

    (N, 2k) -> (N, k): the second half decides how much of the first gets through.
    """
    input = _float_tensor(input, "glu")
    size = input.shape[dim] if input.ndim else 0
    if size % 2:
        raise ValueError(f"glu: the halved dimension {dim} must have an even size, got {size} "
                         f"(input shape {input.shape})")
    a, b = input.chunk(2, dim)
    return a * b.sigmoid()


def relu_(input):
    """relu in place: ``relu(input, inplace=True)``."""
    return relu(input, inplace=True)


def elu_(input, alpha=1.0):
    """elu in place: ``elu(input, alpha, inplace=True)``."""
    return elu(input, alpha, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    """leaky_relu in place: ``leaky_relu(input, negative_slope, inplace=True)``."""
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """hardtanh in place: ``hardtanh(input, min_val, max_val, inplace=True)``."""
    return hardtanh(input, min_val, max_val, inplace=True)


def prelu(input, weight):
    """x where x > 0, else weight * x, with a learnable slope per channel (axis 1).

    weight: (1,) shared, or (C,) one per channel of input (N, C, ...). At 0 the gradient
    with respect to x is the slope, as in PyTorch.
    """
    input = _float_tensor(input, "prelu")
    weight = _as_tensor(weight)
    if weight.ndim > 1:
        raise ValueError(f"prelu: weight must be 1-D (num_parameters,), got {weight.shape}")
    count = weight.numel()
    channels = input.shape[1] if input.ndim >= 2 else 1
    if count != 1 and count != channels:
        raise ValueError(f"prelu: weight has {count} parameters but the input of shape "
                         f"{input.shape} has {channels} channels (axis 1); use 1 or {channels}")
    if count != 1:
        weight = weight.reshape((channels,) + (1,) * (input.ndim - 2))   # broadcast on axis 1
    else:
        weight = weight.reshape(())
    return tg.where(input > 0, input, weight * input)
