//! The soak: alternating chat turns through `EngineHandle` on SmolLM2 for a long time (20 minutes
//! by default), with regenerate, edit and model switches, checking that no error event comes and
//! that memory stays flat after warm-up. Too long for CI: run it by hand,
//! `cargo test --release --test soak -- --ignored --nocapture` (`BITNET_TUI_SOAK_SECS` shortens it).

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use bitnet_tui::engine::protocol::*;
use bitnet_tui::engine::EngineHandle;

/// Resident anonymous memory of this process (heap, stacks, the KV cache), bytes: what a leak
/// grows. File-backed pages of the mapped model come and go with the page cache, bounded by the
/// file's size, so they are not counted.
fn rss_anon() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("RssAnon:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

fn load(engine: &mut EngineHandle, path: &Path) {
    let options = LoadOptions { ctx: 2048, threads: 1, ..LoadOptions::default() };
    engine.send(EngineCmd::Load { path: path.to_path_buf(), options });
    loop {
        match engine.recv_blocking().expect("engine alive") {
            EngineEvent::Ready(_) => return,
            EngineEvent::Error { message, .. } => panic!("load failed: {message}"),
            _ => {}
        }
    }
}

/// One reply; any error event fails the soak.
fn reply(engine: &mut EngineHandle, id: RequestId, messages: &[ChatMessage], seed: u64) -> (String, GenStats) {
    let sampling = SamplingParams { temperature: 0.7, seed, ..SamplingParams::default() };
    engine.send(EngineCmd::Generate {
        id,
        prompt: Prompt::Chat(messages.to_vec()),
        sampling,
        max_tokens: 48,
        logprobs: None,
    });
    let mut text = String::new();
    loop {
        match engine.recv_blocking().expect("engine alive") {
            EngineEvent::Token { id: i, text: t, .. } if i == id => text.push_str(&t),
            EngineEvent::Done { id: i, stats, .. } if i == id => return (text, stats),
            EngineEvent::Error { message, .. } => panic!("request {id}: error event: {message}"),
            _ => {}
        }
    }
}

const QUESTIONS: [&str; 6] = [
    "What is the capital of France?",
    "Write a haiku about the sea.",
    "Explain recursion in one sentence.",
    "List three prime numbers.",
    "What does a compiler do?",
    "Give me a word that rhymes with light.",
];

#[test]
#[ignore = "20 minutes; run by hand (see the module docs)"]
fn twenty_minutes_of_chat_keep_memory_flat_and_raise_no_error() {
    let seconds = std::env::var("BITNET_TUI_SOAK_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(1200);
    let (smol, bitnet) = (common::smollm2(), common::bitnet_tiny());
    let mut engine = EngineHandle::spawn();
    load(&mut engine, &smol);
    let started = Instant::now();
    // Warm-up: until one conversation has filled most of the context (the KV cache and the kept
    // sequences have reached their size) and two rounds of every kind of turn have run.
    let mut resets = 0;
    let (mut warm, mut low, mut high) = (None::<u64>, u64::MAX, 0u64);
    let (mut id, mut turns, mut tokens) = (0u64, 0usize, 0usize);
    let mut chat: Vec<ChatMessage> = Vec::new();
    while started.elapsed() < Duration::from_secs(seconds) {
        id += 1;
        turns += 1;
        let question = QUESTIONS[turns % QUESTIONS.len()];
        match turns % 7 {
            // Edit: the last question replaced, the reply written again.
            3 if chat.len() >= 2 => {
                chat.pop();
                chat.pop();
                chat.push(ChatMessage::new(Role::User, format!("{question} Answer briefly.")));
            }
            // Regenerate: the same conversation without its last reply.
            5 if chat.len() >= 2 => {
                chat.pop();
            }
            // Switch models and back, mid-conversation.
            6 => {
                load(&mut engine, &bitnet);
                let (_, stats) = reply(&mut engine, id, &[ChatMessage::new(Role::User, question)], id);
                tokens += stats.generated_tokens;
                id += 1;
                load(&mut engine, &smol);
                chat.push(ChatMessage::new(Role::User, question));
            }
            _ => chat.push(ChatMessage::new(Role::User, question)),
        }
        let (text, stats) = reply(&mut engine, id, &chat, id);
        tokens += stats.generated_tokens;
        chat.push(ChatMessage::new(Role::Assistant, text));
        // A new conversation before this one fills the context.
        if stats.ctx_used > 1500 {
            chat.clear();
            resets += 1;
        }
        let now = rss_anon();
        if std::env::var_os("BITNET_TUI_SOAK_TRACE").is_some() {
            let threads = std::fs::read_dir("/proc/self/task").map(|d| d.count()).unwrap_or(0);
            eprintln!("turn {turns}: anon {:.1} MB, {threads} threads", now as f64 / 1e6);
        }
        // Warm-up covers two rounds of every kind of turn (model switches included).
        if resets >= 1 && turns > 14 {
            let base = *warm.get_or_insert(now);
            (low, high) = (low.min(now), high.max(now));
            assert!(
                now as f64 <= base as f64 * 1.05,
                "anonymous RSS grew from {base} to {now} bytes after {turns} turns"
            );
        }
    }
    let base = warm.expect("the soak ran past its warm-up");
    println!(
        "soak: {turns} turns, {tokens} tokens in {:.0} s; anonymous RSS after warm-up {:.1} MB, then {:.1}–{:.1} MB",
        started.elapsed().as_secs_f64(),
        base as f64 / 1e6,
        low as f64 / 1e6,
        high as f64 / 1e6
    );
}
