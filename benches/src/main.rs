//! benches entry point.

fn main() {}
