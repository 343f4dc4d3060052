"""Fuzzed gradients: hypothesis draws shapes, axes, indices and short random compositions of
ops, and every gradient is checked against central finite differences in float64
(``tg.gradcheck``). Broadcasting pairs of single binary ops are in test_broadcasting.py.

Finite differences are only meaningful where the function is smooth. A program is built step
by step on concrete values, so each step can keep away from the points where it is not:
kinks (relu, abs, clip) are shifted by a constant chosen away from every current value, max
and min are skipped when the slice has a near-tie, logs and square roots take x*x + 0.5,
and exp is scaled so it cannot overflow. Those constants are fixed when the program is built,
so the function gradcheck differentiates is the same at x + eps and x - eps.

Runs are derandomized, so CI sees the same examples every time. Failing cases, minimised, are
kept at the end as regular tests.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tinygrad_edu import Tensor

SETTINGS = dict(deadline=None, derandomize=True, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow])
SEEDS = st.integers(0, 2**32 - 1)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
MAX_SIZE = 48          # larger intermediate results only get reduced or indexed
GAP = 1e-3             # how far values keep from kinks and ties (finite differences use 1e-6)


def values(rng, shape):
    """Distinct values of either sign, 0.25 to 1.5 in size: no ties, none near 0."""
    size = int(np.prod(shape, dtype=int))
    magnitudes = rng.permutation(np.linspace(0.25, 1.5, max(size, 1)))[:size]
    magnitudes = magnitudes + rng.uniform(0, 0.01, size)     # no ties between tensors either
    return (magnitudes * rng.choice([-1.0, 1.0], size)).reshape(shape)


def point_away_from(array, rng, low=None, high=None):
    """A constant at least GAP away from every element of array (for kinks and clip bounds)."""
    flat = np.sort(array.ravel())
    low = flat[0] - 0.5 if low is None else low
    high = flat[-1] + 0.5 if high is None else high
    for _ in range(20):
        t = rng.uniform(low, high)
        if np.abs(flat - t).min() > GAP:
            return float(t)
    return float(flat[0] - 0.5)      # below everything: always safe


def has_near_tie(array, axis):
    """True if some slice reduced over ``axis`` has its top two values within GAP."""
    if axis is None:
        axis = tuple(range(array.ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    moved = np.moveaxis(array, axes, tuple(range(-len(axes), 0)))
    flat = moved.reshape(moved.shape[:moved.ndim - len(axes)] + (-1,))
    if flat.shape[-1] < 2:
        return False
    top = np.sort(flat, axis=-1)[..., -2:]
    return bool((top[..., 1] - top[..., 0] < GAP).any())


def draw_axis(data, ndim, allow_tuple=True):
    """None, an int (maybe negative) or a tuple of distinct axes, valid for ``ndim``."""
    if ndim == 0:
        return None
    choices = [st.none(), st.integers(-ndim, ndim - 1)]
    if allow_tuple:
        choices.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim,
                                unique=True).map(tuple))
    return data.draw(st.one_of(*choices), label="axis")


# ----- steps: each returns (label, fresh input arrays, fn(x, *fresh)), or None if unsuitable --

def unary_step(data, rng, x):
    a = x.numpy()
    name = data.draw(st.sampled_from(["neg", "scale", "rsub", "exp", "log", "sqrt", "sin", "cos",
                                      "tanh", "sigmoid", "relu", "abs", "leaky_relu", "clip",
                                      "square", "cube", "rpow"]), label="unary")
    if name in ("square", "cube") and np.abs(a).max() > 2:
        return None                      # keep values small: powers of powers grow fast
    if name == "exp":                    # scaled so that e^(c x) <= e
        c = 1.0 / max(1.0, float(np.abs(a).max()))
        return f"exp(x * {c:.3g})", [], lambda x: (x * c).exp()
    if name in ("relu", "abs", "leaky_relu"):
        t = point_away_from(a, rng)
        fn = {"relu": lambda x: (x - t).relu(), "abs": lambda x: (x - t).abs(),
              "leaky_relu": lambda x: (x - t).leaky_relu(0.1)}[name]
        return f"{name}(x - {t:.3g})", [], fn
    if name == "clip":
        low = point_away_from(a, rng)
        high = point_away_from(a, rng, low=low + 0.1, high=low + 2.0)
        return f"clip(x, {low:.3g}, {high:.3g})", [], lambda x: x.clip(low, high)
    table = {
        "neg": lambda x: -x, "scale": lambda x: x * 2.5, "rsub": lambda x: 3.0 - x,
        "log": lambda x: (x * x + 0.5).log(), "sqrt": lambda x: (x * x + 0.5).sqrt(),
        "sin": lambda x: x.sin(), "cos": lambda x: x.cos(), "tanh": lambda x: x.tanh(),
        "sigmoid": lambda x: x.sigmoid(), "square": lambda x: x ** 2, "cube": lambda x: x ** 3,
        "rpow": lambda x: 1.5 ** x.tanh(),
    }
    return name, [], table[name]


def binary_step(data, rng, x):
    """x against a fresh input whose shape broadcasts with x's."""
    shape = data.draw(hnp.broadcastable_shapes(x.shape, min_dims=0, max_dims=3, max_side=4),
                      label="other shape")
    if int(np.prod(np.broadcast_shapes(x.shape, shape))) > MAX_SIZE:
        return None
    b = values(rng, shape)
    name = data.draw(st.sampled_from(["add", "sub", "rsub", "mul", "div", "rdiv", "pow",
                                      "maximum", "minimum", "where"]), label="binary")
    if name in ("maximum", "minimum") and (np.abs(x.numpy() - b) < GAP).any():
        return None
    mask = rng.random(np.broadcast_shapes(x.shape, shape)) < 0.5
    table = {
        "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "rsub": lambda x, y: y - x,
        "mul": lambda x, y: x * y, "div": lambda x, y: x / (y * y + 0.5),
        "rdiv": lambda x, y: y / (x * x + 0.5), "pow": lambda x, y: (x * x + 0.5) ** y,
        "maximum": lambda x, y: x.maximum(y), "minimum": lambda x, y: x.minimum(y),
        "where": lambda x, y: tg.where(mask, x, y),
    }
    return f"{name}(x, y{shape})", [b], table[name]


