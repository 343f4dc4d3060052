"""``tg.save`` / ``tg.load``: PyTorch's ``torch.save`` / ``torch.load``, without pickle.

What can be saved: Tensors, numpy arrays and numpy scalars, Python numbers, strings, bools
and None, and lists, tuples and dicts (any of these keys: str, int, float, bool, None, tuples)
nesting them: a model's ``state_dict()``, an optimizer's ``state_dict()``, a checkpoint dict
``{"epoch": 3, "model": ..., "optimizer": ...}``.

The file is a zip archive (as PyTorch's is) holding ``structure.json``, which describes the
object, and one ``.npy`` file per array, written and read back with ``allow_pickle=False``.
Loading never runs code from the file: it parses JSON and reads plain arrays, nothing else.

What comes back is what went in, bit for bit: each array with its dtype, shape and values;
Tensors as Tensors (with their ``requires_grad``, as leaves, without ``.grad``; an
``nn.Parameter`` comes back as a plain Tensor that requires grad, which ``load_state_dict``
copies into the model's own Parameters), numpy arrays as numpy arrays, tuples as tuples, an
OrderedDict as an OrderedDict. One tensor saved in two places is one tensor after loading.
"""

import collections
import io
import json
import os
import zipfile

import numpy as np

from .devices import device_type
from .tensor import Tensor

FORMAT = "tinygrad_edu.save"
VERSION = 1
_STRUCTURE = "structure.json"


def save(obj, f):
    """Write ``obj`` (tensors, arrays, numbers, strings, None, and lists/tuples/dicts of them)
    to ``f``, a path or a binary file object, as PyTorch's ``torch.save``.

    ``tg.save(model.state_dict(), "model.pt")``; ``tg.save({"model": model.state_dict(),
    "optimizer": opt.state_dict(), "epoch": 5}, "checkpoint.pt")``. Anything else (a whole
    Module, a function) raises TypeError naming where in ``obj`` it sits.
    """
    arrays = []
    memo = {}   # id(tensor or array) -> its encoding, so shared objects stay shared
    structure = {"format": FORMAT, "version": VERSION,
                 "object": _encode(obj, "obj", arrays, memo)}
    target = os.fspath(f) if isinstance(f, (str, os.PathLike)) else f
    if not isinstance(target, str) and not hasattr(target, "write"):
        raise TypeError(f"save: f must be a path or a binary file object, got "
                        f"{type(f).__name__}")
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(_STRUCTURE, json.dumps(structure))
        for i, array in enumerate(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, array, allow_pickle=False)
            archive.writestr(f"arrays/{i}.npy", buffer.getvalue())


def _encode(obj, where, arrays, memo):
    """The JSON description of ``obj``; its arrays are appended to ``arrays``.

    Plain JSON values stand for themselves (None, bools, ints, floats, strings); everything
    else is a one-key dict naming its kind: {"tensor": i, "requires_grad": b},
    {"ndarray": i}, {"scalar": i}, {"list": [...]}, {"tuple": [...]},
    {"dict": [[key, value], ...]}, {"ordered_dict": [[key, value], ...]}.
    """
    if obj is None or type(obj) in (bool, int, float, str):
        return obj
    if isinstance(obj, Tensor):
        if id(obj) not in memo:
            memo[id(obj)] = {"tensor": _add_array(obj.numpy(), where, arrays),
                             "requires_grad": bool(obj.requires_grad)}
        return memo[id(obj)]
    if isinstance(obj, np.ndarray):
        if id(obj) not in memo:
            memo[id(obj)] = {"ndarray": _add_array(obj, where, arrays)}
        return memo[id(obj)]
    if isinstance(obj, np.generic):   # np.float32(1.5), np.int64(3): kept as numpy scalars
        return {"scalar": _add_array(np.asarray(obj), where, arrays)}
    for plain in (bool, int, float, str):   # subclasses such as an IntEnum: the plain value
        if isinstance(obj, plain):
            return plain(obj)
    if isinstance(obj, (list, tuple)):
        if isinstance(obj, tuple) and type(obj) is not tuple and hasattr(obj, "_fields"):
            raise TypeError(f"save: {where} is a namedtuple ({type(obj).__name__}); save it "
                            "as a plain tuple or dict")
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(item, f"{where}[{i}]", arrays, memo)
                       for i, item in enumerate(obj)]}
    if isinstance(obj, dict):
        kind = "ordered_dict" if isinstance(obj, collections.OrderedDict) else "dict"
        return {kind: [[_encode_key(key, where), _encode(value, f"{where}[{key!r}]", arrays, memo)]
                       for key, value in obj.items()]}
    hint = ""
    if hasattr(obj, "state_dict") and callable(obj.state_dict):
        hint = "; save its state_dict() instead, and load it with load_state_dict()"
    raise TypeError(f"save: cannot save {where}, a {type(obj).__name__}: only tensors, numpy "
                    "arrays, numbers, strings, None and lists/tuples/dicts of them can be "
                    f"saved (the file never holds code){hint}")


