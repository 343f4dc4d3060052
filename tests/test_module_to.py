"""Module.to / cpu / cuda / half / type: PyTorch's device boilerplate runs, dtypes convert."""

import numpy as np
import pytest

import nn
import tinygrad_edu as tg


def make_model():
    return nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))


def dtypes_of(model):
    return {name: value.dtype for name, value in model.state_dict().items()}


@pytest.mark.parametrize("device", ["cpu", "cpu:0", tg.device("cpu")], ids=str)
def test_to_a_cpu_device_returns_the_same_model_unchanged(device):
    model = make_model()
    weight = model[0].weight
    assert model.to(device) is model and model.cpu() is model
    assert model[0].weight is weight and weight.dtype == np.float32


def test_any_object_whose_type_is_cpu_is_a_device():
    class Device:
        type = "cpu"

    model = make_model()
    assert model.to(Device()) is model


def test_to_a_dtype_converts_floating_parameters_and_buffers_only():
    model = make_model()
    model.to(tg.float64)
    kinds = dtypes_of(model)
    assert kinds["0.weight"] == np.float64 and kinds["1.running_mean"] == np.float64
    assert kinds["1.num_batches_tracked"] == np.int64   # integer buffers stay integers
    model.to("cpu", tg.float32)
    assert model[0].weight.dtype == np.float32
    model.to(device="cpu", dtype=np.float16)
    assert model[0].bias.dtype == np.float16
    model.to(tg.zeros(1, dtype=tg.float64))   # a tensor's dtype
    assert model[0].weight.dtype == np.float64
    model.to(np.dtype(np.float32))   # a numpy dtype object, as x.dtype gives
    assert model[0].weight.dtype == np.float32
    assert model.half()[0].weight.dtype == np.float16
    assert model.double()[0].weight.dtype == np.float64


def test_the_converted_model_trains_and_the_optimizer_sees_the_same_parameters():
    tg.manual_seed(0)
    model = nn.Linear(2, 1)
    opt = tg.optim.SGD(model.parameters(), lr=0.1)
    model.to(tg.float64)
    x = tg.randn(4, 2, dtype=tg.float64)
    nn.MSELoss()(model(x), tg.zeros(4, 1, dtype=tg.float64)).backward()
    before = model.weight.numpy().copy()
    opt.step()
    assert model.weight.dtype == np.float64
    np.testing.assert_allclose(model.weight.numpy(), before - 0.1 * model.weight.grad.numpy())


def test_type_converts_every_parameter_and_buffer():
    model = make_model().type(tg.float64)
    assert set(dtypes_of(model).values()) == {np.dtype(np.float64)}


def test_a_gpu_raises_a_runtime_error_saying_there_is_none():
    model = make_model()
    with pytest.raises(RuntimeError, match=r"Sequential.cuda: no GPU.*is_available"):
        model.cuda()
    with pytest.raises(RuntimeError, match="Sequential.to: device 'cuda:0' is not available"):
        model.to("cuda:0")
    with pytest.raises(RuntimeError, match="Sequential.to: device 0 is a GPU number"):
        model.to(0)


def test_bad_dtypes_name_the_module_and_the_value():
    model = make_model()
    with pytest.raises(TypeError, match="Sequential.to: only floating dtypes .* got int64"):
        model.to(tg.int64)
    with pytest.raises(TypeError, match="Sequential.to: bfloat16 is not supported"):
        model.to(tg.bfloat16)
    with pytest.raises(TypeError, match="Linear.bfloat16: numpy.* has no bfloat16"):
        nn.Linear(1, 1).bfloat16()
    with pytest.raises(TypeError, match="Sequential.to: .*not a dtype"):
        model.to(object())
