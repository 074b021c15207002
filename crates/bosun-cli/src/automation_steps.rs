//! How `bosun automation` names a step execution: an `aws:loop`'s inner step as
//! `LOOP[ITERATION].STEP` (from AWS's `ParentStepDetails`), so iterations are told apart.

use aws_sdk_ssm::types::StepExecution;
use serde_json::{json, Value};

/// The step's name, or `LOOP[ITERATION].STEP` inside a loop.
pub(crate) fn label(s: &StepExecution) -> String {
    let name = s.step_name().unwrap_or_default();
    match s.parent_step_details() {
        Some(p) => match p.iteration() {
            Some(n) => format!("{}[{n}].{name}", p.step_name().unwrap_or_default()),
            None => format!("{}.{name}", p.step_name().unwrap_or_default()),
        },
        None => name.to_string(),
    }
}

/// AWS's `ParentStepDetails` as JSON (`null` outside a loop).
pub(crate) fn parent_json(s: &StepExecution) -> Value {
    match s.parent_step_details() {
        Some(p) => json!({
            "StepExecutionId": p.step_execution_id(), "StepName": p.step_name(),
            "Action": p.action(), "Iteration": p.iteration(), "IteratorValue": p.iterator_value(),
        }),
        None => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_ssm::types::ParentStepDetails;

    use super::*;

    #[test]
    fn inner_steps_are_named_by_loop_and_iteration() {
        let plain = StepExecution::builder().step_name("after").build();
        assert_eq!(label(&plain), "after");
        assert_eq!(parent_json(&plain), Value::Null);
        let inner = StepExecution::builder()
            .step_name("mark")
            .parent_step_details(
                ParentStepDetails::builder()
                    .step_name("each")
                    .step_execution_id("l-1")
                    .action("aws:loop")
                    .iteration(2)
                    .iterator_value("b")
                    .build(),
            )
            .build();
        assert_eq!(label(&inner), "each[2].mark");
        assert_eq!(parent_json(&inner)["IteratorValue"], "b");
        assert_eq!(parent_json(&inner)["Iteration"], 2);
    }
}
