//! Using the engine as a library: load a model, chat, stream the reply, cancel.
//!
//! ```text
//! cargo run --release --example generate -- MODEL.gguf "Why is the sky blue?"
//! ```

use std::io::Write;

use bitnet_tui::engine::protocol::{
    ChatMessage, EngineCmd, EngineEvent, LoadOptions, Prompt, Role, SamplingParams, StopReason,
};
use bitnet_tui::engine::EngineHandle;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(model), Some(question)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: generate MODEL.gguf QUESTION");
    };

    // The engine runs on its own thread; we talk to it with commands and read its events.
    let mut engine = EngineHandle::spawn();
    engine.send(EngineCmd::Load { path: model.into(), options: LoadOptions::default() });
    let info = loop {
        match engine.recv_blocking() {
            Some(EngineEvent::Ready(info)) => break info,
            Some(EngineEvent::Error { message, .. }) => anyhow::bail!(message),
            Some(_) => {}
            None => anyhow::bail!("the engine stopped"),
        }
    };
    eprintln!("{} ({}, {}) loaded in {:.0} ms", info.name, info.arch, info.quant, info.load_ms);

    // Each Generate carries the whole conversation; the engine reuses its KV cache for the part
    // it has already seen.
    let mut messages = vec![ChatMessage::new(Role::User, question)];
    for turn in 0..2 {
        let sampling = SamplingParams { temperature: 0.7, seed: 42, ..SamplingParams::default() };
        engine.send(EngineCmd::Generate {
            id: turn,
            prompt: Prompt::Chat(messages.clone()),
            sampling,
            max_tokens: 200,
            logprobs: None,
        });
        let mut reply = String::new();
        loop {
            match engine.recv_blocking() {
                Some(EngineEvent::Token { text, .. }) => {
                    print!("{text}");
                    std::io::stdout().flush()?;
                    reply.push_str(&text);
                    // Stop the second reply early, to show cancellation: the partial reply is kept.
                    if turn == 1 && reply.len() > 80 {
                        engine.send(EngineCmd::Cancel { id: turn });
                    }
                }
                Some(EngineEvent::Done { reason, stats, .. }) => {
                    println!();
                    let stopped = if reason == StopReason::Cancelled { " (cancelled)" } else { "" };
                    eprintln!(
                        "[{} prompt tokens, {} new; {} generated at {:.1} tok/s{stopped}]",
                        stats.prompt_tokens, stats.prefill_tokens, stats.generated_tokens, stats.decode_tok_s
                    );
                    break;
                }
                Some(EngineEvent::Error { message, .. }) => anyhow::bail!(message),
                Some(_) => {}
                None => anyhow::bail!("the engine stopped"),
            }
        }
        messages.push(ChatMessage::new(Role::Assistant, reply));
        messages.push(ChatMessage::new(Role::User, "Say that again, but shorter."));
    }
    Ok(())
}
