//! `command-api migrate` provisioning the service roles on a cluster that checks passwords, as
//! a managed database does: roles created, passwords checked and rotated, the rights the
//! migrations give, an admin that is no superuser, a password that a URL could not carry.

mod cluster;

use tokio_postgres::error::SqlState;

use cluster::{Exclusive, SERVICE_ROLES, connect, exclusive, migrate, url};

/// Cloud-generated passwords look like this; none of it may need escaping anywhere.
const URL_HOSTILE: &str = "p@ss:w/rd?#%2F 'with\" spaces\\";

/// The four `CC_MIGRATE__*_PASSWORD` variables, each role's password ending in `tag`.
fn role_passwords(tag: &str) -> Vec<(&'static str, String)> {
    let variables = [
        "CC_MIGRATE__WRITER_PASSWORD",
        "CC_MIGRATE__PROJECTOR_PASSWORD",
        "CC_MIGRATE__READER_PASSWORD",
        "CC_MIGRATE__NOTIFIER_PASSWORD",
    ];
    variables
        .into_iter()
        .zip(SERVICE_ROLES)
        .map(|(variable, role)| (variable, format!("{role}-{tag}")))
        .collect()
}

fn as_env<'a>(passwords: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    passwords.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Whether `role` logs in to `database` with `password`; the refusal's SQLSTATE otherwise.
async fn login(role: &str, database: &str, password: &str) -> Result<(), Option<SqlState>> {
    match connect(&url(role, database), Some(password)).await {
        Ok(_) => Ok(()),
        Err(error) => Err(error
            .downcast_ref::<tokio_postgres::Error>()
            .and_then(|e| e.code().cloned())),
    }
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[tokio::test]
async fn migrate_creates_service_roles_whose_passwords_the_server_checks() {
    let cluster = exclusive().await;
    let database = cluster.database(None).await;
    let passwords = role_passwords("first");
    let run = migrate(&url("postgres", &database), &as_env(&passwords)).await;
    assert!(run.success, "{}", run.output);
    assert_eq!(
        count(&run.output, "service role created"),
        SERVICE_ROLES.len(),
        "{}",
        run.output
    );
    assert_eq!(
        count(&run.output, "service role password set"),
        SERVICE_ROLES.len(),
        "{}",
        run.output
    );
    // Said what it did, and nothing of the secrets.
    for (_, password) in &passwords {
        assert!(!run.output.contains(password.as_str()), "{}", run.output);
    }
    assert!(!run.output.contains("SCRAM-SHA-256$"), "{}", run.output);

    for (role, (_, password)) in SERVICE_ROLES.iter().zip(&passwords) {
        assert_eq!(login(role, &database, password).await, Ok(()), "{role}");
        assert_eq!(
            login(role, &database, "not-the-password").await,
            Err(Some(SqlState::INVALID_PASSWORD)),
            "{role}"
        );
    }
    // No more than a login: not a superuser, nor anything close.
    for (role, attributes) in cluster.service_role_attributes().await {
        assert_eq!(
            attributes,
            [false, false, false, false, false, true],
            "{role}"
        );
    }

    // The migrations granted the new role its rights: it reads the log and may not change it
    // (the log is empty, so a refusal is the missing right, not the append-only trigger).
    let writer = connect(&url("cc_writer", &database), Some(&passwords[0].1))
        .await
        .unwrap();
    writer
        .execute("SELECT count(*) FROM es.events", &[])
        .await
        .expect("cc_writer reads es.events");
    let refused = writer
        .execute("UPDATE es.events SET actor = actor", &[])
        .await
        .expect_err("cc_writer may not UPDATE es.events");
    assert_eq!(refused.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE));
    assert!(
        format!("{refused:?}").contains("permission denied"),
        "{refused:?}"
    );

    // cc_notifier keeps its own records, has tokens issued for recorded requests only, and
    // reads no event.
    let notifier = connect(&url("cc_notifier", &database), Some(&passwords[3].1))
        .await
        .unwrap();
    notifier
        .execute(
            "INSERT INTO notifier.recipients (user_id, email, display_name)
             VALUES (gen_random_uuid(), 'ada@example.com', 'Ada')",
            &[],
        )
        .await
        .expect("cc_notifier writes notifier.recipients");
    let planted = notifier
        .execute(
            "INSERT INTO es.password_reset_tokens (token_hash, user_id, expires_at)
             VALUES (sha256('token'), gen_random_uuid(), now() + interval '10 minutes')",
            &[],
        )
        .await
        .expect_err("cc_notifier may not write a token's hash itself");
    assert_eq!(planted.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE));
    let unrecorded = notifier
        .execute(
            "SELECT es.issue_mailed_token(gen_random_uuid(), gen_random_uuid(), sha256('token'))",
            &[],
        )
        .await
        .expect_err("no token for a request never recorded");
    assert_eq!(
        unrecorded.code(),
        Some(&SqlState::NO_DATA_FOUND),
        "cc_notifier may call the function: {unrecorded}"
    );
    let refused = notifier
        .execute("SELECT count(*) FROM es.events", &[])
        .await
        .expect_err("cc_notifier may not read es.events");
    assert_eq!(refused.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE));
}

