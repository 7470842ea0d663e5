// The counts and sizes of shared/french.ts (u1-outbox): the French plural (0 and 1 singular), so
// that no CLI or core sentence needs a "(s)" form, and the sizes « 48 Ko » the lists print.
import { describe, expect, it } from 'vitest';
import { agree, frenchSize, plural } from '../../shared/french.js';

describe('plural and agree', () => {
  it('0 and 1 take the singular, from 2 the plural; irregular plurals given', () => {
    expect([0, 1, 2, 3].map((n) => plural(n, 'pli'))).toEqual(['0 pli', '1 pli', '2 plis', '3 plis']);
    expect(plural(1, 'nouveau pli', 'nouveaux plis')).toBe('1 nouveau pli');
    expect(plural(4, 'nouveau pli', 'nouveaux plis')).toBe('4 nouveaux plis');
    expect(plural(2, 'fichier détruit', 'fichiers détruits')).toBe('2 fichiers détruits');
    expect(agree(1, 'reçu')).toBe('reçu');
    expect(agree(5, 'reçu')).toBe('reçus');
    expect(agree(2, 'est', 'sont')).toBe('sont');
  });
});

describe('frenchSize', () => {
  it('octets, Ko, Mo, Go with a decimal comma and a no-break space', () => {
    expect(frenchSize(1)).toBe('1\u00a0octet');
    expect(frenchSize(512)).toBe('512\u00a0octets');
    expect(frenchSize(48 * 1024)).toBe('48\u00a0Ko');
    expect(frenchSize(1536 * 1024)).toBe('1,5\u00a0Mo');
    expect(frenchSize(3 * 1024 ** 3)).toBe('3\u00a0Go');
  });
});
