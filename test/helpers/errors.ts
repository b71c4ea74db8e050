import type { VisAgnError } from '../../src/errors.js';

/** Runs `action`, expects it to throw `type`, with every fragment in the message; returns the error. */
export function expectThrows(action: () => unknown, type: new (...args: never[]) => VisAgnError, ...fragments: string[]): VisAgnError {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(type);
  const error = caught as VisAgnError;
  for (const fragment of fragments) expect(error.message).toContain(fragment);
  return error;
}
