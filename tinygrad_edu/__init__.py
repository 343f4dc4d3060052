"""tinygrad_edu: a small reverse-mode autograd engine on numpy, for learning how networks work.

``Tensor`` records every operation into a graph; ``backward()`` fills ``.grad``. The ``nn``
package (also reachable as ``tinygrad_edu.nn``) builds layers, losses and optimizers from
Tensor operations only.
"""

from . import graph
from . import memory   # plugs graph lightening into the engine
from .anomaly import (detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled,
                      set_detect_anomaly)
from .autograd import (enable_grad, grad, inference_mode, is_grad_enabled, no_grad,
                       set_grad_enabled, walk)
from .check_backprop import check_backprop
from .compare import GradientComparison, GradientReport, compare_gradients
from .functions import (
    abs, arange, argmax, bool, cat, clamp, clip, cos, double, exp, eye, float, float16, float32,
    float64, from_numpy, full, int32, int64, is_tensor, log, log_softmax, long, matmul, max,
    maximum, mean, min, minimum, ones, ones_like, rand, randn, relu, sigmoid, sin, softmax, sqrt,
    stack, sum, tanh, tensor, zeros, zeros_like,
)
from .functions import (  # PyTorch's surface (issue 14)
    BoolTensor, ByteTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor, add,
    all, allclose, any, arctan2, argmin, atan2, bitwise_and, bitwise_not, bitwise_or,
    bitwise_xor, bmm, ceil, copysign, count_nonzero, div, divide, eq, equal, fix, flatten, flip,
    floor, floor_divide, frac, ge, greater, greater_equal, gt, isclose, isfinite, isinf, isnan,
    le, less, less_equal, logical_and, logical_not, logical_or, logical_xor, lt, masked_fill, mm,
    mul, multiply, ne, neg, negative, nonzero, not_equal, numel, permute, pow, reciprocal,
    remainder, reshape, roll, round, rsqrt, sign, square, squeeze, sub, subtract, t, transpose,
    true_divide, trunc, unsqueeze,
)
from .functions import (  # PyTorch's math (issue 14)
    acos, arccos, arcsin, arctan, argsort, asin, atan, chunk, cosh, cumsum, diag, diagonal, erf,
    exp2, expm1, gather, log10, log1p, log2, logsumexp, norm, scatter, scatter_add, sinh, sort,
    split, std, tan, topk, trace, tril, triu, unique, var,
)
from .functions import acosh, arccosh, arcsinh, arctanh, asinh, atanh  # inverse hyperbolics
from .functions import (  # PyTorch's factories and randomness (issue 14)
    bernoulli, empty, empty_like, full_like, linspace, logspace, multinomial, normal, rand_like,
    randint, randint_like, randn_like, randperm,
)
from .functions import (  # issue 14
    as_tensor, clamp_max, clamp_min, clone, cumprod, dot, einsum, index_select,
    is_floating_point, masked_select, outer, prod, unbind,
)
from .functions import Size, e, inf, nan, pi  # issue 14
from .dtypes import finfo, iinfo  # issue 14
from .devices import backends, cuda, device
from .functions import accelerator  # tg.accelerator.is_available(): False
from .functions import amax, amin, moveaxis, movedim, narrow, swapaxes, swapdims  # issue 14
from .dtypes import bfloat16, get_default_dtype, half, int8, int16, short, uint8
from .dtypes import int_ as int  # noqa: A001 - PyTorch's tg.int (int32)
from .gradcheck import GradcheckError, gradcheck
from .graph import draw_graph, render_svg
from .ops import PRIMITIVES
from .serialization import load, save
from .generator import Generator
from . import utils   # tg.utils.data: Dataset, DataLoader (torch.utils.data)
from .factories import get_rng_state, manual_seed, set_rng_state
from .tensor import Tensor, where

__version__ = "0.1.0"


def __getattr__(name):
    # ``tg.nn`` and ``tg.optim`` without an explicit import, as ``torch.nn`` works after
    # ``import torch``; loaded lazily because nn itself imports tinygrad_edu
    if name in ("nn", "optim"):
        import importlib
        return importlib.import_module(f"tinygrad_edu.{name}")
    raise AttributeError(f"module 'tinygrad_edu' has no attribute {name!r}")
