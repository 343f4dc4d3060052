"""Module, Parameter and Sequential: how a network holds its weights and finds its parts.

A ``Module`` notices what you assign to it. ``self.fc1 = nn.Linear(5, 64)`` registers a
sub-module, ``self.w = nn.Parameter(...)`` a learnable weight, and
``self.register_buffer("running_mean", t)`` a tensor that is saved with the model but not
trained. From these three registries (``_modules``, ``_parameters``, ``_buffers``, named as in
PyTorch) come ``parameters()``, ``state_dict()``, ``train()``/``eval()`` and the printed tree.

Names: every parameter's ``.name`` is its dotted path from the outermost module it has been
assigned into ("0.weight", "encoder.fc1.bias"), so graph drawings and error messages can say
which weight they mean. Each module also knows its own path (``_path``, "" for the outermost
one). Error messages name a module by class and path below the outermost module, which they
call "model": ``Linear(5→64) at model.0``; a shape, type or index error that the library
raises while a module's ``forward`` runs says which module was running. Assigning a module
into a parent renames everything below it; a module shared by two parents carries the path
of the last assignment.

Scopes: calling a module marks the ops recorded during its ``forward`` (``op.scope``, copied
by the engine from the per-thread scope that ``Module.__call__`` extends and restores): a
tuple of (path, class name) pairs from the outermost module call inwards, e.g.
``(("model", "Sequential"), ("model.0", "Linear"))``, as error messages name modules; the
graph drawer boxes ops by it. Each pair (a ``_ScopeEntry``) also carries, for drawings, the
outermost module's name record (``.top``) and the path below it (``.path``, "0").

Top-level names (for drawings only; ``named_parameters()`` keys never change): the
outermost module of a tree owns a ``_TopLevelName`` record that every module below it
shares. At the module's first call, the variable the user's code bound it to
(``encoder``, ``loss_fn``) is looked up once in the calling frame and kept there; the
drawing names the box by it, else by the class name (``Linear``; the built-in losses:
``loss``), and numbers repeats (``Linear_2``). Error messages keep calling the outermost
module "model".
"""

import collections
import collections.abc
import itertools
import sys
import warnings
import zipfile

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.autograd import state as _engine_state   # per thread: grad mode, scope
from tinygrad_edu.callsite import is_library_file
from tinygrad_edu.devices import device_type

