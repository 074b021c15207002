//! The calls area of the store on PostgreSQL ([`bosun_store::CallStore`]).

#[allow(unused_imports)]
use bosun_store::*;

use crate::PgStore;

impl CallStore for PgStore {
    fn claim_call(&self, c: &ClaimRequest) -> Result<Claim> {
        todo!("PostgreSQL: calls")
    }

    fn look_up_call(&self, c: &ClaimRequest) -> Result<Claim> {
        todo!("PostgreSQL: calls")
    }

    fn record_call(&self, records: CallRecords) -> Result<()> {
        todo!("PostgreSQL: calls")
    }
}
