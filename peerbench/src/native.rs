//! Native baselines: hand-written Rust over (a) a typed struct and
//! (b) `serde_json::Value` with by-key lookups.

use crate::rules::Rule;
use serde::Deserialize;
use serde_json::Value;

#[allow(dead_code)]
#[derive(Deserialize, Debug)]
pub struct User {
    pub id: String,
    pub age: i64,
    pub country: String,
    pub industry: String,
    pub plan: String,
}

#[allow(dead_code)]
#[derive(Deserialize, Debug)]
pub struct Onboarding {
    pub completed: bool,
    pub steps_done: i64,
    pub days_to_complete: i64,
}

#[derive(Deserialize, Debug)]
pub struct Behavior {
    pub sessions_last_week: i64,
    pub feature_usage: f64,
    pub sessions_24h: i64,
}

#[derive(Deserialize, Debug)]
pub struct Profile {
    pub user: User,
    pub onboarding: Onboarding,
    pub behavior: Behavior,
    pub tags: Vec<String>,
}

/// Native result: no allocation for string results.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NOut {
    B(bool),
    S(&'static str),
}

// ---------------------------------------------------------------------
// (a) typed struct, hand-written, literal constants (the physical limit)
// ---------------------------------------------------------------------

pub fn t_r1(p: &Profile) -> bool {
    p.user.age < 30 && p.behavior.feature_usage > 0.5
}
pub fn t_r2(p: &Profile) -> bool {
    p.onboarding.completed && p.behavior.sessions_24h >= 2
}
pub fn t_r3(p: &Profile) -> bool {
    matches!(p.user.country.as_str(), "DE" | "FR" | "NL" | "ES" | "IT") && p.user.plan == "trial"
}
pub fn t_r4(p: &Profile) -> bool {
    (p.user.age >= 18 && p.user.age < 30 && p.behavior.feature_usage > 0.5)
        || (p.user.industry == "finance" && p.onboarding.days_to_complete <= 3)
        || (p.tags.iter().any(|t| t == "beta") && p.behavior.sessions_last_week < 3)
}
pub fn t_r5(p: &Profile) -> &'static str {
    if p.user.age < 30 && p.behavior.feature_usage > 0.5 {
        "advanced"
    } else if p.user.industry == "finance" {
        "finance"
    } else if p.behavior.sessions_last_week < 3 {
        "simplified"
    } else if p.tags.iter().any(|t| t == "beta") {
        "beta"
    } else {
        "standard"
    }
}

pub fn typed_literal(i: usize) -> fn(&Profile) -> NOut {
    match i {
        0 => |p| NOut::B(t_r1(p)),
        1 => |p| NOut::B(t_r2(p)),
        2 => |p| NOut::B(t_r3(p)),
        3 => |p| NOut::B(t_r4(p)),
        4 => |p| NOut::S(t_r5(p)),
        _ => unreachable!(),
    }
}

// ---------------------------------------------------------------------
// (b) serde_json::Value, hand-written, literal constants
// ---------------------------------------------------------------------

#[inline(always)]
fn i(v: &Value, a: &str, b: &str) -> Option<i64> {
    v.get(a)?.get(b)?.as_i64()
}
#[inline(always)]
fn f(v: &Value, a: &str, b: &str) -> Option<f64> {
    v.get(a)?.get(b)?.as_f64()
}
#[inline(always)]
fn s<'v>(v: &'v Value, a: &str, b: &str) -> Option<&'v str> {
    v.get(a)?.get(b)?.as_str()
}
#[inline(always)]
fn bo(v: &Value, a: &str, b: &str) -> Option<bool> {
    v.get(a)?.get(b)?.as_bool()
}
#[inline(always)]
fn has_tag(v: &Value, tag: &str) -> bool {
    v.get("tags")
        .and_then(|t| t.as_array())
        .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(tag)))
}

pub fn j_r1(v: &Value) -> bool {
    i(v, "user", "age").is_some_and(|a| a < 30)
        && f(v, "behavior", "feature_usage").is_some_and(|x| x > 0.5)
}
pub fn j_r2(v: &Value) -> bool {
    bo(v, "onboarding", "completed") == Some(true)
        && i(v, "behavior", "sessions_24h").is_some_and(|x| x >= 2)
}
pub fn j_r3(v: &Value) -> bool {
    s(v, "user", "country").is_some_and(|c| matches!(c, "DE" | "FR" | "NL" | "ES" | "IT"))
        && s(v, "user", "plan") == Some("trial")
}
pub fn j_r4(v: &Value) -> bool {
    let age = i(v, "user", "age");
    (age.is_some_and(|a| a >= 18)
        && age.is_some_and(|a| a < 30)
        && f(v, "behavior", "feature_usage").is_some_and(|x| x > 0.5))
        || (s(v, "user", "industry") == Some("finance")
            && i(v, "onboarding", "days_to_complete").is_some_and(|x| x <= 3))
        || (has_tag(v, "beta") && i(v, "behavior", "sessions_last_week").is_some_and(|x| x < 3))
}
pub fn j_r5(v: &Value) -> &'static str {
    if i(v, "user", "age").is_some_and(|a| a < 30)
        && f(v, "behavior", "feature_usage").is_some_and(|x| x > 0.5)
    {
        "advanced"
    } else if s(v, "user", "industry") == Some("finance") {
        "finance"
    } else if i(v, "behavior", "sessions_last_week").is_some_and(|x| x < 3) {
        "simplified"
    } else if has_tag(v, "beta") {
        "beta"
    } else {
        "standard"
    }
}

