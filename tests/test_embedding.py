"""nn.Embedding, F.embedding and F.one_hot: lookups, gradients into rows, padding, errors."""

import numpy as np
import pytest

import nn
import nn.functional as F
import tinygrad_edu as tg
from tinygrad_edu import Tensor

rng = np.random.default_rng(7)


# ----- one_hot -----------------------------------------------------------------------------

def test_one_hot_rows_and_int64_dtype():
    out = F.one_hot(Tensor(np.array([0, 2, 1])), 4)
    assert out.dtype == np.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]])


def test_one_hot_infers_classes_and_keeps_leading_shape():
    out = F.one_hot(Tensor(np.array([[3, 0], [1, 1]])))
    assert out.shape == (2, 2, 4)                       # max label 3 -> 4 classes
    assert out.numpy()[0, 0].tolist() == [0, 0, 0, 1]
    assert F.one_hot(Tensor(np.array(2)), 3).numpy().tolist() == [0, 0, 1]
    assert F.one_hot(Tensor(np.zeros(0, dtype=np.int64)), 3).shape == (0, 3)


@pytest.mark.parametrize("labels, classes, error, match", [
    (np.array([0, -1]), 3, ValueError, "non-negative.*-1"),
    (np.array([0, 3]), 3, ValueError, "smaller than num_classes=3.*found 3"),
    (np.zeros(0, dtype=np.int64), -1, ValueError, "empty"),
    (np.array([0.0, 1.0]), 2, TypeError, "integers.*float64"),
    (np.array([True]), 2, TypeError, "integers.*bool"),
])
def test_one_hot_rejects_bad_labels(labels, classes, error, match):
    with pytest.raises(error, match="one_hot: .*" + match):
        F.one_hot(Tensor(labels), classes)


# ----- embedding lookups and gradients ------------------------------------------------------

def test_embedding_output_rows_are_the_table_rows():
    emb = nn.Embedding(6, 3)
    ids = np.array([[1, 5], [0, 1]])
    out = emb(Tensor(ids))
    assert out.shape == (2, 2, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy(), emb.weight.numpy()[ids])


def test_embedding_gradient_counts_how_often_each_row_was_read():
    emb = nn.Embedding(4, 2)
    emb(Tensor(np.array([[1, 3, 1], [1, 0, 3]]))).sum().backward()
    # d(sum)/d(row r) = (times r was read) in every column: row 1 three times, 3 twice
    np.testing.assert_array_equal(emb.weight.grad.numpy(), [[1, 1], [3, 3], [0, 0], [2, 2]])


def test_embedding_gradient_matches_finite_differences():
    table = Tensor(rng.standard_normal((5, 3)), requires_grad=True)
    ids = np.array([[0, 4, 4], [2, 0, 1]])
    weights = Tensor(rng.standard_normal((2, 3, 3)))
    assert tg.gradcheck(lambda w: (F.embedding(Tensor(ids), w) * weights).sum(), [table])


def test_embedding_init_is_standard_normal():
    tg.manual_seed(0)
    w = nn.Embedding(200, 50).weight.numpy()
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02     # 10 000 draws: se 0.01


def test_padding_row_starts_at_zero_and_gets_no_gradient():
    emb = nn.Embedding(5, 2, padding_idx=-1)        # counts from the end: row 4
    assert emb.padding_idx == 4
    np.testing.assert_array_equal(emb.weight.numpy()[4], [0, 0])
    with tg.no_grad():
        emb.weight[4] = 7.0                          # a padding vector set by hand is used
    out = emb(Tensor(np.array([4, 2, 4])))
    np.testing.assert_array_equal(out.numpy()[0], [7, 7])
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy()[[2, 4]], [[1, 1], [0, 0]])
    assert repr(emb) == "Embedding(5, 2, padding_idx=4)"


def test_from_pretrained_shares_the_table_and_freezes_it_by_default():
    table = rng.standard_normal((3, 2))
    frozen = nn.Embedding.from_pretrained(Tensor(table))
    assert not frozen.weight.requires_grad and frozen.weight.dtype == np.float64
    np.testing.assert_array_equal(frozen(Tensor(np.array([2]))).numpy(), table[[2]])
    trainable = nn.Embedding.from_pretrained(Tensor(table), freeze=False, padding_idx=0)
    assert trainable.weight.requires_grad
    np.testing.assert_array_equal(trainable.weight.numpy()[0], table[0])   # not zeroed


def test_max_norm_rescales_the_rows_used_in_place():
    table = np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]])          # norms 5, 0.5, 10
    emb = nn.Embedding.from_pretrained(Tensor(table.copy()), max_norm=1.0)
    out = emb(Tensor(np.array([0, 1])))
    # row 0 shrinks to norm 1 (times 1 / (5 + 1e-7)), row 1 is short enough, row 2 unused
    np.testing.assert_allclose(out.numpy(), [[0.6, 0.8], [0.3, 0.4]], rtol=1e-6)
    np.testing.assert_array_equal(emb.weight.numpy()[2], [6.0, 8.0])


# ----- errors -------------------------------------------------------------------------------

@pytest.mark.parametrize("ids", [np.array([0, 5]), np.array([[-1]])])
def test_embedding_index_out_of_range_raises_index_error(ids):
    emb = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match=r"embedding: index -?\d+ .* table of 5 rows"):
        emb(Tensor(ids))


def test_embedding_rejects_float_ids_and_bad_arguments():
    with pytest.raises(TypeError, match="embedding: indices must be integers.*float32"):
        nn.Embedding(5, 2)(Tensor(np.array([1.0], dtype=np.float32)))
    with pytest.raises(ValueError, match="padding_idx must be within num_embeddings"):
        nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(ValueError, match="sparse=True is not supported"):
        nn.Embedding(5, 2, sparse=True)
    with pytest.raises(ValueError, match="from_pretrained.*2-D"):
        nn.Embedding.from_pretrained(Tensor(np.zeros(3)))


def test_embedding_and_one_hot_agree_with_torch():
    torch = pytest.importorskip("torch")
    table = rng.standard_normal((6, 3))
    ids = np.array([[1, 5, 5], [0, 3, 1]])
    ours = Tensor(table, requires_grad=True)
    F.embedding(Tensor(ids), ours, padding_idx=5).sum().backward()
    theirs = torch.tensor(table, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor(ids), theirs, padding_idx=5).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    np.testing.assert_array_equal(F.one_hot(Tensor(ids)).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor(ids)).numpy())
