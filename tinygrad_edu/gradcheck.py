"""Check autograd against finite differences.

``gradcheck(fn, inputs)`` computes the gradient of ``fn`` two ways, in float64: by
``backward()`` and by central differences ``(f(x + eps) - f(x - eps)) / (2 eps)``, element by
element. When ``fn`` returns more than one number it checks the scalar ``sum(fn(x) * v)``
for a fixed random ``v``: that catches a wrong derivative of any output element (with
probability 1) at the cost of one backward pass.
"""

import numpy as np

from .autograd import enable_grad, no_grad, strict_numbers
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Autograd and finite differences disagree; the message names input, index and values."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, seed=0):
    """True if autograd's gradient of ``fn(*inputs)`` matches central finite differences.

    ``inputs`` is a Tensor or a sequence of them (other values are passed through); the
    ones with ``requires_grad=True`` are checked, on float64 copies, so the caller's tensors
    and their ``.grad`` are left alone. An element passes when
    ``|autograd - numeric| <= atol + rtol * |numeric|``. On the first failure it raises
    ``GradcheckError`` (or returns False if ``raise_exception=False``)::

        x = Tensor(np.random.randn(3, 4), requires_grad=True)
        tg.gradcheck(lambda t: (t * t).sum(), [x])      # True
    """
    if isinstance(inputs, Tensor):
        inputs = [inputs]
    # floating tensors become float64 copies; integer and boolean ones (indices, masks) keep
    # their dtype, since casting them would turn an index into a float
    inputs = [Tensor(x._data.astype(np.float64 if x.dtype.kind == "f" else x.dtype),
                     requires_grad=x.requires_grad, name=x.name)
              if isinstance(x, Tensor) else x for x in inputs]
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True, so there is nothing to check")

    with enable_grad(), strict_numbers():   # float(t) inside fn would drop the graph: raise
        out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    rng = np.random.default_rng(seed)
    weights = np.ones(out.shape) if out._data.size == 1 else rng.uniform(0.5, 1.5, out.shape)

    def scalar(result):
        return float(np.sum(result._data.astype(np.float64) * weights))

    if out.requires_grad:
        out.backward(gradient=weights)

    for i in checked:
        x = inputs[i]
        analytic = x.grad._data if x.grad is not None else np.zeros_like(x._data)
        numeric = np.zeros_like(x._data)
        for index in np.ndindex(x.shape):
            original = x._data[index]
            with no_grad():
                x._data[index] = original + eps
                upper = scalar(fn(*inputs))
                x._data[index] = original - eps
                lower = scalar(fn(*inputs))
            x._data[index] = original
            numeric[index] = (upper - lower) / (2 * eps)
        bad = np.abs(analytic - numeric) > atol + rtol * np.abs(numeric)
        bad |= np.isnan(analytic) != np.isnan(numeric)
        if bad.any():
            index = tuple(int(k) for k in np.argwhere(bad)[0])
            label = f"input {i}" + (f" ({x.name})" if x.name else "") + f" of shape {x.shape}"
            message = (f"gradcheck: {label}, index {index}: autograd gives "
                       f"{analytic[index]:.8g} but finite differences give {numeric[index]:.8g} "
                       f"({int(bad.sum())} of {bad.size} elements disagree)")
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True
