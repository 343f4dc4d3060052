"""``tinygrad_edu.utils``: PyTorch's ``torch.utils``; so far ``data`` (Dataset, DataLoader)."""

from . import data
