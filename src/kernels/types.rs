//! The type table, after ggml's `type_traits`: one row per tensor type with its block (size and
//! bytes, tied by a test to its `#[repr(C)]` struct in [`block_layout`]), the activation format
//! its dot product takes, and its functions — dequantize a row, dot rows with 1 or 4 tokens —
//! chosen once for the active kernel path. Callers quantize the input to the row's format and
//! call the row's functions; nothing else matches on the type to multiply.
//!
//! [`block_layout`]: super::block_layout

use std::cell::RefCell;
use std::ops::Range;
use std::sync::OnceLock;

use crate::gguf::TensorType;

use super::act_i8::QuantRow;
use super::act_q8::{ActBlocks, BlockActs, BLOCK, QK_K};
use super::block_layout::*;
use super::block_rows::{self, each_row};
use super::dispatch::{active, KernelPath};
use super::dot::{dot_f32_f16_on, dot_f32_on, f16_slice};
use super::{float, i2_s, i2s_dot, q4, q5, q6_k, q8_0, tq1_0, tq2_0};

/// The form a type's dot product takes its input in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActFormat {
    /// Int8 with one absmax scale per row (I2_S, as bitnet.cpp).
    RowInt8,
    /// Int8 in blocks of 32 (Q4_0 … Q8_0, Q6_K).
    Blocks32,
    /// Int8 in blocks of 256 (TQ1_0, TQ2_0).
    Blocks256,
    /// The f32 input itself (F32, F16, BF16).
    F32,
}

/// A batch's input in every format a product may take; a row's functions read the one its
/// [`ActFormat`] names (the caller has made it).
#[derive(Clone, Copy)]
pub struct Acts<'a> {
    /// The f32 rows, `cols` wide.
    pub x: &'a [f32],
    pub cols: usize,
    pub rows: &'a [QuantRow],
    pub blocks32: &'a BlockActs<BLOCK>,
    pub blocks256: &'a BlockActs<QK_K>,
}

impl Acts<'_> {
    fn x(&self, t: usize) -> &[f32] {
        &self.x[t * self.cols..(t + 1) * self.cols]
    }

    fn blocks(&self, format: ActFormat, t: usize) -> ActBlocks<'_> {
        match format {
            ActFormat::Blocks256 => self.blocks256.row(t),
            _ => self.blocks32.row(t),
        }
    }
}

/// Dequantizes one row's bytes into `out`; `tensor_scale` is the per-tensor scale of a type that
/// keeps one (I2_S), ignored by the others.
pub type DequantizeRow = fn(bytes: &[u8], tensor_scale: f32, out: &mut [f32]);

