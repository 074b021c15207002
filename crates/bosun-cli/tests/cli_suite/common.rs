//! Helpers shared by the CLI's integration tests.

use std::path::Path;

use tokio::process::Command;

/// `cmd` with none of the variables that name a server, a key, a profile or colours, and `home`
/// as HOME (no ~/.aws): a machine where nothing is set up yet.
pub fn clean<'a>(cmd: &'a mut Command, home: &Path) -> &'a mut Command {
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_SSM",
        "BOSUN_ENDPOINT",
        "BOSUN_DATA_DIR",
        "NO_COLOR",
        "CLICOLOR",
        "CLICOLOR_FORCE",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", home).env("RUST_BACKTRACE", "0")
}
