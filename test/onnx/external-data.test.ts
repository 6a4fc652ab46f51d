import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { onnx } from 'onnx-proto';
import { summarizeModel } from '../../src/onnx/inspect';
import { loadModel } from '../../src/onnx/load';
import { loadModelFile } from '../../src/onnx/node-fs';
import { FLOAT, modelBytes, node, rejectsWith, tempDir } from './helpers';

const EXTERNAL = onnx.TensorProto.DataLocation.EXTERNAL;

function externalTensor(name: string, dims: number[], entries: Record<string, string>): onnx.ITensorProto {
  return {
    name,
    dims,
    dataType: FLOAT,
    dataLocation: EXTERNAL,
    externalData: Object.entries(entries).map(([key, value]) => ({ key, value })),
  };
}

/** x * W → y, with W (and possibly more initializers) stored as given. */
function modelWith(initializers: onnx.ITensorProto[]): Uint8Array {
  return modelBytes({
    input: [{ name: 'x' }],
    output: [{ name: 'y' }],
    initializer: initializers,
    node: [node('Mul', ['x', initializers[0]!.name!], ['y'], 'mul')],
  });
}

function floatBytes(values: number[]): Buffer {
  return Buffer.from(Float32Array.from(values).buffer);
}

/** Writes model.onnx (and the given extra files) into a fresh folder; returns the model path. */
function writeModel(bytes: Uint8Array, files: Record<string, Uint8Array> = {}, folder = tempDir()): string {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(folder, name)), { recursive: true });
    writeFileSync(path.join(folder, name), content);
  }
  writeFileSync(path.join(folder, 'model.onnx'), bytes);
  return path.join(folder, 'model.onnx');
}

