"""Loss modules: thin wrappers around the loss functions in ``nn.functional``.

Each takes ``reduction='mean'`` (the default: average over elements or samples), ``'sum'``
or ``'none'`` (no reduction), and is called as ``loss_fn(prediction, target)``.
"""

from . import functional as F
from .module import Module


class _Loss(Module):
    """Common base: stores and checks ``reduction``."""

    _name = "loss"
    _scope_root = "loss"   # drawn as "loss (CrossEntropyLoss)", beside "model (Sequential)"

    def __init__(self, reduction="mean"):
        super().__init__()
        F.check_reduction(reduction, self._name)
        self.reduction = reduction

    def extra_repr(self):
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error between predictions and targets of the *same* shape.

    ``(N,)`` predictions with ``(N, 1)`` targets raise instead of broadcasting to (N, N).
    """

    _name = "MSELoss"

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(_Loss):
    """Softmax + negative log-likelihood, for logits (N, C) and integer labels (N,).

    Give it raw scores: it applies log_softmax itself (stably, even for logits of +-1000).
    Float targets of shape (N, C) are read as class probabilities.
    """

    _name = "CrossEntropyLoss"

    def forward(self, input, target):
        return F.cross_entropy(input, target, reduction=self.reduction)


class NLLLoss(_Loss):
    """Negative log-likelihood for log-probabilities (N, C) (after LogSoftmax) and labels (N,)."""

    _name = "NLLLoss"

    def forward(self, input, target):
        return F.nll_loss(input, target, reduction=self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy for probabilities in [0, 1] (after Sigmoid) and 0/1 targets.

    Logs are clamped at -100, so predictions of exactly 0 or 1 stay finite. Prefer
    BCEWithLogitsLoss on raw scores.
    """

    _name = "BCELoss"

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one stable formula, for raw scores and 0/1 targets."""

    _name = "BCEWithLogitsLoss"

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, reduction=self.reduction)
