//! Training mode, as certified cash-register software has it: sales on a simulated terminal,
//! and sales while a manager has switched training on, are training sales. They are marked on
//! screen and on every ticket, paid on a simulated terminal (no money moves), recorded in a
//! journal of their own, and kept out of the fiscal journal and the X and Z totals.

use kiosk_core::staff::Permission;
use kiosk_store::{Connection, commit, meta};
use serde::{Deserialize, Serialize};

use crate::clock::timestamp;
use crate::{Actor, Engine, EngineError, Result};

/// The `kiosk_meta` name of the manager's training switch.
const SWITCH: &str = "training";

/// Why sales are training sales now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "because", rename_all = "snake_case")]
pub enum Training {
    /// The payment terminal is the simulator: every sale is a training sale.
    Simulator,
    /// A manager switched training on.
    SwitchedOn { by: String, at: String },
}

impl Engine {
    /// Whether sales are training sales now, and why.
    pub async fn training(&self) -> Result<Option<Training>> {
        self.training_in(&mut *self.store.read().await?).await
    }

    pub(crate) async fn training_in(&self, conn: &mut Connection) -> Result<Option<Training>> {
        if self.simulated_till {
            return Ok(Some(Training::Simulator));
        }
        // Fail closed: a switch that cannot be read is on, never silently off.
        let switch = meta::get(conn, SWITCH).await?;
        Ok(switch.map(|value| {
            serde_json::from_str(&value).unwrap_or_else(|error| {
                log::error!("the training switch {value:?} cannot be read ({error}): training stays on");
                Training::SwitchedOn { by: "unknown".into(), at: String::new() }
            })
        }))
    }

    /// A manager switches training mode on or off; sales placed from now on follow it.
    pub async fn set_training(&self, actor: &Actor, on: bool) -> Result<()> {
        self.require(actor, Permission::Training).await?;
        if self.simulated_till {
            return Err(EngineError::BadInput(
                "this kiosk's terminal is the simulator: every sale is a training sale".into(),
            ));
        }
        let mut tx = self.store.write().await?;
        if on {
            let switched = Training::SwitchedOn { by: actor.to_string(), at: timestamp(&self.now()) };
            meta::set(&mut tx, SWITCH, &serde_json::to_string(&switched).expect("training serializes")).await?;
        } else {
            meta::remove(&mut tx, SWITCH).await?;
        }
        self.record_action(&mut tx, actor, "training", if on { "on" } else { "off" }).await?;
        commit(tx, "switching training mode").await?;
        log::warn!("training mode {} by {actor}", if on { "on" } else { "off" });
        Ok(())
    }
}
