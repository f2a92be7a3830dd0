//! W3C trace context (`traceparent`): parsing what a caller sends, starting a trace when it
//! sends none, and the value passed on in event metadata and Kafka headers.
//!
//! Only the `traceparent` header is understood; `tracestate` is vendor data this system has no
//! use for, and dropping it is allowed by the specification.

use uuid::Uuid;

/// The header's name, in HTTP and in Kafka alike.
pub const TRACEPARENT: &str = "traceparent";

/// A valid `traceparent`: `<version>-<trace id>-<parent id>-<flags>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent {
    version: String,
    trace_id: String,
    parent_id: String,
    flags: String,
}

impl TraceParent {
    /// Parses `00-<32 hex>-<16 hex>-<2 hex>` (lowercase, as the specification requires).
    /// All-zero ids and version `ff` are invalid there, so they are refused here; a refused
    /// value is treated as absent, never as an error, because tracing must not fail a request.
    pub fn parse(value: &str) -> Option<Self> {
        let parts: Vec<&str> = value.trim().split('-').collect();
        let [version, trace_id, parent_id, flags] = parts.as_slice() else {
            return None;
        };
        let lower_hex = |part: &str, len: usize| {
            part.len() == len
                && part
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        let all_zero = |part: &str| part.bytes().all(|b| b == b'0');
        let valid = lower_hex(version, 2)
            && *version != "ff"
            && lower_hex(trace_id, 32)
            && !all_zero(trace_id)
            && lower_hex(parent_id, 16)
            && !all_zero(parent_id)
            && lower_hex(flags, 2);
        valid.then(|| Self {
            version: (*version).to_owned(),
            trace_id: (*trace_id).to_owned(),
            parent_id: (*parent_id).to_owned(),
            flags: (*flags).to_owned(),
        })
    }

    /// A new trace with random ids, not sampled: the request that starts it is its root.
    pub fn start() -> Self {
        // A v4 UUID's low 64 bits are random apart from the variant bits, which also make the
        // parent id non-zero; the trace id keeps 122 random bits.
        let random = Uuid::new_v4().simple().to_string();
        let parent = Uuid::new_v4().simple().to_string();
        Self::from_ids(&random, &parent[16..], false)
    }

    /// A version-00 context from ids already known to be valid (e.g. an exported span's).
    pub fn from_ids(trace_id: &str, parent_id: &str, sampled: bool) -> Self {
        Self {
            version: "00".to_owned(),
            trace_id: trace_id.to_owned(),
            parent_id: parent_id.to_owned(),
            flags: if sampled { "01" } else { "00" }.to_owned(),
        }
    }

    /// The 32 hex digits every span and log line of the trace shares.
    pub fn trace_id(&self) -> &str {
        &self.trace_id
    }

    /// The span that the next hop's work is a child of.
    pub fn parent_id(&self) -> &str {
        &self.parent_id
    }

    /// Whether the caller recorded (sampled) its part of the trace.
    pub fn sampled(&self) -> bool {
        u8::from_str_radix(&self.flags, 16).is_ok_and(|flags| flags & 1 == 1)
    }
}

impl std::fmt::Display for TraceParent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}-{}-{}-{}",
            self.version, self.trace_id, self.parent_id, self.flags
        )
    }
}

/// The trace id of a `traceparent` value, if it is valid.
pub fn trace_id_of(traceparent: &str) -> Option<String> {
    TraceParent::parse(traceparent).map(|t| t.trace_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_valid_traceparent_round_trips_and_names_its_trace() {
        let parsed = TraceParent::parse(EXAMPLE).expect("valid");
        assert_eq!(parsed.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(parsed.parent_id(), "00f067aa0ba902b7");
        assert!(parsed.sampled());
        assert_eq!(parsed.to_string(), EXAMPLE);
    }

    #[test]
    fn malformed_or_forbidden_values_are_refused() {
        for value in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert_eq!(TraceParent::parse(value), None, "{value:?}");
        }
    }

    #[test]
    fn a_started_trace_is_valid_unsampled_and_new_each_time() {
        let first = TraceParent::start();
        let second = TraceParent::start();
        assert_eq!(TraceParent::parse(&first.to_string()), Some(first.clone()));
        assert!(!first.sampled());
        assert_ne!(first.trace_id(), second.trace_id());
    }
}