def reduction_step(data, rng, x):
    a = x.numpy()
    name = data.draw(st.sampled_from(["sum", "mean", "amax", "amin", "var", "logsumexp",
                                      "softmax", "log_softmax"]), label="reduction")
    if name in ("softmax", "log_softmax"):
        if x.ndim == 0:
            return None
        axis = data.draw(st.integers(-x.ndim, x.ndim - 1), label="axis")
        return f"{name}(axis={axis})", [], lambda x: getattr(x, name)(axis=axis)
    axis = draw_axis(data, x.ndim)
    keepdims = data.draw(st.booleans(), label="keepdims")
    label = f"{name}(axis={axis}, keepdims={keepdims})"
    if name in ("amax", "amin") and has_near_tie(a if name == "amax" else -a, axis):
        return None
    if name == "var":
        count = a.size if axis is None else int(np.prod([a.shape[i] for i in np.atleast_1d(axis)]))
        if count < 2:
            return None
        correction = data.draw(st.sampled_from([0, 1]), label="correction")
        return (f"var(axis={axis}, keepdims={keepdims}, correction={correction})", [],
                lambda x: x.var(axis=axis, keepdims=keepdims, correction=correction))
    return label, [], lambda x: getattr(x, name)(axis=axis, keepdims=keepdims)


def shape_step(data, rng, x):
    shape, ndim = x.shape, x.ndim
    name = data.draw(st.sampled_from(["flatten", "reversed", "unsqueeze", "squeeze", "permute",
                                      "T", "transpose"]), label="shape op")
    if name == "flatten":
        return "reshape(-1)", [], lambda x: x.reshape(-1)
    if name == "reversed":
        return f"reshape({shape[::-1]})", [], lambda x: x.reshape(shape[::-1])
    if name == "unsqueeze":
        if ndim >= 3:
            return None
        dim = data.draw(st.integers(-ndim - 1, ndim), label="dim")
        return f"unsqueeze({dim})", [], lambda x: x.unsqueeze(dim)
    if name == "squeeze":
        return "squeeze()", [], lambda x: x.squeeze()
    if name == "T":
        return "T", [], lambda x: x.T
    if ndim < 2:
        return None
    if name == "transpose":
        a, b = data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=2, max_size=2,
                                  unique_by=lambda i: i % ndim), label="axes")
        return f"transpose({a}, {b})", [], lambda x: x.transpose(a, b)
    axes = tuple(data.draw(st.permutations(range(ndim)), label="permutation"))
    return f"permute{axes}", [], lambda x: x.permute(axes)


