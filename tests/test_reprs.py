"""Printed modules and their plain attributes read as PyTorch's (reviewed against torch 2.13).

``REPRS`` pairs a constructor call (class name, positional and keyword arguments) with the
string ``repr`` must give, written out by hand from PyTorch's printing rules:

- numbers are printed as the user gave them (``Softplus(beta=2)`` shows ``beta=2``, not 2.0);
- loss modules print no arguments at all, whatever the reduction (``L1Loss()``);
- ``Hardswish`` / ``Hardsigmoid`` never show ``inplace``; ``Dropout`` always does;
- ``RNN`` never shows ``nonlinearity``, cells show it unquoted; ``proj_size`` comes first;
- ``MultiheadAttention`` shows only its ``out_proj`` child, a NonDynamicallyQuantizableLinear.

``test_pytorch_prints_the_same`` builds the same modules with PyTorch, when it is importable
(it is not a dependency: in CI it skips), as a second opinion on the strings.
"""

import numpy as np
import pytest

import nn
from tinygrad_edu import Tensor

REPRS = [
    # activations: the user's numbers as given
    ("Softplus", (), dict(beta=2, threshold=5), "Softplus(beta=2, threshold=5)"),
    ("Softplus", (), {}, "Softplus(beta=1.0, threshold=20.0)"),
    ("Hardtanh", (-2, 2), {}, "Hardtanh(min_val=-2, max_val=2)"),
    ("Hardtanh", (-2.5, 2.5, True), {}, "Hardtanh(min_val=-2.5, max_val=2.5, inplace=True)"),
    ("Hardswish", (), dict(inplace=True), "Hardswish()"),
    ("Hardsigmoid", (), dict(inplace=True), "Hardsigmoid()"),
    ("ReLU", (), dict(inplace=True), "ReLU(inplace=True)"),
    # dropout: p as given, inplace always shown
    ("Dropout", (), {}, "Dropout(p=0.5, inplace=False)"),
    ("Dropout", (1,), {}, "Dropout(p=1, inplace=False)"),
    ("Dropout", (0.2, True), {}, "Dropout(p=0.2, inplace=True)"),
    ("Dropout1d", (0,), {}, "Dropout1d(p=0, inplace=False)"),
    ("Dropout2d", (), dict(p=0.3, inplace=True), "Dropout2d(p=0.3, inplace=True)"),
    # losses: never any argument
    ("L1Loss", (), dict(reduction="sum"), "L1Loss()"),
    ("MSELoss", (), dict(reduction="none"), "MSELoss()"),
    ("SmoothL1Loss", (), dict(reduction="sum", beta=0.5), "SmoothL1Loss()"),
    ("HuberLoss", (), dict(reduction="none", delta=2.0), "HuberLoss()"),
    ("KLDivLoss", (), dict(reduction="batchmean", log_target=True), "KLDivLoss()"),
    ("BCELoss", (), dict(reduction="sum"), "BCELoss()"),
    ("BCEWithLogitsLoss", (), dict(reduction="none"), "BCEWithLogitsLoss()"),
    ("CrossEntropyLoss", (), dict(reduction="sum", label_smoothing=0.1), "CrossEntropyLoss()"),
    ("NLLLoss", (), dict(reduction="none", ignore_index=0), "NLLLoss()"),
    # Unflatten keeps a list a list
    ("Unflatten", (1, [3, 2]), {}, "Unflatten(dim=1, unflattened_size=[3, 2])"),
    ("Unflatten", (1, (3, 2)), {}, "Unflatten(dim=1, unflattened_size=(3, 2))"),
    # recurrent layers
    ("RNN", (3, 4), dict(nonlinearity="relu"), "RNN(3, 4)"),
    ("RNN", (3, 4, 2), dict(bias=False, batch_first=True, dropout=0.5, bidirectional=True),
     "RNN(3, 4, num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True)"),
    ("LSTM", (3, 4), dict(num_layers=2, proj_size=2), "LSTM(3, 4, proj_size=2, num_layers=2)"),
    ("RNNCell", (3, 4), dict(nonlinearity="relu"), "RNNCell(3, 4, nonlinearity=relu)"),
    ("RNNCell", (3, 4, False), dict(nonlinearity="relu"),
     "RNNCell(3, 4, bias=False, nonlinearity=relu)"),
    ("GRUCell", (3, 4), {}, "GRUCell(3, 4)"),
    # resizing: scale factors as floats
    ("Upsample", (), dict(scale_factor=(2, 3)),
     "Upsample(scale_factor=(2.0, 3.0), mode='nearest')"),
    ("Upsample", (), dict(scale_factor=2), "Upsample(scale_factor=2.0, mode='nearest')"),
    ("Upsample", ((4, 5),), dict(mode="bilinear"), "Upsample(size=(4, 5), mode='bilinear')"),
    # convolutions: output_padding shown when set
    ("ConvTranspose1d", (2, 4, 3), dict(stride=2, output_padding=1),
     "ConvTranspose1d(2, 4, kernel_size=(3,), stride=(2,), output_padding=(1,))"),
    ("Conv2d", (2, 4, 3), dict(padding=1, padding_mode="reflect"),
     "Conv2d(2, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), padding_mode=reflect)"),
    # attention: only the out_proj child
    ("MultiheadAttention", (8, 2), {},
     "MultiheadAttention(\n"
     "  (out_proj): NonDynamicallyQuantizableLinear(in_features=8, out_features=8, bias=True)\n"
     ")"),
    ("MultiheadAttention", (8, 2), dict(dropout=0.1, bias=False, batch_first=True),
     "MultiheadAttention(\n"
     "  (out_proj): NonDynamicallyQuantizableLinear(in_features=8, out_features=8, bias=False)\n"
     ")"),
]


