//! Exactness against bitnet.cpp on the fixture model: prompt logits and 32 greedy steps.

mod common;

use bitnet_tui::engine::model::{LogitsWanted, Model, RunState};

fn read_f32(path: std::path::PathBuf) -> Vec<f32> {
    let bytes = std::fs::read(&path).unwrap();
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

fn argmax(x: &[f32]) -> u32 {
    x.iter().enumerate().fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| if v > bv { (i, v) } else { (bi, bv) }).0
        as u32
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

const PROMPT: [u32; 6] = [128000, 791, 6864, 315, 9822, 374];
const GREEDY: [u32; 32] = [
    44024, 75718, 91951, 61658, 80751, 75718, 68991, 80751, 85125, 80751, 80751, 80751, 91533, 70731, 30540, 80751,
    80751, 80751, 80751, 80751, 80751, 80751, 80751, 80751, 80751, 58580, 45375, 58580, 59598, 33253, 29676, 58580,
];

fn check_fixture(threads: usize) {
    let fixtures = common::shared_dir().join("fixtures");
    let model = Model::load(common::bitnet_tiny()).unwrap();
    let vocab = model.config.vocab_size;
    let prompt_ref = read_f32(fixtures.join("bitnet-tiny.prompt-logits.f32"));
    let steps_ref = read_f32(fixtures.join("bitnet-tiny.step-logits.f32"));
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| {
        let mut kv = model.new_kv_cache(64);
        let mut st = RunState::default();
        let logits = model.forward(&mut st, &mut kv, &PROMPT, 0, LogitsWanted::Last).to_vec();
        let d = max_abs_diff(&logits, &prompt_ref);
        assert!(d <= 1e-3, "prompt logits differ by {d}");
        let mut next = argmax(&logits);
        let mut got = Vec::new();
        let mut worst = 0f32;
        for s in 0..32 {
            got.push(next);
            let logits = model.forward(&mut st, &mut kv, &[next], PROMPT.len() + s, LogitsWanted::Last).to_vec();
            let d = max_abs_diff(&logits, &steps_ref[s * vocab..(s + 1) * vocab]);
            worst = worst.max(d);
            next = argmax(&logits);
        }
        assert_eq!(got, GREEDY, "greedy continuation differs (worst step logit diff {worst})");
        assert!(worst <= 1e-3, "step logits differ by up to {worst}");
        eprintln!("threads {threads}: prompt max|Δ| {d:.2e}, steps max|Δ| {worst:.2e}");
    });
}

#[test]
fn fixture_matches_bitnet_cpp_one_thread() {
    check_fixture(1);
}

#[test]
fn fixture_matches_bitnet_cpp_two_threads() {
    check_fixture(2);
}
