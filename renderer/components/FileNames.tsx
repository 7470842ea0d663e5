// The files of a container in a list row, by name and size (issue 15): the same words in the inbox
// (files written by the opening) and in the outbox (files sent, kept sealed in the row). A few are
// shown, the rest folded away, so that one container of 300 files does not fill the screen.
// Names are outside text (a correspondent names their files, the profile's attacker writes rows):
// shown through forScreen, cut.
import { useTranslation } from 'react-i18next';
import { forScreen } from '../../shared/text';
import { useFormat } from './common';

/** Names shown before the rest is folded away. */
const SHOWN = 5;
/** Longest name shown (the rest is cut). */
const NAME_CHARS = 120;
const clip = (raw: string): string => { const text = forScreen(raw); return text.length > NAME_CHARS ? `${text.slice(0, NAME_CHARS)}…` : text; };

export function FileNames({ files }: { files: readonly { name: string; size: number }[] }) {
  const { t } = useTranslation();
  const format = useFormat();
  const item = (f: { name: string; size: number }, i: number) => <li key={i}><span className="file-name">{clip(f.name)}</span> <span className="muted">({format.size(f.size)})</span></li>;
  return (
    <>
      <ul className="list-files" aria-label={t('lists.fileNames.caption', { count: files.length })}>
        {files.slice(0, SHOWN).map(item)}
      </ul>
      {files.length > SHOWN && (
        <details className="more-files">
          <summary>{t('lists.fileNames.more', { count: files.length - SHOWN })}</summary>
          <ul className="list-files">{files.slice(SHOWN, 1000).map((f, i) => item(f, i + SHOWN))}</ul>
        </details>
      )}
    </>
  );
}
