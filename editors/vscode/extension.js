// The jubao policy extension: starts `jubao lsp` (stdio) for .policy files.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const settings = vscode.workspace.getConfiguration("jubaoPolicy");
  const command = settings.get("command", "jubao");
  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  const serverOptions = {
    command,
    args: ["lsp"],
    transport: TransportKind.stdio,
    options: folder ? { cwd: folder.uri.fsPath } : {},
  };
  const clientOptions = {
    documentSelector: [{ scheme: "file", language: "jubao-policy" }, { scheme: "untitled", language: "jubao-policy" }],
    initializationOptions: { lang: settings.get("lang", "zh") },
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.policy") },
  };
  client = new LanguageClient("jubaoPolicy", "jubao policy", serverOptions, clientOptions);
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
