//! Compiles the touch UI (`ui/`) with the French translation bundled into the binary, and
//! with the element names the flow tests find controls by.

fn main() {
    let config = slint_build::CompilerConfiguration::new()
        .with_bundled_translations("../ui/translations")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None)
        .with_debug_info(true);
    println!("cargo:rerun-if-changed=../ui");
    // The binary's 1.3 MB of relative relocations, read in full at every start, packed into
    // 20 kB (DT_RELR, glibc 2.36 as in Debian 12 and the image): 1.3 MiB less memory, and
    // the binary stays position-independent.
    println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    slint_build::compile_with_config("../ui/kiosk.slint", config).expect("the UI in ui/ compiles");
}
