//! Staff accounts: PINs hashed with Argon2, badges by digest, sign-in with a growing lock
//! after wrong PINs, permissions by role, and a record of who did what.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use kiosk_core::staff::{BadgeCode, FAILURES_BEFORE_LOCK, Permission, Pin, Role, lock_after};
use kiosk_store::{commit, staff as staff_table};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::clock::timestamp;
use crate::process::random_bytes;
use crate::{Engine, EngineError, Result};

/// A signed-in staff member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Session {
    pub staff_id: i64,
    pub name: String,
    pub role: Role,
}

/// Who does something: the kiosk on its own (after a declined payment, say), the admin tool
/// (IT, trusted like root on the device) or a signed-in staff member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    Kiosk,
    Admin,
    Staff(Session),
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label())
    }
}

impl Actor {
    fn label(&self) -> String {
        match self {
            Actor::Kiosk => "kiosk".to_owned(),
            Actor::Admin => "admin".to_owned(),
            Actor::Staff(session) => format!("{} ({} #{})", session.name, session.role, session.staff_id),
        }
    }

    fn staff_id(&self) -> Option<i64> {
        match self {
            Actor::Kiosk | Actor::Admin => None,
            Actor::Staff(session) => Some(session.staff_id),
        }
    }
}

/// What a scanned code turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scanned {
    Staff(Session),
    /// A promo code of the menu, as the menu writes it: for the cart's `promo`.
    Promo(String),
    Unknown,
}

/// An account as listed (no secrets).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StaffMember {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// Locked against PINs until this Unix time.
    pub locked_until: Option<i64>,
    pub created_at: String,
}

impl From<staff_table::StoredStaff> for StaffMember {
    fn from(stored: staff_table::StoredStaff) -> StaffMember {
        StaffMember {
            id: stored.id,
            name: stored.name,
            role: stored.role,
            locked_until: stored.locked_until,
            created_at: stored.created_at,
        }
    }
}

fn badge_digest(badge: &BadgeCode) -> String {
    hex::encode(Sha256::digest(badge.as_str().as_bytes()))
}

/// An account a policy provisions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvisionedAccount {
    pub name: String,
    pub role: Role,
    /// The PIN's Argon2 hash, as a PHC string.
    pub pin_hash: String,
    pub badge: Option<BadgeCode>,
}

/// What provisioning did, by account name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Provisioned {
    pub added: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
}

/// Argon2 is slow on purpose: it runs off the async threads.
async fn hash_pin(pin: &Pin) -> Result<String> {
    let salt = random_bytes::<16>().map_err(|e| EngineError::BadInput(format!("cannot draw a salt: {e}")))?;
    let pin = pin.clone();
    let hash = tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&salt).expect("16 bytes make a salt");
        Argon2::default().hash_password(pin.as_str().as_bytes(), &salt).expect("argon2 hashes a PIN").to_string()
    })
    .await
    .expect("hashing does not panic");
    Ok(hash)
}

async fn pin_matches(pin: &Pin, hash: &str) -> bool {
    let (pin, hash) = (pin.clone(), hash.to_owned());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .is_ok_and(|parsed| Argon2::default().verify_password(pin.as_str().as_bytes(), &parsed).is_ok())
    })
    .await
    .expect("verifying does not panic")
}

fn valid_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        return Err(EngineError::BadInput("a staff name is 1 to 40 characters".into()));
    }
    Ok(name)
}

impl Engine {
    /// Refuses `actor` an action its role does not allow. A session is checked against the
    /// account as it is now: a removed or demoted member loses the right at once. The kiosk
    /// acting on its own holds no staff permission.
    pub async fn require(&self, actor: &Actor, action: Permission) -> Result<()> {
        let session = match actor {
            Actor::Admin => return Ok(()),
            Actor::Kiosk => return Err(EngineError::Forbidden { who: "the kiosk".into(), action }),
            Actor::Staff(session) => session,
        };
        let current = staff_table::by_id(&mut *self.store.read().await?, session.staff_id).await?;
        match current {
            Some(member) if member.role.may(action) => Ok(()),
            _ => Err(EngineError::Forbidden { who: session.name.clone(), action }),
        }
    }

    /// Records that `actor` did `action`, in the transaction that does it.
    pub(crate) async fn record_action(
        &self,
        conn: &mut kiosk_store::Connection,
        actor: &Actor,
        action: &str,
        detail: &str,
    ) -> Result<()> {
        let now = timestamp(&self.now());
        staff_table::record_action(conn, &actor.label(), actor.staff_id(), action, detail, &now).await?;
        Ok(())
    }

