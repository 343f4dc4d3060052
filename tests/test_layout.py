"""The code's layout: imports run one way, nn uses public names, the extension points work.

The layers, bottom up (README, "How the code is laid out"): ops -> versions -> autograd (the
engine) -> the modules the Tensor uses -> tensor -> the tools built on tensors -> nn. These
tests read the source, so a new import that runs the wrong way fails here, not in review.
"""

import ast
import pathlib
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, autograd

ROOT = pathlib.Path(__file__).resolve().parent.parent
ENGINE = ROOT / "tinygrad_edu"
NN = ROOT / "nn"

# what each engine module may import from the project: only modules below it
ALLOWED = {
    "ops": set(),
    "checks": set(),
    "dtypes": set(),
    "devices": set(),
    "callsite": set(),
    "versions": {"callsite"},
    "autograd": {"callsite", "ops", "versions"},
    "memory": {"autograd"},
    "anomaly": {"autograd", "callsite", "ops"},
    "composites": {"checks"},
    "factories": {"autograd", "generator"},
    "interop": {"autograd", "versions"},
    "inplace": {"autograd", "checks", "factories", "ops", "versions"},
    # Tensor's parts, one module per topic (tensor.py lists them), then Tensor itself
    "tensor_elementwise": {"autograd", "composites", "factories", "ops"},
    "tensor_reduce": {"autograd", "checks", "composites", "factories", "ops"},
    "tensor_shape": {"autograd", "checks", "composites", "factories", "inplace", "ops"},
    "tensor_compare": {"autograd", "factories", "ops"},
    "tensor_inplace": {"autograd", "factories", "inplace"},
    "tensor_dtype": {"autograd", "devices", "dtypes", "factories", "ops"},
    "tensor": {"autograd", "composites", "factories", "interop", "ops", "versions",
               "tensor_compare", "tensor_dtype", "tensor_elementwise", "tensor_inplace",
               "tensor_reduce", "tensor_shape"},
    "functions": {"checks", "composites", "devices", "dtypes", "factories", "tensor"},
    "graph": {"autograd"},
    "gradcheck": {"autograd", "tensor"},
    "compare": {"autograd", "tensor"},
    "check_backprop": {"autograd", "callsite", "compare", "ops", "tensor"},
    "serialization": {"devices", "tensor"},
    "generator": set(),
    "utils": {"factories", "tensor"},   # the package tinygrad_edu/utils/
    "optim": {"nn"},
    "nn": set(),
}

# check_backprop is a package, one module per step: what each may import from its siblings
# (its imports from the engine, together, are those of ALLOWED["check_backprop"])
CHECK_BACKPROP = {
    "source": set(),
    "follow": {"source"},
    "truth": set(),
    "match": set(),
    "slips": {"match", "truth"},
    "search": {"match", "slips", "source"},
    "report": {"source"},
    "words": {"match", "report", "slips", "source"},
    "__init__": {"follow", "match", "report", "search", "slips", "truth", "words"},
}


def _project_imports(path):
    """(module names imported from tinygrad_edu, whether any import is inside a function)."""
    tree = ast.parse(path.read_text())
    names, nested = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names.update([node.module] if node.module else [a.name for a in node.names])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tinygrad_edu."):
            names.add(node.module.split(".")[1])
    for func in ast.walk(tree):
        if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            nested += [n for n in ast.walk(func) if isinstance(n, (ast.Import, ast.ImportFrom))]
    return {n.split(".")[0] for n in names}, nested


def _package_imports(path):
    """For a module of a package of the engine: (engine modules imported, sibling modules
    imported, imports inside a function)."""
    tree = ast.parse(path.read_text())
    engine, siblings = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 2:
            engine.update([node.module] if node.module else [a.name for a in node.names])
        elif isinstance(node, ast.ImportFrom) and node.level == 1:
            siblings.update([node.module] if node.module else [a.name for a in node.names])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tinygrad_edu."):
            engine.add(node.module.split(".")[1])
    _, nested = _project_imports(path)
    return {n.split(".")[0] for n in engine}, {n.split(".")[0] for n in siblings}, nested


@pytest.mark.parametrize("module", sorted(p.stem for p in ENGINE.glob("*.py")
                                          if p.stem != "__init__"))
def test_engine_modules_import_only_modules_below_them(module):
    assert module in ALLOWED, f"{module}.py is new: add it to the layer table above"
    imported, nested = _project_imports(ENGINE / f"{module}.py")
    assert imported <= ALLOWED[module], f"{module} imports {sorted(imported - ALLOWED[module])}"
    assert not nested, f"{module} imports inside a function (line {nested[0].lineno})"


@pytest.mark.parametrize("module", sorted(
    p.stem for p in (ENGINE / "check_backprop").glob("*.py")))
