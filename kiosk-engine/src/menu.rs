//! Menu files in, menu versions out: loading a file with its images, importing it all or
//! nothing, and keeping the parsed menu in use at hand.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kiosk_core::menu::{Category, Id, LocalMoment, Menu, ModifierOption, Product};
use kiosk_core::menu_file;
use kiosk_core::stock::StockLevels;
use kiosk_store::{menus, payments, stock};
use sha2::{Digest, Sha256};

use crate::clock::{local_moment, timestamp};
use crate::{Engine, EngineError, Result};

/// Largest menu file: a 1,000-item menu is about 300 KiB, so this only stops files padded or
/// made by mistake (each import keeps its source in the database).
pub const MAX_MENU_BYTES: u64 = 5 * 1024 * 1024;

/// Largest image a menu may carry; kiosk screens need far less.
pub const MAX_IMAGE_BYTES: u64 = 2 * 1024 * 1024;

/// Largest total of a menu's images, copied into the database at each import.
pub const MAX_IMAGES_TOTAL_BYTES: u64 = 32 * 1024 * 1024;

/// What a customer screen shows: the menu in use, the local time its availability windows
/// are read at, the stock, and whether sales are training sales.
#[derive(Clone, Debug)]
pub struct Shelf {
    pub menu: Arc<ActiveMenu>,
    pub moment: LocalMoment,
    pub stock: StockLevels,
    pub training: bool,
}

impl Shelf {
    /// The products on sale now (availability windows), in menu order: items, then combos.
    pub fn on_sale(&self) -> impl Iterator<Item = Product<'_>> {
        let menu = &self.menu.menu;
        let items = menu.items.iter().map(Product::Item);
        let combos = menu.combos.iter().map(Product::Combo);
        items.chain(combos).filter(|product| product.info().is_available_at(self.moment))
    }

    /// The categories with something on sale now.
    pub fn categories(&self) -> Vec<&Category> {
        let menu = &self.menu.menu;
        menu.categories.iter().filter(|category| self.on_sale().any(|p| p.info().category == category.id)).collect()
    }

    /// Whether a product cannot be sold now: an item with no stock left, or a combo with a slot
    /// whose every choice is sold out.
    pub fn is_sold_out(&self, product: Product<'_>) -> bool {
        match product {
            Product::Item(item) => self.is_out(&item.info.id),
            Product::Combo(combo) => {
                combo.slots.iter().any(|slot| slot.choices.iter().all(|choice| self.is_out(&choice.item)))
            }
        }
    }

    /// Whether an option cannot be chosen now: it is counted and none is left.
    pub fn is_option_sold_out(&self, option: &ModifierOption) -> bool {
        option.stock.is_some() && self.is_out(&option.id)
    }

    fn is_out(&self, id: &Id) -> bool {
        self.stock.available(id.as_str()) == Some(0)
    }
}

/// A menu file read from disk and checked, with its images, ready to import.
#[derive(Debug)]
pub struct MenuFile {
    pub path: PathBuf,
    pub menu: Menu,
    source: String,
    images: Vec<(String, Vec<u8>)>,
    content_hash: String,
}

impl MenuFile {
    /// Reads and checks a menu file and the images it names (relative to its folder).
    pub fn load(path: &Path) -> Result<MenuFile> {
        let read_error = |error| EngineError::File { path: path.to_owned(), error };
        let source = read_capped(path, MAX_MENU_BYTES).map_err(read_error)?;
        let source = String::from_utf8(source).map_err(|_| {
            read_error(std::io::Error::new(std::io::ErrorKind::InvalidData, "the file is not UTF-8 text"))
        })?;
        let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let folder = folder.canonicalize().map_err(read_error)?;
        // An image counts only if it is a file really inside the folder (a link may point out).
        let inside =
            |image: &str| folder.join(image).canonicalize().is_ok_and(|p| p.starts_with(&folder) && p.is_file());
        let menu = menu_file::parse(&path.display().to_string(), &source, &inside)?;
        let mut images = Vec::new();
        let mut total = 0;
        for image in menu.images() {
            let image_path = folder.join(image);
            let size = std::fs::metadata(&image_path).map_err(read_error)?.len();
            if size > MAX_IMAGE_BYTES {
                return Err(EngineError::ImageTooLarge {
                    path: path.to_owned(),
                    image: image.to_owned(),
                    size,
                    limit: MAX_IMAGE_BYTES,
                });
            }
            total += size;
            if total > MAX_IMAGES_TOTAL_BYTES {
                return Err(EngineError::TooLarge {
                    path: path.to_owned(),
                    what: "the menu's images together",
                    limit: MAX_IMAGES_TOTAL_BYTES,
                });
            }
            let bytes = read_capped(&image_path, MAX_IMAGE_BYTES)
                .map_err(|error| EngineError::File { path: image_path, error })?;
            images.push((image.to_owned(), bytes));
        }
        let content_hash = content_hash(&source, &images);
        Ok(MenuFile { path: path.to_owned(), menu, source, images, content_hash })
    }
}

