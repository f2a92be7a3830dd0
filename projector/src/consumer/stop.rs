//! Whether the loop was asked to stop.

use tokio::sync::watch;

/// `true` was sent, or the sender is gone (its owner ended without saying so, e.g. a runtime
/// shutting down; looping on would keep the process from exiting).
pub fn stopping(shutdown: &watch::Receiver<bool>) -> bool {
    *shutdown.borrow() || shutdown.has_changed().is_err()
}
