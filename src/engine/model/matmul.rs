//! `y = W·x` for a batch of activation rows, dispatched on the weight type:
//! I2_S takes per-token int8 activations and an exact integer dot (spec D); Q4_0, Q4_1, Q5_0,
//! Q5_1, Q8_0 and Q6_K take int8 activations in blocks of 32, TQ1_0 and TQ2_0 in blocks of 256,
//! and integer block dots (as ggml does; [`block_rows`]), each quantized form made once for the
//! products that share an input; every other type is dequantized a tile of rows at a time and
//! multiplied in f32 (F16 rows of a single token are dotted straight from the mmap). A batch is
//! split into chunks of tokens, one thread each, which write their own rows of the output; inside
//! a chunk, tiles of weight rows stay in cache while the chunk's tokens pass over them. A single
//! token splits the output rows over the spin pool.

use std::ops::Range;

use rayon::prelude::*;

use crate::gguf::TensorType;
use crate::kernels::act_i8::{self, QuantRow, Rescale4};
use crate::kernels::act_q8::{ActBlocks, BlockActs, BLOCK, QK_K};
use crate::kernels::block_dot;
use crate::kernels::block_rows;
use crate::kernels::dot::{dot_4x2, dot_f32, dot_f32_f16, f16_slice};
use crate::kernels::i2s_dot::{dot_codes, dot_codes_x4};
use crate::kernels::pool::SpinPool;
use crate::kernels::tq_dot;

use super::ops::PARALLEL_ROWS;
use super::weights::Linear;

/// Reused buffers for quantized activations.
#[derive(Debug, Default)]
pub struct ActScratch {
    /// Per-row int8 (I2_S, the int8 LM head).
    rows: Vec<QuantRow>,
    /// Int8 in blocks of 32 (the [`block_dot`] types).
    blocks: BlockActs<BLOCK>,
    /// Int8 in blocks of 256 (TQ1_0, TQ2_0).
    tq_blocks: BlockActs<QK_K>,
    /// Set by [`ActScratch::keep_for_next`]: the next product has the same input as the last one
    /// (Q/K/V, gate/up), so whichever quantized form it needs is reused if already made.
    reuse: bool,
    rows_ready: bool,
    blocks_ready: bool,
    tq_blocks_ready: bool,
}

impl ActScratch {
    /// Quantizes each `width`-long row of `x` to int8 (per-row absmax).
    pub fn quantize(&mut self, x: &[f32], width: usize) {
        self.rows.resize_with(x.len() / width, QuantRow::default);
        if self.rows.len() < PARALLEL_ROWS {
            self.rows.iter_mut().zip(x.chunks_exact(width)).for_each(|(row, xr)| act_i8::quantize_row(xr, row));
        } else {
            self.rows.par_iter_mut().zip(x.par_chunks_exact(width)).for_each(|(row, xr)| act_i8::quantize_row(xr, row));
        }
    }

    /// Quantizes the input of a product in the form its type needs, unless the caller said the
    /// input is unchanged and that form is made; every product consumes the mark, so it never
    /// outlives the call it was meant for.
    fn prepare(&mut self, lin: &Linear, x: &[f32]) {
        if !std::mem::take(&mut self.reuse) {
            self.rows_ready = false;
            self.blocks_ready = false;
            self.tq_blocks_ready = false;
        }
        if lin.ty == TensorType::I2S && !self.rows_ready {
            self.quantize(x, lin.cols);
            self.rows_ready = true;
        } else if block_dot::supports(lin.ty) && !self.blocks_ready {
            self.blocks.quantize(x, lin.cols);
            self.blocks_ready = true;
        } else if tq_dot::supports(lin.ty) && !self.tq_blocks_ready {
            self.tq_blocks.quantize(x, lin.cols);
            self.tq_blocks_ready = true;
        }
    }

    /// Marks the quantized input of the last product as valid for the next one.
    pub fn keep_for_next(&mut self) {
        self.reuse = true;
    }

    /// The first `n` quantized rows.
    pub fn rows(&self, n: usize) -> &[QuantRow] {
        &self.rows[..n]
    }
}

/// I2_S rows per tile: 64 rows of 6912 codes are 110 KB, which stays in L2 while every group of
/// four tokens passes over it.
const I2S_TILE_ROWS: usize = 64;
/// Block-int8 rows per tile: 64 rows of 1536 weights in Q8_0 are 104 KB, of 2560 in Q6_K (a
/// BitNet 2B LM head) 134 KB, of 6912 in TQ2_0 114 KB, within L2.
const BLOCK_TILE_ROWS: usize = 64;
/// Dequantized f32 rows per tile (16 × 1536 × 4 B = 98 KB at most for SmolLM2-sized models).
const F32_TILE_ROWS: usize = 16;

