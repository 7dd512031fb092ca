// Does a path exist (for state files, image dirs, and /proc/sys entries that follow the netns)?
import { access } from 'node:fs/promises';

export function pathExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
