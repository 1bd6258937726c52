//! `bitnet-tui batch`: one chat reply per JSON line of input, `--parallel` lines at a time through
//! the engine's scheduler (their tokens share each forward pass), results appended as they finish.
//!
//! Input lines: `{"prompt": "...", "system": "...", "max_tokens": 256, "temperature": 0.7,
//! "top_k": 40, "top_p": 0.95, "min_p": 0.05, "repeat_penalty": 1.1, "seed": 1}` (all but
//! `prompt` optional; defaults from the command line). A bad line is reported on stderr and skipped.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::engine::protocol::{ChatMessage, EngineCmd, EngineEvent, GenStats, LoadOptions, Prompt, Role, StopReason};
use crate::engine::sampler::SamplingParams;

use super::args::{LoadArgs, SamplingArgs};
use super::engine::load;
use super::input::model_or_recent;

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// The GGUF model (default: the one the chat loaded most recently).
    #[arg(short, long)]
    pub model: Option<PathBuf>,
    /// JSON lines of prompts (`-` for standard input).
    #[arg(short, long)]
    pub input: PathBuf,
    /// Where to append one JSON line per reply (`-` for standard output).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Default most tokens per reply.
    #[arg(short = 'n', long = "max-tokens", default_value_t = 512)]
    pub max_tokens: usize,
    /// Lines answered at once (their tokens share each forward pass).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub parallel: u64,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    #[command(flatten)]
    pub load: LoadArgs,
}

/// One input line: the prompt fields, and sampling overrides under their config names.
#[derive(Debug)]
struct BatchLine {
    prompt: String,
    system: Option<String>,
    max_tokens: Option<usize>,
    sampling: SamplingArgs,
}

impl BatchLine {
    fn parse(line: &str) -> Result<Self, String> {
        let mut fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(line).map_err(|e| e.to_string())?;
        let mut take = |key: &str| fields.remove(key).unwrap_or(serde_json::Value::Null);
        let prompt = match take("prompt") {
            serde_json::Value::String(p) => p,
            serde_json::Value::Null => return Err("missing \"prompt\"".into()),
            other => return Err(format!("\"prompt\" must be a string, not {other}")),
        };
        let system = serde_json::from_value(take("system")).map_err(|e| format!("\"system\": {e}"))?;
        let max_tokens = serde_json::from_value(take("max_tokens")).map_err(|e| format!("\"max_tokens\": {e}"))?;
        let sampling = serde_json::from_value(serde_json::Value::Object(fields)).map_err(|e| e.to_string())?;
        Ok(Self { prompt, system, max_tokens, sampling })
    }
}

/// The longest input line read: a prompt of this size is far past any context, and a longer
/// line is skipped without being held in memory.
const MAX_LINE_BYTES: u64 = 1 << 20;

/// The input's lines, numbered from 1; a line that is not UTF-8 or is too long comes back as the
/// reason to skip it, and reading goes on.
struct JsonLines<R> {
    reader: R,
    number: usize,
}

impl<R: BufRead> JsonLines<R> {
    fn next_line(&mut self) -> std::io::Result<Option<(usize, Result<String, String>)>> {
        let mut bytes = Vec::new();
        let read = (&mut self.reader).take(MAX_LINE_BYTES + 1).read_until(b'\n', &mut bytes)?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        if bytes.last() != Some(&b'\n') && bytes.len() as u64 > MAX_LINE_BYTES {
            self.reader.skip_until(b'\n')?;
            return Ok(Some((self.number, Err(format!("longer than {} MiB", MAX_LINE_BYTES >> 20)))));
        }
        let line = String::from_utf8(bytes).map_err(|e| format!("not valid UTF-8 ({e})"));
        Ok(Some((self.number, line)))
    }
}

#[derive(Serialize)]
struct BatchResult<'a> {
    line: usize,
    prompt: &'a str,
    text: String,
    tokens: usize,
    stop_reason: StopReason,
    stats: GenStats,
}

/// A line whose reply is being generated.
struct InFlight {
    line: usize,
    prompt: String,
    text: String,
    tokens: usize,
}

