//! Rebuilds this crate when a migration is added or edited: `embed_migrations!` reads the folder
//! at compile time, and cargo does not otherwise know the files are inputs.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
