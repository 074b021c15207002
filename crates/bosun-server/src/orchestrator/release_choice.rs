//! Each node's agent release, chosen at delivery: an `aws:updateSsmAgent` step that named no
//! version carries the default release attached at `SendCommand`; a node that a pin applies to
//! (`bosun_core::agent_release::pins`: a tag pin over its region's pin) gets the pinned
//! version's files instead. Pins and releases are read once per pass and only for commands
//! with such a step; the node's tags once per delivery. A re-sent delivery is chosen again,
//! which only matters if a pin moved meanwhile (the agent runs the first one it acknowledges).

use bosun_core::agent_release::pins::{target_for, Pin, Target};
use bosun_core::agent_release::ReleaseVersion;
use bosun_proto::CommandDelivery;
use bosun_store::AgentReleaseRecord;

use crate::api::agent_release_targets::{
    has_unnamed_update, region_pins, release_files, set_unnamed_update_files,
};
use crate::state::AppState;

/// What the choice needs of a command's region, read once per pass.
pub(super) struct ReleaseChooser {
    pins: Vec<Pin>,
    releases: Vec<AgentReleaseRecord>,
}

impl ReleaseChooser {
    /// For a command whose delivery is `base`: `None` when no node's delivery can differ (a
    /// version was named, no update step, or no pin in its region).
    pub(super) fn load(
        state: &AppState,
        region: &str,
        base: &CommandDelivery,
    ) -> anyhow::Result<Option<ReleaseChooser>> {
        if !has_unnamed_update(&base.steps) {
            return Ok(None);
        }
        let pins = region_pins(&*state.store, region)?;
        if pins.is_empty() {
            return Ok(None);
        }
        Ok(Some(ReleaseChooser {
            pins,
            releases: state.store.list_agent_releases()?,
        }))
    }

    /// `base` for `node`: with its pinned release when a pin applies to it.
    pub(super) fn for_node(
        &self,
        state: &AppState,
        region: &str,
        node: &str,
        base: &CommandDelivery,
    ) -> anyhow::Result<CommandDelivery> {
        let tags = state.store.tags(region, "ManagedInstance", node)?;
        let Target::Pinned(pin) = target_for(&self.pins, &tags) else {
            return Ok(base.clone());
        };
        let version = ReleaseVersion::parse(&pin.version).map_err(anyhow::Error::msg)?;
        let files = release_files(&self.releases, Some(&version));
        let mut delivery = base.clone();
        set_unnamed_update_files(&mut delivery.steps, &files);
        Ok(delivery)
    }
}