#[tokio::test]
async fn running_migrate_again_with_new_passwords_rotates_them() {
    let cluster = exclusive().await;
    let database = cluster.database(None).await;
    let admin_url = url("postgres", &database);
    let old = role_passwords("old");
    assert!(migrate(&admin_url, &as_env(&old)).await.success);
    let new = role_passwords("new");
    let rerun = migrate(&admin_url, &as_env(&new)).await;
    assert!(rerun.success, "{}", rerun.output);
    assert_eq!(
        count(&rerun.output, "service role created"),
        0,
        "{}",
        rerun.output
    );
    assert_eq!(
        count(&rerun.output, "service role password set"),
        SERVICE_ROLES.len(),
        "{}",
        rerun.output
    );
    for ((role, (_, old)), (_, new)) in SERVICE_ROLES.iter().zip(&old).zip(&new) {
        assert_eq!(
            login(role, &database, old).await,
            Err(Some(SqlState::INVALID_PASSWORD)),
            "{role}'s old password"
        );
        assert_eq!(
            login(role, &database, new).await,
            Ok(()),
            "{role}'s new one"
        );
    }
}

#[tokio::test]
async fn two_migration_jobs_at_once_both_succeed_and_create_each_role_once() {
    let cluster = exclusive().await;
    let database = cluster.database(None).await;
    let admin_url = url("postgres", &database);
    let passwords = role_passwords("concurrent");
    let env = as_env(&passwords);
    let (first, second) = tokio::join!(migrate(&admin_url, &env), migrate(&admin_url, &env));
    assert!(first.success, "{}", first.output);
    assert!(second.success, "{}", second.output);
    let created = count(&first.output, "service role created")
        + count(&second.output, "service role created");
    assert_eq!(
        created,
        SERVICE_ROLES.len(),
        "{}\n{}",
        first.output,
        second.output
    );
    for (role, (_, password)) in SERVICE_ROLES.iter().zip(&passwords) {
        assert_eq!(login(role, &database, password).await, Ok(()), "{role}");
    }
}

#[tokio::test]
async fn an_admin_with_createrole_and_a_url_hostile_password_provisions_the_roles() {
    let cluster = exclusive().await;
    let admin = cluster.createrole_admin(URL_HOSTILE).await;
    let database = cluster.database(Some(&admin)).await;
    // The URL's own password is wrong: the separate one wins, taken as it is.
    let admin_url = url(&format!("{admin}:not-the-password"), &database);
    let writer_password = format!("{URL_HOSTILE}writer");
    let passwords = [
        ("CC_MIGRATE__WRITER_PASSWORD", writer_password.as_str()),
        ("CC_MIGRATE__PROJECTOR_PASSWORD", "projector-password"),
        ("CC_MIGRATE__READER_PASSWORD", "reader-password"),
        ("CC_MIGRATE__NOTIFIER_PASSWORD", "notifier-password"),
    ];

    let without = migrate(&admin_url, &passwords).await;
    assert!(!without.success, "the server checks the admin's password");
    assert!(
        without.output.contains("password authentication failed"),
        "{}",
        without.output
    );

    let mut env = passwords.to_vec();
    env.push(("CC_DATABASE__PASSWORD", URL_HOSTILE));
    let run = migrate(&admin_url, &env).await;
    assert!(run.success, "{}", run.output);
    assert_eq!(
        count(&run.output, "service role created"),
        SERVICE_ROLES.len(),
        "{}",
        run.output
    );
    let is_superuser: bool = cluster
        .admin
        .query_one(
            "SELECT rolsuper FROM pg_roles WHERE rolname = $1",
            &[&admin],
        )
        .await
        .unwrap()
        .get(0);
    assert!(!is_superuser, "provisioned without a superuser");

    // The service's own hostile password works through CC_DATABASE__PASSWORD's setting.
    let writer = connect(&url("cc_writer", &database), Some(&writer_password))
        .await
        .expect("cc_writer logs in with its URL-hostile password");
    writer
        .execute("SELECT count(*) FROM es.events", &[])
        .await
        .expect("and has the rights the admin's migrations granted");
}

