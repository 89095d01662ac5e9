//! Imported menus, each a numbered version with its source text and images.

use crate::{Connection, Result, doing};

/// A menu version as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredMenu {
    pub version: i64,
    pub label: String,
    pub source_file: String,
    pub source: String,
    pub content_hash: String,
    pub imported_at: String,
}

#[derive(Debug)]
pub struct NewMenu<'a> {
    pub label: &'a str,
    pub source_file: &'a str,
    pub source: &'a str,
    pub content_hash: &'a str,
    pub imported_at: &'a str,
}

/// Adds a menu version with its images; it becomes the menu in use when the transaction
/// commits. Returns its version number.
pub async fn insert(conn: &mut Connection, menu: NewMenu<'_>, images: &[(String, Vec<u8>)]) -> Result<i64> {
    let version: i64 = sqlx::query_scalar(
        "INSERT INTO menus (label, source_file, source, content_hash, imported_at) VALUES (?, ?, ?, ?, ?) RETURNING version",
    )
    .bind(menu.label)
    .bind(menu.source_file)
    .bind(menu.source)
    .bind(menu.content_hash)
    .bind(menu.imported_at)
    .fetch_one(&mut *conn)
    .await
    .map_err(doing("recording a menu version"))?;
    for (path, content) in images {
        sqlx::query("INSERT INTO menu_images (menu_version, path, content) VALUES (?, ?, ?)")
            .bind(version)
            .bind(path)
            .bind(content)
            .execute(&mut *conn)
            .await
            .map_err(doing("storing a menu image"))?;
    }
    Ok(version)
}

/// The menu in use: the latest version imported.
pub async fn current(conn: &mut Connection) -> Result<Option<StoredMenu>> {
    sqlx::query_as("SELECT * FROM menus ORDER BY version DESC LIMIT 1")
        .fetch_optional(conn)
        .await
        .map_err(doing("reading the menu in use"))
}

/// The version number of the menu in use, if any (cheap: for noticing a new import).
pub async fn current_version(conn: &mut Connection) -> Result<Option<i64>> {
    sqlx::query_scalar("SELECT MAX(version) FROM menus")
        .fetch_one(conn)
        .await
        .map_err(doing("reading the menu version"))
}

pub async fn image(conn: &mut Connection, version: i64, path: &str) -> Result<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT content FROM menu_images WHERE menu_version = ? AND path = ?")
        .bind(version)
        .bind(path)
        .fetch_optional(conn)
        .await
        .map_err(doing("reading a menu image"))
}
