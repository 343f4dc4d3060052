"""nn: layers, activations, losses, initialisation and optimizers for tinygrad_edu.

Everything is built from Tensor operations, so autograd differentiates it; nothing in this
package computes a derivative. Names and behaviour follow ``torch.nn``::

    import nn
    from nn.optim import Adam

    model = nn.Sequential(nn.Linear(5, 64), nn.ReLU(), nn.Linear(64, 4))
    loss_fn = nn.CrossEntropyLoss()          # logits and integer labels
    opt = Adam(model.parameters(), lr=1e-3)

Also reachable as ``tinygrad_edu.nn`` (and ``nn.optim`` as ``tinygrad_edu.optim``): the
same modules under a second name, arranged by ``tinygrad_edu/nn.py``.
"""

from . import functional, init, optim, utils
from .activations import LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .attention import MultiheadAttention
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .diagnose import diagnose
from .layers import BatchNorm1d, Dropout, Flatten, Linear
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module, ModuleList, Parameter, Sequential, load, save
from .pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d,
                      MaxPool2d, Upsample)
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .sparse import Embedding
from .activations import (CELU, ELU, GELU, SELU, Hardsigmoid, Hardswish, Hardtanh,
                          LogSigmoid, Mish, PReLU, ReLU6, SiLU, Softmin, Softplus, Softsign,
                          Tanhshrink)
from .layers import Dropout1d, Dropout2d, Identity, Unflatten
from .normalization import BatchNorm2d, GroupNorm, LayerNorm
from .losses import HuberLoss, KLDivLoss, L1Loss, SmoothL1Loss
from .activations import GLU, Hardshrink, Softshrink, Threshold

from .transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer,
                          TransformerEncoder, TransformerEncoderLayer)
