"""Recognise scikit-learn's 8x8 handwritten digits with a small convolutional network.

Two 3x3 convolutions (each followed by ReLU and a 2x2 max pool) learn local strokes and
where they sit; one Linear layer reads the result. Written as a PyTorch user writes it: an
``nn.Module`` subclass, a ``DataLoader`` over a ``TensorDataset``, Adam, ``CrossEntropyLoss``.

The classic failure this avoids: feeding the flat 64-pixel rows (or an (N, 8, 8) array) to
``Conv2d``. A convolution wants (N, C, H, W): without the channel axis, an (N, 8, 8) batch
is read as a single unbatched image with N channels (here: an error naming the layer and the
shapes, where a looser library might train on garbage). So the rows are reshaped to
(N, 1, 8, 8): one grey channel. Also avoided: pixels left in 0..16 (scaled to 0..1 here) and
a softmax before ``CrossEntropyLoss`` (the model returns raw logits).

The data set ships with scikit-learn (``load_digits``): nothing is downloaded.

Run: python examples/cnn_digits.py [graph.svg]   (98-99% test accuracy in a few seconds;
writes the graph of one training step as SVG when Graphviz is installed)
"""

import os
import sys
import time

import numpy as np
from sklearn.datasets import load_digits

import nn
import tinygrad_edu as tg
from nn.optim import Adam
from nn.optim.lr_scheduler import CosineAnnealingLR
from tinygrad_edu import Tensor
from tinygrad_edu.utils.data import DataLoader, TensorDataset


def load_data(seed=0):
    """Images (N, 1, 8, 8) scaled to [0, 1] and int64 labels, split 80/20 at random."""
    digits = load_digits()
    X = (digits.images / 16.0).astype(np.float32)[:, None, :, :]   # add the channel axis
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(X))
    X, y = X[order], y[order]
    split = int(0.8 * len(X))
    return X[:split], y[:split], X[split:], y[split:]


class DigitCNN(nn.Module):
    """(N, 1, 8, 8) -> conv 16 -> pool -> conv 32 -> pool -> (N, 32*2*2) -> 10 logits."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1)    # (N, 16, 8, 8)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)   # (N, 32, 4, 4)
        self.pool = nn.MaxPool2d(2)                                # halves H and W
        self.fc = nn.Linear(32 * 2 * 2, 10)

    def forward(self, x):
        x = self.pool(self.conv1(x).relu())     # (N, 16, 4, 4)
        x = self.pool(self.conv2(x).relu())     # (N, 32, 2, 2)
        return self.fc(x.flatten(1))            # raw logits: CrossEntropyLoss applies softmax


def accuracy(model, X, y):
    model.eval()
    with tg.no_grad():
        acc = float((model(Tensor(X)).argmax(axis=1).numpy() == y).mean())
    model.train()
    return acc


def train(epochs=12, batch_size=64, lr=1e-2, seed=0, verbose=True):
    """Train with Adam (cosine schedule) on shuffled mini-batches; returns (model, train
    accuracy, test accuracy)."""
    tg.manual_seed(seed)
    X_train, y_train, X_test, y_test = load_data(seed)
    loader = DataLoader(TensorDataset(Tensor(X_train), Tensor(y_train)), batch_size=batch_size,
                        shuffle=True)
    model = DigitCNN()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = Adam(model.parameters(), lr=lr)
    # the step size shrinks to 0 along a half cosine: big steps early, a settled model at
    # the end (with a constant rate the last epochs' test accuracy jumps by a few percent)
    schedule = CosineAnnealingLR(optimizer, T_max=epochs)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        total = 0.0
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(yb)
        schedule.step()
        if verbose:
            print(f"epoch {epoch:2d}  loss {total / len(X_train):.4f}  "
                  f"test acc {accuracy(model, X_test, y_test):.3f}")
    train_acc, test_acc = accuracy(model, X_train, y_train), accuracy(model, X_test, y_test)
    if verbose:
        print(f"final: train accuracy {train_acc:.3f}, test accuracy {test_acc:.3f} "
              f"({time.perf_counter() - start:.1f} s of training)")
    return model, train_acc, test_acc


def draw_training_step(model, X, y, path="graph.svg"):
    """Render the graph of the loss on a few images: convolutions, pools, gradient norms."""
    loss = nn.CrossEntropyLoss()(model(Tensor(X[:8])), Tensor(y[:8]))
    loss.backward()   # so the drawing shows the parameters' gradient norms
    try:
        tg.render_svg(loss, path)
    except RuntimeError as error:      # Graphviz missing: say how to get it, keep going
        print(error)
        return None
    finally:
        model.zero_grad()
    print(f"wrote the graph of one training step to {os.path.abspath(path)}")
    return path


if __name__ == "__main__":
    model, _, _ = train()
    X_train, y_train, _, _ = load_data()
    draw_training_step(model, X_train, y_train, sys.argv[1] if len(sys.argv) > 1 else "graph.svg")
