//! The nodes a power operation looks at: loaded with their tags, and whether each is Online
//! now (connected to any live replica and heard from within the heartbeat timeout, as
//! `DescribeInstanceInformation`'s `PingStatus` says).

use bosun_core::instance::PingStatus;
use bosun_store::InstanceRecord;

use crate::api::error::ApiError;
use crate::api::instances::ping_of;
use crate::api::Ctx;
use crate::replicas::Presence;

/// A managed node of the caller's region, with its tags; `InvalidInstanceId` when it is
/// unknown there or deregistered.
pub fn node(ctx: &Ctx, node_id: &str) -> Result<(InstanceRecord, Vec<(String, String)>), ApiError> {
    let record = ctx
        .state
        .store
        .get_instance(node_id)?
        .filter(|n| n.region == ctx.region && !n.deregistered)
        .ok_or_else(|| {
            ApiError::new(
                "InvalidInstanceId",
                format!(
                    "{node_id} is not a registered managed node in {}",
                    ctx.region
                ),
            )
        })?;
    let tags = ctx
        .state
        .store
        .tags(&ctx.region, "ManagedInstance", node_id)?;
    Ok((record, tags))
}

/// The node's ping status now.
pub fn ping(ctx: &Ctx, record: &InstanceRecord) -> Result<PingStatus, ApiError> {
    let presence = Presence::load(&*ctx.state.store, ctx.now_ms).map_err(ApiError::internal)?;
    Ok(ping_of(ctx, &presence, record).0)
}

/// Whether a node is `Online` now (`false` when it is unknown or deregistered).
pub fn is_online(ctx: &Ctx, node_id: &str) -> Result<bool, ApiError> {
    match ctx.state.store.get_instance(node_id)? {
        Some(n) if !n.deregistered => Ok(ping(ctx, &n)? == PingStatus::Online),
        _ => Ok(false),
    }
}
