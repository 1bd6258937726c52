//! `y = W·x` for a batch of activation rows, dispatched on the weight type:
//! I2_S takes per-token int8 activations and an exact integer dot (spec D); F16 dots the mmap's
//! halves directly; every other type is dequantized a row at a time and dotted in f32.
//! Output rows are split across the rayon pool; each weight row is read once per batch.

use half::f16;
use rayon::prelude::*;

use crate::gguf::TensorType;
use crate::kernels::act_i8::{self, QuantRow};
use crate::kernels::dot::{dot_f32, dot_f32_f16, f16_slice};
use crate::kernels::i2s_dot::{dot_codes, dot_codes_x4};

use super::weights::Linear;

/// Reused buffers for quantized activations.
#[derive(Debug, Default)]
pub struct ActScratch {
    rows: Vec<QuantRow>,
}

/// `out[t·rows + r] = Σ_c W[r][c]·x[t·cols + c]` for the `n` rows of `x`.
pub fn linear(lin: &Linear, file: &[u8], x: &[f32], out: &mut [f32], scratch: &mut ActScratch) {
    let n = x.len() / lin.cols;
    debug_assert_eq!(out.len(), n * lin.rows);
    let weights = &file[lin.bytes.clone()];
    let row_bytes = lin.row_bytes();
    let scale = lin.out_scale;
    match lin.ty {
        TensorType::I2S => {
            scratch.rows.resize_with(n, QuantRow::default);
            for (row, xr) in scratch.rows.iter_mut().zip(x.chunks_exact(lin.cols)) {
                act_i8::quantize_row(xr, row);
            }
            let acts = &scratch.rows;
            par_rows(lin.rows, n, out, |r, vals| {
                let codes = &weights[r * row_bytes..(r + 1) * row_bytes];
                // Four tokens per pass unpack each weight block once for all four.
                let mut quads = vals.chunks_exact_mut(4).zip(acts.chunks_exact(4));
                for (v, a) in &mut quads {
                    let acc = dot_codes_x4(codes, [&a[0].q, &a[1].q, &a[2].q, &a[3].q]);
                    for i in 0..4 {
                        v[i] = act_i8::rescale(acc[i], &a[i], scale);
                    }
                }
                let done = n - n % 4;
                for (v, a) in vals[done..].iter_mut().zip(&acts[done..]) {
                    *v = act_i8::rescale(dot_codes(codes, &a.q), a, scale);
                }
            });
        }
        TensorType::F16 => par_rows(lin.rows, n, out, |r, vals| {
            let w: &[f16] = f16_slice(&weights[r * row_bytes..(r + 1) * row_bytes]);
            for (v, xr) in vals.iter_mut().zip(x.chunks_exact(lin.cols)) {
                *v = dot_f32_f16(xr, w) * scale;
            }
        }),
        _ => par_rows(lin.rows, n, out, |r, vals| {
            let mut w = vec![0f32; lin.cols];
            lin.dequantize_row(file, r, &mut w);
            for (v, xr) in vals.iter_mut().zip(x.chunks_exact(lin.cols)) {
                *v = dot_f32(xr, &w) * scale;
            }
        }),
    }
}

/// Runs `row(r, vals)` for every output row in parallel chunks; `vals[t]` is token t's output of
/// row r. Results are written to `out` laid out token-major (`out[t·rows + r]`).
pub fn par_rows(rows: usize, n: usize, out: &mut [f32], row: impl Fn(usize, &mut [f32]) + Sync) {
    let threads = rayon::current_num_threads().max(1);
    // Large contiguous chunks keep each thread's weight stream sequential; 4 per thread balance load.
    let chunk = rows.div_ceil(threads * 4).max(16);
    let results: Vec<(usize, Vec<f32>)> = (0..rows.div_ceil(chunk))
        .into_par_iter()
        .map(|c| {
            let (start, end) = (c * chunk, ((c + 1) * chunk).min(rows));
            let mut local = vec![0f32; (end - start) * n];
            for (r, vals) in (start..end).zip(local.chunks_exact_mut(n)) {
                row(r, vals);
            }
            (start, local)
        })
        .collect();
    for (start, local) in results {
        for (i, vals) in local.chunks_exact(n).enumerate() {
            for (t, &v) in vals.iter().enumerate() {
                out[t * rows + start + i] = v;
            }
        }
    }
}
