//! Indexing kernels: gathers through layouts, takes and puts through index maps, strided
//! writes, and the values of index buffers.

use super::elementwise::{cast, copy};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::layout::{numel, Layout, Offsets};
use crate::storage::{map_buffer, try_collect, typed, Buffer};
use smallvec::SmallVec;

/// The elements of `data` read through `layout`, in row-major order; a copy that cannot be
/// allocated is an error.
pub(crate) fn gather<T: Copy>(data: &[T], layout: &Layout) -> Result<Vec<T>> {
    if let Some(r) = layout.contiguous_range() {
        let mut out = crate::pool::try_alloc(r.len())?;
        out.extend_from_slice(&data[r]);
        return Ok(out);
    }
    // Row by row over the last dimension: the odometer only runs once per row.
    let k = layout.shape.len();
    let (inner, stride) = (layout.shape[k - 1], layout.strides[k - 1]);
    let mut out = crate::pool::try_alloc(layout.numel())?;
    let rows = Offsets::new(
        &layout.shape[..k - 1],
        &layout.strides[..k - 1],
        layout.offset,
    );
    for base in rows {
        match stride {
            1 => out.extend_from_slice(&data[base..base + inner]),
            0 => out.extend(std::iter::repeat_n(data[base], inner)),
            s => out.extend((0..inner).map(|i| data[base + i * s])),
        }
    }
    Ok(out)
}

/// Zeros of `shape` (in `src`'s dtype) with `src` (read through `ls`) written at index `index`
/// of dimension `dim`.
pub(crate) fn select_scatter(
    src: &Buffer,
    ls: &Layout,
    shape: &[usize],
    dim: usize,
    index: usize,
) -> Result<Buffer> {
    let mut out = Buffer::try_filled(src.dtype(), numel(shape), 0.0)?;
    let target = Layout::contiguous(shape).select(dim, index);
    write_buffer(src, ls, &mut out, &target);
    Ok(out)
}

fn write_through<T: Copy>(src: &[T], ls: &Layout, dst: &mut [T], ld: &Layout) {
    // The common case (an in-place update of a whole contiguous tensor): one slice copy.
    if let (Some(rs), Some(rd)) = (ls.contiguous_range(), ld.contiguous_range()) {
        if ls.shape == ld.shape {
            dst[rd].copy_from_slice(&src[rs]);
            return;
        }
    }
    for (i, o) in ls.offsets().zip(ld.offsets()) {
        dst[o] = src[i];
    }
}

/// Copies the elements of `src` (read through `ls`) to the places `ld` names in `dst`; both
/// buffers have one dtype. Allocates nothing.
pub(crate) fn write_buffer(src: &Buffer, ls: &Layout, dst: &mut Buffer, ld: &Layout) {
    match (src, dst) {
        (Buffer::F32(s), Buffer::F32(d)) => write_through(s, ls, d, ld),
        (Buffer::F64(s), Buffer::F64(d)) => write_through(s, ls, d, ld),
        (Buffer::Bool(s), Buffer::Bool(d)) => write_through(s, ls, d, ld),
        (Buffer::I64(s), Buffer::I64(d)) => write_through(s, ls, d, ld),
        _ => unreachable!("write_buffer: one dtype"),
    }
}

