//! `rubrica`: the one binary. Serves the app (default), migrates, manages users, seeds demo data.

use std::{io::IsTerminal, net::SocketAddr, path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context;
use app::{
    auth::{parse_user_name, store, Email, NewPassword},
    conversations::providers::{Providers, TwilioSms, WhatsAppCloud},
    db::PoolSettings,
    mail::{MailSettings, Mailer},
    state::AuthSettings,
};
use clap::{Args, Parser, Subcommand, ValueEnum};
use server::{open_database, seed, serve, ServeConfig};

#[derive(Parser)]
#[command(
    name = "rubrica",
    version,
    about = "Rubrica — a self-hosted CRM workspace",
    long_about = "Rubrica — a self-hosted CRM workspace.\n\nWith no command it serves the web app. \
                  Every option can also be set by the environment variable shown."
)]
struct Cli {
    /// sqlite://path/to/file.db (created if missing) or postgres://user:password@host:5432/db
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://./data/rubrica.db",
        global = true
    )]
    database_url: String,

    /// Most database connections this instance opens
    #[arg(
        long,
        env = "DATABASE_MAX_CONNECTIONS",
        default_value_t = 10,
        global = true
    )]
    database_max_connections: u32,

    /// Log format: human-readable text, or one JSON object per line
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app (the default)
    Serve(Box<ServeArgs>),
    /// Bring the database schema up to date, then exit (for rolling deploys)
    Migrate,
    /// Manage users
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Fill the database with realistic Italian demo contacts
    Seed(SeedArgs),
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// Address and port to listen on
    #[arg(long, env = "RUBRICA_ADDR", default_value = "127.0.0.1:3000")]
    addr: SocketAddr,

    /// Folder with the built front end (cargo leptos build writes target/site)
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    site_root: PathBuf,

    /// Mark the session cookie Secure: set this when Rubrica is reached over https
    #[arg(long, env = "COOKIE_SECURE", default_value_t = false)]
    secure_cookies: bool,

    /// Sign a user out after this many hours without a request
    #[arg(long, env = "SESSION_IDLE_HOURS", default_value_t = 168)]
    session_idle_hours: u64,

    /// SMTP server for invitations, password links and notifications, in lettre's URL form:
    /// smtp://host:2525, smtp://user:pass@host:587?tls=required (STARTTLS), smtps://user:pass@host
    /// (TLS). Without it nothing is emailed and links are shown to copy
    #[arg(long, env = "SMTP_URL")]
    smtp_url: Option<String>,

    /// The sender of Rubrica's emails
    #[arg(long, env = "MAIL_FROM", default_value = "Rubrica <rubrica@localhost>")]
    mail_from: String,

    /// Connections this instance keeps open to the SMTP server (emails sent at once)
    #[arg(long, env = "SMTP_CONNECTIONS", default_value_t = Mailer::CONNECTIONS)]
    smtp_connections: u32,

    /// The address people open Rubrica at, for links in emails and providers' webhooks
    /// (default: http://ADDR)
    #[arg(long, env = "PUBLIC_URL")]
    public_url: Option<String>,

    #[command(flatten)]
    providers: ProviderArgs,

    /// Seconds a message being sent stays claimed by this instance: if it dies, another (or it,
    /// restarted) sends the message after this long. Longer than the slowest send
    #[arg(long, env = "DISPATCH_LEASE_SECONDS", default_value_t = 120, value_parser = clap::value_parser!(u32).range(2..))]
    dispatch_lease_seconds: u32,
}

/// SMS (a Twilio-compatible API) and WhatsApp (the Cloud API). A channel whose settings are
/// missing is shown as not set up.
#[derive(Args, Clone)]
struct ProviderArgs {
    /// SMS: the account SID of a Twilio-compatible API
    #[arg(long, env = "TWILIO_ACCOUNT_SID")]
    twilio_account_sid: Option<String>,
    /// SMS: its auth token (also checks the signature of its webhooks)
    #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true)]
    twilio_auth_token: Option<String>,
    /// SMS: the number (E.164) or sender name messages come from
    #[arg(long, env = "TWILIO_FROM")]
    twilio_from: Option<String>,
    /// SMS: the API's address
    #[arg(long, env = "TWILIO_API_URL", default_value = "https://api.twilio.com")]
    twilio_api_url: String,
    /// WhatsApp: the Cloud API access token
    #[arg(long, env = "WHATSAPP_TOKEN", hide_env_values = true)]
    whatsapp_token: Option<String>,
    /// WhatsApp: the id of the sending phone number
    #[arg(long, env = "WHATSAPP_PHONE_NUMBER_ID")]
    whatsapp_phone_number_id: Option<String>,
    /// WhatsApp: the app secret that signs webhooks
    #[arg(long, env = "WHATSAPP_APP_SECRET", hide_env_values = true)]
    whatsapp_app_secret: Option<String>,
    /// WhatsApp: the verify token given when registering the webhook
    #[arg(long, env = "WHATSAPP_VERIFY_TOKEN", hide_env_values = true)]
    whatsapp_verify_token: Option<String>,
    /// WhatsApp: the API's address
    #[arg(
        long,
        env = "WHATSAPP_API_URL",
        default_value = "https://graph.facebook.com/v21.0"
    )]
    whatsapp_api_url: String,
}

