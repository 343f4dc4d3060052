"""PyTorch's names on Tensors and the module (issue 14): a learner's script runs with only
``import tinygrad_edu as torch`` changed.

Each test pins values, shapes, dtypes, return types and gradients worked out by hand (in the
comments), or the error PyTorch's name gets here. Derivatives of new primitives are also
checked against finite differences in tests/test_primitives.py.
"""

import numpy as np
import pytest

import tinygrad_edu as torch          # as a learner's script would write it
from tinygrad_edu import Tensor


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


def grad_of(fn, values, weights=None, dtype=np.float64):
    """d sum(fn(x) * weights) / dx at ``values``."""
    x = leaf(values, dtype)
    out = fn(x)
    (out if weights is None else out * np.asarray(weights, dtype=out.dtype)).sum().backward()
    return x.grad.numpy()


# ----- 1. devices and dtypes ---------------------------------------------------------------

def test_device_boilerplate_picks_the_cpu():
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    assert torch.cuda.is_available() is False and torch.cuda.device_count() == 0
    assert device == torch.device("cpu") and str(device) == "cpu" and device.type == "cpu"
    assert repr(device) == "device(type='cpu')" and device.index is None
    assert torch.device("cpu:0").index == 0 and str(torch.device("cpu:0")) == "cpu:0"
    assert device != "cpu"      # as in PyTorch: a device is not equal to a string
    x = torch.randn(2, 3).to(device)
    assert x.device == device and x.is_cuda is False
    torch.cuda.manual_seed_all(0)           # accepted, as PyTorch does without a GPU
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    assert torch.backends.mps.is_available() is False


@pytest.mark.parametrize("name", ["cuda", "cuda:0", "mps"])
def test_a_gpu_device_can_be_named_but_nothing_can_go_there(name):
    # PyTorch builds torch.device("cuda") on any machine (its tensors tutorial reads
    # torch.device('cuda').index); only putting something there fails
    gpu = torch.device(name)
    assert gpu.type == name.split(":")[0] and gpu.index == (0 if ":" in name else None)
    assert gpu != torch.device("cpu")
    with pytest.raises(RuntimeError, match="to: .*CPU only"):
        torch.ones(2).to(name)
    with pytest.raises(RuntimeError, match="to: .*CPU only"):
        torch.ones(2).to(gpu)
    with pytest.raises(RuntimeError, match="zeros: .*CPU only"):
        torch.zeros(2, device=gpu)
    with pytest.raises(RuntimeError, match="Linear.to: .*cpu"):
        torch.nn.Linear(2, 2).to(gpu)


def test_an_unknown_device_name_is_an_error():
    with pytest.raises(RuntimeError, match="expected one of 'cpu', 'cuda'.*got 'gpu'"):
        torch.device("gpu")


def test_triangles_keep_the_dtype_so_a_bool_mask_stays_bool():
    a = torch.ones(3, 3, dtype=torch.bool)
    assert torch.triu(a, diagonal=1).dtype == np.bool_ and a.tril().dtype == np.bool_
    assert torch.triu(a, 1).numpy().tolist() == [[False, True, True], [False, False, True],
                                                  [False, False, False]]
    assert torch.ones(2, 2, dtype=torch.int32).tril().dtype == np.int32


def test_old_tutorial_names_variable_and_clip_grad_norm_still_run():
    from tinygrad_edu.autograd import Variable
    x = torch.ones(2)
    assert Variable(x) is x and not x.requires_grad
    assert Variable(x, requires_grad=True).requires_grad
    layer = torch.nn.Linear(2, 1)
    layer.weight.data.fill_(1.0)
    layer.bias.data.fill_(0.0)
    layer(torch.ones(1, 2)).sum().backward()      # grads: weight (1, 1), bias 1: norm sqrt(3)
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        norm = torch.nn.utils.clip_grad_norm(layer.parameters(), 0.5)
    assert float(norm) == pytest.approx(3 ** 0.5)
    assert float(layer.bias.grad) == pytest.approx(0.5 / 3 ** 0.5, rel=1e-5)


def test_cuda_method_and_gpu_numbers_raise():
    with pytest.raises(RuntimeError, match=r"cuda\(\): no GPU"):
        torch.ones(2).cuda()
    with pytest.raises(RuntimeError, match="GPU number"):
        torch.ones(2).to(0)
    with pytest.raises(RuntimeError, match="no GPU"):
        torch.cuda.get_device_name(0)


def test_to_takes_device_dtype_tensor_and_keywords():
    x = Tensor([1.0, 2.0])
    assert x.to("cpu") is x and x.cpu() is x and x.to(torch.float32) is x
    assert x.to(torch.device("cpu"), non_blocking=True) is x
    y = x.to("cpu", torch.float64)
    assert y.dtype == torch.float64 and y.dtype == np.float64
    assert x.to(device="cpu", dtype=torch.int64).dtype == torch.int64
    assert x.to(torch.tensor([1, 2])).dtype == torch.int64     # another tensor's dtype
    copied = x.to(torch.float32, copy=True)
    assert copied is not x and copied.numpy() is not x.numpy()
    np.testing.assert_array_equal(copied.numpy(), [1, 2])


def test_to_keeps_the_gradient_between_float_dtypes():
    x = leaf([1.0, 2.0], np.float32)
    y = x.to("cpu", torch.float64)
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2, 4])


def test_dtype_names_compare_as_pytorch_and_numpy():
    assert torch.ones(2).dtype == torch.float32 == torch.float
    assert torch.get_default_dtype() == torch.float32
    pairs = [(torch.float64, np.float64), (torch.double, np.float64), (torch.float16, np.float16),
             (torch.half, np.float16), (torch.int64, np.int64), (torch.long, np.int64),
             (torch.int32, np.int32), (torch.int, np.int32), (torch.int16, np.int16),
             (torch.short, np.int16), (torch.int8, np.int8), (torch.uint8, np.uint8),
             (torch.bool, np.bool_)]
    for name, numpy_type in pairs:
        assert torch.zeros(2, dtype=name).dtype == numpy_type


def test_bfloat16_can_be_named_but_not_used():
    dtype = torch.bfloat16                  # naming it is fine
    assert "bfloat16" in repr(dtype)
    with pytest.raises(TypeError, match="to: bfloat16 is not supported.*numpy"):
        torch.ones(2).to(dtype)
    with pytest.raises(TypeError, match="bfloat16 is not supported"):
        torch.zeros(2, dtype=dtype)


def test_to_rejects_what_is_not_a_dtype():
    with pytest.raises(TypeError, match="to: 'float' is not a device string|not a dtype"):
        torch.ones(2).to(3.5)


