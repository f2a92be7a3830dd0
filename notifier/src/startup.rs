//! Building and running `notifier run`: check the settings (SMTP URL, sender), create the
//! dead-letter topic where allowed, and bind the admin listener first (port 0 in tests); then
//! consume until SIGTERM, finish the message in hand, commit, give the lock up, and only then
//! stop the admin listener.

use std::{future::Future, sync::Arc};

use anyhow::Context;
use deadpool_postgres::Pool;
use tokio::{runtime::Handle, sync::watch};

use crate::{
    compose::Composer, consumer, dead_letter::DeadLetters, handler::Handler, mailer::Mailer,
    records::Records, settings::Settings, status::Status,
};

pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    settings: Settings,
    pool: Pool,
    handler: Handler,
    status: Arc<Status>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        platform::prometheus::install();
        crate::metrics::describe();
        let pool = settings.database.pool()?;
        let composer = Composer::new(&settings.mail.from, &settings.mail.link_base_url)?;
        let mailer = Mailer::new(&settings.smtp)?;
        let dead_letter_topic = &settings.consumer.dead_letter_topic;
        if settings.create_topics {
            let topics = [settings.kafka.topics.user.as_str(), dead_letter_topic];
            if let Err(error) = kafka::admin::ensure_named_topics(&settings.kafka, &topics).await {
                // Where the platform owns the topics this user may not create them; a missing
                // dead-letter topic then shows as retries when the first message needs it.
                tracing::warn!(error = format!("{error:#}"), "could not create the topics");
            }
        }
        let handler = Handler::new(
            Records::new(pool.clone(), settings.keyring.clone()),
            composer,
            mailer,
            DeadLetters::new(&settings.kafka, dead_letter_topic)?,
        );
        let status = Arc::new(Status::default());
        let (listener, port) = platform::server::bind(&settings.host, settings.port)?;
        let server = crate::admin::server(listener, pool.clone(), status.clone())?;
        Ok(Self {
            port,
            server,
            settings,
            pool,
            handler,
            status,
        })
    }

    /// The admin listener's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Consumes until SIGINT or SIGTERM.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(platform::shutdown::signal()).await
    }

    /// Consumes until `stop` resolves (tests pass their own trigger), then drains: the message
    /// in hand is finished (or left for the next active replica if its retries are still
    /// failing), the offsets committed, the lock released, the admin listener stopped.
    pub async fn run_until(self, stop: impl Future<Output = ()>) -> anyhow::Result<()> {
        let admin = self.server.handle();
        let server = tokio::spawn(self.server);
        let (stop_consumer, stopping) = watch::channel(false);
        let options = consumer::Options {
            kafka: self.settings.kafka.clone(),
            settings: self.settings.consumer.clone(),
            leader: self.settings.database.target()?,
        };
        let (handler, status, runtime) = (self.handler, self.status.clone(), Handle::current());
        let mut consumer = tokio::task::spawn_blocking(move || {
            consumer::run(options, handler, runtime, status, stopping)
        });
        let result = tokio::select! {
            () = stop => {
                tracing::info!("stopping: finishing the message in hand");
                let _ = stop_consumer.send(true);
                match tokio::time::timeout(self.settings.shutdown_timeout, &mut consumer).await {
                    Ok(joined) => joined.context("the consumer thread panicked"),
                    Err(_) => Err(anyhow::anyhow!(
                        "the consumer did not stop within {:?}",
                        self.settings.shutdown_timeout
                    )),
                }
            }
            joined = &mut consumer => joined.context("the consumer thread panicked"),
        };
        admin.stop(true).await;
        let _ = server.await;
        drop(self.pool);
        tracing::info!("notifier stopped");
        result
    }
}
