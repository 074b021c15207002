//! The conformance suite: the behaviour every store engine must have, as plain functions over a
//! `&dyn Store`, run by each engine's tests through [`conformance_tests!`](crate::conformance_tests).
//!
//! Every case starts from a fresh, empty database and fails by panicking. Cases only use the
//! store traits, so they hold for any engine; what only one engine can check (its files, its
//! connections) stays in that engine's own tests. A new store method or table gets its case
//! here, and the case is listed in the macro below.

pub mod activations;
pub mod agent_release_pins;
pub mod agent_releases;
pub mod association_batches;
pub mod association_overview;
pub mod association_runs;
pub mod association_status;
pub mod associations;
pub mod audit;
pub mod automation;
pub mod calls;
pub mod commands;
pub mod compliance;
pub mod concurrency;
pub mod console_sessions;
pub mod delivery_limits;
pub mod documents;
pub mod event_outbox;
pub mod event_rules;
mod fixtures;
pub mod iam;
pub mod instances;
pub mod maintenance_window_definition_events;
pub mod maintenance_window_events;
pub mod maintenance_window_runs;
pub mod maintenance_windows;
pub mod node_ping;
pub mod parameter_validations;
pub mod parameters;
pub mod regions;
pub mod replicas;
pub mod resource_groups;
pub mod rule_failures;
pub mod sessions;
pub mod tags;
pub mod topics;

