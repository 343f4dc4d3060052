"""Step 1, follow: run the learner's forward and backward passes under a line tracer.

Both functions run under Python's line tracer (``sys.settrace``), limited to the learner's
own code (not tinygrad_edu, nn, numpy or the standard library). After each line the arrays it
produced are recorded as ``Event``s (locals, and attributes set on ``self``), together with
the names the line read: ``delta2 = np.dot(delta3, W2.T) * f(z2)`` read ``delta3``, ``W2``
and ``z2``. The forward pass runs on Tensors and is followed only to learn the learner's
names for them; the backward pass runs on numpy copies of the parameters.

``run_forward`` and ``run_backward`` are what ``check_backprop`` calls; ``Recorder`` and
``follow`` do the tracing.
"""

import ast
import functools
import linecache
import os
import sys
import sysconfig

import numpy as np

from .. import autograd
from ..autograd import strict_numbers
from ..compare import check_loss, check_names
from ..tensor import Tensor
from .source import Source, bytecode_reads, element_node, element_reads, reads_of, short_path

# arrays larger than this are not copied after every line, only followed by identity
SNAPSHOT_MAX_SIZE = 1_000_000


def _library_dirs():
    """Directories whose code is not the learner's: tinygrad_edu, nn, numpy, the stdlib."""
    # this file is tinygrad_edu/check_backprop/follow.py: the package is two levels up
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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

    ``match`` (set in step 3, by ``match.match_events``) says what it stands for: a forward
    value, or the true gradient of some tensor, possibly with the opposite sign;
    ``gradient_like`` (set in step 4, by ``search.Analysis``) whether it carries a gradient.
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


def run_forward(forward, tensors):
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
            f"{short_path(where[0])}:{where[1]}\n    {code}\n{error}")


def _release_tensors(recorder):
    """Tensors the forward pass stored on the learner's objects (``self.z2``) become numpy
    arrays again, so that a backward pass reading them runs on numpy, as after the
    learner's own forward pass."""
    for obj in recorder.watched.values():
        for name, value in _attributes(obj):
            if isinstance(value, Tensor):
                setattr(obj, name, np.array(value.numpy()))


def forward_names(recorder):
    """id(tensor) -> the first name the forward pass gave it (``z2``, ``self.a2``)."""
    names = {}
    for event in recorder.events:
        if not event.variable.endswith("(...)"):
            names.setdefault(id(event.obj), event.variable)
    return names


def run_backward(backward, params):
    """Run ``backward`` on numpy copies of ``params``, followed: its gradients as
    {name: array}, and the recorder holding every array it computed."""
    recorder = Recorder(arrays=True)
    copies = {name: _as_float_array(value) for name, value in params.items()}
    hand = _hand_gradients(follow(backward, copies, recorder), params)
    return hand, recorder


def _as_float_array(value):
    array = np.array(value, copy=True)
    return array if array.dtype.kind == "f" else array.astype(np.float64)


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
