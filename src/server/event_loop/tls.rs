//! TLS in the event loop: every accepted connection of a `--ssl` server starts a session whose
//! handshake advances on the connection's readiness events, never blocking the loop; a client
//! that does not finish within the handshake timeout is disconnected. SIGHUP loads the
//! certificate and key again for new connections (established sessions keep theirs).

use super::Server;
use crate::net::tls::{accept, is_tls_error, ServerTlsConfig, TlsSocket, TlsStream};
use crate::net::Stream;
use crate::server::log;
use crate::server::model::ConnId;
use mio::net::TcpStream;
use rustls::ServerConfig;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The TLS state of a server.
pub(super) struct ServerTls {
    /// Where the files come from (read again on reload).
    source: ServerTlsConfig,
    /// The configuration new connections get.
    config: Arc<ServerConfig>,
    timeout: Duration,
    /// Handshakes in progress by deadline (all share one timeout, so accept order is
    /// deadline order): (deadline, connection, its accept serial).
    pending: VecDeque<(Instant, ConnId, u64)>,
}

impl ServerTls {
    /// Loads the files; the error names the file that cannot be used.
    pub(super) fn new(source: ServerTlsConfig, timeout: Duration) -> Result<ServerTls, String> {
        let config = source.build()?;
        Ok(ServerTls {
            source,
            config,
            timeout,
            pending: VecDeque::new(),
        })
    }

    /// The earliest handshake deadline.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.pending.front().map(|p| p.0)
    }
}

impl Server {
    /// The stream of a newly accepted socket: on a `--ssl` server, with a fresh TLS session.
    pub(super) fn wrap_tls(&self, sock: TcpStream) -> Result<Stream, String> {
        let Some(tls) = self.tls.as_ref() else {
            return Ok(Stream::Tcp(sock));
        };
        let session = accept(&tls.config).map_err(|e| e.to_string())?;
        Ok(Stream::Tls(Box::new(TlsSocket::new(
            sock,
            TlsStream::new(session),
        ))))
    }

    /// Starts the handshake clock of connection `id` (accept number `serial`).
    pub(super) fn start_handshake_clock(&mut self, id: ConnId, serial: u64) {
        if let Some(tls) = self.tls.as_mut() {
            tls.pending
                .push_back((Instant::now() + tls.timeout, id, serial));
        }
    }

    /// Advances the handshake of connection `id` after a readiness event. Once it is done,
    /// the connection is served like any other (the client's first request may have arrived
    /// with its last handshake flight: it waits in the session for the first read).
    pub(super) fn advance_handshake(&mut self, id: ConnId) {
        let Some(conn) = self.conns.get_mut(id).and_then(|c| c.as_mut()) else {
            return;
        };
        let c = &mut conn.c;
        let Some(tls) = c.stream.tls() else {
            conn.handshaking = false;
            return;
        };
        match tls.handshake() {
            Ok(true) => {
                conn.handshaking = false;
                let version = tls
                    .session()
                    .protocol()
                    .map(|v| format!("{v:?}"))
                    .unwrap_or_default();
                log::info(format_args!("connection {id}: TLS session ({version})"));
                if c.want_writable(self.poll.registry(), false).is_err() {
                    self.close(id);
                    return;
                }
                self.serve(id, false);
            }
            Ok(false) => {
                let write = tls.session().wants_write();
                if c.want_writable(self.poll.registry(), write).is_err() {
                    self.close(id);
                }
            }
            Err(e) => {
                // A peer that is not a TLS client, or whose certificate is refused: only
                // this connection is affected.
                if is_tls_error(&e) {
                    log::warning(format_args!("connection {id}: TLS handshake failed: {e}"));
                } else {
                    log::info(format_args!(
                        "connection {id}: during the TLS handshake: {e}"
                    ));
                }
                self.close(id);
            }
        }
    }

    /// Disconnects clients whose handshake outlived the timeout.
    pub(super) fn expire_handshakes(&mut self, now: Instant) {
        loop {
            let Some(tls) = self.tls.as_mut() else { return };
            match tls.pending.front() {
                Some(&(deadline, id, serial)) if deadline <= now => {
                    tls.pending.pop_front();
                    let stuck = self
                        .conns
                        .get(id)
                        .and_then(|c| c.as_ref())
                        .is_some_and(|c| c.serial == serial && c.handshaking);
                    if stuck {
                        log::info(format_args!(
                            "connection {id}: no TLS handshake within {} s: closing",
                            tls.timeout.as_secs()
                        ));
                        self.close(id);
                    }
                }
                _ => return,
            }
        }
    }

    /// Loads the certificate and key again (SIGHUP). A failure keeps the current ones.
    pub(super) fn reload_tls(&mut self) {
        let Some(tls) = self.tls.as_mut() else { return };
        match tls.source.build() {
            Ok(config) => {
                tls.config = config;
                log::log(
                    crate::server::Verbose::Notice,
                    format_args!(
                        "TLS certificate reloaded from {}",
                        tls.source.certificate.display()
                    ),
                );
            }
            Err(e) => log::error(format_args!(
                "TLS reload failed, keeping the current certificate: {e}"
            )),
        }
    }
}
