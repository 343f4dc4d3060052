"""Recurrent layers: RNN, LSTM and GRU, and their one-step cells, as PyTorch's.

Every step is written in Tensor operations, so backpropagation through time is nothing special:
the graph of a sequence is the graph of one step, repeated, each step's hidden state feeding
the next (``tg.draw_graph(loss)`` shows it). Per layer, the input is projected for all time
steps at once (one matmul of x), then each step adds one matmul of the hidden state.

The step equations, with PyTorch's gate order (``W_ih``: (gates * hidden, input),
``W_hh``: (gates * hidden, hidden), rows grouped by gate)::

    RNN:   h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)            (or relu)
    LSTM:  i, f, g, o = chunks of (x W_ih^T + b_ih + h W_hh^T + b_hh)
           c' = sigmoid(f) * c + sigmoid(i) * tanh(g) ;  h' = sigmoid(o) * tanh(c')
    GRU:   r, z = sigmoid of chunks of (x W_ih^T + b_ih + h W_hh^T + b_hh), first two of three
           n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))      (r gates b_hn too)
           h' = (1 - z) * n + z * h

Shapes (L: sequence length, N: batch, D: 2 if bidirectional else 1):
input (L, N, input_size), or (N, L, input_size) with ``batch_first=True``, or unbatched
(L, input_size); h_0 and h_n are (D * num_layers, N, hidden_size) whatever ``batch_first``
says (as in PyTorch), or (D * num_layers, hidden_size) unbatched.
"""

import math
import warnings

import numpy as np

from tinygrad_edu import Tensor

from . import functional as F
from . import init
from .module import Module, Parameter, _check_device

# rows of W_ih / W_hh per unit of hidden_size: one block per gate
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ----- one time step, shared by the cells and the sequence layers --------------------------
# ``xw`` is the input's share of the gates, x W_ih^T + b_ih, already computed; each step
# adds the hidden state's share.

def _blocks(gates, n):
    """The n gate blocks of ``gates`` (N, n*H), each (N, H): ``gates.chunk(n, 1)``, written
    as plain slices: chunk's general bookkeeping made the char-RNN example 30% slower."""
    H = gates.shape[1] // n
    return [gates[:, k * H:(k + 1) * H] for k in range(n)]


def _time_steps(xw):
    """[xw[0], xw[1], ..., xw[L-1]], cut so that backward stays cheap for long sequences.

    Indexing's gradient is a zero array of the whole tensor with the slice filled in, so L
    slices of a (L, N, G) tensor cost L full-size arrays in backward: O(L^2). Cutting blocks
    of about sqrt(L) steps first, then the steps out of each block, costs O(L^1.5): the
    backward of a 128-step LSTM (N=32, H=128) went from 248 to 82 ms.
    """
    L = xw.shape[0]
    size = int(math.sqrt(L))
    if size < 4:                                   # short sequences: no gain, 1 op more
        return [xw[t] for t in range(L)]
    steps = []
    for start in range(0, L, size):
        block = xw[start:start + size]
        steps += [block[t] for t in range(block.shape[0])]
    return steps


def _rnn_step(xw, h, w_hh, b_hh, relu):
    """h' = act(xw + h W_hh^T + b_hh).  xw: (N, H), h: (N, H) -> (N, H)."""
    pre = xw + h.linear(w_hh, b_hh)
    return pre.relu() if relu else pre.tanh()


def _lstm_step(xw, h, c, w_hh, b_hh, w_hr=None):
    """One LSTM step.  xw: (N, 4H), h, c: (N, H) -> (h', c'), each (N, H).

    With a projection ``w_hr`` (P, H), h is (N, P): h' = (o * tanh(c')) W_hr^T.
    """
    gates = xw + h.linear(w_hh, b_hh)              # (N, 4H): blocks i, f, g, o
    i, f, g, o = _blocks(gates, 4)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()   # forget some memory, write some new
    h = o.sigmoid() * c.tanh()                     # show part of the memory
    if w_hr is not None:
        h = h.linear(w_hr)                         # proj_size: a smaller h, (N, P)
    return h, c


def _gru_step(xw, h, w_hh, b_hh):
    """One GRU step.  xw: (N, 3H), h: (N, H) -> h' (N, H)."""
    hw = h.linear(w_hh, b_hh)                      # (N, 3H): blocks r, z, n
    x_r, x_z, x_n = _blocks(xw, 3)
    h_r, h_z, h_n = _blocks(hw, 3)
    r = (x_r + h_r).sigmoid()                      # reset: how much of h the candidate sees
    z = (x_z + h_z).sigmoid()                      # update: how much of h is kept
    n = (x_n + r * h_n).tanh()                     # r multiplies b_hn too, as in PyTorch
    return (1 - z) * n + z * h


