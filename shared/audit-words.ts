// One audit event as a sentence a person reads ("Claire Martin a ouvert le pli 3f9a 0c21 7be4… de
// Paul Durand"), and its details as short labelled values, never raw JSON, never a millisecond
// count, never a hex id longer than 12 characters. Pure: the renderer passes its i18n and its
// formatters (renderer/screens/Audit.tsx), tests pass theirs. The sentence of each action is
// `audit.sentences.<action>` in renderer/i18n (test/unit/audit-words.test.ts checks that every
// action of docs/audit.md §1.1 has one).
//
// Every value comes from the profile's database, the attacker's to write (docs/profile.md): a
// detail that is no JSON, a field of the wrong type, an unknown action or code, each gives the
// best sentence the fields allow, never a throw.

export interface AuditWording {
  exists(key: string): boolean;
  t(key: string, params?: Record<string, string | number>): string;
}

export interface AuditFormat {
  date(ms: number): string;
  time(ms: number): string;
  size(bytes: number): string;
  /** A file's or folder's own name from a path. */
  baseName(path: string): string;
  /** A long id shortened for the eye ("3f9a 0c21 7be4…"). */
  shortId(id: string): string;
}

export interface AuditEventView {
  seq: number;
  at: number;
  actor: string | null;
  actorName: string | null;
  action: string;
  object: string | null;
  outcome: 'ok' | 'refused' | 'failed';
  detail: string | null;
}

/** What the Audit screen shows of one event: a sentence, and the details folded away. */
export interface AuditLine { sentence: string; details: { label: string; value: string }[] }

const LONG_HEX = /\b[0-9a-f]{13,}\b/gi;
const TIME_FIELDS = new Set(['until', 'notAfter', 'date', 'at', 'before']);

/** The detail's fields; null when it is no JSON object (a planted or damaged row). */
function parseDetail(detail: string | null): Record<string, unknown> | null {
  if (!detail) return {};
  try {
    const value: unknown = JSON.parse(detail);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : null;
  } catch {
    return null;
  }
}

/** A name from the database that may be looked up as a key: its own form only, never Object's own names. */
const keyable = (name: string, form: RegExp): boolean => form.test(name) && !(name in Object.prototype);
const ACTION = /^[a-z]+(\.[a-z-]+)+$/;
const PERIOD = /^\d{4}(-(T[1-4]|S[12]|0[1-9]|1[0-2]))?$/;
const CONVENTION = /^conv-[0-9a-z]{16}$/;
const CODE = /^[a-z][a-z0-9-]{0,60}$/;
const FIELD = /^[a-zA-Z]{1,40}$/;

/**
 * The form of an action's sentence chosen by one of its fields (`audit.sentences.<action>_<variant>`),
 * from a closed list of values only: a planted field picks no other action's or outcome's words.
 */
function variantOf(action: string, detail: Record<string, unknown>): string | null {
  const among = (value: unknown, values: readonly string[]): string | null => (typeof value === 'string' && values.includes(value) ? value : null);
  switch (action) {
    case 'retention.destroyed': return among(detail.what, ['container', 'file']);
    case 'convention.printed': return among(detail.document, ['annex', 'register']);
    case 'receipt.received': return among(detail.type, ['delivered', 'opened', 'directory-applied']);
    case 'object.sent': return among(detail.kind, ['receipt', 'directory']);
    case 'indicators.imported': return detail.recognised === false ? 'unrecognised' : null;
    // A container sealed or opened under a convention (docs/convention.md) says which one.
    case 'container.sealed':
    case 'container.opened': return typeof detail.convention === 'string' ? 'convention' : null;
    default: return null;
  }
}

