//! The forward pass, one batch of tokens at a time, in the order data flow (spec D for BitNet;
//! LLaMA is the same block without the sub-norms and with SiLU).

use half::f16;

use crate::engine::kv_cache::KvCache;
use crate::gguf::TensorType;
use crate::kernels::act_i8::QuantRow;
use crate::kernels::dot::{dot_f16, f16_slice};
use crate::kernels::i8_rows::dot_i8;
use crate::kernels::pool::SpinPool;

use super::attention::attention;
use super::matmul::{linear, par_token_chunks, ActScratch};
use super::ops::{add_assign, gated_activation, rms_norm_rows, RopeAngles};
use super::{Model, RepackedHead};

/// LM-head rows per claimable chunk (of 128k): sizeable streams, fine enough to balance.
const HEAD_GRANULE: usize = 256;

/// Which positions of a batch need logits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogitsWanted {
    /// Only the last token's (generation, prompt processing).
    Last,
    /// Those of the batch's tokens from this index on (perplexity scores the second half).
    From(usize),
}

/// Activations of one batch (buffers grow to the largest batch seen and are then reused), and
/// the spin pool that runs single-token steps.
pub struct RunState {
    /// Residual stream, n × hidden.
    x: Vec<f32>,
    /// Normed input of a sub-block, n × hidden.
    h: Vec<f32>,
    /// n × q_dim, n × kv_dim, n × kv_dim.
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    /// Attention output (n × q_dim), then its sub-norm.
    att: Vec<f32>,
    att_normed: Vec<f32>,
    /// Output of a projection back to the residual width, n × hidden.
    proj: Vec<f32>,
    /// n × ffn.
    gate: Vec<f32>,
    up: Vec<f32>,
    gate_normed: Vec<f32>,
    /// Logits: vocab floats per wanted token.
    logits: Vec<f32>,
    /// RoPE angles of the batch's positions (the first n entries are current).
    angles: Vec<RopeAngles>,
    /// The output row rounded to F16 for an F16 LM head.
    y16: Vec<f16>,
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
            att_normed: Vec::new(),
            proj: Vec::new(),
            gate: Vec::new(),
            up: Vec::new(),
            gate_normed: Vec::new(),
            logits: Vec::new(),
            angles: Vec::new(),
            y16: Vec::new(),
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
    /// Runs `tokens` at positions `start..start+n`, storing their keys and values in `kv`, and
    /// returns the wanted logits (`vocab` floats per wanted token).
    pub fn forward<'s>(
        &self,
        st: &'s mut RunState,
        kv: &mut KvCache,
        tokens: &[u32],
        start: usize,
        want: LogitsWanted,
    ) -> &'s [f32] {
        let c = &self.config;
        let w = &self.weights;
        let file = self.file.bytes();
        let n = tokens.len();
        let (hid, qd, kvd, ffn) = (c.hidden, c.q_dim(), c.kv_dim(), c.ffn);
        assert!(start + n <= kv.capacity(), "the caller keeps batches within the context");

        // x = embedding rows of the tokens.
        let x = sized(&mut st.x, n * hid);
        for (row, &tok) in x.chunks_exact_mut(hid).zip(tokens) {
            w.token_embd.dequantize_row(file, tok as usize, row);
        }
        if st.angles.len() < n {
            st.angles.resize_with(n, RopeAngles::default);
        }
        let angles = &mut st.angles[..n];
        for (t, a) in angles.iter_mut().enumerate() {
            a.set(start + t, c.head_dim, c.rope_base);
        }

        for (l, layer) in w.layers.iter().enumerate() {
            // Attention: norm → Q, K, V → RoPE → cache → attend → (sub-norm) → output proj → residual.
            let h = sized(&mut st.h, n * hid);
            rms_norm_rows(&st.x, &layer.attn_norm, c.rms_eps, h);
            let q = sized(&mut st.q, n * qd);
            linear(&layer.wq, file, h, q, &mut st.acts, &st.pool);
            st.acts.keep_for_next(); // K and V read the same normed input as Q
            let k = sized(&mut st.k, n * kvd);
            linear(&layer.wk, file, h, k, &mut st.acts, &st.pool);
            st.acts.keep_for_next();
            let v = sized(&mut st.v, n * kvd);
            linear(&layer.wv, file, h, v, &mut st.acts, &st.pool);
            for (t, a) in angles.iter().enumerate() {
                a.apply(&mut q[t * qd..(t + 1) * qd], c.head_dim, c.rope_style);
                a.apply(&mut k[t * kvd..(t + 1) * kvd], c.head_dim, c.rope_style);
            }
            kv.store(l, start, k, v);
            let att = sized(&mut st.att, n * qd);
            attention(c, kv, l, q, start, att, &st.pool);
            let att_in: &[f32] = match &layer.attn_sub_norm {
                Some(norm) => {
                    let normed = sized(&mut st.att_normed, n * qd);
                    rms_norm_rows(att, norm, c.rms_eps, normed);
                    normed
                }
                None => att,
            };
            let proj = sized(&mut st.proj, n * hid);
            linear(&layer.wo, file, att_in, proj, &mut st.acts, &st.pool);
            add_assign(&mut st.x, proj);

            // FFN: norm → gate, up → act(gate)·up → (sub-norm) → down proj → residual.
            let h = sized(&mut st.h, n * hid);
            rms_norm_rows(&st.x, &layer.ffn_norm, c.rms_eps, h);
            let gate = sized(&mut st.gate, n * ffn);
            linear(&layer.w_gate, file, h, gate, &mut st.acts, &st.pool);
            st.acts.keep_for_next(); // up reads the same input as gate
            let up = sized(&mut st.up, n * ffn);
            linear(&layer.w_up, file, h, up, &mut st.acts, &st.pool);
            gated_activation(gate, up, ffn, c.ffn_activation);
            let down_in: &[f32] = match &layer.ffn_sub_norm {
                Some(norm) => {
                    let normed = sized(&mut st.gate_normed, n * ffn);
                    rms_norm_rows(gate, norm, c.rms_eps, normed);
                    normed
                }
                None => gate,
            };
            let proj = sized(&mut st.proj, n * hid);
            linear(&layer.w_down, file, down_in, proj, &mut st.acts, &st.pool);
            add_assign(&mut st.x, proj);
        }

        // Final norm and LM head, for the rows that need logits.
        let rows = match want {
            LogitsWanted::Last => &st.x[(n - 1) * hid..],
            LogitsWanted::From(first) => &st.x[first.min(n - 1) * hid..],
        };
        let y = sized(&mut st.h, rows.len());
        rms_norm_rows(rows, &w.output_norm, c.rms_eps, y);
        let n_out = rows.len() / hid;
        let logits = sized(&mut st.logits, n_out * c.vocab_size);
        if let Some(RepackedHead::Blocks { lin, data }) = &self.head {
            linear(lin, data, y, logits, &mut st.acts, &st.pool);
        } else if let Some(RepackedHead::I8(head)) = &self.head {
            // Int8 head: quantize each output row like a BitLinear input, exact integer dots.
            st.acts.quantize(y, hid);
            let acts = st.acts.rows(n_out);
            let row = |r: usize, a: &QuantRow| dot_i8(head.row(r), &a.q) as f32 * head.scales[r] / a.scale;
            if n_out == 1 {
                st.pool.for_each_chunk(logits, HEAD_GRANULE, |start, chunk| {
                    for (r, out) in (start..).zip(chunk.iter_mut()) {
                        *out = row(r, &acts[0]);
                    }
                });
            } else {
                par_token_chunks(n_out, c.vocab_size, logits, |tokens, out| {
                    // Row-outer, so each head row is read once for the chunk's tokens.
                    for r in 0..c.vocab_size {
                        for (t, a) in acts[tokens.clone()].iter().enumerate() {
                            out[t * c.vocab_size + r] = row(r, a);
                        }
                    }
                });
            }
        } else if n_out == 1 && w.output.ty == TensorType::F16 {
            // One output row: ggml converts it to F16 and dots in F32 (spec D, "LM head").
            st.y16.clear();
            st.y16.extend(y.iter().map(|&v| f16::from_f32(v)));
            let y16 = &st.y16;
            let head = &file[w.output.bytes.clone()];
            let row_bytes = w.output.row_bytes();
            st.pool.for_each_chunk(logits, HEAD_GRANULE, |start, chunk| {
                for (r, out) in (start..).zip(chunk.iter_mut()) {
                    *out = dot_f16(y16, f16_slice(&head[r * row_bytes..(r + 1) * row_bytes]));
                }
            });
        } else {
            linear(&w.output, file, y, logits, &mut st.acts, &st.pool);
        }
        &st.logits[..n_out * c.vocab_size]
    }
}
