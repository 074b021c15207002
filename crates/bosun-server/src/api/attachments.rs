//! Bosun documents that steps refer to, resolved when a command is sent: the content an
//! `aws:downloadContent` step with `sourceType: SSMDocument` saves, and the planned steps of
//! the document an `aws:runDocument` step with `documentType: SSMDocument` runs. They are
//! attached to the step, so the node needs no API access and the command runs the versions
//! that existed when it was sent. The sender must be allowed `ssm:GetDocument` on a document
//! it downloads and `ssm:SendCommand` on a document it runs. An `aws:configurePackage` step
//! gets its package version's platform entries and files (`package_attachments.rs`), for which
//! the sender must be allowed `ssm:GetDocument` on the package; an `aws:updateSsmAgent` step gets
//! the agent release it installs (`agent_release_targets::attachment`).

use bosun_core::document::{
    configure_package_spec, download_spec, plan_nested, run_document_spec, Attachment, DocumentRef,
    DownloadSource, NestedSource, PlanError, StepPlan, MAX_DOCUMENT_NESTING,
};

use super::documents::{content_error, find};
use super::error::ApiError;
use super::Ctx;
use crate::documents::{content, Resolved, Selector};

fn invalid(step: &StepPlan, msg: impl std::fmt::Display) -> ApiError {
    ApiError::new("InvalidDocument", format!("step {}: {msg}", step.name))
}

fn lookup(ctx: &Ctx, r: &DocumentRef, action: &str) -> Result<Resolved, ApiError> {
    let resource = ctx.scope().ssm_arn(&format!("document/{}", r.name));
    ctx.authorize_and_audit(action, &resource)?;
    find(
        ctx,
        &r.name,
        Selector::from_request(r.version.as_deref(), None),
    )
}

/// Most steps a command's nested documents may add in all (every level counted), and most
/// bytes of document content its downloads may attach: the depth limit alone would let one
/// 64 KB document that runs hundreds of documents, each running hundreds more, plan millions.
const MAX_ATTACHED_STEPS: usize = 1000;
const MAX_ATTACHED_BYTES: usize = 4 << 20;

/// What a command may still attach.
struct Budget {
    steps: usize,
    bytes: usize,
}

impl Budget {
    fn take(&mut self, step: &StepPlan, steps: usize, bytes: usize) -> Result<(), ApiError> {
        if steps > self.steps || bytes > self.bytes {
            return Err(invalid(
                step,
                format!(
                    "the documents this command runs and downloads exceed {MAX_ATTACHED_STEPS} \
                     nested steps or {} MB of content in all.",
                    MAX_ATTACHED_BYTES >> 20
                ),
            ));
        }
        self.steps -= steps;
        self.bytes -= bytes;
        Ok(())
    }
}

/// Attach what the steps of a command's document refer to.
pub fn attach(ctx: &Ctx, steps: &mut [StepPlan]) -> Result<(), ApiError> {
    let mut budget = Budget {
        steps: MAX_ATTACHED_STEPS,
        bytes: MAX_ATTACHED_BYTES,
    };
    attach_within(ctx, steps, 0, &mut budget)
}

/// [`attach`] at `depth` `aws:runDocument` levels down.
fn attach_within(
    ctx: &Ctx,
    steps: &mut [StepPlan],
    depth: u32,
    budget: &mut Budget,
) -> Result<(), ApiError> {
    for step in steps.iter_mut().filter(|s| s.skip_reason.is_none()) {
        if step.action.eq_ignore_ascii_case("aws:downloadContent") {
            let spec = download_spec(&step.inputs).map_err(|e| invalid(step, e))?;
            if let DownloadSource::Document(r) = spec.source {
                let doc = lookup(ctx, &r, "ssm:GetDocument")?;
                budget.take(step, 0, doc.content.len())?;
                step.attachment = Some(Attachment::Document {
                    name: doc.name,
                    version: doc.version,
                    format: doc.format,
                    content: doc.content,
                });
            }
        } else if step.action.eq_ignore_ascii_case("aws:configurePackage") {
            let mut spec = configure_package_spec(&step.inputs).map_err(|e| invalid(step, e))?;
            if !spec.install {
                // Uninstall removes what the node has installed, whatever version that is.
                spec.version = None;
            }
            step.attachment = Some(super::package_attachments::for_step(ctx, &spec)?);
        } else if step.action.eq_ignore_ascii_case("aws:updateSsmAgent") {
            let spec = bosun_core::agent_release::update_spec(&step.inputs)
                .map_err(|e| invalid(step, e))?;
            step.attachment = Some(super::agent_release_targets::attachment(ctx, &spec)?);
        } else if step.action.eq_ignore_ascii_case("aws:runDocument") {
            let spec = run_document_spec(&step.inputs).map_err(|e| invalid(step, e))?;
            let NestedSource::Document(r) = spec.source else {
                continue;
            };
            if depth + 1 > MAX_DOCUMENT_NESTING {
                return Err(invalid(
                    step,
                    format!(
                        "aws:runDocument may nest documents at most {MAX_DOCUMENT_NESTING} levels deep."
                    ),
                ));
            }
            let doc = lookup(ctx, &r, "ssm:SendCommand")?;
            if doc.document_type != "Command" {
                return Err(invalid(
                    step,
                    format!(
                        "{} is a {} document; aws:runDocument runs Command documents.",
                        doc.name, doc.document_type
                    ),
                ));
            }
            let value = content::parse(&doc.content, &doc.format).map_err(content_error)?;
            let parsed = content::command_document(&value, &doc.document_type)
                .map_err(|e| invalid(step, e))?;
            let mut nested = plan_nested(&parsed, &spec.parameters, None).map_err(|e| {
                let (code, m) = match e {
                    PlanError::InvalidDocument(m) => ("InvalidDocument", m),
                    PlanError::InvalidParameters(m) => ("InvalidParameters", m),
                };
                ApiError::new(code, format!("step {} ({}): {m}", step.name, doc.name))
            })?;
            budget.take(step, nested.len(), 0)?;
            attach_within(ctx, &mut nested, depth + 1, budget)?;
            step.attachment = Some(Attachment::Steps {
                name: doc.name,
                version: doc.version,
                steps: nested,
            });
        }
    }
    Ok(())
}
