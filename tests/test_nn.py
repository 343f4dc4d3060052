"""nn: Module and Parameter bookkeeping, layers, activations, init, save/load, and training."""

import collections
import copy
import warnings

import numpy as np
import pytest

import nn
import nn.functional as F
import nn.init
from nn.optim import SGD
import tinygrad_edu as tg
from tinygrad_edu import Tensor

rng = np.random.default_rng(2)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.fc2 = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Block()
        self.head = nn.Sequential(nn.Linear(2, 5), nn.BatchNorm1d(5), nn.Linear(5, 1))

    def forward(self, x):
        return self.head(self.encoder(x))


# ----- aliases and imports -----------------------------------------------------------------

def test_tinygrad_edu_nn_is_the_nn_package():
    import tinygrad_edu.nn as tg_nn
    import tinygrad_edu.nn.functional as tg_F
    import tinygrad_edu.nn.init as tg_init
    import tinygrad_edu.optim as tg_optim
    assert tg_nn is nn and tg.nn is nn
    assert tg_F is F and tg_init is nn.init
    assert tg_optim is nn.optim
    assert tg_nn.Linear is nn.Linear and tg_nn.Module is nn.Module


def test_nn_exports_the_documented_names():
    for name in ("Module Parameter Sequential Linear Dropout BatchNorm1d Flatten ReLU LeakyReLU "
                 "Sigmoid Tanh Softmax LogSoftmax MSELoss CrossEntropyLoss NLLLoss BCELoss "
                 "BCEWithLogitsLoss save load functional init optim").split():
        assert hasattr(nn, name), name
    from nn.optim import SGD, Adam, AdamW  # noqa: F401


# ----- Parameter and registration ----------------------------------------------------------

def test_parameter_is_a_leaf_tensor_that_requires_grad_and_shares_data():
    data = np.ones((2, 3), dtype=np.float32)
    p = nn.Parameter(data)
    assert isinstance(p, Tensor) and p.requires_grad and p.is_leaf
    assert p.numpy() is data
    assert type(p * 2) is Tensor                 # results of ops are plain tensors
    assert repr(p).startswith("Parameter containing:")
    assert not nn.Parameter(data, requires_grad=False).requires_grad


def test_parameters_and_modules_are_found_by_attribute_assignment():
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["encoder.fc1.weight", "encoder.fc1.bias", "encoder.fc2.weight",
                     "encoder.fc2.bias", "head.0.weight", "head.0.bias", "head.1.weight",
                     "head.1.bias", "head.2.weight", "head.2.bias"]
    assert len(list(net.parameters())) == 10
    assert [name for name, _ in net.named_children()] == ["encoder", "head"]
    assert [name for name, _ in net.named_modules()] == [
        "", "encoder", "encoder.fc1", "encoder.fc2", "head", "head.0", "head.1", "head.2"]
    assert net.encoder.fc1 is net.encoder._modules["fc1"]       # PyTorch-style registry


def test_parameter_names_follow_their_path_from_the_outermost_module():
    lin = nn.Linear(2, 3)
    assert lin.weight.name == "weight" and lin._path == ""
    seq = nn.Sequential(lin)
    assert lin.weight.name == "0.weight" and lin._path == "0"
    block = Block()
    block.extra = seq                               # assigning renames everything below
    assert lin.bias.name == "extra.0.bias" and lin._path == "extra.0"
    net = Net()
    assert net.encoder.fc1.bias.name == "encoder.fc1.bias"
    assert net.head[1].running_mean.name == "head.1.running_mean"
    assert {p.name for p in net.parameters()} == {name for name, _ in net.named_parameters()}


