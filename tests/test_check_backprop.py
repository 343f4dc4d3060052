"""check_backprop: each named mistake is found at its line, and nothing on a right pass.

The backward passes below are written as learners write them (plain numpy, names such as
delta3, d_z1, dJdW1). Each takes ``bug``: with ``bug=True`` the line marked ``# <- mistake``
holds one classic slip; with ``bug=False`` it is the same pass, fixed.
"""

import inspect
import linecache
import math
import sys

import numpy as np
import pytest

import tinygrad_edu as tg

MISTAKE = "# <- mistake"


def marked_line(fn, marker=MISTAKE):
    """The line number of the one line of ``fn``'s source that carries ``marker``."""
    lines, first = inspect.getsourcelines(fn)
    hits = [first + i for i, line in enumerate(lines) if marker in line]
    assert len(hits) == 1, hits
    return hits[0]


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


rng = np.random.default_rng(12)
N = 8
X = rng.standard_normal((N, 4))
Y_REG = rng.standard_normal((N, 2))
Y_CLS = np.eye(3)[rng.integers(0, 3, N)]


def params(hidden, outputs, scale=0.5, seed=0, dtype=np.float64):
    r = np.random.default_rng(seed)
    return {"W1": (r.standard_normal((4, hidden)) * scale).astype(dtype),
            "b1": (r.standard_normal(hidden) * 0.1).astype(dtype),
            "W2": (r.standard_normal((hidden, outputs)) * scale).astype(dtype),
            "b2": (r.standard_normal(outputs) * 0.1).astype(dtype)}


# ----- a tanh network with a mean squared error -------------------------------------------

def tanh_forward(W1, b1, W2, b2):
    h = np.tanh(np.dot(X, W1) + b1)
    out = np.dot(h, W2) + b2
    return np.mean((out - Y_REG) ** 2)


def tanh_backward(mistake=None):
    def backward(W1, b1, W2, b2):
        z1 = np.dot(X, W1) + b1
        h = np.tanh(z1)
        out = np.dot(h, W2) + b2
        if mistake == "half":
            d_out = (out - Y_REG) / out.size                      # <- half
        elif mistake == "updates":
            d_out = 2 * (Y_REG - out) / out.size                  # <- updates
        elif mistake == "sign_and_half":
            d_out = (Y_REG - out) / out.size                      # <- sign_and_half
        else:
            d_out = 2 * (out - Y_REG) / out.size
        if mistake == "transposed":
            dW2 = np.dot(d_out.T, h)                              # <- transposed
        else:
            dW2 = np.dot(h.T, d_out)
        if mistake == "not_summed":
            db2 = d_out                                           # <- not_summed
        else:
            db2 = d_out.sum(axis=0)
        d_h = np.dot(d_out, W2.T)
        if mistake == "tanh_at_output":
            d_z1 = d_h * (1 - np.tanh(h) ** 2)                    # <- tanh_at_output
        elif mistake == "tanh_through_input":
            d_z1 = d_h * (1 - z1 ** 2)                            # <- tanh_through_input
        else:
            d_z1 = d_h * (1 - h ** 2)
        if mistake == "skipped_derivative":
            dW1 = np.dot(X.T, d_h)                                # <- skipped_derivative
        else:
            dW1 = np.dot(X.T, d_z1)
        return {"W1": dW1, "b1": d_z1.sum(axis=0), "W2": dW2, "b2": db2}
    return backward


# ----- a sigmoid network: the classic sigmoid_derivative(x) = x * (1 - x) ------------------

def sigmoid_derivative(x):
    return x * (1 - x)   # written through the output: expects s = sigmoid(z)


def sigmoid_forward(W1, b1, W2, b2):
    a1 = sigmoid(X @ W1 + b1)
    out = a1 @ W2 + b2
    return 0.5 * np.sum((out - Y_REG) ** 2)