def _as_float_tensor(x, where, what):
    x = x if isinstance(x, Tensor) else Tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{where} got {what} of dtype {x.dtype}; it needs floating-point "
                        "values: convert it with .float()")
    return x


def _check_dropout(dropout, layer):
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
        raise ValueError(f"{layer}: dropout is a probability and must be in [0, 1], "
                         f"got {dropout!r}")
    return float(dropout)


def _check_size(value, name, layer, positive=True):
    low = 1 if positive else 0
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        kind = "a positive" if positive else "a non-negative"
        raise ValueError(f"{layer}: {name} must be {kind} int, got {value!r}")
    return int(value)


# ----- the sequence layers ----------------------------------------------------------------

class _Recurrent(Module):
    """What the layers and the cells share: PyTorch's initialisation and a short name."""

    def reset_parameters(self):
        """Draw every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def _short_repr(self):
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size})"


class RNNBase(_Recurrent):
    """What RNN, LSTM and GRU share: the parameters of every layer and direction, the
    layouts of input and state, stacking layers and directions. Use one of the three.

    Parameters, for layer k (and with suffix ``_reverse`` for the backward direction):
    ``weight_ih_l{k}`` (G * hidden_size, input_size for k = 0, else D * hidden_size),
    ``weight_hh_l{k}`` (G * hidden_size, hidden_size), ``bias_ih_l{k}`` and
    ``bias_hh_l{k}`` (G * hidden_size,), where G is the number of gates (1, 4 or 3).
    All start uniform on [-1/sqrt(hidden_size), 1/sqrt(hidden_size)], as in PyTorch.
    An LSTM with ``proj_size`` P > 0 also has ``weight_hr_l{k}`` (P, hidden_size), and its
    h (and so weight_hh's second axis and the next layer's input) has P features.
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        layer = type(self).__name__
        if device is not None:
            _check_device(device, layer)
        dtype = np.float32 if dtype is None else dtype
        if mode not in _GATES:
            raise ValueError(f"{layer}: unrecognised mode {mode!r}; expected one of "
                             f"{', '.join(_GATES)}")
        self.mode = mode
        self.input_size = _check_size(input_size, "input_size", layer, positive=False)
        self.hidden_size = _check_size(hidden_size, "hidden_size", layer)
        self.num_layers = _check_size(num_layers, "num_layers", layer)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = _check_dropout(dropout, layer)
        self.bidirectional = bool(bidirectional)
        self.proj_size = _check_size(proj_size, "proj_size", layer, positive=False)
        if self.proj_size and mode != "LSTM":
            raise ValueError(f"{layer}: proj_size is only supported for LSTM, not RNN or GRU")
        if self.proj_size >= self.hidden_size:
            raise ValueError(f"{layer}: proj_size ({self.proj_size}) has to be smaller than "
                             f"hidden_size ({self.hidden_size})")
        if self.dropout > 0 and self.num_layers == 1:
            warnings.warn(f"{layer}: dropout={self.dropout} has no effect with num_layers=1: "
                          "it is applied between stacked layers, after every layer but the "
                          "last", stacklevel=2)
        gate_size = _GATES[mode] * self.hidden_size
        directions = 2 if self.bidirectional else 1
        out_size = self._out_size()                 # the features of h: hidden, or proj_size
        for k in range(self.num_layers):
            layer_input = self.input_size if k == 0 else out_size * directions
            for suffix in self._suffixes():
                name = f"l{k}{suffix}"
                self.register_parameter(f"weight_ih_{name}", Parameter(
                    Tensor.zeros(gate_size, layer_input, dtype=dtype)))
                self.register_parameter(f"weight_hh_{name}", Parameter(
                    Tensor.zeros(gate_size, out_size, dtype=dtype)))
                if self.bias:
                    self.register_parameter(f"bias_ih_{name}", Parameter(
                        Tensor.zeros(gate_size, dtype=dtype)))
                    self.register_parameter(f"bias_hh_{name}", Parameter(
                        Tensor.zeros(gate_size, dtype=dtype)))
                if self.proj_size:
                    self.register_parameter(f"weight_hr_{name}", Parameter(
                        Tensor.zeros(self.proj_size, self.hidden_size, dtype=dtype)))
        self.reset_parameters()

    def flatten_parameters(self):
        """Does nothing: PyTorch packs the weights into one block for cuDNN; there is no
        cuDNN here, so scripts that call this run unchanged."""

    @property
    def all_weights(self):
        """The parameters per layer and direction, as PyTorch lists them:
        ``[[weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0], ...]``."""
        return [[getattr(self, name) for name in self._weight_names(k, suffix)]
                for k in range(self.num_layers) for suffix in self._suffixes()]

    def _weight_names(self, k, suffix):
        names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.bias else [])
        names += ["weight_hr"] if self.proj_size else []
        return [f"{name}_l{k}{suffix}" for name in names]

    def _out_size(self):
        return self.proj_size or self.hidden_size

    def _suffixes(self):
        return ("", "_reverse") if self.bidirectional else ("",)


    def extra_repr(self):
        # PyTorch's order, proj_size first; like PyTorch's, it never shows nonlinearity
        # (read RNN(..., nonlinearity='relu').nonlinearity)
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text

    # ----- input checks ------------------------------------------------------------------

    def _time_major(self, input):
        """The input as (L, N, input_size), and whether it came without a batch axis."""
        input = _as_float_tensor(input, self._describe(), "input")
        if input.ndim not in (2, 3):
            raise ValueError(f"{self._describe()} expected input of 2 dimensions (L, "
                             f"input_size) or 3 ({self._layout_name()}), got shape "
                             f"{input.shape}")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{self._describe()} expected input_size {self.input_size} in "
                             f"the last axis of the input, got shape {input.shape}")
        if input.ndim == 2:
            return input.unsqueeze(1), False
        return (input.transpose(0, 1) if self.batch_first else input), True

    def _layout_name(self):
        return "N, L, input_size" if self.batch_first else "L, N, input_size"

    def _check_state(self, state, what, batch, batched, size):
        """A given h_0 / c_0 (``size`` features) as (D * num_layers, N, size)."""
        layers = self.num_layers * (2 if self.bidirectional else 1)
        expected = (layers, batch, size) if batched else (layers, size)
        state = _as_float_tensor(state, self._describe(), what)
        if state.shape != expected:
            unbatched = " (the input has no batch axis)" if not batched else ""
            raise ValueError(f"{self._describe()} expected {what} of shape {expected}"
                             f"{unbatched}, got {state.shape}")
        return state if batched else state.unsqueeze(1)

    # ----- the computation -----------------------------------------------------------------

    def _layer_weights(self, k, suffix):
        name = f"l{k}{suffix}"
        w_ih = getattr(self, f"weight_ih_{name}")
        w_hh = getattr(self, f"weight_hh_{name}")
        b_ih = getattr(self, f"bias_ih_{name}") if self.bias else None
        b_hh = getattr(self, f"bias_hh_{name}") if self.bias else None
        w_hr = getattr(self, f"weight_hr_{name}") if self.proj_size else None
        return w_ih, w_hh, b_ih, b_hh, w_hr

    def _run_direction(self, x, state, weights, reverse):
        """One layer in one direction over the whole sequence.

        x: (L, N, in); state: h (N, H), or (h, c) for the LSTM (h: (N, proj_size) with a
        projection). Returns the outputs (L, N, H), in time order even when run backwards,
        and the final state.
        """
        w_ih, w_hh, b_ih, b_hh, w_hr = weights
        if self.mode in ("LSTM", "RNN_TANH", "RNN_RELU"):
            # b_hh is only ever added next to b_ih: add it once here, not at every step
            # (the GRU keeps b_hn inside r * (...), so it adds b_hh per step)
            if b_ih is not None:
                b_ih, b_hh = b_ih + b_hh, None
        xw = _time_steps(x.linear(w_ih, b_ih))     # every step's input at once: L x (N, G*H)
        steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
        outputs = [None] * x.shape[0]
        for t in steps:
            if self.mode == "LSTM":
                state = _lstm_step(xw[t], state[0], state[1], w_hh, b_hh, w_hr)
                outputs[t] = state[0]
            elif self.mode == "GRU":
                state = outputs[t] = _gru_step(xw[t], state, w_hh, b_hh)
            else:
                state = outputs[t] = _rnn_step(xw[t], state, w_hh, b_hh,
                                               self.mode == "RNN_RELU")
        return Tensor.stack(outputs, 0), state

    def _run(self, input, hx):
        """Shared forward. hx: None, h_0, or (h_0, c_0) for the LSTM."""
        x, batched = self._time_major(input)
        batch = x.shape[1]
        lstm = self.mode == "LSTM"
        layers = self.num_layers * (2 if self.bidirectional else 1)
        H, P = self.hidden_size, self._out_size()
        if hx is None:
            h0 = Tensor.zeros(layers, batch, P, dtype=x.dtype)
            c0 = Tensor.zeros(layers, batch, H, dtype=x.dtype) if lstm else None
        elif lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{self._describe()} expected hx as a tuple (h_0, c_0), got "
                                f"{type(hx).__name__}")
            h0 = self._check_state(hx[0], "h_0", batch, batched, P)
            c0 = self._check_state(hx[1], "c_0", batch, batched, H)
        else:
            if isinstance(hx, (tuple, list)):
                raise TypeError(f"{self._describe()} expected hx as one tensor h_0, got a "
                                f"{type(hx).__name__}; only the LSTM takes (h_0, c_0)")
            h0 = self._check_state(hx, "h_0", batch, batched, P)
        if x.shape[0] == 0:
            raise ValueError(f"{self._describe()} got a sequence of length 0 (input shape "
                             f"{input.shape}); it needs at least one time step")
        h_n, c_n = [], []
        for k in range(self.num_layers):
            if k > 0 and self.dropout > 0 and self.training:
                x = F.dropout(x, self.dropout, True)        # between layers, not after the last
            outs = []
            for d, suffix in enumerate(self._suffixes()):
                index = k * len(self._suffixes()) + d   # l0 forward, l0 reverse, l1, ...
                state = (h0[index], c0[index]) if lstm else h0[index]
                out, state = self._run_direction(x, state, self._layer_weights(k, suffix),
                                                 reverse=d == 1)
                outs.append(out)
                h_n.append(state[0] if lstm else state)
                if lstm:
                    c_n.append(state[1])
            x = outs[0] if len(outs) == 1 else Tensor.cat(outs, 2)   # (L, N, D*H)
        h_n = Tensor.stack(h_n, 0)
        c_n = Tensor.stack(c_n, 0) if lstm else None
        if not batched:
            x, h_n = x.squeeze(1), h_n.squeeze(1)
            c_n = c_n.squeeze(1) if lstm else None
        elif self.batch_first:
            x = x.transpose(0, 1)
        return x, ((h_n, c_n) if lstm else h_n)


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), layer after layer.

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)``; ``nonlinearity='relu'`` uses
    relu instead of tanh. Call ``rnn(input, h_0=None)`` -> ``(output, h_n)``:
    output (L, N, D * hidden_size) (batch first if ``batch_first``), the last layer's h_t for
    every t; h_n (D * num_layers, N, hidden_size), every layer's last h. h_0 defaults to
    zeros. ``dropout`` applies to every layer's output but the last's, in training mode.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        """input (L, N, input_size) [or (N, L, ...) / (L, input_size)] -> (output, h_n)."""
        return self._run(input, hx)


