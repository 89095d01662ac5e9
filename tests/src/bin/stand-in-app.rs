//! A stand-in for the touch app in the update crash test: started from a release folder as the
//! app is (`releases/<version>/bin/kiosk-app --socket PATH`), it answers the agent on the app
//! socket as that release (its `RELEASE` file), waiting for a customer and passing its self
//! check, at once. The real app takes a second to start; two hundred rounds need less.

use anyhow::{Context, Result};
use kiosk_protocol::{Activity, Answer, Check, Command, Reply, Request, SelfCheckReport, StateSummary};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let socket = match (args.next().as_deref(), args.next()) {
        (Some("--socket"), Some(path)) => std::path::PathBuf::from(path),
        _ => anyhow::bail!("usage: stand-in-app --socket PATH"),
    };
    let exe = std::env::current_exe()?;
    let folder = exe.parent().and_then(|bin| bin.parent()).context("run from releases/<version>/bin")?;
    let release = std::fs::read_to_string(folder.join("RELEASE")).context("no RELEASE file")?.trim().to_owned();
    let _ = std::fs::remove_file(&socket);
    let listener =
        tokio::net::UnixListener::bind(&socket).with_context(|| format!("cannot bind {}", socket.display()))?;
    loop {
        let (stream, _) = listener.accept().await?;
        let release = release.clone();
        tokio::spawn(async move {
            let (reading, mut writing) = stream.into_split();
            let mut lines = BufReader::new(reading).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let answer = match Request::parse(&line).map(|request| request.body) {
                    Ok(Command::SelfCheck) => Answer::SelfCheck(SelfCheckReport {
                        release: release.clone(),
                        test_order: Check { ok: true, detail: "10.50".into() },
                        receipt_printer: Check { ok: true, detail: "ready".into() },
                        terminal: Check { ok: true, detail: "answers".into() },
                    }),
                    Ok(Command::State) => Answer::State(StateSummary {
                        release: release.clone(),
                        activity: Activity::Attract,
                        since: "2026-12-03T03:00:00Z".into(),
                        order: None,
                        last_frame: None,
                        training: true,
                        out_of_service: None,
                    }),
                    Ok(other) => Answer::Refused { reason: format!("the stand-in does not do {other:?}") },
                    Err(error) => Answer::Refused { reason: error.to_string() },
                };
                if writing.write_all((Reply::new(answer).to_json() + "\n").as_bytes()).await.is_err() {
                    return;
                }
            }
        });
    }
}
