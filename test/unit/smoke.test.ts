import { describe, it, expect } from 'vitest';
import { makePerson, seal, open, readerCallbacks } from './helpers.js';

describe('smoke', () => {
  it('round trips', async () => {
    const a = await makePerson();
    const b = await makePerson();
    const data = Buffer.alloc(200000, 7);
    const bytes = await seal(a, [a, b], [{ name: 'IS101.xls', data }, { name: 'vide.csv', data: Buffer.alloc(0) }]);
    const files = await open(bytes, readerCallbacks(b, [a]));
    expect(files.map((f) => f.name)).toEqual(['IS101.xls', 'vide.csv']);
    expect(files[0]!.data.equals(data)).toBe(true);
  });
});
