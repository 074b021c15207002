//! The local terminal of an interactive session: raw mode while the session runs (restored on
//! drop, also on errors), its size, and its resizes.

use std::os::fd::AsFd;

use nix::sys::termios::{self, SetArg, Termios};

nix::ioctl_read_bad!(window_size, nix::libc::TIOCGWINSZ, nix::libc::winsize);

/// Raw mode on stdin until dropped; a no-op when stdin is not a terminal.
pub struct RawMode {
    saved: Option<Termios>,
}

impl RawMode {
    pub fn enter() -> RawMode {
        let stdin = std::io::stdin();
        let Ok(saved) = termios::tcgetattr(stdin.as_fd()) else {
            return RawMode { saved: None };
        };
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        let applied = termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw).is_ok();
        RawMode {
            saved: applied.then_some(saved),
        }
    }

    /// Whether stdin is a terminal in raw mode.
    pub fn is_terminal(&self) -> bool {
        self.saved.is_some()
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, saved);
        }
    }
}

/// The terminal's columns and rows, if stdout is one.
pub fn size() -> Option<(u32, u32)> {
    let mut ws = nix::libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `winsize` into the pointer, which lives for the call.
    unsafe { window_size(nix::libc::STDOUT_FILENO, &mut ws) }.ok()?;
    (ws.ws_col > 0 && ws.ws_row > 0).then_some((u32::from(ws.ws_col), u32::from(ws.ws_row)))
}
