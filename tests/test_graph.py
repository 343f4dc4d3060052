"""Graph drawing: every op, parameter name and module cluster shows; SVG is valid XML."""

import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import nn
import tinygrad_edu as tg
from nn import module as nn_module
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
    ops_in_graph = {type(t.grad_fn).__name__ for t in tg.walk(loss) if t.grad_fn is not None}
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


# ----- names of the outermost modules: one box each, by variable name or numbered class -------

def boxes_of(source):
    """{first line of a node's label: [label of the module box it sits in, per node]}.

    Read from the dot source: '' for a node outside every box.
    """
    where, stack = {}, []
    for line in source.splitlines():
        line = line.strip()
        if line.startswith("subgraph"):
            stack.append("")
        elif line == "}":
            if stack:
                stack.pop()
        elif line.startswith("color=") and stack:        # a box's own attributes
            stack[-1] = re.search(r'label="([^"]*)"', line).group(1)
        elif node := re.match(r'\S+ \[label="([^"\\]*)', line):
            where.setdefault(node.group(1), []).append(stack[-1] if stack else "")
    return where


def batch():
    return Tensor(np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32))


class MyLoss(nn.Module):
    def forward(self, prediction, target):
        return ((prediction - target) ** 2).mean()


global_model = nn.Sequential(nn.Linear(4, 2))


def test_encoder_and_decoder_get_separate_boxes_and_parameter_labels():
    encoder = nn.Sequential(nn.Linear(4, 2), nn.ReLU())
    decoder = nn.Sequential(nn.Linear(2, 4))
    x = batch()
    source = tg.draw_graph(((decoder(encoder(x)) - x) ** 2).mean()).source
    where = boxes_of(source)
    assert "subgraph cluster_encoder {" in source and "subgraph cluster_decoder {" in source
    assert "cluster_model" not in source
    assert where["encoder.0.weight"] == ["encoder.0 (Linear)"]
    assert where["decoder.0.weight"] == ["decoder.0 (Linear)"]
    assert where["encoder.0.bias"] == ["encoder.0 (Linear)"]
    assert sorted(where["Linear"]) == ["decoder.0 (Linear)", "encoder.0 (Linear)"]
    assert where["Relu"] == ["encoder.1 (ReLU)"]
    assert 'label="encoder (Sequential)"' in source and 'label="decoder (Sequential)"' in source
    assert 'label="0.weight' not in source
    # names in drawings only: the modules' own parameter names and keys stay as in PyTorch
    assert [name for name, _ in encoder.named_parameters()] == ["0.weight", "0.bias"]
    assert list(decoder.state_dict()) == ["0.weight", "0.bias"]
    assert encoder[0].weight.name == "0.weight"


def test_user_written_loss_module_is_boxed_as_the_loss_beside_the_model():
    model = nn.Sequential(nn.Linear(4, 4))
    loss_fn = MyLoss()
    x = batch()
    source = tg.draw_graph(loss_fn(model(x), x)).source
    where = boxes_of(source)
    assert "subgraph cluster_loss_fn {" in source and "subgraph cluster_model {" in source
    assert where["Sub"] == ["loss_fn (MyLoss)"] and where["Pow"] == ["loss_fn (MyLoss)"]
    assert where["Linear"] == ["model.0 (Linear)"]
    assert 'label="model (Sequential)"' in source and "model (MyLoss)" not in source
    # the loss has no parameters, so the model's keep their short labels
    assert where["0.weight"] == ["model.0 (Linear)"]


def test_parameters_of_a_model_and_a_weighted_loss_get_their_module_names():
    class WeightedLoss(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(Tensor(np.ones(4, dtype=np.float32)))

        def forward(self, prediction, target):
            return (self.weight * (prediction - target) ** 2).mean()

    model = nn.Linear(4, 4)
    criterion = WeightedLoss()
    x = batch()
    where = boxes_of(tg.draw_graph(criterion(model(x), x)).source)
    assert where["criterion.weight"] == ["criterion (WeightedLoss)"]
    assert where["model.weight"] == ["model (Linear)"]
    assert "weight" not in where


def test_modules_without_a_variable_are_named_by_class_with_a_number():
    layers = [nn.Linear(4, 4), nn.Linear(4, 2)]
    source = tg.draw_graph(layers[1](layers[0](batch())).sum()).source
    where = boxes_of(source)
    assert "subgraph cluster_Linear {" in source and "subgraph cluster_Linear_2 {" in source
    # numbered in the order the modules were made, not the order of the graph walk
    assert where["Linear.weight"] == ["Linear (Linear)"]
    assert where["Linear_2.weight"] == ["Linear_2 (Linear)"]
    assert tg.draw_graph(layers[1](layers[0](batch())).sum()).source.count("cluster_") == 2


def test_inline_builtin_loss_is_still_called_loss():
    model = nn.Sequential(nn.Linear(4, 2))
    out = nn.MSELoss()(model(batch()), Tensor(np.zeros((3, 2), dtype=np.float32)))
    where = boxes_of(tg.draw_graph(out).source)
    assert where["Sub"] == ["loss (MSELoss)"]
    assert where["0.weight"] == ["model.0 (Linear)"]


def test_same_variable_name_in_two_places_gets_a_number():
    def block(x):
        model = nn.Sequential(nn.Linear(4, 4))
        return model(x)

    where = boxes_of(tg.draw_graph(block(block(batch())).sum()).source)
    assert where["model.0.weight"] == ["model.0 (Linear)"]
    assert where["model_2.0.weight"] == ["model_2.0 (Linear)"]


def test_module_bound_to_a_global_is_named_by_it():
    source = tg.draw_graph(global_model(batch()).sum()).source
    assert 'label="global_model (Sequential)"' in source
    assert boxes_of(source)["0.weight"] == ["global_model.0 (Linear)"]


def test_variable_name_is_looked_up_once_per_top_level_module(monkeypatch):
    looked_up = []
    real = nn_module._variable_name

    def counting(module, frame):
        looked_up.append(module)
        return real(module, frame)

    monkeypatch.setattr(nn_module, "_variable_name", counting)
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    loss_fn = nn.MSELoss()
    for _ in range(3):
        loss_fn(model(batch()), Tensor(np.zeros((3, 2), dtype=np.float32)))
    assert looked_up == [model, loss_fn]      # once each; never for the layers inside


def test_single_model_drawing_keeps_short_parameter_labels():
    _, loss = mlp_loss()
    where = boxes_of(tg.draw_graph(loss).source)
    assert where["0.weight"] == ["model.0 (Linear)"] and where["2.bias"] == ["model.2 (Linear)"]
    assert where["CrossEntropy"] == ["loss (CrossEntropyLoss)"]
