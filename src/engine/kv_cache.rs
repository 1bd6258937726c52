//! The key/value caches of many sequences in one pool, each grown as its context grows, in F16
//! or Q8_0 ([`KvType`]).
//!
//! A sequence's cache keeps one growable slab per (layer, KV head), `[position][head_dim]`, so
//! attention streams one head's keys contiguously. A slab grows by at least an eighth of its size
//! (amortized copying) and at least [`GROW_POSITIONS`] positions, so a sequence holds at most about
//! 1/8 more than it uses. 2B4T: 30 layers × 2 × 5 heads × 128 × 2 B = 76.8 KB per position in
//! F16, 40.8 KB in Q8_0.
//!
//! [`KvCache`] is one sequence with its own pool: what single-sequence callers (tests, benches)
//! hand to [`crate::engine::model::Model::forward`].

use half::f16;

use crate::engine::protocol::KvType;
use crate::kernels::attn::KvRows;
use crate::kernels::q8_0::{quantize_row_q8_0, Q8_0_BYTES, Q8_0_VALUES};

/// A sequence's slot in a [`KvPool`].
pub type SeqId = usize;

/// The smallest growth of a sequence's slabs, in positions.
const GROW_POSITIONS: usize = 8;

/// One (layer, KV head)'s rows of positions.
#[derive(Debug, Clone)]
enum Slab {
    F16(Vec<f16>),
    /// Q8_0 blocks as bytes.
    Q8(Vec<u8>),
}

impl Slab {
    fn new(kind: KvType) -> Self {
        match kind {
            KvType::F16 => Self::F16(Vec::new()),
            KvType::Q8 => Self::Q8(Vec::new()),
        }
    }

    /// Elements of its vector per position.
    fn row_len(&self, head_dim: usize) -> usize {
        match self {
            Self::F16(_) => head_dim,
            Self::Q8(_) => head_dim / Q8_0_VALUES * Q8_0_BYTES,
        }
    }

    /// Room for exactly `positions`, keeping the rows it holds.
    fn resize(&mut self, positions: usize, head_dim: usize) {
        let len = positions * self.row_len(head_dim);
        match self {
            Self::F16(v) => {
                v.reserve_exact(len.saturating_sub(v.len()));
                v.resize(len, f16::ZERO);
            }
            Self::Q8(v) => {
                v.reserve_exact(len.saturating_sub(v.len()));
                v.resize(len, 0);
            }
        }
    }

    /// A copy of its first `positions` rows.
    fn prefix(&self, positions: usize, head_dim: usize) -> Self {
        let len = positions * self.row_len(head_dim);
        match self {
            Self::F16(v) => Self::F16(v[..len].to_vec()),
            Self::Q8(v) => Self::Q8(v[..len].to_vec()),
        }
    }

    /// Writes position `pos`'s row (rounded to f16, or quantized).
    fn write(&mut self, pos: usize, head_dim: usize, x: &[f32]) {
        let row = pos * self.row_len(head_dim)..(pos + 1) * self.row_len(head_dim);
        match self {
            Self::F16(v) => {
                for (d, &x) in v[row].iter_mut().zip(x) {
                    *d = f16::from_f32(x);
                }
            }
            Self::Q8(v) => quantize_row_q8_0(x, &mut v[row]),
        }
    }

    /// Its first `positions` rows.
    fn rows(&self, positions: usize, head_dim: usize) -> KvRows<'_> {
        let len = positions * self.row_len(head_dim);
        match self {
            Self::F16(v) => KvRows::F16(&v[..len]),
            Self::Q8(v) => KvRows::Q8(&v[..len]),
        }
    }
}

/// One sequence's keys and values.
#[derive(Debug, Clone)]
struct SeqCache {
    /// Positions held.
    len: usize,
    /// Positions the slabs have room for.
    capacity: usize,
    /// `n_layers × n_kv_heads` slabs each.
    k: Vec<Slab>,
    v: Vec<Slab>,
}

/// The caches of every live sequence.
#[derive(Debug)]
pub struct KvPool {
    n_kv_heads: usize,
    head_dim: usize,
    slabs: usize,
    kind: KvType,
    /// Slots; a freed one is None until reused.
    seqs: Vec<Option<SeqCache>>,
}

impl KvPool {
    /// A pool in F16.
    pub fn new(n_layers: usize, n_kv_heads: usize, head_dim: usize) -> Self {
        Self::with_type(n_layers, n_kv_heads, head_dim, KvType::F16)
    }

    /// A pool in `kind`; Q8_0 needs `head_dim` to be a multiple of 32 (the model checks it when it
    /// loads with `--kv q8`).
    pub fn with_type(n_layers: usize, n_kv_heads: usize, head_dim: usize, kind: KvType) -> Self {
        assert!(kind == KvType::F16 || head_dim.is_multiple_of(Q8_0_VALUES), "Q8_0 rows are whole blocks of 32");
        Self { n_kv_heads, head_dim, slabs: n_layers * n_kv_heads, kind, seqs: Vec::new() }
    }

