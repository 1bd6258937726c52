//! `y = W·x` for a batch of activation rows, through the weight type's row of the type table
//! ([`traits`]): the input is quantized once to the row's activation format (per-row int8 for
//! I2_S, int8 blocks of 32 or 256 for the block and ternary types, f32 as it is for float types),
//! each form made once for the products that share an input, and the row's dot functions do the
//! rest. A batch is split into chunks of tokens, one thread each, which write their own rows of
//! the output; inside a chunk, tiles of weight rows stay in cache while the chunk's tokens pass
//! over them. A single token splits the output rows over the spin pool.

use std::ops::Range;

use rayon::prelude::*;

use crate::kernels::act_i8::{self, QuantRow};
use crate::kernels::act_q8::{BlockActs, BLOCK, QK_K};
use crate::kernels::pool::SpinPool;
use crate::kernels::types::{quad, token_groups, traits, ActFormat, Acts, TypeTraits};

use super::ops::PARALLEL_ROWS;
use super::weights::Linear;

/// Reused buffers for quantized activations.
#[derive(Debug, Default)]
pub struct ActScratch {
    /// [`ActFormat::RowInt8`] (also the int8 LM head's input).
    rows: Vec<QuantRow>,
    /// [`ActFormat::Blocks32`].
    blocks: BlockActs<BLOCK>,
    /// [`ActFormat::Blocks256`].
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
    /// Quantizes each `width`-long row of `x` to int8 (per-row absmax): one row on the calling
    /// thread, a few on the spin pool, many on rayon's.
    pub fn quantize(&mut self, x: &[f32], width: usize, pool: &SpinPool) {
        self.rows.resize_with(x.len() / width, QuantRow::default);
        if self.rows.len() == 1 {
            act_i8::quantize_row(&x[..width], &mut self.rows[0]);
        } else if self.rows.len() < PARALLEL_ROWS {
            pool.for_each_chunk(&mut self.rows, 1, |start, rows| {
                let x = &x[start * width..];
                rows.iter_mut().zip(x.chunks_exact(width)).for_each(|(row, xr)| act_i8::quantize_row(xr, row));
            });
        } else {
            self.rows.par_iter_mut().zip(x.par_chunks_exact(width)).for_each(|(row, xr)| act_i8::quantize_row(xr, row));
        }
    }

    /// Quantizes the input of a product in the form its type needs, unless the caller said the
    /// input is unchanged and that form is made; every product consumes the mark, so it never
    /// outlives the call it was meant for.
    fn prepare(&mut self, act: ActFormat, x: &[f32], cols: usize, pool: &SpinPool) {
        if !std::mem::take(&mut self.reuse) {
            self.rows_ready = false;
            self.blocks_ready = false;
            self.tq_blocks_ready = false;
        }
        match act {
            ActFormat::RowInt8 if !self.rows_ready => {
                self.quantize(x, cols, pool);
                self.rows_ready = true;
            }
            ActFormat::Blocks32 if !self.blocks_ready => {
                self.blocks.quantize(x, cols);
                self.blocks_ready = true;
            }
            ActFormat::Blocks256 if !self.tq_blocks_ready => {
                self.tq_blocks.quantize(x, cols);
                self.tq_blocks_ready = true;
            }
            _ => {}
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

/// Weight rows per tile, so that a tile stays in L2 while every group of four tokens passes over
/// it: 64 rows of 6912 I2_S codes are 110 KB; 64 rows of 1536 weights in Q8_0 are 104 KB, of
/// 2560 in Q6_K (a BitNet 2B LM head) 134 KB, of 6912 in TQ2_0 114 KB; 16 float rows of 1536 are
/// 98 KB at most in f32 for SmolLM2-sized models.
fn tile_rows(act: ActFormat) -> usize {
    match act {
        ActFormat::F32 => 16,
        ActFormat::RowInt8 | ActFormat::Blocks32 | ActFormat::Blocks256 => 64,
    }
}

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
    let traits = traits(lin.ty);
    scratch.prepare(traits.act, x, lin.cols, pool);
    let rows = lin.rows;
    let mut row_tiles = std::mem::take(&mut scratch.row_tiles);
    let acts =
        Acts { x, cols: lin.cols, rows: &scratch.rows, blocks32: &scratch.blocks, blocks256: &scratch.tq_blocks };
    let product =
        Product { traits, row_bytes: lin.row_bytes(), scale: lin.out_scale, weights: &file[lin.bytes.clone()], acts };
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
        let tile_rows = tile_rows(traits.act);
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

/// One matrix product's inputs: the weights, their type's row, and the input in every form.
#[derive(Clone, Copy)]
struct Product<'a> {
    traits: &'static TypeTraits,
    row_bytes: usize,
    scale: f32,
    weights: &'a [u8],
    acts: Acts<'a>,
}

impl Product<'_> {
    /// `out[(t − tokens.start)·stride + (r − rows.start)]` for the tokens and weight rows given;
    /// each group of tokens (`token_groups`) unpacks each weight block once for all of them.
    fn tile(&self, tokens: Range<usize>, rows: Range<usize>, out: &mut [f32], stride: usize) {
        let tr = self.traits;
        let w = &self.weights[rows.start * self.row_bytes..rows.end * self.row_bytes];
        for group in token_groups(tokens.clone()) {
            let (t, at) = (group.start, (group.start - tokens.start) * stride);
            if group.len() == 1 {
                (tr.dot_rows)(tr, w, self.acts, t, self.scale, &mut out[at..at + rows.len()]);
            } else {
                let (quad_tokens, quad_at) = quad(t, group.len(), stride);
                (tr.dot_rows_x4)(tr, w, self.acts, quad_tokens, self.scale, &mut out[at..], quad_at);
            }
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
