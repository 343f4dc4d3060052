"""Stage 2, one observed pass: the batch forward and backward through a copy of the model.

    observation = observe_model(model, loss_fn, batch)    # an Observation

Every leaf module of the copy logs its calls (which Linear ran, with what output); the
relu/sigmoid/tanh ops are found in the recorded graph with ``tg.walk``, so an activation
written as ``x.relu()`` inside a custom ``forward`` counts as much as ``nn.ReLU()``.
"""

import collections
import copy
import dataclasses
import math

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Tensor, ops

from ..activations import LogSoftmax, Sigmoid, Softmax, Tanh
from ..layers import Linear
from .data import CLASS_LOSSES, bad_data
from .thresholds import SUM_LOSS_RATIO

# primitive op -> activation, for finding activations in the recorded graph
ACTIVATION_OPS = ((ops.Relu, "relu"), (ops.Sigmoid, "sigmoid"), (ops.Tanh, "tanh"))

Activation = collections.namedtuple("Activation", "kind label pre is_output")
Activation.__doc__ = """A relu/sigmoid/tanh found in the graph: its kind ('relu', ...), a label
for the report, its input array (the pre-activation) and whether it is the model's output."""


@dataclasses.dataclass(frozen=True)
class Observation:
    """What one forward and backward pass on a copy of the model showed.

    It holds as much as the batch got through: ``output`` is None when the model refused X,
    ``loss`` is None when the targets or the loss refused the output (``usable`` is False
    then, and there is nothing to probe). ``findings`` are its bad_data findings.
    """

    findings: tuple = ()
    output: np.ndarray = None      # the model's output on the probe's rows, at the start
    output_activation: str = None  # 'sigmoid', 'tanh', 'softmax', 'log_softmax' or None
    linears: tuple = ()            # (path, Linear) of the copy, in call order
    activations: tuple = ()        # an Activation per relu/sigmoid/tanh, input side first
    classes: int = None            # number of mutually exclusive classes, if any
    labels: np.ndarray = None      # integer class per row, if any
    one_hot: bool = False          # targets given as one-hot rows
    loss: float = None             # the loss at the start
    chance: float = None           # the loss of the best constant prediction
    held_chance: float = None      # the same constant's loss on the held-out rows
    sums_rows: bool = False        # the loss sums over rows (reduction='sum')
    loss_scale: float = 1.0        # rows_total / rows for such a loss, else 1
    layer_grads: tuple = ()        # (path, |gradient|, |weight|) per Linear, at the start
    grad_norm: float = 0.0         # of all parameters (per row for a summed loss)
    weight_norm: float = 0.0

    @property
    def usable(self):
        """True when model and loss both took the batch."""
        return self.loss is not None


def observe_model(model, loss_fn, batch):
    """Run the batch through a copy once, forward and backward, and keep what the checks need."""
    copied, _ = copy_for_probe(model, None)
    calls = _record_calls(copied)
    try:
        output = copied(Tensor(batch.X))
    except (ValueError, TypeError, IndexError) as error:
        return Observation(findings=(bad_data(
            f"the model cannot take this X (shape {batch.X.shape}): {error}",
            "give X the shape the first layer expects: (rows, in_features)"),))
    # read the graph before backward, which releases its buffers
    seen = Observation(output=output.numpy().copy(),
                       output_activation=_output_activation(output, calls),
                       linears=_unique((c.path, c.module) for c in calls
                                       if isinstance(c.module, Linear)),
                       activations=_find_activations(output, calls))
    targets, findings = _read_targets(seen.output, batch, loss_fn)
    if targets is None:
        return dataclasses.replace(seen, findings=findings)
    seen = dataclasses.replace(seen, findings=findings, classes=targets.classes,
                               labels=targets.labels, one_hot=targets.one_hot)
    try:
        loss = scalar(loss_fn(output, Tensor(batch.y)))
    except (ValueError, TypeError, IndexError) as error:
        return dataclasses.replace(seen, findings=findings + (bad_data(
            f"the loss cannot be computed on this batch: {error}",
            "make predictions and targets fit as the message says"),))
    value = loss.item()
    constant = _constant_prediction(seen, batch)
    chance = _loss_of_constant(loss_fn, constant, batch.y, seen.output)
    held_chance = (_loss_of_constant(loss_fn, constant, batch.y_held, seen.output)
                   if batch.X_held is not None else None)
    sums_rows = _sums_over_rows(loss_fn, batch, seen.output)
    if loss.requires_grad and math.isfinite(value):
        loss.backward()
    # per Linear layer: |gradient| / |weight|, which an optimizer step multiplies by the lr;
    # per row for a summed loss, as the thresholds assume a mean (and its lr is smaller by as much)
    per_row = len(batch.X) if sums_rows else 1
    layer_grads = tuple((path, norm([m.weight.grad.numpy()]) / per_row
                         if m.weight.grad is not None else 0.0,
                         norm([m.weight.numpy()])) for path, m in seen.linears)
    return dataclasses.replace(
        seen, loss=value, chance=chance, held_chance=held_chance, sums_rows=sums_rows,
        # a summed loss's gradient grows with the rows it adds up: the probe multiplies its
        # loss by rows_total / rows, so that its steps are as large as yours on the whole batch
        loss_scale=batch.rows_total / len(batch.X) if sums_rows else 1.0,
        layer_grads=layer_grads,
        grad_norm=norm([p.grad.numpy() for p in copied.parameters()
                        if p.grad is not None]) / per_row,
        weight_norm=norm([p.numpy() for p in copied.parameters()]))