/// `out[i] = scale · Σ w_i·x_token` for every whole row `w_i` of `w`, equal to the type's scalar
/// reference bit for bit on every path.
pub type DotRows = fn(&TypeTraits, w: &[u8], acts: Acts<'_>, token: usize, scale: f32, out: &mut [f32]);

/// [`DotRows`] for four tokens at once, each weight block unpacked once for the four:
/// `out[at[k] + i] = scale · Σ w_i·x_{tokens[k]}`. Tokens may repeat (with the same `at`, the
/// copies write the same value to the same place): so two or three tokens share one pass over
/// the weights too, for about the arithmetic of four.
pub type DotRowsX4 =
    fn(&TypeTraits, w: &[u8], acts: Acts<'_>, tokens: [usize; 4], scale: f32, out: &mut [f32], at: [usize; 4]);

/// One tensor type's row of the table.
#[derive(Debug)]
pub struct TypeTraits {
    pub ty: TensorType,
    /// Weights per block.
    pub block_weights: usize,
    /// Bytes per block: the `size_of` of its block struct.
    pub block_bytes: usize,
    pub act: ActFormat,
    /// The kernel path the functions run on.
    pub path: KernelPath,
    pub dequantize_row: DequantizeRow,
    pub dot_rows: DotRows,
    pub dot_rows_x4: DotRowsX4,
}

/// `tokens` in the groups the kernels take: four at a time, a remainder of two or three as one
/// group for [`DotRowsX4`] (padded by [`quad`]; the single-token kernel costs about twice a quad's
/// arithmetic per token), and a lone last token for [`DotRows`].
pub fn token_groups(tokens: Range<usize>) -> impl Iterator<Item = Range<usize>> {
    let mut next = tokens.start;
    std::iter::from_fn(move || {
        let left = tokens.end - next;
        let n = if left >= 2 { left.min(4) } else { left };
        (n > 0).then(|| {
            next += n;
            next - n..next
        })
    })
}

/// [`DotRowsX4`]'s arguments for the `n` (1 to 4) tokens from `first`, whose outputs lie `stride`
/// apart: the last token repeats to make four.
pub fn quad(first: usize, n: usize, stride: usize) -> ([usize; 4], [usize; 4]) {
    debug_assert!((1..=4).contains(&n));
    let k: [usize; 4] = std::array::from_fn(|k| k.min(n - 1));
    (k.map(|k| first + k), k.map(|k| k * stride))
}

/// The row of `ty` on the active kernel path (the table is built on first use).
pub fn traits(ty: TensorType) -> &'static TypeTraits {
    static TABLE: OnceLock<Vec<TypeTraits>> = OnceLock::new();
    let table = TABLE.get_or_init(|| TensorType::ALL.into_iter().map(|ty| TypeTraits::on(active(), ty)).collect());
    &table[ty as usize]
}

impl TypeTraits {
    /// The row of `ty` on `path` (tests and benchmarks build one per path).
    pub fn on(path: KernelPath, ty: TensorType) -> Self {
        use TensorType::*;
        let (block_weights, block_bytes, act, dequantize_row): (usize, usize, ActFormat, DequantizeRow) = match ty {
            F32 => (1, size_of::<BlockF32>(), ActFormat::F32, |b, _, out| float::dequantize_row_f32(b, out)),
            F16 => (1, size_of::<BlockF16>(), ActFormat::F32, |b, _, out| float::dequantize_row_f16(b, out)),
            BF16 => (1, size_of::<BlockBF16>(), ActFormat::F32, |b, _, out| float::dequantize_row_bf16(b, out)),
            Q4_0 => (BLOCK, size_of::<BlockQ4_0>(), ActFormat::Blocks32, |b, _, out| q4::dequantize_row_q4_0(b, out)),
            Q4_1 => (BLOCK, size_of::<BlockQ4_1>(), ActFormat::Blocks32, |b, _, out| q4::dequantize_row_q4_1(b, out)),
            Q5_0 => (BLOCK, size_of::<BlockQ5_0>(), ActFormat::Blocks32, |b, _, out| q5::dequantize_row_q5_0(b, out)),
            Q5_1 => (BLOCK, size_of::<BlockQ5_1>(), ActFormat::Blocks32, |b, _, out| q5::dequantize_row_q5_1(b, out)),
            Q8_0 => (BLOCK, size_of::<BlockQ8_0>(), ActFormat::Blocks32, |b, _, out| q8_0::dequantize_row_q8_0(b, out)),
            Q6K => (QK_K, size_of::<BlockQ6K>(), ActFormat::Blocks32, |b, _, out| q6_k::dequantize_row_q6_k(b, out)),
            TQ1_0 => (QK_K, size_of::<BlockTQ1_0>(), ActFormat::Blocks256, |b, _, out| tq1_0::dequantize_row(b, out)),
            TQ2_0 => (QK_K, size_of::<BlockTQ2_0>(), ActFormat::Blocks256, |b, _, out| tq2_0::dequantize_row(b, out)),
            I2S => (i2_s::BLOCK_ELEMS, size_of::<BlockI2S>(), ActFormat::RowInt8, i2_s::dequantize_row),
        };
        let (dot_rows, dot_rows_x4): (DotRows, DotRowsX4) = match (act, ty) {
            (ActFormat::RowInt8, _) => (i2s_rows, i2s_rows_x4),
            (ActFormat::Blocks32 | ActFormat::Blocks256, _) => (block_rows_1, block_rows_x4),
            (ActFormat::F32, F16) => {
                (|tr, w, a, t, s, out| float_rows::<1, true>(tr, w, a, [t], s, out, [0]), float_rows::<4, true>)
            }
            (ActFormat::F32, _) => {
                (|tr, w, a, t, s, out| float_rows::<1, false>(tr, w, a, [t], s, out, [0]), float_rows::<4, false>)
            }
        };
        Self { ty, block_weights, block_bytes, act, path, dequantize_row, dot_rows, dot_rows_x4 }
    }

    /// Bytes of a row of `cols` weights (whole blocks; I2_S's tensor trailer is not in a row).
    pub fn row_bytes(&self, cols: usize) -> usize {
        cols / self.block_weights * self.block_bytes
    }
}

fn i2s_rows(tr: &TypeTraits, w: &[u8], acts: Acts, t: usize, scale: f32, out: &mut [f32]) {
    i2s_dot::dot_rows_on(tr.path, w, tr.row_bytes(acts.cols), &acts.rows[t], scale, out)
}

fn i2s_rows_x4(tr: &TypeTraits, w: &[u8], acts: Acts, t: [usize; 4], scale: f32, out: &mut [f32], at: [usize; 4]) {
    let a = t.map(|t| &acts.rows[t]);
    i2s_dot::dot_rows_x4_on(tr.path, w, tr.row_bytes(acts.cols), a, scale, out, at)
}

fn block_rows_1(tr: &TypeTraits, w: &[u8], acts: Acts, t: usize, scale: f32, out: &mut [f32]) {
    let rows = w.len() / tr.row_bytes(acts.cols);
    block_rows::dot_rows_on(tr.path, tr.ty, w, acts.blocks(tr.act, t), scale, &mut out[..rows])
}

fn block_rows_x4(tr: &TypeTraits, w: &[u8], acts: Acts, t: [usize; 4], scale: f32, out: &mut [f32], at: [usize; 4]) {
    let a = t.map(|t| acts.blocks(tr.act, t));
    block_rows::dot_rows_x4_on(tr.path, tr.ty, w, a, scale, out, at)
}

thread_local! {
    /// A dequantized weight row, kept between calls so the forward pass allocates nothing per token.
    static ROW: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Float rows dotted in f32: F16 rows straight from the mmap (`F16_IN_PLACE`), F32 and BF16 rows
/// dequantized one at a time.
fn float_rows<const T: usize, const F16_IN_PLACE: bool>(
    tr: &TypeTraits,
    w: &[u8],
    acts: Acts,
    t: [usize; T],
    scale: f32,
    out: &mut [f32],
    at: [usize; T],
) {
    let x: [&[f32]; T] = t.map(|t| acts.x(t));
    let row_bytes = tr.row_bytes(acts.cols);
    ROW.with_borrow_mut(|wr| {
        wr.resize(acts.cols, 0.0);
        each_row(w, row_bytes, w.len() / row_bytes, out, at, |row| {
            if F16_IN_PLACE {
                let row = f16_slice(row);
                x.map(|x| dot_f32_f16_on(tr.path, x, row) * scale)
            } else {
                (tr.dequantize_row)(row, 1.0, wr);
                x.map(|x| dot_f32_on(tr.path, x, wr) * scale)
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::act_i8;
    use rand::{Rng, RngCore, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::mem::offset_of;

    #[test]
    fn every_row_has_its_block_structs_size_and_the_readers() {
        for path in KernelPath::available() {
            for ty in TensorType::ALL {
                let row = TypeTraits::on(path, ty);
                let block_struct = match ty {
                    TensorType::F32 => size_of::<BlockF32>(),
                    TensorType::F16 => size_of::<BlockF16>(),
                    TensorType::BF16 => size_of::<BlockBF16>(),
                    TensorType::Q4_0 => size_of::<BlockQ4_0>(),
                    TensorType::Q4_1 => size_of::<BlockQ4_1>(),
                    TensorType::Q5_0 => size_of::<BlockQ5_0>(),
                    TensorType::Q5_1 => size_of::<BlockQ5_1>(),
                    TensorType::Q8_0 => size_of::<BlockQ8_0>(),
                    TensorType::Q6K => size_of::<BlockQ6K>(),
                    TensorType::TQ1_0 => size_of::<BlockTQ1_0>(),
                    TensorType::TQ2_0 => size_of::<BlockTQ2_0>(),
                    TensorType::I2S => size_of::<BlockI2S>(),
                };
                assert_eq!((row.ty, row.block_bytes), (ty, block_struct), "{ty}");
                // The GGUF reader's sizes (it validates tensor byte ranges with them) agree.
                assert_eq!((row.block_weights, row.block_bytes), (ty.block_elems(), ty.block_bytes()), "{ty}");
                assert_eq!(traits(ty).ty, ty);
            }
        }
        // Ggml's sizes, independently of both.
        assert_eq!(TensorType::ALL.map(|ty| traits(ty).block_bytes), [4, 2, 18, 20, 22, 24, 34, 210, 2, 54, 66, 32]);
    }

    /// A row of `cols` weights of `ty`: random codes, with every scale a small finite f16 (and
    /// I2_S codes in 0..=2, as files hold), so every path sees the same finite products.
    fn weights(ty: TensorType, rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Vec<u8> {
        let f16_bytes = |v: f32| half::f16::from_f32(v).to_le_bytes();
        let tr = traits(ty);
        let mut w = vec![0u8; rows * tr.row_bytes(cols)];
        rng.fill_bytes(&mut w);
        let scales: &[usize] = match ty {
            TensorType::Q4_0 | TensorType::Q5_0 | TensorType::Q8_0 => &[offset_of!(BlockQ4_0, d)],
            TensorType::Q4_1 | TensorType::Q5_1 => &[offset_of!(BlockQ4_1, d), offset_of!(BlockQ4_1, m)],
            TensorType::Q6K => &[offset_of!(BlockQ6K, d)],
            TensorType::TQ1_0 => &[offset_of!(BlockTQ1_0, d)],
            TensorType::TQ2_0 => &[offset_of!(BlockTQ2_0, d)],
            _ => &[],
        };
        for (i, block) in w.chunks_exact_mut(tr.block_bytes).enumerate() {
            let v = ((i as f32) * 0.37).sin();
            match ty {
                TensorType::F32 => block.copy_from_slice(&v.to_le_bytes()),
                TensorType::F16 => block.copy_from_slice(&f16_bytes(v)),
                TensorType::BF16 => block.copy_from_slice(&half::bf16::from_f32(v).to_le_bytes()),
                TensorType::I2S => block.iter_mut().for_each(|b| *b = [0x00, 0x55, 0xaa, 0x19, 0x86][*b as usize % 5]),
                _ => scales.iter().for_each(|&at| block[at..at + 2].copy_from_slice(&f16_bytes(v * 0.05))),
            }
        }
        w
    }

    #[test]
    fn every_rows_dots_equal_the_scalar_rows_on_every_path() {
        // Five tokens: one group of four and one alone; three weight rows.
        let (cols, rows, tokens) = (512, 3, 5);
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let x: Vec<f32> = (0..tokens * cols).map(|_| rng.random_range(-2.0f32..2.0)).collect();
        let mut quant_rows = vec![QuantRow::default(); tokens];
        for (row, xr) in quant_rows.iter_mut().zip(x.chunks_exact(cols)) {
            act_i8::quantize_row(xr, row);
        }
        let (mut blocks32, mut blocks256) = (BlockActs::default(), BlockActs::default());
        blocks32.quantize(&x, cols);
        blocks256.quantize(&x, cols);
        let acts = Acts { x: &x, cols, rows: &quant_rows, blocks32: &blocks32, blocks256: &blocks256 };
        for ty in TensorType::ALL {
            let w = weights(ty, rows, cols, &mut rng);
            let scalar = TypeTraits::on(KernelPath::Scalar, ty);
            let want: Vec<u32> = (0..tokens)
                .flat_map(|t| {
                    let mut out = vec![0f32; rows];
                    (scalar.dot_rows)(&scalar, &w, acts, t, 0.5, &mut out);
                    out.into_iter().map(f32::to_bits)
                })
                .collect();
            for path in KernelPath::available() {
                let tr = TypeTraits::on(path, ty);
                let mut got = vec![0f32; tokens * rows];
                (tr.dot_rows_x4)(&tr, &w, acts, [0, 1, 2, 3], 0.5, &mut got, [0, rows, 2 * rows, 3 * rows]);
                (tr.dot_rows)(&tr, &w, acts, 4, 0.5, &mut got[4 * rows..]);
                assert_eq!(got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), want, "{ty} on {path:?}");
                // Two and three tokens through the four-token form, the last one repeated.
                for n in [2, 3] {
                    let (tokens, at) = quad(2, n, rows);
                    let mut few = vec![0f32; n * rows];
                    (tr.dot_rows_x4)(&tr, &w, acts, tokens, 0.5, &mut few, at);
                    let want = &want[2 * rows..(2 + n) * rows];
                    assert_eq!(
                        few.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                        want,
                        "{ty} on {path:?}, {n} tokens"
                    );
                }
            }
        }
    }

    #[test]
    fn token_groups_are_fours_then_a_pair_or_triple_then_a_lone_token() {
        let groups = |r: Range<usize>| token_groups(r).map(|g| (g.start, g.len())).collect::<Vec<_>>();
        assert_eq!(groups(0..1), [(0, 1)]);
        assert_eq!(groups(0..2), [(0, 2)]);
        assert_eq!(groups(3..6), [(3, 3)]);
        assert_eq!(groups(0..5), [(0, 4), (4, 1)]);
        assert_eq!(groups(0..7), [(0, 4), (4, 3)]);
        assert_eq!(groups(2..12), [(2, 4), (6, 4), (10, 2)]);
        assert!(groups(4..4).is_empty());
    }

    #[test]
    fn offset_types_keep_m_at_one_place() {
        // The AVX2 kernel reads Q4_1's and Q5_1's `m` at one offset.
        assert_eq!(offset_of!(BlockQ4_1, m), offset_of!(BlockQ5_1, m));
    }
}
