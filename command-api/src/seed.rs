//! `command-api seed --products N`: loads a realistic catalog through the event store, for demos
//! and benchmarks. Every event comes from the domain's `decide`, exactly as the API would record
//! it, with reservations and credentials in the same transactions; only HTTP is skipped. The
//! relay publishes the events like any others. Re-running tops the catalog up to N: products are
//! numbered (`SEED-000001`, ...) and existing numbers are skipped.

use anyhow::Context;
use deadpool_postgres::Pool;
use domain::{
    Actor, Aggregate,
    product::{Product, ProductCommand},
    user::{User, UserCommand},
    values::{
        CategorySlug, Currency, Description, DisplayName, Email, Money, Password, ProductName,
        Role, Sku, StockReason,
    },
};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use store::{EventMetadata, NewEvent};
use uuid::Uuid;

/// Password of every seeded seller, so a demo can sign in as one (`seller-01@seed.cloudcommerce.dev`).
pub const SELLER_PASSWORD: &str = "seed-seller-password";
const SELLERS: usize = 20;
const PRODUCTS_PER_TRANSACTION: usize = 250;

const CATEGORIES: &[(&str, &[&str], (i64, i64))] = &[
    (
        "kitchen",
        &[
            "Kettle",
            "Teapot",
            "Saucepan",
            "Chef's knife",
            "Cutting board",
            "Colander",
            "Whisk",
        ],
        (500, 15_000),
    ),
    (
        "lighting",
        &[
            "Desk lamp",
            "Floor lamp",
            "Pendant light",
            "LED bulb",
            "Lantern",
        ],
        (800, 40_000),
    ),
    (
        "furniture",
        &[
            "Oak chair",
            "Side table",
            "Bookshelf",
            "Sofa",
            "Bed frame",
            "Stool",
        ],
        (3_000, 250_000),
    ),
    (
        "garden",
        &[
            "Watering can",
            "Pruning shears",
            "Planter",
            "Hose reel",
            "Bird feeder",
        ],
        (400, 12_000),
    ),
    (
        "electronics",
        &[
            "Headphones",
            "Bluetooth speaker",
            "USB charger",
            "Keyboard",
            "Webcam",
        ],
        (1_500, 60_000),
    ),
    (
        "books",
        &["Cookbook", "Novel", "Field guide", "Atlas", "Notebook"],
        (600, 6_000),
    ),
    (
        "toys",
        &[
            "Puzzle",
            "Building blocks",
            "Kite",
            "Board game",
            "Plush bear",
        ],
        (700, 9_000),
    ),
    (
        "sports",
        &[
            "Yoga mat",
            "Dumbbell",
            "Tennis racket",
            "Water bottle",
            "Running belt",
        ],
        (900, 30_000),
    ),
    (
        "bathroom",
        &["Towel set", "Bath mat", "Soap dish", "Shower caddy"],
        (500, 8_000),
    ),
    (
        "office",
        &[
            "Desk organiser",
            "Fountain pen",
            "Monitor stand",
            "Paper tray",
        ],
        (300, 20_000),
    ),
];
const ADJECTIVES: &[&str] = &[
    "Classic",
    "Compact",
    "Deluxe",
    "Eco",
    "Essential",
    "Nordic",
    "Premium",
    "Rustic",
    "Smart",
    "Travel",
    "Vintage",
    "Urban",
    "Copper",
    "Bamboo",
    "Ceramic",
    "Steel",
    "Walnut",
    "Linen",
];
const PHRASES: &[&str] = &[
    "Built to last and easy to clean.",
    "Designed in small batches by independent makers.",
    "A customer favourite, now in new colours.",
    "Made from responsibly sourced materials.",
    "Fits neatly in small spaces.",
    "Backed by a two-year warranty.",
    "Lightweight, sturdy and quietly beautiful.",
];

fn value<T, E: std::fmt::Display>(result: Result<T, E>) -> anyhow::Result<T> {
    result.map_err(|e| anyhow::anyhow!("seed data: {e}"))
}

fn metadata() -> EventMetadata {
    EventMetadata {
        correlation_id: Uuid::now_v7(),
        causation_id: None,
        actor: Actor::System.label(),
        traceparent: None,
    }
}

