//! The mail sink against a real SMTP client (lettre, as the notifier sends): what is sent is
//! what is kept, one complete `.eml` per message.

// A failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Tokio1Executor,
    message::{Mailbox, MultiPart},
};
use testkit::{mail_sink::MailSink, mailbox};

fn fresh_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("mail-sink-test-{}", uuid::Uuid::new_v4().simple()))
}

#[tokio::test]
async fn a_message_sent_with_lettre_is_kept_whole_as_one_eml_file() {
    let dir = fresh_dir();
    let addr = MailSink::start(&dir).await.unwrap();
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&format!("smtp://{addr}"))
        .unwrap()
        .timeout(Some(Duration::from_secs(5)))
        .build();
    // A line starting with a dot is dot-stuffed on the wire and must come back as written.
    let text = ".leading dot\nlink https://shop.example/verify-email#user=1&token=abc\nÜnïcödé";
    let message = lettre::Message::builder()
        .from(
            "CloudCommerce <no-reply@cloudcommerce.dev>"
                .parse::<Mailbox>()
                .unwrap(),
        )
        .to("Ada Lovelace <ada@example.com>".parse::<Mailbox>().unwrap())
        .bcc("audit@example.com".parse::<Mailbox>().unwrap())
        .subject("Confirm your email address")
        .multipart(MultiPart::alternative_plain_html(
            text.to_owned(),
            "<p>&amp; html</p>".to_owned(),
        ))
        .unwrap();
    transport.send(message.clone()).await.unwrap();
    transport.send(message).await.unwrap();

    let mails = mailbox::received(&dir).unwrap();
    assert_eq!(mails.len(), 2, "one file per message");
    let mail = &mails[0];
    let name = mail.path.file_name().unwrap().to_str().unwrap().to_owned();
    let (millis, seq) = name.trim_end_matches(".eml").split_once('-').unwrap();
    assert!(
        millis.len() == 13 && millis.bytes().all(|b| b.is_ascii_digit()),
        "{name}"
    );
    assert!(seq.bytes().all(|b| b.is_ascii_digit()), "{name}");
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Confirm your email address")
    );
    assert_eq!(
        mail.header("To").as_deref(),
        Some("\"Ada Lovelace\" <ada@example.com>")
    );
    assert_eq!(
        mail.header("Return-Path").as_deref(),
        Some("<no-reply@cloudcommerce.dev>")
    );
    assert_eq!(mail.recipients(), ["ada@example.com", "audit@example.com"]);
    assert_eq!(
        mail.header("Bcc"),
        None,
        "blind copies only in the envelope"
    );
    assert_eq!(mail.text().unwrap().replace("\r\n", "\n"), text);
    assert_eq!(mail.html().as_deref(), Some("<p>&amp; html</p>"));
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|ext| ext == "tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary file left behind");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_sink_answers_commands_out_of_order_without_keeping_anything() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let dir = fresh_dir();
    let addr = MailSink::start(&dir).await.unwrap();
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut answer = async |command: &str| {
        if !command.is_empty() {
            write
                .write_all(format!("{command}\r\n").as_bytes())
                .await
                .unwrap();
        }
        lines.next_line().await.unwrap().unwrap()
    };
    assert!(answer("").await.starts_with("220 "));
    assert!(answer("HELO client").await.starts_with("250 "));
    assert!(answer("RCPT TO:<a@example.com>").await.starts_with("503 "));
    assert!(answer("DATA").await.starts_with("503 "));
    assert!(
        answer("MAIL FROM:<b@example.com>")
            .await
            .starts_with("250 ")
    );
    assert!(answer("RSET").await.starts_with("250 "));
    assert!(
        answer("DATA").await.starts_with("503 "),
        "RSET forgot the sender"
    );
    assert!(answer("NOOP").await.starts_with("250 "));
    assert!(answer("WHAT").await.starts_with("502 "));
    assert!(answer("QUIT").await.starts_with("221 "));
    assert!(mailbox::received(&dir).unwrap().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
