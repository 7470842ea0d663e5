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
