//! A persistent spin-then-park thread pool for the short parallel regions of token generation.
//!
//! Decoding one token runs a few hundred parallel regions of well under a millisecond each;
//! rayon's fork/join costs 12–53 µs per region here, a spinning hand-off under 1 µs
//! (`../shared/docs/performance-notes.md` §2.3, §3.7). Workers spin for a while after each job,
//! then yield, then sleep on a condition variable, so an idle pool costs nothing and an
//! oversubscribed machine does not collapse. The calling thread is worker 0.
//!
//! Work is claimed in chunks from a shared counter, and a worker that wakes late finds nothing
//! left instead of being waited for: the caller waits only for workers that joined the job while
//! it was open. A descheduled worker therefore delays a region by at most the chunk it holds.
//!
//! Lifetimes: a job is a borrowed closure handed to the workers through a lifetime-erased
//! pointer. A worker reads the pointer only after registering in `active` and seeing the job
//! open; the caller closes the job and waits for `active` to drain before it returns, which is
//! what makes the erasure sound.

use std::cell::UnsafeCell;
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

type Job = dyn Fn(usize) + Sync;

/// How long a worker spins, then yields, before it sleeps.
const SPIN: Duration = Duration::from_micros(50);
const YIELD: Duration = Duration::from_millis(2);

struct Shared {
    /// Bumped for every job and at shutdown; workers wait for it to move.
    epoch: AtomicU64,
    /// The current job; written only while the job is closed and no worker is active.
    job: UnsafeCell<Option<*const Job>>,
    /// Whether workers may still join the current job.
    open: AtomicBool,
    /// Workers (other than the caller) inside the current job.
    active: AtomicUsize,
    panicked: AtomicBool,
    shutdown: AtomicBool,
    sleepers: AtomicUsize,
    sleep_lock: Mutex<()>,
    wake: Condvar,
}

// SAFETY: `job` is written only by the thread inside `run` while the job is closed and `active`
// is 0, and published by the SeqCst store that opens the job; workers read it only after
// registering in `active` and seeing the job open (SeqCst). Everything else is atomics or std
// sync types.
unsafe impl Sync for Shared {}
// SAFETY: the raw pointer in `job` is only dereferenced under the protocol above.
unsafe impl Send for Shared {}

pub struct SpinPool {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
    /// Serializes `run` calls from different threads.
    running: Mutex<()>,
}

impl SpinPool {
    /// A pool of `threads` (≥ 1) workers, counting the calling thread.
    pub fn new(threads: usize) -> Self {
        let shared = Arc::new(Shared {
            epoch: AtomicU64::new(0),
            job: UnsafeCell::new(None),
            open: AtomicBool::new(false),
            active: AtomicUsize::new(0),
            panicked: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            sleepers: AtomicUsize::new(0),
            sleep_lock: Mutex::new(()),
            wake: Condvar::new(),
        });
        let workers = (1..threads.max(1))
            .map(|tid| {
                let shared = Arc::clone(&shared);
                std::thread::Builder::new()
                    .name(format!("bitnet-spin-{tid}"))
                    .spawn(move || worker(&shared, tid))
                    .expect("the OS refused to start a compute thread")
            })
            .collect();
        Self { shared, workers, running: Mutex::new(()) }
    }

    pub fn threads(&self) -> usize {
        self.workers.len() + 1
    }

