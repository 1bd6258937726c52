//! Evaluation without sampling: logits of a prompt and its greedy continuation, and perplexity.

use std::time::Instant;

use super::model::LogitsWanted;
use super::protocol::{EngineEvent, PerplexityReport, Prompt, RequestId};
use super::sampler::argmax;
use super::session::{Control, Session};

impl Session {
    /// Sends the logits after `prompt`, then after each of `steps` greedy tokens. Returns false if
    /// cancelled.
    pub fn logits(
        &mut self,
        id: RequestId,
        prompt: &Prompt,
        steps: usize,
        ctl: &mut dyn Control,
    ) -> anyhow::Result<bool> {
        let tokens = self.prompt_tokens(prompt)?;
        if tokens.is_empty() || tokens.len() + steps > self.ctx_max() {
            anyhow::bail!(
                "{} prompt tokens + {steps} steps do not fit the context of {}",
                tokens.len(),
                self.ctx_max()
            );
        }
        self.install(|s| {
            let mut logits = Vec::new();
            // Start from an empty cache so the prompt is evaluated as one batch, like the references.
            s.cached.clear();
            if s.sync_cache(&tokens, id, &mut logits, ctl).is_err() {
                return Ok(false);
            }
            ctl.send(EngineEvent::Logits { id, step: 0, token: None, logits: logits.clone() });
            for step in 1..=steps {
                if ctl.cancelled() {
                    return Ok(false);
                }
                let token = argmax(&logits);
                s.eval(&[token], &mut logits);
                ctl.send(EngineEvent::Logits { id, step, token: Some(token), logits: logits.clone() });
            }
            Ok(true)
        })
    }

    /// llama.cpp's perplexity: the text's tokens cut into windows of `ctx` (the rest dropped), each
    /// evaluated from an empty cache with BOS first when the model adds one; the second half of
    /// each window is scored. Returns None if cancelled.
    pub fn perplexity(
        &mut self,
        id: RequestId,
        text: &str,
        ctx: usize,
        ctl: &mut dyn Control,
    ) -> anyhow::Result<Option<PerplexityReport>> {
        let add_bos = self.tokenizer.add_bos_default();
        let tokens = self.tokenizer.encode(text, add_bos, false)?;
        if ctx < 4 || ctx > self.ctx_max() {
            anyhow::bail!("--ctx {ctx} must be between 4 and the loaded context ({})", self.ctx_max());
        }
        let windows = tokens.len() / ctx;
        if windows == 0 {
            anyhow::bail!("the text has {} tokens, fewer than one window of {ctx}", tokens.len());
        }
        let bos = self.tokenizer.bos();
        let vocab = self.model.config.vocab_size;
        let started = Instant::now();
        self.install(|s| {
            let (mut nll, mut nll2, mut count) = (0f64, 0f64, 0usize);
            let mut report = PerplexityReport { windows, text_tokens: tokens.len(), ..Default::default() };
            for w in 0..windows {
                if ctl.cancelled() {
                    return Ok(None);
                }
                let mut window = tokens[w * ctx..(w + 1) * ctx].to_vec();
                if let (true, Some(bos)) = (add_bos, bos) {
                    window[0] = bos;
                }
                s.cached.clear();
                let first = ctx / 2;
                let logits = s.model.forward(&mut s.state, &mut s.kv, &window, 0, LogitsWanted::From(first));
                for j in first..ctx - 1 {
                    let row = &logits[(j - first) * vocab..(j - first + 1) * vocab];
                    let target = tokens[w * ctx + j + 1] as usize;
                    let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
                    let lse = row.iter().map(|&v| (v as f64 - max).exp()).sum::<f64>().ln() + max;
                    let loss = lse - row[target] as f64;
                    nll += loss;
                    nll2 += loss * loss;
                    count += 1;
                }
                s.cached = window;
                let mean = nll / count as f64;
                let var = nll2 / count as f64 - mean * mean;
                report.ppl = mean.exp();
                report.std_err =
                    if var > 0.0 && count > 1 { (var / (count - 1) as f64).sqrt() * report.ppl } else { 0.0 };
                report.windows_done = w + 1;
                report.scored_tokens = count;
                report.seconds = started.elapsed().as_secs_f64();
                ctl.send(EngineEvent::Perplexity { id, report: report.clone(), finished: w + 1 == windows });
            }
            Ok(Some(report))
        })
    }
}
