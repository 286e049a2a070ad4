//! `rulebook-lsp`: the language server, speaking LSP over standard input
//! and output. Editors start it; see the README for VS Code, Neovim and Helix.

use rulebook_lsp::Backend;
use tower_lsp_server::{LspService, Server};

#[tokio::main]
async fn main() {
    let (stdin, stdout) = (tokio::io::stdin(), tokio::io::stdout());
    let (service, socket) = LspService::new(Backend::new);
    Server::new(stdin, stdout, socket).serve(service).await;
}
