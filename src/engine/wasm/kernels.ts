/**
 * The WebAssembly SIMD kernels (source: ./assembly, built by scripts/build-wasm.mjs). One instance per
 * thread; operands are copied into its linear memory per call, which costs O(mk + kn) against O(mnk) work.
 * Below `heapStart` lie the module's own data and the fp8 product tables (kept for the instance's life);
 * every call lays out its operands from `heapStart` afresh.
 */
import { FP32, decodeBits, multiplyPrepared, type FloatFormat, type RoundingMode, type Scheme } from '../../arith';
import { copyFloat32 } from '../buffers';
import { KERNELS_WASM_BASE64 } from './generated/kernels-wasm';

interface KernelExports {
  readonly memory: WebAssembly.Memory;
  gemm(a: number, b: number, c: number, m: number, n: number, k: number, scale: number, bias: number): void;
  gemmPatches(a: number, x: number, offsets: number, c: number, m: number, n: number, ...rest: number[]): void;
  im2colRuns(x: number, runs: number, count: number, col: number, ...geometry: number[]): void;
  transposeMatrix(src: number, dst: number, rows: number, cols: number): void;
  col2imAdd(col: number, offsets: number, image: number, ...geometry: number[]): void;
  im2col(
    x: number,
    offsets: number,
    col: number,
    channels: number,
    taps: number,
    positions: number,
    imageSize: number,
    from: number,
    width: number,
  ): void;
  gemmLmulAdder(
    a: number,
    b: number,
    c: number,
    m: number,
    n: number,
    k: number,
    offset: number,
    bias: number,
    overflowAt: number,
    normalAt: number,
    lowB: number,
    highB: number,
    terms: number,
    rowBias: number,
  ): void;
  finiteAmax(src: number, len: number): number;
  roundOperands(
    src: number,
    dst: number,
    len: number,
    factor: number,
    manBits: number,
    emin: number,
    maxFinite: number,
    saturate: boolean,
    trunc: boolean,
  ): void;
  encodeFp8(src: number, dst: number, len: number, manBits: number, bias: number): number;
  roundEncodeFp8(
    src: number,
    dst: number,
    codes: number,
    len: number,
    factor: number,
    manBits: number,
    bias: number,
    maxFinite: number,
    trunc: boolean,
  ): number;
  fp8ProductRuns(
    a: number,
    b: number,
    out: number,
    rows: number,
    run: number,
    stepA: number,
    stepB: number,
    startA: number,
    startB: number,
    factorA: number,
    factorB: number,
    preparedA: boolean,
    preparedB: boolean,
    unscale: number,
    manBits: number,
    bias: number,
    maxFinite: number,
    trunc: boolean,
  ): number;
  /** `im2col` and `im2colRuns` over planes of fp8 codes (bytes). */
  im2colCodes: KernelExports['im2col'];
  im2colCodeRuns: KernelExports['im2colRuns'];
  scaleTable(src: number, dst: number, factor: number): void;
  // Depthwise and pooling kernels take a plane geometry (`depthwiseGeometry`: batch … padLeft) after their
  // buffers, and their own arguments after it.
  depthwise2dPadded(
    x: number,
    w: number,
    out: number,
    padded: number,
    paddedWidth: number,
    paddedHeight: number,
    ...rest: number[]
  ): void;
  depthwiseAdder(x: number, w: number, out: number, ...paddingTapsGeometry: number[]): void;
  maxPool2d(x: number, out: number, padded: number, paddedWidth: number, ...geometry: number[]): void;
  depthwiseFormula(
    xE: number,
    xRest: number,
    wLeft: number,
    wE: number,
    out: number,
    ...paddingGeometry: number[]
  ): void;
  depthwiseTable(
    x: number,
    w: number,
    table: number,
    out: number,
    acc: number,
    skipZeros: boolean,
    ...geometry: number[]
  ): void;
  binaryRuns(
    op: number,
    a: number,
    b: number,
    out: number,
    rows: number,
    run: number,
    stepA: number,
    stepB: number,
    startA: number,
    startB: number,
  ): void;
  lmulRuns(
    rule: number,
    c: number,
    a: number,
    b: number,
    out: number,
    rows: number,
    run: number,
    stepA: number,
    stepB: number,
    startA: number,
    startB: number,
  ): void;
  depthwiseTableExact(
    x: number,
    w: number,
    table: number,
    wide: boolean,
    unit: number,
    out: number,
    padded: number,
    rows: number,
    columns: number,
    taps: number,
    batch: number,
    channels: number,
    multiplier: number,
    h: number,
    wd: number,
    oh: number,
    ow: number,
    kh: number,
    kw: number,
    strideH: number,
    strideW: number,
    dilationH: number,
    dilationW: number,
    padTop: number,
    padLeft: number,
  ): void;
  tableRuns(
    table: number,
    factor: number,
    a: number,
    b: number,
    out: number,
    rows: number,
    run: number,
    stepA: number,
    stepB: number,
    startA: number,
    startB: number,
  ): void;
  clip(src: number, dst: number, len: number, lo: number, hi: number): void;
  leakyRelu(src: number, dst: number, len: number, alpha: number): void;
  relu(src: number, dst: number, len: number): void;
  batchNorm(src: number, dst: number, len: number, blockSize: number, channels: number, ...parameters: number[]): void;
  magnitudeRange(src: number, len: number, out: number): void;
  elementwiseChain(
    src: number,
    from: number,
    dst: number,
    len: number,
    program: number,
    steps: number,
    measure: boolean,
    ...products: [
      rule: number,
      c: number,
      manBits: number,
      emin: number,
      maxFinite: number,
      trunc: boolean,
      roundProducts: boolean,
    ]
  ): number;
  formulaLeft(src: number, dst: number, m: number, k: number, c: number): void;
  sigmoidF32(src: number, dst: number, count: number): void;
  expShifted(values: number, count: number, shift: number): void;
  softmaxLinesF32(src: number, dst: number, lines: number, n: number, scratch: number): void;
  planeMeans(x: number, out: number, planes: number, size: number): void;
  upsampleNearest(x: number, out: number, planes: number, h: number, w: number, rh: number, rw: number): void;
  formulaRight(src: number, dst: number, k: number, n: number): void;
  gemmTable(
    a: number,
    b: number,
    c: number,
    m: number,
    n: number,
    k: number,
    table: number,
    acc: number,
    skipZeros: boolean,
  ): void;
  planeCodeGroups(
    planes: number,
    channels: number,
    imageSize: number,
    taps: number,
    flags: number,
    masks: number,
  ): number;
  stepCodeGroups(
    codes: number,
    colCount: number,
    k: number,
    colStep: number,
    colStride: number,
    flags: number,
    masks: number,
  ): number;
  addRowBias(c: number, m: number, n: number, bias: number): void;
  /** `gemmTableQuads` over f64 counts (the same generic kernel). */
  gemmTableQuadsWide: KernelExports['gemmTableQuads'];
  gemmTableQuads(
    a: number,
    b: number,
    c: number,
    m: number,
    n: number,
    k: number,
    transposed: boolean,
    table: number,
    unit: number,
    acc: number,
    quads: number,
    groups: number,
  ): void;
  gemmTableExact(
    a: number,
    b: number,
    c: number,
    m: number,
    n: number,
    k: number,
    table: number,
    unit: number,
    panels: number,
    rows: number,
  ): void;
}

let compiled: WebAssembly.Module | undefined;
let instance: KernelExports | undefined;
let heapStart = 0;

/** The compiled kernels module (a thread pool instantiates it in its workers). */
export function kernelModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(Uint8Array.from(atob(KERNELS_WASM_BASE64), (c) => c.charCodeAt(0)));
  return compiled;
}

function kernels(): KernelExports {
  if (!instance) {
    const abort = () => {
      throw new Error('WebAssembly kernel aborted');
    };
    instance = new WebAssembly.Instance(kernelModule(), { env: { abort } }).exports as unknown as KernelExports;
    heapStart = instance.memory.buffer.byteLength; // everything below belongs to the module itself
  }
  return instance;
}

/**
 * Byte offsets of regions of the given byte sizes (16-byte aligned) from `from` (default `heapStart`),
 * growing memory.
 */
/** Five byte offsets of a `layout`. */
type Quintuple = [number, number, number, number, number];

function layout(sizes: readonly number[], start?: number): number[] {
  const { memory } = kernels(); // sets heapStart on first use
  const from = start ?? heapStart;
  const bytes = sizes.reduce((sum, n) => sum + ((n + 15) & ~15), 0);
  const missing = from + bytes - memory.buffer.byteLength;
  if (missing > 0) memory.grow(Math.ceil(missing / 65536));
  let offset = from;
  return sizes.map((n) => {
    const at = offset;
    offset += (n + 15) & ~15;
    return at;
  });
}

function f32View(at: number, length: number): Float32Array {
  return new Float32Array(kernels().memory.buffer, at, length);
}

/**
 * Runs bands of rows of f32 GEMMs on other threads: an optional pool that a Node host injects with
 * `setGemmPool` (parallel/node-pool.ts). The engine itself never imports node:worker_threads, so that it
 * also runs in a browser Web Worker.
 */
export interface GemmPool {
  /** Whether `gemm` would split a GEMM of this shape (else it declines). */
  splits(shape: { m: number; n: number; k: number }): boolean;
  /**
   * C = A·B (m×n), its rows split between helper threads and the caller, which computes one band with
   * `band(rows of A, row count)`; null when the pool declines (the caller then computes all of C).
   */
  gemm(
    A: Float32Array,
    B: Float32Array,
    shape: { m: number; n: number; k: number },
    band: (A: Float32Array, rows: number) => Float32Array,
  ): Float32Array | null;
}

