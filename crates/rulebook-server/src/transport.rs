//! The service's own accept loop: each connection is HTTP/1 over TCP, or
//! over TLS (rustls) when a certificate is given, with the limits a public
//! service needs and that a plain `axum::serve` does not set:
//!
//! - a cap on open connections, below the usual limit of 1 024 open files;
//!   a connection over the cap gets a JSON `503 overloaded` and is closed;
//! - a deadline for the request head (and for the TLS handshake), which is
//!   also the idle timeout between requests on a kept-alive connection, so
//!   a client that sends a byte a second, or nothing, is closed;
//! - a bound on the request head's size;
//! - on shutdown, connections finish the request in flight and close,
//!   within a grace period, however slow their clients.

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

/// How connections are accepted and bounded.
#[derive(Clone)]
pub struct Limits {
    pub max_connections: usize,
    /// Time allowed for a request's head (and the TLS handshake), and for
    /// the next request to start on an idle kept-alive connection.
    pub header_timeout: Duration,
    /// The largest request head (request line and headers), in bytes; at
    /// least 8 KiB (the HTTP layer's smallest buffer).
    pub max_head_bytes: usize,
    /// How long shutdown waits for connections to finish.
    pub grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 512,
            header_timeout: Duration::from_secs(10),
            max_head_bytes: 16 * 1024,
            grace: Duration::from_secs(10),
        }
    }
}

/// TLS settings: the server's certificate chain and key (PEM), and, for
/// mutual TLS, the authorities whose client certificates are accepted.
pub struct TlsFiles<'a> {
    pub cert: &'a Path,
    pub key: &'a Path,
    pub client_ca: Option<&'a Path>,
}

/// Builds the TLS acceptor, or says which file is wrong and why.
pub fn tls_acceptor(files: &TlsFiles<'_>) -> Result<TlsAcceptor, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let read = |p: &Path| {
        rulebook_files::read_limited(p)
            .map_err(|e| format!("cannot read {}: {e}", p.display()))
            .map(String::into_bytes)
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&read(files.cert)?)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: not a PEM certificate chain: {e}", files.cert.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{}: no certificate in it (expected -----BEGIN CERTIFICATE-----)",
            files.cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(&read(files.key)?)
        .map_err(|e| format!("{}: not a PEM private key: {e}", files.key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let builder = match files.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_slice_iter(&read(ca)?) {
                let c = c.map_err(|e| format!("{}: not a PEM certificate: {e}", ca.display()))?;
                roots
                    .add(c)
                    .map_err(|e| format!("{}: not a usable authority: {e}", ca.display()))?;
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .map_err(|e| format!("{}: {e}", ca.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| format!("the certificate and key do not go together: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The answer to a connection over the cap, written directly: the HTTP
/// layer is not started for it.
fn busy_answer() -> Vec<u8> {
    let body = r#"{"error":{"code":"overloaded","message":"too many open connections; try again in a moment","problems":[]}}"#;
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            a = listener.accept() => a,
            // Reap finished connections so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let tcp = match accepted {
            Ok((tcp, _peer)) => tcp,
            Err(e) => {
                // Out of file descriptors and the like: wait rather than spin.
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            connections.spawn(async move {
                let mut tcp = tcp;
                let _ = tokio::time::timeout(Duration::from_secs(1), tcp.write_all(&busy_answer()))
                    .await;
                let _ = tcp.shutdown().await;
            });
            continue;
        };
        let app = app.clone();
        let tls = tls.clone();
        let limits = limits.clone();
        let stop = stop_rx.clone();
        connections.spawn(async move {
            let _permit = permit;
            match tls {
                None => connection(TokioIo::new(tcp), app, &limits, stop).await,
                Some(acceptor) => {
                    match tokio::time::timeout(limits.header_timeout, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            connection(TokioIo::new(stream), app, &limits, stop).await
                        }
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let deadline = tokio::time::sleep(limits.grace);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            () = &mut deadline => {
                tracing::warn!(open = connections.len(), "connections still open after the grace period are closed");
                connections.abort_all();
                break;
            }
            next = connections.join_next() => if next.is_none() { break },
        }
    }
}

async fn connection<I>(
    io: TokioIo<I>,
    app: Router,
    limits: &Limits,
    mut stop: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(app);
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_head_bytes.max(8192))
        .serve_connection(io, service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        () = async { drop(stop.wait_for(|s| *s).await) } => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
