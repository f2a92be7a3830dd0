//! `mail-sink --listen 127.0.0.1:18025 --dir .dev/mail`: the local SMTP sink as a process, for
//! the development stack and the suites that run the services as processes. Every message is
//! kept as `<dir>/<unix-millis>-<seq>.eml` (see `testkit::mail_sink`); one log line per message,
//! never its content.

use std::path::PathBuf;

use testkit::mail_sink::MailSink;

const USAGE: &str = "usage: mail-sink [--listen ADDR] --dir DIR
  --listen ADDR   where to accept SMTP (default 127.0.0.1:18025)
  --dir DIR       where to keep each message as <unix-millis>-<seq>.eml (created if missing)";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _telemetry = platform::telemetry::init("info");
    let (mut listen, mut dir) = ("127.0.0.1:18025".to_owned(), None::<PathBuf>);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => {
                listen = args
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("--listen needs a value\n{USAGE}"))?
            }
            "--dir" => dir = args.next().map(PathBuf::from),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => anyhow::bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    let dir = dir.ok_or_else(|| anyhow::anyhow!("--dir is required\n{USAGE}"))?;
    let sink = MailSink::bind(listen.as_str(), &dir).await?;
    tracing::info!(listen = %sink.local_addr()?, dir = %dir.display(), "mail sink accepting SMTP");
    tokio::select! {
        () = sink.run() => {}
        () = platform::shutdown::signal() => {}
    }
    Ok(())
}