/// Expand to one `#[test]` per conformance case, grouped in one module per area (so a failure
/// names its case, e.g. `concurrency::concurrent_registrations_never_exceed_the_limit`).
///
/// `$make_store` is called once per case, as `($make_store)()`, and gives a fresh, empty
/// database: an `Arc<dyn Store>`, or any value that derefs to a `dyn Store` (or to an engine
/// type) and keeps the database alive while it lives (e.g. together with its temporary
/// directory). The expansion site must not define modules named like the areas.
///
/// `conformance_tests!(optional make_store)` is for an engine that needs a server which may be
/// absent (PostgreSQL on a laptop): `make_store` returns an `Option`, and `None` skips the case
/// (the engine's test support prints why, or panics where the engine is required, as in CI).
///
/// ```
/// use std::sync::Arc;
///
/// use bosun_store::{SqliteStore, Store};
///
/// fn make_store() -> Arc<dyn Store> {
///     Arc::new(SqliteStore::open_in_memory().unwrap())
/// }
///
/// bosun_store::conformance_tests!(make_store);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! conformance_tests {
    (optional $make_store:expr) => {
        $crate::conformance_tests!(@mode optional; $make_store);
    };
    ($make_store:expr) => {
        $crate::conformance_tests!(@mode required; $make_store);
    };
    (@mode $mode:ident; $make_store:expr) => {
        $crate::__conformance_cases! { $mode; $make_store;
            activations {
                activations_are_listed_fetched_and_deleted_with_their_tags,
                registration_checks_code_expiry_and_region,
                a_registration_stores_the_node_counts_it_and_copies_the_tags,
            }
            agent_releases {
                releases_are_published_once_listed_and_defaulted_per_arch,
                signatures_are_replaced_together_and_nothing_else_changes,
                concurrent_publications_of_one_version_create_it_once,
            }
            agent_release_pins {
                pins_need_a_published_version_and_replace_their_scopes_pin,
                unpinning_removes_one_scope_only,
                concurrent_pins_of_one_scope_leave_one_pin,
            }
            association_batches {
                a_batch_fires_each_slot_once_with_its_commands_and_events,
                latest_slots_of_a_page_of_associations_are_read_at_once,
                concurrent_batches_of_one_slot_fire_each_association_once,
            }
            association_runs {
                a_fired_slot_stores_its_execution_and_command_once,
                execution_status_and_association_state_are_written_together,
                concurrent_firings_of_one_slot_fire_it_once,
                a_version_reaches_each_node_once_through_new_node_firings,
            }
            association_overview {
                the_overview_counts_every_nodes_latest_outcome,
                forgotten_nodes_leave_rows_compliance_and_the_overview,
            }
            association_status {
                ended_executions_write_node_statuses_and_compliance_newer_wins,
                association_status_updates_are_compare_and_set,
            }
            associations {
                associations_are_created_read_listed_and_deleted_with_their_tags,
                updates_add_versions_checked_against_the_expected_one,
                concurrent_updates_expecting_one_version_succeed_once,
                concurrent_creations_never_exceed_the_limit,
            }
            audit {
                audit_records_are_numbered_in_order_and_chained,
                the_trail_is_paged_back_newest_first,
            }
            calls {
                the_first_attempt_executes_and_retries_get_its_answer,
                a_claim_left_by_a_gone_process_is_never_run_again,
                looking_up_a_call_claims_nothing,
                expired_calls_run_as_new,
                a_calls_records_are_written_together,
                a_command_and_its_answer_for_retries_commit_together,
                an_answered_call_keeps_its_answer_and_refuses_a_second_change,
            }
            commands {
                commands_invocations_and_plugins_round_trip,
                invocations_and_plugins_are_read_by_pairs_in_one_call,
                command_status_retires_and_cancel_reactivates,
                a_cancel_requested_after_the_read_survives_the_status_write,
                results_never_overwrite_a_terminal_status,
                a_batch_naming_an_invocation_twice_applies_its_rows_in_order,
                live_invocations_come_whole_and_ended_ones_counted,
                every_live_status_can_still_change,
                a_command_and_its_audit_record_commit_together_and_keep_the_chain,
                a_commands_notification_settings_are_stored_with_it,
            }
            node_ping {
                a_nodes_first_status_is_silent_and_changes_are_announced_once,
                concurrent_announcements_of_one_change_write_one_event,
            }
            event_outbox {
                events_are_read_in_order_after_a_cursor_and_pruned_by_age,
                a_regions_recent_events_are_read_newest_first,
                each_run_command_status_change_writes_one_event_with_it,
                a_cursor_reader_never_skips_an_event_that_commits_late,
                parameter_changes_write_their_event_with_the_change,
                events_appended_with_a_calls_records_commit_together,
                association_changes_write_their_events_with_the_change,
            }
            concurrency {
                concurrent_registrations_never_exceed_the_limit,
                concurrent_parameter_overwrites_get_consecutive_versions_and_none_is_lost,
                concurrent_audit_appends_keep_a_chain_that_verifies,
                concurrent_claims_of_one_call_execute_it_once,
                concurrent_attempts_of_one_looked_up_call_store_one_change,
                concurrent_document_versions_get_consecutive_numbers_within_the_limit,
                concurrent_document_creations_never_exceed_the_limit_and_take_a_name_once,
                concurrent_results_for_one_invocation_keep_one_writers_result,
            }
            console_sessions {
                console_sessions_are_found_while_live_deleted_and_pruned,
                failed_sign_ins_are_counted_per_key_and_window_by_every_writer,
            }
            parameter_validations {
                pending_puts_are_claimed_in_order_applied_or_failed_once,
                concurrent_claims_hand_each_pending_put_out_once,
            }
            documents {
                document_versions_are_numbered_deduplicated_and_deleted_with_the_document,
                documents_are_listed_limited_and_shared,
                uploaded_attachment_files_are_recorded_once_per_region,
                uploads_no_document_version_names_are_removed_and_others_kept,
            }
            iam {
                users_keys_and_policies,
                users_carry_tags_that_are_replaced_and_removed,
                deactivated_and_deleted_keys_stop_working,
                sealing_leaves_sealed_keys_alone,
                concurrent_creations_of_one_user_succeed_once,
                concurrent_puts_of_one_policy_all_succeed_and_one_wins,
            }
            instances {
                nodes_are_listed_updated_touched_and_re_roled,
                nodes_are_read_by_ids_in_one_call,
                deregistration_happens_once_and_freezes_the_role,
                concurrent_deregistrations_succeed_once_and_stop_role_changes,
            }
            parameters {
                versions_labels_and_limits,
                parameters_are_read_listed_and_deleted_by_region,
                expiration_deletes_once_and_records_an_event,
                policies_fire_once_per_version_and_never_for_a_superseded_one,
                concurrent_creations_of_one_parameter_store_it_once,
                concurrent_creations_never_exceed_the_tier_limit,
                concurrent_labels_never_exceed_the_per_version_limit,
                a_label_racing_an_overwrite_is_never_lost,
                concurrent_firings_of_a_policy_fire_it_once,
            }
            compliance {
                uploads_replace_or_merge_and_unchanged_hashes_write_nothing,
                a_resource_holds_a_bounded_number_of_compliance_types,
                concurrent_uploads_never_exceed_the_type_limit,
            }
            event_rules {
                rules_are_put_replaced_listed_switched_and_deleted,
                targets_are_put_limited_removed_and_block_deletion,
                enabled_rules_come_with_their_targets,
                concurrent_rule_creations_never_exceed_the_limit,
                concurrent_target_additions_never_exceed_the_limit,
                a_rule_racing_its_deletion_never_keeps_orphan_targets,
            }
            regions {
                regions_with_resources_are_listed_once_sorted,
            }
            resource_groups {
                groups_are_created_listed_updated_and_deleted_with_their_tags,
                concurrent_creations_of_one_group_succeed_once,
            }
            maintenance_windows {
                windows_are_created_updated_listed_and_deleted_with_their_parts,
                client_tokens_replay_identical_creations_and_refuse_others,
                targets_and_tasks_follow_their_window_and_safe_deregistration,
                concurrent_creations_never_exceed_the_window_limit,
                concurrent_registrations_never_exceed_the_task_limit,
                safe_deregistration_races_task_registration,
            }
            maintenance_window_events {
                window_run_endings_write_their_events_with_the_change,
            }
            maintenance_window_definition_events {
                definition_changes_write_their_events_with_the_change,
            }
            maintenance_window_runs {
                window_slots_fire_once_and_overlaps_are_skipped,
                tasks_start_once_and_invocations_are_sent_once,
                concurrent_firings_and_sends_happen_once,
                old_executions_are_pruned_with_their_tasks_but_each_windows_latest_slot_stays,
            }
            delivery_limits {
                slots_are_counted_per_window_and_subscription_up_to_the_limit,
                a_key_is_claimed_once_per_holder_until_it_expires,
                concurrent_takers_never_exceed_the_limit,
                concurrent_holders_of_one_key_claim_it_once,
            }
            topics {
                topics_are_created_listed_changed_and_deleted_with_their_tags,
                subscriptions_confirm_by_token_and_only_confirmed_ones_get_messages,
                deliveries_are_leased_retried_and_kept_as_dead_letters,
                a_subscriptions_burst_is_postponed_and_claimed_together,
                concurrent_claims_send_each_delivery_once,
                concurrent_creations_of_one_topic_succeed_once,
                concurrent_subscriptions_of_one_endpoint_succeed_once,
                messages_from_events_are_published_once_with_the_cursor,
                two_consumers_publish_from_the_same_events_with_their_own_cursors,
            }
            rule_failures {
                failures_are_recorded_once_with_the_cursor_and_listed_by_rule,
                a_redrive_publishes_once_and_a_failed_one_is_counted,
            }
            replicas {
                replicas_are_live_while_their_heartbeat_is_fresh,
                a_newer_agent_session_replaces_the_old_one_on_any_replica,
                command_owners_claim_renew_and_lose_commands_by_epoch,
                a_replica_that_leaves_hands_its_commands_over_at_once,
                concurrent_claims_give_each_command_one_owner,
                delivery_marks_are_compare_and_set,
            }
            automation {
                automation_executions_are_created_listed_filtered_and_paged,
                automation_client_tokens_replay_the_same_start_and_refuse_others,
                automation_leases_fence_the_driver_and_pass_on_when_they_lapse,
                automation_stops_and_signals_are_kept_apart_from_the_driver,
                automation_changes_write_their_events_with_the_change,
            }
            sessions {
                sessions_are_created_listed_filtered_and_paged,
                tokens_are_single_use_and_die_with_the_session,
                a_handed_over_session_is_taken_over_once_by_its_replica,
                sessions_end_once_and_keep_the_agent_report,
                a_sessions_start_and_end_write_their_events_once,
            }
            tags {
                tags_are_added_overwritten_limited_and_removed,
                tags_of_a_type_are_listed_by_resource,
                concurrent_additions_never_exceed_the_limit,
                concurrent_overwrites_of_a_full_resource_are_all_accepted,
            }
        }
    };
}

