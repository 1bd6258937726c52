//! Speculative decoding by prompt lookup changes nothing but speed at temperature 0: replies
//! drafted and verified beside other sequences, arriving and ending at random steps, have the
//! same tokens and the same log-probabilities, bit for bit, as the same requests decoded one
//! token per pass alone. (That sampling keeps its distribution is tested on the sampler.)

mod common;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::Path;

use bitnet_tui::engine::draft::DraftMode;
use bitnet_tui::engine::protocol::{ChatMessage, EngineEvent, GenStats, LoadOptions, Prompt, Role, SamplingParams};
use bitnet_tui::engine::runtime::Engine;
use bitnet_tui::engine::scheduler::{Request, Scheduler};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn scheduler(path: &Path, draft: DraftMode) -> Scheduler {
    let options = LoadOptions { threads: 2, ctx: 512, sequences: 8, draft, ..LoadOptions::default() };
    Scheduler::new(Engine::load(path, &options, &mut |_, _| {}).expect("the model loads"))
}

/// A token as an event gave it: its id, the bits of its log-probability, and its top
/// alternatives' ids and bits.
type Emitted = (u32, u32, Vec<(u32, u32)>);

/// One reply as the events gave it, then its final figures.
#[derive(Debug, Default)]
struct Reply {
    tokens: Vec<Emitted>,
    stats: GenStats,
}

/// A greedy request with log-probabilities, arriving before step `arrives`.
#[derive(Debug, Clone)]
struct Plan {
    prompt: Prompt,
    max_tokens: usize,
    arrives: usize,
}

fn run(s: &mut Scheduler, plans: &[Plan]) -> BTreeMap<u64, Reply> {
    let mut replies: BTreeMap<u64, Reply> = BTreeMap::new();
    let sampling = SamplingParams { temperature: 0.0, ..SamplingParams::default() };
    let mut step = 0;
    loop {
        for (i, plan) in plans.iter().enumerate().filter(|(_, p)| p.arrives == step) {
            s.submit(Request::Generate {
                id: i as u64,
                prompt: plan.prompt.clone(),
                sampling: sampling.clone(),
                max_tokens: plan.max_tokens,
                logprobs: Some(3),
            });
        }
        if s.is_idle() && plans.iter().all(|p| p.arrives < step) {
            return replies;
        }
        s.step(&mut |event| match event {
            EngineEvent::Token { id, token: Some(token), logprobs, .. } => {
                let lp = logprobs.expect("log-probabilities were asked for");
                let top = lp.top.iter().map(|t| (t.token, t.logprob.to_bits())).collect();
                replies.entry(id).or_default().tokens.push((token, lp.chosen.logprob.to_bits(), top));
            }
            EngineEvent::Done { id, stats, .. } => replies.entry(id).or_default().stats = stats,
            EngineEvent::Error { message, .. } => panic!("{message}"),
            _ => {}
        });
        step += 1;
    }
}

/// Prompts that repeat a random phrase, so that lookups find drafts, of random lengths and
/// arrival steps, 1 to 4 at once.
fn plans(vocab: u32) -> impl Strategy<Value = Vec<Plan>> {
    let plan = (prop::collection::vec(0..vocab, 2..8), 1usize..4, 1usize..40, 0usize..8).prop_map(
        |(phrase, repeats, max_tokens, arrives)| Plan {
            prompt: Prompt::Tokens(phrase.iter().copied().cycle().take(phrase.len() * repeats + 1).collect()),
            max_tokens,
            arrives,
        },
    );
    prop::collection::vec(plan, 1..5)
}

#[test]
fn drafted_replies_equal_plain_decoding_alone() {
    let path = common::bitnet_tiny();
    let drafting = RefCell::new(scheduler(&path, DraftMode::Ngram { max: 8 }));
    let plain = RefCell::new(scheduler(&path, DraftMode::None));
    let vocab = drafting.borrow().engine().model.config.vocab_size as u32;
    let drafted = Cell::new(0);
    let mut runner = TestRunner::new(Config { cases: 24, failure_persistence: None, ..Config::default() });
    runner
        .run(&plans(vocab.min(3000)), |plans| {
            let together = run(&mut drafting.borrow_mut(), &plans);
            for (i, plan) in plans.iter().enumerate() {
                let alone = run(&mut plain.borrow_mut(), &[Plan { arrives: 0, ..plan.clone() }]);
                let (got, want) = (&together[&(i as u64)], &alone[&0]);
                prop_assert_eq!(&got.tokens, &want.tokens, "request {} of {}", i, plans.len());
                prop_assert_eq!(want.stats.draft_tokens, 0);
                drafted.set(drafted.get() + got.stats.draft_tokens);
            }
            Ok(())
        })
        .unwrap();
    // The random model repeats itself often enough that drafts were made and verified.
    assert!(drafted.get() > 0, "no draft was ever verified");
}

/// A reply that copies its input: SmolLM2 reformatting a JSON document keeps most drafts, and
/// the text is the plain decoding's.
#[test]
fn smollm2_copying_keeps_drafts_and_the_text() {
    let path = common::smollm2();
    let data = std::fs::read_to_string("tests/data/speculative/grounded.jsonl").unwrap();
    let line: serde_json::Value = serde_json::from_str(data.lines().nth(1).unwrap()).unwrap();
    let message = ChatMessage::new(Role::User, line["prompt"].as_str().unwrap());
    let plan = Plan { prompt: Prompt::Chat(vec![message]), max_tokens: 120, arrives: 0 };
    let drafted = run(&mut scheduler(&path, DraftMode::Ngram { max: 8 }), std::slice::from_ref(&plan));
    let plain = run(&mut scheduler(&path, DraftMode::None), &[plan]);
    assert_eq!(drafted[&0].tokens, plain[&0].tokens);
    let stats = &drafted[&0].stats;
    assert!(stats.draft_tokens >= 40, "{stats:?}");
    assert!(stats.draft_acceptance().unwrap() > 0.6, "{stats:?}");
}
