"""The four workloads of issue 4: sizes, data, initial weights, run lengths and targets.

Every engine gets exactly the same inputs: the batches and the initial weights are drawn here,
in numpy, from fixed seeds, and each engine copies them into its own objects. So the losses of
step 1, 2, 3, ... must agree between engines up to float32 rounding.

    W1      MLP 5-64-4, ReLU, batch 32, SGD, softmax cross-entropy       us per training step
    W1-inf  the same forward (logits and loss) under no_grad               us per forward
    W2      MLP 784-256-256-10, ReLU, batch 128, SGD, softmax CE           ms per training step
    W3      100 tanh ops on a (32, 32) tensor, then backward of the sum    us per op
    W4      20,000 ops h = h * 1.00001 on shape (1,), then backward        us per op
    W4-1M   the W4 chain with 1,000,000 ops, run once: does it complete?   us per op
    W5      the CNN of examples/cnn_digits.py on 8x8 images, batch 64, SGD  ms per training step
"""

import collections

import numpy as np

LEARNING_RATE = 0.1
W3_OP = "tanh"           # the elementwise op of W3 (see the module docstring)
W4_FACTOR = 1.00001      # (1 + 1e-5) ** 1e6 = e^10: the million-op chain stays finite

# kind: "train" (an MLP training step), "eval" (MLP forward + loss under no_grad),
# "tanh_chain" / "scale_chain" (n elementwise ops, then backward).
# scale: seconds -> unit; per_op: the time of one run is divided by the chain length.
Workload = collections.namedtuple(
    "Workload", "name kind title unit scale per_op target_ratio target_abs")

WORKLOADS = {
    "W1": Workload("W1", "train", "MLP 5-64-4, batch 32, SGD, softmax CE (per training step)",
                   "us", 1e6, False, 1.5, None),
    "W1-inf": Workload("W1-inf", "eval", "W1 forward + loss under no_grad (per forward)",
                       "us", 1e6, False, None, None),
    "W2": Workload("W2", "train", "MLP 784-256-256-10, batch 128, SGD, softmax CE (per step)",
                   "ms", 1e3, False, 1.05, None),
    "W3": Workload("W3", "tanh_chain", f"elementwise {W3_OP} on (32, 32), forward+backward "
                   "(per op)", "us", 1e6, True, 2.5, None),
    "W4": Workload("W4", "scale_chain", "20,000-op chain h * c on shape (1,) + backward (per op)",
                   "us", 1e6, True, None, 3.0),
    "W5": Workload("W5", "cnn_train", "CNN conv3x3(1-16) pool conv3x3(16-32) pool linear(128-10), "
                   "8x8 images, batch 64, SGD, softmax CE (per step)", "ms", 1e3, False, 2.0,
                   None),
}
MILLION = Workload("W4-1M", "scale_chain", "1,000,000-op chain h * c on shape (1,) + backward, "
                   "run once (per op); the target is that it completes", "us", 1e6, True, None,
                   None)
MEMORY_TARGET_RATIO = 1.2   # peak memory of a W2 training step, relative to numpy by hand

# How long each child runs, per mode. check: steps (or chain runs) whose losses are compared
# with numpy's one by one (they double as warm-up); blocks x per_block: the timed part, every
# block gives one time per step. chain: chain length of W3 / W4.
LENGTHS = {
    "full": {
        "W1": dict(check=50, blocks=7, per_block=200),
        "W1-inf": dict(check=50, blocks=7, per_block=400),
        "W2": dict(check=5, blocks=5, per_block=20),
        "W3": dict(check=3, blocks=7, per_block=20, chain=100),
        "W4": dict(check=1, blocks=5, per_block=1, chain=20_000),
        "W4-1M": dict(check=0, blocks=1, per_block=1, chain=1_000_000),
        "W5": dict(check=10, blocks=7, per_block=30),
    },
    "quick": {
        "W1": dict(check=20, blocks=3, per_block=100),
        "W1-inf": dict(check=20, blocks=3, per_block=200),
        "W2": dict(check=3, blocks=3, per_block=10),
        "W3": dict(check=2, blocks=3, per_block=10, chain=100),
        "W4": dict(check=1, blocks=3, per_block=1, chain=20_000),
        "W4-1M": dict(check=0, blocks=1, per_block=1, chain=1_000_000),
        "W5": dict(check=5, blocks=3, per_block=15),
    },
    # only checks that everything runs and agrees (used by tests/test_benchmarks.py)
    "smoke": {
        "W1": dict(check=3, blocks=1, per_block=2),
        "W1-inf": dict(check=3, blocks=1, per_block=2),
        "W2": dict(check=2, blocks=1, per_block=1),
        "W3": dict(check=2, blocks=1, per_block=1, chain=10),
        "W4": dict(check=1, blocks=1, per_block=1, chain=200),
        "W4-1M": dict(check=0, blocks=1, per_block=1, chain=2_000),
        "W5": dict(check=2, blocks=1, per_block=1),
    },
}


