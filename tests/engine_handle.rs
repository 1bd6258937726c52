//! The engine through its channel protocol: multi-turn prefix reuse, cancellation, errors and
//! the context policies.

mod common;

use std::path::Path;

use bitnet_tui::engine::protocol::*;
use bitnet_tui::engine::EngineHandle;

fn greedy() -> SamplingParams {
    SamplingParams { temperature: 0.0, ..SamplingParams::default() }
}

fn load(engine: &mut EngineHandle, path: &Path, options: LoadOptions) -> Result<ModelInfo, String> {
    engine.send(EngineCmd::Load { path: path.to_path_buf(), options });
    loop {
        match engine.recv_blocking().expect("engine alive") {
            EngineEvent::Ready(info) => return Ok(info),
            EngineEvent::Error { message, .. } => return Err(message),
            _ => {}
        }
    }
}

/// Everything one request produced.
#[derive(Debug, Default)]
struct Outcome {
    text: String,
    prefill_total: Option<usize>,
    reason: Option<StopReason>,
    stats: GenStats,
    error: Option<String>,
}

fn collect(engine: &mut EngineHandle, id: RequestId) -> Outcome {
    let mut out = Outcome::default();
    loop {
        match engine.recv_blocking().expect("engine alive") {
            EngineEvent::PrefillProgress { id: i, total, .. } if i == id => out.prefill_total = Some(total),
            EngineEvent::Token { id: i, text, .. } if i == id => out.text.push_str(&text),
            EngineEvent::Done { id: i, reason, stats } if i == id => {
                out.reason = Some(reason);
                out.stats = stats;
                return out;
            }
            EngineEvent::Error { message, .. } => {
                out.error = Some(message);
                return out;
            }
            _ => {}
        }
    }
}

fn generate(engine: &mut EngineHandle, id: RequestId, messages: &[ChatMessage], max_tokens: usize) -> Outcome {
    engine.send(EngineCmd::Generate {
        id,
        prompt: Prompt::Chat(messages.to_vec()),
        sampling: greedy(),
        max_tokens,
        logprobs: None,
    });
    collect(engine, id)
}

#[test]
fn three_turn_chat_prefills_only_new_tokens() {
    let mut engine = EngineHandle::spawn();
    load(&mut engine, &common::smollm2(), LoadOptions::default()).unwrap();
    let mut messages = vec![ChatMessage::new(Role::User, "What is 2+2?")];
    let first = generate(&mut engine, 1, &messages, 64);
    assert_eq!(first.text, "The answer to this classic math problem is 4.");
    assert_eq!(first.reason, Some(StopReason::EndOfText));
    assert_eq!(first.prefill_total, Some(first.stats.prompt_tokens));
    let mut cached = first.stats.prompt_tokens + first.stats.generated_tokens;
    messages.push(ChatMessage::new(Role::Assistant, first.text.clone()));

    for (id, question) in [(2, "And what is 3+3?"), (3, "Thanks! Now add those two answers.")] {
        messages.push(ChatMessage::new(Role::User, question));
        let turn = generate(&mut engine, id, &messages, 24);
        assert!(turn.error.is_none(), "{:?}", turn.error);
        // Only what follows the cached conversation is prefilled: the new turn's tokens.
        assert_eq!(turn.prefill_total, Some(turn.stats.prompt_tokens - cached), "turn {id}");
        assert!(turn.prefill_total.unwrap() < 30, "turn {id} prefilled {:?}", turn.prefill_total);
        assert!(!turn.text.is_empty());
        cached = turn.stats.prompt_tokens + turn.stats.generated_tokens;
        messages.push(ChatMessage::new(Role::Assistant, turn.text));
    }
}

/// A conversation that ends with the assistant's partial reply is continued: the prompt is the
/// one the reply was written after plus the reply's tokens, nothing closes the turn (so the
/// cache the reply left serves all of it but the last token), and the text goes on.
#[test]
fn a_stopped_reply_is_continued_where_it_stopped() {
    let mut engine = EngineHandle::spawn();
    load(&mut engine, &common::smollm2(), LoadOptions::default()).unwrap();
    let mut messages = vec![ChatMessage::new(Role::User, "Tell me a story about a cat.")];
    let start = generate(&mut engine, 1, &messages, 8);
    assert_eq!(start.reason, Some(StopReason::MaxTokens));
    messages.push(ChatMessage::new(Role::Assistant, start.text.clone()));
    let rest = generate(&mut engine, 2, &messages, 8);
    assert!(rest.error.is_none(), "{:?}", rest.error);
    assert_eq!(rest.stats.prompt_tokens, start.stats.prompt_tokens + 8);
    assert_eq!(rest.prefill_total, Some(1), "only the reply's last token is read");
    assert!(rest.text.starts_with(' ') && rest.text.len() > 8, "{:?} then {:?}", start.text, rest.text);
}