    /// A new empty sequence.
    pub fn alloc(&mut self) -> SeqId {
        let slabs = || vec![Slab::new(self.kind); self.slabs];
        let empty = SeqCache { len: 0, capacity: 0, k: slabs(), v: slabs() };
        match self.seqs.iter().position(Option::is_none) {
            Some(id) => {
                self.seqs[id] = Some(empty);
                id
            }
            None => {
                self.seqs.push(Some(empty));
                self.seqs.len() - 1
            }
        }
    }

    /// Drops a sequence and returns its memory.
    pub fn free(&mut self, seq: SeqId) {
        if let Some(slot) = self.seqs.get_mut(seq) {
            *slot = None;
        }
    }

    /// A new sequence holding a copy of the first `len` positions of `seq` (a branch point).
    pub fn fork(&mut self, seq: SeqId, len: usize) -> SeqId {
        let (source, hd) = (self.seq(seq), self.head_dim);
        let len = len.min(source.len);
        // Only the shared positions are copied: a long conversation's branch point may be early.
        let head = |slabs: &[Slab]| slabs.iter().map(|slab| slab.prefix(len, hd)).collect();
        let copy = SeqCache { len, capacity: len, k: head(&source.k), v: head(&source.v) };
        let id = self.alloc();
        self.seqs[id] = Some(copy);
        id
    }

    /// Forgets every position from `len` on (a rollback; the memory stays for the next tokens).
    pub fn truncate(&mut self, seq: SeqId, len: usize) {
        let s = self.seq_mut(seq);
        s.len = s.len.min(len);
    }

    /// Positions `seq` holds.
    pub fn len(&self, seq: SeqId) -> usize {
        self.seq(seq).len
    }

    /// Whether `seq` holds no position.
    pub fn is_empty(&self, seq: SeqId) -> bool {
        self.len(seq) == 0
    }

    /// Bytes the pool's slabs have allocated.
    pub fn bytes(&self) -> usize {
        self.seqs.iter().flatten().map(|s| s.capacity * self.position_bytes()).sum()
    }

    /// Bytes the slabs of `seq` have allocated (room beyond its held positions included).
    pub fn seq_bytes(&self, seq: SeqId) -> usize {
        self.seq(seq).capacity * self.position_bytes()
    }

    /// Bytes of one position of a sequence: its keys and values in every layer.
    pub fn position_bytes(&self) -> usize {
        self.slabs * 2 * Slab::new(self.kind).row_len(self.head_dim) * self.element_bytes()
    }

    fn element_bytes(&self) -> usize {
        match self.kind {
            KvType::F16 => std::mem::size_of::<f16>(),
            KvType::Q8 => 1,
        }
    }

    /// Makes room for position `pos` of `seq` (its next one) and counts it as held; its keys and
    /// values are written by [`KvPool::store`] for each layer.
    pub fn push_position(&mut self, seq: SeqId, pos: usize) -> anyhow::Result<()> {
        let hd = self.head_dim;
        let s = self.seq_mut(seq);
        anyhow::ensure!(pos == s.len, "position {pos} does not follow the {} positions sequence {seq} holds", s.len);
        if s.len == s.capacity {
            let capacity = s.capacity + (s.capacity / 8).max(GROW_POSITIONS);
            for slab in s.k.iter_mut().chain(s.v.iter_mut()) {
                slab.resize(capacity, hd);
            }
            s.capacity = capacity;
        }
        s.len += 1;
        Ok(())
    }

    /// Stores one position's keys and values (`n_kv_heads·head_dim` f32 each, rounded to f16 or
    /// quantized to Q8_0).
    pub fn store(&mut self, layer: usize, seq: SeqId, pos: usize, k: &[f32], v: &[f32]) {
        let (hd, heads) = (self.head_dim, self.n_kv_heads);
        let s = self.seq_mut(seq);
        for h in 0..heads {
            let slab = layer * heads + h;
            let src = h * hd..(h + 1) * hd;
            s.k[slab].write(pos, hd, &k[src.clone()]);
            s.v[slab].write(pos, hd, &v[src]);
        }
    }

    /// Keys of positions `0..len` of one head.
    pub fn keys(&self, seq: SeqId, layer: usize, kv_head: usize, len: usize) -> KvRows<'_> {
        self.seq(seq).k[layer * self.n_kv_heads + kv_head].rows(len, self.head_dim)
    }

    /// Values of positions `0..len` of one head.
    pub fn values(&self, seq: SeqId, layer: usize, kv_head: usize, len: usize) -> KvRows<'_> {
        self.seq(seq).v[layer * self.n_kv_heads + kv_head].rows(len, self.head_dim)
    }

    fn seq(&self, seq: SeqId) -> &SeqCache {
        self.seqs.get(seq).and_then(Option::as_ref).unwrap_or_else(|| panic!("sequence {seq} is not in the KV pool"))
    }

    fn seq_mut(&mut self, seq: SeqId) -> &mut SeqCache {
        self.seqs
            .get_mut(seq)
            .and_then(Option::as_mut)
            .unwrap_or_else(|| panic!("sequence {seq} is not in the KV pool"))
    }
}

