"""Find the line of a hand-written backward pass where the gradient goes wrong, and say why.

A learner's question is rarely "is my gradient wrong?" but "*where* is it wrong, and why?".
``check_backprop(forward, backward, params)`` answers it in four steps:

1. **follow.** Both functions run under Python's line tracer (``sys.settrace``), limited to
   the learner's own code (not tinygrad_edu, nn, numpy or the standard library). After each
   line the arrays it produced are recorded (locals, and attributes set on ``self``),
   together with the names the line read: ``delta2 = np.dot(delta3, W2.T) * f(z2)`` read
   ``delta3``, ``W2`` and ``z2``.
2. **truth.** ``forward`` ran on Tensors, so autograd gives the true gradient of the loss
   with respect to *every* intermediate, dL/dz2 as well as dL/dW1; the values show which
   tensors are activations (a = sigmoid(z), tanh(z), relu(z), softmax(z)).
3. **match.** Every array of ``backward`` is set against the truth: a forward value
   (``a2``), a right local derivative (``a2 * (1 - a2)``), or some dL/dt, exactly or times
   a constant the learner undoes later (-1 for deltas as ``y - out``, N for a 1/N applied
   at the end).
4. **search.** From each wrong parameter gradient, back through what each line read, to the
   first line whose result is wrong while everything it was computed from was right. That
   line's value is then compared with the classic slips:

=================================  =========================================================
mistake                            what was written
=================================  =========================================================
``derivative_at_wrong_point``      an activation's derivative at its output where it takes
                                   its input, ``sigmoid'(sigmoid(z))``, or the reverse,
                                   ``z * (1 - z)`` on the pre-activation
``elementwise_softmax_derivative`` ``s * (1 - s)`` where the softmax's Jacobian (with
                                   cross-entropy simply ``p - y``) is needed
``wrong_relu_mask``                a ReLU mask that is 1 everywhere (``out >= 0`` on the
                                   output) or taken from the wrong tensor
``missing_activation_derivative``  a delta passed back through an activation without its
                                   derivative
``negative``                       the sign flips here and is never flipped back: updates
                                   returned as gradients
``scaled``                         off by a factor k: 2 from a square, N from a mean, -1 from
                                   a sign convention, or a product of them (k = -1/2)
``transposed``                     ``delta.T @ x`` where ``x.T @ delta`` was meant
``not_summed``                     one gradient per sample where a parameter needs their sum
=================================  =========================================================

Such a convention kept throughout and undone at the end is recognised, said once in the
report, and looked past; one never undone is reported where it starts (``negative`` for
updates returned as gradients, ``scaled`` for a dropped 2 or 1/N).
"""

import ast
import copy
import dis
import functools
import linecache
import os
import re
import sys
import sysconfig
import textwrap

import numpy as np

from . import autograd
from . import ops
from .autograd import strict_numbers
from .compare import (DEFAULT_RTOL, FACTOR_HINTS, FACTOR_RTOL, FLOAT64_RTOL, build_report,
                      check_loss, check_names, explain_factor, graph_counts, leaf_tensors,
                      per_sample_axis)
from .tensor import Tensor

MISTAKES = ("derivative_at_wrong_point", "elementwise_softmax_derivative", "wrong_relu_mask",
            "missing_activation_derivative", "negative", "scaled", "transposed", "not_summed")

# arrays larger than this are not copied after every line, only followed by identity
SNAPSHOT_MAX_SIZE = 1_000_000
# how many ops back from a gradient the search looks for the tensor a line stands for
NEAR_DEPTH = 8


# =========================================================================================
# 1. Following the learner's code, line by line
# =========================================================================================

def _library_dirs():
    """Directories whose code is not the learner's: this package, nn, numpy, the stdlib."""
    here = os.path.dirname(os.path.abspath(__file__))
    dirs = [here, os.path.join(os.path.dirname(here), "nn"),
            os.path.dirname(os.path.abspath(np.__file__))]
    paths = sysconfig.get_paths()
    dirs += [paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths]
    return tuple(os.path.join(os.path.abspath(d), "") for d in dirs)


_LIBRARY_DIRS = _library_dirs()


@functools.lru_cache(maxsize=None)
def is_user_file(filename):
    """True for the learner's code: a script, a test, a notebook cell (``<ipython-input-..>``,
    ``<stdin>``), but not tinygrad_edu, nn, numpy, installed packages or the stdlib."""
    if filename.startswith("<"):
        return not filename.startswith("<frozen")
    return not os.path.abspath(filename).startswith(_LIBRARY_DIRS)


class Read:
    """A value a line read: its text in the code (``delta3``, ``self.z2``), the object, and
    the event that produced it (None for a value given from outside: data, parameters)."""

    __slots__ = ("text", "obj", "event")

    def __init__(self, text, obj, event):
        self.text, self.obj, self.event = text, obj, event


class Event:
    """One array the learner's code produced: where, under which name, and from what.

    ``match`` (filled in later) says what it stands for: a forward value, or the true
    gradient of some tensor, possibly with the opposite sign.
    """

    def __init__(self, seq, where, variable, obj, value, reads, alias=None):
        self.seq = seq
        self.filename, self.line, self.function, self.code = where
        self.variable = variable
        self.obj = obj          # the learner's object (kept alive, so ids stay unique)
        self.value = value      # a copy taken right after the line ran
        self.reads = reads
        self.alias = alias      # the earlier event of the same object (``db2 = delta3``)
        self.match = None
        self.gradient_like = False

    def __repr__(self):
        return f"<{self.variable} at {os.path.basename(self.filename)}:{self.line}>"


class Container:
    """A dict, tuple or list a function returned: where, and which element came from which
    part of the return statement."""

    def __init__(self, seq, where, obj, labels):
        self.seq = seq
        self.filename, self.line, self.function, self.code = where
        self.obj = obj
        self.labels = labels    # id(element) -> (its text, its line) in the statement


class Recorder:
    """The trace function: hands each new frame of user code a ``_FrameTracer``.

    ``arrays=True`` (backward) records numpy arrays with a copy of their values and the
    names each line read; ``arrays=False`` (forward) records Tensors by identity only, to
    learn the learner's names for them.
    """

    def __init__(self, arrays):
        self.arrays = arrays
        self.events = []
        self.containers = []
        self.returns = []        # events made by return statements, in order
        self.by_id = {}          # id(object) -> the latest event that produced it
        self.array_names = {}    # forward: id(ndarray) -> a name the code gave it
        self.attributes = {}     # id(obj) -> {attr: (value, snapshot)} for followed objects
        self.watched = {}        # id(obj) -> obj
        self.files = set()
        self.sources = {}
        self.global_dicts = {}   # forward: the module namespaces of followed code

    def wanted(self, value):
        if self.arrays:
            return isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "biuf"
        return isinstance(value, Tensor)

    def trace(self, frame, event, arg):
        if event == "call" and is_user_file(frame.f_code.co_filename):
            self.files.add(frame.f_code.co_filename)
            return _FrameTracer(self, frame)
        return None

    def source(self, filename):
        if filename not in self.sources:
            self.sources[filename] = Source(filename)
        return self.sources[filename]

    def snapshot(self, value):
        """The values right now: a copy, or for a very large array the array itself (then a
        change in place goes unseen)."""
        if not self.arrays:
            return None
        if np.size(value) > SNAPSHOT_MAX_SIZE:
            return np.asarray(value)
        return np.array(value, copy=True)

    def record(self, where, variable, obj, reads):
        """Make an event for ``obj``, produced by the line at ``where``."""
        previous = self.by_id.get(id(obj))
        snapshot = self.snapshot(obj)
        alias = None
        if previous is not None and previous.obj is obj and _same(previous.value, snapshot):
            alias = previous   # the same object under another name: ``db2 = delta3``
            reads = reads + [Read(previous.variable, obj, previous)]
        event = Event(len(self.events), where, variable, obj, snapshot, reads, alias)
        self.events.append(event)
        self.by_id[id(obj)] = event
        return event

    def watch(self, obj):
        """Follow the attributes of ``obj`` (a ``self``); those it has now count as given."""
        if id(obj) not in self.watched:
            self.watched[id(obj)] = obj
            self.attributes[id(obj)] = {
                name: (value, self.snapshot(value)) for name, value in _attributes(obj)
                if self.wanted(value)}

    def name_arrays(self, names):
        """Forward: remember the learner's names for plain arrays (data such as X)."""
        for name, value in list(names.items()):
            if isinstance(value, np.ndarray) and id(value) not in self.array_names:
                self.array_names[id(value)] = (name, value)

    def name_global_arrays(self):
        """Forward, at the end: names of module-level arrays the followed code could read."""
        for names in self.global_dicts.values():
            self.name_arrays({k: v for k, v in names.items() if not k.startswith("_")})


def _same(a, b):
    """Are two snapshots equal (NaN equal to NaN)? Forward snapshots (None) always are."""
    if a is None or b is None or a is b:
        return True
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))


def _unchanged(seen, value):
    """Is ``value`` the object last seen under this name, with the values it had then?"""
    if seen is None or seen[0] is not value:
        return False
    snapshot = seen[1]
    if snapshot is None or snapshot is value:   # forward (Tensors), or too big to copy
        return True
    return snapshot.shape == np.shape(value) and bool(
        np.array_equal(snapshot, value, equal_nan=snapshot.dtype.kind == "f"))


def _attributes(obj):
    """The instance attributes of ``obj``, read from its ``__dict__`` (no properties run)."""
    names = getattr(obj, "__dict__", None)
    return list(names.items()) if isinstance(names, dict) else []