def test_plain_tensor_requiring_grad_warns_and_is_not_a_parameter():
    class Bad(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = Tensor.zeros(3, requires_grad=True)

    with pytest.warns(UserWarning, match=r"nn\.Parameter"):
        bad = Bad()
    assert list(bad.parameters()) == []
    assert isinstance(bad.w, Tensor)


def test_plain_tensors_without_grad_and_computed_tensors_do_not_warn():
    m = nn.Module()
    w = Tensor.zeros(2, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.constant = Tensor.ones(3)
        m.activation = w * 2                       # cached intermediate result: not a weight
    assert list(m.parameters()) == []


def test_assigning_before_super_init_raises_attribute_error():
    class Forgot(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Forgot()


def test_shared_parameter_is_listed_once():
    a = nn.Linear(3, 3)
    seq = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(seq.parameters())) == 2


def test_bias_none_and_reassigning_a_parameter():
    lin = nn.Linear(3, 2, bias=False)
    assert lin.bias is None
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    lin.bias = nn.Parameter(np.zeros(2, dtype=np.float32))
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    with pytest.raises(TypeError, match="nn.Parameter"):
        lin.weight = np.zeros((2, 3))
    del lin.bias
    assert [n for n, _ in lin.named_parameters()] == ["weight"]


def test_missing_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'wieght'"):
        nn.Linear(2, 2).wieght


def test_module_without_forward_raises_not_implemented():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(Tensor.ones(2))


def test_zero_grad_sets_gradients_to_none():
    net = Block()
    net(Tensor(rng.standard_normal((4, 3)).astype(np.float32))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_train_and_eval_are_recursive_and_return_self():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="True or False"):
        net.train("no")


def test_repr_is_a_tree_like_pytorch():
    model = nn.Sequential(nn.Linear(5, 64), nn.ReLU(), nn.Sequential(nn.Dropout(0.2)))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=5, out_features=64, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.2, inplace=False)\n"
        "  )\n"
        ")")


def test_deepcopy_gives_an_independent_model():
    net = Block()
    twin = copy.deepcopy(net)
    twin.fc1.weight.data[...] = 0
    assert net.fc1.weight.numpy().any()
    assert twin.fc1.weight.name == "fc1.weight"


def test_double_converts_parameters_for_gradcheck():
    net = Block().double()
    assert all(p.dtype == np.float64 for p in net.parameters())
    x = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    assert tg.gradcheck(lambda t: net(t), [x])
    assert net.float().fc1.weight.dtype == np.float32


def ops_by_type(root):
    """{op class name: [scope, ...]} for every recorded op behind ``root``."""
    found = {}
    for t in tg.walk(root):
        if t.grad_fn is not None:
            found.setdefault(type(t.grad_fn).__name__, []).append(getattr(t.grad_fn, "scope", ()))
    return found


def test_module_calls_label_their_ops_with_nested_scopes():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    w = Tensor(np.ones((2, 3)), requires_grad=True)
    x = w * 2.0                                    # made before the model: stays unlabelled
    loss = nn.MSELoss()(model(x), Tensor(np.zeros((2, 4))))
    ops = ops_by_type(loss)
    assert ops["Linear"] == [(("model", "Sequential"), ("model.0", "Linear"))]
    assert ops["Relu"] == [(("model", "Sequential"), ("model.1", "ReLU"))]
    assert ops["Mul"].count(()) == 1               # w * 2.0
    assert (("loss", "MSELoss"),) in ops["Sub"]


def test_nested_module_scope_uses_attribute_paths():
    net = Net()
    out = net.encoder(Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True))
    scopes = ops_by_type(out)["Linear"]
    assert (("model.encoder", "Block"), ("model.encoder.fc2", "Linear")) in scopes


def test_no_scope_labelling_under_no_grad():
    with tg.no_grad():
        y = nn.Linear(2, 2)(Tensor.ones(1, 2))
    assert y.grad_fn is None


# ----- Sequential --------------------------------------------------------------------------

def test_sequential_applies_modules_in_order_and_supports_indexing():
    a, b = nn.Linear(3, 4), nn.Linear(4, 2)
    seq = nn.Sequential(a, nn.Tanh(), b)
    x = Tensor(rng.standard_normal((5, 3)).astype(np.float32))
    np.testing.assert_allclose(seq(x).numpy(), b(a(x).tanh()).numpy())
    assert len(seq) == 3 and seq[0] is a and seq[-1] is b
    assert list(seq) == [a, seq[1], b]
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and len(tail) == 2 and tail[1] is b
    assert [n for n, _ in tail.named_parameters()] == ["2.weight", "2.bias"]   # as PyTorch
    assert b.weight.name == "2.weight"                   # slicing does not rename the model
    with pytest.raises(IndexError, match="out of range for 3 modules"):
        seq[3]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and isinstance(seq[3], nn.Sigmoid)