fn is_stdio(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// A bar on standard error when it is a terminal: lines answered of the lines in the file
/// (a spinner for standard input, whose length is unknown).
fn progress_bar(input: &Path) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let count_lines = |file: std::fs::File| {
        BufReader::new(file).split(b'\n').map_while(Result::ok).filter(|l| !l.trim_ascii().is_empty()).count() as u64
    };
    let total = (!is_stdio(input)).then(|| std::fs::File::open(input).ok().map(count_lines)).flatten();
    let (bar, template) = match total {
        Some(total) => (ProgressBar::new(total), "{bar:30} {pos}/{len} lines  {elapsed} (eta {eta})  {msg}"),
        None => (ProgressBar::new_spinner(), "{spinner} {pos} lines  {elapsed}  {msg}"),
    };
    bar.set_style(ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()));
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

pub fn run(args: BatchArgs) -> anyhow::Result<()> {
    let input: Box<dyn Read> = if is_stdio(&args.input) {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(&args.input).map_err(|e| anyhow::anyhow!("{}: {e}", args.input.display()))?)
    };
    let mut output: Box<dyn Write> = if is_stdio(&args.output) {
        Box::new(std::io::stdout())
    } else {
        Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&args.output)
                .map_err(|e| anyhow::anyhow!("{}: {e}", args.output.display()))?,
        )
    };
    let parallel = args.parallel as usize;
    let options = LoadOptions { sequences: parallel, ..args.load.apply(LoadOptions::default()) };
    let model = model_or_recent(args.model)?;
    let (mut engine, _info) = load(&model, options)?;
    let bar = progress_bar(&args.input);
    let defaults = args.sampling.apply(SamplingParams::default());
    let (mut done, mut skipped) = (0usize, 0usize);
    let mut lines = JsonLines { reader: BufReader::new(input), number: 0 };
    let mut in_flight: HashMap<u64, InFlight> = HashMap::new();
    let mut input_done = false;
    loop {
        // Keep `parallel` lines in the engine.
        while !input_done && in_flight.len() < parallel {
            let Some((number, line)) =
                lines.next_line().map_err(|e| anyhow::anyhow!("{}: {e}", args.input.display()))?
            else {
                input_done = true;
                break;
            };
            let parsed = line.and_then(|line| match line.trim().is_empty() {
                true => Ok(None),
                false => BatchLine::parse(&line).map(Some),
            });
            let req = match parsed {
                Ok(None) => continue,
                Ok(Some(r)) => r,
                Err(e) => {
                    bar.suspend(|| eprintln!("{}: line {number}: skipped: {e}", args.input.display()));
                    skipped += 1;
                    bar.set_message(format!("{skipped} skipped"));
                    continue;
                }
            };
            let messages = ChatMessage::with_system(req.system.as_deref(), [ChatMessage::new(Role::User, &req.prompt)]);
            let id = number as u64;
            engine.send(EngineCmd::Generate {
                id,
                prompt: Prompt::Chat(messages),
                sampling: req.sampling.apply(defaults.clone()),
                max_tokens: req.max_tokens.unwrap_or(args.max_tokens),
                logprobs: None,
            });
            in_flight.insert(id, InFlight { line: number, prompt: req.prompt, text: String::new(), tokens: 0 });
        }
        if in_flight.is_empty() {
            break;
        }
        match engine.recv_blocking() {
            Some(EngineEvent::Token { id, token, text, .. }) => {
                if let Some(f) = in_flight.get_mut(&id) {
                    f.text.push_str(&text);
                    f.tokens += usize::from(token.is_some());
                }
            }
            Some(EngineEvent::Done { id, reason, stats }) => {
                let Some(f) = in_flight.remove(&id) else { continue };
                let record = BatchResult {
                    line: f.line,
                    prompt: &f.prompt,
                    text: f.text,
                    tokens: f.tokens,
                    stop_reason: reason,
                    stats,
                };
                writeln!(output, "{}", serde_json::to_string(&record)?)?;
                output.flush()?;
                done += 1;
                bar.inc(1);
            }
            Some(EngineEvent::Error { id: Some(id), message }) => {
                if let Some(f) = in_flight.remove(&id) {
                    bar.suspend(|| eprintln!("{}: line {}: skipped: {message}", args.input.display(), f.line));
                    skipped += 1;
                    bar.set_message(format!("{skipped} skipped"));
                }
            }
            Some(EngineEvent::Error { id: None, message }) => anyhow::bail!("{message}"),
            Some(_) => {}
            None => anyhow::bail!("the engine thread stopped unexpectedly"),
        }
    }
    bar.finish_and_clear();
    let written_to = if is_stdio(&args.output) { "standard output".into() } else { args.output.display().to_string() };
    eprintln!("{done} replies written to {written_to}, {skipped} lines skipped");
    Ok(())
}
