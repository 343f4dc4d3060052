"""Tensor methods that move elements around: reshape, permute, indexing, gather, cat, stack.

Part of ``Tensor`` (tensor.py lists the parts). Results that share memory with their input
(``reshape``, ``permute``, basic indexing) are views: ``inplace.set_view`` records how to
write through them.
"""

import numpy as np

from . import composites
from . import factories
from . import inplace
from . import ops
from .autograd import TensorBase, apply
from .checks import normalize_axis, pick_axis
from .factories import as_array


class ShapeMethods:
    """Shapes, views, indexing, and joining tensors.

    A part of ``Tensor`` (tensor.py): its methods work on ``self`` as a Tensor.
    """

    __slots__ = ()   # the slots are TensorBase's

    def gather(self, dim, index):
        """out[i][j] = self[i][index[i][j]] for dim 1 (alike for other dims)."""
        return composites.gather(self, dim, index)

    def scatter(self, dim, index, src=None, *, value=None):
        """A copy with out[i][index[i][j]] = src[i][j] for dim 1 (``src`` may be a number)."""
        return composites.scatter(self, dim, index, value if src is None else src)

    def scatter_add(self, dim, index, src):
        """A copy with src[i][j] added at out[i][index[i][j]] for dim 1; repeats add up."""
        return composites.scatter_add(self, dim, index, src)

    def index_select(self, dim, index):
        """The slices at ``index`` (a 1-D integer tensor) along ``dim``, in that order."""
        index = index._data if isinstance(index, TensorBase) else np.asarray(index)
        if index.ndim > 1 or index.dtype.kind not in "iu":
            raise TypeError(f"index_select: index must be a 1-D integer tensor, got "
                            f"{index.dtype} of shape {index.shape}")
        axis = normalize_axis(dim, self.shape, "index_select")
        return self[(slice(None),) * (axis[0] if axis else 0) + (index.reshape(-1),)]

    def masked_select(self, mask):
        """The elements where the boolean ``mask`` (broadcast) is true, as a 1-D tensor."""
        mask = mask._data if isinstance(mask, TensorBase) else np.asarray(mask)
        return self.expand(np.broadcast_shapes(self.shape, mask.shape))[
            np.broadcast_to(mask, np.broadcast_shapes(self.shape, mask.shape))]

    def unbind(self, dim=0):
        """The slices along ``dim`` as a tuple of tensors, each without that axis."""
        axis = normalize_axis(dim, self.shape, "unbind")[0]
        return tuple(self[(slice(None),) * axis + (i,)] for i in range(self.shape[axis]))

    def split(self, split_size_or_sections, dim=0):
        """Pieces along ``dim``: each of ``split_size`` (the last may be smaller), or of the
        listed sizes; a tuple of views."""
        return composites.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        """``chunks`` pieces along ``dim``, each of ceil(n / chunks) elements."""
        return composites.chunk(self, chunks, dim)

    def transpose(self, axis0=-2, axis1=-1):
        """Swap two axes (by default the last two: a matrix transpose), as ``torch.transpose``."""
        return composites.transpose(self, axis0, axis1)

    def swapaxes(self, axis0, axis1):
        """Swap two axes (numpy's and PyTorch's ``swapaxes``; ``swapdims`` too)."""
        return composites.transpose(self, axis0, axis1)

    swapdims = swapaxes

    @property
    def mT(self):
        """The last two axes swapped: a batch of matrices transposed, (..., n, m) -> (..., m, n)."""
        if self.ndim < 2:
            raise ValueError(f"mT: needs at least 2 axes, got shape {self.shape}")
        return composites.transpose(self, -2, -1)

    def movedim(self, source, destination):
        """Axes ``source`` moved to positions ``destination`` (ints or tuples), the others
        keeping their order (``torch.movedim``, numpy's ``moveaxis``)."""
        source = normalize_axis(source, self.shape, "movedim")
        destination = normalize_axis(destination, self.shape, "movedim")
        if len(source) != len(destination):
            raise ValueError(f"movedim: {len(source)} source axes but {len(destination)} "
                             "destinations")
        order = [axis for axis in range(self.ndim) if axis not in source]
        for to, axis in sorted(zip(destination, source)):
            order.insert(to, axis)
        return self.permute(order)

    moveaxis = movedim

    def narrow(self, dim, start, length):
        """The ``length`` elements from ``start`` along ``dim`` (a view, as ``torch.narrow``)."""
        axis = normalize_axis(dim, self.shape, "narrow")[0]
        size = self.shape[axis]
        begin = start + size if start < 0 else start
        if not (0 <= begin <= size and 0 <= length and begin + length <= size):
            raise IndexError(f"narrow: start {start} and length {length} do not fit axis "
                             f"{axis} of size {size} (shape {self.shape})")
        return self[(slice(None),) * axis + (slice(begin, begin + length),)]

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge axes ``start_dim..end_dim`` into one (all of them by default)."""
        return composites.flatten(self, start_dim, end_dim)

    def unsqueeze(self, dim):
        """Insert an axis of size 1 at position ``dim``."""
        return composites.unsqueeze(self, dim)

    def squeeze(self, dim=None):
        """Drop axes of size 1: all of them, or those of ``dim`` (an int or a tuple)."""
        return composites.squeeze(self, dim)

    def t(self):
        """The transpose of a matrix (a vector is returned as it is), as ``torch.t``."""
        return self.transpose()

    def reshape(self, *shape):
        """Same elements in a new shape; one axis may be -1. Accepts ``(2, 3)`` or ``2, 3``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        out = apply(ops.Reshape, self, shape=tuple(shape))
        return inplace.set_view(out, self, inplace.rebuild_from_reshape)

    view = reshape

    def view_as(self, other):
        """Same elements in ``other``'s shape (``reshape(other.shape)``)."""
        return self.reshape(other.shape)

    def expand(self, *sizes):
        """This tensor broadcast to ``sizes`` (-1 keeps an axis; new axes go in front).

        Only axes of size 1 can grow, as in PyTorch: ``(3, 1)`` expands to ``(2, 3, 4)``.
        The result is a copy (PyTorch: a view); its gradient sums over the copies.
        """
        sizes = factories.sizes_from(sizes)
        new = len(sizes) - self.ndim
        if new < 0:
            raise ValueError(f"expand: the target {sizes} has fewer axes than the tensor's "
                             f"shape {self.shape}")
        shape = tuple(n if n != -1 or i >= new else None for i, n in enumerate(sizes))
        if None in shape:
            raise ValueError(f"expand: -1 cannot be used for a new leading axis ({sizes}, "
                             f"tensor shape {self.shape})")
        shape = shape[:new] + tuple(old if n == -1 else n
                                    for old, n in zip(self.shape, shape[new:]))
        for old, n in zip(self.shape, shape[new:]):
            if old != n and old != 1:
                raise ValueError(f"expand: cannot expand shape {self.shape} to {sizes}: only "
                                 f"axes of size 1 can grow (size {old} would become {n}); "
                                 "use repeat() to tile")
        if shape == self.shape:
            return self
        return apply(ops.Expand, self, shape=shape)

    def expand_as(self, other):
        """This tensor broadcast to ``other``'s shape (``expand(other.shape)``)."""
        return self.expand(other.shape)

    def repeat(self, *sizes):
        """The tensor tiled ``sizes[i]`` times along axis i (numpy's ``tile``), as PyTorch:
        ``(2, 3).repeat(2, 1)`` is ``(4, 3)``; extra sizes add leading axes."""
        return composites.repeat(self, factories.sizes_from(sizes))

    def flip(self, *dims):
        """The elements in reverse order along each of ``dims`` (a copy, as in PyTorch)."""
        return composites.flip(self, factories.sizes_from(dims))

    def roll(self, shifts, dims=None):
        """Elements shifted by ``shifts`` along ``dims``, wrapping around (``torch.roll``);
        without ``dims``, along the flattened tensor, keeping the shape."""
        return composites.roll(self, shifts, dims)

    def permute(self, *axes):
        """Reorder the axes: result axis i is input axis ``axes[i]``."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list, np.ndarray)):
            axes = tuple(axes[0])
        if len(axes) != self.ndim:
            raise ValueError(f"permute: {axes} is not a permutation of the {self.ndim} axes "
                             f"of a tensor of shape {self.shape}")
        # out-of-range and repeated axes raise here, rather than wrapping around silently
        axes = normalize_axis(axes, self.shape, "permute")
        out = apply(ops.Transpose, self, axes=axes)
        return inplace.set_view(out, self, inplace.rebuild_from_axes(axes))

    def __getitem__(self, index):
        """Indexing as in PyTorch: ints, slices, None, ..., integer arrays, boolean masks.

        Where PyTorch and numpy differ, PyTorch's rule holds: an int next to an index array
        selects first (``x[1, :, idx]`` on (2, 5, 6) with 3 indices is (5, 3); numpy: (3, 5)).
        A result that shares memory (slices, ints) is a view: changing it changes ``self``.
        """
        index = _plain_index(index)
        first, rest = _split_index(index)
        if first is not None:
            return self[first][rest]
        try:
            out = apply(ops.GetItem, self, index=index)
        except IndexError as error:
            raise IndexError(f"getitem: {error} (tensor shape {self.shape})") from None
        return inplace.set_view(out, self, inplace.rebuild_from_index(index))

    def __setitem__(self, index, value):
        """``x[index] = value`` changes ``x`` in place (see ``add_`` for what is recorded)."""
        index = _plain_index(index)
        first, rest = _split_index(index)
        if first is not None:   # PyTorch's rule (see __getitem__): through the view x[first]
            self[first][rest] = value
            return
        inplace.setitem(self, index, value)

    @property
    def T(self):
        """The tensor with its axes reversed (the transpose of a matrix)."""
        return self.permute(tuple(range(self.ndim))[::-1])

    @staticmethod
    def cat(tensors, axis=0, *, dim=None):
        """Join tensors along an existing axis; all other axes must match."""
        tensors = _common_dtype(_tensor_list(tensors, "cat"))
        if not tensors:
            raise ValueError("cat: needs at least one tensor")
        if tensors[0].ndim == 0:
            raise ValueError("cat: 0-d tensors have no axis to join along; use Tensor.stack")
        axis = normalize_axis(pick_axis(axis, dim), tensors[0].shape, "cat")[0]
        first = tensors[0].shape
        for i, t in enumerate(tensors):
            others = t.shape[:axis] + t.shape[axis + 1:]
            if t.ndim != len(first) or others != first[:axis] + first[axis + 1:]:
                raise ValueError(f"cat: tensor {i} has shape {t.shape}, which does not match "
                                 f"tensor 0's shape {first} outside axis {axis}")
        return apply(ops.Cat, *tensors, axis=axis)

    @staticmethod
    def stack(tensors, axis=0, *, dim=None):
        """Join same-shaped tensors along a new axis."""
        tensors = _tensor_list(tensors, "stack")
        if not tensors:
            raise ValueError("stack: needs at least one tensor")
        shapes = {t.shape for t in tensors}
        if len(shapes) != 1:
            raise ValueError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
        axis, ndim = pick_axis(axis, dim), tensors[0].ndim
        if not -ndim - 1 <= axis <= ndim:
            raise ValueError(f"stack: axis {axis} is out of range for tensors of shape "
                             f"{tensors[0].shape}; it must lie in [{-ndim - 1}, {ndim}]")
        axis = axis % (ndim + 1)
        return ShapeMethods.cat([t.unsqueeze(axis) for t in tensors], axis=axis)


def _plain_index(index):
    """An index with Tensors and lists turned into numpy arrays (numpy can't read Tensors)."""
    if isinstance(index, TensorBase):
        return index._data
    if isinstance(index, tuple):
        return tuple(_plain_index(i) if isinstance(i, (TensorBase, list)) else i for i in index)
    if isinstance(index, list):
        return np.asarray([i._data if isinstance(i, TensorBase) else i for i in index])
    return index


def _is_int(part):
    return isinstance(part, (int, np.integer)) and not isinstance(part, bool)


def _is_array(part):
    return isinstance(part, np.ndarray) and part.ndim > 0


def _split_index(index):
    """``(first, rest)`` where PyTorch's indexing rule differs from numpy's, else (None, None).

    numpy counts an int as an advanced index when an index array is present, so
    ``x[1, :, idx]`` moves the array's axis to the front; PyTorch applies the int first
    (basic indexing), then the rest. ``x[first][rest]`` follows PyTorch.
    """
    if not isinstance(index, tuple) or not any(_is_int(p) for p in index) or not any(
            _is_array(p) for p in index):
        return None, None
    first, rest = [], []
    for part in index:
        if _is_int(part):
            first.append(part)
        elif part is None:
            first.append(None)
            rest.append(slice(None))
        elif part is Ellipsis:
            first.append(Ellipsis)
            rest.append(Ellipsis)
        else:   # a slice, an index array, or a mask (which spans mask.ndim axes)
            span = part.ndim if isinstance(part, np.ndarray) and part.dtype == np.bool_ else 1
            first.extend([slice(None)] * span)
            rest.append(part)
    return tuple(first), tuple(rest)


def _common_dtype(tensors):
    """The tensors in one dtype, as PyTorch's cat and stack choose it: with any float among
    them, the widest float (numpy would make int64 with float32 float64); else numpy's."""
    dtypes = {t._data.dtype for t in tensors}
    if len(dtypes) <= 1:
        return tensors
    floats = [d for d in dtypes if d.kind == "f"]
    dtype = np.result_type(*floats) if floats else np.result_type(*dtypes)
    return [t._cast(dtype) for t in tensors]


def _tensor_list(tensors, name):
    """``tensors`` as a list of Tensors; a single Tensor is refused, as in PyTorch."""
    if isinstance(tensors, (TensorBase, np.ndarray)):
        raise TypeError(f"{name}: expects a list or tuple of tensors, got a single "
                        f"{type(tensors).__name__} of shape {tensors.shape}; write "
                        f"{name}([a, b], dim=...) (a tensor would be split along its first axis)")
    return [t if isinstance(t, TensorBase) else TensorBase._wrap(as_array(t)) for t in tensors]