/// `out[t·rows + r] = Σ_c W[r][c]·x[t·cols + c]` for the `n` rows of `x`. A single token (decode)
/// runs on the spin pool, a batch on the rayon pool.
pub fn linear(lin: &Linear, file: &[u8], x: &[f32], out: &mut [f32], scratch: &mut ActScratch, pool: &SpinPool) {
    let n = x.len() / lin.cols;
    debug_assert_eq!(out.len(), n * lin.rows);
    scratch.prepare(lin, x);
    if n == 1 {
        return linear_one(lin, file, x, out, scratch, pool);
    }
    let weights = &file[lin.bytes.clone()];
    let (rows, row_bytes, scale, k) = (lin.rows, lin.row_bytes(), lin.out_scale, lin.cols);
    match lin.ty {
        TensorType::I2S => {
            let acts = scratch.rows(n);
            par_token_chunks(n, rows, out, |tokens, out| {
                let acts = &acts[tokens];
                let quads = acts.len() - acts.len() % 4;
                for tile in tiles(0..rows, I2S_TILE_ROWS) {
                    // Four tokens per pass unpack each weight block once for all four.
                    for t in (0..quads).step_by(4) {
                        let a = &acts[t..t + 4];
                        let rescale = Rescale4::new([&a[0], &a[1], &a[2], &a[3]]);
                        for r in tile.clone() {
                            let codes = &weights[r * row_bytes..(r + 1) * row_bytes];
                            let y = rescale.apply(dot_codes_x4(codes, [&a[0].q, &a[1].q, &a[2].q, &a[3].q]), scale);
                            for (i, y) in y.into_iter().enumerate() {
                                out[(t + i) * rows + r] = y;
                            }
                        }
                    }
                    for (t, a) in acts.iter().enumerate().skip(quads) {
                        for r in tile.clone() {
                            let codes = &weights[r * row_bytes..(r + 1) * row_bytes];
                            out[t * rows + r] = act_i8::rescale(dot_codes(codes, &a.q), a, scale);
                        }
                    }
                }
            });
        }
        ty if block_dot::supports(ty) => block_int8_batch(lin, weights, &scratch.blocks, n, out),
        ty if tq_dot::supports(ty) => block_int8_batch(lin, weights, &scratch.tq_blocks, n, out),
        _ => par_token_chunks(n, rows, out, |tokens, out| {
            let x = &x[tokens.start * k..tokens.end * k];
            let n = tokens.len();
            let mut w = vec![0f32; F32_TILE_ROWS * k];
            for tile in tiles(0..rows, F32_TILE_ROWS) {
                for (r, wr) in tile.clone().zip(w.chunks_exact_mut(k)) {
                    lin.dequantize_row(file, r, wr);
                }
                let groups = tile.len() - tile.len() % 4;
                let pairs = n - n % 2;
                for t in (0..pairs).step_by(2) {
                    let (x0, x1) = (&x[t * k..(t + 1) * k], &x[(t + 1) * k..(t + 2) * k]);
                    for g in (0..groups).step_by(4) {
                        let res = dot_4x2(&w[g * k..(g + 4) * k], x0, x1);
                        for (i, (y0, y1)) in res[0].iter().zip(&res[1]).enumerate() {
                            let r = tile.start + g + i;
                            out[t * rows + r] = y0 * scale;
                            out[(t + 1) * rows + r] = y1 * scale;
                        }
                    }
                }
                // Rows past the last group of four, and the last token of an odd chunk.
                for (i, wr) in w.chunks_exact(k).enumerate().take(tile.len()) {
                    let tokens = if i < groups { pairs..n } else { 0..n };
                    for t in tokens {
                        out[t * rows + tile.start + i] = dot_f32(wr, &x[t * k..(t + 1) * k]) * scale;
                    }
                }
            }
        }),
    }
}

/// Output rows per claimable chunk in decode: small enough to balance two threads, large enough
/// that each chunk streams several KB of weights.
const DECODE_GRANULE: usize = 16;