def index_step(data, rng, x):
    if x.ndim == 0:
        return None
    n = x.shape[0]
    name = data.draw(st.sampled_from(["int", "slice", "reverse", "repeats", "mask", "newaxis",
                                      "ellipsis", "pairs"]), label="index")
    if name == "int":
        i = data.draw(st.integers(-n, n - 1), label="i")
        return f"x[{i}]", [], lambda x: x[i]
    if name == "slice":
        start = data.draw(st.integers(0, n - 1), label="start")
        step = data.draw(st.integers(1, 2), label="step")
        return f"x[{start}::{step}]", [], lambda x: x[start::step]
    if name == "reverse":
        return "x[..., ::-1]", [], lambda x: x[..., ::-1]
    if name == "repeats":
        index = rng.integers(0, n, size=data.draw(st.integers(1, 5), label="picks"))
        return f"x[{index.tolist()}]", [], lambda x: x[index]
    if name == "mask":
        mask = rng.random(x.shape) < 0.6
        mask.flat[rng.integers(0, mask.size)] = True          # never empty
        return "x[mask]", [], lambda x: x[mask]
    if name == "newaxis":
        return "x[None]", [], lambda x: x[None]
    if name == "ellipsis":
        i = data.draw(st.integers(0, x.shape[-1] - 1), label="i")
        return f"x[..., {i}]", [], lambda x: x[..., i]
    if x.ndim < 2:
        return None
    rows = rng.integers(0, n, size=3)
    cols = rng.integers(0, x.shape[1], size=3)
    return f"x[{rows.tolist()}, {cols.tolist()}]", [], lambda x: x[rows, cols]


def matmul_step(data, rng, x):
    if x.ndim == 0:
        return None
    k = data.draw(st.integers(1, 3), label="k")
    side = data.draw(st.sampled_from(["right", "left", "vector"]), label="side")
    if side == "vector":          # x @ v, v of shape (n,)
        b = values(rng, (x.shape[-1],))
        return f"x @ v{b.shape}", [b], lambda x, v: x @ v
    if side == "right":           # x @ y, y: (n, k), or (batch, n, k) broadcasting with x
        batch = x.shape[:-2]
        batch = data.draw(st.sampled_from([(), batch, (1,) * len(batch), (2,) + batch]),
                          label="batch")
        b = values(rng, batch + (x.shape[-1], k))
        rows = x.shape[-2] if x.ndim >= 2 else 1
        if int(np.prod(np.broadcast_shapes(x.shape[:-2], batch))) * rows * k > MAX_SIZE:
            return None
        return f"x @ y{b.shape}", [b], lambda x, y: x @ y
    rows = x.shape[-2] if x.ndim >= 2 else x.shape[0]   # y @ x, y: (k, rows)
    b = values(rng, (k, rows))
    return f"y{b.shape} @ x", [b], lambda x, y: y @ x


def linear_step(data, rng, x):
    """The fused layer op x @ w.T + b, with a fresh weight (and bias)."""
    if x.ndim == 0:
        return None
    out = data.draw(st.integers(1, 3), label="out features")
    if int(np.prod(x.shape[:-1])) * out > MAX_SIZE:
        return None
    w = values(rng, (out, x.shape[-1]))
    if data.draw(st.booleans(), label="bias"):
        return (f"linear(x, w{w.shape}, b)", [w, values(rng, (out,))],
                lambda x, w, b: x.linear(w, b))
    return f"linear(x, w{w.shape})", [w], lambda x, w: x.linear(w)


def loss_step(data, rng, x):
    """The fused cross-entropy op on x read as logits (N, C), with random labels."""
    if x.ndim != 2:
        return None
    labels = rng.integers(0, x.shape[1], size=x.shape[0])
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]), label="reduction")
    return (f"cross_entropy(x, {labels.tolist()}, {reduction!r})", [],
            lambda x: x.cross_entropy(labels, reduction))


def join_step(data, rng, x):
    if data.draw(st.booleans(), label="stack") or x.ndim == 0:
        if 2 * x.numpy().size > MAX_SIZE or x.ndim >= 3:
            return None
        axis = data.draw(st.integers(-x.ndim - 1, x.ndim), label="axis")
        b = values(rng, x.shape)
        return f"stack([x, y], axis={axis})", [b], lambda x, y: Tensor.stack([x, y], axis=axis)
    axis = data.draw(st.integers(0, x.ndim - 1), label="axis")
    shape = list(x.shape)
    shape[axis] = data.draw(st.integers(1, 3), label="size")
    b = values(rng, tuple(shape))
    return (f"cat([x, y{tuple(shape)}], axis={axis})", [b],
            lambda x, y: Tensor.cat([y, x] if axis % 2 else [x, y], axis=axis))