def sigmoid_backward(mistake=None):
    def backward(W1, b1, W2, b2):
        z1 = X @ W1 + b1
        a1 = sigmoid(z1)
        out = a1 @ W2 + b2
        delta2 = out - Y_REG
        if mistake == "input":
            delta1 = delta2 @ W2.T * sigmoid_derivative(z1)       # <- input
        elif mistake == "missing":
            delta1 = delta2 @ W2.T                                # <- missing
        else:
            delta1 = delta2 @ W2.T * sigmoid_derivative(a1)
        return {"W1": X.T @ delta1, "b1": delta1.sum(axis=0),
                "W2": a1.T @ delta2, "b2": delta2.sum(axis=0)}
    return backward


# ----- a softmax classifier with cross-entropy ---------------------------------------------

def softmax_forward(W1, b1, W2, b2):
    h = np.tanh(X @ W1 + b1)
    z2 = h @ W2 + b2
    e = np.exp(z2 - np.max(z2, axis=1, keepdims=True))
    p = e / np.sum(e, axis=1, keepdims=True)
    return -np.sum(Y_CLS * np.log(p)) / N


def softmax_backward(mistake=None):
    def backward(W1, b1, W2, b2):
        h = np.tanh(X @ W1 + b1)
        z2 = h @ W2 + b2
        e = np.exp(z2 - np.max(z2, axis=1, keepdims=True))
        p = e / np.sum(e, axis=1, keepdims=True)
        if mistake == "jacobian":
            d_p = -Y_CLS / p / N
            d_z2 = d_p * p * (1 - p)                              # <- jacobian
        elif mistake == "cross_entropy":
            d_z2 = (p - Y_CLS) / N * p * (1 - p)                  # <- cross_entropy
        else:
            d_z2 = (p - Y_CLS) / N
        d_h = d_z2 @ W2.T
        d_a = d_h * (1 - h ** 2)
        return {"W1": X.T @ d_a, "b1": d_a.sum(axis=0), "W2": h.T @ d_z2, "b2": d_z2.sum(axis=0)}
    return backward


# ----- a ReLU network ----------------------------------------------------------------------

def relu_forward(W1, b1, W2, b2):
    z1 = X @ W1 + b1
    h = np.maximum(z1, 0)
    out = h @ W2 + b2
    return np.mean((out - Y_REG) ** 2)


def relu_backward(mistake=None):
    def backward(W1, b1, W2, b2):
        mm = X @ W1
        z1 = mm + b1
        h = np.maximum(z1, 0)
        out = h @ W2 + b2
        d_out = 2 * (out - Y_REG) / out.size
        d_h = d_out @ W2.T
        if mistake == "ones":
            d_z1 = d_h * (h >= 0)                                 # <- ones
        elif mistake == "other_tensor":
            d_z1 = d_h * (mm > 0)                                 # <- other_tensor
        else:
            d_z1 = d_h * (z1 > 0)
        return {"W1": X.T @ d_z1, "b1": d_z1.sum(axis=0), "W2": h.T @ d_out,
                "b2": d_out.sum(axis=0)}
    return backward


RELU_PARAMS = dict(params(6, 2), b1=np.array([0.6, -0.6, 0.5, -0.5, 0.4, -0.4]))

