//! `aws:downloadContent`: saves content from an HTTP(S) URL, or a Bosun document the server
//! attached to the step, to a file named after its source (the URL's last path segment, or the
//! document's name with `.json`/`.yaml`/`.txt`). `destinationPath` is the folder it goes in:
//! none means the command's download folder (the default working directory of later steps), a
//! relative path stays inside that folder, an absolute path is used as given. Files are written
//! atomically and capped at `Agent.MaxDownloadMegabytes`.

use std::path::{Path, PathBuf};

use bosun_core::document::{
    confined_path, download_spec, file_name_from_url, Attachment, DownloadSource, StepPlan,
};

use super::job::{self, Job};
use super::{fetch, Launch, Plugin, StepContext};

pub struct DownloadContent;

impl Plugin for DownloadContent {
    fn action(&self) -> &'static str {
        "aws:downloadContent"
    }

    fn check(&self, plan: &StepPlan) -> Result<(), String> {
        download_spec(&plan.inputs).map(drop)
    }

    fn prepare(&self, plan: &StepPlan, ctx: &StepContext) -> Result<Launch, String> {
        self.check(plan)?;
        job::launch(plan, ctx)
    }
}

/// The file a download is written to (`name` in the destination folder), its folder created.
fn destination(given: &str, downloads: &Path, name: &str) -> Result<PathBuf, String> {
    let target = confined_path(downloads, given)?.join(name);
    if let Some(parent) = target.parent() {
        bosun_fs::create_private_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    Ok(target)
}

fn extension(format: &str) -> &'static str {
    match format {
        "YAML" => "yaml",
        "TEXT" => "txt",
        _ => "json",
    }
}

/// Carry out the step (in `bosun-agent run-plugin`).
pub fn run(job: &Job) -> Result<i32, String> {
    let spec = download_spec(&job.plan.inputs)?;
    let limit = job.ctx.max_download_bytes;
    let folder = |name: &str| destination(&spec.destination, &job.ctx.downloads, name);
    let (source, target, bytes) = match (&spec.source, &job.plan.attachment) {
        (
            DownloadSource::Http {
                url,
                basic_auth,
                allow_insecure,
            },
            _,
        ) => {
            let target = folder(&file_name_from_url(url))?;
            let bytes =
                fetch::http_to_file(url, basic_auth.as_ref(), *allow_insecure, &target, limit)?;
            (url.clone(), target, bytes)
        }
        (
            DownloadSource::Document(_),
            Some(Attachment::Document {
                name,
                version,
                format,
                content,
            }),
        ) => {
            let source = format!("document {name} (version {version})");
            if content.len() as u64 > limit {
                return Err(fetch::too_large(&source, limit));
            }
            let target = folder(&format!("{name}.{}", extension(format)))?;
            bosun_fs::write_atomic(&target, content.as_bytes(), 0o600)
                .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
            (source, target, content.len() as u64)
        }
        (DownloadSource::Document(r), _) => {
            return Err(format!(
            "the server sent no content for document {}; it is resolved when the command is sent",
            r.name
        ))
        }
    };
    println!(
        "Downloaded {source} to {} ({bytes} bytes).",
        target.display()
    );
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_are_folders_confined_unless_absolute() {
        let dir = tempfile::tempdir().unwrap();
        let d = &dir.path().join("@downloads");
        assert_eq!(destination("", d, "a.sh").unwrap(), d.join("a.sh"));
        assert_eq!(destination("bin/", d, "a.sh").unwrap(), d.join("bin/a.sh"));
        assert_eq!(
            destination("tools", d, "a.sh").unwrap(),
            d.join("tools/a.sh")
        );
        let absolute = dir.path().join("elsewhere");
        assert_eq!(
            destination(absolute.to_str().unwrap(), d, "a.sh").unwrap(),
            absolute.join("a.sh")
        );
        assert!(absolute.is_dir(), "the folder is created");
        assert!(destination("../../etc", d, "passwd").is_err());
    }
}
