"""The workloads in PyTorch (CPU, float32): an optional second opinion, never required.

Only imported when ``torch`` is installed. Its intra-op threads follow OMP_NUM_THREADS, which
run.py sets for every child (1 by default), so it runs on as many threads as numpy's BLAS.
"""

import os
import warnings

import torch

torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
# worker.check_values reads the returned loss with float(). The loss keeps its graph on
# purpose (a user's loop holds it until the next step, as with the other engines), and on
# float() of such a tensor torch warns that detach() may be wanted: it is not, the value is
# all we read, and the warning would only clutter the child's stderr (which run.py shows
# when a child fails).
warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad=True to a "
                        "scalar", category=UserWarning)


def _mlp(weights):
    """torch.nn.Sequential of Linear layers, ReLU between them, holding copies of ``weights``."""
    layers = []
    for i, (W, b) in enumerate(weights):
        linear = torch.nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if i < len(weights) - 1:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def _sgd_step(model, lr):
    """``step(x, y) -> loss`` for ``model``: forward, cross-entropy, zero_grad, backward, SGD."""
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    def step(x, y):
        loss = loss_fn(model(torch.from_numpy(x)), torch.from_numpy(y))
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
    loss_fn = torch.nn.CrossEntropyLoss()

    def forward(x, y):
        with torch.no_grad():
            return loss_fn(model(torch.from_numpy(x)), torch.from_numpy(y))

    return forward


def tanh_chain(n):
    def run(x):
        x = torch.from_numpy(x).requires_grad_()
        h = x
        for _ in range(n):
            h = h.tanh()
        loss = h.sum()
        loss.backward()
        return loss, x.grad

    return run


def scale_chain(n, factor):
    def run(x):
        x = torch.from_numpy(x).requires_grad_()
        h = x
        for _ in range(n):
            h = h * factor
        loss = h.sum()
        loss.backward()
        return loss, x.grad

    return run


def cnn_train_step(weights, lr):
    """W5: the CNN of examples/cnn_digits.py in torch.nn; ``step(x, y) -> loss``."""
    (W1, b1), (W2, b2), (W3, b3) = weights
    model = torch.nn.Sequential(
        torch.nn.Conv2d(W1.shape[1], W1.shape[0], 3, padding=1), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(W2.shape[1], W2.shape[0], 3, padding=1), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(W3.shape[1], W3.shape[0]))
    with torch.no_grad():
        for layer, (W, b) in zip((model[0], model[3], model[7]), weights):
            layer.weight.copy_(torch.from_numpy(W))
            layer.bias.copy_(torch.from_numpy(b))
    return _sgd_step(model, lr)
