//! The S3-compatible backend (`--blobs s3://bucket/prefix?endpoint=…&region=…`), on the
//! `object_store` crate, and the writer of `SendCommand`'s `OutputS3BucketName` objects.
//!
//! The rest of the server is synchronous here, so this owns a small tokio runtime that drives
//! the HTTP client; callers block on it from blocking threads (calling from an async task
//! panics, as with the PostgreSQL store). Every call is bounded: 5 s per request, 2 retries,
//! and 20 s for a whole operation, so a stalled S3 fails calls instead of wedging the server.
//! Credentials come from the standard AWS variables (`AWS_ACCESS_KEY_ID`, …).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, RetryConfig, WriteMultipart,
};

use super::backend::{BlobError, Listed, ObjectBackend};
use crate::config::S3Location;

/// One HTTP request's limit (a stalled endpoint fails here, not after object_store's 30 s).
const REQUEST_LIMIT: Duration = Duration::from_secs(5);
const CONNECT_LIMIT: Duration = Duration::from_secs(2);
/// A whole operation's limit, retries included.
const OPERATION_LIMIT: Duration = Duration::from_secs(20);
/// Objects up to this size are written with one PUT; larger ones as multipart uploads.
const SINGLE_PUT_MAX: u64 = 8 * 1024 * 1024;

/// The runtime the client runs on, shut down without waiting when dropped (it may be dropped
/// from an async context).
struct Driver(Option<tokio::runtime::Runtime>);

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl Driver {
    fn run<T>(
        &self,
        op: impl Future<Output = Result<T, BlobError>> + Send,
    ) -> Result<T, BlobError> {
        let rt = self.0.as_ref().expect("runtime present until dropped");
        rt.block_on(async {
            match tokio::time::timeout(OPERATION_LIMIT, op).await {
                Ok(r) => r,
                Err(_) => Err(BlobError::TimedOut(OPERATION_LIMIT)),
            }
        })
    }
}

fn map_err(e: object_store::Error) -> BlobError {
    match e {
        object_store::Error::NotFound { path, .. } => BlobError::NotFound(path),
        object_store::Error::PermissionDenied { path, .. }
        | object_store::Error::Unauthenticated { path, .. } => BlobError::Denied(path),
        other => BlobError::Remote(other.to_string()),
    }
}

/// The connection settings shared by Bosun's bucket and the buckets commands write to.
#[derive(Clone)]
struct Endpoint {
    location: S3Location,
}

impl Endpoint {
    fn store(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>, BlobError> {
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_region(&self.location.region)
            .with_client_options(
                ClientOptions::new()
                    .with_timeout(REQUEST_LIMIT)
                    .with_connect_timeout(CONNECT_LIMIT)
                    .with_allow_http(self.location.allows_http()),
            )
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_secs(2),
                    base: 2.0,
                },
                max_retries: 2,
                retry_timeout: Duration::from_secs(10),
            });
        if let Some(endpoint) = &self.location.endpoint {
            // Path-style requests: S3-compatible servers rarely have per-bucket host names.
            b = b
                .with_endpoint(endpoint)
                .with_virtual_hosted_style_request(false);
        }
        Ok(Arc::new(b.build().map_err(map_err)?))
    }
}

/// Bosun's own output objects in `bucket` under `prefix`.
pub struct S3Objects {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    location: S3Location,
    driver: Arc<Driver>,
}

/// Writes whole streams to the buckets commands name (`OutputS3BucketName`), with the same
/// endpoint and credentials as Bosun's own bucket.
pub struct S3Exporter {
    endpoint: Endpoint,
    stores: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
    driver: Arc<Driver>,
}

/// Open the S3 backend and its exporter (no request is made: `/readyz` probes).
pub fn open(location: &S3Location) -> Result<(S3Objects, S3Exporter), BlobError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("bosun-s3")
        .enable_all()
        .build()?;
    let driver = Arc::new(Driver(Some(rt)));
    let endpoint = Endpoint {
        location: location.clone(),
    };
    let store = endpoint.store(&location.bucket)?;
    Ok((
        S3Objects {
            store,
            prefix: location.prefix.trim_matches('/').to_string(),
            location: location.clone(),
            driver: driver.clone(),
        },
        S3Exporter {
            endpoint,
            stores: Mutex::new(HashMap::new()),
            driver,
        },
    ))
}

