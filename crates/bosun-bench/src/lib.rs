//! Benchmark tools: the fleet simulator (many authenticated agent connections in one process,
//! speaking the real wire protocol, answering commands without running anything).

pub mod sim;
