/**
 * The graph view: grouping, layout (in the worker), heatmap, search, selection and the camera, with the test
 * hooks on its container (#graph-view): data-state, data-nodes, data-colored, data-selected, and data-frame-ms
 * (the last frame's drawing time, for the benchmark).
 */
import type { GraphView } from '../../src/protocol/graph';
import type { AuditView, NodeAuditView } from '../../src/protocol/messages';
import { readTheme } from '../theme';
import { buildGroups, opMix, type GroupTree } from './groups';
import {
  formatDb,
  formatEnergy,
  indexAudit,
  planColour,
  sqnrColour,
  sumOf,
  worstOf,
  type AuditIndex,
  type Overlay,
} from './heatmap';
import { LayoutClient } from './layout-client';
import type { LayoutResult, Rect } from './layout-protocol';
import { indexGraph, type GraphModel } from './model';
import { Renderer, type SceneBox } from './renderer';
import { visibleGraph, type VisibleGraph } from './visible';

/** Graphs with more nodes than this open with every group collapsed. */
const COLLAPSE_ABOVE = 200;

export interface GraphViewEvents {
  /** A node was selected by the user (click or search). */
  onSelect(nodeName: string, nodeId: number): void;
  /** The selection changed, for the details pane (-1: none). */
  onDetails(nodeId: number): void;
}

interface Loaded {
  readonly model: GraphModel;
  readonly tree: GroupTree;
  readonly expanded: Set<number>;
  visible?: VisibleGraph;
}

export class GraphViewController {
  readonly renderer: Renderer;
  private readonly layouts = new LayoutClient();
  private loaded: Loaded | undefined;
  private auditView: AuditView | undefined;
  private audit: AuditIndex | undefined;
  private auditNodes = new Map<string, NodeAuditView>();
  private overlay: Overlay = { metric: 'isolated', scheme: '', plan: false };
  private selectedNode = -1;
  private matches: number[] = [];
  private matchCursor = -1;
  private painted = true;
  private lastLayout: LayoutResult | undefined;

  constructor(
    private readonly container: HTMLElement,
    canvas: HTMLCanvasElement,
    private readonly events: GraphViewEvents,
  ) {
    this.renderer = new Renderer(canvas, readTheme(), () => this.afterFrame());
    this.setState('loading');
  }

  setModel(view: GraphView): void {
    const model = indexGraph(view);
    const tree = buildGroups(view);
    const expanded = new Set<number>();
    if (view.nodes.length <= COLLAPSE_ABOVE) tree.groups.forEach((g) => expanded.add(g.id));
    this.loaded = { model, tree, expanded };
    this.selectedNode = -1;
    this.matches = [];
    this.audit = this.auditView && indexAudit(model, this.auditView);
    void this.relayout(() => this.renderer.overview());
  }

  /** Shows an audit; one that arrives before the model is kept until the model does. */
  setAudit(audit: AuditView): void {
    this.auditView = audit;
    this.auditNodes = new Map(audit.nodes.map((n) => [n.name, n]));
    if (!this.loaded) return;
    this.audit = indexAudit(this.loaded.model, audit);
    if (!audit.schemes.includes(this.overlay.scheme))
      this.overlay = { ...this.overlay, scheme: audit.schemes[0] ?? '' };
    this.refreshScene();
    if (this.selectedNode >= 0) this.events.onDetails(this.selectedNode);
  }

  setOverlay(overlay: Overlay): void {
    this.overlay = overlay;
    this.refreshScene();
  }

  nodeAudit(nodeId: number): { audit: NodeAuditView | undefined; plan: string } {
    const name = this.loaded?.model.node(nodeId).name ?? '';
    return { audit: this.auditNodes.get(name), plan: this.audit?.plan[nodeId] ?? '' };
  }

  get model(): GraphModel | undefined {
    return this.loaded?.model;
  }

  showError(): void {
    this.loaded = undefined;
    this.renderer.setScene({ boxes: [], clusters: [], edges: [], width: 0, height: 0 });
    this.setState('error');
    this.container.dataset.nodes = '0';
    this.container.dataset.colored = '0';
    this.container.dataset.selected = '';
  }

  showLoading(): void {
    this.setState('loading');
  }

