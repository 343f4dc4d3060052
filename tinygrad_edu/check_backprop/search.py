"""Step 4, search: from each wrong parameter gradient back to the first wrong line.

``Analysis`` first marks which of the backward pass's arrays carry a gradient, then
``find`` walks from each wrong gradient the learner returned, back through what each line
read, to the first line whose result is wrong while everything it was computed from was
right. It returns that place as a ``Root``: the event, what it should have been, and how it
was found (a wrong line, a skipped derivative, a value handed over under the wrong name, a
factor that starts there and is never undone, a missing gradient). ``conventions`` finds
the factors the learner kept and undid later, which are no mistake.
"""

import ast

import numpy as np

from ..compare import FACTOR_RTOL
from .match import Matcher, is_one, name_hint, variants
from .slips import arrange, site_hypotheses
from .source import bytecode_compares


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

    def __init__(self, truth, recorder, hand, comparisons, matcher):
        self.truth = truth
        self.recorder = recorder
        self.events = recorder.events   # each with its ``match`` set by ``match_events``
        self.hand = hand
        self.comparisons = comparisons
        self.matcher = matcher
        self.counts = matcher.counts
        self.param_key = {name: key for key, name in truth.params.items()}
        self.returned = {id(obj) for obj in hand.values()}
        self._site_hypotheses = {}
        self._mark_gradient_like()

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
            arranged = [a for layout, a in variants(seed_value, truth.value[w].shape)
                        if layout == "same"]
            if not arranged:
                continue
            targets = [target] if target is not None else [
                k for k, _ in truth.ancestors(w)[1:] if k in truth.grad and
                any(lay == "same" for lay, _ in variants(v, truth.value[k].shape))]
            targets = [k for k in targets if k in dict(truth.ancestors(w, depth=64))]
            if not targets:
                continue
            for k, expected in zip(targets, truth.pull_back(w, arranged[0], targets)):
                if expected is None:
                    continue
                for layout, mine in variants(v, expected.shape):
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
                seed = [a for lay, a in variants(v, truth.value[w].shape) if lay == "same"]
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
        if factor is None or is_one(factor):
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
