// A refusal a unit test expects: the action must throw a PliError with this code.
import { expect } from 'vitest';
import { PliError } from '../../electron/core/errors.js';

export async function refusedWith(code: string, action: () => Promise<unknown> | unknown): Promise<PliError> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${code}`).toBeInstanceOf(PliError);
  expect((caught as PliError).code).toBe(code);
  return caught as PliError;
}

/** The refusal of a profile changed outside Pli (docs/profile.md), thrown at once: a security
 * refusal with the code `profile-tampered`. */
export function tamperedRefusal(action: () => unknown): PliError {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected profile-tampered').toBeInstanceOf(PliError);
  expect((caught as PliError).code).toBe('profile-tampered');
  expect((caught as PliError).kind).toBe('security');
  return caught as PliError;
}
