"""Step 2, truth: the forward graph, every intermediate's true gradient, the activations.

``forward`` ran on Tensors, so autograd gives the true gradient of the loss with respect to
*every* intermediate, dL/dz2 as well as dL/dW1. ``Truth`` holds them by tensor ``id``, with
each tensor's value, inputs and the learner's name for it. The values show which tensors
are activations (a = sigmoid(z), tanh(z), relu(z), softmax(z)): ``find_sites`` finds them,
whatever code computed them, as ``Site``s.
"""

import numpy as np

from .. import autograd
from .. import ops
from ..tensor import Tensor

# how many ops back from a gradient the search looks for the tensor a line stands for
NEAR_DEPTH = 8


class Site:
    """An activation in the forward pass: a = kind(z), with the layer it belongs to."""

    def __init__(self, kind, z, a, axis=None):
        self.kind, self.z, self.a, self.axis = kind, z, a, axis
        self.layer = "a layer"
        self.output = False

    @property
    def title(self):
        return {"relu": "ReLU"}.get(self.kind, self.kind)


def sigmoid(x):
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
    if close(a, sigmoid(z)):
        return "sigmoid", None
    if close(a, np.tanh(z)):
        return "tanh", None
    if np.any(z < 0) and np.any(z > 0) and close(a, np.maximum(z, 0)):
        return "relu", None
    for axis in (-1, 0):
        if a.ndim >= 1 and a.shape[axis] > 1 and close(a, _softmax(z, axis)):
            return "softmax", axis
    return None