  /** Clicks: a collapsed group toggles open, a frame header closes its group, a node is selected. */
  click(px: number, py: number): void {
    const visible = this.loaded?.visible;
    if (!visible) return;
    const box = this.renderer.boxAt(px, py);
    const target = box >= 0 ? visible.boxes[box]! : undefined;
    if (target?.kind === 'group') return this.toggle(target.ref, this.renderer.sceneBox(box));
    if (target?.kind === 'node') return this.select(target.ref, true, false);
    const frame = this.renderer.clusterHeaderAt(px, py);
    if (frame >= 0) this.toggle(visible.clusters[frame]!, this.renderer.sceneCluster(frame));
  }

  /** Highlights nodes whose name or op type contains the query; returns the number of matches. */
  search(query: string): number {
    const q = query.trim().toLowerCase();
    const nodes = this.loaded?.model.view.nodes ?? [];
    this.matches = q
      ? nodes.filter((n) => n.name.toLowerCase().includes(q) || n.opType.toLowerCase().includes(q)).map((n) => n.id)
      : [];
    this.matchCursor = -1;
    this.refreshHighlights();
    return this.matches.length;
  }

  get matchCount(): number {
    return this.matches.length;
  }

  /** Selects and centres the next match (Enter in the search box); returns its position, 1-based. */
  nextMatch(): number {
    if (this.matches.length === 0) return 0;
    this.matchCursor = (this.matchCursor + 1) % this.matches.length;
    this.select(this.matches[this.matchCursor]!, true, true);
    return this.matchCursor + 1;
  }

  /** Selects a node by name and brings it into view (the panel's reveal); false if there is none. */
  reveal(nodeName: string): boolean {
    const id = this.loaded?.model.nodeByName.get(nodeName);
    if (id === undefined) return false;
    this.select(id, false, true);
    return true;
  }

  expandAll(open: boolean): void {
    const loaded = this.loaded;
    if (!loaded) return;
    loaded.expanded.clear();
    if (open) loaded.tree.groups.forEach((g) => loaded.expanded.add(g.id));
    void this.relayout(() => this.renderer.fit());
  }

  private select(nodeId: number, byUser: boolean, centre: boolean): void {
    const loaded = this.loaded;
    if (!loaded) return;
    this.selectedNode = nodeId;
    this.container.dataset.selected = loaded.model.node(nodeId).name;
    if (byUser) this.events.onSelect(loaded.model.node(nodeId).name, nodeId);
    this.events.onDetails(nodeId);
    const hidden = loaded.tree.ancestors[nodeId]!.filter((g) => !loaded.expanded.has(g));
    if (hidden.length > 0) {
      for (const g of hidden) loaded.expanded.add(g);
      void this.relayout(() => this.centreSelected());
      return;
    }
    this.refreshHighlights();
    if (centre) this.centreSelected();
  }

  private centreSelected(): void {
    const box = this.loaded?.visible?.boxOfNode[this.selectedNode] ?? -1;
    if (box >= 0) this.renderer.centre(box);
  }

  /** Opens or closes a group, keeping its box (or frame) where it was on screen. */
  private toggle(group: number, anchor: Rect | undefined): void {
    const loaded = this.loaded;
    if (!loaded) return;
    const screen = anchor && this.toScreen(anchor);
    if (!loaded.expanded.has(group)) loaded.expanded.add(group);
    else {
      loaded.expanded.delete(group);
      for (const g of loaded.tree.groups) if (isInside(loaded.tree, g.id, group)) loaded.expanded.delete(g.id);
    }
    void this.relayout(() => {
      const visible = this.loaded?.visible;
      if (!screen || !visible) return;
      const frame = visible.clusters.indexOf(group);
      const rect =
        frame >= 0
          ? this.renderer.sceneCluster(frame)
          : this.renderer.sceneBox(visible.boxes.findIndex((b) => b.kind === 'group' && b.ref === group));
      const now = rect && this.toScreen(rect);
      if (now) this.renderer.panBy(screen.x - now.x, screen.y - now.y);
    });
  }

  private toScreen(rect: Rect): { x: number; y: number } {
    const { x, y, scale } = this.renderer.camera;
    return { x: x + rect.x * scale, y: y + rect.y * scale };
  }

