//! `Consistency-Token: <stream id>:<version>`, as command-api answers every write.

use uuid::Uuid;

/// A parsed `Consistency-Token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub stream_id: Uuid,
    pub version: i64,
}

impl Token {
    pub fn parse(raw: &str) -> Option<Self> {
        let (stream, version) = raw.trim().split_once(':')?;
        let stream_id = stream.parse().ok()?;
        let version = version.parse().ok().filter(|v: &i64| *v >= 1)?;
        Some(Self { stream_id, version })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_a_uuid_and_a_positive_version() {
        let id = Uuid::nil();
        assert_eq!(
            Token::parse(&format!("{id}:3")),
            Some(Token {
                stream_id: id,
                version: 3
            })
        );
        for bad in [
            "",
            "abc",
            &format!("{id}"),
            &format!("{id}:0"),
            &format!("{id}:x"),
            "x:1",
        ] {
            assert_eq!(Token::parse(bad), None, "{bad:?}");
        }
    }
}
