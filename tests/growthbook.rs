//! GrowthBook compatibility of experiment hashing and bucketing.
//!
//! Runs every case of the `hash`, `getBucketRange`, `chooseVariation`,
//! `getEqualWeights` and `inNamespace` sections of GrowthBook's SDK test
//! cases (a vendored copy in `tests/data/growthbook/`, see its README),
//! compared as GrowthBook's own runner compares them, and checks that
//! assignments are well distributed.

use onramp::bucket::{bucket_ranges, choose_variation, equal_weights, hash, in_namespace};
use serde_json::Value;

/// The vendored cases, embedded so the test needs no files at run time.
const CASES: &str = include_str!("data/growthbook/cases.json");

/// One section of the cases file.
fn section(name: &str) -> Vec<Value> {
    let all: Value = serde_json::from_str(CASES).expect("cases.json is valid JSON");
    all.get(name)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("cases.json has no section {name}"))
        .clone()
}

/// Floors to 8 decimals, as GrowthBook's runner does before comparing
/// ranges and weights (so `0.2 * 0.2` matches `0.04`).
fn floor8(x: f64) -> f64 {
    (x * 1e8).floor() / 1e8
}

fn num(v: &Value) -> Result<f64, String> {
    v.as_f64()
        .ok_or_else(|| format!("expected a number, got {v}"))
}

fn ranges(v: &Value) -> Result<Vec<(f64, f64)>, String> {
    v.as_array()
        .ok_or("ranges: expected an array")?
        .iter()
        .map(|r| match r.as_array().map(Vec::as_slice) {
            Some([start, end]) => Ok((num(start)?, num(end)?)),
            _ => Err(format!("bad range {r}")),
        })
        .collect()
}

fn floats(v: &Value) -> Result<Vec<f64>, String> {
    v.as_array()
        .ok_or("expected an array")?
        .iter()
        .map(num)
        .collect()
}

