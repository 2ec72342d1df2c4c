//! The worker's wake-up pipe: another thread writes a byte (interrupt) or closes the write end
//! (kill) to end a worker's wait. Its descriptors are what `gearman_worker_id` exposes.

use std::io;
use std::os::fd::RawFd;

/// What the pipe says when its read end is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WakeSignal {
    /// A byte was written: shut down gracefully (the byte is put back, so it stays set).
    Interrupt,
    /// The write end was closed: shut down now.
    Kill,
    /// Nothing (spurious wake-up).
    None,
}

/// A non-blocking, close-on-exec pipe owned by one worker.
#[derive(Debug)]
pub struct WakePipe {
    read_fd: RawFd,
    write_fd: RawFd,
    /// Identity of the pipe, to avoid closing a descriptor number that another party closed
    /// and the system reused.
    ino: (u64, u64),
}

fn identity(fd: RawFd) -> Option<(u64, u64)> {
    // SAFETY: `st` is a plain C struct that fstat fills; an all-zero value is valid for it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat only writes into `st`, which is a valid exclusive reference.
    let rc = unsafe { libc::fstat(fd, &mut st) };
    (rc == 0).then_some((st.st_dev, st.st_ino))
}

impl WakePipe {
    /// Creates the pipe (`pipe2(O_NONBLOCK | O_CLOEXEC)`).
    pub fn new() -> io::Result<WakePipe> {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: `fds` is a valid array of two ints for pipe2 to fill.
        let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        let ino = identity(fds[0]).unwrap_or((0, 0));
        Ok(WakePipe {
            read_fd: fds[0],
            write_fd: fds[1],
            ino,
        })
    }

    /// The read end (polled by the worker).
    pub fn read_fd(&self) -> RawFd {
        self.read_fd
    }

    /// The write end (what `gearman_kill` writes to or closes).
    pub fn write_fd(&self) -> RawFd {
        self.write_fd
    }

    /// Interprets a readable read end.
    pub fn check(&self) -> WakeSignal {
        let mut b = [0u8; 1];
        // SAFETY: reading at most one byte into a valid one-byte buffer.
        let n = unsafe { libc::read(self.read_fd, b.as_mut_ptr().cast(), 1) };
        match n {
            0 => WakeSignal::Kill,
            1 => {
                // Put it back: every later wait must see the interrupt too.
                // SAFETY: writing one byte from a valid buffer to our own pipe.
                let _ = unsafe { libc::write(self.write_fd, b.as_ptr().cast(), 1) };
                WakeSignal::Interrupt
            }
            _ => WakeSignal::None,
        }
    }

    /// Writes the interrupt byte (what `gearman_kill(id, GEARMAN_INTERRUPT)` does).
    pub fn interrupt(&self) -> io::Result<()> {
        interrupt_fd(self.write_fd)
    }
}

/// Writes one interrupt byte to a wake-up pipe's write end.
pub fn interrupt_fd(write_fd: RawFd) -> io::Result<()> {
    let b = [b'1'];
    // SAFETY: writing one byte from a valid buffer; a bad descriptor only yields an error.
    let n = unsafe { libc::write(write_fd, b.as_ptr().cast(), 1) };
    if n == 1 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

impl Drop for WakePipe {
    fn drop(&mut self) {
        for fd in [self.read_fd, self.write_fd] {
            // Close only descriptors that are still this pipe (the write end may have been
            // closed by a kill signal and its number reused since).
            if identity(fd) == Some(self.ino) {
                // SAFETY: `fd` is one of this pipe's descriptors, still open and ours.
                unsafe { libc::close(fd) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interrupt_is_sticky_and_close_is_kill() {
        let p = WakePipe::new().expect("pipe");
        assert_eq!(p.check(), WakeSignal::None);
        p.interrupt().expect("write");
        assert_eq!(p.check(), WakeSignal::Interrupt);
        assert_eq!(p.check(), WakeSignal::Interrupt);
        let p2 = WakePipe::new().expect("pipe");
        // SAFETY: closing our own write end, as gearman_kill(KILL) does.
        unsafe { libc::close(p2.write_fd()) };
        assert_eq!(p2.check(), WakeSignal::Kill);
    }
}
