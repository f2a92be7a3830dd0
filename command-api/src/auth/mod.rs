//! Authentication: password hashing, access tokens, and resolving who is calling.

pub mod password;
pub mod principal;
