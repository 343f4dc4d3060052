"""Every primitive in ops.py against finite differences, plus hand-checked derivatives.

Each case in PRIMITIVE_CASES names the primitive it exercises; one test checks that the table
covers every entry of ``PRIMITIVES``, another that each case really goes through its primitive.
Inputs are float64 and kept away from points where the op is not differentiable (zero for
log/sqrt/abs/relu, ties for max/maximum, the bounds for clip).
"""

import collections

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, ops
from tinygrad_edu.autograd import apply as _apply

_rng = np.random.default_rng(1234)


def normal(*shape):
    return _rng.standard_normal(shape)


def positive(*shape):
    return _rng.uniform(0.5, 2.0, shape)


def away_from_zero(*shape):
    # magnitude in [0.3, 2], random sign: no element near the kink at 0
    return _rng.uniform(0.3, 2.0, shape) * _rng.choice([-1.0, 1.0], shape)


def distinct(*shape):
    # a shuffled grid with spacing 0.25: no two elements tie, so max has a unique winner
    values = 0.25 * _rng.permutation(int(np.prod(shape))) - 1.0
    return values.reshape(shape)


Case = collections.namedtuple("Case", ["name", "op", "fn", "inputs", "check_kwargs"])


def case(name, op, fn, *inputs, **check_kwargs):
    return Case(name, op, fn, inputs, check_kwargs)


_mask_3x1 = np.array([[True], [False], [True]])
_mask_3x4 = _rng.standard_normal((3, 4)) > 0
_repeated = np.array([0, 2, 0, 0, 1])
_labels_4 = np.array([2, 0, 1, 2])

def _assigned(t, index, value):
    """``t`` after ``t[index] = value`` (recorded as SetItem, since t is in the graph)."""
    t[index] = value
    return t


def off_grid(*shape):
    # k + f with f in [0.1, 0.4] or [0.6, 0.9]: at least 0.1 from every integer and half-integer,
    # where floor, ceil, trunc and round jump
    f = _rng.uniform(0.1, 0.4, shape) + 0.5 * _rng.integers(0, 2, shape)
    return _rng.integers(-3, 3, shape) + f


_divisors_4 = _rng.uniform(0.5, 2.0, 4) * np.array([1.0, -1.0, 1.0, -1.0])
_dividends_3x4 = off_grid(3, 4) * _divisors_4   # x / y at least 0.1 from an integer


