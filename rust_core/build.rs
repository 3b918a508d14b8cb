//! Gives the shared library its own name to be known by: the SONAME on Linux, the install name on
//! macOS. Hosts linked against it then record `libbarter_ffi.so` and find it through their rpath,
//! not through the build path they happened to link. (Unversioned: wheels cannot carry the
//! `libbarter_ffi.so.0` symlink a versioned SONAME needs; `barter_ffi_abi_version` is the check.)
//!
//! On Linux the library is also never unloaded (`-z nodelete`). It hands out callbacks that
//! outlive any handle a host holds (an Arrow stream's; a Python capsule's destructor, which
//! runs whenever the interpreter gets to it at shutdown, perhaps after the module that loaded
//! the library dropped it), and it runs threads of its own: unloaded under either, the host
//! would jump into memory that is gone.

fn main() {
    match std::env::var("CARGO_CFG_TARGET_OS").as_deref() {
        Ok("linux") => {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libbarter_ffi.so");
            println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
        }
        Ok("macos") => println!("cargo:rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libbarter_ffi.dylib"),
        _ => {}
    }
}
