//! The committed `include/barter_ffi.h` must be exactly what cbindgen makes of this crate now.

use std::path::{Path, PathBuf};

fn header_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../include/barter_ffi.h")
}

fn generate_header() -> String {
    let crate_dir = env!("CARGO_MANIFEST_DIR");
    let mut config =
        cbindgen::Config::from_file(Path::new(crate_dir).join("cbindgen.toml")).expect("cbindgen.toml is readable");
    // The release, from Cargo.toml (its one home), for hosts that want it at compile time.
    let version_macros = format!(
        "\n#define BARTER_FFI_VERSION \"{}\"\n#define BARTER_FFI_VERSION_MAJOR {}\n#define BARTER_FFI_VERSION_MINOR {}\n\
         #define BARTER_FFI_VERSION_PATCH {}\n",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH"),
    );
    config.after_includes = Some(config.after_includes.unwrap_or_default() + &version_macros + &layouts());
    let mut header = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen reads the crate")
        .write(&mut header);
    String::from_utf8(header).expect("cbindgen writes UTF-8")
}

/// A layout written down in a module doc's ```` ```text ```` block (its one home), as a C comment:
/// C hosts that decode what the library hands out read it in the header, which ships where the
/// crate's sources do not.
fn layout_comment(source_file: &str, title: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(source_file);
    let source = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{source_file}: {error}"));
    let doc: Vec<&str> = source
        .lines()
        .map_while(|line| line.strip_prefix("//!"))
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .collect();
    let start = doc.iter().position(|line| *line == "```text").expect("the module doc holds the layout") + 1;
    let end = start + doc[start..].iter().position(|line| *line == "```").expect("the layout's block ends");
    let layout: String = doc[start..end].iter().map(|line| format!(" * {line}\n")).collect();
    format!("\n/*\n * {title}\n *\n{layout} */\n")
}

fn layouts() -> String {
    layout_comment("src/output/wire.rs", "The batch layout: the MessagePack the cursors hand out and from_batch takes.")
        + &layout_comment(
            "src/output/summary.rs",
            "The summary layout: the MessagePack barter_ffi_market_data_summary hands out.",
        )
}

#[test]
fn committed_header_matches_the_crate() {
    let fresh = generate_header();
    if std::env::var_os("BARTER_FFI_BLESS_HEADER").is_some() {
        std::fs::write(header_path(), &fresh).expect("include/ is writable");
        return;
    }
    let committed = std::fs::read_to_string(header_path()).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/barter_ffi.h is stale: regenerate it with \
         `cd rust_core && BARTER_FFI_BLESS_HEADER=1 cargo test --test header` and commit it"
    );
}
