//! The fleet's remote actions carried out (see [`crate::remote`] for how each command is
//! checked first): each ends in an acknowledgement, queued for the heartbeat sent next.

use kiosk_protocol::{AckOutcome, Activity, Answer, Command, RemoteAction, RemoteCommand};

use crate::daemon::{Agent, MAINTENANCE};
use crate::remote::{self, acknowledge};

/// Why a command checked and accepted was not carried out.
enum NotDone {
    /// What it asks cannot be done here (an app the policy does not list, a wipe that would
    /// lose the fiscal archive).
    Refused(String),
    /// Carrying it out failed.
    Failed(String),
}

fn failed(error: anyhow::Error) -> NotDone {
    NotDone::Failed(format!("{error:#}"))
}

impl Agent {
    /// Checks and carries out the fleet's commands, in the order sent, each acknowledged; true
    /// when one asks for the machine to restart (done by the caller once the acknowledgements
    /// are sent).
    pub(crate) async fn carry_out(&self, commands: Vec<serde_json::Value>) -> bool {
        let mut reboot = false;
        for value in commands {
            let last_seq = self.remote.lock().expect("remote lock").last_seq;
            let key = self.command_key.as_ref().map_err(String::as_str);
            let device_id = &self.updater.device_id;
            let ack = match remote::check(&value, key, device_id, last_seq, chrono::Utc::now()) {
                Err(refusal) => {
                    log::warn!("a fleet command is refused: {}", refusal.reason);
                    refusal.ack()
                }
                Ok(command) => {
                    // The number is used up before anything is done: a command cut short by a
                    // crash or a reboot is never carried out twice.
                    self.update_remote(|state| state.last_seq = command.seq);
                    let name = command.action.name();
                    let (outcome, detail) = match self.act(&command).await {
                        Ok(detail) => {
                            log::info!("fleet command {} ({name}) done: {detail}", command.seq);
                            reboot |= matches!(command.action, RemoteAction::Reboot | RemoteAction::Wipe { .. });
                            (AckOutcome::Done, detail)
                        }
                        Err(NotDone::Refused(why)) => {
                            log::warn!("fleet command {} ({name}) refused: {why}", command.seq);
                            (AckOutcome::Refused, why)
                        }
                        Err(NotDone::Failed(why)) => {
                            log::error!("fleet command {} ({name}) failed: {why}", command.seq);
                            (AckOutcome::Failed, why)
                        }
                    };
                    acknowledge(Some(command.seq), Some(name.to_owned()), outcome, detail)
                }
            };
            self.update_remote(|state| state.pending.push(ack));
        }
        reboot
    }

    async fn act(&self, command: &RemoteCommand) -> Result<String, NotDone> {
        let service = &self.updater.service;
        match &command.action {
            RemoteAction::RestartApp => {
                self.no_payment_under_way().await?;
                service.restart_app().await.map_err(failed)?;
                Ok("the app was restarted".into())
            }
            RemoteAction::Reboot => {
                self.no_payment_under_way().await?;
                Ok("the machine restarts once this is acknowledged".into())
            }
            RemoteAction::Screenshot => {
                let png = match self.updater.app.ask(Command::Screenshot).await.map_err(failed)? {
                    Answer::Screenshot { png } => png,
                    other => return Err(NotDone::Failed(format!("the app answered {other:?}"))),
                };
                self.upload(command.seq, "screenshot.png", &png).await?;
                Ok(format!("screenshot.png uploaded ({} bytes, card data masked by the app)", png.len()))
            }
            RemoteAction::UploadLogs { lines } => {
                let logs = service.recent_logs(*lines).await.map_err(failed)?;
                self.upload(command.seq, "logs.txt", logs.as_bytes()).await?;
                Ok(format!("logs.txt uploaded ({} lines)", logs.lines().count()))
            }
            RemoteAction::EnterMaintenance { reason } => {
                self.update_remote(|state| state.maintenance = Some(reason.clone()));
                let out = Command::OutOfService { reason: format!("{MAINTENANCE}{reason}") };
                Ok(match self.updater.app.ask(out).await {
                    Ok(_) => "in maintenance: the out-of-service screen is shown".into(),
                    Err(error) => format!("in maintenance; the app is told at the next heartbeat ({error:#})"),
                })
            }
            RemoteAction::LeaveMaintenance => {
                self.update_remote(|state| state.maintenance = None);
                Ok(match self.updater.app.ask(Command::BackInService).await {
                    Ok(_) => "back in service".into(),
                    Err(error) => format!("out of maintenance; the app is told at the next heartbeat ({error:#})"),
                })
            }
            RemoteAction::ShowApp { app } => self.show(app.as_deref()).await,
            RemoteAction::Wipe { force_reason } => self.wipe(command.seq, force_reason.as_deref()).await,
        }
    }