#[test]
fn cancel_mid_decode_keeps_the_partial_reply() {
    let mut engine = EngineHandle::spawn();
    load(&mut engine, &common::bitnet_tiny(), LoadOptions::default()).unwrap();
    engine.send(EngineCmd::Generate {
        id: 7,
        prompt: Prompt::Raw("Once upon a time".into()),
        sampling: greedy(),
        max_tokens: 10_000,
        logprobs: None,
    });
    let mut tokens = 0;
    loop {
        match engine.recv_blocking().unwrap() {
            EngineEvent::Token { .. } => {
                tokens += 1;
                if tokens == 3 {
                    engine.send(EngineCmd::Cancel { id: 7 });
                }
            }
            EngineEvent::Done { reason, stats, .. } => {
                assert_eq!(reason, StopReason::Cancelled);
                // Honoured at the next token boundary: at most one more token after the request.
                assert!((3..=4).contains(&stats.generated_tokens), "{}", stats.generated_tokens);
                break;
            }
            EngineEvent::Error { message, .. } => panic!("{message}"),
            _ => {}
        }
    }
}

#[test]
fn cancel_mid_prefill_stops_between_batches() {
    let mut engine = EngineHandle::spawn();
    load(&mut engine, &common::bitnet_tiny(), LoadOptions::default()).unwrap();
    let long = "word ".repeat(1500);
    engine.send(EngineCmd::Generate {
        id: 8,
        prompt: Prompt::Raw(long),
        sampling: greedy(),
        max_tokens: 5,
        logprobs: None,
    });
    loop {
        match engine.recv_blocking().unwrap() {
            EngineEvent::PrefillProgress { done, total, .. } => {
                assert!(total > 1000);
                if done < total {
                    engine.send(EngineCmd::Cancel { id: 8 });
                }
            }
            EngineEvent::Token { .. } => panic!("no token after a cancelled prefill"),
            EngineEvent::Done { reason, stats, .. } => {
                assert_eq!(reason, StopReason::Cancelled);
                assert_eq!(stats.generated_tokens, 0);
                break;
            }
            EngineEvent::Error { message, .. } => panic!("{message}"),
            _ => {}
        }
    }
}

#[test]
fn too_long_prompts_follow_the_context_policy() {
    let prompt = || Prompt::Raw("one two three four five six seven eight nine ten ".repeat(20));
    // Stop: a clear error.
    let mut engine = EngineHandle::spawn();
    load(&mut engine, &common::bitnet_tiny(), LoadOptions { ctx: 64, ..LoadOptions::default() }).unwrap();
    engine.send(EngineCmd::Generate { id: 1, prompt: prompt(), sampling: greedy(), max_tokens: 4, logprobs: None });
    let out = collect(&mut engine, 1);
    let err = out.error.expect("an error");
    assert!(err.contains("the context holds 64"), "{err}");

    // Drop oldest: the prompt is cut, the reply runs past the end of the context.
    let options = LoadOptions { ctx: 64, context_policy: ContextPolicy::DropOldest, ..LoadOptions::default() };
    let mut engine = EngineHandle::spawn();
    load(&mut engine, &common::bitnet_tiny(), options).unwrap();
    engine.send(EngineCmd::Generate { id: 2, prompt: prompt(), sampling: greedy(), max_tokens: 80, logprobs: None });
    let out = collect(&mut engine, 2);
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.reason, Some(StopReason::MaxTokens));
    assert!(out.stats.ctx_used <= 64);

    // Drop oldest with one message longer than half the context (but less than the three
    // quarters a prompt may take): the reply's own context is cut as it grows, no error.
    let long_message = vec![ChatMessage::new(Role::User, "one two three four five six ".repeat(6))];
    engine.send(EngineCmd::Generate {
        id: 4,
        prompt: Prompt::Chat(long_message),
        sampling: greedy(),
        max_tokens: 80,
        logprobs: None,
    });
    let out = collect(&mut engine, 4);
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.reason, Some(StopReason::MaxTokens));
    assert_eq!(out.stats.generated_tokens, 80);

    // Stop during generation: the reply ends with ContextFull.
    let mut engine = EngineHandle::spawn();
    load(&mut engine, &common::bitnet_tiny(), LoadOptions { ctx: 64, ..LoadOptions::default() }).unwrap();
    engine.send(EngineCmd::Generate {
        id: 3,
        prompt: Prompt::Raw("Hello".into()),
        sampling: greedy(),
        max_tokens: 500,
        logprobs: None,
    });
    let out = collect(&mut engine, 3);
    assert_eq!(out.reason, Some(StopReason::ContextFull));
    assert_eq!(out.stats.ctx_used, 64);
}

