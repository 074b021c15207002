//! TLS to PostgreSQL, against a throwaway cluster that accepts TCP clients over TLS only:
//! `sslmode=require` with the CA as `sslrootcert` connects (and the session really is TLS),
//! a certificate nobody vouches for is refused, and plain TCP is not allowed by that server.

use bosun_store_pg::testing::PgCluster;
use bosun_store_pg::PgStore;

#[test]
fn verified_tls_connects_and_unverified_or_plain_connections_do_not() {
    let Some((cluster, ca)) = PgCluster::start_tls() else {
        return;
    };
    let base = cluster.url("postgres");
    let ca = ca.display().to_string();

    let store = PgStore::connect(&format!("{base}?sslmode=require&sslrootcert={ca}"))
        .unwrap_or_else(|e| panic!("verified TLS connects: {e}"));
    let on_tls = store
        .with_client(async |c| {
            let row = c
                .query_one(
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                    &[],
                )
                .await?;
            Ok(row.get::<_, bool>(0))
        })
        .unwrap();
    assert!(on_tls, "the session runs over TLS");
    // The default sslmode (prefer) also uses TLS when the certificate verifies.
    PgStore::connect(&format!("{base}?sslrootcert={ca}")).expect("prefer with the CA");

    // Without the CA the server's certificate is not trusted: no connection.
    let unverified = PgStore::connect(&format!("{base}?sslmode=require"))
        .expect_err("an unverified certificate is refused");
    assert!(
        format!("{unverified}")
            .to_lowercase()
            .contains("certificate")
            || format!("{unverified:?}")
                .to_lowercase()
                .contains("certificate"),
        "{unverified:?}"
    );
    // Plain TCP is refused by this server's pg_hba.conf (hostssl only).
    assert!(PgStore::connect(&format!("{base}?sslmode=disable")).is_err());
    // A CA file that does not exist is a configuration error naming it.
    let missing = PgStore::connect(&format!("{base}?sslrootcert=/nonexistent/ca.pem"))
        .expect_err("a missing CA file is refused");
    assert!(
        format!("{missing}").contains("/nonexistent/ca.pem"),
        "{missing}"
    );
}