impl ProviderArgs {
    /// The providers set up; settings given in part are refused, saying what is missing.
    fn providers(self) -> anyhow::Result<Providers> {
        let sms = match (
            self.twilio_account_sid,
            self.twilio_auth_token,
            self.twilio_from,
        ) {
            (None, None, None) => None,
            (Some(account_sid), Some(auth_token), Some(from)) => Some(TwilioSms {
                api_url: self.twilio_api_url,
                account_sid,
                auth_token,
                from,
            }),
            _ => anyhow::bail!(
                "SMS needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM together: set all three, or none to leave SMS off."
            ),
        };
        let whatsapp = match (
            self.whatsapp_token,
            self.whatsapp_phone_number_id,
            self.whatsapp_app_secret,
            self.whatsapp_verify_token,
        ) {
            (None, None, None, None) => None,
            (Some(token), Some(phone_number_id), Some(app_secret), Some(verify_token)) => {
                Some(WhatsAppCloud {
                    api_url: self.whatsapp_api_url,
                    token,
                    phone_number_id,
                    app_secret,
                    verify_token,
                })
            }
            _ => anyhow::bail!(
                "WhatsApp needs WHATSAPP_TOKEN, WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN together: set all four, or none to leave WhatsApp off."
            ),
        };
        Ok(Providers::new(sms, whatsapp))
    }
}

/// Parses only the serve options (with their environment variables), for a bare `rubrica`.
#[derive(Parser)]
struct ServeOnly {
    #[command(flatten)]
    args: ServeArgs,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user. The password is read from RUBRICA_PASSWORD, else asked for (or read from stdin)
    Add {
        #[arg(long)]
        email: String,
        /// The name shown in the app (defaults to the part of the email before @)
        #[arg(long)]
        name: Option<String>,
        /// Make the user an administrator
        #[arg(long)]
        admin: bool,
    },
}

#[derive(Args)]
struct SeedArgs {
    /// How many contacts to add
    #[arg(long, default_value_t = 500)]
    contacts: u64,
    /// Also create the admin demo@rubrica.local (password rubrica-demo) if the workspace has no user
    #[arg(long)]
    demo_admin: bool,
}

fn init_tracing(format: LogFormat) {
    use tracing_subscriber::{fmt, EnvFilter};
    let filter = EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    match format {
        LogFormat::Text => fmt().with_env_filter(filter).with_target(false).init(),
        LogFormat::Json => fmt().json().with_env_filter(filter).init(),
    }
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("RUBRICA_PASSWORD") {
        return Ok(password);
    }
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password again: ")?;
        anyhow::ensure!(first == again, "the two passwords differ");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let pool = PoolSettings {
        max_connections: cli.database_max_connections,
        ..PoolSettings::default()
    };
    let command = cli
        .command
        .unwrap_or_else(|| Command::Serve(Box::new(ServeOnly::parse_from(["rubrica"]).args)));
    match command {
        Command::Serve(args) => {
            let mailer = args
                .smtp_url
                .as_deref()
                .map(|url| Mailer::with_connections(url, &args.mail_from, args.smtp_connections))
                .transpose()?;
            let public_url = args
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", args.addr));
            serve(ServeConfig {
                mail: MailSettings::new(mailer, &public_url),
                providers: args.providers.providers()?,
                dispatch_lease: chrono::Duration::seconds(args.dispatch_lease_seconds.into()),
                database_url: cli.database_url,
                pool,
                addr: args.addr,
                site_root: args.site_root,
                auth: AuthSettings {
                    secure_cookies: args.secure_cookies,
                    idle_timeout: Duration::from_secs(args.session_idle_hours.saturating_mul(3600)),
                },
            })
            .await
        }
        Command::Migrate => {
            let db = open_database(&cli.database_url, &pool).await?;
            db.close().await;
            println!("The database schema is up to date.");
            Ok(())
        }
        Command::User {
            command: UserCommand::Add { email, name, admin },
        } => {
            let email = Email::parse(&email).map_err(anyhow::Error::msg)?;
            let name = parse_user_name(
                name.as_deref()
                    .unwrap_or_else(|| email.as_str().split('@').next().unwrap_or_default()),
            )
            .map_err(anyhow::Error::msg)?;
            let password = NewPassword::parse(&read_password()?).map_err(anyhow::Error::msg)?;
            let db = open_database(&cli.database_url, &pool).await?;
            let result = store::add_user(&db, &name, &email, &password, admin).await;
            db.close().await;
            result.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "Added {} {} <{}>.",
                if admin { "admin" } else { "user" },
                name,
                email.as_str()
            );
            Ok(())
        }
        Command::Seed(args) => {
            let db = open_database(&cli.database_url, &pool).await?;
            let result = seed::run(&db, args.contacts, args.demo_admin).await;
            db.close().await;
            result.context("seeding demo data")
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line that says what is wrong and what to do; no backtrace.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
