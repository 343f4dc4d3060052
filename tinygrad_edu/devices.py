"""Where tensors live: always the CPU (numpy). PyTorch's device boilerplate, so it runs.

``tg.device("cpu")``, ``tg.cuda.is_available()`` (False), ``x.to(device)``, ``x.cpu()`` and
``tg.backends.cudnn.deterministic = True`` work as in PyTorch on a machine without a GPU.
Naming a GPU is allowed (``tg.device("cuda")``, as PyTorch, where naming one costs nothing);
putting anything there (``x.to("cuda")``, ``x.cuda()``, ``Tensor.zeros(2, device="cuda")``)
raises a RuntimeError that says so, instead of quietly running somewhere else.
"""

import types

_ELSEWHERE = ("cuda", "mps", "xpu")   # devices a script may name, though none is here

_GPU_HINT = ("tinygrad_edu computes with numpy, on the CPU only; use 'cpu', or write "
             "device = torch.device('cuda' if torch.cuda.is_available() else 'cpu'), "
             "which picks the CPU here")


class device:   # noqa: N801 - PyTorch's name
    """``tg.device("cpu")`` (or ``"cpu:0"``): the one device there is.

    ``.type`` is ``"cpu"``, ``.index`` None (or 0 for ``"cpu:0"``), and ``str(d)`` is
    ``"cpu"``; two devices compare equal when type and index match, as in PyTorch (a
    device is not equal to the string ``"cpu"``). ``tg.device("cuda")`` (also "mps", "xpu")
    can be named, as in PyTorch, but moving a tensor or a model there raises.
    """

    def __init__(self, type="cpu", index=None):   # noqa: A002 - PyTorch's names
        if isinstance(type, device):
            type, index = type.type, type.index
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu', got {type!r}")
        name, _, number = type.partition(":")
        if number:
            if index is not None:
                raise ValueError(f"device: {type!r} already has an index; do not pass index=")
            if not number.isdigit():
                raise ValueError(f"device: {type!r} is not a device string (expected 'cpu' "
                                 "or 'cpu:0')")
            index = int(number)
        if name in _ELSEWHERE:
            self.type, self.index = name, index
            return
        if name != "cpu":
            raise RuntimeError(f"device: expected one of 'cpu', {', '.join(map(repr, _ELSEWHERE))}"
                               f" at the start of the device string, got {type!r}")
        if index not in (None, 0):
            raise RuntimeError(f"device: 'cpu:{index}' does not exist; there is one CPU "
                               "device, 'cpu' (or 'cpu:0')")
        self.type, self.index = name, index

    def __eq__(self, other):
        return isinstance(other, device) and (self.type, self.index) == (other.type,
                                                                           other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = device("cpu")


def device_type(where):
    """The kind of device ``where`` names ("cpu", "cuda", ...), without its index: for a
    string ("cuda:0" gives "cuda"), a ``device``, or any object whose ``.type`` is a string
    (another library's device); None for anything else."""
    kind = where if isinstance(where, str) else getattr(where, "type", None)
    return kind.split(":")[0] if isinstance(kind, str) else None


def check(where, op):
    """Accept ``where`` if it names the CPU (a string or a device), else raise naming ``op``."""
    if isinstance(where, int) and not isinstance(where, bool):
        raise RuntimeError(f"{op}: device {where} is a GPU number: {_GPU_HINT}")
    try:
        where = where if isinstance(where, device) else device(where)
    except RuntimeError as error:
        raise RuntimeError(f"{op}: {error}") from None
    if where.type != "cpu":
        raise RuntimeError(f"{op}: device {str(where)!r} is not available: {_GPU_HINT}")


def cuda_error(op):
    """The RuntimeError for asking for a GPU in ``op``."""
    return RuntimeError(f"{op}: no GPU: {_GPU_HINT}")


def _no_op(*args, **kwargs):
    """Does nothing: there is no GPU to seed, synchronise or free."""


def _zero():
    return 0


def _false():
    return False


def _no_gpu(name):
    def fail(*args, **kwargs):
        raise cuda_error(f"cuda.{name}")
    return fail


# tg.cuda: what scripts ask of torch.cuda before deciding to use the CPU
cuda = types.SimpleNamespace(
    is_available=_false, device_count=_zero, is_initialized=_false,
    manual_seed=_no_op, manual_seed_all=_no_op, seed=_no_op, seed_all=_no_op,
    synchronize=_no_op, empty_cache=_no_op,
    current_device=_no_gpu("current_device"), get_device_name=_no_gpu("get_device_name"),
    set_device=_no_gpu("set_device"),
)

# tg.backends: the switches scripts set for reproducibility; with no GPU they change nothing
backends = types.SimpleNamespace(
    cudnn=types.SimpleNamespace(deterministic=False, benchmark=False, enabled=True,
                                is_available=_false),
    mps=types.SimpleNamespace(is_available=_false, is_built=_false),
    cuda=types.SimpleNamespace(is_built=_false),
)
