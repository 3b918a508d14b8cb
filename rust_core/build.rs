//! Gives the shared library its own name to be known by: the SONAME on Linux, the install name on
//! macOS. Hosts linked against it then record `libbarter_ffi.so` and find it through their rpath,
//! not through the build path they happened to link. (Unversioned: wheels cannot carry the
//! `libbarter_ffi.so.0` symlink a versioned SONAME needs; `barter_ffi_abi_version` is the check.)

fn main() {
    match std::env::var("CARGO_CFG_TARGET_OS").as_deref() {
        Ok("linux") => println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libbarter_ffi.so"),
        Ok("macos") => println!("cargo:rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libbarter_ffi.dylib"),
        _ => {}
    }
}
