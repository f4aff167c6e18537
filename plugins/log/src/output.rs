//! Writing log lines to standard output without a process-wide lock.
//!
//! Every thread formats into its own reusable buffer and hands the finished line (newline
//! included) to the kernel with one `write(2)` on fd 1. Lines from different threads never
//! interleave: a write of up to `PIPE_BUF` bytes to a pipe is atomic, and regular files and
//! terminals take each write whole. No lock is shared between query threads, and after the
//! first few lines nothing is allocated.
//!
//! Tests can divert the lines of their own thread with [`capture`].

use std::cell::{Cell, RefCell};

/// Buffers larger than this are dropped after use instead of kept (one huge line must not
/// pin memory on every thread).
const KEEP_CAPACITY: usize = 16 * 1024;

thread_local! {
    static LINE: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(512));
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    static CAPTURED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Formats one line with `fill` (which writes the text without the newline) and writes it.
pub fn line(fill: impl FnOnce(&mut Vec<u8>)) {
    LINE.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            fill(&mut buf);
            buf.push(b'\n');
            emit(&buf);
            if buf.capacity() > KEEP_CAPACITY {
                *buf = Vec::with_capacity(512);
            }
        }
        // Re-entered from inside `fill`: use a one-off buffer.
        Err(_) => {
            let mut buf = Vec::with_capacity(256);
            fill(&mut buf);
            buf.push(b'\n');
            emit(&buf);
        }
    });
}

/// Writes a whole line given as text (`[LEVEL] ` prefix included, newline added).
pub fn text(s: &str) {
    line(|b| b.extend_from_slice(s.as_bytes()));
}

fn emit(bytes: &[u8]) {
    if CAPTURING.with(Cell::get) {
        CAPTURED.with(|c| c.borrow_mut().extend_from_slice(bytes));
        return;
    }
    write_stdout(bytes);
}

#[cfg(unix)]
fn write_stdout(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: the pointer and length describe a live, initialized byte slice.
        let n = unsafe { libc::write(1, bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            // Stdout is gone or full (non-blocking): drop the line rather than stall queries.
            return;
        }
        bytes = &bytes[n as usize..];
    }
}

#[cfg(not(unix))]
fn write_stdout(bytes: &[u8]) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(bytes);
}

/// Runs `f` with this thread's lines diverted into a string, which is returned (for tests).
pub fn capture(f: impl FnOnce()) -> String {
    let was = CAPTURING.with(|c| c.replace(true));
    let before = CAPTURED.with(|c| std::mem::take(&mut *c.borrow_mut()));
    f();
    let got = CAPTURED.with(|c| std::mem::replace(&mut *c.borrow_mut(), before));
    CAPTURING.with(|c| c.set(was));
    String::from_utf8_lossy(&got).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_lines_end_with_newline() {
        let out = capture(|| {
            text("[INFO] one");
            line(|b| b.extend_from_slice(b"[INFO] two"));
        });
        assert_eq!(out, "[INFO] one\n[INFO] two\n");
    }
}
