"""Learn XOR with a 2-4-1 network: tanh hidden layer, sigmoid output, binary cross-entropy.

The classic failure this avoids: a hand-written backward pass that applies the derivative of
the sigmoid to a value that has already gone through the sigmoid (``sigmoid'(sigmoid(z))``),
no learning rate at all (a step of the full gradient), and weights drawn from a wide range, so
the weights blow up or the loss never moves. Here autograd derives every gradient, the
weights start small (PyTorch's default init), and SGD takes steps of a sensible size.
``BCEWithLogitsLoss`` applies the sigmoid inside the loss, which is the stable way to do it;
the sigmoid is applied explicitly only to read off probabilities.

Run: python examples/xor.py   (reaches 100% accuracy)
"""

import numpy as np

import nn
import tinygrad_edu as tg
from nn.optim import SGD
from tinygrad_edu import Tensor

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
Y = np.array([[0], [1], [1], [0]], dtype=np.float32)


def train(steps=2000, lr=0.5, seed=0, verbose=True):
    """Full-batch SGD with momentum; returns (model, accuracy, final loss)."""
    tg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = SGD(model.parameters(), lr=lr, momentum=0.9)
    x, y = Tensor(X), Tensor(Y)
    for step in range(1, steps + 1):
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if verbose and (step % (steps // 10) == 0 or step == 1):
            print(f"step {step:5d}  loss {loss.item():.5f}")
    with tg.no_grad():
        probabilities = model(x).sigmoid().numpy()
    acc = float(((probabilities > 0.5) == (Y > 0.5)).mean())
    if verbose:
        for inputs, p in zip(X, probabilities[:, 0]):
            print(f"  {inputs.astype(int)} -> {p:.3f}")
        print(f"final: accuracy {acc:.0%}, loss {loss.item():.5f}")
    return model, acc, loss.item()


if __name__ == "__main__":
    train()
