//! The real binary, configured from the environment as in production: it mails, logs neither
//! an address nor a token, and on SIGTERM finishes, commits and exits cleanly.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::helpers::{Setup, TestEvent, eventually, mails_to, new_user, publish, token_in};

#[tokio::test]
async fn the_binary_mails_logs_no_secret_and_stops_cleanly_on_sigterm() {
    let setup = Setup::fresh().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log_path = setup.mail_dir.with_extension("log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_notifier"))
        .arg("run")
        .env("CC_DATABASE__URL", &setup.db.url)
        .env("CC_PERSONAL_DATA__MASTER_KEY", testkit::TEST_MASTER_KEY)
        .env("CC_DATABASE__POOL_SIZE", "4")
        .env("CC_KAFKA__BOOTSTRAP_SERVERS", testkit::kafka_bootstrap())
        .env("CC_KAFKA__USER_TOPIC", &setup.topics.user)
        .env("CC_KAFKA__PARTITIONS", "3")
        .env("CC_SMTP__URL", &setup.smtp)
        .env("CC_MAIL__LINK_BASE_URL", "http://127.0.0.1:18081/")
        .env("CC_NOTIFIER__GROUP_ID", &setup.group_id)
        .env("CC_NOTIFIER__DEAD_LETTER_TOPIC", &setup.dead_letter_topic)
        .env("CC_HTTP__HOST", "127.0.0.1")
        .env("CC_HTTP__PORT", port.to_string())
        // What production logs, and the notifier's own debug lines on top.
        .env("RUST_LOG", "info,notifier=debug")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("the notifier binary starts");
    let admin = format!("http://127.0.0.1:{port}");
    eventually("the binary active", Duration::from_secs(30), || async {
        let response = reqwest::get(format!("{admin}/health/ready")).await.ok()?;
        let body: serde_json::Value = response.json().await.ok()?;
        (body["role"] == "active").then_some(())
    })
    .await;

    let (user, email) = new_user();
    let kafka = testkit::topics::kafka_settings(setup.topics.clone());
    publish(
        &setup.db,
        &kafka,
        &[
            TestEvent::registered(user, &email, "Ada"),
            TestEvent::request(user, 2, "user.password_reset_requested"),
        ],
    )
    .await;
    let mails = eventually("two mails", Duration::from_secs(30), || async {
        let mails = mails_to(&setup.mail_dir, &email);
        (mails.len() >= 2).then_some(mails)
    })
    .await;
    let tokens: Vec<String> = mails.iter().map(token_in).collect();
    assert!(
        mails[0]
            .text()
            .unwrap()
            .contains("http://127.0.0.1:18081/verify-email#user=")
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(25);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "no exit within 25 s of SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "{exit}");
    assert!(
        reqwest::get(format!("{admin}/health/live")).await.is_err(),
        "the admin listener stopped with the process"
    );

    let logged = std::fs::read_to_string(&log_path).unwrap();
    assert!(logged.contains("mail sent"), "{logged}");
    assert!(logged.contains(&user.to_string()), "user ids are logged");
    assert!(!logged.contains(&email), "an address was logged:\n{logged}");
    for token in &tokens {
        assert!(
            !logged.contains(token.as_str()),
            "a token was logged:\n{logged}"
        );
    }
    assert!(logged.contains("notifier stopped"), "{logged}");
    let _ = std::fs::remove_file(&log_path);
}
