//! The F16 key/value cache, preallocated for the whole context.
//!
//! Layout `[layer][kv_head][position][head_dim]`, so attention streams one head's keys
//! contiguously. 2B4T: 30 layers × 2 × 5 heads × 128 × 2 B = 76.8 KB per position.

use half::f16;

#[derive(Debug)]
pub struct KvCache {
    n_kv_heads: usize,
    head_dim: usize,
    capacity: usize,
    k: Vec<f16>,
    v: Vec<f16>,
}

impl KvCache {
    pub fn new(n_layers: usize, n_kv_heads: usize, head_dim: usize, capacity: usize) -> Self {
        let n = n_layers * n_kv_heads * capacity * head_dim;
        Self { n_kv_heads, head_dim, capacity, k: vec![f16::ZERO; n], v: vec![f16::ZERO; n] }
    }

    /// Positions the cache can hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn bytes(&self) -> usize {
        (self.k.len() + self.v.len()) * 2
    }

    fn at(&self, layer: usize, kv_head: usize, pos: usize) -> usize {
        ((layer * self.n_kv_heads + kv_head) * self.capacity + pos) * self.head_dim
    }

    /// Stores the keys and values of `n` consecutive positions from `start`; `k` and `v` are
    /// `n × (n_kv_heads·head_dim)` f32 rows, rounded to f16 here.
    pub fn store(&mut self, layer: usize, start: usize, k: &[f32], v: &[f32]) {
        let kv_dim = self.n_kv_heads * self.head_dim;
        for (t, (k_row, v_row)) in k.chunks_exact(kv_dim).zip(v.chunks_exact(kv_dim)).enumerate() {
            for h in 0..self.n_kv_heads {
                let at = self.at(layer, h, start + t);
                let src = h * self.head_dim..(h + 1) * self.head_dim;
                for (dst, &x) in self.k[at..at + self.head_dim].iter_mut().zip(&k_row[src.clone()]) {
                    *dst = f16::from_f32(x);
                }
                for (dst, &x) in self.v[at..at + self.head_dim].iter_mut().zip(&v_row[src]) {
                    *dst = f16::from_f32(x);
                }
            }
        }
    }

    /// Keys of positions `0..len` of one head, `len × head_dim`.
    pub fn keys(&self, layer: usize, kv_head: usize, len: usize) -> &[f16] {
        let at = self.at(layer, kv_head, 0);
        &self.k[at..at + len * self.head_dim]
    }

    /// Values of positions `0..len` of one head, `len × head_dim`.
    pub fn values(&self, layer: usize, kv_head: usize, len: usize) -> &[f16] {
        let at = self.at(layer, kv_head, 0);
        &self.v[at..at + len * self.head_dim]
    }
}
