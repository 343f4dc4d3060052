"""Graph drawing: every op, parameter name and module cluster shows; SVG is valid XML."""

import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import nn
import tinygrad_edu as tg
from tinygrad_edu import Tensor

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def mlp_loss(seed=0):
    tg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 4))
    x = Tensor(np.random.default_rng(seed).standard_normal((6, 5)).astype(np.float32))
    labels = Tensor(np.arange(6) % 4)
    return model, nn.CrossEntropyLoss()(model(x), labels)


def test_source_names_every_op_and_parameter():
    model, loss = mlp_loss()
    source = draw_source = tg.draw_graph(loss).source
    for name, _ in model.named_parameters():
        assert name in draw_source
    for op in ("Linear", "Relu", "CrossEntropy"):
        assert f'label="{op}\\n' in source
    # and every op actually in the graph, found by walking it
    ops_in_graph, stack = set(), [loss]
    while stack:
        t = stack.pop()
        if t._op is not None:
            ops_in_graph.add(type(t._op).__name__)
            stack.extend(t._op.inputs)
    assert ops_in_graph and all(f'label="{op}' in source for op in ops_in_graph)


def test_modules_become_labelled_clusters():
    _, loss = mlp_loss()
    source = tg.draw_graph(loss).source
    assert "cluster_model.0" in source and "model.0 (Linear)" in source
    assert "model.2 (Linear)" in source and "model.1 (ReLU)" in source
    assert "model (Sequential)" in source


def test_clusters_can_be_turned_off():
    _, loss = mlp_loss()
    assert "cluster_" not in tg.draw_graph(loss, clusters=False).source


def test_labels_show_shape_dtype_and_gradient_norm():
    w = Tensor(np.ones((2, 3)), requires_grad=True, name="w")
    loss = (w * 3.0).sum()
    source = tg.draw_graph(loss).source
    assert "(2, 3) float64" in source
    # d loss / d w = 3 everywhere: the norm is 3 * sqrt(6)
    assert f"{3 * np.sqrt(6):.3g}" in source
    loss.backward()
    assert w.grad is not None and np.allclose(w.grad.numpy(), 3.0)


def test_drawing_does_not_touch_grad():
    w = Tensor(np.ones(3), requires_grad=True)
    tg.draw_graph((w * w).sum())
    assert w.grad is None


def test_after_backward_leaf_gradients_are_shown():
    w = Tensor(np.full(4, 2.0), requires_grad=True, name="w")
    loss = (w * w).sum()
    loss.backward()
    source = tg.draw_graph(loss).source
    assert f"{np.linalg.norm(np.full(4, 4.0)):.3g}" in source


def test_nan_gradient_is_highlighted_with_legend():
    w = Tensor(np.array([0.0, 1.0]), requires_grad=True, name="w")
    loss = w.sqrt().sum()          # d sqrt(x)/dx at 0 is inf
    with np.errstate(divide="ignore"):
        source = tg.draw_graph(loss).source
    assert tg.graph.NONFINITE_COLOR in source
    assert "NaN/inf" in source and "cluster_legend" in source


def test_dead_relu_layer_is_highlighted():
    x = Tensor(np.abs(np.random.default_rng(0).standard_normal((4, 3))))
    w = Tensor(-np.ones((3, 2)), requires_grad=True, name="w")   # every pre-activation < 0
    loss = (x @ w).relu().sum()
    source = tg.draw_graph(loss).source
    assert tg.graph.ZERO_GRAD_COLOR in source
    assert "zero everywhere" in source


def test_healthy_graph_has_no_highlight():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    source = tg.draw_graph((w * w).sum()).source
    assert tg.graph.NONFINITE_COLOR not in source and tg.graph.ZERO_GRAD_COLOR not in source


@needs_dot
def test_render_svg_writes_parseable_svg(tmp_path):
    _, loss = mlp_loss()
    path = tg.render_svg(loss, str(tmp_path / "graph.svg"))
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    text = open(path).read()
    assert "0.weight" in text and "model.0 (Linear)" in text


@needs_dot
def test_long_chain_renders(tmp_path):
    x = Tensor(np.ones(1), requires_grad=True)
    y = x
    for _ in range(2000):
        y = y * 1.0001
    path = tg.render_svg(y.sum(), str(tmp_path / "chain.svg"), show_grads=False)
    assert ET.parse(path).getroot().tag.endswith("svg")


def test_render_svg_without_dot_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        tg.render_svg(Tensor([1.0], requires_grad=True).sum(), str(tmp_path / "g.svg"))
