//! Synthetic populations: realistic profiles in the shape of the example
//! program's schema (`rules/schema.ramp`), for summaries, load tests and
//! benchmarks (`onramp gen-profiles N`).
//!
//! Generation is deterministic: the same `(seed, now)` gives the same
//! profiles on every machine, and profile `i` depends only on `(seed, i,
//! now)`, so any slice of a population can be rebuilt on its own (and in
//! parallel) without generating what comes before it.

use crate::time::format_time;
use serde::Serialize;
use serde_json::Value as Json;
use std::io::{self, Write};

const MS_PER_MINUTE: i64 = 60_000;
const MS_PER_HOUR: i64 = 60 * MS_PER_MINUTE;
const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;

/// The most events one profile gets.
pub const MAX_EVENTS: usize = 40;

/// A small, fast, deterministic pseudo-random generator (SplitMix64).
/// Not for anything secret; good enough for synthetic data and stable
/// across platforms, which a dependency's generator does not promise.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A float uniformly in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// An integer uniformly in `lo..=hi` (`lo` when the range is empty).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = hi.abs_diff(lo).saturating_add(1);
        // Multiply-shift instead of modulo: unbiased enough for these
        // spans and free of a division.
        let offset = ((u128::from(self.next_u64()) * u128::from(span)) >> 64) as u64;
        lo.wrapping_add_unsigned(offset)
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }

    /// One of the items, each as likely as its weight.
    pub fn pick<'a, T>(&mut self, items: &'a [(T, u32)]) -> Option<&'a T> {
        let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
        if total == 0 {
            return None;
        }
        let mut r = self.range(0, i64::try_from(total - 1).unwrap_or(i64::MAX)) as u64;
        for (item, w) in items {
            let w = u64::from(*w);
            if r < w {
                return Some(item);
            }
            r -= w;
        }
        None
    }
}

/// Countries with the time zones their users tend to report. Weights are
/// shares in per mille of the users who give a country.
const COUNTRIES: &[((&str, &[&str]), u32)] = &[
    (
        (
            "US",
            &[
                "America/New_York",
                "America/Chicago",
                "America/Denver",
                "America/Los_Angeles",
            ],
        ),
        300,
    ),
    (("DE", &["Europe/Berlin"]), 95),
    (("GB", &["Europe/London"]), 90),
    (("IN", &["Asia/Kolkata"]), 80),
    (("FR", &["Europe/Paris"]), 60),
    (("CA", &["America/Toronto", "America/Vancouver"]), 50),
    (("BR", &["America/Sao_Paulo"]), 45),
    (("AU", &["Australia/Sydney", "Australia/Perth"]), 35),
    (("NL", &["Europe/Amsterdam"]), 30),
    (("ES", &["Europe/Madrid"]), 30),
    (("JP", &["Asia/Tokyo"]), 30),
    (("SE", &["Europe/Stockholm"]), 20),
    (("PL", &["Europe/Warsaw"]), 20),
    (("MX", &["America/Mexico_City"]), 20),
    (("IT", &["Europe/Rome"]), 20),
    (("SG", &["Asia/Singapore"]), 15),
    (("CH", &["Europe/Zurich"]), 15),
    (("NG", &["Africa/Lagos"]), 15),
    (("KR", &["Asia/Seoul"]), 15),
    (("NZ", &["Pacific/Auckland"]), 5),
];

const INDUSTRIES: &[(&str, u32)] = &[
    ("software", 220),
    ("finance", 140),
    ("retail", 110),
    ("healthcare", 100),
    ("education", 90),
    ("marketing", 80),
    ("manufacturing", 60),
    ("media", 50),
    ("game development", 40),
    ("logistics", 40),
    ("nonprofit", 30),
    ("government", 20),
    ("real estate", 20),
];

const PLANS: &[(&str, u32)] = &[("trial", 55), ("starter", 30), ("pro", 15)];

/// Age bands: (lowest, highest) with the share of users in them.
const AGE_BANDS: &[((i64, i64), u32)] = &[
    ((16, 24), 18),
    ((25, 34), 34),
    ((35, 44), 24),
    ((45, 54), 14),
    ((55, 70), 10),
];

const TAGS: &[(&str, u32)] = &[
    ("beta", 40),
    ("enterprise", 25),
    ("vip", 10),
    ("partner", 10),
    ("education", 8),
    ("churn-risk", 7),
];

const FEATURES: &[(&str, u32)] = &[
    ("editor", 35),
    ("dashboard", 25),
    ("export", 15),
    ("reports", 10),
    ("integrations", 8),
    ("api", 7),
];

/// The id of profile `index` (0-based): `u-000001` for the first.
pub fn user_id(index: u64) -> String {
    format!("u-{:06}", index.saturating_add(1))
}

/// Profile `index` of the population `(seed, now_ms)`.
pub fn profile(index: u64, seed: u64, now_ms: i64) -> Json {
    serde_json::to_value(build(index, seed, now_ms)).unwrap_or(Json::Null)
}

