//! A minimal SMTP server on loopback for the tests and the delivery benchmark: accepts, refuses for now (4xx)
//! or refuses for good (5xx), records each message, and can be stopped and restarted.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// How the sink answers `MAIL FROM`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mood {
    Accept,
    Busy,   // 451: try again later
    Refuse, // 550: never
    Slow,   // accepts, answering each message's end of DATA after `SLOW`
}

/// How long a `Mood::Slow` sink takes to accept a message.
pub const SLOW: std::time::Duration = std::time::Duration::from_secs(3);

/// A minimal SMTP server for tests: records each message's DATA.
pub struct Sink {
    pub port: u16,
    pub received: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sink {
    pub async fn start(port: u16, mood: Mood) -> Self {
        // A restart on the same port may race the old listener's shutdown: retry for a moment.
        let mut attempt = 0;
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", port)).await {
                Ok(listener) => break listener,
                Err(_) if attempt < 50 => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(e) => panic!("cannot bind the SMTP sink on port {port}: {e}"),
            }
        };
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                stream.set_nodelay(true).ok();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    write.write_all(b"220 sink ESMTP\r\n").await.ok();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let verb = line.split_whitespace().next().unwrap_or("").to_uppercase();
                        let reply: &[u8] = match verb.as_str() {
                            "EHLO" | "HELO" => b"250-sink\r\n250 8BITMIME\r\n",
                            "MAIL" if mood == Mood::Busy => b"451 4.3.0 try again later\r\n",
                            "MAIL" if mood == Mood::Refuse => b"550 5.7.1 relaying denied\r\n",
                            "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 OK\r\n",
                            "DATA" => {
                                write.write_all(b"354 go ahead\r\n").await.ok();
                                let mut data = String::new();
                                while let Ok(Some(l)) = lines.next_line().await {
                                    if l == "." {
                                        break;
                                    }
                                    data.push_str(&l);
                                    data.push('\n');
                                }
                                if mood == Mood::Slow {
                                    tokio::time::sleep(SLOW).await;
                                }
                                store.lock().unwrap().push(data);
                                b"250 OK queued\r\n"
                            }
                            "QUIT" => {
                                write.write_all(b"221 bye\r\n").await.ok();
                                break;
                            }
                            _ => b"502 not implemented\r\n",
                        };
                        if write.write_all(reply).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        Self {
            port,
            received,
            task,
        }
    }

    pub async fn stop(self) -> u16 {
        self.task.abort();
        let _ = self.task.await;
        self.port
    }
}
