"""Composite operations: written in primitive ops, so they need no backward of their own.

``mean`` is a sum and a division, ``softmax`` an exp divided by its sum, ``amin`` a max of
negatives: autograd differentiates them through the primitives they are made of. Each is a
function of a tensor ``x``, using only its methods; the Tensor methods of the same names
(``x.softmax()``, ...) call these.
"""

import collections

import numpy as np

from .checks import normalize_axis, pick_axis

MaxResult = collections.namedtuple("MaxResult", ["values", "indices"])


def _correction(unbiased, correction, name):
    """PyTorch's two spellings of Bessel's correction: ``unbiased=`` (bool) or ``correction=``."""
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}: give unbiased= or correction=, not both")
    if unbiased is not None:
        if not isinstance(unbiased, (bool, np.bool_)):
            raise TypeError(f"{name}: unbiased must be True or False, got {unbiased!r} (the "
                            f"second positional argument is unbiased, as in PyTorch; for "
                            f"keepdim write keepdim=True)")
        return int(unbiased)
    return 1 if correction is None else correction


def transpose(x, axis0=-2, axis1=-1):
    """Swap two axes (by default the last two: a matrix transpose), as ``torch.transpose``."""
    if x.ndim < 2:
        return x
    axes = list(range(x.ndim))
    a = normalize_axis(axis0, x.shape, "transpose")[0]
    b = normalize_axis(axis1, x.shape, "transpose")[0]
    axes[a], axes[b] = axes[b], axes[a]
    return x.permute(axes)


def flatten(x, start_dim=0, end_dim=-1):
    """Merge axes ``start_dim..end_dim`` into one (all of them by default)."""
    if x.ndim == 0:
        return x.reshape(1)
    start = normalize_axis(start_dim, x.shape, "flatten")[0]
    end = normalize_axis(end_dim, x.shape, "flatten")[0]
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                         f"for a tensor of shape {x.shape}")
    return x.reshape(x.shape[:start] + (-1,) + x.shape[end + 1:])


def unsqueeze(x, dim):
    """Insert an axis of size 1 at position ``dim``."""
    if not -x.ndim - 1 <= dim <= x.ndim:
        raise ValueError(f"unsqueeze: dim {dim} is out of range for a tensor of shape "
                         f"{x.shape}; it must lie in [{-x.ndim - 1}, {x.ndim}]")
    dim = dim % (x.ndim + 1)
    return x.reshape(x.shape[:dim] + (1,) + x.shape[dim:])


def squeeze(x, dim=None):
    """Drop axes of size 1: all of them, or those of ``dim`` (an int or a tuple) that
    have size 1 (the others are left alone, as in PyTorch)."""
    if dim is None:
        return x.reshape(tuple(n for n in x.shape if n != 1))
    dims = normalize_axis(dim, x.shape, "squeeze")   # 0-d: only 0 or -1, and ()
    return x.reshape(tuple(n for i, n in enumerate(x.shape)
                              if not (i in dims and n == 1)))