  private async relayout(after: () => void): Promise<void> {
    const loaded = this.loaded;
    if (!loaded) return;
    this.setState('loading');
    const visible = visibleGraph(loaded.model, loaded.tree, loaded.expanded);
    let result: LayoutResult | undefined;
    try {
      result = await this.layouts.layout(visible.request);
    } catch (error) {
      this.showError();
      throw error;
    }
    if (!result || this.loaded !== loaded) return;
    loaded.visible = visible;
    this.lastLayout = result;
    this.refreshScene();
    after();
    this.painted = false;
  }

  private refreshScene(): void {
    const loaded = this.loaded;
    const layout = this.lastLayout;
    if (!loaded?.visible || !layout) return;
    const { model, tree, visible } = loaded;
    const values = this.audit && !this.overlay.plan ? this.audit.values(this.overlay) : undefined;
    const saved = this.audit ? this.audit.saved(this.overlay) : undefined;
    const metricName = this.overlay.metric === 'isolated' ? 'isolated' : 'propagated';
    const boxes: SceneBox[] = visible.boxes.map((box, i) => {
      const position = layout.boxes[i]!;
      const spec = visible.request.boxes[i]!;
      const members = box.kind === 'node' ? [box.ref] : tree.groups[box.ref]!.members;
      const energy = saved ? sumOf(saved, members) : 0;
      const overlay = this.boxOverlay(members, values, metricName, box.kind === 'node');
      const node = box.kind === 'node' ? model.node(box.ref) : undefined;
      const group = box.kind === 'group' ? tree.groups[box.ref]! : undefined;
      return {
        x: position.x,
        y: position.y,
        width: spec.width,
        height: spec.height,
        kind: box.kind,
        title: node ? node.opType : `▸ ${group!.label}`,
        subtitle: node ? node.name : `${group!.members.length} nodes · ${opMix(model.view, group!)}`,
        detail: overlay.detail,
        fill: overlay.fill,
        badge: energy > 0 ? `−${formatEnergy(energy)}` : '',
      };
    });
    const clusters = visible.clusters.map((group, i) => ({
      ...layout.clusters[i]!,
      label: `▾ ${tree.groups[group]!.label}`,
    }));
    this.renderer.setScene({ boxes, clusters, edges: layout.edges, width: layout.width, height: layout.height });
    this.refreshHighlights();
    this.container.dataset.nodes = String(boxes.length);
    this.container.dataset.colored = String(boxes.filter((b) => b.fill !== undefined).length);
  }

  private boxOverlay(
    members: readonly number[],
    values: Float64Array | undefined,
    metricName: string,
    single: boolean,
  ): { fill: string | undefined; detail: string } {
    const audit = this.audit;
    if (!audit) return { fill: undefined, detail: '' };
    if (!values) {
      const chosen = members.map((id) => audit.plan[id]!).filter((s) => s !== '');
      if (chosen.length === 0) return { fill: undefined, detail: single ? 'plan: exact' : '' };
      const counts = new Map<string, number>();
      for (const s of chosen) counts.set(s, (counts.get(s) ?? 0) + 1);
      const top = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
      const fill = planColour(audit.audit.schemes, top);
      return {
        fill,
        detail: single ? `plan: ${top}` : `${chosen.length} converted (${[...counts.keys()].join(', ')})`,
      };
    }
    const worst = worstOf(values, members);
    if (Number.isNaN(worst)) return { fill: undefined, detail: '' };
    return { fill: sqnrColour(worst), detail: `${single ? '' : 'worst '}${metricName} ${formatDb(worst)}` };
  }

  private refreshHighlights(): void {
    const visible = this.loaded?.visible;
    if (!visible) return;
    this.renderer.matches = new Set(this.matches.map((id) => visible.boxOfNode[id]!));
    this.renderer.selected = this.selectedNode >= 0 ? visible.boxOfNode[this.selectedNode]! : -1;
    this.renderer.invalidate();
  }

  private afterFrame(): void {
    this.container.dataset.frameMs = this.renderer.lastFrameMs.toFixed(2);
    if (this.painted) return;
    this.painted = true;
    this.setState('ready');
  }

  private setState(state: 'loading' | 'ready' | 'error'): void {
    this.container.dataset.state = state;
  }
}

function isInside(tree: GroupTree, group: number, ancestor: number): boolean {
  for (let g = tree.groups[group]!.parent; g >= 0; g = tree.groups[g]!.parent) if (g === ancestor) return true;
  return false;
}
