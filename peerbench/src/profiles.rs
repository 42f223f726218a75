//! The benchmark profile and the extra verification profiles. Also
//! included (via `#[path]`) by the root crate's `benches/eval.rs`, so the
//! criterion benches and the peer table run on identical inputs.

/// The profile used for all timings.
pub const PROFILE: &str = r#"{"user": {"id": "u-123", "age": 27, "country": "DE", "industry": "finance", "plan": "trial"}, "onboarding": {"completed": true, "steps_done": 5, "days_to_complete": 2}, "behavior": {"sessions_last_week": 4, "feature_usage": 0.62, "sessions_24h": 3}, "tags": ["beta", "mobile"]}"#;

/// Extra profiles used only for the verification pass, chosen to drive
/// every rule down different branches (incl. every R5 outcome).
pub const VERIFY_EXTRA: &[&str] = &[
    // R5 -> simplified (base); R4 true via third clause
    r#"{"user": {"id": "u-2", "age": 45, "country": "US", "industry": "retail", "plan": "pro"}, "onboarding": {"completed": false, "steps_done": 1, "days_to_complete": 10}, "behavior": {"sessions_last_week": 2, "feature_usage": 0.2, "sessions_24h": 1}, "tags": ["beta"]}"#,
    // R5 -> finance
    r#"{"user": {"id": "u-3", "age": 45, "country": "FR", "industry": "finance", "plan": "trial"}, "onboarding": {"completed": true, "steps_done": 3, "days_to_complete": 5}, "behavior": {"sessions_last_week": 7, "feature_usage": 0.9, "sessions_24h": 6}, "tags": ["desktop"]}"#,
    // R5 -> beta
    r#"{"user": {"id": "u-4", "age": 45, "country": "NL", "industry": "health", "plan": "free"}, "onboarding": {"completed": true, "steps_done": 2, "days_to_complete": 8}, "behavior": {"sessions_last_week": 5, "feature_usage": 0.4, "sessions_24h": 0}, "tags": ["mobile", "beta"]}"#,
    // R5 -> standard; everything false-ish
    r#"{"user": {"id": "u-5", "age": 45, "country": "CA", "industry": "retail", "plan": "pro"}, "onboarding": {"completed": false, "steps_done": 0, "days_to_complete": 30}, "behavior": {"sessions_last_week": 9, "feature_usage": 0.1, "sessions_24h": 0}, "tags": []}"#,
    // minor, heavy usage, EU trial
    r#"{"user": {"id": "u-6", "age": 17, "country": "IT", "industry": "health", "plan": "trial"}, "onboarding": {"completed": true, "steps_done": 5, "days_to_complete": 1}, "behavior": {"sessions_last_week": 1, "feature_usage": 0.95, "sessions_24h": 4}, "tags": ["desktop", "mobile"]}"#,
];
