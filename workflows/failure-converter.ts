import { DefaultFailureConverter } from '@temporalio/common';

// Loaded by path (DataConverter.failureConverterPath) in the worker, its workflow sandbox and clients, when
// payloads are encrypted: a failure's message and stack trace go through the payload codec as well (a
// step's failure can quote what it found), so the stored history holds no plaintext of them either.
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
