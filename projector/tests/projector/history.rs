//! Event histories for the tests, decided by the domain itself (so every event is one the
//! command API could have recorded), as store records, decoded envelopes, or Kafka messages.

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::{
    Actor, Aggregate, DomainEvent, Product, ProductCommand, ProductEvent, ProductState, User,
    UserCommand,
    values::{CategorySlug, Currency, Description, Email, Money, ProductName, Role, Sku},
};
use kafka::{DecodedEvent, KafkaSettings};
use rdkafka::{
    Timestamp,
    message::OwnedMessage,
    producer::{FutureProducer, FutureRecord},
};
use store::RecordedEvent;
use uuid::Uuid;

pub const CATEGORIES: [&str; 4] = ["kitchen", "garden", "outdoor-living", "books"];

/// Now, truncated to microseconds: what PostgreSQL stores, so times compare exactly.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap()
}

pub fn seller_actor(seller: Uuid) -> Actor {
    Actor::User {
        id: seller,
        role: Role::Seller,
        active: true,
    }
}

pub fn create(product_id: Uuid, seller: Uuid, index: usize) -> ProductCommand {
    ProductCommand::Create {
        product_id,
        seller_id: seller,
        sku: Sku::parse(&format!("SKU-{index}-{}", product_id.simple())).unwrap(),
        name: ProductName::parse(&format!("Stoneware mug {index}")).unwrap(),
        description: Description::parse("A mug.\nDishwasher safe.").unwrap(),
        category: category(index),
        price: euros(1000 + index as i64),
        initial_stock: 10,
    }
}

pub fn category(index: usize) -> CategorySlug {
    CategorySlug::parse(CATEGORIES[index % CATEGORIES.len()]).unwrap()
}

pub fn euros(minor: i64) -> Money {
    Money::new(minor, Currency::EUR).unwrap()
}

/// Ten commands that walk a product through its whole lifecycle, ending archived, back in
/// draft, or published depending on `index`, so categories see every kind of change.
pub fn lifecycle(product_id: Uuid, seller: Uuid, index: usize) -> Vec<ProductCommand> {
    let details = ProductCommand::UpdateDetails {
        name: None,
        description: None,
        category: Some(category(index + 1)),
    };
    vec![
        create(product_id, seller, index),
        ProductCommand::ChangePrice {
            price: euros(2000 + index as i64),
        },
        ProductCommand::AdjustStock {
            delta: 5,
            reason: "restock".parse().unwrap(),
        },
        ProductCommand::Publish,
        details,
        ProductCommand::ChangePrice {
            price: euros(3000 + index as i64),
        },
        ProductCommand::Unpublish,
        ProductCommand::AdjustStock {
            delta: -2,
            reason: "damaged in transit".parse().unwrap(),
        },
        ProductCommand::Publish,
        match index % 3 {
            0 => ProductCommand::Archive,
            1 => ProductCommand::Unpublish,
            _ => ProductCommand::ChangePrice {
                price: euros(4000 + index as i64),
            },
        },
    ]
}

/// The events `commands` produce, decided one after the other from an empty stream.
pub fn decide_product(seller: Uuid, commands: Vec<ProductCommand>) -> Vec<ProductEvent> {
    let actor = seller_actor(seller);
    let mut state = ProductState::default();
    let mut events = Vec::new();
    for command in commands {
        let decided = Product::decide(&state, &actor, command).unwrap();
        state = decided.iter().fold(state, Product::evolve);
        events.extend(decided);
    }
    events
}

/// A registered user who later changed name and became a seller.
pub fn user_history(user_id: Uuid, index: usize) -> Vec<domain::UserEvent> {
    let commands = vec![
        UserCommand::Register {
            user_id,
            email: Email::parse(&format!("user{index}-{}@example.com", user_id.simple())).unwrap(),
            display_name: "Ada".parse().unwrap(),
        },
        UserCommand::ChangeDisplayName {
            display_name: "Ada Lovelace".parse().unwrap(),
        },
        UserCommand::AssignRole { role: Role::Seller },
    ];
    let mut state = domain::UserState::default();
    let mut events = Vec::new();
    for command in commands {
        let decided = User::decide(&state, &Actor::System, command).unwrap();
        state = decided.iter().fold(state, User::evolve);
        events.extend(decided);
    }
    events
}

/// One stream's events as the store would have recorded them, versions 1.., a second apart.
pub fn record<E: DomainEvent>(
    stream_id: Uuid,
    stream_type: &str,
    events: &[E],
    start: DateTime<Utc>,
) -> Vec<RecordedEvent> {
    (1_i64..)
        .zip(events)
        .map(|(version, event)| {
            let at = start + chrono::Duration::seconds(version);
            record_one(stream_id, stream_type, version, event, at)
        })
        .collect()
}

/// One event as the store would have recorded it at `version`.
pub fn record_one<E: DomainEvent>(
    stream_id: Uuid,
    stream_type: &str,
    version: i64,
    event: &E,
    at: DateTime<Utc>,
) -> RecordedEvent {
    RecordedEvent {
        position: 0,
        event_id: Uuid::now_v7(),
        stream_id,
        stream_type: stream_type.to_owned(),
        stream_version: version,
        event_type: event.event_type().to_owned(),
        schema_version: event.schema_version(),
        payload: event.to_payload(),
        correlation_id: Uuid::new_v4(),
        causation_id: None,
        actor: "system".to_owned(),
        traceparent: None,
        recorded_at: at,
    }
}

/// What the consumer would decode from `event` read at `topic`/`partition`@`offset`: the real
/// envelope code, both ways, without a broker.
pub fn decoded(event: &RecordedEvent, topic: &str, partition: i32, offset: i64) -> DecodedEvent {
    let (key, headers, value) = kafka::envelope::encode(&command_api::relay::outgoing(event));
    let message = OwnedMessage::new(
        Some(value),
        Some(key.into_bytes()),
        topic.to_owned(),
        Timestamp::NotAvailable,
        partition,
        offset,
        Some(headers),
    );
    kafka::envelope::decode(&message).unwrap()
}

/// `events` decoded at consecutive offsets of partition 0 of `topic`, starting at `first`.
pub fn at_offsets(events: &[RecordedEvent], topic: &str, first: i64) -> Vec<DecodedEvent> {
    (first..)
        .zip(events)
        .map(|(offset, event)| decoded(event, topic, 0, offset))
        .collect()
}

/// Publishes `events` in order (per key, the producer keeps it), keyed by stream id, and waits
/// for every acknowledgement.
pub async fn produce(settings: &KafkaSettings, events: &[RecordedEvent]) {
    let producer: FutureProducer = kafka::producer::idempotent_producer(settings).unwrap();
    let mut deliveries = Vec::with_capacity(events.len());
    for event in events {
        let topic = settings.topics.for_stream_type(&event.stream_type).unwrap();
        let (key, headers, value) = kafka::envelope::encode(&command_api::relay::outgoing(event));
        let record = FutureRecord::to(topic)
            .key(&key)
            .headers(headers)
            .payload(&value);
        deliveries.push(producer.send_result(record).map_err(|(e, _)| e).unwrap());
    }
    for delivery in deliveries {
        tokio::time::timeout(Duration::from_secs(30), delivery)
            .await
            .expect("delivered in time")
            .unwrap()
            .map_err(|(e, _)| e)
            .unwrap();
    }
}