let gemmPool: GemmPool | null = null;

/** Injects (or, with null, removes) the thread pool that f32 GEMMs split their rows over. */
export function setGemmPool(pool: GemmPool | null): void {
  gemmPool = pool;
}

/**
 * What the f32 GEMM does to each sum once it is rounded to f32, as it stores it: × `scale` (a power of two
 * that is a normal f32: the unscaling of fp8 operands, one f32 multiplication), then + rowBias[i] on row i
 * (a Conv's bias, in f32) — the same values as those passes over the result afterwards.
 */
export interface GemmEpilogue {
  readonly scale?: number;
  readonly rowBias?: Float32Array;
}

/** Whether a power of two is a normal f32, so that the GEMM can scale by it in f32. */
export function isNormalF32PowerOfTwo(scale: number): boolean {
  return scale >= 2 ** -126 && scale <= 2 ** 127;
}

/**
 * C = A·B for row-major A (m×k) and B (k×n), f32 accumulation, then `epilogue`; rows split over the injected
 * pool if any (every row's sums are the same wherever it is computed, so results do not depend on the split).
 */
export function wasmGemm(
  A: Float32Array,
  B: Float32Array,
  m: number,
  n: number,
  k: number,
  epilogue: GemmEpilogue = {},
): Float32Array {
  const pooled = gemmPool?.gemm(A, B, { m, n, k }, (rowsOfA, rows) => gemmBand(rowsOfA, B, rows, n, k));
  return pooled ? unscaleAndBias(pooled, epilogue, n) : gemmBand(A, B, m, n, k, epilogue);
}

/**
 * A GEMM epilogue as passes over a finished result (rows of n): each value × scale, then + rowBias of its row,
 * rounded to out's type — the values the f32 GEMM stores when it applies them itself.
 */
export function unscaleAndBias<T extends Float32Array | Float64Array>(
  out: T,
  { scale = 1, rowBias }: { readonly scale?: number; readonly rowBias?: ArrayLike<number> },
  n: number,
): T {
  if (scale !== 1) for (let i = 0; i < out.length; i++) out[i]! *= scale;
  return addBlocks(out, rowBias, n);
}

/**
 * out[i] += addends[j] with j = ⌊i / blockSize⌋ mod addends.length, rounded to out's type: per-channel biases
 * (cycling over images) where a kernel does not add them as it stores its sums (pooled GEMMs, other multiply
 * rules, unscaled results), per-row or per-column offsets.
 */
export function addBlocks<T extends Float32Array | Float64Array>(
  out: T,
  addends: ArrayLike<number> | undefined,
  blockSize: number,
): T {
  if (!addends) return out;
  for (let start = 0, j = 0; start < out.length; start += blockSize, j = j + 1 === addends.length ? 0 : j + 1) {
    const addend = addends[j]!;
    const end = Math.min(start + blockSize, out.length);
    for (let i = start; i < end; i++) out[i]! += addend;
  }
  return out;
}

/** Which image elements a convolution's patch matrix holds (conv-geometry's `PatchTable`). */
export interface PatchGather {
  readonly taps: number;
  readonly positions: number;
  readonly imageSize: number;
  /** offsets[t·positions + o]: the plane offset tap t reads at position o, negative on padding. */
  readonly offsets: Int32Array;
}

/**
 * C = A·P (m × width) where P is the patch matrix of `channels` image planes `x` for positions
 * [from, from + width), built inside linear memory next to the GEMM: bit for bit `wasmGemm` of A and the
 * JS `im2col`, without building, zero-filling and copying P in JS. Null when an injected GEMM pool would
 * split this GEMM (its helpers read B from their shared buffer: the caller then builds P and calls `wasmGemm`).
 */
export function wasmGemmPatches(
  A: Float32Array,
  x: Float32Array,
  table: PatchGather,
  shape: { m: number; channels: number; from: number; width: number },
  { scale = 1, rowBias }: GemmEpilogue = {},
): Float32Array | null {
  const { m, channels, from, width } = shape;
  const k = channels * table.taps;
  if (gemmPool?.splits({ m, n: width, k })) return null;
  // Panels gathered from the planes, where they are full: fewer than eight positions (Silero's convolutions
  // end at one to four) run faster with A's rows as the vectors, on a patch matrix.
  if (k * 32 <= GEMM_PANEL_BYTES && width >= 8) return gemmOfPatchPanels(A, x, table, shape, { scale, rowBias });
  const resident = residentAt(A); // before the layout: it may claim memory at heapStart
  const sizes = [resident === null ? m * k * 4 : 0, k * width * 4, m * width * 4, m * 4];
  const [copied, b, c, bias] = layout(sizes) as [number, number, number, number];
  const a = resident ?? placed(A, copied);
  gatherPatches({ planes: x, table, channels, from }, b, width, bias + m * 4);
  kernels().gemm(a, b, c, m, width, k, scale, placeBias(rowBias, bias));
  return copyFloat32(f32View(c, m * width));
}

/** The f32 GEMM's panel of eight columns (gemm.ts `PANEL_BYTES`): k rows of 32 bytes. */
const GEMM_PANEL_BYTES = 256 * 1024;

/** `wasmGemmPatches` where one panel of the patch matrix holds k rows: panels gathered from the planes. */
function gemmOfPatchPanels(
  A: Float32Array,
  x: Float32Array,
  table: PatchGather,
  { m, channels, from, width }: { m: number; channels: number; from: number; width: number },
  { scale = 1, rowBias }: GemmEpilogue,
): Float32Array {
  const resident = residentAt(A); // before the layout: it may claim memory at heapStart
  const sizes = [resident === null ? A.length : 0, x.length, m];
  const [copied, xAt, bias] = layout(sizes.map((n) => n * 4)) as [number, number, number];
  const a = resident ?? placed(A, copied);
  f32View(xAt, x.length).set(x);
  const shape = { m, planes: channels, from, width };
  const c = patchPanelsGemm(a, xAt, table, shape, scale, placeBias(rowBias, bias), bias + m * 4);
  return copyFloat32(f32View(c, m * width));
}

/**
 * The `gemmPatches` kernel on a left operand and image planes already in linear memory, the patch table and
 * C laid out from byte offset `scratch`: C's offset.
 */
function patchPanelsGemm(
  a: number,
  planes: number,
  { taps, positions, imageSize, offsets }: PatchGather,
  { m, planes: planeCount, from, width }: { m: number; planes: number; from: number; width: number },
  scale: number,
  bias: number,
  scratch: number,
): number {
  const [offsetsAt, c] = layout([offsets.length * 4, m * width * 4], scratch) as [number, number];
  new Int32Array(kernels().memory.buffer, offsetsAt, offsets.length).set(offsets);
  kernels().gemmPatches(a, planes, offsetsAt, c, m, width, planeCount, taps, positions, imageSize, from, scale, bias);
  return c;
}

/** Copies a row bias to byte offset `at`: the GEMM's `bias` argument (0 for none). */
function placeBias(rowBias: Float32Array | undefined, at: number): number {
  if (!rowBias) return 0;
  f32View(at, rowBias.length).set(rowBias);
  return at;
}

/** The right operand of a GEMM given as a convolution's patch matrix: positions [from, from + width). */
export interface Patches {
  readonly planes: Float32Array;
  readonly table: PatchGather;
  readonly channels: number;
  readonly from: number;
}

/**
 * Writes the patch matrix of `width` positions at byte offset `at`, bit for bit the JS `im2col`; the image
 * planes and the patch table are copied in from byte offset `scratch` on.
 */
function gatherPatches({ planes, table, channels, from }: Patches, at: number, width: number, scratch: number): void {
  const { taps, positions, imageSize, offsets } = table;
  const runs = patchRuns(table);
  const indices = runs ?? offsets;
  const [xAt, indicesAt] = layout([planes.length * 4, indices.length * 4], scratch) as [number, number];
  f32View(xAt, planes.length).set(planes);
  const wasm = kernels();
  new Int32Array(wasm.memory.buffer, indicesAt, indices.length).set(indices);
  if (runs) wasm.im2colRuns(xAt, indicesAt, runs.length / 4, at, channels, taps, imageSize, from, width);
  else wasm.im2col(xAt, indicesAt, at, channels, taps, positions, imageSize, from, width);
}

/** A patch table's runs (`im2colRuns`), or null where they would be short (strided windows): cached. */
const patchRunsCache = new WeakMap<Int32Array, Int32Array | null>();

function patchRuns({ taps, positions, offsets }: PatchGather): Int32Array | null {
  let runs = patchRunsCache.get(offsets);
  if (runs === undefined) {
    const entries: number[] = [];
    for (let t = 0; t < taps; t++) {
      const row = t * positions;
      for (let o = 0; o < positions;) {
        const source = offsets[row + o]!;
        let length = 1;
        // Padding runs while the offsets stay negative; image runs while they climb by one.
        if (source < 0) while (o + length < positions && offsets[row + o + length]! < 0) length++;
        else while (o + length < positions && offsets[row + o + length] === source + length) length++;
        entries.push(t, o, length, source < 0 ? -1 : source);
        o += length;
      }
    }
    // One copy per run pays where runs are long; a strided window's runs are single elements.
    runs = entries.length / 4 <= (taps * positions) / 4 ? Int32Array.from(entries) : null;
    patchRunsCache.set(offsets, runs);
  }
  return runs;
}

/** Puts a GEMM's right operand (k × n) at byte offset `at`: a matrix copied in, or patches gathered there. */
function placeRight(B: Float32Array | Patches, at: number, k: number, n: number, scratch: number): void {
  if (B instanceof Float32Array) f32View(at, k * n).set(B);
  else gatherPatches(B, at, n, scratch);
}

