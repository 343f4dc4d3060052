"""The floor: every workload written directly in numpy, with the backward pass derived by hand.

This is what a learner would write without an autograd engine, and what the engine is
measured against. Each function takes the same inputs as its twins in ``engine_tinygrad.py``
and ``engine_torch.py`` and returns a function that does one unit of work.
"""

import numpy as np


def train_step(weights, lr):
    """One SGD step of an MLP (ReLU between Linear layers) on softmax cross-entropy.

    ``weights`` is [(W, b), ...] with W: (out, in); they are copied, then updated in place.
    Returns ``step(x, y) -> loss`` for x: (n, in) float32 and integer labels y: (n,).
    Like an engine's loop it computes every gradient first and then updates: updating each
    layer as soon as its gradient is known would hold fewer gradients at once, which no
    backward-then-step engine can do, so the memory comparison would not be like for like.
    """
    params = [(W.copy(), b.copy()) for W, b in weights]
    last = len(params) - 1

    def step(x, y):
        # forward, keeping each layer's input: backward needs it for grad_W and the ReLU mask
        inputs = []
        h = x
        for i, (W, b) in enumerate(params):
            inputs.append(h)
            h = h @ W.T + b                       # (n, in) @ (in, out) -> (n, out)
            if i < last:
                h = np.maximum(h, 0)
        loss, grad = _cross_entropy(h, y, with_grad=True)
        # backward: grad is d loss / d (this layer's output), (n, out)
        grads = [None] * len(params)
        for i in range(last, -1, -1):
            W, b = params[i]
            a = inputs[i]
            grads[i] = (grad.T @ a,               # (out, n) @ (n, in) -> (out, in)
                        grad.sum(axis=0))
            if i > 0:
                # through the layer, then through the ReLU: relu'(z) = 1 where z > 0, and
                # z > 0 exactly where a = relu(z) > 0
                grad = (grad @ W) * (a > 0)
        # then the SGD update, as an engine's optimizer.step() does after backward()
        for (W, b), (grad_W, grad_b) in zip(params, grads):
            W -= lr * grad_W
            b -= lr * grad_b
        return loss

    return step


def eval_step(weights):
    """The forward pass and loss of ``train_step``, nothing else: ``forward(x, y) -> loss``."""
    params = [(W.copy(), b.copy()) for W, b in weights]
    last = len(params) - 1

    def forward(x, y):
        h = x
        for i, (W, b) in enumerate(params):
            h = h @ W.T + b
            if i < last:
                h = np.maximum(h, 0)
        return _cross_entropy(h, y, with_grad=False)

    return forward


def _cross_entropy(logits, y, with_grad):
    """Mean of -log softmax(logits)[i, y_i] and, if asked, its gradient w.r.t. the logits."""
    n = len(y)
    rows = np.arange(n)
    # subtract the row max so exp cannot overflow; log-softmax is unchanged by the shift
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[rows, y].mean()
    if not with_grad:
        return loss
    # d loss / d logits = (softmax - one_hot(y)) / n
    grad = np.exp(log_probs)
    grad[rows, y] -= 1
    grad /= n
    return loss, grad


def tanh_chain(n):
    """``run(x) -> (loss, grad_x)``: h = tanh(...tanh(x)) (n times), loss = sum(h)."""

    def run(x):
        outputs = []
        h = x
        for _ in range(n):
            h = np.tanh(h)
            outputs.append(h)
        loss = h.sum()
        grad = np.ones_like(h)
        for out in reversed(outputs):
            grad *= 1 - out * out                 # tanh'(z) = 1 - tanh(z)^2
        return loss, grad

    return run


def scale_chain(n, factor):
    """``run(x) -> (loss, grad_x)``: h = x * factor * ... * factor (n ops), loss = sum(h)."""

    def run(x):
        h = x
        for _ in range(n):
            h = h * factor
        loss = h.sum()
        grad = np.ones_like(h)
        for _ in range(n):
            grad = grad * factor                  # d(h * c)/dh = c, one op at a time
        return loss, grad

    return run