#[tokio::test]
async fn one_to_three_role_passwords_are_refused_before_anything_changes() {
    let cluster = exclusive().await;
    let database = cluster.database(None).await;
    let passwords = role_passwords("partial");
    // Three is also what a deployment made before the notifier passes.
    for given in 1..SERVICE_ROLES.len() {
        let run = migrate(&url("postgres", &database), &as_env(&passwords[..given])).await;
        assert!(!run.success, "{given} of 4: {}", run.output);
        assert!(run.output.contains("needs all four"), "{}", run.output);
        assert!(
            run.output.contains("CC_MIGRATE__NOTIFIER_PASSWORD"),
            "{}",
            run.output
        );
    }
    assert!(
        cluster.service_role_attributes().await.is_empty(),
        "no role was created"
    );
    let client = connect(&url("postgres", &database), None).await.unwrap();
    let migrated: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'es')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(!migrated, "nothing was migrated");
}

/// Every right a service role holds in `database` (the schemas `es` and `notifier`, and the
/// database itself): `object kind name: role privilege`.
async fn service_role_rights(database: &str) -> Vec<String> {
    let client = connect(&url("postgres", database), None).await.unwrap();
    client
        .query(
            "SELECT r.kind || ' ' || r.object || ': ' || g.rolname || ' ' || r.privilege
             FROM (
                 SELECT 'relation' AS kind, c.oid::regclass::text AS object,
                        a.grantee, a.privilege_type AS privilege
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
                      aclexplode(c.relacl) a
                 WHERE n.nspname IN ('es', 'notifier')
                 UNION ALL
                 SELECT 'function', p.oid::regprocedure::text, a.grantee, a.privilege_type
                 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,
                      aclexplode(p.proacl) a
                 WHERE n.nspname IN ('es', 'notifier')
                 UNION ALL
                 SELECT 'schema', n.nspname, a.grantee, a.privilege_type
                 FROM pg_namespace n, aclexplode(n.nspacl) a
                 WHERE n.nspname IN ('es', 'notifier')
                 UNION ALL
                 SELECT 'database', 'itself', a.grantee, a.privilege_type
                 FROM pg_database d, aclexplode(d.datacl) a
                 WHERE d.datname = current_database()
             ) r JOIN pg_roles g ON g.oid = r.grantee
             WHERE g.rolname = ANY($1)
             ORDER BY 1",
            &[&SERVICE_ROLES.to_vec()],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// The migrations grant only to roles that exist when they run. A database migrated before
/// provisioning was switched on gets its roles' rights from the grants `migrate` applies after
/// the migrations, and they must be exactly the migrations' own: this fails when a migration
/// grants something that `store/src/sql/service_role_grants.sql` does not, or the reverse.
#[tokio::test]
async fn roles_created_after_the_migrations_get_exactly_the_rights_the_migrations_give() {
    let cluster: Exclusive = exclusive().await;
    let late = cluster.database(None).await;
    let plain = migrate(&url("postgres", &late), &[]).await;
    assert!(plain.success, "{}", plain.output);
    assert!(
        service_role_rights(&late).await.is_empty(),
        "no role, no rights"
    );

    let passwords = role_passwords("late");
    let provisioned = migrate(&url("postgres", &late), &as_env(&passwords)).await;
    assert!(provisioned.success, "{}", provisioned.output);

    // The reference: the roles exist, and the migrations alone grant to them.
    let early = cluster.database(None).await;
    let mut client = connect(&url("postgres", &early), None).await.unwrap();
    store::migrations::run(&mut client).await.unwrap();

    let granted_late = service_role_rights(&late).await;
    assert!(
        granted_late.contains(&"relation es.events: cc_writer INSERT".to_owned()),
        "{granted_late:#?}"
    );
    assert!(
        granted_late.contains(&"database itself: cc_projector CREATE".to_owned()),
        "{granted_late:#?}"
    );
    // Every role is compared, the notifier's schema and function too (V12, V13).
    for right in [
        "function es.issue_mailed_token(uuid,uuid,bytea): cc_notifier EXECUTE",
        "relation notifier.deliveries: cc_notifier UPDATE",
        "schema notifier: cc_notifier USAGE",
        "relation es.password_reset_tokens: cc_writer DELETE",
    ] {
        assert!(
            granted_late.contains(&right.to_owned()),
            "{right}: {granted_late:#?}"
        );
    }
    assert_eq!(granted_late, service_role_rights(&early).await);
}
