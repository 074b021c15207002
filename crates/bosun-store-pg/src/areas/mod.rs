//! The store's areas on PostgreSQL: one file per area trait of `bosun_store`, with its SQL.
mod activations;
mod association_runs;
mod associations;
mod audit;
mod calls;
mod commands;
mod compliance;
mod documents;
mod iam;
mod instances;
mod parameter_policies;
mod parameters;
mod parameters_put;
mod regions;
mod replicas;
mod tags;
