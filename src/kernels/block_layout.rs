//! Each tensor type's block as a `#[repr(C)]` struct, ggml's `block_q4_0` and friends: the one
//! statement of a block's fields, their order and its size. The kernels read blocks as bytes, but
//! take their sizes and field offsets from here (`size_of`, `offset_of!`), and the type table's
//! test ties every type's block size to the GGUF reader's. Scales are little-endian f16 bit
//! patterns (`u16`), as in the file.

/// F32: one weight.
#[repr(C)]
pub struct BlockF32 {
    pub v: f32,
}

/// F16: one weight.
#[repr(C)]
pub struct BlockF16 {
    pub v: u16,
}

/// BF16: one weight (the top half of an f32).
#[repr(C)]
pub struct BlockBF16 {
    pub v: u16,
}

/// Q4_0: 32 weights, value = (q − 8)·d; elements 0..16 in the low nibbles, 16..32 in the high.
#[repr(C)]
pub struct BlockQ4_0 {
    pub d: u16,
    pub qs: [u8; 16],
}

/// Q4_1: 32 weights, value = q·d + m.
#[repr(C)]
pub struct BlockQ4_1 {
    pub d: u16,
    pub m: u16,
    pub qs: [u8; 16],
}

/// Q5_0: 32 weights, value = (q − 16)·d; bit 4 of element j is bit j of `qh`.
#[repr(C)]
pub struct BlockQ5_0 {
    pub d: u16,
    pub qh: [u8; 4],
    pub qs: [u8; 16],
}

/// Q5_1: 32 weights, value = q·d + m.
#[repr(C)]
pub struct BlockQ5_1 {
    pub d: u16,
    pub m: u16,
    pub qh: [u8; 4],
    pub qs: [u8; 16],
}

/// Q8_0: 32 weights, value = q·d.
#[repr(C)]
pub struct BlockQ8_0 {
    pub d: u16,
    pub qs: [i8; 32],
}

/// Q6_K: a super-block of 256 weights in 16 sub-blocks, value = d·scale·(q − 32).
#[repr(C)]
pub struct BlockQ6K {
    /// Low 4 bits.
    pub ql: [u8; 128],
    /// High 2 bits.
    pub qh: [u8; 64],
    pub scales: [i8; 16],
    pub d: u16,
}

/// TQ1_0: 256 ternary weights, 5 trits per `qs` byte and 4 per `qh` byte; value = (trit − 1)·d.
#[repr(C)]
pub struct BlockTQ1_0 {
    pub qs: [u8; 48],
    pub qh: [u8; 4],
    pub d: u16,
}

/// TQ2_0: 256 ternary weights as 2-bit codes; value = (code − 1)·d.
#[repr(C)]
pub struct BlockTQ2_0 {
    pub qs: [u8; 64],
    pub d: u16,
}

/// I2_S: 128 consecutive weights of a row as four 32-weight planes of 2-bit codes (byte j holds
/// elements j, j+32, j+64, j+96); the scale is one f32 per tensor, after the last block.
#[repr(C)]
pub struct BlockI2S {
    pub qs: [u8; 32],
}
