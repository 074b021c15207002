//! The `bosun` command end to end, as one test binary (one link of the harness, not one per
//! file): each module drives the built binary against real servers and agents.

mod assoc;
mod cli;
mod common;
mod resolution;
mod run;
mod subcommands;
mod terminal;
mod window;
