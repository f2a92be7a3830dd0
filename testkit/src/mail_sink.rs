//! A small SMTP server that keeps every message it is given as a file, for tests (in process)
//! and local development (the `mail-sink` binary): plain SMTP, no authentication, no relaying,
//! just enough of RFC 5321 for lettre and other ordinary clients (EHLO/HELO, MAIL, RCPT, DATA
//! with dot-unstuffing, RSET, NOOP, VRFY, QUIT).
//!
//! Each message lands as `<dir>/<unix-millis>-<seq>.eml`: written as `.tmp` first and renamed,
//! so a reader that lists `*.eml` never sees half a message. The file is the message as sent,
//! after a `Return-Path` line and one `Delivered-To` line per envelope recipient (what a
//! mailbox adds on delivery, and the only record of blind copies). `mailbox` reads them back.

use std::{
    io,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

use anyhow::Context;
use tokio::{
    io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream, ToSocketAddrs},
};

/// Longest command line accepted (RFC 5321 allows 512 octets; clients add parameters).
const MAX_COMMAND_LINE: u64 = 4096;
/// Longest line inside a message (RFC 5322 allows 998 octets; be generous with sloppy senders).
const MAX_DATA_LINE: u64 = 64 * 1024;
/// Largest message kept, announced in EHLO as `SIZE`; a larger one is answered 552 and dropped.
const MAX_MESSAGE: usize = 10 * 1024 * 1024;
/// The name the sink gives itself in its greetings.
const HOSTNAME: &str = "mail-sink";

/// A bound sink, not yet serving: [`MailSink::run`] serves, [`MailSink::start`] does both on a
/// task of the current runtime.
#[derive(Debug)]
pub struct MailSink {
    listener: TcpListener,
    mailbox: Arc<Mailbox>,
}

/// Where messages go, and the sequence that keeps their names apart within one millisecond.
#[derive(Debug)]
struct Mailbox {
    dir: PathBuf,
    seq: AtomicU64,
}

