// The program and profile generator shared by `tests/differential.rs`
// (driven by proptest's tape) and the `generated_programs` fuzz target
// (driven by libFuzzer's bytes). Each includer defines `Tape` with its own
// `pick(n)`; everything else here is built on that one choice.
//
// Included with `include!`, so it is not a module: it uses the includer's
// imports (`serde_json::json`, `Json`), `NOW` and `Tape`.

impl Tape<'_> {
    fn chance(&mut self, percent: usize) -> bool {
        self.pick(100) < percent
    }

    fn of<'s>(&mut self, options: &[&'s str]) -> &'s str {
        options[self.pick(options.len())]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Bool,
    Int,
    Float,
    Str,
    Time,
    Dur,
    StrList,
}

const TYPES: [Ty; 7] = [
    Ty::Bool,
    Ty::Int,
    Ty::Float,
    Ty::Str,
    Ty::Time,
    Ty::Dur,
    Ty::StrList,
];

const SCHEMA: &str = "schema {
  user.id: string
  user.age: int?
  user.score: float?
  user.country: string?
  user.plan: \"trial\" | \"starter\" | \"pro\"
  user.tz: string?
  user.active: bool?
  user.signup_at: time
  onboarding.completed_at: time?
  behavior.sessions: int
  behavior.trial: duration?
  tags: list<string>?
  events: list<{ name: string, at: time, props: map? }>
}
";

const EVENT_NAMES: [&str; 3] = ["login", "purchase", "session_start"];

/// What the element of the innermost aggregate is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Elem {
    None,
    Event,
    Str,
}

struct Gen<'a> {
    t: Tape<'a>,
    schema: bool,
    /// Rules defined so far, with the type they can be read as.
    rules: Vec<(String, Ty)>,
    elem: Elem,
    counter: usize,
}