def test_type_names_and_conversions():
    x = torch.ones(2)
    assert x.type() == "torch.FloatTensor" and x.double().type() == "torch.DoubleTensor"
    assert x.long().type() == "torch.LongTensor" and x.bool().type() == "torch.BoolTensor"
    assert x.byte().type() == "torch.ByteTensor" and x.char().type() == "torch.CharTensor"
    assert x.short().type() == "torch.ShortTensor" and x.int().type() == "torch.IntTensor"
    assert x.half().type() == "torch.HalfTensor"
    assert x.type(torch.float64).dtype == np.float64
    assert x.type("torch.LongTensor").dtype == np.int64
    assert torch.tensor([1, 2]).type_as(x).dtype == np.float32
    assert x.astype("float64").dtype == np.float64


def test_contiguous_clone_and_view_as():
    x = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.contiguous() is x and x.is_contiguous()
    c = x.clone()
    assert c.numpy() is not x.numpy() and c.requires_grad
    v = x.view_as(Tensor(np.zeros((3, 2))))
    assert v.shape == (3, 2)
    np.testing.assert_array_equal(v.numpy(), [[1, 2], [3, 4], [5, 6]])


def test_expand_copies_along_size_one_axes_and_sums_the_gradient():
    x = leaf([[1.0], [2.0]])                  # (2, 1)
    y = x.expand(3, -1, 4)                    # (3, 2, 4): 12 copies of each element
    assert y.shape == (3, 2, 4)
    np.testing.assert_array_equal(y.numpy()[2], [[1] * 4, [2] * 4])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[12], [12]])
    assert x.expand_as(Tensor(np.zeros((2, 5)))).shape == (2, 5)
    assert x.expand(2, 1) is x


def test_expand_refuses_to_grow_an_axis_that_is_not_one():
    with pytest.raises(ValueError, match=r"expand: cannot expand shape \(2, 3\) to \(4, 3\)"):
        torch.ones(2, 3).expand(4, 3)
    with pytest.raises(ValueError, match="fewer axes"):
        torch.ones(2, 3).expand(3)
    with pytest.raises(ValueError, match="new leading axis"):
        torch.ones(3).expand(-1, 3)


def test_repeat_tiles_the_whole_tensor():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x.repeat(2, 3)                        # numpy's tile: (4, 6)
    assert y.shape == (4, 6)
    np.testing.assert_array_equal(y.numpy()[:2], [[1, 2, 1, 2, 1, 2], [3, 4, 3, 4, 3, 4]])
    np.testing.assert_array_equal(y.numpy()[2:], y.numpy()[:2])
    (y * np.arange(24.0).reshape(4, 6)).sum().backward()
    # x[0, 0] appears at rows 0, 2 and columns 0, 2, 4: 0+2+4 + 12+14+16 = 48
    np.testing.assert_array_equal(x.grad.numpy(), [[48, 54], [84, 90]])
    assert torch.tensor([1, 2]).repeat(2, 2).shape == (2, 4)
    with pytest.raises(ValueError, match="repeat: needs at least one size per axis"):
        x.repeat(2)


def test_flip_reverses_and_copies():
    x = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y = x.flip(0, 1)
    np.testing.assert_array_equal(y.numpy(), [[6, 5, 4], [3, 2, 1]])
    np.testing.assert_array_equal(x.flip([1]).numpy(), [[3, 2, 1], [6, 5, 4]])
    (y * np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[6, 5, 4], [3, 2, 1]])
    z = Tensor([1.0, 2.0]).flip(0)
    z += 1                                     # a copy: the original is unchanged
    np.testing.assert_array_equal(torch.flip(torch.tensor([1, 2]), [0]).numpy(), [2, 1])


def test_roll_wraps_around():
    x = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(x.roll(1, 1).numpy(), [[3, 1, 2], [6, 4, 5]])
    np.testing.assert_array_equal(x.roll(-1, 1).numpy(), [[2, 3, 1], [5, 6, 4]])
    np.testing.assert_array_equal(x.roll(1).numpy(), [[6, 1, 2], [3, 4, 5]])   # flattened
    np.testing.assert_array_equal(x.roll((1, 1), (0, 1)).numpy(), [[6, 4, 5], [3, 1, 2]])
    y = torch.roll(x, 1, 1)
    (y * np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])).sum().backward()
    # y[0] = (x02, x00, x01): x00 gets weight 2, x01 3, x02 1
    np.testing.assert_array_equal(x.grad.numpy(), [[2, 3, 1], [0, 0, 0]])


def test_legacy_constructors():
    x = Tensor(2, 3)                             # PyTorch: uninitialised; here zeros
    assert x.shape == (2, 3) and x.dtype == np.float32 and not x.numpy().any()
    assert Tensor().shape == (0,) and Tensor().dtype == np.float32
    assert torch.FloatTensor([1, 2]).dtype == np.float32
    np.testing.assert_array_equal(torch.FloatTensor([1, 2]).numpy(), [1.0, 2.0])
    assert torch.LongTensor([1.0, 2.0]).dtype == np.int64
    assert torch.FloatTensor(2, 3).shape == (2, 3)
    assert torch.DoubleTensor(4).shape == (4,)      # one int is a shape, as in PyTorch
    assert torch.BoolTensor([1, 0]).dtype == np.bool_
    assert Tensor([1, 2]).dtype == np.float32        # as torch.Tensor; torch.tensor: int64
    assert torch.tensor([1, 2]).dtype == np.int64
    assert Tensor(np.zeros(2)).dtype == np.float64   # numpy keeps its dtype
    with pytest.raises(TypeError, match="Tensor: Tensor\\(2, 3\\) makes a zero tensor"):
        Tensor(2, -3)


def test_from_numpy_shares_memory():
    a = np.array([1.0, 2.0])
    t = torch.from_numpy(a)
    a[0] = 5.0
    assert t.dtype == np.float64 and t.numpy()[0] == 5.0


# ----- 2. comparisons, logic, rounding and arithmetic names ---------------------------------

def test_comparison_methods_and_functions_give_bool_tensors():
    x, y = Tensor([1.0, 2.0, 3.0]), Tensor([3.0, 2.0, 1.0])
    for name, want in [("eq", [0, 1, 0]), ("ne", [1, 0, 1]), ("lt", [1, 0, 0]),
                       ("le", [1, 1, 0]), ("gt", [0, 0, 1]), ("ge", [0, 1, 1])]:
        for out in (getattr(x, name)(y), getattr(torch, name)(x, y)):
            assert out.dtype == np.bool_ and not out.requires_grad
            np.testing.assert_array_equal(out.numpy(), np.array(want, dtype=bool))
    assert torch.greater(x, 2).numpy().tolist() == [False, False, True]


def test_any_and_all_along_a_dim():
    x = torch.tensor([[0, 1, 0], [0, 0, 0]])
    assert x.any().item() is True and x.all().item() is False
    np.testing.assert_array_equal(x.any(1).numpy(), [True, False])
    np.testing.assert_array_equal(x.any(dim=0, keepdim=True).numpy(), [[False, True, False]])
    assert x.any(dim=0, keepdim=True).shape == (1, 3)
    np.testing.assert_array_equal(torch.all(torch.tensor([[1, 2], [0, 3]]), 1).numpy(),
                                  [True, False])