class _FrameTracer:
    """Follows one running function: after each statement, records what it changed."""

    def __init__(self, recorder, frame):
        self.recorder = recorder
        self.code = frame.f_code
        self.where = None         # (filename, first line of the statement, function)
        self.statement = None
        self.reads = []
        self.returns_before = 0
        self.seen = {}            # local name -> (object, snapshot)
        self.remember(frame)      # the arguments: given, not produced here

    def __call__(self, frame, event, arg):
        if event == "line":
            statement = self.recorder.source(self.code.co_filename).statement(frame.f_lineno)
            if statement is None or statement is not self.statement:   # a new statement
                self.finish(frame)
                self.start(frame, statement)
        elif event == "return":
            self.finish(frame)
            self.returned(frame, arg)
        return self

    def remember(self, frame):
        local = frame.f_locals
        recorder = self.recorder
        for name, value in local.items():
            if recorder.wanted(value):
                self.seen[name] = (value, recorder.snapshot(value))
        if not recorder.arrays:
            recorder.name_arrays(local)
            recorder.global_dicts.setdefault(id(frame.f_globals), frame.f_globals)
        if "self" in local and _attributes(local["self"]):
            recorder.watch(local["self"])

    def start(self, frame, statement):
        line = frame.f_lineno if statement is None else statement.lineno
        self.statement = statement
        self.where = (self.code.co_filename, line, self.code.co_name, self.code)
        self.returns_before = len(self.recorder.returns)
        if self.recorder.arrays:
            texts = (reads_of(statement) if statement is not None
                     else bytecode_reads(self.code).get(line, ()))
            self.reads = self.values_of(frame, texts)

    def values_of(self, frame, texts):
        """The values the names ``texts`` have now, with the events that produced them."""
        reads = []
        local, globals_ = frame.f_locals, frame.f_globals
        for text in texts:
            base, _, attribute = text.partition(".")
            value = local.get(base, globals_.get(base))
            if attribute:
                value = dict(_attributes(value)).get(attribute)
            for item_text, item in _items(text, value, self.recorder.wanted):
                reads.append(Read(item_text, item, self.recorder.by_id.get(id(item))))
        return reads

    def line_reads(self):
        """What the current statement read: its names, and values returned by the learner's
        functions it called (``sigmoidPrime(z3)``)."""
        called = self.recorder.returns[self.returns_before:]
        return self.reads + [Read(e.variable, e.obj, e) for e in called]

    def finish(self, frame):
        """Record every array the statement just run produced or changed."""
        if self.where is None:
            return
        local = frame.f_locals
        reads = None
        for name, value in list(local.items()):
            for variable, item in _items(name, value, self.recorder.wanted):
                if _unchanged(self.seen.get(variable), item):
                    continue
                reads = self.line_reads() if reads is None else reads
                self.recorder.record(self.where, variable, item, self.reads_for(variable, reads))
                self.seen[variable] = (item, self.snapshot(item))
        if not self.recorder.arrays:
            self.recorder.name_arrays(local)
        if "self" in local and _attributes(local["self"]):
            self.recorder.watch(local["self"])
        for obj_id, obj in list(self.recorder.watched.items()):
            self.finish_attributes(obj, self.recorder.attributes[obj_id])

    def snapshot(self, value):
        return self.recorder.snapshot(value)

    def reads_for(self, variable, reads):
        """For ``grads['W1']`` built by a dict literal, only that entry's names."""
        if "[" not in variable or self.statement is None:
            return reads
        key = variable[variable.index("[") + 1:-1]
        texts = element_reads(self.statement, key)
        if texts is None:
            return reads
        return [r for r in reads if r.text in texts or r.event in self.recorder.returns]

    def finish_attributes(self, obj, known):
        for name, value in _attributes(obj):
            if not self.recorder.wanted(value):
                continue
            if _unchanged(known.get(name), value):
                continue
            self.recorder.record(self.where, f"self.{name}", value, self.line_reads())
            known[name] = (value, self.snapshot(value))

    def returned(self, frame, value):
        recorder = self.recorder
        if self.where is None:
            return
        if recorder.wanted(value):
            event = recorder.record(self.where, f"{self.code.co_name}(...)", value,
                                    self.line_reads())
            recorder.returns.append(event)
        elif isinstance(value, (dict, tuple, list)) and recorder.arrays:
            self.returned_container(value)

    def returned_container(self, value):
        """``return {"W1": dW1, "b1": d_z.sum(axis=0)}`` or ``return dW1, dW2``: remember
        where it was returned, and record elements computed in the return statement."""
        recorder = self.recorder
        items = value.items() if isinstance(value, dict) else enumerate(value)
        labels = {}
        for key, element in items:
            if not recorder.wanted(element):
                continue
            node = element_node(self.statement, key) if self.statement is not None else None
            text = ast.unparse(node) if node is not None else str(key)
            filename, line, function, code = self.where
            where = (filename, line if node is None else node.lineno, function, code)
            labels.setdefault(id(element), (text, where[1]))
            if id(element) not in recorder.by_id:   # computed right here, in the return
                texts = element_reads(self.statement, key) if self.statement else None
                reads = self.line_reads()
                if texts is not None:
                    reads = [r for r in reads if r.text in texts or r.event in recorder.returns]
                label = f"{key}" if isinstance(value, dict) else text
                recorder.record(where, label, element, reads)
        recorder.containers.append(Container(len(recorder.events), self.where, value, labels))


def _items(name, value, wanted):
    """(variable, array) pairs for a local: the array itself, or the arrays in a dict or
    list (``grads['W1']``, ``deltas[2]``)."""
    if wanted(value):
        return [(name, value)]
    if isinstance(value, (dict, list, tuple)) and len(value) <= 64:
        items = value.items() if isinstance(value, dict) else enumerate(value)
        return [(f"{name}[{key!r}]", item) for key, item in items if wanted(item)]
    return []


def follow(fn, kwargs, recorder):
    """Run ``fn(**kwargs)`` with ``recorder`` tracing the learner's code; return its result.

    Whatever trace function was set before (a debugger, coverage) is put back afterwards,
    also when ``fn`` raises.
    """
    previous = sys.gettrace()
    sys.settrace(recorder.trace)
    try:
        return fn(**kwargs)
    finally:
        sys.settrace(previous)


# ----- reading the learner's source -------------------------------------------------------

_BODY_FIELDS = ("body", "orelse", "finalbody", "handlers")


class Source:
    """The statements of one file or notebook cell (through ``linecache``), by line."""

    def __init__(self, filename):
        self.filename = filename
        self.lines = linecache.getlines(filename)
        self.at_line = {}
        try:
            tree = ast.parse("".join(self.lines)) if self.lines else None
        except SyntaxError:   # e.g. a notebook cell with %magic lines
            tree = None
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.stmt):
                for line in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                    inner = self.at_line.get(line)
                    if inner is None or node.lineno >= inner.lineno:
                        self.at_line[line] = node   # the innermost statement wins

    def statement(self, line):
        return self.at_line.get(line)

    def text(self, statement_or_line):
        if isinstance(statement_or_line, ast.stmt):
            node = statement_or_line
            header = _header(node)
            end = max(getattr(n, "end_lineno", node.lineno) or node.lineno for n in header)
            return textwrap.dedent("".join(self.lines[node.lineno - 1:end])).rstrip()
        if 0 < statement_or_line <= len(self.lines):
            return self.lines[statement_or_line - 1].strip()
        return ""


def _header(statement):
    """The parts of a statement that run at its own line (not the body of an ``if``/``for``)."""
    if not any(hasattr(statement, f) for f in _BODY_FIELDS):
        return [statement]
    parts = []
    for field, value in ast.iter_fields(statement):
        if field in _BODY_FIELDS:
            continue
        parts.extend(v for v in (value if isinstance(value, list) else [value])
                     if isinstance(v, ast.AST))
    return parts


def _texts(nodes):
    """Names and ``name.attribute`` pairs read by ``nodes``, in order, each once."""
    found = []
    for root in nodes:
        for node in ast.walk(root):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if not isinstance(node.ctx, ast.Store):
                    found.append(f"{node.value.id}.{node.attr}")
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                found.append(node.id)
        if isinstance(root, ast.AugAssign):   # ``delta *= mask`` reads delta too
            found.extend(_texts([ast.Expression(root.target)]) or [ast.unparse(root.target)])
    return list(dict.fromkeys(found))


def reads_of(statement):
    return _texts(_header(statement))


def element_node(statement, key):
    """The expression for entry ``key`` of a dict/tuple literal returned or assigned."""
    value = getattr(statement, "value", None)
    if isinstance(value, ast.Dict):
        for k, v in zip(value.keys, value.values):
            if isinstance(k, ast.Constant) and (k.value == key or repr(k.value) == key):
                return v
    if isinstance(value, (ast.Tuple, ast.List)) and isinstance(key, int):
        if 0 <= key < len(value.elts):
            return value.elts[key]
    return None


def element_reads(statement, key):
    node = element_node(statement, key)
    return None if node is None else set(_texts([node]))


def _instruction_lines(code):
    """(line, instruction) for each instruction of ``code``."""
    line = code.co_firstlineno
    for instruction in dis.get_instructions(code):
        positions = getattr(instruction, "positions", None)
        if positions is not None and positions.lineno is not None:
            line = positions.lineno
        elif isinstance(instruction.starts_line, int) and instruction.starts_line > 1:
            line = instruction.starts_line
        yield line, instruction


@functools.lru_cache(maxsize=256)
def bytecode_compares(code):
    """The lines of ``code`` that compare (``h >= 0``), for code without source."""
    return {line for line, instruction in _instruction_lines(code)
            if instruction.opname == "COMPARE_OP"}


@functools.lru_cache(maxsize=256)
def bytecode_reads(code):
    """{line: names read} from the bytecode, for code whose source cannot be read
    (``<stdin>``): the names loaded, and ``self.attr`` for an attribute of a loaded name."""
    lines, previous = {}, None
    for line, instruction in _instruction_lines(code):
        name = instruction.argval
        if instruction.opname.startswith("LOAD_") and instruction.opname not in (
                "LOAD_ATTR", "LOAD_METHOD", "LOAD_CONST"):
            names = name if isinstance(name, tuple) else (name,)
            lines.setdefault(line, []).extend(n for n in names if isinstance(n, str))
            previous = names[-1] if isinstance(names[-1], str) else None
            continue
        if instruction.opname in ("LOAD_ATTR", "LOAD_METHOD") and previous is not None:
            lines.setdefault(line, []).append(f"{previous}.{name}")
        previous = None
    return {k: tuple(dict.fromkeys(v)) for k, v in lines.items()}


# =========================================================================================
# 2. The truth: the forward graph, every intermediate's true gradient, the activations
# =========================================================================================

class Site:
    """An activation in the forward pass: a = kind(z), with the layer it belongs to."""

    def __init__(self, kind, z, a, axis=None):
        self.kind, self.z, self.a, self.axis = kind, z, a, axis
        self.layer = "a layer"
        self.output = False

    @property
    def title(self):
        return {"relu": "ReLU"}.get(self.kind, self.kind)


def _sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))   # = 1 / (1 + e^-x), without overflow


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


