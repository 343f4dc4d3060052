"""``tinygrad_edu.nn`` is the ``nn`` package beside this one: one package, two names.

The project's design keeps layers in a top-level package ``nn`` (``import nn``), and PyTorch
scripts expect ``torch.nn``; both names must give the very same modules, or a model built
with one would not be an ``nn.Module`` of the other. This module is the one place that
arranges it: importing ``tinygrad_edu.nn`` loads the package from its folder (not whatever
``nn`` comes first on ``sys.path``: a learner's own ``nn.py`` in the working directory must
not take its place) and registers it, and every submodule, under both names. If ``import nn``
would find some other ``nn``, that name stays the learner's, and the package lives under
``tinygrad_edu.nn`` only.
"""

import importlib.util
import os
import sys

_FOLDER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "nn")


def _is_ours(module):
    """True for the nn package and its submodules (files inside its folder)."""
    path = getattr(module, "__file__", None)
    return path is not None and os.path.abspath(path).startswith(os.path.join(_FOLDER, ""))


def _load():
    existing = sys.modules.get("nn")
    if existing is not None and _is_ours(existing):
        return existing   # already imported as ``import nn``
    # take the name ``nn`` only if ``import nn`` would find this package anyway
    found = importlib.util.find_spec("nn") if existing is None else None
    ours = found is not None and found.origin is not None and os.path.abspath(
        found.origin).startswith(os.path.join(_FOLDER, ""))
    name = "nn" if ours else __name__
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(_FOLDER, "__init__.py"), submodule_search_locations=[_FOLDER])
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    try:
        spec.loader.exec_module(package)
    except BaseException:
        del sys.modules[name]
        raise
    return package


_package = _load()
if _package.__name__ == "nn":   # its submodules are nn.*: give each its second name too
    for _key, _module in list(sys.modules.items()):
        if _key.startswith("nn.") and _is_ours(_module):
            sys.modules.setdefault("tinygrad_edu." + _key, _module)
sys.modules[__name__] = _package
