"""Activation modules: thin wrappers around ``nn.functional``, so they fit in a Sequential.

Only PReLU has a parameter. ``inplace=True`` (where PyTorch has it) writes the result into
the input, as in PyTorch (see ``nn.functional.activations``); the default makes a new tensor.
"""

import numpy as np

from tinygrad_edu import Tensor

from . import functional as F
from .module import Module, Parameter, _check_device


class _InplaceActivation(Module):
    """An activation with PyTorch's ``inplace`` flag, shown in the repr when set."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class ReLU(_InplaceActivation):
    """max(x, 0), elementwise. Its derivative at exactly 0 is taken as 0, as in PyTorch."""

    def forward(self, x):
        return F.relu(x, self.inplace)


class LeakyReLU(Module):
    """x where x > 0, else negative_slope * x: a ReLU whose units cannot die completely."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace
                                                          else "")


class Sigmoid(Module):
    """1 / (1 + e^-x), elementwise: squashes to (0, 1). Saturates (tiny gradient) for |x| > 5."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x), elementwise: squashes to (-1, 1)."""

    def forward(self, x):
        return F.tanh(x)


class Softmax(Module):
    """e^x / sum(e^x) along ``dim``. Do not put it before CrossEntropyLoss, which wants logits.

    Without ``dim``: the last axis of a 1- or 2-D input (as PyTorch); a 3-D or larger input
    raises, asking for the axis, where PyTorch would guess one.
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably; pair it with NLLLoss."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


# ----- issue 15 ----------------------------------------------------------------------------

class GELU(Module):
    """x * Phi(x) (Phi: the normal CDF, through erf); ``approximate='tanh'`` for the tanh form."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(_InplaceActivation):
    """x * sigmoid(x), also called swish."""

    def forward(self, x):
        return F.silu(x, self.inplace)


class Mish(_InplaceActivation):
    """x * tanh(softplus(x))."""

    def forward(self, x):
        return F.mish(x, self.inplace)


class ELU(Module):
    """x for x > 0, else alpha * (e^x - 1): smooth below 0, tending to -alpha."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, x):
        return F.elu(x, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    """x for x > 0, else alpha * (e^(x/alpha) - 1): continuously differentiable for any alpha."""

    def __init__(self, alpha=1.0, inplace=False):
        if alpha == 0:
            raise ValueError("CELU: alpha cannot be 0 (it divides x)")
        super().__init__(alpha, inplace)

    def forward(self, x):
        return F.celu(x, self.alpha, self.inplace)


class SELU(_InplaceActivation):
    """1.0507 * ELU(x, alpha=1.6733): keeps activations near zero mean and unit variance."""

    def forward(self, x):
        return F.selu(x, self.inplace)


class Softplus(Module):
    """log(1 + e^(beta x)) / beta, a smooth ReLU; x itself where beta * x > threshold."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"   # as given, as PyTorch


class Hardtanh(Module):
    """x clipped to [min_val, max_val] (default [-1, 1]); gradient 0 at and beyond the limits."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"{type(self).__name__}: min_val ({min_val}) must not be greater "
                             f"than max_val ({max_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, x):
        return F.hardtanh(x, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return (f"min_val={self.min_val}, max_val={self.max_val}"      # as given, as PyTorch
                + (", inplace=True" if self.inplace else ""))


class ReLU6(Hardtanh):
    """min(max(x, 0), 6); the gradient at 0 and at 6 is 0, as in PyTorch."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Hardsigmoid(_InplaceActivation):
    """relu6(x + 3) / 6: a piecewise-linear sigmoid. The repr never shows ``inplace``, as
    PyTorch's."""

    def forward(self, x):
        return F.hardsigmoid(x, self.inplace)

    def extra_repr(self):
        return ""


class Hardswish(_InplaceActivation):
    """x * relu6(x + 3) / 6: a piecewise version of SiLU (MobileNetV3). The repr never shows
    ``inplace``, as PyTorch's."""

    def forward(self, x):
        return F.hardswish(x, self.inplace)

    def extra_repr(self):
        return ""


class LogSigmoid(Module):
    """log(sigmoid(x)), computed stably: finite for x = -1000."""

    def forward(self, x):
        return F.logsigmoid(x)


class Softsign(Module):
    """x / (1 + |x|)."""

    def forward(self, x):
        return F.softsign(x)


class Tanhshrink(Module):
    """x - tanh(x)."""

    def forward(self, x):
        return F.tanhshrink(x)


class Softmin(Module):
    """softmax(-x) along ``dim`` (without it, as Softmax)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmin(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class PReLU(Module):
    """x where x > 0, else a * x, with a learnt slope a: one shared (the default) or one per
    channel (``num_parameters=C``, for input (N, C, ...)). ``weight`` starts at ``init``
    (0.25), float32 unless ``dtype`` says otherwise."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        if device is not None:
            _check_device(device, "PReLU")
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, (int, np.integer)) \
                or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive int, got "
                             f"{num_parameters!r}")
        self.num_parameters = int(num_parameters)
        self.init = init
        self.weight = Parameter(Tensor.full((self.num_parameters,), init,
                                            dtype=np.float32 if dtype is None else dtype))

    def forward(self, x):
        return F.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class Threshold(Module):
    """x where x > threshold, else ``value``."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, x):
        return F.threshold(x, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return (f"threshold={self.threshold}, value={self.value}"
                + (", inplace=True" if self.inplace else ""))


class Softshrink(Module):
    """x - lambd above lambd, x + lambd below -lambd, else 0."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, x):
        return F.softshrink(x, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(Softshrink):
    """x where |x| > lambd, else 0."""

    def forward(self, x):
        return F.hardshrink(x, self.lambd)


class GLU(Module):
    """Gated linear unit a * sigmoid(b), a and b the halves of the input along ``dim``."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.glu(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