def test_nan_inf_checks_and_closeness():
    x = Tensor([1.0, float("nan"), float("inf"), -float("inf")])
    np.testing.assert_array_equal(torch.isnan(x).numpy(), [False, True, False, False])
    np.testing.assert_array_equal(x.isinf().numpy(), [False, False, True, True])
    np.testing.assert_array_equal(x.isfinite().numpy(), [True, False, False, False])
    a, b = Tensor([1.0, 100.0]), Tensor([1.0 + 1e-9, 100.001])
    # |a - b| <= 1e-8 + 1e-5 |b|: 1e-9 yes; 1e-3 > 1e-8 + 1.00001e-3? no: 1e-3 <= 1.00001e-3
    np.testing.assert_array_equal(torch.isclose(a, b).numpy(), [True, True])
    assert torch.allclose(a, b) is True
    assert torch.allclose(a, Tensor([1.0, 100.01])) is False
    assert torch.equal(torch.tensor([1, 2]), torch.tensor([1, 2])) is True
    assert torch.equal(torch.tensor([1, 2]), torch.tensor([[1, 2]])) is False


def test_masked_fill_and_its_in_place_form():
    x = leaf([[1.0, -2.0], [3.0, -4.0]])
    y = x.masked_fill(x < 0, 0.0)
    np.testing.assert_array_equal(y.numpy(), [[1, 0], [3, 0]])
    (y * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2, 0], [2, 0]])
    z = Tensor([1.0, -1.0])
    assert z.masked_fill_(z < 0, 5.0) is z
    np.testing.assert_array_equal(z.numpy(), [1, 5])
    scores = torch.zeros(2, 3).masked_fill(torch.tensor([[False, True, True]]), float("-inf"))
    np.testing.assert_array_equal(scores.softmax(-1).numpy()[0], [1, 0, 0])


def test_masked_fill_errors_name_the_problem():
    with pytest.raises(TypeError, match="masked_fill: the mask must be boolean, got int64"):
        torch.ones(2).masked_fill(torch.tensor([1, 0]), 0.0)
    with pytest.raises(ValueError, match=r"masked_fill: the mask of shape \(3,\) does not"):
        torch.ones(2).masked_fill(torch.tensor([True, False, True]), 0.0)
    with pytest.raises(ValueError, match="masked_fill: takes one value"):
        torch.ones(2).masked_fill(torch.tensor([True, False]), Tensor([1.0, 2.0]))


def test_where_with_the_condition_alone_gives_indices():
    rows, cols = torch.where(torch.tensor([[True, False], [False, True]]))
    assert rows.dtype == np.int64
    np.testing.assert_array_equal(rows.numpy(), [0, 1])
    np.testing.assert_array_equal(cols.numpy(), [0, 1])
    np.testing.assert_array_equal(torch.tensor([0, 3, 0, 4]).nonzero().numpy(), [[1], [3]])
    assert torch.tensor([[0, 1], [2, 0]]).nonzero().shape == (2, 2)
    assert len(torch.tensor([[0, 1], [2, 0]]).nonzero(as_tuple=True)) == 2


def test_rounding_functions_have_zero_gradient_and_frac_has_one():
    for name in ["floor", "ceil", "round", "trunc", "sign"]:
        g = grad_of(getattr(torch, name), [0.3, -1.7, 2.5])
        np.testing.assert_array_equal(g, [0, 0, 0])
    np.testing.assert_array_equal(grad_of(torch.frac, [0.3, -1.7]), [1, 1])
    np.testing.assert_array_equal(torch.round(Tensor([1.2345, 2.5]), decimals=2).numpy(),
                                  np.array([1.23, 2.5], dtype=np.float32))
    assert torch.sign(torch.tensor([True, False])).dtype == np.bool_


def test_bitwise_operators_on_bool_and_int_tensors():
    a, b = torch.tensor([True, True, False]), torch.tensor([True, False, False])
    np.testing.assert_array_equal((a & b).numpy(), [True, False, False])
    np.testing.assert_array_equal((a | b).numpy(), [True, True, False])
    np.testing.assert_array_equal((a ^ b).numpy(), [False, True, False])
    np.testing.assert_array_equal((~a).numpy(), [False, False, True])
    np.testing.assert_array_equal((True & b).numpy(), [True, False, False])
    np.testing.assert_array_equal((torch.tensor([6]) | 1).numpy(), [7])
    x = Tensor([1.0, -2.0, 3.0])
    np.testing.assert_array_equal(((x > 0) & (x < 2)).numpy(), [True, False, False])
    np.testing.assert_array_equal(torch.logical_and(x, torch.tensor([0, 1, 1])).numpy(),
                                  [False, True, True])
    np.testing.assert_array_equal(torch.logical_not(Tensor([0.0, 2.0])).numpy(), [True, False])


def test_bitwise_operators_on_floats_say_what_to_do():
    with pytest.raises(TypeError, match=r"&: needs integer or boolean tensors, got float32"):
        torch.ones(2) & torch.ones(2)
    with pytest.raises(TypeError, match=r"~: needs an integer or boolean tensor.*~\(x > 0\)"):
        ~torch.ones(2)
    with pytest.raises(ValueError, match=r"\|: shapes \(2,\) and \(3,\) do not broadcast"):
        torch.tensor([True, False]) | torch.tensor([True, False, True])


