// A test file's scratch profiles: a folder of its own (in /dev/shm where there is one, as the
// other tests' scratch folders), every profile opened there closed and the folder deleted after
// the file's tests.
import { afterAll } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initProfile, type Profile } from '../../electron/core/profile/profile.js';
import { closeProfiles } from './helpers.js';

export function scratchProfiles(prefix: string): { root: string; profile(name?: string): Profile; track(opened: Profile): Profile } {
  const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), prefix));
  const opened: Profile[] = [];
  afterAll(() => closeProfiles(opened, root));
  return {
    root,
    /** A new profile, `<root>/<name>` (by default the next `profile-N`). */
    profile(name = `profile-${opened.length}`): Profile {
      const { profile } = initProfile(path.join(root, name));
      opened.push(profile);
      return profile;
    },
    /** A profile the test opened itself, closed with the others. */
    track(profile: Profile): Profile {
      opened.push(profile);
      return profile;
    },
  };
}
