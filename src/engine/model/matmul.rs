//! `y = W·x` for a batch of activation rows, dispatched on the weight type:
//! I2_S takes per-token int8 activations and an exact integer dot (spec D); Q4_0, Q4_1, Q5_0,
//! Q5_1, Q8_0 and Q6_K take int8 activations in blocks of 32, TQ1_0 and TQ2_0 in blocks of 256,
//! and integer block dots (as ggml does; [`block_rows`]), each quantized form made once for the
//! products that share an input; every other type is dequantized a tile of rows at a time and
//! multiplied in f32 (F16 rows of a single token are dotted straight from the mmap). A batch is
//! split into chunks of tokens, one thread each, which write their own rows of the output; inside
//! a chunk, tiles of weight rows stay in cache while the chunk's tokens pass over them. A single
//! token splits the output rows over the spin pool.

use std::cell::RefCell;
use std::ops::Range;

use rayon::prelude::*;

use crate::gguf::TensorType;
use crate::kernels::act_i8::{self, QuantRow, Rescale4};
use crate::kernels::act_q8::{BlockActs, BLOCK, QK_K};
use crate::kernels::block_dot;
use crate::kernels::block_rows;
use crate::kernels::dot::{dot_f32, dot_f32_f16, f16_slice};
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
    /// Per-granule output tiles of a batch whose weight rows are split over the threads.
    row_tiles: Vec<f32>,
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

thread_local! {
    /// Dequantized weight rows of a float product on this thread, kept between calls so the
    /// forward pass allocates nothing per token.
    static DEQUANT: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's dequantization buffer sized to `len`.
fn with_dequant_buffer<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    DEQUANT.with_borrow_mut(|w| {
        w.resize(len, 0.0);
        f(&mut w[..len])
    })
}

/// I2_S rows per tile: 64 rows of 6912 codes are 110 KB, which stays in L2 while every group of
/// four tokens passes over it.
const I2S_TILE_ROWS: usize = 64;
/// Block-int8 rows per tile: 64 rows of 1536 weights in Q8_0 are 104 KB, of 2560 in Q6_K (a
/// BitNet 2B LM head) 134 KB, of 6912 in TQ2_0 114 KB, within L2.
const BLOCK_TILE_ROWS: usize = 64;
/// Dequantized f32 rows per tile (16 × 1536 × 4 B = 98 KB at most for SmolLM2-sized models).
const F32_TILE_ROWS: usize = 16;

/// Batches below this many tokens split the weight rows over the threads, so the weights are
/// read from memory once (decode steps of several sequences are memory-bound); larger batches
/// split the tokens, each thread streaming the weights through its cache (prefill is
/// compute-bound).
const ROW_SPLIT_TOKENS: usize = 16;

/// Output rows per claimable chunk when rows are split: small enough to balance two threads,
/// large enough that each chunk streams several KB of weights.
const ROW_GRANULE: usize = 16;

/// `out[t·rows + r] = Σ_c W[r][c]·x[t·cols + c]` for the `n` rows of `x`. Every output is the
/// same computation whatever `n` is and however the work is split, so a token's result does not
/// depend on the batch it is in.
pub fn linear(lin: &Linear, file: &[u8], x: &[f32], out: &mut [f32], scratch: &mut ActScratch, pool: &SpinPool) {
    let n = x.len() / lin.cols;
    debug_assert_eq!(out.len(), n * lin.rows);
    scratch.prepare(lin, x);
    let rows = lin.rows;
    let mut row_tiles = std::mem::take(&mut scratch.row_tiles);
    let product = Product { lin, weights: &file[lin.bytes.clone()], file, x, acts: scratch };
    if n == 1 {
        pool.for_each_chunk(out, ROW_GRANULE, |start, chunk| product.tile(0..1, start..start + chunk.len(), chunk, 0));
    } else if n < ROW_SPLIT_TOKENS {
        // Each granule of rows computes all tokens into its own [token][row] tile, then the
        // tiles are laid out token-major.
        row_tiles.resize(n * rows, 0.0);
        pool.for_each_chunk(&mut row_tiles, ROW_GRANULE * n, |start, chunk| {
            for (g, tile) in chunk.chunks_mut(ROW_GRANULE * n).enumerate() {
                let first = start / n + g * ROW_GRANULE;
                let width = tile.len() / n;
                product.tile(0..n, first..first + width, tile, width);
            }
        });
        for (g, tile) in row_tiles.chunks(ROW_GRANULE * n).enumerate() {
            let width = tile.len() / n;
            for (t, part) in tile.chunks_exact(width).enumerate() {
                let at = t * rows + g * ROW_GRANULE;
                out[at..at + width].copy_from_slice(part);
            }
        }
    } else {
        let tile_rows = match lin.ty {
            TensorType::I2S => I2S_TILE_ROWS,
            ty if block_dot::supports(ty) || tq_dot::supports(ty) => BLOCK_TILE_ROWS,
            _ => F32_TILE_ROWS,
        };
        par_token_chunks(n, rows, out, |tokens, out| {
            // The tile's weights stay in cache while the chunk's tokens pass over them.
            for tile in tiles(0..rows, tile_rows) {
                let at = tile.start;
                product.tile(tokens.clone(), tile, &mut out[at..], rows);
            }
        });
    }
    scratch.row_tiles = row_tiles;
}

