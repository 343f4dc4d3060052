"""nn.RNN / LSTM / GRU and their cells: hand-computed steps, a numpy reference, gradients.

Expected values come from two places, neither of them our own code: single steps worked out
by hand (weights chosen so every gate is a round number: sigmoid(ln 3) = 3/4,
tanh(atanh(1/2)) = 1/2), and ``np_sequence`` below, the gate equations written out in numpy
with PyTorch's gate order. PyTorch itself, when importable, is a second opinion.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
import tinygrad_edu as tg
from tinygrad_edu import Tensor

LN3 = math.log(3.0)          # sigmoid(ln 3) = 3/4, sigmoid(-ln 3) = 1/4
ATANH_HALF = math.atanh(0.5)  # tanh(atanh(1/2)) = 1/2


def set_params(module, **values):
    """Overwrite parameters in place by name (float64 module), e.g. weight_ih=[[...]]."""
    params = dict(module.named_parameters())
    with tg.no_grad():
        for name, value in values.items():
            params[name].copy_(np.asarray(value, dtype=np.float64).reshape(params[name].shape))


def zero_params(module):
    with tg.no_grad():
        for p in module.parameters():
            p.zero_()


# ----- one step, by hand ------------------------------------------------------------------

def test_lstm_cell_one_step_by_hand():
    # pre-activations: i = ln3, f = -ln3, g = atanh(1/2), o = ln3 (split over h, b_ih, b_hh)
    # -> i = 3/4, f = 1/4, g = 1/2, o = 3/4;  c' = f c + i g = 1/4 + 3/8 = 5/8
    # -> h' = o tanh(c') = 3/4 tanh(5/8). A wrong gate order moves every one of these.
    cell = nn.LSTMCell(1, 1).double()
    set_params(cell, weight_ih=[LN3, -LN3, ATANH_HALF, 0.0], weight_hh=[0, 0, 0, LN3 / 2],
               bias_ih=[0, 0, 0, LN3 / 4], bias_hh=[0, 0, 0, LN3 / 4])
    h, c = cell(Tensor([[1.0]]), (Tensor([[1.0]]), Tensor([[1.0]])))
    assert c.numpy() == pytest.approx(np.array([[5 / 8]]))
    assert h.numpy() == pytest.approx(np.array([[0.75 * math.tanh(5 / 8)]]))
    assert h.shape == c.shape == (1, 1)


def test_gru_cell_one_step_by_hand():
    # r = sigmoid(ln3) = 3/4, z = sigmoid(-ln3) = 1/4,
    # n = tanh(0 + r * (W_hn h + b_hn)) = tanh(3/4 * (1/2 + 1/2)) = tanh(3/4)
    # h' = (1 - z) n + z h = 3/4 tanh(3/4) + 1/4.  (With b_hn outside r: tanh(7/8).)
    cell = nn.GRUCell(1, 1).double()
    set_params(cell, weight_ih=[LN3, -LN3, 0.0], weight_hh=[0, 0, 0.5],
               bias_ih=[0, 0, 0], bias_hh=[0, 0, 0.5])
    h = cell(Tensor([[1.0]]), Tensor([[1.0]]))
    assert h.numpy() == pytest.approx(np.array([[0.75 * math.tanh(0.75) + 0.25]]))


def test_rnn_cell_one_step_by_hand_tanh_and_relu():
    # h' = act(w x + b_ih + u h + b_hh) = act(2 * 1 + 0.5 - 3 * 1 + 0.25) = act(-0.25)
    for nonlinearity, expected in (("tanh", math.tanh(-0.25)), ("relu", 0.0)):
        cell = nn.RNNCell(1, 1, nonlinearity=nonlinearity).double()
        set_params(cell, weight_ih=[2.0], weight_hh=[-3.0], bias_ih=[0.5], bias_hh=[0.25])
        h = cell(Tensor([[1.0]]), Tensor([[1.0]]))
        assert h.numpy() == pytest.approx(np.array([[expected]]))


def test_lstm_sequence_two_steps_by_hand():
    # all weights 0 but the input's share of g (1), no bias: every sigmoid gate is 1/2 and
    # g_t = tanh(x_t), so g1 = 1/2, g2 = -1/4. c1 = 1/2 * 0 + 1/2 * g1, h1 = 1/2 tanh(c1);
    # W_hh = 0, so step 2 sees step 1 only through c: c2 = c1 / 2 + g2 / 2
    lstm = nn.LSTM(1, 1, bias=False).double()
    zero_params(lstm)
    set_params(lstm, weight_ih_l0=[0, 0, 1.0, 0])
    x = np.array([[[ATANH_HALF]], [[math.atanh(-0.25)]]])       # (L=2, N=1, 1)
    out, (h, c) = lstm(Tensor(x))
    c1 = 0.5 * 0.5
    c2 = 0.5 * c1 + 0.5 * -0.25
    assert out.numpy().ravel() == pytest.approx([0.5 * math.tanh(c1), 0.5 * math.tanh(c2)])
    assert c.numpy().ravel() == pytest.approx([c2])
    assert h.numpy().ravel() == pytest.approx([0.5 * math.tanh(c2)])


# ----- a numpy reference of the equations -------------------------------------------------

def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_step(mode, x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr=None):
    """One step in numpy, PyTorch's gate order. x: (N, in), h, c: (N, H); with a
    projection w_hr (P, H), h is (N, P)."""
    gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    H = w_hh.shape[0] // {"LSTM": 4, "GRU": 3}.get(mode, 1)
    if mode == "LSTM":
        i, f, g, o = (gi[:, k * H:(k + 1) * H] + gh[:, k * H:(k + 1) * H] for k in range(4))
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        return (h if w_hr is None else h @ w_hr.T), c
    if mode == "GRU":
        r = sigmoid(gi[:, :H] + gh[:, :H])
        z = sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        return (1 - z) * n + z * h, None
    pre = gi + gh
    return (np.tanh(pre) if mode == "RNN_TANH" else np.maximum(pre, 0)), None


def np_sequence(module, x, h0, c0=None):
    """The whole stack in numpy, time-major x (L, N, in). Returns output, h_n, c_n."""
    p = {k: v.numpy() for k, v in module.named_parameters()}
    D = 2 if module.bidirectional else 1
    L, N = x.shape[:2]
    P = module.proj_size or module.hidden_size
    layer_input, h_n, c_n = x, [], []
    for k in range(module.num_layers):
        outs = []
        for d, suffix in enumerate(["", "_reverse"][:D]):
            names = [f"{w}_l{k}{suffix}" for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            w_ih, w_hh = p[names[0]], p[names[1]]
            b_ih, b_hh = (p[names[2]], p[names[3]]) if module.bias else (0.0, 0.0)
            w_hr = p.get(f"weight_hr_l{k}{suffix}")
            h = h0[k * D + d]
            c = None if c0 is None else c0[k * D + d]
            out = np.zeros((L, N, P))
            for t in (range(L - 1, -1, -1) if d else range(L)):
                h, c = np_step(module.mode, layer_input[t], h, c, w_ih, w_hh, b_ih, b_hh, w_hr)
                out[t] = h
            outs.append(out)
            h_n.append(h)
            c_n.append(c)
        layer_input = np.concatenate(outs, axis=2)
    return layer_input, np.stack(h_n), (np.stack(c_n) if c0 is not None else None)


rng = np.random.default_rng(0)

CONFIGS = [
    ("LSTM", dict()),
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("LSTM", dict(num_layers=2, bidirectional=True, proj_size=3)),
    ("GRU", dict(num_layers=2)),
    ("GRU", dict(bidirectional=True, bias=False)),
    ("RNN", dict(nonlinearity="relu", num_layers=2)),
    ("RNN", dict(bidirectional=True)),
]


@pytest.mark.parametrize("layout", ["time_major", "batch_first", "unbatched"])
@pytest.mark.parametrize("kind,options", CONFIGS, ids=lambda v: str(v))
def test_sequence_matches_the_numpy_equations(kind, options, layout):
    tg.manual_seed(1)
    module = getattr(nn, kind)(3, 4, batch_first=layout == "batch_first", **options).double()
    D = 2 if module.bidirectional else 1
    L, N = 5, 2
    x = rng.standard_normal((L, N, 3))
    h0 = rng.standard_normal((D * module.num_layers, N, module.proj_size or 4))
    c0 = rng.standard_normal((D * module.num_layers, N, 4)) if kind == "LSTM" else None
    want_out, want_h, want_c = np_sequence(module, x, h0, c0)
    if layout == "unbatched":       # the first sample alone, no batch axis anywhere
        x, h0, want_out, want_h = x[:, 0], h0[:, 0], want_out[:, 0], want_h[:, 0]
        c0, want_c = (None, None) if c0 is None else (c0[:, 0], want_c[:, 0])
    elif layout == "batch_first":   # only input and output turn round; states stay (D*l, N, H)
        x, want_out = x.transpose(1, 0, 2), want_out.transpose(1, 0, 2)
    state = (Tensor(h0), Tensor(c0)) if kind == "LSTM" else Tensor(h0)
    out, state = module(Tensor(x), state)
    h, c = state if kind == "LSTM" else (state, None)
    np.testing.assert_allclose(out.numpy(), want_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h.numpy(), want_h, rtol=1e-10, atol=1e-12)
    if kind == "LSTM":
        np.testing.assert_allclose(c.numpy(), want_c, rtol=1e-10, atol=1e-12)


def test_long_sequences_match_the_equations_and_finite_differences():
    # 17 and more steps are cut in blocks of about sqrt(L) first (a cheaper backward)
    gru = nn.GRU(2, 3, bidirectional=True).double()
    x, h0 = rng.standard_normal((20, 2, 2)), rng.standard_normal((2, 2, 3))
    out, h_n = gru(Tensor(x), Tensor(h0))
    want_out, want_h, _ = np_sequence(gru, x, h0)
    np.testing.assert_allclose(out.numpy(), want_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h_n.numpy(), want_h, rtol=1e-10, atol=1e-12)
    rnn = nn.RNN(1, 1).double()
    params = [Tensor(p.numpy(), requires_grad=True) for p in rnn.parameters()]

    def fn(x, *params):
        use_as_parameters(rnn, params)
        return rnn(x)[0]

    x = Tensor(rng.standard_normal((17, 1, 1)), requires_grad=True)
    assert tg.gradcheck(fn, [x, *params])


def test_cells_match_one_step_of_the_numpy_equations_batched_and_not():
    x, h, c = rng.standard_normal((3, 2)), rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    for cls, mode in ((nn.LSTMCell, "LSTM"), (nn.GRUCell, "GRU"), (nn.RNNCell, "RNN_TANH")):
        cell = cls(2, 4).double()
        p = {k: v.numpy() for k, v in cell.named_parameters()}
        want_h, want_c = np_step(mode, x, h, c, p["weight_ih"], p["weight_hh"], p["bias_ih"],
                                 p["bias_hh"])
        state = (Tensor(h), Tensor(c)) if mode == "LSTM" else Tensor(h)
        got = cell(Tensor(x), state)
        got_h = got[0] if mode == "LSTM" else got
        np.testing.assert_allclose(got_h.numpy(), want_h, rtol=1e-12)
        one = cell(Tensor(x[0]), (Tensor(h[0]), Tensor(c[0])) if mode == "LSTM" else Tensor(h[0]))
        one_h = one[0] if mode == "LSTM" else one
        assert one_h.shape == (4,)
        np.testing.assert_allclose(one_h.numpy(), want_h[0], rtol=1e-12)


def test_missing_state_means_zeros():
    lstm = nn.LSTM(3, 4, num_layers=2).double()
    x = Tensor(rng.standard_normal((4, 2, 3)))
    zeros = Tensor.zeros(2, 2, 4, dtype=np.float64)
    a, (h_a, c_a) = lstm(x)
    b, (h_b, c_b) = lstm(x, (zeros, zeros))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(c_a.numpy(), c_b.numpy())
    cell = nn.GRUCell(3, 4).double()
    np.testing.assert_array_equal(cell(x[0]).numpy(), cell(x[0], zeros[0]).numpy())


def test_reverse_direction_is_the_forward_recurrence_on_the_flipped_sequence():
    gru = nn.GRU(3, 4, bidirectional=True).double()
    forward_only = nn.GRU(3, 4).double()
    set_params(forward_only, **{f"{w}_l0": getattr(gru, f"{w}_l0_reverse").numpy()
                                for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
    x = rng.standard_normal((6, 2, 3))
    out, h_n = gru(Tensor(x))
    flipped, h_flipped = forward_only(Tensor(x[::-1].copy()))
    np.testing.assert_allclose(out.numpy()[:, :, 4:], flipped.numpy()[::-1], rtol=1e-12)
    np.testing.assert_allclose(h_n.numpy()[1], h_flipped.numpy()[0], rtol=1e-12)
    # the forward half of the output at the last step is h_n[0]; the reverse half's at step 0
    np.testing.assert_allclose(out.numpy()[-1, :, :4], h_n.numpy()[0])
    np.testing.assert_allclose(out.numpy()[0, :, 4:], h_n.numpy()[1])


# ----- shapes, names, initialisation --------------------------------------------------------

@settings(max_examples=15, deadline=None)
@given(kind=st.sampled_from(["RNN", "LSTM", "GRU"]), L=st.integers(1, 4), N=st.integers(1, 3),
       layers=st.integers(1, 3), bidirectional=st.booleans(), batch_first=st.booleans(),
       batched=st.booleans())
def test_output_and_state_shapes_follow_pytorch(kind, L, N, layers, bidirectional,
                                                 batch_first, batched):
    module = getattr(nn, kind)(2, 3, num_layers=layers, bidirectional=bidirectional,
                               batch_first=batch_first)
    D = 2 if bidirectional else 1
    if not batched:
        shape, want_out, want_state = (L, 2), (L, D * 3), (D * layers, 3)
    elif batch_first:
        shape, want_out, want_state = (N, L, 2), (N, L, D * 3), (D * layers, N, 3)
    else:
        shape, want_out, want_state = (L, N, 2), (L, N, D * 3), (D * layers, N, 3)
    out, state = module(Tensor.randn(*shape))
    states = state if kind == "LSTM" else (state,)
    assert out.shape == want_out
    assert [s.shape for s in states] == [want_state] * len(states)
    assert out.dtype == np.float32


def test_parameter_names_shapes_and_order_follow_pytorch():
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    names = [(n, p.shape) for n, p in lstm.named_parameters()]
    expected = []
    for k, width in ((0, 3), (1, 10)):
        for suffix in ("", "_reverse"):
            expected += [(f"weight_ih_l{k}{suffix}", (20, width)),
                         (f"weight_hh_l{k}{suffix}", (20, 5)),
                         (f"bias_ih_l{k}{suffix}", (20,)), (f"bias_hh_l{k}{suffix}", (20,))]
    assert names == expected
    assert [n for n, _ in nn.GRU(2, 3, bias=False).named_parameters()] == ["weight_ih_l0",
                                                                          "weight_hh_l0"]
    assert nn.GRUCell(2, 3).weight_ih.shape == (9, 2)
    projected = nn.LSTM(3, 5, num_layers=2, proj_size=2)
    assert [(n, p.shape) for n, p in projected.named_parameters()][:5] == [
        ("weight_ih_l0", (20, 3)), ("weight_hh_l0", (20, 2)), ("bias_ih_l0", (20,)),
        ("bias_hh_l0", (20,)), ("weight_hr_l0", (2, 5))]
    assert projected.weight_ih_l1.shape == (20, 2)    # the next layer reads the projected h
    groups = nn.GRU(2, 3, num_layers=2, bidirectional=True).all_weights
    assert [[p.shape for p in group] for group in groups] == (
        [[(9, 2), (9, 3), (9,), (9,)]] * 2 + [[(9, 6), (9, 3), (9,), (9,)]] * 2)
    assert nn.RNNCell(2, 3, bias=False).bias_ih is None


def test_initialisation_is_uniform_within_one_over_sqrt_hidden():
    tg.manual_seed(0)
    for module in (nn.LSTM(4, 16), nn.GRUCell(4, 16), nn.RNN(4, 16, num_layers=2)):
        values = np.concatenate([p.numpy().ravel() for p in module.parameters()])
        assert np.abs(values).max() <= 0.25            # 1 / sqrt(16)
        assert np.abs(values).max() > 0.24             # and spread over the whole range
        assert abs(values.mean()) < 0.02


def test_dropout_acts_between_layers_only_while_training():
    tg.manual_seed(0)
    with pytest.warns(UserWarning, match="no effect with num_layers=1"):
        nn.LSTM(2, 3, dropout=0.5)
    lstm = nn.LSTM(2, 3, num_layers=2, dropout=0.5).double()
    plain = nn.LSTM(2, 3, num_layers=2).double()
    plain.load_state_dict(lstm.state_dict())
    x = Tensor(rng.standard_normal((4, 2, 2)))
    first, second = lstm(x)[0].numpy(), lstm(x)[0].numpy()
    assert not np.allclose(first, second)             # a fresh mask each call
    lstm.eval()
    np.testing.assert_array_equal(lstm(x)[0].numpy(), plain(x)[0].numpy())
    # dropout=1 zeroes the second layer's input: its output no longer depends on x
    lstm = nn.LSTM(2, 3, num_layers=2, dropout=1.0)
    a = lstm(Tensor.randn(4, 2, 2))[0].numpy()
    b = lstm(Tensor.randn(4, 2, 2))[0].numpy()
    np.testing.assert_allclose(a, b)


# ----- gradients ----------------------------------------------------------------------------

def use_as_parameters(module, tensors):
    """Make ``tensors`` the module's parameters, in ``named_parameters`` order (so that
    gradcheck, which hands fn float64 copies of its inputs, perturbs what the module uses)."""
    for (name, _), t in zip(list(module.named_parameters()), tensors):
        module._parameters[name] = t
        module.__dict__[name] = t


@pytest.mark.parametrize("kind,options", [
    ("LSTM", dict(num_layers=2)),
    ("LSTM", dict(proj_size=1)),
    ("GRU", dict(num_layers=2)),
    ("RNN", dict(bidirectional=True)),
], ids=["LSTM", "LSTM-proj", "GRU", "RNN"])
def test_gradients_through_time_match_finite_differences(kind, options):
    tg.manual_seed(2)
    module = getattr(nn, kind)(2, 2, **options).double()
    D = 2 if module.bidirectional else 1
    params = [Tensor(p.numpy(), requires_grad=True) for p in module.parameters()]
    x = Tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    layers = D * module.num_layers
    h0 = Tensor(rng.standard_normal((layers, 2, module.proj_size or 2)), requires_grad=True)
    c0 = Tensor(rng.standard_normal((layers, 2, 2)), requires_grad=True)

    def fn(x, h0, c0, *params):
        use_as_parameters(module, params)
        out, state = module(x, (h0, c0) if kind == "LSTM" else h0)
        h_n = state[0] if kind == "LSTM" else state
        return out.tanh().sum() + (h_n * h_n).sum()   # a loss on both outputs

    assert tg.gradcheck(fn, [x, h0, c0 if kind == "LSTM" else None, *params])


def test_cell_gradients_match_finite_differences():
    cell = nn.LSTMCell(2, 2).double()
    params = [Tensor(p.numpy(), requires_grad=True) for p in cell.parameters()]
    x, h, c = (Tensor(rng.standard_normal((2, 2)), requires_grad=True) for _ in range(3))

    def fn(x, h, c, *params):
        use_as_parameters(cell, params)
        h, c = cell(x, (h, c))
        return (h * c).sum()

    assert tg.gradcheck(fn, [x, h, c, *params])


def test_backprop_through_time_is_visible_in_the_graph():
    lstm = nn.LSTM(2, 3)
    out, _ = lstm(Tensor.randn(4, 1, 2))
    out.sum().backward()
    assert lstm.weight_hh_l0.grad is not None and lstm.weight_ih_l0.grad is not None
    graph = tg.draw_graph(out.sum())
    # every step has its own cell-state tanh; all four steps are in the picture
    assert graph.source.count("Tanh") >= 2 * 4


# ----- bad input ----------------------------------------------------------------------------

def test_errors_name_the_layer_and_the_shapes():
    lstm = nn.LSTM(3, 4)
    with pytest.raises(ValueError, match=r"LSTM\(3, 4\).*input_size 3.*\(5, 2, 7\)"):
        lstm(Tensor.randn(5, 2, 7))
    with pytest.raises(ValueError, match=r"LSTM.*2 dimensions.*\(5,\)"):
        lstm(Tensor.randn(5))
    with pytest.raises(ValueError, match=r"h_0 of shape \(1, 2, 4\).*\(1, 3, 4\)"):
        lstm(Tensor.randn(5, 2, 3), (Tensor.zeros(1, 3, 4), Tensor.zeros(1, 2, 4)))
    with pytest.raises(TypeError, match=r"tuple \(h_0, c_0\)"):
        lstm(Tensor.randn(5, 2, 3), Tensor.zeros(1, 2, 4))
    with pytest.raises(TypeError, match="dtype int64.*float"):
        lstm(Tensor(np.zeros((5, 2, 3), dtype=np.int64)))
    with pytest.raises(ValueError, match=r"GRU.*h_0 of shape \(2, 4\) \(the input has no batch"):
        nn.GRU(3, 4, num_layers=2)(Tensor.randn(5, 3), Tensor.zeros(2, 1, 4))
    with pytest.raises(ValueError, match=r"GRUCell\(3, 4\).*\(N, 3\).*\(2, 5\)"):
        nn.GRUCell(3, 4)(Tensor.randn(2, 5))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="RNNBase: unrecognised mode 'lstm'"):
        nn.RNNBase("lstm", 3, 4)
    with pytest.raises(ValueError, match="dropout"):
        nn.GRU(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match=r"proj_size \(4\) has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    model = nn.Sequential(nn.Linear(3, 3), nn.RNN(2, 4))
    with pytest.raises(ValueError, match=r"RNN\(2, 4\) at model\.1"):
        model(Tensor.randn(5, 1, 3))


# ----- a second opinion -----------------------------------------------------------------------

def test_values_and_gradients_match_pytorch_when_installed():
    torch = pytest.importorskip("torch")
    for kind in ("RNN", "LSTM", "GRU"):
        options = dict(num_layers=2, bidirectional=True, batch_first=True)
        ours = getattr(nn, kind)(3, 4, **options).double()
        theirs = getattr(torch.nn, kind)(3, 4, **options).double()
        with torch.no_grad():
            for name, p in theirs.named_parameters():
                p.copy_(torch.tensor(getattr(ours, name).numpy()))
        x = rng.standard_normal((2, 5, 3))
        ours_x, torch_x = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, _ = ours(ours_x)
        torch_out, _ = theirs(torch_x)
        np.testing.assert_allclose(out.numpy(), torch_out.detach().numpy(), rtol=1e-10)
        (out * out).sum().backward()
        (torch_out * torch_out).sum().backward()
        np.testing.assert_allclose(ours_x.grad.numpy(), torch_x.grad.numpy(), rtol=1e-8)
        for name, p in theirs.named_parameters():
            np.testing.assert_allclose(getattr(ours, name).grad.numpy(), p.grad.numpy(),
                                       rtol=1e-8, atol=1e-12)


def test_device_dtype_and_flatten_parameters_as_pytorch_scripts_use_them():
    lstm = nn.LSTM(2, 3, device="cpu", dtype=tg.float64)
    assert lstm.weight_ih_l0.dtype == np.float64
    assert nn.GRUCell(2, 3).weight_hh.dtype == np.float32
    lstm.flatten_parameters()            # a no-op here (cuDNN's weight packing)
    with pytest.raises(RuntimeError, match="LSTM: device 'cuda'"):
        nn.LSTM(2, 3, device="cuda")
