import { EXIT_CODES, InvalidInputError, exitCodeOf, UsageError } from '../src/errors.js';

describe('error taxonomy', () => {
  it('names file and HDU in the message and maps to the documented exit code', () => {
    const error = new InvalidInputError('missing END card', { file: 'a.fits', hdu: 2 });
    expect(error.message).toBe('a.fits, HDU 2: missing END card');
    expect(error.exitCode).toBe(EXIT_CODES.invalidInput);
    expect(error.name).toBe('InvalidInputError');
    expect(exitCodeOf(new UsageError('bad option'))).toBe(2);
    expect(exitCodeOf(new Error('boom'))).toBe(EXIT_CODES.internal);
  });
});
