// `pli indicators` says a correction as the Indicateurs screen does (docs/indicators.md 4): under the
// corrected figure, « corrigé le … par … (motif) ; valeur d’origine : … », in the text output; the
// JSON keeps its shape and carries the same facts in `figures[].correction`. A figure no one
// corrected has no such line. Needs `npm run build`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import { cliSandbox, conventionSetUp } from './support.js';
import { toCsv } from '../unit/indicators-fixtures.js';

const PASS = 'une phrase de passe de test';
const cli = cliSandbox('pli-indicators-corr-', PASS);
const { root, at, pli, ok } = cli;
afterAll(() => rmSync(root, { recursive: true, force: true }));
let convention = '';
const THIN = '\u202f';

const ist = (v: [number, number, number]) => [
  ['IST — circonscription de police nationale d’Arras'],
  ['Famille', 'Saint-Laurent-Blangy'],
  ["Atteintes à l'intégrité physique", v[0]],
  ['Atteintes aux biens', v[1]],
  ['Atteintes à la paix et à la santé publiques', v[2]],
];

beforeAll(async () => {
  const setUp = conventionSetUp(cli, PASS);
  await setUp.start([], 'Observatoire de la CU');
  for (const [key, name, org] of [['cpn', 'Paul Lefebvre', "CPN d'Arras"], ['cu', 'Claire Dumont', "Communauté urbaine d'Arras"]] as const) {
    await setUp.certify(key, name, org, 'operator', 'x@exemple.fr');
  }
  convention = await ok('O', ['convention', 'new', '--title', 'Observatoire', '--party', "CPN d'Arras=cpn@interieur.gouv.fr", '--party', "Communauté urbaine d'Arras=obs@cu-arras.fr",
    '--types', 'csv', '--schedule', 'quarterly:8', '--expect', 'IST', '--start', '2025-01-01', '--years', '3']);
  for (const [period, v] of [['2026-T3', [100, 3502, 45]], ['2026-T4', [112, 3519, 47]]] as const) {
    writeFileSync(at(`ist-${period}.csv`), toCsv(ist([...v]), ';', 'utf-8'));
    await ok('O', ['indicators', 'import', at(`ist-${period}.csv`), '--convention', convention, '--period', period, '--commune', 'Saint-Laurent-Blangy']);
  }
}, 180_000);

describe('pli indicators: a corrected figure', () => {
  it('the text output says who corrected it, when, why and the value it replaced; the JSON carries the same', async () => {
    const before = await pli('O', ['indicators']);
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout).not.toContain('corrigé');

    await ok('O', ['indicators', 'correct', '--convention', convention, '--commune', 'Saint-Laurent-Blangy', '--period', '2026-T4',
      '--indicator', 'ist.biens', '--value', '3500', '--reason', 'doublon signalé par le CPN']);

    const run = await pli('O', ['indicators', '--commune', 'Saint-Laurent-Blangy']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    // The day as the screen writes it (fr-FR, long), in this machine's time zone.
    const day = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long' }).format(Date.now());
    const figure = lines.findIndex((l) => l.includes(`2026-T4    3${THIN}500`));
    expect(figure, run.stdout).toBeGreaterThan(0);
    // On the line under its figure, as the screen puts it under its row.
    expect(lines[figure + 1]).toBe(`      corrigé le ${day} par Olivier Ssi (doublon signalé par le CPN)\u00a0; valeur d’origine\u00a0: 3${THIN}519`);
    // Only the corrected figure: one such line in all.
    expect(lines.filter((l) => l.includes('corrigé le'))).toHaveLength(1);

    const json = JSON.parse((await pli('O', ['indicators', '--json'])).stdout) as {
      figures: { period: string; indicator: string; value: number; correction: { at: number; by: string; reason: string; original: number | null } | null }[];
      communes: unknown[]; checked: boolean; missing: unknown[];
    };
    // The shape the JSON had: no key removed.
    expect(Object.keys(json).sort()).toEqual(expect.arrayContaining(['checked', 'communes', 'figures', 'missing']));
    const corrected = json.figures.filter((f) => f.correction !== null);
    expect(corrected).toHaveLength(1);
    expect(corrected[0]).toMatchObject({ period: '2026-T4', indicator: 'ist.biens', value: 3500, correction: { by: 'Olivier Ssi', reason: 'doublon signalé par le CPN', original: 3519 } });
    expect(Math.abs(corrected[0]!.correction!.at - Date.now())).toBeLessThan(10 * 60_000);
  });
});
