//! Rules: `PutRule` (create or replace), `DescribeRule`, `ListRules`, `DeleteRule`,
//! `EnableRule`, `DisableRule`, and `TestEventPattern`.

use bosun_core::events::pattern::EventPattern;
use bosun_core::events::rules as ev;
use bosun_store::{EventRuleRecord, RuleDeletion, StoreError};
use serde_json::{json, Value};

use super::input::{self, Checks};
use super::{check_bus, limit_exceeded, rule_arn, rule_not_found};
use crate::api::error::ApiError;
use crate::api::Ctx;

const STATES: &[&str] = &[
    "ENABLED",
    "DISABLED",
    "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
];

/// A pattern's text checked as AWS checks it (`InvalidEventPatternException`).
fn parse_pattern(text: &str) -> Result<EventPattern, ApiError> {
    EventPattern::parse(text)
        .map_err(|e| ApiError::new("InvalidEventPatternException", e.to_string()))
}

pub fn put_rule(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let name = input::required(&input, "Name")?;
    let pattern = input::text(&input, "EventPattern")?;
    let schedule = input::text(&input, "ScheduleExpression")?;
    let state = input::text(&input, "State")?;
    let description = input::text(&input, "Description")?;
    let role_arn = input::text(&input, "RoleArn")?;
    let mut checks = Checks::new();
    checks
        .name("Name", Some(name))
        .length("ScheduleExpression", schedule, 0, 256)
        .length("EventPattern", pattern, 0, 4096)
        .one_of("State", state, STATES)
        .length("Description", description, 0, 512)
        .length("RoleArn", role_arn, 1, 1600)
        .bus(&input);
    checks.finish()?;
    let tags = input::tag_list(input.get("Tags"), "Tags")?;
    check_bus(ctx, &input)?;
    if schedule.is_some() {
        return Err(ApiError::validation(
            "ScheduleExpression is not supported by this Bosun server: scheduled rules are not implemented; give an EventPattern.",
        ));
    }
    let Some(pattern) = pattern else {
        return Err(ApiError::validation(
            "Parameter(s) EventPattern or ScheduleExpression must be specified.",
        ));
    };
    parse_pattern(pattern)?;
    if state == Some("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS") {
        return Err(ApiError::validation(
            "State ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS is not supported by this Bosun server: it has no CloudTrail events; use ENABLED.",
        ));
    }
    let rule = EventRuleRecord {
        region: ctx.region.clone(),
        name: name.to_string(),
        event_pattern: Some(pattern.to_string()),
        state: state.unwrap_or("ENABLED").to_string(),
        description: description.map(str::to_string),
        role_arn: role_arn.map(str::to_string),
        created_ms: ctx.now_ms,
    };
    match ctx
        .state
        .store
        .put_rule(&rule, &tags, ev::MAX_RULES_PER_BUS)
    {
        Ok(_) => Ok(json!({ "RuleArn": rule_arn(ctx, name) })),
        Err(StoreError::LimitExceeded(_)) => Err(limit_exceeded()),
        Err(e) => Err(e.into()),
    }
}

/// The rule a `Name` member names, checked, on the default bus; it must exist.
fn named_rule(ctx: &Ctx, input: &Value) -> Result<EventRuleRecord, ApiError> {
    let name = input::required(input, "Name")?;
    let mut checks = Checks::new();
    checks.name("Name", Some(name)).bus(input);
    checks.finish()?;
    check_bus(ctx, input)?;
    ctx.state
        .store
        .get_rule(&ctx.region, name)?
        .ok_or_else(|| rule_not_found(name))
}

/// A rule as `ListRules` shows it (`DescribeRule` adds `CreatedBy`).
fn rule_json(ctx: &Ctx, r: &EventRuleRecord) -> Value {
    let mut v = json!({
        "Name": r.name,
        "Arn": rule_arn(ctx, &r.name),
        "State": r.state,
        "EventBusName": ev::DEFAULT_BUS,
    });
    for (member, value) in [
        ("EventPattern", &r.event_pattern),
        ("Description", &r.description),
        ("RoleArn", &r.role_arn),
    ] {
        if let Some(value) = value {
            v[member] = json!(value);
        }
    }
    v
}

pub fn describe_rule(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let rule = named_rule(ctx, &input)?;
    let mut v = rule_json(ctx, &rule);
    v["CreatedBy"] = json!(ctx.state.config.account_id);
    Ok(v)
}

pub fn list_rules(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let prefix = input::text(&input, "NamePrefix")?;
    let mut checks = Checks::new();
    checks.name("NamePrefix", prefix).bus(&input).paging(&input);
    checks.finish()?;
    check_bus(ctx, &input)?;
    let (limit, after) = input::paging(&input)?;
    let rules: Vec<EventRuleRecord> = ctx
        .state
        .store
        .list_rules(&ctx.region)?
        .into_iter()
        .filter(|r| prefix.is_none_or(|p| r.name.starts_with(p)))
        .collect();
    let page = bosun_core::paging::page_after(rules, after.as_deref(), limit, |r| &r.name);
    let mut v = json!({
        "Rules": page.items.iter().map(|r| rule_json(ctx, r)).collect::<Vec<_>>(),
    });
    if let Some(token) = page.next_token {
        v["NextToken"] = json!(token);
    }
    Ok(v)
}

pub fn delete_rule(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let name = input::required(&input, "Name")?;
    let mut checks = Checks::new();
    checks.name("Name", Some(name)).bus(&input);
    checks.finish()?;
    check_bus(ctx, &input)?;
    match ctx.state.store.delete_rule(&ctx.region, name)? {
        // Deleting a rule that is not there succeeds, as on AWS.
        RuleDeletion::Deleted | RuleDeletion::NotFound => Ok(json!({})),
        RuleDeletion::HasTargets => Err(ApiError::validation(
            "Rule can't be deleted since it has targets.",
        )),
    }
}

fn set_state(ctx: &Ctx, input: &Value, state: &str) -> Result<Value, ApiError> {
    let rule = named_rule(ctx, input)?;
    if !ctx
        .state
        .store
        .set_rule_state(&ctx.region, &rule.name, state)?
    {
        return Err(rule_not_found(&rule.name));
    }
    Ok(json!({}))
}

pub fn enable_rule(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    set_state(ctx, &input, "ENABLED")
}

pub fn disable_rule(ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    set_state(ctx, &input, "DISABLED")
}

pub fn test_event_pattern(_ctx: &Ctx, input: Value) -> Result<Value, ApiError> {
    let pattern = input::required(&input, "EventPattern")?;
    let event = input::required(&input, "Event")?;
    let mut checks = Checks::new();
    checks.length("EventPattern", Some(pattern), 0, 4096);
    checks.finish()?;
    let pattern = parse_pattern(pattern)?;
    let event: Value = serde_json::from_str(event)
        .ok()
        .filter(ev::is_complete_event)
        .ok_or_else(|| ApiError::validation("Parameter Event is not valid."))?;
    Ok(json!({ "Result": pattern.matches(&event) }))
}
