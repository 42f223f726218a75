//! Rule specifications (engine-neutral) and their translation into each
//! engine's surface syntax. Every engine evaluates text generated from the
//! same `Rule` value, so constants and structure are identical everywhere.

use serde_json::json;

#[derive(Clone, Debug)]
pub enum Rule {
    /// user.age < age_lt && behavior.feature_usage > fu_gt
    R1 { age_lt: i64, fu_gt: f64 },
    /// onboarding.completed == completed && behavior.sessions_24h >= s24_ge
    R2 { completed: bool, s24_ge: i64 },
    /// user.country in countries && user.plan == plan
    R3 {
        countries: &'static [&'static str],
        plan: &'static str,
    },
    /// (age >= age_ge && age < age_lt && feature_usage > fu_gt)
    /// || (industry == industry && days_to_complete <= days_le)
    /// || (tag in tags && sessions_last_week < slw_lt)
    R4 {
        age_ge: i64,
        age_lt: i64,
        fu_gt: f64,
        industry: &'static str,
        days_le: i64,
        tag: &'static str,
        slw_lt: i64,
    },
    /// first match of:
    ///   age < age_lt && feature_usage > fu_gt -> labels[0]
    ///   industry == industry                  -> labels[1]
    ///   sessions_last_week < slw_lt           -> labels[2]
    ///   tag in tags                           -> labels[3]
    ///   else                                  -> labels[4]
    R5 {
        age_lt: i64,
        fu_gt: f64,
        industry: &'static str,
        slw_lt: i64,
        tag: &'static str,
        labels: [&'static str; 5],
    },
}

const EU5: &[&str] = &["DE", "FR", "NL", "ES", "IT"];

/// The five rules exactly as specified in the brief.
pub fn base_rules() -> Vec<Rule> {
    twenty_rules().into_iter().take(5).collect()
}

/// R1..R5 repeated four times with varied constants (first five == base).
pub fn twenty_rules() -> Vec<Rule> {
    let r1 = [(30, 0.5), (25, 0.7), (40, 0.3), (35, 0.6)];
    let r2 = [(true, 2), (true, 5), (false, 1), (true, 3)];
    let r3: [(&'static [&'static str], &'static str); 4] = [
        (EU5, "trial"),
        (&["US", "CA"], "trial"),
        (&["DE", "AT", "CH"], "pro"),
        (&["FR", "DE"], "trial"),
    ];
    let r4 = [
        (18, 30, 0.5, "finance", 3, "beta", 3),
        (21, 35, 0.7, "retail", 5, "mobile", 5),
        (30, 50, 0.2, "finance", 1, "beta", 2),
        (16, 25, 0.9, "health", 7, "desktop", 10),
    ];
    let r5 = [
        (
            30,
            0.5,
            "finance",
            3,
            "beta",
            ["advanced", "finance", "simplified", "beta", "standard"],
        ),
        (
            25,
            0.7,
            "retail",
            5,
            "mobile",
            ["pro", "retail", "light", "mobile", "default"],
        ),
        (
            40,
            0.9,
            "finance",
            2,
            "beta",
            ["power", "fin", "guided", "early", "basic"],
        ),
        (
            20,
            0.1,
            "health",
            10,
            "desktop",
            ["young", "health", "casual", "desk", "other"],
        ),
    ];
    let mut v = Vec::new();
    for k in 0..4 {
        v.push(Rule::R1 {
            age_lt: r1[k].0,
            fu_gt: r1[k].1,
        });
        v.push(Rule::R2 {
            completed: r2[k].0,
            s24_ge: r2[k].1,
        });
        v.push(Rule::R3 {
            countries: r3[k].0,
            plan: r3[k].1,
        });
        let (age_ge, age_lt, fu_gt, industry, days_le, tag, slw_lt) = r4[k];
        v.push(Rule::R4 {
            age_ge,
            age_lt,
            fu_gt,
            industry,
            days_le,
            tag,
            slw_lt,
        });
        let (age_lt, fu_gt, industry, slw_lt, tag, labels) = r5[k];
        v.push(Rule::R5 {
            age_lt,
            fu_gt,
            industry,
            slw_lt,
            tag,
            labels,
        });
    }
    v
}

