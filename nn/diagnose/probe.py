"""Stage 3, the training probe: a few full-batch steps on copies, and a learning-rate sweep.

    probe = run_probe(model, optimizer, loss_fn, steps, batch, observation)   # a ProbeResult

The probe trains a copy of the model with a copy of the optimizer; with weight decay, a second
copy trains without it. Only when the probe looks wrong (its loss rose or oscillated, or it did
not move) do further copies try smaller or larger learning rates. Each training run is a
``TrainingRun``: its losses and the verdicts drawn from them.
"""

import dataclasses
import math

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Tensor

from ..optim import Adam
from .observe import copy_for_probe, norm, scalar
from .thresholds import (ACCURACY_GAIN, ACCURACY_NOISE, BLOWUP_FACTOR, CHANCE_MARGIN,
                         DECAY_SHARE, DEFAULT_PROBE_LRS, DIVERGED_FACTOR, GENERALISE_SHARE,
                         GOOD_PROGRESS, LEARNED_ACCURACY_GAIN, LEARNED_LOSS_SHARE,
                         LR_SWEEP_FACTORS, OSCILLATION_SHARE, STALL_PROGRESS)


class TrainingRun:
    """Losses (one per step, then one after the last step), gradient and weight norms, and the
    verdicts drawn from them: unstable, good, beat_chance, learned, memorised."""

    def __init__(self, lr, losses, grad_norms, weight_norms, output, chance, accuracy=None,
                 held=None, held_chance=None):
        self.lr, self.losses, self.output = lr, losses, output
        self.grad_norms, self.weight_norms = grad_norms, weight_norms
        self.accuracy, self.held = accuracy, held
        finite = [v for v in losses if math.isfinite(v)]
        self.start = losses[0]
        self.diverged = len(finite) < len(losses) or output is None
        tail = losses[-max(1, len(losses) // 5):]          # robust to the last step's noise
        self.end = float(np.median(tail)) if not self.diverged else math.inf
        # the loss of the trained copy (eval mode), as the summary shows it
        self.final = losses[-1] if not self.diverged else math.inf
        self.progress = (self.start - self.end) / abs(self.start) if self.start else 0.0
        self.blew_up = bool(finite) and max(finite) > BLOWUP_FACTOR * abs(self.start)
        rises = np.diff(finite) > 1e-3 * np.abs(finite[:-1]) if len(finite) > 1 else []
        self.oscillating = len(rises) >= 4 and np.mean(rises) >= OSCILLATION_SHARE
        self.unstable = self.diverged or self.blew_up or self.oscillating
        # rising above the start at all is a sign of overshooting, even if it then settles
        self.rose = len(finite) > 1 and max(finite[1:]) > self.start + 1e-3 * abs(self.start)
        # the loss of the best constant prediction is where a model lands that learned nothing
        self.at_chance = chance is not None and self.end >= CHANCE_MARGIN * chance
        below_chance = chance is not None and self.final < CHANCE_MARGIN * chance
        gain = _accuracy_gain(accuracy)
        # below chance on its own rows but not on rows it never saw: memorised, not learned
        self.memorised = (below_chance and held is not None and _gain(held, held_chance)
                          < GENERALISE_SHARE * _gain(self.final, chance))
        self.judged = chance is not None or accuracy is not None
        self.beat_chance = (below_chance or gain >= ACCURACY_GAIN) and not self.memorised
        # learned: far below chance, or nearly always right (on a few rows, such as XOR's 4,
        # that counts together with a loss below chance level, not on its own)
        self.learned = (not self.diverged and not self.memorised
                        and (chance is not None and self.final <= LEARNED_LOSS_SHARE * chance
                             or gain >= LEARNED_ACCURACY_GAIN
                             or below_chance and _accuracy_gain(accuracy, noise=False)
                             >= LEARNED_ACCURACY_GAIN))
        # trained well: steadily and clearly below chance, or it learned, whatever the path
        self.good = self.learned or (not self.unstable and self.progress >= GOOD_PROGRESS
                                     and not self.at_chance and not self.memorised)
        finite_grads = [g for g in grad_norms if math.isfinite(g)]
        self.gradient_growth = (math.inf if len(finite_grads) < len(grad_norms)
                                else max(grad_norms) / grad_norms[0]
                                if grad_norms and grad_norms[0] > 0 else 1.0)
        self.weight_growth = (max(weight_norms) / weight_norms[0]
                              if weight_norms[0] > 0 and all(map(math.isfinite, weight_norms))
                              else math.inf)


@dataclasses.dataclass(frozen=True)
class ProbeResult:
    """Everything the probe stage trained: ``run`` (the probe itself) and the runs that judge
    it, with the questions that decided which of them were trained.

    ``lr`` and ``weight_decay`` are your optimizer's (``lr`` is None without an optimizer: the
    probe then uses Adam and the learning rate is not judged). ``without_decay`` is the probe
    again with weight_decay 0, when you use weight decay; ``decay_dominates`` says that decay
    undid most of what the probe would have learned without it. ``lr_question`` is 'too high'
    (the loss rose, blew up or oscillated), 'too low' (it did not move, or stayed at chance
    level) or None (the probe trained, or weight decay explains it); ``sweep_down`` and
    ``sweep_up`` are the runs at smaller and larger learning rates that answer it, or None.
    """

    steps: int
    run: TrainingRun
    optimizer_name: str = None     # your optimizer's class name; None when the probe used Adam
    lr: float = None
    weight_decay: float = 0.0
    without_decay: TrainingRun = None
    decay_dominates: bool = False
    lr_question: str = None
    sweep_down: tuple = None
    sweep_up: tuple = None


def run_probe(model, optimizer, loss_fn, steps, batch, observation):
    """Train copies: the probe, without weight decay if you use it, and, when the probe's
    learning rate looks wrong, a sweep of smaller or larger ones."""
    trainer = _Trainer(model, optimizer, loss_fn, steps, batch, observation)
    run = _first_run(trainer, optimizer)
    lr, decay = learning_rate(optimizer), _weight_decay(optimizer)
    without_decay = trainer.run(weight_decay=0.0) if decay > 0 else None
    dominates = without_decay is not None and _decay_dominates(run, without_decay)
    question = None if dominates else _lr_question(run)
    sweep_down = sweep_up = None
    if question == "too high" and lr is not None:
        sweep_down = trainer.sweep([1 / f for f in LR_SWEEP_FACTORS])
    elif question == "too low" and lr is not None:
        sweep_up = trainer.sweep(LR_SWEEP_FACTORS)
    optimizer_name = type(optimizer).__name__ if optimizer is not None else None
    return ProbeResult(steps, run, optimizer_name, lr, decay, without_decay, dominates, question,
                       sweep_down, sweep_up)


def learning_rate(optimizer):
    """The optimizer's (first group's) learning rate, or None."""
    groups = getattr(optimizer, "param_groups", None)
    return groups[0].get("lr") if groups else None


def _weight_decay(optimizer):
    groups = getattr(optimizer, "param_groups", None) or []
    return max((g.get("weight_decay", 0) or 0 for g in groups), default=0)


def _first_run(trainer, optimizer):
    """The probe with your optimizer; without one, with Adam at 1e-3, or at 1e-2 when 1e-3 does
    not beat chance level in the probe's few steps (the learning rate is not judged then)."""
    if optimizer is not None:
        return trainer.run()
    for lr in DEFAULT_PROBE_LRS:
        run = trainer.run(default_lr=lr)
        if run.beat_chance or run.unstable or not run.judged:
            break
    return run


def _decay_dominates(run, without_decay):
    """Weight decay undoes more than DECAY_SHARE of the progress the probe makes without it
    (and without it, it trains well: else the decay is not the reason)."""
    if not without_decay.good:
        return False
    gained = without_decay.start - without_decay.end
    lost = run.end - without_decay.end
    return lost > DECAY_SHARE * gained


def _lr_question(run):
    """'too high' when the probe's loss rose, blew up or oscillated; 'too low' when it barely
    moved or stayed at chance level; None when it trained well (or learned, however bumpy the
    way: its lr works), or when there is no learning rate to judge."""
    losses = [v for v in run.losses if math.isfinite(v)]
    if not losses or min(losses) < 0 or run.start <= 1e-12:
        return None    # a loss that is already 0, or unbounded below: no lr to judge
    if run.good:
        return None
    if run.unstable or run.rose:
        return "too high"
    stuck = run.judged and not run.beat_chance
    if abs(run.progress) < STALL_PROGRESS or stuck:
        return "too low"
    return None


class _Trainer:
    """Trains fresh copies of the model on the probe's rows; each ``run`` is one TrainingRun."""

    def __init__(self, model, optimizer, loss_fn, steps, batch, observation):
        self.model, self.optimizer, self.loss_fn, self.steps = model, optimizer, loss_fn, steps
        self.batch, self.observation = batch, observation

    def run(self, lr_factor=1.0, weight_decay=None, default_lr=DEFAULT_PROBE_LRS[0]):
        """Train a fresh copy for ``steps`` full-batch steps; the lr scaled by ``lr_factor``."""
        batch, observation, loss_fn = self.batch, self.observation, self.loss_fn
        model, optimizer = copy_for_probe(self.model, self.optimizer)
        if optimizer is None:
            optimizer = Adam(model.parameters(), lr=default_lr)
        for group in getattr(optimizer, "param_groups", []):
            group["lr"] = group["lr"] * lr_factor
            if weight_decay is not None and "weight_decay" in group:
                group["weight_decay"] = weight_decay
        params = [p for p in model.parameters() if p.requires_grad]
        x, y = Tensor(batch.X), Tensor(batch.y)
        losses, grad_norms, weight_norms, output = [], [], [norm(p.numpy() for p in params)], None
        held = None
        scale = observation.loss_scale       # a summed loss: see observe_model
        try:
            for _ in range(self.steps):
                loss = scalar(loss_fn(model(x), y))
                losses.append(loss.item())
                if not math.isfinite(losses[-1]) or losses[-1] > DIVERGED_FACTOR * abs(losses[0]):
                    break
                optimizer.zero_grad()
                (loss * scale if scale != 1 else loss).backward()
                grad_norms.append(norm(p.grad.numpy() for p in params if p.grad is not None))
                optimizer.step()
                weight_norms.append(norm(p.numpy() for p in params))
            else:
                model.eval()       # the predictions as they would be used (Dropout off)
                with tg.no_grad():
                    prediction = model(x)
                    losses.append(scalar(loss_fn(prediction, y)).item())
                output = prediction.numpy()
                held = self._held_out_loss(model)
        except (ValueError, TypeError, FloatingPointError, OverflowError):
            # once the weights hold NaN some losses refuse their input (BCELoss checks [0, 1])
            losses.append(math.nan)
        return TrainingRun(learning_rate(optimizer), losses, grad_norms, weight_norms, output,
                           observation.chance, accuracy(output, batch, observation), held,
                           observation.held_chance)

    def sweep(self, factors):
        """Runs at the lr times each factor, stopping once past the range that trains."""
        runs = []
        for factor in factors:
            run = self.run(lr_factor=factor)
            runs.append(run)
            if factor > 1 and run.unstable:
                break                           # larger learning rates only get worse
            if any(r.good for r in runs) and not run.good:
                break                           # walked out of the range that trains
        return tuple(runs)

    def _held_out_loss(self, model):
        """The trained copy's loss on rows it did not train on, or None (none, or it fails)."""
        batch = self.batch
        if batch.X_held is None or self.observation.held_chance is None:
            return None
        try:
            with tg.no_grad():
                loss = scalar(self.loss_fn(model(Tensor(batch.X_held)),
                                           Tensor(batch.y_held))).item()
        except (ValueError, TypeError, IndexError):
            return None       # e.g. a label out of range among rows the data checks did not see
        return loss if math.isfinite(loss) else None


# ----- chance level and accuracy -------------------------------------------------------------

def _gain(loss, chance):
    """How far below chance level ``loss`` lies, as a share of chance level (scale-free, so a
    summed loss on fewer rows compares too)."""
    if loss is None or chance is None or chance <= 0 or not math.isfinite(loss):
        return 0.0
    return (chance - loss) / chance


def accuracy(output, batch, observation):
    """(accuracy, rate of always guessing the most frequent class, number of guesses) of the
    class predictions in ``output`` on the probe's rows, or None when y holds no classes."""
    if output is None:
        return None
    y, kind, labels = batch.y, batch.kind, observation.labels
    if labels is not None and output.ndim == 2 and output.shape[1] >= 2:
        predicted, truth = output.argmax(axis=1), labels
        majority = np.bincount(truth).max() / len(truth)
    elif (kind in ("bce", "bce_logits", "mse") and output.shape == y.shape
          and np.isin(y, (0, 1)).all()):
        # 0/1 targets: yes/no questions, one per output column, answered at 0.5 (logits at 0)
        predicted, truth = output > (0.0 if kind == "bce_logits" else 0.5), y > 0.5
        share = truth.mean(axis=0)
        majority = np.maximum(share, 1 - share).mean()
    else:
        return None
    return float((predicted == truth).mean()), float(majority), int(predicted.size)


def _accuracy_gain(measured, noise=True):
    """The share of the gap between always guessing the most frequent class and always being
    right that ``measured`` (as ``accuracy`` returns it) closes; 0 when the gain is within the
    noise of a guess (unless ``noise`` is False)."""
    if measured is None:
        return 0.0
    rate, majority, count = measured
    margin = ACCURACY_NOISE * math.sqrt(majority * (1 - majority) / count) if noise else 0.0
    if majority >= 1 or rate - majority <= margin:
        return 0.0
    return (rate - majority) / (1 - majority)
