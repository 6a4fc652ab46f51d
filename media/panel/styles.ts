/** The panel's styles, from VS Code's theme variables only. */
export const PANEL_STYLES = `
body { color: var(--vscode-foreground); background: var(--vscode-panel-background, var(--vscode-editor-background));
  font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); margin: 0; padding: 0 0.6em 1em; }
#panel-toolbar { position: sticky; top: 0; display: flex; gap: 0.8em; align-items: center; padding: 0.4em 0;
  background: var(--vscode-panel-background, var(--vscode-editor-background)); z-index: 1; }
#panel-toolbar p { margin: 0; }
input { color: var(--vscode-input-foreground); background: var(--vscode-input-background);
  border: 1px solid var(--vscode-input-border, transparent); padding: 0.2em 0.4em; font: inherit; min-width: 14em; }
:focus-visible { outline: 1px solid var(--vscode-focusBorder); }
.muted { color: var(--vscode-descriptionForeground); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.15em 0.6em; border-bottom: 1px solid var(--vscode-panel-border);
  white-space: nowrap; }
th { cursor: pointer; color: var(--vscode-descriptionForeground); font-weight: 600; user-select: none; }
th[aria-sort=ascending]::after { content: ' ▲'; }
th[aria-sort=descending]::after { content: ' ▼'; }
tbody tr { cursor: pointer; }
tbody tr:hover { background: var(--vscode-list-hoverBackground); }
tbody tr.selected { background: var(--vscode-list-activeSelectionBackground);
  color: var(--vscode-list-activeSelectionForeground); }
`;
