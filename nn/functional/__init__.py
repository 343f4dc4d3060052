"""Stateless versions of the layers, activations and losses (PyTorch's ``torch.nn.functional``).

Everything here is a Tensor expression: autograd differentiates it through the primitives in
``tinygrad_edu/ops.py``, so no function in this package has (or needs) a derivative of its
own. The classes in ``nn`` are thin wrappers around these. One module per topic:

- ``activations``: linear, relu, sigmoid, tanh, softmax, log_softmax, dropout, ...
- ``losses``: mse_loss, cross_entropy, nll_loss, binary_cross_entropy, ...
- ``normalization``: batch_norm, layer_norm, group_norm, normalize
- ``sparse``: one_hot, embedding (integer inputs)
"""

from .activations import dropout, leaky_relu, linear, log_softmax, relu, sigmoid, softmax, tanh
from .conv import (adaptive_avg_pool1d, adaptive_avg_pool2d, avg_pool1d, avg_pool2d, conv1d,
                   conv2d, conv_transpose1d, conv_transpose2d, fold, interpolate, max_pool1d,
                   max_pool2d, pad, unfold)
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, check_reduction,
                     cross_entropy, mse_loss, nll_loss)
from .sparse import embedding, one_hot
from .activations import (celu, dropout1d, dropout2d, elu, gelu, hardsigmoid, hardswish,
                          hardtanh, logsigmoid, mish, prelu, relu6, selu, silu, softmin,
                          softplus, softsign, tanhshrink)
from .normalization import batch_norm, group_norm, layer_norm, normalize
from .losses import huber_loss, kl_div, l1_loss, smooth_l1_loss
from .activations import (elu_, glu, hardshrink, hardtanh_, leaky_relu_, relu_, softshrink,
                          threshold)
from .attention import scaled_dot_product_attention