/** C = A·B on this thread. */
function gemmBand(
  A: Float32Array,
  B: Float32Array,
  m: number,
  n: number,
  k: number,
  { scale = 1, rowBias }: GemmEpilogue = {},
): Float32Array {
  // Either operand may be a constant kept in linear memory (before the layout: it may claim memory at heapStart).
  const [residentA, residentB] = [residentAt(A), residentAt(B)];
  const sizes = [residentA === null ? m * k * 4 : 0, residentB === null ? k * n * 4 : 0, m * n * 4, m * 4];
  const [copiedA, copiedB, c, bias] = layout(sizes) as [number, number, number, number];
  const a = residentA ?? placed(A, copiedA);
  const b = residentB ?? placed(B, copiedB);
  kernels().gemm(a, b, c, m, n, k, scale, placeBias(rowBias, bias));
  return copyFloat32(f32View(c, m * n));
}

/** Copies `values` to byte offset `at` and returns `at`. */
function placed(values: Float32Array, at: number): number {
  f32View(at, values.length).set(values);
  return at;
}

/**
 * Constant tensors' values (weights: never written again) that GEMMs keep in linear memory once they read
 * them, up to `MAX_RESIDENT_BYTES`, instead of copying them in on every call; by array, so a recycled buffer
 * (handed out as a new array) never matches.
 */
const residentCandidates = new WeakSet<Float32Array>();
const residentArrays = new WeakMap<Float32Array, number>();
const MAX_RESIDENT_BYTES = 64 << 20;
let residentBytes = 0;

/** Marks the values of a constant tensor (an initializer, a folded value) as ones a GEMM may keep resident. */
export function markConstant(values: Float32Array): void {
  residentCandidates.add(values);
}

/** Byte offset of a constant's values kept in linear memory (placed there on first use), or null. */
function residentAt(values: Float32Array): number | null {
  let at = residentArrays.get(values);
  if (at !== undefined) return at;
  if (!residentCandidates.has(values) || residentBytes + values.byteLength > MAX_RESIDENT_BYTES) return null;
  at = placed(values, claimResident(values.byteLength));
  residentArrays.set(values, at);
  residentBytes += values.byteLength;
  return at;
}

/**
 * The lmul-formula GEMM of finite operands as one exact-rule GEMM of inner size 2k (`c` = 2^−l): A becomes
 * [a + c·E(a) | E(a)] and B [E(b) ; b − E(b)] inside linear memory. Zero and non-finite operands contribute
 * nothing; the caller recomputes rows and columns holding non-finite ones. B may be a convolution's patch
 * matrix, gathered in WebAssembly (bit for bit the JS `im2col`). `rowBias`, if given, is added to row i in f32
 * as the sums are stored (for finite operands: nothing left to recompute).
 */
export function wasmGemmLmulFormula(
  A: Float32Array,
  B: Float32Array | Patches,
  { m, n, k }: { m: number; n: number; k: number },
  c: number,
  rowBias?: Float32Array,
): Float32Array {
  if (!(B instanceof Float32Array) && 2 * k * 32 <= GEMM_PANEL_BYTES) {
    // The formula's right operand of patches is the patch matrix of the planes' two parts: panels gathered
    // from the C planes E(x) and then the C planes x − E(x).
    const { planes, table, channels, from } = B;
    const resident = residentFormulaLeft(A, m, k, c); // before the layout: it may claim memory at heapStart
    const sizes = [resident === null ? 3 * m * k : 0, planes.length, 2 * planes.length, m];
    const [transform, x, parts, bias] = layout(sizes.map((count) => count * 4)) as [number, number, number, number];
    const left = resident ?? formulaLeftAt(A, m, k, c, transform);
    f32View(x, planes.length).set(planes);
    const wasm = kernels();
    wasm.formulaRight(x, parts, planes.length, 1);
    const shape = { m, planes: 2 * channels, from, width: n };
    const out = patchPanelsGemm(left, parts, table, shape, 1, placeBias(rowBias, bias), bias + m * 4);
    return copyFloat32(f32View(out, m * n));
  }
  const resident = residentFormulaLeft(A, m, k, c); // before the layout: it may claim memory at heapStart
  const sizes = [resident === null ? m * k * 12 : 0, k * n * 4, k * n * 8, m * n * 4, m * 4];
  const [transform, b, right, out, bias] = layout(sizes) as Quintuple;
  const left = resident ?? formulaLeftAt(A, m, k, c, transform);
  placeRight(B, b, k, n, bias + ((m * 4 + 15) & ~15));
  const wasm = kernels();
  wasm.formulaRight(b, right, k, n);
  wasm.gemm(left, right, out, m, n, 2 * k, 1, placeBias(rowBias, bias));
  return copyFloat32(f32View(out, m * n));
}

/**
 * The formula's left operand [a + c·E(a) | E(a)] (m × 2k) of A at byte offset `at` + 4·m·k (A copied to `at`
 * first: 12·m·k bytes in all): its offset.
 */
function formulaLeftAt(A: Float32Array, m: number, k: number, c: number, at: number): number {
  const left = placed(A, at) + m * k * 4;
  kernels().formulaLeft(at, left, m, k, c);
  return left;
}

/**
 * The formula's left operand of constant weights, kept in linear memory (within `MAX_RESIDENT_BYTES`, as
 * `residentAt`) once made: its offset, or null for other operands.
 */
function residentFormulaLeft(A: Float32Array, m: number, k: number, c: number): number | null {
  const known = formulaLefts.get(A);
  if (known?.c === c) return known.at;
  const bytes = 8 * m * k; // the transform only: A is copied in for it above the resident memory
  if (known || !residentCandidates.has(A) || residentBytes + bytes > MAX_RESIDENT_BYTES) return null;
  const at = claimResident(bytes);
  residentBytes += bytes;
  const [copy] = layout([4 * m * k]) as [number];
  kernels().formulaLeft(placed(A, copy), at, m, k, c);
  formulaLefts.set(A, { c, at });
  return at;
}

const formulaLefts = new WeakMap<Float32Array, { c: number; at: number }>();

/** Whether `values` were marked constant (`markConstant`): derived operands of them may be marked too. */
export function isConstant(values: Float32Array): boolean {
  return residentCandidates.has(values);
}

/** How the lmul-adder kernels carry and compare pattern sums (`adderProducts` in assembly/shared/adder.ts). */
export interface AdderPlan {
  readonly offset: number;
  readonly bias: number;
  readonly overflowAt: number;
  readonly normalAt: number;
  /** Each operand's range of nonzero magnitude patterns. */
  readonly rangeA: { readonly low: number; readonly high: number };
  readonly rangeB: { readonly low: number; readonly high: number };
}

/**
 * lmul-adder GEMM by integer addition of fp32 bit patterns of zero or normal operands; `offset`, `bias`
 * and B's range of nonzero magnitude patterns as the kernel documents them (see `adderPlan`). B may be a
 * convolution's patch matrix gathered in WebAssembly (bit for bit the JS `im2col`); `plan` must then hold for
 * the image planes, whose magnitudes bound every patch entry (padding zeros are masked). `rowBias`, if given,
 * is added to row i in f32 as the sums are stored.
 */
export function wasmGemmLmulAdder(
  A: Float32Array,
  B: Float32Array | Patches,
  { m, n, k }: { m: number; n: number; k: number },
  plan: AdderPlan,
  rowBias?: Float32Array,
): Float32Array {
  // The kernel's blocks are eight columns wide: rows of C shorter than that (Silero's single positions) run
  // as Cᵀ = Bᵀ·Aᵀ, rows of m, when m is longer. An adder product is symmetric in its operands and each
  // element still sums its products in order p. (For 12–48 columns the weights as A are faster: an
  // activation's zeros as A send whole block steps down the general path.)
  const swap = n < 8 && m > n;
  // The kernel's packed terms of its left operand: 17 bytes per element (see `packAdderTerms`).
  const terms = (swap ? n : m) * k * 17;
  const resident = swap ? null : residentAt(A); // before the layout: it may claim memory at heapStart
  const copied = resident === null ? m * k * 4 : 0;
  const sizes = [m * 4, copied, k * n * 4, m * n * 4, terms, ...(swap ? [m * k * 4, k * n * 4, m * n * 4] : [])];
  const [biasAt, copiedAt, b, c, t, aT = 0, bT = 0, cT = 0] = layout(sizes);
  const a = resident ?? placed(A, copiedAt!);
  placeRight(B, b!, k, n, (swap ? cT : t!) + ((sizes.at(-1)! + 15) & ~15));
  const { offset, bias, overflowAt, normalAt, rangeA, rangeB } = plan;
  const wasm = kernels();
  if (!swap) {
    const biases = placeBias(rowBias, biasAt!);
    wasm.gemmLmulAdder(a, b!, c!, m, n, k, offset, bias, overflowAt, normalAt, rangeB.low, rangeB.high, t!, biases);
    return copyFloat32(f32View(c!, m * n));
  }
  wasm.transposeMatrix(a, aT, m, k);
  wasm.transposeMatrix(b!, bT, k, n);
  wasm.gemmLmulAdder(bT, aT, cT, n, m, k, offset, bias, overflowAt, normalAt, rangeA.low, rangeA.high, t!, 0);
  wasm.transposeMatrix(cT, c!, n, m);
  // Cᵀ's rows are C's columns: the row bias is added to C afterwards, in f32 as the kernel adds it.
  return addBlocks(copyFloat32(f32View(c!, m * n)), rowBias, n);
}