# (forward, backward factory, mistake switch, params, expected variable, expected mistake)
CASES = {
    "tanh_at_output": (tanh_forward, tanh_backward, "tanh_at_output", params(6, 2),
                       "d_z1", "derivative_at_wrong_point"),
    "tanh_through_input": (tanh_forward, tanh_backward, "tanh_through_input", params(6, 2),
                           "d_z1", "derivative_at_wrong_point"),
    "sigmoid_through_input": (sigmoid_forward, sigmoid_backward, "input", params(5, 2),
                              "delta1", "derivative_at_wrong_point"),
    "softmax_jacobian": (softmax_forward, softmax_backward, "jacobian", params(5, 3),
                         "d_z2", "elementwise_softmax_derivative"),
    "softmax_cross_entropy": (softmax_forward, softmax_backward, "cross_entropy", params(5, 3),
                              "d_z2", "elementwise_softmax_derivative"),
    "relu_mask_of_ones": (relu_forward, relu_backward, "ones", RELU_PARAMS, "d_z1",
                          "wrong_relu_mask"),
    "relu_mask_wrong_tensor": (relu_forward, relu_backward, "other_tensor", RELU_PARAMS, "d_z1",
                               "wrong_relu_mask"),
    "missing_derivative_in_delta": (sigmoid_forward, sigmoid_backward, "missing", params(5, 2),
                                    "delta1", "missing_activation_derivative"),
    "missing_derivative_in_use": (tanh_forward, tanh_backward, "skipped_derivative",
                                  params(6, 2), "dW1", "missing_activation_derivative"),
    "updates_returned": (tanh_forward, tanh_backward, "updates", params(6, 2), "d_out",
                         "negative"),
    "dropped_two": (tanh_forward, tanh_backward, "half", params(6, 2), "d_out", "scaled"),
    "transposed": (tanh_forward, tanh_backward, "transposed", params(6, 2), "dW2", "transposed"),
    "not_summed": (tanh_forward, tanh_backward, "not_summed", params(6, 2), "db2", "not_summed"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_named_mistake_is_found_at_its_line(case):
    forward, make_backward, mistake, values, variable, name = CASES[case]
    backward = make_backward(mistake)
    report = tg.check_backprop(forward, backward, values)
    assert not report.ok
    wrong = report.first_wrong
    line = marked_line(backward, f"# <- {mistake}")
    assert (wrong.line, wrong.variable, wrong.mistake) == (line, variable, name)
    assert wrong.filename == __file__
    assert wrong.source.strip() == linecache.getline(__file__, wrong.line).strip()
    assert str(wrong) in str(report) and name in str(report)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_same_pass_fixed_is_ok(case):
    forward, make_backward, _, values, _, _ = CASES[case]
    report = tg.check_backprop(forward, make_backward(None), values)
    assert report.ok and report.first_wrong is None
    assert "first wrong line" not in str(report)


def test_what_it_should_have_been_is_said_in_words_and_given_as_values():
    values = params(5, 2)
    wrong = tg.check_backprop(sigmoid_forward, sigmoid_backward("input"), values).first_wrong
    assert wrong.should_be == "dL/dz1, the gradient at the input of the hidden layer's sigmoid"
    assert "sigmoid_derivative(a1) in place of sigmoid_derivative(z1)" in wrong.explanation
    a1 = sigmoid(X @ values["W1"] + values["b1"])
    delta2 = a1 @ values["W2"] + values["b2"] - Y_REG
    np.testing.assert_allclose(wrong.expected, delta2 @ values["W2"].T * a1 * (1 - a1))
    z1 = X @ values["W1"] + values["b1"]
    np.testing.assert_allclose(wrong.value, delta2 @ values["W2"].T * z1 * (1 - z1))


def test_relu_mask_from_the_wrong_tensor_names_the_tensor():
    forward, make_backward, mistake, values, _, _ = CASES["relu_mask_wrong_tensor"]
    wrong = tg.check_backprop(forward, make_backward(mistake), values).first_wrong
    assert "taken from mm" in wrong.explanation and "(z1 > 0)" in wrong.explanation


def test_a_dropped_two_names_the_factor():
    wrong = tg.check_backprop(tanh_forward, tanh_backward("half"), params(6, 2)).first_wrong
    assert wrong.factor == pytest.approx(0.5)
    assert "a dropped factor 2" in wrong.explanation and "keeps its 2" in wrong.explanation


def test_a_sign_slip_and_a_dropped_two_are_both_named():
    backward = tanh_backward("sign_and_half")
    wrong = tg.check_backprop(tanh_forward, backward, params(6, 2)).first_wrong
    assert (wrong.line, wrong.mistake) == (marked_line(backward, "# <- sign_and_half"), "scaled")
    assert wrong.factor == pytest.approx(-0.5)
    assert "a sign mix-up AND a dropped factor 2" in wrong.explanation


def test_two_bugs_report_the_earlier_one():
    def backward(W1, b1, W2, b2):
        z1 = np.dot(X, W1) + b1
        h = np.tanh(z1)
        out = np.dot(h, W2) + b2
        d_out = (out - Y_REG) / out.size                          # <- mistake
        d_h = np.dot(d_out, W2.T)
        d_z1 = d_h * (1 - np.tanh(h) ** 2)                        # a second mistake
        return {"W1": np.dot(X.T, d_z1), "b1": d_z1.sum(axis=0),
                "W2": np.dot(h.T, d_out), "b2": d_out.sum(axis=0)}

    wrong = tg.check_backprop(tanh_forward, backward, params(6, 2)).first_wrong
    assert (wrong.line, wrong.variable, wrong.mistake) == (marked_line(backward), "d_out",
                                                           "scaled")


def test_two_bugs_in_separate_branches_report_the_one_that_runs_first():
    def backward(W1, b1, W2, b2):
        z1 = np.dot(X, W1) + b1
        h = np.tanh(z1)
        out = np.dot(h, W2) + b2
        d_out = 2 * (out - Y_REG) / out.size
        d_z1 = np.dot(d_out, W2.T) * (1 - z1 ** 2)                # <- mistake
        dW2 = np.dot(d_out.T, h)                                  # a second mistake
        return {"W1": np.dot(X.T, d_z1), "b1": d_z1.sum(axis=0), "W2": dW2,
                "b2": d_out.sum(axis=0)}

    wrong = tg.check_backprop(tanh_forward, backward, params(6, 2)).first_wrong
    assert (wrong.line, wrong.mistake) == (marked_line(backward), "derivative_at_wrong_point")


def test_a_gradient_handed_back_unsummed_in_the_return_statement():
    def backward(W1, b1, W2, b2):
        h = np.tanh(np.dot(X, W1) + b1)
        out = np.dot(h, W2) + b2
        d_out = 2 * (out - Y_REG) / out.size
        d_z1 = np.dot(d_out, W2.T) * (1 - h ** 2)
        return {"W1": np.dot(X.T, d_z1), "b1": d_z1.sum(axis=0),
                "W2": np.dot(h.T, d_out), "b2": d_out}            # <- mistake

    wrong = tg.check_backprop(tanh_forward, backward, params(6, 2)).first_wrong
    assert (wrong.line, wrong.variable, wrong.mistake) == (marked_line(backward), "d_out",
                                                           "not_summed")


# ----- sign conventions -------------------------------------------------------------------

def test_a_sign_convention_restored_at_the_end_is_ok_and_said_once():
    def backward(W1, b1, W2, b2):
        z1 = np.dot(X, W1) + b1
        h = np.tanh(z1)
        out = np.dot(h, W2) + b2
        error = 2 * (Y_REG - out) / out.size         # the learner's convention: y - out
        d_z1 = np.dot(error, W2.T) * (1 - h ** 2)
        return {"W1": -np.dot(X.T, d_z1), "b1": -d_z1.sum(axis=0),
                "W2": -np.dot(h.T, error), "b2": -error.sum(axis=0)}

    report = tg.check_backprop(tanh_forward, backward, params(6, 2))
    assert report.ok and report.first_wrong is None
    assert len(report.notes) == 1 and "sign convention" in report.notes[0]
    assert str(report).count("sign convention") == 1


def test_a_sign_convention_is_looked_past_to_the_real_bug():
    def backward(W1, b1, W2, b2):
        z1 = np.dot(X, W1) + b1
        h = np.tanh(z1)
        out = np.dot(h, W2) + b2
        error = 2 * (Y_REG - out) / out.size
        d_z1 = np.dot(error, W2.T) * (1 - np.tanh(h) ** 2)        # <- mistake
        return {"W1": -np.dot(X.T, d_z1), "b1": -d_z1.sum(axis=0),
                "W2": -np.dot(h.T, error), "b2": -error.sum(axis=0)}

    report = tg.check_backprop(tanh_forward, backward, params(6, 2))
    wrong = report.first_wrong
    assert (wrong.line, wrong.mistake) == (marked_line(backward), "derivative_at_wrong_point")
    assert any("sign convention" in note for note in report.notes)


def test_updates_returned_as_gradients_are_negative_where_the_sign_starts():
    # the classic 11-line network: errors as y - out, weights updated with +=
    def backward(W1, W2):
        layer_1 = sigmoid(np.dot(X, W1))
        layer_2 = sigmoid(np.dot(layer_1, W2))
        layer_2_error = Y01 - layer_2                             # <- mistake
        layer_2_delta = layer_2_error * layer_2 * (1 - layer_2)
        layer_1_error = layer_2_delta.dot(W2.T)
        layer_1_delta = layer_1_error * layer_1 * (1 - layer_1)
        return {"W1": X.T.dot(layer_1_delta), "W2": layer_1.T.dot(layer_2_delta)}

    def forward(W1, W2):
        layer_1 = sigmoid(np.dot(X, W1))
        layer_2 = sigmoid(np.dot(layer_1, W2))
        return 0.5 * np.sum((layer_2 - Y01) ** 2)

    values = {"W1": rng.standard_normal((4, 5)), "W2": rng.standard_normal((5, 1))}
    report = tg.check_backprop(forward, backward, values)
    wrong = report.first_wrong
    assert (wrong.line, wrong.variable, wrong.mistake) == (marked_line(backward),
                                                           "layer_2_error", "negative")
    assert report.gradients["W1"].verdict == "negative"
    assert "W -= lr * grad" in wrong.explanation


Y01 = (rng.random((N, 1)) > 0.5).astype(float)


# ----- precision and batch size: nothing is flagged on right passes -------------------------

@pytest.mark.parametrize("batch", [1, 64])
@pytest.mark.parametrize("net", ["tanh", "softmax", "relu"])
def test_right_float32_passes_are_ok(batch, net):
    r = np.random.default_rng(batch)
    X32 = r.standard_normal((batch, 4)).astype(np.float32)
    Y32 = r.standard_normal((batch, 2)).astype(np.float32)
    C32 = np.eye(2, dtype=np.float32)[r.integers(0, 2, batch)]
    values = params(16, 2, dtype=np.float32, seed=batch)

    def forward(W1, b1, W2, b2):
        z1 = np.dot(X32, W1) + b1
        h = np.tanh(z1) if net != "relu" else np.maximum(z1, 0)
        out = np.dot(h, W2) + b2
        if net == "softmax":
            e = np.exp(out - np.max(out, axis=1, keepdims=True))
            p = e / np.sum(e, axis=1, keepdims=True)
            return -np.sum(C32 * np.log(p)) / batch
        return np.mean((out - Y32) ** 2)

    def backward(W1, b1, W2, b2):
        z1 = np.dot(X32, W1) + b1
        h = np.tanh(z1) if net != "relu" else np.maximum(z1, 0)
        out = np.dot(h, W2) + b2
        if net == "softmax":
            e = np.exp(out - np.max(out, axis=1, keepdims=True))
            p = e / np.sum(e, axis=1, keepdims=True)
            d_out = (p - C32) / np.float32(batch)
        else:
            d_out = 2 * (out - Y32) / np.float32(out.size)
        d_h = np.dot(d_out, W2.T)
        d_z1 = d_h * (1 - h ** 2) if net != "relu" else d_h * (z1 > 0)
        grads = {"W1": np.dot(X32.T, d_z1), "b1": d_z1.sum(axis=0),
                 "W2": np.dot(h.T, d_out), "b2": d_out.sum(axis=0)}
        assert all(g.dtype == np.float32 for g in grads.values())
        return grads

    report = tg.check_backprop(forward, backward, values)
    assert report.ok, str(report)
    assert report.first_wrong is None


def test_float32_batch_of_one_finds_the_double_sigmoid():
    x = np.array([[0.5, -1.0]], dtype=np.float32)
    target = np.array([[1.0]], dtype=np.float32)
    values = {"W1": rng.standard_normal((2, 3)).astype(np.float32),
              "W2": rng.standard_normal((3, 1)).astype(np.float32)}

    def forward(W1, W2):
        y_hat = sigmoid(np.dot(sigmoid(np.dot(x, W1)), W2))
        return 0.5 * np.sum((target - y_hat) ** 2)

    def backward(W1, W2):
        a2 = sigmoid(np.dot(x, W1))
        y_hat = sigmoid(np.dot(a2, W2))
        delta3 = (y_hat - target) * sigmoid_derivative(sigmoid(y_hat))  # <- mistake
        delta2 = np.dot(delta3, W2.T) * sigmoid_derivative(a2)
        return np.dot(x.T, delta2), np.dot(a2.T, delta3)

    report = tg.check_backprop(forward, backward, values)
    # with one sample and one output, compare_gradients can only see a factor
    assert report.gradients["W2"].verdict == "scaled"
    wrong = report.first_wrong
    assert (wrong.line, wrong.variable, wrong.mistake) == (marked_line(backward), "delta3",
                                                           "derivative_at_wrong_point")


# ----- a class that keeps its intermediates on self ----------------------------------------

class XorNetwork:
    """The classic XOR network of a video course: intermediates on self, tuple of gradients."""

    def __init__(self, seed):
        r = np.random.default_rng(seed)
        self.W1 = r.standard_normal((2, 3))
        self.W2 = r.standard_normal((3, 1))

    def forward(self, X):
        self.z2 = np.dot(X, self.W1)
        self.a2 = self.sigmoid(self.z2)
        self.z3 = np.dot(self.a2, self.W2)
        yHat = self.sigmoid(self.z3)
        return yHat

    def sigmoid(self, z):
        return 1 / (1 + np.exp(-z))

    def sigmoidPrime(self, z):
        return np.exp(-z) / ((1 + np.exp(-z)) ** 2)

    def costFunction(self, X, y):
        self.yHat = self.forward(X)
        return 0.5 * np.sum((y - self.yHat) ** 2)

    def costFunctionPrime(self, X, y, bug):
        self.yHat = self.forward(X)
        if bug:
            self.delta3 = np.multiply(-(y - self.yHat), self.sigmoidPrime(self.yHat))  # <- mistake
        else:
            self.delta3 = np.multiply(-(y - self.yHat), self.sigmoidPrime(self.z3))
        dJdW2 = np.dot(self.a2.T, self.delta3)
        delta2 = np.dot(self.delta3, self.W2.T) * self.sigmoidPrime(self.z2)
        dJdW1 = np.dot(X.T, delta2)
        return dJdW1, dJdW2


X_XOR = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y_XOR = np.array([[0], [1], [1], [0]], dtype=float)


def check_xor(bug):
    net = XorNetwork(seed=3)

    def forward(W1, W2):
        net.W1, net.W2 = W1, W2
        return net.costFunction(X_XOR, Y_XOR)

    def backward(W1, W2):
        net.W1, net.W2 = W1, W2
        return net.costFunctionPrime(X_XOR, Y_XOR, bug)

    return tg.check_backprop(forward, backward, {"W1": net.W1, "W2": net.W2}), net


def test_class_keeping_intermediates_on_self():
    report, net = check_xor(bug=True)
    wrong = report.first_wrong
    line = marked_line(XorNetwork.costFunctionPrime)
    assert (wrong.line, wrong.function, wrong.variable, wrong.mistake) == (
        line, "costFunctionPrime", "self.delta3", "derivative_at_wrong_point")
    assert wrong.should_be == "dL/dz3, the gradient at the input of the output layer's sigmoid"
    assert "self.sigmoidPrime(self.yHat)" in wrong.explanation
    assert "self.sigmoidPrime(self.z3)" in wrong.explanation   # the fix, in the learner's names
    assert not isinstance(net.z2, tg.Tensor)   # the forward's Tensors were turned back


def test_class_keeping_intermediates_on_self_fixed():
    report, _ = check_xor(bug=False)
    assert report.ok and report.first_wrong is None


# ----- where learners work: notebook cells and the interactive prompt ----------------------

CELL = '''
import numpy as np

def cell_forward(W1, W2):
    h = np.maximum(np.dot(X, W1), 0)
    return np.mean((np.dot(h, W2) - Y) ** 2)

def cell_backward(W1, W2):
    z = np.dot(X, W1)
    h = np.maximum(z, 0)
    out = np.dot(h, W2)
    d_out = 2 * (out - Y) / out.size
    d_h = np.dot(d_out, W2.T)
    d_z = d_h * (h >= 0)
    return {"W1": np.dot(X.T, d_z), "W2": np.dot(h.T, d_out)}
'''


@pytest.mark.parametrize("filename, has_source", [("<ipython-input-7-1f2e3d4c5b6a>", True),
                                                  ("<stdin>", False)])
def test_functions_from_a_notebook_cell_or_the_prompt(filename, has_source):
    if has_source:   # IPython keeps each cell's source in linecache under its name
        linecache.cache[filename] = (len(CELL), None, CELL.splitlines(True), filename)
    namespace = {"X": X, "Y": Y_REG}
    try:
        exec(compile(CELL, filename, "exec"), namespace)
        values = {"W1": rng.standard_normal((4, 6)), "W2": rng.standard_normal((6, 2))}
        report = tg.check_backprop(namespace["cell_forward"], namespace["cell_backward"], values)
    finally:
        linecache.cache.pop(filename, None)
    wrong = report.first_wrong
    line = CELL.splitlines().index("    d_z = d_h * (h >= 0)") + 1
    assert (wrong.filename, wrong.line, wrong.variable) == (filename, line, "d_z")
    assert wrong.mistake == "wrong_relu_mask"
    assert (wrong.source == "d_z = d_h * (h >= 0)") == has_source
    assert filename in str(report)


# ----- the tracing itself -------------------------------------------------------------------

def test_previous_trace_function_is_restored_and_only_user_code_is_followed():
    calls = []

    def outer_tracer(frame, event, arg):
        calls.append(frame.f_code.co_filename)
        return None

    before = sys.gettrace()
    sys.settrace(outer_tracer)
    try:
        report = tg.check_backprop(tanh_forward, tanh_backward("half"), params(6, 2))
        inside = sys.gettrace()
    finally:
        sys.settrace(before)
    assert inside is outer_tracer
    assert report.followed_files == [__file__]
    assert report.first_wrong.variable == "d_out"


def test_trace_function_is_restored_when_the_learners_code_raises():
    def broken_backward(W1, b1, W2, b2):
        h = np.tanh(np.dot(X, W1) + b1)
        return {"W1": np.dot(h, W2.T)}   # shapes do not fit: numpy raises

    before = sys.gettrace()
    with pytest.raises(ValueError):
        tg.check_backprop(tanh_forward, broken_backward, params(6, 2))
    assert sys.gettrace() is before

    def broken_forward(W1, b1, W2, b2):
        raise KeyError("the learner's own bug")

    with pytest.raises(KeyError):
        tg.check_backprop(broken_forward, tanh_backward(), params(6, 2))
    assert sys.gettrace() is before


# ----- what cannot be followed, and bad input ----------------------------------------------

def test_a_forward_pass_that_leaves_the_graph_names_the_call_and_the_fix():
    def forward(W1, b1, W2, b2):
        out = np.dot(np.tanh(np.dot(X, W1) + b1), W2) + b2
        total = 0.0
        for value in ((out - Y_REG) ** 2).sum(axis=1):
            total += math.log(1 + value)           # leaves the graph
        return total

    with pytest.raises(TypeError) as error:
        tg.check_backprop(forward, tanh_backward(), params(6, 2))
    message = str(error.value)
    assert "cannot be followed" in message and "math.log(1 + value)" in message
    assert "np.log(t)" in message


def test_bad_arguments_are_named():
    values = params(6, 2)
    with pytest.raises(TypeError, match="params must be a non-empty dict"):
        tg.check_backprop(tanh_forward, tanh_backward(), [values["W1"]])
    with pytest.raises(TypeError, match="backward must be a function"):
        tg.check_backprop(tanh_forward, "backward", values)
    with pytest.raises(ValueError, match="3 gradients for 4 parameters"):
        tg.check_backprop(tanh_forward, lambda W1, b1, W2, b2: (W1, b1, W2), values)
    with pytest.raises(ValueError, match="not in params"):
        tg.check_backprop(tanh_forward, lambda W1, b1, W2, b2: {"W3": W1}, values)
    with pytest.raises(ValueError, match="did not use b2"):
        tg.check_backprop(lambda W1, b1, W2, b2: np.sum(np.dot(X, W1) + b1) + np.sum(W2),
                          tanh_backward(), values)


def test_zero_initialised_network_gets_the_note_and_no_wrong_line():
    values = {k: np.zeros_like(v) for k, v in params(6, 2).items()}
    report = tg.check_backprop(relu_forward, relu_backward(), values)
    assert report.ok and report.first_wrong is None
    assert any("exactly zero" in note for note in report.notes)


# ----- other layouts: one column per sample, layers in a loop -------------------------------

M = 10
X_COL = rng.standard_normal((3, M))
Y_COL = (rng.random((1, M)) > 0.5).astype(float)
COLUMN_PARAMS = {"W1": rng.standard_normal((4, 3)) * 0.5, "b1": np.zeros((4, 1)),
                 "W2": rng.standard_normal((1, 4)) * 0.5, "b2": np.zeros((1, 1))}


def column_forward(W1, b1, W2, b2):
    A1 = np.tanh(np.dot(W1, X_COL) + b1)
    A2 = sigmoid(np.dot(W2, A1) + b2)
    return -np.sum(Y_COL * np.log(A2) + (1 - Y_COL) * np.log(1 - A2)) / M


def column_backward(mistake=None):
    def backward(W1, b1, W2, b2):
        A1 = np.tanh(np.dot(W1, X_COL) + b1)
        A2 = sigmoid(np.dot(W2, A1) + b2)
        dZ2 = A2 - Y_COL                       # the 1/m is applied to each gradient below
        if mistake == "not_summed":
            db2 = dZ2 / M                                         # <- not_summed
        else:
            db2 = np.sum(dZ2, axis=1, keepdims=True) / M
        dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))
        return {"W1": np.dot(dZ1, X_COL.T) / M, "b1": np.sum(dZ1, axis=1, keepdims=True) / M,
                "W2": np.dot(dZ2, A1.T) / M, "b2": db2}
    return backward


