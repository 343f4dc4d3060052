"""Step 5, words: the first wrong line set against the named slips, and said in words.

``Explainer`` turns the ``Root`` the search found into a ``WrongLine``: which slip (a
``Hypothesis`` of ``slips.py``) the wrong value fits best, what it should have been ("dL/dz2,
the gradient at the input of the hidden layer's sigmoid"), why, and the fix, written with
the learner's own names. ``convention_notes`` says once each convention the learner kept and
undid (-1 for y - out, N for a 1/N applied at the end).
"""

import ast
import copy

import numpy as np

from ..compare import FACTOR_HINTS, FACTOR_RTOL, explain_factor
from .match import Matcher, is_one, name_hint, variants
from .report import WrongLine
from .slips import MISTAKES, Hypothesis, arrange, distortion_hypotheses, relu_mask_hypothesis
from .source import short_path


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
        scaled = [f for f in factors if not is_one(f)]
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
            if factor is None or (arranged.size < 2 and not is_one(abs(factor / expected))):
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
            if any(lay == "same" for lay, _ in variants(v, self.truth.value[key].shape)):
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
                      f"from)" if not is_one(expected) else "")
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


def convention_notes(analysis, root):
    """One note per convention the learner kept and undid (-1 for y - out, N for a 1/N
    applied at the end): said once, since it is not a mistake."""
    notes, said = [], []
    for start, restored in analysis.conventions():
        factor = start.match.factor
        if any(abs(factor - f) <= FACTOR_RTOL * abs(f) for f in said):
            continue
        said.append(factor)
        if is_one(-factor):
            what = "the negatives of the true gradients (y - out where out - y belongs)"
            kind = "a sign convention"
        else:
            parts = explain_factor(factor, analysis.counts) or []
            what = (f"{factor:.4g} times the true gradients ("
                    f"{' and '.join(text for _, text in parts)})")
            kind = "a convention"
        notes.append(f"note: {kind}, looked past: from {short_path(start.filename)}:"
                     f"{start.line} ({start.variable}) your deltas are {what}, and "
                     f"{short_path(restored.filename)}:{restored.line} ({restored.variable}) "
                     f"undoes it. That is consistent.")
    return notes