test('external tensors load from files next to the model, at their offsets', async () => {
  const weights = Buffer.concat([Buffer.alloc(8, 0xee), floatBytes([1, 2, 3, 4, 5, 6]), floatBytes([7, 8])]);
  const file = writeModel(
    modelWith([
      externalTensor('W', [2, 3], { location: 'weights.bin', offset: '8', length: '24' }),
      // No length: the tensor's own size; inside a subfolder, via a detour that stays inside.
      externalTensor('V', [2], { location: 'sub/../data/./v.bin' }),
      externalTensor('U', [2], { location: 'weights.bin', offset: '32', length: '8', checksum: 'ignored' }),
    ]),
    { 'weights.bin': weights, 'data/v.bin': floatBytes([9, 10, 11]) },
  );
  const model = await loadModelFile(file);
  const [w, v, u] = model.graph.initializers;
  assert.deepEqual([...w!.data], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(w!.external, { location: 'weights.bin', offset: 8, length: 24 });
  assert.deepEqual([...v!.data], [9, 10]);
  assert.equal(v!.external?.location, 'data/v.bin');
  assert.deepEqual([...u!.data], [7, 8]);

  const summary = summarizeModel(model);
  assert.deepEqual(summary.parameters.external, {
    tensors: 3,
    elements: 10,
    bytes: 40,
    files: ['data/v.bin', 'weights.bin'],
  });
  assert.equal(summary.parameters.elements, 10);
});

test('a browser-style reader can serve external data without a file system', async () => {
  const files = new Map([['w.bin', new Uint8Array(floatBytes([4, 5]))]]);
  const requests: string[] = [];
  const model = await loadModel(modelWith([externalTensor('W', [2], { location: 'w.bin' })]), {
    externalData: {
      async read(location, offset, length) {
        requests.push(`${location}@${offset}+${length}`);
        return files.get(location)!.subarray(offset, offset + length);
      },
    },
  });
  assert.deepEqual([...model.graph.initializers[0]!.data], [4, 5]);
  assert.deepEqual(requests, ['w.bin@0+8']);
});

test('external tensors inside node attributes are resolved too', async () => {
  const bytes = modelBytes({
    output: [{ name: 'c' }],
    node: [
      node('Constant', [], ['c'], 'const', [
        {
          name: 'value',
          type: onnx.AttributeProto.AttributeType.TENSOR,
          t: externalTensor('cv', [1], { location: 'c.bin' }),
        },
      ]),
    ],
  });
  const model = await loadModelFile(writeModel(bytes, { 'c.bin': floatBytes([42]) }));
  const value = model.graph.nodes[0]!.attributes[0]!;
  assert.ok(value.refAttrName === undefined && value.type === 'tensor');
  assert.deepEqual([...value.value.data], [42]);
});

test('unsafe locations are refused before any file is touched', async () => {
  const cases: [string, RegExp][] = [
    ['../outside.bin', /escapes the model's folder/],
    ['data/../../outside.bin', /escapes the model's folder/],
    ['..\\outside.bin', /escapes the model's folder/],
    ['/etc/passwd', /is absolute/],
    ['\\\\server\\share\\w.bin', /is absolute/],
    ['C:\\weights.bin', /is absolute/],
    ['c:relative.bin', /is absolute/],
    ['w.bin\0.txt', /NUL byte/],
    ['', /names no file/],
    ['./', /names no file/],
  ];
  for (const [location, why] of cases) {
    const bytes = modelWith([externalTensor('W', [1], { location })]);
    const reader = { read: () => assert.fail(`reader called for ${JSON.stringify(location)}`) };
    await rejectsWith(() => loadModel(bytes, { externalData: reader }), 'external-data', /initializer 'W'/, why);
  }
});

test('symbolic links out of the model folder are refused', async () => {
  const outside = tempDir();
  writeFileSync(path.join(outside, 'secret.bin'), floatBytes([1]));
  const folder = tempDir();
  symlinkSync(path.join(outside, 'secret.bin'), path.join(folder, 'link.bin'));
  symlinkSync(outside, path.join(folder, 'linkdir'));
  for (const location of ['link.bin', 'linkdir/secret.bin']) {
    const file = writeModel(modelWith([externalTensor('W', [1], { location })]), {}, folder);
    await rejectsWith(
      () => loadModelFile(file),
      'external-data',
      /initializer 'W'/,
      new RegExp(location),
      /symbolic link/,
    );
  }
  // A link that stays inside the folder is fine.
  writeFileSync(path.join(folder, 'real.bin'), floatBytes([3]));
  symlinkSync(path.join(folder, 'real.bin'), path.join(folder, 'inside.bin'));
  const model = await loadModelFile(
    writeModel(modelWith([externalTensor('W', [1], { location: 'inside.bin' })]), {}, folder),
  );
  assert.deepEqual([...model.graph.initializers[0]!.data], [3]);
});

test('missing, short, directory and mis-declared external files name the tensor and the file', async () => {
  const missing = writeModel(modelWith([externalTensor('W', [2], { location: 'nowhere.bin' })]));
  await rejectsWith(
    () => loadModelFile(missing),
    'external-data',
    /initializer 'W'/,
    /'nowhere.bin'/,
    /does not exist/,
  );

  const threeFloats = { 'w.bin': floatBytes([1, 2, 3]) };
  const short = writeModel(modelWith([externalTensor('W', [4], { location: 'w.bin', offset: '4' })]), threeFloats);
  await rejectsWith(
    () => loadModelFile(short),
    'external-data',
    /initializer 'W'/,
    /'w.bin'/,
    /too short: 8 of the 16 bytes/,
  );

  const beyond = writeModel(modelWith([externalTensor('W', [1], { location: 'w.bin', offset: '100' })]), {
    'w.bin': floatBytes([1]),
  });
  await rejectsWith(() => loadModelFile(beyond), 'external-data', /'w.bin'/, /0 of the 4 bytes at offset 100/);

  const folder = tempDir();
  mkdirSync(path.join(folder, 'dir.bin'));
  const directory = writeModel(modelWith([externalTensor('W', [1], { location: 'dir.bin' })]), {}, folder);
  await rejectsWith(() => loadModelFile(directory), 'external-data', /'dir.bin'/, /not a regular file/);

  const twoFloats = { 'w.bin': floatBytes([1, 2]) };
  const declared = writeModel(modelWith([externalTensor('W', [2], { location: 'w.bin', length: '4' })]), twoFloats);
  await rejectsWith(() => loadModelFile(declared), 'external-data', /initializer 'W'/, /length 4.*need 8 bytes/);

  const noLocation = modelWith([externalTensor('W', [1], { offset: '0' })]);
  await rejectsWith(() => loadModel(noLocation), 'external-data', /initializer 'W'/, /no location/);

  const badOffset = modelWith([externalTensor('W', [1], { location: 'w.bin', offset: '-4' })]);
  await rejectsWith(() => loadModel(badOffset), 'external-data', /offset "-4" is not a byte count/);

  const noReader = modelWith([externalTensor('W', [1], { location: 'w.bin' })]);
  await rejectsWith(() => loadModel(noReader), 'external-data', /initializer 'W'/, /'w.bin'/, /no way to read it/);

  const failingReader = { read: () => Promise.reject(new Error('network down')) };
  const failing = () => loadModel(noReader, { externalData: failingReader });
  await rejectsWith(failing, 'external-data', /'w.bin' cannot be read: network down/);
});
