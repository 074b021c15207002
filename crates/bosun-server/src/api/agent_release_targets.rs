//! Which agent release an `aws:updateSsmAgent` step installs and `IsLatestVersion` compares
//! with. At `SendCommand` the step gets the named version's files, or, with no version, each
//! architecture's default release; at delivery (`orchestrator/release_choice.rs`) a step with no
//! version gets the files of the node's pin instead, if one applies
//! (`bosun_core::agent_release::pins`: a tag pin, else the region's pin), so the nodes of one
//! command may install different versions.

use bosun_core::agent_release::pins::{Pin, PinScope};
use bosun_core::agent_release::{download_path, ReleaseVersion, UpdateSpec, PLATFORM_LINUX};
use bosun_core::document::{Attachment, ReleaseFile, StepPlan};
use bosun_store::{AgentReleaseRecord, Store};

use super::error::ApiError;
use super::Ctx;

/// The linux files of `version` (every architecture it was published for), or of each
/// architecture's default release when `version` is `None`.
pub fn release_files(
    releases: &[AgentReleaseRecord],
    version: Option<&ReleaseVersion>,
) -> Vec<ReleaseFile> {
    releases
        .iter()
        .filter(|r| r.platform == PLATFORM_LINUX)
        .filter(|r| match version {
            None => r.is_default,
            Some(w) => ReleaseVersion::parse(&r.version).is_ok_and(|v| &v == w),
        })
        .map(|r| ReleaseFile {
            path: download_path(&r.version, &r.platform, &r.arch),
            version: r.version.clone(),
            platform: r.platform.clone(),
            arch: r.arch.clone(),
            sha256: r.sha256.clone(),
            size: r.size,
            signature: r.signature.clone(),
        })
        .collect()
}

/// The release an `aws:updateSsmAgent` step installs, attached when the command is sent: the
/// files of `targetVersion`, or each architecture's default release (replaced at delivery by a
/// node's pin). Refused when there is none and no pin of the region could supply one, so
/// nothing is sent that cannot run.
pub fn attachment(ctx: &Ctx, spec: &UpdateSpec) -> Result<Attachment, ApiError> {
    let wanted = match spec.target_version.as_str() {
        "" => None,
        v => Some(ReleaseVersion::parse(v).map_err(|e| ApiError::new("InvalidParameters", e))?),
    };
    let store = &ctx.state.store;
    let files = release_files(&store.list_agent_releases()?, wanted.as_ref());
    let pinned = wanted.is_none() && !store.agent_release_pins(&ctx.region)?.is_empty();
    if files.is_empty() && !pinned {
        return Err(ApiError::new(
            "InvalidParameters",
            match wanted {
                Some(_) => format!(
                    "agent release {} was never published (bosun agent-release list shows the \
                     published ones).",
                    spec.target_version
                ),
                None => "no default agent release is set and no version is pinned in this \
                         region: publish one with bosun agent-release publish --default, pin \
                         one, or name a version."
                    .to_string(),
            },
        ));
    }
    Ok(Attachment::AgentRelease {
        requested: spec.target_version.clone(),
        files,
    })
}

/// The version `IsLatestVersion` compares an unpinned node with: the highest default release
/// of any architecture; `None` when no default is set.
pub fn latest_default(store: &dyn Store) -> Result<Option<String>, ApiError> {
    Ok(store
        .list_agent_releases()?
        .into_iter()
        .filter(|r| r.is_default && r.platform == PLATFORM_LINUX)
        .filter_map(|r| ReleaseVersion::parse(&r.version).ok())
        .max()
        .map(|v| v.as_str().to_string()))
}

/// The pins of a region, for `bosun_core::agent_release::pins::target_for`.
pub fn region_pins(store: &dyn Store, region: &str) -> Result<Vec<Pin>, bosun_store::StoreError> {
    Ok(store
        .agent_release_pins(region)?
        .into_iter()
        .map(|p| Pin {
            scope: match p.tag {
                None => PinScope::Region,
                Some((key, value)) => PinScope::Tag { key, value },
            },
            version: p.version,
        })
        .collect())
}

/// Whether a plan has an `aws:updateSsmAgent` step that named no version (nested documents'
/// steps included): only then does each node's delivery need its own choice.
pub fn has_unnamed_update(steps: &[StepPlan]) -> bool {
    steps.iter().any(|s| match &s.attachment {
        Some(Attachment::AgentRelease { requested, .. }) => requested.is_empty(),
        Some(Attachment::Steps { steps, .. }) => has_unnamed_update(steps),
        _ => false,
    })
}

/// Give every `aws:updateSsmAgent` step of a plan that named no version these `files` (a
/// node's pinned release).
pub fn set_unnamed_update_files(steps: &mut [StepPlan], files: &[ReleaseFile]) {
    for s in steps {
        match &mut s.attachment {
            Some(Attachment::AgentRelease {
                requested,
                files: attached,
            }) if requested.is_empty() => *attached = files.to_vec(),
            Some(Attachment::Steps { steps, .. }) => set_unnamed_update_files(steps, files),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(version: &str) -> ReleaseFile {
        ReleaseFile {
            version: version.into(),
            platform: "linux".into(),
            arch: "amd64".into(),
            sha256: "00".into(),
            size: 1,
            signature: "sig".into(),
            path: download_path(version, "linux", "amd64"),
        }
    }

    fn update(requested: &str, version: &str) -> StepPlan {
        StepPlan {
            attachment: Some(Attachment::AgentRelease {
                requested: requested.into(),
                files: vec![file(version)],
            }),
            ..StepPlan::default()
        }
    }

    fn versions(steps: &[StepPlan]) -> Vec<String> {
        let mut out = Vec::new();
        for s in steps {
            match &s.attachment {
                Some(Attachment::AgentRelease { files, .. }) => {
                    out.extend(files.iter().map(|f| f.version.clone()))
                }
                Some(Attachment::Steps { steps, .. }) => out.extend(versions(steps)),
                _ => {}
            }
        }
        out
    }

    #[test]
    fn only_updates_without_a_version_take_the_nodes_files_nested_ones_too() {
        let nested = StepPlan {
            attachment: Some(Attachment::Steps {
                name: "inner".into(),
                version: 1,
                steps: vec![update("", "1.2.0")],
            }),
            ..StepPlan::default()
        };
        let mut steps = vec![StepPlan::default(), update("1.2.0", "1.2.0"), nested];
        assert!(has_unnamed_update(&steps));
        assert!(!has_unnamed_update(&steps[..2]));
        set_unnamed_update_files(&mut steps, &[file("1.1.0")]);
        // The named version stays; the nested unnamed update gets the node's release.
        assert_eq!(versions(&steps), ["1.2.0", "1.1.0"]);
    }
}
