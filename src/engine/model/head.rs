//! The LM head: the last product, from the final normed rows to logits, in the format chosen at
//! load (`--lm-head`). Every row is computed the same way whatever else is in the batch, so a
//! sequence's logits do not depend on its neighbours.

use std::cell::RefCell;
use std::ops::Range;

use half::f16;
use rayon::prelude::*;

use crate::engine::protocol::LmHead;
use crate::gguf::TensorType;
use crate::kernels::dot::{dot_f16, f16_slice};
use crate::kernels::i8_rows::{dot_i8, dot_i8_x4, I8Rows};
use crate::kernels::pool::SpinPool;
use crate::kernels::q6_k::{self, Q6_K_WEIGHTS};
use crate::kernels::types::{quad, token_groups};
use crate::kernels::{block_dot, q4};

use super::matmul::{linear, ActScratch};
use super::weights::Linear;

/// Head rows per claimable chunk (of 128k): sizeable streams, fine enough to balance.
const HEAD_GRANULE: usize = 256;

/// F16 head rows repacked at a time (2B4T: 21 MB of the 657 MB head), so the file's pages can
/// leave memory as the repacked rows arrive instead of both heads being resident at once.
const REPACK_ROWS: usize = 4096;

/// How the LM head is held.
pub enum OutputHead {
    /// The file's F16 rows: each input row is rounded to F16 and dotted in F32, as ggml does.
    F16(Linear),
    /// Int8 rows with per-row scales, repacked at load (`--lm-head q8`); inputs are quantized to
    /// int8 per row like a BitLinear input, and the dots are exact.
    I8(I8Rows),
    /// Rows of Q6_K or Q4_0 blocks repacked at load (`--lm-head q6|q4`), multiplied like any
    /// matrix of that type: `lin` describes them within `data`.
    Blocks { lin: Linear, data: Vec<u8> },
    /// The file's tensor in a type other than F16 (e.g. SmolLM2's Q8_0), multiplied as stored.
    Stored(Linear),
}

/// Reused buffers of the head's product.
#[derive(Debug, Default)]
pub struct HeadScratch {
    /// Input rows rounded to F16 (the F16 head).
    y16: Vec<f16>,
}

impl OutputHead {
    /// The file's `output` tensor used as stored.
    pub fn stored(output: &Linear) -> Self {
        match output.ty {
            TensorType::F16 => Self::F16(output.clone()),
            _ => Self::Stored(output.clone()),
        }
    }

    /// The head in `format`: an F16 head can be repacked to int8 rows, Q6_K or Q4_0 blocks (in
    /// parallel on the current rayon pool); a head stored in another type is kept as is. Q6_K
    /// needs rows of whole 256-weight super-blocks; heads of other widths get int8 rows. The F16
    /// rows are read in slices, and `consumed(bytes)` hears of each file range once it is
    /// repacked, so the caller can let its pages go before the next is read.
    pub fn repacked(output: &Linear, file: &[u8], format: LmHead, consumed: &dyn Fn(Range<usize>)) -> Self {
        if output.ty != TensorType::F16 || format == LmHead::F16 {
            return Self::stored(output);
        }
        let cols = output.cols;
        let format = match format {
            LmHead::Q6 if !cols.is_multiple_of(Q6_K_WEIGHTS) => {
                tracing::warn!(
                    "--lm-head q6 needs a width that is a multiple of {Q6_K_WEIGHTS}; this head has {cols} columns, \
                     so it is repacked to int8 rows (q8) instead"
                );
                LmHead::Q8
            }
            other => other,
        };
        let block = match format {
            LmHead::Q4 => Some((TensorType::Q4_0, q4::quantize_row_q4_0 as fn(&[f32], &mut Vec<u8>))),
            LmHead::Q6 => Some((TensorType::Q6K, q6_k::quantize_row_q6_k as fn(&[f32], &mut Vec<u8>))),
            LmHead::Q8 | LmHead::F16 => None,
        };
        // The whole repacked head is reserved up front: growing it by doubling would copy it and
        // hold the old and the new buffer at once, the load's peak memory.
        let mut int8 = I8Rows { cols, ..I8Rows::default() };
        let mut data = Vec::new();
        match block {
            Some((ty, _)) => data.reserve_exact(output.rows * block_dot::row_bytes(ty, cols)),
            None => int8.reserve(output.rows),
        }
        let row_bytes = output.row_bytes();
        for (i, slice) in file[output.bytes.clone()].chunks(REPACK_ROWS * row_bytes).enumerate() {
            let rows = f16_slice(slice);
            match block {
                Some((ty, quantize)) => data.extend(quantized_rows(rows, cols, ty, quantize)),
                None => int8.push_f16(rows),
            }
            let start = output.bytes.start + i * REPACK_ROWS * row_bytes;
            consumed(start..start + slice.len());
        }
        match block {
            Some((ty, _)) => {
                let lin = Linear { ty, bytes: 0..data.len(), out_scale: 1.0, ..output.clone() };
                Self::Blocks { lin, data }
            }
            None => Self::I8(int8),
        }
    }

