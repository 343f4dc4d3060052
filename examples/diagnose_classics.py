"""Four networks that do not learn, each a classic failure, diagnosed by ``nn.diagnose``.

1. Raw pixels (0..16) of scikit-learn's digits into a 5-unit hidden layer for 10 classes,
   trained by SGD with a learning rate of 2: unnormalized inputs, a bottleneck, lr too high.
2. Regression targets between 0 and 4 behind a final sigmoid, which can only reach (0, 1).
3. A network without any bias on off-centre data whose classes differ by their distance from
   the origin, trained with MSE on one-hot labels.
4. Every weight initialised to zero, so all hidden units stay identical.

Each diagnosis is printed, then the same four setups with the mistake corrected, which get a
clean bill of health. Nothing is downloaded (the digits ship with scikit-learn) and the probes
train copies of the models, so the script runs in a few seconds.

Run: python examples/diagnose_classics.py
"""

import numpy as np
from sklearn.datasets import load_digits

import nn
import tinygrad_edu as tg
from nn.optim import SGD, Adam


def digits(scaled):
    data = load_digits()
    X = data.data.astype(np.float32)
    return (X / 16.0 if scaled else X), data.target.astype(np.int64)


def raw_pixels(fixed):
    """Digits: raw 0..16 pixels, 5 hidden units, SGD at lr 2 -- or pixels / 16, 64 units, 0.1."""
    X, y = digits(scaled=fixed)
    width, lr = (64, 0.1) if fixed else (5, 2.0)
    model = nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, 10))
    return model, nn.CrossEntropyLoss(), X, y, SGD(model.parameters(), lr=lr)


def sigmoid_regression(fixed):
    """y = 2 + 2 sin(x0) cos(x1), in [0, 4], fitted through a final Sigmoid -- or without it."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(400, 2)).astype(np.float32)
    y = (2 + 2 * np.sin(X[:, :1]) * np.cos(X[:, 1:])).astype(np.float32)
    layers = [nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 1)]
    model = nn.Sequential(*(layers if fixed else layers + [nn.Sigmoid()]))
    return model, nn.MSELoss(), X, y, Adam(model.parameters(), lr=0.01)


def bias_free(fixed):
    """Two classes along the diagonal at distances ~2.8 and ~4.2 from the origin.

    Broken: no biases and MSE on one-hot labels. Fixed: biases, CrossEntropyLoss, int labels.
    """
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    t = np.where(y == 0, 2.0, 3.0) + 0.15 * rng.standard_normal(400)
    X = (np.stack([t, t], axis=1) + 0.3 * rng.standard_normal((400, 2))).astype(np.float32)
    model = nn.Sequential(nn.Linear(2, 16, bias=fixed), nn.ReLU(), nn.Linear(16, 2, bias=fixed))
    if fixed:
        return model, nn.CrossEntropyLoss(), X, y, Adam(model.parameters(), lr=0.01)
    one_hot = np.eye(2, dtype=np.float32)[y]
    return model, nn.MSELoss(), X, one_hot, Adam(model.parameters(), lr=0.01)


def zero_init(fixed):
    """Digits (scaled) with a 64-32-10 MLP whose weights all start at 0 -- or at the default."""
    X, y = digits(scaled=True)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    if not fixed:
        for param in model.parameters():
            nn.init.zeros_(param)
    return model, nn.CrossEntropyLoss(), X, y, Adam(model.parameters(), lr=1e-3)


SETUPS = [
    (raw_pixels, "raw pixels, a 5-unit hidden layer for 10 classes, SGD with lr 2",
     "pixels / 16, 64 hidden units, SGD with lr 0.1"),
    (sigmoid_regression, "regression targets in [0, 4] behind a sigmoid",
     "the same without the final sigmoid"),
    (bias_free, "no biases, off-centre data, MSE on one-hot labels",
     "biases, CrossEntropyLoss on integer labels"),
    (zero_init, "all weights initialised to zero", "PyTorch's default initialisation"),
]


def main():
    for fixed in (False, True):
        for i, (make, broken_title, fixed_title) in enumerate(SETUPS, 1):
            tg.manual_seed(0)
            model, loss_fn, X, y, optimizer = make(fixed)
            report = nn.diagnose(model, loss_fn, X, y, optimizer=optimizer, steps=50)
            title = f"fixed {i}: {fixed_title}" if fixed else f"broken {i}: {broken_title}"
            print(f"=== {title}")
            print(report)
            print()


if __name__ == "__main__":
    main()