class LSTM(RNNBase):
    """Long short-term memory: a cell state c carried by gates, so gradients survive long spans.

    ``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False)``. Per step, with gates in PyTorch's order i, f, g, o
    (rows of ``weight_ih_l0`` in four blocks of hidden_size)::

        i, f, o = sigmoid(...), g = tanh(...)   of x W_ih^T + b_ih + h W_hh^T + b_hh
        c' = f * c + i * g ;  h' = o * tanh(c')

    Call ``lstm(input, (h_0, c_0)=None)`` -> ``(output, (h_n, c_n))``: output
    (L, N, D * hidden_size), h_n and c_n (D * num_layers, N, hidden_size); zeros when no
    state is given. With ``proj_size`` P > 0, h is projected after every step,
    h = (o * tanh(c)) W_hr^T, so output is (L, N, D * P) and h_n (D * num_layers, N, P).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        """input (L, N, input_size) [or (N, L, ...) / (L, input_size)] -> (output, (h_n, c_n))."""
        return self._run(input, hx)


class GRU(RNNBase):
    """Gated recurrent unit: an update gate z blends the old state with a candidate n.

    ``GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False)``. Per step, gates in PyTorch's order r, z, n::

        r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr)
        z = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)
        n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))
        h' = (1 - z) * n + z * h

    Note that r multiplies b_hn as well (PyTorch's form, not the original paper's). Call
    ``gru(input, h_0=None)`` -> ``(output, h_n)``, shapes as ``RNN``.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        """input (L, N, input_size) [or (N, L, ...) / (L, input_size)] -> (output, h_n)."""
        return self._run(input, hx)


