//! What every command-api request handler shares.

use deadpool_postgres::Pool;
use platform::token::TokenIssuer;

use crate::settings::AuthLimits;

pub struct AppState {
    pub pool: Pool,
    pub tokens: TokenIssuer,
    pub session_lifetimes: store::sessions::Lifetimes,
    pub auth_limits: AuthLimits,
    /// Proxies in front of us whose forwarding headers are believed.
    pub trusted_proxy_hops: usize,
    /// Prefix of a created resource's `Location`: query-api serves the resource.
    pub read_api_url: String,
    /// Verified against when an email is unknown, so sign-in timing reveals nothing.
    pub decoy_hash: String,
    /// A metadata-only client for the readiness check.
    pub broker_probe: kafka::probe::BrokerProbe,
    /// Seals and opens the personal fields of user events.
    pub keyring: personal::Keyring,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}