class Truth:
    """The forward pass as autograd recorded it.

    For every tensor t of the graph (by ``id``): its value, dL/dt, its inputs, and the
    learner's name for it; plus the activation sites.
    """

    def __init__(self, loss, names, array_names, params):
        tensors = autograd.walk(loss)
        self.order = _topological(tensors)
        self.order_ids = [id(t) for t in self.order]
        self.position = {id(t): i for i, t in enumerate(self.order)}
        self.tensor = {id(t): t for t in tensors}
        self.value = {id(t): np.asarray(t.numpy(), dtype=np.float64) for t in tensors}
        self.inputs = {id(t): [id(i) for i in t.grad_fn.inputs] if t.grad_fn is not None
                       else [] for t in tensors}
        self.consumers = {id(t): [] for t in tensors}
        for t in tensors:
            for i in self.inputs[id(t)]:
                self.consumers[i].append(id(t))
        differentiable = [t for t in self.order if t.requires_grad]
        found = autograd.gradients(loss, differentiable)
        self.grad = {id(t): np.asarray(found[id(t)], dtype=np.float64) if id(t) in found
                     else np.zeros(t.shape) for t in differentiable}
        self.loss = loss
        self.params = {id(t): name for name, t in params.items()}
        self.names = self._names(names, array_names)
        self.sites = find_sites(self)
        self.site_of_z = {}
        self.site_of_a = {}
        for site in self.sites:
            self.site_of_a[site.a] = site
            for t in self.same_gradient(site.z):
                self.site_of_z.setdefault(t, site)
        self.output = self._network_output()

    def _names(self, names, array_names):
        result = dict(names)
        result.update(self.params)
        for key, t in self.tensor.items():
            if key not in result and t.grad_fn is None:
                known = array_names.get(id(t.numpy()))
                if known is not None:
                    result[key] = known[0]
        return result

    def preferred(self, keys):
        """Tensors with one gradient, the learner's named ones first, then the latest."""
        return sorted(keys, key=lambda k: (k not in self.names, -self.position[k]))

    def pull_back(self, w, seed, keys):
        """The gradients at ``keys`` that autograd gives from ``seed`` taken as dL/dw (the
        backward pass from w alone): [array or None], one per key."""
        keys = [k for k in keys if k in self.grad]
        results = autograd.grad([self.tensor[w]], [self.tensor[k] for k in keys],
                                grad_outputs=[Tensor(seed)], retain_graph=True,
                                allow_unused=True)
        found = {k: None if r is None else np.asarray(r.numpy(), dtype=np.float64)
                 for k, r in zip(keys, results)}
        return [found.get(k) for k in keys]

    def ancestors(self, key, depth=NEAR_DEPTH):
        """Tensors that ``key`` was computed from, nearest first, as (tensor id, distance)."""
        found, frontier = {key: 0}, [key]
        for distance in range(1, depth + 1):
            frontier = [i for k in frontier for i in self.inputs[k] if i not in found]
            for i in frontier:
                found.setdefault(i, distance)
        return sorted(found.items(), key=lambda item: item[1])

    def same_gradient(self, key):
        """``key`` and the tensors just before it with the very same gradient (``z = x @ W``
        before ``+ b``): a learner's delta stands for all of them."""
        same = [key]
        for other, _ in self.ancestors(key, depth=3)[1:]:
            if other in self.grad and self.grad[other].shape == self.grad[key].shape and \
                    np.array_equal(self.grad[other], self.grad[key]):
                same.append(other)
        return same

    def is_matmul(self, key):
        op = self.tensor[key].grad_fn
        return isinstance(op, (ops.MatMul, ops.Linear))

    def downstream_matmul(self, key):
        """Is there a matrix product between ``key`` and the loss (a later layer)?"""
        seen, stack = {key}, [key]
        while stack:
            for c in self.consumers[stack.pop()]:
                if self.is_matmul(c):
                    return True
                if c not in seen:
                    seen.add(c)
                    stack.append(c)
        return False

    def _network_output(self):
        """The network's output: the last activation or matrix product before the loss."""
        candidates = [s.a for s in self.sites if s.output]
        candidates += [k for k in self.tensor if self.is_matmul(k)]
        for k in list(candidates):   # ``x @ W + b``: the sum with the bias
            candidates += [c for c in self.consumers[k]
                           if self.value[c].shape == self.value[k].shape
                           and isinstance(self.tensor[c].grad_fn, ops.Add)]
        candidates = [k for k in candidates if not self.downstream_matmul(k)]
        return max(candidates, key=self.position.get, default=None)

    def name(self, key, depth=2):
        """The learner's name for a tensor, or an expression for it (``X @ W1 + b1``)."""
        if key in self.names:
            return self.names[key].replace("self.", "")
        t = self.tensor[key]
        if t.grad_fn is None:
            value = self.value[key]
            return f"{value.item():g}" if value.size == 1 else "(data)"
        if depth == 0:
            return "(...)"
        return _expression(type(t.grad_fn), [self.name(i, depth - 1) for i in self.inputs[key]])

    def dl(self, key):
        """``dL/dz2``, or ``dL/d(X @ W1 + b1)`` for an expression."""
        name = self.name(key)
        return f"dL/d({name})" if " " in name else f"dL/d{name}"

    def describe(self, key):
        """What dL/dt means for a learner: "the gradient at the input of the hidden layer's
        sigmoid"."""
        if key in self.params:
            return f"the gradient of the parameter {self.params[key]}"
        site = self.site_of_z.get(key)
        if site is not None:
            return f"the gradient at the input of {site.layer}'s {site.title}"
        site = self.site_of_a.get(key)
        if site is not None:
            where = f"the gradient at the output of {site.layer}'s {site.title}"
            return where + (", the network's output" if key == self.output else "")
        if key == self.output:
            return "the gradient at the network's output"
        return f"the gradient at {self.name(key)}"


_SYMBOLS = {ops.Add: "+", ops.Sub: "-", ops.Mul: "*", ops.Div: "/", ops.MatMul: "@"}


def _expression(op_class, parts):
    if op_class in _SYMBOLS and len(parts) == 2:
        return f"{parts[0]} {_SYMBOLS[op_class]} {parts[1]}"
    return f"{op_class.__name__.lower()}({', '.join(parts)})"


def _topological(tensors):
    """The tensors ordered so that each comes after its inputs (Kahn's algorithm, no recursion)."""
    ids = {id(t): t for t in tensors}
    waiting = {key: len({id(i) for i in t.grad_fn.inputs}) if t.grad_fn is not None else 0
               for key, t in ids.items()}
    users = {key: [] for key in ids}
    for key, t in ids.items():
        if t.grad_fn is not None:
            for i in {id(i) for i in t.grad_fn.inputs}:
                users[i].append(key)
    ready = [key for key, n in waiting.items() if n == 0]
    order = []
    while ready:
        key = ready.pop()
        order.append(ids[key])
        for user in users[key]:
            waiting[user] -= 1
            if waiting[user] == 0:
                ready.append(user)
    return order


def find_sites(truth):
    """The activations of the forward pass, found by their values: a tensor a is an
    activation of an earlier tensor z (a few ops back) when a = sigmoid(z), tanh(z),
    max(z, 0) or softmax(z), whatever code computed it."""
    sites = []
    for a in truth.order:
        key = id(a)
        if a.grad_fn is None or not a.requires_grad or a.ndim == 0:
            continue
        site = _activation_of(truth, key)
        if site is not None:
            sites.append(site)
    # a site with a matrix product after it feeds a later layer: a hidden layer's
    hidden = [s for s in sites if truth.downstream_matmul(s.a)]
    for s in sites:
        s.output = s not in hidden
        s.layer = "the output layer" if s.output else "the hidden layer"
    if len(hidden) > 1:
        for n, s in enumerate(hidden):
            s.layer = f"the {_ORDINALS[min(n, len(_ORDINALS) - 1)]} hidden layer"
    return sites


_ORDINALS = ("first", "second", "third", "fourth", "fifth", "next")


def _activation_of(truth, key):
    """The site whose output is ``key``, if ``key`` is an activation of a tensor before it."""
    a = truth.value[key]
    matches = []
    for z, _ in truth.ancestors(key, depth=6)[1:]:
        zv = truth.value[z]
        if zv.shape != a.shape or z not in truth.grad:
            continue
        kind = _kind(a, zv)
        if kind is not None:
            matches.append(Site(kind[0], z, key, kind[1]))
    if not matches:
        return None
    named = [s for s in matches if s.z in truth.names]
    if named:
        return named[0]
    # a softmax is usually computed from z - max(z), for stability: its input is z itself
    return matches[-1] if matches[0].kind == "softmax" else matches[0]


def _kind(a, z):
    """('sigmoid' | 'tanh' | 'relu' | 'softmax', axis) if a = that activation of z."""
    def close(x, y):
        return np.allclose(x, y, rtol=1e-6, atol=1e-9)
    if np.array_equal(a, z):
        return None
    if close(a, _sigmoid(z)):
        return "sigmoid", None
    if close(a, np.tanh(z)):
        return "tanh", None
    if np.any(z < 0) and np.any(z > 0) and close(a, np.maximum(z, 0)):
        return "relu", None
    for axis in (-1, 0):
        if a.ndim >= 1 and a.shape[axis] > 1 and close(a, _softmax(z, axis)):
            return "softmax", axis
    return None


# =========================================================================================
# 3. Matching the learner's arrays with the truth
# =========================================================================================

class Match:
    """What a learner's array stands for.

    ``kind``: "grad" (``factor`` times the gradient of ``tensors``), "known" (a forward
    value or a simple function of one: ``a2``, ``1 - a2``, ``z1 > 0``) or None (not
    recognised). A factor other than 1 is a convention while the learner restores it later
    (-1 for deltas as ``y - out``, N for a 1/N left to the end); it is a mistake where it is
    returned.
    """

    def __init__(self, kind, tensors=(), factor=1.0, layout="same"):
        self.kind, self.tensors, self.factor, self.layout = kind, list(tensors), factor, layout

    @property
    def acceptable(self):
        return self.kind in ("grad", "known")

    @property
    def scaled(self):
        return self.kind == "grad" and not _is_one(self.factor)


def _is_one(factor):
    return abs(factor - 1) <= FACTOR_RTOL


_UNKNOWN = Match(None)


