//! The int8 LM head against the exact F16 one on the fixture: how often the greedy choice agrees
//! and how far the logits move.

mod common;

use bitnet_tui::engine::model::{LogitsWanted, Model, RunState};
use bitnet_tui::engine::protocol::LmHead;
use bitnet_tui::engine::sampler::argmax;

/// Greedy ids and logits of 32 steps after the fixture's prompt.
fn run(model: &Model) -> (Vec<u32>, Vec<Vec<f32>>) {
    let prompt = [128000, 791, 6864, 315, 9822, 374];
    let mut kv = model.new_kv_cache(64);
    let mut st = RunState::default();
    let mut logits = model.forward(&mut st, &mut kv, &prompt, 0, LogitsWanted::Last).to_vec();
    let (mut ids, mut all) = (Vec::new(), Vec::new());
    for s in 0..32 {
        let id = argmax(&logits);
        ids.push(id);
        all.push(logits);
        logits = model.forward(&mut st, &mut kv, &[id], prompt.len() + s, LogitsWanted::Last).to_vec();
    }
    (ids, all)
}

#[test]
fn q8_head_agrees_with_f16() {
    let exact = Model::load(common::bitnet_tiny()).unwrap();
    let mut q8 = Model::load(common::bitnet_tiny()).unwrap();
    q8.set_lm_head(LmHead::Q8);
    assert!(q8.head_i8.is_some());
    let (exact_ids, exact_logits) = run(&exact);
    // Teacher-forced comparison: feed the exact run's tokens, compare each step's choice.
    let prompt = [128000, 791, 6864, 315, 9822, 374];
    let mut kv = q8.new_kv_cache(64);
    let mut st = RunState::default();
    let mut logits = q8.forward(&mut st, &mut kv, &prompt, 0, LogitsWanted::Last).to_vec();
    let (mut agree, mut max_diff) = (0, 0f32);
    for (s, (&id, want)) in exact_ids.iter().zip(&exact_logits).enumerate() {
        agree += usize::from(argmax(&logits) == id);
        max_diff = want.iter().zip(&logits).map(|(a, b)| (a - b).abs()).fold(max_diff, f32::max);
        logits = q8.forward(&mut st, &mut kv, &[id], prompt.len() + s, LogitsWanted::Last).to_vec();
    }
    eprintln!("q8 vs f16 head: top-1 agreement {agree}/32, max |Δlogit| {max_diff:.4}");
    assert!(max_diff < 0.05, "max |Δlogit| {max_diff}");
    assert!(agree >= 24, "top-1 agreement {agree}/32");
    let (q8_ids, _) = run(&q8);
    assert_eq!(q8_ids[0], exact_ids[0]);
}