/**
 * Operand preparation of SPEC §2/§4: `scaleFor(amax)` gives the tensor's scale exponent s from its largest
 * finite magnitude (or null for no scaling); every element becomes q_F(fp32(x·2^s)), bit for bit as
 * `roundArray` computes it. With `withRange`, also the rounded values' magnitude range.
 */
export function wasmRoundOperands(
  values: Float32Array,
  format: FloatFormat,
  mode: RoundingMode,
  scaleFor: ((amax: number) => number) | null,
  withRange = false,
): { values: Float32Array; scale: number; range?: MagnitudeRange } {
  const [src, dst] = layout([values.length * 4, values.length * 4]) as [number, number];
  f32View(src, values.length).set(values);
  const wasm = kernels();
  const scale = scaleFor ? scaleFor(wasm.finiteAmax(src, values.length)) : 0;
  const saturate = format.overflow === 'saturate';
  const { manBits, emin, maxFinite } = format;
  wasm.roundOperands(src, dst, values.length, 2 ** scale, manBits, emin, maxFinite, saturate, mode === 'trunc');
  const range = withRange ? rangeAt(dst, values.length, src) : undefined;
  return { values: f32View(dst, values.length).slice(), scale, range };
}

/** The fp8 codes of an operand tensor (product-table schemes). */
export interface Fp8Codes {
  readonly bytes: Uint8Array;
  /** Whether any value is NaN or infinite (whose products with zero are NaN, not ±0). */
  readonly specials: boolean;
}

/**
 * Operand preparation for a product-table scheme (`hasProductTable`): the scale exponent from the largest
 * finite magnitude (`scaleFor`), then the fp8 codes of q_F(fp32(x·2^s)), rounded and encoded in one pass —
 * bit for bit `encodeFp8` of `wasmRoundOperands`' values, without storing or copying out those values
 * (`fp8Values` decodes them where needed). Where a value is NaN or inf the rounded values come too, NaN
 * payloads as the rounding leaves them.
 */
export function wasmPrepareFp8(
  values: Float32Array,
  format: FloatFormat,
  mode: RoundingMode,
  scaleFor: ((amax: number) => number) | null,
): { codes: Fp8Codes; scale: number; values?: Float32Array } {
  const length = values.length;
  const [src, dst, codes] = layout([length * 4, length * 4, length]) as [number, number, number];
  f32View(src, length).set(values);
  const wasm = kernels();
  const scale = scaleFor ? scaleFor(wasm.finiteAmax(src, length)) : 0;
  const { manBits, bias, maxFinite } = format;
  const trunc = mode === 'trunc';
  const specials = wasm.roundEncodeFp8(src, dst, codes, length, 2 ** scale, manBits, bias, maxFinite, trunc) !== 0;
  const bytes = new Uint8Array(wasm.memory.buffer, codes, length).slice();
  if (!specials) return { codes: { bytes, specials }, scale };
  wasm.roundOperands(src, dst, length, 2 ** scale, manBits, format.emin, maxFinite, true, trunc);
  return { codes: { bytes, specials }, scale, values: f32View(dst, length).slice() };
}

/** fp8 codes of values that are already exact values of the format (prepared operands). */
export function wasmEncodeFp8(format: FloatFormat, values: Float32Array): Fp8Codes {
  const [src, codes] = layout([values.length * 4, values.length]) as [number, number];
  f32View(src, values.length).set(values);
  const specials = encode(format, src, codes, values.length);
  return { bytes: new Uint8Array(kernels().memory.buffer, codes, values.length).slice(), specials };
}

/** The values of fp8 codes, by format name: 256 entries each. */
const fp8Decodings = new Map<string, Float32Array>();

/** The values of fp8 codes (a NaN code gives a NaN). */
export function fp8Values(format: FloatFormat, bytes: Uint8Array): Float32Array {
  let decoding = fp8Decodings.get(format.name);
  if (!decoding) {
    decoding = Float32Array.from({ length: 256 }, (_, code) => decodeBits(format, code));
    fp8Decodings.set(format.name, decoding);
  }
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = decoding[bytes[i]!]!;
  return out;
}

/** Bit-pattern range of the values' nonzero magnitudes, or null if they hold inf or NaN. */
export type MagnitudeRange = { readonly low: number; readonly high: number } | null;

export function wasmMagnitudeRange(values: Float32Array): MagnitudeRange {
  const [src, out] = layout([values.length * 4, 8]) as [number, number];
  f32View(src, values.length).set(values);
  return rangeAt(src, values.length, out);
}

/** `magnitudeRange` of `length` values at byte offset `at` (8 bytes of scratch at `scratch`). */
function rangeAt(at: number, length: number, scratch: number): MagnitudeRange {
  const wasm = kernels();
  wasm.magnitudeRange(at, length, scratch);
  const [low, high] = new Uint32Array(wasm.memory.buffer, scratch, 2) as unknown as [number, number];
  return high >= 0x7f800000 ? null : { low, high };
}

/** Steps of k whose quad tables (8 KB each) `gemmTableQuads` holds at once (its QUAD_STEPS). */
const QUAD_STEPS = 4;

/** Base product tables of the `-mul` schemes, by format name: byte offsets in linear memory. */
const productTables = new Map<string, number>();
/** The same tables as counts of the product format's smallest subnormal (`countTable`), by format name. */
const countTables = new Map<string, CountTable>();

/** Claims `bytes` of linear memory for the instance's life (below `heapStart`, which moves past them). */
function claimResident(bytes: number): number {
  const at = layout([bytes])[0]!;
  heapStart = at + ((bytes + 15) & ~15);
  return at;
}

/**
 * The 256 × 256 table of a product-format scheme: entry (a·256 + b) is the scheme's fp32 product of the
 * fp8 values with codes a and b, unscaled (the definition, `multiplyPrepared`, computes every entry).
 */
function productTable(scheme: Scheme): number {
  const format = scheme.operandFormat;
  let at = productTables.get(format.name);
  if (at === undefined) {
    at = claimResident(65536 * 4);
    const values = Array.from({ length: 256 }, (_, code) => decodeBits(format, code));
    const table = f32View(at, 65536);
    for (let a = 0; a < 256; a++)
      for (let b = 0; b < 256; b++) table[a * 256 + b] = multiplyPrepared(scheme, values[a]!, values[b]!, 0, 0);
    productTables.set(format.name, at);
  }
  return at;
}

/**
 * The smallest subnormal of the product format, of which each of its values is an integer multiple, and
 * how many of them its largest finite value is (e4m3: 2^-9 and 229,376; e5m2: 2^-16 and ~2^31.8).
 */
function productUnits(scheme: Scheme): { unit: number; maxUnits: number } {
  const format = scheme.operandFormat;
  const unit = 2 ** (format.emin - format.manBits);
  return { unit, maxUnits: format.maxFinite / unit };
}

/**
 * The scheme's product table as counts of `productUnits` at byte offset `at` (NaN entries 0: operands
 * holding NaN or inf never take this table): i32, or f64 (`wide`) where the largest product is 2^31 units
 * or more (e5m2). Integer sums of i32 counts are exact below 2^31, of f64 counts below 2^53.
 */
interface CountTable {
  readonly at: number;
  readonly wide: boolean;
}

function countTable(scheme: Scheme): CountTable {
  const format = scheme.operandFormat;
  let counts = countTables.get(format.name);
  if (counts === undefined) {
    const { unit, maxUnits } = productUnits(scheme);
    const wide = maxUnits >= 2 ** 31;
    const products = productTable(scheme);
    const at = claimResident(65536 * (wide ? 8 : 4));
    const values = f32View(products, 65536); // after the claim: growing memory detaches earlier views
    const { buffer } = kernels().memory;
    const entries = wide ? new Float64Array(buffer, at, 65536) : new Int32Array(buffer, at, 65536);
    for (let i = 0; i < 65536; i++) entries[i] = Number.isFinite(values[i]!) ? values[i]! / unit : 0;
    counts = { at, wide };
    countTables.set(format.name, counts);
  }
  return counts;
}

/**
 * Whether every product unscaled by 2^-scales is an exact fp32 value — the smallest and the largest are —
 * so that the definition's fp32 rounding of each unscaled product changes nothing.
 */
function unscaledProductsExact(scheme: Scheme, scales: number): boolean {
  const { unit, maxUnits } = productUnits(scheme);
  const [smallest, largest] = [unit * 2 ** -scales, unit * maxUnits * 2 ** -scales];
  return Math.fround(smallest) === smallest && Math.fround(largest) === largest;
}

/**
 * The unit (times 2^-scales) in which k products of `counts` sum exactly as integers, or null: k products of
 * the largest size stay below the counts' exact range and the unscaled products are exact fp32 values, so
 * that the definition's f64 sum is the integer sum times the unit.
 */
function exactSumUnit(scheme: Scheme, counts: CountTable, k: number, scales: number): number | null {
  const { unit, maxUnits } = productUnits(scheme);
  if (k * maxUnits >= 2 ** (counts.wide ? 53 : 31) || !unscaledProductsExact(scheme, scales)) return null;
  return unit * 2 ** -scales;
}

/** The fp8 schemes whose products the table kernels compute: exact rule into a product format. */
export function hasProductTable(scheme: Scheme): boolean {
  return scheme.fp8 && scheme.rule === 'exact' && scheme.productFormat === scheme.operandFormat;
}

/**
 * Fills `at` with the table of products unscaled by 2^-unscale: in one f32 multiplication when 2^-unscale
 * is a normal f32 (a single rounding of an exact value), else in doubles entry by entry.
 */
function scaledTable(scheme: Scheme, unscale: number, at: number): void {
  const base = productTable(scheme);
  if (unscale >= -127 && unscale <= 126) {
    kernels().scaleTable(base, at, 2 ** -unscale);
    return;
  }
  const from = f32View(base, 65536);
  const to = f32View(at, 65536);
  const factor = 2 ** -unscale;
  for (let i = 0; i < 65536; i++) to[i] = from[i]! * factor;
}

