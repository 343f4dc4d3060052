"""Errors that teach: each mistake a learner commonly makes gets a message naming the op, the
shapes or values at fault and, inside an nn.Module, the module's class and path.

One test per case listed in issue 5. Errors are ValueError (shapes, values), TypeError (types,
dtypes) or RuntimeError (graph state), as SPEC.md says.
"""

import pickle

import numpy as np
import pytest

import nn
import tinygrad_edu as tg
from nn.optim import SGD, Adam
from tinygrad_edu import Tensor


def message_of(error_type, fn, *args, **kwargs):
    """Call fn, expect error_type, return its message."""
    with pytest.raises(error_type) as info:
        fn(*args, **kwargs)
    return str(info.value)


def assert_mentions(message, *parts):
    missing = [part for part in parts if part not in message]
    assert not missing, f"{missing} not in message:\n{message}"


class TwoLayerNet(nn.Module):
    """A user's model whose forward adds a parameter of the wrong size (10 instead of 4)."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 4)
        self.offset = nn.Parameter(Tensor.zeros(10))

    def forward(self, x):
        return self.hidden(x) + self.offset


# ----- engine: shapes ------------------------------------------------------------------------

@pytest.mark.parametrize("op, name", [
    (lambda a, b: a + b, "add"), (lambda a, b: a - b, "sub"), (lambda a, b: a * b, "mul"),
    (lambda a, b: a / b, "div"), (lambda a, b: a ** b, "pow"),
    (lambda a, b: a.maximum(b), "maximum"),
    (lambda a, b: tg.where(Tensor(np.ones((2, 3), dtype=bool)), a, b), "where"),
], ids=["add", "sub", "mul", "div", "pow", "maximum", "where"])
def test_elementwise_ops_that_do_not_broadcast_name_op_shapes_and_rule(op, name):
    message = message_of(ValueError, op, Tensor(np.ones((2, 3))), Tensor(np.ones((4,))))
    assert message.startswith(name)
    assert_mentions(message, "(2, 3)", "(4,)", "do not broadcast", "equal or 1")


def test_minimum_that_does_not_broadcast_is_reported_as_minimum():
    message = message_of(ValueError, lambda: Tensor(np.ones((2, 3))).minimum(Tensor(np.ones(4))))
    assert message.startswith("minimum")
    assert_mentions(message, "(2, 3)", "(4,)", "do not broadcast")


def test_comparison_that_does_not_broadcast_names_op_and_shapes():
    message = message_of(ValueError, lambda: Tensor(np.ones((2, 3))) < Tensor(np.ones(4)))
    assert_mentions(message, "less", "(2, 3)", "(4,)", "broadcast")


def test_matmul_with_mismatched_inner_dimensions_names_both_sizes_and_suggests_transpose():
    message = message_of(ValueError, lambda: Tensor(np.ones((32, 5))) @ Tensor(np.ones((64, 5))))
    assert_mentions(message, "matmul", "(32, 5)", "(64, 5)", "last axis (5)",
                    "second-to-last axis (64)", "transpose")


def test_matmul_of_vectors_of_different_lengths_names_both():
    message = message_of(ValueError, lambda: Tensor(np.ones(3)) @ Tensor(np.ones(4)))
    assert_mentions(message, "matmul", "(3,)", "(4,)")


def test_matmul_with_batch_axes_that_do_not_broadcast_says_batch():
    x, y = Tensor(np.ones((2, 3, 4))), Tensor(np.ones((5, 4, 6)))
    message = message_of(ValueError, lambda: x @ y)
    assert_mentions(message, "matmul", "(2, 3, 4)", "(5, 4, 6)", "batch")


def test_reshape_to_a_different_size_names_op_and_shapes():
    message = message_of(ValueError, lambda: Tensor(np.ones((2, 3))).reshape(4, 2))
    assert_mentions(message, "reshape", "size 6", "(2, 3)")


def test_index_out_of_range_names_getitem_and_shape():
    message = message_of(IndexError, lambda: Tensor(np.ones((2, 3)))[5])
    assert_mentions(message, "getitem", "(2, 3)", "5")


def test_axis_out_of_range_names_op_and_dimensions():
    message = message_of(ValueError, lambda: Tensor(np.ones((2, 3))).sum(axis=2))
    assert_mentions(message, "sum", "axis 2", "2 dimension")


def test_axis_out_of_range_names_the_tensor_shape():
    message = message_of(ValueError, lambda: Tensor(np.ones((2, 3))).sum(axis=2))
    assert_mentions(message, "sum", "(2, 3)")


# ----- engine: backward ----------------------------------------------------------------------

def test_backward_on_non_scalar_without_gradient_names_shape_and_fixes():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    message = message_of(RuntimeError, (x * 2).backward)
    assert_mentions(message, "backward", "(3,)", "gradient=", "loss.sum()")


def test_backward_with_gradient_of_wrong_shape_names_both_shapes():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    message = message_of(ValueError, (x * 2).backward, gradient=np.ones((3, 1)))
    assert_mentions(message, "backward", "(3, 1)", "(3,)")


def test_backward_through_freed_graph_names_op_and_suggests_retain_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x.exp() * x).sum()
    loss.backward()
    message = message_of(RuntimeError, loss.backward)
    assert_mentions(message, "released", "Sum", "retain_graph=True")


def test_backward_without_any_tensor_requiring_grad_says_what_to_check():
    message = message_of(RuntimeError, Tensor([1.0, 2.0]).sum().backward)
    assert_mentions(message, "requires_grad=True", "no_grad")


@pytest.mark.parametrize("make", [
    lambda: tg.tensor([1, 2, 3], requires_grad=True),
    lambda: tg.tensor([1, 2, 3], requires_grad=True),
    lambda: tg.tensor([1, 2, 3]).requires_grad_(),
    lambda: Tensor.zeros(3, dtype=np.int64, requires_grad=True),
    lambda: nn.Parameter(tg.tensor([1, 2, 3])),
], ids=["Tensor", "tg.tensor", "requires_grad_", "factory", "Parameter"])
def test_requires_grad_on_integer_tensor_names_dtype_and_conversion(make):
    message = message_of(TypeError, make)
    assert_mentions(message, "requires_grad", "floating-point", "int64", ".float()")


# ----- nn: layers and modules ----------------------------------------------------------------

def test_linear_with_wrong_feature_count_names_class_sizes_and_path():
    model = nn.Sequential(nn.Linear(5, 64), nn.ReLU(), nn.Linear(64, 4))
    message = message_of(ValueError, model, Tensor.zeros(32, 6))
    assert message == ("Linear(5→64) at model.0 expected 5 input features, got 6 "
                       "(input shape (32, 6))")


def test_mismatch_between_two_linear_layers_names_the_second_one():
    model = nn.Sequential(nn.Linear(5, 64), nn.ReLU(), nn.Linear(32, 4))
    message = message_of(ValueError, model, Tensor.zeros(8, 5))
    assert message.startswith("Linear(32→4) at model.2 expected 32 input features, got 64")


def test_linear_given_integer_input_names_dtype_and_conversion():
    message = message_of(TypeError, nn.Sequential(nn.Linear(2, 1)), tg.tensor([[1, 2]]))
    assert_mentions(message, "Linear(2→1) at model.0", "int64", "x.float()")


def test_engine_error_inside_a_module_names_the_module_class_and_path():
    model = nn.Sequential(nn.Flatten(), TwoLayerNet())
    message = message_of(ValueError, model, Tensor.zeros(2, 3))
    assert_mentions(message, "add: shapes (2, 4) and (10,) do not broadcast",
                    "raised inside TwoLayerNet at model.1")
    assert "Sequential" not in message      # only the innermost module running is named


def test_engine_error_inside_the_outermost_module_names_its_class():
    message = message_of(ValueError, TwoLayerNet(), Tensor.zeros(2, 3))
    assert_mentions(message, "(2, 4) and (10,)", "raised inside TwoLayerNet")


def test_errors_raised_by_user_code_inside_forward_are_left_alone():
    class Picky(nn.Module):
        def forward(self, x):
            raise ValueError("my own message")

    assert message_of(ValueError, nn.Sequential(Picky()), Tensor.zeros(1)) == "my own message"


def test_batchnorm_with_wrong_channel_count_names_layer_path_and_shape():
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(5))
    message = message_of(ValueError, model, Tensor.zeros(2, 4))
    assert_mentions(message, "BatchNorm1d(5) at model.1", "(N, 5)", "(2, 3)")


# ----- nn: losses ----------------------------------------------------------------------------

def test_cross_entropy_with_class_7_for_4_logits_names_label_sample_and_class_count():
    logits, labels = Tensor.zeros(3, 4), tg.tensor([0, 7, 1])
    message = message_of(ValueError, nn.CrossEntropyLoss(), logits, labels)
    assert_mentions(message, "CrossEntropyLoss", "label 7", "sample 1", "4 classes", "(3, 4)",
                    "0..3")


def test_cross_entropy_with_negative_label_is_out_of_range():
    message = message_of(ValueError, nn.CrossEntropyLoss(), Tensor.zeros(2, 4), tg.tensor([-1, 0]))
    assert_mentions(message, "label -1", "0..3")


def test_cross_entropy_with_float_labels_suggests_long():
    message = message_of(TypeError, nn.CrossEntropyLoss(), Tensor.zeros(3, 4),
                         Tensor([0.0, 2.0, 1.0]))
    assert_mentions(message, "CrossEntropyLoss", "float32", "(3,)", "target.long()")


def test_cross_entropy_with_labels_of_shape_n_by_1_suggests_reshape():
    message = message_of(ValueError, nn.CrossEntropyLoss(), Tensor.zeros(3, 4),
                         tg.tensor([[0], [2], [1]]))
    assert_mentions(message, "(3,)", "(3, 1)", "reshape(-1)")


def test_cross_entropy_with_one_score_per_sample_points_to_bce_with_logits():
    message = message_of(ValueError, nn.CrossEntropyLoss(), Tensor.zeros(4, 1),
                         tg.tensor([0, 1, 1, 0]))
    assert_mentions(message, "1 class", "(4, 1)", "BCEWithLogitsLoss")
    message = message_of(ValueError, nn.CrossEntropyLoss(), Tensor.zeros(4),
                         tg.tensor([0, 1, 1, 0]))
    assert_mentions(message, "(4,)", "one sample", "(N, C)", "BCEWithLogitsLoss")


def test_nll_loss_with_float_labels_and_out_of_range_labels():
    assert_mentions(message_of(TypeError, nn.NLLLoss(), Tensor.zeros(2, 3), Tensor([0.0, 1.0])),
                    "NLLLoss", "long()")
    assert_mentions(message_of(ValueError, nn.NLLLoss(), Tensor.zeros(2, 3), tg.tensor([0, 3])),
                    "NLLLoss", "label 3", "3 classes")


@pytest.mark.parametrize("loss_fn", [nn.MSELoss(), nn.BCELoss(), nn.BCEWithLogitsLoss()],
                         ids=lambda f: type(f).__name__)
def test_loss_refuses_the_n_against_n_by_1_broadcast_in_both_orders(loss_fn):
    prediction, target = Tensor(np.full(16, 0.5)), Tensor(np.ones((16, 1)))
    for a, b in ((prediction, target), (target, prediction)):
        message = message_of(ValueError, loss_fn, a, b)
        assert_mentions(message, type(loss_fn).__name__, "(16,)", "(16, 1)", "(16, 16)")


def test_mse_given_class_labels_points_to_cross_entropy():
    message = message_of(ValueError, nn.MSELoss(), Tensor.zeros(3, 4), tg.tensor([0, 2, 1]))
    assert_mentions(message, "MSELoss", "(3, 4)", "(3,)", "CrossEntropyLoss")


def test_loss_given_integer_predictions_suggests_float():
    message = message_of(TypeError, nn.MSELoss(), tg.tensor([1, 2]), Tensor([1.0, 2.0]))
    assert_mentions(message, "MSELoss", "int64", ".float()")


def test_bce_loss_with_probabilities_outside_0_1_names_range_and_fix():
    probabilities, labels = Tensor([0.2, 1.7, -0.5]), Tensor([0.0, 1.0, 1.0])
    message = message_of(ValueError, nn.BCELoss(), probabilities, labels)
    assert_mentions(message, "BCELoss", "[0, 1]", "-0.5", "1.7", "sigmoid", "BCEWithLogitsLoss")


def test_bce_loss_with_nan_probability_says_nan():
    message = message_of(ValueError, nn.BCELoss(), Tensor([0.2, np.nan]), Tensor([0.0, 1.0]))
    assert_mentions(message, "nan")


@pytest.mark.parametrize("loss_fn", [nn.BCELoss(), nn.BCEWithLogitsLoss()],
                         ids=lambda f: type(f).__name__)
def test_binary_losses_refuse_minus_one_plus_one_targets(loss_fn):
    message = message_of(ValueError, loss_fn, Tensor([0.2, 0.7]), Tensor([-1.0, 1.0]))
    assert_mentions(message, type(loss_fn).__name__, "target", "[0, 1]", "-1", "(target + 1) / 2")


def test_loss_module_inside_a_model_names_its_path():
    class WithLoss(nn.Module):
        def __init__(self):
            super().__init__()
            self.scores = nn.Linear(3, 4)
            self.criterion = nn.CrossEntropyLoss()

        def forward(self, x, y):
            return self.criterion(self.scores(x), y)

    message = message_of(ValueError, WithLoss(), Tensor.zeros(2, 3), tg.tensor([7, 0]))
    assert_mentions(message, "label 7", "raised inside CrossEntropyLoss at model.criterion")


# ----- nn: saving and loading ----------------------------------------------------------------

def test_load_state_dict_names_every_missing_unexpected_and_misshaped_key():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    state = model.state_dict()
    del state["2.bias"]
    state["0.weight"] = np.zeros((4, 5))
    state["3.weight"] = np.zeros(2)
    before = model[0].weight.numpy().copy()
    message = message_of(ValueError, model.load_state_dict, state)
    assert_mentions(message, "missing key '2.bias'", "unexpected key '3.weight'",
                    "0.weight: shape (4, 5) in the state dict, (4, 3) in the model")
    np.testing.assert_array_equal(model[0].weight.numpy(), before)   # nothing copied


def test_nn_load_refuses_a_pickle(tmp_path):
    path = tmp_path / "model.pt"
    with open(path, "wb") as f:
        pickle.dump({"0.weight": np.zeros((4, 3))}, f)
    message = message_of(ValueError, nn.load, nn.Sequential(nn.Linear(3, 4)), path)
    assert_mentions(message, "nn.load", "model.pt", "pickled", "refuses", "nn.save")


def test_nn_load_refuses_an_npz_holding_python_objects(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, weight=np.array([{"a": 1}], dtype=object))
    message = message_of(ValueError, nn.load, nn.Linear(3, 4), path)
    assert_mentions(message, "nn.load", "'weight'", "not a plain array")


def test_nn_load_of_a_text_file_says_it_is_not_an_npz(tmp_path):
    path = tmp_path / "weights.txt"
    path.write_text("0.5 0.25")
    message = message_of(ValueError, nn.load, nn.Linear(3, 4), path)
    assert_mentions(message, "nn.load", "not an .npz archive")


def test_nn_load_names_keys_that_do_not_fit(tmp_path):
    path = tmp_path / "small.npz"
    nn.save(nn.Linear(3, 4), path)
    message = message_of(ValueError, nn.load, nn.Linear(3, 5), path)
    assert_mentions(message, "nn.load", "weight: shape (4, 3) in the state dict, (5, 3)")


# ----- nn: optimizers ------------------------------------------------------------------------

def test_optimizer_with_no_parameters_says_so():
    message = message_of(ValueError, SGD, [], lr=0.1)
    assert_mentions(message, "SGD", "empty parameter list")


def test_optimizer_given_a_used_up_generator_explains_why_it_is_empty():
    model = nn.Linear(2, 1)
    params = model.parameters()
    SGD(params, lr=0.1)
    message = message_of(ValueError, Adam, params)
    assert_mentions(message, "Adam", "empty", "used up")


def test_optimizer_given_a_non_tensor_names_its_position_and_type():
    message = message_of(TypeError, SGD, [Tensor.zeros(2, requires_grad=True), np.zeros(2)],
                         lr=0.1)
    assert_mentions(message, "SGD", "parameter 1", "ndarray", "not a Tensor")


def test_optimizer_given_the_model_itself_asks_for_its_parameters():
    message = message_of(TypeError, Adam, nn.Sequential(nn.Linear(2, 1)))
    assert_mentions(message, "Adam", "Sequential", "model.parameters()")


def test_optimizer_given_the_parameters_method_uncalled_says_to_call_it():
    message = message_of(TypeError, Adam, nn.Linear(2, 1).parameters)
    assert_mentions(message, "Adam", "'parameters'", "model.parameters()")


def test_optimizer_given_something_not_iterable_names_its_type():
    message = message_of(TypeError, SGD, 0.1, lr=0.1)
    assert_mentions(message, "SGD", "float", "model.parameters()")


def test_optimizer_given_an_integer_tensor_names_its_dtype():
    message = message_of(TypeError, SGD, [tg.tensor([1, 2])], lr=0.1)
    assert_mentions(message, "SGD", "parameter 0", "int64")
