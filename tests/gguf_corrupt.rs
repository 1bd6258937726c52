//! The corrupt-file suite: truncations, byte flips, absurd counts, offsets past the end and an
//! unknown tensor type. Every case must return (an error where the file is broken), never panic,
//! and never allocate more than the file's size while parsing.

mod common;

use std::sync::Mutex;

use bitnet_tui::gguf::{parse_header, GgufErrorKind, GgufFile};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{CountingAlloc, Mark};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// The tests measure a shared counter, so they run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Parses `bytes` and returns the outcome plus the most heap it held above the starting level.
fn parse_measured(bytes: &[u8]) -> (Result<(), GgufErrorKind>, usize) {
    let mark = Mark::now();
    let outcome = std::panic::catch_unwind(|| parse_header("corrupt.gguf", bytes).map(|_| ()).map_err(|e| e.kind));
    let usage = mark.usage();
    // The high-water mark includes every single block, or the counter is broken.
    assert!(usage.largest <= usage.peak_extra, "{usage:?}");
    let extra = usage.peak_extra;
    match outcome {
        Ok(result) => (result, extra),
        Err(_) => panic!("the parser panicked"),
    }
}

fn fixture() -> Vec<u8> {
    std::fs::read(common::bitnet_tiny()).unwrap()
}

/// Byte offsets of a few header fields of the fixture, found by walking it the way the reader does.
struct Layout0 {
    tensor_count: usize,
    kv_count: usize,
    tokens_array_len: usize,
    first_tensor_info: usize,
}

fn layout(bytes: &[u8]) -> Layout0 {
    let file = GgufFile::from_bytes("fixture", bytes.to_vec()).unwrap();
    // tokenizer.ggml.tokens is key 15: find its length field by searching for the key text.
    let key = b"tokenizer.ggml.tokens";
    let at = bytes.windows(key.len()).position(|w| w == key).unwrap();
    let tokens_array_len = at + key.len() + 4 + 4; // value type u32, element type u32, then the count
    let name = b"token_embd.weight";
    let first_tensor_info = bytes.windows(name.len()).position(|w| w == name).unwrap() - 8;
    assert_eq!(file.tensors()[0].name, "token_embd.weight");
    Layout0 { tensor_count: 8, kv_count: 16, tokens_array_len, first_tensor_info }
}

#[test]
fn truncated_at_200_points_always_errors() {
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let bytes = fixture();
    let n = bytes.len();
    for i in 0..200 {
        // Dense over the header (where parsing decisions are), then spread over the data.
        let cut = if i < 100 { i * 80_000 / 100 } else { 8_000_000 + (i - 100) * (n - 8_000_000) / 100 };
        let cut = cut.min(n - 1);
        let (result, extra) = parse_measured(&bytes[..cut]);
        assert!(result.is_err(), "truncated at {cut} parsed fine");
        assert!(extra <= cut.max(4096), "truncated at {cut}: {extra} bytes allocated");
    }
}

#[test]
fn every_header_byte_flipped_never_panics_or_overallocates() {
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut bytes = fixture();
    let n = bytes.len();
    let mut errors = 0;
    for i in 0..4096 {
        bytes[i] ^= 0xff;
        let (result, extra) = parse_measured(&bytes);
        bytes[i] ^= 0xff;
        assert!(extra <= n, "flip at {i}: {extra} bytes allocated for a {n}-byte file");
        if i < 8 {
            assert!(result.is_err(), "flip in magic/version at {i} parsed fine");
        }
        errors += result.is_err() as usize;
    }
    // Flips inside string values (a name, a token's text) can leave a valid file; most flips can't.
    assert!(errors > 2048, "only {errors} of 4096 flips were detected");
}

#[test]
fn counts_of_2_pow_60_are_rejected() {
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let bytes = fixture();
    let l = layout(&bytes);
    for (field, at) in
        [("tensor count", l.tensor_count), ("metadata count", l.kv_count), ("array length", l.tokens_array_len)]
    {
        let mut b = bytes.clone();
        b[at..at + 8].copy_from_slice(&(1u64 << 60).to_le_bytes());
        let (result, extra) = parse_measured(&b);
        assert!(
            matches!(result, Err(GgufErrorKind::CountTooLarge { count, .. }) if count == 1 << 60),
            "{field}: {result:?}"
        );
        assert!(extra <= bytes.len(), "{field}: {extra} bytes allocated");
    }
    // A string length of 2^60.
    let mut b = bytes.clone();
    b[l.first_tensor_info..l.first_tensor_info + 8].copy_from_slice(&(1u64 << 60).to_le_bytes());
    let (result, _) = parse_measured(&b);
    assert!(matches!(result, Err(GgufErrorKind::Truncated { .. })), "{result:?}");
}

#[test]
fn offsets_beyond_the_end_and_unknown_types_are_rejected() {
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let bytes = fixture();
    let l = layout(&bytes);
    // Tensor info: name (8 + 17 bytes), n_dims u32, 2 dims u64, type u32, offset u64.
    let info = l.first_tensor_info + 8 + "token_embd.weight".len();
    let type_at = info + 4 + 16;
    let offset_at = type_at + 4;

    let mut b = bytes.clone();
    b[offset_at..offset_at + 8].copy_from_slice(&(bytes.len() as u64).to_le_bytes());
    let (result, _) = parse_measured(&b);
    assert!(
        matches!(result, Err(GgufErrorKind::OutOfBounds { ref tensor, .. }) if tensor == "token_embd.weight"),
        "{result:?}"
    );

    let mut b = bytes.clone();
    b[offset_at..offset_at + 8].copy_from_slice(&(u64::MAX - 31).to_le_bytes());
    let (result, _) = parse_measured(&b);
    assert!(matches!(result, Err(GgufErrorKind::OutOfBounds { .. })), "{result:?}");

    let mut b = bytes.clone();
    b[offset_at..offset_at + 8].copy_from_slice(&4u64.to_le_bytes());
    let (result, _) = parse_measured(&b);
    assert!(matches!(result, Err(GgufErrorKind::Misaligned { .. })), "{result:?}");

    // Moving the embedding onto the next tensor's bytes makes them overlap.
    let mut b = bytes.clone();
    b[offset_at..offset_at + 8].copy_from_slice(&32u64.to_le_bytes());
    let (result, _) = parse_measured(&b);
    assert!(matches!(result, Err(GgufErrorKind::Overlap { .. } | GgufErrorKind::OutOfBounds { .. })), "{result:?}");

    let mut b = bytes.clone();
    b[type_at..type_at + 4].copy_from_slice(&99u32.to_le_bytes());
    let (result, _) = parse_measured(&b);
    match result {
        Err(GgufErrorKind::UnsupportedTensorType { tensor, type_desc, .. }) => {
            assert_eq!(tensor, "token_embd.weight");
            assert!(type_desc.contains("99"), "{type_desc}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn errors_name_the_file_and_the_field() {
    let _serial = SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let bytes = fixture();
    let err = GgufFile::from_bytes("models/broken.gguf", bytes[..5000].to_vec()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("models/broken.gguf: "), "{msg}");
    assert!(msg.contains("\"tokenizer.ggml.tokens\" at byte 740"), "{msg}");
    let err = GgufFile::from_bytes("cut.gguf", bytes[..12].to_vec()).unwrap_err();
    assert!(err.to_string().starts_with("cut.gguf: the file is truncated: "), "{err}");
    let err = GgufFile::open("/nonexistent/model.gguf").unwrap_err();
    assert!(err.to_string().starts_with("/nonexistent/model.gguf: cannot read the file"), "{err}");
}