def mlp_sizes(name):
    return (5, 64, 4) if name in ("W1", "W1-inf") else (784, 256, 256, 10)


def mlp_setup(name, seed=0):
    """Initial weights [(W, b), ...] (W: (out, in), as in PyTorch) and a list of batches (x, y).

    Weights follow PyTorch's default Linear init, U(-k, k) with k = 1/sqrt(fan_in). Labels
    come from a fixed random linear "teacher", so the loss really goes down while training.
    """
    rng = np.random.default_rng(seed)
    sizes = mlp_sizes(name)
    weights = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        k = 1 / np.sqrt(fan_in)
        weights.append((rng.uniform(-k, k, (fan_out, fan_in)).astype(np.float32),
                        rng.uniform(-k, k, fan_out).astype(np.float32)))
    batch_size, batch_count = (32, 8) if sizes[0] == 5 else (128, 4)
    teacher = rng.standard_normal((sizes[0], sizes[-1])).astype(np.float32)
    batches = []
    for _ in range(batch_count):
        if sizes[0] == 5:
            x = rng.standard_normal((batch_size, sizes[0])).astype(np.float32)
        else:  # pixel-like inputs in [0, 1)
            x = rng.random((batch_size, sizes[0]), dtype=np.float32)
        y = np.argmax((x - x.mean(axis=0)) @ teacher, axis=1).astype(np.int64)
        batches.append((x, y))
    return weights, batches


def chain_input(name, seed=0):
    """The leaf the W3 / W4 chains start from."""
    rng = np.random.default_rng(seed)
    if name == "W3":
        return rng.standard_normal((32, 32)).astype(np.float32)
    return np.array([0.5], dtype=np.float32)


# W5: (in_channels, out_channels) of the two 3x3 convolutions (padding 1, each followed by ReLU
# and a 2x2 max pool), then one Linear layer; as examples/cnn_digits.py
CNN_CONVS = ((1, 16), (16, 32))
CNN_CLASSES = 10
CNN_IMAGE = 8


def cnn_setup(seed=0):
    """Initial weights [(W, b), ...] of the W5 CNN and a list of batches (x, y).

    Convolution weights (out, in, 3, 3) and the Linear weight (10, 128), with PyTorch's
    default init U(-k, k), k = 1/sqrt(fan_in). Images (64, 1, 8, 8) in [0, 1); labels from a
    fixed random linear teacher on the pixels, so the loss goes down while training.
    """
    rng = np.random.default_rng(seed)
    weights = []
    for c_in, c_out in CNN_CONVS:
        k = 1 / np.sqrt(c_in * 9)
        weights.append((rng.uniform(-k, k, (c_out, c_in, 3, 3)).astype(np.float32),
                        rng.uniform(-k, k, c_out).astype(np.float32)))
    features = CNN_CONVS[-1][1] * (CNN_IMAGE // 4) ** 2
    k = 1 / np.sqrt(features)
    weights.append((rng.uniform(-k, k, (CNN_CLASSES, features)).astype(np.float32),
                    rng.uniform(-k, k, CNN_CLASSES).astype(np.float32)))
    pixels = CNN_IMAGE * CNN_IMAGE
    teacher = rng.standard_normal((pixels, CNN_CLASSES)).astype(np.float32)
    batches = []
    for _ in range(4):
        x = rng.random((64, 1, CNN_IMAGE, CNN_IMAGE), dtype=np.float32)
        flat = x.reshape(64, pixels)
        y = np.argmax((flat - flat.mean(axis=0)) @ teacher, axis=1).astype(np.int64)
        batches.append((x, y))
    return weights, batches