    /// A restart or a wipe waits for the customer paying to finish: the fleet sends it again.
    async fn no_payment_under_way(&self) -> Result<(), NotDone> {
        if let Ok(Answer::State(state)) = self.updater.app.ask(Command::State).await
            && state.activity == Activity::Paying
        {
            return Err(NotDone::Failed("a customer is paying: send the command again once it is over".into()));
        }
        Ok(())
    }

    async fn upload(&self, seq: u64, name: &str, bytes: &[u8]) -> Result<(), NotDone> {
        let fleet = self.fleet.as_ref().ok_or_else(|| NotDone::Failed("no fleet to upload to".into()))?;
        fleet.upload(&self.updater.device_id, seq, name, bytes).await.map_err(failed)
    }

    /// Multi-app mode: `app` owns the screen until told otherwise; none: the schedule again.
    async fn show(&self, app: Option<&str>) -> Result<String, NotDone> {
        let policy = self.policy.lock().expect("policy lock").clone();
        let apps = policy.map(|policy| policy.kiosk.apps).unwrap_or_default();
        if apps.is_empty() {
            return Err(NotDone::Refused("the policy in force is not multi-app: the kiosk app owns the screen".into()));
        }
        if let Some(app) = app
            && !apps.iter().any(|listed| listed == app)
        {
            return Err(NotDone::Refused(format!("{app} is not one of the policy's apps ({})", apps.join(", "))));
        }
        self.update_remote(|state| state.screen = app.map(str::to_owned));
        self.arrange_screen().await;
        let shown = self.screen.lock().expect("screen lock").clone().unwrap_or_default();
        match app {
            Some(app) if shown != app => Err(NotDone::Failed(format!("{app} could not be shown (see the logs)"))),
            Some(app) => Ok(format!("{app} owns the screen until told otherwise")),
            None => Ok(format!("back to the policy's schedule: {shown} owns the screen")),
        }
    }

    /// Back to factory state, once the fleet holds the fiscal journal and the Z archive (or,
    /// forced, without them, the reason logged).
    async fn wipe(&self, seq: u64, force_reason: Option<&str>) -> Result<String, NotDone> {
        self.no_payment_under_way().await?;
        let config = &self.updater.config;
        let mut detail = match self.hand_over_fiscal_archive(seq).await {
            Ok(names) => format!("the fleet confirmed it holds {}; ", names.join(" and ")),
            Err(why) => match force_reason {
                None => {
                    return Err(NotDone::Refused(format!(
                        "the fiscal journal and Z archive, which the venue must keep, are not in the fleet's \
                         hands ({why}): nothing was wiped; force the wipe with a reason to go ahead without them"
                    )));
                }
                Some(reason) => {
                    log::warn!("wipe forced without the fiscal archive ({why}): {reason}");
                    format!("forced without the fiscal archive ({why}), because: {reason}; ")
                }
            },
        };
        self.updater.service.stop_app().await.map_err(failed)?;
        remote::remove_all(&remote::wipe_targets(config)).map_err(failed)?;
        self.update_remote(|state| {
            state.maintenance = None;
            state.screen = None;
        });
        detail.push_str("data, keys and enrolment removed; the machine restarts in factory state");
        log::warn!("wiped: {detail}");
        Ok(detail)
    }

    /// Writes the fiscal archive (as the database's owner) and uploads it; the names uploaded.
    async fn hand_over_fiscal_archive(&self, seq: u64) -> Result<Vec<String>, String> {
        let folder = &self.updater.config.paths.backups;
        std::fs::create_dir_all(folder).map_err(|error| format!("cannot create {}: {error}", folder.display()))?;
        let files = self.updater.database.fiscal_archive(folder).await.map_err(|error| format!("{error:#}"))?;
        let mut names = Vec::new();
        for file in files {
            let name = file.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
            let bytes = std::fs::read(&file).map_err(|error| format!("cannot read {}: {error}", file.display()))?;
            self.upload(seq, &name, &bytes).await.map_err(|not_done| match not_done {
                NotDone::Refused(why) | NotDone::Failed(why) => why,
            })?;
            names.push(name);
        }
        Ok(names)
    }
}
