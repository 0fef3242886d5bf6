//! A guest `string` result lifted straight from linear memory into a palloc'd `text`: the
//! typed `string -> string` path copies each result once, with no Rust `String` in between.
//!
//! wasmtime's `Lift` is implemented here through its `__internal` items (the ones its derive
//! macros use); the bounds, fuel and UTF-8 checks are those of its own `String` lift.

use pgrx::pg_sys;
use wasmtime::ValRaw;
use wasmtime::component::__internal::wasmtime_environ::component::StringEncoding;
use wasmtime::component::__internal::{CanonicalAbiInfo, InstanceType, InterfaceType, LiftContext};
use wasmtime::component::{ComponentType, Lift, WasmStr};

/// A lifted string, as SQL will take it.
#[derive(Debug)]
pub enum PgText {
    /// A `text` datum in the memory context current during the call.
    Text(usize),
    /// The string holds a NUL character, which `text` cannot.
    Nul,
    /// Longer than a `text` can be, or no memory for it: the length in bytes.
    TooLarge(usize),
}

impl PgText {
    /// Copy UTF-8 `bytes` into a new `text`.
    fn copy(bytes: &[u8]) -> PgText {
        if has_nul(bytes) {
            return PgText::Nul;
        }
        let header = pg_sys::VARHDRSZ;
        let size = bytes.len() + header;
        if size > MAX_ALLOC {
            return PgText::TooLarge(bytes.len());
        }
        // SAFETY: a valid size (checked above) with MCXT_ALLOC_NO_OOM never raises an ERROR:
        // it returns NULL when there is no memory. CurrentMemoryContext is the call's.
        let text = unsafe {
            palloc_no_oom(
                pg_sys::CurrentMemoryContext,
                size,
                pg_sys::MCXT_ALLOC_NO_OOM as i32,
            )
        } as *mut u8;
        if text.is_null() {
            return PgText::TooLarge(bytes.len());
        }
        // SAFETY: `text` has room for the 4-byte header and the bytes.
        unsafe {
            // SET_VARSIZE: a 4-byte header holding the total size, shifted left by two.
            (text as *mut u32).write_unaligned(set_varsize_4b(size));
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), text.add(header), bytes.len());
        }
        PgText::Text(text as usize)
    }

    /// Lift the string at `ptr`, `len` in the guest's memory (the canonical ABI's pointer
    /// pair), checked as wasmtime checks its own strings.
    fn lift(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        pair: &[ValRaw; 2],
    ) -> wasmtime::Result<PgText> {
        if cx.options().string_encoding != StringEncoding::Utf8 {
            // UTF-16 and latin1+UTF-16 guests: wasmtime transcodes.
            let s = <String as Lift>::linear_lift_from_flat(cx, ty, pair)?;
            return Ok(PgText::copy(s.as_bytes()));
        }
        // Bounds and fuel, as for any string.
        <WasmStr as Lift>::linear_lift_from_flat(cx, ty, pair)?;
        let (ptr, len) = (pair[0].get_u32() as usize, pair[1].get_u32() as usize);
        let bytes = &cx.memory()[ptr..][..len];
        std::str::from_utf8(bytes)?;
        Ok(PgText::copy(bytes))
    }
}

/// `MaxAllocSize`: the largest palloc.
const MAX_ALLOC: usize = 0x3fff_ffff;

#[cfg(target_endian = "little")]
fn set_varsize_4b(size: usize) -> u32 {
    (size as u32) << 2
}

#[cfg(target_endian = "big")]
fn set_varsize_4b(size: usize) -> u32 {
    (size as u32) & 0x3fff_ffff
}

/// Whether `bytes` holds a NUL.
fn has_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0)
}

unsafe extern "C-unwind" {
    /// Postgres' `MemoryContextAllocExtended`, called directly rather than through pgrx's
    /// error-catching wrapper (a `sigsetjmp` per call): with `MCXT_ALLOC_NO_OOM` and a valid
    /// size it returns NULL instead of raising, and it runs inside wasmtime's lift, where an
    /// ERROR must not unwind.
    #[link_name = "MemoryContextAllocExtended"]
    fn palloc_no_oom(
        context: pg_sys::MemoryContext,
        size: usize,
        flags: i32,
    ) -> *mut std::ffi::c_void;
}

// SAFETY: the same ABI and type check as wasmtime's own `String` (a pointer pair, `string`).
unsafe impl ComponentType for PgText {
    type Lower = [ValRaw; 2];

    const ABI: CanonicalAbiInfo = CanonicalAbiInfo::POINTER_PAIR;

    fn typecheck(ty: &InterfaceType, types: &InstanceType<'_>) -> wasmtime::Result<()> {
        <String as ComponentType>::typecheck(ty, types)
    }
}

// SAFETY: lifts exactly what `String`'s lift reads, with the same checks.
unsafe impl Lift for PgText {
    fn linear_lift_from_flat(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        src: &Self::Lower,
    ) -> wasmtime::Result<Self> {
        PgText::lift(cx, ty, src)
    }

    fn linear_lift_from_memory(
        cx: &mut LiftContext<'_>,
        ty: InterfaceType,
        bytes: &[u8],
    ) -> wasmtime::Result<Self> {
        let word =
            |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let pair = [ValRaw::u32(word(0)), ValRaw::u32(word(4))];
        PgText::lift(cx, ty, &pair)
    }
}
