"""Loss modules: thin wrappers around the loss functions in ``nn.functional``.

Each takes ``reduction='mean'`` (the default: average over elements or samples), ``'sum'``
or ``'none'`` (no reduction), and is called as ``loss_fn(prediction, target)``. The
constructors take PyTorch's arguments in PyTorch's order (``CrossEntropyLoss(weight)``
passes class weights); the deprecated ``size_average`` and ``reduce`` are read as PyTorch
reads them, with a warning. Weights (``weight``, ``pos_weight``) are buffers: saved in the
state dict, moved by ``.to()``, never trained.
"""

from tinygrad_edu import Tensor

from . import functional as F
from .functional.losses import _legacy_reduction
from .module import Module


class _Loss(Module):
    """Common base: stores and checks ``reduction``. As in PyTorch, the repr shows no
    arguments (``L1Loss()`` whatever the reduction): read ``.reduction`` for it."""

    _name = "loss"
    _scope_root = "loss"   # drawn as "loss (CrossEntropyLoss)", beside "model (Sequential)"

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        reduction = _legacy_reduction(self._name, reduction, size_average, reduce)
        F.check_reduction(reduction, self._name)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    """A loss with an optional ``weight`` buffer (per class or per element)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        if isinstance(weight, str):
            raise TypeError(f"{self._name}: got {weight!r} in the place of weight=; to pass a "
                            f"reduction write it by keyword: reduction={weight!r}")
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _optional_tensor(weight))


def _optional_tensor(value):
    return value if value is None or isinstance(value, Tensor) else Tensor(value)


class MSELoss(_Loss):
    """Mean squared error between predictions and targets of the *same* shape.

    ``(N,)`` predictions with ``(N, 1)`` targets raise instead of broadcasting to (N, N).
    """

    _name = "MSELoss"

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax + negative log-likelihood, for logits (N, C) and integer labels (N,).

    Give it raw scores: it applies log_softmax itself (stably, even for logits of +-1000).
    Also (C,) with one label, and (N, C, d1, ...) with labels (N, d1, ...). Float targets of
    the input's shape are read as class probabilities. ``weight`` (C,): per-class weights
    (the mean divides by the summed weights of the labels); ``ignore_index`` (default -100):
    samples with that label do not count; ``label_smoothing``: mix the target with the
    uniform distribution.
    """

    _name = "CrossEntropyLoss"

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0, "
                             f"got {label_smoothing}")
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood for log-probabilities (N, C) (after LogSoftmax) and labels (N,).

    Same shapes, ``weight`` and ``ignore_index`` as CrossEntropyLoss.
    """

    _name = "NLLLoss"

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy for probabilities in [0, 1] (after Sigmoid) and 0/1 targets.

    Logs are clamped at -100, so predictions of exactly 0 or 1 stay finite. ``weight``
    (broadcast to the input) multiplies each element's loss. Prefer BCEWithLogitsLoss on
    raw scores.
    """

    _name = "BCELoss"

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Sigmoid + binary cross-entropy in one stable formula, for raw scores and 0/1 targets.

    ``weight`` multiplies each element's loss; ``pos_weight`` (e.g. (C,) for C labels per
    sample) multiplies the loss of the positive targets: more than 1 raises recall.
    """

    _name = "BCEWithLogitsLoss"

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean",
                 pos_weight=None):
        super().__init__(weight, size_average, reduce, reduction)
        self.register_buffer("pos_weight", _optional_tensor(pos_weight))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class L1Loss(_Loss):
    """Mean absolute error |input - target|, for input and target of the same shape."""

    _name = "L1Loss"

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta: MSE near 0, L1 for outliers."""

    _name = "SmoothL1Loss"

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        if beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be non-negative, got {beta}")
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta): delta * SmoothL1Loss(delta)."""

    _name = "HuberLoss"

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be positive, got {delta}")
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """KL(target || model) for log-probabilities ``input`` and probabilities ``target``.

    Use ``reduction='batchmean'`` for the KL divergence per sample; the default 'mean'
    divides by the number of elements, as in PyTorch (and warns). ``log_target=True``: the
    target is given as log-probabilities too.
    """

    _name = "KLDivLoss"

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        if reduction not in ("mean", "batchmean", "sum", "none"):
            raise ValueError(f"KLDivLoss: reduction must be 'mean', 'batchmean', 'sum' or "
                             f"'none', got {reduction!r}")
        batchmean = reduction == "batchmean"
        super().__init__(size_average, reduce, "mean" if batchmean else reduction)
        self.reduction = "batchmean" if batchmean else self.reduction
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
