"""Two small numba types that make the kernel state cheap to pass around and to read.

* ``ModelType`` is a StructRef: the state record, allocated once per run.  Handlers receive a
  ``BorrowedModel``, a plain pointer to its payload, so a handler call passes one pointer and
  does no reference counting (passing ~90 arrays, or one reference-counted record, to every
  call spent most of the run time in atomic increments and decrements).
* ``DataPtr`` is a raw pointer into an array the caller keeps alive (``_ptr(array)``), or
  shifted so that a window of a long run is indexed by the run's numbers (``_ptr_from``).

Loads and stores through a ``DataPtr`` carry the TBAA tag ``data`` and those of record fields
the tag ``record``; the two never overlap (records hold pointers and counters, arrays hold the
data), so LLVM may keep a field's value in a register across writes to the arrays instead of
reloading it after every store.

Under ``NUMBA_DISABLE_JIT=1`` the record is a ``SimpleNamespace``, ``_borrow`` the identity and
``_ptr`` a flat view of the array, so the kernel runs as plain Python.  Imports numba and
llvmlite only.
"""

from __future__ import annotations

import operator
import types as pytypes

from llvmlite import ir
from numba import config, njit, types
from numba.core.datamodel import models
from numba.core.typing.templates import (
    AbstractTemplate, AttributeTemplate, infer_getattr, infer_global, signature,
)
from numba.experimental import structref
from numba.extending import (
    intrinsic, lower_builtin, lower_getattr_generic, lower_setattr_generic, register_model,
)

from queue_sim.kernels import NUMBA_OPTIONS


class DataPtr(types.Type):
    """numba type of a raw pointer to ``dtype`` items (indexing only, no bounds)."""

    def __init__(self, dtype: types.Type):
        self.dtype = dtype
        super().__init__(name=f"DataPtr[{dtype}]")


if config.DISABLE_JIT:
    ModelType = None

    def new_record(_type: object) -> pytypes.SimpleNamespace:
        return pytypes.SimpleNamespace()

    def _borrow(owner):  # noqa: ANN001, ANN202
        return owner

    def _ptr(arr):  # noqa: ANN001, ANN202
        return arr.reshape(-1)  # a flat view, indexed like the pointer

    class _Shifted:
        """Element ``i`` of the array at index ``i - first`` (a shifted pointer, as Python)."""

        __slots__ = ("array", "first")

        def __init__(self, array, first):  # noqa: ANN001
            self.array, self.first = array.reshape(-1), first

        def __getitem__(self, i):  # noqa: ANN001, ANN204
            return self.array[i - self.first]

        def __setitem__(self, i, value):  # noqa: ANN001, ANN204
            self.array[i - self.first] = value

    def _ptr_from(arr, first):  # noqa: ANN001, ANN202
        return arr.reshape(-1) if first == 0 else _Shifted(arr, first)

    def _release(owner):  # noqa: ANN001, ANN202
        return None