impl S3Objects {
    fn path(&self, key: &str) -> Path {
        if self.prefix.is_empty() {
            Path::from(key)
        } else {
            Path::from(format!("{}/{key}", self.prefix))
        }
    }
}

impl ObjectBackend for S3Objects {
    fn put(&self, key: &str, data: Bytes, _durable: bool) -> Result<(), BlobError> {
        let (store, path) = (self.store.clone(), self.path(key));
        self.driver.run(async move {
            store.put(&path, data.into()).await.map_err(map_err)?;
            Ok(())
        })
    }

    fn get(&self, key: &str) -> Result<Option<Bytes>, BlobError> {
        let (store, path) = (self.store.clone(), self.path(key));
        self.driver.run(async move {
            match store.get(&path).await {
                Ok(r) => Ok(Some(r.bytes().await.map_err(map_err)?)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(map_err(e)),
            }
        })
    }

    fn list(&self, dir: &str) -> Result<Vec<Listed>, BlobError> {
        let (store, path) = (self.store.clone(), self.path(dir));
        self.driver.run(async move {
            let listed = store
                .list_with_delimiter(Some(&path))
                .await
                .map_err(map_err)?;
            Ok(listed
                .objects
                .into_iter()
                .filter_map(|m| {
                    Some(Listed {
                        name: m.location.filename()?.to_string(),
                        size: m.size,
                    })
                })
                .collect())
        })
    }

    fn delete(&self, key: &str) -> Result<(), BlobError> {
        let (store, path) = (self.store.clone(), self.path(key));
        self.driver.run(async move {
            match store.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(map_err(e)),
            }
        })
    }

    fn probe(&self) -> Result<(), BlobError> {
        // Any answer about an object that is not there proves the bucket is reachable.
        let (store, path) = (self.store.clone(), self.path("readiness-probe"));
        self.driver.run(async move {
            match store.head(&path).await {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(map_err(e)),
            }
        })
    }

    fn describe(&self) -> String {
        self.location.describe()
    }
}

impl S3Exporter {
    fn store(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>, BlobError> {
        let mut stores = self.stores.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = stores.get(bucket) {
            return Ok(s.clone());
        }
        let s = self.endpoint.store(bucket)?;
        stores.insert(bucket.to_string(), s.clone());
        Ok(s)
    }

    /// Write one object of `size` bytes to `bucket`/`key`, its bytes coming from `parts` in
    /// order (read lazily, so a large stream never sits whole in memory).
    pub fn write(
        &self,
        bucket: &str,
        key: &str,
        size: u64,
        parts: &mut dyn Iterator<Item = Result<Bytes, BlobError>>,
    ) -> Result<(), BlobError> {
        let store = self.store(bucket)?;
        let path = Path::from(key);
        if size <= SINGLE_PUT_MAX {
            let mut all = Vec::with_capacity(size as usize);
            for part in parts {
                all.extend_from_slice(&part?);
            }
            return self.driver.run(async move {
                store
                    .put(&path, Bytes::from(all).into())
                    .await
                    .map_err(map_err)?;
                Ok(())
            });
        }
        let upload = {
            let (store, path) = (store.clone(), path.clone());
            self.driver
                .run(async move { store.put_multipart(&path).await.map_err(map_err) })?
        };
        let mut writer = WriteMultipart::new(upload);
        for part in parts {
            let part = match part {
                Ok(p) => p,
                Err(e) => {
                    let _ = self
                        .driver
                        .run(async move { writer.abort().await.map_err(map_err) });
                    return Err(e);
                }
            };
            writer.write(&part);
            // Bound the parts in flight.
            self.driver
                .run(async { writer.wait_for_capacity(4).await.map_err(map_err) })?;
        }
        self.driver
            .run(async move { writer.finish().await.map_err(map_err).map(|_| ()) })
    }

    /// The URL of an object as the API shows it (path-style on the configured endpoint, or
    /// AWS's regional S3 host).
    pub fn url(&self, bucket: &str, key: &str) -> String {
        let loc = &self.endpoint.location;
        let base = match &loc.endpoint {
            Some(e) => e.trim_end_matches('/').to_string(),
            None => format!("https://s3.{}.amazonaws.com", loc.region),
        };
        format!("{base}/{bucket}/{key}")
    }
}
