//! The console page's files, embedded in the binary (hand-written ES modules and CSS under
//! `crates/bosun-server/console/`; no build step). They hold no data: anyone may load them, and
//! the page asks the server for everything behind a session.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// (name under `/console/assets/`, content type, bytes).
const FILES: &[(&str, &str, &str)] = &[
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../../console/style.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/app.js"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/api.js"),
    ),
    (
        "fleet.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/fleet.js"),
    ),
    (
        "run.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/run.js"),
    ),
    (
        "params.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/params.js"),
    ),
    (
        "documents.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/documents.js"),
    ),
    (
        "overview.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/overview.js"),
    ),
    (
        "associations.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/associations.js"),
    ),
    (
        "groups.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/groups.js"),
    ),
    (
        "audit.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/audit.js"),
    ),
    (
        "events.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/events.js"),
    ),
    (
        "windows.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/windows.js"),
    ),
    (
        "automation.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/automation.js"),
    ),
    (
        "terminal.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/terminal.js"),
    ),
    (
        "channel.js",
        "text/javascript; charset=utf-8",
        include_str!("../../console/channel.js"),
    ),
    // xterm.js and its fit addon, unchanged from npm (`@xterm/xterm` 6.0.0, `@xterm/addon-fit`
    // 0.11.0, MIT): the browser test compares them with the packages' files.
    (
        "xterm.mjs",
        "text/javascript; charset=utf-8",
        include_str!("../../console/xterm.mjs"),
    ),
    (
        "xterm-addon-fit.mjs",
        "text/javascript; charset=utf-8",
        include_str!("../../console/xterm-addon-fit.mjs"),
    ),
    (
        "xterm.css",
        "text/css; charset=utf-8",
        include_str!("../../console/xterm.css"),
    ),
    (
        "xterm-LICENSE.txt",
        "text/plain; charset=utf-8",
        include_str!("../../console/xterm-LICENSE.txt"),
    ),
];

const INDEX: &str = include_str!("../../console/index.html");

/// Headers every console file carries: no framing, scripts only from this origin.
fn harden(r: &mut Response) {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            // Styles may also be inline: xterm.js sizes its rows with <style> elements it
            // creates. Scripts, connections and everything else stay same-origin only.
            "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; \
             base-uri 'none'; form-action 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// The page (the login form until the page finds a live session).
pub async fn index() -> Response {
    index_response()
}

pub fn index_response() -> Response {
    let mut r = (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        INDEX,
    )
        .into_response();
    harden(&mut r);
    r
}

/// One of the page's files; any other name is the page itself.
pub fn file(name: &str) -> Response {
    let Some((_, content_type, body)) = FILES.iter().find(|(n, _, _)| *n == name) else {
        // Not a file the page has: the login page, like every other unknown console path.
        return index_response();
    };
    let mut r = (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, *content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        *body,
    )
        .into_response();
    harden(&mut r);
    r
}
