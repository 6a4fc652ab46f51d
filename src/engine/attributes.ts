/** Typed access to a node's attributes, with ONNX defaults and clear errors for wrong types. */
import type { Attribute, Graph, Node, Tensor } from '../onnx';
import { EngineError } from './types';

export class Attributes {
  private readonly byName: ReadonlyMap<string, Attribute>;

  constructor(private readonly node: Node) {
    this.byName = new Map(node.attributes.map((a) => [a.name, a]));
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  int(name: string, fallback?: number): number {
    return this.get(name, 'int', fallback);
  }

  float(name: string, fallback?: number): number {
    return this.get(name, 'float', fallback);
  }

  string(name: string, fallback?: string): string {
    return this.get(name, 'string', fallback);
  }

  ints(name: string, fallback?: number[]): number[] {
    return this.get(name, 'ints', fallback);
  }

  floats(name: string, fallback?: number[]): number[] {
    return this.get(name, 'floats', fallback);
  }

  strings(name: string, fallback?: string[]): string[] {
    return this.get(name, 'strings', fallback);
  }

  tensor(name: string, fallback?: Tensor): Tensor {
    return this.get(name, 'tensor', fallback);
  }

  graph(name: string): Graph {
    return this.get<Graph>(name, 'graph', undefined);
  }

  private get<T>(name: string, type: Attribute['type'], fallback: T | undefined): T {
    const attribute = this.byName.get(name);
    if (!attribute) {
      if (fallback === undefined) throw new EngineError(`${this.where()}: required attribute "${name}" is missing`);
      return fallback;
    }
    if (attribute.refAttrName !== undefined) {
      throw new EngineError(
        `${this.where()}: attribute "${name}" refers to "${attribute.refAttrName}" outside a function call`,
      );
    }
    if (attribute.type !== type) {
      throw new EngineError(`${this.where()}: attribute "${name}" should be ${type}, the file has ${attribute.type}`);
    }
    return attribute.value as T;
  }

  private where(): string {
    return `${this.node.opType} node "${this.node.name}"`;
  }
}
