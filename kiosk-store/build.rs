fn main() {
    // `sqlx::migrate!` embeds the folder at compile time; a new file must trigger a rebuild.
    println!("cargo:rerun-if-changed=migrations");
}
