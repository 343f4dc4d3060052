"""nn.optim (also ``tinygrad_edu.optim``): optimizers and learning-rate schedulers.

``optimizer.py`` holds the optimizers (``SGD``, ``Adam``, ...): each step is plain array
arithmetic on the parameters, under ``no_grad``. ``lr_scheduler.py`` holds the schedulers
(``StepLR``, ``OneCycleLR``, ...), which only change ``param_groups[i]["lr"]``.
"""

from . import lr_scheduler
from .lbfgs import LBFGS
from .optimizer import SGD, Adadelta, Adagrad, Adam, AdamW, Optimizer, RMSprop
