/** Canvas colours read from VS Code's theme variables (a canvas cannot use CSS variables directly). */
export interface Theme {
  readonly background: string;
  readonly foreground: string;
  readonly muted: string;
  readonly border: string;
  readonly focus: string;
  readonly match: string;
  readonly nodeFill: string;
  readonly groupFill: string;
  readonly edge: string;
  readonly font: string;
}

export function readTheme(): Theme {
  const style = getComputedStyle(document.body);
  const v = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    background: v('--vscode-editor-background', '#1e1e1e'),
    foreground: v('--vscode-editor-foreground', v('--vscode-foreground', '#cccccc')),
    muted: v('--vscode-descriptionForeground', '#9d9d9d'),
    border: v('--vscode-panel-border', '#555555'),
    focus: v('--vscode-focusBorder', '#007fd4'),
    match: v('--vscode-editor-findMatchHighlightBorder', v('--vscode-charts-yellow', '#e2c08d')),
    nodeFill: v('--vscode-sideBar-background', v('--vscode-editorWidget-background', '#252526')),
    groupFill: v('--vscode-editorWidget-background', '#2d2d30'),
    edge: v('--vscode-editorLineNumber-foreground', '#858585'),
    font: v('--vscode-font-family', 'sans-serif'),
  };
}

/** Calls back when VS Code switches the theme (it changes the body class and the root style). */
export function onThemeChange(callback: () => void): void {
  const observer = new MutationObserver(callback);
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
}
