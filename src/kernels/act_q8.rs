//! Activations quantized in blocks of `N` elements for the block-int8 dot products: per block
//! d = max|x|/127, q = round_half_even(x/d), and Σq (also times d, which the Q4_1 and Q5_1 offset
//! terms need).
//!
//! Blocks of 32 serve Q4_0 … Q8_0 and Q6_K (ggml's Q8_1, with an f32 scale). Blocks of 256 serve
//! TQ1_0 and TQ2_0 where ggml uses Q8_K; unlike Q8_K (signed max, iscale = −127/max, Σq per 16)
//! the scale here is the same symmetric absmax/127 as for 32, and Σq is per block, which is all
//! the ternary dots need. The products therefore differ from ggml's in the last bits, not in kind.

use super::act_i8::round_half_even;

/// Elements per block of the 32-weight formats (Q4_0 … Q8_0).
pub const BLOCK: usize = 32;
/// Elements per block of the 256-weight formats (TQ1_0, TQ2_0): ggml's `QK_K`.
pub const QK_K: usize = 256;

/// Rows of activations quantized in blocks of `N` (buffers reused between calls).
#[derive(Debug, Default)]
pub struct BlockActs<const N: usize> {
    cols: usize,
    q: Vec<i8>,
    d: Vec<f32>,
    sum: Vec<i32>,
    sum_d: Vec<f32>,
}

/// One quantized row: `q` has `N` values per block, the others one value per block.
#[derive(Debug, Clone, Copy)]
pub struct ActBlocks<'a> {
    pub q: &'a [i8],
    pub d: &'a [f32],
    pub sum: &'a [i32],
    /// d·Σq per block.
    pub sum_d: &'a [f32],
}

impl<const N: usize> BlockActs<N> {
    /// Quantizes each `cols`-long row of `x` (`cols` a multiple of `N`).
    pub fn quantize(&mut self, x: &[f32], cols: usize) {
        debug_assert_eq!(cols % N, 0);
        let blocks = x.len() / N;
        self.cols = cols;
        self.q.resize(x.len(), 0);
        self.d.resize(blocks, 0.0);
        self.sum.resize(blocks, 0);
        self.sum_d.resize(blocks, 0.0);
        for (b, (xb, qb)) in x.chunks_exact(N).zip(self.q.chunks_exact_mut(N)).enumerate() {
            let max = xb.iter().fold(0f32, |m, &v| m.max(v.abs()));
            let d = max / 127.0;
            let inv = if d > 0.0 { 1.0 / d } else { 0.0 };
            let mut sum = 0;
            for (q, &v) in qb.iter_mut().zip(xb) {
                *q = round_half_even(v * inv).clamp(-127.0, 127.0) as i8;
                sum += *q as i32;
            }
            self.d[b] = d;
            self.sum[b] = sum;
            self.sum_d[b] = d * sum as f32;
        }
    }

    /// Row `t` of the last quantized batch.
    pub fn row(&self, t: usize) -> ActBlocks<'_> {
        let blocks = self.cols / N;
        let at = t * blocks..(t + 1) * blocks;
        ActBlocks {
            q: &self.q[t * self.cols..(t + 1) * self.cols],
            d: &self.d[at.clone()],
            sum: &self.sum[at.clone()],
            sum_d: &self.sum_d[at],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_scale_by_their_own_max() {
        let mut x = vec![0f32; 64];
        x[0] = 2.0;
        x[1] = -1.0;
        x[32] = -0.5;
        x[33] = 0.25;
        let mut acts = BlockActs::<BLOCK>::default();
        acts.quantize(&x, 64);
        let row = acts.row(0);
        assert_eq!((row.q[0], row.q[1]), (127, -64)); // −63.5 rounds to the even −64
        assert_eq!((row.q[32], row.q[33]), (-127, 64));
        assert_eq!(row.d, &[2.0 / 127.0, 0.5 / 127.0]);
        assert_eq!(row.sum, &[63, -63]);
        assert_eq!(row.sum_d[0], 2.0 / 127.0 * 63.0);
    }

    #[test]
    fn zero_block_and_rows() {
        let mut acts = BlockActs::<BLOCK>::default();
        let x: Vec<f32> = (0..96).map(|i| if i < 32 { 0.0 } else { i as f32 }).collect();
        acts.quantize(&x, 32);
        assert_eq!(acts.row(0).q, &[0; 32]);
        assert_eq!(acts.row(0).d, &[0.0]);
        assert_eq!(acts.row(2).q[31], 127);
        assert_eq!(acts.row(1).sum.len(), 1);
    }

    #[test]
    fn blocks_of_256() {
        let mut x: Vec<f32> = (0..512).map(|i| if i < 256 { 0.5 } else { 1.0 }).collect();
        x[255] = -4.0;
        x[256] = 2.0;
        let mut acts = BlockActs::<QK_K>::default();
        acts.quantize(&x, 512);
        let row = acts.row(0);
        assert_eq!(row.d, &[4.0 / 127.0, 2.0 / 127.0]);
        assert_eq!((row.q[0], row.q[255], row.q[256], row.q[257]), (16, -127, 127, 64)); // 15.875 → 16, 63.5 → 64
        assert_eq!(row.sum, &[255 * 16 - 127, 127 + 255 * 64]);
    }
}