def test_sequential_with_dict_uses_its_keys_as_names():
    seq = nn.Sequential({"fc": nn.Linear(2, 2), "act": nn.ReLU()})
    assert [n for n, _ in seq.named_parameters()] == ["fc.weight", "fc.bias"]


def test_sequential_given_a_class_instead_of_an_instance_says_so():
    with pytest.raises(TypeError, match=r"argument 1 is the class ReLU.*instance"):
        nn.Sequential(nn.Linear(2, 2), nn.ReLU)


# ----- state_dict / save / load ------------------------------------------------------------

def test_state_dict_holds_tensors_sharing_memory_with_parameters_and_buffers():
    net = Net()
    state = net.state_dict()
    assert isinstance(state, collections.OrderedDict)
    assert all(type(v) is Tensor and not v.requires_grad for v in state.values())
    state["encoder.fc1.weight"][0, 0] = 42.0            # a view: the model sees it (PyTorch too)
    assert net.encoder.fc1.weight.numpy()[0, 0] == 42.0
    assert net.state_dict(keep_vars=True)["encoder.fc1.weight"] is net.encoder.fc1.weight


def test_state_dict_order_is_pytorchs_own_members_then_children():
    class WithBuffer(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(1, 1)
            self.register_buffer("count", Tensor(np.zeros(1)))
            self.scale = nn.Parameter(Tensor(np.ones(1)))      # registered after inner
            self.register_buffer("scratch", Tensor(np.zeros(1)), persistent=False)

    assert list(WithBuffer().state_dict()) == ["scale", "count", "inner.weight", "inner.bias"]
    assert list(Net().state_dict()) == [
        "encoder.fc1.weight", "encoder.fc1.bias", "encoder.fc2.weight", "encoder.fc2.bias",
        "head.0.weight", "head.0.bias", "head.1.weight", "head.1.bias", "head.1.running_mean",
        "head.1.running_var", "head.1.num_batches_tracked", "head.2.weight", "head.2.bias"]
    assert list(Block().state_dict(prefix="net."))[:1] == ["net.fc1.weight"]


def test_a_tied_weight_keeps_both_keys_and_loads_into_both():
    first, second = nn.Linear(2, 2, bias=False), nn.Linear(2, 2, bias=False)
    second.weight = first.weight
    model = nn.Sequential(first, second)
    state = model.state_dict()
    assert list(state) == ["0.weight", "1.weight"] and len(list(model.parameters())) == 1
    assert state["0.weight"] is state["1.weight"]           # one tensor, saved once
    ones = {"0.weight": np.ones((2, 2)), "1.weight": np.ones((2, 2))}
    assert repr(model.load_state_dict(ones)) == "<All keys matched successfully>"
    assert (second.weight.numpy() == 1).all()


def test_load_state_dict_non_strict_returns_pytorchs_named_tuple():
    net = Block()
    state = net.state_dict()
    del state["fc2.bias"]
    state["extra"] = np.zeros(1)
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["fc2.bias"] and result.unexpected_keys == ["extra"]
    assert result == (["fc2.bias"], ["extra"])
    with pytest.raises(RuntimeError, match="missing key 'fc2.bias'"):   # PyTorch's type
        net.load_state_dict(state)
    with pytest.raises(NotImplementedError, match="assign=True"):
        net.load_state_dict(net.state_dict(), assign=True)


def test_load_state_dict_keeps_an_optimizers_parameters_valid():
    model, source = Block(), Block()
    opt = SGD(model.parameters(), lr=0.1)
    model.load_state_dict(source.state_dict())
    assert opt.param_groups[0]["params"][0] is model.fc1.weight
    np.testing.assert_array_equal(model.fc1.weight.numpy(), source.fc1.weight.numpy())


def test_load_state_dict_round_trip_restores_outputs():
    tg.manual_seed(3)
    source, target = Net(), Net()
    x = Tensor(rng.standard_normal((6, 3)).astype(np.float32))
    source(x)                                      # moves BatchNorm's running stats
    source.eval()
    target.eval()
    weight_array = target.encoder.fc1.weight.numpy()
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(target(x).numpy(), source(x).numpy())
    assert target.encoder.fc1.weight.numpy() is weight_array    # copied in place
    assert int(target.head[1].num_batches_tracked.item()) == 1


def test_load_state_dict_names_every_missing_unexpected_and_mismatched_key():
    net = Block()
    state = net.state_dict()
    del state["fc2.bias"]
    state["fc3.weight"] = np.zeros((1, 1))
    state["fc1.weight"] = np.zeros((5, 3))
    before = net.fc1.bias.numpy().copy()
    state["fc1.bias"] = np.zeros(4)
    with pytest.raises(ValueError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    assert "missing key 'fc2.bias'" in message
    assert "unexpected key 'fc3.weight'" in message
    assert "fc1.weight: shape (5, 3) in the state dict, (4, 3) in the model" in message
    np.testing.assert_array_equal(net.fc1.bias.numpy(), before)   # nothing half-loaded


def test_load_state_dict_non_strict_reports_keys_but_still_checks_shapes():
    net = Block()
    state = {"fc1.weight": np.ones((4, 3)), "other": np.zeros(1)}
    result = net.load_state_dict(state, strict=False)
    assert result.unexpected_keys == ["other"] and "fc2.weight" in result.missing_keys
    np.testing.assert_array_equal(net.fc1.weight.numpy(), np.ones((4, 3)))
    with pytest.raises(ValueError, match="fc1.weight: shape"):
        net.load_state_dict({"fc1.weight": np.ones((3, 3))}, strict=False)


def test_save_and_load_round_trip(tmp_path):
    tg.manual_seed(4)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    model(Tensor(rng.standard_normal((8, 3)).astype(np.float32)))
    path = tmp_path / "model.npz"
    nn.save(model, path)
    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    assert nn.load(fresh, path) is fresh
    for (name, a), (_, b) in zip(model.state_dict().items(), fresh.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    with np.load(path, allow_pickle=False) as archive:
        assert "1.running_var" in archive.files


def test_save_uses_the_path_as_given(tmp_path):
    path = tmp_path / "weights.bin"
    nn.save(nn.Linear(2, 2), path)
    assert path.exists() and not (tmp_path / "weights.bin.npz").exists()
    nn.load(nn.Linear(2, 2), path)


def test_load_into_a_different_architecture_raises_value_error(tmp_path):
    path = tmp_path / "small.npz"
    nn.save(nn.Sequential(nn.Linear(2, 3)), path)
    with pytest.raises(ValueError, match=r"(?s)small.npz.*0.weight: shape \(3, 2\)"):
        nn.load(nn.Sequential(nn.Linear(2, 4)), path)


def test_load_rejects_files_that_are_not_npz_archives_of_arrays(tmp_path):
    model = nn.Linear(2, 2)
    text = tmp_path / "notes.txt"
    text.write_text("not weights")
    with pytest.raises(ValueError, match="not an .npz archive"):
        nn.load(model, text)
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(3))
    with pytest.raises(ValueError, match="single array"):
        nn.load(model, single)
    pickled = tmp_path / "objects.npz"
    np.savez(pickled, weight=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="'weight'.*not a plain array"):
        nn.load(model, pickled)
    with pytest.raises(FileNotFoundError):
        nn.load(model, tmp_path / "missing.npz")


# ----- Linear ------------------------------------------------------------------------------

def test_linear_computes_x_times_weight_transposed_plus_bias():
    lin = nn.Linear(3, 2)
    assert lin.weight.shape == (2, 3) and lin.bias.shape == (2,)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    expected = x @ lin.weight.numpy().T + lin.bias.numpy()
    np.testing.assert_allclose(lin(Tensor(x)).numpy(), expected, rtol=1e-6)
    assert lin(Tensor(rng.standard_normal((2, 5, 3)).astype(np.float32))).shape == (2, 5, 2)


def test_linear_default_init_is_uniform_within_one_over_sqrt_fan_in_and_float32():
    tg.manual_seed(0)
    lin = nn.Linear(100, 300)
    bound = 1 / np.sqrt(100)
    w, b = lin.weight.numpy(), lin.bias.numpy()
    assert lin.weight.dtype == np.float32 and lin.bias.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.98 * bound            # fills the whole interval
    assert w.std() == pytest.approx(bound / np.sqrt(3), rel=0.03)   # std of U(-a, a)
    assert abs(w.mean()) < 0.01


def test_linear_init_is_reproducible_with_manual_seed():
    tg.manual_seed(7)
    a = nn.Linear(4, 4)
    tg.manual_seed(7)
    b = nn.Linear(4, 4)
    c = nn.Linear(4, 4)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    assert not np.array_equal(b.weight.numpy(), c.weight.numpy())


def test_linear_wrong_feature_count_names_layer_path_and_shapes():
    model = nn.Sequential(nn.Linear(5, 64), nn.ReLU(), nn.Linear(64, 4))
    with pytest.raises(ValueError) as info:
        model(Tensor.zeros(32, 6))
    assert str(info.value) == ("Linear(5→64) at model.0 expected 5 input features, got 6 "
                               "(input shape (32, 6))")
    with pytest.raises(ValueError, match=r"^Linear\(3→1\) expected 3 input features, got 2"):
        nn.Linear(3, 1)(Tensor.zeros(4, 2))
    net = Net()
    with pytest.raises(ValueError, match=r"Linear\(2→5\) at model\.head\.0 expected 2"):
        net.head(Tensor.zeros(4, 3))


def test_linear_integer_input_raises_type_error():
    with pytest.raises(TypeError, match=r"Linear\(2→1\).*int64.*float\(\)"):
        nn.Linear(2, 1)(Tensor(np.array([[1, 2]])))


def test_linear_gradients_match_finite_differences():
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = Tensor(rng.standard_normal(2), requires_grad=True)
    assert tg.gradcheck(lambda x, w, b: F.linear(x, w, b), [x, w, b])


# ----- Dropout -----------------------------------------------------------------------------

def test_dropout_zeros_about_p_and_scales_survivors():
    tg.manual_seed(0)
    x = Tensor(np.ones((200, 100), dtype=np.float32))
    y = nn.Dropout(0.3)(x).numpy()
    dropped = (y == 0).mean()
    assert dropped == pytest.approx(0.3, abs=0.02)
    np.testing.assert_allclose(y[y != 0], 1 / 0.7, rtol=1e-6)
    assert y.mean() == pytest.approx(1.0, abs=0.03)   # expectation preserved


def test_dropout_is_identity_in_eval_mode_and_at_p_zero():
    x = Tensor(rng.standard_normal((5, 5)).astype(np.float32))
    layer = nn.Dropout(0.5).eval()
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).numpy(), x.numpy())
    np.testing.assert_array_equal(F.dropout(x, 0.9, training=False).numpy(), x.numpy())


