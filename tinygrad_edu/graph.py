"""Draw the computation graph behind a tensor, with Graphviz.

``draw_graph(root)`` returns a ``graphviz.Digraph`` (Jupyter shows it inline);
``render_svg(root, path)`` writes it as SVG through Graphviz's ``dot`` program.

What the picture shows:

- a box per leaf tensor: parameters (blue) and constants or data (grey), labelled with the
  tensor's name (or its value, for a single number), shape and dtype;
- an ellipse per op, labelled with the op, the shape and dtype of its result;
- the norm of the gradient of ``root`` at each node, when it is known: computed on the spot
  while the graph still holds its saved buffers (before ``backward()``, or after
  ``backward(retain_graph=True)``), otherwise taken from the leaves' ``.grad``;
- in red, nodes whose gradient holds NaN or inf; in orange, nodes whose gradient is zero
  everywhere (nothing flows back through them: a dead ReLU layer, a saturated unit);
- the ops run inside each ``nn.Module``'s ``forward``, grouped in a labelled box per module
  (``model.0 (Linear)``), so an MLP reads like its architecture (``clusters=False`` turns
  that off).

Names of the outermost modules. Each module called at the top level (a model, a loss, an
encoder and a decoder used one after the other) gets its own box, named by the variable the
user's code bound it to when it was first called (``encoder (Sequential)``,
``loss_fn (MyLoss)``), else by its class name (the built-in losses: ``loss``); a name used
twice in one picture gets ``_2``, ``_3``, ... in the order the modules were created
(``Linear``, ``Linear_2``). Parameters are labelled by their path (``0.weight``); when the
picture holds parameters of more than one outermost module, the module's name goes in front
(``encoder.0.weight``, ``decoder.0.weight``), so no two share a label.
"""

import shutil

import graphviz
import numpy as np

from . import autograd

PARAMETER_COLOR = "#cfe2f3"
CONSTANT_COLOR = "#eeeeee"
OP_COLOR = "#ffffff"
NONFINITE_COLOR = "#f4a6a6"
ZERO_GRAD_COLOR = "#fcd29f"


def _describe(array):
    return f"{tuple(array.shape)} {array.dtype}"


def _grad_note(grad):
    """(text for the label, highlight colour or None) for a gradient array (or None)."""
    if grad is None:
        return "", None
    if not np.all(np.isfinite(grad)):
        bad = int(np.sum(~np.isfinite(grad)))
        return f"\\ngrad: {bad} NaN/inf", NONFINITE_COLOR
    norm = float(np.sqrt(np.sum(np.square(grad, dtype=np.float64))))
    if norm == 0.0:
        return "\\n‖grad‖ = 0", ZERO_GRAD_COLOR
    return f"\\n‖grad‖ = {norm:.3g}", None


def _gradients(root, tensors):
    """d root / d tensor for every tensor, as {id: array}; None where it cannot be known."""
    if root.requires_grad and root._data.size == 1 and not _released(tensors):
        return autograd.gradients(root, tensors)
    return {id(t): t.grad._data for t in tensors if t.grad is not None}


def _released(tensors):
    return any(t._op is not None and t._op.released for t in tensors)


