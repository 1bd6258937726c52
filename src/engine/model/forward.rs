//! The forward pass over a batch of rows, in the order data flow (spec D for BitNet; LLaMA is the
//! same block without the sub-norms and with SiLU).
//!
//! A batch is a list of rows, each one token of one sequence at its next position (llama.cpp's
//! `llama_batch`). Every weight is read once for all rows; RoPE takes each row's position, and
//! each row attends over its own sequence's cache. What a row computes depends only on the row:
//! a decode row rounds its attention probabilities as bitnet.cpp's single-row path does, whether
//! it shares the pass with no other row or with fifteen, so batching never changes a sequence's
//! logits.

use crate::engine::kv_cache::{KvCache, KvPool, SeqId};
use crate::kernels::pool::SpinPool;

use super::attention::attention;
use super::head::HeadScratch;
use super::matmul::{linear, ActScratch};
use super::ops::{add_assign, finish_qkv, gated_activation, rms_norm_rows, RopeAngles};
use super::Model;

/// Rows of a batch run through the model together, at most: the activation buffers grow with
/// them (about 100 KB a row for 2B4T), so a larger batch (a long `--prefill-chunk`, a perplexity
/// window) runs as several passes. The default prompt chunk fits one pass: smaller passes would
/// reuse each weight tile over fewer tokens (pp128 fell about 6% with passes of 64).
const MAX_PASS_ROWS: usize = crate::engine::protocol::DEFAULT_PREFILL_CHUNK;

/// What a row of a batch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// A sequence's single new token (generation, a verified draft token): attention
    /// probabilities are rounded to F16 before P·V, as ggml does for a one-row batch.
    Decode,
    /// Part of a prompt chunk: the probabilities stay F32, as ggml does for a multi-row batch.
    Prefill,
}

/// One token of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchRow {
    pub seq: SeqId,
    /// Its position: the number of positions its sequence holds before it (rows of one sequence
    /// come in order within a batch).
    pub pos: usize,
    pub token: u32,
    pub kind: RowKind,
    /// Whether the caller wants this row's logits.
    pub wants_logits: bool,
}

/// Which positions of a single-sequence call ([`Model::forward`]) need logits (a batch says it
/// row by row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogitsWanted {
    /// Only the last token's.
    Last,
}

/// Activations of one batch (buffers grow to the largest batch seen and are then reused), and
/// the spin pool that runs single-token steps.
pub struct RunState {
    /// Residual stream, n × hidden.
    x: Vec<f32>,
    /// Normed input of a sub-block, then the sub-block's output projection, n × hidden (each
    /// buffer is reused once its contents are spent: about 100 KB a row for 2B4T, not 150).
    h: Vec<f32>,
    /// n × q_dim (then the attention output's sub-norm), n × kv_dim, n × kv_dim.
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    /// Attention output, n × q_dim.
    att: Vec<f32>,
    /// n × ffn (up, then the activation's sub-norm).
    gate: Vec<f32>,
    up: Vec<f32>,
    /// The final normed rows that want logits, n_out × hidden.
    y: Vec<f32>,
    /// Logits: vocab floats per wanted row.
    logits: Vec<f32>,
    /// The stored embedding rows of the batch's tokens.
    embd_rows: Vec<u8>,
    /// RoPE angles of the rows' positions (the first n entries are current).
    angles: Vec<RopeAngles>,
    /// The rows of a single-sequence call ([`Model::forward`]).
    rows: Vec<BatchRow>,
    head: HeadScratch,
    acts: ActScratch,
    pool: SpinPool,
}

impl RunState {
    /// Scratch space whose single-token steps run on `threads` threads (batches use the rayon
    /// pool the caller runs in).
    pub fn new(threads: usize) -> Self {
        Self {
            x: Vec::new(),
            h: Vec::new(),
            q: Vec::new(),
            k: Vec::new(),
            v: Vec::new(),
            att: Vec::new(),
            gate: Vec::new(),
            up: Vec::new(),
            y: Vec::new(),
            logits: Vec::new(),
            embd_rows: Vec::new(),
            angles: Vec::new(),
            rows: Vec::new(),
            head: HeadScratch::default(),
            acts: ActScratch::default(),
            pool: SpinPool::new(threads),
        }
    }
}

impl Default for RunState {
    /// Single-threaded steps.
    fn default() -> Self {
        Self::new(1)
    }
}

