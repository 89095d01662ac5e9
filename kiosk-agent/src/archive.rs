//! Release and menu archives: a tar of files, compressed with zstd. Written by `kioskctl`,
//! unpacked by the agent into a fresh folder only after TUF has checked the archive's hash.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};

/// zstd's level for archives: a good ratio while publishing stays quick (a 30 MB app in a
/// few seconds on two cores).
const LEVEL: i32 = 12;

/// The most an archive may unpack to, whatever it claims: a malicious or broken archive cannot
/// fill the disk beyond it.
const MAX_UNPACKED_BYTES: u64 = 1 << 30;

/// A file to put into an archive: where it is read from and its path inside.
#[derive(Clone, Debug)]
pub struct Entry {
    pub source: PathBuf,
    pub inside: PathBuf,
    pub executable: bool,
}

impl Entry {
    /// Every file under `folder`, placed under `under` inside the archive, executable if its
    /// owner may run it.
    pub fn folder(folder: &Path, under: &Path) -> Result<Vec<Entry>> {
        let mut entries = Vec::new();
        let mut pending = vec![folder.to_owned()];
        while let Some(dir) = pending.pop() {
            let listing = std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?;
            for child in listing {
                let path = child?.path();
                if path.is_dir() {
                    pending.push(path);
                } else if path.is_file() {
                    let relative = path.strip_prefix(folder).expect("listed under the folder");
                    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path)?.permissions());
                    entries.push(Entry { inside: under.join(relative), source: path, executable: mode & 0o111 != 0 });
                }
            }
        }
        Ok(entries)
    }
}

/// The uncompressed tar of `entries`, the same bytes for the same files whatever their order
/// (sorted by path; no times, owners or modes but executable or not): packing an unpacked
/// release gives its tar again, the base a delta applies to.
pub fn tar(entries: &[Entry]) -> Result<Vec<u8>> {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.inside.cmp(&b.inside));
    let mut builder = tar::Builder::new(Vec::new());
    for entry in sorted {
        let bytes = std::fs::read(&entry.source).with_context(|| format!("cannot read {}", entry.source.display()))?;
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(if entry.executable { 0o755 } else { 0o644 });
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, &entry.inside, bytes.as_slice())
            .with_context(|| format!("cannot add {} to the archive", entry.inside.display()))?;
    }
    Ok(builder.into_inner()?)
}

pub fn compress(tar: &[u8]) -> Result<Vec<u8>> {
    Ok(zstd::bulk::compress(tar, LEVEL)?)
}

/// The tar inside a compressed archive, refused beyond the unpacked limit.
pub fn decompress(archive: &[u8]) -> Result<Vec<u8>> {
    let mut tar = Vec::new();
    let decoder = zstd::stream::read::Decoder::new(archive).context("not a zstd archive")?;
    decoder.take(MAX_UNPACKED_BYTES + 1).read_to_end(&mut tar).context("the archive is damaged")?;
    if tar.len() as u64 > MAX_UNPACKED_BYTES {
        bail!("the archive unpacks to more than {} MiB", MAX_UNPACKED_BYTES >> 20);
    }
    Ok(tar)
}

/// A patch that turns the tar `old` into the tar `new`: zstd with `old` as reference (what
/// `zstd --patch-from=old new` writes), long-distance matching over the whole of `old`.
pub fn patch(old: &[u8], new: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = zstd::stream::write::Encoder::with_ref_prefix(Vec::new(), LEVEL, old)?;
    // The window spans the reference and all of the new tar: the end of the new tar still
    // reaches back to the start of the old one.
    encoder.window_log(window_log(old.len() + new.len()))?;
    encoder.long_distance_matching(true)?;
    encoder.write_all(new)?;
    Ok(encoder.finish()?)
}

/// Rebuilds the tar a [`patch`] was made for, from the same `old`.
pub fn apply_patch(old: &[u8], patch: &[u8]) -> Result<Vec<u8>> {
    let mut decoder = zstd::stream::read::Decoder::with_ref_prefix(patch, old).context("not a zstd patch")?;
    decoder.window_log_max(window_log(MAX_UNPACKED_BYTES as usize))?;
    let mut tar = Vec::new();
    (&mut decoder).take(MAX_UNPACKED_BYTES + 1).read_to_end(&mut tar).context("the patch does not apply")?;
    if tar.len() as u64 > MAX_UNPACKED_BYTES {
        bail!("the patch rebuilds more than {} MiB", MAX_UNPACKED_BYTES >> 20);
    }
    Ok(tar)
}