def _encode_key(key, where):
    if isinstance(key, tuple):
        return {"tuple": [_encode_key(k, where) for k in key]}
    if isinstance(key, np.generic):   # a numpy number as a key comes back as a Python number
        key = key.item()
    if key is None or isinstance(key, (bool, int, float, str)):
        return key
    raise TypeError(f"save: {where} has the key {key!r}, a {type(key).__name__}; keys must be "
                    "strings, numbers, None or tuples of them")


def _add_array(array, where, arrays):
    if array.dtype.hasobject:
        raise TypeError(f"save: {where} is an array of Python objects (dtype object), which "
                        "cannot be saved without pickle; convert it to numbers first")
    arrays.append(array)
    return len(arrays) - 1


def load(f, map_location=None, weights_only=None, **kwargs):
    """Read back what ``save`` wrote to ``f`` (a path or a binary file object), as PyTorch's
    ``torch.load``.

    Everything lives on the CPU, so ``map_location`` may be None, "cpu", a device whose
    ``type`` is "cpu", a dict or a function (PyTorch's ways of moving storages; all of them
    mean the CPU here); "cuda" raises. ``weights_only`` is accepted for compatibility: every
    load here is weights-only, as the file cannot hold code. A file made by PyTorch's own
    ``torch.save`` cannot be read (it is a pickle) and raises a ValueError saying so.
    """
    _check_map_location(map_location)
    if weights_only not in (None, True, False):
        raise TypeError(f"load: weights_only must be True, False or None, got {weights_only!r}")
    if kwargs:
        raise TypeError(f"load: unexpected keyword argument(s) {sorted(kwargs)}")
    source = os.fspath(f) if isinstance(f, (str, os.PathLike)) else f
    if not isinstance(source, str) and not hasattr(source, "read"):
        raise TypeError(f"load: f must be a path or a binary file object, got "
                        f"{type(f).__name__}")
    name = source if isinstance(source, str) else getattr(source, "name", "the file")
    if not isinstance(source, str):
        # zipfile needs to seek; a non-seekable stream is read into memory first
        if not (hasattr(source, "seekable") and source.seekable()):
            source = io.BytesIO(source.read())
    try:
        archive = zipfile.ZipFile(source)
    except zipfile.BadZipFile:
        if _starts_like_a_pickle(source):
            raise ValueError(f"load: {name} is a pickle (PyTorch's legacy torch.save format, or "
                             "pickle.dump); tinygrad_edu does not read pickles, because "
                             f"unpickling can run any code. {_CONVERT}") from None
        raise ValueError(f"load: {name} is not a file written by tinygrad_edu's save (not a "
                         "zip archive)") from None
    with archive:
        names = archive.namelist()
        if _STRUCTURE not in names:
            raise ValueError(_foreign_zip_message(name, names))
        try:
            structure = json.loads(archive.read(_STRUCTURE).decode("utf-8"))
        except ValueError as error:
            raise ValueError(f"load: {name}: {_STRUCTURE} is not valid JSON ({error})") from None
        if not isinstance(structure, dict) or structure.get("format") != FORMAT:
            raise ValueError(f"load: {name} was not written by tinygrad_edu's save")
        if structure.get("version") != VERSION:
            raise ValueError(f"load: {name} has format version {structure.get('version')!r}; "
                             f"this tinygrad_edu reads version {VERSION}")
        return _decode(structure["object"], _ArrayReader(archive, name), {})