def _label(case):
    name, args, kwargs, _ = case
    return f"{name}{args}{kwargs}"


@pytest.mark.parametrize("case", REPRS, ids=[_label(c) for c in REPRS])
def test_repr_reads_as_pytorchs(case):
    name, args, kwargs, expected = case
    assert repr(getattr(nn, name)(*args, **kwargs)) == expected


def test_pytorch_prints_the_same():
    torch = pytest.importorskip("torch")
    for name, args, kwargs, expected in REPRS:
        assert repr(getattr(torch.nn, name)(*args, **kwargs)) == expected, name


def test_conv_has_transposed_and_output_padding():
    conv1, conv2 = nn.Conv1d(2, 4, 3), nn.Conv2d(2, 4, 3)
    assert conv1.transposed is False and conv1.output_padding == (0,)
    assert conv2.transposed is False and conv2.output_padding == (0, 0)
    up = nn.ConvTranspose2d(2, 4, 3, stride=2, output_padding=(1, 0))
    assert up.transposed is True and up.output_padding == (1, 0)
    assert nn.ConvTranspose1d(2, 4, 3).output_padding == (0,)


def test_upsample_stores_floats_and_its_name():
    up = nn.Upsample(scale_factor=(2, 3))
    assert up.name == "Upsample"
    assert up.scale_factor == (2.0, 3.0) and all(type(f) is float for f in up.scale_factor)
    x = Tensor(np.arange(4, dtype=np.float32).reshape(1, 1, 2, 2))
    # nearest, factors 2 and 3: each pixel becomes a 2 x 3 block
    expected = np.kron(x.numpy()[0, 0], np.ones((2, 3), np.float32))
    np.testing.assert_array_equal(up(x).numpy()[0, 0], expected)


def test_arguments_kept_as_given_still_compute():
    assert nn.Dropout(1).p == 1 and type(nn.Dropout(1).p) is int
    drop = nn.Dropout(1)
    np.testing.assert_array_equal(drop(Tensor(np.ones((2, 3), np.float32))).numpy(), 0.0)
    unflat = nn.Unflatten(1, [3, 2])
    assert unflat.unflattened_size == [3, 2]
    assert unflat(Tensor(np.zeros((4, 6), np.float32))).shape == (4, 3, 2)
    assert nn.L1Loss(reduction="sum").reduction == "sum"      # not printed, still there
    assert nn.RNN(3, 4, nonlinearity="relu").nonlinearity == "relu"


def test_attention_out_proj_is_a_linear_with_pytorchs_parameter_names():
    mha = nn.MultiheadAttention(8, 2)
    assert type(mha.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert isinstance(mha.out_proj, nn.Linear)
    assert [name for name, _ in mha.named_parameters()] == [
        "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
