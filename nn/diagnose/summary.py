"""Stage 5, the summary: the key numbers of every stage, in words and for code.

    lines, numbers = summarize(loss_fn, batch, observation, probe)

``lines`` head the printed report; ``numbers`` becomes ``report.numbers``. Both are given
when nothing is wrong, so a clean report still says what was measured.
"""

import numpy as np

from .checks import chance_text, collapse, dead_units
from .probe import accuracy


def summarize(loss_fn, batch, observation, probe):
    """(lines, numbers): the data, the probe's losses, chance level, accuracy, gradient ratios
    and dead ReLUs, as far as the stages got (``probe`` is None when it did not run)."""
    lines, n = [], {}
    if batch.X is None:
        return lines, n
    X, rows_total, classes = batch.X, batch.rows_total, observation.classes
    n.update(rows=len(X), rows_total=rows_total, features=int(np.prod(X.shape[1:])),
             classes=classes, loss_fn=type(loss_fn).__name__)
    data = f"data: {len(X)} rows" + (f" (of {rows_total})" if rows_total > len(X) else "")
    data += f" × {n['features']} features"
    data += f", {classes} classes" if classes else ""
    lines.append(data + f"; loss {n['loss_fn']}")
    if probe is None:
        return lines, n
    run, steps = probe.run, probe.steps
    n.update(loss_start=run.start, loss_end=run.losses[-1], chance_loss=observation.chance,
             probe_steps=steps, lr=run.lr)
    optimizer = (f"{probe.optimizer_name}(lr={run.lr:g})" if probe.optimizer_name is not None
                 else f"Adam(lr={run.lr:g}) (no optimizer given, so the learning "
                      "rate was not judged)")
    end = "inf/NaN (diverged)" if run.diverged else f"{run.losses[-1]:.4g}"
    lines.append(f"probe: {steps} steps of {optimizer} on a copy: loss {run.start:.4g} → "
                 f"{end}")
    if observation.sums_rows:
        scale = observation.loss_scale
        n.update(loss_reduction="sum", gradient_scale=scale)
        if scale != 1:
            lines.append(f"the loss sums over rows: the probe scales its gradient by "
                         f"{rows_total} / {len(X)} = {scale:.3g}, so that its "
                         "steps are as large as yours on the whole batch")
    if observation.chance is not None:
        lines.append(f"chance level: {chance_text(batch, observation)}")
    if run.held is not None:
        n.update(held_out_loss=run.held, held_out_chance=observation.held_chance)
        lines.append(f"on {len(batch.X_held)} rows the probe did not train on: loss "
                     f"{run.held:.4g}, chance level there {observation.held_chance:.4g}")
    state = collapse(run.output, batch, observation)
    if state is not None and state[0]:
        lines.append(f"after the probe {state[1]}: collapsed predictions")
    before, after = accuracy(observation.output, batch, observation), run.accuracy
    if before is not None and after is not None:
        n.update(accuracy_start=before[0], accuracy_end=after[0], majority_rate=after[1])
        lines.append(f"accuracy on the batch: {before[0]:.0%} → {after[0]:.0%} (always "
                     f"guessing the most frequent class: {after[1]:.0%})")
    ratios = ", ".join(f"{p or 'model'}: {g / w:.2g}"
                       for p, g, w in observation.layer_grads if w > 0)
    if ratios:
        per_row = " (per row, as for a mean loss)" if observation.sums_rows else ""
        lines.append(f"gradient norm / weight norm per Linear layer at the start{per_row}: "
                     f"{ratios}")
    relus = [a for a in observation.activations if a.kind == "relu"]
    if relus:
        shares = ", ".join(f"{a.label}: {dead_units(a.pre).mean():.0%}" for a in relus)
        lines.append(f"dead ReLU units: {shares}")
    return lines, n
