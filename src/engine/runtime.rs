//! A loaded model with its tokenizer, chat format, compute threads and the KV pool of its
//! sequences: what the worker thread owns and the scheduler steps.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use crate::gguf::{GgufFile, ModelSummary};
use crate::kernels::dispatch;

use super::chat::{tokenize_segments, ChatFormat};
use super::kv_cache::KvPool;
use super::model::{BatchRow, Model, RunState};
use super::protocol::{LoadOptions, ModelInfo, Prompt, Role};
use super::tokenizer::Tokenizer;

/// Replies remembered by text (see [`Engine::remember_reply`]); the oldest are forgotten first.
const REMEMBERED_REPLIES: usize = 256;

pub struct Engine {
    pub model: Arc<Model>,
    /// Shared with the front end's token counter.
    pub tokenizer: Arc<Tokenizer>,
    pub chat: ChatFormat,
    pub info: ModelInfo,
    pub options: LoadOptions,
    /// The caches of every sequence, running or kept for reuse.
    pub(super) kv: KvPool,
    /// Replies generated here, by text: their sampled tokens replace a re-tokenization of the
    /// text when the conversation comes back, so a kept cache's prefix still matches. Each
    /// entry carries the order it was added in, to forget the oldest.
    replies: HashMap<String, (u64, Vec<u32>)>,
    replies_added: u64,
    pool: Arc<rayon::ThreadPool>,
}

/// The most compute threads a model runs on: more than a few per logical CPU only adds
/// switching (and a typo such as `-t 100000000` would spawn threads until the OS refuses).
pub fn max_threads() -> usize {
    4 * num_cpus::get().max(1)
}

impl Engine {
    /// Loads a model; `progress(fraction, stage)` hears about each stage.
    pub fn load(path: &Path, options: &LoadOptions, progress: &mut dyn FnMut(f32, &str)) -> anyhow::Result<Self> {
        let started = Instant::now();
        anyhow::ensure!(options.prefill_chunk > 0, "the prefill chunk must hold at least one token");
        anyhow::ensure!(options.sequences > 0, "at least one sequence must be allowed to run");
        progress(0.0, "reading the header");
        let file = GgufFile::open(path)?;
        let summary = ModelSummary::of(&file)?;
        progress(0.05, "checking tensors");
        // The model holds the file alone, so it can forget the vocabulary once it is built.
        let mut model = Model::from_file(Arc::new(file))?;
        model.set_kv_type(options.kv)?;
        let file = &model.file;
        progress(0.1, "building the tokenizer");
        let tokenizer = Tokenizer::from_gguf(file)?;
        // A token past the embedding's rows would be read from beyond it.
        anyhow::ensure!(
            tokenizer.vocab_size() <= model.config.vocab_size,
            "{}: tokenizer.ggml.tokens has {} entries, but token_embd.weight has {} rows",
            file.name(),
            tokenizer.vocab_size(),
            model.config.vocab_size
        );
        let chat = ChatFormat::for_model(file, &tokenizer)?;
        model.forget_vocabulary();
        // Building the tokenizer leaves tens of MB of freed scratch in the allocator's arenas.
        crate::kernels::mmap::return_freed_memory();
        let threads = match options.threads {
            0 => num_cpus::get_physical().max(1),
            n if n > max_threads() => {
                tracing::warn!("{n} threads asked for; using {}", max_threads());
                max_threads()
            }
            n => n,
        };
        let pool = Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("bitnet-compute-{i}"))
                .build()?,
        );
        let ctx = match options.ctx {
            0 => model.config.context_length,
            n => n.min(model.config.context_length),
        };
        progress(0.15, "preparing the LM head");
        pool.install(|| model.set_lm_head(options.lm_head));
        warm_pages(&model.file, &model.per_token_ranges(), &mut |f| progress(0.3 + 0.6 * f, "reading weights"));
        model.release_header_pages();
        let kv = model.new_kv_pool();
        let info = ModelInfo {
            path: path.to_path_buf(),
            name: summary.name.clone().unwrap_or_else(|| file_stem(path)),
            arch: summary.architecture.clone(),
            quant: summary.quant.clone(),
            n_params: summary.n_params,
            file_bytes: summary.file_bytes,
            n_layers: model.config.n_layers,
            vocab_size: model.config.vocab_size,
            ctx_max: ctx,
            threads,
            kernel: dispatch::active().name().to_string(),
            chat_format: chat.name().to_string(),
            load_ms: started.elapsed().as_secs_f64() * 1e3,
        };
        progress(1.0, "ready");
        let options = LoadOptions { threads, ctx, ..options.clone() };
        Ok(Self {
            model: Arc::new(model),
            tokenizer: Arc::new(tokenizer),
            chat,
            info,
            options,
            kv,
            replies: HashMap::new(),
            replies_added: 0,
            pool,
        })
    }

    /// Positions one sequence may hold.
    pub fn ctx_max(&self) -> usize {
        self.options.ctx
    }

    /// Runs one batch on this engine's compute threads with the activations in `state`; the
    /// logits of the rows that want them.
    pub(super) fn run_batch<'s>(
        &mut self,
        state: &'s mut RunState,
        rows: &[BatchRow],
    ) -> anyhow::Result<&'s mut [f32]> {
        let (model, kv) = (&self.model, &mut self.kv);
        self.pool.install(|| model.forward_batch(state, kv, rows))
    }

    /// The full token sequence a prompt stands for.
    pub fn prompt_tokens(&self, prompt: &Prompt) -> anyhow::Result<Vec<u32>> {
        match prompt {
            Prompt::Chat(messages) => {
                let segments = self.chat.render(messages, true)?;
                tokenize_segments(&segments, &self.tokenizer, &|_, text: &str| {
                    self.replies.get(text).map(|(_, tokens)| tokens.clone())
                })
            }
            Prompt::Raw(text) if text.is_empty() => anyhow::bail!("the prompt is empty"),
            Prompt::Raw(text) => self.tokenizer.encode(text, self.tokenizer.add_bos_default(), true),
            Prompt::Tokens(ids) if ids.is_empty() => anyhow::bail!("the prompt is empty"),
            Prompt::Tokens(ids) => {
                let vocab = self.model.config.vocab_size;
                if let Some(bad) = ids.iter().find(|&&t| t as usize >= vocab) {
                    anyhow::bail!("token id {bad} is out of range: the vocabulary has {vocab} tokens");
                }
                Ok(ids.clone())
            }
        }
    }

    /// Remembers the tokens sampled for a reply, for the next render of the conversation.
    pub(super) fn remember_reply(&mut self, text: String, tokens: Vec<u32>) {
        if text.is_empty() {
            return;
        }
        if self.replies.len() >= REMEMBERED_REPLIES {
            let oldest = self.replies.iter().min_by_key(|(_, (added, _))| *added).map(|(text, _)| text.clone());
            if let Some(text) = oldest {
                self.replies.remove(&text);
            }
        }
        self.replies_added += 1;
        self.replies.insert(text, (self.replies_added, tokens));
    }

    /// The tokens of `prompt` cut to fit `budget` under the drop-oldest policy: whole turns are
    /// dropped from the front (never the system prompt, never the last message); a prompt that is
    /// not a conversation loses the oldest tokens after its first.
    pub(super) fn fit_prompt(&self, prompt: &Prompt, budget: usize) -> anyhow::Result<Vec<u32>> {
        let tokens = self.drop_oldest_turns(prompt, budget)?;
        match prompt {
            Prompt::Chat(_) if tokens.len() > budget => anyhow::bail!(
                "the last message alone takes {} tokens, more than the {budget} of the context's {} that a prompt \
                 may take (raise --ctx, or shorten the message)",
                tokens.len(),
                self.ctx_max()
            ),
            Prompt::Chat(_) => Ok(tokens),
            _ => Ok(drop_oldest_tokens(&tokens, budget)),
        }
    }

    /// The prompt's tokens after dropping a chat's oldest turns (never the system prompt, never
    /// the last message) until they fit `budget`; a chat whose last message alone is longer, and
    /// any other prompt, comes back whole.
    pub(super) fn drop_oldest_turns(&self, prompt: &Prompt, budget: usize) -> anyhow::Result<Vec<u32>> {
        let mut tokens = self.prompt_tokens(prompt)?;
        if let Prompt::Chat(messages) = prompt {
            let first = usize::from(messages.first().is_some_and(|m| m.role == Role::System));
            let mut kept = messages.clone();
            while tokens.len() > budget && kept.len() > first + 1 {
                kept.remove(first);
                tokens = self.prompt_tokens(&Prompt::Chat(kept.clone()))?;
            }
        }
        Ok(tokens)
    }
}

