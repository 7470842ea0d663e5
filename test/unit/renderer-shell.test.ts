// The interface's static guarantees: the CSP meta tag matches the header main sends, every
// contract channel has a verb, and both languages define exactly the same strings.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { CSP_META, CONTENT_SECURITY_POLICY } from '../../shared/csp.js';
import { CHANNELS, contract } from '../../shared/ipc.js';
import { fileRisk } from '../../shared/filetypes.js';

const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');

function keys(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k)).sort();
}

describe('renderer shell', () => {
  it('index.html carries the same CSP as the header, minus frame-ancestors', () => {
    const meta = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(read('renderer/index.html'))?.[1];
    expect(meta).toBe(CSP_META);
    expect(CONTENT_SECURITY_POLICY).toBe(`${CSP_META}; frame-ancestors 'none'`);
    expect(CSP_META).not.toMatch(/unsafe|\*/);
  });

  it('every channel has a schema pair and a distinct verb', () => {
    expect(Object.keys(contract).sort()).toEqual(Object.keys(CHANNELS).sort());
    expect(new Set(Object.values(CHANNELS)).size).toBe(Object.keys(CHANNELS).length);
  });

  it('French and English define the same keys', () => {
    expect(keys(JSON.parse(read('renderer/i18n/en.json')))).toEqual(keys(JSON.parse(read('renderer/i18n/fr.json'))));
  });

  it('flags macro-enabled and executable files', () => {
    expect(fileRisk('IS101.xls')).toBe('usual');
    expect(fileRisk('calculs.XLSM')).toBe('macro');
    expect(fileRisk('note.docm')).toBe('macro');
    expect(fileRisk('setup.exe')).toBe('executable');
    expect(fileRisk('plan.dwg')).toBe('unusual');
    expect(fileRisk('sans-extension')).toBe('unusual');
  });
});