    pub async fn add_staff(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
        pin: &Pin,
        badge: Option<&BadgeCode>,
    ) -> Result<StaffMember> {
        self.require(actor, Permission::ManageStaff).await?;
        let name = valid_name(name)?;
        let hash = hash_pin(pin).await?;
        let now = timestamp(&self.now());
        let mut tx = self.store.write().await?;
        let digest = badge.map(badge_digest);
        staff_table::insert(&mut tx, name, role, &hash, digest.as_deref(), &now).await?;
        self.record_action(&mut tx, actor, "staff.add", &format!("{name} as {role}")).await?;
        let added = staff_table::by_name(&mut tx, name).await?.ok_or_else(|| EngineError::UnknownStaff(name.into()))?;
        commit(tx, "adding a staff account").await?;
        Ok(added.into())
    }

    /// Makes the accounts a policy lists exist as it says (IT provisions staff without ever
    /// seeing a PIN: it arrives as its Argon2 hash). Accounts it does not list are left alone;
    /// a list with any bad account changes nothing.
    pub async fn provision_staff(&self, actor: &Actor, accounts: &[ProvisionedAccount]) -> Result<Provisioned> {
        self.require(actor, Permission::ManageStaff).await?;
        for account in accounts {
            valid_name(&account.name)?;
            let parsed = PasswordHash::new(&account.pin_hash);
            let whole = |hash: PasswordHash<'_>| {
                hash.algorithm.as_str().starts_with("argon2") && hash.salt.is_some() && hash.hash.is_some()
            };
            if !parsed.is_ok_and(whole) {
                return Err(EngineError::BadInput(format!(
                    "{}: the PIN hash is not an Argon2 PHC string",
                    account.name
                )));
            }
        }
        let mut provisioned = Provisioned::default();
        let mut tx = self.store.write().await?;
        for account in accounts {
            let name = valid_name(&account.name)?;
            let digest = account.badge.as_ref().map(badge_digest);
            match staff_table::by_name(&mut tx, name).await? {
                None => {
                    let now = timestamp(&self.now());
                    staff_table::insert(&mut tx, name, account.role, &account.pin_hash, digest.as_deref(), &now)
                        .await?;
                    self.record_action(&mut tx, actor, "staff.provision", &format!("{name} as {}", account.role))
                        .await?;
                    provisioned.added.push(name.to_owned());
                }
                Some(existing) if existing.role != account.role || existing.pin_hash != account.pin_hash => {
                    staff_table::update_account(&mut tx, existing.id, account.role, digest.as_deref()).await?;
                    if existing.pin_hash != account.pin_hash {
                        staff_table::set_pin(&mut tx, existing.id, &account.pin_hash).await?;
                    }
                    let what = format!(
                        "{name} as {}, PIN {}",
                        account.role,
                        if existing.pin_hash == account.pin_hash { "kept" } else { "replaced" }
                    );
                    self.record_action(&mut tx, actor, "staff.provision", &what).await?;
                    provisioned.updated.push(name.to_owned());
                }
                Some(_) => provisioned.unchanged.push(name.to_owned()),
            }
        }
        commit(tx, "provisioning staff accounts").await?;
        Ok(provisioned)
    }

    /// The active accounts, by name.
    pub async fn staff(&self) -> Result<Vec<StaffMember>> {
        Ok(staff_table::list(&mut *self.store.read().await?).await?.into_iter().map(StaffMember::from).collect())
    }

    pub async fn remove_staff(&self, actor: &Actor, name: &str) -> Result<()> {
        let name = name.trim();
        self.require(actor, Permission::ManageStaff).await?;
        let mut tx = self.store.write().await?;
        if !staff_table::remove(&mut tx, name, &timestamp(&self.now())).await? {
            return Err(EngineError::UnknownStaff(name.to_owned()));
        }
        self.record_action(&mut tx, actor, "staff.remove", name).await?;
        commit(tx, "removing a staff account").await?;
        Ok(())
    }

    /// Gives an account a new PIN, which also unlocks it.
    pub async fn reset_pin(&self, actor: &Actor, name: &str, pin: &Pin) -> Result<()> {
        let name = name.trim();
        self.require(actor, Permission::ManageStaff).await?;
        let hash = hash_pin(pin).await?;
        let mut tx = self.store.write().await?;
        let member =
            staff_table::by_name(&mut tx, name).await?.ok_or_else(|| EngineError::UnknownStaff(name.into()))?;
        staff_table::set_pin(&mut tx, member.id, &hash).await?;
        self.record_action(&mut tx, actor, "staff.reset_pin", name).await?;
        commit(tx, "resetting a PIN").await?;
        Ok(())
    }

    /// Signs a member in by name and PIN. Five wrong PINs in a row lock the account for a
    /// minute, five more for two, and so on. The PIN is checked first (slowly, outside any
    /// transaction); the count and the lock are then read and written in one transaction, so
    /// guesses made in parallel each count.
    pub async fn sign_in(&self, name: &str, pin: &Pin) -> Result<Session> {
        let name = name.trim();
        let member = staff_table::by_name(&mut *self.store.read().await?, name)
            .await?
            .ok_or_else(|| EngineError::UnknownStaff(name.to_owned()))?;
        let matches = pin_matches(pin, &member.pin_hash).await;
        let now = self.now().timestamp();
        let mut tx = self.store.write().await?;
        let member =
            staff_table::by_id(&mut tx, member.id).await?.ok_or_else(|| EngineError::UnknownStaff(name.into()))?;
        if let Some(until) = member.locked_until.filter(|&until| until > now) {
            return Err(EngineError::Locked { name: member.name, seconds: until - now });
        }
        if !matches {
            let failures = staff_table::count_failure(&mut tx, member.id).await?;
            let lock = lock_after(failures).map(|seconds| now + seconds as i64);
            if let Some(until) = lock {
                staff_table::lock_until(&mut tx, member.id, until).await?;
            }
            commit(tx, "counting a wrong PIN").await?;
            return Err(match lock {
                Some(until) => EngineError::Locked { name: member.name, seconds: until - now },
                None => EngineError::WrongPin {
                    name: member.name,
                    tries_before_lock: FAILURES_BEFORE_LOCK - failures % FAILURES_BEFORE_LOCK,
                },
            });
        }
        staff_table::clear_failures(&mut tx, member.id).await?;
        let session = Session { staff_id: member.id, name: member.name, role: member.role };
        self.record_action(&mut tx, &Actor::Staff(session.clone()), "staff.sign_in", "pin").await?;
        commit(tx, "signing in").await?;
        Ok(session)
    }

    /// Signs a member in with a scanned badge; a locked account stays locked.
    pub async fn sign_in_with_badge(&self, badge: &BadgeCode) -> Result<Session> {
        let now = self.now().timestamp();
        let mut tx = self.store.write().await?;
        let member = staff_table::by_badge(&mut tx, &badge_digest(badge)).await?.ok_or(EngineError::UnknownBadge)?;
        if let Some(until) = member.locked_until.filter(|&until| until > now) {
            return Err(EngineError::Locked { name: member.name, seconds: until - now });
        }
        let session = Session { staff_id: member.id, name: member.name, role: member.role };
        self.record_action(&mut tx, &Actor::Staff(session.clone()), "staff.sign_in", "badge").await?;
        commit(tx, "signing in").await?;
        Ok(session)
    }

    /// What a scan means: a staff badge signs its owner in; otherwise a promo code of the menu
    /// in use goes to the cart. Anything else is dropped with a log line.
    pub async fn scanned(&self, code: &str) -> Result<Scanned> {
        // A read first: most scans are promo codes, and they must not queue behind payments
        // for the write lock.
        if let Ok(badge) = BadgeCode::parse(code)
            && staff_table::by_badge(&mut *self.store.read().await?, &badge_digest(&badge)).await?.is_some()
        {
            return Ok(Scanned::Staff(self.sign_in_with_badge(&badge).await?));
        }
        let menu = self.active_menu().await?;
        if let Some(promo) = menu.menu.promo(code) {
            return Ok(Scanned::Promo(promo.code.clone()));
        }
        log::warn!("scan dropped: it is neither a staff badge nor a promo code ({} characters)", code.chars().count());
        Ok(Scanned::Unknown)
    }

    /// The latest recorded actions, newest first.
    pub async fn recent_actions(&self, limit: u32) -> Result<Vec<staff_table::ActionRow>> {
        Ok(staff_table::actions(&mut *self.store.read().await?, limit).await?)
    }
}
