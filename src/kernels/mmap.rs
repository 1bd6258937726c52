//! Read-only file mapping, and [`GgufFile::open`], which maps a model. Mapping is the one `unsafe`
//! operation outside the SIMD kernels; it lives here so that every `unsafe` in the crate stays
//! under `src/kernels/` (the GGUF reader itself only parses bytes).

use std::fs::File;
use std::io;
use std::path::Path;

use memmap2::{Mmap, MmapOptions};

use crate::gguf::{GgufError, GgufErrorKind, GgufFile};

impl GgufFile {
    /// Maps and parses `path`. Tensor data are not read (no page of them is touched).
    pub fn open(path: impl AsRef<Path>) -> crate::gguf::Result<Self> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let io_err = |e: io::Error| GgufError::new(&name, GgufErrorKind::Io(e.to_string()));
        // Asked before opening: opening a FIFO would block until a writer comes.
        let kind = std::fs::metadata(path).map_err(io_err)?.file_type();
        if !kind.is_file() {
            let what = if kind.is_dir() { "a directory" } else { "not a regular file (a FIFO, socket or device)" };
            return Err(io_err(io::Error::other(format!("it is {what}; give the path of a .gguf file"))));
        }
        let file = File::open(path).map_err(io_err)?;
        let map = map_readonly(&file).map_err(io_err)?;
        super::map_fault::watch(map.as_ptr() as usize, map.len(), &name);
        GgufFile::from_map(name, map, Some(file))
    }
}

/// Maps `file` read-only.
pub fn map_readonly(file: &File) -> io::Result<Mmap> {
    // SAFETY: the map is read-only and private to us. If another process truncates or rewrites the
    // file while it is mapped, reads may see new bytes or fault (SIGBUS, which `map_fault` turns
    // into a clear exit for model files); the header is re-checked against the mapped length, so
    // no offset we compute points outside the map.
    unsafe { MmapOptions::new().map(file) }
}

/// Lets the kernel drop this process's mappings of `len` bytes at `offset` (MADV_DONTNEED): the
/// pages stay in the page cache, and a later read faults them back in. Used after the F16 LM head
/// was repacked, so the 657 MB of embedding rows no longer count in our RSS until a token's row is read.
pub fn release_range(map: &Mmap, offset: usize, len: usize) -> io::Result<()> {
    // SAFETY: the map is a read-only, shared file mapping: MADV_DONTNEED only drops our page
    // table entries, and the next access reads the same file bytes back, so no borrowed slice
    // of the map can observe a change.
    unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, offset, len) }
}

/// Gives the heap's free pages back to the OS (glibc keeps freed memory in its arenas, and its
/// growing mmap threshold moves large buffers into them): called after a model is dropped, so
/// switching models does not ratchet the resident size up by the old model's buffers.
pub fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own arenas; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}