/// The smallest zstd window that spans `size` bytes (zstd allows 2^10 to 2^31).
fn window_log(size: usize) -> u32 {
    (usize::BITS - size.max(1 << 10).leading_zeros()).clamp(10, 31)
}

/// Unpacks a tar into `dest`, which must not exist yet; refuses anything but plain files and
/// folders, and any path that would land outside `dest`.
pub fn unpack(tar: &[u8], dest: &Path) -> Result<()> {
    std::fs::create_dir(dest).with_context(|| format!("cannot create {}", dest.display()))?;
    let mut archive = tar::Archive::new(tar);
    for entry in archive.entries().context("not a tar archive")? {
        let mut entry = entry.context("the archive is damaged")?;
        let inside = entry.path().context("a file name in the archive is not valid")?.into_owned();
        if !inside.components().all(|c| matches!(c, Component::Normal(_))) {
            bail!("the archive names a file outside its folder: {}", inside.display());
        }
        let target = dest.join(&inside);
        match entry.header().entry_type() {
            tar::EntryType::Directory => std::fs::create_dir_all(&target)?,
            tar::EntryType::Regular => {
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                let executable = entry.header().mode().is_ok_and(|mode| mode & 0o111 != 0);
                let mut file =
                    std::fs::File::create(&target).with_context(|| format!("cannot write {}", target.display()))?;
                std::io::copy(&mut entry, &mut file).with_context(|| format!("cannot write {}", target.display()))?;
                file.sync_all()?;
                let mode = if executable { 0o755 } else { 0o644 };
                std::fs::set_permissions(&target, std::os::unix::fs::PermissionsExt::from_mode(mode))?;
            }
            other => bail!("the archive holds a {other:?} at {}: only files and folders", inside.display()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path, files: &[(&str, &[u8])]) -> Vec<Entry> {
        files
            .iter()
            .map(|(name, bytes)| {
                let source = dir.join(name.replace('/', "_"));
                std::fs::write(&source, bytes).unwrap();
                Entry { source, inside: PathBuf::from(name), executable: name.starts_with("bin/") }
            })
            .collect()
    }

    #[test]
    fn an_archive_unpacks_to_its_files() {
        let dir = tempfile::tempdir().unwrap();
        let files = entries(dir.path(), &[("bin/kiosk-app", b"\x7fELF..."), ("RELEASE", b"1.2.0\n")]);
        let archive = compress(&tar(&files).unwrap()).unwrap();
        assert_eq!(tar(&files).unwrap(), decompress(&archive).unwrap(), "the same files give the same tar");
        let dest = dir.path().join("out");
        unpack(&decompress(&archive).unwrap(), &dest).unwrap();
        assert_eq!(std::fs::read(dest.join("bin/kiosk-app")).unwrap(), b"\x7fELF...");
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(dest.join("bin/kiosk-app")).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o755);
        assert!(unpack(&decompress(&archive).unwrap(), &dest).is_err(), "never into an existing folder");
    }

    #[test]
    fn a_path_out_of_the_folder_is_refused() {
        let mut header = tar::Header::new_gnu();
        header.set_size(1);
        header.set_entry_type(tar::EntryType::Regular);
        let name = b"../escape";
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_cksum();
        let mut builder = tar::Builder::new(Vec::new());
        builder.append(&header, &b"x"[..]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let error = unpack(&builder.into_inner().unwrap(), &dir.path().join("out")).unwrap_err();
        assert!(error.to_string().contains("outside its folder"), "{error}");
        assert!(!dir.path().join("escape").exists());
    }

    #[test]
    fn a_patch_rebuilds_the_new_tar_and_is_small() {
        let old: Vec<u8> = (0..2_000_000u32).map(|n| (n.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let mut new = old.clone();
        new[1_000_000..1_000_100].fill(7);
        let patch = patch(&old, &new).unwrap();
        assert_eq!(apply_patch(&old, &patch).unwrap(), new);
        assert!(patch.len() < 10_000, "a 100-byte change makes a {}-byte patch", patch.len());
        assert_ne!(apply_patch(&new[..1000], &patch).ok(), Some(new), "a patch rebuilds nothing from another release");
    }

    #[test]
    fn garbage_is_not_an_archive() {
        assert!(decompress(b"not zstd at all").is_err());
    }
}
