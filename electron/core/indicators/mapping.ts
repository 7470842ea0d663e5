// Which cell of a state is which indicator (docs/indicators.md 3): a mapping lists, per
// indicator, the labels it is recognised from; a label matches a cell whatever its accents, case,
// spacing, apostrophes and punctuation. The ready-made mappings cover the IS 101 and the IST.
// Pure: run inside the reading worker (read.worker.ts), with no access to the profile.
import { INDICATOR_IDS, INDICATORS } from '../../../shared/indicators.js';
import { forTerminal, visibleOnly } from '../../../shared/text.js';
import { inputError } from '../errors.js';

export interface Mapping {
  name: string;
  /** Indicator id -> the labels that name it in a state. */
  labels: Record<string, string[]>;
}

/** The stored and exchanged form of a mapping (docs/indicators.md 3). */
export const MAPPING_FORMAT = 'pli-indicateurs-correspondance';

export const BUILT_IN_MAPPINGS: readonly Mapping[] = [
  {
    name: 'IS 101',
    labels: {
      'is101.homicides': ['Homicides', 'Homicides et tentatives', "Homicides y compris tentatives"],
      'is101.vols-armes': ['Vols à main armée', 'Vols avec armes', 'Vols à main armée (arme à feu)', 'Vols avec arme'],
      'is101.vols-violents': ['Vols violents sans arme', 'Vols avec violences sans arme', 'Vols violents sans armes'],
      'is101.vols-sans-violence': ['Vols sans violence contre des personnes', 'Vols sans violence contre les personnes', 'Vols sans violence'],
      'is101.coups': [
        'Coups et blessures volontaires sur personnes de 15 ans et plus', 'Coups et blessures volontaires sur les personnes de 15 ans et plus',
        'Coups et blessures volontaires (personnes de 15 ans ou plus)', 'Coups et blessures volontaires', 'Violences volontaires sur personnes de 15 ans et plus',
      ],
      'is101.cambriolages': ['Cambriolages de logements', 'Cambriolages de lieux d’habitation', 'Cambriolages de logement', 'Cambriolages'],
      'is101.vols-vehicules': ['Vols de véhicules', 'Vols de véhicules automobiles', 'Vols de véhicules (automobiles et deux-roues)'],
      'is101.vols-dans-vehicules': ['Vols dans les véhicules', 'Vols à la roulotte', 'Vols dans véhicules'],
      'is101.vols-accessoires': ["Vols d'accessoires sur véhicules", "Vols d'accessoires sur véhicules automobiles", "Vols d'accessoires"],
    },
  },
  {
    name: 'IST',
    labels: {
      'ist.integrite': ["Atteintes à l'intégrité physique", "Atteintes volontaires à l'intégrité physique", 'AVIP', 'Atteintes aux personnes'],
      'ist.biens': ['Atteintes aux biens', 'Atteintes aux biens (vols et dégradations)'],
      'ist.ordre-public': [
        'Atteintes à la paix et à la santé publiques', 'Atteintes à la paix publique et à la santé publique', 'Atteintes à la tranquillité publique',
        "Infractions à l'ordre public", 'Ordre public', 'Atteintes à la paix publique',
      ],
    },
  },
];

/** A label or a cell as compared: no accents, lower case, apostrophes and punctuation as spaces,
 * spaces collapsed (docs/indicators.md 3). */
export function normaliseLabel(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/œ/g, 'oe')
    .replace(/æ/g, 'ae')
    .replace(/[^a-z0-9%]+/g, ' ')
    .trim();
}

