"""tinygrad_edu.utils.data (torch.utils.data): datasets, batches, collation, seeding."""

import ast
import collections
import pathlib

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset,
                                     IterableDataset, RandomSampler, SequentialSampler, Subset,
                                     SubsetRandomSampler, TensorDataset, WeightedRandomSampler,
                                     default_collate, random_split)

import test_layout


def make_dataset(n=10):
    X = Tensor(np.arange(n * 2, dtype=np.float32).reshape(n, 2))
    y = Tensor(np.arange(n, dtype=np.int64))
    return TensorDataset(X, y)


def test_tensor_dataset_gives_rows_as_tuples():
    ds = make_dataset()
    x, y = ds[3]
    assert len(ds) == 10
    np.testing.assert_array_equal(x.numpy(), [6.0, 7.0])
    assert y.item() == 3 and y.dtype == np.int64


def test_loader_batches_in_order_and_the_last_batch_is_smaller():
    loader = DataLoader(make_dataset(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    xb, yb = batches[0]
    assert isinstance(batches[0], list)   # as PyTorch: a batch of tuples collates to a list
    assert xb.shape == (4, 2) and xb.dtype == np.float32
    np.testing.assert_array_equal(yb.numpy(), [0, 1, 2, 3])
    np.testing.assert_array_equal(batches[2][1].numpy(), [8, 9])


def test_drop_last_drops_the_smaller_batch_and_len_counts_it():
    loader = DataLoader(make_dataset(10), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [len(yb) for _, yb in loader] == [4, 4]
    assert len(DataLoader(make_dataset(8), batch_size=4, drop_last=True)) == 2


def test_shuffle_covers_every_sample_once_and_differs_between_epochs():
    tg.manual_seed(0)
    loader = DataLoader(make_dataset(20), batch_size=5, shuffle=True)
    first = np.concatenate([yb.numpy() for _, yb in loader])
    second = np.concatenate([yb.numpy() for _, yb in loader])
    assert sorted(first) == list(range(20)) and sorted(second) == list(range(20))
    assert list(first) != list(range(20)) and list(first) != list(second)


def test_shuffle_is_seeded_by_manual_seed_and_by_a_generator():
    def order(**kwargs):
        return [int(y) for _, yb in DataLoader(make_dataset(12), batch_size=3, shuffle=True,
                                               **kwargs) for y in yb.numpy()]

    tg.manual_seed(5)
    a = order()
    tg.manual_seed(5)
    assert order() == a
    b = order(generator=tg.Generator().manual_seed(1))
    tg.manual_seed(123)   # a generator's stream does not depend on the shared seed
    assert order(generator=tg.Generator().manual_seed(1)) == b


def test_a_generator_leaves_the_shared_stream_alone():
    tg.manual_seed(0)
    list(DataLoader(make_dataset(), shuffle=True, generator=tg.Generator().manual_seed(3)))
    after = tg.randn(3).numpy()
    tg.manual_seed(0)
    np.testing.assert_array_equal(tg.randn(3).numpy(), after)


def test_default_collate_follows_pytorchs_dtypes():
    assert default_collate([1, 2]).dtype == np.int64
    assert default_collate([1.5, 2.0]).dtype == np.float64   # PyTorch: Python floats -> float64
    assert default_collate([True, False]).dtype == np.bool_
    assert default_collate([np.float32(1), np.float32(2)]).dtype == np.float32
    assert default_collate([np.ones(2), np.zeros(2)]).shape == (2, 2)
    assert default_collate([np.ones(2), np.zeros(2)]).dtype == np.float64
    assert default_collate(["a", "b"]) == ["a", "b"]
    batch = default_collate([{"x": np.ones(3, np.float32), "y": 1},
                             {"x": np.zeros(3, np.float32), "y": 0}])
    assert batch["x"].shape == (2, 3) and batch["y"].numpy().tolist() == [1, 0]
    Pair = collections.namedtuple("Pair", "x y")
    pair = default_collate([Pair(1, 2.0), Pair(3, 4.0)])
    assert isinstance(pair, Pair) and pair.x.numpy().tolist() == [1, 3]


def test_default_collate_keeps_the_graph_of_tensors_that_require_grad():
    w = Tensor([1.0, 2.0], requires_grad=True)
    default_collate([w * 2, w * 3]).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [5.0, 5.0])


def test_custom_collate_fn_and_plain_lists_as_datasets():
    loader = DataLoader(list(range(7)), batch_size=3, collate_fn=lambda batch: sum(batch))
    assert list(loader) == [3, 12, 6]
    assert [b.numpy().tolist() for b in DataLoader([1, 2, 3], batch_size=2)] == [[1, 2], [3]]


def test_batch_size_none_yields_samples_unbatched_and_arrays_as_tensors():
    loader = DataLoader([np.ones(2), np.zeros(2)], batch_size=None)
    samples = list(loader)
    assert len(loader) == 2 and all(isinstance(s, Tensor) for s in samples)
    assert list(DataLoader([4, 5], batch_size=None)) == [4, 5]


def test_num_workers_runs_in_process_and_sampler_sets_the_order():
    loader = DataLoader(make_dataset(6), batch_size=2, num_workers=2, pin_memory=True,
                        sampler=[5, 4, 3, 2, 1, 0])
    assert [yb.numpy().tolist() for _, yb in loader] == [[5, 4], [3, 2], [1, 0]]
    assert len(loader) == 3


class Squares(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, index):
        return np.float32(index), index * index


def test_a_dataset_subclass_with_numbers_and_a_concat():
    xb, yb = next(iter(DataLoader(Squares(), batch_size=5)))
    assert xb.dtype == np.float32 and yb.numpy().tolist() == [0, 1, 4, 9, 16]
    both = Squares() + Squares()
    assert isinstance(both, ConcatDataset) and len(both) == 10 and both[7][1] == 4
    with pytest.raises(IndexError, match="index 10"):
        both[10]


def test_random_split_by_counts_and_by_fractions_as_pytorch():
    tg.manual_seed(0)
    train, test = random_split(range(10), [7, 3])
    assert isinstance(train, Subset) and len(train) == 7 and len(test) == 3
    assert sorted(list(train) + list(test)) == list(range(10))
    assert [len(s) for s in random_split(range(10), [0.3, 0.7])] == [3, 7]
    # floor of each fraction, then the remainder one each to the first parts
    assert [len(s) for s in random_split(range(10), [0.33, 0.33, 0.34])] == [4, 3, 3]
    g1 = random_split(range(10), [5, 5], generator=tg.Generator().manual_seed(2))
    g2 = random_split(range(10), [5, 5], generator=tg.Generator().manual_seed(2))
    assert list(g1[0]) == list(g2[0])


def test_subset_picks_samples_in_the_given_order():
    sub = Subset(make_dataset(), [4, 1])
    assert len(sub) == 2 and sub[0][1].item() == 4 and sub[1][1].item() == 1


def test_bad_arguments_name_the_class_and_the_value():
    with pytest.raises(ValueError, match=r"TensorDataset: .*first dimensions \[3, 4\]"):
        TensorDataset(Tensor(np.zeros(3)), Tensor(np.zeros(4)))
    with pytest.raises(TypeError, match="TensorDataset: argument 0 is a ndarray"):
        TensorDataset(np.zeros(3))
    with pytest.raises(ValueError, match="DataLoader: batch_size must be a positive int.*0"):
        DataLoader(make_dataset(), batch_size=0)
    with pytest.raises(TypeError, match="DataLoader: dataset"):
        DataLoader(5)
    with pytest.raises(TypeError, match="DataLoader: generator must be a tg.Generator"):
        DataLoader(make_dataset(), shuffle=True, generator=42)
    with pytest.raises(ValueError, match=r"random_split: lengths \[3, 3\] add up to 6"):
        random_split(range(10), [3, 3])
    with pytest.raises(TypeError, match="default_collate: a sample holds a object"):
        default_collate([object()])
    with pytest.raises(ValueError, match="Generator.manual_seed: .*-1"):
        tg.Generator().manual_seed(-1)
    with pytest.raises(RuntimeError, match="Generator: device 'cuda'"):
        tg.Generator(device="cuda")


def test_torch_style_import_paths():
    import tinygrad_edu.utils.data as data
    assert tg.utils.data is data and data.DataLoader is DataLoader


def test_utils_imports_only_what_the_layer_table_allows():
    allowed = test_layout.ALLOWED["utils"]
    for path in sorted((pathlib.Path(tg.__file__).parent / "utils").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 2:
                assert node.module.split(".")[0] in allowed, f"{path.name}: {node.module}"
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                assert path.stem == "__init__", f"{path.name} imports a sibling"
        nested = [n for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)
                  for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))]
        assert not nested, f"{path.name} imports inside a function"


