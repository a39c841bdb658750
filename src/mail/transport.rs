//! Where emails go: an SMTP server (lettre, pooled, rustls), `.eml` files in the data directory (the embedded
//! default), or memory (tests).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use lettre::message::{header, Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::store::outbox::{EmailRow, Recipients};

/// Emails in flight at once through the file and memory transports.
const LOCAL_CONCURRENCY: usize = 16;

/// Who emails come from: the address of `mail_from` (with its display name unless the outbox row names the
/// office it speaks for), and the `mail_subject_prefix` every subject starts with.
#[derive(Debug, Clone)]
pub struct Sender {
    mailbox: Mailbox,
    subject_prefix: String,
    /// How long transient failures are retried before an email is given up as failed.
    pub give_up_after: chrono::Duration,
}

impl Sender {
    /// `from` as `mail_from` writes it (`Sở LĐTBXH <so@example.vn>` or `so@example.vn`).
    pub fn new(from: &str, subject_prefix: &str) -> Result<Self, String> {
        let mailbox = from
            .parse::<Mailbox>()
            .map_err(|e| format!("`{from}` is not an email address: {e}"))?;
        Ok(Self {
            mailbox,
            subject_prefix: subject_prefix.trim().to_owned(),
            give_up_after: chrono::Duration::days(3),
        })
    }

    pub fn configured(settings: &crate::config::Settings) -> Result<Self, String> {
        let mut sender = Self::new(&settings.mail_from, &settings.mail_subject_prefix)?;
        sender.give_up_after = settings.delivery_give_up_after;
        Ok(sender)
    }

    /// The From of one email: the office it speaks for, at the configured address.
    fn from(&self, email: &EmailRow) -> Mailbox {
        match &email.sender_name {
            Some(name) => Mailbox::new(Some(name.clone()), self.mailbox.email.clone()),
            None => self.mailbox.clone(),
        }
    }

    fn subject(&self, email: &EmailRow) -> String {
        if self.subject_prefix.is_empty() {
            email.subject.clone()
        } else {
            format!("{} {}", self.subject_prefix, email.subject)
        }
    }

    /// The Message-ID: the row's local part at the domain of `mail_from` (rows written before kept theirs).
    fn message_id(&self, email: &EmailRow) -> String {
        if email.message_id.contains('@') {
            email.message_id.clone()
        } else {
            format!("<{}@{}>", email.message_id, self.mailbox.email.domain())
        }
    }
}

/// An email as the memory transport keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentEmail {
    pub from: String,
    pub message_id: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    pub text: String,
}

pub enum Transport {
    /// An SMTP server, with up to `connections` connections open (and as many emails in flight).
    Smtp {
        client: Box<AsyncSmtpTransport<Tokio1Executor>>,
        connections: usize,
    },
    /// One `.eml` file per outbox row, named by its id: a retry rewrites the same file.
    Files(PathBuf),
    Memory(Arc<Mutex<Vec<SentEmail>>>),
}

/// Why a send failed: transient failures are retried, permanent ones are not.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("{0}")]
    Transient(String),
    #[error("{0}")]
    Permanent(String),
}

impl Transport {
    /// SMTP when `smtp_url` is set (`smtp://` with STARTTLS when offered, `smtps://` TLS) with up to
    /// `connections` open connections, else files in `dir`.
    pub fn new(smtp_url: Option<&str>, connections: usize, dir: PathBuf) -> Result<Self, String> {
        let connections = connections.max(1);
        match smtp_url {
            Some(url) => AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map(|b| {
                    let pool = PoolConfig::new().max_size(connections as u32);
                    Self::Smtp {
                        client: Box::new(b.pool_config(pool).build()),
                        connections,
                    }
                })
                .map_err(|e| format!("smtp_url: {e}")),
            None => Ok(Self::Files(dir)),
        }
    }

    /// The transport the configuration names: `smtp_url` with `smtp_connections`, or files under
    /// `<data_dir>/mail`.
    pub fn configured(settings: &crate::config::Settings) -> Result<Self, String> {
        use secrecy::ExposeSecret;
        Self::new(
            settings.smtp_url.as_ref().map(|u| u.expose_secret()),
            settings.smtp_connections,
            settings.data_dir.join("mail"),
        )
    }

    /// How many emails delivery may have in flight at once.
    pub fn concurrency(&self) -> usize {
        match self {
            Self::Smtp { connections, .. } => *connections,
            Self::Files(_) | Self::Memory(_) => LOCAL_CONCURRENCY,
        }
    }