class IncompatibleKeys(collections.namedtuple("IncompatibleKeys",
                                              ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it missed and the keys it did not know,
    as PyTorch's named tuple (which prints ``<All keys matched successfully>`` when both
    are empty)."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


class StateDictError(RuntimeError, ValueError):
    """``load_state_dict`` was given a state dict that does not fit the module.

    A RuntimeError, as PyTorch raises, and a ValueError, as this project's bad values are.
    """

def _join(prefix, name):
    """Dotted path: _join("encoder", "fc1") == "encoder.fc1", _join("", "fc1") == "fc1"."""
    return f"{prefix}.{name}" if prefix else name


class _TopLevelName:
    """What graph drawings call an outermost module; every module below it shares the record.

    ``variable``: the name the user's code had bound the module to at its first call (None
    before, or if there was none); ``fallback``, used without one: the class name, or the
    class's own ``_scope_root`` ("loss" for the built-in losses); ``number``: creation order,
    so that two unnamed Linear modules become ``Linear`` and ``Linear_2`` in the order they
    were made. The drawing makes the names within one picture unique.
    """

    __slots__ = ("variable", "fallback", "number")
    _numbers = itertools.count(1)

    def __init__(self, module):
        cls = type(module)
        own_root = cls._scope_root != Module._scope_root
        self.variable = None
        self.fallback = cls._scope_root if own_root else cls.__name__
        self.number = next(_TopLevelName._numbers)


class _ScopeEntry(tuple):
    """A module's entry in a scope: the pair (path as error messages say it, class name),
    e.g. ("model.0", "Linear"), equal to that plain tuple; drawings also read ``top``, the
    ``_TopLevelName`` of its outermost module, and ``path``, its path below that one ("0")."""

    def __new__(cls, message_path, kind, top, path):
        entry = super().__new__(cls, (message_path, kind))
        entry.top = top
        entry.path = path
        return entry

    def __reduce__(self):   # for copy.deepcopy (nn.diagnose copies the model) and pickle
        return _ScopeEntry, (self[0], self[1], self.top, self.path)


def _variable_name(module, frame):
    """The name bound to ``module`` in the innermost frame of user code from ``frame``
    outwards (its locals, then its globals; not ``self``), or None."""
    while frame is not None and is_library_file(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return None
    for namespace in (frame.f_locals, frame.f_globals):
        for name, value in namespace.items():
            if value is module and name != "self":
                return name
    return None


class Parameter(Tensor):
    """A Tensor that a Module registers as a learnable weight when it is assigned as an attribute.

    ``Parameter(data, requires_grad=True)``: ``data`` is a Tensor, a numpy array or a nested
    list; an array (or a Tensor's array) of a supported dtype is shared, not copied. Apart from
    being found by ``Module.parameters()`` it is an ordinary leaf Tensor: results of operations
    on it are plain Tensors.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty(0, dtype=np.float32)
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of every layer, loss and model: subclass it and write ``forward``.

    Call ``super().__init__()`` first in your ``__init__``, then assign layers and parameters
    as attributes; calling the module runs ``forward``::

        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(5, 64)
                self.fc2 = nn.Linear(64, 4)

            def forward(self, x):                  # x: (batch, 5) -> (batch, 4)
                return self.fc2(self.fc1(x).relu())

    A plain Tensor assigned as an attribute is *not* a parameter (as in PyTorch): wrap it in
    ``nn.Parameter`` to have it trained, or use ``register_buffer`` to have it saved.
    """

    def __init__(self):
        # object.__setattr__: our own __setattr__ needs these registries to exist already
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        self._set_path("", _TopLevelName(self))

    def forward(self, *args, **kwargs):
        """The computation of this module; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define "
                                  "forward(self, x) in your Module subclass")

    def __call__(self, *args, **kwargs):
        # ops recorded inside forward remember this call, so drawings can box them per module
        # (the engine's per-thread scope, set here directly: this runs for every layer of
        # every step)
        outer = _engine_state.scope
        entry = self._scope_entry
        if entry is None:   # a top-level module's first call: find its variable name, once
            entry = self._name_top_level(sys._getframe(1))
        _engine_state.scope = outer + entry
        try:
            return self.forward(*args, **kwargs)
        except (ValueError, TypeError, IndexError) as error:
            _name_module_in(error, self)
            raise
        finally:
            _engine_state.scope = outer

    # what error messages call the outermost module; a class that sets its own (the built-in
    # losses: "loss") is also called that in drawings when no variable name is found
    _scope_root = "model"

    def _scope_name(self):
        return f"{self._scope_root}.{self._path}" if self._path else self._scope_root

    def _short_repr(self):
        """The module as error messages name it: the class, plus sizes where they help
        ('Linear(5→64)', 'BatchNorm1d(3)')."""
        return type(self).__name__

    def _describe(self):
        """'Linear(5→64) at model.0': the module and its path below the outermost module
        (called "model", as in graph drawings); just 'Linear(5→64)' for the outermost one."""
        where = f" at model.{self._path}" if self._path else ""
        return f"{self._short_repr()}{where}"

    # ----- registration ------------------------------------------------------------------

    def _registry(self, name, kind):
        registry = self.__dict__.get(name)
        if registry is None:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() has run; call "
                                 f"super().__init__() first in {type(self).__name__}.__init__")
        return registry

    def _forget(self, name):
        """Remove ``name`` from every registry and from the plain attributes."""
        for registry in ("_parameters", "_buffers", "_modules"):
            self.__dict__.get(registry, {}).pop(name, None)
        self.__dict__.pop(name, None)

    @staticmethod
    def _check_name(name, kind):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name must be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise ValueError(f"{kind} name {name!r} must be non-empty and contain no '.'")

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter, or None for an absent one such as a missing bias)."""
        self._registry("_parameters", "parameters")
        self._check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot register a {type(param).__name__} as parameter {name!r}; "
                            "wrap it: nn.Parameter(tensor)")
        self._forget(name)
        self._parameters[name] = param
        self.__dict__[name] = param   # a copy for plain attribute lookup (see __getattr__)
        if param is not None:
            param.name = _join(self._path, name)

    def register_buffer(self, name, tensor, persistent=True):
        """Register a Tensor (or None) that is not trained but belongs to the module's state
        (running statistics). It is in ``state_dict`` unless ``persistent=False``."""
        self._registry("_buffers", "buffers")
        self._check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"buffer {name!r} must be a Tensor or None, "
                            f"got {type(tensor).__name__}")
        self._forget(name)
        if persistent:
            self.__dict__.get("_non_persistent", set()).discard(name)
        else:
            self.__dict__.setdefault("_non_persistent", set()).add(name)
        self._buffers[name] = tensor
        self.__dict__[name] = tensor
        if tensor is not None:
            tensor.name = _join(self._path, name)

    def add_module(self, name, module):
        """Register ``module`` (or None) as a child called ``name``; its parameters are renamed."""
        self._registry("_modules", "modules")
        self._check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.{name} must be a Module, got "
                            f"{_describe_non_module(module)}")
        self._forget(name)
        self._modules[name] = module
        self.__dict__[name] = module
        if module is not None:
            module._rename(_join(self._path, name), self._top)

    register_module = add_module

    def _set_path(self, path, top):
        """Record this module's path below its outermost module and that one's name record."""
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_top", top)
        # the scope entry, a 1-tuple ready to append (see __call__); an outermost module gets
        # it at its first call, which looks up its variable name first
        object.__setattr__(self, "_scope_entry", self._make_scope_entry() if path else None)

    def _make_scope_entry(self):
        return (_ScopeEntry(self._scope_name(), type(self).__name__, self._top, self._path),)

    def _name_top_level(self, frame):
        """Look up the variable name of this outermost module from its caller's ``frame``
        (once: afterwards ``_scope_entry`` is set) and return its scope entry."""
        self._top.variable = _variable_name(self, frame)
        object.__setattr__(self, "_scope_entry", self._make_scope_entry())
        return self._scope_entry

    def _rename(self, path, top):
        """Set this module's path and re-prefix the names below it (after it got a parent)."""
        self._set_path(path, top)
        for name, tensor in list(self._parameters.items()) + list(self._buffers.items()):
            if tensor is not None:
                tensor.name = _join(path, name)
        for name, module in self._modules.items():
            if module is not None:
                module._rename(_join(path, name), top)

    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        modules = self.__dict__.get("_modules")
        buffers = self.__dict__.get("_buffers")
        if isinstance(value, Parameter):
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign a {type(value).__name__} to parameter {name!r}; "
                                "assign an nn.Parameter or None")
            params[name] = self.__dict__[name] = None
        elif isinstance(value, Module):
            self.add_module(name, value)
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign a {type(value).__name__} to sub-module {name!r}; "
                                "assign an nn.Module or None")
            modules[name] = self.__dict__[name] = None
        elif buffers is not None and name in buffers:
            self.register_buffer(name, value)
        else:
            if isinstance(value, Tensor) and value.requires_grad and value.is_leaf:
                # the classic silent bug: the tensor is never handed to the optimizer
                warnings.warn(
                    f"{type(self).__name__}.{name} is a plain Tensor with requires_grad=True; it "
                    "is not registered as a parameter, so parameters(), the optimizer and "
                    f"state_dict() will not see it. Use self.{name} = nn.Parameter(tensor).",
                    UserWarning, stacklevel=2)
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # only called when normal lookup fails. Registered things are kept in the registries
        # and, for speed (self.weight in every forward), also in the instance __dict__, which
        # register_*, __setattr__ and __delattr__ keep in step; this is the fallback
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                del entries[name]
                self.__dict__.pop(name, None)
                return
        object.__delattr__(self, name)

    # ----- walking the tree --------------------------------------------------------------

    def named_children(self):
        """(name, module) for each direct sub-module."""
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self):
        """The direct sub-modules."""
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix=""):
        """(dotted path, module) for this module (path ``prefix``) and every one below it.

        A module reachable by two paths is listed once. Module trees are shallow, so a
        recursive walk is fine here (unlike the tensor graph, which can be 100 000 deep).
        """
        seen = set()

        def walk(module, path):
            if id(module) in seen:
                return
            seen.add(id(module))
            yield path, module
            for name, child in module.named_children():
                yield from walk(child, _join(path, name))

        yield from walk(self, prefix)

    def modules(self):
        """This module and every module below it."""
        for _, module in self.named_modules():
            yield module

    def _named_members(self, registry, prefix, recurse):
        seen = set()
        owners = self.named_modules(prefix) if recurse else [(prefix, self)]
        for owner_path, owner in owners:
            for name, tensor in owner.__dict__[registry].items():
                if tensor is None or id(tensor) in seen:   # shared weights are listed once
                    continue
                seen.add(id(tensor))
                yield _join(owner_path, name), tensor

    def named_parameters(self, prefix="", recurse=True):
        """(dotted path, Parameter) for every parameter, e.g. ("0.weight", ...), each once."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        """Every parameter of this module and its sub-modules (a generator), each once."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True):
        """(dotted path, Tensor) for every buffer, e.g. ("1.running_mean", ...)."""
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        """Every buffer of this module and its sub-modules."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn):
        """Call ``fn(module)`` on every sub-module and then on this one; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ----- training state ----------------------------------------------------------------

    def train(self, mode=True):
        """Put this module and all below it in training mode (or evaluation mode if False).

        Only some layers care: Dropout drops units and BatchNorm1d uses batch statistics
        in training mode. Returns self, so ``model.train()`` can be chained.
        """
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode must be True or False, got {mode!r}")
        for module in self.modules():
            module.training = mode
        return self

    def eval(self):
        """Evaluation mode: ``train(False)``. Dropout becomes the identity, BatchNorm1d uses
        its running statistics. It does not turn off gradient recording; use ``no_grad()``."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` of every parameter (``False`` freezes them, as for
        fine-tuning); returns self."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient: ``p.grad = None`` (PyTorch's default), or zero it."""
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                param.grad.zero_()

    def _cast(self, dtype):
        for tensor in list(self.parameters()) + list(self.buffers()):
            if tensor.dtype.kind == "f" and tensor.dtype != dtype:
                tensor.data = tensor.numpy().astype(dtype)
                tensor.grad = None
        return self

    def double(self):
        """Convert floating parameters and buffers to float64 in place (e.g. for gradcheck)."""
        return self._cast(np.float64)

    def float(self):
        """Convert floating parameters and buffers to float32 in place."""
        return self._cast(np.float32)

    def half(self):
        """Convert floating parameters and buffers to float16 in place."""
        return self._cast(np.float16)

    def bfloat16(self):
        """Not available: numpy has no bfloat16 (raises a TypeError saying what to use)."""
        raise TypeError(f"{type(self).__name__}.bfloat16: numpy, which holds the values, has "
                        "no bfloat16 type; use model.half() (float16) or model.float()")

    def to(self, *args, device=None, dtype=None, non_blocking=False, memory_format=None):
        """Move and/or convert the parameters and buffers, in place; returns self, as PyTorch.

        ``model.to(device)``, ``model.to(tg.float64)``, ``model.to(device, dtype)``,
        ``model.to(tensor)`` (its dtype), ``model.to(device=..., dtype=...)``. A device is
        "cpu" (or "cpu:0", or any object whose ``.type`` is "cpu", such as ``tg.device``):
        everything already lives there, so nothing moves. "cuda" raises a RuntimeError. A
        dtype converts only the floating parameters and buffers (integer buffers such as a
        step counter stay integers) and must itself be floating.
        """
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, (str, int)) or isinstance(getattr(arg, "type", None), str):
                # a device: a string, a GPU number, or an object whose .type is a string (a
                # numpy dtype has a .type too, but it is a class)
                _check_device(arg, f"{type(self).__name__}.to")
            else:
                dtype = arg
        if device is not None:
            _check_device(device, f"{type(self).__name__}.to")
        if dtype is None:
            return self
        try:
            # the Tensor's own conversion knows every dtype name, and refuses bfloat16 clearly
            resolved = Tensor.zeros(0).to(dtype).dtype
        except TypeError as error:
            message = str(error).removeprefix("to: ")
            raise TypeError(f"{type(self).__name__}.to: {message}") from None
        if resolved.kind != "f":
            raise TypeError(f"{type(self).__name__}.to: only floating dtypes can be given to a "
                            f"module, got {resolved}; its parameters must stay floating")
        return self._cast(resolved)

    def cpu(self):
        """Everything already lives on the CPU: returns self unchanged."""
        return self

    def cuda(self, device=None):
        """Raises a RuntimeError: there is no GPU (tinygrad_edu computes with numpy)."""
        raise RuntimeError(f"{type(self).__name__}.cuda: no GPU: tinygrad_edu computes with "
                           f"numpy, on the CPU only; {_DEVICE_HINT}")

    def type(self, dst_type):
        """Convert every parameter and buffer (integer ones too) to ``dst_type``; returns self."""
        try:
            resolved = Tensor.zeros(0).to(dst_type).dtype
        except TypeError as error:
            message = str(error).removeprefix("to: ")
            raise TypeError(f"{type(self).__name__}.type: {message}") from None
        for tensor in list(self.parameters()) + list(self.buffers()):
            if tensor.dtype != resolved:
                tensor.data = tensor.numpy().astype(resolved)
                tensor.grad = None
        return self

    # ----- saving and loading ------------------------------------------------------------

    def state_dict(self, *, destination=None, prefix="", keep_vars=False):
        """An OrderedDict: dotted name -> Tensor, for every parameter and persistent buffer.

        As in PyTorch: module by module, each module's own parameters, then its own buffers,
        then its children's entries (``"0.weight"``, ``"0.bias"``, ``"1.running_mean"``,
        ...). The values share memory with the parameters (``p.detach()``: changing the
        model changes them; no gradient); ``keep_vars=True`` gives the Parameters
        themselves. A weight tied between two modules appears under both names (as one
        tensor). ``prefix`` is put before every name; ``destination`` is a dict to fill.
        """
        state = collections.OrderedDict() if destination is None else destination
        detached = {}   # id(tensor) -> its detached view: a tied weight stays one tensor
        # module trees are shallow, so this walk may recurse (see named_modules)
        for path, module in _every_path(self, ""):
            skip = module.__dict__.get("_non_persistent", ())
            members = list(module._parameters.items()) + [
                (name, b) for name, b in module._buffers.items() if name not in skip]
            for name, tensor in members:
                if tensor is None:
                    continue
                if not keep_vars:
                    tensor = detached.setdefault(id(tensor), tensor.detach())
                state[prefix + _join(path, name)] = tensor   # prefix as given, as PyTorch
        return state

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy the values of ``state_dict`` into the parameters and buffers, in place.

        In place (``copy_`` under ``no_grad``), so an optimizer holding the parameters keeps
        working. Values may be Tensors or numpy arrays; each is converted to its
        parameter's dtype. With ``strict=True`` (the default) the keys must be exactly those
        of ``state_dict()``; with ``strict=False`` missing and unexpected keys are allowed
        and only reported. Returns PyTorch's named tuple ``(missing_keys,
        unexpected_keys)``. A shape that does not fit always raises, and on any problem
        nothing is copied: a ``StateDictError`` (a RuntimeError, as in PyTorch, and a
        ValueError) lists every missing key, unexpected key and shape mismatch.
        """
        if assign:
            raise NotImplementedError("load_state_dict: assign=True (replacing the "
                                      "parameters by the given tensors) is not supported; "
                                      "the values are copied into the existing ones")
        if not isinstance(state_dict, collections.abc.Mapping):
            raise TypeError(f"load_state_dict: expected a dict of name -> tensor (as "
                            f"state_dict() returns), got {type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        values, problems = {}, []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            value = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
            if value.dtype.kind not in "biuf":
                problems.append(f"{key}: holds {value.dtype} data, not numbers")
            elif value.shape != target.shape:
                problems.append(f"size mismatch for {key}: shape {value.shape} in the state "
                                f"dict, {target.shape} in the model")
            values[key] = value
        if strict:
            problems += [f"missing key {key!r}" for key in missing]
            problems += [f"unexpected key {key!r}" for key in unexpected]
        if problems:
            raise StateDictError(f"load_state_dict: the state dict does not fit this "
                                 f"{type(self).__name__}:\n  " + "\n  ".join(problems))
        with tg.no_grad():
            for key, value in values.items():
                own[key].copy_(value)
        return IncompatibleKeys(missing, unexpected)

    # ----- printing ----------------------------------------------------------------------

    def extra_repr(self):
        """The text inside this module's parentheses, e.g. 'in_features=5, out_features=64'."""
        return ""

    def __repr__(self):
        lines = self.extra_repr().splitlines()
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        if not self._modules:
            return f"{type(self).__name__}({''.join(lines)})"
        body = "\n".join("  " + line for line in lines)
        return f"{type(self).__name__}(\n{body}\n)"