def _variants(v, shape):
    """v arranged to ``shape`` as a learner's layout may differ: as is, squeezed, transposed."""
    if v.shape == shape:
        return [("same", v)]
    out = []
    if v.size == int(np.prod(shape)) and tuple(n for n in v.shape if n != 1) == \
            tuple(n for n in shape if n != 1):
        out.append(("same", v.reshape(shape)))
    if v.ndim == 2 and v.T.shape == shape:
        out.append(("transposed", v.T))
    return out


class Matcher:
    """Compares arrays with true values and gradients, at the tolerance of their dtype."""

    def __init__(self, truth, counts):
        self.truth = truth
        self.counts = counts
        self.by_shape = {}
        for key in truth.tensor:
            self.by_shape.setdefault(truth.value[key].shape, []).append(key)
        self._forms = {}

    @staticmethod
    def rtol(value):
        return DEFAULT_RTOL.get(value.dtype, FLOAT64_RTOL) if value.dtype.kind == "f" \
            else FLOAT64_RTOL

    def close(self, v, h, rtol):
        scale = float(np.max(np.abs(h))) if h.size else 0.0
        return bool(np.all(np.abs(v - h) <= rtol * (scale + np.abs(h)) + 1e-300))

    def fit(self, v, h, rtol):
        """The factor c with v = c * h, if there is one (else None)."""
        hh = float(np.sum(h * h))
        if hh == 0.0:
            return None
        c = float(np.sum(v * h)) / hh
        return c if c != 0.0 and self.close(v, c * h, rtol) else None

    def candidates(self, v):
        """Tensors whose value could be v arranged: (tensor id, layout, v arranged)."""
        out = []
        for shape, keys in self.by_shape.items():
            for layout, arranged in _variants(v, shape):
                out.extend((key, layout, arranged) for key in keys)
        return out

    def identify(self, raw):
        """The ``Match`` for one of the learner's arrays."""
        if raw is None:
            return _UNKNOWN
        rtol = self.rtol(raw)
        v = raw.astype(np.float64)
        if not np.all(np.isfinite(v)):
            return _UNKNOWN
        if not np.any(v) and v.size > 1:
            return Match("known")   # np.zeros_like(W): an accumulator to be filled
        found = []   # (rank: exact first, then -1, then other factors; factor, key, layout)
        for key, layout, arranged in self.candidates(v):
            g = self.truth.grad.get(key)
            factor = None if g is None or not np.any(g) else self.factor(arranged, g, rtol)
            if factor is not None:   # simplest factor first, then the learner's names
                rank = (0 if _is_one(factor) else 1 if _is_one(-factor) else
                        2 + len(explain_factor(factor, self.counts)))
                found.append((rank, factor, key, layout))
        if found:
            rank, factor, _, layout = min(
                found, key=lambda f: (f[0], f[2] not in self.truth.names))
            keys = [k for r, c, k, _ in found if r == rank and abs(c - factor) <= FACTOR_RTOL *
                    abs(factor)]
            return Match("grad", self.truth.preferred(keys), factor, layout)
        if self.known(v, rtol):
            return Match("known")
        return _UNKNOWN

    def factor(self, v, g, rtol):
        """c if v = c * g for c = 1, -1 or a factor made of 2 and a count N; else None.
        (A single number is proportional to anything: only 1 and -1 count for it.)"""
        if self.close(v, g, rtol):
            return 1.0
        if self.close(v, -g, rtol):
            return -1.0
        if v.size < 2:
            return None
        c = self.fit(v, g, rtol)
        return c if c is not None and explain_factor(c, self.counts) is not None else None

    def forms(self, key):
        """A forward value and the simple functions of it a backward pass computes on the
        way: -u, 1 - u, u * (1 - u), 1 - u**2, u**2, the mask u > 0."""
        if key not in self._forms:
            u = self.truth.value[key]
            forms = [u, -u, 1 - u, u * (1 - u), 1 - u * u, u * u, (u > 0).astype(np.float64)]
            self._forms[key] = [f for f in forms if f.size == 1 or np.ptp(f) > 0 or f is u]
        return self._forms[key]

    def known(self, v, rtol):
        for key, _, arranged in self.candidates(v):
            if any(self.close(arranged, f, rtol) for f in self.forms(key)):
                return True
        return False

    def forward_names(self, v):
        """The tensors whose forward value v is (arranged as it is)."""
        rtol = self.rtol(v)
        v = v.astype(np.float64)
        return [key for key, layout, arranged in self.candidates(v)
                if layout == "same" and self.close(arranged, self.truth.value[key], rtol)]

    def forward_name(self, v):
        """The tensor whose forward value v is, or None."""
        keys = self.forward_names(v)
        return keys[0] if keys else None


# ----- the classic slips, as hypotheses about a wrong value --------------------------------

class Hypothesis:
    """"The value is ``c * h``": h what a named slip would have computed, c a factor."""

    def __init__(self, mistake, variant, target, h, site=None, layout="same", axis=None):
        self.mistake, self.variant, self.target = mistake, variant, target
        self.h, self.site = h, site
        self.layout, self.axis = layout, axis   # how v is compared: same, transposed, summed
        self.factor = None
        self.score = None
        self.source = None      # wrong_relu_mask: the tensor the mask was taken from


def site_hypotheses(truth, site):
    """What each slip at an activation a = f(z) computes in place of dL/dz.

    g = dL/da arrives at the activation's output; the right value is dL/dz = g * f'(z)
    (for softmax, the Jacobian: a * (g - sum(g * a)) along the axis).
    """
    g, g_z = truth.grad[site.a], truth.grad[site.z]
    a, z = truth.value[site.a], truth.value[site.z]
    wrong = [("missing_activation_derivative", None, g)]            # g * 1
    if site.kind == "sigmoid":
        # sigmoid'(x) = s(x) (1 - s(x)): taken at x = a, or the output form x (1 - x) at z
        wrong += [("derivative_at_wrong_point", "output", g * _sigmoid(a) * (1 - _sigmoid(a))),
                  ("derivative_at_wrong_point", "input", g * z * (1 - z)),
                  (None, "twice", g_z * a * (1 - a))]     # a - y (cross-entropy) times a(1-a)
    elif site.kind == "tanh":
        # tanh'(x) = 1 - tanh(x)^2: taken at x = a, or the output form 1 - x^2 at z
        wrong += [("derivative_at_wrong_point", "output", g * (1 - np.tanh(a) ** 2)),
                  ("derivative_at_wrong_point", "input", g * (1 - z ** 2))]
    elif site.kind == "relu":
        # relu'(z) = [z > 0]; a mask of ones (a >= 0 on the output) leaves g unchanged
        wrong = [("wrong_relu_mask", "ones", g)]
    elif site.kind == "softmax":
        # the diagonal of the Jacobian only: g * a (1 - a), or (p - y)/N times a (1 - a)
        wrong += [("elementwise_softmax_derivative", "jacobian", g * a * (1 - a)),
                  ("elementwise_softmax_derivative", "cross_entropy", g_z * a * (1 - a))]
    return [Hypothesis(m, variant, site.z, h, site) for m, variant, h in wrong]


def relu_mask_hypothesis(truth, site, v):
    """For a ReLU: is v = g * m for a 0/1 mask m other than (z > 0)? (A mask taken from the
    wrong tensor.) The hypothesis names the tensor the mask came from, when one fits."""
    g, z = truth.grad[site.a], truth.value[site.z]
    if v.shape != g.shape or not np.any(g):
        return None
    nonzero = np.abs(g) > 1e-12 * np.max(np.abs(g))
    for sign in (1, -1):
        ratio = v[nonzero] / (sign * g[nonzero])
        mask = np.round(ratio)
        if not (np.allclose(ratio, mask, atol=1e-3) and np.all((mask == 0) | (mask == 1))):
            continue
        m = np.zeros(g.shape)
        m[nonzero] = mask
        if np.array_equal(m[nonzero], (z > 0)[nonzero]) or np.all(m[nonzero] == 1):
            return None   # the right mask, or all ones (a hypothesis of its own)
        hypothesis = Hypothesis("wrong_relu_mask", "other", site.z, g * m, site)
        hypothesis.source = _mask_source(truth, site, m, nonzero)
        return hypothesis
    return None


def _mask_source(truth, site, mask, where):
    """A forward tensor t (not z) with (t > 0) or (t >= 0) equal to ``mask``, or None."""
    for key in truth.order_ids:
        value = truth.value[key]
        if key == site.z or value.shape != mask.shape:
            continue
        for candidate in (value > 0, value >= 0):
            if np.array_equal(candidate[where], mask[where]):
                return key
    return None


def distortion_hypotheses(truth, key, v):
    """A true gradient gone wrong as a whole: scaled (or negated), transposed, not summed."""
    g = truth.grad[key]
    out = []
    for layout, arranged in _variants(v, g.shape):
        out.append(Hypothesis("transposed" if layout == "transposed" else "scaled", None, key,
                              g, layout=layout))
    axis = per_sample_axis(v.shape, g.shape)
    if axis is not None:
        out.append(Hypothesis("not_summed", None, key, g, layout="summed", axis=axis))
    return out


def arrange(v, hypothesis):
    """v laid out as the hypothesis compares it."""
    if hypothesis.layout == "summed":
        return v.sum(axis=hypothesis.axis).reshape(hypothesis.h.shape)
    for layout, arranged in _variants(v, hypothesis.h.shape):
        if layout == hypothesis.layout:
            return arranged
    return None


# =========================================================================================
# 4. The search for the first wrong line
# =========================================================================================

class Root:
    """Where a wrong gradient starts: an event, what it should have been (``target``), and
    how it was found (``kind``: "line", "skipped", "handover", "factor", "missing")."""

    def __init__(self, event, target, kind="line", via=None, where=None, label=None,
                 param=None, site=None, factor=None):
        self.event, self.target, self.kind = event, target, kind
        self.factor = factor    # for "factor": the factor it brings in (else its match's)
        self.site = site        # for "skipped": the activation whose derivative is missing
        self.via = via          # the later line that used this value as ``target``
        self.where = where      # for a handover: (filename, line, function) of the return
        self.label = label      # for a handover: the returned expression
        self.param = param

    @property
    def seq(self):
        return self.event.seq if self.event is not None else float("inf")


