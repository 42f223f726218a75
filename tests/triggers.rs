//! Triggers (LANGUAGE.md §8): they fire exactly when their event arrives
//! and their condition holds, in source order, with interpolated payloads.

use onramp::{Context, Program};
use serde_json::{json, Value};

const RULES: &str = r#"
segment engaged = sessions >= 2

trigger welcome on "signed_up"
    => emit "send_email" { template: "welcome" }

trigger upgrade_nudge on "feature_used" when event.props.plan == "trial" and engaged
    => emit "show_banner" { text: "Try {event.props.feature} on Pro, {user.name ?? "friend"}!" },
       emit "log" { at: event.at, after: event.at + 1h }

trigger second_on_same_event on "feature_used"
    => emit "count_feature" { feature: event.props.feature }

trigger bare on "signed_up"
    => emit "ping"
"#;

fn actions(profile: Value, event: Value) -> Value {
    let program = Program::compile(RULES).unwrap();
    let ctx = Context::at_millis(onramp::time::parse_time("2026-11-20T12:00:00Z").unwrap())
        .with_event(event);
    let result = program.evaluate(&profile, &ctx).unwrap();
    assert!(result.errors().is_empty(), "{:?}", result.errors());
    result.to_json()["actions"].clone()
}

#[test]
fn only_triggers_on_the_arriving_event_fire() {
    let got = actions(
        json!({}),
        json!({"name": "signed_up", "at": "2026-11-20T11:00:00Z"}),
    );
    assert_eq!(
        got,
        json!([
            {"trigger": "welcome", "action": "send_email", "payload": {"template": "welcome"}},
            {"trigger": "bare", "action": "ping", "payload": {}}
        ])
    );
    assert_eq!(actions(json!({}), json!({"name": "logged_in"})), json!([]));
}

#[test]
fn conditions_read_event_props_and_the_profile() {
    let event = json!({"name": "feature_used", "at": "2026-11-20T11:00:00Z", "props": {"plan": "trial", "feature": "exports"}});
    let got = actions(
        json!({"sessions": 3, "user": {"name": "Ada"}}),
        event.clone(),
    );
    assert_eq!(got.as_array().unwrap().len(), 3, "{got}");
    assert_eq!(got[0]["payload"]["text"], "Try exports on Pro, Ada!");
    assert_eq!(
        got[1]["payload"],
        json!({"at": "2026-11-20T11:00:00Z", "after": "2026-11-20T12:00:00Z"})
    );
    // Not engaged: the conditional trigger stays quiet, the other fires.
    let got = actions(json!({"sessions": 1}), event.clone());
    assert_eq!(
        got,
        json!([{"trigger": "second_on_same_event", "action": "count_feature", "payload": {"feature": "exports"}}])
    );
    // Another plan: same.
    let mut pro = event;
    pro["props"]["plan"] = json!("pro");
    let got = actions(json!({"sessions": 5}), pro);
    assert_eq!(got.as_array().unwrap().len(), 1);
}

#[test]
fn payload_interpolation_falls_back_for_missing_data() {
    let event = json!({"name": "feature_used", "props": {"plan": "trial", "feature": "sso"}});
    let got = actions(json!({"sessions": 2}), event);
    assert_eq!(got[0]["payload"]["text"], "Try sso on Pro, friend!");
}

#[test]
fn several_triggers_on_one_event_keep_source_order_across_files() {
    let dir = std::env::temp_dir().join(format!("onramp-triggers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("b.ramp"),
        "trigger second on \"e\" => emit \"b1\", emit \"b2\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("a.ramp"),
        "trigger first on \"e\" => emit \"a1\"\ntrigger third on \"e\" => emit \"a2\"\n",
    )
    .unwrap();
    let program = Program::load(&dir).unwrap();
    let ctx = Context::at_millis(0).with_event(json!({"name": "e"}));
    let result = program.evaluate(&json!({}), &ctx).unwrap();
    let names: Vec<&str> = result.actions().iter().map(|a| a.action.as_str()).collect();
    // Files in sorted path order (a.ramp before b.ramp), then position.
    assert_eq!(names, ["a1", "a2", "b1", "b2"]);
}

#[test]
fn the_incoming_event_is_not_added_to_the_history() {
    let program = Program::compile(
        "trigger t on \"session_start\" when count(\"session_start\") >= 1 => emit \"x\"\n",
    )
    .unwrap();
    let ctx = Context::at_millis(0).with_event(json!({"name": "session_start"}));
    let result = program.evaluate(&json!({"events": []}), &ctx).unwrap();
    assert!(result.actions().is_empty());
}

/// An incoming event that does not fit the schema's event type still
/// reaches the triggers listening to its name: one that reads `event`
/// reports why, naming the field; one that does not fires as usual. (It
/// used to reach none of them, silently.)
#[test]
fn an_event_that_does_not_fit_its_type_reaches_its_triggers() {
    let program = Program::compile(
        r#"
schema { events: list<{ name: string, at: time, props: map? }> }
trigger welcome on "signed_up" => emit "send_email" { template: "welcome" }
trigger stamp on "signed_up" => emit "log" { at: event.at }
trigger other on "logged_in" => emit "never"
"#,
    )
    .unwrap();
    // `at` is required by the event type, and missing.
    let ctx = Context::at_millis(0).with_event(json!({"name": "signed_up"}));
    let result = program.evaluate(&json!({"events": []}), &ctx).unwrap();
    assert_eq!(
        result.to_json()["actions"],
        json!([{"trigger": "welcome", "action": "send_email", "payload": {"template": "welcome"}}])
    );
    let errors = result.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].rule, "stamp");
    assert!(errors[0].message.contains("`event.at`"), "{errors:?}");
    assert_eq!(errors[0].path.as_deref(), Some("event"));
    // The reference evaluator agrees.
    let reference = onramp::reference::evaluate(&program, &json!({"events": []}), &ctx).unwrap();
    assert_eq!(reference.to_json(), result.to_json());
}
