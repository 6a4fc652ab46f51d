/**
 * Draws the laid-out graph on a 2D canvas. Only what intersects the viewport is drawn; boxes are filled in
 * one path per colour and edges stroked in one path; text is skipped when zoomed out (level of detail).
 */
import type { Theme } from '../theme';
import type { Rect } from './layout-protocol';

export interface SceneBox extends Rect {
  readonly kind: 'node' | 'group';
  readonly title: string;
  readonly subtitle: string;
  /** Third line (metric value or plan choice); empty for none. */
  readonly detail: string;
  /** Heatmap or plan colour; undefined draws the theme's fill. */
  readonly fill: string | undefined;
  /** Energy-saving badge text; empty for none. */
  readonly badge: string;
}

export interface Scene {
  readonly boxes: readonly SceneBox[];
  readonly clusters: readonly (Rect & { readonly label: string })[];
  readonly edges: readonly (readonly number[])[];
  readonly width: number;
  readonly height: number;
}

/** The visible part of the world. */
interface View {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

interface Camera {
  x: number;
  y: number;
  scale: number;
}

const TEXT_SCALE = 0.4;
const READABLE_SCALE = 0.8;
const DETAIL_SCALE = 0.25;
const MIN_SCALE = 0.01;
const MAX_SCALE = 4;

export class Renderer {
  readonly camera: Camera = { x: 0, y: 0, scale: 1 };
  selected = -1;
  matches: ReadonlySet<number> = new Set();
  /** Milliseconds the last frame took to draw. */
  lastFrameMs = 0;
  private scene: Scene = { boxes: [], clusters: [], edges: [], width: 0, height: 0 };
  private edgeBounds: Float64Array = new Float64Array(0);
  private frame = 0;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private theme: Theme,
    private readonly onFrame: () => void,
  ) {}

  setScene(scene: Scene): void {
    this.scene = scene;
    this.edgeBounds = new Float64Array(scene.edges.length * 4);
    scene.edges.forEach((points, i) => {
      let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
      for (let k = 0; k < points.length; k += 2) {
        minX = Math.min(minX, points[k]!);
        maxX = Math.max(maxX, points[k]!);
        minY = Math.min(minY, points[k + 1]!);
        maxY = Math.max(maxY, points[k + 1]!);
      }
      this.edgeBounds.set([minX, minY, maxX, maxY], i * 4);
    });
    this.invalidate();
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    this.invalidate();
  }

  invalidate(): void {
    if (this.frame === 0) this.frame = requestAnimationFrame(() => this.draw());
  }

  sceneBox(index: number): Rect | undefined {
    return this.scene.boxes[index];
  }

  sceneCluster(index: number): Rect | undefined {
    return this.scene.clusters[index];
  }

  /** The box under a canvas point (CSS pixels), or -1. */
  boxAt(px: number, py: number): number {
    const { x, y } = this.toWorld(px, py);
    const boxes = this.scene.boxes;
    for (let i = boxes.length - 1; i >= 0; i--) {
      const b = boxes[i]!;
      if (x >= b.x && x <= b.x + b.width && y >= b.y && y <= b.y + b.height) return i;
    }
    return -1;
  }

  /** The expanded group frame whose header is under a canvas point, or -1. */
  clusterHeaderAt(px: number, py: number): number {
    const { x, y } = this.toWorld(px, py);
    const clusters = this.scene.clusters;
    for (let i = clusters.length - 1; i >= 0; i--) {
      const c = clusters[i]!;
      if (x >= c.x && x <= c.x + c.width && y >= c.y && y <= c.y + 22) return i;
    }
    return -1;
  }

  toWorld(px: number, py: number): { x: number; y: number } {
    return { x: (px - this.camera.x) / this.camera.scale, y: (py - this.camera.y) / this.camera.scale };
  }