/// Row-major multi-indices of `shape`, one at a time (an odometer over indices, not offsets).
fn for_each_index(shape: &[usize], mut f: impl FnMut(&[usize])) {
    if shape.contains(&0) {
        return;
    }
    let mut idx: SmallVec<[usize; 6]> = SmallVec::from_elem(0, shape.len());
    loop {
        f(&idx);
        let mut d = shape.len();
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

fn offset_of(layout: &Layout, idx: &[usize]) -> usize {
    layout.offset
        + idx
            .iter()
            .zip(&layout.strides)
            .map(|(i, s)| i * s)
            .sum::<usize>()
}

/// A new buffer of `out_shape` with `out[p] = src[source(p)]`: `source` maps each output
/// multi-index to a multi-index of `layout` (which the caller guarantees is in bounds).
pub(crate) fn take(
    src: &Buffer,
    layout: &Layout,
    out_shape: &[usize],
    source: impl Fn(&[usize], &mut [usize]),
) -> Result<Buffer> {
    let n = numel(out_shape);
    let mut offsets: Vec<usize> = crate::pool::try_alloc(n)?;
    let mut sidx: SmallVec<[usize; 6]> = SmallVec::from_elem(0, layout.shape.len());
    for_each_index(out_shape, |p| {
        source(p, &mut sidx);
        offsets.push(offset_of(layout, &sidx));
    });
    Ok(map_buffer!(src, v => try_collect(n, offsets.iter().map(|&o| v[o]))?))
}

/// A contiguous copy of `base` (read through `lbase`) with every element `p` of `src` (read
/// through `lsrc`) written (or, with `accumulate`, added) at `dest(p)`, a multi-index of
/// `base`. `src` is cast to `base`'s dtype.
pub(crate) fn put(
    base: &Buffer,
    lbase: &Layout,
    src: &Buffer,
    lsrc: &Layout,
    dest: impl Fn(&[usize], &mut [usize]),
    accumulate: bool,
) -> Result<Buffer> {
    let mut out = copy(base, lbase)?;
    let out_layout = Layout::contiguous(&lbase.shape);
    let cast_src;
    let (src, lsrc) = if src.dtype() == base.dtype() {
        (src, lsrc)
    } else {
        cast_src = (
            cast(src, lsrc, base.dtype())?,
            Layout::contiguous(&lsrc.shape),
        );
        (&cast_src.0, &cast_src.1)
    };
    let mut pairs = crate::pool::try_alloc(lsrc.numel())?;
    let mut didx: SmallVec<[usize; 6]> = SmallVec::from_elem(0, lbase.shape.len());
    for_each_index(&lsrc.shape, |p| {
        dest(p, &mut didx);
        pairs.push((offset_of(lsrc, p), offset_of(&out_layout, &didx)));
    });
    match (src, &mut out) {
        (Buffer::F32(s), Buffer::F32(d)) => put_slice(s, d, &pairs, accumulate, |a, b| a + b),
        (Buffer::F64(s), Buffer::F64(d)) => put_slice(s, d, &pairs, accumulate, |a, b| a + b),
        (Buffer::I64(s), Buffer::I64(d)) => put_slice(s, d, &pairs, accumulate, |a, b| a + b),
        (Buffer::Bool(s), Buffer::Bool(d)) => put_slice(s, d, &pairs, accumulate, |a, b| a | b),
        _ => unreachable!("src was cast to base's dtype"),
    }
    Ok(out)
}

fn put_slice<T: Copy>(
    src: &[T],
    dst: &mut [T],
    pairs: &[(usize, usize)],
    accumulate: bool,
    add: impl Fn(T, T) -> T + Sync,
) {
    for &(s, d) in pairs {
        dst[d] = if accumulate {
            add(dst[d], src[s])
        } else {
            src[s]
        };
    }
}

/// The integer values of an index buffer (read through `layout`), checked against `bound`
/// (negative values count from the end, as in PyTorch's index_select/gather).
pub(crate) fn index_values(
    op: &'static str,
    index: &Buffer,
    layout: &Layout,
    bound: usize,
) -> Result<Vec<usize>> {
    if index.dtype() != DType::I64 {
        return Err(Error::invalid(
            op,
            format!("index must be an int64 tensor, got {}", index.dtype()),
        ));
    }
    let values = typed::<i64>(index);
    let mut out = crate::pool::try_alloc(layout.numel())?;
    for o in layout.offsets() {
        let i = values[o];
        let j = if i < 0 { i + bound as i64 } else { i };
        if j < 0 || j >= bound as i64 {
            return Err(Error::invalid(
                op,
                format!("index {i} is out of bounds for dimension with size {bound}"),
            ));
        }
        out.push(j as usize);
    }
    Ok(out)
}
