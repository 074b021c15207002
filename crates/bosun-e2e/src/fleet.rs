//! A server with a few registered, running agents, and helpers to run commands on them.

use std::time::Duration;

use aws_sdk_ssm::types::{CommandInvocationStatus, Tag, Target};
use aws_sdk_ssm::Client;

use crate::agent::{register, Agent};
use crate::{wait_for, TestServer};

pub struct Fleet {
    pub server: TestServer,
    pub client: Client,
    pub agents: Vec<Agent>,
}

impl Fleet {
    /// A server and `n` registered agents tagged `env=test`; `running` of them started.
    pub async fn start(n: usize, running: usize) -> Fleet {
        Self::start_on(TestServer::start().await, n, running).await
    }

    /// [`Fleet::start`] on a server the caller started (e.g. with `--database`).
    pub async fn start_on(server: TestServer, n: usize, running: usize) -> Fleet {
        let client = server.client();
        let out = client
            .create_activation()
            .iam_role("BosunNode")
            .registration_limit(n.max(1) as i32)
            .tags(Tag::builder().key("env").value("test").build().unwrap())
            .send()
            .await
            .expect("CreateActivation");
        let (id, code) = (out.activation_id.unwrap(), out.activation_code.unwrap());
        let mut agents = Vec::new();
        for i in 0..n {
            let mut a = register(&server.url, &id, &code, None, &[])
                .await
                .expect("register");
            if i < running {
                a.start();
            }
            agents.push(a);
        }
        let fleet = Fleet {
            server,
            client,
            agents,
        };
        for a in fleet.agents.iter().take(running) {
            fleet.wait_online(&a.instance_id).await;
        }
        fleet
    }

    pub async fn wait_online(&self, id: &str) {
        wait_for(&format!("{id} Online"), Duration::from_secs(20), || async {
            let out = self
                .client
                .describe_instance_information()
                .send()
                .await
                .ok()?;
            out.instance_information_list()
                .iter()
                .any(|n| {
                    n.instance_id() == Some(id)
                        && n.ping_status() == Some(&aws_sdk_ssm::types::PingStatus::Online)
                })
                .then_some(())
        })
        .await
    }

    pub fn ids(&self) -> Vec<String> {
        self.agents.iter().map(|a| a.instance_id.clone()).collect()
    }

    /// Send `AWS-RunShellScript` with these commands to these nodes; returns the command id.
    pub async fn run(&self, ids: &[String], commands: &[&str], extra: &[(&str, &str)]) -> String {
        let mut req = self
            .client
            .send_command()
            .document_name("AWS-RunShellScript")
            .set_instance_ids(Some(ids.to_vec()))
            .parameters("commands", commands.iter().map(|c| c.to_string()).collect());
        for (k, v) in extra {
            req = req.parameters(*k, vec![v.to_string()]);
        }
        req.send()
            .await
            .expect("SendCommand")
            .command
            .unwrap()
            .command_id
            .unwrap()
    }

    /// Send by tag target.
    pub async fn run_tagged(&self, key: &str, value: &str, commands: &[&str]) -> String {
        self.client
            .send_command()
            .document_name("AWS-RunShellScript")
            .targets(
                Target::builder()
                    .key(format!("tag:{key}"))
                    .values(value)
                    .build(),
            )
            .parameters("commands", commands.iter().map(|c| c.to_string()).collect())
            .send()
            .await
            .expect("SendCommand")
            .command
            .unwrap()
            .command_id
            .unwrap()
    }

    /// Wait until one invocation is terminal and return it (for a multi-step document, as seen
    /// through its first step).
    pub async fn wait_done(
        &self,
        command_id: &str,
        instance_id: &str,
        limit: Duration,
    ) -> aws_sdk_ssm::operation::get_command_invocation::GetCommandInvocationOutput {
        let first_plugin = wait_for(
            &format!("{command_id} on {instance_id} to finish"),
            limit,
            || async {
                let out = self
                    .client
                    .list_command_invocations()
                    .command_id(command_id)
                    .instance_id(instance_id)
                    .details(true)
                    .send()
                    .await
                    .ok()?;
                let inv = out.command_invocations().first()?;
                let live = matches!(
                    inv.status(),
                    Some(
                        CommandInvocationStatus::Pending
                            | CommandInvocationStatus::InProgress
                            | CommandInvocationStatus::Delayed
                            | CommandInvocationStatus::Cancelling
                    )
                );
                let plugins = inv.command_plugins();
                // GetCommandInvocation needs a plugin name when the document has several steps.
                (!live).then(|| {
                    (plugins.len() > 1).then(|| plugins[0].name().unwrap_or_default().to_string())
                })
            },
        )
        .await;
        self.client
            .get_command_invocation()
            .command_id(command_id)
            .instance_id(instance_id)
            .set_plugin_name(first_plugin)
            .send()
            .await
            .expect("GetCommandInvocation")
    }

    /// Wait until the command itself is terminal and return it.
    pub async fn wait_command(
        &self,
        command_id: &str,
        limit: Duration,
    ) -> aws_sdk_ssm::types::Command {
        wait_for(
            &format!("command {command_id} to finish"),
            limit,
            || async {
                let out = self
                    .client
                    .list_commands()
                    .command_id(command_id)
                    .send()
                    .await
                    .ok()?;
                let c = out.commands().first()?.clone();
                let live = matches!(
                    c.status(),
                    Some(
                        aws_sdk_ssm::types::CommandStatus::Pending
                            | aws_sdk_ssm::types::CommandStatus::InProgress
                            | aws_sdk_ssm::types::CommandStatus::Cancelling
                    )
                );
                (!live).then_some(c)
            },
        )
        .await
    }
}
