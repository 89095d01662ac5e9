//! Compiles the touch UI (`ui/`) with the French translation bundled into the binary, and
//! with the element names the flow tests find controls by.

fn main() {
    let config = slint_build::CompilerConfiguration::new()
        .with_bundled_translations("../ui/translations")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None)
        .with_debug_info(true);
    println!("cargo:rerun-if-changed=../ui");
    slint_build::compile_with_config("../ui/kiosk.slint", config).expect("the UI in ui/ compiles");
}