fn quoted_list(xs: &[&str]) -> String {
    xs.iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// CEL (cel-interpreter). `in` on list literal, `?:` chain for R5.
pub fn cel(r: &Rule) -> String {
    match r {
        Rule::R1 { age_lt, fu_gt } => {
            format!("user.age < {age_lt} && behavior.feature_usage > {fu_gt:?}")
        }
        Rule::R2 { completed, s24_ge } => {
            format!("onboarding.completed == {completed} && behavior.sessions_24h >= {s24_ge}")
        }
        Rule::R3 { countries, plan } => format!(
            "user.country in [{}] && user.plan == \"{plan}\"",
            quoted_list(countries)
        ),
        Rule::R4 {
            age_ge,
            age_lt,
            fu_gt,
            industry,
            days_le,
            tag,
            slw_lt,
        } => format!(
            "(user.age >= {age_ge} && user.age < {age_lt} && behavior.feature_usage > {fu_gt:?}) \
             || (user.industry == \"{industry}\" && onboarding.days_to_complete <= {days_le}) \
             || (\"{tag}\" in tags && behavior.sessions_last_week < {slw_lt})"
        ),
        Rule::R5 {
            age_lt,
            fu_gt,
            industry,
            slw_lt,
            tag,
            labels: l,
        } => format!(
            "(user.age < {age_lt} && behavior.feature_usage > {fu_gt:?}) ? \"{}\" : \
             ((user.industry == \"{industry}\") ? \"{}\" : \
             ((behavior.sessions_last_week < {slw_lt}) ? \"{}\" : \
             ((\"{tag}\" in tags) ? \"{}\" : \"{}\")))",
            l[0], l[1], l[2], l[3], l[4]
        ),
    }
}

/// ZEN expression language: `and` / `or` keywords, `in` on arrays, `?:`.
pub fn zen(r: &Rule) -> String {
    match r {
        Rule::R1 { age_lt, fu_gt } => {
            format!("user.age < {age_lt} and behavior.feature_usage > {fu_gt:?}")
        }
        Rule::R2 { completed, s24_ge } => {
            format!("onboarding.completed == {completed} and behavior.sessions_24h >= {s24_ge}")
        }
        Rule::R3 { countries, plan } => format!(
            "user.country in [{}] and user.plan == \"{plan}\"",
            quoted_list(countries)
        ),
        Rule::R4 {
            age_ge,
            age_lt,
            fu_gt,
            industry,
            days_le,
            tag,
            slw_lt,
        } => format!(
            "(user.age >= {age_ge} and user.age < {age_lt} and behavior.feature_usage > {fu_gt:?}) \
             or (user.industry == \"{industry}\" and onboarding.days_to_complete <= {days_le}) \
             or (\"{tag}\" in tags and behavior.sessions_last_week < {slw_lt})"
        ),
        Rule::R5 {
            age_lt,
            fu_gt,
            industry,
            slw_lt,
            tag,
            labels: l,
        } => format!(
            "(user.age < {age_lt} and behavior.feature_usage > {fu_gt:?}) ? \"{}\" : \
             ((user.industry == \"{industry}\") ? \"{}\" : \
             ((behavior.sessions_last_week < {slw_lt}) ? \"{}\" : \
             ((\"{tag}\" in tags) ? \"{}\" : \"{}\")))",
            l[0], l[1], l[2], l[3], l[4]
        ),
    }
}

/// evalexpr: flat dotted identifiers, tuples instead of lists,
/// `contains(tuple, x)` instead of `in`, `if(c, a, b)` function for R5.
pub fn evalexpr(r: &Rule) -> String {
    match r {
        Rule::R1 { age_lt, fu_gt } => {
            format!("user.age < {age_lt} && behavior.feature_usage > {fu_gt:?}")
        }
        Rule::R2 { completed, s24_ge } => {
            format!("onboarding.completed == {completed} && behavior.sessions_24h >= {s24_ge}")
        }
        Rule::R3 { countries, plan } => format!(
            "contains(({}), user.country) && user.plan == \"{plan}\"",
            quoted_list(countries)
        ),
        Rule::R4 {
            age_ge,
            age_lt,
            fu_gt,
            industry,
            days_le,
            tag,
            slw_lt,
        } => format!(
            "(user.age >= {age_ge} && user.age < {age_lt} && behavior.feature_usage > {fu_gt:?}) \
             || (user.industry == \"{industry}\" && onboarding.days_to_complete <= {days_le}) \
             || (contains(tags, \"{tag}\") && behavior.sessions_last_week < {slw_lt})"
        ),
        Rule::R5 {
            age_lt,
            fu_gt,
            industry,
            slw_lt,
            tag,
            labels: l,
        } => format!(
            "if(user.age < {age_lt} && behavior.feature_usage > {fu_gt:?}, \"{}\", \
             if(user.industry == \"{industry}\", \"{}\", \
             if(behavior.sessions_last_week < {slw_lt}, \"{}\", \
             if(contains(tags, \"{tag}\"), \"{}\", \"{}\"))))",
            l[0], l[1], l[2], l[3], l[4]
        ),
    }
}

/// Rhai: same operators as CEL for R1..R4; real `if / else if` chain for R5.
pub fn rhai(r: &Rule) -> String {
    match r {
        Rule::R5 {
            age_lt,
            fu_gt,
            industry,
            slw_lt,
            tag,
            labels: l,
        } => format!(
            "if user.age < {age_lt} && behavior.feature_usage > {fu_gt:?} {{ \"{}\" }} \
             else if user.industry == \"{industry}\" {{ \"{}\" }} \
             else if behavior.sessions_last_week < {slw_lt} {{ \"{}\" }} \
             else if \"{tag}\" in tags {{ \"{}\" }} \
             else {{ \"{}\" }}",
            l[0], l[1], l[2], l[3], l[4]
        ),
        other => cel(other),
    }
}

fn var(p: &str) -> serde_json::Value {
    json!({ "var": p })
}

/// JsonLogic (datalogic-rs): `in` for membership, multi-branch `if`.
pub fn jsonlogic(r: &Rule) -> String {
    let v = match r {
        Rule::R1 { age_lt, fu_gt } => json!({"and": [
            {"<": [var("user.age"), age_lt]},
            {">": [var("behavior.feature_usage"), fu_gt]}
        ]}),
        Rule::R2 { completed, s24_ge } => json!({"and": [
            {"==": [var("onboarding.completed"), completed]},
            {">=": [var("behavior.sessions_24h"), s24_ge]}
        ]}),
        Rule::R3 { countries, plan } => json!({"and": [
            {"in": [var("user.country"), countries]},
            {"==": [var("user.plan"), plan]}
        ]}),
        Rule::R4 {
            age_ge,
            age_lt,
            fu_gt,
            industry,
            days_le,
            tag,
            slw_lt,
        } => json!({"or": [
            {"and": [
                {">=": [var("user.age"), age_ge]},
                {"<": [var("user.age"), age_lt]},
                {">": [var("behavior.feature_usage"), fu_gt]}
            ]},
            {"and": [
                {"==": [var("user.industry"), industry]},
                {"<=": [var("onboarding.days_to_complete"), days_le]}
            ]},
            {"and": [
                {"in": [tag, var("tags")]},
                {"<": [var("behavior.sessions_last_week"), slw_lt]}
            ]}
        ]}),
        Rule::R5 {
            age_lt,
            fu_gt,
            industry,
            slw_lt,
            tag,
            labels: l,
        } => json!({"if": [
            {"and": [
                {"<": [var("user.age"), age_lt]},
                {">": [var("behavior.feature_usage"), fu_gt]}
            ]}, l[0],
            {"==": [var("user.industry"), industry]}, l[1],
            {"<": [var("behavior.sessions_last_week"), slw_lt]}, l[2],
            {"in": [tag, var("tags")]}, l[3],
            l[4]
        ]}),
    };
    v.to_string()
}

/// Onramp's `schema` for the benchmark profile shape (every field the
/// profiles carry; none nullable: all verification profiles have them).
pub const ONRAMP_SCHEMA: &str = "schema {
  user.id: string
  user.age: int
  user.country: string
  user.industry: string
  user.plan: string
  onboarding.completed: bool
  onboarding.steps_done: int
  onboarding.days_to_complete: int
  behavior.sessions_last_week: int
  behavior.feature_usage: float
  behavior.sessions_24h: int
  tags: list<string>
}
";