pub fn json_literal(i: usize) -> fn(&Value) -> NOut {
    match i {
        0 => |v| NOut::B(j_r1(v)),
        1 => |v| NOut::B(j_r2(v)),
        2 => |v| NOut::B(j_r3(v)),
        3 => |v| NOut::B(j_r4(v)),
        4 => |v| NOut::S(j_r5(v)),
        _ => unreachable!(),
    }
}

// ---------------------------------------------------------------------
// Spec-driven closures (constants captured, not literal): used for the
// 20-rule scenario and as the reference answers for verification.
// ---------------------------------------------------------------------

pub type TypedFn = Box<dyn Fn(&Profile) -> NOut>;
pub type JsonFn = Box<dyn Fn(&Value) -> NOut>;

pub fn typed_closure(r: &Rule) -> TypedFn {
    match r.clone() {
        Rule::R1 { age_lt, fu_gt } => {
            Box::new(move |p| NOut::B(p.user.age < age_lt && p.behavior.feature_usage > fu_gt))
        }
        Rule::R2 { completed, s24_ge } => Box::new(move |p| {
            NOut::B(p.onboarding.completed == completed && p.behavior.sessions_24h >= s24_ge)
        }),
        Rule::R3 { countries, plan } => Box::new(move |p| {
            NOut::B(countries.contains(&p.user.country.as_str()) && p.user.plan == plan)
        }),
        Rule::R4 {
            age_ge,
            age_lt,
            fu_gt,
            industry,
            days_le,
            tag,
            slw_lt,
        } => Box::new(move |p| {
            NOut::B(
                (p.user.age >= age_ge && p.user.age < age_lt && p.behavior.feature_usage > fu_gt)
                    || (p.user.industry == industry && p.onboarding.days_to_complete <= days_le)
                    || (p.tags.iter().any(|t| t == tag) && p.behavior.sessions_last_week < slw_lt),
            )
        }),
        Rule::R5 {
            age_lt,
            fu_gt,
            industry,
            slw_lt,
            tag,
            labels,
        } => Box::new(move |p| {
            NOut::S(if p.user.age < age_lt && p.behavior.feature_usage > fu_gt {
                labels[0]
            } else if p.user.industry == industry {
                labels[1]
            } else if p.behavior.sessions_last_week < slw_lt {
                labels[2]
            } else if p.tags.iter().any(|t| t == tag) {
                labels[3]
            } else {
                labels[4]
            })
        }),
    }
}

pub fn json_closure(r: &Rule) -> JsonFn {
    match r.clone() {
        Rule::R1 { age_lt, fu_gt } => Box::new(move |v| {
            NOut::B(
                i(v, "user", "age").is_some_and(|a| a < age_lt)
                    && f(v, "behavior", "feature_usage").is_some_and(|x| x > fu_gt),
            )
        }),
        Rule::R2 { completed, s24_ge } => Box::new(move |v| {
            NOut::B(
                bo(v, "onboarding", "completed") == Some(completed)
                    && i(v, "behavior", "sessions_24h").is_some_and(|x| x >= s24_ge),
            )
        }),
        Rule::R3 { countries, plan } => Box::new(move |v| {
            NOut::B(
                s(v, "user", "country").is_some_and(|c| countries.contains(&c))
                    && s(v, "user", "plan") == Some(plan),
            )
        }),
        Rule::R4 {
            age_ge,
            age_lt,
            fu_gt,
            industry,
            days_le,
            tag,
            slw_lt,
        } => Box::new(move |v| {
            let age = i(v, "user", "age");
            NOut::B(
                (age.is_some_and(|a| a >= age_ge)
                    && age.is_some_and(|a| a < age_lt)
                    && f(v, "behavior", "feature_usage").is_some_and(|x| x > fu_gt))
                    || (s(v, "user", "industry") == Some(industry)
                        && i(v, "onboarding", "days_to_complete").is_some_and(|x| x <= days_le))
                    || (has_tag(v, tag)
                        && i(v, "behavior", "sessions_last_week").is_some_and(|x| x < slw_lt)),
            )
        }),
        Rule::R5 {
            age_lt,
            fu_gt,
            industry,
            slw_lt,
            tag,
            labels,
        } => Box::new(move |v| {
            NOut::S(
                if i(v, "user", "age").is_some_and(|a| a < age_lt)
                    && f(v, "behavior", "feature_usage").is_some_and(|x| x > fu_gt)
                {
                    labels[0]
                } else if s(v, "user", "industry") == Some(industry) {
                    labels[1]
                } else if i(v, "behavior", "sessions_last_week").is_some_and(|x| x < slw_lt) {
                    labels[2]
                } else if has_tag(v, tag) {
                    labels[3]
                } else {
                    labels[4]
                },
            )
        }),
    }
}

