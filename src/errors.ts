/**
 * The one error taxonomy of vis-agn. Every failure a user can cause or meet is one of these classes,
 * each with a stable exit code, so shell scripts and SLURM arrays can tell "bad input, skip it" from
 * "this node's disk is full, requeue".
 */

export const EXIT_CODES = {
  ok: 0,
  internal: 1,
  usage: 2,
  inputNotFound: 3,
  invalidInput: 4,
  unsupported: 5,
  limitExceeded: 6,
  outputFailed: 7,
  model: 8,
  partialFailure: 9,
} as const;

export type ExitCodeName = keyof typeof EXIT_CODES;

/** Where in the inputs a problem sits; every field optional because not every error has an HDU. */
export interface ErrorLocation {
  file?: string;
  hdu?: number | string;
}

export class VisAgnError extends Error {
  readonly exitCodeName: ExitCodeName = 'internal';
  readonly location: ErrorLocation;
  readonly reason: string;

  constructor(reason: string, location: ErrorLocation = {}, options?: { cause?: unknown }) {
    super(formatMessage(reason, location), options);
    this.name = new.target.name;
    this.reason = reason;
    this.location = location;
  }

  get exitCode(): number {
    return EXIT_CODES[this.exitCodeName];
  }
}

function formatMessage(reason: string, location: ErrorLocation): string {
  const where: string[] = [];
  if (location.file !== undefined) where.push(location.file);
  if (location.hdu !== undefined) where.push(`HDU ${location.hdu}`);
  return where.length > 0 ? `${where.join(', ')}: ${reason}` : reason;
}

/** The command line was used wrongly (unknown option, missing argument). */
export class UsageError extends VisAgnError {
  override readonly exitCodeName = 'usage';
}

/** A named input does not exist or cannot be read at the OS level. */
export class InputNotFoundError extends VisAgnError {
  override readonly exitCodeName = 'inputNotFound';
}

/** The input exists but breaks the FITS standard or the expected layout (truncated, bad header, ...). */
export class InvalidInputError extends VisAgnError {
  override readonly exitCodeName = 'invalidInput';
}

/** The input is valid but uses something this version does not implement (a codec, a BITPIX). */
export class UnsupportedError extends VisAgnError {
  override readonly exitCodeName = 'unsupported';
}

/** Honouring the input would exceed a configured resource limit (checked before allocating). */
export class LimitExceededError extends VisAgnError {
  override readonly exitCodeName = 'limitExceeded';
}

/** Output could not be written; nothing partial is left behind. */
export class OutputError extends VisAgnError {
  override readonly exitCodeName = 'outputFailed';
}

/** Model card, ONNX graphs or execution provider are inconsistent or unavailable. */
export class ModelError extends VisAgnError {
  override readonly exitCodeName = 'model';
}

/** A batch finished but some objects failed; the failures are listed in the run's error log. */
export class PartialFailureError extends VisAgnError {
  override readonly exitCodeName = 'partialFailure';
}

/**
 * The run was stopped by a signal: what was finished is kept, nothing half-written is left, and the
 * message says what to rerun. The exit code is the shell's for a death by that signal (128 + its
 * number: 130 for SIGINT, 143 for SIGTERM), so schedulers treat it as they treat a kill.
 */
export class InterruptedError extends VisAgnError {
  constructor(
    readonly signal: 'SIGINT' | 'SIGTERM',
    reason: string,
    location: ErrorLocation = {},
  ) {
    super(reason, location);
  }

  override get exitCode(): number {
    return this.signal === 'SIGINT' ? 130 : 143;
  }
}

const CLASSES: Readonly<Record<ExitCodeName, new (reason: string, location?: ErrorLocation) => VisAgnError>> = {
  ok: VisAgnError,
  internal: VisAgnError,
  usage: UsageError,
  inputNotFound: InputNotFoundError,
  invalidInput: InvalidInputError,
  unsupported: UnsupportedError,
  limitExceeded: LimitExceededError,
  outputFailed: OutputError,
  model: ModelError,
  partialFailure: PartialFailureError,
};

/** An error as it crosses a worker-thread boundary, where structured cloning keeps neither class nor fields. */
export interface TransferredError {
  readonly kind: ExitCodeName | 'foreign';
  readonly name: string;
  readonly reason: string;
  readonly location: ErrorLocation;
  readonly stack?: string;
}

export function transferError(error: unknown): TransferredError {
  if (error instanceof VisAgnError) return { kind: error.exitCodeName, name: error.name, reason: error.reason, location: error.location };
  const e = error instanceof Error ? error : new Error(String(error));
  return { kind: 'foreign', name: e.name, reason: e.message, location: {}, ...(e.stack === undefined ? {} : { stack: e.stack }) };
}

/** The error `transferError` described, of the same class (or a plain Error keeping name, message and stack). */
export function restoreError(transferred: TransferredError): Error {
  if (transferred.kind === 'foreign') {
    const error = new Error(transferred.reason);
    error.name = transferred.name;
    if (transferred.stack !== undefined) error.stack = transferred.stack;
    return error;
  }
  return new CLASSES[transferred.kind](transferred.reason, transferred.location);
}

export function exitCodeOf(error: unknown): number {
  return error instanceof VisAgnError ? error.exitCode : EXIT_CODES.internal;
}
