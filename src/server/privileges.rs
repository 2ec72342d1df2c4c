//! `-u/--user`: switching to an unprivileged user once the listeners are bound.
//!
//! gearmand 1.1.20 switches before it binds (so `-u` there cannot serve a port below 1024); we
//! switch after binding, as most daemons do, and also drop the supplementary groups of root
//! (1.1.20 keeps them).

use std::ffi::{CStr, CString};

/// The account `-u` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: libc::uid_t,
    pub gid: libc::gid_t,
}

/// Looks `name` up in the user database (numeric ids are not accepted, as in gearmand).
pub fn lookup(name: &str) -> Result<Account, String> {
    let c_name = CString::new(name).map_err(|_| format!("invalid user name '{name}'"))?;
    let mut buf = vec![0u8; 16 << 10];
    loop {
        // SAFETY: all-zero is a valid `passwd`, which getpwnam_r fills in.
        let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer refers to storage we own for the whole call; `buf.len()` is
        // the size of the scratch buffer the strings of `pw` are written into.
        let rc = unsafe {
            libc::getpwnam_r(
                c_name.as_ptr(),
                &mut pw,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut found,
            )
        };
        if rc == libc::ERANGE && buf.len() < (1 << 20) {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if found.is_null() {
            return Err(format!("Could not find user : {name}"));
        }
        // SAFETY: getpwnam_r succeeded, so pw_name points into `buf` at a NUL-terminated name.
        let real = unsafe { CStr::from_ptr(pw.pw_name) }
            .to_string_lossy()
            .into_owned();
        return Ok(Account {
            name: real,
            uid: pw.pw_uid,
            gid: pw.pw_gid,
        });
    }
}

/// Becomes `name`: its supplementary groups, its group, then its user id. Must run as root
/// (gearmand's message otherwise); afterwards getting root back must fail.
pub fn switch_user(name: &str) -> Result<Account, String> {
    // SAFETY: plain queries of the process's ids.
    let (uid, euid) = unsafe { (libc::getuid(), libc::geteuid()) };
    if uid != 0 && euid != 0 {
        return Err("Must be root to switch users.".into());
    }
    let account = lookup(name)?;
    let c_name = CString::new(account.name.clone()).map_err(|_| "invalid user name")?;
    let os = |what: &str| {
        format!(
            "Could not switch to user {name}: {what}: {}",
            std::io::Error::last_os_error()
        )
    };
    // SAFETY: initgroups reads the NUL-terminated name; the id calls take plain integers.
    // glibc applies setgid/setuid to every thread of the process.
    unsafe {
        if libc::initgroups(c_name.as_ptr(), account.gid) != 0 {
            return Err(os("initgroups"));
        }
        if libc::setgid(account.gid) != 0 {
            return Err(os("setgid"));
        }
        if libc::setuid(account.uid) != 0 {
            return Err(os("setuid"));
        }
        if account.uid != 0 && libc::setuid(0) == 0 {
            return Err(format!(
                "Could not switch to user {name}: root could be regained"
            ));
        }
    }
    Ok(account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_finds_root_and_refuses_unknown_users() {
        let root = lookup("root").unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        assert_eq!(
            lookup("no-such-user-gearman-rs").unwrap_err(),
            "Could not find user : no-such-user-gearman-rs"
        );
        assert!(lookup("bad\0name").is_err());
    }
}
