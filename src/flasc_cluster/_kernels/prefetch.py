"""A software prefetch for kernels that visit rows of a large array in an
order the hardware cannot predict (kernel module).

``prefetch_row(a, i)`` asks the CPU to start loading the cache line of
element ``i`` of the 1-D array ``a``, or of the first element of row ``i``
of the 2-D array ``a``; ``prefetch_at(a, i, j)`` the line of element
``(i, j)`` of a 2-D array. They have no other effect and never fault, even
out of bounds (LLVM's ``llvm.prefetch``).
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

#: How many steps ahead the kernels prefetch: far enough for the line to
#: arrive, near enough to stay in cache (2 was fastest on 10^5 scattered rows).
AHEAD = 2

#: 8-byte items per 64-byte cache line.
LINE_ITEMS = 8


def _prefetch_codegen(context, builder, signature, args):
    """Code for ``llvm.prefetch`` of the element of ``args[0]`` at the
    indices ``args[1:]`` (missing trailing indices are 0)."""
    array_type = signature.args[0]
    ary = context.make_array(array_type)(context, builder, args[0])
    indices = [
        context.cast(builder, value, ty, types.intp)
        for value, ty in zip(args[1:], signature.args[1:])
    ]
    indices += [context.get_constant(types.intp, 0)] * (array_type.ndim - len(indices))
    ptr = cgutils.get_item_pointer(
        context, builder, array_type, ary, indices, wraparound=False,
    )
    byte_ptr = ir.IntType(8).as_pointer()
    i32 = ir.IntType(32)
    fnty = ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32])
    fn = builder.module.declare_intrinsic("llvm.prefetch", [byte_ptr], fnty)
    # read, high temporal locality, data cache
    builder.call(fn, [builder.bitcast(ptr, byte_ptr), ir.Constant(i32, 0),
                      ir.Constant(i32, 3), ir.Constant(i32, 1)])
    return context.get_dummy_value()


@intrinsic
def prefetch_row(typingctx, array, row):
    """Prefetch ``array[row]`` (1-D) or ``array[row, 0]`` (2-D) for reading
    (numba intrinsic)."""
    if not isinstance(array, types.Array) or array.ndim not in (1, 2):
        return None
    if not isinstance(row, types.Integer):
        return None
    return types.void(array, row), _prefetch_codegen


@intrinsic
def prefetch_at(typingctx, array, row, column):
    """Prefetch ``array[row, column]`` of a 2-D array for reading (numba
    intrinsic): with a step of :data:`LINE_ITEMS` over the columns, every
    cache line of a row of 8-byte items longer than one line."""
    if not isinstance(array, types.Array) or array.ndim != 2:
        return None
    if not isinstance(row, types.Integer) or not isinstance(column, types.Integer):
        return None
    return types.void(array, row, column), _prefetch_codegen