export function auditLine(w: AuditWording, f: AuditFormat, event: AuditEventView, nameOf: (id: string) => string | null): AuditLine {
  const parsed = parseDetail(event.detail);
  const detail = parsed ?? {};
  const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v.slice(0, 200) : null);
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const person = (id: unknown): string => {
    const text = str(id);
    if (!text) return w.t('audit.someone');
    return nameOf(text) ?? w.t('audit.unknownPerson', { id: f.shortId(text) });
  };
  const actor = event.actor === null ? w.t('audit.workstation') : (event.actorName ?? person(event.actor));
  const object = event.object ?? '';
  const role = str(detail.role);
  const destination = str(detail.destination);
  const reasonCode = str(detail.reason);
  const transport = str(detail.transport);
  const knownAction = keyable(event.action, ACTION);
  const conventionRef = (id: string | null): string => {
    if (id === null) return '—';
    return nameOf(id) ?? f.shortId(CONVENTION.test(id) ? id.slice(5) : id);
  };
  // An indicator (`is101.cambriolages`) by its words: `audit.indicators.is101-cambriolages`.
  const indicator = str(detail.indicator);
  const indicatorKey = indicator && /^[a-z0-9]+\.[a-z-]{1,40}$/.test(indicator) ? `audit.indicators.${indicator.replace('.', '-')}` : null;
  const params: Record<string, string | number> = {
    actor,
    // `authority`: the SSI authority's own fingerprint (fingerprint.voice-verified).
    subject: object === 'authority' ? w.t('audit.theAuthority') : object ? person(object) : w.t('audit.someone'),
    // A container's id shortened; a directory's serial (a receipt's object) as is; a convention's without "conv-".
    ref: /^\d{1,12}$/.test(object) ? object : object ? f.shortId(CONVENTION.test(object) ? object.slice(5) : object) : w.t('audit.unknownRef'),
    serial: /^\d{1,12}$/.test(object) ? object : object ? f.shortId(object) : '—',
    name: str(detail.name) ?? (object && nameOf(object)) ?? w.t('audit.someone'),
    org: str(detail.org) ?? '—',
    role: role && keyable(role, CODE) && w.exists(`cert.role.${role}`) ? w.t(`cert.role.${role}`) : '—',
    sender: detail.sender !== undefined ? person(detail.sender) : w.t('audit.someone'),
    files: num(detail.files) ?? 0,
    file: str(detail.path) ? f.baseName(str(detail.path)!) : '—',
    size: num(detail.size) !== null ? f.size(num(detail.size)!) : num(detail.bytes) !== null ? f.size(num(detail.bytes)!) : '—',
    // A mailbox as is; a folder (a USB key) by its name: for a container dropped there, the folder it is in.
    destination: destination === null ? '—' : destination.includes('@') ? destination
      : `«\u00a0${f.baseName(/\.pli$/i.test(destination) ? destination.replace(/[\\/][^\\/]*$/, '') : destination)}\u00a0»`,
    until: num(detail.until) !== null ? f.time(num(detail.until)!) : '—',
    minutes: num(detail.idleLockMinutes) ?? '—',
    firstBad: num(detail.firstBad) ?? '—',
    title: str(detail.title) ?? '—',
    version: num(detail.version) ?? '—',
    authority: str(detail.authority) ?? '—',
    // A convention by its title when the caller knows it, else its id shortened without "conv-".
    convention: conventionRef(str(detail.convention)),
    // convention.printed: the convention is the object; a register of the exchanges under none says so.
    ofConvention: object === 'sans-convention' ? w.t('audit.outsideConvention') : w.t('audit.ofConvention', { convention: conventionRef(object || null) }),
    period: str(detail.period) !== null && PERIOD.test(str(detail.period)!) ? str(detail.period)! : '—',
    commune: str(detail.commune)?.slice(0, 80) ?? '—',
    indicator: indicatorKey && w.exists(indicatorKey) ? w.t(indicatorKey) : indicator?.slice(0, 60) ?? '—',
    year: num(detail.year) ?? '—',
    format: str(detail.format) === 'pdf' ? 'PDF' : str(detail.format) === 'csv' ? 'CSV' : '—',
    signer: detail.signer !== undefined ? person(detail.signer) : w.t('audit.someone'),
    current: num(detail.current) ?? '—',
    stateFile: str(detail.file) ? f.baseName(str(detail.file)!) : '—',
    // indicators.mapping-set: the object is the mapping's name, a person's words.
    mappingName: object ? object.slice(0, 80).replace(LONG_HEX, (hex) => f.shortId(hex)) : '—',
    via: transport === 'mail' || transport === 'folder' ? w.t(`audit.via.${transport}`) : '',
  };
  const sentenceKey = `audit.sentences.${event.action}`;
  const label = knownAction && w.exists(`audit.actions.${event.action}`) ? w.t(`audit.actions.${event.action}`) : event.action.slice(0, 60);
  const special = knownAction && w.exists(`${sentenceKey}_${event.outcome}`);
  // A refusal or a failure has its own words (or the suffix below), never an ok variant's.
  const variant = knownAction && event.outcome === 'ok' ? variantOf(event.action, detail) : null;
  let sentence = special ? w.t(`${sentenceKey}_${event.outcome}`, params)
    : variant !== null && w.exists(`${sentenceKey}_${variant}`) ? w.t(`${sentenceKey}_${variant}`, params)
      : knownAction && w.exists(sentenceKey) ? w.t(sentenceKey, params)
        : w.t('audit.sentences.other', { actor, label });
  sentence = sentence.replace(/\s+$/, ''); // an empty trailing param ({{via}} unknown)
  // A refusal or a failure says so in words, with its reason when the reason has words.
  if (event.outcome !== 'ok' && !special) {
    sentence = `${sentence} — ${w.t(`audit.outcomes.${event.outcome}`)}`;
  }
  // Only for a refusal or a failure: an ok event's `reason` is a person's own words (a revocation's,
  // a correction's, a termination's), shown in the details, never read as a code.
  if (event.outcome !== 'ok' && reasonCode && keyable(reasonCode, CODE)) {
    const words = ['inbox.reasons', 'audit.reasons'].map((block) => `${block}.${reasonCode}`).find((key) => w.exists(key));
    if (words) sentence = `${sentence} (${w.t(words)})`;
  }

  // The details: each field named in words when it has a name, its value made readable.
  const details: AuditLine['details'] = [];
  const readable = (key: string, value: unknown): string => {
    if (typeof value === 'number') return TIME_FIELDS.has(key) && value > 1e11 ? f.date(value) : String(value);
    if (typeof value === 'boolean') return w.t(value ? 'audit.yes' : 'audit.no');
    if (typeof value === 'string') {
      // A path (a temporary folder's, the profile's): the file's or folder's own name.
      if (/^(\/|[A-Za-z]:[\\/]|\\\\)/.test(value)) return f.baseName(value);
      return value.slice(0, 200).replace(LONG_HEX, (hex) => f.shortId(hex));
    }
    if (Array.isArray(value)) return value.slice(0, 20).map((v) => (typeof v === 'string' && /^[0-9a-z]{16}$/.test(v) ? nameOf(v) ?? f.shortId(v) : readable(key, v))).join(', ');
    if (value === null || value === undefined) return '—';
    return w.t('audit.complex');
  };
  if (parsed === null) details.push({ label: w.t('audit.details'), value: w.t('audit.unreadable') });
  if (event.object) details.push({ label: w.t('audit.object'), value: readable('object', nameOf(object) ?? object) });
  for (const [key, value] of Object.entries(detail).slice(0, 20)) {
    const named = keyable(key, FIELD) && w.exists(`audit.fields.${key}`);
    details.push({ label: named ? w.t(`audit.fields.${key}`) : key.slice(0, 40), value: readable(key, value) });
  }
  return { sentence, details };
}
