"""tg.save / tg.load (torch.save / torch.load): round trips bit for bit, and never unpickle."""

import collections
import io
import json
import math
import pickle
import zipfile

import numpy as np
import pytest

import nn
import tinygrad_edu as tg
from tinygrad_edu import Tensor

rng = np.random.default_rng(0)


def round_trip(obj):
    buffer = io.BytesIO()
    tg.save(obj, buffer)
    buffer.seek(0)
    return tg.load(buffer)


def assert_same_array(got, want):
    got, want = np.asarray(got), np.asarray(want)   # Tensors (of a state dict) or arrays
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.tobytes() == want.tobytes()      # bit for bit: NaN payloads, -0.0 included


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int8, np.int32,
                                   np.int64, np.uint8, np.bool_])
def test_a_tensor_comes_back_bit_for_bit_in_its_dtype(dtype):
    array = (rng.standard_normal((3, 4)) * 100).astype(dtype)
    back = round_trip(Tensor(array))
    assert isinstance(back, Tensor)
    assert_same_array(back.numpy(), array)


def test_special_float_values_and_odd_shapes_survive():
    special = np.array([np.nan, -np.nan, np.inf, -np.inf, -0.0, 5e-324], dtype=np.float64)
    for array in (special, np.float32(7.0) * np.ones(()), np.zeros((0, 3)), np.ones((2, 1, 1))):
        assert_same_array(round_trip(Tensor(array)).numpy(), array)
    noncontiguous = np.arange(12.0).reshape(3, 4).T
    assert_same_array(round_trip(noncontiguous), np.ascontiguousarray(noncontiguous))


def test_nested_containers_keep_their_types_and_python_values():
    obj = {"epoch": 3, "lr": 0.1, "name": "mlp", "done": False, "none": None,
           "nan": math.nan, "big": 2 ** 80, "pair": (1, 2.5), "list": [1, [2, (3,)]],
           "ordered": collections.OrderedDict([("b", 1), ("a", 2)]),
           0: "int key", (1, "x"): "tuple key", 2.5: "float key",
           "np": np.float32(1.25), "npint": np.int64(-4)}
    back = round_trip(obj)
    assert back.keys() == obj.keys()
    assert type(back["pair"]) is tuple and type(back["list"][1][1]) is tuple
    assert type(back["ordered"]) is collections.OrderedDict
    assert list(back["ordered"]) == ["b", "a"]
    assert math.isnan(back["nan"]) and back["big"] == 2 ** 80 and back["done"] is False
    assert type(back["np"]) is np.float32 and back["np"] == np.float32(1.25)
    assert type(back["npint"]) is np.int64 and back["npint"] == -4
    assert {k: v for k, v in back.items() if k not in ("nan", "np", "npint")} == {
        k: v for k, v in obj.items() if k not in ("nan", "np", "npint")}


def test_tensors_keep_requires_grad_and_come_back_as_leaves_without_grad():
    w = Tensor(rng.standard_normal(3), requires_grad=True)
    (w * w).sum().backward()
    made = w * 2
    back_w, back_made, back_plain = round_trip([w, made, Tensor([1.0])])
    assert back_w.requires_grad and back_w.is_leaf and back_w.grad is None
    assert back_made.requires_grad and back_made.is_leaf   # as PyTorch: saved as a leaf
    assert not back_plain.requires_grad
    assert_same_array(back_made.numpy(), made.numpy())


def test_a_tensor_saved_twice_is_one_tensor_after_loading():
    t = Tensor([1.0, 2.0])
    array = np.ones(2)
    back = round_trip({"a": t, "b": [t], "c": array, "d": array})
    assert back["a"] is back["b"][0] and back["c"] is back["d"]
    assert isinstance(back["c"], np.ndarray)


