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
    let iters = calibrate(cfg, &mut f);
    let mut samples: Vec<f64> = (0..cfg.batches).map(|_| batch(iters, &mut f)).collect();
    median(&mut samples)
}

/// Calibration + warm-up: double until one run takes >= 1/10 of a batch
/// (at least 10 ms); returns the iterations of one batch.
fn calibrate<R>(cfg: &Cfg, f: &mut impl FnMut() -> R) -> u64 {
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
    ((cfg.batch_ns / per.max(0.01)).ceil() as u64).max(1)
}

/// Mean ns per call over one batch of `iters` calls.
fn batch<R>(iters: u64, f: &mut impl FnMut() -> R) -> f64 {
    let t = Instant::now();
    for _ in 0..iters {
        black_box(f());
    }
    t.elapsed().as_nanos() as f64 / iters as f64
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[samples.len() / 2]
}

/// The ratio of two measurements taken in alternating batches.
#[derive(Clone, Copy, Debug)]
pub struct Ratio {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub rounds: usize,
}

/// The time of `a` over the time of `b`, batch against neighbouring
/// batch: each round times one batch of each, back to back (in turn
/// which first), so a change of load on a shared machine weighs on both
/// sides of a ratio instead of on whichever was measured at the time.
pub fn measure_ratio<A, B>(
    cfg: &Cfg,
    rounds: usize,
    mut a: impl FnMut() -> A,
    mut b: impl FnMut() -> B,
) -> Ratio {
    let (na, nb) = (calibrate(cfg, &mut a), calibrate(cfg, &mut b));
    let mut ratios: Vec<f64> = (0..rounds.max(1))
        .map(|round| {
            let (ta, tb) = if round % 2 == 0 {
                let ta = batch(na, &mut a);
                (ta, batch(nb, &mut b))
            } else {
                let tb = batch(nb, &mut b);
                (batch(na, &mut a), tb)
            };
            ta / tb
        })
        .collect();
    let min = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let max = ratios.iter().copied().fold(0.0, f64::max);
    Ratio {
        median: median(&mut ratios),
        min,
        max,
        rounds: ratios.len(),
    }
}