impl Gen<'_> {
    fn fresh(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}", self.counter)
    }

    fn rule_of(&mut self, ty: Ty) -> Option<String> {
        let names: Vec<&String> = self
            .rules
            .iter()
            .filter(|(_, t)| *t == ty)
            .map(|(n, _)| n)
            .collect();
        if names.is_empty() {
            return None;
        }
        let i = self.t.pick(names.len());
        Some(names[i].clone())
    }

    fn field(&mut self, ty: Ty) -> Option<&'static str> {
        let options: &[&'static str] = match ty {
            Ty::Bool => &["user.active"],
            Ty::Int => &["user.age", "behavior.sessions"],
            Ty::Float => &["user.score"],
            Ty::Str => &["user.id", "user.country", "user.plan", "user.tz"],
            Ty::Time => &["user.signup_at", "onboarding.completed_at"],
            Ty::Dur => &["behavior.trial"],
            Ty::StrList => &["tags"],
        };
        Some(self.t.of(options))
    }

    /// A field of the current element, when inside an aggregate.
    fn elem_field(&mut self, ty: Ty) -> Option<String> {
        match (self.elem, ty) {
            (Elem::Event, Ty::Str) => Some(self.t.of(&[".name", ".props.plan"]).to_string()),
            (Elem::Event, Ty::Time) => Some(".at".into()),
            (Elem::Event, Ty::Int) => Some(".props.n".into()),
            (Elem::Event, Ty::Float) => Some(".props.x".into()),
            (Elem::Str, Ty::Str) => Some("it".into()),
            _ => None,
        }
    }

    fn leaf(&mut self, ty: Ty) -> String {
        match self.t.pick(4) {
            1 => {
                if let Some(f) = self.elem_field(ty) {
                    return f;
                }
                self.field(ty)
                    .map(str::to_string)
                    .unwrap_or_else(|| self.literal(ty))
            }
            2 => self
                .field(ty)
                .map(str::to_string)
                .unwrap_or_else(|| self.literal(ty)),
            3 => self.rule_of(ty).unwrap_or_else(|| self.literal(ty)),
            _ => self.literal(ty),
        }
    }

    fn literal(&mut self, ty: Ty) -> String {
        let t = &mut self.t;
        match ty {
            Ty::Bool => t.of(&["true", "false"]).into(),
            Ty::Int => t
                .of(&[
                    "0",
                    "1",
                    "2",
                    "3",
                    "7",
                    "30",
                    "-5",
                    "1_000",
                    "9223372036854775807",
                    "4611686018427387904",
                ])
                .into(),
            Ty::Float => t.of(&["0.5", "50%", "1.5", "1e-3", "0.0", "2.25"]).into(),
            Ty::Str => t
                .of(&[
                    "\"a\"",
                    "\"trial\"",
                    "\"pro\"",
                    "\"\"",
                    "\"DE\"",
                    "\"x y\"",
                    "\"login\"",
                    "\"UTC\"",
                ])
                .into(),
            Ty::Time => t
                .of(&[
                    "now",
                    "@2026-11-20T12:00:00Z",
                    "@2026-11-19",
                    "@2026-11-18T09:30:00Z",
                    "@2026-12-01T00:00:00.250Z",
                ])
                .into(),
            Ty::Dur => t.of(&["24h", "90s", "7d", "2w", "1ms", "30m"]).into(),
            Ty::StrList => t.of(&["[\"a\", \"beta\"]", "[]", "[\"trial\"]"]).into(),
        }
    }

    /// A value read from the profile (or an element), never a constant, so
    /// that conversions of it cannot fail at compile time.
    fn dynamic(&mut self, ty: Ty) -> String {
        if let Some(f) = self.elem_field(ty) {
            if self.t.chance(50) {
                return f;
            }
        }
        self.field(ty)
            .map(str::to_string)
            .unwrap_or_else(|| self.literal(ty))
    }

    /// A time zone argument: mostly valid, sometimes from data.
    fn zone(&mut self) -> String {
        self.t
            .of(&["user.tz", "\"UTC\"", "\"Europe/Berlin\"", "user.country"])
            .into()
    }

    /// A string literal that is a valid `user.plan` value.
    fn plan(&mut self) -> String {
        format!("\"{}\"", self.t.of(&["trial", "starter", "pro"]))
    }

    fn any_ty(&mut self) -> Ty {
        TYPES[self.t.pick(TYPES.len())]
    }

    /// A list of events: the whole list, a filtered one or a shorthand
    /// name, for aggregates.
    fn events(&mut self, d: u32) -> String {
        match self.t.pick(3) {
            0 => "events".into(),
            1 => format!("\"{}\"", self.t.of(&EVENT_NAMES)),
            _ => {
                let c = self.in_elem(Elem::Event, |g| g.cond(d));
                format!("events where {c}")
            }
        }
    }

    fn in_elem<R>(&mut self, elem: Elem, f: impl FnOnce(&mut Self) -> R) -> R {
        let saved = self.elem;
        self.elem = elem;
        let r = f(self);
        self.elem = saved;
        r
    }

    /// An element condition (a bool read with the element in scope).
    fn cond(&mut self, d: u32) -> String {
        match self.t.pick(4) {
            0 if self.elem == Elem::Event => format!(".name == \"{}\"", self.t.of(&EVENT_NAMES)),
            1 if self.elem == Elem::Event => {
                let dur = self.e(Ty::Dur, 0);
                format!(".at within {dur}")
            }
            _ => self.e(Ty::Bool, d.saturating_sub(1)),
        }
    }

    fn e(&mut self, ty: Ty, d: u32) -> String {
        if d == 0 || self.t.chance(25) {
            return self.leaf(ty);
        }
        let d1 = d - 1;
        match ty {
            Ty::Bool => self.bool_e(d1),
            Ty::Int => self.int_e(d1),
            Ty::Float => self.float_e(d1),
            Ty::Str => self.str_e(d1),
            Ty::Time => self.time_e(d1),
            Ty::Dur => self.dur_e(d1),
            Ty::StrList => self.list_e(d1),
        }
    }

    fn cmp_op(&mut self) -> &'static str {
        self.t.of(&["==", "!=", "<", "<=", ">", ">="])
    }

    fn bool_e(&mut self, d: u32) -> String {
        match self.t.pick(22) {
            0 => format!("({} and {})", self.e(Ty::Bool, d), self.e(Ty::Bool, d)),
            1 => format!("({} or {})", self.e(Ty::Bool, d), self.e(Ty::Bool, d)),
            2 => format!("not {}", self.e(Ty::Bool, d)),
            3 => {
                let ty = self.any_ty();
                let neg = if self.t.chance(50) { "not " } else { "" };
                format!("({} is {neg}null)", self.e(ty, d))
            }
            4 => {
                let a = self.e(Ty::Int, d);
                let op = self.cmp_op();
                let b = if self.t.chance(50) {
                    self.literal(Ty::Int)
                } else {
                    self.e(Ty::Int, d)
                };
                format!("({a} {op} {b})")
            }
            5 => {
                let a = self.e(Ty::Float, d);
                let op = self.cmp_op();
                format!("({a} {op} {})", self.e(Ty::Int, d))
            }
            6 => {
                let a = self.e(Ty::Str, d);
                let op = self.t.of(&["==", "!="]);
                let b = if a == "user.plan" {
                    self.plan()
                } else {
                    self.e(Ty::Str, d)
                };
                format!("({a} {op} {b})")
            }
            7 => {
                let op = self.cmp_op();
                format!("({} {op} {})", self.e(Ty::Time, d), self.e(Ty::Time, d))
            }
            8 => {
                let op = self.cmp_op();
                format!("({} {op} {})", self.e(Ty::Dur, d), self.e(Ty::Dur, d))
            }
            9 => format!(
                "({} between {} and {})",
                self.e(Ty::Int, d),
                self.literal(Ty::Int),
                self.e(Ty::Int, d)
            ),
            10 => {
                let t = self.e(Ty::Time, d);
                let dur = self.e(Ty::Dur, d);
                match self.t.pick(4) {
                    0 => format!("({t} within {dur})"),
                    1 => format!("({t} within next {dur})"),
                    2 => format!("({t} within {dur} after {})", self.e(Ty::Time, d)),
                    _ => format!("({t} within {dur} before {})", self.e(Ty::Time, d)),
                }
            }
            11 => {
                let op = self.t.of(&["starts_with", "ends_with", "contains"]);
                format!("({} {op} {})", self.e(Ty::Str, d), self.e(Ty::Str, d))
            }
            12 => {
                let re = self.t.of(&["\"^[a-m]\"", "\"\\\\d\"", "\"e$\"", "\"^$\""]);
                format!("({} matches {re})", self.e(Ty::Str, d))
            }
            13 => {
                let op = self.t.of(&["in", "not in"]);
                format!("({} {op} {})", self.e(Ty::Str, d), self.e(Ty::StrList, d))
            }
            14 => {
                let op = self.t.of(&["has_any", "has_all", "contains"]);
                let rhs = if op == "contains" {
                    self.e(Ty::Str, d)
                } else {
                    self.e(Ty::StrList, d)
                };
                format!("({} {op} {rhs})", self.e(Ty::StrList, d))
            }
            15 => {
                let list = self.events(d);
                format!("exists({list})")
            }
            16 => {
                let list = self.events(d);
                let c = self.in_elem(Elem::Event, |g| g.cond(d));
                let f = self.t.of(&["all", "any", "exists"]);
                format!("{f}({list}, {c})")
            }
            17 => {
                let list = self.e(Ty::StrList, d);
                let c = self.in_elem(Elem::Str, |g| g.cond(d));
                let f = self.t.of(&["all", "any"]);
                format!("{f}({list}, {c})")
            }
            18 => format!(
                "(if {} then {} else {})",
                self.e(Ty::Bool, d),
                self.e(Ty::Bool, d),
                self.e(Ty::Bool, d)
            ),
            19 => {
                let v = self.t.of(&["\"1.2\"", "\"2.0.1\"", "\"v1\""]);
                let op = self.cmp_op();
                format!("(semver({}) {op} semver({v}))", self.dynamic(Ty::Str))
            }
            20 => {
                let list = self.events(d);
                let op = self.cmp_op();
                format!("(count({list}) {op} {})", self.e(Ty::Int, d))
            }
            _ => {
                let x = self.e(Ty::Str, d);
                format!("(({x} ?? \"\") == \"\")")
            }
        }
    }

    fn int_e(&mut self, d: u32) -> String {
        match self.t.pick(14) {
            0 => {
                let op = self.t.of(&["+", "-", "*", "%"]);
                format!("({} {op} {})", self.e(Ty::Int, d), self.e(Ty::Int, d))
            }
            1 => format!("(-{})", self.e(Ty::Int, d)),
            2 => format!("count({})", self.events(d)),
            3 => {
                let list = self.events(d);
                let c = self.in_elem(Elem::Event, |g| g.cond(d));
                format!("count({list}, {c})")
            }
            4 => {
                if self.t.chance(50) {
                    format!("len({})", self.e(Ty::Str, d))
                } else {
                    format!("len({})", self.e(Ty::StrList, d))
                }
            }
            5 => format!(
                "{}({})",
                self.t.of(&["round", "floor", "ceil"]),
                self.e(Ty::Float, d)
            ),
            6 => format!("abs({})", self.e(Ty::Int, d)),
            7 => format!(
                "{}({}, {})",
                self.t.of(&["min", "max"]),
                self.e(Ty::Int, d),
                self.e(Ty::Int, d)
            ),
            8 => format!("({} ?? {})", self.e(Ty::Int, d), self.e(Ty::Int, d)),
            9 => format!(
                "(if {} then {} else {})",
                self.e(Ty::Bool, d),
                self.e(Ty::Int, d),
                self.e(Ty::Int, d)
            ),
            10 => {
                if self.t.chance(50) {
                    format!("hour_of_day({})", self.e(Ty::Time, d))
                } else {
                    format!("hour_of_day({}, {})", self.e(Ty::Time, d), self.zone())
                }
            }
            11 => format!("int({})", self.dynamic(Ty::Str)),
            12 => {
                let list = self.events(d);
                format!("sum({list}, .props.n)")
            }
            _ => {
                let list = self.events(d);
                let f = self.t.of(&["min", "max"]);
                format!("{f}({list}, .props.n)")
            }
        }
    }

    fn float_e(&mut self, d: u32) -> String {
        match self.t.pick(8) {
            0 => format!("({} / {})", self.e(Ty::Int, d), self.e(Ty::Int, d)),
            1 => {
                let op = self.t.of(&["+", "-", "*", "/"]);
                format!("({} {op} {})", self.e(Ty::Float, d), self.e(Ty::Float, d))
            }
            2 => format!(
                "{}({})",
                self.t.of(&["days", "hours", "minutes"]),
                self.e(Ty::Dur, d)
            ),
            3 => format!(
                "{}({})",
                self.t
                    .of(&["days_since", "hours_since", "days_until", "hours_until"]),
                self.e(Ty::Time, d)
            ),
            4 => {
                let list = self.events(d);
                format!("avg({list}, .props.x)")
            }
            5 => format!("float({})", self.dynamic(Ty::Str)),
            6 => format!("({} ?? 0.5)", self.e(Ty::Float, d)),
            _ => format!("({} * 1.5)", self.e(Ty::Int, d)),
        }
    }

    fn str_e(&mut self, d: u32) -> String {
        match self.t.pick(10) {
            0 => format!(
                "{}({})",
                self.t.of(&["lower", "upper", "trim", "title"]),
                self.e(Ty::Str, d)
            ),
            1 => {
                let ty = self.any_ty();
                let x = self.e(ty, d);
                format!("\"hi {{{x}}}!\"")
            }
            2 => format!("({} ?? \"none\")", self.e(Ty::Str, d)),
            3 => {
                if self.t.chance(50) {
                    format!("weekday({})", self.e(Ty::Time, d))
                } else {
                    format!("weekday({}, {})", self.e(Ty::Time, d), self.zone())
                }
            }
            4 => {
                let ty = self.any_ty();
                format!("string({})", self.e(ty, d))
            }
            5 => format!("first({})", self.e(Ty::StrList, d)),
            6 => format!(
                "(if {} then {} else {})",
                self.e(Ty::Bool, d),
                self.e(Ty::Str, d),
                self.e(Ty::Str, d)
            ),
            7 => format!("{}[{}]", self.e(Ty::StrList, 0), self.e(Ty::Int, d)),
            8 => format!("last({}).name", self.events(d)),
            _ => {
                let list = self.events(d);
                format!("first({list}).props.plan")
            }
        }
    }

    fn time_e(&mut self, d: u32) -> String {
        match self.t.pick(7) {
            0 => format!("({} + {})", self.e(Ty::Time, d), self.e(Ty::Dur, d)),
            1 => format!("({} - {})", self.e(Ty::Time, d), self.e(Ty::Dur, d)),
            2 => format!("ago({})", self.e(Ty::Dur, d)),
            3 => format!("date({})", self.e(Ty::Time, d)),
            4 => format!("last({}).at", self.events(d)),
            5 => {
                let list = self.events(d);
                format!("{}({list}, .at)", self.t.of(&["min", "max"]))
            }
            _ => format!("({} ?? now)", self.e(Ty::Time, d)),
        }
    }

    fn dur_e(&mut self, d: u32) -> String {
        match self.t.pick(5) {
            0 => format!("({} - {})", self.e(Ty::Time, d), self.e(Ty::Time, d)),
            1 => format!("({} * {})", self.e(Ty::Dur, d), self.e(Ty::Int, d)),
            2 => format!(
                "({} / {})",
                self.e(Ty::Dur, d),
                self.t.of(&["2", "3", "0.5"])
            ),
            3 => {
                let op = self.t.of(&["+", "-"]);
                format!("({} {op} {})", self.e(Ty::Dur, d), self.e(Ty::Dur, d))
            }
            _ => format!("(-{})", self.e(Ty::Dur, d)),
        }
    }

    fn list_e(&mut self, d: u32) -> String {
        match self.t.pick(4) {
            0 => format!("[{}, {}]", self.e(Ty::Str, d), self.e(Ty::Str, d)),
            1 => {
                let list = self.events(d);
                format!("distinct({list}, .name)")
            }
            2 => {
                let list = self.e(Ty::StrList, d);
                let c = self.in_elem(Elem::Str, |g| g.cond(d));
                format!("({list} where {c})")
            }
            _ => format!("({} ?? [])", self.e(Ty::StrList, d)),
        }
    }

    /// A whole program: rules in dependency order, written out in a
    /// shuffled order so reads go forward as well as backward.
    fn program(&mut self, max_rules: usize) -> String {
        let depth = 3;
        let mut items: Vec<String> = Vec::new();
        let n = 1 + self.t.pick(max_rules);
        for _ in 0..n {
            let item = match self.t.pick(6) {
                0 => {
                    let ty = self.any_ty();
                    let name = self.fresh("l");
                    let e = self.e(ty, depth);
                    self.rules.push((name.clone(), ty));
                    format!("let {name} = {e}")
                }
                1 => {
                    let name = self.fresh("s");
                    let label = if self.t.chance(30) {
                        " \"Some label\""
                    } else {
                        ""
                    };
                    let e = self.e(Ty::Bool, depth);
                    self.rules.push((name.clone(), Ty::Bool));
                    format!("segment {name}{label} = {e}")
                }
                2 | 3 => self.decision(depth),
                4 => self.experiment(depth),
                _ => self.trigger(depth),
            };
            items.push(item);
        }
        // A tape-chosen rotation, then every other item swapped: rules may
        // read rules defined after them.
        let rot = self.t.pick(items.len());
        items.rotate_left(rot);
        if self.t.chance(50) {
            items.reverse();
        }
        let mut out = String::new();
        if self.schema {
            out.push_str(SCHEMA);
        }
        for i in items {
            out.push_str(&i);
            out.push('\n');
        }
        out
    }

    fn decision(&mut self, depth: u32) -> String {
        let name = self.fresh("d");
        let collect = self.t.chance(30);
        let kind = self.t.pick(3);
        let branches = 1 + self.t.pick(4);
        let mut body = String::new();
        for _ in 0..branches {
            let c = self.e(Ty::Bool, depth);
            let v = self.decision_value(kind, depth);
            body.push_str(&format!("  when {c} => {v}\n"));
        }
        if self.t.chance(60) {
            let v = self.decision_value(kind, depth);
            body.push_str(&format!("  else => {v}\n"));
        }
        if !collect {
            let ty = match kind {
                0 => Some(Ty::Str),
                1 => Some(Ty::Int),
                _ => None,
            };
            if let Some(ty) = ty {
                self.rules.push((name.clone(), ty));
            }
        }
        let policy = if collect { " collect" } else { "" };
        format!("decision {name}{policy} {{\n{body}}}")
    }

    fn decision_value(&mut self, kind: usize, depth: u32) -> String {
        match kind {
            0 => {
                if self.t.chance(50) {
                    self.literal(Ty::Str)
                } else {
                    self.e(Ty::Str, depth - 1)
                }
            }
            1 => self.e(Ty::Int, depth - 1),
            _ => format!(
                "{{ flow: {}, n: {}, at: {} }}",
                self.literal(Ty::Str),
                self.e(Ty::Int, depth - 1),
                self.e(Ty::Time, depth - 1)
            ),
        }
    }

    fn experiment(&mut self, depth: u32) -> String {
        let name = self.fresh("x");
        let unit = if self.schema {
            self.t
                .of(&["user.id", "user.id", "user.age", "behavior.sessions"])
                .to_string()
        } else {
            self.t
                .of(&[
                    "user.id",
                    "user.id",
                    "user.age",
                    "user.active",
                    "lower(user.id)",
                ])
                .to_string()
        };
        let mut body = format!("  unit {unit}\n");
        if self.t.chance(50) {
            body.push_str(&format!(
                "  salt \"{}\"\n",
                self.t.of(&["s-1", "welcome-2026-11", ""])
            ));
        }
        if self.t.chance(50) {
            let c = self.e(Ty::Bool, depth);
            body.push_str(&format!("  eligible {c}\n"));
        }
        if self.t.chance(40) {
            body.push_str(&format!(
                "  coverage {}\n",
                self.t.of(&["80%", "50%", "0%", "100%", "0.25"])
            ));
        }
        let (variants, names): (&str, &[&str]) = match self.t.pick(4) {
            0 => ("control: 50%, treatment: 50%", &["control", "treatment"]),
            1 => ("holdout: 10%, treatment: 90%", &["holdout", "treatment"]),
            2 => ("a: 33%, b: 33%, c: 34%", &["a", "b", "c"]),
            _ => ("only: 100%", &["only"]),
        };
        body.push_str(&format!("  variants {{ {variants} }}\n"));
        if self.t.chance(30) {
            let v = names[self.t.pick(names.len())];
            body.push_str(&format!("  force {{ \"u-1\": {v} }}\n"));
        }
        self.rules.push((name.clone(), Ty::Str));
        format!("experiment {name} {{\n{body}}}")
    }

    fn trigger(&mut self, depth: u32) -> String {
        let name = self.fresh("t");
        let on = self.t.of(&EVENT_NAMES);
        let when = if self.t.chance(70) {
            format!(" when {}", self.e(Ty::Bool, depth))
        } else {
            String::new()
        };
        let mut actions = Vec::new();
        for _ in 0..1 + self.t.pick(2) {
            let action = self.t.of(&["send_email", "show_banner"]);
            if self.t.chance(30) {
                actions.push(format!("emit \"{action}\""));
            } else {
                let ty = self.any_ty();
                let v = self.e(ty, depth - 1);
                let ev = self.t.of(&[
                    "event.props.plan ?? \"none\"",
                    "event.at",
                    "event.name",
                    "event",
                ]);
                actions.push(format!("emit \"{action}\" {{ v: {v}, ev: {ev} }}"));
            }
        }
        format!("trigger {name} on \"{on}\"{when} => {}", actions.join(", "))
    }
}