class Analysis:
    """The learner's backward events set against the truth, and the search through them."""

    def __init__(self, truth, recorder, hand, comparisons, counts):
        self.truth = truth
        self.recorder = recorder
        self.events = recorder.events
        self.hand = hand
        self.comparisons = comparisons
        self.matcher = Matcher(truth, counts)
        self.counts = counts
        self.param_key = {name: key for key, name in truth.params.items()}
        for event in self.events:
            event.match = self.matcher.identify(event.value)
            if event.match.kind == "known":
                self._borrow_name(event)
        self.returned = {id(obj) for obj in hand.values()}
        self._site_hypotheses = {}
        self._mark_gradient_like()

    def _borrow_name(self, event):
        """A forward tensor the forward pass left unnamed (``np.tanh(X @ W1 + b1)``) takes
        the backward pass's name for the same value (``z1 = X @ W1 + b1``)."""
        truth = self.truth
        keys = self.matcher.forward_names(event.value)
        if not keys or any(k in truth.names for k in keys) or event.variable.endswith(")"):
            return
        sites = [k for k in keys if k in truth.site_of_z]
        key = sites[0] if sites else max(keys, key=truth.position.get)
        truth.names[key] = event.variable

    # ----- which arrays carry a gradient --------------------------------------------------

    def _mark_gradient_like(self):
        """An array carries a gradient if it matches one (right or distorted), was computed
        from one, is returned, or is named like one (``delta3``) and is no forward value."""
        for event in self.events:
            event.gradient_like = (
                event.match.kind == "grad" or id(event.obj) in self.returned or
                any(r.event is not None and r.event.gradient_like for r in event.reads) or
                (event.match.kind is None and self._looks_like_gradient(event)))

    def _looks_like_gradient(self, event):
        """Named like a gradient, or a named slip of one (``(a - y) * sigmoid'(a)``)."""
        if name_hint(event.variable, self.truth) is not None:
            return True
        v = event.value.astype(np.float64)
        rtol = Matcher.rtol(event.value)
        for site in self.truth.sites:
            for hypothesis in self.site_hypotheses(site):
                arranged = arrange(v, hypothesis)
                if arranged is not None and \
                        self.matcher.factor(arranged, hypothesis.h, rtol) is not None:
                    return True
        return False

    def site_hypotheses(self, site):
        if site not in self._site_hypotheses:
            self._site_hypotheses[site] = site_hypotheses(self.truth, site)
        return self._site_hypotheses[site]

    # ----- the search -----------------------------------------------------------------------

    def find(self):
        """The first wrong line (a ``Root``), or None when every gradient is right."""
        wrong = [p for p, c in self.comparisons.items() if not c.ok]
        if not wrong:
            return None
        roots = []
        for p in wrong:
            roots += self.roots_for(p)
        # a factor (-1, 1/2, N) carried to the returned gradient: where it starts
        roots += [r for r in (self.factor_start(p) for p in wrong) if r is not None]
        if not roots:
            return self.missing_root(wrong[0])
        return min(roots, key=lambda r: r.seq)

    def producer(self, obj):
        return self.recorder.by_id.get(id(obj))

    def roots_for(self, p):
        obj = self.hand.get(p)
        if obj is None:
            return []
        event = self.producer(obj)
        key = self.param_key[p]
        if event is None:
            return [self.handover(p, obj, None)]
        if self.param_factor(event, key) is not None:
            return []   # right, or c * dL/dp: factor_start finds where c comes in
        if event.match.kind == "grad" and key not in event.match.tensors:
            return [self.handover(p, obj, event)]   # right for another tensor, handed over
        return self.search(event, key, {})

    def param_factor(self, event, key):
        """c if the event's value is c * dL/dp (same shape; c = 1, -1, 2, 1/N, ...), else None."""
        g = self.truth.grad[key]
        if event.value.shape != g.shape or not np.any(g):
            return None
        return self.matcher.factor(event.value.astype(np.float64), g, Matcher.rtol(event.value))

    def search(self, event, target, memo):
        """Roots behind a wrong ``event``: its wrong gradient inputs' roots, or itself."""
        if event.seq in memo:
            return memo[event.seq]
        memo[event.seq] = []
        bad = [r.event for r in event.reads
               if r.event is not None and r.event is not event and r.event.gradient_like
               and not r.event.match.acceptable]
        roots = []
        for source in dict.fromkeys(bad):
            roots += self.search(source, None, memo)
        if not roots:
            roots = [self.retarget(event, target) or Root(event, target)]
        memo[event.seq] = roots
        return roots

    def retarget(self, event, target):
        """Was ``event`` right, given that one of its inputs meant something else?

        A right dL/da used as dL/dz (the activation's derivative left out, or a ReLU mask
        of ones) makes the *next* line wrong, although that line's formula is right. If
        ``event`` equals what autograd gives from the input taken as dL/dw, for a tensor w
        a few ops before a, the mistake is at the input's line: it should have been dL/dw.
        Unless the learner named the input after a (``d_h`` for h = relu(z)) and applied no
        mask there: then it is right as named, and this line skipped the derivative.
        """
        v = event.value.astype(np.float64)
        rtol = Matcher.rtol(event.value)
        for read in event.reads:
            source = read.event
            if source is None or source is event or source.match.kind != "grad":
                continue
            key = source.match.tensors[0]
            found = self._through(source, key, v, rtol, target)
            if found is None:
                continue
            w, k = found
            site = self.truth.site_of_z.get(w)
            hint = name_hint(source.variable, self.truth)
            named_for_output = hint is not None and hint in self.truth.same_gradient(key)
            if site is not None and named_for_output and not self.has_mask(source):
                return Root(event, k, kind="skipped", via=source, site=site)
            return Root(source, w, kind="line", via=event)
        return None

    def has_mask(self, event):
        """Does the line apply a 0/1 mask (a comparison, or a 0/1 array it read)?"""
        statement = self.recorder.source(event.filename).statement(event.line)
        if statement is not None and any(isinstance(n, ast.Compare)
                                         for n in ast.walk(statement)):
            return True
        if statement is None and event.line in bytecode_compares(event.code):
            return True
        for read in event.reads:
            value = np.asarray(read.obj)
            if value.dtype == bool or (value.size > 1 and np.all((value == 0) | (value == 1))):
                return True
        return False

    def _through(self, source, key, v, rtol, target):
        """(w, t) if v = the gradient at t that autograd gives from ``source`` taken as
        dL/dw, for a tensor w a few ops before ``key``; else None."""
        truth = self.truth
        seed_value = source.value.astype(np.float64)
        same = set(source.match.tensors)
        for w, _ in truth.ancestors(key, depth=4)[1:]:
            if w in same or w not in truth.grad:
                continue
            arranged = [a for layout, a in _variants(seed_value, truth.value[w].shape)
                        if layout == "same"]
            if not arranged:
                continue
            targets = [target] if target is not None else [
                k for k, _ in truth.ancestors(w)[1:] if k in truth.grad and
                any(lay == "same" for lay, _ in _variants(v, truth.value[k].shape))]
            targets = [k for k in targets if k in dict(truth.ancestors(w, depth=64))]
            if not targets:
                continue
            for k, expected in zip(targets, truth.pull_back(w, arranged[0], targets)):
                if expected is None:
                    continue
                for layout, mine in _variants(v, expected.shape):
                    if layout == "same" and self.matcher.close(mine, expected, rtol):
                        return w, k
        return None

    def intended(self, event):
        """What a later line used ``event`` as: if a returned gradient of p was computed from
        it (``dW1 = X.T @ delta``) as if it were dL/dw, then w. None if no such line."""
        truth = self.truth
        v = event.value.astype(np.float64)
        for p, obj in self.hand.items():
            user = self.producer(obj)
            if user is None or not any(r.event is event for r in user.reads):
                continue
            key, mine = self.param_key[p], user.value.astype(np.float64)
            for w in truth.order_ids:
                seed = [a for lay, a in _variants(v, truth.value[w].shape) if lay == "same"]
                if not seed or w not in truth.grad or w == key:
                    continue
                expected = truth.pull_back(w, seed[0], [key])[0]
                if expected is not None and expected.shape == mine.shape and \
                        self.matcher.close(mine, expected, Matcher.rtol(user.value)):
                    return w
        return None

    def handover(self, p, obj, event):
        """A value returned as p's gradient that is something else (``"b2": delta3``): the
        mistake is where it was handed over: a line that names it after p (``db2 = ...``),
        an alias (``db2 = delta3``), or else the return statement."""
        key = self.param_key[p]
        if event is not None and (event.alias is not None or
                                  name_hint(event.variable, self.truth) == key):
            label = event.alias.variable if event.alias is not None else event.variable
            return Root(event, key, kind="handover", param=p, label=label)
        container = next((c for c in self.recorder.containers if id(obj) in c.labels), None)
        if container is None:
            return Root(event, self.param_key[p], kind="handover", label=p, param=p)
        label, line = container.labels[id(obj)]
        where = (container.filename, line, container.function)
        return Root(event, self.param_key[p], kind="handover", where=where, label=label,
                    param=p)

    def factor_start(self, p):
        """For a gradient returned as c * dL/dp (c = -1: updates for W += ...; c = 1/2: a
        dropped 2): the first line where the factor comes in, computed from inputs without
        one."""
        obj = self.hand.get(p)
        event = self.producer(obj) if obj is not None else None
        factor = self.param_factor(event, self.param_key[p]) if event is not None else None
        if factor is None or _is_one(factor):
            return None
        starts = [e for e in self.closure(event) if e.match.scaled and not any(
            _scaled(r.event) for r in e.reads if r.event is not None and r.event is not e)]
        if not starts:
            return None
        first = min(starts, key=lambda e: e.seq)
        return self._earlier_factor(first) or Root(first, first.match.tensors[0], kind="factor")

    def _earlier_factor(self, event):
        """A single number cannot show a factor by itself (see ``Matcher.factor``): if the
        line where a factor appears read a one-element gradient carrying that same factor
        (``d_out = y_hat - y`` with one sample and one output), the factor starts there."""
        factor = event.match.factor
        for read in event.reads:
            source = read.event
            if source is None or source.match.kind == "grad" or source.value.size != 1:
                continue
            for key in self.truth.grad:
                g = self.truth.grad[key]
                if g.size == 1 and g.item() != 0 and \
                        abs(source.value.item() / g.item() - factor) <= FACTOR_RTOL * abs(factor):
                    return Root(source, key, kind="factor", factor=factor)
        return None

    def closure(self, event):
        """``event`` and every gradient-carrying event it was computed from."""
        seen, stack = {}, [event]
        while stack:
            e = stack.pop()
            if e.seq in seen:
                continue
            seen[e.seq] = e
            stack += [r.event for r in e.reads if r.event is not None and r.event.gradient_like]
        return list(seen.values())

    def missing_root(self, p):
        return Root(None, self.param_key[p], kind="missing", param=p)

    def conventions(self):
        """Factors kept along the way and restored later: [(start event, restore event)]."""
        found = []
        for start in self.events:
            if not (start.match.scaled and start.gradient_like) or any(
                    _scaled(r.event) for r in start.reads if r.event is not start):
                continue
            later = [e for e in self.events if e.seq > start.seq and e.match.kind == "grad" and
                     not e.match.scaled and start in self.closure(e)]
            if later:
                found.append((start, min(later, key=lambda e: e.seq)))
        return found