else:
    new_record = structref.new

    def _tbaa(builder: ir.IRBuilder, name: str) -> ir.MDValue:
        """The access tag of TBAA type ``name`` under this kernel's own root."""
        module = builder.module
        zero = ir.Constant(ir.IntType(64), 0)
        root = module.add_metadata([ir.MetaDataString(module, "queue_sim kernel TBAA")])
        node = module.add_metadata([ir.MetaDataString(module, name), root, zero])
        return module.add_metadata([node, node, zero])

    register_model(DataPtr)(models.PointerModel)

    @intrinsic
    def _ptr(typingctx, arr):  # noqa: ANN001, ANN202
        """The data pointer of a contiguous array (the caller keeps the array alive)."""
        sig = DataPtr(arr.dtype)(arr)

        def codegen(context, builder, signature, args):  # noqa: ANN001, ANN202
            return context.make_array(signature.args[0])(context, builder, value=args[0]).data
        return sig, codegen

    @intrinsic
    def _ptr_from(typingctx, arr, first):  # noqa: ANN001, ANN202
        """A pointer that reads index ``first + i`` of the run at ``arr[i]``: a window of
        a long run indexed by the run's own numbers (the caller keeps ``arr`` alive)."""
        sig = DataPtr(arr.dtype)(arr, first)

        def codegen(context, builder, signature, args):  # noqa: ANN001, ANN202
            data = context.make_array(signature.args[0])(context, builder, value=args[0]).data
            offset = context.cast(builder, args[1], signature.args[1], types.intp)
            return builder.gep(data, [builder.neg(offset)])
        return sig, codegen

    @infer_global(operator.getitem)
    class _DataPtrGetItem(AbstractTemplate):
        def generic(self, args, kws):  # noqa: ANN001, ANN201
            if (len(args) == 2 and isinstance(args[0], DataPtr)
                    and isinstance(args[1], types.Integer)):
                return signature(args[0].dtype, args[0], types.intp)
            return None

    @infer_global(operator.setitem)
    class _DataPtrSetItem(AbstractTemplate):
        def generic(self, args, kws):  # noqa: ANN001, ANN201
            if (len(args) == 3 and isinstance(args[0], DataPtr)
                    and isinstance(args[1], types.Integer)):
                return signature(types.none, args[0], types.intp, args[0].dtype)
            return None

    @lower_builtin(operator.getitem, DataPtr, types.Integer)
    def _getitem(context, builder, sig, args):  # noqa: ANN001, ANN202
        ptr, idx = args
        raw = builder.load(builder.gep(ptr, [idx]))
        raw.set_metadata("tbaa", _tbaa(builder, "data"))
        return context.data_model_manager[sig.return_type].from_data(builder, raw)

    @lower_builtin(operator.setitem, DataPtr, types.Integer, types.Any)
    def _setitem(context, builder, sig, args):  # noqa: ANN001, ANN202
        ptr, idx, value = args
        raw = context.data_model_manager[sig.args[0].dtype].as_data(builder, value)
        store = builder.store(raw, builder.gep(ptr, [idx]))
        store.set_metadata("tbaa", _tbaa(builder, "data"))
        return context.get_dummy_value()

    @structref.register
    class ModelType(types.StructRef):
        """numba type of the kernel state record (owns the calendar arrays)."""

    class BorrowedModel(types.Type):
        """A plain pointer to a ModelType payload (no reference count)."""

        def __init__(self, struct_type):  # noqa: ANN001
            self.struct_type = struct_type
            super().__init__(name=f"BorrowedModel[{struct_type.name}]")

    @register_model(BorrowedModel)
    class _BorrowedModelData(models.PrimitiveModel):
        def __init__(self, dmm, fe_type):  # noqa: ANN001
            payload = dmm.lookup(fe_type.struct_type.get_data_type())
            super().__init__(dmm, fe_type, payload.get_value_type().as_pointer())

    @infer_getattr
    class _BorrowedModelAttributes(AttributeTemplate):
        key = BorrowedModel

        def generic_resolve(self, typ, attr):  # noqa: ANN001, ANN201
            return typ.struct_type.field_dict.get(attr)

    def _field(context, builder, typ, record, attr):  # noqa: ANN001, ANN202
        """Address and type of field ``attr``; only fields without reference counts."""
        field_type = typ.struct_type.field_dict[attr]
        if context.data_model_manager[field_type].has_nrt_meminfo():
            raise TypeError(f"use the owning record for the array field {attr!r}")
        payload = context.data_model_manager[typ.struct_type.get_data_type()]
        position = payload.get_field_position(attr)
        address = builder.gep(record, [ir.Constant(ir.IntType(32), 0),
                                       ir.Constant(ir.IntType(32), position)], inbounds=True)
        return address, field_type

    @lower_getattr_generic(BorrowedModel)
    def _borrowed_getattr(context, builder, typ, record, attr):  # noqa: ANN001, ANN202
        address, field_type = _field(context, builder, typ, record, attr)
        raw = builder.load(address)
        raw.set_metadata("tbaa", _tbaa(builder, "record"))
        return context.data_model_manager[field_type].from_data(builder, raw)

    @lower_setattr_generic(BorrowedModel)
    def _borrowed_setattr(context, builder, sig, args, attr):  # noqa: ANN001, ANN202
        typ, value_type = sig.args
        address, field_type = _field(context, builder, typ, args[0], attr)
        value = context.cast(builder, args[1], value_type, field_type)
        store = builder.store(context.data_model_manager[field_type].as_data(builder, value),
                              address)
        store.set_metadata("tbaa", _tbaa(builder, "record"))

    @njit(**NUMBA_OPTIONS)
    def _release(owner):  # noqa: ANN001, ANN202
        """The last use of a record's owner: its borrowed views are valid until here (numba
        frees a variable after its last use, and a borrowed view does not count as one)."""
        return None

    @intrinsic
    def _borrow(typingctx, owner):  # noqa: ANN001, ANN202
        """A borrowed view of ``owner`` (keep ``owner`` alive while it is used)."""
        sig = BorrowedModel(owner)(owner)

        def codegen(context, builder, signature, args):  # noqa: ANN001, ANN202
            return structref._Utils(context, builder, signature.args[0]).get_data_pointer(
                args[0])
        return sig, codegen
