//! A loaded model with its tokenizer, chat format, KV cache and compute threads: what the worker
//! thread owns. The cache remembers which tokens it holds, so each request prefills only the
//! tokens that differ from what is already there.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use crate::gguf::{GgufFile, ModelSummary};
use crate::kernels::dispatch;

use super::chat::{tokenize_segments, ChatFormat};
use super::kv_cache::KvCache;
use super::model::{LogitsWanted, Model, RunState, PREFILL_BATCH};
use super::protocol::{ContextPolicy, EngineEvent, LoadOptions, ModelInfo, Prompt, RequestId, Role, SamplingParams};
use super::tokenizer::Tokenizer;

/// What a running request may hear from its front end between tokens and prefill batches.
pub trait Control: Send {
    /// Reports progress to the front end.
    fn send(&mut self, event: EngineEvent);
    /// Whether the request should stop now. Also applies settings that arrived meanwhile.
    fn cancelled(&mut self) -> bool;
    /// Sampling settings that arrived since the last call, if any.
    fn new_sampling(&mut self) -> Option<SamplingParams>;
}

/// The request was cancelled during prefill.
#[derive(Debug)]
pub struct Cancelled {
    /// How many tokens the prefill had to evaluate.
    pub prefill_tokens: usize,
}

pub struct Session {
    pub model: Model,
    pub tokenizer: Tokenizer,
    pub chat: ChatFormat,
    pub info: ModelInfo,
    pub(super) kv: KvCache,
    pub(super) state: RunState,
    /// The tokens whose keys and values are in `kv`, position by position.
    pub(super) cached: Vec<u32>,
    /// Replies this session generated, by text: their sampled tokens replace a re-tokenization
    /// of the text when the conversation comes back, so the cache prefix still matches.
    replies: HashMap<String, Vec<u32>>,
    pub(super) policy: ContextPolicy,
    pool: Arc<rayon::ThreadPool>,
}

impl Session {
    /// Loads a model; `progress(fraction, stage)` hears about each stage.
    pub fn load(path: &Path, options: &LoadOptions, progress: &mut dyn FnMut(f32, &str)) -> anyhow::Result<Self> {
        let started = Instant::now();
        progress(0.0, "reading the header");
        let file = Arc::new(GgufFile::open(path)?);
        let summary = ModelSummary::of(&file)?;
        progress(0.05, "checking tensors");
        let mut model = Model::from_file(Arc::clone(&file))?;
        progress(0.1, "building the tokenizer");
        let tokenizer = Tokenizer::from_gguf(&file)?;
        let chat = ChatFormat::for_model(&file, &tokenizer)?;
        let threads = if options.threads == 0 { num_cpus::get_physical().max(1) } else { options.threads };
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
        warm_pages(&file, &mut |f| progress(0.15 + 0.7 * f, "reading weights"));
        progress(0.85, "preparing the LM head");
        pool.install(|| model.set_lm_head(options.lm_head));
        progress(0.95, "allocating the KV cache");
        let kv = model.new_kv_cache(ctx);
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
        Ok(Self {
            model,
            tokenizer,
            chat,
            info,
            kv,
            state: RunState::default(),
            cached: Vec::new(),
            replies: HashMap::new(),
            policy: options.context_policy,
            pool,
        })
    }

    pub fn ctx_max(&self) -> usize {
        self.kv.capacity()
    }

    pub fn ctx_used(&self) -> usize {
        self.cached.len()
    }

    /// Runs `f` on this session's compute threads.
    pub(super) fn install<R: Send>(&mut self, f: impl FnOnce(&mut Self) -> R + Send) -> R {
        let pool = Arc::clone(&self.pool);
        pool.install(|| f(self))
    }