def amin(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Smallest value over ``axis`` (an int, a tuple, or None): -max(-x) for floats."""
    keepdims = bool(keepdim or keepdims)
    axis = pick_axis(axis, dim)
    if x.dtype.kind != "f":
        # no gradient to keep, and -x overflows at the integer type's minimum
        axis = normalize_axis(axis, x.shape, "min")
        if x.numel() == 0:
            raise ValueError(f"min: the tensor of shape {x.shape} is empty")
        return x._wrap(np.amin(x.numpy(), axis=axis, keepdims=keepdims))
    return -((-x).amax(axis, keepdims))


def minimum(x, other):
    """Elementwise minimum: -max(-x, -y) for floats (exact, as negation is)."""
    other = x._operand(other)
    if x.dtype.kind != "f" and other.dtype.kind != "f":
        # integers have no gradient, and -x overflows at the type's minimum
        try:
            return x._wrap(np.minimum(x.numpy(), other.numpy()))
        except ValueError:
            pass   # shapes that do not broadcast: the error below names them
    try:
        return -((-x).maximum(-other))
    except ValueError as error:   # name the op the user called, not the one inside
        raise ValueError(str(error).replace("maximum", "minimum", 1)) from None


def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Average over ``axis``: the sum divided by the number of elements summed."""
    axis = normalize_axis(pick_axis(axis, dim), x.shape, "mean")
    count = x.numel() if axis is None else int(np.prod([x.shape[a] for a in axis]))
    if count == 0:
        raise ValueError(f"mean: nothing to average in a tensor of shape {x.shape}")
    return x.sum(axis, bool(keepdim or keepdims)) / count


def var(x, axis=None, unbiased=None, keepdims=False, *, correction=None, dim=None,
        keepdim=None):
    """Variance over ``axis``: sum((x - mean)^2) / (n - correction).

    As in PyTorch: ``correction=1`` (the default) is the unbiased sample variance,
    ``correction=0`` numpy's default ``np.var``; ``unbiased=False`` (PyTorch's older
    spelling, also the second positional argument) means ``correction=0``.
    """
    correction = _correction(unbiased, correction, "var")
    axis = normalize_axis(pick_axis(axis, dim), x.shape, "var")
    count = x.numel() if axis is None else int(np.prod([x.shape[a] for a in axis]))
    if count - correction <= 0:
        raise ValueError(f"var: {count} element(s) with correction={correction} leave "
                         "nothing to divide by")
    deviation = x - x.mean(axis, keepdims=True)
    return (deviation * deviation).sum(axis, bool(keepdim or keepdims)) / (count - correction)


def std(x, axis=None, unbiased=None, keepdims=False, *, correction=None, dim=None,
        keepdim=None):
    """Standard deviation over ``axis``: the square root of ``var`` (same arguments).

    Where the variance is 0 (equal values, or a single one with ``correction=0``) the
    gradient is taken as 0, as in PyTorch: the square root's slope there is infinite,
    but the variance cannot move in any direction that would use it.
    """
    var = x.var(axis, unbiased, keepdims, correction=correction, dim=dim,
                   keepdim=keepdim)
    positive = var > 0   # a bool tensor: no gradient
    return var.where(positive, 1.0).sqrt().where(positive, 0.0)


def leaky_relu(x, slope=0.01):
    """x for x > 0, slope * x otherwise."""
    return x.where(x > 0, x * slope)


def logsumexp(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """log(sum(exp(x))) over ``axis``, computed without overflow."""
    axis = normalize_axis(pick_axis(axis, dim), x.shape, "logsumexp")
    # shift by the max so exp never overflows; the shift is a constant (detached) because
    # m + log(sum(e^(x-m))) equals log(sum(e^x)) for any m, so its gradient cancels out
    m = x.numpy().max(axis=axis, keepdims=True)
    m = x._wrap(np.where(np.isfinite(m), m, 0))
    result = (x - m).exp().sum(axis, keepdims=True).log() + m
    if keepdim or keepdims:
        return result
    return result.reshape(tuple(n for i, n in enumerate(x.shape) if axis is not None and i not in axis))


def softmax(x, axis=-1, *, dim=None):
    """e^x / sum(e^x) along ``axis``; every slice along it sums to 1."""
    axis = pick_axis(axis, dim)
    if axis is None or not isinstance(axis, (int, np.integer)):
        raise ValueError(f"softmax: needs one axis to normalise along, got {axis!r} "
                         "(a softmax over several axes is not a PyTorch operation)")
    if x.ndim == 0:
        return x.log_softmax(axis=axis).exp()
    # e^(x - max) / sum e^(x - max); the shift is a constant, so .detach() is exact
    shifted = x - x.amax(axis=axis, keepdims=True).detach()
    e = shifted.exp()
    return e / e.sum(axis=axis, keepdims=True)


def repeat(x, sizes):
    """``x`` tiled ``sizes[i]`` times along axis i (PyTorch's ``repeat``, numpy's ``tile``)."""
    if len(sizes) < x.ndim:
        raise ValueError(f"repeat: needs at least one size per axis ({x.ndim} for shape "
                         f"{x.shape}), got {sizes}")
    if any(r < 0 for r in sizes):
        raise ValueError(f"repeat: sizes must not be negative, got {sizes}")
    shape = (1,) * (len(sizes) - x.ndim) + x.shape
    # (a, b) repeated (r, s): seen as (1, a, 1, b), expanded to (r, a, s, b), then merged
    # pairwise into (r * a, s * b), so each repeat is a whole copy of the tensor
    interleaved = tuple(k for n in shape for k in (1, n))
    expanded = tuple(k for r, n in zip(sizes, shape) for k in (r, n))
    merged = tuple(r * n for r, n in zip(sizes, shape))
    return x.reshape(interleaved).expand(expanded).reshape(merged)


def flip(x, dims):
    """The elements in reverse order along each axis of ``dims``.

    An index array per axis (not a ``::-1`` slice): the result is a copy, as in PyTorch,
    so changing it leaves ``x`` alone.
    """
    dims = normalize_axis(dims, x.shape, "flip")
    for i in dims:   # one axis at a time: several index arrays would pair up elementwise
        x = x[(slice(None),) * i + (np.arange(x.shape[i] - 1, -1, -1),)]
    return x


def roll(x, shifts, dims=None):
    """Elements shifted by ``shifts`` along ``dims``, those pushed off the end coming back
    at the start (``torch.roll``); without ``dims``, over the flattened tensor."""
    if dims is None:
        if not isinstance(shifts, (int, np.integer)):
            raise TypeError(f"roll: without dims, shifts must be one int, got {shifts!r}")
        return roll(x.reshape(-1), shifts, 0).reshape(x.shape)
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: {len(shifts)} shift(s) for {len(dims)} dim(s); give one "
                         "shift per dim")
    for shift, dim in zip(shifts, dims):
        axis = normalize_axis(dim, x.shape, "roll")[0] if x.ndim else None
        if axis is None:
            continue
        n = x.shape[axis]
        # the element at i comes from i - shift (an index array, so a copy)
        source = (np.arange(n) - shift) % n if n else np.arange(0)
        x = x[(slice(None),) * axis + (source,)]
    return x


def clamp_between(x, low, high):
    """``x`` clamped between tensors (or arrays) ``low`` and ``high``, elementwise.

    Written with ``where``, so the gradient goes to whichever value was picked: to ``x``
    where low <= x <= high, to ``low`` where x < low, to ``high`` where the result is
    ``high`` (also when low > high, where PyTorch gives ``high`` too).
    """
    if low is not None:
        low = x._operand(low)
        x = low.where(x < low, x)
    if high is not None:
        high = x._operand(high)
        x = high.where(x > high, x)
    return x


def norm(x, p="fro", dim=None, keepdim=False):
    """The p-norm over ``dim`` (all elements by default): (sum |x|^p)^(1/p).

    ``p`` = 2 or ``"fro"`` (the default), 1, ``inf`` (largest |x|), ``-inf``, 0 (the number
    of nonzeros) or any other number. At a zero vector the 2-norm's gradient is taken as 0,
    as in PyTorch (the square root's slope there is infinite).
    """
    if x.dtype.kind != "f":
        raise TypeError(f"norm: needs a floating tensor, got {x.dtype}; convert first, "
                        "e.g. x.float().norm()")
    keepdim = bool(keepdim)
    if p in ("fro", 2, 2.0, None):
        squares = (x * x).sum(dim, keepdim)
        positive = squares > 0   # a bool tensor: no gradient
        return squares.where(positive, 1.0).sqrt().where(positive, 0.0)
    if p == float("inf"):
        return x.abs().amax(dim, keepdim)
    if p == -float("inf"):
        return x.abs().amin(dim, keepdim)
    if p == 0:
        return (x != 0).sum(dim, keepdim)._cast(x.dtype)
    if p == 1:
        return x.abs().sum(dim, keepdim)
    if not isinstance(p, (int, float)):
        raise ValueError(f"norm: p must be a number, inf or 'fro', got {p!r}")
    return (x.abs() ** p).sum(dim, keepdim) ** (1.0 / p)


def _triangle(x, diagonal, lower, name):
    if x.ndim < 2:
        raise ValueError(f"{name}: needs a matrix (at least 2 axes), got shape {x.shape}")
    rows, cols = x.shape[-2:]
    keep = np.tri(rows, cols, diagonal, dtype=bool)
    if not lower:
        keep = ~np.tri(rows, cols, diagonal - 1, dtype=bool)
    # where, not a multiplication by the mask: inf * 0 would give NaN in the zeroed part;
    # a zero of x's own dtype, so a bool (or int32) matrix keeps its dtype, as in PyTorch
    return x.where(keep, np.zeros((), dtype=x.dtype))


def tril(x, diagonal=0):
    """The lower triangle of the last two axes (on and below ``diagonal``), zeros above."""
    return _triangle(x, diagonal, True, "tril")


def triu(x, diagonal=0):
    """The upper triangle of the last two axes (on and above ``diagonal``), zeros below."""
    return _triangle(x, diagonal, False, "triu")


def _diagonal_positions(rows, cols, offset):
    """Row and column indices of the ``offset`` diagonal of a (rows, cols) matrix."""
    start_row, start_col = max(-offset, 0), max(offset, 0)
    length = max(min(rows - start_row, cols - start_col), 0)
    return np.arange(length) + start_row, np.arange(length) + start_col


def diag(x, diagonal=0):
    """A vector's square matrix with it on the ``diagonal``, or a matrix's diagonal as a
    vector (``torch.diag``)."""
    if x.ndim == 1:
        n = x.shape[0] + abs(diagonal)
        rows, cols = _diagonal_positions(n, n, diagonal)
        # a ScatterAdd into zeros: its gradient reads the diagonal back
        return x.scatter_add_to((n, n), (rows, cols))
    if x.ndim == 2:
        return diagonal_of(x, diagonal)
    raise ValueError(f"diag: needs a vector or a matrix, got shape {x.shape}")


def diagonal_of(x, offset=0):
    """The ``offset`` diagonal of a matrix, as a vector."""
    if x.ndim != 2:
        raise ValueError(f"diagonal: supports matrices, got shape {x.shape}")
    rows, cols = _diagonal_positions(*x.shape, offset)
    return x[rows, cols]


def trace(x):
    """The sum of a matrix's diagonal."""
    if x.ndim != 2:
        raise ValueError(f"trace: needs a matrix, got shape {x.shape}")
    return diagonal_of(x).sum()


def _index_array(index, name):
    data = index.numpy() if hasattr(index, "numpy") else np.asarray(index)
    if data.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must hold integers (int64), got {data.dtype}")
    return data


def _positions(x, dim, index, name):
    """The index tuple that picks x[i][j][index[i][j][k]] (for dim 2) at every position of
    ``index``, PyTorch's rule for gather and scatter."""
    index = _index_array(index, name)
    axis = normalize_axis(dim, x.shape, name)[0]
    if index.ndim != x.ndim:
        raise ValueError(f"{name}: index needs as many axes as the tensor ({x.ndim}), got "
                         f"shape {index.shape} for a tensor of shape {x.shape}")
    if any(i > n for k, (i, n) in enumerate(zip(index.shape, x.shape)) if k != axis):
        raise ValueError(f"{name}: index of shape {index.shape} is larger than the tensor's "
                         f"shape {x.shape} outside dim {axis}")
    if index.size and (index.min() < -x.shape[axis] or index.max() >= x.shape[axis]):
        raise IndexError(f"{name}: index values must lie in [0, {x.shape[axis]}) along dim "
                         f"{axis} (size {x.shape[axis]}); got {index.min()} to {index.max()}")
    grid = np.indices(index.shape, sparse=True)
    return tuple(index if k == axis else grid[k] for k in range(x.ndim))


def gather(x, dim, index):
    """out[i][j] = x[i][index[i][j]] for dim 1 (and alike for other dims); index has as
    many axes as x. Its gradient adds up at repeated positions."""
    return x[_positions(x, dim, index, "gather")]


def _source(x, index_shape, src, name):
    """The part of ``src`` (a tensor or a number) that goes to the index's positions."""
    if not hasattr(src, "shape") or not src.shape:
        return x._operand(src)._cast(x.dtype)
    src = x._operand(src)
    if src.ndim != len(index_shape) or any(s < i for s, i in zip(src.shape, index_shape)):
        raise ValueError(f"{name}: src of shape {src.shape} must be at least as large as the "
                         f"index, of shape {index_shape}, along every axis")
    return src[tuple(slice(0, n) for n in index_shape)]._cast(x.dtype)


def scatter(x, dim, index, src):
    """A copy of ``x`` with out[i][index[i][j]] = src[i][j] (dim 1, alike for others).

    ``src`` may be a number. Where an index repeats, one of the values is kept (PyTorch
    leaves which one undefined).
    """
    index_shape = _index_array(index, "scatter").shape
    positions = _positions(x, dim, index, "scatter")
    out = x.clone()
    out[positions] = _source(x, index_shape, src, "scatter")   # recorded as SetItem
    return out


def scatter_add(x, dim, index, src):
    """A copy of ``x`` with src[i][j] added at out[i][index[i][j]] (dim 1, alike for others);
    repeated positions add up."""
    index_shape = _index_array(index, "scatter_add").shape
    positions = _positions(x, dim, index, "scatter_add")
    return x + _source(x, index_shape, src, "scatter_add").scatter_add_to(x.shape, positions)


def _sort_order(values, axis, descending):
    """Indices that sort ``values`` along ``axis``, ties kept in their order (stable); NaN
    counts as the largest value, as in PyTorch."""
    if not descending:
        return np.argsort(values, axis=axis, kind="stable")
    # descending and stable: sort the reversed array ascending, then reverse the result
    n = values.shape[axis]
    reversed_order = np.argsort(np.flip(values, axis), axis=axis, kind="stable")
    return n - 1 - np.flip(reversed_order, axis)


def sort(x, dim=-1, descending=False):
    """``(values, indices)`` along ``dim``: the values read at the indices, so each one's
    gradient goes back to where it came from."""
    if x.ndim == 0:
        return MaxResult(x * 1, x._wrap(np.zeros((), np.int64)))
    axis = normalize_axis(dim, x.shape, "sort")[0]
    indices = _sort_order(x.numpy(), axis, descending)
    return MaxResult(gather(x, axis, indices), x._wrap(indices))


def topk(x, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) values along ``dim`` and their indices, largest
    first: ``(values, indices)``."""
    axis = normalize_axis(dim, x.shape, "topk")
    axis = axis[0] if axis else 0
    size = x.shape[axis] if x.ndim else 1
    if not 0 <= k <= size:
        raise ValueError(f"topk: k ({k}) must lie in [0, {size}], the size of dim {axis} "
                         f"of a tensor of shape {x.shape}")
    if x.ndim == 0:
        return sort(x)
    order = _sort_order(x.numpy(), axis, descending=largest)
    indices = order[(slice(None),) * axis + (slice(0, k),)]
    return MaxResult(gather(x, axis, indices), x._wrap(indices))


def split(x, split_size_or_sections, dim=0):
    """Pieces of ``x`` along ``dim``: of ``split_size`` each (the last may be smaller), or
    of the listed sizes. A tuple of views, as in PyTorch."""
    axis = normalize_axis(dim, x.shape, "split")[0]
    n = x.shape[axis]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [min(size, n - start) for start in range(0, n, size)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} add up to {sum(sizes)}, but dim {axis} "
                             f"has size {n} (tensor shape {x.shape})")
    starts = np.cumsum([0] + sizes[:-1])
    before = (slice(None),) * axis
    return tuple(x[before + (slice(int(start), int(start) + size),)]
                 for start, size in zip(starts, sizes))


def chunk(x, chunks, dim=0):
    """``x`` cut into ``chunks`` pieces along ``dim``, each of ceil(n / chunks) elements
    (the last smaller, and fewer pieces if they run out), as ``torch.chunk``."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    axis = normalize_axis(dim, x.shape, "chunk")[0]
    n = x.shape[axis]
    return split(x, max(-(-n // chunks), 1), axis)


def _along(axis, piece):
    """An index that takes ``piece`` (a slice) along ``axis`` and everything elsewhere."""
    return (slice(None),) * axis + (piece,)


def prod(x, dim=None, keepdim=False):
    """The product over ``dim`` (all elements by default).

    Written as multiplications of halves (x[:n/2] * x[n/2:], again and again), so each
    element's gradient is the product of all the others, exact even where some are 0
    (where dividing the product by x would give 0/0).
    """
    if dim is None:
        result = prod(x.reshape(-1), 0)
        return result.reshape((1,) * x.ndim) if keepdim else result
    axis = normalize_axis(dim, x.shape, "prod")
    if not axis:   # a 0-d tensor
        return x * 1
    axis = axis[0]
    if x.dtype.kind != "f":   # no gradient; PyTorch multiplies integers and bools in int64
        return x._wrap(np.prod(x.numpy(), axis=axis, keepdims=bool(keepdim), dtype=np.int64))
    n = x.shape[axis]
    if n == 0:   # the empty product is 1
        return x.sum(axis, keepdim) + 1
    while n > 1:
        half = n // 2
        paired = x[_along(axis, slice(0, half))] * x[_along(axis, slice(half, 2 * half))]
        if n % 2:   # the odd one out waits for the next round
            paired = paired.cat([paired, x[_along(axis, slice(n - 1, n))]], axis=axis)
        x, n = paired, half + n % 2
    return x if keepdim else x.squeeze(axis)


def cumprod(x, dim):
    """Running products along ``dim``: z_i = x_0 * x_1 * ... * x_i.

    Computed by doubling: multiply by the values shifted 1, then 2, 4, ... places (with 1s
    shifted in), so after log2(n) multiplications each z_i holds all of x_0..x_i. Only
    multiplications, so the gradient is exact even where some x are 0.
    """
    axis = normalize_axis(dim, x.shape, "cumprod")
    if not axis:
        return x * 1
    axis = axis[0]
    if x.dtype.kind != "f":
        return x._wrap(np.cumprod(x.numpy(), axis=axis, dtype=np.int64))
    n, shift = x.shape[axis], 1
    while shift < n:
        ones = x._wrap(np.ones(x.shape[:axis] + (shift,) + x.shape[axis + 1:], x.dtype))
        x = x * x.cat([ones, x[_along(axis, slice(0, n - shift))]], axis=axis)
        shift *= 2
    return x


# letters that stand for the axes a '...' covers: not ASCII, so never one of the user's (PyTorch
# accepts a-z and A-Z only), and str.isalpha() holds for them as for the user's letters
_ELLIPSIS_AXES = "αβγδεζηθικλμνξοπρστυφχψω"


def _einsum_terms(equation, operands):
    """The input terms and the output term of an einsum equation, checked, with every '...'
    spelt out in letters of its own; and each letter's size (broadcast, as in PyTorch)."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: {equation!r} names {len(terms)} operand(s) but "
                         f"{len(operands)} were given")
    for term in terms + [output]:
        letters = term.replace("...", "", 1)
        if not all("a" <= c <= "z" or "A" <= c <= "Z" for c in letters):
            raise ValueError(f"einsum: {term!r} in {equation!r} must be letters (a-z, A-Z), "
                             "with at most one '...'")
    given = terms
    terms, output = _spell_out_ellipses(equation, terms, arrow, output, operands)
    sizes = {}
    for term, t, written in zip(terms, operands, given):
        if len(term) != t.ndim:
            raise ValueError(f"einsum: term {term!r} names {len(term)} axes but its operand "
                             f"has shape {t.shape}")
        if len(set(term)) != len(term):
            raise ValueError(f"einsum: {written!r} repeats an index within one operand (a "
                             "diagonal or trace), which is not supported here; use "
                             "x.diagonal() or x.trace()")
        for c, n in zip(term, t.shape):
            known = sizes.setdefault(c, n)
            if known != n and 1 not in (known, n):   # size 1 broadcasts, as in PyTorch
                raise ValueError(f"einsum: index {c!r} has size {known} in one operand and "
                                 f"{n} in another ({equation!r}, shapes "
                                 f"{[o.shape for o in operands]})")
            sizes[c] = max(known, n)
    if len(set(output)) != len(output) or not set(output) <= set(sizes):
        raise ValueError(f"einsum: the output {output!r} must name each input index at most "
                         f"once ({equation!r})")
    return terms, output, sizes


def _spell_out_ellipses(equation, terms, arrow, output, operands):
    """Terms and output with each '...' replaced by letters for the axes it covers.

    Operands' '...' axes line up from the right, as in numpy broadcasting: with shapes
    (5, 1, 2, 3) and (6, 3, 4), "...ij,...jk" covers (5, 1) and (6,), spelt "αβij,βjk". Without
    "->", the output is the '...' axes, then the letters used once, in alphabetical order.
    """
    counts = []
    for term, t in zip(terms, operands):
        named = len(term.replace("...", ""))
        if "..." in term and named > t.ndim:
            raise ValueError(f"einsum: term {term!r} names {named} axes besides '...' but its "
                             f"operand has shape {t.shape}")
        counts.append(t.ndim - named if "..." in term else 0)
    width = max(counts)
    if width > len(_ELLIPSIS_AXES):
        raise ValueError(f"einsum: '...' covers {width} axes in {equation!r}; at most "
                         f"{len(_ELLIPSIS_AXES)} are supported")
    covered = _ELLIPSIS_AXES[:width]
    terms = [term.replace("...", covered[width - k:]) for term, k in zip(terms, counts)]
    if not arrow:   # implicit output: the '...' axes, then the letters used once, sorted
        letters = "".join(terms)
        output = covered + "".join(sorted(c for c in set(letters)
                                          if letters.count(c) == 1 and c not in covered))
    elif "..." in output:
        output = output.replace("...", covered)
    return terms, output


def _sum_out(x, term, needed):
    """Sum over the axes of ``x`` whose letters are not ``needed`` any more."""
    axes = tuple(i for i, c in enumerate(term) if c not in needed)
    if not axes:
        return x, term
    return x.sum(axes), "".join(c for c in term if c in needed)


def _contract(x, xs, y, ys, keep, sizes):
    """x (term xs) times y (term ys), summed over the shared letters not in ``keep``, as one
    batched matmul: (batch, left, summed) @ (batch, summed, right)."""
    x, xs = _sum_out(x, xs, keep | set(ys))
    y, ys = _sum_out(y, ys, keep | set(xs))
    batch = [c for c in xs if c in ys and c in keep]
    summed = [c for c in xs if c in ys and c not in keep]
    left = [c for c in xs if c not in ys]
    right = [c for c in ys if c not in xs]

    def size(letters):
        return int(np.prod([sizes[c] for c in letters]))

    a = x.permute([xs.index(c) for c in batch + left + summed]).reshape(
        size(batch), size(left), size(summed))
    b = y.permute([ys.index(c) for c in batch + summed + right]).reshape(
        size(batch), size(summed), size(right))
    out = batch + left + right
    return (a @ b).reshape(tuple(sizes[c] for c in out)), "".join(out)


def einsum(equation, *operands):
    """Einstein summation: ``einsum("ij,jk->ik", a, b)`` is a @ b.

    Each letter names an axis; letters missing from the output are summed over. ``...``
    stands for the axes not named, broadcast across operands as in numpy
    (``einsum("...ij,...jk->...ik", a, b)`` is a batched ``a @ b``); axes of size 1 broadcast
    for letters too, as in PyTorch. Without ``->`` the output is the ``...`` axes, then the
    letters used once, in alphabetical order. Two operands at a time become one batched
    matmul (shared letters kept in the output are the batch, shared ones left out are
    summed), so the gradient is matmul's. Not supported (a clear error): a letter repeated
    within one operand (a diagonal; use ``diagonal`` or ``trace``).
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: needs at least one operand")
    operands = [operands[0]._operand(t) for t in operands]
    terms, output, sizes = _einsum_terms(equation, operands)
    # an axis of size 1 against a longer one broadcasts; expand's gradient sums it back
    operands = [t.expand(tuple(sizes[c] for c in term)) for t, term in zip(operands, terms)]
    x, xs = operands[0], terms[0]
    for i in range(1, len(operands)):
        later = set(output).union(*terms[i + 1:])
        x, xs = _contract(x, xs, operands[i], terms[i], later, sizes)
    x, xs = _sum_out(x, xs, set(output))
    return x.permute([xs.index(c) for c in output]) if xs != output else x
