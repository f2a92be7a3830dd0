//! Running commands. [`core`] is the one path every command takes, whoever sends it (HTTP, the
//! seeder, the admin bootstrap); [`effects`] are the writes its events call for; [`http`] is the
//! HTTP layer around it; [`representation`] is a write's answer when the client asks for the
//! new state; [`error`] says why nothing was recorded.

pub mod core;
pub mod effects;
pub mod error;
pub mod http;
pub mod representation;