/** Checks a mapping given by a person (JSON text) and returns it; input error otherwise. */
export function parseMapping(text: string): Mapping {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw inputError('bad-mapping', "Ce fichier de correspondance n'est pas du JSON lisible : corrigez-le (voir docs/indicators.md) et recommencez.");
  }
  const bad = (why: string) => inputError('bad-mapping', `Correspondance refusée : ${why}. Corrigez le fichier et recommencez.`, { why });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad("ce n'est pas un objet");
  const v = value as Record<string, unknown>;
  if (v.format !== MAPPING_FORMAT || v.version !== 1) throw bad(`le champ « format » doit valoir « ${MAPPING_FORMAT} » et « version » 1`);
  if (typeof v.name !== 'string' || v.name.trim().length === 0 || v.name.length > 100) throw bad('le nom manque ou dépasse 100 caractères');
  if (typeof v.labels !== 'object' || v.labels === null || Array.isArray(v.labels)) throw bad('« labels » doit associer un indicateur à ses libellés');
  const labels: Record<string, string[]> = {};
  for (const [id, list] of Object.entries(v.labels as Record<string, unknown>)) {
    if (!INDICATOR_IDS.includes(id)) throw bad(`indicateur inconnu « ${id.slice(0, 60)} » (connus : ${INDICATORS.map((i) => i.id).join(', ')})`);
    if (!Array.isArray(list) || list.length === 0 || list.length > 20) throw bad(`« ${id} » doit avoir de 1 à 20 libellés`);
    labels[id] = list.map((label) => {
      if (typeof label !== 'string' || normaliseLabel(label).length === 0 || label.length > 200) throw bad(`un libellé de « ${id} » est vide ou trop long`);
      return label;
    });
  }
  if (Object.keys(labels).length === 0) throw bad('aucun indicateur');
  return { name: v.name.trim(), labels };
}

export const mappingText = (m: Mapping): string => JSON.stringify({ format: MAPPING_FORMAT, version: 1, name: m.name, labels: m.labels }, null, 2);

// ---- recognising a state ----------------------------------------------------------------------

export type Cell = string | number | null;
export type Grid = Cell[][];

export interface Extracted { commune: string | null; indicator: string; value: number }
export type Recognition =
  /** `column`: when the state has one value column, its header (null: none), so that the caller
   * can compare it with the communes it knows (store.ts); absent when several columns are read. */
  | { recognised: true; mapping: string; figures: Extracted[]; column?: string | null }
  | { recognised: false; reason: string };

/** The largest count a cell may give (a number cell or text of digits): 12 digits. */
export const MAX_COUNT = 999_999_999_999;
/** Communes (value columns) of one state read without a commune named: a police circonscription's
 * state lists a few dozen at most, an agglomeration observatory's about a hundred and thirty. */
export const MAX_COMMUNES = 200;

/** A commune's name as the profile keeps it (spaces collapsed, trimmed), or null when it is none:
 * empty, over 100 characters, or with an invisible character. One rule for a name typed by a
 * person (store.ts checkCommune) and a state's column header, which becomes such a name. */
export function communeName(text: string): string | null {
  const name = text.trim().replace(/\s+/g, ' ');
  return name && name.length <= 100 && visibleOnly(name) ? name : null;
}
/** Why a state is not read when a column header is no commune's name (communeName). */
export const UNREADABLE_COMMUNE = 'en-tête de commune illisible (caractères invisibles ou plus de 100 caractères)';

const IGNORED_HEADERS = new Set(['total', 'totaux', 'evolution', 'variation', '%', 'ecart', 'rappel']);

/** A whole count from a cell: a number, or text such as "1 234" (spaces, no-break and thin spaces
 * between thousands), at most MAX_COUNT. Null for an empty cell; undefined for anything else. */
export function countOf(cell: Cell): number | null | undefined {
  if (cell === null) return null;
  if (typeof cell === 'number') return Number.isInteger(cell) && cell >= 0 && cell <= MAX_COUNT ? cell : undefined;
  const text = cell.replace(/[\s\u00a0\u202f]/g, '');
  if (text === '') return null;
  if (!/^\d{1,12}$/.test(text)) return undefined;
  return Number(text);
}

/** The indicator a cell names, under one mapping (the longest matching label wins). */
function matcher(mapping: Mapping): (cell: Cell) => string | null {
  const entries = Object.entries(mapping.labels)
    .flatMap(([id, labels]) => labels.map((l) => ({ id, label: normaliseLabel(l) })))
    .sort((a, b) => b.label.length - a.label.length);
  return (cell) => {
    if (typeof cell !== 'string' || cell.length > 300) return null;
    const text = normaliseLabel(cell);
    // The label whole, or the label followed by words (" (y compris tentatives)"), never a part of a word.
    const hit = entries.find((e) => text === e.label || text.startsWith(`${e.label} `));
    return hit ? hit.id : null;
  };
}