def test_dropout_p_one_zeroes_everything_with_finite_gradient():
    x = Tensor(np.ones(10), requires_grad=True)
    y = nn.Dropout(1.0)(x)
    y.sum().backward()
    assert not y.numpy().any() and not x.grad.numpy().any()


def test_dropout_gradient_is_the_scaled_mask():
    tg.manual_seed(1)
    x = Tensor(rng.standard_normal(50), requires_grad=True)
    y = F.dropout(x, 0.4)
    y.sum().backward()
    kept = y.numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.6)


def test_dropout_is_reproducible_with_manual_seed():
    x = Tensor(np.ones(100))
    tg.manual_seed(5)
    a = nn.Dropout()(x).numpy()
    tg.manual_seed(5)
    b = nn.Dropout()(x).numpy()
    c = nn.Dropout()(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


@pytest.mark.parametrize("p", [-0.1, 1.5, "half"])
def test_dropout_rejects_p_outside_0_1(p):
    with pytest.raises(ValueError, match=r"Dropout: p .* \[0, 1\]"):
        nn.Dropout(p)


# ----- BatchNorm1d -------------------------------------------------------------------------

def test_batchnorm_training_output_matches_numpy():
    x = rng.standard_normal((8, 3)) * 4 + 2
    bn = nn.BatchNorm1d(3)
    bn.weight.data[...] = [1.0, 2.0, 0.5]
    bn.bias.data[...] = [0.0, -1.0, 3.0]
    out = bn(Tensor(x)).numpy()
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)   # biased variance
    np.testing.assert_allclose(out, x_hat * [1.0, 2.0, 0.5] + [0.0, -1.0, 3.0], rtol=1e-5)