function encode(format: FloatFormat, src: number, dst: number, length: number): boolean {
  return kernels().encodeFp8(src, dst, length, format.manBits, format.bias) !== 0;
}

/**
 * C = A·B of prepared fp8 operands' codes under a product-format scheme (`hasProductTable`), with scale
 * exponents summing to `scales` (B may be a convolution's patch matrix of code planes): each product a table
 * lookup, summed as the definition does — in f64 in order k = 0, 1, … and rounded to f32. Where `exactSumUnit` allows and no operand is NaN or inf, the sums are
 * integers (exact, so in any order): with quad tables when B is wide against the groups of codes it holds,
 * or else A against its own (Cᵀ = BᵀAᵀ; `gemmTableQuads`, `gemmTableQuadsWide` for f64 counts), otherwise
 * for i32 counts in 4×4 blocks (`gemmTableExact`); in every other case the table is unscaled and summed in
 * order. `rowBias` (a Conv bias) is then added to row i in f32, as `addBlocks` adds it (`addRowBias`).
 */
export function wasmGemmProductTable(
  scheme: Scheme,
  A: Fp8Codes,
  B: Fp8Codes | CodePatches,
  m: number,
  n: number,
  k: number,
  scales: number,
  rowBias?: Float32Array | Float64Array,
): Float32Array {
  const counts = countTable(scheme); // before the layout: the resident tables claim memory at heapStart
  const columns = (n + 3) & ~3;
  const [aCodes, bCodes, table, acc, panels, rows, quads, flags, groups, bias, c] = layout([
    m * k,
    k * n,
    65536 * 4,
    Math.max(m, n) * 32,
    k * columns * 2,
    k * 16,
    QUAD_STEPS * 8192,
    k * 64,
    k * 8,
    m * 8,
    m * n * 4,
  ]) as [number, number, number, number, number, number, number, number, number, number, number];
  new Uint8Array(kernels().memory.buffer, aCodes, m * k).set(A.bytes);
  const patchGroups = 'planes' in B ? { flags, masks: groups, total: 0 } : undefined;
  const bHasSpecials = placeRightCodes(B, bCodes, n, c + ((m * n * 4 + 15) & ~15), patchGroups);
  const aHasSpecials = A.specials;
  const unit = exactSumUnit(scheme, counts, k, scales);
  const at = { a: aCodes, b: bCodes, c, acc, panels, rows, quads, flags, groups };
  const bytes = { a: A.bytes, b: 'bytes' in B ? B.bytes : null, bGroups: patchGroups?.total };
  if (unit === null || aHasSpecials || bHasSpecials || !gemmIntegerSums(at, bytes, m, n, k, counts, unit)) {
    scaledTable(scheme, scales, table);
    kernels().gemmTable(aCodes, bCodes, c, m, n, k, table, acc, !bHasSpecials);
  }
  if (rowBias) {
    new Float64Array(kernels().memory.buffer, bias, m).set(rowBias);
    kernels().addRowBias(c, m, n, bias);
  }
  return copyFloat32(f32View(c, m * n));
}

/** A table GEMM's right operand as a convolution's patch matrix of fp8 code planes (positions from `from`). */
export interface CodePatches {
  readonly planes: Fp8Codes;
  readonly table: PatchGather;
  readonly channels: number;
  readonly from: number;
}

/**
 * Puts the codes of a table GEMM's right operand (k × n) at byte offset `at`: copied in, or a patch matrix
 * gathered from code planes (copied in from `scratch` on), bit for bit the codes of the f32 patch matrix
 * (padding as code 0, +0). Returns whether the operand's tensor holds NaN or inf.
 */
/**
 * Puts a table GEMM's right operand codes at `at`: a matrix copied in, or patches gathered there — and then,
 * with `groups`, its code groups per step (the planes', `planeCodeGroups`) at `groups.masks`, their count
 * in `groups.total`.
 */
function placeRightCodes(
  B: Fp8Codes | CodePatches,
  at: number,
  n: number,
  scratch: number,
  groups?: { flags: number; masks: number; total: number },
): boolean {
  const wasm = kernels();
  if (!('planes' in B)) {
    new Uint8Array(wasm.memory.buffer, at, B.bytes.length).set(B.bytes);
    return B.specials;
  }
  const { planes, table, channels, from } = B;
  const { taps, positions, imageSize, offsets } = table;
  const runs = patchRuns(table);
  const indices = runs ?? offsets;
  const [xAt, indicesAt] = layout([planes.bytes.length, indices.length * 4], scratch) as [number, number];
  const { buffer } = wasm.memory; // after the layout: growing memory detaches earlier views
  new Uint8Array(buffer, xAt, planes.bytes.length).set(planes.bytes);
  new Int32Array(buffer, indicesAt, indices.length).set(indices);
  if (runs) wasm.im2colCodeRuns(xAt, indicesAt, runs.length / 4, at, channels, taps, imageSize, from, n);
  else wasm.im2colCodes(xAt, indicesAt, at, channels, taps, positions, imageSize, from, n);
  if (groups) groups.total = wasm.planeCodeGroups(xAt, channels, imageSize, taps, groups.flags, groups.masks);
  return planes.specials;
}

/**
 * The table GEMM of codes at `at.a`, `at.b` with integer sums of `counts` (times `unit`) into `at.c`: quad
 * tables where the columns outnumber four times the groups of codes B holds per step (on average) — a quad
 * table costs ~16 operations per group and saves ~2 per product on four products per column — or else the
 * rows A's groups (Cᵀ = BᵀAᵀ); otherwise 4×4 blocks for i32 counts. False where none applies (f64 counts,
 * narrow A and B). `bytes` are the codes at `at.a`, `at.b` where they were copied in from JS (not a gathered
 * patch matrix).
 */
function gemmIntegerSums(
  at: Record<'a' | 'b' | 'c' | 'acc' | 'panels' | 'rows' | 'quads' | 'flags' | 'groups', number>,
  bytes: { readonly a: Uint8Array; readonly b: Uint8Array | null; readonly bGroups?: number },
  m: number,
  n: number,
  k: number,
  counts: CountTable,
  unit: number,
): boolean {
  const wasm = kernels();
  const quadGemm = counts.wide ? wasm.gemmTableQuadsWide : wasm.gemmTableQuads;
  for (const transposed of [false, true]) {
    const columns = transposed ? m : n;
    if (columns < 4) continue; // fewer than four times the one group a step holds at least
    // Quad tables pay where the columns outnumber four times the groups their steps hold, on average.
    // A patch matrix's groups were placed from its planes (`placeRightCodes`); others are found here.
    const placed = transposed ? undefined : bytes.bGroups;
    const groups = placed ?? placeStepGroups(transposed ? bytes.a : bytes.b, at, { m, n, k }, transposed);
    if (columns * k < 4 * groups) continue;
    quadGemm(at.a, at.b, at.c, m, n, k, transposed, counts.at, unit, at.acc, at.quads, at.groups);
    return true;
  }
  if (counts.wide) return false;
  wasm.gemmTableExact(at.a, at.b, at.c, m, n, k, counts.at, unit, at.panels, at.rows);
  return true;
}

/**
 * Masks of the code groups per step (`stepCodeGroups`) of codes copied in from JS, and their total count,
 * by the codes' buffer, place and use: a weight's codes are the same bytes in every run (prepared once).
 */
const stepGroupMasks = new WeakMap<ArrayBufferLike, Map<string, { masks: Uint32Array; total: number }>>();

/**
 * The code groups per step of a quad-table GEMM's column operand — B, or A when `transposed` — as masks at
 * `at.groups` (`at.flags`: scratch), taken from `stepGroupMasks` where `known` (that operand's codes where
 * they were copied in from JS) was seen. Returns the masks' total count of groups.
 */
function placeStepGroups(
  known: Uint8Array | null,
  at: Record<'a' | 'b' | 'flags' | 'groups', number>,
  { m, n, k }: { m: number; n: number; k: number },
  transposed: boolean,
): number {
  const wasm = kernels();
  const key = known ? `${known.byteOffset}:${known.length}:${k}:${transposed}` : '';
  let seen = known ? stepGroupMasks.get(known.buffer) : undefined;
  const kept = seen?.get(key);
  if (kept) {
    new Uint32Array(wasm.memory.buffer, at.groups, kept.masks.length).set(kept.masks);
    return kept.total;
  }
  const [codes, colCount, colStep, colStride] = transposed ? [at.a, m, 1, k] : [at.b, n, n, 1];
  const total = wasm.stepCodeGroups(codes, colCount, k, colStep, colStride, at.flags, at.groups);
  if (known) {
    if (!seen) stepGroupMasks.set(known.buffer, (seen = new Map()));
    seen.set(key, { masks: new Uint32Array(wasm.memory.buffer, at.groups, 2 * k).slice(), total });
  }
  return total;
}

/**
 * Element-wise products under a product-format scheme: the table of the products of fp8 codes unscaled by
 * 2^-scales (the product of codes a and b is table[a·256 + b]).
 */
export function wasmScaledProductTable(scheme: Scheme, scales: number): Float32Array {
  productTable(scheme); // before the layout: it may claim memory at heapStart
  const [table] = layout([65536 * 4]) as [number];
  scaledTable(scheme, scales, table);
  return f32View(table, 65536).slice();
}

