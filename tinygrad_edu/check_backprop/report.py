"""What ``check_backprop`` returns: a ``BackpropReport``, holding the first ``WrongLine``.

Plain result types and how they print; the words inside them are made in ``words.py``.
"""

from .source import short_path


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
        lines = [f"first wrong line: {short_path(self.filename)}:{self.line}, "
                 f"in {self.function}"]
        lines += ["    " + l for l in (self.source or "(source not available)").splitlines()]
        lines.append(f"  {self.variable} should be {self.should_be}")
        lines.append(f"  mistake: {self.mistake or 'none of the named slips'}")
        lines.append("  " + self.why)
        if self.fix:
            lines.append("  fix: " + self.fix)
        return "\n".join(lines)

    def __repr__(self):
        return (f"<WrongLine {short_path(self.filename)}:{self.line} {self.variable}: "
                f"{self.mistake}>")


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