def test_batchnorm_running_stats_use_momentum_and_unbiased_variance():
    bn = nn.BatchNorm1d(2, momentum=0.1)
    mean, var = np.zeros(2), np.ones(2)
    for _ in range(3):
        x = rng.standard_normal((5, 2)) * 3 + 1
        bn(Tensor(x))
        mean = 0.9 * mean + 0.1 * x.mean(axis=0)
        var = 0.9 * var + 0.1 * x.var(axis=0, ddof=1)
    np.testing.assert_allclose(bn.running_mean.numpy(), mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), var, rtol=1e-5)
    assert int(bn.num_batches_tracked.item()) == 3
    assert bn.running_mean.dtype == np.float32


def test_batchnorm_eval_uses_running_stats():
    bn = nn.BatchNorm1d(2)
    bn.running_mean.data[...] = [1.0, -1.0]
    bn.running_var.data[...] = [4.0, 0.25]
    bn.eval()
    x = rng.standard_normal((3, 2))
    out = bn(Tensor(x)).numpy()
    np.testing.assert_allclose(out, (x - [1.0, -1.0]) / np.sqrt(np.array([4.0, 0.25]) + 1e-5),
                               rtol=1e-5)
    np.testing.assert_allclose(bn(Tensor(x[:1])).numpy(), out[:1], rtol=1e-6)   # batch of one
    assert int(bn.num_batches_tracked.item()) == 0          # eval does not update


