// Turning a stored or received number into a date without ever throwing. JavaScript dates end at
// ±8.64e15 ms: `new Date(9e15).toISOString()` throws "Invalid time value" and `Intl` formatting
// throws too. A profile's database is the attacker's to write (docs/profile.md), so every number
// read back from it is checked here before it becomes a Date.

/** Largest absolute time value of a JavaScript Date (ECMA-262, 21.4.1.1). */
export const MAX_DATE_MS = 8.64e15;

/** Whether `ms` is a number that a Date can hold. */
export function isDateMs(ms: unknown): ms is number {
  return typeof ms === 'number' && Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS;
}

/** ISO 8601 form of `ms`, or null when it is no date. */
export function isoOrNull(ms: unknown): string | null {
  return isDateMs(ms) ? new Date(ms).toISOString() : null;
}
