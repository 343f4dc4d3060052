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


def cnn_train_step(weights, lr):
    """One SGD step of the W5 CNN, im2col by hand: conv3x3 -> ReLU -> 2x2 max pool, twice,
    then Linear, softmax cross-entropy.

    ``weights`` is [(W1, b1), (W2, b2), (W_fc, b_fc)], convolution weights (out, in, 3, 3) as
    in PyTorch; they are copied, then updated in place. Returns ``step(x, y) -> loss`` for
    x: (n, 1, 8, 8) float32. Written as a careful learner would: activations kept channels-last
    (n, H, W, C), so that each convolution is one matrix product of the windows (n*H*W, C*9)
    with the kernels (C*9, out), and no array is transposed back and forth between layers.
    """
    params = [(W.copy(), b.copy()) for W, b in weights]

    def conv_forward(a, W, b):
        # a: (n, H, W, C) -> windows (n*H*W, C*3*3) ordered (c, i, j) like W.reshape(out, -1)
        n, h, w, c = a.shape
        padded = np.zeros((n, h + 2, w + 2, c), dtype=a.dtype)
        padded[:, 1:-1, 1:-1] = a
        windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))
        cols = windows.reshape(n * h * w, c * 9)          # (n, H, W, C, 3, 3): one copy
        z = cols @ W.reshape(len(W), -1).T + b            # (n*H*W, out)
        return cols, z.reshape(n, h, w, len(W))

    def conv_backward_input(grad_cols, shape):
        # col2im: each window's gradient goes back to the 3x3 pixels it read
        n, h, w, c = shape
        grad_cols = grad_cols.reshape(n, h, w, c, 3, 3)
        grad_padded = np.zeros((n, h + 2, w + 2, c), dtype=grad_cols.dtype)
        for i in range(3):
            for j in range(3):
                grad_padded[:, i:i + h, j:j + w] += grad_cols[..., i, j]
        return grad_padded[:, 1:-1, 1:-1]

    def pool_forward(a):
        # 2x2 max pool of (n, H, W, C): the window axes become axes 2 and 4
        n, h, w, c = a.shape
        blocks = a.reshape(n, h // 2, 2, w // 2, 2, c)
        pooled = blocks.max(axis=(2, 4))
        # the winners; a tie only happens at 0 after ReLU, where ReLU's mask stops it anyway
        mask = blocks == pooled[:, :, None, :, None, :]
        return pooled, mask

    def pool_backward(grad, mask):
        n, h2, _, w2, _, c = mask.shape
        return (mask * grad[:, :, None, :, None, :]).reshape(n, h2 * 2, w2 * 2, c)

    def step(x, y):
        (W1, b1), (W2, b2), (W3, b3) = params
        n = len(x)
        a0 = x.transpose(0, 2, 3, 1)                      # (n, 8, 8, 1), channels last
        cols1, z1 = conv_forward(a0, W1, b1)              # (n, 8, 8, 16)
        p1, mask1 = pool_forward(np.maximum(z1, 0))       # (n, 4, 4, 16)
        cols2, z2 = conv_forward(p1, W2, b2)              # (n, 4, 4, 32)
        p2, mask2 = pool_forward(np.maximum(z2, 0))       # (n, 2, 2, 32)
        flat = p2.transpose(0, 3, 1, 2).reshape(n, -1)    # PyTorch's flatten order (C, H, W)
        logits = flat @ W3.T + b3
        loss, grad = _cross_entropy(logits, y, with_grad=True)
        # backward, layer by layer
        grad_W3, grad_b3 = grad.T @ flat, grad.sum(axis=0)
        grad = (grad @ W3).reshape(n, -1, 2, 2).transpose(0, 2, 3, 1)    # (n, 2, 2, 32)
        grad = pool_backward(grad, mask2) * (z2 > 0)                     # (n, 4, 4, 32)
        grad = grad.reshape(-1, len(W2))
        grad_W2, grad_b2 = (grad.T @ cols2).reshape(W2.shape), grad.sum(axis=0)
        grad = conv_backward_input(grad @ W2.reshape(len(W2), -1), p1.shape)   # (n, 4, 4, 16)
        grad = pool_backward(grad, mask1) * (z1 > 0)                     # (n, 8, 8, 16)
        grad = grad.reshape(-1, len(W1))
        grad_W1, grad_b1 = (grad.T @ cols1).reshape(W1.shape), grad.sum(axis=0)
        # (the input needs no gradient); then the SGD update
        for (W, b), (grad_W, grad_b) in zip(params, [(grad_W1, grad_b1), (grad_W2, grad_b2),
                                                      (grad_W3, grad_b3)]):
            W -= lr * grad_W
            b -= lr * grad_b
        return loss

    return step
