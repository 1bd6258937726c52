//! SmolLM2-135M-Instruct (llama, Q4_1) against llama.cpp's recorded behaviour
//! (`../shared/reference/`): greedy continuations, last-position logits.

mod common;

use bitnet_tui::engine::model::{LogitsWanted, Model, RunState};
use serde_json::Value;

fn reference(name: &str) -> Value {
    let path = common::shared_dir().join("reference").join(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn argmax(x: &[f32]) -> u32 {
    x.iter().enumerate().fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| if v > bv { (i, v) } else { (bi, bv) }).0
        as u32
}

fn log_softmax(x: &[f32]) -> Vec<f64> {
    let max = x.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
    let lse = x.iter().map(|&v| (v as f64 - max).exp()).sum::<f64>().ln() + max;
    x.iter().map(|&v| v as f64 - lse).collect()
}

/// KL(reference ‖ ours).
fn kl(reference: &[f32], ours: &[f32]) -> f64 {
    let (p, q) = (log_softmax(reference), log_softmax(ours));
    p.iter().zip(&q).map(|(lp, lq)| lp.exp() * (lp - lq)).sum()
}

fn greedy(model: &Model, prompt: &[u32], n: usize, eos: u32) -> Vec<u32> {
    let mut kv = model.new_kv_cache(prompt.len() + n + 1);
    let mut st = RunState::default();
    let mut next = argmax(model.forward(&mut st, &mut kv, prompt, 0, LogitsWanted::Last));
    let mut out = vec![next];
    while out.len() < n && next != eos {
        next = argmax(model.forward(&mut st, &mut kv, &[next], prompt.len() + out.len() - 1, LogitsWanted::Last));
        out.push(next);
    }
    out
}

#[test]
fn greedy_cases_without_near_ties_match_token_for_token() {
    let model = Model::load(common::smollm2()).unwrap();
    let greedy_ref = reference("smollm2-greedy.json");
    for case in greedy_ref["extra_cases"].as_array().unwrap() {
        let want = common::ids(&case["output_ids"]);
        let got = greedy(&model, &common::ids(&case["prompt_ids"]), want.len(), 2);
        assert_eq!(got, want, "{}", case["description"]);
    }
}

#[test]
fn last_position_logits_are_close_to_llama_cpp() {
    let model = Model::load(common::smollm2()).unwrap();
    let logits_ref = reference("smollm2-logits.json");
    for case in logits_ref["cases"].as_array().unwrap() {
        let file = case["full_logits_file"].as_str().unwrap().split(' ').next().unwrap();
        let bytes = std::fs::read(common::shared_dir().join("reference").join(file)).unwrap();
        let want: Vec<f32> = bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        let prompt = common::ids(&case["prompt_ids"]);
        let mut kv = model.new_kv_cache(prompt.len());
        let got = model.forward(&mut RunState::default(), &mut kv, &prompt, 0, LogitsWanted::Last).to_vec();
        let divergence = kl(&want, &got);
        assert!(divergence <= 0.02, "{}: KL {divergence}", case["prompt_text"]);
        let mut sorted = want.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        if sorted[0] - sorted[1] > 0.5 {
            assert_eq!(argmax(&got), argmax(&want), "{}", case["prompt_text"]);
        }
        eprintln!("{:?}: KL {divergence:.5}, top-1 {}", case["prompt_text"], argmax(&got));
    }
}

#[test]
fn the_capital_of_france_is_paris() {
    let model = Model::load(common::smollm2()).unwrap();
    // "The capital of France is" as llama.cpp tokenizes it (no BOS for this model).
    let prompt = [504, 3575, 282, 4649, 314];
    let mut kv = model.new_kv_cache(8);
    let mut st = RunState::default();
    let logits = model.forward(&mut st, &mut kv, &prompt, 0, LogitsWanted::Last);
    assert_eq!(argmax(logits), 7042, "expected \" Paris\"");
}