    /// The full token sequence a prompt stands for.
    pub fn prompt_tokens(&self, prompt: &Prompt) -> anyhow::Result<Vec<u32>> {
        match prompt {
            Prompt::Chat(messages) => {
                let segments = self.chat.render(messages, true)?;
                tokenize_segments(&segments, &self.tokenizer, &|_, text: &str| self.replies.get(text).cloned())
            }
            Prompt::Raw(text) => self.tokenizer.encode(text, self.tokenizer.add_bos_default(), true),
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
        if !text.is_empty() {
            self.replies.insert(text, tokens);
        }
    }

    /// Brings the cache to hold exactly `tokens`, prefilling what differs from what it holds;
    /// leaves the logits after the last token in `logits` and returns how many tokens it prefilled.
    pub(super) fn sync_cache(
        &mut self,
        tokens: &[u32],
        id: RequestId,
        logits: &mut Vec<f32>,
        ctl: &mut dyn Control,
    ) -> Result<usize, Cancelled> {
        assert!(!tokens.is_empty() && tokens.len() <= self.kv.capacity());
        let common = self.cached.iter().zip(tokens).take_while(|(a, b)| a == b).count();
        // The last token is always evaluated again: its logits are what we need next.
        let keep = common.min(tokens.len() - 1);
        self.cached.truncate(keep);
        let total = tokens.len() - keep;
        let mut done = 0;
        for batch in tokens[keep..].chunks(PREFILL_BATCH) {
            if ctl.cancelled() {
                return Err(Cancelled { prefill_tokens: total });
            }
            self.eval(batch, logits);
            done += batch.len();
            ctl.send(EngineEvent::PrefillProgress { id, done, total });
        }
        Ok(total)
    }

    /// Feeds `tokens` after what the cache holds and copies out the last position's logits.
    pub(super) fn eval(&mut self, tokens: &[u32], logits: &mut Vec<f32>) {
        let start = self.cached.len();
        let out = self.model.forward(&mut self.state, &mut self.kv, tokens, start, LogitsWanted::Last);
        logits.clear();
        logits.extend_from_slice(out);
        self.cached.extend_from_slice(tokens);
    }

    /// The tokens of `prompt` cut to fit `budget` under the drop-oldest policy: whole turns are
    /// dropped from the front (never the system prompt, never the last message); a prompt that is
    /// not a conversation loses the oldest tokens after its first.
    pub(super) fn fit_prompt(&self, prompt: &Prompt, budget: usize) -> anyhow::Result<Vec<u32>> {
        let tokens = self.prompt_tokens(prompt)?;
        if tokens.len() <= budget {
            return Ok(tokens);
        }
        match prompt {
            Prompt::Chat(messages) => {
                let first = usize::from(messages.first().is_some_and(|m| m.role == Role::System));
                let mut kept = messages.clone();
                while kept.len() > first + 1 {
                    kept.remove(first);
                    let tokens = self.prompt_tokens(&Prompt::Chat(kept.clone()))?;
                    if tokens.len() <= budget {
                        return Ok(tokens);
                    }
                }
                anyhow::bail!(
                    "the last message alone takes {} tokens; the context holds {} (raise --ctx)",
                    self.prompt_tokens(&Prompt::Chat(kept))?.len(),
                    self.kv.capacity()
                )
            }
            _ => Ok(drop_oldest_tokens(&tokens, budget)),
        }
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

/// Reads one byte per page of the tensor data so the first token does not pay the page faults,
/// reporting the fraction done.
fn warm_pages(file: &GgufFile, progress: &mut dyn FnMut(f32)) {
    if let Some(map) = file.mmap() {
        // Advice only; the reads below do the work if the kernel ignores it.
        let _ = map.advise(memmap2::Advice::WillNeed);
    }
    let bytes = file.bytes();
    let start = file.header().data_offset as usize;
    let len = bytes.len().saturating_sub(start);
    const STEP: usize = 4096;
    const REPORT: usize = 64 << 20;
    let mut sum = 0u8;
    let mut at = start;
    while at < bytes.len() {
        let end = (at + REPORT).min(bytes.len());
        sum = bytes[at..end].iter().step_by(STEP).fold(sum, |s, &b| s.wrapping_add(b));
        at = end;
        progress((at - start) as f32 / len.max(1) as f32);
    }
    std::hint::black_box(sum);
}
