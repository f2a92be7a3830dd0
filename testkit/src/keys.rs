//! The master key every test process shares, so that what a test's command-api seals its
//! projector and notifier can open. A fixed, public value: for tests only.

use std::sync::Arc;

use personal::{Keyring, MasterKey};

/// 32 bytes, base64: what `CC_PERSONAL_DATA__MASTER_KEY` is set to for test processes.
pub const TEST_MASTER_KEY: &str = "Y2xvdWRjb21tZXJjZSB0ZXN0IG1hc3RlciBrZXkgISE=";

/// The keyring of [`TEST_MASTER_KEY`].
pub fn test_keyring() -> Arc<Keyring> {
    let master = MasterKey::from_base64(TEST_MASTER_KEY).expect("the test master key is 32 bytes");
    Arc::new(Keyring::new(master))
}
