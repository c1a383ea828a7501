//! HTTP/1.1 messages as the loopback test servers (the fault proxy, the
//! Runtime API) read and write them: one exchange per connection,
//! `Content-Length` bodies only.

use std::io::{self, BufRead, Write};

/// One HTTP/1.1 message head and body, as read off a socket.
pub(crate) struct Message {
    /// The request or status line.
    pub(crate) start: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Message {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Reads a message; without `Content-Length` the body runs to the end
    /// of the stream when `to_eof` (an answer), and is empty otherwise.
    pub(crate) fn read(reader: &mut impl BufRead, to_eof: bool) -> io::Result<Option<Self>> {
        let mut start = String::new();
        if reader.read_line(&mut start)? == 0 {
            return Ok(None);
        }
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
        let mut message = Self {
            start: start.trim_end().to_owned(),
            headers,
            body: Vec::new(),
        };
        if message
            .header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
        {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "the fault proxy reads Content-Length bodies only",
            ));
        }
        match message.header("content-length") {
            Some(length) => {
                let length = length
                    .parse()
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "content-length"))?;
                message.body = vec![0; length];
                reader.read_exact(&mut message.body)?;
            }
            None if to_eof => {
                reader.read_to_end(&mut message.body)?;
            }
            None => {}
        }
        Ok(Some(message))
    }

    /// Writes the message with `Connection: close` in place of the sender's.
    pub(crate) fn write(&self, stream: &mut impl Write) -> io::Result<()> {
        let mut head = format!("{}\r\n", self.start);
        for (name, value) in &self.headers {
            if !name.eq_ignore_ascii_case("connection") {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        head.push_str("Connection: close\r\n\r\n");
        stream.write_all(head.as_bytes())?;
        stream.write_all(&self.body)?;
        stream.flush()
    }
}
