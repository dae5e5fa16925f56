//! `refmatch keys`: create and list the API keys of a workspace.

use crate::cli::{Cli, KeysCommand};
use crate::error::Result;
use crate::store::keys::Scopes;
use crate::store::Store;

pub fn run(cli: &Cli, command: &KeysCommand) -> Result<()> {
    let store = Store::open(&cli.db_path(), 2)?;
    match command {
        KeysCommand::Create { name, scopes } => {
            let scopes = Scopes::parse(scopes)?;
            let ws = store.workspace(&cli.workspace, true)?;
            let key = store.create_key(ws, name, scopes)?;
            eprintln!(
                "created key {} ({}) in workspace \"{}\"; the secret below is shown only once",
                key.id,
                scopes.as_text(),
                cli.workspace
            );
            super::print_stdout(&format!("{}\n", key.secret))
        }
        KeysCommand::Revoke { id } => {
            let ws = store.workspace(&cli.workspace, false)?;
            store.revoke_key(ws, id)?;
            eprintln!("revoked key {id}");
            Ok(())
        }
        KeysCommand::List => {
            let ws = store.workspace(&cli.workspace, false)?;
            let mut text = String::new();
            for key in store
                .list_keys(ws, crate::store::Position::First, 1_000_000)?
                .items
            {
                text.push_str(&format!(
                    "{}\t{}\t{}\t{}{}\n",
                    key.id,
                    key.name,
                    key.scopes.join(","),
                    key.created_at,
                    if key.revoked_at.is_none() {
                        ""
                    } else {
                        "\trevoked"
                    }
                ));
            }
            super::print_stdout(&text)
        }
    }
}
