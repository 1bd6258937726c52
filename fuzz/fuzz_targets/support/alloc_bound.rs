//! The memory rule every target checks: no single allocation larger than the input (above a
//! floor for fixed tables), so no count or size read from the input is trusted unchecked.

#[path = "../../../tests/support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{CountingAlloc, Mark};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Small inputs still build fixed-size tables (byte maps, regex programs, hash maps).
const FLOOR: usize = 1 << 20;

/// Runs `work` on an input of `input_len` bytes and fails the run if any one allocation in it
/// was larger than the input.
pub fn within_input_size<T>(input_len: usize, work: impl FnOnce() -> T) -> T {
    let mark = Mark::now();
    let out = work();
    let usage = mark.usage();
    assert!(
        usage.largest <= input_len.max(FLOOR),
        "one allocation of {} bytes (peak {} bytes) for a {input_len}-byte input",
        usage.largest,
        usage.peak_extra
    );
    out
}
