//! `command-api seal-personal-data` on a store recorded before personal fields were sealed: the
//! events in clear become sealed (or, for a user erased before, lose their fields), the state
//! they fold to is the same, the run is audited, a second run finds nothing, and the log stays
//! closed to every other change.

use domain::{User, UserState};
use serde_json::{Value, json};
use store::PersonalFields;
use testkit::{TestDatabase, test_keyring};
use tokio_postgres::Client;
use uuid::Uuid;

use command_api::seal_personal_data::{Sealed, seal_personal_data};

/// Appends an event as the code before V14 did, with its payload in clear.
async fn legacy_event(
    client: &Client,
    stream: Uuid,
    version: i64,
    event_type: &str,
    payload: Value,
) {
    client
        .execute(
            "INSERT INTO es.events (event_id, stream_id, stream_type, stream_version, event_type,
                                    schema_version, payload, correlation_id, actor)
             VALUES ($1, $2, 'user', $3, $4, $5, $6, $7, 'system')",
            &[
                &Uuid::now_v7(),
                &stream,
                &version,
                &event_type,
                &1_i32,
                &payload,
                &Uuid::now_v7(),
            ],
        )
        .await
        .unwrap();
}

async fn registered_in_clear(client: &Client, id: Uuid, email: &str, name: &str) {
    let payload =
        json!({ "user_id": id, "email": email, "display_name": name, "role": "customer" });
    legacy_event(client, id, 1, "user.registered", payload).await;
    client
        .execute(
            "INSERT INTO es.email_reservations (email, user_id) VALUES ($1, $2)",
            &[&email, &id],
        )
        .await
        .unwrap();
}

async fn rows_in_clear(client: &Client, needle: &str) -> i64 {
    client
        .query_one(
            "SELECT count(*) FROM es.events WHERE position($1 IN payload::text) > 0",
            &[&needle],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_store_in_clear_is_sealed_once_with_the_same_state_and_an_audit_row() {
    let db = TestDatabase::create().await.unwrap();
    let mut client = db.connect().await.unwrap();
    let keyring = test_keyring();
    let (live, erased) = (Uuid::now_v7(), Uuid::now_v7());
    registered_in_clear(&client, live, "legacy.live@example.com", "Legacy Live").await;
    let renamed = json!({ "user_id": live, "display_name": "Legacy Renamed" });
    legacy_event(&client, live, 2, "user.display_name_changed", renamed).await;
    registered_in_clear(&client, erased, "legacy.gone@example.com", "Legacy Gone").await;
    legacy_event(
        &client,
        erased,
        2,
        "user.erased",
        json!({ "user_id": erased }),
    )
    .await;
    client
        .execute(
            "DELETE FROM es.email_reservations WHERE user_id = $1",
            &[&erased],
        )
        .await
        .unwrap();
    client
        .execute(
            "INSERT INTO es.snapshots (stream_id, stream_type, version, snapshot_key, state)
             VALUES ($1, 'user', 2, 'old-build', '{\"email\": \"legacy.live@example.com\"}')",
            &[&live],
        )
        .await
        .unwrap();
    let before = store::load::<User>(&client, live, PersonalFields::Open(&keyring))
        .await
        .unwrap();

    let mut reported = Vec::new();
    let sealed = seal_personal_data(&mut client, &keyring, "test operator", |done, total| {
        reported.push((done, total));
    })
    .await
    .unwrap();
    assert_eq!(
        sealed,
        Sealed {
            events_sealed: 2,
            events_stripped: 1,
            snapshots_dropped: 1
        }
    );
    assert_eq!(reported.last().map(|(_, total)| *total), Some(3));

    for needle in [
        "legacy.live@",
        "Legacy Live",
        "Legacy Renamed",
        "legacy.gone@",
        "Legacy Gone",
    ] {
        assert_eq!(rows_in_clear(&client, needle).await, 0, "{needle}");
    }
    let after = store::load::<User>(&client, live, PersonalFields::Open(&keyring))
        .await
        .unwrap();
    assert_eq!(
        (after.state.clone(), after.version),
        (before.state, before.version)
    );
    assert_eq!(after.state.display_name.unwrap().as_str(), "Legacy Renamed");
    let gone: UserState = store::load::<User>(&client, erased, PersonalFields::Open(&keyring))
        .await
        .unwrap()
        .state;
    assert!(gone.erased && gone.email.is_none() && gone.display_name.is_none());
    let keys: Vec<Uuid> = client
        .query("SELECT user_id FROM es.personal_keys", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(keys, [live], "no key is drawn for an erased user");
    let audit = client
        .query_one(
            "SELECT operator, master_key_id, events_sealed, events_stripped, finished_at IS NOT NULL
             FROM es.personal_data_sealings",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(audit.get::<_, &str>(0), "test operator");
    assert_eq!(audit.get::<_, &str>(1), keyring.master_key_id());
    assert_eq!(
        (
            audit.get::<_, i64>(2),
            audit.get::<_, i64>(3),
            audit.get::<_, bool>(4)
        ),
        (2, 1, true)
    );

    let again = seal_personal_data(&mut client, &keyring, "test operator", |_, _| {})
        .await
        .unwrap();
    assert_eq!(again, Sealed::default());
}

#[tokio::test]
async fn the_log_refuses_every_other_change_even_to_its_owner_during_a_sealing() {
    let db = TestDatabase::create().await.unwrap();
    let mut client = db.connect().await.unwrap();
    let id = Uuid::now_v7();
    registered_in_clear(&client, id, "legacy.owner@example.com", "Legacy Owner").await;
    let attempts = [
        // Not declared as the rewrite.
        (
            "",
            "UPDATE es.events SET payload = payload - 'email' - 'display_name', schema_version = 2",
        ),
        // Declared, but a field besides the personal ones changes.
        (
            "on",
            "UPDATE es.events SET payload = jsonb_set(payload - 'email' - 'display_name', '{role}', '\"admin\"'), schema_version = 2",
        ),
        // Declared, but the address stays in clear.
        (
            "on",
            "UPDATE es.events SET payload = payload || '{\"personal\": \"x\"}', schema_version = 2",
        ),
        // Declared, but another column changes.
        (
            "on",
            "UPDATE es.events SET payload = payload - 'email' - 'display_name', schema_version = 2, actor = 'forged'",
        ),
        // Declared, but not a move from v1 to v2.
        (
            "on",
            "UPDATE es.events SET payload = payload - 'email' - 'display_name'",
        ),
        ("on", "DELETE FROM es.events"),
    ];
    for (declared, sql) in attempts {
        let tx = client.transaction().await.unwrap();
        if !declared.is_empty() {
            tx.batch_execute("SET LOCAL cc.sealing_personal_data = 'on'")
                .await
                .unwrap();
        }
        let error = tx.batch_execute(sql).await.expect_err(sql);
        assert_eq!(
            error.code(),
            Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{sql}: {error}"
        );
        tx.rollback().await.unwrap();
    }
    assert_eq!(rows_in_clear(&client, "legacy.owner@").await, 1);
}
