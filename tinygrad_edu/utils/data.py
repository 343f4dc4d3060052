"""``tinygrad_edu.utils.data``: PyTorch's ``torch.utils.data`` (Dataset, DataLoader, ...).

A ``Dataset`` answers ``len(ds)`` and ``ds[i]`` (one sample, e.g. an ``(x, y)`` pair). A
``DataLoader`` walks it in batches, shuffled if asked, and stacks the samples of each batch
into Tensors with ``default_collate``::

    from tinygrad_edu.utils.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
    for epoch in range(10):
        for xb, yb in loader:      # xb: (32, features), yb: (32,); the last may be smaller
            ...

Shuffling draws from ``generator=`` if given, else from the generator that
``tg.manual_seed`` seeds, so a seeded script shuffles the same way every run. Everything runs
in the calling process: ``num_workers`` is accepted and changes nothing.
"""

import bisect
import collections.abc
import math

import numpy as np

from ..factories import randperm, rng_of
from ..tensor import Tensor


class Dataset:
    """Base class of map-style datasets: subclass it and define ``__getitem__`` and ``__len__``.

    ``ds[i]`` returns sample ``i`` (anything ``default_collate`` can stack: Tensors, arrays,
    numbers, and tuples/dicts of them); ``a + b`` chains two datasets (``ConcatDataset``).
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} has no __getitem__; define "
                                  "__getitem__(self, index) returning one sample")

    def __add__(self, other):
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are rows of the given tensors: ``ds[i] == (t1[i], t2[i], ...)``.

    Every tensor must have the same first dimension (the number of samples).
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {i} is a {type(t).__name__}, not a "
                                "Tensor; convert it with tg.tensor(...) or tg.from_numpy(...)")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: argument {i} is a 0-d tensor; every tensor "
                                 "needs a first dimension of samples")
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: the tensors have different numbers of samples "
                             f"(first dimensions {sizes}); they must all be equal")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``Subset(ds, idx)[i] ==
    ds[idx[i]]``."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """Datasets one after another: the samples of the first, then of the second, ..."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: the list of datasets is empty")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]))

    def __len__(self):
        return int(self.cumulative_sizes[-1]) if self.cumulative_sizes else 0

    def __getitem__(self, index):
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {n} samples")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = int(self.cumulative_sizes[which - 1]) if which > 0 else 0
        return self.datasets[which][index - start]


