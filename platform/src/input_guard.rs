//! Refuses requests that carry text no part of the system can store or compare: a NUL byte or
//! bytes that are not UTF-8 in the path, the query string or a header value. They get a 400
//! problem before any handler runs, instead of reaching PostgreSQL (which refuses NUL in text
//! and answers with an error that would otherwise surface as a 500).
//!
//! Bodies are the extractors' business: JSON that is not UTF-8 does not parse, and a `\u0000`
//! escape inside a JSON string is refused by [`json_has_nul_escape`].

use actix_web::{
    Error,
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
};

use crate::problem::Problem;

/// Middleware: 400 for a path, query string or header value with NUL or invalid UTF-8.
pub async fn reject_unreadable_text(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if let Some(problem) = unreadable(&req) {
        let response = problem.to_response().map_into_right_body();
        return Ok(req.into_response(response));
    }
    Ok(next.call(req).await?.map_into_left_body())
}

fn unreadable(req: &ServiceRequest) -> Option<Problem> {
    if !is_clean_text(&percent_decoded(req.uri().path())) {
        return Some(Problem::bad_request(
            "unreadable_path",
            "the path must be UTF-8 without NUL bytes",
        ));
    }
    if !is_clean_text(&percent_decoded(req.query_string())) {
        return Some(Problem::bad_request(
            "unreadable_query",
            "query parameters must be UTF-8 without NUL bytes",
        ));
    }
    let header = req
        .headers()
        .iter()
        .find(|(_, value)| !is_clean_text(value.as_bytes()));
    header.map(|(name, _)| {
        Problem::bad_request(
            "unreadable_header",
            format!("the {name} header must be UTF-8 without NUL bytes"),
        )
    })
}

/// UTF-8 with no NUL character.
fn is_clean_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|text| !text.contains('\0'))
}

/// `%XX` sequences turned into their bytes; anything else kept as it is (a `%` that starts no
/// valid escape stays a `%`, which is what the extractors will see too).
fn percent_decoded(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}

/// Whether a JSON document has a `\u0000` escape inside a string (a raw NUL is not valid JSON
/// and fails parsing anyway). Escaped backslashes are skipped, so `"\\u0000"` (the six
/// characters `\u0000` as text) is not one.
pub fn json_has_nul_escape(json: &[u8]) -> bool {
    let mut i = 0;
    while i < json.len() {
        if json[i] == b'\\' {
            if json
                .get(i + 1..i + 6)
                .is_some_and(|escape| escape.eq_ignore_ascii_case(b"u0000"))
            {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes_of_nul_and_broken_utf8_are_not_clean_text() {
        assert!(is_clean_text(&percent_decoded(
            "/v1/products?q=kettle%20blue"
        )));
        assert!(is_clean_text(&percent_decoded("q=caf%C3%A9")));
        assert!(!is_clean_text(&percent_decoded("q=%00")));
        assert!(!is_clean_text(&percent_decoded("q=%ff")));
        assert!(!is_clean_text(&percent_decoded("q=%C3")));
        assert!(
            is_clean_text(&percent_decoded("q=100%")),
            "a lone % is text"
        );
    }

    #[test]
    fn only_a_real_nul_escape_in_json_counts() {
        assert!(json_has_nul_escape(br#"{"name":"a\u0000b"}"#));
        assert!(json_has_nul_escape(br#"{"name":"\U0000"}"#));
        assert!(!json_has_nul_escape(br#"{"name":"a\\u0000b"}"#));
        assert!(!json_has_nul_escape(br#"{"name":"\u00e9"}"#));
        assert!(json_has_nul_escape(br#"{"a":"\\","b":"\u0000"}"#));
    }
}
