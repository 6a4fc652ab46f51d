/** The audit settings (`lmulAudit.*`), checked with the same rules as the CLI's flags. */
import * as vscode from 'vscode';
import { parseScheme } from '../arith';
import { parseBudget } from '../audit/budget';
import { DEFAULT_ENERGY_TABLE, parseEnergyTable } from '../audit/energy';
import type { SampleSpec } from '../audit/inputs';
import { join } from '../audit/paths';
import { ACCUMULATORS, FP8_SCALINGS, MEMORY_LEVELS } from '../audit/choices';
import type { AuditSettings } from './jobs';

export class SettingsError extends Error {}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], key: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value))
    throw new SettingsError(`lmulAudit.${key} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

function positiveInteger(value: unknown, key: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw new SettingsError(`lmulAudit.${key} must be a positive integer, got ${JSON.stringify(value)}`);
  return value;
}

/** A setting's path: absolute, or relative to the model's workspace folder (else the model's folder). */
export function resolvePath(path: string, modelUri: vscode.Uri): vscode.Uri {
  if (/^[a-zA-Z][\w+.-]*:\/\//.test(path)) return vscode.Uri.parse(path);
  if (path.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(path)) return modelUri.with({ path: path.replace(/\\/g, '/') });
  const folder = vscode.workspace.getWorkspaceFolder(modelUri)?.uri ?? vscode.Uri.joinPath(modelUri, '..');
  return vscode.Uri.joinPath(folder, path);
}

function displayPath(uri: vscode.Uri): string {
  return uri.scheme === 'file' ? uri.fsPath : uri.toString();
}

/**
 * How a plan records its input folder: a local path, or — in a virtual workspace (VS Code for the Web) — the
 * path relative to the workspace folder, so `lmul-audit verify` run from that folder's copy on disk finds it.
 */
function recordedPath(uri: vscode.Uri): string {
  if (uri.scheme === 'file') return uri.fsPath;
  const relative = vscode.workspace.asRelativePath(uri, false);
  return relative === uri.toString() || relative.startsWith('/') ? uri.toString() : relative;
}

export interface ResolvedSettings {
  readonly settings: AuditSettings;
  /** The input folder when samples come from files (`settings.inputs.dir` is how the plan records it). */
  readonly inputsUri: vscode.Uri | undefined;
}

export async function readSettings(modelUri: vscode.Uri): Promise<ResolvedSettings> {
  const config = vscode.workspace.getConfiguration('lmulAudit', modelUri);
  const rounding = oneOf(config.get('operandRounding'), ['rne', 'trunc'] as const, 'operandRounding');
  const schemes = (config.get<unknown[]>('schemes') ?? []).map((preset) => {
    if (typeof preset !== 'string')
      throw new SettingsError(`lmulAudit.schemes: ${JSON.stringify(preset)} is no preset`);
    const withRounding = rounding === 'trunc' && !preset.includes(':') ? `${preset}:trunc` : preset;
    try {
      return parseScheme(withRounding).preset;
    } catch (error) {
      throw new SettingsError(`lmulAudit.schemes: ${(error as Error).message}`);
    }
  });
  if (schemes.length === 0) throw new SettingsError('lmulAudit.schemes is empty: name at least one preset');
  const budget = config.get<string>('budget') ?? '';
  try {
    parseBudget(budget);
  } catch (error) {
    throw new SettingsError(`lmulAudit.budget: ${(error as Error).message}`);
  }
  const energyPath = config.get<string>('energyTable') ?? '';
  const energyTable = energyPath ? await readEnergyTable(resolvePath(energyPath, modelUri)) : DEFAULT_ENERGY_TABLE;
  const inputsPath = config.get<string>('inputs') ?? '';
  const inputsUri = inputsPath ? resolvePath(inputsPath, modelUri) : undefined;
  const dims = config.get<Record<string, unknown>>('dims') ?? {};
  for (const [name, size] of Object.entries(dims)) positiveInteger(size, `dims.${name}`);
  const defaultDim = config.get<number | null>('defaultDim') ?? null;
  const inputs: SampleSpec = inputsUri
    ? { kind: 'files', dir: recordedPath(inputsUri) }
    : {
        kind: 'synthetic',
        seed: positiveInteger(config.get('seed'), 'seed'),
        samples: positiveInteger(config.get('samples'), 'samples'),
        dims: dims as Record<string, number>,
        ...(defaultDim === null ? {} : { defaultDim: positiveInteger(defaultDim, 'defaultDim') }),
      };
  return {
    inputsUri,
    settings: {
      schemes,
      accumulation: oneOf(config.get('accumulation'), ACCUMULATORS, 'accumulation'),
      fp8Scaling: oneOf(config.get('fp8Scaling'), FP8_SCALINGS, 'fp8Scaling'),
      replaceNormalization: config.get<boolean>('replaceNormalization') ?? true,
      replaceActivation: config.get<boolean>('replaceActivation') ?? false,
      budget,
      energyTable,
      memoryLevel: oneOf(config.get('memoryLevel'), MEMORY_LEVELS, 'memoryLevel'),
      maxEvaluations: positiveInteger(config.get('maxEvaluations'), 'maxEvaluations'),
      inputs,
    },
  };
}

async function readEnergyTable(uri: vscode.Uri) {
  try {
    return parseEnergyTable(JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri))));
  } catch (error) {
    throw new SettingsError(`lmulAudit.energyTable (${displayPath(uri)}): ${(error as Error).message}`);
  }
}

/**
 * Every file of the input folder and its test_data_set_N subfolders, for a worker that can't read them; keyed
 * the way the sample reader joins paths under `SampleSpec.dir`.
 */
export async function readInputFiles(dir: vscode.Uri, recordedDir: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const visit = async (uri: vscode.Uri, key: string, depth: number) => {
    for (const [name, type] of await vscode.workspace.fs.readDirectory(uri)) {
      const child = vscode.Uri.joinPath(uri, name);
      if (type === vscode.FileType.Directory && depth === 0) await visit(child, join(key, name), 1);
      else if (type === vscode.FileType.File) files.set(join(key, name), await vscode.workspace.fs.readFile(child));
    }
  };
  await visit(dir, recordedDir, 0);
  return files;
}