/// Keeps the first token (BOS) and the newest `budget − 1` tokens.
pub(super) fn drop_oldest_tokens(tokens: &[u32], budget: usize) -> Vec<u32> {
    if tokens.len() <= budget || budget < 2 {
        return tokens[tokens.len().saturating_sub(budget)..].to_vec();
    }
    let mut out = vec![tokens[0]];
    out.extend_from_slice(&tokens[tokens.len() - (budget - 1)..]);
    out
}

fn file_stem(path: &Path) -> String {
    path.file_stem().map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into_owned())
}

/// Reads one byte per page of `ranges` of the file (the data every token reads) so the first
/// token does not pay the page faults, reporting the fraction done.
fn warm_pages(file: &GgufFile, ranges: &[Range<usize>], progress: &mut dyn FnMut(f32)) {
    let bytes = file.bytes();
    if let Some(map) = file.mmap() {
        for r in ranges {
            // Advice only; the reads below do the work if the kernel ignores it.
            let _ = map.advise_range(memmap2::Advice::WillNeed, r.start, r.len());
        }
    }
    let total: usize = ranges.iter().map(|r| r.len()).sum();
    const STEP: usize = 4096;
    const REPORT: usize = 64 << 20;
    let (mut sum, mut done) = (0u8, 0);
    for r in ranges {
        let mut at = r.start;
        while at < r.end {
            let end = (at + REPORT).min(r.end);
            sum = bytes[at..end].iter().step_by(STEP).fold(sum, |s, &b| s.wrapping_add(b));
            done += end - at;
            at = end;
            progress(done as f32 / total.max(1) as f32);
        }
    }
    std::hint::black_box(sum);
}
