//! "Did you mean …?": the closest known name within a small edit distance.

/// Edit distance over characters where swapping two neighbours counts as
/// one edit (the commonest typo: `trail` for `trial`).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The longest name [`closest`] looks for a suggestion for.
pub const MAX_SUGGEST_CHARS: usize = 64;

/// The candidate closest to `name`, when close enough to be a likely typo:
/// one edit for short names, two for longer ones, and never a suggestion
/// that shares nothing with the name (`x` is not a typo of `a`).
///
/// Names longer than [`MAX_SUGGEST_CHARS`] get no suggestion: the edit
/// distance is quadratic in the lengths, and a typo in such a name is not
/// what went wrong.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let len = name.chars().count();
    if len > MAX_SUGGEST_CHARS {
        return None;
    }
    let limit = if len <= 3 { 1 } else { (len / 4).max(2) };
    candidates
        .into_iter()
        .filter(|c| *c != name)
        // The distance is at least the difference in length.
        .filter(|c| c.chars().count().abs_diff(len) <= limit)
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit && *d < len)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_close_names() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(closest("egnaged", ["engaged", "at_risk"]), Some("engaged"));
        assert_eq!(closest("xyz", ["engaged"]), None);
        assert_eq!(closest("trail", ["trial", "pro"]), Some("trial"));
        assert_eq!(closest("x", ["a", "d"]), None);
    }
}