/// Registers the seed sellers once (by email) and returns their ids.
async fn ensure_sellers(pool: &Pool) -> anyhow::Result<Vec<Uuid>> {
    let hash = crate::auth::password::hash(value(Password::parse(SELLER_PASSWORD))?).await?;
    let mut client = pool.get().await?;
    let mut sellers = Vec::with_capacity(SELLERS);
    for n in 1..=SELLERS {
        let email = value(Email::parse(&format!(
            "seller-{n:02}@seed.cloudcommerce.dev"
        )))?;
        if let Some(id) = store::reservations::user_for_email(&**client, email.as_str()).await? {
            sellers.push(id);
            continue;
        }
        let id = Uuid::now_v7();
        let tx = client.transaction().await?;
        let mut state = Default::default();
        let mut events = Vec::new();
        for command in [
            UserCommand::Register {
                user_id: id,
                email: email.clone(),
                display_name: value(DisplayName::parse(&format!("Seed Seller {n:02}")))?,
            },
            UserCommand::AssignRole { role: Role::Seller },
        ] {
            for event in value(User::decide(&state, &Actor::System, command))? {
                state = User::evolve(state, &event);
                events.push(NewEvent::from_domain(&event));
            }
        }
        store::reservations::reserve_email(&*tx, email.as_str(), id).await?;
        store::credentials::set_password_hash(&*tx, id, &hash).await?;
        store::append(&*tx, id, User::STREAM_TYPE, 0, &events, &metadata()).await?;
        tx.commit().await?;
        sellers.push(id);
    }
    Ok(sellers)
}

/// The events of seed product `n`: created, then (mostly) published, sometimes repriced or
/// restocked, the way a real catalog's history looks. Public so the benchmark harness can
/// publish the same histories straight to a topic for the projector-replay scenario.
pub fn product_history(
    n: usize,
    seller: Uuid,
    rng: &mut StdRng,
) -> anyhow::Result<(Uuid, String, Vec<NewEvent>)> {
    let (category, nouns, (low, high)) = CATEGORIES[rng.gen_range(0..CATEGORIES.len())];
    let noun = nouns.choose(rng).copied().unwrap_or("Thing");
    let adjective = ADJECTIVES.choose(rng).copied().unwrap_or("Plain");
    let name = format!("{adjective} {noun}");
    let description = format!(
        "{name}. {} {}",
        PHRASES.choose(rng).copied().unwrap_or_default(),
        PHRASES.choose(rng).copied().unwrap_or_default()
    );
    let product_id = Uuid::now_v7();
    let sku = format!("SEED-{n:06}");
    // Prices cluster at the low end of each category's range, as real price lists do.
    let spread: f64 = rng.r#gen::<f64>().powi(3);
    let price = low + ((high - low) as f64 * spread) as i64;
    let price = price / 100 * 100 + 99;
    let actor = Actor::System;
    let mut commands = vec![ProductCommand::Create {
        product_id,
        seller_id: seller,
        sku: value(Sku::parse(&sku))?,
        name: value(ProductName::parse(&name))?,
        description: value(Description::parse(&description))?,
        category: value(CategorySlug::parse(category))?,
        price: value(Money::new(price, Currency::EUR))?,
        initial_stock: rng.gen_range(0..200),
    }];
    if rng.gen_bool(0.9) {
        commands.push(ProductCommand::Publish);
    }
    if rng.gen_bool(0.3) {
        let discounted = (price * 9 / 10).max(99);
        commands.push(ProductCommand::ChangePrice {
            price: value(Money::new(discounted, Currency::EUR))?,
        });
    }
    if rng.gen_bool(0.3) {
        commands.push(ProductCommand::AdjustStock {
            delta: rng.gen_range(1..50),
            reason: value(StockReason::parse("restock"))?,
        });
    }
    let mut state = Default::default();
    let mut events = Vec::new();
    for command in commands {
        for event in value(Product::decide(&state, &actor, command))? {
            state = Product::evolve(state, &event);
            events.push(NewEvent::from_domain(&event));
        }
    }
    Ok((product_id, sku, events))
}

/// Tops the catalog up to `products` seed products; returns how many were added.
pub async fn seed(pool: &Pool, products: usize) -> anyhow::Result<usize> {
    let sellers = ensure_sellers(pool).await.context("seeding sellers")?;
    let mut client = pool.get().await?;
    let existing: std::collections::HashSet<String> = client
        .query(
            "SELECT sku FROM es.sku_reservations WHERE sku LIKE 'SEED-%'",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let missing: Vec<usize> = (1..=products)
        .filter(|n| !existing.contains(&format!("SEED-{n:06}")))
        .collect();
    // A fixed seed per product number: the same N always yields the same catalog.
    for chunk in missing.chunks(PRODUCTS_PER_TRANSACTION) {
        let tx = client.transaction().await?;
        for &n in chunk {
            let mut rng = StdRng::seed_from_u64(n as u64);
            let seller = sellers[n % sellers.len()];
            let (id, sku, events) = product_history(n, seller, &mut rng)?;
            store::reservations::reserve_sku(&*tx, &sku, id).await?;
            store::append(&*tx, id, Product::STREAM_TYPE, 0, &events, &metadata()).await?;
        }
        tx.commit().await.context("committing seed products")?;
    }
    Ok(missing.len())
}