/// One matrix product's inputs: the weights, and the input in the form their type takes.
#[derive(Clone, Copy)]
struct Product<'a> {
    lin: &'a Linear,
    weights: &'a [u8],
    file: &'a [u8],
    x: &'a [f32],
    acts: &'a ActScratch,
}

impl Product<'_> {
    /// `out[(t − tokens.start)·stride + (r − rows.start)]` for the tokens and weight rows given;
    /// groups of four tokens unpack each weight block once for all four.
    fn tile(&self, tokens: Range<usize>, rows: Range<usize>, out: &mut [f32], stride: usize) {
        let (lin, k, scale, row_bytes) = (self.lin, self.lin.cols, self.lin.out_scale, self.lin.row_bytes());
        let row = |r: usize| &self.weights[r * row_bytes..(r + 1) * row_bytes];
        let quads = tokens.start + (tokens.len() - tokens.len() % 4);
        let at = |t: usize| (t - tokens.start) * stride;
        match lin.ty {
            TensorType::I2S => {
                let acts = &self.acts.rows;
                for t in (tokens.start..quads).step_by(4) {
                    let a = &acts[t..t + 4];
                    let rescale = Rescale4::new([&a[0], &a[1], &a[2], &a[3]]);
                    for r in rows.clone() {
                        let y = rescale.apply(dot_codes_x4(row(r), [&a[0].q, &a[1].q, &a[2].q, &a[3].q]), scale);
                        for (i, y) in y.into_iter().enumerate() {
                            out[at(t + i) + r - rows.start] = y;
                        }
                    }
                }
                for t in quads..tokens.end {
                    let a = &acts[t];
                    for r in rows.clone() {
                        out[at(t) + r - rows.start] = act_i8::rescale(dot_codes(row(r), &a.q), a, scale);
                    }
                }
            }
            ty if block_dot::supports(ty) => self.block_tile(&self.acts.blocks, tokens, rows, out, stride),
            ty if tq_dot::supports(ty) => self.block_tile(&self.acts.tq_blocks, tokens, rows, out, stride),
            // F16 rows are dotted straight from the mmap.
            TensorType::F16 => {
                for t in tokens.clone() {
                    let x = &self.x[t * k..(t + 1) * k];
                    for r in rows.clone() {
                        out[at(t) + r - rows.start] = dot_f32_f16(x, f16_slice(row(r))) * scale;
                    }
                }
            }
            _ => with_dequant_buffer(rows.len() * k, |w| {
                for (r, wr) in rows.clone().zip(w.chunks_exact_mut(k)) {
                    lin.dequantize_row(self.file, r, wr);
                }
                for t in tokens.clone() {
                    let x = &self.x[t * k..(t + 1) * k];
                    for (r, wr) in rows.clone().zip(w.chunks_exact(k)) {
                        out[at(t) + r - rows.start] = dot_f32(x, wr) * scale;
                    }
                }
            }),
        }
    }

    /// [`Product::tile`] through the integer block kernels, with `acts` holding the batch's
    /// quantized rows.
    fn block_tile<const N: usize>(
        &self,
        acts: &BlockActs<N>,
        tokens: Range<usize>,
        rows: Range<usize>,
        out: &mut [f32],
        stride: usize,
    ) {
        let (ty, row_bytes, scale) = (self.lin.ty, self.lin.row_bytes(), self.lin.out_scale);
        let w = &self.weights[rows.start * row_bytes..rows.end * row_bytes];
        let quads = tokens.start + (tokens.len() - tokens.len() % 4);
        for t in (tokens.start..quads).step_by(4) {
            let a = [t, t + 1, t + 2, t + 3].map(|t| acts.row(t));
            block_rows::dot_rows_x4(ty, w, a, scale, &mut out[(t - tokens.start) * stride..], stride);
        }
        for t in quads..tokens.end {
            let at = (t - tokens.start) * stride;
            block_rows::dot_rows(ty, w, acts.row(t), scale, &mut out[at..at + rows.len()]);
        }
    }
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
