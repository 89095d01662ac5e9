//! Alerts for staff and the health report: raised by the engine when something needs a
//! person (a kitchen ticket given up, a journal that failed its check), listed on the staff
//! screen, cleared by staff or by their cause going away.

use kiosk_core::alert::AlertKind;
use kiosk_store::{StoreError, alerts, commit};
use serde::Serialize;

use crate::clock::timestamp;
use crate::{Actor, Engine, EngineError, Result};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub id: i64,
    #[serde(serialize_with = "kind_code")]
    pub kind: AlertKind,
    pub subject: String,
    pub message: String,
    pub raised_at: String,
}

fn kind_code<S: serde::Serializer>(kind: &AlertKind, serializer: S) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(kind.code())
}

impl TryFrom<alerts::StoredAlert> for Alert {
    type Error = EngineError;
    fn try_from(stored: alerts::StoredAlert) -> Result<Alert> {
        let kind = AlertKind::parse(&stored.kind)
            .ok_or_else(|| StoreError::Corrupt(format!("alert {} has kind {:?}", stored.id, stored.kind)))?;
        Ok(Alert { id: stored.id, kind, subject: stored.subject, message: stored.message, raised_at: stored.raised_at })
    }
}

impl Engine {
    /// The open alerts, oldest first.
    pub async fn alerts(&self) -> Result<Vec<Alert>> {
        let stored = alerts::open(&mut *self.store.read().await?).await?;
        stored.into_iter().map(Alert::try_from).collect()
    }

    /// Raises an alert in its own transaction (once while open) and logs it.
    pub(crate) async fn raise_alert(&self, kind: AlertKind, subject: &str, message: &str) -> Result<()> {
        log::error!("alert {kind} ({subject}): {message}");
        let mut tx = self.store.write().await?;
        alerts::raise(&mut tx, kind.code(), subject, message, &timestamp(&self.now())).await?;
        commit(tx, "raising an alert").await?;
        Ok(())
    }

    /// Clears the open alerts of a kind whose cause is gone.
    pub(crate) async fn clear_alerts(&self, kind: AlertKind) -> Result<()> {
        let mut tx = self.store.write().await?;
        alerts::clear_kind(&mut tx, kind.code(), &Actor::Kiosk.to_string(), &timestamp(&self.now())).await?;
        commit(tx, "clearing alerts").await?;
        Ok(())
    }

    /// Staff saw to an alert (told the kitchen about a ticket, say).
    pub async fn clear_alert(&self, actor: &Actor, id: i64) -> Result<()> {
        let alert = self.alerts().await?.into_iter().find(|a| a.id == id).ok_or(EngineError::NoSuchAlert(id))?;
        if !alert.kind.staff_may_clear() {
            return Err(EngineError::AlertStays { kind: alert.kind });
        }
        let mut tx = self.store.write().await?;
        let now = timestamp(&self.now());
        alerts::clear(&mut tx, id, &actor.to_string(), &now).await?;
        self.record_action(&mut tx, actor, "alert.clear", &format!("{} {}", alert.kind, alert.subject)).await?;
        commit(tx, "clearing an alert").await?;
        Ok(())
    }
}