fn sized(buf: &mut Vec<f32>, len: usize) -> &mut [f32] {
    buf.resize(len, 0.0);
    &mut buf[..len]
}

impl Model {
    /// Runs a batch: stores each row's keys and values in its sequence's cache (each row's
    /// position must be the next one of its sequence) and returns the logits of the rows that
    /// want them, in row order (`vocab` floats each). On an error nothing is stored.
    pub fn forward_batch<'s>(
        &self,
        st: &'s mut RunState,
        kv: &mut KvPool,
        rows: &[BatchRow],
    ) -> anyhow::Result<&'s mut [f32]> {
        let c = &self.config;
        if let Some(bad) = rows.iter().find(|r| r.token as usize >= c.vocab_size) {
            anyhow::bail!("token id {} is out of range: the vocabulary has {} tokens", bad.token, c.vocab_size);
        }
        self.read_embedding_rows(rows.iter().map(|r| r.token), &mut st.embd_rows)?;
        for (i, row) in rows.iter().enumerate() {
            if let Err(e) = kv.push_position(row.seq, row.pos) {
                // Undo the positions this batch already claimed, newest first.
                for r in rows[..i].iter().rev() {
                    kv.truncate(r.seq, r.pos);
                }
                return Err(e);
            }
        }

        // A row's result does not depend on the pass it is in: it attends to its sequence's
        // cache, where the earlier passes stored its predecessors.
        let wanted = rows.iter().filter(|r| r.wants_logits).count();
        let mut logits = std::mem::take(&mut st.logits);
        logits.resize(wanted * c.vocab_size, 0.0);
        let mut at = 0;
        for (p, pass_rows) in rows.chunks(MAX_PASS_ROWS).enumerate() {
            let n_out = pass_rows.iter().filter(|r| r.wants_logits).count() * c.vocab_size;
            self.pass(st, kv, pass_rows, p * MAX_PASS_ROWS, &mut logits[at..at + n_out]);
            at += n_out;
        }
        st.logits = logits;
        Ok(&mut st.logits[..wanted * c.vocab_size])
    }

    /// One pass of the model over `rows`, whose positions are claimed in `kv` and whose embedding
    /// rows are in `st.embd_rows` from row `first` on: stores their keys and values and writes
    /// the logits of the rows that want them to `logits`.
    fn pass(&self, st: &mut RunState, kv: &mut KvPool, rows: &[BatchRow], first: usize, logits: &mut [f32]) {
        let c = &self.config;
        let w = &self.weights;
        let file = self.file.bytes();
        let n = rows.len();
        let (hid, qd, kvd, ffn) = (c.hidden, c.q_dim(), c.kv_dim(), c.ffn);
        // x = embedding rows of the tokens.
        let x = sized(&mut st.x, n * hid);
        let row_bytes = w.token_embd.row_bytes();
        let stored = st.embd_rows[first * row_bytes..].chunks_exact(row_bytes);
        for (xr, data) in x.chunks_exact_mut(hid).zip(stored) {
            w.token_embd.dequantize_stored_row(data, xr);
        }
        if st.angles.len() < n {
            st.angles.resize_with(n, RopeAngles::default);
        }
        let angles = &mut st.angles[..n];
        for (a, row) in angles.iter_mut().zip(rows) {
            a.set(row.pos, c.head_dim, c.rope_base);
        }

        for (l, layer) in w.layers.iter().enumerate() {
            // Attention: norm → Q, K, V → RoPE → cache → attend → (sub-norm) → output proj → residual.
            let h = sized(&mut st.h, n * hid);
            rms_norm_rows(&st.x, &layer.attn_norm, c.rms_eps, h, &st.pool);
            let q = sized(&mut st.q, n * qd);
            linear(&layer.wq, file, h, q, &mut st.acts, &st.pool);
            st.acts.keep_for_next(); // K and V read the same normed input as Q
            let k = sized(&mut st.k, n * kvd);
            linear(&layer.wk, file, h, k, &mut st.acts, &st.pool);
            st.acts.keep_for_next();
            let v = sized(&mut st.v, n * kvd);
            linear(&layer.wv, file, h, v, &mut st.acts, &st.pool);
            finish_qkv(layer.qkv_bias.as_ref(), layer.qk_norm.as_ref(), c.rms_eps, q, k, v);
            for (t, (a, row)) in angles.iter().zip(rows).enumerate() {
                a.apply(&mut q[t * qd..(t + 1) * qd], c.head_dim, c.rope_style);
                let k_row = &mut k[t * kvd..(t + 1) * kvd];
                a.apply(k_row, c.head_dim, c.rope_style);
                kv.store(l, row.seq, row.pos, k_row, &v[t * kvd..(t + 1) * kvd]);
            }
            let att = sized(&mut st.att, n * qd);
            attention(c, kv, l, rows, q, att, &st.pool);
            let att_in: &[f32] = match &layer.attn_sub_norm {
                Some(norm) => {
                    // Q is spent once attention has read it.
                    let normed = sized(&mut st.q, n * qd);
                    rms_norm_rows(att, norm, c.rms_eps, normed, &st.pool);
                    normed
                }
                None => att,
            };
            // The normed input is spent once Q, K and V are computed.
            let proj = sized(&mut st.h, n * hid);
            linear(&layer.wo, file, att_in, proj, &mut st.acts, &st.pool);
            add_assign(&mut st.x, proj);

            // FFN: norm → gate, up → act(gate)·up → (sub-norm) → down proj → residual.
            let h = sized(&mut st.h, n * hid);
            rms_norm_rows(&st.x, &layer.ffn_norm, c.rms_eps, h, &st.pool);
            let gate = sized(&mut st.gate, n * ffn);
            linear(&layer.w_gate, file, h, gate, &mut st.acts, &st.pool);
            st.acts.keep_for_next(); // up reads the same input as gate
            let up = sized(&mut st.up, n * ffn);
            linear(&layer.w_up, file, h, up, &mut st.acts, &st.pool);
            gated_activation(gate, up, ffn, c.ffn_activation);
            let down_in: &[f32] = match &layer.ffn_sub_norm {
                Some(norm) => {
                    // Up is spent once the activation has combined it with the gate.
                    let normed = sized(&mut st.up, n * ffn);
                    rms_norm_rows(gate, norm, c.rms_eps, normed, &st.pool);
                    normed
                }
                None => gate,
            };
            // The normed input is spent once gate and up are computed.
            let proj = sized(&mut st.h, n * hid);
            linear(&layer.w_down, file, down_in, proj, &mut st.acts, &st.pool);
            add_assign(&mut st.x, proj);
        }

        // Final norm and LM head, for the rows that want logits.
        let wanted = rows.iter().filter(|r| r.wants_logits).count();
        let y = sized(&mut st.y, wanted * hid);
        let kept = st.x.chunks_exact(hid).zip(rows).filter(|(_, r)| r.wants_logits);
        for ((xr, _), yr) in kept.zip(y.chunks_exact_mut(hid)) {
            rms_norm_rows(xr, &w.output_norm, c.rms_eps, yr, &st.pool);
        }
        if wanted > 0 {
            self.head.forward(file, y, hid, logits, &mut st.head, &mut st.acts, &st.pool);
        }
    }

    /// Runs `tokens` of one sequence at positions `start..start+n` (forgetting whatever `kv` held
    /// from `start` on) and returns the wanted logits. The rows are decode rows when there is one
    /// token, prefill rows otherwise. Panics on a batch that does not fit `kv` or holds a token
    /// past the vocabulary: this is the tests' and benchmarks' entry point.
    pub fn forward<'s>(
        &self,
        st: &'s mut RunState,
        kv: &mut KvCache,
        tokens: &[u32],
        start: usize,
        want: LogitsWanted,
    ) -> &'s [f32] {
        assert!(start + tokens.len() <= kv.capacity(), "the caller keeps batches within the context");
        assert!(start <= kv.len(), "position {start} is past the {} cached positions", kv.len());
        kv.pool.truncate(kv.seq, start);
        let kind = if tokens.len() == 1 { RowKind::Decode } else { RowKind::Prefill };
        let first_wanted = match want {
            LogitsWanted::Last => tokens.len() - 1,
        };
        let mut rows = std::mem::take(&mut st.rows);
        rows.clear();
        rows.extend(tokens.iter().enumerate().map(|(t, &token)| BatchRow {
            seq: kv.seq,
            pos: start + t,
            token,
            kind,
            wants_logits: t >= first_wanted,
        }));
        let n_logits = (tokens.len() - first_wanted) * self.config.vocab_size;
        if let Err(e) = self.forward_batch(st, &mut kv.pool, &rows) {
            panic!("{e:#}");
        }
        st.rows = rows;
        &st.logits[..n_logits]
    }
}