def test_check_backprop_modules_import_one_way(module):
    name = f"check_backprop/{module}"
    assert module in CHECK_BACKPROP, f"{name}.py is new: add it to CHECK_BACKPROP"
    engine, siblings, nested = _package_imports(ENGINE / f"{name}.py")
    allowed, below = ALLOWED["check_backprop"], CHECK_BACKPROP[module]
    assert engine <= allowed, f"{name} imports {sorted(engine - allowed)}"
    assert siblings <= below, f"{name} imports {sorted(siblings - below)}"
    assert not nested, f"{name} imports inside a function (line {nested[0].lineno})"


def test_the_check_backprop_table_has_no_cycle():
    # peel off the modules whose siblings are all peeled: a cycle is what cannot be peeled
    left = dict(CHECK_BACKPROP)
    while left:
        ready = [name for name, below in left.items() if not below & left.keys()]
        assert ready, f"import cycle among {sorted(left)}"
        for name in ready:
            del left[name]


def test_the_layer_table_has_no_cycle():
    done, visiting = set(), set()

    def visit(name):
        assert name not in visiting, f"import cycle through {name}"
        if name in done:
            return
        visiting.add(name)
        for below in ALLOWED[name]:
            visit(below)
        visiting.discard(name)
        done.add(name)

    for name in ALLOWED:
        visit(name)


def test_nn_uses_only_public_names_of_the_engine():
    for path in sorted(NN.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tinygrad_edu"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} imports {private} from {node.module}"
            if isinstance(node, ast.Attribute) and node.attr in (
                    "_data", "_op", "_seq", "_wrap", "_requires_grad", "_apply", "_state"):
                raise AssertionError(f"{path.relative_to(ROOT)}:{node.lineno} uses .{node.attr}")


def test_no_op_is_recognised_by_its_class_name_as_a_string():
    # isinstance(op, ops.Relu), not type(op).__name__ == "Relu" or a lookup by name string
    pattern = re.compile(r"""((\)|__class__)\.__name__\s*(==|!=|in)\s*[("'{])|(==\s*["'](Relu|Sigmoid|Tanh|Exp|Log"""
                         r"""|Sqrt|Div|Pow|MatMul|Linear|LogSoftmax|CrossEntropy)["'])""")
    for path in sorted(list(ENGINE.rglob("*.py")) + list(NN.rglob("*.py"))):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            assert not pattern.search(line), f"{path.relative_to(ROOT)}:{number}: {line.strip()}"


def test_a_learners_own_nn_py_does_not_replace_the_package(tmp_path):
    (tmp_path / "nn.py").write_text("raise RuntimeError('the learner\\'s nn.py was imported')\n")
    script = textwrap.dedent("""
        import tinygrad_edu as torch
        import tinygrad_edu.nn as nn
        import tinygrad_edu.nn.functional as F
        import tinygrad_edu.optim as optim
        model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
        opt = optim.SGD(model.parameters(), lr=0.1)
        loss = F.mse_loss(model(torch.randn(4, 2)), torch.zeros(4, 3))
        loss.backward(); opt.step()
        assert torch.nn is nn and torch.optim is optim and isinstance(model, torch.nn.Module)
        try:
            import nn as mine
        except RuntimeError as error:
            print("own nn kept:", error)
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "own nn kept" in result.stdout


def test_both_names_give_the_same_modules():
    import nn
    import tinygrad_edu.nn as tnn
    import tinygrad_edu.nn.functional as F
    import tinygrad_edu.optim as optim
    assert tnn is nn and F is nn.functional and optim is nn.optim and tg.optim is nn.optim


def test_anomaly_checks_are_plugged_in_only_while_the_mode_is_on():
    assert not autograd.on_record and not autograd.on_backward_step
    with tg.detect_anomaly():
        assert autograd.on_record and autograd.on_backward_step
        (Tensor([1.0], requires_grad=True) * 2).sum().backward()
    assert not autograd.on_record and not autograd.on_backward_step


def test_an_extension_point_sees_every_op_and_can_be_removed():
    seen = []

    def record(op, inputs, out):
        seen.append((type(op).__name__, out.shape))

    autograd.on_record.append(record)
    try:
        x = Tensor(np.ones((2, 3)), requires_grad=True)
        (x * 2).sum()
    finally:
        autograd.on_record.remove(record)
    assert seen == [("Mul", (2, 3)), ("Sum", ())]


def test_walk_lists_every_tensor_once_starting_at_the_root():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    loss = (h + h).sum()
    tensors = tg.walk(loss)
    assert tensors[0] is loss and len(tensors) == len({id(t) for t in tensors})
    assert {type(t.grad_fn).__name__ for t in tensors if t.grad_fn} == {"Sum", "Add", "Mul"}
    assert sum(t is x for t in tensors) == 1
