//! The PostgreSQL schema matches the SQLite engine's final schema: the same tables and columns
//! (in both directions), the same types (INTEGER → BIGINT, or BOOLEAN where the Rust field is a
//! `bool`; TEXT → TEXT; BLOB → BYTEA), nullability, primary keys, unique constraints, foreign
//! keys with their ON DELETE action, and named indexes. Only `schema_migrations` and
//! `audit_head` are PostgreSQL's own.

use std::collections::{BTreeMap, BTreeSet};

use bosun_store_pg::testing::PgCluster;
use bosun_store_pg::PgStore;

/// INTEGER columns of the SQLite schema that hold a Rust `bool`: BOOLEAN in PostgreSQL.
const BOOLEAN_COLUMNS: &[(&str, &str)] = &[
    ("access_keys", "active"),
    ("agent_releases", "is_default"),
    ("association_versions", "apply_only_at_cron_interval"),
    ("associations", "apply_only_at_cron_interval"),
    ("commands", "active"),
    ("commands", "cancel_requested"),
    ("idempotency", "answered"),
    ("instances", "deregistered"),
    ("invocations", "acked"),
    ("maintenance_window_executions", "cancel_requested"),
    ("maintenance_windows", "allow_unassociated_targets"),
    ("maintenance_windows", "enabled"),
    ("parameters", "has_policies"),
    ("sessions", "active"),
    ("sessions", "agent_accepted"),
    ("sns_deliveries", "failed"),
    ("sns_subscriptions", "confirmed"),
    ("sns_subscriptions", "raw_message_delivery"),
];

const PG_ONLY_TABLES: &[&str] = &["schema_migrations", "audit_head"];

type Cols = Vec<String>;

/// Everything compared, keyed so that a difference names its table.
#[derive(Debug, Default, PartialEq)]
struct Schema {
    /// (table, column) → (PostgreSQL type name, NOT NULL).
    columns: BTreeMap<(String, String), (String, bool)>,
    primary_keys: BTreeMap<String, Cols>,
    uniques: BTreeSet<(String, Cols)>,
    /// (table, columns, referenced table, referenced columns, ON DELETE action).
    foreign_keys: BTreeSet<(String, Cols, String, Cols, String)>,
    /// (table, index name) for indexes created by name (not those behind constraints).
    indexes: BTreeSet<(String, String)>,
}