    pub fn memory() -> (Self, Arc<Mutex<Vec<SentEmail>>>) {
        let sent = Arc::new(Mutex::new(Vec::new()));
        (Self::Memory(sent.clone()), sent)
    }

    /// Sends one outbox row as `sender`, to its recipients the mailer can address: an address it cannot parse
    /// (stored before input was checked, or by hand) is left out and named in the answer, so that one unit's bad
    /// address never costs the others their copy. With no usable recipient at all the email fails for good.
    pub async fn send(&self, email: &EmailRow, sender: &Sender) -> Result<Sent, SendError> {
        let stored = Recipients::from_stored(&email.recipients)
            .map_err(|e| SendError::Permanent(format!("recipients are not readable: {e}")))?;
        let (recipients, dropped) = usable(stored);
        if recipients.to.is_empty() && recipients.cc.is_empty() {
            return Err(SendError::Permanent(format!(
                "no recipient can be addressed: {}",
                dropped.join("; ")
            )));
        }
        self.send_to(email, sender, recipients).await?;
        Ok(Sent { dropped })
    }

    async fn send_to(
        &self,
        email: &EmailRow,
        sender: &Sender,
        recipients: Recipients,
    ) -> Result<(), SendError> {
        match self {
            Self::Memory(sent) => {
                sent.lock().expect("memory transport lock").push(SentEmail {
                    from: sender.from(email).to_string(),
                    message_id: sender.message_id(email),
                    to: recipients.to,
                    cc: recipients.cc,
                    subject: sender.subject(email),
                    text: email.text_body.clone(),
                });
                Ok(())
            }
            Self::Files(dir) => {
                let message = build(email, &recipients, sender)?;
                tokio::fs::create_dir_all(dir).await.map_err(|e| {
                    SendError::Transient(format!("cannot create {}: {e}", dir.display()))
                })?;
                let name = format!(
                    "{:08}-{}.eml",
                    email.id,
                    email
                        .dedupe_key
                        .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
                );
                let partial = dir.join(format!(".{name}.partial"));
                tokio::fs::write(&partial, message.formatted())
                    .await
                    .map_err(|e| {
                        SendError::Transient(format!("cannot write {}: {e}", partial.display()))
                    })?;
                tokio::fs::rename(&partial, dir.join(&name))
                    .await
                    .map_err(|e| {
                        SendError::Transient(format!("cannot rename {}: {e}", partial.display()))
                    })
            }
            Self::Smtp { client, .. } => {
                let message = build(email, &recipients, sender)?;
                client.send(message).await.map(|_| ()).map_err(|e| {
                    if e.is_permanent() {
                        SendError::Permanent(e.to_string())
                    } else {
                        SendError::Transient(e.to_string())
                    }
                })
            }
        }
    }
}

/// What a send did besides sending: the recipients it left out, each with the reason.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sent {
    pub dropped: Vec<String>,
}

/// Splits the stored recipients into those the mailer can address and a note for each it cannot.
fn usable(recipients: Recipients) -> (Recipients, Vec<String>) {
    let mut dropped = Vec::new();
    let mut keep = |list: Vec<String>| -> Vec<String> {
        list.into_iter()
            .filter(|address| match mailbox(address) {
                Ok(_) => true,
                Err(SendError::Permanent(why) | SendError::Transient(why)) => {
                    dropped.push(why);
                    false
                }
            })
            .collect()
    };
    let to = keep(recipients.to);
    let cc = keep(recipients.cc);
    (Recipients { to, cc }, dropped)
}

fn mailbox(address: &str) -> Result<Mailbox, SendError> {
    address
        .parse()
        .map_err(|e| SendError::Permanent(format!("`{address}` is not an email address: {e}")))
}

/// The MIME message: text and HTML alternatives, with the outbox row's Message-ID (so a re-send after a crash is
/// recognisably the same message).
fn build(email: &EmailRow, recipients: &Recipients, sender: &Sender) -> Result<Message, SendError> {
    let mut builder = Message::builder()
        .from(sender.from(email))
        .subject(sender.subject(email))
        .message_id(Some(sender.message_id(email)))
        .header(header::MIME_VERSION_1_0);
    for to in &recipients.to {
        builder = builder.to(mailbox(to)?);
    }
    for cc in &recipients.cc {
        builder = builder.cc(mailbox(cc)?);
    }
    builder
        .multipart(MultiPart::alternative_plain_html(
            email.text_body.clone(),
            email.html_body.clone(),
        ))
        .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))
}