/// Runs each case, collecting `name: problem` for every failing one, and
/// asserts that none failed and that the section had `expected` cases.
fn run(section_name: &str, expected: usize, check: impl Fn(&[Value]) -> Result<(), String>) {
    let cases = section(section_name);
    assert_eq!(cases.len(), expected, "{section_name}: number of cases");
    let failures: Vec<String> = cases
        .iter()
        .enumerate()
        .filter_map(|(i, case)| {
            let fields = case.as_array().map(Vec::as_slice).unwrap_or(&[]);
            let name = match fields.first() {
                Some(Value::String(name)) => name.clone(),
                _ => format!("#{i} {case}"),
            };
            check(fields)
                .err()
                .map(|e| format!("{section_name} / {name}: {e}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "failing cases:\n{}",
        failures.join("\n")
    );
}

#[test]
fn hash_cases() {
    // [seed, value, hashVersion, expected_or_null], compared exactly.
    run("hash", 15, |case| {
        let [seed, value, version, expected] = case else {
            return Err("bad case shape".into());
        };
        let (seed, value) = (seed.as_str().ok_or("seed")?, value.as_str().ok_or("value")?);
        let version = version.as_u64().ok_or("version")?;
        let got = u32::try_from(version)
            .ok()
            .and_then(|v| hash(seed, value, v));
        let want = expected.as_f64();
        if got == want {
            Ok(())
        } else {
            Err(format!(
                "hash({seed:?}, {value:?}, {version}) = {got:?}, want {want:?}"
            ))
        }
    });
}

#[test]
fn get_bucket_range_cases() {
    // [name, [numVariations, coverage, weights_or_null], expected_ranges]
    run("getBucketRange", 13, |case| {
        let [_, args, expected] = case else {
            return Err("bad case shape".into());
        };
        let Some([n, coverage, weights]) = args.as_array().map(Vec::as_slice) else {
            return Err("bad arguments".into());
        };
        let n = usize::try_from(n.as_u64().ok_or("n")?).map_err(|e| e.to_string())?;
        let coverage = coverage.as_f64();
        let weights = if weights.is_null() {
            None
        } else {
            Some(floats(weights)?)
        };
        let got: Vec<(f64, f64)> = bucket_ranges(n, coverage, weights.as_deref())
            .into_iter()
            .map(|(s, e)| (floor8(s), floor8(e)))
            .collect();
        let want: Vec<(f64, f64)> = ranges(expected)?
            .into_iter()
            .map(|(s, e)| (floor8(s), floor8(e)))
            .collect();
        if got == want {
            Ok(())
        } else {
            Err(format!("got {got:?}, want {want:?}"))
        }
    });
}

#[test]
fn choose_variation_cases() {
    // [name, n, ranges, expectedIndex (-1 = none)]
    run("chooseVariation", 13, |case| {
        let [_, n, rs, expected] = case else {
            return Err("bad case shape".into());
        };
        let got = choose_variation(num(n)?, &ranges(rs)?);
        let want = expected.as_i64().ok_or("expected index")?;
        let got_i64 = got.map_or(-1, |i| i64::try_from(i).unwrap_or(i64::MAX));
        if got_i64 == want {
            Ok(())
        } else {
            Err(format!("got {got:?}, want {want}"))
        }
    });
}

#[test]
fn get_equal_weights_cases() {
    // [n, expected_weights]; a negative n means no weights, like 0.
    run("getEqualWeights", 6, |case| {
        let [n, expected] = case else {
            return Err("bad case shape".into());
        };
        let n = usize::try_from(n.as_i64().ok_or("n")?).unwrap_or(0);
        let got: Vec<f64> = equal_weights(n).into_iter().map(floor8).collect();
        let want: Vec<f64> = floats(expected)?.into_iter().map(floor8).collect();
        if got == want {
            Ok(())
        } else {
            Err(format!("got {got:?}, want {want:?}"))
        }
    });
}

#[test]
fn in_namespace_cases() {
    // [name, hashValue, [namespaceId, start, end], expected_bool]
    run("inNamespace", 16, |case| {
        let [_, value, namespace, expected] = case else {
            return Err("bad case shape".into());
        };
        let Some([id, start, end]) = namespace.as_array().map(Vec::as_slice) else {
            return Err("bad namespace".into());
        };
        let got = in_namespace(
            value.as_str().ok_or("hashValue")?,
            id.as_str().ok_or("namespaceId")?,
            num(start)?,
            num(end)?,
        );
        let want = expected.as_bool().ok_or("expected")?;
        if got == want {
            Ok(())
        } else {
            Err(format!("got {got}, want {want}"))
        }
    });
}

/// Assigns `user-0` … `user-{count-1}` with hash version 2; `None` for a
/// unit outside every range.
fn assign(seed: &str, weights: &[f64], count: usize) -> Vec<Option<usize>> {
    let ranges = bucket_ranges(weights.len(), None, Some(weights));
    (0..count)
        .map(|i| {
            let n = hash(seed, &format!("user-{i}"), 2).expect("version 2 exists");
            choose_variation(n, &ranges)
        })
        .collect()
}

#[test]
fn assignments_follow_weights() {
    const COUNT: usize = 100_000;
    for weights in [&[0.5, 0.5][..], &[0.1, 0.9], &[0.33, 0.33, 0.34]] {
        let assigned = assign("welcome-2026-11", weights, COUNT);
        assert!(
            assigned.iter().all(Option::is_some),
            "full coverage assigns everyone"
        );
        for (variant, &weight) in weights.iter().enumerate() {
            let share =
                assigned.iter().filter(|&&a| a == Some(variant)).count() as f64 / COUNT as f64;
            assert!(
                (share - weight).abs() <= 0.01,
                "weights {weights:?}: variant {variant} got {share}, want {weight} ± 0.01"
            );
        }
    }
}

#[test]
fn different_seed_reshuffles() {
    const COUNT: usize = 100_000;
    let a = assign("welcome-2026-11", &[0.5, 0.5], COUNT);
    let b = assign("pricing-2026-12", &[0.5, 0.5], COUNT);
    let same = a.iter().zip(&b).filter(|(x, y)| x == y).count() as f64 / COUNT as f64;
    assert!(
        (0.45..=0.55).contains(&same),
        "overlap {same} should be near 0.5"
    );
    // The same seed gives the same assignments.
    assert_eq!(a, assign("welcome-2026-11", &[0.5, 0.5], COUNT));
}