/** A depthwise 2-D convolution: `batch` images of `channels` planes h×w, `multiplier` outputs per channel. */
export interface DepthwiseShape {
  readonly batch: number;
  readonly channels: number;
  readonly multiplier: number;
  readonly image: readonly [number, number];
  readonly output: readonly [number, number];
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly dilations: readonly [number, number];
  readonly padsBegin: readonly [number, number];
}

/**
 * Depthwise convolution of f32 operands with finite weights (up to 7×7), bit for bit one f32 `wasmGemm`
 * per channel of its weights by the patch matrix, times `unscale` (a power of two), plus `channelBias` per
 * output channel in f32 if given; null for weights holding inf or NaN (whose products with the patch
 * matrix's padding zeros are NaN: the caller then runs the GEMM).
 */
export function wasmDepthwise2d(
  x: Float32Array,
  w: Float32Array,
  shape: DepthwiseShape,
  unscale: number,
  channelBias?: Float32Array,
): Float32Array | null {
  if (shape.kernel[0] * shape.kernel[1] > 49 || !finiteWeights(w)) return null;
  const outLength = depthwiseOutputLength(shape);
  const paddedWidth = paddedPlaneWidth(shape, 8);
  const paddedHeight = paddedPlaneHeight(shape);
  const resident = residentAt(w); // before the layout: it may claim memory at heapStart
  const sizes = [
    x.length,
    resident === null ? w.length : 0,
    outLength,
    paddedHeight * paddedWidth,
    shape.channels * shape.multiplier,
  ];
  const [xAt, copied, outAt, paddedAt, biasAt] = layout(sizes.map((n) => n * 4)) as Quintuple;
  f32View(xAt, x.length).set(x);
  const wAt = resident ?? placed(w, copied);
  const bias = placeBias(channelBias, biasAt);
  const geometry = depthwiseGeometry(shape);
  kernels().depthwise2dPadded(xAt, wAt, outAt, paddedAt, paddedWidth, paddedHeight, ...geometry, unscale, bias);
  return copyFloat32(f32View(outAt, outLength));
}

/** Whether weights hold no inf or NaN: remembered for constants (the same weights come back every run). */
const finiteConstants = new WeakMap<Float32Array, boolean>();

function finiteWeights(w: Float32Array): boolean {
  let finite = finiteConstants.get(w);
  if (finite === undefined) {
    finite = allFinite(w);
    if (residentCandidates.has(w)) finiteConstants.set(w, finite);
  }
  return finite;
}

/**
 * 2-D max pooling of float32 planes (`shape` as a depthwise convolution's: `batch` planes, one channel each,
 * multiplier 1, kernel = window), bit for bit the JS `reduceWindows` maximum rounded to f32.
 */
export function wasmMaxPool2d(x: Float32Array, shape: DepthwiseShape): Float32Array {
  const { image } = shape;
  const outLength = depthwiseOutputLength(shape);
  const paddedWidth = paddedPlaneWidth(shape, 4);
  const sizes = [x.length * 4, outLength * 4, image[0] * paddedWidth * 4];
  const [xAt, outAt, paddedAt] = layout(sizes) as [number, number, number];
  f32View(xAt, x.length).set(x);
  const [planes, , , ...geometry] = depthwiseGeometry(shape);
  kernels().maxPool2d(xAt, outAt, paddedAt, paddedWidth, planes, ...geometry);
  return copyFloat32(f32View(outAt, outLength));
}

/**
 * Row width of a padded plane copy (the image row from column padsBegin[1]) from which every output group of
 * `group` reads whole vectors: its last lane's last tap, one float more at stride 2 (loaded in pairs).
 */
function paddedPlaneWidth({ image, output, kernel, strides, dilations, padsBegin }: DepthwiseShape, group: number) {
  const lastLane = Math.ceil(output[1] / group) * group - 1;
  const reach = lastLane * strides[1] + (kernel[1] - 1) * dilations[1] + (strides[1] === 2 ? 2 : 1);
  return Math.max(padsBegin[1] + image[1], reach);
}

/**
 * Rows of a plane copy framed by zeros on every side (the image from row padsBegin[0]) from which every
 * output row reads all its kernel rows.
 */
function paddedPlaneHeight({ image, output, kernel, strides, dilations, padsBegin }: DepthwiseShape): number {
  const lastRow = (output[0] - 1) * strides[0] + (kernel[0] - 1) * dilations[0];
  return Math.max(padsBegin[0] + image[0], lastRow + 1);
}

/** No inf or NaN among the values. */
function allFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return false;
  return true;
}

function depthwiseOutputLength({ batch, channels, multiplier, output }: DepthwiseShape): number {
  return batch * channels * multiplier * output[0] * output[1];
}

/** A depthwise shape as the kernels' geometry arguments (batch … padLeft). */
function depthwiseGeometry(shape: DepthwiseShape) {
  const { batch, channels, multiplier, image, output, kernel, strides, dilations, padsBegin } = shape;
  return [
    batch,
    channels,
    multiplier,
    image[0],
    image[1],
    output[0],
    output[1],
    kernel[0],
    kernel[1],
    strides[0],
    strides[1],
    dilations[0],
    dilations[1],
    padsBegin[0],
    padsBegin[1],
  ] as const;
}

/**
 * Depthwise convolution under the lmul adder, for x and w of normal or zero operands with the plan of
 * `gemmLmulAdder` (x as its right operand): bit for bit one lmul-adder GEMM per channel, plus `channelBias`
 * per output channel in f32 if given.
 */
export function wasmDepthwiseAdder(
  x: Float32Array,
  w: Float32Array,
  shape: DepthwiseShape,
  plan: AdderPlan,
  channelBias?: Float32Array,
): Float32Array {
  const outLength = depthwiseOutputLength(shape);
  const paddedWidth = paddedPlaneWidth(shape, 8);
  const paddedHeight = paddedPlaneHeight(shape);
  const taps = shape.kernel[0] * shape.kernel[1];
  const sizes = [x.length * 4, w.length * 4, outLength * 4, paddedHeight * paddedWidth * 4, taps * 12, w.length * 4];
  const [xAt, wAt, outAt, paddedAt, tapsAt, biasAt] = layout(sizes) as [number, number, number, number, number, number];
  f32View(xAt, x.length).set(x);
  f32View(wAt, w.length).set(w);
  const { offset, bias, overflowAt, normalAt, rangeB } = plan;
  const geometry = depthwiseGeometry(shape);
  const thresholds = [offset, bias, overflowAt, normalAt, rangeB.low, rangeB.high];
  const biasArgument = placeBias(channelBias, biasAt);
  const padding = [paddedAt, paddedWidth, paddedHeight];
  kernels().depthwiseAdder(xAt, wAt, outAt, ...padding, tapsAt, ...geometry, ...thresholds, biasArgument);
  return copyFloat32(f32View(outAt, outLength));
}

/**
 * Depthwise convolution under the lmul formula (`c` = 2^−l) of finite operands: bit for bit one
 * `wasmGemmLmulFormula` per channel (the same operand transforms and chunked f32 sums).
 */
export function wasmDepthwiseFormula(x: Float32Array, w: Float32Array, shape: DepthwiseShape, c: number): Float32Array {
  const outLength = depthwiseOutputLength(shape);
  const paddedWidth = paddedPlaneWidth(shape, 8);
  const paddedHeight = paddedPlaneHeight(shape);
  const plane = paddedHeight * paddedWidth * 4;
  const sizes = [x.length * 4, w.length * 4, x.length * 8, w.length * 8, outLength * 4, plane, plane];
  const [xAt, wAt, xParts, wParts, outAt, paddedE, paddedRest] = layout(sizes) as number[] as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  f32View(xAt, x.length).set(x);
  f32View(wAt, w.length).set(w);
  const wasm = kernels();
  // x as one column [E(x) ; x − E(x)], w as one row [w + c·E(w) | E(w)].
  wasm.formulaRight(xAt, xParts, x.length, 1);
  wasm.formulaLeft(wAt, wParts, 1, w.length, c);
  const [xRest, wE] = [xParts + x.length * 4, wParts + w.length * 4];
  const geometry = depthwiseGeometry(shape);
  const padding = [paddedE, paddedRest, paddedWidth, paddedHeight];
  wasm.depthwiseFormula(xParts, xRest, wParts, wE, outAt, ...padding, ...geometry);
  return copyFloat32(f32View(outAt, outLength));
}

/**
 * Depthwise convolution of prepared fp8 operands' codes under a product-format scheme (scale exponents
 * summing to `scales`): bit for bit one table GEMM per channel — sums of counts over a padded copy of each plane where
 * `exactSumUnit` allows and x holds no NaN or inf, else the table unscaled and summed in tap order. Null
 * when the weights hold NaN or inf (their products with the padding are not zero: the GEMM path handles
 * them).
 */
export function wasmDepthwiseTable(
  scheme: Scheme,
  x: Fp8Codes,
  w: Fp8Codes,
  shape: DepthwiseShape,
  scales: number,
): Float32Array | null {
  if (w.specials) return null;
  const counts = countTable(scheme); // before the layout: the resident tables claim memory at heapStart
  const outLength = depthwiseOutputLength(shape);
  const { kernel, output, strides, dilations } = shape;
  // The padded plane reaches every tap of every output, output columns rounded up to blocks of four.
  const rows = (output[0] - 1) * strides[0] + (kernel[0] - 1) * dilations[0] + 1;
  const columns = (((output[1] + 3) & ~3) - 1) * strides[1] + (kernel[1] - 1) * dilations[1] + 1;
  const [xCodes, wCodes, table, outAt, accAt, padded, taps] = layout([
    x.bytes.length,
    w.bytes.length,
    65536 * 4,
    outLength * 4,
    output[1] * 8,
    rows * columns * 2,
    kernel[0] * kernel[1] * 4,
  ]) as [number, number, number, number, number, number, number];
  const { buffer } = kernels().memory;
  new Uint8Array(buffer, xCodes, x.bytes.length).set(x.bytes);
  new Uint8Array(buffer, wCodes, w.bytes.length).set(w.bytes);
  const xHasSpecials = x.specials;
  const unit = exactSumUnit(scheme, counts, kernel[0] * kernel[1], scales);
  const geometry = depthwiseGeometry(shape);
  if (unit !== null && !xHasSpecials) {
    const { at, wide } = counts;
    kernels().depthwiseTableExact(xCodes, wCodes, at, wide, unit, outAt, padded, rows, columns, taps, ...geometry);
  } else {
    scaledTable(scheme, scales, table);
    kernels().depthwiseTable(xCodes, wCodes, table, outAt, accAt, !xHasSpecials, ...geometry);
  }
  return copyFloat32(f32View(outAt, outLength));
}

