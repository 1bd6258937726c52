//! Read-only file mapping. Mapping is the one `unsafe` operation outside the SIMD kernels; it
//! lives here so that every `unsafe` in the crate stays under `src/kernels/`.

use std::fs::File;
use std::io;

use memmap2::{Mmap, MmapOptions};

/// Maps `file` read-only.
pub fn map_readonly(file: &File) -> io::Result<Mmap> {
    // SAFETY: the map is read-only and private to us. If another process truncates or rewrites the
    // file while it is mapped, reads may see new bytes or fault (SIGBUS); that is the documented
    // contract of every mmap-based model loader (llama.cpp included), and the header is re-checked
    // against the mapped length, so no offset we compute points outside the map.
    unsafe { MmapOptions::new().map(file) }
}
