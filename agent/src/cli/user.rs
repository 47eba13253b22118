//! `faxline user add NAME [--role admin|staff] [--password-file FILE|-]` and
//! `faxline user set-password NAME …`: the web console's users, created from the command line (the
//! first admin; later ones may also be added in the console). The password is read from a file,
//! standard input (`-`), or prompted for twice without echo; weak passwords are refused.
//! `faxline user reset-totp NAME` turns a user's two-step login off (a lost phone, or the only admin's).

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use anyhow::{Context, bail};

#[derive(Debug, clap::Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub command: UserCommand,
}

#[derive(Debug, clap::Args)]
pub struct UserTarget {
    /// The username (lower-case letters, digits, `.`, `_`, `-`, `@`).
    pub username: String,
    /// Read the password from this file (`-` for standard input) instead of prompting.
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// TOML configuration file (the database of `[api]`).
    #[arg(long, env = "FAXLINE_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Add a console user. The first user defaults to `admin`, later ones to `staff`.
    Add {
        #[command(flatten)]
        target: UserTarget,
        /// `admin` (users, keys, settings; also sending) or `staff` (send, outbox, inbox).
        #[arg(long)]
        role: Option<String>,
    },
    /// Replace a user's password; every session of that user ends.
    SetPassword {
        #[command(flatten)]
        target: UserTarget,
    },
    /// Turn a user's two-step login (TOTP) off and forget its secret; every session of that user
    /// ends. They log in with the password alone and may set it up again.
    ResetTotp {
        /// The username.
        username: String,
        /// TOML configuration file (the database of `[api]`).
        #[arg(long, env = "FAXLINE_CONFIG")]
        config: Option<PathBuf>,
    },
}

fn read_password(file: Option<&PathBuf>) -> anyhow::Result<String> {
    let strip = |mut s: String| {
        while s.ends_with('\n') || s.ends_with('\r') {
            s.pop();
        }
        s
    };
    match file {
        Some(p) if p.as_os_str() == "-" => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            Ok(strip(line))
        }
        Some(p) => Ok(strip(
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        )),
        None if std::io::stdin().is_terminal() => {
            let first = rpassword::prompt_password("Password: ").context("reading the password")?;
            let again = rpassword::prompt_password("Again: ").context("reading the password")?;
            if first != again {
                bail!("the passwords differ");
            }
            Ok(first)
        }
        None => read_password(Some(&PathBuf::from("-"))),
    }
}

async fn open_store(config: Option<&PathBuf>) -> anyhow::Result<faxline_api::store::Store> {
    // Only the database is needed: the full validation (agent secret, …) belongs to the servers.
    let cfg = faxline_api::Config::load(config.map(|p| p.as_path()))
        .context("loading the configuration")?;
    faxline_api::private_fs::private_dir(&cfg.data_dir)
        .with_context(|| format!("data directory {}", cfg.data_dir.display()))?;
    faxline_api::store::Store::connect_encrypted(
        &cfg.effective_database_url(),
        &cfg.document_backend()?,
        cfg.document_key()?,
    )
    .await
    .context("opening the database")
}

pub async fn run(args: UserArgs) -> anyhow::Result<()> {
    match args.command {
        UserCommand::Add { target, role } => {
            let password = read_password(target.password_file.as_ref())?;
            let store = open_store(target.config.as_ref()).await?;
            let role = match role {
                Some(r) => r,
                None if store.users().count().await? == 0 => "admin".to_owned(),
                None => "staff".to_owned(),
            };
            let added =
                faxline_api::console::add_user(&store, &target.username, &password, &role).await;
            store.close().await;
            let user = added.context("cannot add the user")?;
            tracing::info!(target: "audit", event = "console_user_created", user = %user.username, role = %user.role, by = "cli");
            println!("added {} user {}", user.role, user.username);
            Ok(())
        }
        UserCommand::SetPassword { target } => {
            let password = read_password(target.password_file.as_ref())?;
            let store = open_store(target.config.as_ref()).await?;
            let result =
                faxline_api::console::set_password(&store, &target.username, &password).await;
            store.close().await;
            let (user, ended) = result.context("cannot set the password")?;
            tracing::info!(target: "audit", event = "console_password_set", user = %user, sessions_ended = ended, by = "cli");
            println!("password of {user} replaced; {ended} session(s) ended");
            Ok(())
        }
        UserCommand::ResetTotp { username, config } => {
            let store = open_store(config.as_ref()).await?;
            let result = reset_totp(&store, &username).await;
            store.close().await;
            let (user, ended) = result?;
            tracing::info!(target: "audit", event = "console_totp_reset", user = %user, sessions_ended = ended, by = "cli");
            println!("two-step login of {user} reset; {ended} session(s) ended");
            Ok(())
        }
    }
}

async fn reset_totp(
    store: &faxline_api::store::Store,
    username: &str,
) -> anyhow::Result<(String, u64)> {
    let name = faxline_api::console::normalize_username(username)
        .with_context(|| format!("{username:?} is not a valid username"))?;
    let user = store
        .users()
        .by_username(&name)
        .await?
        .with_context(|| format!("there is no user {name}"))?;
    faxline_api::console::reset_totp(store, &user.id)
        .await
        .context("cannot reset the two-step login")
}
