//! Benchmark tools: the fleet simulator (many authenticated agent connections in one process,
//! speaking the real wire protocol, answering commands without running anything) and a lean
//! SigV4 client for the API throughput benchmark.

pub mod signed;
pub mod sim;
