"""Layers and activations as functions: linear, relu, sigmoid, softmax, dropout, ...

Each is a Tensor expression; autograd differentiates it through ``tinygrad_edu/ops.py``.
"""

from tinygrad_edu import Tensor


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


# ----- layers and activations -------------------------------------------------------------

def linear(input, weight, bias=None):
    """y = x @ weight.T + bias.  x: (..., in), weight: (out, in), bias: (out,) -> (..., out)."""
    return _as_tensor(input).linear(weight, bias)


def relu(input):
    """max(x, 0), elementwise."""
    return _as_tensor(input).relu()


def leaky_relu(input, negative_slope=0.01):
    """x where x > 0, else negative_slope * x."""
    return _as_tensor(input).leaky_relu(negative_slope)


def sigmoid(input):
    """1 / (1 + e^-x), elementwise, without overflow."""
    return _as_tensor(input).sigmoid()


def tanh(input):
    """tanh(x), elementwise."""
    return _as_tensor(input).tanh()


def softmax(input, dim=-1):
    """e^x / sum(e^x) along ``dim``: every slice along ``dim`` becomes a distribution."""
    return _as_tensor(input).softmax(axis=dim)


def log_softmax(input, dim=-1):
    """log(softmax(x)) along ``dim``, computed as x - logsumexp(x) (no overflow, no log 0)."""
    return _as_tensor(input).log_softmax(axis=dim)


def dropout(input, p=0.5, training=True):
    """Inverted dropout: zero each element with probability ``p`` and scale survivors by 1/(1-p).

    The scaling keeps the expected value of every element unchanged, so nothing needs to be
    rescaled at evaluation time, where (``training=False``) this is the identity. The mask
    comes from ``Tensor.rand``, so ``tg.manual_seed`` makes it reproducible. The mask is a
    constant: gradients flow only through the kept elements, scaled the same way.
    """
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"dropout: p is the probability of zeroing an element and must be in "
                         f"[0, 1], got {p!r}")
    input = _as_tensor(input)
    if not training or p == 0:
        return input
    keep = Tensor.rand(*input.shape).numpy() >= p        # True with probability 1 - p
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    mask = (keep * scale).astype(input.dtype)
    return input * Tensor(mask)
