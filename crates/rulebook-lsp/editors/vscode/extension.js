// Starts the rulebook language server for .rulebook files.
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration('rulebook').get('server.path') || 'rulebook-lsp';
  client = new LanguageClient(
    'rulebook',
    'Rulebook',
    { command },
    { documentSelector: [{ scheme: 'file', language: 'rulebook' }] }
  );
  // The code lens on each example runs the file's examples in a terminal.
  context.subscriptions.push(
    vscode.commands.registerCommand('rulebook.runExamples', (uri) => {
      const target = uri ? vscode.Uri.parse(uri) : vscode.window.activeTextEditor && vscode.window.activeTextEditor.document.uri;
      if (!target) return;
      const terminal = vscode.window.createTerminal('rulebook test');
      terminal.show();
      terminal.sendText(`rulebook test "${target.fsPath}"`);
    })
  );
  client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
