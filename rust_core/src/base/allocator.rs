//! The library's allocator: its large allocations (a file's bytes, event vectors) are pages
//! mapped for them alone and unmapped when freed; the rest goes to the system's `malloc`.
//!
//! Through glibc's `malloc`, where a large block came from depended on what the process had
//! done before: glibc maps a block of 128 KiB or more of its own only until a mapped block is
//! freed, then raises that threshold (up to 32 MiB) and serves such blocks from its heaps,
//! trimming and regrowing them. After polars, DuckDB or pyarrow had run, a load's buffers came
//! from heaps that other libraries' frees had shaped, and the load ran up to 1.6x slower with ten
//! times the page faults. Mapped directly, every load's large buffers cost what they cost in a
//! fresh process, whatever ran before, and go back to the system the moment they are freed.
//!
//! This decides by size alone, and `GlobalAlloc` frees with the size it allocated, so a block
//! is always freed the way it was made; growing a mapped block remaps it without copying.
//! Only this library's Rust allocations come here (it is the `#[global_allocator]` of this
//! crate, not of the process); memory crossing the C ABI is freed by the side that made it.
//! Only `mmap`, `mremap` and `munmap` are called: no lock, nothing to reset after `fork`, and
//! all of them are in glibc 2.17. Elsewhere than Linux it is the system allocator unchanged.
//!
//! Under valgrind every block goes to `malloc`, large ones too: valgrind replaces `malloc` and
//! tracks each block it hands out, which is how its leak checks (CI's C hosts, corpus replay and
//! soak runs) see a large block that is never freed, as they cannot see mapped pages. The
//! process asks valgrind once, by its client request `RUNNING_ON_VALGRIND` (x86_64 only; on
//! other CPUs large blocks stay mapped, and unseen, under valgrind too).

use std::alloc::{GlobalAlloc, Layout, System};

/// Allocations this large or larger are mapped: well above the blocks the export's record
/// batches and the parse's small values need, which the system allocator recycles well.
const MAPPED_FROM: usize = 1 << 20;

/// The system allocator, with large blocks mapped of their own (see the module doc).
pub struct LargeBlocksMapped;

#[global_allocator]
static ALLOCATOR: LargeBlocksMapped = LargeBlocksMapped;

/// A page-aligned block always satisfies these: larger alignments go to the system.
#[cfg(target_os = "linux")]
const MAX_MAPPED_ALIGN: usize = 4096;

#[cfg(target_os = "linux")]
fn is_mapped(size: usize, align: usize) -> bool {
    size >= MAPPED_FROM && align <= MAX_MAPPED_ALIGN && !under_valgrind()
}

/// Whether the process runs under valgrind: asked once, the same answer for its whole life (so
/// a block is always freed the way it was made).
#[cfg(target_os = "linux")]
fn under_valgrind() -> bool {
    use std::sync::atomic::{AtomicU8, Ordering};
    const UNKNOWN: u8 = 0;
    const NO: u8 = 1;
    const YES: u8 = 2;
    static ANSWER: AtomicU8 = AtomicU8::new(UNKNOWN);
    match ANSWER.load(Ordering::Relaxed) {
        NO => false,
        YES => true,
        _ => {
            let running = running_on_valgrind();
            ANSWER.store(if running { YES } else { NO }, Ordering::Relaxed);
            running
        }
    }
}

/// valgrind's client request `RUNNING_ON_VALGRIND`, as `valgrind.h` defines the protocol for
/// amd64: `%rax` points at the request (its code 0x1001 and five arguments), `%rdx` holds the
/// answer to give when not under valgrind (0), and the request is the "special instruction
/// preamble" (four rotations of `%rdi` by 3, 13, 61 and 51 bits: 128 in all, so `%rdi` is
/// unchanged) followed by `xchg %rbx,%rbx`. On a CPU these are plain instructions that change
/// no register and `%rdx` stays 0; valgrind's JIT recognises the sequence and puts its answer,
/// the number of valgrinds the process runs under, in `%rdx`. (The `valgrind.h` header, the
/// usual way to send it, is not there where wheels are built; this is the same bytes.)
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn running_on_valgrind() -> bool {
    const RUNNING_ON_VALGRIND: u64 = 0x1001;
    let request: [u64; 6] = [RUNNING_ON_VALGRIND, 0, 0, 0, 0, 0];
    let answer: u64;
    // SAFETY: the instructions only rotate `%rdi` (declared clobbered, though left as it was),
    // exchange `%rbx` with itself and set the flags; valgrind reads the six words at `%rax`,
    // which live until the block ends, and writes `%rdx` only.
    unsafe {
        std::arch::asm!(
            "rol rdi, 3",
            "rol rdi, 13",
            "rol rdi, 61",
            "rol rdi, 51",
            "xchg rbx, rbx",
            in("rax") request.as_ptr(),
            inout("rdx") 0u64 => answer,
            out("rdi") _,
            options(nostack, readonly),
        );
    }
    answer != 0
}