def test_batchnorm_on_three_dimensional_input_normalises_over_batch_and_length():
    x = rng.standard_normal((4, 3, 5)) * 2 + 1
    bn = nn.BatchNorm1d(3)
    out = bn(Tensor(x)).numpy()
    m = x.mean(axis=(0, 2), keepdims=True)
    v = x.var(axis=(0, 2), keepdims=True)
    np.testing.assert_allclose(out, (x - m) / np.sqrt(v + 1e-5), rtol=1e-5, atol=1e-6)
    n = 4 * 5
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * v.ravel() * n / (n - 1),
                               rtol=1e-5)


def test_batchnorm_momentum_none_is_a_cumulative_average():
    bn = nn.BatchNorm1d(1, momentum=None)
    batches = [rng.standard_normal((6, 1)) + k for k in range(3)]
    for x in batches:
        bn(Tensor(x))
    np.testing.assert_allclose(bn.running_mean.numpy(),
                               np.mean([x.mean() for x in batches]), rtol=1e-5)


def test_batchnorm_gradient_matches_finite_differences():
    bn = nn.BatchNorm1d(3).double()
    bn.weight.data[...] = [1.5, -0.5, 2.0]
    x = Tensor(rng.standard_normal((5, 3)), requires_grad=True)
    assert tg.gradcheck(lambda t: bn(t), [x])


def test_batchnorm_without_affine_or_tracking():
    bn = nn.BatchNorm1d(2, affine=False, track_running_stats=False)
    assert list(bn.parameters()) == [] and bn.state_dict() == {}
    x = rng.standard_normal((6, 2))
    bn.eval()                                       # still uses batch statistics
    out = bn(Tensor(x)).numpy()
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-6)


def test_batchnorm_errors_name_the_layer_path_and_shape():
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(5\) at model\.1 expected input of shape "
                                         r"\(N, 5\) or \(N, 5, L\), got \(2, 3\)"):
        nn.Sequential(nn.ReLU(), nn.BatchNorm1d(5))(Tensor.zeros(2, 3))
    with pytest.raises(ValueError,
                       match=r"BatchNorm1d\(3\) at model\.1 .*more than 1 value per channel"):
        model(Tensor.zeros(1, 4))
    model.eval()
    assert model(Tensor.zeros(1, 4)).shape == (1, 3)


# ----- Flatten and activations -------------------------------------------------------------

def test_flatten_merges_the_requested_axes():
    x = Tensor(rng.standard_normal((2, 3, 4, 5)))
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    np.testing.assert_array_equal(nn.Flatten()(x).numpy(), x.numpy().reshape(2, 60))
    with pytest.raises(ValueError, match=r"Flatten: dimension 1 is out of range .*\(4,\)"):
        nn.Flatten()(Tensor.zeros(4))