def test_column_layout_with_the_mean_taken_at_the_end_is_ok():
    report = tg.check_backprop(column_forward, column_backward(), COLUMN_PARAMS)
    assert report.ok
    assert len(report.notes) == 1 and "a missing 1/N with N = 10" in report.notes[0]


def test_column_layout_bias_not_summed_over_the_columns():
    backward = column_backward("not_summed")
    wrong = tg.check_backprop(column_forward, backward, COLUMN_PARAMS).first_wrong
    assert (wrong.line, wrong.variable, wrong.mistake) == (
        marked_line(backward, "# <- not_summed"), "db2", "not_summed")


def test_layers_in_a_loop_with_a_wrong_formula_say_what_the_value_should_be():
    values = {"W0": rng.standard_normal((4, 5)), "W1": rng.standard_normal((5, 2))}

    def forward(W0, W1):
        a = X
        for W in (W0,):
            a = np.tanh(a @ W)
        return 0.5 * np.sum((a @ W1 - Y_REG) ** 2)

    def backward(W0, W1):
        Ws = [W0, W1]
        acts = [X, np.tanh(X @ W0)]
        delta = acts[1] @ W1 - Y_REG
        grads = [None, acts[1].T @ delta]
        delta = (delta @ Ws[1].T) * (1 - acts[1])                 # <- mistake
        grads[0] = acts[0].T @ delta
        return tuple(grads)

    wrong = tg.check_backprop(forward, backward, values).first_wrong
    assert (wrong.line, wrong.variable, wrong.mistake) == (marked_line(backward), "delta", None)
    assert wrong.should_be.endswith("the gradient at the input of the hidden layer's tanh")


def test_one_sample_one_output_dropped_two_is_found_where_it_starts():
    x, target = np.array([[0.5, -1.0]]), np.array([[1.0]])
    values = {"W1": rng.standard_normal((2, 3)), "W2": rng.standard_normal((3, 1))}

    def forward(W1, W2):
        return np.mean((np.dot(sigmoid(np.dot(x, W1)), W2) - target) ** 2)

    def backward(W1, W2):
        h = sigmoid(np.dot(x, W1))
        out = np.dot(h, W2)
        d_out = out - target                                      # <- mistake
        d_z = np.dot(d_out, W2.T) * h * (1 - h)
        return {"W1": np.dot(x.T, d_z), "W2": np.dot(h.T, d_out)}

    wrong = tg.check_backprop(forward, backward, values).first_wrong
    assert (wrong.line, wrong.variable, wrong.mistake) == (marked_line(backward), "d_out",
                                                           "scaled")
    assert wrong.factor == pytest.approx(0.5)