STEPS = {"unary": unary_step, "binary": binary_step, "reduction": reduction_step,
         "shape": shape_step, "index": index_step, "matmul": matmul_step,
         "linear": linear_step, "loss": loss_step, "join": join_step}
SHRINKING = ("reduction", "index")       # what large intermediate results are limited to


def build_program(data, min_steps=2, max_steps=4):
    """Draw a start shape and 2-4 steps; return (input arrays, steps, fn for gradcheck)."""
    rng = np.random.default_rng(data.draw(SEEDS, label="seed"))
    x0 = values(rng, data.draw(SHAPES, label="start shape"))
    arrays, steps = [x0], []
    current = Tensor(x0)
    wanted = data.draw(st.integers(min_steps, max_steps), label="steps")
    for _ in range(3 * wanted):
        if len(steps) == wanted:
            break
        kinds = SHRINKING if current.numpy().size > MAX_SIZE else tuple(STEPS)
        step = STEPS[data.draw(st.sampled_from(kinds), label="kind")](data, rng, current)
        if step is None:
            continue
        label, fresh, fn = step
        current = fn(current, *[Tensor(b) for b in fresh])
        arrays += fresh
        steps.append((label, len(fresh), fn))

    def program(x, *fresh):
        fresh = list(fresh)
        for _, count, fn in steps:
            x = fn(x, *fresh[:count])
            fresh = fresh[count:]
        return x

    return arrays, steps, program


def check(arrays, program):
    inputs = [Tensor(a, requires_grad=True) for a in arrays]
    out = program(*inputs)
    assert out.dtype == np.float64
    # finite differences lose digits in proportion to the size of the function: rounding
    # error ~1e-16 |f| divided by eps = 1e-6, with room for a few roundings on the way
    atol = 1e-6 + 1e-8 * float(np.abs(out.numpy()).sum())
    assert tg.gradcheck(program, inputs, eps=1e-6, atol=atol, rtol=1e-4)


@settings(max_examples=1500, **SETTINGS)
@given(st.data())
def test_random_compositions_of_ops_match_finite_differences(data):
    arrays, steps, program = build_program(data)
    note(f"input shapes {[a.shape for a in arrays]}; program: " +
         " -> ".join(label for label, _, _ in steps))
    check(arrays, program)


@settings(max_examples=300, **SETTINGS)
@given(st.data())
def test_reductions_over_random_axes_match_finite_differences(data):
    rng = np.random.default_rng(data.draw(SEEDS, label="seed"))
    x0 = values(rng, data.draw(SHAPES, label="shape"))
    step = reduction_step(data, rng, Tensor(x0))
    if step is None:
        return
    label, _, fn = step
    note(label)
    check([x0], fn)


@settings(max_examples=300, **SETTINGS)
@given(st.data())
def test_indexing_and_reshaping_match_finite_differences(data):
    rng = np.random.default_rng(data.draw(SEEDS, label="seed"))
    x0 = values(rng, data.draw(SHAPES, label="shape"))
    make = data.draw(st.sampled_from([index_step, shape_step]), label="kind")
    step = make(data, rng, Tensor(x0))
    if step is None:
        return
    label, _, fn = step
    note(label)
    check([x0], lambda x: fn(x) * Tensor(values(np.random.default_rng(0), fn(Tensor(x0)).shape)))


# ----- failing cases, minimised, kept as regular tests ---------------------------------------

@pytest.mark.parametrize("axis", [0, -1])
@pytest.mark.parametrize("name", ["sum", "mean", "amax", "logsumexp"])
def test_reducing_a_0d_tensor_over_axis_0_or_minus_1_gives_it_back(name, axis):
    # PyTorch lets dim=0 and dim=-1 name the single "axis" of a scalar; reducing it is a no-op
    x = Tensor(np.array(1.5), requires_grad=True)
    y = getattr(x, name)(axis=axis)
    assert y.shape == () and y.item() == 1.5
    y.backward()
    assert x.grad.item() == 1.0


@pytest.mark.parametrize("name, value", [("softmax", 1.0), ("log_softmax", 0.0)])
def test_softmax_of_a_0d_tensor_is_a_distribution_over_one_value(name, value):
    x = Tensor(np.array(1.5), requires_grad=True)
    y = getattr(x, name)()
    assert y.shape == () and y.item() == value
    y.backward()
    assert x.grad.item() == 0.0