/// Onramp (LANGUAGE.md §3–6): R1–R4 as a `segment`, R5 as a first-match
/// `decision`. `name` is the rule's item name.
pub fn onramp(r: &Rule, name: &str) -> String {
    match r {
        Rule::R1 { age_lt, fu_gt } => format!(
            "segment {name} = user.age < {age_lt} and behavior.feature_usage > {fu_gt:?}\n"
        ),
        Rule::R2 { completed, s24_ge } => format!(
            "segment {name} = onboarding.completed == {completed} and behavior.sessions_24h >= {s24_ge}\n"
        ),
        Rule::R3 { countries, plan } => format!(
            "segment {name} = user.country in [{}] and user.plan == \"{plan}\"\n",
            quoted_list(countries)
        ),
        Rule::R4 { age_ge, age_lt, fu_gt, industry, days_le, tag, slw_lt } => format!(
            "segment {name} =\n    (user.age >= {age_ge} and user.age < {age_lt} and behavior.feature_usage > {fu_gt:?})\n    \
             or (user.industry == \"{industry}\" and onboarding.days_to_complete <= {days_le})\n    \
             or (\"{tag}\" in tags and behavior.sessions_last_week < {slw_lt})\n"
        ),
        Rule::R5 { age_lt, fu_gt, industry, slw_lt, tag, labels: l } => format!(
            "decision {name} {{\n  \
             when user.age < {age_lt} and behavior.feature_usage > {fu_gt:?} => \"{}\"\n  \
             when user.industry == \"{industry}\" => \"{}\"\n  \
             when behavior.sessions_last_week < {slw_lt} => \"{}\"\n  \
             when \"{tag}\" in tags => \"{}\"\n  \
             else => \"{}\"\n}}\n",
            l[0], l[1], l[2], l[3], l[4]
        ),
    }
}

/// The item name of the `i`-th rule (0-based) of an Onramp program.
pub fn onramp_name(i: usize) -> String {
    format!("rule_{}", i + 1)
}

/// One Onramp program holding `rules` (named `rule_1`, `rule_2`, ...),
/// optionally preceded by [`ONRAMP_SCHEMA`].
pub fn onramp_program(rules: &[Rule], schema: bool) -> String {
    let mut s = String::new();
    if schema {
        s.push_str(ONRAMP_SCHEMA);
        s.push('\n');
    }
    for (i, r) in rules.iter().enumerate() {
        s.push_str(&onramp(r, &onramp_name(i)));
    }
    s
}
