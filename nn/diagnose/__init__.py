"""``nn.diagnose``: why doesn't my network learn? The usual dozen checks, answered with evidence.

    report = nn.diagnose(model, loss_fn, X, y, optimizer=opt, steps=50)
    print(report)                         # findings with evidence and fixes, or "no problem found"
    [f.name for f in report.findings]     # stable identifiers, e.g. ["lr_too_high"]

It works in stages, each on the data or on copies of the model, each a module of this package
that returns its own result to the next:

1. ``data.py``, the batch: NaN/inf, rows that do not match, integer inputs or float labels,
   feature scales;
2. ``observe.py``, one forward and backward pass on a copy: the output, every relu/sigmoid/tanh
   and its input, the targets against the output and the loss, chance level, the gradients;
3. ``probe.py``, a short training probe on a copy (``steps`` full-batch steps with a copy of
   the optimizer), plus, only when that probe looks wrong, a sweep of learning rates on
   further copies;
4. ``checks.py``, one function per finding, reading the results of the stages before: the model
   against the loss and the targets (output activations, biases, layer widths, init), dead
   ReLUs, saturated units, gradients, and the probe's verdicts;
5. ``summary.py``, the key numbers, in words for the printed report and as ``report.numbers``.

``report.py`` holds ``Finding`` and ``DiagnosisReport``; ``thresholds.py`` every threshold the
stages judge by, each with the reason for its value. Imports between the modules run one way,
each stage standing on the ones before it; ``diagnose`` below calls them in that order.

The probe is judged against chance level, the loss of the best constant guess (and, for
classes, the accuracy of always guessing the most frequent one); when the batch has more rows
than the probe trains on, also on up to 512 of the others, to tell learning from memorising.
A loss that sums over rows is scaled to the whole batch, so the probe takes the user's step.
When the probe learns, its learning rate is not questioned; when the sweep shows larger steps
train (or stay steady), advice to lower the learning rate is dropped.

The user's model (weights, gradients, train/eval mode), the optimizer (settings and state) and
the engine's random stream are left exactly as they were: the probe trains ``copy.deepcopy``-ed
objects, and the random state is put back afterwards (Dropout draws from it).

Finding names:

========================  ===================================================================
``bad_data``              NaN/inf in X or y, labels out of range, silently broadcasting shapes
``unnormalized_inputs``   feature scales far from 1, or mostly constant features
``loss_output_mismatch``  softmax/sigmoid before CrossEntropyLoss, MSE on one-hot classes, ...
``bounded_output``        a sigmoid/tanh output while the targets lie outside its range
``missing_bias``          no bias anywhere, off-centre data, targets that need an offset
``symmetric_init``        identical hidden units (all-zero or all-equal weights)
``bottleneck``            a hidden layer narrower than the number of classes
``saturated_units``       most sigmoid/tanh pre-activations beyond +-5
``dead_relu``             ReLU units that output 0 for the whole batch
``exploding_gradients``   gradients huge next to the weights, or growing without bound
``lr_too_high``           the probe's loss diverges or oscillates; a smaller lr trains
``lr_too_low``            the probe does not move, or stays at chance level; a larger lr trains
``over_regularized``      weight decay undoes most of what the gradient learns
``collapsed_predictions`` no better than a constant guess: the same prediction for every
                          input, loss (or accuracy) at chance level, or below it only on
                          the rows the probe trained on
========================  ===================================================================
"""
import numpy as np

import tinygrad_edu as tg

from ..module import Module
from . import checks
from .data import Batch, prepare_batch, unnormalized_inputs
from .observe import Observation, observe_model
from .probe import ProbeResult, TrainingRun, run_probe
from .report import DiagnosisReport, Finding
from .summary import summarize
from .thresholds import (ACCURACY_GAIN, ACCURACY_NOISE, BLOWUP_FACTOR, CHANCE_MARGIN,
                         COLLAPSED_SHARE, CONSTANT_SHARE, DEAD_SHARE, DECAY_SHARE,
                         DEFAULT_PROBE_LRS, DIVERGED_FACTOR, EXPLODING_RATIO, GENERALISE_SHARE,
                         GOOD_PROGRESS, GRADIENT_GROWTH, LEARNED_ACCURACY_GAIN,
                         LEARNED_LOSS_SHARE, LR_SWEEP_FACTORS, OFFCENTRE_RATIO, OFFSET_GAIN,
                         OSCILLATION_SHARE, PROBE_ROWS, REGRESSION_SPREAD, SATURATED_SHARE,
                         SATURATION_Z, SCALE_TOO_LARGE, SCALE_TOO_SMALL, STALL_PROGRESS,
                         SUM_LOSS_RATIO)

