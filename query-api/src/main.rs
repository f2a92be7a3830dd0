//! query-api entry point.

fn main() {}
