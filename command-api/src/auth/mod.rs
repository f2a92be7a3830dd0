//! Authentication: password hashing, access tokens, and resolving who is calling.

pub mod client_address;
pub mod password;
pub mod principal;
pub mod throttle;
