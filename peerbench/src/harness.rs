//! Minimal timing harness: calibrate (doubling, also serves as warm-up),
//! then run `batches` batches of ~`batch_ms` each and take the median of
//! the per-batch mean ns/iteration.

use std::hint::black_box;
use std::time::Instant;

#[derive(Clone, Copy, Debug)]
pub struct Cfg {
    pub batch_ns: f64,
    pub batches: usize,
}

impl Cfg {
    pub fn from_env() -> Self {
        let batch_ms: f64 = std::env::var("PEERBENCH_BATCH_MS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(200.0);
        let batches: usize = std::env::var("PEERBENCH_BATCHES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(5);
        Cfg {
            batch_ns: batch_ms * 1e6,
            batches: batches.max(1),
        }
    }
}

/// Median ns per call of `f`.
pub fn measure<R>(cfg: &Cfg, mut f: impl FnMut() -> R) -> f64 {
    // Calibration + warm-up: double until one run takes >= 1/10 of a batch
    // (at least 10 ms).
    let target = (cfg.batch_ns / 10.0).max(10e6);
    let mut n: u64 = 1;
    let per = loop {
        let t = Instant::now();
        for _ in 0..n {
            black_box(f());
        }
        let e = t.elapsed().as_nanos() as f64;
        if e >= target || n >= (1 << 40) {
            break e / n as f64;
        }
        n *= 2;
    };
    let iters = ((cfg.batch_ns / per.max(0.01)).ceil() as u64).max(1);
    let mut samples = Vec::with_capacity(cfg.batches);
    for _ in 0..cfg.batches {
        let t = Instant::now();
        for _ in 0..iters {
            black_box(f());
        }
        samples.push(t.elapsed().as_nanos() as f64 / iters as f64);
    }
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[samples.len() / 2]
}