/// Reads a file of at most `limit` bytes; a longer one is an error before it is read whole
/// (its size may also change between a look at it and the read).
fn read_capped(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        let message = format!("the file is larger than the {} MiB allowed", limit / (1024 * 1024));
        return Err(std::io::Error::new(std::io::ErrorKind::FileTooLarge, message));
    }
    Ok(bytes)
}

fn content_hash(source: &str, images: &[(String, Vec<u8>)]) -> String {
    let mut hasher = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    field(source.as_bytes());
    for (path, bytes) in images {
        field(path.as_bytes());
        field(bytes);
    }
    hex::encode(hasher.finalize())
}

/// The menu in use.
#[derive(Debug)]
pub struct ActiveMenu {
    pub version: i64,
    pub label: String,
    pub source_file: String,
    pub imported_at: String,
    pub menu: Menu,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOutcome {
    pub version: i64,
    /// The same menu and images were already in use: nothing changed.
    pub already_in_use: bool,
    pub items: usize,
    pub combos: usize,
}

impl Engine {
    /// Makes a menu file the menu in use, all or nothing. Refused while a payment is
    /// unresolved; a file with any problem leaves the menu in use untouched.
    pub async fn import_menu(&self, path: &Path) -> Result<ImportOutcome> {
        let owned = path.to_owned();
        let file =
            tokio::task::spawn_blocking(move || MenuFile::load(&owned)).await.expect("menu loading does not panic")?;
        let counts = (file.menu.items.len(), file.menu.combos.len());
        let now = timestamp(&self.now());
        let mut tx = self.store.write().await?;
        if !payments::unresolved(&mut tx).await?.is_empty() {
            return Err(EngineError::PaymentInProgress);
        }
        if let Some(current) = menus::current(&mut tx).await?
            && current.content_hash == file.content_hash
        {
            return Ok(ImportOutcome {
                version: current.version,
                already_in_use: true,
                items: counts.0,
                combos: counts.1,
            });
        }
        let version = menus::insert(
            &mut tx,
            menus::NewMenu {
                label: &file.menu.venue.version_label,
                source_file: &file.path.display().to_string(),
                source: &file.source,
                content_hash: &file.content_hash,
                imported_at: &now,
            },
            &file.images,
        )
        .await?;
        for counted in file.menu.stockables() {
            if let Some(rule) = counted.stock {
                stock::start_counting(&mut tx, counted.id, rule.initial, rule.low_threshold, &now).await?;
            }
        }
        kiosk_store::commit(tx, "committing a menu import").await?;
        log::info!("menu version {version} imported from {}", file.path.display());
        Ok(ImportOutcome { version, already_in_use: false, items: counts.0, combos: counts.1 })
    }

    /// The menu in use, parsed once per version (a newer import is picked up at once).
    pub async fn active_menu(&self) -> Result<Arc<ActiveMenu>> {
        let mut conn = self.store.read().await?;
        let version = menus::current_version(&mut conn).await?.ok_or(EngineError::NoMenu)?;
        if let Some(cached) = self.menu_cache.lock().expect("menu cache lock").as_ref().filter(|m| m.version == version)
        {
            return Ok(cached.clone());
        }
        let stored = menus::current(&mut conn).await?.ok_or(EngineError::NoMenu)?;
        // Images were checked at import and live in the database now.
        let menu = menu_file::parse(&stored.source_file, &stored.source, &|_| true)?;
        let active = Arc::new(ActiveMenu {
            version: stored.version,
            label: stored.label,
            source_file: stored.source_file,
            imported_at: stored.imported_at,
            menu,
        });
        *self.menu_cache.lock().expect("menu cache lock") = Some(active.clone());
        Ok(active)
    }

    /// The menu in use with the time, the stock and the training mode, read together.
    pub async fn shelf(&self) -> Result<Shelf> {
        let menu = self.active_menu().await?;
        let mut conn = self.store.read().await?;
        let stock = stock::levels(&mut conn).await?;
        let training = self.training_in(&mut conn).await?.is_some();
        Ok(Shelf { menu, moment: local_moment(&self.now()), stock, training })
    }

    /// An image of the menu in use, by the path the menu file gives.
    pub async fn menu_image(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let version = self.active_menu().await?.version;
        Ok(menus::image(&mut *self.store.read().await?, version, path).await?)
    }
}
