/**
 * Preloaded into the built CLI by tests (`node --import`): every ONNX session a thread opens is
 * appended to $VIS_AGN_SESSION_LOG as one JSON line, { thread: 'main' | 'worker', threadId, providers,
 * file }. Worker threads inherit the preload through execArgv, so the log says which thread loaded
 * which model and on which execution provider. Without the variable it changes nothing.
 */
import { appendFileSync } from 'node:fs';
import { isMainThread, threadId } from 'node:worker_threads';

import ort from 'onnxruntime-node';

const log = process.env.VIS_AGN_SESSION_LOG;
if (log) {
  const { InferenceSession } = ort;
  const create = InferenceSession.create.bind(InferenceSession);
  InferenceSession.create = async (file, options, ...rest) => {
    const session = await create(file, options, ...rest);
    const providers = (options?.executionProviders ?? []).map((p) => (typeof p === 'string' ? p : p.name));
    appendFileSync(log, `${JSON.stringify({ thread: isMainThread ? 'main' : 'worker', threadId, providers, file: String(file) })}\n`);
    return session;
  };
}
