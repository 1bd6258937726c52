//! Batch invariance, bit for bit: sequences that arrive, prefill and finish at random steps
//! beside each other get the same greedy tokens and the same logits at every step as each one
//! run alone (the rounding rules follow the row, never the batch). CI runs this file on every
//! kernel path (`BITNET_TUI_KERNEL`).

mod common;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;

use bitnet_tui::engine::protocol::{EngineEvent, LoadOptions, Prompt};
use bitnet_tui::engine::runtime::Engine;
use bitnet_tui::engine::scheduler::{Request, Scheduler};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// One sequence of a schedule: its prompt, its greedy steps and the step it arrives at.
#[derive(Debug, Clone)]
struct Plan {
    prompt: Vec<u32>,
    steps: usize,
    arrives: usize,
}

/// Each request's logits events in order: (step, fed token, logits bits).
type Trace = Vec<(usize, Option<u32>, Vec<u32>)>;

fn scheduler(path: &Path) -> Scheduler {
    let options = LoadOptions { threads: 2, ctx: 256, sequences: 8, ..LoadOptions::default() };
    Scheduler::new(Engine::load(path, &options, &mut |_, _| {}).expect("the model loads"))
}

/// Runs the plans through one scheduler: request `i` is submitted before step `arrives`.
fn run(s: &mut Scheduler, plans: &[Plan], prefill_chunk: usize) -> BTreeMap<u64, Trace> {
    s.set_prefill_chunk(prefill_chunk);
    let mut traces: BTreeMap<u64, Trace> = BTreeMap::new();
    let mut step = 0;
    loop {
        for (i, plan) in plans.iter().enumerate().filter(|(_, p)| p.arrives == step) {
            let prompt = Prompt::Tokens(plan.prompt.clone());
            s.submit(Request::Logits { id: i as u64, prompt, steps: plan.steps });
        }
        if s.is_idle() && plans.iter().all(|p| p.arrives < step) {
            return traces;
        }
        s.step(&mut |event| match event {
            EngineEvent::Logits { id, step, token, logits } => {
                traces.entry(id).or_default().push((step, token, logits.iter().map(|v| v.to_bits()).collect()))
            }
            EngineEvent::Error { message, .. } => panic!("{message}"),
            _ => {}
        });
        step += 1;
    }
}

fn plans(vocab: u32, max_seqs: usize) -> impl Strategy<Value = (Vec<Plan>, usize)> {
    let plan = (prop::collection::vec(0..vocab, 1..40), 0usize..10, 0usize..12)
        .prop_map(|(prompt, steps, arrives)| Plan { prompt, steps, arrives });
    let counts = prop::sample::select(vec![1usize, 2, 4, 8].into_iter().filter(|&n| n <= max_seqs).collect::<Vec<_>>());
    (
        counts.prop_flat_map(move |n| prop::collection::vec(plan.clone(), n)),
        prop::sample::select(vec![1usize, 5, 16, 128]),
    )
}

/// Every random schedule gives each sequence exactly its solo trace.
fn check(path: &Path, cases: u32) {
    let s = RefCell::new(scheduler(path));
    let vocab = s.borrow().engine().model.config.vocab_size as u32;
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    runner
        .run(&plans(vocab.min(5000), 8), |(plans, chunk)| {
            let s = &mut *s.borrow_mut();
            let together = run(s, &plans, chunk);
            for (i, plan) in plans.iter().enumerate() {
                let alone = run(s, &[Plan { arrives: 0, ..plan.clone() }], 128);
                let (got, want) = (&together[&(i as u64)], &alone[&0]);
                prop_assert_eq!(got.len(), plan.steps + 1);
                for (g, w) in got.iter().zip(want) {
                    prop_assert!(g == w, "sequence {} step {}: {} sequences, chunk {}", i, w.0, plans.len(), chunk);
                }
            }
            Ok(())
        })
        .unwrap();
}

/// `cases` random schedules, a quarter of them on the forced scalar path: it runs the same
/// scheduling code about twenty times slower, and CI time is better spent elsewhere.
fn cases(cases: u32) -> u32 {
    match std::env::var("BITNET_TUI_KERNEL").as_deref() {
        Ok("scalar") => cases.div_ceil(4),
        _ => cases,
    }
}

#[test]
fn fixture_sequences_batched_equal_alone() {
    check(&common::bitnet_tiny(), cases(48));
}

#[test]
fn smollm2_sequences_batched_equal_alone() {
    check(&common::smollm2(), cases(12));
}

/// A decode row's numerics do not depend on its neighbours even when they are prompt rows of
/// another sequence in the same pass (the case that rounded by batch size before).
#[test]
fn decode_rows_beside_a_long_prefill_equal_alone() {
    let mut s = scheduler(&common::bitnet_tiny());
    let short = Plan { prompt: vec![1, 2, 3], steps: 20, arrives: 0 };
    let long = Plan { prompt: (10..130).collect(), steps: 2, arrives: 3 };
    let together = run(&mut s, &[short.clone(), long], 7);
    let alone = run(&mut s, &[short], 128);
    assert_eq!(together[&0], alone[&0]);
}

#[test]
fn a_batch_past_one_pass_equals_the_same_rows_fed_in_pieces() {
    use bitnet_tui::engine::model::{BatchRow, Model, RowKind, RunState};
    let model = Model::load(common::bitnet_tiny()).unwrap();
    let vocab = model.config.vocab_size;
    // Two sequences' prompts interleaved, 300 rows: more than two passes of 128. Every 16th row
    // wants logits, so the logits of later passes must land after those of earlier ones.
    let rows_of = |seqs: [usize; 2], range: std::ops::Range<usize>| -> Vec<BatchRow> {
        range
            .map(|i| BatchRow {
                seq: seqs[i % 2],
                pos: i / 2,
                token: (i * 7919 % 5000) as u32,
                kind: RowKind::Prefill,
                wants_logits: i % 16 == 15,
            })
            .collect()
    };
    let mut kv = model.new_kv_pool();
    let mut st = RunState::default();
    let whole_seqs = [kv.alloc(), kv.alloc()];
    let whole = model.forward_batch(&mut st, &mut kv, &rows_of(whole_seqs, 0..300)).unwrap().to_vec();
    let piece_seqs = [kv.alloc(), kv.alloc()];
    let mut pieces = Vec::new();
    for range in [0..100, 100..200, 200..300] {
        pieces.extend_from_slice(model.forward_batch(&mut st, &mut kv, &rows_of(piece_seqs, range)).unwrap());
    }
    assert_eq!(whole.len(), 18 * vocab);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert!(bits(&whole) == bits(&pieces), "a batch split into passes gave different logits");
}
