/** Theme-aware styles: only VS Code's CSS variables, so light, dark and high-contrast themes all work. */
export const STYLES = `
body { color: var(--vscode-editor-foreground); background: var(--vscode-editor-background);
  font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); padding: 0 1.5em 2em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { text-align: left; padding: 0.2em 0.8em; border-bottom: 1px solid var(--vscode-panel-border); }
th { color: var(--vscode-descriptionForeground); font-weight: 600; }
.error h1 { color: var(--vscode-errorForeground); }
.error pre { white-space: pre-wrap; background: var(--vscode-textCodeBlock-background); padding: 0.8em; }
`;