impl MailSink {
    /// Binds `addr` (port 0 picks a free one) and creates `dir` if missing.
    pub async fn bind(addr: impl ToSocketAddrs, dir: impl Into<PathBuf>) -> anyhow::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating the mail directory {}", dir.display()))?;
        let listener = TcpListener::bind(addr)
            .await
            .context("binding the mail sink")?;
        Ok(Self {
            listener,
            mailbox: Arc::new(Mailbox {
                dir,
                seq: AtomicU64::new(0),
            }),
        })
    }

    /// A sink on a free loopback port, serving on a task of the current runtime (for as long as
    /// the runtime runs); returns its address.
    pub async fn start(dir: impl Into<PathBuf>) -> anyhow::Result<SocketAddr> {
        Self::start_at("127.0.0.1:0", dir).await
    }

    /// [`MailSink::start`] on a given address (a test that starts the sink late, after a
    /// client already tried that address).
    pub async fn start_at(
        addr: impl ToSocketAddrs,
        dir: impl Into<PathBuf>,
    ) -> anyhow::Result<SocketAddr> {
        let sink = Self::bind(addr, dir).await?;
        let addr = sink.local_addr()?;
        tokio::spawn(sink.run());
        Ok(addr)
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves every connection on a task of its own, forever.
    pub async fn run(self) {
        loop {
            match self.listener.accept().await {
                Ok((stream, peer)) => {
                    let mailbox = self.mailbox.clone();
                    tokio::spawn(async move {
                        if let Err(error) = session(stream, &mailbox).await {
                            tracing::debug!(%peer, %error, "SMTP session ended with an error");
                        }
                    });
                }
                Err(error) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(%error, "accepting an SMTP connection");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    }
}

/// One mail transaction: MAIL, RCPT..., DATA.
#[derive(Debug, Default)]
struct Envelope {
    from: Option<String>,
    recipients: Vec<String>,
}

/// Converses with one client until QUIT or the connection ends.
async fn session(stream: TcpStream, mailbox: &Mailbox) -> io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    reply(&mut write, &format!("220 {HOSTNAME} ESMTP ready")).await?;
    let mut envelope = Envelope::default();
    loop {
        let Some(line) = read_line(&mut reader, MAX_COMMAND_LINE).await? else {
            return Ok(());
        };
        let Ok(line) = String::from_utf8(line) else {
            reply(&mut write, "500 5.5.2 command is not UTF-8").await?;
            continue;
        };
        let line = line.trim_end_matches(['\r', '\n']);
        let (verb, argument) = line.split_once(' ').unwrap_or((line, ""));
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                let greeting = format!(
                    "250-{HOSTNAME} greets {argument}\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE {MAX_MESSAGE}"
                );
                envelope = Envelope::default();
                reply(&mut write, &greeting).await?;
            }
            "HELO" => {
                envelope = Envelope::default();
                reply(&mut write, &format!("250 {HOSTNAME}")).await?;
            }
            "MAIL" => match path_after(argument, "FROM:") {
                Some(from) => {
                    envelope = Envelope {
                        from: Some(from),
                        recipients: Vec::new(),
                    };
                    reply(&mut write, "250 2.1.0 OK").await?;
                }
                None => reply(&mut write, "501 5.5.4 syntax: MAIL FROM:<address>").await?,
            },
            "RCPT" => match (&envelope.from, path_after(argument, "TO:")) {
                (None, _) => reply(&mut write, "503 5.5.1 MAIL first").await?,
                (Some(_), None) => reply(&mut write, "501 5.5.4 syntax: RCPT TO:<address>").await?,
                (Some(_), Some(to)) if to.is_empty() => {
                    reply(&mut write, "501 5.1.3 empty recipient").await?
                }
                (Some(_), Some(to)) => {
                    envelope.recipients.push(to);
                    reply(&mut write, "250 2.1.5 OK").await?;
                }
            },
            "DATA" => {
                if envelope.recipients.is_empty() {
                    reply(&mut write, "503 5.5.1 RCPT first").await?;
                    continue;
                }
                reply(&mut write, "354 end data with <CR><LF>.<CR><LF>").await?;
                let Some(data) = read_data(&mut reader).await? else {
                    reply(&mut write, "552 5.3.4 message too large").await?;
                    envelope = Envelope::default();
                    continue;
                };
                let taken = std::mem::take(&mut envelope);
                match mailbox.store(taken, data).await {
                    Ok(name) => reply(&mut write, &format!("250 2.0.0 OK kept as {name}")).await?,
                    Err(error) => {
                        tracing::error!(error = format!("{error:#}"), "storing a message");
                        reply(&mut write, "451 4.3.0 cannot store the message now").await?;
                    }
                }
            }
            "RSET" => {
                envelope = Envelope::default();
                reply(&mut write, "250 2.0.0 OK").await?;
            }
            "NOOP" => reply(&mut write, "250 2.0.0 OK").await?,
            "VRFY" => reply(&mut write, "252 2.5.0 cannot verify, will accept").await?,
            "QUIT" => {
                reply(&mut write, &format!("221 2.0.0 {HOSTNAME} closing")).await?;
                return Ok(());
            }
            _ => reply(&mut write, "502 5.5.2 command not recognized").await?,
        }
    }
}

/// The address in `MAIL FROM:<a@b> SIZE=10` or `RCPT TO:<a@b>` (`prefix` case-insensitive);
/// an empty string for the null path `<>`.
fn path_after(argument: &str, prefix: &str) -> Option<String> {
    let head = argument.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = argument[prefix.len()..].trim_start();
    let path = match rest.strip_prefix('<') {
        Some(inner) => inner.split_once('>')?.0,
        None => rest.split_whitespace().next().unwrap_or(""),
    };
    Some(path.to_owned())
}

/// One line including its end, at most `limit` bytes; `None` at the end of the connection.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    limit: u64,
) -> io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let read = (&mut *reader)
        .take(limit)
        .read_until(b'\n', &mut line)
        .await?;
    if read == 0 {
        return Ok(None);
    }
    if !line.ends_with(b"\n") && read as u64 == limit {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
    }
    Ok(Some(line))
}

