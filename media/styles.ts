/** Theme-aware styles: only VS Code's CSS variables, so light, dark and high-contrast themes all work. */
export const STYLES = `
html, body { height: 100%; margin: 0; }
body { color: var(--vscode-editor-foreground); background: var(--vscode-editor-background);
  font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); padding: 0; overflow: hidden; }
#root { display: flex; flex-direction: column; height: 100vh; }
#toolbar { display: flex; flex-wrap: wrap; gap: 0.4em; align-items: center; padding: 0.4em 0.6em;
  border-bottom: 1px solid var(--vscode-panel-border); }
#toolbar .separator { width: 1px; align-self: stretch; background: var(--vscode-panel-border); }
input, select { color: var(--vscode-input-foreground); background: var(--vscode-input-background);
  border: 1px solid var(--vscode-input-border, transparent); padding: 0.2em 0.4em; font: inherit; }
input[type=search] { min-width: 16em; }
button { color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: none;
  padding: 0.25em 0.8em; cursor: pointer; font: inherit; }
button:hover:not(:disabled) { background: var(--vscode-button-hoverBackground); }
button:disabled { opacity: 0.5; cursor: default; }
button[hidden] { display: none; }
:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 1px; }
.muted { color: var(--vscode-descriptionForeground); }
#content { display: flex; flex: 1; min-height: 0; }
#graph-view { position: relative; flex: 1; min-width: 0; }
#graph-canvas { display: block; width: 100%; height: 100%; cursor: grab; }
#graph-canvas:active { cursor: grabbing; }
#graph-message { position: absolute; top: 1em; left: 1em; right: 1em; pointer-events: none; }
#graph-message:empty { display: none; }
#legend { position: absolute; left: 0.6em; bottom: 0.6em; display: flex; gap: 0.4em; align-items: center;
  padding: 0.3em 0.6em; background: var(--vscode-editorWidget-background);
  border: 1px solid var(--vscode-panel-border); }
#legend[hidden] { display: none; }
#legend .ramp { display: inline-block; width: 10em; height: 0.8em; }
#legend .swatch { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.25em; vertical-align: middle;
  border: 1px solid var(--vscode-panel-border); }
#legend .legend-item { margin-right: 0.5em; }
#side { width: 24em; max-width: 40%; overflow: auto; padding: 0 0.8em 1em;
  border-left: 1px solid var(--vscode-panel-border); }
#side h2 { font-size: 1.1em; word-break: break-all; }
#side h3 { font-size: 1em; margin: 1em 0 0.3em; }
#properties summary { cursor: pointer; margin: 0.8em 0; font-weight: 600; }
table { border-collapse: collapse; margin: 0.3em 0 1em; }
th, td { text-align: left; padding: 0.2em 0.6em; border-bottom: 1px solid var(--vscode-panel-border);
  word-break: break-all; }
th { color: var(--vscode-descriptionForeground); font-weight: 600; }
.error h1 { color: var(--vscode-errorForeground); }
.error pre { white-space: pre-wrap; background: var(--vscode-textCodeBlock-background); padding: 0.8em; }
`;
