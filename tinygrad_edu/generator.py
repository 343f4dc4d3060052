"""``tg.Generator``: a random number generator of your own, as PyTorch's ``torch.Generator``.

Random factories, ``nn`` init and Dropout draw from one shared generator that
``tg.manual_seed`` seeds. A ``Generator`` is a separate stream, for code that takes a
``generator=`` argument (``DataLoader``, ``random_split``): its draws do not disturb the
shared one, so adding a shuffled loader does not change how a model is initialised::

    g = tg.Generator().manual_seed(42)
    train, test = random_split(dataset, [0.8, 0.2], generator=g)
"""

import numpy as np


class Generator:
    """A seeded stream of random numbers (numpy's ``default_rng`` underneath, in ``.rng``).

    ``Generator(device="cpu")``; ``manual_seed(seed)`` restarts it and returns it, so
    ``Generator().manual_seed(0)`` can be passed straight on. ``get_state()`` /
    ``set_state(state)`` save and restore its position.
    """

    def __init__(self, device="cpu"):
        kind = device if isinstance(device, str) else getattr(device, "type", None)
        if kind is None or kind.split(":")[0] != "cpu":
            raise RuntimeError(f"Generator: device {device!r} is not available; tinygrad_edu "
                               "computes on the CPU only: use Generator() or device='cpu'")
        self.device = device
        self._seed = int(np.random.SeedSequence().entropy % 2 ** 63)
        self.rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed):
        """Restart the stream from ``seed`` (a non-negative int); returns the generator."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"Generator.manual_seed: seed must be a non-negative int, got "
                             f"{seed!r}")
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def seed(self):
        """Restart from a fresh, unpredictable seed, and return that seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy % 2 ** 63))
        return self._seed

    def initial_seed(self):
        """The seed the stream last started from."""
        return self._seed

    def get_state(self):
        """The stream's position (a dict), for ``set_state``."""
        return self.rng.bit_generator.state

    def set_state(self, state):
        """Go back to a position returned by ``get_state``; returns the generator."""
        self.rng.bit_generator.state = state
        return self
