"""The workloads written the way a user of tinygrad_edu writes them: nn layers, a loss, SGD.

Nothing here is tuned for the benchmark; the training step is the loop from the README.
"""

import nn
import tinygrad_edu as tg
from nn.optim import SGD
from tinygrad_edu import Tensor


def _mlp(weights):
    """nn.Sequential of Linear layers with ReLU between them, holding copies of ``weights``."""
    layers = []
    for i, (W, b) in enumerate(weights):
        linear = nn.Linear(W.shape[1], W.shape[0])
        linear.weight.data[...] = W
        linear.bias.data[...] = b
        layers.append(linear)
        if i < len(weights) - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _sgd_step(model, lr):
    """``step(x, y) -> loss`` for ``model``: forward, cross-entropy, zero_grad, backward, SGD."""
    loss_fn = nn.CrossEntropyLoss()
    optimizer = SGD(model.parameters(), lr=lr)

    def step(x, y):
        loss = loss_fn(model(Tensor(x)), Tensor(y))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return step


def train_step(weights, lr):
    """``step(x, y) -> loss``: forward, cross-entropy, zero_grad, backward, SGD step."""
    model = _mlp(weights)
    return _sgd_step(model, lr)


def eval_step(weights):
    """``forward(x, y) -> loss`` under no_grad."""
    model = _mlp(weights)
    loss_fn = nn.CrossEntropyLoss()

    def forward(x, y):
        with tg.no_grad():
            return loss_fn(model(Tensor(x)), Tensor(y))

    return forward


def tanh_chain(n):
    def run(x):
        x = Tensor(x, requires_grad=True)
        h = x
        for _ in range(n):
            h = h.tanh()
        loss = h.sum()
        loss.backward()
        return loss, x.grad

    return run


def scale_chain(n, factor):
    def run(x):
        x = Tensor(x, requires_grad=True)
        h = x
        for _ in range(n):
            h = h * factor
        loss = h.sum()
        loss.backward()
        return loss, x.grad

    return run


def cnn_train_step(weights, lr):
    """W5: the CNN of examples/cnn_digits.py as nn layers; ``step(x, y) -> loss``."""
    (W1, b1), (W2, b2), (W3, b3) = weights
    model = nn.Sequential(
        nn.Conv2d(W1.shape[1], W1.shape[0], 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(W2.shape[1], W2.shape[0], 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(W3.shape[1], W3.shape[0]))
    for layer, (W, b) in zip((model[0], model[3], model[7]), weights):
        layer.weight.data[...] = W
        layer.bias.data[...] = b
    return _sgd_step(model, lr)