    /// Bytes one token's product reads.
    pub fn bytes(&self) -> usize {
        match self {
            Self::F16(lin) | Self::Stored(lin) => lin.bytes.len(),
            Self::I8(rows) => rows.bytes(),
            Self::Blocks { data, .. } => data.len(),
        }
    }

    /// `logits[t·vocab + r]` for the `n` rows of `y` (`n × hidden`). One row runs on the spin
    /// pool, several on the rayon pool; each logit is the same computation either way.
    #[allow(clippy::too_many_arguments)]
    pub fn forward(
        &self,
        file: &[u8],
        y: &[f32],
        hidden: usize,
        logits: &mut [f32],
        scratch: &mut HeadScratch,
        acts: &mut ActScratch,
        pool: &SpinPool,
    ) {
        let n = y.len() / hidden;
        match self {
            Self::Blocks { lin, data } => linear(lin, data, y, logits, acts, pool),
            Self::Stored(lin) => linear(lin, file, y, logits, acts, pool),
            Self::I8(head) => {
                acts.quantize(y, hidden, pool);
                let acts = acts.rows(n);
                per_row(n, logits, pool, |r, out| {
                    let (w, scale) = (head.row(r), head.scales[r]);
                    for group in token_groups(0..n) {
                        let t = group.start;
                        if group.len() == 1 {
                            out[t] = dot_i8(w, &acts[t].q) as f32 * scale / acts[t].scale;
                            continue;
                        }
                        let (tokens, _) = quad(t, group.len(), 0);
                        let dots = dot_i8_x4(w, tokens.map(|t| &acts[t]));
                        for (t, dot) in group.zip(dots) {
                            out[t] = dot as f32 * scale / acts[t].scale;
                        }
                    }
                });
            }
            Self::F16(lin) => {
                // ggml converts the input to F16 for an F16 matrix and dots in F32 (spec D, "LM head").
                scratch.y16.clear();
                scratch.y16.extend(y.iter().map(|&v| f16::from_f32(v)));
                let y16 = &scratch.y16;
                let rows = &file[lin.bytes.clone()];
                let row_bytes = lin.row_bytes();
                per_row(n, logits, pool, |r, out| {
                    let row = f16_slice(&rows[r * row_bytes..(r + 1) * row_bytes]);
                    for (o, y) in out.iter_mut().zip(y16.chunks_exact(hidden)) {
                        *o = dot_f16(y, row);
                    }
                });
            }
        }
    }
}

/// Fills token-major `logits` (`n × vocab`), `row_logits(r, out)` giving head row `r`'s logit
/// for each of the `n` tokens, so each head row is read once for all of them; the head rows are
/// split over the spin pool (the head is the largest read).
fn per_row(n: usize, logits: &mut [f32], pool: &SpinPool, row_logits: impl Fn(usize, &mut [f32]) + Sync) {
    let vocab = logits.len() / n;
    pool.for_each_column_chunk(logits, vocab, HEAD_GRANULE, |mut cols| {
        ROW_LOGITS.with_borrow_mut(|out| {
            out.resize(n, 0.0);
            let first = cols.cols().start;
            for r in cols.cols() {
                row_logits(r, out);
                for (t, &v) in out.iter().enumerate() {
                    cols.row(t)[r - first] = v;
                }
            }
        })
    });
}

thread_local! {
    /// One head row's logits for the batch's tokens, on this thread (kept, so nothing is
    /// allocated per token).
    static ROW_LOGITS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// F16 rows of `cols` values as rows of `ty` blocks made by `quantize`, in parallel.
fn quantized_rows(rows: &[f16], cols: usize, ty: TensorType, quantize: fn(&[f32], &mut Vec<u8>)) -> Vec<u8> {
    rows.par_chunks(cols)
        .flat_map_iter(|row| {
            let x: Vec<f32> = row.iter().map(|v| v.to_f32()).collect();
            let mut out = Vec::with_capacity(block_dot::row_bytes(ty, cols));
            quantize(&x, &mut out);
            out
        })
        .collect()
}
