//! A global allocator that counts live heap bytes, their high-water mark and the largest single
//! request, so a parser can be held to "no more memory than its input" (the corrupt-GGUF suite
//! and the fuzz targets register it with `#[global_allocator]`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct CountingAlloc;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// What a piece of code allocated, measured from a [`Mark`].
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// The most heap held at once above the level at the mark.
    pub peak_extra: usize,
    /// The largest single allocation.
    pub largest: usize,
}

/// A starting point for [`Mark::usage`]. The counters are global: measure one thing at a time.
pub struct Mark {
    base: usize,
}

impl Mark {
    pub fn now() -> Mark {
        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        LARGEST.store(0, Ordering::Relaxed);
        Mark { base }
    }

    pub fn usage(&self) -> Usage {
        Usage {
            peak_extra: PEAK.load(Ordering::Relaxed).saturating_sub(self.base),
            largest: LARGEST.load(Ordering::Relaxed),
        }
    }
}