/// A generated profile: plausible data with missing fields, nulls and
/// values of the wrong type.
fn profile(t: &mut Tape) -> Json {
    fn maybe(
        t: &mut Tape,
        m: &mut serde_json::Map<String, Json>,
        key: &str,
        good: Json,
        bad: Json,
    ) {
        match t.pick(10) {
            0 => {}
            1 => {
                m.insert(key.into(), Json::Null);
            }
            2 => {
                m.insert(key.into(), bad);
            }
            _ => {
                m.insert(key.into(), good);
            }
        }
    }
    fn time(t: &mut Tape) -> Json {
        match t.pick(8) {
            0 => json!(1_763_640_000_000i64 + 86_400_000i64 * 365),
            1 => json!("not a time"),
            2 => json!("2026-11-20T12:00:00Z"),
            _ => {
                let days = t.pick(10) as i64;
                let hours = t.pick(24) as i64;
                let ms =
                    onramp::time::parse_time(NOW).unwrap() - days * 86_400_000 - hours * 3_600_000
                        + 86_400_000;
                if t.chance(70) {
                    json!(onramp::time::format_time(ms))
                } else {
                    json!(ms)
                }
            }
        }
    }
    let mut user = serde_json::Map::new();
    let ids = ["u-1", "u-2", "u-17", "", "u-qa-1", "é-1"];
    let id = json!(ids[t.pick(ids.len())]);
    maybe(t, &mut user, "id", id, json!(42));
    let age = one_of(
        t,
        &[
            json!(0),
            json!(17),
            json!(25),
            json!(30),
            json!(64),
            json!(-1),
        ],
    );
    let bad_age = one_of(
        t,
        &[
            json!("30"),
            json!(30.5),
            json!(9_223_372_036_854_775_807i64),
        ],
    );
    maybe(t, &mut user, "age", age, bad_age);
    let score = one_of(t, &[json!(0.5), json!(3), json!(0.0), json!(1e300)]);
    maybe(t, &mut user, "score", score, json!("high"));
    let country = one_of(t, &[json!("DE"), json!("US"), json!("a")]);
    maybe(t, &mut user, "country", country, json!(3));
    let plan = one_of(t, &[json!("trial"), json!("starter"), json!("pro")]);
    maybe(t, &mut user, "plan", plan, json!("gold"));
    let tz = one_of(
        t,
        &[
            json!("Europe/Berlin"),
            json!("UTC"),
            json!("America/New_York"),
        ],
    );
    maybe(t, &mut user, "tz", tz, json!("Mars/Base"));
    let active = json!(t.chance(50));
    maybe(t, &mut user, "active", active, json!("yes"));
    let signup = time(t);
    maybe(t, &mut user, "signup_at", signup, json!(true));
    let mut onboarding = serde_json::Map::new();
    let done = time(t);
    maybe(t, &mut onboarding, "completed_at", done, json!([1]));
    let mut behavior = serde_json::Map::new();
    let sessions = one_of(t, &[json!(0), json!(2), json!(5), json!(12)]);
    maybe(t, &mut behavior, "sessions", sessions, json!(2.5));
    let trial = one_of(
        t,
        &[json!("14d"), json!("36h"), json!(3_600_000), json!("-2h")],
    );
    maybe(t, &mut behavior, "trial", trial, json!("soon"));
    let mut root = serde_json::Map::new();
    maybe(t, &mut root, "user", Json::Object(user), json!("user"));
    maybe(
        t,
        &mut root,
        "onboarding",
        Json::Object(onboarding),
        json!(1),
    );
    maybe(t, &mut root, "behavior", Json::Object(behavior), json!([]));
    let tags: Vec<Json> = (0..t.pick(4))
        .map(|_| {
            one_of(
                t,
                &[json!("beta"), json!("a"), json!("trial"), json!("x y")],
            )
        })
        .collect();
    maybe(t, &mut root, "tags", json!(tags), json!(["beta", 1]));
    let mut events = Vec::new();
    for _ in 0..t.pick(7) {
        let mut e = serde_json::Map::new();
        let name = json!(EVENT_NAMES[t.pick(3)]);
        maybe(t, &mut e, "name", name, json!(7));
        let at = time(t);
        maybe(t, &mut e, "at", at, json!({}));
        let mut props = serde_json::Map::new();
        let n = one_of(
            t,
            &[
                json!(1),
                json!(5),
                json!(-3),
                json!(9_223_372_036_854_775_807i64),
            ],
        );
        maybe(t, &mut props, "n", n, json!("5"));
        let x = one_of(t, &[json!(0.5), json!(2), json!(1.25)]);
        maybe(t, &mut props, "x", x, json!(null));
        let plan = one_of(t, &[json!("pro"), json!("trial")]);
        maybe(t, &mut props, "plan", plan, json!(false));
        maybe(t, &mut e, "props", Json::Object(props), json!("p"));
        if t.chance(5) {
            events.push(json!("not an event"));
        } else {
            events.push(Json::Object(e));
        }
    }
    maybe(t, &mut root, "events", json!(events), json!("events"));
    Json::Object(root)
}

fn one_of(t: &mut Tape, options: &[Json]) -> Json {
    options[t.pick(options.len())].clone()
}

fn event(t: &mut Tape) -> Option<Json> {
    match t.pick(6) {
        0 | 1 => None,
        2 => Some(json!({"name": 5})),
        _ => {
            let plan = ["pro", "trial"][t.pick(2)];
            Some(json!({
            "name": EVENT_NAMES[t.pick(3)],
            "at": NOW,
            "props": {"plan": plan, "n": 3},
            }))
        }
    }
}
