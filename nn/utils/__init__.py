"""nn.utils (``torch.nn.utils``): gradient clipping and parameter/vector conversion.

Like the optimizers, these change arrays under ``no_grad``; none computes a derivative.
"""

from .clip_grad import clip_grad_norm, clip_grad_norm_, clip_grad_value_
from .convert_parameters import parameters_to_vector, vector_to_parameters