_DEVICE_HINT = ("write device = torch.device('cuda' if torch.cuda.is_available() else 'cpu') "
                "and model.to(device), which picks the CPU here")


def _check_device(where, op):
    """Accept a device that names the CPU ("cpu", "cpu:0", an object whose .type is "cpu");
    raise a RuntimeError naming ``op`` for a GPU, a TypeError for what is not a device."""
    if isinstance(where, int) and not isinstance(where, bool):
        raise RuntimeError(f"{op}: device {where} is a GPU number: no GPU here; {_DEVICE_HINT}")
    kind = device_type(where)
    if kind is None:
        raise TypeError(f"{op}: expected a device ('cpu', tg.device('cpu')) or a dtype, got "
                        f"{where!r}")
    if kind != "cpu":
        raise RuntimeError(f"{op}: device {str(where)!r} is not available: tinygrad_edu "
                           f"computes with numpy, on the CPU only; {_DEVICE_HINT}")


def _name_module_in(error, module):
    """Add which module was running to an error the library raised inside ``module.forward``.

    The innermost module call does it (and marks the error, so that the modules around it
    leave it alone): "add: shapes (32, 64) and (10,) do not broadcast ..." gets a second line
    "(raised inside Linear(5→64) at model.0)". Messages that already name the module, such as
    Linear's own "Linear(5→64) at model.0 expected 5 input features", and errors raised by your
    own code are left as they are.
    """
    if getattr(error, "_module_named", False):
        return
    error._module_named = True
    if type(error).__str__ is not BaseException.__str__ or len(error.args) != 1:
        return
    message = error.args[0]
    where = module._describe()
    if not isinstance(message, str) or where in message or not _raised_by_library(error):
        return
    error.args = (f"{message}\n  (raised inside {where})",)