#[test]
fn bad_files_give_clear_errors() {
    let dir = std::env::temp_dir().join(format!("bitnet-tui-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fixture = std::fs::read(common::bitnet_tiny()).unwrap();
    let mut engine = EngineHandle::spawn();

    // Wrong architecture: same length string so every offset stays valid.
    let mut wrong_arch = fixture.clone();
    let at = wrong_arch.windows(12).position(|w| w == b"bitnet-b1.58").unwrap();
    wrong_arch[at..at + 12].copy_from_slice(b"mamba-xx1.58");
    let path = dir.join("wrong-arch.gguf");
    std::fs::write(&path, &wrong_arch).unwrap();
    let err = load(&mut engine, &path, LoadOptions::default()).unwrap_err();
    assert!(err.contains("wrong-arch.gguf") && err.contains("unsupported architecture \"mamba-xx1.58\""), "{err}");

    // A missing tensor: rename one so the model cannot find it.
    let mut missing = fixture.clone();
    let name = b"blk.1.ffn_up.weight";
    let at = missing.windows(name.len()).position(|w| w == name).unwrap();
    missing[at..at + name.len()].copy_from_slice(b"blk.1.ffn_UP.weight");
    let path = dir.join("missing-tensor.gguf");
    std::fs::write(&path, &missing).unwrap();
    let err = load(&mut engine, &path, LoadOptions::default()).unwrap_err();
    assert!(err.contains("missing-tensor.gguf") && err.contains("tensor \"blk.1.ffn_up.weight\" is missing"), "{err}");

    // Generating with nothing loaded.
    engine.send(EngineCmd::Generate {
        id: 9,
        prompt: Prompt::Raw("x".into()),
        sampling: greedy(),
        max_tokens: 1,
        logprobs: None,
    });
    let out = collect(&mut engine, 9);
    assert!(out.error.unwrap().contains("no model is loaded"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn concurrent_requests_run_together_and_cancel_alone() {
    let mut engine = EngineHandle::spawn();
    load(&mut engine, &common::bitnet_tiny(), LoadOptions::default()).unwrap();
    let request = |id, text: &str| EngineCmd::Generate {
        id,
        prompt: Prompt::Raw(text.into()),
        sampling: greedy(),
        max_tokens: 40,
        logprobs: None,
    };
    // Alone first, for the reference text.
    engine.send(request(1, "The quick brown fox"));
    let alone = collect(&mut engine, 1);
    assert_eq!(alone.reason, Some(StopReason::MaxTokens));

    engine.send(request(2, "The quick brown fox"));
    engine.send(request(3, "Once upon a time there was"));
    engine.send(request(4, "A third, to be cancelled"));
    engine.send(EngineCmd::Cancel { id: 4 });
    let (mut texts, mut done) = (std::collections::HashMap::<RequestId, String>::new(), Vec::new());
    let mut interleaved = false;
    let mut last = None;
    while done.len() < 3 {
        match engine.recv_blocking().expect("engine alive") {
            EngineEvent::Token { id, text, .. } => {
                interleaved |= last.is_some_and(|l| l != id);
                last = Some(id);
                texts.entry(id).or_default().push_str(&text);
            }
            EngineEvent::Done { id, reason, .. } => done.push((id, reason)),
            EngineEvent::Error { message, .. } => panic!("{message}"),
            _ => {}
        }
    }
    done.sort_by_key(|d| d.0);
    assert_eq!(done, [(2, StopReason::MaxTokens), (3, StopReason::MaxTokens), (4, StopReason::Cancelled)]);
    assert!(interleaved, "the two replies' tokens come step by step, side by side");
    assert_eq!(texts[&2], alone.text, "a reply beside another is the reply alone");
}

#[test]
fn empty_prompts_are_refused_and_zero_tokens_generate_none() {
    let mut engine = EngineHandle::spawn();
    load(&mut engine, &common::bitnet_tiny(), LoadOptions::default()).unwrap();
    for (id, prompt) in [(1, Prompt::Raw(String::new())), (2, Prompt::Tokens(Vec::new()))] {
        engine.send(EngineCmd::Generate { id, prompt, sampling: greedy(), max_tokens: 4, logprobs: None });
        let out = collect(&mut engine, id);
        assert_eq!(out.error.as_deref(), Some("the prompt is empty"));
    }
    engine.send(EngineCmd::Generate {
        id: 3,
        prompt: Prompt::Raw("Hello".into()),
        sampling: greedy(),
        max_tokens: 0,
        logprobs: None,
    });
    let out = collect(&mut engine, 3);
    assert_eq!((out.reason, out.text.as_str(), out.stats.generated_tokens), (Some(StopReason::MaxTokens), "", 0));
}

#[test]
fn a_failed_load_keeps_the_loaded_model() {
    let mut engine = EngineHandle::spawn();
    let loaded = load(&mut engine, &common::bitnet_tiny(), LoadOptions::default()).unwrap();
    let gone = std::env::temp_dir().join(format!("bitnet-tui-moved-away-{}.gguf", std::process::id()));
    let err = load(&mut engine, &gone, LoadOptions::default()).unwrap_err();
    assert!(err.contains(&gone.display().to_string()), "{err}");
    // The model loaded before still answers.
    engine.send(EngineCmd::Generate {
        id: 1,
        prompt: Prompt::Raw("Once".into()),
        sampling: greedy(),
        max_tokens: 2,
        logprobs: None,
    });
    let out = collect(&mut engine, 1);
    assert_eq!(out.error, None, "{} should still be loaded", loaded.name);
    assert_eq!(out.stats.generated_tokens, 2);
}