def _scaled(event):
    return event is not None and event.match.scaled


# ----- the learner's names -------------------------------------------------------------------

_HINTS = [
    (re.compile(r"^d[JLE]_?d_?(?P<base>\w+)$"), "exact"),
    (re.compile(r"^delta_?(?P<base>\d+)$"), "pre"),
    (re.compile(r"^d_?(?P<base>\d+)$"), "pre"),
    (re.compile(r"^(?P<base>\w+?)_delta$"), "pre"),
    (re.compile(r"^(?P<base>\w+?)_error$"), "post"),
    (re.compile(r"^(?:err|error)_?(?P<base>\d+)$"), "post"),
    (re.compile(r"^(?:d|grad|g)_(?P<base>\w+)$"), "exact"),
    (re.compile(r"^(?P<base>\w+?)_grad$"), "exact"),
    (re.compile(r"^d(?P<base>[A-Za-z]\w*)$"), "exact"),
]


def name_hint(variable, truth):
    """The tensor a learner's name points at (``dJdW1`` -> W1, ``delta3`` -> z3, ``d_a2`` ->
    a2, ``layer_2_delta`` -> the input of layer_2's activation), or None."""
    name = variable.replace("self.", "")
    name = re.sub(r"\[.*\]$", "", name)
    by_name = {}
    for key, known in truth.names.items():
        by_name.setdefault(known.replace("self.", ""), key)
    for pattern, kind in _HINTS:
        found = pattern.match(name)
        if not found:
            continue
        base = found.group("base")
        if base.isdigit():
            sites = [s for s in truth.sites
                     if truth.name(s.z).endswith(base) or truth.name(s.a).endswith(base)]
            if sites:
                return sites[0].a if kind == "post" else sites[0].z
            named = [k for k, n in by_name.items() if k.endswith(base) and n in truth.grad]
            return by_name[named[0]] if named else None
        key = by_name.get(base)
        if key is None:
            continue
        if kind == "pre" and key in truth.site_of_a:
            return truth.site_of_a[key].z
        if kind == "post" and key in truth.site_of_z:
            return truth.site_of_z[key].a
        return key
    return None


# =========================================================================================
# 5. Naming the mistake, and the report
# =========================================================================================

class WrongLine:
    """The first wrong line of a backward pass.

    ``filename``, ``line``, ``function``, ``source`` (the code), ``variable`` (the learner's
    name for the wrong value), ``should_be`` (what it should have been, in words),
    ``mistake`` (one of ``MISTAKES``, or None when it is none of the named slips),
    ``factor`` (for ``scaled``), ``explanation`` (why, and the fix), and the arrays
    ``value`` (the learner's) and ``expected`` (the true one).
    """

    def __init__(self, where, variable, should_be, mistake, why, fix, source, factor=None,
                 value=None, expected=None):
        self.filename, self.line, self.function = where
        self.variable = variable
        self.should_be = should_be
        self.mistake = mistake
        self.why = why
        self.fix = fix
        self.explanation = f"{variable} should be {should_be}. {why}" + (
            f" Fix: {fix}" if fix else "")
        self.source = source
        self.factor = factor
        self.value = value
        self.expected = expected

    def __str__(self):
        lines = [f"first wrong line: {_short_path(self.filename)}:{self.line}, "
                 f"in {self.function}"]
        lines += ["    " + l for l in (self.source or "(source not available)").splitlines()]
        lines.append(f"  {self.variable} should be {self.should_be}")
        lines.append(f"  mistake: {self.mistake or 'none of the named slips'}")
        lines.append("  " + self.why)
        if self.fix:
            lines.append("  fix: " + self.fix)
        return "\n".join(lines)

    def __repr__(self):
        return (f"<WrongLine {_short_path(self.filename)}:{self.line} {self.variable}: "
                f"{self.mistake}>")


def _short_path(filename):
    if filename.startswith("<"):
        return filename
    try:
        relative = os.path.relpath(filename)
    except ValueError:   # another drive, on Windows
        return filename
    return filename if relative.startswith("..") else relative


class BackpropReport:
    """What ``check_backprop`` found: the gradient table, the first wrong line, notes.

    ``report.ok``: every gradient right. ``report.first_wrong``: a ``WrongLine`` or None.
    ``report.gradients``: the ``GradientReport`` of ``compare_gradients`` (per parameter).
    ``report.notes``: remarks that are not errors (a sign convention looked past, weights
    that are all zero). ``report.followed_files``: the files whose lines were followed.
    """

    def __init__(self, gradients, first_wrong, notes, followed_files):
        self.gradients = gradients
        self.first_wrong = first_wrong
        self.notes = notes
        self.followed_files = followed_files

    @property
    def ok(self):
        return self.gradients.ok and self.first_wrong is None

    def __str__(self):
        parts = [self.gradients.text(hints=self.first_wrong is None)]
        if self.first_wrong is not None:
            parts.append(str(self.first_wrong))
        parts += self.notes
        return "\n\n".join(parts)

    __repr__ = __str__


