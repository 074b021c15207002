//! The flags of `bosun package …` (Distributor packages).

use std::path::PathBuf;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum PackageCommand {
    /// Upload a file for package attachments; prints the bosun://attachments/<sha256> URL to
    /// name as an Attachments SourceUrl.
    Upload {
        /// The file (at most 64 MiB).
        file: PathBuf,
    },
    /// Create a package document (or, with --new-version, add a version) from a manifest,
    /// uploading the files it names.
    Create {
        /// The package document's name.
        name: String,
        /// The schema 2.0 manifest (JSON).
        manifest: PathBuf,
        /// A file the manifest names (repeat for each; its name is the manifest's key).
        #[arg(long = "file", value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Reuse the files of another package version, as <document>:<version>.
        #[arg(long, value_name = "DOC:VERSION")]
        reference: Option<String>,
        /// Add a version to an existing package and make it the default.
        #[arg(long)]
        new_version: bool,
    },
    /// List package documents with their default version's manifest version, or with --node
    /// the packages a node reports installed (ListInventoryEntries, AWS:Application).
    List {
        /// A node id: list what it has installed instead.
        #[arg(long, value_name = "ID")]
        node: Option<String>,
    },
    /// Install a package on nodes (AWS-ConfigureAWSPackage, action Install) and wait.
    Install {
        /// The package document's name.
        name: String,
        /// Node ids (repeat or comma-separate).
        #[arg(
            long = "instance-id",
            short = 'i',
            value_delimiter = ',',
            required = true
        )]
        instance_ids: Vec<String>,
        /// The manifest version to install (default: the document's default version).
        #[arg(long)]
        version: Option<String>,
        /// Update in place (update.sh) instead of uninstalling and reinstalling.
        #[arg(long)]
        in_place: bool,
        /// Arguments for the scripts as a JSON object of SSM_* variables.
        #[arg(long, value_name = "JSON")]
        args: Option<String>,
    },
    /// Uninstall a package from nodes (AWS-ConfigureAWSPackage, action Uninstall) and wait.
    Remove {
        /// The package document's name.
        name: String,
        /// Node ids (repeat or comma-separate).
        #[arg(
            long = "instance-id",
            short = 'i',
            value_delimiter = ',',
            required = true
        )]
        instance_ids: Vec<String>,
    },
}