# ----- the cells: one time step --------------------------------------------------------------

class RNNCellBase(_Recurrent):
    """What the cells share: ``weight_ih`` (G * hidden, input), ``weight_hh`` (G * hidden,
    hidden), ``bias_ih`` and ``bias_hh`` (G * hidden,), all U(-1/sqrt(hidden), 1/sqrt(hidden));
    input (N, input_size) or unbatched (input_size,)."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        # num_chunks: how many gate blocks are stacked in each weight (1, 3 or 4); PyTorch's
        # name and signature
        super().__init__()
        layer = type(self).__name__
        if device is not None:
            _check_device(device, layer)
        dtype = np.float32 if dtype is None else dtype
        self.input_size = _check_size(input_size, "input_size", layer, positive=False)
        self.hidden_size = _check_size(hidden_size, "hidden_size", layer)
        self.bias = bool(bias)
        gate_size = num_chunks * self.hidden_size
        self.weight_ih = Parameter(Tensor.zeros(gate_size, self.input_size, dtype=dtype))
        self.weight_hh = Parameter(Tensor.zeros(gate_size, self.hidden_size, dtype=dtype))
        if self.bias:
            self.bias_ih = Parameter(Tensor.zeros(gate_size, dtype=dtype))
            self.bias_hh = Parameter(Tensor.zeros(gate_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()


    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity}"      # unquoted, as PyTorch
        return text

    def _check_input(self, input):
        """The input as (N, input_size), and whether it came without a batch axis."""
        input = _as_float_tensor(input, self._describe(), "input")
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(f"{self._describe()} expected input of shape (N, "
                             f"{self.input_size}) or ({self.input_size},), got {input.shape}")
        return (input, True) if input.ndim == 2 else (input.unsqueeze(0), False)

    def _check_state(self, state, what, x, batched):
        batch = x.shape[0]
        if state is None:
            return Tensor.zeros(batch, self.hidden_size, dtype=x.dtype)
        state = _as_float_tensor(state, self._describe(), what)
        expected = (batch, self.hidden_size) if batched else (self.hidden_size,)
        if state.shape != expected:
            raise ValueError(f"{self._describe()} expected {what} of shape {expected} for "
                             f"input of batch {batch if batched else '(none)'}, got "
                             f"{state.shape}")
        return state if batched else state.unsqueeze(0)

    def _input_share(self, x):
        return x.linear(self.weight_ih, self.bias_ih)    # x W_ih^T + b_ih: (N, G*H)


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh).

    ``RNNCell(input_size, hidden_size, bias=True, nonlinearity='tanh')``; call
    ``cell(input, hx=None)`` with input (N, input_size) or (input_size,) and hx (N,
    hidden_size) or (hidden_size,) (zeros when left out) -> h' of hx's shape.
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input, hx=None):
        """input (N, input_size) -> h' (N, hidden_size); unbatched (input_size,) -> (hidden,)."""
        x, batched = self._check_input(input)
        h = self._check_state(hx, "hx", x, batched)
        h = _rnn_step(self._input_share(x), h, self.weight_hh, self.bias_hh,
                      self.nonlinearity == "relu")
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: gates i, f, g, o (PyTorch's order), c' = f*c + i*g, h' = o*tanh(c').

    ``LSTMCell(input_size, hidden_size, bias=True)``; call ``cell(input, (h, c)=None)`` with
    input (N, input_size) or (input_size,) -> ``(h', c')``, each (N, hidden_size) or
    (hidden_size,). Weights are (4 * hidden_size, ...), one block of rows per gate.
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        """input (N, input_size), hx (h, c) or None -> (h', c'), each (N, hidden_size)."""
        x, batched = self._check_input(input)
        if hx is None:
            hx = (None, None)
        elif not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"{self._describe()} expected hx as a tuple (h, c), got "
                            f"{type(hx).__name__}")
        h = self._check_state(hx[0], "h", x, batched)
        c = self._check_state(hx[1], "c", x, batched)
        h, c = _lstm_step(self._input_share(x), h, c, self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: gates r, z, n (PyTorch's order), h' = (1 - z) * n + z * h.

    ``GRUCell(input_size, hidden_size, bias=True)``; call ``cell(input, hx=None)`` ->
    h' of shape (N, hidden_size) or (hidden_size,). n = tanh(x W_in^T + b_in +
    r * (h W_hn^T + b_hn)): r multiplies b_hn too, as in PyTorch.
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        """input (N, input_size) -> h' (N, hidden_size); unbatched (input_size,) -> (hidden,)."""
        x, batched = self._check_input(input)
        h = self._check_state(hx, "hx", x, batched)
        h = _gru_step(self._input_share(x), h, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)