def test_model_and_optimizer_state_dicts_round_trip_and_continue_identically(tmp_path):
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    opt = tg.optim.Adam(model.parameters(), lr=0.01)
    x = Tensor(rng.standard_normal((8, 3)).astype(np.float32))
    y = Tensor(np.ones((8, 1), np.float32))

    def train_step(m, o):
        o.zero_grad()
        nn.MSELoss()(m(x), y).backward()
        o.step()

    train_step(model, opt)
    path = tmp_path / "checkpoint.pt"
    tg.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 1}, path)
    tg.manual_seed(1)
    model2 = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    opt2 = tg.optim.Adam(model2.parameters(), lr=0.5)
    checkpoint = tg.load(path, map_location="cpu", weights_only=True)
    model2.load_state_dict(checkpoint["model"])
    opt2.load_state_dict(checkpoint["optimizer"])
    assert checkpoint["epoch"] == 1 and opt2.param_groups[0]["lr"] == 0.01
    for _ in range(2):
        train_step(model, opt)
        train_step(model2, opt2)
    for (name, a), (_, b) in zip(model.state_dict().items(), model2.state_dict().items()):
        assert_same_array(b, a)


def test_the_file_is_a_zip_of_json_and_plain_npy_arrays(tmp_path):
    path = tmp_path / "t.pt"
    tg.save({"w": Tensor(np.eye(2))}, str(path))
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["arrays/0.npy", "structure.json"]
        structure = json.loads(archive.read("structure.json"))
        array = np.load(io.BytesIO(archive.read("arrays/0.npy")), allow_pickle=False)
    assert structure["object"] == {"dict": [["w", {"tensor": 0, "requires_grad": False}]]}
    np.testing.assert_array_equal(array, np.eye(2))


def test_saving_a_module_or_a_function_names_where_it_sits():
    with pytest.raises(TypeError, match=r"obj\['model'\], a Linear.*state_dict\(\)"):
        tg.save({"model": nn.Linear(2, 2)}, io.BytesIO())
    with pytest.raises(TypeError, match=r"obj\[1\], a function"):
        tg.save([1, lambda x: x], io.BytesIO())
    with pytest.raises(TypeError, match="dtype object"):
        tg.save(np.array([None, 1]), io.BytesIO())
    with pytest.raises(TypeError, match="key"):
        tg.save({frozenset(): 1}, io.BytesIO())


def test_a_pytorch_zip_file_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "model.pt"   # the layout torch.save writes: <name>/data.pkl, data/0, ...
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model/data.pkl", pickle.dumps({"w": 1}))
        archive.writestr("model/data/0", b"\0" * 8)
        archive.writestr("model/version", "3\n")
    with pytest.raises(ValueError, match="written by PyTorch's torch.save.*pickle"):
        tg.load(path)


def test_a_pickle_is_refused_without_being_unpickled(tmp_path):
    path = tmp_path / "legacy.pt"
    path.write_bytes(pickle.dumps({"w": [1.0]}, protocol=2))
    with pytest.raises(ValueError, match="is a pickle.*does not read pickles"):
        tg.load(path)


def test_other_files_are_refused_with_what_they_are(tmp_path):
    npz = tmp_path / "weights.npz"
    nn.save(nn.Linear(2, 2), npz)
    with pytest.raises(ValueError, match="npz.*nn.load"):
        tg.load(npz)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a zip archive"):
        tg.load(text)
    with pytest.raises(FileNotFoundError):
        tg.load(tmp_path / "missing.pt")


def test_map_location_cuda_is_refused_and_cpu_forms_are_accepted():
    buffer = io.BytesIO()
    tg.save(Tensor([1.0]), buffer)

    class Device:
        type = "cpu"

    for where in (None, "cpu", Device(), {"cuda:0": "cpu"}, lambda storage, loc: storage):
        buffer.seek(0)
        assert tg.load(buffer, map_location=where).item() == 1.0
    with pytest.raises(ValueError, match="CPU only"):
        tg.load(buffer, map_location="cuda:0")


def test_nn_save_and_load_still_work(tmp_path):
    model = nn.Linear(3, 2)
    nn.save(model, tmp_path / "m.npz")
    other = nn.Linear(3, 2)
    nn.load(other, tmp_path / "m.npz")
    np.testing.assert_array_equal(other.weight.numpy(), model.weight.numpy())