    /// Runs `job(tid)` on the caller (tid 0) and on every worker that wakes while the caller is
    /// still running it, and returns when all of those are done. `job` must claim its work from
    /// shared state, since late workers may not run it at all. A panic in any of them is re-raised.
    fn run(&self, job: &(dyn Fn(usize) + Sync)) {
        if self.workers.is_empty() {
            return job(0);
        }
        let _one_at_a_time = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let s = &*self.shared;
        // SAFETY: erases the borrow's lifetime; workers use the pointer only while registered in
        // `active` during the open job, and this function waits for `active` to drain after
        // closing the job before it returns (even if `job` panics).
        let erased: *const Job = unsafe { std::mem::transmute::<&(dyn Fn(usize) + Sync), &'static Job>(job) };
        // SAFETY: the job is closed and `active` is 0 (the previous run waited for it), so no
        // worker reads `job` now.
        unsafe { *s.job.get() = Some(erased) };
        s.open.store(true, Ordering::SeqCst);
        s.epoch.fetch_add(1, Ordering::SeqCst);
        if s.sleepers.load(Ordering::SeqCst) > 0 {
            let _guard = s.sleep_lock.lock().unwrap_or_else(|p| p.into_inner());
            s.wake.notify_all();
        }
        let mine = catch_unwind(AssertUnwindSafe(|| job(0)));
        s.open.store(false, Ordering::SeqCst);
        let started = Instant::now();
        while s.active.load(Ordering::SeqCst) != 0 {
            if started.elapsed() < SPIN {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        let worker_panicked = s.panicked.swap(false, Ordering::Relaxed);
        if let Err(payload) = mine {
            std::panic::resume_unwind(payload);
        }
        if worker_panicked {
            panic!("a compute thread panicked");
        }
    }

    /// Splits `out` into chunks (multiples of `granule` elements, except the last) and runs
    /// `f(start, chunk)` on them across the pool.
    pub fn for_each_chunk<T: Send>(&self, out: &mut [T], granule: usize, f: impl Fn(usize, &mut [T]) + Sync) {
        let base = SendPtr(out.as_mut_ptr());
        self.for_each_range(out.len(), granule, |range| {
            // SAFETY: the ranges are disjoint (each handed out once) and lie within `out`, which
            // outlives this call.
            let part = unsafe { std::slice::from_raw_parts_mut(base.get().add(range.start), range.len()) };
            f(range.start, part);
        });
    }

    /// Splits the columns of the row-major `rows × width` matrix `out` into chunks (multiples of
    /// `granule` columns, except the last) and runs `f` on them across the pool, as
    /// [`SpinPool::for_each_chunk`] does with a slice: a job writes its columns of every row.
    pub fn for_each_column_chunk<T: Send>(
        &self,
        out: &mut [T],
        width: usize,
        granule: usize,
        f: impl Fn(Columns<'_, T>) + Sync,
    ) {
        let rows = out.len() / width.max(1);
        assert_eq!(rows * width, out.len(), "a matrix of whole rows");
        let base = SendPtr(out.as_mut_ptr());
        self.for_each_range(width, granule, |cols| f(Columns { base: &base, width, rows, cols }));
    }

    /// Runs `f` across the pool on disjoint ranges covering `0..len` (multiples of `granule`,
    /// except the last). Ranges go out in order from a shared counter, about eight per thread:
    /// each is a long sequential stream, and a delayed thread holds up at most one of them.
    fn for_each_range(&self, len: usize, granule: usize, f: impl Fn(Range<usize>) + Sync) {
        let granule = granule.max(1);
        let units = len.div_ceil(granule);
        let chunk = units.div_ceil(self.threads() * 8).max(1);
        let next = AtomicUsize::new(0);
        self.run(&|_| loop {
            let from = next.fetch_add(chunk, Ordering::Relaxed);
            if from >= units {
                break;
            }
            f(from * granule..((from + chunk) * granule).min(len));
        });
    }
}

/// A range of columns of a row-major matrix, handed to one job of
/// [`SpinPool::for_each_column_chunk`]: each row's part in that range is the job's alone.
pub struct Columns<'a, T> {
    base: &'a SendPtr<T>,
    width: usize,
    rows: usize,
    cols: Range<usize>,
}

impl<T> Columns<'_, T> {
    /// The columns this job owns.
    pub fn cols(&self) -> Range<usize> {
        self.cols.clone()
    }

    /// Row `r`'s part in this job's columns.
    pub fn row(&mut self, r: usize) -> &mut [T] {
        assert!(r < self.rows, "row {r} of a {}-row matrix", self.rows);
        // SAFETY: the column ranges of concurrent jobs are disjoint (handed out once by the
        // pool's counter) and lie within the matrix, which outlives the call; `&mut self` keeps
        // this job from holding two slices of one row at once.
        unsafe {
            std::slice::from_raw_parts_mut(self.base.get().add(r * self.width + self.cols.start), self.cols.len())
        }
    }
}

/// A raw pointer that may cross threads (the pool guarantees disjoint use).
struct SendPtr<T>(*mut T);
// SAFETY: only used by `for_each_chunk` and `for_each_column_chunk`, which hand out disjoint ranges.
unsafe impl<T: Send> Sync for SendPtr<T> {}
impl<T> SendPtr<T> {
    fn get(&self) -> *mut T {
        self.0
    }
}

impl Drop for SpinPool {
    fn drop(&mut self) {
        let s = &*self.shared;
        s.shutdown.store(true, Ordering::SeqCst);
        s.epoch.fetch_add(1, Ordering::SeqCst);
        {
            let _guard = s.sleep_lock.lock().unwrap_or_else(|p| p.into_inner());
            s.wake.notify_all();
        }
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

fn worker(s: &Shared, tid: usize) {
    let mut seen = 0u64;
    loop {
        let idle_since = Instant::now();
        loop {
            if s.epoch.load(Ordering::Acquire) != seen {
                break;
            }
            let idle = idle_since.elapsed();
            if idle < SPIN {
                std::hint::spin_loop();
            } else if idle < YIELD {
                std::thread::yield_now();
            } else {
                let guard = s.sleep_lock.lock().unwrap_or_else(|p| p.into_inner());
                s.sleepers.fetch_add(1, Ordering::SeqCst);
                let mut guard = guard;
                while s.epoch.load(Ordering::SeqCst) == seen {
                    guard = s.wake.wait(guard).unwrap_or_else(|p| p.into_inner());
                }
                s.sleepers.fetch_sub(1, Ordering::SeqCst);
            }
        }
        seen = s.epoch.load(Ordering::Acquire);
        if s.shutdown.load(Ordering::Acquire) {
            return;
        }
        s.active.fetch_add(1, Ordering::SeqCst);
        if s.open.load(Ordering::SeqCst) {
            // SAFETY: registered in `active` while the job is open, so `job` holds the current
            // job and stays valid until we deregister (the caller waits for that).
            let job = unsafe { (*s.job.get()).expect("an open job is set") };
            // SAFETY: see above; the pointee is a live `dyn Fn(usize) + Sync`.
            if catch_unwind(AssertUnwindSafe(|| unsafe { (*job)(tid) })).is_err() {
                s.panicked.store(true, Ordering::Relaxed);
            }
        }
        s.active.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_output_exactly_once() {
        for threads in [1, 2, 3] {
            let pool = SpinPool::new(threads);
            for len in [0, 1, 7, 64, 1000, 12345] {
                for granule in [1, 4, 128] {
                    let mut out = vec![0u32; len];
                    pool.for_each_chunk(&mut out, granule, |start, chunk| {
                        assert_eq!(start % granule, 0);
                        for (i, v) in chunk.iter_mut().enumerate() {
                            *v += (start + i) as u32 + 1;
                        }
                    });
                    assert!(out.iter().enumerate().all(|(i, &v)| v == i as u32 + 1), "{threads} {len} {granule}");
                }
            }
        }
    }

    #[test]
    fn column_chunks_cover_every_row_exactly_once() {
        for threads in [1, 2, 3] {
            let pool = SpinPool::new(threads);
            for (rows, width) in [(1, 7), (3, 1000), (8, 12345), (5, 0)] {
                for granule in [1, 16, 256] {
                    let mut out = vec![0u32; rows * width];
                    pool.for_each_column_chunk(&mut out, width, granule, |mut cols| {
                        assert_eq!(cols.cols().start % granule, 0);
                        for r in 0..rows {
                            let start = cols.cols().start;
                            for (c, v) in cols.row(r).iter_mut().enumerate() {
                                *v += (r * width + start + c) as u32 + 1;
                            }
                        }
                    });
                    assert!(
                        out.iter().enumerate().all(|(i, &v)| v == i as u32 + 1),
                        "{threads} {rows}×{width} {granule}"
                    );
                }
            }
        }
    }

    #[test]
    fn sleeping_workers_wake_up_and_help() {
        let pool = SpinPool::new(2);
        std::thread::sleep(YIELD * 3);
        let mut out = vec![0u8; 1 << 16];
        let threads = Mutex::new(std::collections::HashSet::new());
        for _ in 0..200 {
            pool.for_each_chunk(&mut out, 64, |_, chunk| {
                threads.lock().unwrap().insert(std::thread::current().id());
                // Enough work per chunk that a woken worker gets to claim some.
                std::thread::sleep(Duration::from_micros(50));
                chunk.fill(1);
            });
        }
        assert!(out.iter().all(|&v| v == 1));
        assert_eq!(threads.lock().unwrap().len(), 2, "the worker never joined");
    }

    #[test]
    fn a_worker_panic_reaches_the_caller() {
        let pool = SpinPool::new(2);
        let mut out = vec![0u8; 4096];
        let result = catch_unwind(AssertUnwindSafe(|| {
            pool.for_each_chunk(&mut out, 1, |start, _| assert!(start < 2048, "boom"));
        }));
        assert!(result.is_err());
        // The pool still works afterwards.
        pool.for_each_chunk(&mut out, 1, |_, chunk| chunk.fill(2));
        assert!(out.iter().all(|&v| v == 2));
    }
}