// Typed profiles serialize straight to text, without the per-key map
// inserts and allocations a `serde_json::Value` costs; the field order is
// the declaration order.

/// A field that may be absent, `null`, or hold a value.
type Maybe<T> = Option<Option<T>>;

#[derive(Serialize)]
struct Profile {
    user: User,
    #[serde(skip_serializing_if = "Option::is_none")]
    onboarding: Option<Onboarding>,
    behavior: Behavior,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Vec<&'static str>>,
    events: Vec<Event>,
}

#[derive(Serialize)]
struct User {
    id: String,
    age: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    country: Maybe<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    industry: Option<&'static str>,
    plan: &'static str,
    signup_at: Time,
    #[serde(skip_serializing_if = "Option::is_none")]
    timezone: Option<&'static str>,
}

#[derive(Serialize)]
struct Onboarding {
    completed_at: Option<Time>,
}

#[derive(Serialize)]
struct Behavior {
    feature_usage: f64,
    sessions_last_week: i64,
}

#[derive(Serialize)]
struct Event {
    name: &'static str,
    at: Time,
    #[serde(skip_serializing_if = "Option::is_none")]
    props: Option<FeatureProps>,
}

#[derive(Serialize)]
struct FeatureProps {
    feature: &'static str,
}

/// An instant, written as RFC 3339 text.
#[derive(Clone, Copy)]
struct Time(i64);

impl Serialize for Time {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_time(self.0))
    }
}

fn build(index: u64, seed: u64, now_ms: i64) -> Profile {
    // Mixing the seed before adding the index keeps seeds 1 and 2 from
    // producing shifted copies of the same stream.
    let mut rng = Rng::new(Rng::new(seed).next_u64() ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03));
    let r = &mut rng;

    // A latent activity level drives usage, sessions, events and
    // onboarding together, as it does in real data.
    let activity = (r.next_f64() + r.next_f64()) / 2.0;
    let signup = now_ms - r.range(MS_PER_MINUTE, 30 * MS_PER_DAY) / 1000 * 1000;
    let age_ms = now_ms - signup;

    let age = if r.chance(0.03) {
        None
    } else {
        let (lo, hi) = *r.pick(AGE_BANDS).unwrap_or(&(25, 34));
        Some(r.range(lo, hi))
    };
    let country = if r.chance(0.15) {
        None
    } else {
        r.pick(COUNTRIES)
    };
    let country_field = match country {
        Some((code, _)) => Some(Some(*code)),
        None if r.chance(0.2) => Some(None),
        None => None,
    };
    let industry = if r.chance(0.3) {
        None
    } else {
        r.pick(INDUSTRIES).copied()
    };
    let plan = if activity > 0.75 && r.chance(0.3) {
        "pro"
    } else {
        r.pick(PLANS).copied().unwrap_or("trial")
    };
    let mut timezone = None;
    if let Some((_, zones)) = country {
        if !r.chance(0.2) && !zones.is_empty() {
            let i = r.range(0, zones.len() as i64 - 1) as usize;
            timezone = zones.get(i).copied();
        }
    }

    // Onboarding: log-uniform delay between an hour and twelve days; those
    // whose moment has not come yet are simply not done.
    let completed = if r.chance(0.3 + 0.6 * activity) {
        let lo = (MS_PER_HOUR as f64).ln();
        let hi = ((12 * MS_PER_DAY) as f64).ln();
        let delay = (lo + r.next_f64() * (hi - lo)).exp() as i64 / 1000 * 1000;
        let at = signup.saturating_add(delay);
        (at <= now_ms).then_some(at)
    } else {
        None
    };
    let onboarding = match completed {
        Some(at) => Some(Onboarding {
            completed_at: Some(Time(at)),
        }),
        None if r.chance(0.5) => Some(Onboarding { completed_at: None }),
        None => None,
    };

    let usage_noise = r.next_f64() * 0.4 - 0.2;
    let feature_usage = ((activity * 0.9 + usage_noise).clamp(0.0, 1.0) * 100.0).round() / 100.0;
    let sessions = (activity * activity * 16.0 * r.next_f64()).round() as i64;

    let tags: Option<Vec<&str>> = if r.chance(0.7) {
        None
    } else {
        let n = r.range(0, 2);
        let mut tags = Vec::new();
        for _ in 0..n {
            if let Some(t) = r.pick(TAGS) {
                if !tags.contains(t) {
                    tags.push(*t);
                }
            }
        }
        Some(tags)
    };

    let events = events(r, activity, signup, age_ms, now_ms, completed);

    Profile {
        user: User {
            id: user_id(index),
            age,
            country: country_field,
            industry,
            plan,
            signup_at: Time(signup),
            timezone,
        },
        onboarding,
        behavior: Behavior {
            feature_usage,
            sessions_last_week: sessions,
        },
        tags,
        events,
    }
}

