//! projector entry point.

fn main() {}
