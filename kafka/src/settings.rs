//! Kafka settings from the environment.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `CC_KAFKA__BOOTSTRAP_SERVERS` | `127.0.0.1:9092` | broker list |
//! | `CC_KAFKA__USER_TOPIC` | `cloudcommerce.user-events` | topic of `user.*` events |
//! | `CC_KAFKA__PRODUCT_TOPIC` | `cloudcommerce.product-events` | topic of `product.*` events |
//! | `CC_KAFKA__PARTITIONS` | `6` | partitions of topics created at start-up |
//! | `CC_KAFKA__REPLICATION_FACTOR` | `1` | replicas of topics created at start-up (3 in production) |
//! | `CC_KAFKA__SECURITY_PROTOCOL` | unset | e.g. `SASL_SSL` for a production cluster |
//! | `CC_KAFKA__SASL_MECHANISM` | unset | e.g. `SCRAM-SHA-512` |
//! | `CC_KAFKA__SASL_USERNAME` | unset | |
//! | `CC_KAFKA__SASL_PASSWORD` | unset | secret |
//! | `CC_KAFKA__SSL_CA_LOCATION` | unset | CA bundle of the cluster |

use rdkafka::ClientConfig;
use secrecy::{ExposeSecret, SecretString};

use crate::topics::Topics;

#[derive(Debug, Clone)]
pub struct KafkaSettings {
    pub bootstrap_servers: String,
    pub topics: Topics,
    pub partitions: i32,
    pub replication_factor: i32,
    pub security_protocol: Option<String>,
    pub sasl_mechanism: Option<String>,
    pub sasl_username: Option<String>,
    pub sasl_password: Option<SecretString>,
    pub ssl_ca_location: Option<String>,
}

impl KafkaSettings {
    pub fn from_env() -> anyhow::Result<Self> {
        let optional = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Ok(Self {
            bootstrap_servers: platform::env::string_or(
                "CC_KAFKA__BOOTSTRAP_SERVERS",
                "127.0.0.1:9092",
            ),
            topics: Topics {
                user: platform::env::string_or("CC_KAFKA__USER_TOPIC", Topics::DEFAULT_USER),
                product: platform::env::string_or(
                    "CC_KAFKA__PRODUCT_TOPIC",
                    Topics::DEFAULT_PRODUCT,
                ),
            },
            partitions: platform::env::or("CC_KAFKA__PARTITIONS", 6)?,
            replication_factor: platform::env::or("CC_KAFKA__REPLICATION_FACTOR", 1)?,
            security_protocol: optional("CC_KAFKA__SECURITY_PROTOCOL"),
            sasl_mechanism: optional("CC_KAFKA__SASL_MECHANISM"),
            sasl_username: optional("CC_KAFKA__SASL_USERNAME"),
            sasl_password: platform::env::optional_secret("CC_KAFKA__SASL_PASSWORD"),
            ssl_ca_location: optional("CC_KAFKA__SSL_CA_LOCATION"),
        })
    }

    /// Local development defaults with the given broker and topics.
    pub fn local(bootstrap_servers: &str, topics: Topics) -> Self {
        Self {
            bootstrap_servers: bootstrap_servers.to_owned(),
            topics,
            partitions: 3,
            replication_factor: 1,
            security_protocol: None,
            sasl_mechanism: None,
            sasl_username: None,
            sasl_password: None,
            ssl_ca_location: None,
        }
    }

    /// The connection part of a librdkafka configuration, shared by producers, consumers and admin.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap_servers);
        let optional = [
            ("security.protocol", &self.security_protocol),
            ("sasl.mechanism", &self.sasl_mechanism),
            ("sasl.username", &self.sasl_username),
            ("ssl.ca.location", &self.ssl_ca_location),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                config.set(key, value);
            }
        }
        if let Some(password) = &self.sasl_password {
            config.set("sasl.password", password.expose_secret());
        }
        config
    }
}