def test_activation_modules_match_numpy():
    x = rng.standard_normal((3, 4)) * 3
    np.testing.assert_allclose(nn.ReLU()(Tensor(x)).numpy(), np.maximum(x, 0))
    np.testing.assert_allclose(nn.LeakyReLU(0.2)(Tensor(x)).numpy(), np.where(x > 0, x, 0.2 * x))
    np.testing.assert_allclose(nn.LeakyReLU()(Tensor(x)).numpy(), np.where(x > 0, x, 0.01 * x))
    np.testing.assert_allclose(nn.Sigmoid()(Tensor(x)).numpy(), 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(nn.Tanh()(Tensor(x)).numpy(), np.tanh(x))
    e = np.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(nn.Softmax(dim=1)(Tensor(x)).numpy(),
                               e / e.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(nn.LogSoftmax(dim=-1)(Tensor(x)).numpy(),
                               np.log(e / e.sum(axis=1, keepdims=True)))


def test_softmax_dim_selects_the_normalised_axis():
    x = Tensor(rng.standard_normal((3, 4)))
    np.testing.assert_allclose(nn.Softmax(dim=0)(x).numpy().sum(axis=0), np.ones(4))
    np.testing.assert_allclose(nn.Softmax()(x).numpy().sum(axis=1), np.ones(3))
    assert repr(nn.Softmax(dim=0)) == "Softmax(dim=0)"


@pytest.mark.parametrize("layer", [nn.ReLU(), nn.LeakyReLU(0.1), nn.Sigmoid(), nn.Tanh(),
                                   nn.Softmax(dim=1), nn.LogSoftmax(dim=1)],
                         ids=lambda m: type(m).__name__)
def test_activation_gradients_match_finite_differences(layer):
    x = Tensor(rng.standard_normal((3, 4)) + 0.05, requires_grad=True)   # away from the kink
    assert tg.gradcheck(lambda t: layer(t), [x])


def test_activations_accept_pytorch_inplace_flag():
    assert isinstance(nn.ReLU(inplace=True)(Tensor(np.ones(2))), Tensor)


# ----- init --------------------------------------------------------------------------------

def test_calculate_gain_table():
    assert nn.init.calculate_gain("linear") == 1
    assert nn.init.calculate_gain("sigmoid") == 1
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert nn.init.calculate_gain("relu") == pytest.approx(np.sqrt(2))
    assert nn.init.calculate_gain("leaky_relu") == pytest.approx(np.sqrt(2 / (1 + 0.01 ** 2)))
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(np.sqrt(2 / 1.04))
    assert nn.init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        nn.init.calculate_gain("swish")


def test_xavier_uniform_bound_and_spread():
    t = Tensor.zeros(300, 200)
    assert nn.init.xavier_uniform_(t, gain=2.0) is t
    bound = 2.0 * np.sqrt(6 / (200 + 300))
    assert np.abs(t.numpy()).max() <= bound
    assert np.abs(t.numpy()).max() > 0.99 * bound
    assert t.numpy().std() == pytest.approx(bound / np.sqrt(3), rel=0.02)


def test_xavier_normal_std():
    t = Tensor.zeros(300, 200)
    nn.init.xavier_normal_(t)
    assert t.numpy().std() == pytest.approx(np.sqrt(2 / 500), rel=0.02)
    assert abs(t.numpy().mean()) < 0.002


def test_kaiming_uniform_uses_fan_in_or_fan_out():
    t = Tensor.zeros(400, 100)
    nn.init.kaiming_uniform_(t, nonlinearity="relu")
    bound = np.sqrt(2) * np.sqrt(3 / 100)
    assert bound * 0.99 < np.abs(t.numpy()).max() <= bound
    nn.init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu")
    bound = np.sqrt(2) * np.sqrt(3 / 400)
    assert bound * 0.99 < np.abs(t.numpy()).max() <= bound
    with pytest.raises(ValueError, match="fan_in"):
        nn.init.kaiming_uniform_(t, mode="fan_middle")


def test_kaiming_normal_std_with_leaky_slope():
    t = Tensor.zeros(300, 250)
    nn.init.kaiming_normal_(t, a=0.1)
    expected = np.sqrt(2 / (1 + 0.1 ** 2)) / np.sqrt(250)
    assert t.numpy().std() == pytest.approx(expected, rel=0.02)


def test_fans_of_a_three_dimensional_weight_include_the_kernel():
    t = Tensor.zeros(8, 4, 3)
    nn.init.xavier_uniform_(t)
    bound = np.sqrt(6 / (4 * 3 + 8 * 3))
    assert np.abs(t.numpy()).max() <= bound


def test_fill_functions_work_in_place_and_keep_dtype():
    t = Tensor.ones(3, 2, dtype=np.float64)
    array = t.numpy()
    assert nn.init.zeros_(t) is t and not t.numpy().any()
    assert nn.init.ones_(t) is t and (t.numpy() == 1).all()
    nn.init.constant_(t, 0.5)
    assert (t.numpy() == 0.5).all()
    nn.init.uniform_(t, -2, -1)
    assert ((t.numpy() >= -2) & (t.numpy() < -1)).all()
    nn.init.normal_(t, mean=10, std=0.01)
    assert np.abs(t.numpy() - 10).max() < 0.1
    assert t.numpy() is array and t.dtype == np.float64


def test_init_needs_two_dims_for_fans_and_a_tensor():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(Tensor.zeros(5))
    with pytest.raises(TypeError, match="expected a Tensor"):
        nn.init.zeros_(np.zeros(3))


def test_init_is_reproducible_with_manual_seed():
    a, b = Tensor.zeros(4, 4), Tensor.zeros(4, 4)
    tg.manual_seed(11)
    nn.init.kaiming_normal_(a)
    tg.manual_seed(11)
    nn.init.kaiming_normal_(b)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


# ----- end to end --------------------------------------------------------------------------

def test_mlp_learns_a_separable_three_class_problem():
    tg.manual_seed(0)
    data = np.random.default_rng(0)
    centres = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    y = data.integers(0, 3, 300)
    X = (centres[y] + 0.5 * data.standard_normal((300, 2))).astype(np.float32)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
    loss_fn = nn.CrossEntropyLoss()
    opt = nn.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(150):
        loss = loss_fn(model(Tensor(X)), Tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with tg.no_grad():
        accuracy = (model(Tensor(X)).numpy().argmax(axis=1) == y).mean()
    assert accuracy > 0.95
    assert losses[-1] < 0.2 * losses[0]


class Stack(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(3, 3) for _ in range(2)])
        self.head = nn.Linear(3, 1)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x).relu()
        return self.head(x)


def test_module_list_registers_its_layers():
    net = Stack()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                     "head.weight", "head.bias"]
    out = net(Tensor(np.ones((4, 3), dtype=np.float32)))
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    assert len(net.layers) == 2 and isinstance(net.layers[0], nn.Linear)
    assert isinstance(net.layers[:1], nn.ModuleList)


