"""Check a hand-written numpy backward pass against autograd, and get told what is wrong.

The classic failure this catches: a backward pass derived by hand that is almost right. Here
the learner's network (one tanh hidden layer, a linear output, mean squared error) has two
of the most common slips: the derivative of the squared error lost its factor 2, and the
output bias gradient was never summed over the batch. The network still trains, slowly and
badly, and nothing crashes. ``tg.compare_gradients`` runs the learner's *unchanged* numpy
forward pass on Tensors, differentiates it, and names both mistakes; after the fix, every
gradient matches.

Run: python examples/check_my_backprop.py
"""

import numpy as np

import tinygrad_edu as tg

rng = np.random.default_rng(0)
N = 32
X = rng.standard_normal((N, 3))
y = np.sin(X.sum(axis=1, keepdims=True))
params = {
    "W1": rng.standard_normal((3, 8)) * 0.5, "b1": np.zeros(8),
    "W2": rng.standard_normal((8, 1)) * 0.5, "b2": np.zeros(1),
}


# --- the learner's code, written for numpy arrays -----------------------------------------

def forward(W1, b1, W2, b2):
    h = np.tanh(np.dot(X, W1) + b1)
    out = np.dot(h, W2) + b2
    return np.mean((out - y) ** 2)


def backward_with_mistakes(W1, b1, W2, b2):
    h = np.tanh(np.dot(X, W1) + b1)
    out = np.dot(h, W2) + b2
    d_out = (out - y) / N                 # mistake 1: d/d out of mean((out - y)^2) has a 2
    d_h = np.dot(d_out, W2.T)
    d_z = d_h * (1 - h ** 2)              # tanh'(z) = 1 - tanh(z)^2, written through h: right
    return {"W1": np.dot(X.T, d_z), "b1": d_z.sum(axis=0),
            "W2": np.dot(h.T, d_out), "b2": d_out}   # mistake 2: b2 not summed over the batch


def backward_fixed(W1, b1, W2, b2):
    h = np.tanh(np.dot(X, W1) + b1)
    out = np.dot(h, W2) + b2
    d_out = 2 * (out - y) / N
    d_h = np.dot(d_out, W2.T)
    d_z = d_h * (1 - h ** 2)
    return {"W1": np.dot(X.T, d_z), "b1": d_z.sum(axis=0),
            "W2": np.dot(h.T, d_out), "b2": d_out.sum(axis=0)}


def main():
    print("== the hand-derived gradients, as first written")
    report = tg.compare_gradients(forward, params, backward_with_mistakes(**params))
    print(report)
    print()
    print("== after fixing both mistakes")
    fixed = tg.compare_gradients(forward, params, backward_fixed(**params))
    print(fixed)
    return report, fixed


if __name__ == "__main__":
    main()