const transpose = (grid: Grid): Grid => {
  const width = Math.max(0, ...grid.map((r) => r.length));
  return Array.from({ length: width }, (_, c) => grid.map((r) => r[c] ?? null));
};

/** Labels down one column, values in the columns to their right (the transposed layout is tried
 * by `recognise`). `commune`: the column to keep when the state has several. */
function readRows(grid: Grid, mapping: Mapping, commune: string | null): Recognition | null {
  const match = matcher(mapping);
  // The column holding the most distinct indicators is the label column.
  const byColumn = new Map<number, Map<string, number[]>>();
  grid.forEach((row, r) => row.forEach((cell, c) => {
    const id = match(cell);
    if (!id) return;
    const found = byColumn.get(c) ?? new Map<string, number[]>();
    found.set(id, [...(found.get(id) ?? []), r]);
    byColumn.set(c, found);
  }));
  let labelColumn = -1;
  let best = 0;
  for (const [c, found] of byColumn) if (found.size > best) [labelColumn, best] = [c, found.size];
  const needed = Math.min(2, Object.keys(mapping.labels).length);
  if (best < needed) return null;
  const found = byColumn.get(labelColumn)!;
  for (const [id, rows] of found) if (rows.length > 1) return { recognised: false, reason: `l'indicateur « ${id} » figure sur plusieurs lignes` };
  const labelRows = [...found.values()].map((rows) => rows[0]!).sort((a, b) => a - b);
  const firstRow = labelRows[0]!;
  // Value columns: right of the labels, holding a number on at least one label row.
  const width = grid.reduce((w, r) => Math.max(w, r?.length ?? 0), 0);
  const columns: { c: number; header: string | null }[] = [];
  for (let c = labelColumn + 1; c < width; c++) {
    if (!labelRows.some((r) => typeof countOf(grid[r]?.[c] ?? null) === 'number')) continue;
    let header: string | null = null;
    for (let r = firstRow - 1; r >= 0; r--) {
      const cell = grid[r]?.[c] ?? null;
      if (typeof cell === 'string' && cell.trim() !== '') {
        header = cell.trim();
        break;
      }
    }
    if (header !== null && IGNORED_HEADERS.has(normaliseLabel(header))) continue;
    columns.push({ c, header });
  }
  if (columns.length === 0) return { recognised: false, reason: 'aucune valeur en face des libellés' };
  let chosen = columns;
  if (commune !== null && columns.length > 1) {
    chosen = columns.filter((col) => col.header !== null && normaliseLabel(col.header) === normaliseLabel(commune));
    if (chosen.length === 0) return { recognised: false, reason: `aucune colonne pour la commune « ${commune} »` };
    // Two columns of the same commune: which one is right cannot be told, so none is kept.
    if (chosen.length > 1) return { recognised: false, reason: `plusieurs colonnes pour la commune « ${commune} »` };
  } else if (columns.length > 1) {
    if (columns.some((col) => col.header === null)) return { recognised: false, reason: 'plusieurs colonnes de valeurs sans en-tête de commune' };
    if (columns.length > MAX_COMMUNES) return { recognised: false, reason: `plus de ${MAX_COMMUNES} communes dans l’état` };
    const seen = new Set<string>();
    for (const col of columns) {
      const header = communeName(col.header!);
      if (header === null) return { recognised: false, reason: UNREADABLE_COMMUNE };
      const key = normaliseLabel(header);
      if (seen.has(key)) return { recognised: false, reason: `plusieurs colonnes pour la commune « ${header} »` };
      seen.add(key);
    }
  }
  const figures: Extracted[] = [];
  for (const col of chosen) {
    const name = commune ?? (columns.length > 1 ? col.header : null);
    for (const [id, rows] of found) {
      const value = countOf(grid[rows[0]!]?.[col.c] ?? null);
      if (value === undefined) return { recognised: false, reason: `la valeur de « ${id} » n'est pas un nombre entier positif` };
      if (value === null) continue;
      figures.push({ commune: name, indicator: id, value });
    }
  }
  if (figures.length === 0) return { recognised: false, reason: 'aucune valeur en face des libellés' };
  return { recognised: true, mapping: mapping.name, figures, ...(columns.length === 1 ? { column: columns[0]!.header } : {}) };
}