def test_shuffled_order_is_tg_randperm_as_pytorchs_sampler_uses_torch_randperm():
    order = [int(y) for _, yb in DataLoader(make_dataset(12), batch_size=5, shuffle=True,
                                            generator=tg.Generator().manual_seed(7))
             for y in yb.numpy()]
    assert order == tg.randperm(12, generator=tg.Generator().manual_seed(7)).tolist()


def test_samplers_give_the_indices_pytorch_would():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    g = tg.Generator().manual_seed(3)
    assert list(RandomSampler(range(6), generator=g)) == \
        tg.randperm(6, generator=tg.Generator().manual_seed(3)).tolist()
    with_replacement = list(RandomSampler(range(3), replacement=True, num_samples=50))
    assert len(with_replacement) == 50 and set(with_replacement) <= {0, 1, 2}
    assert len(list(RandomSampler(range(4), num_samples=10))) == 10
    assert sorted(SubsetRandomSampler([7, 8, 9])) == [7, 8, 9]
    assert list(BatchSampler(range(5), 2, drop_last=False)) == [[0, 1], [2, 3], [4]]
    assert len(BatchSampler(range(5), 2, drop_last=True)) == 2


def test_weighted_sampler_draws_only_indices_with_weight():
    drawn = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], num_samples=200))
    assert set(drawn) == {1, 3} and drawn.count(3) > drawn.count(1)


