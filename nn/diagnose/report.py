"""The report nn.diagnose returns: ``Finding`` (one problem) and ``DiagnosisReport`` (all)."""

import textwrap


class Finding:
    """One problem: ``name`` (a stable identifier), ``evidence``, ``why``, ``fix``, ``numbers``.

    ``evidence`` is a sentence with the measured numbers, ``why`` says how the problem stops
    learning, ``fix`` what to change; ``numbers`` holds the key measurements for code.
    """

    def __init__(self, name, evidence, why, fix, **numbers):
        self.name = name
        self.evidence = evidence
        self.why = why
        self.fix = fix
        self.numbers = numbers

    def __str__(self):
        return "\n".join([self.name, _wrap("evidence: " + self.evidence),
                          _wrap("why: " + self.why), _wrap("fix: " + self.fix)])

    def __repr__(self):
        return f"<Finding {self.name}: {self.evidence}>"


class DiagnosisReport:
    """What ``nn.diagnose`` found: ``findings`` (a list), ``ok``, ``numbers``; print it to read.

    ``numbers`` holds the key measurements (losses, chance level, accuracies, ...), also given
    when nothing is wrong, so a clean report still says what was measured.
    """

    def __init__(self, findings, summary, numbers):
        self.findings = findings
        self.summary = summary
        self.numbers = numbers

    @property
    def ok(self):
        """True when no problem was found."""
        return not self.findings

    @property
    def names(self):
        """The findings' names, in report order."""
        return [f.name for f in self.findings]

    def __str__(self):
        if self.ok:
            lines = ["nn.diagnose: no problem found"]
        else:
            count = len(self.findings)
            lines = [f"nn.diagnose: {count} problem{'s' if count > 1 else ''} found: "
                     + ", ".join(self.names)]
        lines += [_wrap("  " + line, indent="  ") for line in self.summary]
        for i, finding in enumerate(self.findings, 1):
            lines += ["", f"{i}. " + str(finding).replace("\n", "\n   ")]
        return "\n".join(lines)

    __repr__ = __str__


def _wrap(text, indent="   "):
    """Wrap a line at 96 characters; continuation lines get an extra two spaces."""
    return textwrap.fill(text, width=96, subsequent_indent=indent + "  ",
                         break_long_words=False, break_on_hyphens=False)