/** What the mapping editor offers (docs/indicators.md 3.1): the texts of a state as read, a row
 * label when a count stands to its right in its row, a column label when a count stands below it
 * in its column. Distinct (compared as labels are), in reading order, at most 200 of each, none
 * longer than a mapping's label may be. Cells only: a workbook's formula was never evaluated
 * (sheet.ts gives its cached value). */
export function labelsOf(grids: Grid[]): { rows: string[]; columns: string[] } {
  const rows: string[] = [];
  const columns: string[] = [];
  const seen = { rows: new Set<string>(), columns: new Set<string>() };
  const isCount = (cell: Cell | undefined) => typeof countOf(cell ?? null) === 'number';
  const add = (list: string[], keys: Set<string>, text: string) => {
    if (list.length >= 200) return;
    const key = normaliseLabel(text);
    if (!key || keys.has(key)) return;
    keys.add(key);
    list.push(text.trim().replace(/\s+/g, ' '));
  };
  for (const grid of grids) {
    // Per row, the last column holding a count; per column, the last row holding one: one pass,
    // then each cell is compared with them (a label has a count after it).
    const lastInRow: number[] = [];
    const lastInColumn: number[] = [];
    grid.forEach((row, r) => {
      lastInRow[r] = -1;
      (row ?? []).forEach((cell, c) => {
        if (!isCount(cell)) return;
        lastInRow[r] = c;
        lastInColumn[c] = r;
      });
    });
    grid.forEach((row, r) => (row ?? []).forEach((cell, c) => {
      if (typeof cell !== 'string' || cell.trim().length === 0 || cell.length > 200 || countOf(cell) !== undefined) return;
      if (lastInRow[r]! > c) add(rows, seen.rows, cell);
      if ((lastInColumn[c] ?? -1) > r) add(columns, seen.columns, cell);
    }));
  }
  return { rows, columns };
}

/** A sheet's name as a reason quotes it: short, its hidden characters shown as <U+XXXX>. */
const sheetName = (name: string): string => `« ${forTerminal(Array.from(name).slice(0, 40).join(''))} »`;

/**
 * Reads a state's grids (its visible sheets; `names`, their names) under the mappings (the
 * person's first, then the ready-made ones): on each sheet and layout, the mapping that recognises
 * the most indicators; over the sheets and layouts, the reading that recognises the most wins. Two
 * readings that give different figures for the same commune and indicator (another sheet, the
 * other layout) make the state "non reconnu": which one is the state cannot be told. Never throws
 * on the grid's content.
 */
export function recognise(grids: Grid[], mappings: readonly Mapping[], commune: string | null, names: readonly (string | null)[] = []): Recognition {
  const readings: { sheet: string | null; result: Extract<Recognition, { recognised: true }>; count: number }[] = [];
  let firstFailure: Recognition | null = null;
  grids.forEach((grid, g) => {
    for (const layout of [grid, transpose(grid)]) {
      let best: (typeof readings)[number] | null = null;
      for (const mapping of mappings) {
        const result = readRows(layout, mapping, commune);
        if (!result) continue;
        if (!result.recognised) {
          firstFailure ??= result;
          continue;
        }
        const count = new Set(result.figures.map((f) => f.indicator)).size;
        if (!best || count > best.count) best = { sheet: names[g] ?? null, result, count };
      }
      if (best) readings.push(best);
    }
  });
  if (readings.length === 0) return firstFailure ?? { recognised: false, reason: "aucun libellé d'indicateur reconnu (IS 101, IST ou correspondance du poste)" };
  const best = readings.reduce((a, b) => (b.count > a.count ? b : a));
  const valueOf = new Map(best.result.figures.map((f) => [`${f.commune ?? ''}\0${f.indicator}`, f.value]));
  for (const other of readings) {
    if (other === best) continue;
    const differs = other.result.figures.some((f) => {
      const value = valueOf.get(`${f.commune ?? ''}\0${f.indicator}`);
      return value !== undefined && value !== f.value;
    });
    if (!differs) continue;
    const where = best.sheet !== null && other.sheet !== null && best.sheet !== other.sheet ? ` (feuilles ${sheetName(best.sheet)} et ${sheetName(other.sheet)})` : '';
    return { recognised: false, reason: `plusieurs feuilles ou dispositions du fichier donnent des chiffres différents${where}` };
  }
  return best.result;
}
