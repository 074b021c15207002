//! Resource Groups' REST paths (botocore's `resource-groups` model): each path is one
//! operation; its JSON body (and the ARN in the path of the tag operations) is the input.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

use super::{find, SURFACE};
use crate::api::pipeline::{json_object, serve_with_id, Request};
use crate::state::AppState;

type Body = Result<Bytes, BytesRejection>;

/// Serve the operation `name` for this request; `arn` is the tag operations' path ARN.
async fn call(
    name: &'static str,
    arn: Option<String>,
    state: State<Arc<AppState>>,
    peer: ConnectInfo<SocketAddr>,
    request: Request,
    body: Body,
) -> Response {
    let op = find(name);
    serve_with_id(state, peer, request, body, &SURFACE, move |_, body| {
        let mut input = json_object(body)?;
        if let Some(arn) = arn {
            input["Arn"] = json!(arn);
        }
        Ok((op, input))
    })
    .await
}

/// An axum handler for a body-only route of operation `$name`.
macro_rules! body_route {
    ($fn_name:ident, $name:literal) => {
        async fn $fn_name(
            state: State<Arc<AppState>>,
            peer: ConnectInfo<SocketAddr>,
            method: Method,
            uri: Uri,
            headers: HeaderMap,
            body: Body,
        ) -> Response {
            let request = Request {
                method,
                uri,
                headers,
            };
            call($name, None, state, peer, request, body).await
        }
    };
}

/// An axum handler for a `/resources/{Arn}/tags` route of operation `$name`.
macro_rules! arn_route {
    ($fn_name:ident, $name:literal) => {
        async fn $fn_name(
            state: State<Arc<AppState>>,
            peer: ConnectInfo<SocketAddr>,
            Path(arn): Path<String>,
            method: Method,
            uri: Uri,
            headers: HeaderMap,
            body: Body,
        ) -> Response {
            let request = Request {
                method,
                uri,
                headers,
            };
            call($name, Some(arn), state, peer, request, body).await
        }
    };
}

body_route!(create_group, "CreateGroup");
body_route!(get_group, "GetGroup");
body_route!(update_group, "UpdateGroup");
body_route!(delete_group, "DeleteGroup");
body_route!(list_groups, "ListGroups");
body_route!(get_group_query, "GetGroupQuery");
body_route!(update_group_query, "UpdateGroupQuery");
body_route!(list_group_resources, "ListGroupResources");
body_route!(search_resources, "SearchResources");
arn_route!(tag, "Tag");
arn_route!(untag, "Untag");
arn_route!(get_tags, "GetTags");

/// The routes, to merge into the server's router.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/groups", post(create_group))
        .route("/get-group", post(get_group))
        .route("/update-group", post(update_group))
        .route("/delete-group", post(delete_group))
        .route("/groups-list", post(list_groups))
        .route("/get-group-query", post(get_group_query))
        .route("/update-group-query", post(update_group_query))
        .route("/list-group-resources", post(list_group_resources))
        .route("/resources/search", post(search_resources))
        .route("/resources/{arn}/tags", get(get_tags).put(tag).patch(untag))
}
