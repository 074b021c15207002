//! What a target receives.