def draw_graph(root, clusters=True, show_grads=True):
    """The graph that computed ``root``, as a ``graphviz.Digraph``.

    ``clusters`` groups the ops of each ``nn.Module`` call into a labelled box;
    ``show_grads`` labels nodes with the norm of d root / d node where it is known and
    highlights NaN/inf (red) and all-zero (orange) gradients. Nothing is computed into
    ``.grad``: the picture never changes the state of your tensors.
    """
    tensors = autograd.walk(root)
    grads = _gradients(root, tensors) if show_grads else {}
    graph = graphviz.Digraph("tinygrad_edu", graph_attr={"rankdir": "BT", "fontname": "Helvetica"},
                             node_attr={"fontname": "Helvetica", "fontsize": "10",
                                        "style": "filled"})
    boxes = _Boxes(tensors)
    titles = _parameter_titles(tensors, boxes.names)
    scopes = {}   # box path ((name, class) of each module, outermost first) -> its nodes
    used_colors = set()
    consumer_scopes = _consumer_scopes(tensors, boxes)
    for tensor in tensors:
        node = str(id(tensor))
        note, highlight = _grad_note(grads.get(id(tensor)))
        used_colors.add(highlight)
        if _is_number(tensor):
            continue   # drawn beside each op that uses it (below): one shared node for a
            # constant such as 2.0 would pull every op that uses it into one knot
        if tensor._op is None:
            kind = "parameter" if tensor.requires_grad else "constant"
            title = titles.get(id(tensor)) or tensor.name or _leaf_title(tensor)
            label = f"{title}\\n{_describe(tensor._data)}{note}"
            color = highlight or (PARAMETER_COLOR if kind == "parameter" else CONSTANT_COLOR)
            attrs = {"shape": "box", "fillcolor": color}
            # a leaf sits in the module box of the ops that use it, if they all share one
            used_in = consumer_scopes.get(id(tensor), ())
            scope = next(iter(used_in)) if len(used_in) == 1 else ()
        else:
            op = tensor._op
            name = f" {tensor.name}" if tensor.name else ""
            label = f"{type(op).__name__}{name}\\n{_describe(tensor._data)}{note}"
            attrs = {"shape": "ellipse", "fillcolor": highlight or OP_COLOR}
            scope = boxes.of(op)
            for parent in op.inputs:
                source = str(id(parent))
                if _is_number(parent):
                    source = f"{source}.{node}"
                    scopes.setdefault(scope if clusters else (), []).append(
                        (source, _leaf_title(parent), {"shape": "box", "fillcolor": CONSTANT_COLOR}))
                graph.edge(source, node)
        scopes.setdefault(scope if clusters else (), []).append((node, label, attrs))
    _emit_scopes(graph, scopes)
    if show_grads and used_colors - {None}:
        _legend(graph, used_colors)
    return graph


def _is_number(tensor):
    """A constant single number, such as the 2.0 of ``x * 2.0``."""
    return tensor._op is None and not tensor.requires_grad and tensor._data.size == 1


def _leaf_title(tensor):
    """An unnamed leaf: its value if it is a single number, else what kind of leaf it is."""
    if not tensor.requires_grad and tensor._data.size == 1:
        return f"constant {tensor._data.item():.4g}"
    return "leaf" if tensor.requires_grad else "data"


def _top_level_names(tensors):
    """{top-level name record: its name in this picture} for every record in the ops' scopes.

    A record (``nn.module._TopLevelName``, shared by an outermost module and every module
    below it) holds the user's variable name or else a fallback; repeats get ``_2``, ``_3``,
    ... in the order the modules were created.
    """
    records = {}   # a dict as an ordered set: ties in creation order keep the order found
    for tensor in tensors:
        if tensor._op is not None:
            for entry in getattr(tensor._op, "scope", ()):
                records[entry.top] = None
    names, taken = {}, set()
    for record in sorted(records, key=lambda record: record.number):
        base = record.variable or record.fallback
        name, count = base, 1
        while name in taken:
            count += 1
            name = f"{base}_{count}"
        taken.add(name)
        names[record] = name
    return names


class _Boxes:
    """The module boxes of one picture: ``of(op)`` is the box path an op is drawn in.

    An op's scope holds one entry per module call, a (message path, class) pair that also
    carries ``.top`` (the outermost module's name record) and ``.path`` (the path below it);
    the box path is ((name, class), ...) from the outermost module inwards, e.g.
    (("encoder", "Sequential"), ("encoder.0", "Linear")).
    """

    def __init__(self, tensors):
        self.names = _top_level_names(tensors)
        # id(scope) -> box path: the ops of one module call share one scope tuple. By id: the
        # entries of two modules compare equal when only their name records differ
        self._paths = {}

    def of(self, op):
        scope = getattr(op, "scope", ())
        path = self._paths.get(id(scope))
        if path is None:
            path = tuple((self._name(entry), entry[1]) for entry in scope)
            self._paths[id(scope)] = path
        return path

    def _name(self, entry):
        top = self.names[entry.top]
        return f"{top}.{entry.path}" if entry.path else top


