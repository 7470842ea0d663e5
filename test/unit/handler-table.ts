// The desktop app's IPC handler table for a unit test, with its file dialogs scripted: each
// openFile / saveFile answers the next path pushed on `opens` / `saves` (null when none is left).
import { createHandlers } from '../../electron/ipc/handlers.js';

export function scriptedTable(home: string) {
  const opens: string[] = [];
  const saves: string[] = [];
  const table = createHandlers({
    home, emitProgress: () => undefined, emitMailEvent: () => undefined,
    shell: { openFile: async () => opens.shift() ?? null, saveFile: async () => saves.shift() ?? null, chooseFolder: async () => null, showInFolder: () => undefined },
  });
  /** The answer's value, or its error thrown with its code and kind. */
  const call = async <T>(channel: string, request: unknown): Promise<T> => {
    const answer = await table.invoke(channel, request);
    if (!answer.ok) throw Object.assign(new Error(answer.error.message), answer.error);
    return answer.value as T;
  };
  return { opens, saves, table, call };
}
