//! The commands area of the store on PostgreSQL ([`bosun_store::CommandStore`]).

#[allow(unused_imports)]
use bosun_store::*;

use crate::PgStore;

impl CommandStore for PgStore {
    fn create_command_audited(
        &self,
        c: &CommandRecord,
        invocations: &[InvocationRecord],
        plugins: &[PluginRecord],
        records: CallRecords,
    ) -> Result<()> {
        todo!("PostgreSQL: commands")
    }

    fn get_command(&self, region: &str, command_id: &str) -> Result<Option<CommandRecord>> {
        todo!("PostgreSQL: commands")
    }

    fn list_commands(&self, region: &str) -> Result<Vec<CommandRecord>> {
        todo!("PostgreSQL: commands")
    }

    fn active_commands(&self) -> Result<Vec<CommandRecord>> {
        todo!("PostgreSQL: commands")
    }

    fn update_command_status(&self, c: &CommandRecord, active: bool) -> Result<()> {
        todo!("PostgreSQL: commands")
    }

    fn request_cancel(&self, command_id: &str) -> Result<()> {
        todo!("PostgreSQL: commands")
    }

    fn invocations(&self, command_id: &str) -> Result<Vec<InvocationRecord>> {
        todo!("PostgreSQL: commands")
    }

    fn invocation(&self, command_id: &str, instance_id: &str) -> Result<Option<InvocationRecord>> {
        todo!("PostgreSQL: commands")
    }

    fn invocations_of_instance(&self, instance_id: &str) -> Result<Vec<InvocationRecord>> {
        todo!("PostgreSQL: commands")
    }

    fn write_results(&self, rows: &[(InvocationRecord, Vec<PluginRecord>)]) -> Result<()> {
        todo!("PostgreSQL: commands")
    }

    fn plugins(&self, command_id: &str, instance_id: &str) -> Result<Vec<PluginRecord>> {
        todo!("PostgreSQL: commands")
    }

    fn open_commands_of_instance(&self, instance_id: &str) -> Result<Vec<String>> {
        todo!("PostgreSQL: commands")
    }
}