class Explainer:
    """Turns a ``Root`` into a ``WrongLine``: the value set against the named slips."""

    def __init__(self, analysis):
        self.analysis = analysis
        self.truth = analysis.truth
        self.matcher = analysis.matcher

    def explain(self, root):
        if root.kind == "missing":
            return self.missing(root)
        if root.kind == "handover":
            return self.handover(root)
        if root.kind == "skipped":
            return self.skipped(root)
        if root.kind == "factor":
            hypothesis = Hypothesis("scaled", None, root.target, self.truth.grad[root.target])
            hypothesis.factor = root.factor or root.event.match.factor
            return self.line(root.event, hypothesis)
        return self.line(root.event, self.best_hypothesis(root), via=root.via)

    # ----- where, and what it should have been ---------------------------------------------

    def where(self, event):
        return (event.filename, event.line, event.function)

    def source(self, filename, line):
        """The statement at ``line``; only the line itself inside a longer statement."""
        source = self.analysis.recorder.source(filename)
        statement = source.statement(line)
        starts_here = statement is not None and statement.lineno == line
        return source.text(statement if starts_here else line)

    def should_be(self, key):
        return f"{self.truth.dl(key)}, {self.truth.describe(key)}"

    def learner_name(self, key, near):
        """How the backward pass calls a forward tensor (``self.z3``), else the forward's name."""
        value = self.truth.value[key]
        best = None
        for event in self.analysis.events:
            if event.value is None or event.value.shape != value.shape:
                continue
            if self.matcher.close(event.value.astype(np.float64), value,
                                  Matcher.rtol(event.value)):
                if best is None or (event.function == near.function and event.seq <= near.seq):
                    best = event
        return best.variable if best is not None else self.truth.name(key)

    # ----- choosing what the value is ------------------------------------------------------

    def expected_factor(self, event):
        """The factor (a convention: -1, N, ...) the gradients this line read carry."""
        factors = [r.event.match.factor for r in event.reads if r.event is not None and
                   r.event is not event and r.event.match.kind == "grad"]
        scaled = [f for f in factors if not _is_one(f)]
        return scaled[0] if scaled else 1.0

    def targets(self, root):
        """The tensors the wrong value may stand for, most likely first."""
        truth = self.truth
        if root.target is not None:
            return truth.same_gradient(root.target)
        inputs = [k for r in root.event.reads if r.event is not None and r.event is not root.event
                  and r.event.match.kind == "grad" for k in r.event.match.tensors[:1]]
        if not inputs:   # the first line of the backward pass: near the loss first
            return [k for k in reversed([id(t) for t in truth.order]) if k in truth.grad]
        found = {}
        for key in inputs:
            for k, distance in truth.ancestors(key):
                if k in truth.grad:
                    found[k] = min(found.get(k, distance), distance)
        return sorted(found, key=found.get)

    def best_hypothesis(self, root):
        event = root.event
        v = event.value.astype(np.float64)
        rtol = Matcher.rtol(event.value)
        expected = self.expected_factor(event)
        targets = self.targets(root)
        rank = {k: i for i, k in enumerate(targets)}
        hint = name_hint(event.variable, self.truth)
        hinted = set(self.truth.same_gradient(hint)) if hint is not None else set()
        best = None
        for hypothesis in self.hypotheses(targets, v):
            arranged = arrange(v, hypothesis)
            factor = None if arranged is None else self.matcher.fit(arranged, hypothesis.h, rtol)
            if factor is None or (arranged.size < 2 and not _is_one(abs(factor / expected))):
                continue   # (one number is a multiple of anything: only +-1 says something)
            score = self.score(hypothesis, factor / expected, rank)
            if score is None:
                continue
            score -= 0.5 if hypothesis.target in hinted else 0.0
            if best is None or score < best[0]:
                best = (score, factor, hypothesis)
        if best is None:
            target = self.analysis.intended(event) if root.target is None else None
            target = target or self.fallback_target(targets, v, hint)
            return Hypothesis(None, "mismatch", target, None)
        chosen = copy.copy(best[2])   # the site hypotheses are shared: fill in a copy
        chosen.score, chosen.factor = best[0], best[1]
        return chosen

    def hypotheses(self, targets, v):
        truth = self.truth
        for key in targets[:40]:
            yield from distortion_hypotheses(truth, key, v)
        for site in truth.sites:
            yield from self.analysis.site_hypotheses(site)
            if site.kind == "relu":
                mask = relu_mask_hypothesis(truth, site, v)
                if mask is not None:
                    yield mask

    def score(self, hypothesis, relative, rank):
        """Lower is likelier: a named slip at the right sign, then distortions; targets near
        the inputs first. None when the factor cannot be explained."""
        place = rank.get(hypothesis.target)
        place = 3.0 + 0.01 * len(rank) if place is None else 0.01 * place
        explained = explain_factor(relative, self.analysis.counts)
        if hypothesis.site is not None:
            if explained is None:
                return None
            return (0.0 if abs(abs(relative) - 1) < 1e-3 else 1.0) + place
        if hypothesis.mistake == "scaled" and abs(relative - 1) < 1e-3:
            return None   # that is the right value: not a hypothesis about a wrong one
        if explained is None and not (hypothesis.target in self.truth.params and place < 3):
            return None
        return 2.0 + place + (0.5 if explained is None else 0.0)

    def fallback_target(self, targets, v, hint):
        if hint is not None:
            return hint
        for key in targets:
            if any(lay == "same" for lay, _ in _variants(v, self.truth.value[key].shape)):
                return key
        return targets[0] if targets else self.truth.output

    # ----- the words -------------------------------------------------------------------------

    def line(self, event, hypothesis, via=None):
        truth = self.truth
        target = hypothesis.target if hypothesis.target is not None else truth.output
        mistake, factor = self.mistake_name(hypothesis, event)
        why, fix = self.words(event, hypothesis, mistake, via)
        shape = truth.value[target].shape
        if target in truth.params and event.value.shape != shape and \
                mistake in ("scaled", "negative"):
            why += (f" Its shape {event.value.shape} is not the shape of "
                    f"{truth.params[target]}, {shape}, either.")
        return WrongLine(self.where(event), event.variable, self.should_be(target), mistake,
                         why, fix, self.source(event.filename, event.line), factor=factor,
                         value=event.value, expected=truth.grad[target])

    def mistake_name(self, hypothesis, event):
        """The stable mistake name (and factor) a hypothesis stands for."""
        if hypothesis.mistake in ("scaled", "negative"):
            relative = hypothesis.factor / self.expected_factor(event)
            if abs(relative + 1) < 1e-3:
                return "negative", hypothesis.factor
            return "scaled", hypothesis.factor
        if hypothesis.mistake == "wrong_relu_mask" and not self.analysis.has_mask(event):
            return "missing_activation_derivative", None
        return hypothesis.mistake, None

    def words(self, event, hypothesis, mistake, via):
        variant = hypothesis.variant
        if hypothesis.site is not None:
            return self.site_words(event, hypothesis, mistake, via)
        target = hypothesis.target
        dname = self.truth.dl(target) if target is not None else "?"
        var = event.variable
        if mistake == "negative":
            return (f"{var} is the negative of {dname}: the sign flips here (as with "
                    f"y - out where out - y belongs) and is never flipped back, so what you "
                    f"return are update directions (for W += lr * ...), not gradients.",
                    "compute out - y here (or negate once before returning), and step with "
                    "W -= lr * grad")
        if mistake == "scaled":
            return self.scaled_words(event, hypothesis, dname)
        if mistake == "transposed":
            shape = self.truth.value[target].shape
            return (f"{var} is the transpose of {dname}.",
                    f"for z = x @ W the gradient is x.T @ delta, which has W's shape {shape}")
        if mistake == "not_summed":
            axis = "axis=0" if hypothesis.axis == 0 else \
                f"axis={event.value.ndim - 1}, keepdims=True"
            return (f"{var} holds one gradient per sample (shape {event.value.shape}), but "
                    f"{self.truth.name(target)} is shared by the whole batch: its gradient "
                    f"is their sum.",
                    f"sum over the batch: {var}.sum({axis})")
        return self.mismatch_words(event, target, dname)

    def scaled_words(self, event, hypothesis, dname):
        expected = self.expected_factor(event)
        relative = hypothesis.factor / expected
        parts = explain_factor(relative, self.analysis.counts) or []
        words = " AND ".join(text for _, text in parts) or "a factor none of the usual ones"
        convention = (f" (beyond the factor {expected:.4g} of the values it was computed "
                      f"from)" if not _is_one(expected) else "")
        hints = [FACTOR_HINTS[key] for key, _ in parts] or [FACTOR_HINTS["unexplained"]]
        return (f"{event.variable} is {hypothesis.factor:.4g} times {dname}{convention}: "
                f"{words}.", "; ".join(hints))

    def mismatch_words(self, event, target, dname):
        comparison = self.comparison_for(target)
        if comparison is not None and not comparison.ok and \
                self.analysis.hand.get(comparison.name) is event.obj:
            return (f"{event.variable} is returned as the gradient of {comparison.name}: "
                    f"{comparison.detail}.", "; ".join(comparison.hints))
        inputs = [r.text for r in event.reads if r.event is not None and r.event.gradient_like]
        came = f" ({', '.join(inputs)})" if inputs else ""
        why = (f"{event.variable} is wrong, and not by a sign, a factor, a transpose or one of the "
               f"named slips; what it was computed from{came} was right, so the formula on "
               f"this line is the place to look.")
        return why, (f"derive {dname} from the gradient it comes from with the chain rule; "
                     f"report.first_wrong.expected holds the true values")

    def comparison_for(self, key):
        name = self.truth.params.get(key)
        return self.analysis.comparisons.get(name) if name is not None else None

    def site_words(self, event, hypothesis, mistake, via):
        site, variant = hypothesis.site, hypothesis.variant
        truth = self.truth
        z, a = truth.name(site.z), truth.name(site.a)
        dz, da = truth.dl(site.z), truth.dl(site.a)
        zb, ab = self.learner_name(site.z, event), self.learner_name(site.a, event)
        var, kind, layer = event.variable, site.title, f"{site.layer}'s {site.title}"
        used = f" Then {self.user(via)} uses it as {dz}." if via is not None else ""
        if mistake == "derivative_at_wrong_point" and variant == "output":
            call = self.call_on(event, site.a)
            called = f" `{call[0]}({call[1]})` passes the output." if call else ""
            through = f"{ab} * (1 - {ab})" if site.kind == "sigmoid" else f"1 - {ab}**2"
            fix = (f"{call[0]}({zb}) in place of {call[0]}({call[1]})" if call
                   else f"{kind}'({zb})")
            return (f"{var} equals {da} * {kind}'({a}): the derivative of {layer} was "
                    f"taken at its output {a} = {kind}({z}), but {kind}'(x) expects the input "
                    f"x = {z}.{called}",
                    f"evaluate it at the input, {fix}; or write it through the output without "
                    f"a second {kind}: {through}")
        if mistake == "derivative_at_wrong_point":
            formula = "x * (1 - x)" if site.kind == "sigmoid" else "1 - x**2"
            through = f"{ab} * (1 - {ab})" if site.kind == "sigmoid" else f"1 - {ab}**2"
            call = self.call_on(event, site.z)
            fix = (f"{call[0]}({ab}) in place of {call[0]}({call[1]}), or {through}" if call
                   else through)
            return (f"{var} applies {formula}, the derivative of {layer} written through its "
                    f"output, to its input {z}.",
                    f"use the output: {fix}")
        if mistake == "elementwise_softmax_derivative" and variant == "cross_entropy":
            named = "" if a == "p" else f" with p = {a}"
            return (f"{var} equals (p - y)/N * {a} * (1 - {a}){named}: with cross-entropy "
                    f"after a softmax, (p - y)/N is already {dz}; the extra {a} * (1 - {a}) "
                    f"is an element-wise softmax derivative, which does not exist (each "
                    f"output of a softmax depends on every input of its row).",
                    f"drop the factor {ab} * (1 - {ab}): (p - y) / N is the whole gradient at "
                    f"{zb}")
        if mistake == "elementwise_softmax_derivative":
            g = self.gradient_read(event, site.a) or "g"
            return (f"{var} equals {da} * {a} * (1 - {a}), only the diagonal of the "
                    f"softmax's Jacobian: each output of a softmax depends on every input of "
                    f"its row, so {dz} = {a} * (g - sum(g * {a})) over the row, with "
                    f"g = {da}.",
                    f"{ab} * ({g} - ({g} * {ab}).sum(axis=-1, keepdims=True)); with a "
                    f"cross-entropy loss this is simply (p - y) / N")
        if mistake == "wrong_relu_mask" and variant == "other":
            source = hypothesis.source
            taken = (f": it matches ({truth.name(source)} > 0), taken from {truth.name(source)}"
                     if source is not None else "")
            return (f"{var} equals {da} times a 0/1 mask that is not ({z} > 0){taken}. The "
                    f"ReLU's derivative is 1 where its own input {z} is positive.{used}",
                    f"multiply by ({zb} > 0) (or ({ab} > 0) on the ReLU's output)")
        if mistake == "wrong_relu_mask":
            return (f"{var} equals {da} unchanged: its ReLU mask is 1 everywhere. A mask "
                    f"taken from the ReLU's output with >= 0 is always true, since the output "
                    f"is never negative.{used}",
                    f"multiply by ({zb} > 0), the ReLU's derivative at its input (on the "
                    f"output, ({ab} > 0) gives the same mask)")
        if mistake == "missing_activation_derivative":
            return (f"{var} equals {da}, the gradient at the output of {layer}: it was "
                    f"passed back through the {kind} without its derivative.{used}",
                    f"multiply by the derivative: {_derivative_text(site, zb, ab)}")
        # the derivative applied twice: sigmoid with cross-entropy
        return (f"{var} equals {dz} * {a} * (1 - {a}): the sigmoid's derivative is applied "
                f"twice (with cross-entropy, {a} - y is already the gradient at its input).",
                f"drop the factor {ab} * (1 - {ab})")

    def gradient_read(self, event, key):
        """The learner's name for dL/d(key) among what the line read, or None."""
        for read in event.reads:
            if read.event is not None and read.event.match.kind == "grad" and \
                    key in self.truth.same_gradient(read.event.match.tensors[0]):
                return read.text
        return None

    def user(self, event):
        """A later line that used a value, in words: ``dW1 (line 40)``."""
        if event.variable in self.analysis.param_key:   # an entry of the returned dict
            return f"the gradient returned for {event.variable} (line {event.line})"
        return f"{event.variable} (line {event.line})"

    def call_on(self, event, key):
        """(function, argument) of a call on the line whose argument is the value ``key``."""
        statement = self.analysis.recorder.source(event.filename).statement(event.line)
        if statement is None:
            return None
        texts = {r.text for r in event.reads if r.event is not None and
                 self.matcher.forward_name(r.event.value) == key} | {
                 r.text for r in event.reads if r.event is None and
                 isinstance(r.obj, np.ndarray) and self.matcher.forward_name(r.obj) == key}
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and node.args and ast.unparse(node.args[0]) in texts:
                return ast.unparse(node.func), ast.unparse(node.args[0])
        return None

    def handover(self, root):
        p = root.param
        comparison = self.analysis.comparisons[p]
        event = root.event
        where = root.where or (self.where(event) if event is not None else
                               ("<backward>", 0, "backward"))
        label = root.label or p
        holds = ""
        if event is not None and event.match.kind == "grad":
            key = event.match.tensors[0]
            holds = f" It holds {self.truth.dl(key)}, {self.truth.describe(key)}."
        mistake = comparison.verdict if comparison.verdict in MISTAKES else None
        variable = event.variable if event is not None and root.where is None else label
        also = f" (that is, {label})" if label != variable else ""
        why = (f"{variable}{also} is returned as the gradient of {p}, and is wrong for it: "
               f"{comparison.detail}.{holds}")
        fix = "; ".join(comparison.hints)
        return WrongLine(where, variable, self.should_be(self.analysis.param_key[p]), mistake,
                         why, fix, self.source(where[0], where[1]), factor=comparison.factor,
                         value=np.asarray(self.analysis.hand[p]), expected=comparison.true_grad)

    def skipped(self, root):
        """A line that used dL/da as dL/dz: the activation's derivative is missing."""
        event, site, truth = root.event, root.site, self.truth
        source = root.via
        a = truth.dl(site.a)
        why = (f"{event.variable} uses {source.variable} = {a}, the gradient at the output of "
               f"{site.layer}'s {site.title}, as if it were {truth.dl(site.z)}: it was passed "
               f"back through the {site.title} without its derivative.")
        derivative = _derivative_text(site, self.learner_name(site.z, event),
                                      self.learner_name(site.a, event))
        fix = f"multiply {source.variable} by the derivative first: {derivative}"
        return WrongLine(self.where(event), event.variable, self.should_be(root.target),
                         "missing_activation_derivative", why, fix,
                         self.source(event.filename, event.line), value=event.value,
                         expected=truth.grad[root.target])

    def missing(self, root):
        p = root.param
        containers = self.analysis.recorder.containers
        last = containers[-1] if containers else None
        where = (last.filename, last.line, last.function) if last else ("<backward>", 0, "?")
        return WrongLine(where, p, self.should_be(root.target), None,
                         f"backward returned no gradient for {p}.",
                         f"return one for every parameter: {sorted(self.analysis.comparisons)}",
                         self.source(where[0], where[1]) if last else "")