  zoomAt(px: number, py: number, factor: number): void {
    const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, this.camera.scale * factor));
    const world = this.toWorld(px, py);
    this.camera.scale = scale;
    this.camera.x = px - world.x * scale;
    this.camera.y = py - world.y * scale;
    this.invalidate();
  }

  panBy(dx: number, dy: number): void {
    this.camera.x += dx;
    this.camera.y += dy;
    this.invalidate();
  }

  fit(): void {
    const { width, height } = this.viewport();
    const s = this.scene;
    if (s.width <= 0 || s.height <= 0) return;
    const scale = Math.min(1.5, Math.max(MIN_SCALE, Math.min(width / s.width, height / s.height) * 0.95));
    this.camera.scale = scale;
    this.camera.x = (width - s.width * scale) / 2;
    this.camera.y = (height - s.height * scale) / 2;
    this.invalidate();
  }

  /**
   * The opening view: everything if that is readable, else as wide as fits (at a scale that shows text),
   * from the top of the graph.
   */
  overview(): void {
    const { width, height } = this.viewport();
    const s = this.scene;
    if (s.width <= 0 || s.height <= 0) return;
    const all = Math.min(width / s.width, height / s.height) * 0.95;
    const scale = Math.min(1, Math.max(all, Math.min((width / s.width) * 0.95, READABLE_SCALE)));
    this.camera.scale = scale;
    this.camera.x = (width - s.width * scale) / 2;
    this.camera.y = all >= scale ? (height - s.height * scale) / 2 : 12;
    this.invalidate();
  }

  /** Centres a box, zooming in far enough to read its text. */
  centre(index: number): void {
    const box = this.scene.boxes[index];
    if (!box) return;
    const { width, height } = this.viewport();
    this.camera.scale = Math.max(this.camera.scale, READABLE_SCALE);
    this.camera.x = width / 2 - (box.x + box.width / 2) * this.camera.scale;
    this.camera.y = height / 2 - (box.y + box.height / 2) * this.camera.scale;
    this.invalidate();
  }

  private viewport(): { width: number; height: number } {
    return { width: this.canvas.clientWidth, height: this.canvas.clientHeight };
  }

  private draw(): void {
    this.frame = 0;
    const started = performance.now();
    const { width, height } = this.viewport();
    const ratio = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(width * ratio) || this.canvas.height !== Math.round(height * ratio)) {
      this.canvas.width = Math.round(width * ratio);
      this.canvas.height = Math.round(height * ratio);
    }
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const { x: cx, y: cy, scale } = this.camera;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.fillStyle = this.theme.background;
    ctx.fillRect(0, 0, width, height);
    ctx.setTransform(ratio * scale, 0, 0, ratio * scale, ratio * cx, ratio * cy);
    const view = { x0: -cx / scale, y0: -cy / scale, x1: (width - cx) / scale, y1: (height - cy) / scale };
    const visible = (r: Rect) =>
      r.x <= view.x1 && r.x + r.width >= view.x0 && r.y <= view.y1 && r.y + r.height >= view.y0;
    const pixel = 1 / scale;

    ctx.lineWidth = pixel;
    ctx.strokeStyle = this.theme.border;
    for (const c of this.scene.clusters) {
      if (visible(c)) ctx.strokeRect(c.x, c.y, c.width, c.height);
    }
    this.drawEdges(ctx, view, pixel);

    const shown: number[] = [];
    const byFill = new Map<string, number[]>();
    this.scene.boxes.forEach((b, i) => {
      if (!visible(b)) return;
      shown.push(i);
      const fill = b.fill ?? (b.kind === 'group' ? this.theme.groupFill : this.theme.nodeFill);
      let list = byFill.get(fill);
      if (!list) byFill.set(fill, (list = []));
      list.push(i);
    });
    for (const [fill, list] of byFill) {
      ctx.fillStyle = fill;
      ctx.beginPath();
      for (const i of list) {
        const b = this.scene.boxes[i]!;
        ctx.rect(b.x, b.y, b.width, b.height);
      }
      ctx.fill();
    }
    ctx.strokeStyle = this.theme.border;
    ctx.beginPath();
    for (const i of shown) {
      const b = this.scene.boxes[i]!;
      ctx.rect(b.x, b.y, b.width, b.height);
    }
    ctx.stroke();
    this.drawHighlights(ctx, pixel);
    if (scale >= TEXT_SCALE) this.drawText(ctx, shown, visible);
    this.lastFrameMs = performance.now() - started;
    this.onFrame();
  }

  private drawEdges(ctx: CanvasRenderingContext2D, view: View, pixel: number): void {
    ctx.strokeStyle = this.theme.edge;
    ctx.lineWidth = pixel;
    ctx.beginPath();
    this.scene.edges.forEach((p, i) => {
      if (!this.edgeVisible(i, view)) return;
      ctx.moveTo(p[0]!, p[1]!);
      if (p.length === 4) {
        // An edge across a group frame: a vertical S-curve.
        const my = (p[1]! + p[3]!) / 2;
        ctx.bezierCurveTo(p[0]!, my, p[2]!, my, p[2]!, p[3]!);
      } else {
        for (let j = 2; j < p.length; j += 2) ctx.lineTo(p[j]!, p[j + 1]!);
      }
    });
    ctx.stroke();
    if (this.camera.scale < TEXT_SCALE) return;
    // Arrowheads at the targets (every edge ends at the top of its target box, pointing down).
    ctx.fillStyle = this.theme.edge;
    ctx.beginPath();
    this.scene.edges.forEach((p, i) => {
      if (!this.edgeVisible(i, view)) return;
      const [x, y] = [p[p.length - 2]!, p[p.length - 1]!];
      ctx.moveTo(x, y);
      ctx.lineTo(x - 4, y - 7);
      ctx.lineTo(x + 4, y - 7);
      ctx.closePath();
    });
    ctx.fill();
  }

  private edgeVisible(i: number, view: View): boolean {
    const b = this.edgeBounds;
    const k = i * 4;
    return b[k]! <= view.x1 && b[k + 2]! >= view.x0 && b[k + 1]! <= view.y1 && b[k + 3]! >= view.y0;
  }

  private drawHighlights(ctx: CanvasRenderingContext2D, pixel: number): void {
    ctx.lineWidth = 3 * pixel;
    ctx.strokeStyle = this.theme.match;
    for (const i of this.matches) {
      const b = this.scene.boxes[i];
      if (b) ctx.strokeRect(b.x - 2 * pixel, b.y - 2 * pixel, b.width + 4 * pixel, b.height + 4 * pixel);
    }
    const selected = this.scene.boxes[this.selected];
    if (selected) {
      ctx.strokeStyle = this.theme.focus;
      ctx.strokeRect(
        selected.x - 3 * pixel,
        selected.y - 3 * pixel,
        selected.width + 6 * pixel,
        selected.height + 6 * pixel,
      );
    }
  }

  private drawText(ctx: CanvasRenderingContext2D, shown: readonly number[], visible: (r: Rect) => boolean): void {
    const font = this.theme.font;
    const detail = this.camera.scale >= DETAIL_SCALE;
    ctx.textBaseline = 'top';
    for (const i of shown) {
      const b = this.scene.boxes[i]!;
      const dark = b.fill !== undefined;
      const chars = Math.max(4, Math.floor((b.width - 12) / 6.5));
      ctx.fillStyle = dark ? '#111111' : this.theme.foreground;
      ctx.font = `600 12px ${font}`;
      ctx.fillText(clip(b.title, chars), b.x + 6, b.y + 5);
      ctx.font = `11px ${font}`;
      ctx.fillStyle = dark ? '#222222' : this.theme.muted;
      if (detail) ctx.fillText(clip(b.subtitle, chars + 2), b.x + 6, b.y + 21);
      if (detail && b.detail) ctx.fillText(clip(b.detail, chars + 2), b.x + 6, b.y + 36);
      if (b.badge) {
        ctx.font = `10px ${font}`;
        const w = ctx.measureText(b.badge).width + 8;
        ctx.fillStyle = this.theme.focus;
        ctx.fillRect(b.x + b.width - w, b.y - 8, w, 14);
        ctx.fillStyle = '#ffffff';
        ctx.fillText(b.badge, b.x + b.width - w + 4, b.y - 6);
      }
    }
    ctx.font = `600 12px ${font}`;
    ctx.fillStyle = this.theme.muted;
    for (const c of this.scene.clusters) {
      if (visible(c)) ctx.fillText(clip(c.label, Math.floor(c.width / 7)), c.x + 6, c.y + 5);
    }
  }
}

function clip(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, Math.max(1, chars - 1))}…`;
}