/// One token: each output row is one dot product, rows split across the spin pool.
fn linear_one(lin: &Linear, file: &[u8], x: &[f32], out: &mut [f32], scratch: &mut ActScratch, pool: &SpinPool) {
    let weights = &file[lin.bytes.clone()];
    let row_bytes = lin.row_bytes();
    let row = |r: usize| &weights[r * row_bytes..(r + 1) * row_bytes];
    let scale = lin.out_scale;
    match lin.ty {
        TensorType::I2S => {
            let a = &scratch.rows(1)[0];
            pool.for_each_chunk(out, DECODE_GRANULE, |start, chunk| {
                for (r, v) in (start..).zip(chunk.iter_mut()) {
                    *v = act_i8::rescale(dot_codes(row(r), &a.q), a, scale);
                }
            });
        }
        TensorType::F16 => pool.for_each_chunk(out, DECODE_GRANULE, |start, chunk| {
            for (r, v) in (start..).zip(chunk.iter_mut()) {
                *v = dot_f32_f16(x, f16_slice(row(r))) * scale;
            }
        }),
        ty if block_dot::supports(ty) => block_int8_one(lin, weights, scratch.blocks.row(0), out, pool),
        ty if tq_dot::supports(ty) => block_int8_one(lin, weights, scratch.tq_blocks.row(0), out, pool),
        _ => pool.for_each_chunk(out, DECODE_GRANULE, |start, chunk| {
            let mut w = vec![0f32; lin.cols];
            for (r, v) in (start..).zip(chunk.iter_mut()) {
                lin.dequantize_row(file, r, &mut w);
                *v = dot_f32(x, &w) * scale;
            }
        }),
    }
}

/// A batch through integer block kernels, with `acts` holding the batch's `n` quantized rows.
fn block_int8_batch<const N: usize>(lin: &Linear, weights: &[u8], acts: &BlockActs<N>, n: usize, out: &mut [f32]) {
    let (ty, rows, row_bytes, scale) = (lin.ty, lin.rows, lin.row_bytes(), lin.out_scale);
    par_token_chunks(n, rows, out, |tokens, out| {
        let quads = tokens.start + (tokens.len() - tokens.len() % 4);
        for tile in tiles(0..rows, BLOCK_TILE_ROWS) {
            // The tile's weights stay in cache while the chunk's tokens pass over them, four
            // tokens per pass.
            let w = &weights[tile.start * row_bytes..tile.end * row_bytes];
            for t in (tokens.start..quads).step_by(4) {
                let a = [t, t + 1, t + 2, t + 3].map(|t| acts.row(t));
                let at = (t - tokens.start) * rows + tile.start;
                block_rows::dot_rows_x4(ty, w, a, scale, &mut out[at..], rows);
            }
            for t in quads..tokens.end {
                let at = (t - tokens.start) * rows;
                block_rows::dot_rows(ty, w, acts.row(t), scale, &mut out[at + tile.start..at + tile.end]);
            }
        }
    });
}

/// One token through integer block kernels, rows split across the spin pool.
fn block_int8_one(lin: &Linear, weights: &[u8], a: ActBlocks, out: &mut [f32], pool: &SpinPool) {
    let (ty, row_bytes, scale) = (lin.ty, lin.row_bytes(), lin.out_scale);
    pool.for_each_chunk(out, DECODE_GRANULE, |start, chunk| {
        block_rows::dot_rows(ty, &weights[start * row_bytes..], a, scale, chunk);
    });
}

/// `range` cut into consecutive pieces of at most `size`.
fn tiles(range: Range<usize>, size: usize) -> impl Iterator<Item = Range<usize>> {
    range.clone().step_by(size).map(move |s| s..(s + size).min(range.end))
}

/// Splits a batch of `n` tokens into chunks run in parallel; `f(tokens, out)` fills the chunk's
/// output rows (`out[(t − tokens.start)·rows + r]`), a contiguous part of the token-major `out`.
/// Each chunk streams the whole weight matrix (from L3 after the first), so the results need no
/// gathering and no thread waits on a merge; two chunks per thread balance the load.
pub fn par_token_chunks(n: usize, rows: usize, out: &mut [f32], f: impl Fn(Range<usize>, &mut [f32]) + Sync) {
    let threads = rayon::current_num_threads().max(1);
    // Whole quads, so only the batch's last chunk has tokens left over from the 4-token kernels.
    let chunk = n.div_ceil(2 * threads).next_multiple_of(4);
    out[..n * rows].par_chunks_mut(chunk * rows).enumerate().for_each(|(c, out)| {
        let start = c * chunk;
        f(start..start + out.len() / rows, out)
    });
}
