/**
 * Every ONNX backend test case of every operator the engine implements passes in exact mode, except the
 * exceptions listed below with their reasons. A listed exception that starts passing fails the test too,
 * so the list stays true.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KERNELS } from '../../src/engine/registry';
import { listCases, runCase, type CaseResult } from '../conformance/runner';

/** Case name → why it cannot pass here. */
const EXCEPTIONS: Record<string, string> = {
  test_training_dropout: 'Dropout in training mode: the expected output is random',
  test_training_dropout_default: 'Dropout in training mode: the expected output is random',
  test_training_dropout_default_mask: 'Dropout in training mode: the expected output is random',
  test_training_dropout_mask: 'Dropout in training mode: the expected output is random',
  test_identity_opt: 'optional-typed test data (OptionalProto): onnx-proto 8 has no OptionalProto to decode it',
  test_identity_sequence: 'sequence test data (SequenceProto): onnx-proto 8 has no SequenceProto to decode it',
  test_sequence_insert_at_back: 'sequence test data (SequenceProto) cannot be decoded',
  test_sequence_insert_at_front: 'sequence test data (SequenceProto) cannot be decoded',
  test_split_to_sequence_1: 'sequence test data (SequenceProto) cannot be decoded',
  test_split_to_sequence_2: 'sequence test data (SequenceProto) cannot be decoded',
  test_split_to_sequence_nokeepdims: 'sequence test data (SequenceProto) cannot be decoded',
  test_if_seq: 'sequence test data (SequenceProto) cannot be decoded',
  test_loop13_seq: 'sequence test data (SequenceProto) cannot be decoded',
  test_if_opt: 'optional-typed test data (OptionalProto) cannot be decoded',
  test_loop16_seq_none: 'optional-typed test data (OptionalProto) cannot be decoded',
  test_optional_get_element_optional_sequence: 'optional-typed test data (OptionalProto) cannot be decoded',
  test_optional_get_element_optional_tensor: 'optional-typed test data (OptionalProto) cannot be decoded',
  test_optional_get_element_sequence: 'sequence test data (SequenceProto) cannot be decoded',
  test_optional_has_element_empty_optional_input: 'optional-typed test data (OptionalProto) cannot be decoded',
  test_optional_has_element_optional_input: 'optional-typed test data (OptionalProto) cannot be decoded',
  test_optional_has_element_tensor_input: 'optional-typed test data (OptionalProto) cannot be decoded',
};

test('ONNX conformance: every case of every implemented operator passes in exact mode', async () => {
  const results: CaseResult[] = [];
  for (const c of listCases()) results.push(await runCase(c));
  const claimed = results.filter((r) => KERNELS.has(r.op) || EXCEPTIONS[r.name] !== undefined);
  const unexpected = claimed.filter((r) => (r.outcome === 'pass') === (EXCEPTIONS[r.name] !== undefined));
  const report = unexpected.map(
    (r) => `${r.suite}/${r.name} [${r.op}]: ${r.outcome} ${r.detail || '(listed as an exception)'}`,
  );
  const count = (o: string) => results.filter((r) => r.outcome === o).length;
  console.log(
    `conformance: ${count('pass')} pass, ${count('fail')} fail, ${count('unsupported')} unsupported of ${results.length} cases; ${claimed.length} cases of implemented operators`,
  );
  assert.deepEqual(report, []);
  assert.ok(claimed.length > 1000, `only ${claimed.length} cases belong to implemented operators`);
});
