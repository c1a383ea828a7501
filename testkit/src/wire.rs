//! One HTTP/1.1 POST to the emulator's Invoke API, on its own loopback
//! connection (`connection: close`), with a socket deadline.
//!
//! Hand-written on purpose: through ureq, any timeout setting made each
//! invocation take ~12 ms instead of ~1.3 ms, and the black-box suites send
//! tens of thousands of them; a deadline is needed because the emulator
//! keeps an invocation whose function process died open until its own
//! (10-minute) deadline.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// How long a refused connection is tried again. Refused, the request was
/// never sent, so sending it again cannot repeat it. Twice in CI an
/// emulator that had been listening, and still ran, refused the first
/// invocation of a test ("Connection refused"); past this, the caller
/// reports the emulator's state and log.
const REFUSED_FOR: Duration = Duration::from_secs(3);

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_owned())
}

/// POSTs `payload` (JSON) to `path` on `127.0.0.1:port`; returns the status
/// and the body. Fails on a socket error or when no complete answer comes
/// within `deadline` (per read or write).
pub(crate) fn post(
    port: u16,
    path: &str,
    payload: &str,
    deadline: Duration,
) -> io::Result<(u16, Vec<u8>)> {
    let mut stream = connect(port)?;
    stream.set_read_timeout(Some(deadline))?;
    stream.set_write_timeout(Some(deadline))?;
    stream.set_nodelay(true)?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{payload}",
        payload.len()
    );
    stream.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| invalid("no end of the response head"))?;
    let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid("no status code"))?;
    let body = &response[split + 4..];
    let chunked = head
        .lines()
        .any(|line| line.starts_with("transfer-encoding:") && line.contains("chunked"));
    let body = if chunked {
        dechunk(body).ok_or_else(|| invalid("bad chunked body"))?
    } else {
        body.to_vec()
    };
    Ok((status, body))
}

/// A connection to `127.0.0.1:port`, a refusal tried again for
/// [`REFUSED_FOR`].
fn connect(port: u16) -> io::Result<TcpStream> {
    let started = Instant::now();
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Err(e)
                if e.kind() == io::ErrorKind::ConnectionRefused
                    && started.elapsed() < REFUSED_FOR =>
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                let waited = started.elapsed().as_millis();
                return Err(io::Error::new(e.kind(), format!("{e}, for {waited} ms")));
            }
            other => return other,
        }
    }
}

/// Decodes a `transfer-encoding: chunked` body.
fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::{REFUSED_FOR, connect, dechunk};
    use std::net::TcpListener;
    use std::time::{Duration, Instant};

    /// A server that starts listening while the connection is refused is
    /// reached; one that never listens is reported, with how long.
    #[test]
    fn a_refused_connection_is_tried_again_for_a_while() {
        let port = crate::free_port();
        let late = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind");
            listener.accept().expect("accept").0
        });
        let started = Instant::now();
        let stream = connect(port).expect("reached once it listens");
        assert!(started.elapsed() >= Duration::from_millis(250));
        drop(stream);
        late.join().expect("the late server");

        let nobody = crate::free_port();
        let started = Instant::now();
        let error = connect(nobody).expect_err("nothing listens");
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
        assert!(started.elapsed() >= REFUSED_FOR, "{:?}", started.elapsed());
        assert!(error.to_string().contains(" ms"), "{error}");
    }

    #[test]
    fn chunked_bodies_decode() {
        let cases: [(&[u8], Option<&[u8]>); 4] = [
            (b"5\r\nhello\r\n0\r\n\r\n", Some(b"hello")),
            (b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", Some(b"abcde")),
            (b"0\r\n\r\n", Some(b"")),
            (b"9\r\nshort\r\n", None),
        ];
        for (input, expected) in cases {
            assert_eq!(dechunk(input).as_deref(), expected, "{input:?}");
        }
    }
}