#[cfg(all(target_os = "linux", not(target_arch = "x86_64")))]
fn running_on_valgrind() -> bool {
    false
}

/// Fresh zeroed pages, or null.
#[cfg(target_os = "linux")]
unsafe fn map(size: usize) -> *mut u8 {
    let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
    let pointer = libc::mmap(std::ptr::null_mut(), size, libc::PROT_READ | libc::PROT_WRITE, flags, -1, 0);
    if pointer == libc::MAP_FAILED {
        std::ptr::null_mut()
    } else {
        pointer.cast()
    }
}

#[cfg(target_os = "linux")]
unsafe fn unmap(pointer: *mut u8, size: usize) {
    libc::munmap(pointer.cast(), size);
}

/// The block moved or grown in place, its contents kept; null (the old block intact) if that
/// cannot be done.
#[cfg(target_os = "linux")]
unsafe fn remap(pointer: *mut u8, old_size: usize, new_size: usize) -> *mut u8 {
    let moved = libc::mremap(pointer.cast(), old_size, new_size, libc::MREMAP_MAYMOVE);
    if moved == libc::MAP_FAILED {
        std::ptr::null_mut()
    } else {
        moved.cast()
    }
}

// SAFETY: every block is freed, grown or shrunk by the same means that made it, decided by the
// size and alignment `GlobalAlloc` passes back unchanged; mapped blocks are page-aligned, which
// satisfies every alignment they are used for.
unsafe impl GlobalAlloc for LargeBlocksMapped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        #[cfg(target_os = "linux")]
        if is_mapped(layout.size(), layout.align()) {
            return map(layout.size());
        }
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        #[cfg(target_os = "linux")]
        if is_mapped(layout.size(), layout.align()) {
            return map(layout.size());
        }
        System.alloc_zeroed(layout)
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        #[cfg(target_os = "linux")]
        if is_mapped(layout.size(), layout.align()) {
            return unmap(pointer, layout.size());
        }
        System.dealloc(pointer, layout)
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        #[cfg(target_os = "linux")]
        {
            let (was_mapped, is_mapped) =
                (is_mapped(layout.size(), layout.align()), is_mapped(new_size, layout.align()));
            if was_mapped && is_mapped {
                let moved = remap(pointer, layout.size(), new_size);
                // `mremap` moves one mapping only: a block that `madvise` split (huge pages for
                // part of it) is copied instead.
                if !moved.is_null() {
                    return moved;
                }
            }
            if was_mapped || is_mapped {
                // Across the threshold: a new block of the other kind, the contents copied.
                let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
                let moved = self.alloc(new_layout);
                if !moved.is_null() {
                    std::ptr::copy_nonoverlapping(pointer, moved, layout.size().min(new_size));
                    self.dealloc(pointer, layout);
                }
                return moved;
            }
        }
        System.realloc(pointer, layout, new_size)
    }
}

#[cfg(test)]
mod tests {
    /// Vectors grown and shrunk across the threshold keep their contents, whichever way each
    /// block was made, and so does one whose mapping `madvise` split.
    #[test]
    #[cfg(target_os = "linux")]
    fn blocks_keep_their_contents_across_the_threshold() {
        let mut values: Vec<u64> = Vec::new();
        for round in 0..3u64 {
            values.extend((0..400_000).map(|value| value ^ round));
            assert!(values.len() * 8 > super::MAPPED_FROM);
            values.truncate(1_000);
            values.shrink_to_fit();
            assert!(values.iter().enumerate().all(|(index, value)| *value == index as u64 ^ round));
            values.clear();
            values.shrink_to_fit();
        }
        let mut split = vec![7u8; 8 << 20];
        let inner = (split.as_ptr() as usize).next_multiple_of(2 << 20);
        // SAFETY: a range inside the vector's allocation; the advice changes no contents.
        assert_eq!(unsafe { libc::madvise(inner as *mut libc::c_void, 2 << 20, libc::MADV_HUGEPAGE) }, 0);
        split.extend_from_slice(&[8; 1000]);
        assert!(split[..8 << 20].iter().all(|byte| *byte == 7) && split[8 << 20..].iter().all(|byte| *byte == 8));
        let zeroed = vec![0u8; 3 * super::MAPPED_FROM];
        assert!(zeroed.iter().all(|byte| *byte == 0));
    }
}
