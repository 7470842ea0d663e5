// The opening receipt follows the convention the opened manifest names (issue 14 section 4): the
// decrypted result carries the manifest's convention fields (DecryptResult.convention), and
// conventionOfOpened reads its id rather than guessing from the parties.
import { describe, expect, it } from 'vitest';
import { conventionOfOpened } from '../../electron/core/mail/receipts.js';

describe('conventionOfOpened', () => {
  it('is the id of the convention the opened manifest names', () => {
    expect(conventionOfOpened({ convention: { id: 'conv-0123456789abcdef', period: '2026-T4', documents: ['IS 101'] } })).toBe('conv-0123456789abcdef');
  });

  it('is null for a container sent sans convention', () => {
    expect(conventionOfOpened({ convention: null })).toBeNull();
  });
});
