//! Per-kernel throughput at BitNet b1.58 2B4T shapes, on every kernel path this CPU has:
//! `cargo bench --bench kernels`.

use std::hint::black_box;

use bitnet_tui::gguf::TensorType;
use bitnet_tui::kernels::act_i8::{quantize_row, QuantRow};
use bitnet_tui::kernels::act_q8::{BlockActs, QK_K};
use bitnet_tui::kernels::dispatch::KernelPath;
use bitnet_tui::kernels::i2s_dot::{dot_codes_2xt_on, dot_codes_on};
use bitnet_tui::kernels::i8_rows::dot_i8_on;
use bitnet_tui::kernels::{block_rows, tq_dot};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{RngCore, SeedableRng};

/// Deterministic bytes.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    rand_chacha::ChaCha8Rng::seed_from_u64(seed).fill_bytes(&mut bytes);
    bytes
}

/// I2_S codes in {0,1,2} (never 3) for `rows × cols` weights.
fn i2s_matrix(rows: usize, cols: usize) -> Vec<u8> {
    noise(rows * cols / 4, 7)
        .into_iter()
        .map(|b| (0..4).fold(0u8, |acc, k| (acc << 2) | (((b >> (2 * k)) & 3) % 3)))
        .collect()
}

fn activations(cols: usize, seed: u64) -> Vec<i8> {
    noise(cols, seed).into_iter().map(|b| b as i8).collect()
}

/// One I2_S matrix-vector product (decode), all rows, one path.
fn i2s_gemv(c: &mut Criterion) {
    let mut group = c.benchmark_group("i2s_gemv");
    for (name, rows, cols) in [("q_2560x2560", 2560, 2560), ("down_2560x6912", 2560, 6912)] {
        let w = i2s_matrix(rows, cols);
        let q = activations(cols, 3);
        group.throughput(Throughput::Bytes(w.len() as u64));
        for path in KernelPath::available() {
            group.bench_with_input(BenchmarkId::new(name, path.name()), &path, |b, &path| {
                b.iter(|| {
                    let row_bytes = cols / 4;
                    let sum: i64 =
                        (0..rows).map(|r| dot_codes_on(path, &w[r * row_bytes..(r + 1) * row_bytes], &q) as i64).sum();
                    black_box(sum)
                })
            });
        }
    }
    group.finish();
}

/// Four tokens against each pair of rows (prefill, several sequences): each weight block unpacked
/// once for four tokens.
fn i2s_gemm4(c: &mut Criterion) {
    let mut group = c.benchmark_group("i2s_gemm_x4");
    // FFN down (long rows: four tokens' activations fill most of L1) and FFN gate/up.
    for (rows, cols) in [(2560, 6912), (6912, 2560)] {
        let w = i2s_matrix(rows, cols);
        let qs: Vec<Vec<i8>> = (0..4).map(|s| activations(cols, s)).collect();
        group.throughput(Throughput::Elements((rows * cols * 4) as u64));
        for path in KernelPath::available() {
            group.bench_with_input(BenchmarkId::new(format!("{rows}x{cols}"), path.name()), &path, |b, &path| {
                b.iter(|| {
                    let row_bytes = cols / 4;
                    let mut sum = 0i64;
                    for pair in w.chunks_exact(2 * row_bytes) {
                        let rows = [&pair[..row_bytes], &pair[row_bytes..]];
                        let acc = dot_codes_2xt_on(path, rows, [&qs[0][..], &qs[1], &qs[2], &qs[3]]);
                        sum += acc.iter().flatten().map(|&v| v as i64).sum::<i64>();
                    }
                    black_box(sum)
                })
            });
        }
    }
    group.finish();
}

/// TQ2_0 and TQ1_0 matrices of 2560×2560 against 256-block int8 activations: one token (decode)
/// and four (prefill).
fn tq_rows(c: &mut Criterion) {
    let mut group = c.benchmark_group("tq");
    let (rows, cols) = (2560, 2560);
    let x: Vec<f32> = noise(4 * cols, 13).into_iter().map(|b| b as i8 as f32 / 37.0).collect();
    let mut acts = BlockActs::<QK_K>::default();
    acts.quantize(&x, cols);
    for ty in [TensorType::TQ2_0, TensorType::TQ1_0] {
        let bytes = tq_dot::block_bytes(ty);
        let mut w = noise(rows * cols / QK_K * bytes, 17);
        for block in w.chunks_exact_mut(bytes) {
            block[bytes - 2..].copy_from_slice(&half::f16::ONE.to_le_bytes());
        }
        group.throughput(Throughput::Bytes(w.len() as u64));
        for path in KernelPath::available() {
            let mut out = vec![0f32; 4 * rows];
            group.bench_with_input(BenchmarkId::new(format!("{ty}_gemv"), path.name()), &path, |b, &path| {
                b.iter(|| block_rows::dot_rows_on(path, ty, &w, acts.row(0), 1.0, black_box(&mut out[..rows])))
            });
            let a = [0, 1, 2, 3].map(|t| acts.row(t));
            group.bench_with_input(BenchmarkId::new(format!("{ty}_gemm_x4"), path.name()), &path, |b, &path| {
                b.iter(|| block_rows::dot_rows_x4_on(path, ty, &w, a, 1.0, black_box(&mut out), [0, 4, 8, 12]))
            });
        }
    }
    group.finish();
}

/// The int8 LM head: 4096 of its 128256 rows of 2560.
fn i8_head_rows(c: &mut Criterion) {
    let mut group = c.benchmark_group("i8_head");
    let (rows, cols) = (4096, 2560);
    let w: Vec<i8> = noise(rows * cols, 5).into_iter().map(|b| (b as i8).max(-127)).collect();
    let q = activations(cols, 9);
    group.throughput(Throughput::Bytes(w.len() as u64));
    for path in KernelPath::available() {
        group.bench_with_input(BenchmarkId::new("4096x2560", path.name()), &path, |b, &path| {
            b.iter(|| {
                black_box((0..rows).map(|r| dot_i8_on(path, &w[r * cols..(r + 1) * cols], &q) as i64).sum::<i64>())
            })
        });
    }
    group.finish();
}

/// Per-token activation quantization of the FFN's input width.
fn quantize(c: &mut Criterion) {
    let x: Vec<f32> = noise(6912, 11).into_iter().map(|b| b as f32 / 37.0 - 3.0).collect();
    let mut row = QuantRow::default();
    c.bench_function("quantize_row_6912", |b| b.iter(|| quantize_row(black_box(&x), &mut row)));
}

criterion_group!(benches, i2s_gemv, i2s_gemm4, tq_rows, i8_head_rows, quantize);
criterion_main!(benches);