def _permutation(n, generator, where):
    """A random order of range(n), drawn as ``tg.randperm(n, generator=generator)`` draws it
    (PyTorch's shuffling does the same with ``torch.randperm``)."""
    rng_of(generator, where)   # a wrong generator is named with the caller
    return randperm(n, np.int64, generator).tolist()


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` at random into ``Subset`` s of the given ``lengths``.

    ``lengths`` are counts adding up to ``len(dataset)``, or fractions adding up to 1
    (``[0.8, 0.2]``): each part then gets ``floor(fraction * n)`` samples and the samples
    left over go one each to the first parts, as in PyTorch.
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:   # fractions, as PyTorch decides
        if any(not 0 <= f <= 1 for f in lengths):
            raise ValueError(f"random_split: fractions must lie in [0, 1], got {lengths}")
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(isinstance(k, float) and not k.is_integer() for k in lengths):
        raise ValueError(f"random_split: lengths {lengths} are neither counts nor fractions "
                         "adding up to 1")
    if any(k < 0 for k in lengths) or sum(lengths) != n:
        raise ValueError(f"random_split: lengths {lengths} add up to {sum(lengths)}, but the "
                         f"dataset has {n} samples")
    order = _permutation(n, generator, "random_split")
    parts, start = [], 0
    for k in lengths:
        parts.append(Subset(dataset, order[start:start + int(k)]))
        start += int(k)
    return parts


def default_collate(batch):
    """Stack a list of samples into a batch, as PyTorch's ``default_collate``.

    Tensors are stacked (a new first axis); numpy arrays and numpy scalars become a Tensor
    of their dtype; Python ints give int64, floats float64 (as in PyTorch), bools bool;
    strings stay a list. Tuples and lists of fields are collated field by field into a list,
    dicts key by key into a dict, so a batch of ``(x, y)`` pairs gives ``[xs, ys]``.
    """
    if not batch:
        raise ValueError("default_collate: the batch is empty")
    first = batch[0]
    if isinstance(first, Tensor):
        return Tensor.stack(list(batch))
    if isinstance(first, np.ndarray):
        if first.dtype.kind not in "biuf":
            raise TypeError(f"default_collate: numpy arrays of dtype {first.dtype} cannot be "
                            "made into a tensor; use numbers")
        return Tensor(np.stack(batch))
    if isinstance(first, np.generic):
        return Tensor(np.array(batch))
    if isinstance(first, bool):
        return Tensor(np.array(batch, dtype=np.bool_))
    if isinstance(first, int):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(first, float):
        return Tensor(np.array(batch, dtype=np.float64))
    if isinstance(first, str):
        return list(batch)
    if isinstance(first, collections.abc.Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):   # a namedtuple
        return type(first)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(first, collections.abc.Sequence):
        sizes = {len(sample) for sample in batch}
        if len(sizes) != 1:
            raise ValueError(f"default_collate: the samples have different numbers of fields "
                             f"({sorted(sizes)}); each sample must have the same")
        return [default_collate(list(field)) for field in zip(*batch)]
    raise TypeError(f"default_collate: a sample holds a {type(first).__name__}; samples must "
                    "be tensors, numpy arrays, numbers, strings, or tuples/lists/dicts of "
                    "them (or pass your own collate_fn)")


def default_convert(sample):
    """What ``DataLoader(batch_size=None)`` does to each sample: numpy arrays become
    Tensors, containers are converted inside, everything else stays as it is."""
    if isinstance(sample, np.ndarray) and sample.dtype.kind in "biuf":
        return Tensor(sample)
    if isinstance(sample, collections.abc.Mapping):
        return {key: default_convert(value) for key, value in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_convert(value) for value in sample))
    if isinstance(sample, (list, tuple)):
        return [default_convert(value) for value in sample]
    return sample


class IterableDataset(Dataset):
    """Base class of datasets read as a stream: define ``__iter__``, yielding samples.

    A ``DataLoader`` batches consecutive samples; ``shuffle`` and ``sampler`` do not apply.
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} has no __iter__; define "
                                  "__iter__(self) yielding one sample at a time")


class Sampler:
    """Base class of samplers: iterables of dataset indices (``__iter__``, ``__len__``)."""

    def __iter__(self):
        raise NotImplementedError

    def __len__(self):
        raise TypeError(f"{type(self).__name__} has no len()")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A new random order of the indices each time it is iterated (each epoch).

    ``replacement=True`` draws ``num_samples`` indices (default: all) with repetition.
    Draws from ``generator``, else from the generator ``tg.manual_seed`` seeds.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        rng_of(generator, "RandomSampler")   # checks its type; draws nothing
        if num_samples is not None and (isinstance(num_samples, bool) or
                                        not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError(f"RandomSampler: num_samples must be a positive int, got "
                             f"{num_samples!r}")
        self.data_source, self.replacement = data_source, replacement
        self._num_samples, self.generator = num_samples, generator

    @property
    def num_samples(self):
        """How many indices one pass yields (the dataset's length unless given)."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        if self.replacement:
            rng = rng_of(self.generator, "RandomSampler")
            return iter(rng.integers(0, n, self.num_samples).tolist())
        # whole permutations, as many as num_samples needs (PyTorch's rule)
        order = []
        while len(order) < self.num_samples:
            order += _permutation(n, self.generator, "RandomSampler")
        return iter(order[:self.num_samples])

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a new random order each epoch (e.g. a validation split)."""

    def __init__(self, indices, generator=None):
        rng_of(generator, "SubsetRandomSampler")
        self.indices, self.generator = list(indices), generator

    def __iter__(self):
        order = _permutation(len(self.indices), self.generator, "SubsetRandomSampler")
        return iter([self.indices[i] for i in order])

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probability proportional to ``weights``
    (``tg.multinomial``), with replacement by default: to oversample rare classes."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        rng_of(generator, "WeightedRandomSampler")
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples <= 0:
            raise ValueError(f"WeightedRandomSampler: num_samples must be a positive int, got "
                             f"{num_samples!r}")
        weights = np.asarray(weights.numpy() if isinstance(weights, Tensor) else weights,
                             dtype=np.float64)
        if weights.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights must be 1-d (one per sample), "
                             f"got shape {weights.shape}")
        self.weights, self.num_samples = weights, num_samples
        self.replacement, self.generator = replacement, generator

    def __iter__(self):
        drawn = Tensor(self.weights).multinomial(self.num_samples, self.replacement,
                                                 generator=self.generator)
        return iter(drawn.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter,
    unless ``drop_last``)."""

    def __init__(self, sampler, batch_size, drop_last):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size must be a positive int, got "
                             f"{batch_size!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


class DataLoader:
    """Batches of samples of ``dataset``, as PyTorch's ``DataLoader``.

    ``DataLoader(dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
    num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, generator=None, ...)``.

    - Each ``for`` loop over the loader is one epoch: with ``shuffle=True`` a new order is
      drawn each time (a ``RandomSampler``), from ``generator`` if given, else from the
      generator seeded by ``tg.manual_seed``.
    - ``len(loader)`` is the number of batches: ``ceil(n / batch_size)``, or
      ``floor(n / batch_size)`` with ``drop_last=True`` (the smaller last batch is dropped).
    - ``collate_fn(list_of_samples)`` makes a batch; the default stacks them into Tensors
      (``default_collate``). ``batch_size=None`` yields the samples one by one, unbatched.
    - ``sampler``: the indices to use (a Sampler, or any iterable), instead of
      ``range(len(dataset))``; ``batch_sampler``: lists of indices, one per batch.
    - An ``IterableDataset`` is read in order and its consecutive samples batched.
    - Everything runs in this process: ``num_workers``, ``pin_memory``,
      ``persistent_workers``, ``prefetch_factor`` and ``worker_init_fn`` are accepted and
      change nothing.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, generator=None, *, prefetch_factor=None,
                 persistent_workers=False, pin_memory_device=""):
        iterable = isinstance(dataset, IterableDataset)
        if not iterable and not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(f"DataLoader: dataset must support len() and [index] (a Dataset, "
                            f"a list, ...) or be an IterableDataset, got "
                            f"{type(dataset).__name__}")
        if batch_size is not None and (isinstance(batch_size, bool) or
                                       not isinstance(batch_size, (int, np.integer)) or
                                       batch_size <= 0):
            raise ValueError(f"DataLoader: batch_size must be a positive int (or None for no "
                             f"batching), got {batch_size!r}")
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be a non-negative int, got "
                             f"{num_workers!r}")
        if not isinstance(shuffle, (bool, type(None))):
            raise TypeError(f"DataLoader: shuffle must be True or False, got {shuffle!r}")
        if iterable and (shuffle or sampler is not None or batch_sampler is not None):
            raise ValueError("DataLoader: an IterableDataset is read in its own order; "
                             "shuffle, sampler and batch_sampler do not apply")
        if shuffle and sampler is not None:
            raise ValueError("DataLoader: give either shuffle=True or a sampler, not both")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None
                                          or drop_last):
            raise ValueError("DataLoader: batch_sampler sets the batches itself; leave "
                             "batch_size, shuffle, sampler and drop_last at their defaults")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be a function, got "
                            f"{type(collate_fn).__name__}")
        rng_of(generator, "DataLoader")   # checks its type; draws nothing
        self.dataset = dataset
        self.num_workers = num_workers
        self.drop_last = bool(drop_last)
        self.generator = generator
        self.pin_memory = pin_memory
        # as PyTorch: with a batch_sampler, the loader's own batch_size is None
        no_size = batch_sampler is not None or batch_size is None
        self.batch_size = None if no_size else int(batch_size)
        self.sampler = None
        if not iterable:
            if sampler is None:
                sampler = (RandomSampler(dataset, generator=generator) if shuffle
                           else SequentialSampler(dataset))
            self.sampler = sampler
            if batch_sampler is None and self.batch_size is not None:
                batch_sampler = BatchSampler(sampler, self.batch_size, self.drop_last)
        self.batch_sampler = batch_sampler
        batched = batch_sampler is not None or (iterable and self.batch_size is not None)
        self.collate_fn = collate_fn or (default_collate if batched else default_convert)

    def __iter__(self):
        if isinstance(self.dataset, IterableDataset):
            yield from self._iter_stream()
        elif self.batch_sampler is not None:
            for indices in self.batch_sampler:   # the order is drawn when the epoch starts
                yield self.collate_fn([self.dataset[i] for i in indices])
        else:
            for i in self.sampler:
                yield self.collate_fn(self.dataset[i])

    def _iter_stream(self):
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)   # a TypeError if the stream has no length, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)
