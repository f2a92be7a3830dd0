//! `command-api seed N`: loads a realistic catalog through the event store, for demos and
//! benchmarks. Every command goes through the same core as an HTTP command (decide, the writes
//! its events call for, append, snapshot, metrics), as the system actor; only HTTP is skipped.
//! The relay publishes the events like any others. Re-running tops the catalog up to N:
//! products are numbered (`SEED-000001`, ...) and existing numbers are skipped.

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
use personal::Keyring;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use store::NewEvent;
use uuid::Uuid;

use crate::{
    auth::password,
    command::{
        core::{self, Provenance, Target},
        effects::Secrets,
    },
};

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

/// Registers the seed sellers once (by email) and returns their ids.
async fn ensure_sellers(pool: &Pool, keyring: &Keyring) -> anyhow::Result<Vec<Uuid>> {
    let secrets =
        Secrets::password_hash(password::hash(value(Password::parse(SELLER_PASSWORD))?).await?);
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
        let commands = vec![
            UserCommand::Register {
                user_id: id,
                email,
                display_name: value(DisplayName::parse(&format!("Seed Seller {n:02}")))?,
            },
            UserCommand::AssignRole { role: Role::Seller },
        ];
        let tx = client.transaction().await?;
        core::run::<User>(
            &*tx,
            system_target(id),
            commands,
            &Provenance::internal(),
            &secrets,
            keyring,
        )
        .await
        .context("registering a seed seller")?;
        tx.commit().await?;
        sellers.push(id);
    }
    Ok(sellers)
}

/// A new stream, commanded by the service itself.
fn system_target(stream_id: Uuid) -> Target<'static> {
    Target {
        actor: &Actor::System,
        stream_id,
        expected_version: Some(0),
    }
}

/// The commands of seed product `n`: created, then (mostly) published, sometimes repriced or
/// restocked, the way a real catalog's history looks. Returns the product id, its SKU and the
/// commands.
pub fn product_commands(
    n: usize,
    seller: Uuid,
    rng: &mut StdRng,
) -> anyhow::Result<(Uuid, String, Vec<ProductCommand>)> {
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
    Ok((product_id, sku, commands))
}

/// The events seed product `n` would record, decided without a store: for the benchmark
/// harness, which publishes the same histories straight to a topic (projector replay).
pub fn product_history(
    n: usize,
    seller: Uuid,
    rng: &mut StdRng,
) -> anyhow::Result<(Uuid, String, Vec<NewEvent>)> {
    let (product_id, sku, commands) = product_commands(n, seller, rng)?;
    let mut state = Default::default();
    let mut events = Vec::new();
    for command in commands {
        for event in value(Product::decide(&state, &Actor::System, command))? {
            state = Product::evolve(state, &event);
            events.push(NewEvent::from_domain(&event));
        }
    }
    Ok((product_id, sku, events))
}

/// Tops the catalog up to `products` seed products; returns how many were added.
pub async fn seed(pool: &Pool, products: usize, keyring: &Keyring) -> anyhow::Result<usize> {
    let sellers = ensure_sellers(pool, keyring)
        .await
        .context("seeding sellers")?;
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
    let provenance = Provenance::internal();
    for chunk in missing.chunks(PRODUCTS_PER_TRANSACTION) {
        let tx = client.transaction().await?;
        for &n in chunk {
            let mut rng = StdRng::seed_from_u64(n as u64);
            let seller = sellers[n % sellers.len()];
            let (id, _, commands) = product_commands(n, seller, &mut rng)?;
            core::run::<Product>(
                &*tx,
                system_target(id),
                commands,
                &provenance,
                &Secrets::none(),
                keyring,
            )
            .await
            .with_context(|| format!("seeding product {n}"))?;
        }
        tx.commit().await.context("committing seed products")?;
    }
    Ok(missing.len())
}
