//! Limits the host can set on what a program or a profile may demand.
//!
//! The defaults are safe for a service: no input within them can exhaust
//! the stack or memory, and every evaluation ends.

/// Resource limits, checked with a clear error each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest rule file, in bytes.
    pub max_source_bytes: usize,
    /// Deepest nesting of brackets, interpolations and operators in a rule
    /// file, and of arrays and objects in a profile.
    pub max_nesting_depth: usize,
    /// Most items in one program.
    pub max_items: usize,
    /// Longest string in a profile, in bytes.
    pub max_string_bytes: usize,
    /// Longest list in a profile.
    pub max_list_len: usize,
    /// Largest compiled regex, in bytes (the `regex` crate's size limit).
    pub max_regex_bytes: usize,
    /// Default step budget of one evaluation (see [`crate::Context`]).
    pub max_steps: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_source_bytes: 8 << 20,
            max_nesting_depth: 128,
            max_items: 100_000,
            max_string_bytes: 1 << 20,
            max_list_len: 1_000_000,
            max_regex_bytes: 1 << 20,
            max_steps: 10_000_000,
        }
    }
}