/// The expansion of [`conformance_tests!`](crate::conformance_tests) (not for direct use).
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    ($mode:ident; $make_store:expr; $($area:ident { $($case:ident),* $(,)? })*) => {
        $(
            mod $area {
                #[allow(unused_imports)]
                use super::*;
                $(
                    #[test]
                    fn $case() {
                        let Some(store) = $crate::__conformance_store!($mode, $make_store) else {
                            return;
                        };
                        $crate::conformance::$area::$case(&*store);
                    }
                )*
            }
        )*
    };
}

/// A fresh store for one case: `required` stores always exist; an `optional` engine's
/// `$make_store` gives `None` when it cannot run here (it says why), and the case passes.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_store {
    (required, $make_store:expr) => {
        Some(($make_store)())
    };
    (optional, $make_store:expr) => {
        ($make_store)()
    };
}

#[cfg(test)]
mod tests {
    /// A case missing from the macro would silently never run.
    #[test]
    fn every_case_is_listed_in_the_macro() {
        let listing = include_str!("mod.rs");
        let areas = [
            ("activations", include_str!("activations.rs")),
            (
                "association_batches",
                include_str!("association_batches.rs"),
            ),
            ("association_runs", include_str!("association_runs.rs")),
            (
                "association_overview",
                include_str!("association_overview.rs"),
            ),
            ("association_status", include_str!("association_status.rs")),
            ("associations", include_str!("associations.rs")),
            ("audit", include_str!("audit.rs")),
            ("automation", include_str!("automation.rs")),
            ("calls", include_str!("calls.rs")),
            ("commands", include_str!("commands.rs")),
            ("concurrency", include_str!("concurrency.rs")),
            ("console_sessions", include_str!("console_sessions.rs")),
            ("documents", include_str!("documents.rs")),
            ("event_outbox", include_str!("event_outbox.rs")),
            ("event_rules", include_str!("event_rules.rs")),
            ("iam", include_str!("iam.rs")),
            ("instances", include_str!("instances.rs")),
            (
                "maintenance_window_events",
                include_str!("maintenance_window_events.rs"),
            ),
            (
                "maintenance_window_runs",
                include_str!("maintenance_window_runs.rs"),
            ),
            ("parameters", include_str!("parameters.rs")),
            ("replicas", include_str!("replicas.rs")),
            ("rule_failures", include_str!("rule_failures.rs")),
            ("sessions", include_str!("sessions.rs")),
            ("tags", include_str!("tags.rs")),
        ];
        let mut cases = 0;
        for (area, source) in areas {
            assert!(
                listing.contains(&format!("            {area} {{")),
                "{area}"
            );
            for line in source.lines() {
                if let Some(rest) = line.strip_prefix("pub fn ") {
                    let name = rest.split(['(', '<']).next().unwrap();
                    assert!(
                        listing.contains(&format!("                {name},")),
                        "{area}::{name} is not listed in conformance_tests!"
                    );
                    cases += 1;
                }
            }
        }
        assert!(cases >= 30, "{cases}");
    }
}