def _derivative_text(site, z, a):
    return {"sigmoid": f"{a} * (1 - {a})", "tanh": f"(1 - {a}**2)", "relu": f"({z} > 0)",
            "softmax": f"the softmax's Jacobian: {a} * (g - (g * {a}).sum(axis=-1, "
                       f"keepdims=True))"}[site.kind]


# =========================================================================================
# check_backprop
# =========================================================================================

def check_backprop(forward, backward, params):
    """Find the first line of a hand-written backward pass that computes a wrong gradient.

    ``forward(**params)``: the loss computation, plain numpy code; it runs on Tensors (numpy
    functions applied to Tensors record the graph), as in ``compare_gradients``.
    ``backward(**params)``: the hand-written backward pass, run unchanged on numpy arrays
    (copies of ``params``), returning {name: gradient} or a tuple in the order of
    ``params``. Both may call the learner's own functions and methods.
    ``params``: {name: ndarray}, the values at which to check.

    Returns a ``BackpropReport``: ``print(report)`` shows the gradient table, then the first
    wrong line (file:line and its code), what its variable should have been, the named
    mistake and the fix; ``report.ok``; ``report.first_wrong`` (None when all is right) with
    ``.filename``, ``.line``, ``.variable``, ``.mistake`` and ``.explanation``::

        report = tg.check_backprop(forward, backward, {"W1": W1, "W2": W2})
        print(report)
        report.first_wrong.mistake        # 'derivative_at_wrong_point'

    Both functions are followed with Python's line tracer, limited to the learner's code; a
    trace function set before (a debugger, coverage) is restored afterwards. A forward pass
    that leaves the graph (``math.log(t)``, ``ndarray.dot(t)``) raises a TypeError naming the
    line and how to write it instead.
    """
    _check_arguments(forward, backward, params)
    tensors = leaf_tensors(params)
    loss, forward_recorder = _run_forward(forward, tensors)
    truth = Truth(loss, _forward_names(forward_recorder), forward_recorder.array_names, tensors)
    recorder = Recorder(arrays=True)
    copies = {name: _as_float_array(value) for name, value in params.items()}
    hand = _hand_gradients(follow(backward, copies, recorder), params)
    counts = graph_counts(loss)
    true = {name: truth.grad[id(t)] for name, t in tensors.items()}
    gradients = build_report(true, hand, float(loss.item()), counts)
    analysis = Analysis(truth, recorder, hand, gradients.comparisons, counts)
    root = analysis.find()
    first_wrong = Explainer(analysis).explain(root) if root is not None else None
    notes = _convention_notes(analysis, root) + (gradients.notes if first_wrong is None else [])
    gradients.notes = []   # shown once, below the first wrong line
    files = sorted(forward_recorder.files | recorder.files)
    return BackpropReport(gradients, first_wrong, notes, files)


def _check_arguments(forward, backward, params):
    for name, fn in (("forward", forward), ("backward", backward)):
        if not callable(fn):
            raise TypeError(f"check_backprop: {name} must be a function, got "
                            f"{type(fn).__name__}")
    if not isinstance(params, dict) or not params:
        raise TypeError("check_backprop: params must be a non-empty dict {name: numpy array}, "
                        f"got {type(params).__name__}")
    for name, value in params.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"check_backprop: parameter names are passed as keyword "
                             f"arguments, so each must be a Python name; got {name!r}")
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"check_backprop: params[{name!r}] is not an array of numbers "
                            f"({type(value).__name__})")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"check_backprop: params[{name!r}] contains NaN or inf")


def _as_float_array(value):
    array = np.array(value, copy=True)
    return array if array.dtype.kind == "f" else array.astype(np.float64)


def _run_forward(forward, tensors):
    """Run ``forward`` on Tensors, followed; the loss and the recorder (names, objects)."""
    recorder = Recorder(arrays=False)
    try:
        with strict_numbers():   # float(t), math.log(t) would drop the graph: raise instead
            loss = follow(forward, tensors, recorder)
    except TypeError as error:
        raise TypeError(_left_graph_message(error)) from error
    check_loss(loss, "check_backprop", "forward")
    used = {id(t) for t in autograd.walk(loss)} if loss.requires_grad else set()
    unused = [name for name, t in tensors.items() if id(t) not in used]
    if unused:
        raise ValueError(
            f"check_backprop: forward(**params) did not use {', '.join(unused)}: the loss does "
            f"not depend on it, so its gradient cannot be checked. If your forward pass reads "
            f"a stored array (self.{unused[0]}), assign the argument first "
            f"(net.{unused[0]} = {unused[0]})")
    _release_tensors(recorder)
    recorder.name_global_arrays()
    return loss, recorder


def _left_graph_message(error):
    """The forward pass raised a TypeError: name the learner's line, keep the advice."""
    where, tb = None, error.__traceback__
    while tb is not None:
        if is_user_file(tb.tb_frame.f_code.co_filename):
            where = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    if where is None:
        return f"check_backprop: the forward pass could not be followed: {error}"
    code = linecache.getline(where[0], where[1]).strip()
    return (f"check_backprop: the forward pass cannot be followed at "
            f"{_short_path(where[0])}:{where[1]}\n    {code}\n{error}")


def _release_tensors(recorder):
    """Tensors the forward pass stored on the learner's objects (``self.z2``) become numpy
    arrays again, so that a backward pass reading them runs on numpy, as after the
    learner's own forward pass."""
    for obj in recorder.watched.values():
        for name, value in _attributes(obj):
            if isinstance(value, Tensor):
                setattr(obj, name, np.array(value.numpy()))


def _forward_names(recorder):
    """id(tensor) -> the first name the forward pass gave it (``z2``, ``self.a2``)."""
    names = {}
    for event in recorder.events:
        if not event.variable.endswith("(...)"):
            names.setdefault(id(event.obj), event.variable)
    return names


def _hand_gradients(result, params):
    """The backward pass's result as {name: array}, with clear errors for other shapes."""
    names = list(params)
    if isinstance(result, dict):
        check_names(result, params, "check_backprop", "backward's result")
        hand = dict(result)
    elif isinstance(result, (tuple, list)):
        if len(result) != len(names):
            raise ValueError(f"check_backprop: backward returned {len(result)} gradients for "
                             f"{len(names)} parameters ({', '.join(names)}); return one per "
                             f"parameter, in that order, or a dict {{name: gradient}}")
        hand = dict(zip(names, result))
    elif isinstance(result, np.ndarray) and len(names) == 1:
        hand = {names[0]: result}
    else:
        raise TypeError(f"check_backprop: backward must return a dict {{name: gradient}} or a "
                        f"tuple in the order of params ({', '.join(names)}), got "
                        f"{type(result).__name__}")
    for name, value in hand.items():
        if isinstance(value, Tensor):
            raise TypeError(f"check_backprop: backward returned a Tensor for {name}; it should "
                            f"run on numpy arrays only (did it use a Tensor from elsewhere?)")
    return hand


def _convention_notes(analysis, root):
    """One note per convention the learner kept and undid (-1 for y - out, N for a 1/N
    applied at the end): said once, since it is not a mistake."""
    notes, said = [], []
    for start, restored in analysis.conventions():
        factor = start.match.factor
        if any(abs(factor - f) <= FACTOR_RTOL * abs(f) for f in said):
            continue
        said.append(factor)
        if _is_one(-factor):
            what = "the negatives of the true gradients (y - out where out - y belongs)"
            kind = "a sign convention"
        else:
            parts = explain_factor(factor, analysis.counts) or []
            what = (f"{factor:.4g} times the true gradients ("
                    f"{' and '.join(text for _, text in parts)})")
            kind = "a convention"
        notes.append(f"note: {kind}, looked past: from {_short_path(start.filename)}:"
                     f"{start.line} ({start.variable}) your deltas are {what}, and "
                     f"{_short_path(restored.filename)}:{restored.line} ({restored.variable}) "
                     f"undoes it. That is consistent.")
    return notes
