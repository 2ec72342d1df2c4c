//! Listening sockets with a chosen backlog, and the socket options of accepted connections.

use mio::net::{TcpListener, TcpStream};
use socket2::{Domain, Protocol, SockRef, Socket, TcpKeepalive, Type};
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

/// TCP keepalive tuning; `None` keeps the system default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeepaliveParams {
    pub idle: Option<Duration>,
    pub interval: Option<Duration>,
    pub retries: Option<u32>,
}

impl KeepaliveParams {
    fn apply(&self, sock: &SockRef<'_>) -> io::Result<()> {
        sock.set_keepalive(true)?;
        let mut ka = TcpKeepalive::new();
        let mut any = false;
        if let Some(t) = self.idle {
            ka = ka.with_time(t);
            any = true;
        }
        if let Some(t) = self.interval {
            ka = ka.with_interval(t);
            any = true;
        }
        if let Some(n) = self.retries {
            ka = ka.with_retries(n);
            any = true;
        }
        if any {
            sock.set_tcp_keepalive(&ka)?;
        }
        Ok(())
    }
}

/// Binds a non-blocking listener (SO_REUSEADDR, IPV6_V6ONLY for IPv6) with `backlog`.
/// With `keepalive`, the listening socket gets SO_KEEPALIVE and the given values too.
pub fn bind(
    addr: SocketAddr,
    backlog: i32,
    keepalive: Option<&KeepaliveParams>,
) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    if let Some(ka) = keepalive {
        ka.apply(&SockRef::from(&socket))?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    Ok(TcpListener::from_std(socket.into()))
}

/// Options every accepted connection gets: TCP_NODELAY (replies are small and latency-bound)
/// and SO_KEEPALIVE (always on, as gearmand), with the keepalive values when given.
pub fn tune_accepted(stream: &TcpStream, keepalive: &KeepaliveParams) -> io::Result<()> {
    stream.set_nodelay(true)?;
    keepalive.apply(&SockRef::from(stream))
}