/// One sequence's cache with a fixed capacity: the single-sequence form of [`KvPool`].
#[derive(Debug)]
pub struct KvCache {
    pub(crate) pool: KvPool,
    pub(crate) seq: SeqId,
    capacity: usize,
}

impl KvCache {
    /// One sequence of `capacity` positions in a pool of its own.
    pub fn new(mut pool: KvPool, capacity: usize) -> Self {
        let seq = pool.alloc();
        Self { pool, seq, capacity }
    }

    /// Positions the cache can hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Positions it holds.
    pub fn len(&self) -> usize {
        self.pool.len(self.seq)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f16_rows(rows: KvRows<'_>) -> &[f16] {
        match rows {
            KvRows::F16(v) => v,
            KvRows::Q8(_) => panic!("an F16 pool"),
        }
    }

    fn filled(pool: &mut KvPool, seq: SeqId, positions: std::ops::Range<usize>) {
        for pos in positions {
            pool.push_position(seq, pos).unwrap();
            let row: Vec<f32> = (0..8).map(|i| (pos * 10 + i) as f32).collect();
            pool.store(0, seq, pos, &row, &row);
        }
    }

    #[test]
    fn sequences_grow_independently_and_keep_their_values() {
        let mut pool = KvPool::new(1, 2, 4);
        let (a, b) = (pool.alloc(), pool.alloc());
        filled(&mut pool, a, 0..40);
        filled(&mut pool, b, 0..3);
        assert_eq!((pool.len(a), pool.len(b)), (40, 3));
        assert_eq!(f16_rows(pool.keys(a, 0, 1, 40))[39 * 4..], [394.0, 395.0, 396.0, 397.0].map(f16::from_f32));
        assert_eq!(f16_rows(pool.values(b, 0, 0, 3))[8..], [20.0, 21.0, 22.0, 23.0].map(f16::from_f32));
        // Growth is bounded: 40 positions fit in 40 (8 at a time up to 64), 3 in 8.
        assert_eq!(pool.bytes(), (40 + 8) * 2 * 4 * 2 * 2);
    }

    #[test]
    fn positions_must_follow_the_held_ones() {
        let mut pool = KvPool::new(1, 1, 4);
        let a = pool.alloc();
        let err = pool.push_position(a, 1).unwrap_err().to_string();
        assert!(err.contains("does not follow the 0 positions"), "{err}");
    }

    #[test]
    fn fork_truncate_and_free() {
        let mut pool = KvPool::new(1, 2, 4);
        let a = pool.alloc();
        filled(&mut pool, a, 0..20);
        let b = pool.fork(a, 5);
        assert_eq!(pool.len(b), 5);
        assert_eq!(pool.keys(b, 0, 0, 5), pool.keys(a, 0, 0, 5));
        filled(&mut pool, b, 5..7);
        assert_eq!(pool.len(a), 20, "the fork's growth leaves the original alone");
        pool.truncate(a, 3);
        assert_eq!(pool.len(a), 3);
        pool.free(a);
        assert_eq!(pool.alloc(), a, "a freed slot is reused");
    }

    #[test]
    fn a_q8_pool_stores_blocks_at_about_half_the_bytes() {
        let mut pool = KvPool::with_type(2, 1, 64, KvType::Q8);
        let a = pool.alloc();
        for pos in 0..3 {
            pool.push_position(a, pos).unwrap();
            let row: Vec<f32> = (0..64).map(|i| (pos * 64 + i) as f32 / 10.0).collect();
            pool.store(1, a, pos, &row, &row);
        }
        // 8 positions of room × 2 layers × (K, V) × 2 blocks of 34 bytes.
        assert_eq!(pool.bytes(), 8 * 2 * 2 * 2 * Q8_0_BYTES);
        let KvRows::Q8(bytes) = pool.keys(a, 1, 0, 3) else { panic!("a Q8_0 pool") };
        assert_eq!(bytes.len(), 3 * 2 * Q8_0_BYTES);
        let mut back = vec![0f32; 3 * 64];
        crate::kernels::q8_0::dequantize_row_q8_0(bytes, &mut back);
        // Each value within a step (its block's max / 127) of what was stored.
        for (i, v) in back.iter().enumerate() {
            let (want, block_max) = (i as f32 / 10.0, (i | 31) as f32 / 10.0);
            assert!((v - want).abs() <= block_max / 127.0, "{i}: {v} vs {want}");
        }
        let b = pool.fork(a, 2);
        assert_eq!(pool.values(b, 1, 0, 2), pool.values(a, 1, 0, 2));
    }
}