def test_loader_with_a_sampler_or_a_batch_sampler():
    ds = make_dataset(6)
    loader = DataLoader(ds, batch_size=4, sampler=SubsetRandomSampler([0, 2, 4]))
    assert len(loader) == 1 and sorted(next(iter(loader))[1].numpy().tolist()) == [0, 2, 4]
    loader = DataLoader(ds, batch_sampler=[[5, 0], [1]])
    assert loader.batch_size is None and len(loader) == 2
    assert [yb.numpy().tolist() for _, yb in loader] == [[5, 0], [1]]
    with pytest.raises(ValueError, match="DataLoader: batch_sampler sets the batches itself"):
        DataLoader(ds, batch_size=2, batch_sampler=[[0]])


class Countdown(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n, 0, -1))


def test_an_iterable_dataset_is_batched_in_its_own_order():
    loader = DataLoader(Countdown(5), batch_size=2)
    assert [b.numpy().tolist() for b in loader] == [[5, 4], [3, 2], [1]]
    assert [b.numpy().tolist() for b in DataLoader(Countdown(5), batch_size=2,
                                                   drop_last=True)] == [[5, 4], [3, 2]]
    with pytest.raises(ValueError, match="IterableDataset .* shuffle"):
        DataLoader(Countdown(3), shuffle=True)
    with pytest.raises(TypeError):
        len(loader)   # the stream has no length, as in PyTorch
