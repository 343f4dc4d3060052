"""Find the line where a hand-written backward pass goes wrong, and the classic mistake in it.

Three classic failures of backpropagation by hand, each a network that still runs and still
"trains", slowly or not at all:

1. the double sigmoid: an XOR network (a class keeping ``self.z2``, ``self.a2``, ... as in a
   well-known video course) calls ``sigmoidPrime(yHat)``, although ``sigmoidPrime(z)``
   expects the sigmoid's *input*: the derivative is taken at the wrong point
   (``derivative_at_wrong_point``);
2. the element-wise softmax: a 3-layer classifier takes the softmax's derivative as
   ``p * (1 - p)``, as if each output depended on its own input only
   (``elementwise_softmax_derivative``);
3. the ReLU mask from the output: ``d_h * (h >= 0)`` on the ReLU's output is 1 everywhere, so
   the gradient passes the ReLU untouched (``wrong_relu_mask``).

``compare_gradients`` can only say that the gradients are wrong. ``tg.check_backprop`` follows
the learner's forward and backward passes line by line, knows the true gradient at every
intermediate, and prints the first line whose result is wrong although everything it was
computed from was right, with the mistake and the fix.

Run: python examples/find_my_backprop_bug.py
"""

import numpy as np

import tinygrad_edu as tg

rng = np.random.default_rng(0)


# --- 1. the double sigmoid, in a class that keeps its intermediates on self ---------------

class NeuralNetwork:
    """Two inputs, three hidden sigmoid units, one sigmoid output; squared error."""

    def __init__(self):
        self.W1 = rng.standard_normal((2, 3))
        self.W2 = rng.standard_normal((3, 1))

    def forward(self, X):
        self.z2 = np.dot(X, self.W1)
        self.a2 = self.sigmoid(self.z2)
        self.z3 = np.dot(self.a2, self.W2)
        yHat = self.sigmoid(self.z3)
        return yHat

    def sigmoid(self, z):
        return 1 / (1 + np.exp(-z))

    def sigmoidPrime(self, z):
        # the derivative of the sigmoid, as a function of its input z
        return np.exp(-z) / ((1 + np.exp(-z)) ** 2)

    def costFunction(self, X, y):
        self.yHat = self.forward(X)
        return 0.5 * np.sum((y - self.yHat) ** 2)

    def costFunctionPrime(self, X, y):
        self.yHat = self.forward(X)
        delta3 = np.multiply(-(y - self.yHat), self.sigmoidPrime(self.yHat))   # the mistake
        dJdW2 = np.dot(self.a2.T, delta3)
        delta2 = np.dot(delta3, self.W2.T) * self.sigmoidPrime(self.z2)
        dJdW1 = np.dot(X.T, delta2)
        return dJdW1, dJdW2


X_XOR = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y_XOR = np.array([[0], [1], [1], [0]], dtype=float)
net = NeuralNetwork()


def xor_forward(W1, W2):
    net.W1, net.W2 = W1, W2
    return net.costFunction(X_XOR, Y_XOR)


def xor_backward(W1, W2):
    net.W1, net.W2 = W1, W2
    return net.costFunctionPrime(X_XOR, Y_XOR)


# --- 2. the element-wise softmax derivative, in a 3-layer classifier ------------------------

N = 16
X_CLS = rng.standard_normal((N, 4))
Y_CLS = np.eye(3)[rng.integers(0, 3, N)]          # one-hot labels of 3 classes
classifier = {"W1": rng.standard_normal((4, 8)) * 0.5, "W2": rng.standard_normal((8, 8)) * 0.5,
              "W3": rng.standard_normal((8, 3)) * 0.5}


def softmax(z):
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


def classifier_forward(W1, W2, W3):
    h1 = np.tanh(np.dot(X_CLS, W1))
    h2 = np.tanh(np.dot(h1, W2))
    p = softmax(np.dot(h2, W3))
    return -np.sum(Y_CLS * np.log(p)) / N          # mean cross-entropy


def classifier_backward(W1, W2, W3):
    h1 = np.tanh(np.dot(X_CLS, W1))
    h2 = np.tanh(np.dot(h1, W2))
    p = softmax(np.dot(h2, W3))
    d_p = -Y_CLS / p / N                           # dL/dp: right
    d_z3 = d_p * p * (1 - p)                       # the mistake: softmax is not element-wise
    d_z2 = np.dot(d_z3, W3.T) * (1 - h2 ** 2)
    d_z1 = np.dot(d_z2, W2.T) * (1 - h1 ** 2)
    return {"W1": np.dot(X_CLS.T, d_z1), "W2": np.dot(h1.T, d_z2), "W3": np.dot(h2.T, d_z3)}


# --- 3. the ReLU mask taken from the output -------------------------------------------------

X_REG = rng.standard_normal((32, 3))
Y_REG = np.sin(X_REG.sum(axis=1, keepdims=True))
regression = {"W1": rng.standard_normal((3, 16)) * 0.5, "b1": rng.standard_normal(16) * 0.5,
              "W2": rng.standard_normal((16, 1)) * 0.5, "b2": np.zeros(1)}


def regression_forward(W1, b1, W2, b2):
    h = np.maximum(np.dot(X_REG, W1) + b1, 0)
    out = np.dot(h, W2) + b2
    return np.mean((out - Y_REG) ** 2)


def regression_backward(W1, b1, W2, b2):
    z1 = np.dot(X_REG, W1) + b1
    h = np.maximum(z1, 0)
    out = np.dot(h, W2) + b2
    d_out = 2 * (out - Y_REG) / out.size
    d_h = np.dot(d_out, W2.T)
    d_z1 = d_h * (h >= 0)                          # the mistake: h is never negative
    return {"W1": np.dot(X_REG.T, d_z1), "b1": d_z1.sum(axis=0),
            "W2": np.dot(h.T, d_out), "b2": d_out.sum(axis=0)}


def main():
    checks = [
        ("the double sigmoid (XOR)", xor_forward, xor_backward,
         {"W1": net.W1, "W2": net.W2}),
        ("the element-wise softmax derivative", classifier_forward, classifier_backward,
         classifier),
        ("the ReLU mask from the output", regression_forward, regression_backward, regression),
    ]
    reports = []
    for title, forward, backward, params in checks:
        print(f"== {title}")
        report = tg.check_backprop(forward, backward, params)
        print(report)
        print()
        reports.append(report)
    return reports


if __name__ == "__main__":
    main()