PRIMITIVE_CASES = [
    case("Add", ops.Add, lambda x, y: x + y, normal(3, 4), normal(3, 4)),
    case("Add-(3,1)+(4,)", ops.Add, lambda x, y: x + y, normal(3, 1), normal(4)),
    case("Add-(2,3,4)+(3,1)", ops.Add, lambda x, y: x + y, normal(2, 3, 4), normal(3, 1)),
    case("Add-scalar+(2,3)", ops.Add, lambda x, y: x + y, normal(), normal(2, 3)),
    case("Sub", ops.Sub, lambda x, y: x - y, normal(3, 4), normal(3, 4)),
    case("Sub-(3,1)-(4,)", ops.Sub, lambda x, y: x - y, normal(3, 1), normal(4)),
    case("Sub-(2,3,4)-(3,1)", ops.Sub, lambda x, y: x - y, normal(2, 3, 4), normal(3, 1)),
    case("Mul", ops.Mul, lambda x, y: x * y, normal(3, 4), normal(3, 4)),
    case("Mul-(3,1)*(4,)", ops.Mul, lambda x, y: x * y, normal(3, 1), normal(4)),
    case("Mul-(2,3,4)*(3,1)", ops.Mul, lambda x, y: x * y, normal(2, 3, 4), normal(3, 1)),
    case("Div", ops.Div, lambda x, y: x / y, normal(3, 4), away_from_zero(3, 4)),
    case("Div-(3,1)/(4,)", ops.Div, lambda x, y: x / y, normal(3, 1), away_from_zero(4)),
    case("Div-(2,3,4)/(3,1)", ops.Div, lambda x, y: x / y, normal(2, 3, 4), away_from_zero(3, 1)),
    case("Pow", ops.Pow, lambda x, y: x ** y, positive(3, 4), normal(3, 4)),
    case("Pow-(3,1)**(4,)", ops.Pow, lambda x, y: x ** y, positive(3, 1), normal(4)),
    case("Pow-constant-exponent", ops.Pow, lambda x: x ** 3, normal(2, 3)),
    case("Pow-constant-base", ops.Pow, lambda y: 2.0 ** y, normal(2, 3)),
    case("Maximum", ops.Maximum, lambda x, y: x.maximum(y), normal(3, 4), normal(3, 4)),
    case("Maximum-(3,1)-(4,)", ops.Maximum, lambda x, y: x.maximum(y), normal(3, 1), normal(4)),
    case("Maximum-(2,3,4)-(3,1)", ops.Maximum, lambda x, y: x.maximum(y),
         normal(2, 3, 4), normal(3, 1)),
    case("Where", ops.Where, lambda x, y: tg.where(_mask_3x4, x, y), normal(3, 4), normal(3, 4)),
    case("Where-(3,1)-(4,)-(3,4)", ops.Where, lambda x, y: tg.where(_mask_3x1, x, y),
         normal(4), normal(3, 4)),
    case("Remainder", ops.Remainder, lambda x, y: x % y, _dividends_3x4,
         np.broadcast_to(_divisors_4, (3, 4)).copy()),
    case("Remainder-(3,4)%(4,)", ops.Remainder, lambda x, y: x % y, _dividends_3x4,
         _divisors_4),
    case("Remainder-(4,)%(3,1)", ops.Remainder, lambda x, y: x % y, _dividends_3x4[0],
         _rng.uniform(5.0, 6.0, (3, 1))),
    case("Atan2", ops.Atan2, lambda y, x: y.atan2(x), normal(3, 4), away_from_zero(3, 4)),
    case("Atan2-(3,1)-(4,)", ops.Atan2, lambda y, x: y.atan2(x), away_from_zero(3, 1),
         normal(4)),
    case("Copysign", ops.Copysign, lambda x, y: x.copysign(y), away_from_zero(3, 4),
         away_from_zero(3, 4)),
    case("Copysign-(3,4)-(4,)", ops.Copysign, lambda x, y: x.copysign(y), away_from_zero(3, 4),
         away_from_zero(4)),
    case("Floor", ops.Floor, lambda x: x.floor(), off_grid(3, 4)),
    case("Floor-times-x", ops.Floor, lambda x: x.floor() * x, off_grid(3, 4)),
    case("Ceil", ops.Ceil, lambda x: x.ceil() * x, off_grid(3, 4)),
    case("Round", ops.Round, lambda x: x.round() * x, off_grid(3, 4)),
    case("Round-decimals", ops.Round, lambda x: x.round(1) * x, off_grid(3, 4) / 10),
    case("Trunc", ops.Trunc, lambda x: x.trunc() * x, off_grid(3, 4)),
    case("Sign", ops.Sign, lambda x: x.sign() * x, away_from_zero(3, 4)),
    case("FloorDivide", ops.FloorDivide, lambda x, y: (x // y) * x * y, _dividends_3x4,
         np.broadcast_to(_divisors_4, (3, 4)).copy()),
    case("FloorDivide-(3,4)-(4,)", ops.FloorDivide, lambda x, y: (x // y) * x * y,
         _dividends_3x4, _divisors_4),
    case("TruncDivide-(3,4)-(4,)", ops.TruncDivide,
         lambda x, y: x.div(y, rounding_mode="trunc") * x * y, _dividends_3x4, _divisors_4),
    case("Neg", ops.Neg, lambda x: -x, normal(3, 4)),
    case("Exp", ops.Exp, lambda x: x.exp(), normal(3, 4)),
    case("Log", ops.Log, lambda x: x.log(), positive(3, 4)),
    case("Sqrt", ops.Sqrt, lambda x: x.sqrt(), positive(3, 4)),
    case("Abs", ops.Abs, lambda x: x.abs(), away_from_zero(3, 4)),
    case("Sin", ops.Sin, lambda x: x.sin(), normal(3, 4)),
    case("Cos", ops.Cos, lambda x: x.cos(), normal(3, 4)),
    case("Tanh", ops.Tanh, lambda x: x.tanh(), normal(3, 4)),
    case("Sigmoid", ops.Sigmoid, lambda x: x.sigmoid(), 3 * normal(3, 4)),
    case("Relu", ops.Relu, lambda x: x.relu(), away_from_zero(3, 4)),
    # values on a 0.1-spaced grid offset by 0.05, so none sits within 0.05 of the bounds +-0.5
    case("Clip", ops.Clip, lambda x: x.clip(-0.5, 0.5),
         _rng.permutation(np.arange(-1.05, 1.1, 0.1)[:20]).reshape(4, 5)),
    case("Clip-low-only", ops.Clip, lambda x: x.clip(min=0.0), away_from_zero(3, 4)),
    case("Clip-high-only", ops.Clip, lambda x: x.clip(max=0.0), away_from_zero(3, 4)),
    # the float32 round trip loses digits, so the finite difference needs a larger step
    case("Cast", ops.Cast, lambda x: x.float() * 3, normal(3, 4), eps=1e-2, atol=1e-4),
    case("Log1p", ops.Log1p, lambda x: x.log1p(), _rng.uniform(-0.5, 2.0, (3, 4))),
    case("Expm1", ops.Expm1, lambda x: x.expm1(), normal(3, 4)),
    case("Tan", ops.Tan, lambda x: x.tan(), _rng.uniform(-1.2, 1.2, (3, 4))),
    case("Asin", ops.Asin, lambda x: x.asin(), _rng.uniform(-0.9, 0.9, (3, 4))),
    case("Acos", ops.Acos, lambda x: x.acos(), _rng.uniform(-0.9, 0.9, (3, 4))),
    case("Atan", ops.Atan, lambda x: x.atan(), 2 * normal(3, 4)),
    case("Sinh", ops.Sinh, lambda x: x.sinh(), normal(3, 4)),
    case("Cosh", ops.Cosh, lambda x: x.cosh(), normal(3, 4)),
    case("Asinh", ops.Asinh, lambda x: x.asinh(), normal(3, 4)),
    case("Acosh", ops.Acosh, lambda x: x.acosh(), _rng.uniform(1.2, 3.0, (3, 4))),
    case("Atanh", ops.Atanh, lambda x: x.atanh(), _rng.uniform(-0.8, 0.8, (3, 4))),
    case("Erf", ops.Erf, lambda x: x.erf(), normal(3, 4)),
    case("Cumsum-axis1", ops.Cumsum, lambda x: x.cumsum(1), normal(3, 4)),
    case("Cumsum-axis0-3d", ops.Cumsum, lambda x: x.cumsum(0), normal(3, 2, 2)),
    case("Cumsum-axis-1", ops.Cumsum, lambda x: x.cumsum(-1), normal(5)),
    case("Sum-all", ops.Sum, lambda x: x.sum(), normal(2, 3, 4)),
    case("Sum-axis0", ops.Sum, lambda x: x.sum(axis=0), normal(2, 3, 4)),
    case("Sum-axis-1-keepdims", ops.Sum, lambda x: x.sum(axis=-1, keepdims=True),
         normal(2, 3, 4)),
    case("Sum-axis(0,2)", ops.Sum, lambda x: x.sum(axis=(0, 2)), normal(2, 3, 4)),
    case("Sum-axis(-1,0)-keepdims", ops.Sum, lambda x: x.sum(axis=(-1, 0), keepdims=True),
         normal(2, 3, 4)),
    case("Sum-all-keepdims", ops.Sum, lambda x: x.sum(keepdims=True), normal(2, 3)),
    case("Max-all", ops.Max, lambda x: x.max(), distinct(2, 3, 4)),
    case("Max-axis1", ops.Max, lambda x: x.amax(axis=1), distinct(2, 3, 4)),
    case("Max-axis-1-keepdims", ops.Max, lambda x: x.amax(axis=-1, keepdims=True),
         distinct(2, 3, 4)),
    case("Max-axis(0,2)", ops.Max, lambda x: x.amax(axis=(0, 2)), distinct(2, 3, 4)),
    case("Max-axis(0,-1)-keepdims", ops.Max, lambda x: x.amax(axis=(0, -1), keepdims=True),
         distinct(2, 3, 4)),
    case("Max-all-keepdims", ops.Max, lambda x: x.max(keepdims=True), distinct(3, 4)),
    case("MatMul-2d@2d", ops.MatMul, lambda x, y: x @ y, normal(2, 3), normal(3, 4)),
    case("MatMul-1d@2d", ops.MatMul, lambda x, y: x @ y, normal(3), normal(3, 4)),
    case("MatMul-2d@1d", ops.MatMul, lambda x, y: x @ y, normal(2, 3), normal(3)),
    case("MatMul-1d@1d", ops.MatMul, lambda x, y: x @ y, normal(3), normal(3)),
    case("MatMul-batch-broadcast", ops.MatMul, lambda x, y: x @ y,
         normal(2, 1, 3, 4), normal(5, 4, 2)),
    case("MatMul-1d@batch", ops.MatMul, lambda x, y: x @ y, normal(4), normal(2, 4, 3)),
    case("MatMul-batch@1d", ops.MatMul, lambda x, y: x @ y, normal(2, 3, 4), normal(4)),
    case("Reshape", ops.Reshape, lambda x: x.reshape(6, 4), normal(2, 3, 4)),
    case("Reshape-minus-one", ops.Reshape, lambda x: x.reshape(-1, 2), normal(2, 3, 4)),
    case("Transpose-permute", ops.Transpose, lambda x: x.permute(2, 0, 1), normal(2, 3, 4)),
    case("Transpose-T", ops.Transpose, lambda x: x.T, normal(2, 3)),
    case("Expand-(3,1)-to-(3,4)", ops.Expand, lambda x: x.expand(3, 4), normal(3, 1)),
    case("Expand-(4,)-to-(2,3,4)", ops.Expand, lambda x: x.expand(2, 3, 4), normal(4)),
    case("Expand-(2,1,1)-to-(2,3,4)-minus-one", ops.Expand, lambda x: x.expand(-1, 3, 4),
         normal(2, 1, 1)),
    case("Expand-0d-to-(2,2)", ops.Expand, lambda x: x.expand(2, 2), normal()),
    case("GetItem-int", ops.GetItem, lambda x: x[1], normal(3, 4)),
    case("GetItem-negative-int", ops.GetItem, lambda x: x[-1, 2], normal(3, 4)),
    case("GetItem-slice", ops.GetItem, lambda x: x[1:3, ::2], normal(4, 5)),
    case("GetItem-negative-step", ops.GetItem, lambda x: x[::-1, 3:0:-2], normal(4, 5)),
    case("GetItem-None", ops.GetItem, lambda x: x[None, :, None], normal(3, 2)),
    case("GetItem-Ellipsis", ops.GetItem, lambda x: x[..., 1], normal(2, 3, 4)),
    case("GetItem-int-array-repeated", ops.GetItem, lambda x: x[_repeated], normal(3, 2)),
    case("GetItem-int-arrays-pairs", ops.GetItem, lambda x: x[_repeated, np.array([1, 0, 1, 1, 0])],
         normal(3, 2)),
    case("GetItem-bool-mask", ops.GetItem, lambda x: x[_mask_3x4], normal(3, 4)),
    case("GetItem-mixed", ops.GetItem, lambda x: x[_repeated, ..., None, ::-1], normal(3, 2, 4)),
    case("ScatterAdd-repeated", ops.ScatterAdd,
         lambda y: _apply(ops.ScatterAdd, y, index=_repeated, shape=(3, 2)), normal(5, 2)),
    case("ScatterAdd-slice", ops.ScatterAdd,
         lambda y: _apply(ops.ScatterAdd, y, index=(slice(1, 3), 0), shape=(4, 2)), normal(2)),
    case("SetItem-slice", ops.SetItem,
         lambda x, y: _apply(ops.SetItem, x, y, index=(slice(1, 3),)), normal(4, 5), normal(2, 5)),
    case("SetItem-broadcast-(4,)-into-(2,4)", ops.SetItem,
         lambda x, y: _apply(ops.SetItem, x, y, index=slice(0, 2)), normal(3, 4), normal(4)),
    case("SetItem-int-array", ops.SetItem,
         lambda x, y: _apply(ops.SetItem, x, y, index=np.array([0, 3, 4])), normal(5, 2),
         normal(3, 2)),
    case("SetItem-bool-mask-scalar", ops.SetItem,
         lambda x, y: _apply(ops.SetItem, x, y, index=_mask_3x4), normal(3, 4), normal()),
    case("SetItem-through-x[i]=y", ops.SetItem, lambda x, y: _assigned(x * 1.0, (1, 2), y),
         normal(3, 4, 2), normal(2)),
    case("Linear", ops.Linear, lambda x, w, b: x.linear(w, b), normal(4, 3), normal(2, 3),
         normal(2)),
    case("Linear-no-bias", ops.Linear, lambda x, w: x.linear(w), normal(4, 3), normal(2, 3)),
    case("Linear-batched-input", ops.Linear, lambda x, w, b: x.linear(w, b), normal(2, 4, 3),
         normal(5, 3), normal(5)),
    case("Linear-1d-input", ops.Linear, lambda x, w, b: x.linear(w, b), normal(3), normal(2, 3),
         normal(2)),
    case("LogSoftmax-axis1", ops.LogSoftmax, lambda x: x.log_softmax(axis=1), normal(3, 4)),
    case("LogSoftmax-axis0", ops.LogSoftmax, lambda x: x.log_softmax(axis=0), normal(3, 4)),
    case("LogSoftmax-3d", ops.LogSoftmax, lambda x: x.log_softmax(axis=-1), normal(2, 3, 4)),
    case("CrossEntropy-mean", ops.CrossEntropy, lambda x: x.cross_entropy(_labels_4),
         normal(4, 3)),
    case("CrossEntropy-sum", ops.CrossEntropy, lambda x: x.cross_entropy(_labels_4, "sum"),
         normal(4, 3)),
    case("CrossEntropy-none", ops.CrossEntropy, lambda x: x.cross_entropy(_labels_4, "none"),
         normal(4, 3)),
    case("BinaryCrossEntropy", ops.BinaryCrossEntropy,
         lambda p, y: p.binary_cross_entropy(y), _rng.uniform(0.1, 0.9, (3, 4)),
         _rng.uniform(0, 1, (3, 4))),
    case("Cat-axis0", ops.Cat, lambda x, y: Tensor.cat([x, y]), normal(2, 3), normal(4, 3)),
    case("Cat-axis1", ops.Cat, lambda x, y: Tensor.cat([x, y], axis=1), normal(2, 3), normal(2, 1)),
    case("Cat-axis-1-three", ops.Cat, lambda x, y, z: Tensor.cat([x, y, z], axis=-1),
         normal(2, 2, 1), normal(2, 2, 3), normal(2, 2, 2)),
    # sliding windows: kernel, stride and dilation; windows overlap, so Fold adds them up
    case("Unfold-3x3", ops.Unfold,
         lambda x: _apply(ops.Unfold, x, kernel_size=(3, 3)), normal(2, 2, 4, 5)),
    case("Unfold-stride-dilation", ops.Unfold,
         lambda x: _apply(ops.Unfold, x, kernel_size=(2, 3), stride=(2, 1), dilation=(1, 2)),
         normal(1, 2, 5, 7)),
    case("Fold-3x3", ops.Fold,
         lambda x: _apply(ops.Fold, x, output_shape=(1, 2, 4, 5), kernel_size=(3, 3)),
         normal(1, 2, 3, 2, 3, 3)),
    case("Fold-stride-dilation", ops.Fold,
         lambda x: _apply(ops.Fold, x, output_shape=(1, 2, 5, 7), kernel_size=(2, 3),
                          stride=(2, 1), dilation=(1, 2)), normal(1, 2, 3, 2, 2, 3)),
    case("Pad-zeros", ops.Pad,
         lambda x: _apply(ops.Pad, x, widths=((0, 0), (1, 2))), normal(2, 3)),
    case("Pad-value-3d", ops.Pad,
         lambda x: _apply(ops.Pad, x, widths=((1, 0), (0, 0), (2, 1)), value=-2.0),
         normal(2, 3, 2)),
]


@pytest.mark.parametrize("case", PRIMITIVE_CASES, ids=lambda c: c.name)
def test_primitive_gradient(case):
    xs = [Tensor(array.copy(), requires_grad=True) for array in case.inputs]
    assert tg.gradcheck(case.fn, xs, **case.check_kwargs)


def _ops_in_graph(tensor):
    """The primitive classes recorded in the graph behind ``tensor``."""
    return {type(t.grad_fn) for t in tg.walk(tensor) if t.grad_fn is not None}


@pytest.mark.parametrize("case", PRIMITIVE_CASES, ids=lambda c: c.name)
def test_primitive_case_goes_through_its_op(case):
    xs = [Tensor(array.copy(), requires_grad=True) for array in case.inputs]
    out = case.fn(*xs)
    assert case.op in _ops_in_graph(out)
    (out * 1.0).sum().backward()
    for x in xs:
        assert x.grad is not None and x.grad.shape == x.shape


def _hessian_vector_product(fn, weights, directions):
    """x -> sum_i <d/dx_i sum(fn(x) * weights), v_i>: its gradient is the Hessian times v."""
    def hvp(*xs):
        with tg.enable_grad():   # gradcheck evaluates under no_grad; this needs a graph
            out = (fn(*xs) * weights).sum()
            grads = tg.grad(out, list(xs), create_graph=True, allow_unused=True)
        total = Tensor(np.zeros(()))
        for g, v in zip(grads, directions):
            if g is not None:
                total = total + (g * v).sum()
        return total
    return hvp


@pytest.mark.parametrize("case", PRIMITIVE_CASES, ids=lambda c: c.name)
def test_primitive_second_derivative(case):
    # autograd through the recorded backward pass (create_graph=True) against finite
    # differences of the first-order autograd gradient, in float64
    xs = [Tensor(array.copy(), requires_grad=True) for array in case.inputs]
    weights = _rng.uniform(0.5, 1.5, case.fn(*xs).shape)
    directions = [_rng.standard_normal(x.shape) for x in xs]
    assert tg.gradcheck(_hessian_vector_product(case.fn, weights, directions), xs,
                        **case.check_kwargs)


def test_primitive_table_covers_every_primitive():
    covered = {c.op for c in PRIMITIVE_CASES}
    missing = [op.__name__ for op in tg.PRIMITIVES if op not in covered]
    assert not missing, f"primitives without a gradient test: {missing}"
    assert len({c.name for c in PRIMITIVE_CASES}) == len(PRIMITIVE_CASES)


# ----- hand-checked derivatives: expected values come from the math ----------------------

def _grad(fn, values):
    x = Tensor(np.array(values, dtype=np.float64), requires_grad=True)
    fn(x).sum().backward()
    return x.grad.numpy()


def test_max_ties_split_gradient_evenly():
    # three elements share the maximum 3: each gets 1/3
    grad = _grad(lambda x: x.max(), [1.0, 3.0, 3.0, 2.0, 3.0])
    np.testing.assert_allclose(grad, [0, 1 / 3, 1 / 3, 0, 1 / 3])


def test_max_ties_along_axis_split_per_row():
    grad = _grad(lambda x: x.amax(axis=1), [[1.0, 2.0, 2.0], [5.0, 0.0, 5.0], [7.0, 1.0, 0.0]])
    np.testing.assert_allclose(grad, [[0, 0.5, 0.5], [0.5, 0, 0.5], [1, 0, 0]])


def test_maximum_ties_split_gradient_in_half():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = Tensor([1.0, 1.0, 4.0], requires_grad=True)
    x.maximum(y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 1.0, 0.0])
    np.testing.assert_allclose(y.grad.numpy(), [0.5, 0.0, 1.0])


def test_relu_derivative_at_zero_is_zero():
    np.testing.assert_array_equal(_grad(lambda x: x.relu(), [-1.0, 0.0, 2.0]), [0, 0, 1])


def test_abs_derivative_at_zero_is_zero():
    np.testing.assert_array_equal(_grad(lambda x: x.abs(), [-2.0, 0.0, 3.0]), [-1, 0, 1])


def test_clip_gradient_is_one_at_the_bounds():
    grad = _grad(lambda x: x.clip(-0.5, 0.5), [-1.0, -0.5, 0.0, 0.5, 1.0])
    np.testing.assert_array_equal(grad, [0, 1, 1, 1, 0])


def test_unary_derivatives_at_known_points():
    np.testing.assert_allclose(_grad(lambda x: x.exp(), [0.0, 1.0]), [1.0, np.e])
    np.testing.assert_allclose(_grad(lambda x: x.log(), [2.0, 0.25]), [0.5, 4.0])
    np.testing.assert_allclose(_grad(lambda x: x.sqrt(), [4.0, 0.25]), [0.25, 1.0])
    np.testing.assert_allclose(_grad(lambda x: x.sin(), [0.0, np.pi]), [1.0, -1.0], atol=1e-12)
    np.testing.assert_allclose(_grad(lambda x: x.cos(), [np.pi / 2]), [-1.0])
    np.testing.assert_allclose(_grad(lambda x: x.tanh(), [0.0]), [1.0])
    np.testing.assert_allclose(_grad(lambda x: x.sigmoid(), [0.0]), [0.25])
    np.testing.assert_allclose(_grad(lambda x: -x, [5.0]), [-1.0])


def test_pow_derivatives_at_known_points():
    x = Tensor(2.0, dtype=np.float64, requires_grad=True)
    y = Tensor(3.0, dtype=np.float64, requires_grad=True)
    (x ** y).backward()
    assert x.grad.item() == pytest.approx(12.0)           # 3 * 2^2
    assert y.grad.item() == pytest.approx(8 * np.log(2))  # 2^3 * ln 2


def test_pow_gradient_of_exponent_at_zero_base_is_zero():
    # d(x^y)/dy = x^y ln x, and x^y = 0 at x = 0 for y > 0: taken as 0 (as PyTorch does)
    y = Tensor([2.0], dtype=np.float64, requires_grad=True)
    (Tensor([0.0], dtype=np.float64) ** y).sum().backward()
    assert y.grad.numpy()[0] == 0.0


def test_getitem_repeated_indices_accumulate():
    grad = _grad(lambda x: x[[0, 0, 2, 0]], [10.0, 20.0, 30.0])
    np.testing.assert_array_equal(grad, [3, 0, 1])


def test_getitem_bool_mask_gradient_is_the_mask():
    mask = np.array([True, False, True, False])
    np.testing.assert_array_equal(_grad(lambda x: x[mask], [1.0, 2.0, 3.0, 4.0]), [1, 0, 1, 0])


def test_where_routes_gradient_by_condition():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = Tensor([4.0, 5.0, 6.0], requires_grad=True)
    tg.where(np.array([True, False, True]), x, y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 0, 1])
    np.testing.assert_array_equal(y.grad.numpy(), [0, 1, 0])


def test_matmul_gradient_matches_closed_form():
    # d sum(A @ B) / dA = 1 @ B^T (row sums of B for every row); / dB = A^T @ 1
    a_values = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    b_values = np.array([[1.0, -1.0, 2.0], [0.5, 0.0, -2.0]])
    a = Tensor(a_values, requires_grad=True)
    b = Tensor(b_values, requires_grad=True)
    (a @ b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [[2.0, -1.5]] * 3)
    np.testing.assert_allclose(b.grad.numpy(), [[9.0] * 3, [12.0] * 3])


def test_cat_gradient_splits_back_to_pieces():
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    y = Tensor(np.ones((2, 3)), requires_grad=True)
    weights = np.arange(10.0).reshape(2, 5)
    (Tensor.cat([x, y], axis=1) * weights).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1], [5, 6]])
    np.testing.assert_array_equal(y.grad.numpy(), [[2, 3, 4], [7, 8, 9]])


def test_cast_gradient_returns_in_input_dtype():
    x = Tensor([1.0, 2.0], requires_grad=True)       # float32
    (x.double() * 2).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2])