def _raised_by_library(error):
    """True if the innermost frame of ``error``'s traceback is in tinygrad_edu, nn or numpy."""
    tb = error.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return is_library_file(tb.tb_frame.f_code.co_filename)


def _describe_non_module(value):
    """What was passed instead of a Module, with the usual fix for ``nn.ReLU`` without ()."""
    if isinstance(value, type) and issubclass(value, Module):
        return (f"the class {value.__name__} itself; create an instance by calling it, "
                f"e.g. nn.{value.__name__}(...)")
    return f"a {type(value).__name__}"


class Sequential(Module):
    """Modules applied one after another: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Children are named "0", "1", ... (or by the keys of a single dict argument), so
    parameters are called "0.weight", "2.bias". Supports ``len``, iteration, ``seq[i]``,
    ``seq[i:j]`` (a new Sequential of the same modules, under their original names) and
    ``append``.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            named = list(modules[0].items())
        else:
            named = [(str(i), module) for i, module in enumerate(modules)]
        for name, module in named:
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: argument {name} is {_describe_non_module(module)}, "
                                "not a Module")
            self.add_module(name, module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def append(self, module):
        """Add ``module`` at the end; returns self."""
        if not isinstance(module, Module):
            raise TypeError(f"Sequential.append: got {_describe_non_module(module)}, not a Module")
        self.add_module(str(len(self)), module)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            part = type(self)()
            # straight into the registry: the modules still belong to this model, so their
            # paths and parameter names must not be rewritten by add_module
            part._modules.update(items[index])
            return part
        try:
            return items[index][1]
        except IndexError:
            raise IndexError(f"Sequential: index {index} is out of range for "
                             f"{len(items)} modules") from None


class ModuleList(Sequential):
    """A list of modules, registered as children "0", "1", ... so their parameters are found.

    As PyTorch's ``nn.ModuleList``: it has no ``forward`` of its own; loop over it in yours::

        self.layers = nn.ModuleList([nn.Linear(8, 8) for _ in range(3)])
        ...
        for layer in self.layers:
            x = layer(x).relu()

    A plain Python list of layers would hide them from ``parameters()`` and the optimizer.
    """

    def __init__(self, modules=()):
        super().__init__(*modules)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward(): loop over it in your module's "
                                  "forward, or use nn.Sequential to chain the layers")

    def extend(self, modules):
        """Append every module of ``modules``; returns self."""
        for module in modules:
            self.append(module)
        return self


def _every_path(module, path):
    """(dotted path, module) for ``module`` and each module below it, by every path (a
    module shared by two parents is listed under both, as PyTorch's state_dict does)."""
    yield path, module
    for name, child in module._modules.items():
        if child is not None:
            yield from _every_path(child, _join(path, name))


def save(module, path):
    """Write ``module.state_dict()`` to ``path`` as an ``.npz`` archive (the path is used as is).

    Only arrays are written, no pickled Python objects, so the file is safe to share.
    """
    state = {name: tensor.numpy() for name, tensor in module.state_dict().items()}
    with open(path, "wb") as f:   # a file object, so numpy does not append ".npz" to the name
        np.savez(f, **state)


def _starts_like_a_pickle(path):
    """True if the file begins as pickle protocol 2 or later does (torch.save, pickle.dump)."""
    try:
        with open(path, "rb") as f:
            return f.read(1) == b"\x80"
    except OSError:
        return False


def load(module, path):
    """Load an ``.npz`` written by ``save`` into ``module`` (strictly) and return the module.

    The file is read with ``np.load(path, allow_pickle=False)``: anything but an archive of
    plain numeric arrays raises ValueError, as does a key or shape that does not fit.
    """
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        if isinstance(error, FileNotFoundError):
            raise
        if _starts_like_a_pickle(path):
            # unpickling a file can run arbitrary code, so it is refused, not offered
            raise ValueError(f"nn.load: {path} holds pickled Python objects, which nn.load "
                             "refuses to read (unpickling can run any code); only .npz "
                             "archives of plain arrays, as nn.save writes, can be "
                             "loaded") from None
        raise ValueError(f"nn.load: {path} is not an .npz archive of arrays written by "
                         f"nn.save ({error})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"nn.load: {path} holds a single array (an .npy file), not the .npz "
                         "archive of named arrays that nn.save writes")
    with archive:
        state = {}
        for key in archive.files:
            try:
                state[key] = archive[key]
            except ValueError as error:
                raise ValueError(f"nn.load: entry {key!r} of {path} is not a plain array "
                                 f"({error}); only files written by nn.save can be "
                                 "loaded") from None
    try:
        module.load_state_dict(state)
    except ValueError as error:
        raise ValueError(f"nn.load: {path}: {error}") from None
    return module