def _parameter_titles(tensors, names):
    """{id(leaf): label with its outermost module's name in front}, for named leaves, when
    leaves of more than one outermost module are drawn; {} otherwise (a single model's
    parameters keep their short names, ``0.weight``).

    A leaf belongs to the outermost module of the ops that use it if they all ran in one
    module tree, each in a module whose path its name lies under (``0.weight`` under ``0``).
    """
    owners = {}   # id(leaf) -> set of name records (None: used outside a module of its own)
    leaves = {}
    for tensor in tensors:
        op = tensor._op
        if op is None:
            continue
        scope = getattr(op, "scope", ())
        for parent in op.inputs:
            if parent._op is not None or not parent.name:
                continue
            owner = None
            if scope:
                where = scope[-1].path
                if not where or parent.name.startswith(where + "."):
                    owner = scope[-1].top
            owners.setdefault(id(parent), set()).add(owner)
            leaves[id(parent)] = parent
    owned = {key: next(iter(records)) for key, records in owners.items()
             if len(records) == 1 and None not in records}
    if len(set(owned.values())) < 2:
        return {}
    return {key: f"{names[record]}.{leaves[key].name}" for key, record in owned.items()}


def _consumer_scopes(tensors, boxes):
    """{id(tensor): set of box paths of the ops that take it as an input}."""
    consumers = {}
    for tensor in tensors:
        if tensor._op is not None:
            for parent in tensor._op.inputs:
                consumers.setdefault(id(parent), set()).add(boxes.of(tensor._op))
    return consumers


def _emit_scopes(graph, scopes):
    """Draw nodes inside nested clusters: box path (outer, ..., inner) of (name, class) pairs."""
    tree = {}
    for scope, nodes in scopes.items():
        branch = tree
        for level in scope:
            branch = branch.setdefault(level, {})
        branch.setdefault(None, []).extend(nodes)

    def emit(target, branch):
        for node, label, attrs in branch.get(None, []):
            target.node(node, label, **attrs)
        for key, sub in branch.items():
            if key is None:
                continue
            path, kind = key
            with target.subgraph(name=f"cluster_{path}") as cluster:
                cluster.attr(label=f"{path} ({kind})", style="rounded,dashed", color="#7f7f7f",
                             fontname="Helvetica", fontsize="11")
                emit(cluster, sub)

    emit(graph, tree)


def _legend(graph, used_colors):
    with graph.subgraph(name="cluster_legend") as legend:
        legend.attr(label="legend", style="rounded", color="#bbbbbb", fontname="Helvetica")
        if NONFINITE_COLOR in used_colors:
            legend.node("legend_nan", "gradient has NaN/inf", shape="box", fillcolor=NONFINITE_COLOR)
        if ZERO_GRAD_COLOR in used_colors:
            legend.node("legend_zero", "gradient is zero everywhere\\n(nothing flows back)",
                        shape="box", fillcolor=ZERO_GRAD_COLOR)


def render_svg(root, path, **options):
    """Write the graph of ``root`` to ``path`` as SVG (needs Graphviz's ``dot``); returns path.

    ``options`` go to ``draw_graph`` (``clusters=``, ``show_grads=``).
    """
    if shutil.which("dot") is None:
        raise RuntimeError(
            "render_svg: Graphviz's 'dot' program was not found on PATH, so the graph cannot be "
            "rendered. Install Graphviz: 'sudo apt-get install graphviz' (Debian/Ubuntu), "
            "'brew install graphviz' (macOS), 'conda install graphviz', or see "
            "graphviz.org/download. draw_graph() works without it.")
    svg = draw_graph(root, **options).pipe(format="svg")
    with open(path, "wb") as handle:
        handle.write(svg)
    return path
