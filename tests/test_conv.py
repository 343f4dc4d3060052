"""Convolution, pooling, padding and resizing (nn/functional/conv.py, nn/conv.py, nn/pooling.py).

Expected values are worked out by hand in the comments (a 3x3 convolution on paper, pools of
small grids) or from a numpy formula of the definition; gradients of whole compositions are
checked against finite differences in float64; output sizes against PyTorch's formula for
random arguments (hypothesis).
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
import nn.functional as F
import tinygrad_edu as tg
from tinygrad_edu import Tensor

_rng = np.random.default_rng(7)


def t64(*shape, requires_grad=True):
    return Tensor(_rng.standard_normal(shape), requires_grad=requires_grad)


def grid(h, w):
    """The 2-D grid x[r, c] = w*r + c as a (1, 1, h, w) float64 image."""
    return Tensor(np.arange(h * w, dtype=np.float64).reshape(1, 1, h, w))


# ----- convolution by hand ----------------------------------------------------------------------

def test_3x3_convolution_on_paper():
    # x[r, c] = 4r + c on a 4x4 grid. The all-ones kernel sums a 3x3 block, which is 9 times
    # its centre: centres x[1,1]=5, x[1,2]=6, x[2,1]=9, x[2,2]=10 -> 45, 54, 81, 90.
    ones = Tensor(np.ones((1, 1, 3, 3)))
    assert np.array_equal(F.conv2d(grid(4, 4), ones).numpy(), [[[[45, 54], [81, 90]]]])
    # The edge kernel [1 0 -1] in every row takes x[r, q] - x[r, q+2] = -2 in each of 3 rows:
    # -6 everywhere, plus a bias of 1.
    edge = Tensor(np.array([[[[1.0, 0, -1]] * 3]]))
    out = F.conv2d(grid(4, 4), edge, Tensor(np.array([1.0])))
    assert np.array_equal(out.numpy(), np.full((1, 1, 2, 2), -5.0))


def test_convolution_is_cross_correlation_not_flipped():
    # a kernel with a single 1 in its top-left corner reads x[p, q] (PyTorch's convention);
    # a flipped (true) convolution would read x[p + 2, q + 2]
    kernel = np.zeros((1, 1, 3, 3))
    kernel[0, 0, 0, 0] = 1
    out = F.conv2d(grid(4, 5), Tensor(kernel)).numpy()
    assert np.array_equal(out[0, 0], np.arange(20.0).reshape(4, 5)[:2, :3])


def test_zero_padding_counts_neighbours():
    # ones kernel on a 3x3 image of ones with padding 1: each output counts the pixels of its
    # 3x3 neighbourhood inside the image: 4 at a corner, 6 on an edge, 9 in the middle
    out = F.conv2d(Tensor(np.ones((1, 1, 3, 3))), Tensor(np.ones((1, 1, 3, 3))), padding=1)
    assert np.array_equal(out.numpy()[0, 0], [[4, 6, 4], [6, 9, 6], [4, 6, 4]])


def test_stride_and_dilation_read_the_right_pixels():
    # 2x2 ones kernel, dilation 2, stride 2 on a 5x5 grid: output (p, q) adds the pixels
    # (2p, 2q), (2p, 2q+2), (2p+2, 2q), (2p+2, 2q+2); Ho = (5 - 2*1 - 1)//2 + 1 = 2
    x = np.arange(25.0).reshape(5, 5)
    out = F.conv2d(grid(5, 5), Tensor(np.ones((1, 1, 2, 2))), stride=2, dilation=2).numpy()
    p, q = np.meshgrid(np.arange(2), np.arange(2), indexing="ij")
    want = x[2 * p, 2 * q] + x[2 * p, 2 * q + 2] + x[2 * p + 2, 2 * q] + x[2 * p + 2, 2 * q + 2]
    assert np.array_equal(out[0, 0], want)


def test_groups_keep_channel_groups_apart():
    # channels 0 and 1 are constant images 1 and 10; with groups=2 each output channel sees
    # only its own input channel: 2 * 1 and 3 * 10
    x = Tensor(np.stack([np.ones((3, 3)), np.full((3, 3), 10.0)])[None])
    w = Tensor(np.array([2.0, 3.0]).reshape(2, 1, 1, 1))
    out = F.conv2d(x, w, groups=2).numpy()
    assert np.array_equal(out[0, 0], np.full((3, 3), 2.0))
    assert np.array_equal(out[0, 1], np.full((3, 3), 30.0))


def test_convolution_matches_its_definition_as_a_sum():
    # out[n,o,p,q] = b[o] + sum_{c,i,j} w[o,c,i,j] * xpad[n, g*C/G + c, p*s + i*d, q*s + j*d]
    x, w, b = _rng.standard_normal((2, 4, 6, 7)), _rng.standard_normal((6, 2, 2, 3)), \
        _rng.standard_normal(6)
    stride, pad, dil, groups = (2, 1), (1, 2), (2, 1), 2
    out = F.conv2d(Tensor(x), Tensor(w), Tensor(b), stride, pad, dil, groups).numpy()
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0],) * 2, (pad[1],) * 2))
    want = np.zeros(out.shape)
    per_group = 6 // groups
    for o in range(6):
        g = o // per_group
        for i in range(2):
            for j in range(3):
                rows = xp[:, g * 2:(g + 1) * 2, i * dil[0]::stride[0], j * dil[1]::stride[1]]
                rows = rows[:, :, :out.shape[2], :out.shape[3]]
                want[:, o] += np.einsum("nchw,c->nhw", rows, w[o, :, i, j])
        want[:, o] += b[o]
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)


def test_padding_same_and_valid():
    x = t64(1, 2, 5, 6, requires_grad=False)
    w = Tensor(_rng.standard_normal((3, 2, 4, 3)))
    # 'same': total padding d(k-1) = 3 rows (1 before, 2 after, as PyTorch) and 2 columns
    same = F.conv2d(x, w, padding="same")
    assert same.shape == (1, 3, 5, 6)
    padded = F.pad(x, (1, 1, 1, 2))
    np.testing.assert_allclose(same.numpy(), F.conv2d(padded, w).numpy(), rtol=1e-12)
    assert F.conv2d(x, w, padding="valid").shape == (1, 3, 2, 4)


def test_conv1d_is_conv2d_of_height_one():
    # on [1, 2, 3, 4, 5] with kernel [1, -1] and dilation 2: x[t] - x[t+2] = -2, three times
    out = F.conv1d(Tensor(np.arange(1.0, 6.0).reshape(1, 1, 5)), Tensor(np.array([[[1.0, -1]]])),
                   dilation=2)
    assert np.array_equal(out.numpy(), [[[-2.0, -2.0, -2.0]]])
    assert F.conv1d(t64(2, 3, 10), t64(4, 3, 3), stride=2, padding=1).shape == (2, 4, 5)


def test_unbatched_input_gives_the_unbatched_result():
    x, w = t64(3, 5, 6, requires_grad=False), t64(4, 3, 3, 3, requires_grad=False)
    batched = F.conv2d(x.unsqueeze(0), w, padding=1).numpy()[0]
    assert np.array_equal(F.conv2d(x, w, padding=1).numpy(), batched)
    assert F.max_pool2d(x, 2).shape == (3, 2, 3)
    assert F.avg_pool1d(t64(3, 8), 2).shape == (3, 4)


def test_transposed_convolution_by_hand():
    # stride 2, 2x2 ones kernel: each input pixel becomes a 2x2 block of its value
    # (nearest-neighbour upsampling); stride 1 with a 2x2 ones kernel on [[1, 2], [3, 4]]
    # adds overlapping 2x2 patches: corners 1, 2, 3, 4; edges 1+2, 1+3, 2+4, 3+4; centre 10
    x = Tensor(np.array([[[[1.0, 2], [3, 4]]]]))
    ones = Tensor(np.ones((1, 1, 2, 2)))
    assert np.array_equal(F.conv_transpose2d(x, ones, stride=2).numpy()[0, 0],
                          np.kron([[1, 2], [3, 4]], np.ones((2, 2))))
    assert np.array_equal(F.conv_transpose2d(x, ones).numpy()[0, 0],
                          [[1, 3, 2], [4, 10, 6], [3, 7, 4]])
    # padding crops a border, output_padding adds rows/columns no patch reaches (bias only)
    out = F.conv_transpose2d(x, ones, Tensor(np.array([0.5])), stride=2, padding=1,
                             output_padding=1).numpy()[0, 0]
    assert np.array_equal(out, np.kron([[1, 2], [3, 4]], np.ones((2, 2)))[1:, 1:] + 0.5)


def test_transposed_convolution_is_the_adjoint_of_convolution():
    # <conv2d(x, w), y> == <x, conv_transpose2d(y, w)> for the same stride, padding, dilation
    x, w = _rng.standard_normal((2, 4, 7, 6)), _rng.standard_normal((6, 2, 3, 2))
    args = dict(stride=(2, 1), padding=(1, 1), dilation=(1, 2), groups=2)
    z = F.conv2d(Tensor(x), Tensor(w), **args).numpy()
    y = _rng.standard_normal(z.shape)
    back = F.conv_transpose2d(Tensor(y), Tensor(w), output_padding=(0, 0), **args).numpy()
    assert back.shape == x.shape
    np.testing.assert_allclose((z * y).sum(), (x * back).sum(), rtol=1e-10)


# ----- pooling by hand --------------------------------------------------------------------------

def test_max_pool_by_hand():
    # 4x4 grid 4r + c, 2x2 windows: each window's maximum is its bottom-right pixel
    out = F.max_pool2d(grid(4, 4), 2).numpy()
    assert np.array_equal(out[0, 0], [[5, 7], [13, 15]])


def test_max_pool_gives_a_tie_to_the_first_maximum_as_pytorch():
    # windows (2x2, stride 1) of [[1 3 3] [3 2 0] [1 1 1]]: [1 3; 3 2] and [3 3; 2 0] both
    # pick the first 3, at (0, 1); [3 2; 1 1] picks (1, 0); [2 0; 1 1] picks (1, 1).
    # PyTorch routes each window's whole gradient to that one element (its return_indices).
    x = Tensor(np.array([[[[1.0, 3, 3], [3, 2, 0], [1, 1, 1]]]]), requires_grad=True)
    out, indices = F.max_pool2d(x, 2, stride=1, return_indices=True)
    out.sum().backward()
    assert np.array_equal(out.numpy()[0, 0], [[3, 3], [3, 2]])
    assert np.array_equal(x.grad.numpy()[0, 0], [[0, 2, 0], [1, 1, 0], [0, 0, 0]])
    assert np.array_equal(indices.numpy()[0, 0], [[1, 1], [3, 4]])   # h * 3 + w
    assert indices.dtype == np.int64


def test_max_pool_padding_is_never_picked_and_indices_skip_it():
    # all -1: padding (-inf) never wins; with padding 1, kernel 3, stride 2 on 5x5 in
    # ceil_mode (3x3 output), each window's first in-image pixel wins: its row-major index
    x = Tensor(-np.ones((1, 1, 5, 5)))
    out, indices = F.max_pool2d(x, 3, 2, padding=1, ceil_mode=True, return_indices=True)
    assert np.array_equal(out.numpy(), -np.ones((1, 1, 3, 3)))
    assert np.array_equal(indices.numpy()[0, 0], [[0, 1, 3], [5, 6, 8], [15, 16, 18]])


def test_max_pool_of_integers_keeps_the_dtype():
    x = Tensor(np.array([[[[1, -5, 2], [7, 0, 3], [4, 4, -9]]]], dtype=np.int64))
    # windows start at rows/columns -1 and 1: {1}, {-5, 2}, {7, 4}, {0, 3, 4, -9}
    out = F.max_pool2d(x, 2, padding=1)
    assert out.dtype == np.int64
    assert np.array_equal(out.numpy()[0, 0], [[1, 2], [7, 4]])


def test_max_pool_propagates_nan():
    x = Tensor(np.array([[[1.0, np.nan, 2.0, 0.5]]]))
    assert np.isnan(F.max_pool1d(x, 2).numpy()[0, 0, 0])


def test_avg_pool_divisors_by_hand():
    ones = Tensor(np.ones((1, 1, 5, 5)))
    # kernel 3, stride 2, padding 1, ceil_mode: 3x3 windows starting at -1, 1, 3. The first
    # covers one padded row and 2 image rows; the last rows 3, 4 and padding row 5. Counting
    # the padding (default), a corner window holds 4 ones out of 9 -> 4/9, an edge one 6/9.
    out = F.avg_pool2d(ones, 3, 2, padding=1, ceil_mode=True).numpy()[0, 0]
    np.testing.assert_allclose(out, np.array([[4, 6, 4], [6, 9, 6], [4, 6, 4]]) / 9)
    # without counting the padding, every window averages ones: 1
    out = F.avg_pool2d(ones, 3, 2, padding=1, ceil_mode=True, count_include_pad=False)
    np.testing.assert_allclose(out.numpy(), np.ones((1, 1, 3, 3)))
    # ceil_mode without padding on 5x5, kernel 2: the last window holds only row/column 4,
    # and divides by the pixels it holds (1 or 2), so a mean of ones stays 1
    np.testing.assert_allclose(F.avg_pool2d(ones, 2, ceil_mode=True).numpy(), np.ones((1, 1, 3, 3)))
    # divisor_override: the 2x2 sums of the 4x4 grid over 5
    out = F.avg_pool2d(grid(4, 4), 2, divisor_override=5).numpy()[0, 0]
    np.testing.assert_allclose(out, np.array([[10, 18], [42, 50]]) / 5)


def test_adaptive_avg_pool_windows_by_hand():
    # length 5 -> 3: windows [floor(5i/3), ceil(5(i+1)/3)) = [0, 2), [1, 4), [3, 5)
    x = Tensor(np.arange(5.0).reshape(1, 1, 5))
    np.testing.assert_allclose(F.adaptive_avg_pool1d(x, 3).numpy()[0, 0], [0.5, 2.0, 3.5])
    # (1, 1) is the global mean; None keeps an axis
    img = t64(2, 3, 5, 7, requires_grad=False)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(img, 1).numpy(),
                               img.numpy().mean(axis=(2, 3), keepdims=True), rtol=1e-12)
    assert F.adaptive_avg_pool2d(img, (None, 2)).shape == (2, 3, 5, 2)
    # separable: 5x7 -> 3x2 averages rectangles; check one against its definition
    out = F.adaptive_avg_pool2d(img, (3, 2)).numpy()
    np.testing.assert_allclose(out[:, :, 1, 1], img.numpy()[:, :, 1:4, 3:7].mean(axis=(2, 3)),
                               rtol=1e-12)


# ----- padding, resizing, unfold/fold -------------------------------------------------------------

def test_pad_modes_by_hand():
    x = Tensor(np.array([[1.0, 2.0, 3.0]]))
    assert np.array_equal(F.pad(x, (2, 1)).numpy(), [[0, 0, 1, 2, 3, 0]])
    assert np.array_equal(F.pad(x, (1, 1), value=-1.0).numpy(), [[-1, 1, 2, 3, -1]])
    assert np.array_equal(F.pad(x, (-1, 1)).numpy(), [[2, 3, 0]])           # negative crops
    assert np.array_equal(F.pad(x, (2, 2), mode="reflect").numpy(), [[3, 2, 1, 2, 3, 2, 1]])
    assert np.array_equal(F.pad(x, (2, 1), mode="replicate").numpy(), [[1, 1, 1, 2, 3, 3]])
    assert np.array_equal(F.pad(x, (2, 1), mode="circular").numpy(), [[2, 3, 1, 2, 3, 1]])
    # (left, right, top, bottom): the last axis first
    assert F.pad(t64(2, 3, 4), (1, 2, 3, 4)).shape == (2, 10, 7)


def test_interpolate_by_hand():
    x = Tensor(np.array([[[0.0, 4.0]]]))
    assert np.array_equal(F.interpolate(x, scale_factor=2).numpy(), [[[0, 0, 4, 4]]])
    # align_corners: the ends line up, 0..4 in 3 steps of 4/3
    np.testing.assert_allclose(F.interpolate(x, size=4, mode="linear", align_corners=True)
                               .numpy(), [[[0, 4 / 3, 8 / 3, 4]]])
    # half-pixel centres: sources (j + 0.5) / 2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75,
    # 1.25 (right neighbour clamped to the last pixel) -> 0, 1, 3, 4
    np.testing.assert_allclose(F.interpolate(x, size=4, mode="linear").numpy(), [[[0, 1, 3, 4]]])
    img = grid(2, 3)
    big = F.interpolate(img, size=(3, 5), mode="bilinear", align_corners=True).numpy()[0, 0]
    # bilinear on a linear function (3r + c) with aligned corners is exact: r in {0, .5, 1},
    # c in {0, .5, 1, 1.5, 2}
    r, c = np.meshgrid(np.linspace(0, 1, 3), np.linspace(0, 2, 5), indexing="ij")
    np.testing.assert_allclose(big, 3 * r + c, atol=1e-12)


def test_unfold_columns_and_fold_adds_overlaps():
    # unfold of the 3x3 grid with 2x2 windows: column l is window l, rows (i, j) row-major
    cols = F.unfold(grid(3, 3), 2).numpy()[0]
    assert np.array_equal(cols, [[0, 1, 3, 4], [1, 2, 4, 5], [3, 4, 6, 7], [4, 5, 7, 8]])
    # fold(unfold(ones)) counts how many windows hold each pixel (same as the padding test)
    ones = Tensor(np.ones((1, 2, 3, 3)))
    counts = F.fold(F.unfold(ones, 3, padding=1), (3, 3), 3, padding=1).numpy()
    assert np.array_equal(counts[0, 1], [[4, 6, 4], [6, 9, 6], [4, 6, 4]])


# ----- gradients of whole compositions, float64 finite differences ------------------------------

GRADIENT_CASES = {
    "conv2d-stride-pad-dilation-groups": (
        lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2),
                                 groups=2), [(1, 4, 5, 6), (4, 2, 2, 3), (4,)]),
    "conv2d-same-then-relu-then-maxpool": (
        lambda x, w: F.max_pool2d(F.conv2d(x, w, padding="same").relu(), 2, padding=1),
        [(2, 2, 4, 4), (2, 2, 3, 3)]),
    "conv1d": (lambda x, w: F.conv1d(x, w, stride=2, padding=1, dilation=2),
               [(2, 3, 9), (2, 3, 3)]),
    "conv_transpose2d": (
        lambda x, w, b: F.conv_transpose2d(x, w, b, stride=(2, 1), padding=(1, 0),
                                           output_padding=(1, 0), groups=2, dilation=(1, 2)),
        [(1, 4, 3, 3), (4, 1, 2, 2), (2,)]),
    "max_pool2d-ceil-dilation": (
        lambda x: F.max_pool2d(x, (2, 3), stride=2, padding=1, dilation=(2, 1), ceil_mode=True),
        [(1, 2, 6, 7)]),
    "avg_pool2d-ceil-exclude-pad": (
        lambda x: F.avg_pool2d(x, 3, 2, padding=1, ceil_mode=True, count_include_pad=False),
        [(1, 2, 5, 6)]),
    "adaptive_avg_pool2d-uneven": (lambda x: F.adaptive_avg_pool2d(x, (3, 2)), [(1, 2, 5, 7)]),
    "pad-reflect-and-constant": (
        lambda x: F.pad(F.pad(x, (2, 1, 1, 2), mode="reflect"), (1, -1), value=3.0),
        [(1, 1, 4, 5)]),
    "interpolate-bilinear": (lambda x: F.interpolate(x, scale_factor=(1.5, 0.7), mode="bilinear"),
                             [(1, 2, 4, 5)]),
    "interpolate-nearest": (lambda x: F.interpolate(x, size=(5, 3)), [(1, 1, 3, 4)]),
    "fold-of-unfold": (lambda x: F.fold(F.unfold(x, (2, 3), padding=1, stride=(1, 2)) ** 2,
                                        (4, 5), (2, 3), padding=1, stride=(1, 2)),
                       [(1, 2, 4, 5)]),
}


@pytest.mark.parametrize("name", sorted(GRADIENT_CASES))
def test_gradients_of_compositions_match_finite_differences(name):
    fn, shapes = GRADIENT_CASES[name]
    # distinct values (a shuffled grid) so that no max pool window holds a tie
    inputs = []
    for shape in shapes:
        values = 0.137 * _rng.permutation(int(np.prod(shape))) - 1.0
        inputs.append(Tensor(values.reshape(shape), requires_grad=True))
    assert tg.gradcheck(fn, inputs)


def test_second_derivative_through_a_convolution():
    # a gradient penalty: d/dw of |d loss / d x|^2 needs the backward of Unfold's backward
    x, w = t64(1, 2, 4, 4), t64(3, 2, 3, 3)

    def penalty(x, w):
        with tg.enable_grad():
            loss = (F.conv2d(x, w, padding=1) ** 2).sum()
            gx, = tg.grad(loss, [x], create_graph=True)
        return (gx * gx).sum()

    assert tg.gradcheck(penalty, [x, w])


# ----- output sizes: PyTorch's formula, for random arguments --------------------------------------

def _expected(size, kernel, stride, padding, dilation, ceil_mode=False):
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (math.ceil(span / stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 9), st.integers(1, 9),
       st.integers(1, 3), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2),
       st.booleans())
def test_output_sizes_follow_the_formula(n, c, h, w, k, s, p, d, ceil_mode):
    span = d * (k - 1) + 1
    x = Tensor(np.ones((n, c, h, w), dtype=np.float32))
    want_h, want_w = _expected(h, k, s, p, d), _expected(w, k, s, p, d)
    if min(want_h, want_w) >= 1:
        out = F.conv2d(x, Tensor(np.ones((2, c, k, k), dtype=np.float32)), None, s, p, d)
        assert out.shape == (n, 2, want_h, want_w)
    else:
        with pytest.raises(ValueError, match="conv2d"):
            F.conv2d(x, Tensor(np.ones((2, c, k, k), dtype=np.float32)), None, s, p, d)
    if p <= span // 2:
        want = (_expected(h, k, s, p, d, ceil_mode), _expected(w, k, s, p, d, ceil_mode))
        if min(want) >= 1:
            assert F.max_pool2d(x, k, s, p, d, ceil_mode).shape == (n, c) + want
        if min(want) >= 1 and d == 1:
            assert F.avg_pool2d(x, k, s, p, ceil_mode).shape == (n, c) + want


# ----- modules ------------------------------------------------------------------------------------

def test_conv2d_module_parameters_init_and_repr():
    tg.manual_seed(0)
    conv = nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2)
    assert [(name, p.shape) for name, p in conv.named_parameters()] == [
        ("weight", (6, 2, 3, 2)), ("bias", (6,))]
    assert conv.weight.dtype == np.float32
    # PyTorch's init: every weight and bias within 1/sqrt(fan_in), fan_in = 2 * 3 * 2 = 12
    bound = 1 / math.sqrt(12)
    assert np.abs(conv.weight.numpy()).max() <= bound
    assert np.abs(conv.bias.numpy()).max() <= bound
    assert np.abs(conv.weight.numpy()).max() > 0.8 * bound   # and not much narrower
    assert repr(conv) == ("Conv2d(4, 6, kernel_size=(3, 2), stride=(2, 2), padding=(1, 1), "
                          "groups=2)")
    assert repr(nn.Conv1d(2, 3, 5, bias=False, padding="same")) == (
        "Conv1d(2, 3, kernel_size=(5,), stride=(1,), padding=same, bias=False)")
    assert conv(t64(2, 4, 6, 5, requires_grad=False)).shape == (2, 6, 3, 3)


def test_pooling_module_reprs_and_shapes():
    assert repr(nn.MaxPool2d(2)) == ("MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, "
                                     "ceil_mode=False)")
    assert repr(nn.AvgPool2d(3, 1)) == "AvgPool2d(kernel_size=3, stride=1, padding=0)"
    assert repr(nn.AdaptiveAvgPool2d((1, 1))) == "AdaptiveAvgPool2d(output_size=(1, 1))"
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"
    x = t64(2, 3, 8, 8, requires_grad=False)
    assert nn.MaxPool2d(2)(x).shape == (2, 3, 4, 4)
    assert nn.AvgPool2d(3, 1, 1)(x).shape == (2, 3, 8, 8)
    assert nn.AdaptiveAvgPool2d(1)(x).shape == (2, 3, 1, 1)
    assert nn.Upsample(scale_factor=2, mode="bilinear")(x).shape == (2, 3, 16, 16)
    assert nn.MaxPool1d(3, 2)(t64(2, 3, 9)).shape == (2, 3, 4)
    assert nn.AvgPool1d(3)(t64(2, 3, 9)).shape == (2, 3, 3)
    out, idx = nn.MaxPool2d(2, return_indices=True)(x)
    assert idx.shape == out.shape == (2, 3, 4, 4)


def test_conv_module_padding_modes():
    conv = nn.Conv2d(1, 1, 3, padding=1, padding_mode="replicate", bias=False)
    with tg.no_grad():
        conv.weight.copy_(np.ones((1, 1, 3, 3), dtype=np.float32))
    # a constant image stays constant under edge replication: 9 * 2 everywhere
    out = conv(Tensor(np.full((1, 1, 4, 4), 2.0, dtype=np.float32)))
    assert np.array_equal(out.numpy(), np.full((1, 1, 4, 4), 18.0))


def test_a_small_cnn_learns_a_batch():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 3 * 3, 2))
    x = Tensor(_rng.standard_normal((16, 1, 6, 6)).astype(np.float32))
    y = Tensor((x.numpy()[:, 0, :3].sum(axis=(1, 2)) > 0).astype(np.int64))
    opt = nn.optim.Adam(model.parameters(), lr=0.05)
    loss_fn = nn.CrossEntropyLoss()
    first = None
    for _ in range(30):
        loss = loss_fn(model(x), y)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.2 * first


# ----- errors -------------------------------------------------------------------------------------

def test_wrong_channel_count_names_the_layer_and_shapes():
    model = nn.Sequential(nn.Conv2d(3, 8, 3))
    with pytest.raises(ValueError, match=r"Conv2d\(3→8\) at model\.0.*3 channels.*\(2, 8, 8\)"):
        model(Tensor.zeros(2, 8, 8))   # a batch of 2 images without the channel axis
    with pytest.raises(ValueError, match=r"conv2d: weight of shape \(4, 2, 3, 3\).*expects 2 "
                                         r"input channels.*\(1, 3, 5, 5\) has 3"):
        F.conv2d(Tensor.zeros(1, 3, 5, 5), Tensor.zeros(4, 2, 3, 3))


@pytest.mark.parametrize("call, message", [
    (lambda: F.conv2d(Tensor.zeros(1, 1, 2, 2), Tensor.zeros(1, 1, 3, 3)),
     r"conv2d: .*\(1, 1, 2, 2\).*smaller than the kernel \(3, 3\)"),
    (lambda: F.conv2d(Tensor.zeros(1, 1, 5, 5), Tensor.zeros(1, 1, 3, 3), stride=2,
                      padding="same"), r"padding='same' is not supported for strided"),
    (lambda: F.conv2d(Tensor.zeros(1, 1, 5, 5), Tensor.zeros(1, 1, 3, 3), padding="full"),
     r"conv2d: padding must be"),
    (lambda: F.conv2d(Tensor.zeros(1, 5, 5), Tensor.zeros(1, 1, 3)), r"conv2d: weight must be 4-D"),
    (lambda: F.conv2d(Tensor.zeros(5, 5), Tensor.zeros(1, 1, 3, 3)),
     r"conv2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input, got shape \(5, 5\)"),
    (lambda: F.conv2d(Tensor.zeros(1, 2, 5, 5), Tensor.zeros(3, 1, 3, 3), groups=2),
     r"out_channels \(3.*divisible by groups \(2\)"),
    (lambda: F.conv2d(Tensor.zeros(1, 1, 5, 5), Tensor.zeros(2, 1, 3, 3), Tensor.zeros(3)),
     r"conv2d: bias must have shape \(2,\)"),
    (lambda: F.max_pool2d(Tensor.zeros(1, 1, 5, 5), 3, padding=2),
     r"max_pool2d: padding should be at most half"),
    (lambda: F.max_pool2d(Tensor.zeros(1, 1, 5, 5), 0), r"kernel_size must be at least 1"),
    (lambda: F.avg_pool2d(Tensor(np.zeros((1, 1, 4, 4), dtype=np.int64)), 2),
     r"avg_pool2d: needs a floating-point input"),
    (lambda: F.pad(Tensor.zeros(2, 3), (3, 3), mode="reflect"),
     r"reflect padding of \(3, 3\) must be smaller"),
    (lambda: F.pad(Tensor.zeros(2, 3), (1, 1, 1, 1, 1, 1)), r"pad: 6 widths pad 3 axes"),
    (lambda: F.interpolate(Tensor.zeros(1, 1, 4), size=8, mode="bilinear"),
     r"mode 'bilinear' is not supported for a 3-D input"),
    (lambda: F.interpolate(Tensor.zeros(1, 1, 4, 4), size=8, align_corners=True),
     r"align_corners option can only be set"),
    (lambda: F.fold(Tensor.zeros(1, 8, 5), (4, 4), 2), r"fold: input of shape \(1, 8, 5\)"),
    (lambda: F.conv_transpose2d(Tensor.zeros(1, 2, 3, 3), Tensor.zeros(3, 1, 2, 2)),
     r"conv_transpose2d: weight of shape \(3, 1, 2, 2\) expects 3 input channels"),
    (lambda: F.conv_transpose2d(Tensor.zeros(1, 2, 3, 3), Tensor.zeros(2, 1, 2, 2), stride=2,
                                output_padding=2), r"output_padding \(2, 2\) must be smaller"),
])
def test_bad_arguments_raise_clear_errors(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_module_arguments_are_checked():
    with pytest.raises(ValueError, match=r"Conv2d: in_channels \(3\) and out_channels \(4\) must "
                                         r"both be divisible by groups \(2\)"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    deconv = nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1)
    assert [(name, p.shape) for name, p in deconv.named_parameters()] == [
        ("weight", (3, 4, 3, 3)), ("bias", (4,))]
    assert deconv(Tensor.ones(1, 3, 5, 5), output_size=(10, 10)).shape == (1, 4, 10, 10)
    with pytest.raises(ValueError, match=r"output size of \(12, 10\), but valid sizes range "
                                         r"from \(9, 9\) to \(10, 10\)"):
        deconv(Tensor.ones(1, 3, 5, 5), output_size=(12, 10))
    assert repr(nn.ConvTranspose1d(2, 4, 3, output_padding=0)) == (
        "ConvTranspose1d(2, 4, kernel_size=(3,), stride=(1,))")


# ----- optional: against PyTorch itself -----------------------------------------------------------

def test_against_torch_when_installed():
    torch = pytest.importorskip("torch")
    x, w, b = (_rng.standard_normal(s) for s in [(2, 4, 7, 6), (6, 2, 3, 2), (6,)])
    ours = F.conv2d(Tensor(x), Tensor(w), Tensor(b), 2, 1, (1, 2), 2).numpy()
    theirs = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), 2, 1,
                                        (1, 2), 2).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    ours = F.max_pool2d(Tensor(x), 3, 2, 1, ceil_mode=True).numpy()
    theirs = torch.nn.functional.max_pool2d(torch.tensor(x), 3, 2, 1, ceil_mode=True).numpy()
    np.testing.assert_array_equal(ours, theirs)


def test_interpolate_keeps_an_axis_whose_size_does_not_change_whatever_the_factor():
    # PyTorch copies such an axis: 4 * 1.08 floors to 4 pixels, so nothing is interpolated
    x = Tensor(np.arange(4.0).reshape(1, 1, 4))
    np.testing.assert_array_equal(F.interpolate(x, scale_factor=1.08, mode="linear").numpy(),
                                  x.numpy())
    image = Tensor(np.arange(12.0).reshape(1, 1, 3, 4))
    out = F.interpolate(image, scale_factor=(1.2, 1.0), mode="bilinear").numpy()
    np.testing.assert_array_equal(out, image.numpy())     # 3 * 1.2 -> 3, 4 * 1.0 -> 4


def test_nearest_2d_reads_j_over_2_on_an_axis_that_exactly_doubles():
    # 5 * 2.16 floors to 10 = 2 * 5: PyTorch's kernel then reads input j // 2, not
    # floor(j / 2.16) (which would read 0 0 0 1 1 2 2 3 3 4)
    x = Tensor(np.arange(5.0).reshape(1, 1, 5, 1))
    out = F.interpolate(x, scale_factor=(2.16, 1.0), mode="nearest").numpy()
    np.testing.assert_array_equal(out[0, 0, :, 0], [0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