/** The float32 operators of `wasmBinaryRuns`, numbered as the kernel expects. */
const BINARY_OPS = { add: 0, sub: 1, mul: 2, div: 3, min: 4, max: 5 } as const;

/** A numpy broadcast as `rows` runs of `run` outputs (see `planBroadcast` in the element-wise kernels). */
export interface BroadcastRuns {
  readonly rows: number;
  readonly run: number;
  readonly step: readonly number[];
  readonly rowStart: readonly Int32Array[];
}

/** out = a op b over a broadcast, one f32 operation per element (bit for bit the JS loops). */
export function wasmBinaryRuns(
  op: keyof typeof BINARY_OPS,
  plan: BroadcastRuns,
  a: Float32Array,
  b: Float32Array,
): Float32Array {
  const at = broadcastLayout(plan, a.length * 4, b.length * 4);
  f32View(at.a, a.length).set(a);
  f32View(at.b, b.length).set(b);
  kernels().binaryRuns(BINARY_OPS[op], at.a, at.b, at.out, ...at.runs);
  return copyFloat32(f32View(at.out, plan.rows * plan.run));
}

/** Linear-memory regions of a broadcast's operands (byte sizes given), output and row starts. */
function broadcastLayout(plan: BroadcastRuns, aBytes: number, bBytes: number) {
  const { rows, run } = plan;
  const [startA, startB] = plan.rowStart as [Int32Array, Int32Array];
  const [a, b, out, startAAt, startBAt] = layout([aBytes, bBytes, rows * run * 4, rows * 4, rows * 4]) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const { buffer } = kernels().memory;
  new Int32Array(buffer, startAAt, rows).set(startA);
  new Int32Array(buffer, startBAt, rows).set(startB);
  const runs = [rows, run, plan.step[0]!, plan.step[1]!, startAAt, startBAt] as const;
  return { a, b, out, runs, end: startBAt + ((rows * 4 + 15) & ~15) };
}

/**
 * Element-wise lmul products (adder or formula, offset `c` = 2^−l) of prepared f32 operands over a
 * broadcast: each product as `applyProductRule` defines it, rounded to fp32 (bit for bit `productFunction`).
 */
export function wasmLmulRuns(
  rule: 'lmul-adder' | 'lmul-formula',
  c: number,
  plan: BroadcastRuns,
  a: Float32Array,
  b: Float32Array,
): Float32Array {
  const at = broadcastLayout(plan, a.length * 4, b.length * 4);
  f32View(at.a, a.length).set(a);
  f32View(at.b, b.length).set(b);
  kernels().lmulRuns(rule === 'lmul-adder' ? 0 : 1, c, at.a, at.b, at.out, ...at.runs);
  return copyFloat32(f32View(at.out, plan.rows * plan.run));
}

/**
 * Element-wise products of prepared fp8 operands' codes under a product-format scheme over a broadcast, scale
 * exponents summing to `scales`: each a lookup in the scheme's product table times 2^−scales in f32 (exact
 * where `unscaledProductsExact`), else in the table unscaled by 2^−scales entry by entry.
 */
export function wasmProductTableRuns(
  scheme: Scheme,
  plan: BroadcastRuns,
  A: Fp8Codes,
  B: Fp8Codes,
  scales: number,
): Float32Array {
  const products = productTable(scheme); // before the layout: it may claim memory at heapStart
  const at = broadcastLayout(plan, A.bytes.length, B.bytes.length);
  const [table] = layout([65536 * 4], at.end) as [number];
  const { buffer } = kernels().memory;
  new Uint8Array(buffer, at.a, A.bytes.length).set(A.bytes);
  new Uint8Array(buffer, at.b, B.bytes.length).set(B.bytes);
  if (unscaledProductsExact(scheme, scales)) {
    kernels().tableRuns(products, 2 ** -scales, at.a, at.b, at.out, ...at.runs);
  } else {
    scaledTable(scheme, scales, table);
    kernels().tableRuns(table, 1, at.a, at.b, at.out, ...at.runs);
  }
  return copyFloat32(f32View(at.out, plan.rows * plan.run));
}

/**
 * An operand of `wasmFp8ProductRuns`: finite prepared values with their scale exponent, or a tensor's own
 * values with `scaleFor` (as `wasmPrepareFp8` takes it), prepared inside the kernel.
 */
export type Fp8ProductOperand =
  | { readonly values: Float32Array; readonly scale: number }
  | { readonly values: Float32Array; readonly scaleFor: ((amax: number) => number) | null };

/**
 * Element-wise products under a product-format scheme over a broadcast, each operand rounded into the fp8
 * format inside the kernel and each product rounded into it arithmetically (`fp8ProductRuns`): bit for bit
 * `wasmProductTableRuns` of the operands' prepared codes, without preparing, encoding and copying them
 * apart. Null where that kernel does not apply — an unscaled product that is not an exact fp32 value, a
 * scale factor outside f32's normal range, NaN, inf or values past the format's range: the caller then
 * prepares the operands and looks their products up.
 */
export function wasmFp8ProductRuns(
  scheme: Scheme,
  mode: RoundingMode,
  plan: BroadcastRuns,
  A: Fp8ProductOperand,
  B: Fp8ProductOperand,
): Float32Array | null {
  const at = broadcastLayout(plan, A.values.length * 4, B.values.length * 4);
  f32View(at.a, A.values.length).set(A.values);
  f32View(at.b, B.values.length).set(B.values);
  const [scaleA, scaleB] = [scaleOf(A, at.a), scaleOf(B, at.b)];
  const [preparedA, preparedB] = ['scale' in A, 'scale' in B];
  const [factorA, factorB] = [preparedA ? 1 : 2 ** scaleA, preparedB ? 1 : 2 ** scaleB];
  const scales = scaleA + scaleB;
  if (!isNormalF32PowerOfTwo(factorA) || !isNormalF32PowerOfTwo(factorB) || !unscaledProductsExact(scheme, scales))
    return null;
  const { manBits, bias, maxFinite } = scheme.operandFormat;
  const trunc = mode === 'trunc';
  const products = [factorA, factorB, preparedA, preparedB, 2 ** -scales, manBits, bias, maxFinite, trunc] as const;
  const done = kernels().fp8ProductRuns(at.a, at.b, at.out, ...at.runs, ...products);
  return done ? copyFloat32(f32View(at.out, plan.rows * plan.run)) : null;
}

/** An operand's scale exponent: its own, or the one `scaleFor` picks from its values at byte offset `at`. */
function scaleOf(operand: Fp8ProductOperand, at: number): number {
  if ('scale' in operand) return operand.scale;
  return operand.scaleFor ? operand.scaleFor(kernels().finiteAmax(at, operand.values.length)) : 0;
}

/** Clip of f32 values to [lo, hi] (both f32 values) with Clip's comparisons, bit for bit. */
export function wasmClip(values: Float32Array, lo: number, hi: number): Float32Array {
  return unaryKernel(values, (src, dst, length) => kernels().clip(src, dst, length, lo, hi));
}

/** LeakyRelu with exact products: x < 0 ? fp32(x·alpha) : x for an f32 `alpha`, bit for bit the JS path. */
export function wasmLeakyRelu(values: Float32Array, alpha: number): Float32Array {
  return unaryKernel(values, (src, dst, length) => kernels().leakyRelu(src, dst, length, alpha));
}

/** Relu of float32 values: v < 0 ? +0 : v (−0 and NaN pass), as the JS kernel. */
export function wasmRelu(values: Float32Array): Float32Array {
  return unaryKernel(values, (src, dst, length) => kernels().relu(src, dst, length));
}

/**
 * The logistic sigmoid as the JS kernel computes it (e = exp(−|x|), 1/(1 + e) or e/(1 + e) in doubles, rounded
 * to f32), with assembly/exp.ts's port of the exponential V8's Math.exp computes: the same bits.
 */
export function wasmSigmoid(values: Float32Array): Float32Array {
  return unaryKernel(values, (src, dst, length) => kernels().sigmoidF32(src, dst, length));
}

/**
 * Softmax of `lines` contiguous lines of n values each, bit for bit the JS kernel's (in doubles, with
 * assembly/exp.ts's port of V8's exponential; each result rounded to f32).
 */
export function wasmSoftmaxLines(values: Float32Array, lines: number, n: number): Float32Array {
  const [src, dst, scratch] = layout([values.length * 4, values.length * 4, n * 8]) as [number, number, number];
  f32View(src, values.length).set(values);
  kernels().softmaxLinesF32(src, dst, lines, n, scratch);
  return copyFloat32(f32View(dst, values.length));
}

/** Each of `planes` planes' mean in doubles, bit for bit the JS global average pool (assembly/pool.ts). */
export function wasmPlaneMeans(values: Float32Array, planes: number, size: number): Float64Array {
  const [src, out] = layout([values.length * 4, planes * 8]) as [number, number];
  f32View(src, values.length).set(values);
  kernels().planeMeans(src, out, planes, size);
  return new Float64Array(kernels().memory.buffer, out, planes).slice();
}

