//! The dependency graph ARCHITECTURE.md draws, enforced: `cargo metadata` is read and every
//! workspace crate's dependencies are checked against the crates it may use.

use serde_json::Value;

/// Each workspace crate, the workspace crates it may depend on (to build and run; tests may
/// add `kiosk-tests`), and outside crates it must never use.
const RULES: &[(&str, &[&str], &[&str])] = &[
    ("kiosk-core", &[], &["sqlx", "tokio", "slint", "reqwest", "escpos", "evdev", "nusb"]),
    ("kiosk-store", &["kiosk-core"], &["slint", "reqwest", "escpos", "evdev", "nusb"]),
    ("kiosk-devices", &["kiosk-core"], &["sqlx", "slint"]),
    ("kiosk-protocol", &["kiosk-core"], &["sqlx", "tokio", "slint", "reqwest"]),
    ("kiosk-engine", &["kiosk-core", "kiosk-store", "kiosk-devices"], &["slint"]),
    ("kiosk-headless", &[], &["sqlx", "reqwest", "escpos", "evdev", "nusb"]),
    ("kiosk-app", &["kiosk-engine", "kiosk-protocol", "kiosk-headless"], &["sqlx", "escpos", "evdev", "nusb"]),
    ("kiosk-agent", &["kiosk-engine", "kiosk-protocol"], &["slint", "sqlx", "escpos", "evdev", "nusb"]),
    (
        "kiosk-tests",
        &["kiosk-core", "kiosk-store", "kiosk-devices", "kiosk-engine", "kiosk-protocol", "kiosk-agent"],
        &["slint"],
    ),
];

/// What `cargo metadata` says of the workspace's own packages.
fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON")
}

/// Every dependency the rules forbid, in words; and every crate they do not know.
fn violations(metadata: &Value) -> Vec<String> {
    let mut found = Vec::new();
    for package in metadata["packages"].as_array().expect("packages") {
        let name = package["name"].as_str().expect("a package name");
        let Some((_, allowed, forbidden)) = RULES.iter().find(|(crate_name, ..)| *crate_name == name) else {
            found.push(format!("{name} is not in the architecture's rules: add it (and to ARCHITECTURE.md)"));
            continue;
        };
        for dependency in package["dependencies"].as_array().expect("dependencies") {
            let used = dependency["name"].as_str().expect("a dependency name");
            let for_tests = dependency["kind"].as_str() == Some("dev");
            if forbidden.contains(&used) {
                found.push(format!("{name} depends on {used}, which it must never use"));
            } else if used.starts_with("kiosk-") && !allowed.contains(&used) && !(for_tests && used == "kiosk-tests") {
                found.push(format!("{name} depends on {used}: it may use only {allowed:?}"));
            }
        }
    }
    found
}

#[test]
fn crates_depend_only_as_the_architecture_says() {
    let metadata = metadata();
    let members = metadata["packages"].as_array().expect("packages").len();
    assert_eq!(members, RULES.len(), "every workspace crate has its rule, and every rule its crate");
    assert_eq!(violations(&metadata), Vec::<String>::new());
}

#[test]
fn a_forbidden_dependency_is_named() {
    let mut metadata = metadata();
    let app = metadata["packages"]
        .as_array_mut()
        .expect("packages")
        .iter_mut()
        .find(|package| package["name"] == "kiosk-app")
        .expect("the app is a workspace crate");
    let dependencies = app["dependencies"].as_array_mut().expect("dependencies");
    dependencies.push(serde_json::json!({ "name": "kiosk-store", "kind": null }));
    dependencies.push(serde_json::json!({ "name": "sqlx", "kind": null }));
    // Test support is fine under [dev-dependencies], not under [dependencies].
    dependencies.push(serde_json::json!({ "name": "kiosk-tests", "kind": null }));
    assert_eq!(
        violations(&metadata),
        [
            r#"kiosk-app depends on kiosk-store: it may use only ["kiosk-engine", "kiosk-protocol", "kiosk-headless"]"#,
            "kiosk-app depends on sqlx, which it must never use",
            r#"kiosk-app depends on kiosk-tests: it may use only ["kiosk-engine", "kiosk-protocol", "kiosk-headless"]"#,
        ]
    );
}
