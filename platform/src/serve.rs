//! Running an actix server until SIGINT/SIGTERM, then draining it.

use actix_web::dev::Server;

/// Serves until the process is asked to stop, then stops accepting connections and lets
/// in-flight requests finish within the server's shutdown timeout. Returns early if the server
/// fails on its own.
pub async fn until_stopped(server: Server) -> anyhow::Result<()> {
    let handle = server.handle();
    let mut server = tokio::spawn(server);
    tokio::select! {
        result = &mut server => result??,
        () = crate::shutdown::signal() => {
            handle.stop(true).await;
            server.await??;
        }
    }
    Ok(())
}