fn sqlite_schema() -> Schema {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bosun.db");
    drop(bosun_store::SqliteStore::open(&path).unwrap());
    let db = rusqlite::Connection::open(&path).unwrap();
    // Every row of a query as strings.
    let strings = |sql: &str, args: &[&str]| -> Vec<Vec<String>> {
        let mut stmt = db.prepare(sql).unwrap();
        let n = stmt.column_count();
        stmt.query_map(rusqlite::params_from_iter(args), |r| {
            (0..n)
                .map(|i| {
                    r.get::<_, rusqlite::types::Value>(i).map(|v| match v {
                        rusqlite::types::Value::Integer(i) => i.to_string(),
                        rusqlite::types::Value::Text(t) => t,
                        other => format!("{other:?}"),
                    })
                })
                .collect()
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    let mut s = Schema::default();
    let tables = strings(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        &[],
    );
    for table in tables.into_iter().map(|r| r[0].clone()) {
        let mut pk: Vec<(i64, String)> = Vec::new();
        for col in strings(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1)",
            &[&table],
        ) {
            let (name, ty, not_null, pk_pos) =
                (&col[0], &col[1], col[2] == "1", col[3].parse().unwrap());
            let pg_type = match ty.as_str() {
                "INTEGER" if BOOLEAN_COLUMNS.contains(&(table.as_str(), name.as_str())) => {
                    "boolean"
                }
                "INTEGER" => "bigint",
                "TEXT" => "text",
                "BLOB" => "bytea",
                other => panic!("{table}.{name}: SQLite type {other} has no mapping"),
            };
            if pk_pos > 0 {
                pk.push((pk_pos, name.clone()));
            }
            // A primary key column is never NULL in either engine as Bosun declares them.
            s.columns.insert(
                (table.clone(), name.clone()),
                (pg_type.to_string(), not_null || pk_pos > 0),
            );
        }
        pk.sort();
        s.primary_keys
            .insert(table.clone(), pk.into_iter().map(|(_, c)| c).collect());
        for index in strings(
            "SELECT name, origin, sql IS NOT NULL FROM pragma_index_list(?1) \
             LEFT JOIN sqlite_master m USING (name)",
            &[&table],
        ) {
            let columns = || -> Cols {
                strings(
                    "SELECT name FROM pragma_index_info(?1) ORDER BY seqno",
                    &[&index[0]],
                )
                .into_iter()
                .map(|r| r[0].clone())
                .collect()
            };
            match index[1].as_str() {
                "u" => {
                    s.uniques.insert((table.clone(), columns()));
                }
                "c" if index[2] == "1" => {
                    s.indexes.insert((table.clone(), index[0].clone()));
                }
                _ => {}
            }
        }
        let mut fks: BTreeMap<String, (String, Cols, Cols, String)> = BTreeMap::new();
        for fk in strings(
            "SELECT id, \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
            &[&table],
        ) {
            let entry = fks
                .entry(fk[0].clone())
                .or_insert_with(|| (fk[1].clone(), vec![], vec![], fk[4].clone()));
            entry.1.push(fk[2].clone());
            entry.2.push(fk[3].clone());
        }
        for (_, (target, from, to, on_delete)) in fks {
            s.foreign_keys
                .insert((table.clone(), from, target, to, on_delete));
        }
    }
    s
}

fn pg_schema(store: &PgStore) -> Schema {
    store
        .with_client(async |c| {
            let mut s = Schema::default();
            let public = "table_schema = 'public'";
            for r in c
                .query(
                    &format!(
                        "SELECT table_name::text, column_name::text, data_type::text, is_nullable = 'NO' \
                         FROM information_schema.columns WHERE {public}"
                    ),
                    &[],
                )
                .await?
            {
                s.columns.insert((r.get(0), r.get(1)), (r.get(2), r.get(3)));
            }
            let constraint_columns = |keys: &str, rel: &str| {
                format!(
                    "(SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest({keys}) WITH ORDINALITY k(num, ord) \
                     JOIN pg_attribute a ON a.attrelid = {rel} AND a.attnum = k.num)"
                )
            };
            let constraints = format!(
                "SELECT c.contype::text, c.conrelid::regclass::text, {}, c.confrelid::regclass::text, {}, \
                 CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'a' THEN 'NO ACTION' ELSE c.confdeltype::text END \
                 FROM pg_constraint c WHERE c.connamespace = 'public'::regnamespace AND c.contype IN ('p', 'u', 'f')",
                constraint_columns("c.conkey", "c.conrelid"),
                constraint_columns("c.confkey", "c.confrelid"),
            );
            for r in c.query(&constraints, &[]).await? {
                let (kind, table, columns): (String, String, Cols) = (r.get(0), r.get(1), r.get(2));
                match kind.as_str() {
                    "p" => {
                        s.primary_keys.insert(table, columns);
                    }
                    "u" => {
                        s.uniques.insert((table, columns));
                    }
                    _ => {
                        s.foreign_keys.insert((table, columns, r.get(3), r.get(4), r.get(5)));
                    }
                }
            }
            for r in c
                .query(
                    "SELECT tablename::text, indexname::text FROM pg_indexes WHERE schemaname = 'public' \
                     AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                    &[],
                )
                .await?
            {
                s.indexes.insert((r.get(0), r.get(1)));
            }
            Ok(s)
        })
        .unwrap()
}

fn without_pg_only_tables(mut s: Schema) -> Schema {
    let pg_only = |t: &String| PG_ONLY_TABLES.contains(&t.as_str());
    s.columns.retain(|(t, _), _| !pg_only(t));
    s.primary_keys.retain(|t, _| !pg_only(t));
    s.uniques.retain(|(t, _)| !pg_only(t));
    s.foreign_keys.retain(|(t, ..)| !pg_only(t));
    s.indexes.retain(|(t, _)| !pg_only(t));
    s
}

/// Entries of `a` that `b` lacks, for a readable failure.
fn missing<K: Ord + Clone, V: PartialEq + Clone>(
    a: &BTreeMap<K, V>,
    b: &BTreeMap<K, V>,
) -> Vec<(K, V)> {
    a.iter()
        .filter(|(k, v)| b.get(k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[test]
fn postgres_has_the_same_tables_columns_keys_and_indexes_as_sqlite() {
    let Some(cluster) = PgCluster::shared() else {
        return;
    };
    let store = PgStore::connect(&cluster.fresh_database()).unwrap();
    let pg_full = pg_schema(&store);
    for table in PG_ONLY_TABLES {
        assert!(
            pg_full.columns.keys().any(|(t, _)| t == table),
            "PostgreSQL lacks its own table {table}"
        );
    }
    let pg = without_pg_only_tables(pg_full);
    let sqlite = sqlite_schema();
    // Every part of the SQLite schema was read.
    assert!(sqlite.columns.len() > 100, "{sqlite:?}");
    assert!(
        !sqlite.uniques.is_empty() && !sqlite.indexes.is_empty(),
        "{sqlite:?}"
    );
    assert!(
        sqlite
            .foreign_keys
            .iter()
            .any(|fk| fk.1.len() == 3 && fk.4 == "CASCADE"),
        "{sqlite:?}"
    );

    assert_eq!(
        missing(&sqlite.columns, &pg.columns),
        vec![],
        "SQLite columns PostgreSQL lacks or types differently (type, NOT NULL)"
    );
    assert_eq!(
        missing(&pg.columns, &sqlite.columns),
        vec![],
        "PostgreSQL columns SQLite lacks or types differently"
    );
    assert_eq!(pg.primary_keys, sqlite.primary_keys);
    assert_eq!(pg.uniques, sqlite.uniques);
    assert_eq!(pg.foreign_keys, sqlite.foreign_keys);
    assert_eq!(pg.indexes, sqlite.indexes);
    for (table, column) in BOOLEAN_COLUMNS {
        assert_eq!(
            pg.columns[&(table.to_string(), column.to_string())].0,
            "boolean"
        );
    }
}
