// The app's one polite live region (RGAA 7.5), always in the page (App renders it, outside the
// screens). A status region created already holding its text is mostly not read by screen readers,
// and a new screen moves the focus to its h1 at the same moment: a message that comes with a new
// screen (the send's confirmation, why the session was locked, « une opération est en cours ») is
// put in here instead, a moment after the screen has mounted, so that it is read after the title.
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';

/** After the screen's mount and its h1's focus; also long enough for the emptied region to be seen empty. */
const DELAY_MS = 150;
/** Emptied afterwards: a message read long ago is not found again at the end of the page. */
const KEPT_MS = 20_000;

const AnnounceContext = createContext<(text: string) => void>(() => undefined);

/** Provides `useAnnounce` to its children and renders the live region after them. */
export function Announcer({ children }: { children: ReactNode }) {
  const [text, setText] = useState('');
  const timers = useRef<number[]>([]);
  const announce = useCallback((message: string) => {
    timers.current.forEach((timer) => window.clearTimeout(timer));
    // Emptied first: the same sentence twice is a change, read twice.
    setText('');
    timers.current = [
      window.setTimeout(() => setText(message), DELAY_MS),
      window.setTimeout(() => setText(''), DELAY_MS + KEPT_MS),
    ];
  }, []);
  useEffect(() => () => timers.current.forEach((timer) => window.clearTimeout(timer)), []);
  return (
    <AnnounceContext.Provider value={announce}>
      {children}
      <div className="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="announcer">{text}</div>
    </AnnounceContext.Provider>
  );
}

/** Says a sentence through the app's live region (polite: after what the screen reader is reading). */
export const useAnnounce = (): ((text: string) => void) => useContext(AnnounceContext);

/** Says `text` once the calling screen has mounted and it has been on screen `after` ms (nothing if
 * it is gone before), and again whenever it becomes another sentence. */
export function useAnnounced(text: string | null | undefined, after = 0): void {
  const announce = useAnnounce();
  useEffect(() => {
    if (!text) return undefined;
    const timer = window.setTimeout(() => announce(text), after);
    return () => window.clearTimeout(timer);
  }, [text, after, announce]);
}

/** useAnnounced as an element, for a sentence rendered in JSX. */
export function Announce({ text, after = 0 }: { text: string; after?: number }) {
  useAnnounced(text, after);
  return null;
}