__all__ = [
    "diagnose", "Finding", "DiagnosisReport",
    # each stage's result, for a look at one stage on its own
    "Batch", "Observation", "ProbeResult", "TrainingRun",
    "prepare_batch", "observe_model", "run_probe", "summarize",
    # the thresholds, as the single-file module had them
    "ACCURACY_GAIN", "ACCURACY_NOISE", "BLOWUP_FACTOR", "CHANCE_MARGIN", "COLLAPSED_SHARE",
    "CONSTANT_SHARE", "DEAD_SHARE", "DECAY_SHARE", "DEFAULT_PROBE_LRS", "DIVERGED_FACTOR",
    "EXPLODING_RATIO", "GENERALISE_SHARE", "GOOD_PROGRESS", "GRADIENT_GROWTH",
    "LEARNED_ACCURACY_GAIN", "LEARNED_LOSS_SHARE", "LR_SWEEP_FACTORS", "OFFCENTRE_RATIO",
    "OFFSET_GAIN", "OSCILLATION_SHARE", "PROBE_ROWS", "REGRESSION_SPREAD", "SATURATED_SHARE",
    "SATURATION_Z", "SCALE_TOO_LARGE", "SCALE_TOO_SMALL", "STALL_PROGRESS", "SUM_LOSS_RATIO",
]


def diagnose(model, loss_fn, X, y, *, optimizer=None, steps=50):
    """Check a model, a loss and a batch for the usual reasons a network does not learn.

    ``X`` and ``y`` are one batch (numpy arrays or Tensors; at most 512 rows are used for the
    model checks and the probe, all of them for the data checks). ``optimizer`` is the one you
    train with: the probe trains a copy of the model with a copy of it for ``steps`` full-batch
    steps, and judges its learning rate (without it, the probe uses Adam(lr=1e-3), or 1e-2 if
    that does not beat chance level, and the learning rate is not judged). With a loss that
    sums over rows (``reduction='sum'``) the probe's gradient is scaled to your whole batch, so
    learning rates are judged, and suggested, in your own terms. Returns a
    ``DiagnosisReport``; nothing you passed is changed.

    A report never says "no problem found" when the probe ends no better than chance level
    (the loss of the best constant guess; for classes, also the accuracy of always guessing
    the most frequent one), or beats it only on the rows it trained on.

    Problems in the data are reported as ``bad_data`` findings, not raised. Only arguments
    that are not a model, a loss or a step count raise (TypeError / ValueError).
    """
    if not isinstance(model, Module):
        raise TypeError(f"diagnose: model must be an nn.Module, got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"diagnose: loss_fn must be callable (e.g. nn.CrossEntropyLoss()), got "
                        f"{type(loss_fn).__name__}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 2:
        raise ValueError(f"diagnose: steps must be an int of at least 2, got {steps!r}")
    with _random_state_kept(), np.errstate(all="ignore"):
        batch = prepare_batch(X, y, loss_fn)
        # each stage runs only on what the one before could use; an empty Observation (no
        # output, no loss) and no probe leave the checks that need them with nothing to say
        observation = observe_model(model, loss_fn, batch) if batch.usable else Observation()
        probe = (run_probe(model, optimizer, loss_fn, int(steps), batch, observation)
                 if observation.usable else None)
        findings = _findings(model, loss_fn, batch, observation, probe)
        lines, numbers = summarize(loss_fn, batch, observation, probe)
    return DiagnosisReport(findings, lines, numbers)


def _findings(model, loss_fn, batch, observation, probe):
    """Every check, in the order the report lists its findings."""
    findings = [*batch.findings, *observation.findings, *unnormalized_inputs(batch)]
    findings += checks.loss_output_mismatch(loss_fn, batch, observation)
    findings += checks.bounded_output(batch, observation)
    findings += checks.missing_bias(model, batch, observation)
    findings += checks.symmetric_init(observation)
    findings += checks.bottleneck(observation)
    findings += checks.saturated_units(observation)
    findings += checks.dead_relu(batch, observation)
    if probe is None:
        return findings
    findings += checks.exploding_gradients(batch, observation, probe)
    findings = checks.merge(findings, checks.over_regularized(observation, probe)
                            + checks.learning_rate(observation, probe))
    findings = checks.settle_lr_advice(findings, probe)
    # never "no problem found" for a probe that does not beat chance level; but that is the
    # symptom users see: when a cause was found it is only told in the summary, as a finding
    # of its own it would just repeat that cause
    if not [f for f in findings if f.name != "bottleneck"]:
        findings += checks.collapsed_predictions(batch, observation, probe)
    return findings


class _random_state_kept:
    """Put the engine's random generator back as it was (the probe's Dropout draws from it)."""

    def __enter__(self):
        self.state = tg.get_rng_state()
        return self

    def __exit__(self, *exc):
        tg.set_rng_state(self.state)
        return False