def test_module_list_has_no_forward():
    with pytest.raises(NotImplementedError, match="loop over it"):
        nn.ModuleList([nn.ReLU()])(Tensor(np.ones(2)))


def test_registered_attributes_stay_in_step_with_the_registries():
    # parameters, buffers and sub-modules are also kept in the instance __dict__ so that
    # self.weight is a plain lookup; every way of changing them must keep both views equal
    layer = nn.Linear(3, 2)
    assert layer.weight is layer._parameters["weight"]
    new_weight = nn.Parameter(Tensor.zeros(2, 3))
    layer.weight = new_weight
    assert layer.weight is new_weight and layer._parameters["weight"] is new_weight
    layer.bias = None
    assert layer.bias is None and layer._parameters["bias"] is None
    del layer.weight
    assert "weight" not in layer._parameters
    with pytest.raises(AttributeError):
        layer.weight
    layer.register_buffer("running", Tensor.ones(2))
    assert layer.running is layer._buffers["running"]
    model = nn.Sequential(nn.Linear(2, 2))
    model.head = nn.ReLU()
    assert model.head is model._modules["head"]
    model.head = None
    assert model.head is None and model._modules["head"] is None
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias"]


def test_requires_grad_freezes_and_unfreezes_every_parameter():
    net = Block()
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())
    net.fc2.requires_grad_()
    assert [p.requires_grad for p in net.parameters()] == [False, False, True, True]