_CONVERT = ("To move weights from PyTorch, save them there as plain arrays: "
            "np.savez('weights.npz', **{k: v.numpy() for k, v in model.state_dict().items()}), "
            "then here: model.load_state_dict(dict(np.load('weights.npz')))")


def _foreign_zip_message(name, names):
    if any(n.endswith("data.pkl") for n in names):
        return (f"load: {name} was written by PyTorch's torch.save, which tinygrad_edu cannot "
                "read: its data.pkl is a pickle, and unpickling can run any code. "
                f"{_CONVERT}")
    if names and all(n.endswith(".npy") for n in names):
        return (f"load: {name} is a numpy .npz archive (as nn.save and np.savez write), not "
                "a file written by tg.save; read it with nn.load(model, path) or np.load(path)")
    return f"load: {name} is a zip archive, but not one written by tinygrad_edu's save"


def _starts_like_a_pickle(source):
    """True if the file begins as pickle protocol 2 or later does (torch.save's legacy format)."""
    if isinstance(source, str):
        try:
            with open(source, "rb") as f:
                return f.read(1) == b"\x80"
        except OSError:
            return False
    source.seek(0)
    return source.read(1) == b"\x80"


def _check_map_location(map_location):
    device = map_location
    if isinstance(device, dict) or callable(device) or device is None:
        return
    kind = device_type(device)
    if kind is None:
        raise TypeError(f"load: map_location must be None, 'cpu', a device, a dict or a "
                        f"function, got {map_location!r}")
    if kind != "cpu":
        raise ValueError(f"load: map_location={map_location!r}: tinygrad_edu runs on the CPU "
                         "only; use map_location='cpu' or leave it out")


class _ArrayReader:
    """Reads ``arrays/<i>.npy`` from the archive, refusing anything that needs pickle."""

    def __init__(self, archive, name):
        self.archive, self.name = archive, name

    def __call__(self, index):
        entry = f"arrays/{index}.npy"
        try:
            with self.archive.open(entry) as f:
                return np.lib.format.read_array(io.BytesIO(f.read()), allow_pickle=False)
        except KeyError:
            raise ValueError(f"load: {self.name} has no {entry}; the file is damaged") from None
        except ValueError as error:
            raise ValueError(f"load: {self.name}: {entry} is not a plain array ({error})") from None


def _decode(node, read, memo):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, dict) and len(node) in (1, 2):
        kind = next(iter(node))
        value = node[kind]
        if kind == "tensor":
            if value not in memo:
                memo[value] = Tensor(read(value), requires_grad=node.get("requires_grad", False))
            return memo[value]
        if kind == "ndarray":
            if ("ndarray", value) not in memo:
                memo[("ndarray", value)] = read(value)
            return memo[("ndarray", value)]
        if kind == "scalar":
            return read(value)[()]
        if kind == "list":
            return [_decode(item, read, memo) for item in value]
        if kind == "tuple":
            return tuple(_decode(item, read, memo) for item in value)
        if kind in ("dict", "ordered_dict"):
            items = [(_decode_key(key), _decode(item, read, memo)) for key, item in value]
            return collections.OrderedDict(items) if kind == "ordered_dict" else dict(items)
    raise ValueError(f"load: unexpected entry {str(node)[:80]} in {_STRUCTURE}; the file is "
                     "damaged or was written by a newer version")


def _decode_key(key):
    if isinstance(key, dict) and "tuple" in key:
        return tuple(_decode_key(k) for k in key["tuple"])
    return key
