//! Semantic versions for the language's `semver(s)` built-in: lenient
//! parsing as app stores write versions, and ordering by SemVer 2.0.0
//! precedence (LANGUAGE.md §3, §14).
//!
//! Leniency, beyond SemVer 2.0.0:
//! - surrounding whitespace is trimmed (versions come from stringly typed
//!   profile data, and the numeric conversions trim too);
//! - one leading `v` or `V` is skipped;
//! - a missing minor or patch reads as 0 (`"5"` is 5.0.0, `"5.1"` is 5.1.0);
//! - leading zeros are accepted in numbers and read numerically (`"1.02"` is
//!   1.2.0; a pre-release `"01"` is the numeric identifier 1).
//!
//! Build metadata (`+…`) is validated and then discarded: it takes no part in
//! precedence or equality, and [`Version`]'s `Display` — the text written to
//! result JSON — is the normalised form without it.
//!
//! Errors never quote the input, which may be profile data.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Why a text is not a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SemverError {
    /// The text does not have the form `[v]MAJOR[.MINOR[.PATCH]][-PRE][+BUILD]`.
    #[error("invalid version: expected a semantic version such as 1.2.3 or 1.2.3-beta.1")]
    Invalid,
    /// A major, minor or patch number does not fit in 64 bits.
    #[error("invalid version: number too large")]
    NumberTooLarge,
}

/// One dot-separated pre-release identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Identifier {
    /// Digits only, stored without leading zeros (`"0"` for zero) so that
    /// numeric comparison is length-then-lexicographic and needs no bound.
    Numeric(Box<str>),
    /// Contains a letter or hyphen; compared by ASCII order.
    Alphanumeric(Box<str>),
}

impl Ord for Identifier {
    fn cmp(&self, other: &Identifier) -> Ordering {
        match (self, other) {
            (Identifier::Numeric(a), Identifier::Numeric(b)) => {
                a.len().cmp(&b.len()).then_with(|| a.cmp(b))
            }
            // SemVer: numeric identifiers have lower precedence.
            (Identifier::Numeric(_), Identifier::Alphanumeric(_)) => Ordering::Less,
            (Identifier::Alphanumeric(_), Identifier::Numeric(_)) => Ordering::Greater,
            (Identifier::Alphanumeric(a), Identifier::Alphanumeric(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Identifier {
    fn partial_cmp(&self, other: &Identifier) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identifier::Numeric(s) | Identifier::Alphanumeric(s) => f.write_str(s),
        }
    }
}

/// A semantic version ordered by SemVer 2.0.0 precedence.
///
/// Build metadata is not stored, so the derived equality and hash agree with
/// the precedence order: two versions are equal exactly when neither has
/// higher precedence.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    /// Empty for a release version.
    pre: Vec<Identifier>,
}

impl Version {
    /// A release version `major.minor.patch` without pre-release.
    pub fn new(major: u64, minor: u64, patch: u64) -> Version {
        Version {
            major,
            minor,
            patch,
            pre: Vec::new(),
        }
    }

    /// The major number.
    pub fn major(&self) -> u64 {
        self.major
    }

    /// The minor number (0 when the text omitted it).
    pub fn minor(&self) -> u64 {
        self.minor
    }

    /// The patch number (0 when the text omitted it).
    pub fn patch(&self) -> u64 {
        self.patch
    }

    /// Whether the version has a pre-release part (`1.0.0-beta`).
    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                // A pre-release precedes its release.
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                // Vec's lexicographic order is SemVer's: identifier by
                // identifier, and a shorter list first when it is a prefix.
                (false, false) => self.pre.cmp(&other.pre),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    /// Writes the normalised form, `MAJOR.MINOR.PATCH[-PRE]`, without build
    /// metadata.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        for (i, id) in self.pre.iter().enumerate() {
            f.write_str(if i == 0 { "-" } else { "." })?;
            write!(f, "{id}")?;
        }
        Ok(())
    }
}

impl FromStr for Version {
    type Err = SemverError;

    fn from_str(text: &str) -> Result<Version, SemverError> {
        parse(text)
    }
}

/// Whether `s` is a non-empty run of SemVer identifier characters.
fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Reads a major, minor or patch number.
fn number(s: &str) -> Result<u64, SemverError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SemverError::Invalid);
    }
    s.parse().map_err(|_| SemverError::NumberTooLarge)
}

