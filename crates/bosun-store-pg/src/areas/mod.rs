//! The store's areas on PostgreSQL: one file per area trait of `bosun_store`, with its SQL.

// Skeleton only while the areas are being written: every todo!() is replaced before this
// reaches main, and this allow goes with them.
#![allow(unused_variables)]

mod activations;
mod audit;
mod calls;
mod commands;
mod documents;
mod iam;
mod instances;
mod parameter_policies;
mod parameters;
mod parameters_put;
mod tags;