def copy_for_probe(model, optimizer):
    """Deep copies of the model and the optimizer, made together so that the copied optimizer
    holds the copied parameters (one memo maps each parameter to its copy); no gradients,
    training mode."""
    model_copy, optimizer_copy = copy.deepcopy((model, optimizer))
    for param in model_copy.parameters():
        param.grad = None
    model_copy.train()
    return model_copy, optimizer_copy


def scalar(loss):
    """The loss as one number (a loss with reduction='none' is averaged)."""
    return loss if loss.numel() == 1 else loss.mean()


def norm(arrays):
    """The Euclidean norm of all the arrays together, in float64."""
    return math.sqrt(sum(float(np.sum(np.square(a, dtype=np.float64))) for a in arrays))


def layer_name(path, module):
    """'fc1 (Linear 64→256)', '1 (ReLU)'; 'model' for the model itself."""
    if isinstance(module, Linear):
        return f"{path or 'model'} (Linear {module.in_features}→{module.out_features})"
    return f"{path or 'model'} ({type(module).__name__})"


# ----- the forward pass ------------------------------------------------------------------------

_Call = collections.namedtuple("_Call", "path module output")   # one recorded module call


def _record_calls(model):
    """Make every leaf module of ``model`` (a copy!) log its calls, in order, into a list."""
    calls = []
    for path, module in model.named_modules():
        if next(module.children(), None) is not None:
            continue

        def forward(*args, _path=path, _module=module, _forward=module.forward, **kwargs):
            output = _forward(*args, **kwargs)
            calls.append(_Call(_path, _module, output))
            return output

        module.forward = forward      # an instance attribute shadows the class's forward
    return calls


def _unique(pairs):
    """(path, module) pairs in order, each module once (a module may be called twice)."""
    seen, result = set(), []
    for path, module in pairs:
        if id(module) not in seen:
            seen.add(id(module))
            result.append((path, module))
    return tuple(result)


def _output_activation(output, calls):
    """'sigmoid', 'tanh', 'softmax' or 'log_softmax' if the model ends with one, else None."""
    op = output.grad_fn
    last = calls[-1].module if calls and calls[-1].output is output else None
    if isinstance(op, ops.Sigmoid) or isinstance(last, Sigmoid):
        return "sigmoid"
    if isinstance(op, ops.Tanh) or isinstance(last, Tanh):
        return "tanh"
    values = output.numpy().astype(np.float64)
    if values.ndim != 2 or values.shape[1] < 2:
        return None
    # recognised by value too, so a softmax written inside forward() is found as well
    if isinstance(last, Softmax) or ((values >= 0).all()
                                     and np.allclose(values.sum(axis=1), 1, atol=1e-3)):
        return "softmax"
    logsumexp = np.log(np.exp(values - values.max(axis=1, keepdims=True)).sum(axis=1))
    logsumexp += values.max(axis=1)
    if isinstance(last, LogSoftmax) or np.allclose(logsumexp, 0, atol=1e-3):
        return "log_softmax"
    return None


def _find_activations(output, calls):
    """Every relu/sigmoid/tanh op behind ``output``, with its input array, input side first."""
    module_calls = {id(c.output): c for c in calls}
    found = []
    for tensor in tg.walk(output):        # output first, each tensor once
        op = tensor.grad_fn
        kind = next((kind for cls, kind in ACTIVATION_OPS if isinstance(op, cls)), None)
        if kind is not None and op.inputs:
            pre = op.inputs[0]
            label = _activation_label(kind, tensor, pre, module_calls)
            found.append(Activation(kind, label, pre.numpy(), tensor is output))
    return tuple(reversed(found))


def _activation_label(kind, tensor, pre, module_calls):
    """'1 (ReLU)' for a module, 'relu after fc1 (Linear 64→256)' for a function call."""
    call = module_calls.get(id(tensor))
    if call is not None:
        return f"{call.path or 'model'} ({type(call.module).__name__})"
    source = module_calls.get(id(pre))
    if source is not None:
        return f"{kind} after {layer_name(source.path, source.module)}"
    return kind


# ----- the targets against the output ----------------------------------------------------------

_Targets = collections.namedtuple("_Targets", "classes labels one_hot",
                                  defaults=(None, None, False))


