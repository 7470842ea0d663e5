// The words of the calendar (shared/french.ts), the register's CSV cells (core/mail/register.ts)
// and the contract of the conventions:* channels (shared/ipc.ts): what the interface and the
// printed documents say, and what main refuses before any work.
import { describe, expect, it } from 'vitest';
import { dayFromFrench, dayToFrench, daysBetween, dueBanner, frenchDay, frenchList, frenchPeriod, frenchSpacing } from '../../shared/french.js';
import { csvCell, registerCsv } from '../../electron/core/mail/register.js';
import { contract } from '../../shared/ipc.js';

const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ');

describe('French words of the calendar', () => {
  it('days, with 1er and no-break spaces', () => {
    expect(plain(frenchDay('2027-01-08'))).toBe('8 janvier 2027');
    expect(plain(frenchDay('2026-04-01'))).toBe('1er avril 2026');
    expect(plain(frenchDay('2026-08-15', false))).toBe('15 août');
    expect(frenchDay('2026-01-08')).not.toContain(' ');
    expect(frenchDay('pas une date')).toBe('pas une date');
  });

  it('periods: quarters, half-years, months', () => {
    expect(plain(frenchPeriod('2026-T4'))).toBe('4e trimestre 2026');
    expect(plain(frenchPeriod('2026-T1'))).toBe('1er trimestre 2026');
    expect(plain(frenchPeriod('2026-S2'))).toBe('2e semestre 2026');
    expect(plain(frenchPeriod('2026-11'))).toBe('novembre 2026');
  });

  it('the banner of issue 14: « IS 101 et IST du 4e trimestre à envoyer avant le 8 janvier »', () => {
    expect(plain(dueBanner(['IS 101', 'IST'], '2026-T4', '2027-01-08'))).toBe('IS 101 et IST du 4e trimestre à envoyer avant le 8 janvier');
    expect(frenchList(['A', 'B', 'C'])).toBe('A, B et C');
    expect(daysBetween('2027-01-01', '2027-01-08')).toBe(7);
    expect(daysBetween('2026-12-31', '2027-01-01')).toBe(1);
  });

  it('French spacing: no-break space before « : », narrow before « ; ! ? », inside « »', () => {
    expect(frenchSpacing('Attention : fin ; vraiment ? « oui »')).toBe('Attention\u00a0: fin\u202f; vraiment\u202f? «\u00a0oui\u00a0»');
  });
});

describe('days typed the French way (jj/mm/aaaa)', () => {
  it('reads day first, checks the calendar, and writes back', () => {
    expect(dayFromFrench('08/01/2027')).toBe('2027-01-08');
    expect(dayFromFrench(' 8/1/2027 ')).toBe('2027-01-08');
    expect(dayFromFrench('29/02/2028')).toBe('2028-02-29');
    expect(dayFromFrench('29/02/2027')).toBeNull();
    expect(dayFromFrench('12/31/2026')).toBeNull(); // month first is not a French day
    expect(dayFromFrench('2027-01-08')).toBeNull();
    expect(dayFromFrench('')).toBeNull();
    expect(dayToFrench('2027-01-08')).toBe('08/01/2027');
    expect(dayFromFrench(dayToFrench('2026-10-08'))).toBe('2026-10-08');
  });
});

describe('the register as CSV', () => {
  it('neutralises formulas and quotes separators', () => {
    for (const cell of ['=1+1', '+33 6', '-2', '@SUM(A1)', '\t=1']) expect(csvCell(cell).replace(/^"/, '')).toMatch(/^'/);
    expect(csvCell('Mairie ; services')).toBe('"Mairie ; services"');
    expect(csvCell('dit "oui"')).toBe('"dit ""oui"""');
    expect(csvCell('ligne\nsuivante')).toBe('"ligne\nsuivante"');
    expect(csvCell('Mairie de Saint-Laurent-Blangy')).toBe('Mairie de Saint-Laurent-Blangy');
  });

  it('starts with a BOM, separates with « ; », ends lines with CRLF', () => {
    const csv = registerCsv({
      convention: null, year: 2026, rows: [{
        at: Date.UTC(2026, 9, 8, 9, 30), day: '2026-10-08', direction: 'received', partner: '=cmd|calc', convention: null, period: null,
        documents: [], subject: null, container: '0123456789abcdef', state: 'reçu, vérifié', receipts: [], proven: true,
      }],
    });
    expect(csv.startsWith('\ufeffDate;Heure;Sens;')).toBe(true);
    const line = csv.split('\r\n')[1]!;
    expect(line).toMatch(/^08\/10\/2026;\d{2}:\d{2};reçu;'=cmd\|calc;sans convention;;;;0123456789abcdef;reçu, vérifié;;oui$/);
  });
});

describe('the conventions:* channels refuse bad requests before any work', () => {
  it('ids, days, years and reasons', () => {
    expect(contract['conventions:annex'].request.safeParse({ id: 'conv-0123456789abcdef' }).success).toBe(true);
    expect(contract['conventions:annex'].request.safeParse({ id: '../../etc/passwd' }).success).toBe(false);
    expect(contract['conventions:annex'].request.safeParse({ id: 'conv-0123456789abcdef', path: '/tmp/x.pdf' }).success).toBe(false);
    expect(contract['conventions:register'].request.safeParse({ id: 'conv-0123456789abcdef', year: 2026, format: 'xlsx' }).success).toBe(false);
    expect(contract['conventions:register'].request.safeParse({ id: 'conv-0123456789abcdef', year: 99999, format: 'csv' }).success).toBe(false);
    expect(contract['conventions:calendar'].request.safeParse({ at: '2027-1-4' }).success).toBe(false);
    expect(contract['conventions:terminate'].request.safeParse({ id: 'conv-0123456789abcdef', date: '2026-12-31', reason: '   ' }).success).toBe(false);
  });
});
