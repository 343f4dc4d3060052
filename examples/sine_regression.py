"""Fit y = |sin(x)| on [0, 5π] with an MLP whose output layer is linear.

The classic failure this avoids: a sigmoid on the output of a regression network. It squeezes
every prediction into (0, 1) and, near the targets' extremes, its gradient vanishes, so the
fit stalls at a blurred curve. The hidden layers here use tanh, the output is a plain
``Linear`` (any real value), and the loss is ``MSELoss``. The inputs are scaled to about
[-1, 1] first: raw x up to 15.7 would saturate the tanh units.

Run: python examples/sine_regression.py   (mean squared error well below 0.01)
"""

import numpy as np

import nn
import tinygrad_edu as tg
from nn.optim import Adam
from tinygrad_edu import Tensor


def make_data(n=1000):
    x = np.linspace(0, 5 * np.pi, n, dtype=np.float32).reshape(-1, 1)
    return x, np.abs(np.sin(x))


def scale(x):
    """Map [0, 5π] to [-1, 1]."""
    return x / (2.5 * np.pi) - 1


def train(epochs=300, batch_size=64, lr=3e-3, seed=0, verbose=True):
    """Mini-batch Adam; returns (model, final mean squared error on the whole curve)."""
    tg.manual_seed(seed)
    x, y = make_data()
    inputs = scale(x)
    model = nn.Sequential(nn.Linear(1, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
                          nn.Linear(64, 1))
    loss_fn = nn.MSELoss()
    optimizer = Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x))
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            loss = loss_fn(model(Tensor(inputs[batch])), Tensor(y[batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if verbose and (epoch % (epochs // 10) == 0 or epoch == 1):
            with tg.no_grad():
                mse = loss_fn(model(Tensor(inputs)), Tensor(y)).item()
            print(f"epoch {epoch:4d}  mse {mse:.5f}")
    with tg.no_grad():
        mse = loss_fn(model(Tensor(inputs)), Tensor(y)).item()
    if verbose:
        print(f"final: mean squared error {mse:.5f} (targets range over [0, 1])")
    return model, mse


if __name__ == "__main__":
    train()