def _read_targets(out, batch, loss_fn):
    """What the targets say about the task (classes, one label per row, one-hot rows), and
    bad_data findings for targets that do not fit the output and the loss.

    Returns (_Targets, findings); _Targets is None when the loss cannot take them.
    """
    y, kind = batch.y, batch.kind
    n = len(y)
    if kind in CLASS_LOSSES and out.ndim == 2:
        classes = out.shape[1]
        if kind == "cross_entropy" and y.dtype.kind == "f" and y.shape == out.shape:
            return _Targets(classes, y.argmax(axis=1)), ()      # class probabilities
        if y.dtype.kind in "iu" and y.shape == (n,):
            bad = (y < 0) | (y >= classes)
            if bad.any():
                hint = (" (labels 1..C: subtract 1)" if y.min() == 1 and y.max() == classes
                        else "")
                return None, (bad_data(
                    f"{int(bad.sum())} of {n} labels lie outside 0..{classes - 1}: the labels "
                    f"run from {y.min()} to {y.max()} but the model has {classes} outputs, one "
                    f"per class{hint}",
                    "make the last layer's out_features the number of classes, and the labels "
                    "0..C-1", labels_out_of_range=int(bad.sum())),)
            return _Targets(classes, y.astype(np.int64)), ()
        return _Targets(), ()
    same_shape_loss = kind in (None, "mse", "bce", "bce_logits")
    if y.dtype.kind == "f" and same_shape_loss and out.shape != y.shape:
        try:
            shape = np.broadcast_shapes(out.shape, y.shape)
        except ValueError:
            return _Targets(), ()      # does not broadcast at all: the loss raises and says so
        return None, (bad_data(
            f"predictions have shape {out.shape} but targets {y.shape}; comparing them "
            f"broadcasts to {shape}, every prediction against every target",
            f"make the shapes equal, e.g. y = y.reshape({out.shape})", broadcast_shape=shape),)
    if kind in ("bce", "bce_logits") and ((y < 0) | (y > 1)).any():
        return None, (bad_data(f"{type(loss_fn).__name__} targets must lie in [0, 1]; they run "
                               f"from {y.min():.3g} to {y.max():.3g}",
                               "use 0/1 labels (or probabilities) as targets"),)
    if kind == "bce" and out.size and ((out < 0) | (out > 1)).any():
        return None, ()      # BCELoss refuses these; checks.loss_output_mismatch explains
    if kind in ("mse", "bce", "bce_logits") and _is_one_hot(y):
        return _Targets(y.shape[1], y.argmax(axis=1), one_hot=True), ()
    return _Targets(), ()


def _is_one_hot(y):
    return (y.ndim == 2 and y.shape[1] >= 2 and np.isin(y, (0, 1)).all()
            and (y.sum(axis=1) == 1).all())


# ----- the loss: chance level and reduction ------------------------------------------------------

def _constant_prediction(seen, batch):
    """The best constant prediction for the probe's rows (one output row), or None: the class
    frequencies (as the loss wants them), or the targets' mean."""
    y, kind, output = batch.y, batch.kind, seen.output
    if seen.labels is not None and output.ndim == 2:
        prior = np.bincount(seen.labels, minlength=output.shape[1])[:output.shape[1]]
        prior = prior / prior.sum()
        if kind in CLASS_LOSSES:
            return np.log(np.maximum(prior, 1e-12))    # logits and log-probabilities alike
        if kind == "bce_logits":
            return _logit(prior)
        return prior
    if y.dtype.kind == "f" and y.shape == output.shape and y.ndim >= 1:
        mean = y.mean(axis=0)
        return _logit(mean) if kind == "bce_logits" else mean
    return None


def _loss_of_constant(loss_fn, constant, y, output):
    """The loss of predicting ``constant`` for every row of targets ``y``: the chance level."""
    if constant is None:
        return None
    shape = (len(y),) + output.shape[1:]
    prediction = np.broadcast_to(constant, shape).astype(output.dtype)
    try:
        with tg.no_grad():
            return scalar(loss_fn(Tensor(prediction), Tensor(y))).item()
    except (ValueError, TypeError, IndexError):
        return None


def _logit(p):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def _sums_over_rows(loss_fn, batch, output):
    """Does the loss add up its rows (reduction='sum') rather than average them?

    Told by the loss's ``reduction`` if it has one, else measured: on every second row a sum
    halves while a mean stays about the same.
    """
    reduction = getattr(loss_fn, "reduction", None)
    if isinstance(reduction, str):
        return reduction == "sum"
    if batch.kind is not None or len(batch.X) < 4:
        return False       # nn.functional's losses take the mean unless told otherwise
    try:
        with tg.no_grad():
            whole = scalar(loss_fn(Tensor(output), Tensor(batch.y))).item()
            half = scalar(loss_fn(Tensor(output[::2]), Tensor(batch.y[::2]))).item()
    except (ValueError, TypeError, IndexError):
        return False
    return whole > 0 and half > 0 and whole / half > SUM_LOSS_RATIO
