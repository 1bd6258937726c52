//! Memory read bandwidth of this machine, measured in-process (for the roofline column of `bench`).

use std::time::Instant;

use rayon::prelude::*;

/// Bytes per second of a streaming read of a buffer much larger than the caches, split across
/// the current rayon pool's threads; the best of `reps` passes.
pub fn read_bandwidth(buffer_bytes: usize, reps: usize) -> f64 {
    let words = buffer_bytes / 8;
    let buf: Vec<u64> = (0..words as u64).collect();
    let threads = rayon::current_num_threads().max(1);
    let chunk = words.div_ceil(threads);
    let mut best = 0f64;
    for _ in 0..reps.max(1) {
        let start = Instant::now();
        // Several independent sums let the loads overlap; the result is kept so the reads happen.
        let sum: u64 = buf
            .par_chunks(chunk)
            .map(|part| {
                let mut acc = [0u64; 8];
                for block in part.chunks_exact(8) {
                    for (a, &v) in acc.iter_mut().zip(block) {
                        *a = a.wrapping_add(v);
                    }
                }
                acc.iter().fold(0u64, |s, &a| s.wrapping_add(a))
            })
            .reduce(|| 0, u64::wrapping_add);
        std::hint::black_box(sum);
        best = best.max((words * 8) as f64 / start.elapsed().as_secs_f64());
    }
    best
}