def test_modulo_and_floor_division_follow_python():
    x = Tensor([5.5, -5.5, 5.5])
    y = Tensor([2.0, 2.0, -2.0])
    np.testing.assert_allclose((x % y).numpy(), [1.5, 0.5, -0.5])
    np.testing.assert_array_equal((x // y).numpy(), [2, -3, -3])
    np.testing.assert_array_equal((7 // torch.tensor([2, -2])).numpy(), [3, -4])
    np.testing.assert_array_equal((7 % torch.tensor([2, -2])).numpy(), [1, -1])
    assert (torch.tensor([7]) // 2).dtype == np.int64
    assert (torch.tensor([7]) // 2.0).dtype == np.float32
    np.testing.assert_array_equal(torch.remainder(torch.tensor([-1]), 3).numpy(), [2])


def test_integer_division_by_zero_raises_float_division_gives_inf():
    for fn in (lambda: torch.tensor([5]) // 0, lambda: torch.tensor([5]) % torch.tensor([0]),
               lambda: torch.tensor([5]).div(0, rounding_mode="trunc")):
        with pytest.raises(ValueError, match="integer division by zero"):
            fn()
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_array_equal((Tensor([5.0, -5.0]) // 0).numpy(), [np.inf, -np.inf])


def test_div_rounding_modes():
    x, y = Tensor([7.0, -7.0]), Tensor([2.0, 2.0])
    np.testing.assert_array_equal(x.div(y).numpy(), [3.5, -3.5])
    np.testing.assert_array_equal(torch.div(x, y, rounding_mode="trunc").numpy(), [3, -3])
    np.testing.assert_array_equal(x.divide(y, rounding_mode="floor").numpy(), [3, -4])
    with pytest.raises(ValueError, match="div: rounding_mode must be None, 'trunc' or 'floor'"):
        x.div(y, rounding_mode="round")


def test_arithmetic_functions_and_methods():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 5.0])
    out = torch.add(x, y, alpha=2) + torch.sub(x, y) + torch.mul(x, y) + torch.div(y, x)
    # 1 + 6 + (1 - 3) + 3 + 3 = 11 ;  2 + 10 + (2 - 5) + 10 + 2.5 = 21.5
    np.testing.assert_allclose(out.numpy(), [11, 21.5])
    out.sum().backward()
    # d/dx: 1 + 1 + y - y / x^2 ;  d/dy: 2 - 1 + x + 1 / x
    np.testing.assert_allclose(x.grad.numpy(), [2 + 3 - 3, 2 + 5 - 5 / 4])
    np.testing.assert_allclose(y.grad.numpy(), [1 + 1 + 1, 1 + 2 + 0.5])
    np.testing.assert_array_equal(torch.neg(torch.tensor([1, -2])).numpy(), [-1, 2])
    np.testing.assert_array_equal(torch.pow(2, Tensor([1.0, 3.0])).numpy(), [2, 8])
    np.testing.assert_array_equal(torch.pow(Tensor([2.0]), 3).numpy(), [8])
    np.testing.assert_allclose(torch.rsqrt(Tensor([4.0])).numpy(), [0.5])
    assert torch.reciprocal(torch.tensor([4])).dtype == np.float32


def test_shape_functions_in_module_form():
    x = torch.randn(2, 3, 4)
    assert torch.reshape(x, (6, 4)).shape == (6, 4)
    assert torch.flatten(x, 1).shape == (2, 12)
    assert torch.transpose(x, 0, 2).shape == (4, 3, 2)
    assert torch.permute(x, (2, 0, 1)).shape == (4, 2, 3)
    assert torch.squeeze(torch.unsqueeze(x, 0)).shape == (2, 3, 4)
    assert torch.t(torch.ones(2, 3)).shape == (3, 2)
    assert torch.mm(torch.ones(2, 3), torch.ones(3, 4)).shape == (2, 4)
    assert torch.bmm(torch.ones(5, 2, 3), torch.ones(5, 3, 4)).shape == (5, 2, 4)
    assert torch.numel(x) == 24
    with pytest.raises(ValueError, match=r"bmm: needs two 3-D tensors .* \(2, 3\) and"):
        torch.bmm(torch.ones(2, 3), torch.ones(3, 4))


def test_atan2_and_copysign():
    y, x = leaf([1.0, -1.0]), leaf([-1.0, -1.0])
    out = torch.atan2(y, x)
    np.testing.assert_allclose(out.numpy(), [3 * np.pi / 4, -3 * np.pi / 4])
    out.sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [-0.5, -0.5])   # x / (x^2 + y^2)
    np.testing.assert_allclose(x.grad.numpy(), [-0.5, 0.5])    # -y / (x^2 + y^2)
    np.testing.assert_array_equal(torch.copysign(Tensor([1.0, 2.0]), -0.0).numpy(), [-1, -2])
    assert torch.copysign(torch.tensor([1, 2]), torch.tensor([-1, 1])).dtype == np.float32


# ----- 3. math ------------------------------------------------------------------------------

def test_unary_math_values_and_slopes():
    x = [0.5, -0.25]
    cases = {   # name: (value, slope), from the formulas
        "erf": (lambda v: np.array([0.5204998778130465, -0.2763263901682369]),
                lambda v: 2 / np.sqrt(np.pi) * np.exp(-v * v)),
        "log1p": (np.log1p, lambda v: 1 / (1 + v)),
        "expm1": (np.expm1, np.exp),
        "tan": (np.tan, lambda v: 1 / np.cos(v) ** 2),
        "asin": (np.arcsin, lambda v: 1 / np.sqrt(1 - v * v)),
        "acos": (np.arccos, lambda v: -1 / np.sqrt(1 - v * v)),
        "atan": (np.arctan, lambda v: 1 / (1 + v * v)),
        "sinh": (np.sinh, np.cosh),
        "cosh": (np.cosh, np.sinh),
        "exp2": (lambda v: 2.0 ** v, lambda v: 2.0 ** v * np.log(2)),
    }
    v = np.array(x)
    for name, (value, slope) in cases.items():
        out = getattr(torch, name)(Tensor(v))
        np.testing.assert_allclose(out.numpy(), value(v), rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(grad_of(getattr(torch, name), x), slope(v), rtol=1e-12,
                                   err_msg=name)


def test_logs_of_other_bases_and_accuracy_near_zero():
    np.testing.assert_array_equal(torch.log2(Tensor([8.0, 1024.0])).numpy(), [3, 10])
    np.testing.assert_allclose(torch.log10(Tensor([1000.0, 0.01])).numpy(), [3, -2], rtol=1e-6)
    np.testing.assert_allclose(grad_of(torch.log2, [4.0]), [1 / (4 * np.log(2))])
    # 1 + 1e-10 rounds to 1 in float32: log(1 + x) would give 0, log1p keeps x
    assert torch.log1p(Tensor([1e-10])).numpy()[0] == pytest.approx(1e-10)
    assert torch.expm1(Tensor([1e-10])).numpy()[0] == pytest.approx(1e-10)
    assert torch.erf(torch.tensor([1, 2])).dtype == np.float32
    assert torch.exp2(torch.tensor([3])).numpy()[0] == 8


def test_cumsum_and_its_gradient():
    x = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y = torch.cumsum(x, dim=1)
    np.testing.assert_array_equal(y.numpy(), [[1, 3, 6], [4, 9, 15]])
    (y * np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])).sum().backward()
    # x_i is in every running total from i on: 1+2+3, 2+3, 3 ; 0+0+1, 0+1, 1
    np.testing.assert_array_equal(x.grad.numpy(), [[6, 5, 3], [1, 1, 1]])
    assert torch.tensor([True, True]).cumsum(0).dtype == np.int64
    np.testing.assert_array_equal(torch.tensor([1, 2, 3]).cumsum(0).numpy(), [1, 3, 6])


def test_norms():
    m = leaf([[3.0, -4.0], [0.0, 0.0]])
    assert torch.norm(m).item() == 5.0
    np.testing.assert_array_equal(m.norm(dim=1).numpy(), [5, 0])
    np.testing.assert_array_equal(m.norm(p=1, dim=1).numpy(), [7, 0])
    np.testing.assert_array_equal(m.norm(p=float("inf"), dim=1, keepdim=True).numpy(),
                                  [[4], [0]])
    assert m.norm(p=0).item() == 2.0
    np.testing.assert_allclose(m.norm(p=3).item(), (27 + 64) ** (1 / 3))
    m.norm(dim=1).sum().backward()
    # d|r|/dr = r / |r| ; at the zero row the gradient is taken as 0 (PyTorch)
    np.testing.assert_allclose(m.grad.numpy(), [[0.6, -0.8], [0, 0]], rtol=1e-15)
    with pytest.raises(TypeError, match="norm: needs a floating tensor, got int64"):
        torch.tensor([3, 4]).norm()


def test_triangles_diagonals_and_trace():
    m = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    np.testing.assert_array_equal(m.tril().numpy(), [[1, 0, 0], [4, 5, 0], [7, 8, 9]])
    np.testing.assert_array_equal(torch.triu(m, 1).numpy(), [[0, 2, 3], [0, 0, 6], [0, 0, 0]])
    np.testing.assert_array_equal(m.tril(-1).numpy(), [[0, 0, 0], [4, 0, 0], [7, 8, 0]])
    np.testing.assert_array_equal(m.diag().numpy(), [1, 5, 9])
    np.testing.assert_array_equal(m.diag(1).numpy(), [2, 6])
    np.testing.assert_array_equal(torch.diag(torch.tensor([1, 2])).numpy(), [[1, 0], [0, 2]])
    np.testing.assert_array_equal(torch.diag(Tensor([1.0, 2.0]), -1).numpy(),
                                  [[0, 0, 0], [1, 0, 0], [0, 2, 0]])
    t = torch.trace(m)
    assert t.item() == 15.0
    t.backward()
    np.testing.assert_array_equal(m.grad.numpy(), np.eye(3))
    inf_lower = Tensor([[1.0, float("inf")], [2.0, 3.0]]).tril()
    np.testing.assert_array_equal(inf_lower.numpy(), [[1, 0], [2, 3]])   # not inf * 0 = NaN
    with pytest.raises(ValueError, match=r"tril: needs a matrix .* shape \(3,\)"):
        Tensor([1.0, 2.0, 3.0]).tril()


def test_gather_and_its_gradient_adds_at_repeats():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    index = torch.tensor([[0, 0], [1, 0]])
    y = torch.gather(x, 1, index)
    np.testing.assert_array_equal(y.numpy(), [[1, 1], [4, 3]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2, 0], [1, 1]])
    picked = torch.randn(4, 3).log_softmax(1).gather(1, torch.tensor([[0], [2], [1], [0]]))
    assert picked.shape == (4, 1)
    with pytest.raises(IndexError, match=r"gather: index values must lie in \[0, 2\)"):
        x.gather(1, torch.tensor([[0, 2]]))
    with pytest.raises(TypeError, match="gather: index must hold integers"):
        x.gather(1, Tensor([[0.0]]))
    with pytest.raises(ValueError, match="gather: index needs as many axes"):
        x.gather(1, torch.tensor([0]))


def test_scatter_and_scatter_add():
    z = leaf([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    src = leaf([[5.0], [6.0]])
    out = z.scatter(1, torch.tensor([[0], [2]]), src)
    np.testing.assert_array_equal(out.numpy(), [[5, 0, 0], [0, 0, 6]])
    (out * np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    np.testing.assert_array_equal(z.grad.numpy(), [[0, 2, 3], [4, 5, 0]])   # overwritten: 0
    np.testing.assert_array_equal(src.grad.numpy(), [[1], [6]])
    one_hot = torch.zeros(3, 4).scatter(1, torch.tensor([[1], [3], [0]]), 1.0)
    np.testing.assert_array_equal(one_hot.numpy(), np.eye(4)[[1, 3, 0]])
    added = torch.zeros(2, 3).scatter_add(0, torch.tensor([[0, 1, 0], [0, 0, 0]]),
                                          Tensor([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]]))
    np.testing.assert_array_equal(added.numpy(), [[11, 20, 33], [0, 2, 0]])
    s = leaf([[1.0, 2.0]])
    torch.zeros(1, 2).scatter_add(1, torch.tensor([[0, 0]]), s).sum().backward()
    np.testing.assert_array_equal(s.grad.numpy(), [[1, 1]])


def test_sort_argsort_topk():
    x = leaf([[3.0, 1.0, 2.0, 1.0]])
    values, indices = x.sort(descending=True)
    np.testing.assert_array_equal(values.numpy(), [[3, 2, 1, 1]])
    np.testing.assert_array_equal(indices.numpy(), [[0, 2, 1, 3]])   # ties keep their order
    assert indices.dtype == np.int64
    result = torch.sort(x)
    assert result.values is result[0] and result.indices is result[1]
    np.testing.assert_array_equal(result.indices.numpy(), [[1, 3, 2, 0]])
    np.testing.assert_array_equal(torch.argsort(x, descending=True).numpy(), [[0, 2, 1, 3]])
    top = x.topk(2)
    np.testing.assert_array_equal(top.values.numpy(), [[3, 2]])
    np.testing.assert_array_equal(top.indices.numpy(), [[0, 2]])
    (top.values * np.array([[10.0, 1.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[10, 0, 1, 0]])
    smallest = torch.topk(torch.tensor([5, 1, 3]), 2, largest=False).values
    np.testing.assert_array_equal(smallest.numpy(), [1, 3])
    nan_first = Tensor([1.0, float("nan"), 2.0]).sort(descending=True).indices
    np.testing.assert_array_equal(nan_first.numpy(), [1, 2, 0])   # NaN counts as largest
    with pytest.raises(ValueError, match=r"topk: k \(5\) must lie in \[0, 4\]"):
        x.topk(5)


def test_unique():
    t = torch.tensor([3, 1, 2, 1])
    np.testing.assert_array_equal(torch.unique(t).numpy(), [1, 2, 3])
    values, inverse, counts = t.unique(return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(inverse.numpy(), [2, 0, 1, 0])
    np.testing.assert_array_equal(counts.numpy(), [2, 1, 1])
    assert inverse.dtype == np.int64 and counts.dtype == np.int64


def test_clamp_with_tensor_bounds():
    x = leaf([-2.0, 0.0, 1.0, 3.0])
    low, high = leaf([-1.0, 0.0, 0.0, 0.0]), leaf([1.0, 1.0, 1.0, 2.0])
    y = torch.clamp(x, low, high)
    np.testing.assert_array_equal(y.numpy(), [-1, 0, 1, 2])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, 1, 0])   # bounds included
    np.testing.assert_array_equal(low.grad.numpy(), [1, 0, 0, 0])
    np.testing.assert_array_equal(high.grad.numpy(), [0, 0, 0, 1])
    np.testing.assert_array_equal(Tensor([[5.0, -5.0]]).clamp(max=Tensor([[1.0], [2.0]])).numpy(),
                                  [[1, -5], [2, -5]])


def test_split_and_chunk():
    a = torch.arange(5)
    assert [p.tolist() for p in a.split(2)] == [[0, 1], [2, 3], [4]]
    assert [p.tolist() for p in torch.split(a, [1, 4])] == [[0], [1, 2, 3, 4]]
    assert [p.tolist() for p in a.chunk(3)] == [[0, 1], [2, 3], [4]]
    assert [p.tolist() for p in torch.chunk(torch.arange(6), 4)] == [[0, 1], [2, 3], [4, 5]]
    x = leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    left, right = x.split([1, 2], dim=1)
    assert left.shape == (2, 1) and right.shape == (2, 2)
    (left * 2 + right.sum(1, keepdim=True)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2, 1, 1], [2, 1, 1]])
    with pytest.raises(ValueError, match=r"split: sizes \[1, 1\] add up to 2, but dim 0 has"):
        a.split([1, 1])


# ----- 4. factories and randomness -----------------------------------------------------------

def test_linspace_and_logspace():
    x = torch.linspace(0, 1, 5)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x.numpy(), [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_array_equal(torch.logspace(0, 2, 3).numpy(), [1, 10, 100])
    np.testing.assert_array_equal(torch.logspace(0, 3, 4, base=2).numpy(), [1, 2, 4, 8])
    assert torch.linspace(0, 1, 3, dtype=torch.float64).dtype == np.float64
    with pytest.raises(ValueError, match="linspace: steps must be a non-negative int"):
        torch.linspace(0, 1, -1)


def test_random_integers_and_permutations():
    torch.manual_seed(0)
    r = torch.randint(10, (1000,))
    assert r.dtype == np.int64 and r.shape == (1000,)
    assert 0 <= r.numpy().min() and r.numpy().max() == 9
    r = torch.randint(5, 8, (2, 3))
    assert r.shape == (2, 3) and set(np.unique(r.numpy())) <= {5, 6, 7}
    p = torch.randperm(6)
    assert p.dtype == np.int64 and sorted(p.tolist()) == list(range(6))
    with pytest.raises(ValueError, match=r"randint: low \(3\) must be smaller than high \(3\)"):
        torch.randint(3, 3, (2,))
    with pytest.raises(TypeError, match="randint: size must be a tuple"):
        torch.randint(0, 10, 3)


def test_multinomial_and_bernoulli():
    torch.manual_seed(0)
    draws = torch.multinomial(Tensor([0.0, 1.0, 3.0]), 2)
    assert draws.dtype == np.int64 and sorted(draws.tolist()) == [1, 2]   # never the 0 weight
    many = torch.multinomial(Tensor([1.0, 3.0]), 4000, replacement=True).numpy()
    assert 0.72 < many.mean() < 0.78        # P(1) = 3/4
    rows = torch.multinomial(Tensor([[1.0, 0.0], [0.0, 1.0]]), 1)
    np.testing.assert_array_equal(rows.numpy(), [[0], [1]])
    with pytest.raises(ValueError, match="cannot draw 3 samples without replacement from 2"):
        torch.multinomial(Tensor([1.0, 1.0, 0.0]), 3)
    b = torch.bernoulli(torch.full((4000,), 0.25))
    assert b.dtype == np.float32 and set(np.unique(b.numpy())) <= {0.0, 1.0}
    assert 0.22 < b.numpy().mean() < 0.28
    np.testing.assert_array_equal(torch.bernoulli(Tensor([0.0, 1.0])).numpy(), [0, 1])
    with pytest.raises(ValueError, match=r"bernoulli: probabilities must lie in \[0, 1\]"):
        torch.bernoulli(Tensor([1.5]))


def test_normal_forms():
    torch.manual_seed(0)
    x = torch.normal(2.0, 3.0, size=(4000,))
    assert x.dtype == np.float32 and abs(x.numpy().mean() - 2) < 0.2
    assert abs(x.numpy().std() - 3) < 0.2
    per_element = torch.normal(Tensor([0.0, 100.0]), 1e-6)
    np.testing.assert_allclose(per_element.numpy(), [0, 100], atol=1e-3)
    assert torch.normal(Tensor(np.zeros(2)), Tensor(np.ones(2))).dtype == np.float64
    with pytest.raises(TypeError, match="normal: with numbers for mean and std, give size"):
        torch.normal(0.0, 1.0)


def test_like_factories_and_new_methods():
    t = Tensor(np.zeros((2, 3)))                  # float64
    assert torch.rand_like(t).dtype == np.float64 and torch.randn_like(t).shape == (2, 3)
    assert torch.rand_like(torch.tensor([1, 2])).dtype == np.float32
    assert torch.full_like(t, 7).numpy().tolist() == [[7.0] * 3] * 2
    assert torch.empty(2, 3).shape == (2, 3) and torch.empty_like(t).dtype == np.float64
    r = torch.randint_like(torch.tensor([0, 0, 0]), 5)
    assert r.dtype == np.int64 and r.numpy().max() < 5
    assert t.new_zeros(4).dtype == np.float64 and t.new_ones((2, 2)).shape == (2, 2)
    assert t.new_tensor([1, 2]).dtype == np.float64 and t.new_full((2,), 3.0).tolist() == [3, 3]


def test_generators_give_their_own_repeatable_streams():
    a = torch.randn(3, generator=torch.Generator().manual_seed(7))
    b = torch.randn(3, generator=torch.Generator().manual_seed(7))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    torch.manual_seed(1)
    first = torch.rand(2)
    torch.manual_seed(1)
    g = torch.Generator().manual_seed(5)
    torch.randint(0, 10, (5,), generator=g)       # drawn from g: the shared stream is untouched
    torch.randperm(4, generator=g)
    np.testing.assert_array_equal(torch.rand(2).numpy(), first.numpy())
    with pytest.raises(TypeError, match="randn: generator must be a tg.Generator"):
        torch.randn(2, generator=5)


def test_prod_and_cumprod_have_exact_gradients_at_zeros():
    x = leaf([[1.0, 2.0, 0.0, 4.0, 5.0], [2.0, 3.0, 1.0, 1.0, 2.0]])
    p = x.prod(1)
    np.testing.assert_array_equal(p.numpy(), [0, 12])
    p.sum().backward()
    # each element's gradient is the product of the others: 40 at the zero, 0 elsewhere
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 40, 0, 0], [6, 4, 12, 12, 6]])
    assert torch.prod(Tensor([[1.0, 2.0], [3.0, 4.0]])).item() == 24
    assert Tensor([[1.0, 2.0]]).prod(1, keepdim=True).shape == (1, 1)
    assert torch.prod(torch.tensor([1, 2, 3])).dtype == np.int64
    assert torch.zeros(0).prod().item() == 1
    y = leaf([1.0, 2.0, 0.0, 4.0, 5.0])
    c = torch.cumprod(y, 0)
    np.testing.assert_array_equal(c.numpy(), [1, 2, 0, 0, 0])
    c.sum().backward()
    # d/dx_k of sum_j prod_{i<=j} x_i: 1 + 2 = 3 ; 1 ; 2 + 8 + 40 = 50 ; 0 ; 0
    np.testing.assert_array_equal(y.grad.numpy(), [3, 1, 50, 0, 0])
    np.testing.assert_array_equal(torch.tensor([1, 2, 3]).cumprod(0).numpy(), [1, 2, 6])


def test_einsum_common_patterns():
    a = np.arange(24.0).reshape(2, 3, 4) / 10
    b = np.arange(40.0).reshape(2, 4, 5) / 10
    A, B = leaf(a), leaf(b)
    out = torch.einsum("bij,bjk->bik", A, B)
    np.testing.assert_allclose(out.numpy(), a @ b)
    out.sum().backward()
    # d sum(a @ b) / da = 1 @ b^T: the row sums of b, in every row
    np.testing.assert_allclose(A.grad.numpy(), np.broadcast_to(b.sum(2)[:, None, :], a.shape))
    m, v = a[0], np.array([1.0, -2.0, 0.5, 3.0])
    np.testing.assert_allclose(torch.einsum("ij,j->i", Tensor(m), Tensor(v)).numpy(), m @ v)
    np.testing.assert_allclose(torch.einsum("i,i->", Tensor(v), Tensor(v)).numpy(), v @ v)
    np.testing.assert_allclose(torch.einsum("i,j->ij", Tensor(v), Tensor(v)).numpy(),
                               np.outer(v, v))
    np.testing.assert_allclose(torch.einsum("ij->ji", Tensor(m)).numpy(), m.T)
    np.testing.assert_allclose(torch.einsum("ij->j", Tensor(m)).numpy(), m.sum(0))
    np.testing.assert_allclose(torch.einsum("ij,kj", Tensor(m), Tensor(m)).numpy(), m @ m.T)
    np.testing.assert_allclose(torch.einsum("bij,bjk,bkl->bil", [A, B, B.transpose(1, 2)])
                               .numpy(), a @ b @ b.transpose(0, 2, 1))


def test_einsum_ellipsis_covers_the_unnamed_axes_and_broadcasts():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((5, 1, 2, 3)), rng.standard_normal((6, 3, 4))
    out = torch.einsum("...ij,...jk->...ik", Tensor(a), Tensor(b))
    expected = np.empty((5, 6, 2, 4))     # the batch axes (5, 1) and (6,) broadcast to (5, 6)
    for p in range(5):
        for q in range(6):
            expected[p, q] = a[p, 0] @ b[q]
    np.testing.assert_allclose(out.numpy(), expected)
    assert torch.einsum("...ij,...jk", Tensor(a), Tensor(b)).shape == (5, 6, 2, 4)
    x = Tensor(a[:, 0])                                              # (5, 2, 3)
    np.testing.assert_allclose(torch.einsum("...ij->ij", x).numpy(), a[:, 0].sum(0))
    np.testing.assert_allclose(torch.einsum("...ij->...", x).numpy(), a[:, 0].sum((1, 2)))
    np.testing.assert_allclose(torch.einsum("i...->...", x).numpy(), a[:, 0].sum(0))
    # implicit output: the '...' axes first, then the letters used once
    np.testing.assert_allclose(torch.einsum("i...j", x).numpy(), a[:, 0].transpose(1, 0, 2))
    np.testing.assert_allclose(torch.einsum("...,...->...", Tensor(b[0]), Tensor(b[0, 0])).numpy(),
                               b[0] * b[0, 0])
    # size 1 broadcasts for letters too, as in PyTorch
    np.testing.assert_allclose(torch.einsum("ij,ij->", Tensor(b[0]), Tensor(b[0, :1])).numpy(),
                               (b[0] * b[0, :1]).sum())


def test_einsum_with_ellipsis_and_broadcasting_has_correct_gradients():
    rng = np.random.default_rng(4)
    a = Tensor(rng.standard_normal((2, 1, 2, 3)), requires_grad=True)
    b = Tensor(rng.standard_normal((3, 3, 2)), requires_grad=True)
    assert torch.gradcheck(lambda a, b: torch.einsum("...ij,...jk->...ik", a, b), [a, b])
    c = Tensor(rng.standard_normal((1, 3)), requires_grad=True)
    assert torch.gradcheck(lambda b, c: torch.einsum("b...,...j->bj", b, c), [b, c])


def test_einsum_errors_name_the_problem():
    with pytest.raises(ValueError, match="'...ii' repeats an index within one operand"):
        torch.einsum("...ii->...i", torch.ones(2, 2, 2))
    with pytest.raises(ValueError, match="repeats an index within one operand"):
        torch.einsum("ii->i", torch.ones(2, 2))
    with pytest.raises(ValueError, match="must be letters \\(a-z, A-Z\\), with at most one '...'"):
        torch.einsum("...i...", torch.ones(2, 2))
    with pytest.raises(ValueError, match="'ijk...' names 3 axes besides '...' but its operand"):
        torch.einsum("ijk...", torch.ones(2, 2))
    with pytest.raises(ValueError, match="index 'j' has size 3 in one operand and 4"):
        torch.einsum("ij,jk->ik", torch.ones(2, 3), torch.ones(4, 5))
    with pytest.raises(ValueError, match=r"term 'ijk' names 3 axes but its operand has shape"):
        torch.einsum("ijk->i", torch.ones(2, 2))


def test_factories_take_the_cpu_as_device():
    device = torch.device("cpu")
    assert torch.zeros(2, 3, device=device).shape == (2, 3)
    assert torch.tensor([1.0, 2.0], device="cpu").dtype == np.float32
    assert torch.arange(3, device=device).dtype == np.int64
    assert torch.randn(2, device=device).shape == (2,)
    assert torch.linspace(0, 1, 3, device=device).shape == (3,)
    assert torch.randint(0, 5, (2,), device=device).shape == (2,)
    assert torch.full_like(torch.ones(2), 3.0, device=device).tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match="zeros: device 'cuda' is not available"):
        torch.zeros(2, device="cuda")
    a = np.array([1.0, 2.0])
    assert torch.as_tensor(a).numpy() is a   # shares memory, as torch.as_tensor
    assert torch.as_tensor([1, 2], dtype=torch.float32).dtype == np.float32


def test_a_pytorch_script_with_device_boilerplate_runs_unchanged():
    import tinygrad_edu.nn as nn
    import tinygrad_edu.nn.functional as F

    torch.manual_seed(0)
    torch.cuda.manual_seed_all(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    X = torch.randn(200, 4)
    y = ((X[:, 0] > 0) & (X[:, 1] > -0.5)).long()
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    g = torch.Generator().manual_seed(1)
    for epoch in range(60):
        perm = torch.randperm(len(X), generator=g)
        for start in range(0, len(X), 50):
            idx = perm[start:start + 50]
            xb, yb = X[idx].to(device, non_blocking=True), y[idx].to(device)
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        logits = model(X.to(device)).cpu()
        probs = logits.softmax(dim=1)
        top_p, top_class = probs.topk(1, dim=1)
        accuracy = top_class.squeeze(1).eq(y).float().mean().item()
        masked = logits.masked_fill(torch.isnan(logits), 0.0)
    assert accuracy > 0.9
    assert top_p.shape == (200, 1) and top_class.dtype == torch.int64
    assert torch.allclose(masked, logits) and masked.device.type == "cpu"


def test_in_place_scatter_makes_one_hot_rows():
    labels = torch.tensor([2, 0, 1])
    one_hot = torch.zeros(3, 4).scatter_(1, labels.unsqueeze(1), 1.0)
    np.testing.assert_array_equal(one_hot.numpy(), np.eye(4)[[2, 0, 1]])
    z = torch.zeros(2, 3)
    assert z.scatter_add_(1, torch.tensor([[0, 0], [1, 2]]), torch.ones(2, 2)) is z
    np.testing.assert_array_equal(z.numpy(), [[2, 0, 0], [0, 1, 1]])


def test_index_select_masked_select_unbind_and_small_helpers():
    x = leaf([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    picked = torch.index_select(x, 0, torch.tensor([2, 0, 2]))
    np.testing.assert_array_equal(picked.numpy(), [[5, 6], [1, 2], [5, 6]])
    picked.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1], [0, 0], [2, 2]])
    np.testing.assert_array_equal(x.index_select(1, torch.tensor([1])).numpy(), [[2], [4], [6]])
    np.testing.assert_array_equal(x.masked_select(x > 2).numpy(), [3, 4, 5, 6])
    columns = x.unbind(1)
    assert len(columns) == 2 and columns[1].tolist() == [2, 4, 6]
    assert torch.dot(Tensor([1.0, 2.0]), Tensor([3.0, 4.0])).item() == 11
    outer = torch.outer(torch.tensor([1, 2]), torch.tensor([3, 4, 5]))
    np.testing.assert_array_equal(outer.numpy(), [[3, 4, 5], [6, 8, 10]])
    np.testing.assert_array_equal(Tensor([1.0, 5.0]).clamp_min(2).numpy(), [2, 5])
    np.testing.assert_array_equal(torch.clamp_max(Tensor([1.0, 5.0]), 2).numpy(), [1, 2])
    assert torch.is_floating_point(x) and not torch.tensor([1]).is_floating_point()
    c = torch.clone(x)
    assert c.numpy() is not x.numpy() and c.requires_grad
    with pytest.raises(TypeError, match="index_select: index must be a 1-D integer tensor"):
        x.index_select(0, torch.tensor([[0]]))
    with pytest.raises(ValueError, match="dot: needs two vectors"):
        torch.dot(x, x)


def test_constants_size_and_dtype_info():
    assert torch.inf == float("inf") and torch.nan != torch.nan
    assert torch.pi == pytest.approx(np.pi) and torch.e == pytest.approx(np.e)
    x = torch.zeros(2, 3)
    assert x.shape == torch.Size([2, 3]) and x.size() == torch.Size((2, 3))
    assert repr(torch.Size([2, 3])) == "torch.Size([2, 3])" and torch.Size([2, 3]).numel() == 6
    assert torch.finfo(torch.float32).eps == np.finfo(np.float32).eps
    assert torch.iinfo(torch.int64).max == 2 ** 63 - 1
    mask = torch.tensor([True, False])
    assert torch.zeros(2).masked_fill(mask, -torch.inf).tolist()[0] == -np.inf


def test_requires_grad_given_positionally_is_not_a_shape():
    t = Tensor(np.ones(2), 1)                  # requires_grad=1: truthy, not a size
    assert t.requires_grad and t.shape == (2,)
    assert Tensor(3.0, True).requires_grad and Tensor(2, False).shape == (2,)


def test_a_one_element_integer_tensor_is_a_python_index():
    classes = ["a", "b", "c"]
    assert classes[torch.tensor([0.1, 0.9, 0.3]).argmax(0)] == "b"   # the quickstart's line
    assert classes[torch.tensor([[2]])] == "c" and list(range(torch.tensor(2))) == [0, 1]
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        classes[torch.tensor(1.0)]
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        classes[torch.tensor([0, 1])]


def test_accelerator_says_there_is_none():
    assert not torch.accelerator.is_available() and torch.accelerator.device_count() == 0
    assert torch.accelerator.current_accelerator() is None


def test_swapaxes_movedim_narrow_and_mT_move_values_and_gradients():
    a = np.arange(24.0).reshape(2, 3, 4)
    x = Tensor(a, requires_grad=True)
    np.testing.assert_array_equal(torch.swapaxes(x, 0, 2).numpy(), a.transpose(2, 1, 0))
    assert x.swapdims(0, 1).shape == (3, 2, 4) and x.mT.shape == (2, 4, 3)
    np.testing.assert_array_equal(x.mT.numpy()[1], a[1].T)
    assert torch.movedim(x, 0, -1).shape == (3, 4, 2)
    assert x.movedim((0, 1), (2, 0)).shape == (3, 4, 2)             # numpy: moveaxis
    np.testing.assert_array_equal(x.moveaxis((0, 1), (2, 0)).numpy(),
                                  np.moveaxis(a, (0, 1), (2, 0)))
    piece = torch.narrow(x, 2, -3, 2)                                # elements 1 and 2
    np.testing.assert_array_equal(piece.numpy(), a[:, :, 1:3])
    (piece.sum() + x.mT.sum() * 0).backward()
    assert x.grad.numpy()[:, :, 1:3].all() and not x.grad.numpy()[:, :, [0, 3]].any()
    with pytest.raises(IndexError, match="narrow: start 3 and length 2 do not fit axis 2"):
        x.narrow(2, 3, 2)
    with pytest.raises(ValueError, match="mT: needs at least 2 axes"):
        torch.ones(3).mT


def test_amax_and_amin_functions_reduce_over_dims():
    a = np.array([[1.0, 5.0, 5.0], [7.0, 0.0, 2.0]])
    assert torch.amax(Tensor(a)).item() == 7.0 and torch.amin(Tensor(a)).item() == 0.0
    np.testing.assert_array_equal(torch.amax(Tensor(a), 1).numpy(), [5.0, 7.0])
    assert torch.amin(Tensor(a), (0, 1), keepdim=True).shape == (1, 1)
    x = Tensor(a, requires_grad=True)
    torch.amax(x, 1).sum().backward()                 # the tie at 5.0 shares the gradient
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0.5, 0.5], [1, 0, 0]])


def test_out_argument_writes_into_the_given_tensor_as_pytorch():
    # the PyTorch tensors tutorial: torch.matmul(tensor, tensor.T, out=y3)
    t = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    y3 = torch.zeros(2, 2)
    alias = y3.data
    assert torch.matmul(t, t.T, out=y3) is y3
    assert y3.tolist() == [[5.0, 11.0], [11.0, 25.0]]     # rows of t dotted with each other
    assert alias.tolist() == y3.tolist()                  # written in place, memory shared
    z = torch.zeros(2, 2)
    torch.mul(t, t, out=z)
    assert z.tolist() == [[1.0, 4.0], [9.0, 16.0]]
    assert torch.cat([t, t], out=torch.zeros(4, 2)).shape == (4, 2)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        torch.mul(torch.ones(2, requires_grad=True), 2.0, out=torch.zeros(2))
    with pytest.raises(RuntimeError, match=r"out= has shape \(3,\)"):
        torch.add(t, 1.0, out=torch.zeros(3))
    with pytest.raises(RuntimeError, match="can't be cast"):
        torch.div(t, 3.0, out=torch.zeros(2, 2, dtype=torch.int64))