/// The message after DATA, up to the line holding a single dot, with dot-stuffing undone;
/// `None` when it was larger than [`MAX_MESSAGE`] (read to its end all the same, so the
/// conversation can go on).
async fn read_data<R: AsyncBufRead + Unpin>(reader: &mut R) -> io::Result<Option<Vec<u8>>> {
    let mut data = Vec::new();
    let mut too_large = false;
    loop {
        let Some(line) = read_line(reader, MAX_DATA_LINE).await? else {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed inside DATA",
            ));
        };
        if line == b".\r\n" || line == b".\n" {
            return Ok((!too_large).then_some(data));
        }
        let line = unstuff(&line);
        if data.len() + line.len() > MAX_MESSAGE {
            too_large = true;
        }
        if !too_large {
            data.extend_from_slice(line);
        }
    }
}

/// RFC 5321 4.5.2: a sender doubles a leading dot; the receiver drops one.
fn unstuff(line: &[u8]) -> &[u8] {
    match line.strip_prefix(b".") {
        Some(rest) => rest,
        None => line,
    }
}

async fn reply<W: AsyncWrite + Unpin>(write: &mut W, text: &str) -> io::Result<()> {
    write.write_all(text.as_bytes()).await?;
    write.write_all(b"\r\n").await?;
    write.flush().await
}

impl Mailbox {
    /// Writes the message as `<unix-millis>-<seq>.eml`, atomically; returns the file name.
    async fn store(&self, envelope: Envelope, data: Vec<u8>) -> anyhow::Result<String> {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_millis())
            .unwrap_or_default();
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        // Padded, so names sort in arrival order within a millisecond as well.
        let name = format!("{millis}-{seq:06}.eml");
        let mut file = Vec::with_capacity(data.len() + 256);
        let from = envelope.from.unwrap_or_default();
        file.extend_from_slice(format!("Return-Path: <{from}>\r\n").as_bytes());
        for recipient in &envelope.recipients {
            file.extend_from_slice(format!("Delivered-To: {recipient}\r\n").as_bytes());
        }
        file.extend_from_slice(&data);
        let (dir, final_name, bytes) = (self.dir.clone(), name.clone(), file.len());
        tokio::task::spawn_blocking(move || write_atomically(&dir, &final_name, &file))
            .await
            .context("the writing task")??;
        // One line per message; never its content (it may hold tokens) nor its addresses.
        tracing::info!(
            file = %name,
            bytes,
            recipients = envelope.recipients.len(),
            "mail received"
        );
        Ok(name)
    }
}

fn write_atomically(dir: &Path, name: &str, contents: &[u8]) -> anyhow::Result<()> {
    let temporary = dir.join(format!("{name}.tmp"));
    std::fs::write(&temporary, contents)
        .with_context(|| format!("writing {}", temporary.display()))?;
    std::fs::rename(&temporary, dir.join(name))
        .with_context(|| format!("renaming {} into place", temporary.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_read_with_or_without_brackets_and_parameters() {
        let from = path_after("FROM:<ada@example.com> SIZE=120 BODY=8BITMIME", "FROM:");
        assert_eq!(from.as_deref(), Some("ada@example.com"));
        assert_eq!(
            path_after("to: <b@example.com>", "TO:").as_deref(),
            Some("b@example.com")
        );
        assert_eq!(
            path_after("TO:c@example.com", "TO:").as_deref(),
            Some("c@example.com")
        );
        assert_eq!(path_after("FROM:<>", "FROM:").as_deref(), Some(""));
        assert_eq!(path_after("<x@example.com>", "TO:"), None);
    }

    #[test]
    fn a_leading_dot_is_unstuffed_once() {
        assert_eq!(unstuff(b"..hidden\r\n"), b".hidden\r\n");
        assert_eq!(unstuff(b"plain.\r\n"), b"plain.\r\n");
    }
}
