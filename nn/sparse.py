"""Embedding: a learnable lookup table from integer ids to vectors (PyTorch's ``nn.Embedding``).

The forward pass is indexing, ``weight[ids]`` (see ``nn.functional.embedding``), so its
gradient is the adjoint of indexing: each row collects the gradients of the outputs that
read it. Nothing here computes a derivative.
"""

import numpy as np

from tinygrad_edu import Tensor

from . import functional as F
from . import init
from .module import Module, Parameter, _check_device


def _check_positive(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"Embedding: {name} must be a non-negative int, got {value!r}")
    return int(value)


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, looked up by integer id.

    Input: integer ids of any shape (*); output: (*, embedding_dim), in the table's dtype.
    ``weight`` (num_embeddings, embedding_dim) starts as N(0, 1) samples, as in PyTorch.
    ``padding_idx``: that row starts at zero and never receives a gradient, so a padding
    token keeps its vector (negative values count from the end). ``max_norm``: rows used by a
    lookup are first rescaled in place to at most that ``norm_type``-norm.
    ``scale_grad_by_freq`` and ``sparse`` are not supported (an error says so). Ids outside
    0..num_embeddings-1 raise an IndexError, as in PyTorch.

        emb = nn.Embedding(10, 3)
        emb(tg.tensor([[1, 2], [4, 9]])).shape     # (2, 2, 3): ids are integers
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        if device is not None:
            _check_device(device, "Embedding")
        self.num_embeddings = _check_positive(num_embeddings, "num_embeddings")
        self.embedding_dim = _check_positive(embedding_dim, "embedding_dim")
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be within num_embeddings "
                                 f"({self.num_embeddings}), got {padding_idx}")
            padding_idx = int(padding_idx) % self.num_embeddings
        if scale_grad_by_freq or sparse:
            what = "scale_grad_by_freq" if scale_grad_by_freq else "sparse"
            raise ValueError(f"Embedding: {what}=True is not supported; leave it False "
                             "(gradients are dense tensors)")
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = False
        self.sparse = False
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            dtype = np.float32 if dtype is None else dtype
            self.weight = Parameter(Tensor.zeros(*shape, dtype=dtype), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != shape:
                raise ValueError(f"Embedding: _weight has shape {tuple(_weight.shape)}, "
                                 f"expected {shape}")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        """Draw the table from N(0, 1) again and zero the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            init.zeros_(self.weight[self.padding_idx])

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding using the 2-D table ``embeddings`` (shared, not copied) as its weight.

        ``freeze=True`` (the default) keeps it fixed: ``weight.requires_grad`` is False. Unlike
        the constructor, the padding row is left as given.
        """
        data = embeddings if isinstance(embeddings, Tensor) else Tensor(embeddings)
        if data.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D "
                             f"(num_embeddings, embedding_dim), got shape {data.shape}")
        rows, dim = data.shape
        return cls(rows, dim, padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse,
                   _weight=data.detach(), _freeze=freeze)

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type)

    def _short_repr(self):
        return f"Embedding({self.num_embeddings}, {self.embedding_dim})"

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        return text
