import path from 'node:path';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

type History = proto.temporal.api.history.v1.IHistory;

/**
 * Reads a history in the standard JSON format (as `temporal workflow show --output json` writes it).
 *
 * Why not the SDK's `historyFromJSON`: in this install npm nests two copies of protobufjs 8.8.1 (one under
 * @temporalio/common, one under @temporalio/proto), and the SDK's helper hands a type from one copy to the
 * JSON reader of the other, which fails with "type must be a Type". Using the reader from the same copy as
 * the types avoids it; once the copies are deduplicated this is equivalent to `historyFromJSON`.
 */
export function historyFromStandardJson(json: unknown): History {
  const protoDir = path.dirname(require.resolve('@temporalio/proto/package.json'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { fromJson } = require(require.resolve('protobufjs/ext/protojson', { paths: [protoDir] })) as { fromJson(type: unknown, json: unknown, options: object): History };
  const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');
  return fromJson(historyType, json, { ignoreUnknownFields: true });
}