/// The event history, oldest first: a first session right after signing
/// up, then sessions and feature use spread over the account's life (the
/// more active, the more recent), the onboarding event when it happened.
fn events(
    r: &mut Rng,
    activity: f64,
    signup: i64,
    age_ms: i64,
    now_ms: i64,
    completed: Option<i64>,
) -> Vec<Event> {
    let event = |name, at, props| Event {
        name,
        at: Time(at),
        props,
    };
    // Young accounts have had less time to do things.
    let room = ((age_ms as f64 / MS_PER_DAY as f64) * 4.0 + 1.0).min(MAX_EVENTS as f64);
    let wanted = ((r.next_f64() * (3.0 + 37.0 * activity)).min(room) as usize).min(MAX_EVENTS);
    let mut list: Vec<Event> = Vec::with_capacity(wanted + 1);
    if wanted > 0 {
        let at = (signup + r.range(0, 10 * MS_PER_MINUTE) / 1000 * 1000).min(now_ms);
        list.push(event("session_start", at, None));
    }
    if let Some(at) = completed {
        list.push(event("onboarding_completed", at, None));
    }
    let recency = 1.0 - 0.7 * activity;
    while list.len() < wanted {
        let offset = (r.next_f64().powf(recency) * age_ms as f64) as i64 / 1000 * 1000;
        let at = (signup + offset).min(now_ms);
        let roll = r.next_f64();
        list.push(if roll < 0.5 {
            event("session_start", at, None)
        } else if roll < 0.94 {
            let feature = r.pick(FEATURES).copied().unwrap_or("editor");
            event("feature_used", at, Some(FeatureProps { feature }))
        } else {
            event("invited_teammate", at, None)
        });
    }
    // Stable: events at the same second keep the order they were made in.
    list.sort_by_key(|e| e.at.0);
    list
}

/// The first `n` profiles of the population `(seed, now_ms)`, generated
/// one at a time as they are iterated.
pub fn generate(n: u64, seed: u64, now_ms: i64) -> Profiles {
    Profiles {
        next: 0,
        end: n,
        seed,
        now_ms,
    }
}

/// An iterator over generated profiles (see [`generate`]).
#[derive(Clone, Debug)]
pub struct Profiles {
    next: u64,
    end: u64,
    seed: u64,
    now_ms: i64,
}

impl Iterator for Profiles {
    type Item = Json;

    fn next(&mut self) -> Option<Json> {
        if self.next >= self.end {
            return None;
        }
        let p = profile(self.next, self.seed, self.now_ms);
        self.next += 1;
        Some(p)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.end - self.next).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}

/// Writes `n` profiles as NDJSON (one compact object a line), streaming:
/// memory stays constant whatever `n`.
pub fn write_ndjson(out: &mut impl Write, n: u64, seed: u64, now_ms: i64) -> io::Result<()> {
    for index in 0..n {
        serde_json::to_writer(&mut *out, &build(index, seed, now_ms)).map_err(|e| {
            match e.io_error_kind() {
                // Keep the kind, so callers can tell a closed pipe from a bug.
                Some(kind) => io::Error::new(kind, e),
                None => io::Error::other(e),
            }
        })?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_176_000_000; // 2026-11-20T12:00:00Z

    #[test]
    fn deterministic_and_independent_of_position() {
        let a: Vec<Json> = generate(50, 7, NOW).collect();
        let b: Vec<Json> = generate(50, 7, NOW).collect();
        assert_eq!(a, b);
        assert_eq!(a[17], profile(17, 7, NOW));
        assert_ne!(a, generate(50, 8, NOW).collect::<Vec<_>>());
    }

    #[test]
    fn profiles_respect_the_schema_ranges() {
        for p in generate(2000, 3, NOW) {
            let signup =
                crate::time::parse_time(p["user"]["signup_at"].as_str().unwrap_or("")).unwrap_or(0);
            assert!((NOW - 30 * MS_PER_DAY..=NOW).contains(&signup));
            if let Some(age) = p["user"]["age"].as_i64() {
                assert!((16..=70).contains(&age));
            }
            let usage = p["behavior"]["feature_usage"].as_f64().unwrap_or(-1.0);
            assert!((0.0..=1.0).contains(&usage));
            let events = p["events"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            assert!(events.len() <= MAX_EVENTS);
            let mut last = signup;
            for e in events {
                let at = crate::time::parse_time(e["at"].as_str().unwrap_or("")).unwrap_or(0);
                assert!(at >= last && at <= NOW, "{e}");
                last = at;
            }
        }
    }

    #[test]
    fn rng_range_bounds() {
        let mut r = Rng::new(1);
        for _ in 0..10_000 {
            let x = r.range(-3, 3);
            assert!((-3..=3).contains(&x));
        }
        assert_eq!(r.range(5, 5), 5);
        assert_eq!(r.range(5, 1), 5);
        let _ = r.range(i64::MIN, i64::MAX);
    }
}
