//! Reading back what the mail sink kept: every complete `.eml` of a directory, oldest first,
//! with the little MIME a test needs (top-level headers, the text and HTML parts decoded from
//! quoted-printable or base64). Not a general MIME parser: enough for what lettre writes.

use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;

/// One message as the sink stored it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub path: PathBuf,
    pub raw: String,
}

/// Every complete message in `dir` (the sink renames `.tmp` files into `.eml` once whole),
/// oldest first; none when the directory does not exist yet.
pub fn received(dir: &Path) -> anyhow::Result<Vec<ReceivedMail>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error).with_context(|| format!("listing {}", dir.display())),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
        .collect();
    // `<unix-millis>-<seq>.eml` with a zero-padded sequence: name order is arrival order.
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let raw = String::from_utf8_lossy(&bytes).into_owned();
            Ok(ReceivedMail { path, raw })
        })
        .collect()
}

impl ReceivedMail {
    /// The first top-level header called `name` (case-insensitive), unfolded; encoded words
    /// (`=?utf-8?...`) are left as they are.
    pub fn header(&self, name: &str) -> Option<String> {
        header_in(split_head(&self.raw).0, name)
    }

    /// The envelope recipients (the sink's `Delivered-To` lines).
    pub fn recipients(&self) -> Vec<String> {
        unfolded(split_head(&self.raw).0)
            .into_iter()
            .filter_map(|(key, value)| key.eq_ignore_ascii_case("Delivered-To").then_some(value))
            .collect()
    }

    /// The `text/plain` part (the whole body of a single-part text message), decoded.
    pub fn text(&self) -> Option<String> {
        part_of_type(&self.raw, "text/plain")
    }

    /// The `text/html` part, decoded.
    pub fn html(&self) -> Option<String> {
        part_of_type(&self.raw, "text/html")
    }
}

/// (headers, body) of an entity.
fn split_head(entity: &str) -> (&str, &str) {
    for separator in ["\r\n\r\n", "\n\n"] {
        if let Some((head, body)) = entity.split_once(separator) {
            return (head, body);
        }
    }
    (entity, "")
}

/// Header lines with continuation lines joined.
fn unfolded(head: &str) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((key, value)) = line.split_once(':') {
            headers.push((key.trim().to_owned(), value.trim().to_owned()));
        }
    }
    headers
}

fn header_in(head: &str, name: &str) -> Option<String> {
    unfolded(head)
        .into_iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// The first part whose content type is `wanted`, searching nested multiparts depth first.
fn part_of_type(entity: &str, wanted: &str) -> Option<String> {
    let (head, body) = split_head(entity);
    let content_type = header_in(head, "Content-Type").unwrap_or_else(|| "text/plain".to_owned());
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if media_type.starts_with("multipart/") {
        let boundary = parameter(&content_type, "boundary")?;
        let delimiter = format!("--{boundary}");
        return body
            .split(delimiter.as_str())
            .skip(1)
            .take_while(|part| !part.starts_with("--"))
            .find_map(|part| part_of_type(part.trim_start_matches(['\r', '\n']), wanted));
    }
    if media_type != wanted {
        return None;
    }
    let encoding = header_in(head, "Content-Transfer-Encoding")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let body = body.trim_end_matches(['\r', '\n']);
    Some(match encoding.as_str() {
        "quoted-printable" => decode_quoted_printable(body),
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .ok()?;
            String::from_utf8_lossy(&bytes).into_owned()
        }
        _ => body.to_owned(),
    })
}

/// A parameter of a structured header (`boundary="abc"`).
fn parameter(header: &str, name: &str) -> Option<String> {
    header.split(';').skip(1).find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// RFC 2045 6.7: `=XX` is a byte, `=` at a line's end a soft break.
fn decode_quoted_printable(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] != b'=' {
            out.push(bytes[at]);
            at += 1;
            continue;
        }
        let rest = &bytes[at + 1..];
        if rest.starts_with(b"\r\n") {
            at += 3;
        } else if rest.starts_with(b"\n") {
            at += 2;
        } else if let Some(byte) = rest
            .get(..2)
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            at += 3;
        } else {
            out.push(b'=');
            at += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_printable_joins_soft_breaks_and_decodes_bytes() {
        assert_eq!(
            decode_quoted_printable("https://x/#user=3D1&token=3Dab=\r\ncd caf=C3=A9"),
            "https://x/#user=1&token=abcd café"
        );
    }

    #[test]
    fn the_parts_of_a_multipart_alternative_are_found_and_decoded() {
        let raw = "Return-Path: <a@x>\r\nDelivered-To: b@x\r\nSubject: Hi\r\n\
                   Content-Type: multipart/alternative;\r\n boundary=\"B1\"\r\n\r\n\
                   --B1\r\nContent-Type: text/plain; charset=utf-8\r\n\
                   Content-Transfer-Encoding: quoted-printable\r\n\r\nline=3D1\r\n\
                   --B1\r\nContent-Type: text/html; charset=utf-8\r\n\
                   Content-Transfer-Encoding: base64\r\n\r\nPHA+aGk8L3A+\r\n--B1--\r\n";
        let mail = ReceivedMail {
            path: PathBuf::new(),
            raw: raw.to_owned(),
        };
        assert_eq!(mail.header("subject").as_deref(), Some("Hi"));
        assert_eq!(mail.recipients(), ["b@x"]);
        assert_eq!(mail.text().as_deref(), Some("line=1"));
        assert_eq!(mail.html().as_deref(), Some("<p>hi</p>"));
    }
}
