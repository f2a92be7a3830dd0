//! Criterion micro-benchmarks: the domain's decide/evolve, the event envelope's encode/decode and
//! the listing cursor's encode/decode (every next page pays one of each).

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use domain::{
    Actor, Aggregate, DomainEvent,
    product::{Product, ProductCommand},
    values::{CategorySlug, Currency, Description, Money, ProductName, Role, Sku},
};
use uuid::Uuid;

fn created_product() -> (Actor, Vec<domain::product::ProductEvent>) {
    let seller = Uuid::now_v7();
    let actor = Actor::User {
        id: seller,
        role: Role::Seller,
        active: true,
    };
    let create = ProductCommand::Create {
        product_id: Uuid::now_v7(),
        seller_id: seller,
        sku: Sku::parse("KET-001").expect("sku"),
        name: ProductName::parse("Kettle").expect("name"),
        description: Description::parse("Boils water.").expect("description"),
        category: CategorySlug::parse("kitchen").expect("category"),
        price: Money::new(2599, Currency::parse("EUR").expect("currency")).expect("money"),
        initial_stock: 10,
    };
    let events = Product::decide(&Default::default(), &actor, create).expect("created");
    (actor, events)
}

fn domain(c: &mut Criterion) {
    let (actor, created) = created_product();
    let state = Product::fold(&created);
    let eur = Currency::parse("EUR").expect("currency");
    c.bench_function("decide ChangePrice", |b| {
        b.iter(|| {
            let price = Money::new(2799, eur).expect("money");
            Product::decide(
                black_box(&state),
                &actor,
                ProductCommand::ChangePrice { price },
            )
        })
    });
    let history: Vec<_> = (0..100)
        .flat_map(|i| {
            let price = Money::new(1000 + i, eur).expect("money");
            Product::decide(&state, &actor, ProductCommand::ChangePrice { price }).expect("changed")
        })
        .collect();
    let all: Vec<_> = created.iter().chain(&history).cloned().collect();
    c.bench_function("fold 101 events", |b| {
        b.iter(|| Product::fold(black_box(&all)))
    });
    let event = &history[0];
    c.bench_function("event to_payload + from_stored", |b| {
        b.iter(|| {
            let payload = event.to_payload();
            domain::product::ProductEvent::from_stored(event.event_type(), 1, payload)
        })
    });
}

fn envelope(c: &mut Criterion) {
    let (_, created) = created_product();
    let event = &created[0];
    let recorded = store::RecordedEvent {
        position: 1,
        event_id: Uuid::now_v7(),
        stream_id: Uuid::now_v7(),
        stream_type: "product".to_owned(),
        stream_version: 1,
        event_type: event.event_type().to_owned(),
        schema_version: 1,
        payload: event.to_payload(),
        correlation_id: Uuid::now_v7(),
        causation_id: None,
        actor: "system".to_owned(),
        traceparent: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned()),
        recorded_at: chrono::Utc::now(),
    };
    c.bench_function("envelope encode", |b| {
        b.iter(|| kafka::envelope::encode(black_box(&command_api::relay::outgoing(&recorded))))
    });
    let (key, headers, value) = kafka::envelope::encode(&command_api::relay::outgoing(&recorded));
    let message = rdkafka::message::OwnedMessage::new(
        Some(value),
        Some(key.into_bytes()),
        "cloudcommerce.product-events".to_owned(),
        rdkafka::Timestamp::NotAvailable,
        0,
        0,
        Some(headers),
    );
    c.bench_function("envelope decode", |b| {
        b.iter(|| kafka::envelope::decode(black_box(&message)))
    });
}

fn cursor(c: &mut Criterion) {
    use query_api::listing::{Cursor, Filters, Sort, SortKey};
    let filters = Filters {
        category: Some("kitchen".to_owned()),
        min_price: Some(1_000),
        in_stock: Some(true),
        ..Filters::default()
    };
    let cursor = Cursor {
        key: SortKey::Price(2_599),
        id: Uuid::now_v7(),
    };
    c.bench_function("cursor encode", |b| {
        b.iter(|| black_box(&cursor).encode(&filters, Sort::PriceAsc))
    });
    let encoded = cursor.encode(&filters, Sort::PriceAsc);
    c.bench_function("cursor decode", |b| {
        b.iter(|| Cursor::decode(black_box(&encoded), &filters, Sort::PriceAsc))
    });
}

criterion_group!(benches, domain, envelope, cursor);
criterion_main!(benches);
