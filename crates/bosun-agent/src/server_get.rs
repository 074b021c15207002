//! Files from the node's own server (agent releases, package files): a GET signed with the
//! node's key (see `bosun_proto::node_request_payload`), tried on each server URL in order, written
//! atomically under a size cap. The server's TLS certificate is checked as on the channel.

use std::path::Path;

use crate::identity::Identity;
use crate::plugins::fetch;

/// Download `path_and_query` (e.g. `/v1/agent-releases/1.2.0/linux/amd64`) from the first of
/// `servers` that answers, into `target` with file mode `mode`; returns the bytes written. An
/// answer other than success from a reachable server is final (the replicas share one store).
pub fn download(
    identity: &Identity,
    servers: &[String],
    path_and_query: &str,
    target: &Path,
    limit: u64,
    mode: u32,
    now_unix: i64,
) -> Result<u64, String> {
    if !path_and_query.starts_with('/') {
        return Err(format!("{path_and_query:?} is not a server path"));
    }
    let extra_roots = match &identity.ca_file {
        Some(path) => read_ca(path)?,
        None => Vec::new(),
    };
    let payload =
        bosun_proto::node_request_payload("GET", path_and_query, &identity.instance_id, now_unix);
    let signature = identity
        .sign(&payload)
        .map_err(|e| format!("could not sign the download request: {e}"))?;
    let mut last_error = String::from("no server URL is configured");
    for server in servers {
        let url = format!("{}{path_and_query}", server.trim_end_matches('/'));
        let https_only = server.starts_with("https://");
        let request = fetch::client(https_only, &extra_roots)
            .get(&url)
            .header(bosun_proto::NODE_ID_HEADER, &identity.instance_id)
            .header(bosun_proto::NODE_DATE_HEADER, now_unix.to_string())
            .header(bosun_proto::NODE_SIGNATURE_HEADER, &signature);
        match request.call() {
            Ok(response) => return fetch::response_to_file(&url, response, target, limit, mode),
            Err(e) => last_error = format!("could not download {url}: {e}"),
        }
    }
    Err(last_error)
}

fn read_ca(path: &Path) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    let pem = std::fs::read(path)
        .map_err(|e| format!("could not read the CA file {}: {e}", path.display()))?;
    rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("could not parse the CA file {}: {e}", path.display()))
}
