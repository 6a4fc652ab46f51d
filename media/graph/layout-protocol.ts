/** Messages between the graph view and its layout worker. Boxes and clusters are referred to by index. */

export interface LayoutRequest {
  readonly seq: number;
  readonly boxes: readonly { readonly width: number; readonly height: number; readonly cluster: number }[];
  /** Expanded groups drawn as frames around their contents; parent is a cluster index or -1. */
  readonly clusters: readonly { readonly parent: number }[];
  readonly edges: readonly (readonly [number, number])[];
}

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface LayoutResult {
  readonly seq: number;
  /** Box top-left corners. */
  readonly boxes: readonly { readonly x: number; readonly y: number }[];
  readonly clusters: readonly Rect[];
  /** Each edge as a flat list of points x0, y0, x1, y1, … */
  readonly edges: readonly (readonly number[])[];
  readonly width: number;
  readonly height: number;
  readonly milliseconds: number;
}
