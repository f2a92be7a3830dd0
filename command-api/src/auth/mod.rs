//! Authentication: password hashing, throttling, refresh tokens, and resolving who is calling.

pub mod client_address;
pub mod password;
pub mod principal;
pub mod refresh_token;
pub mod throttle;
