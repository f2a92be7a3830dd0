//! Regular expressions, for the OpenAPI documents, of the strings the services accept after
//! trimming: what `str::trim` removes, which characters free text refuses, and the exact shape of
//! "1 to N characters once trimmed". Both services state their text fields with these, so a
//! string a document calls valid is one the parsers take, and the reverse.

/// Characters `str::trim` removes (Unicode `White_Space`), as one regex class body. Written out
/// because `\s` means a different set in ECMA-262, Python and Rust.
pub const TRIMMED: &str = r"\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// Control characters (`char::is_control`): refused inside one-line free text.
pub const CONTROL: &str = r"\u0000-\u001f\u007f-\u009f";
/// Control characters other than tab, line feed and carriage return, for multi-line text.
pub const CONTROL_BUT_LINE_BREAKS: &str = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f";
/// NUL alone: what the input guard refuses in any string.
pub const NUL: &str = r"\u0000";

/// Surrounding white space, then `min..=max` characters whose first and last are neither white
/// space nor `refused_inside` and whose others are not `refused_inside`, then white space: the
/// strings that are `min..=max` characters once trimmed.
pub fn trimmed(min: usize, max: usize, refused_inside: &str) -> String {
    let edge = format!("[^{TRIMMED}{refused_inside}]");
    let text = match max {
        0 => String::new(),
        1 => edge,
        _ => format!("{edge}(?:[^{refused_inside}]{{0,{}}}{edge})?", max - 2),
    };
    let text = if min == 0 {
        format!("(?:{text})?")
    } else {
        text
    };
    format!("^[{TRIMMED}]*{text}[{TRIMMED}]*$")
}

/// A slug of `a-z`, `0-9` and `-` (not first or last), at most `max` characters, as typed:
/// surrounding white space trimmed, upper case folded.
pub fn slug(max: usize) -> String {
    format!(
        "^[{TRIMMED}]*[A-Za-z0-9](?:[A-Za-z0-9-]{{0,{}}}[A-Za-z0-9])?[{TRIMMED}]*$",
        max.saturating_sub(2)
    )
}