// ---------------------------------------------------------------------
// 20-rule set hand-written as ONE function with literal constants (the
// physical limit for "20 rules per profile": inlined, loads shared by the
// optimiser). Must mirror rules::twenty_rules(); verified at start-up.
// ---------------------------------------------------------------------

macro_rules! e1 {
    ($p:ident, $a:literal, $f:literal) => {
        NOut::B($p.user.age < $a && $p.behavior.feature_usage > $f)
    };
}
macro_rules! e2 {
    ($p:ident, $c:literal, $s:literal) => {
        NOut::B($p.onboarding.completed == $c && $p.behavior.sessions_24h >= $s)
    };
}
macro_rules! e3 {
    ($p:ident, $plan:literal, $($c:literal)|+) => {
        NOut::B(matches!($p.user.country.as_str(), $($c)|+) && $p.user.plan == $plan)
    };
}
macro_rules! e4 {
    ($p:ident, $ag:literal, $al:literal, $f:literal, $ind:literal, $d:literal, $tag:literal, $s:literal) => {
        NOut::B(
            ($p.user.age >= $ag && $p.user.age < $al && $p.behavior.feature_usage > $f)
                || ($p.user.industry == $ind && $p.onboarding.days_to_complete <= $d)
                || ($p.tags.iter().any(|t| t == $tag) && $p.behavior.sessions_last_week < $s),
        )
    };
}
macro_rules! e5 {
    ($p:ident, $a:literal, $f:literal, $ind:literal, $s:literal, $tag:literal,
     $l0:literal, $l1:literal, $l2:literal, $l3:literal, $l4:literal) => {
        NOut::S(if $p.user.age < $a && $p.behavior.feature_usage > $f {
            $l0
        } else if $p.user.industry == $ind {
            $l1
        } else if $p.behavior.sessions_last_week < $s {
            $l2
        } else if $p.tags.iter().any(|t| t == $tag) {
            $l3
        } else {
            $l4
        })
    };
}

pub fn t_twenty(p: &Profile) -> [NOut; 20] {
    [
        e1!(p, 30, 0.5),
        e2!(p, true, 2),
        e3!(p, "trial", "DE" | "FR" | "NL" | "ES" | "IT"),
        e4!(p, 18, 30, 0.5, "finance", 3, "beta", 3),
        e5!(
            p,
            30,
            0.5,
            "finance",
            3,
            "beta",
            "advanced",
            "finance",
            "simplified",
            "beta",
            "standard"
        ),
        e1!(p, 25, 0.7),
        e2!(p, true, 5),
        e3!(p, "trial", "US" | "CA"),
        e4!(p, 21, 35, 0.7, "retail", 5, "mobile", 5),
        e5!(p, 25, 0.7, "retail", 5, "mobile", "pro", "retail", "light", "mobile", "default"),
        e1!(p, 40, 0.3),
        e2!(p, false, 1),
        e3!(p, "pro", "DE" | "AT" | "CH"),
        e4!(p, 30, 50, 0.2, "finance", 1, "beta", 2),
        e5!(p, 40, 0.9, "finance", 2, "beta", "power", "fin", "guided", "early", "basic"),
        e1!(p, 35, 0.6),
        e2!(p, true, 3),
        e3!(p, "trial", "FR" | "DE"),
        e4!(p, 16, 25, 0.9, "health", 7, "desktop", 10),
        e5!(p, 20, 0.1, "health", 10, "desktop", "young", "health", "casual", "desk", "other"),
    ]
}

// ---------------------------------------------------------------------
// Zero-copy typed struct (borrowed &str), for the context-build floor.
// ---------------------------------------------------------------------

#[allow(dead_code)]
#[derive(Deserialize, Debug)]
pub struct UserRef<'a> {
    pub id: &'a str,
    pub age: i64,
    pub country: &'a str,
    pub industry: &'a str,
    pub plan: &'a str,
}

#[allow(dead_code)]
#[derive(Deserialize, Debug)]
pub struct ProfileRef<'a> {
    #[serde(borrow)]
    pub user: UserRef<'a>,
    pub onboarding: Onboarding,
    pub behavior: Behavior,
    #[serde(borrow)]
    pub tags: Vec<&'a str>,
}

pub fn r_r4(p: &ProfileRef) -> bool {
    (p.user.age >= 18 && p.user.age < 30 && p.behavior.feature_usage > 0.5)
        || (p.user.industry == "finance" && p.onboarding.days_to_complete <= 3)
        || (p.tags.contains(&"beta") && p.behavior.sessions_last_week < 3)
}