/** Nearest upsampling of planes [h, w] by integer factors rh, rw: every value repeated rh × rw times. */
export function wasmUpsampleNearest(values: Float32Array, planes: number, [h, w]: number[], [rh, rw]: number[]) {
  const length = values.length * rh! * rw!;
  const [src, out] = layout([values.length * 4, length * 4]) as [number, number];
  f32View(src, values.length).set(values);
  kernels().upsampleNearest(src, out, planes, h!, w!, rh!, rw!);
  return copyFloat32(f32View(out, length));
}

/** values[i] = Math.exp(values[i] − shift), in place, by assembly/exp.ts's port of V8's exponential. */
export function wasmExpShifted(values: Float64Array, shift: number): void {
  const [at] = layout([values.length * 8]) as [number];
  const view = new Float64Array(kernels().memory.buffer, at, values.length);
  view.set(values);
  kernels().expShifted(at, values.length, shift);
  values.set(view);
}

/** Copies `values` into linear memory, runs an element-wise `kernel` into a second region, copies that out. */
function unaryKernel(values: Float32Array, kernel: (src: number, dst: number, length: number) => void): Float32Array {
  const [src, dst] = layout([values.length * 4, values.length * 4]) as [number, number];
  f32View(src, values.length).set(values);
  kernel(src, dst, values.length);
  return copyFloat32(f32View(dst, values.length));
}

/** Opcodes of a fused element-wise chain's steps (wasm/assembly/chain.ts): v running value, x chain input. */
export const CHAIN_STEPS = {
  ADD: 0, // v + a
  SUB: 1, // v − a
  SUB_FROM: 2, // a − v
  MUL: 3, // v · a
  DIV: 4, // v / a
  DIV_INTO: 5, // a / v
  ADD_X: 6, // v + x
  SUB_X: 7, // v − x
  SUB_FROM_X: 8, // x − v
  MUL_X: 9, // v · x
  DIV_X: 10, // v / x
  DIV_INTO_X: 11, // x / v
  CLIP: 12, // v < a ? a : v, then > b ? b
  RELU: 13, // v < 0 ? +0 : v
  LEAKY_RELU: 14, // v < 0 ? v · a : v
  MAX: 15, // Math.max(v, a)
  MIN: 16, // Math.min(v, a)
  LMUL: 17, // lmul(q(v), a), a already an operand value
  LMUL_X: 18, // lmul(q(v), q(x))
  FP8_MUL: 19, // (q(v·b)·a)·d, a already scaled and rounded
  FP8_MUL_X: 20, // (q(v·b)·q(x·a))·d
} as const;

export interface ChainStep {
  readonly op: number;
  /** f32 constants of the step. */
  readonly a?: number;
  readonly b?: number;
  readonly d?: number;
}

/**
 * How a chain's product steps round their operands and multiply: lmul rules with c = 2^−l into an e8mK
 * format (fp32's exponent range: the kernel rounds on the bit pattern), or exact products of operands
 * scaled and rounded (RNE) into a saturating fp8 format, the products rounded into it too where
 * `roundProducts`.
 */
export type ChainProducts =
  | {
      readonly kind: 'lmul';
      readonly rule: 'lmul-adder' | 'lmul-formula';
      readonly c: number;
      readonly format: FloatFormat;
      readonly rounding: RoundingMode;
    }
  | { readonly kind: 'fp8'; readonly format: FloatFormat; readonly roundProducts: boolean };

/** A chain's input in linear memory: see `wasmElementwiseChain`. */
export interface ChainRun {
  /** The largest finite magnitude of the chain's input values (0 if none). */
  inputAmax(): number;
  /**
   * The largest finite magnitude of the values after `steps` (0 if none). Successive calls take longer
   * prefixes of one list of steps: the running values keep the steps applied so far in linear memory, and
   * each call applies only the new ones.
   */
  amax(steps: readonly ChainStep[]): number;
  /** The values after `steps` (the whole list, whose prefix `amax` applied is not applied again). */
  run(steps: readonly ChainStep[]): Float32Array;
}

/**
 * Steps (at most `maxSteps`) applied in order to every element of `x`: IEEE f32 operations and comparisons,
 * and scheme products of operands rounded into a format (`products`, needed by the product steps). `x` is
 * copied in once: an fp8 step's scales come from `amax` passes over the steps before it, whose values the
 * next pass starts from.
 */
export function wasmElementwiseChain(x: Float32Array, maxSteps: number, products?: ChainProducts): ChainRun {
  return new WasmChain(x, maxSteps, products);
}

/** `wasmElementwiseChain`'s run: x at `src`, the running values (once a pass stored them) at `dst`. */
class WasmChain implements ChainRun {
  private readonly src: number;
  private readonly dst: number;
  private readonly program: number;
  /** The kernel's product arguments: rule, c, manBits, emin, maxFinite, trunc, roundProducts. */
  private readonly products: [number, number, number, number, number, boolean, boolean];
  /** Steps the values at `dst` have had (none: the values are x, at `src`). */
  private applied = 0;

  constructor(
    private readonly x: Float32Array,
    maxSteps: number,
    products?: ChainProducts,
  ) {
    const padded = (x.length + 31) & ~31;
    [this.src, this.dst, this.program] = layout([padded * 4, padded * 4, maxSteps * 16]) as [number, number, number];
    f32View(this.src, x.length).set(x);
    const { manBits, emin, maxFinite } = products?.format ?? FP32;
    const lmul = products?.kind === 'lmul' ? products : null;
    const rule = lmul?.rule === 'lmul-formula' ? 1 : 0;
    const roundProducts = products?.kind === 'fp8' && products.roundProducts;
    this.products = [rule, lmul?.c ?? 0, manBits, emin, maxFinite, lmul?.rounding === 'trunc', roundProducts];
  }

  inputAmax(): number {
    return this.pass([], this.src, 0, true);
  }

  amax(steps: readonly ChainStep[]): number {
    const added = steps.slice(this.applied);
    if (added.length === 0) return this.pass(added, this.current(), 0, true);
    return this.pass(added, this.current(), this.dst, true);
  }

  run(steps: readonly ChainStep[]): Float32Array {
    this.pass(steps.slice(this.applied), this.current(), this.dst, false);
    return copyFloat32(f32View(this.dst, this.x.length));
  }

  private current(): number {
    return this.applied > 0 ? this.dst : this.src;
  }

  /** Applies `steps` to the values at `from`, storing them at `to` (0: nowhere); their amax where `measure`. */
  private pass(steps: readonly ChainStep[], from: number, to: number, measure: boolean): number {
    const { buffer } = kernels().memory;
    const ops = new Int32Array(buffer, this.program, steps.length * 4);
    const constants = new Float32Array(buffer, this.program, steps.length * 4);
    for (let i = 0; i < steps.length; i++) {
      const { op, a = 0, b = 0, d = 0 } = steps[i]!;
      ops[4 * i] = op;
      constants[4 * i + 1] = a;
      constants[4 * i + 2] = b;
      constants[4 * i + 3] = d;
    }
    const { src, program, x } = this;
    const amax = kernels().elementwiseChain(src, from, to, x.length, program, steps.length, measure, ...this.products);
    if (to === this.dst) this.applied += steps.length;
    return amax;
  }
}

/**
 * Inference BatchNormalization of float32 values with plain arithmetic (see the kernel): per channel, the
 * standardization (x − mean)/denominator in doubles rounded to f32, times gamma, plus beta, each in f32.
 */
export function wasmBatchNorm(
  x: Float32Array,
  blockSize: number,
  mean: Float64Array,
  denominator: Float64Array,
  gamma: Float32Array,
  beta: Float32Array,
): Float32Array {
  const channels = mean.length;
  const sizes = [x.length * 4, x.length * 4, channels * 8, channels * 8, channels * 4, channels * 4];
  const [src, dst, meanAt, denominatorAt, gammaAt, betaAt] = layout(sizes) as number[] as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const { buffer } = kernels().memory;
  f32View(src, x.length).set(x);
  new Float64Array(buffer, meanAt, channels).set(mean);
  new Float64Array(buffer, denominatorAt, channels).set(denominator);
  f32View(gammaAt, channels).set(gamma);
  f32View(betaAt, channels).set(beta);
  kernels().batchNorm(src, dst, x.length, blockSize, channels, meanAt, denominatorAt, gammaAt, betaAt);
  return copyFloat32(f32View(dst, x.length));
}

/**
 * Adds the patch matrix `col` back into `channels` image planes of `image` from `imageStart` (ConvTranspose),
 * bit for bit the JS `col2imAdd` with fp32 accumulation: the same f32 additions in the same order.
 */
export function wasmCol2imAdd(
  table: PatchGather,
  col: Float32Array,
  image: Float32Array,
  imageStart: number,
  channels: number,
): void {
  const { taps, positions, imageSize, offsets } = table;
  const planes = image.subarray(imageStart, imageStart + channels * imageSize);
  const [colAt, offsetsAt, imageAt] = layout([col.length * 4, offsets.length * 4, planes.length * 4]) as [
    number,
    number,
    number,
  ];
  const wasm = kernels();
  f32View(colAt, col.length).set(col);
  new Int32Array(wasm.memory.buffer, offsetsAt, offsets.length).set(offsets);
  f32View(imageAt, planes.length).set(planes);
  wasm.col2imAdd(colAt, offsetsAt, imageAt, channels, taps, positions, imageSize);
  planes.set(f32View(imageAt, planes.length));
}
