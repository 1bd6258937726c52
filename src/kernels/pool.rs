//! A persistent spin-then-park thread pool for the short parallel regions of token generation.
//!
//! Decoding one token runs a few hundred parallel regions of well under a millisecond each;
//! rayon's fork/join costs 12–53 µs per region here, a spinning hand-off under 1 µs
//! (`../shared/docs/performance-notes.md` §2.3, §3.7). Workers spin for a while after each job,
//! then yield, then sleep on a condition variable, so an idle pool costs nothing and an
//! oversubscribed machine does not collapse. The calling thread is worker 0.
//!
//! Lifetimes: a job is a borrowed closure handed to the workers through a lifetime-erased
//! pointer. [`SpinPool::run`] does not return before every worker has finished with it, which is
//! what makes the erasure sound.

use std::cell::UnsafeCell;
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
    /// The current job, valid from its epoch bump until `pending` is back to 0.
    job: UnsafeCell<Option<*const Job>>,
    /// Workers (other than the caller) still running the current job.
    pending: AtomicUsize,
    panicked: AtomicBool,
    shutdown: AtomicBool,
    sleepers: AtomicUsize,
    sleep_lock: Mutex<()>,
    wake: Condvar,
}

// SAFETY: `job` is written only by the thread inside `run` while no worker reads it (all workers
// have finished the previous job: `pending` is 0), and published with the Release epoch bump that
// workers Acquire before reading it. Everything else is atomics or std sync types.
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
            pending: AtomicUsize::new(0),
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

    /// Runs `job(tid)` on every thread (tid 0 is the caller) and returns when all are done.
    /// A panic in any worker is re-raised here.
    pub fn run(&self, job: &(dyn Fn(usize) + Sync)) {
        if self.workers.is_empty() {
            return job(0);
        }
        let _one_at_a_time = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let s = &*self.shared;
        // SAFETY: erases the borrow's lifetime; workers use the pointer only until `pending`
        // reaches 0, and this function waits for that before returning (even if `job` panics).
        let erased: *const Job = unsafe { std::mem::transmute::<&(dyn Fn(usize) + Sync), &'static Job>(job) };
        // SAFETY: no worker is reading `job`: the previous run left `pending` at 0.
        unsafe { *s.job.get() = Some(erased) };
        s.pending.store(self.workers.len(), Ordering::Relaxed);
        s.epoch.fetch_add(1, Ordering::SeqCst);
        if s.sleepers.load(Ordering::SeqCst) > 0 {
            let _guard = s.sleep_lock.lock().unwrap_or_else(|p| p.into_inner());
            s.wake.notify_all();
        }
        let mine = catch_unwind(AssertUnwindSafe(|| job(0)));
        let started = Instant::now();
        while s.pending.load(Ordering::Acquire) != 0 {
            if started.elapsed() < SPIN {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        if let Err(payload) = mine {
            std::panic::resume_unwind(payload);
        }
        if s.panicked.swap(false, Ordering::Relaxed) {
            panic!("a compute thread panicked");
        }
    }

    /// Splits `out` into chunks (multiples of `granule` elements, except the last) and runs
    /// `f(start, chunk)` on them across the pool: each thread first takes a contiguous three
    /// quarters share (sequential weight streams), then the rest goes out in small chunks to
    /// whichever thread is free, so one delayed thread does not stall the region.
    pub fn for_each_chunk<T: Send>(&self, out: &mut [T], granule: usize, f: impl Fn(usize, &mut [T]) + Sync) {
        let len = out.len();
        let granule = granule.max(1);
        let threads = self.threads();
        let units = len.div_ceil(granule);
        let share = units * 3 / 4 / threads;
        let tail_chunk = (units - share * threads).div_ceil(threads * 4).max(1);
        let next = AtomicUsize::new(share * threads);
        let base = SendPtr(out.as_mut_ptr());
        let claim = |from: usize, to: usize| {
            let (start, end) = (from * granule, (to * granule).min(len));
            // SAFETY: every unit range [from, to) is handed out exactly once (static shares are
            // disjoint by thread id, tail chunks by the atomic counter), so the sub-slices are
            // disjoint; they lie within `out`, which outlives this call.
            let chunk = unsafe { std::slice::from_raw_parts_mut(base.get().add(start), end - start) };
            f(start, chunk);
        };
        self.run(&|tid| {
            if share > 0 {
                claim(tid * share, (tid + 1) * share);
            }
            loop {
                let from = next.fetch_add(tail_chunk, Ordering::Relaxed);
                if from >= units {
                    break;
                }
                claim(from, (from + tail_chunk).min(units));
            }
        });
    }
}

/// A raw pointer that may cross threads (the pool guarantees disjoint use).
struct SendPtr<T>(*mut T);
// SAFETY: only used by `for_each_chunk`, which hands out disjoint ranges.
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
        // SAFETY: the epoch moved, so `job` holds the current job, which stays valid until we
        // decrement `pending` (the caller waits for that).
        let job = unsafe { (*s.job.get()).expect("a job is set before the epoch moves") };
        // SAFETY: see above; the pointee is a live `dyn Fn(usize) + Sync`.
        if catch_unwind(AssertUnwindSafe(|| unsafe { (*job)(tid) })).is_err() {
            s.panicked.store(true, Ordering::Relaxed);
        }
        s.pending.fetch_sub(1, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_thread_runs_each_job() {
        let pool = SpinPool::new(3);
        let hits = AtomicUsize::new(0);
        for _ in 0..1000 {
            pool.run(&|_| {
                hits.fetch_add(1, Ordering::Relaxed);
            });
        }
        assert_eq!(hits.load(Ordering::Relaxed), 3000);
    }

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
    fn sleeping_workers_wake_up() {
        let pool = SpinPool::new(2);
        std::thread::sleep(YIELD * 3);
        let hits = AtomicUsize::new(0);
        pool.run(&|_| {
            hits.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(hits.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn a_worker_panic_reaches_the_caller() {
        let pool = SpinPool::new(2);
        let result = catch_unwind(AssertUnwindSafe(|| pool.run(&|tid| assert!(tid == 0, "boom"))));
        assert!(result.is_err());
        // The pool still works afterwards.
        let hits = AtomicUsize::new(0);
        pool.run(&|_| {
            hits.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(hits.load(Ordering::Relaxed), 2);
    }
}