/// Parses a version leniently (see the module documentation):
/// `[v]MAJOR[.MINOR[.PATCH]][-PRE][+BUILD]`, surrounding whitespace ignored.
///
/// More than three numeric components (`1.2.3.4`), empty components or
/// identifiers (`1..2`, `1.0.0-`, `1.0.0-a..b`), and characters outside
/// `[0-9A-Za-z-]` in identifiers are errors.
pub fn parse(text: &str) -> Result<Version, SemverError> {
    let text = text.trim();
    let text = text
        .strip_prefix('v')
        .or_else(|| text.strip_prefix('V'))
        .unwrap_or(text);

    let (rest, build) = match text.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (text, None),
    };
    if let Some(build) = build {
        if !build.split('.').all(is_identifier) {
            return Err(SemverError::Invalid);
        }
    }
    // The pre-release starts at the first hyphen; later hyphens belong to
    // its identifiers.
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };

    let mut numbers = [0u64; 3];
    for (index, part) in core.split('.').enumerate() {
        let slot = numbers.get_mut(index).ok_or(SemverError::Invalid)?;
        *slot = number(part)?;
    }

    let mut identifiers = Vec::new();
    if let Some(pre) = pre {
        for part in pre.split('.') {
            if !is_identifier(part) {
                return Err(SemverError::Invalid);
            }
            identifiers.push(if part.bytes().all(|b| b.is_ascii_digit()) {
                let trimmed = part.trim_start_matches('0');
                Identifier::Numeric(if trimmed.is_empty() { "0" } else { trimmed }.into())
            } else {
                Identifier::Alphanumeric(part.into())
            });
        }
    }

    let [major, minor, patch] = numbers;
    Ok(Version {
        major,
        minor,
        patch,
        pre: identifiers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};

    fn v(text: &str) -> Version {
        parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn hash_of(version: &Version) -> u64 {
        let mut h = DefaultHasher::new();
        version.hash(&mut h);
        h.finish()
    }

    #[test]
    fn spec_precedence_chain() {
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "2.0.0",
            "2.1.0",
            "2.1.1",
        ];
        for (i, a) in chain.iter().enumerate() {
            for (j, b) in chain.iter().enumerate() {
                assert_eq!(v(a).cmp(&v(b)), i.cmp(&j), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn numeric_fields_compare_numerically() {
        assert!(v("1.10.0") > v("1.9.0"));
        assert!(v("10.0.0") > v("9.99.99"));
        assert!(v("1.0.10") > v("1.0.9"));
        assert!(v("1.0.0-10") > v("1.0.0-9"));
        assert!(v("1.0.0-1") < v("1.0.0-a"));
        assert!(v("1.0.0-999999") < v("1.0.0-A"));
        assert!(v("1.0.0-Z") < v("1.0.0-a")); // ASCII order
        assert!(v("1.0.0-a-b") > v("1.0.0-a"));
        // Numeric identifiers beyond u64 still compare numerically.
        assert!(v("1.0.0-99999999999999999999999") > v("1.0.0-18446744073709551615"));
        assert!(v("1.0.0-99999999999999999999999") < v("1.0.0-100000000000000000000000"));
    }

    #[test]
    fn lenient_forms() {
        assert_eq!(v("5"), Version::new(5, 0, 0));
        assert_eq!(v("5.1"), Version::new(5, 1, 0));
        assert_eq!(v("v5.1.2"), Version::new(5, 1, 2));
        assert_eq!(v("V5.1.2"), Version::new(5, 1, 2));
        assert_eq!(v("  2.3.1\n"), Version::new(2, 3, 1));
        assert_eq!(v("1.02.003"), Version::new(1, 2, 3));
        assert_eq!(v("5.1-beta").to_string(), "5.1.0-beta");
        assert_eq!(v("1.0.0-beta.01"), v("1.0.0-beta.1"));
        assert_eq!(v("1.0.0-00"), v("1.0.0-0"));
        assert_eq!(v("1.0.0-0a").to_string(), "1.0.0-0a"); // alphanumeric keeps zeros
        assert!(v("5.1") == v("5.1.0"));
    }

    #[test]
    fn build_metadata_ignored() {
        assert_eq!(v("1.0.0+build.5"), v("1.0.0"));
        assert_eq!(v("1.0.0-rc.1+exp.sha.5114f85"), v("1.0.0-rc.1"));
        assert_eq!(v("1.0.0+a").cmp(&v("1.0.0+b")), Ordering::Equal);
        assert_eq!(hash_of(&v("1.0.0+a")), hash_of(&v("1.0.0")));
        assert_eq!(v("1.0.0+20130313144700").to_string(), "1.0.0");
        assert_eq!(v("1.0.0-beta+exp-1").to_string(), "1.0.0-beta");
    }

    #[test]
    fn display_normalises() {
        assert_eq!(v("5.1").to_string(), "5.1.0");
        assert_eq!(v("v1.0.0-beta.2").to_string(), "1.0.0-beta.2");
        assert_eq!(v("1.0.0-x-y-z.--").to_string(), "1.0.0-x-y-z.--");
        assert_eq!(Version::new(1, 2, 3).to_string(), "1.2.3");
        let max = format!("{0}.{0}.{0}", u64::MAX);
        assert_eq!(v(&max).to_string(), max);
        // Display output parses back to an equal version.
        for text in ["1.0.0-alpha.1", "0.0.0", "3.2.1-0.a.00b"] {
            assert_eq!(v(&v(text).to_string()), v(text));
        }
    }

    #[test]
    fn accessors() {
        let version = v("4.5.6-rc.1");
        assert_eq!(
            (version.major(), version.minor(), version.patch()),
            (4, 5, 6)
        );
        assert!(version.is_prerelease());
        assert!(!v("4.5.6").is_prerelease());
        assert_eq!("1.2".parse::<Version>(), Ok(Version::new(1, 2, 0)));
    }

    #[test]
    fn rejects_invalid() {
        for bad in [
            "",
            " ",
            "v",
            "vv1.0.0",
            "1.",
            ".1",
            "1..0",
            "1.0.0.0",
            "1.0.0-",
            "1.0.0+",
            "1.0.0-a..b",
            "1.0.0-a.",
            "1.0.0+a..b",
            "1.0.0-\u{00e9}",
            "1.0.0-a_b",
            "1.0.0+a+b",
            "a.b.c",
            "-1.0.0",
            "+1.0.0",
            "1.-1.0",
            "1.0.0 beta",
            "1 .0",
            "\u{0661}.0.0",
            "1.0.0-beta!",
        ] {
            assert_eq!(parse(bad), Err(SemverError::Invalid), "{bad:?}");
        }
        assert_eq!(
            parse("18446744073709551616.0.0"),
            Err(SemverError::NumberTooLarge)
        );
        assert_eq!(
            parse("1.0.99999999999999999999999"),
            Err(SemverError::NumberTooLarge)
        );
        let message = parse("secret-1.x").unwrap_err().to_string();
        assert!(!message.contains("secret"));
    }

    #[test]
    fn mutated_inputs_never_panic() {
        let replacements = [
            '0',
            '9',
            '.',
            '-',
            '+',
            'v',
            ' ',
            'a',
            '\u{e9}',
            '\u{1F600}',
        ];
        let valid = "v1.22.333-rc.01.x-y+build.7";
        let chars: Vec<char> = valid.chars().collect();
        for end in 0..=chars.len() {
            let text: String = chars[..end].iter().collect();
            let _ = parse(&text);
        }
        for i in 0..chars.len() {
            for r in replacements {
                let mut mutated = chars.clone();
                mutated[i] = r;
                let text: String = mutated.iter().collect();
                if let Ok(version) = parse(&text) {
                    assert_eq!(parse(&version.to_string()), Ok(version), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn eq_consistent_with_ord() {
        let all: Vec<Version> = [
            "1",
            "1.0",
            "1.0.0",
            "1.0.0+x",
            "1.0.0-0",
            "1.0.0-00",
            "1.0.0-a",
            "1.0.0-a.0",
            "1.0.0-a.00",
            "0.9.9",
            "1.0.1",
        ]
        .iter()
        .map(|s| v(s))
        .collect();
        for a in &all {
            for b in &all {
                assert_eq!(a == b, a.cmp(b) == Ordering::Equal, "{a} vs {b}");
                if a == b {
                    assert_eq!(hash_of(a), hash_of(b));
                }
                assert_eq!(a.cmp(b), b.cmp(a).reverse());
            }
        }
    }
}
