// An image's User ("app", "1000", "app:staff", "1000:1000") resolved against the image's own
// /etc/passwd and /etc/group, as Docker resolves it when a container starts.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MinictrError } from '../base/errors.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups: every group in /etc/group that lists the user by name. */
  additionalGids: number[];
  /** From /etc/passwd; '/' when the user has no entry (Docker's default). */
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const ID = /^\d+$/;

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || !ID.test(f[2] ?? '') || !ID.test(f[3] ?? '')) continue;
    out.push({ name: f[0] ?? '', uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '' });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || !ID.test(f[2] ?? '')) continue;
    out.push({ name: f[0] ?? '', gid: Number(f[2]), members: (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean) });
  }
  return out;
}

/**
 * Resolve USER[:GROUP] against passwd and group file contents (pure). '' means root. A numeric
 * user need not exist (its gid is then 0, or the group given); a name must.
 */
export function resolveUserFrom(spec: string, passwd: string, group: string): ResolvedUser {
  if (spec === '') return { uid: 0, gid: 0, additionalGids: [], home: '/root' };
  const [userPart = '', groupPart] = spec.split(':', 2);
  const users = parsePasswd(passwd);
  const groups = parseGroup(group);
  const entry = ID.test(userPart) ? users.find((u) => u.uid === Number(userPart)) : users.find((u) => u.name === userPart);
  if (!entry && !ID.test(userPart)) {
    throw new MinictrError('E_NO_SUCH_USER', `unable to find user ${userPart}: no matching entries in passwd file`);
  }
  const uid = entry?.uid ?? Number(userPart);
  let gid = entry?.gid ?? 0;
  if (groupPart !== undefined && groupPart !== '') {
    if (ID.test(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((x) => x.name === groupPart);
      if (!g) throw new MinictrError('E_NO_SUCH_GROUP', `unable to find group ${groupPart}: no matching entries in group file`);
      gid = g.gid;
    }
  }
  const additionalGids = entry ? groups.filter((g) => g.members.includes(entry.name) && g.gid !== gid).map((g) => g.gid) : [];
  return { uid, gid, additionalGids, home: entry?.home || '/' };
}

/** Resolve an image's User against the files in its rootfs (missing files count as empty). */
export async function resolveUser(rootfs: string, spec: string): Promise<ResolvedUser> {
  const read = (name: string): Promise<string> => readFile(join(rootfs, 'etc', name), 'utf8').catch(() => '');
  return resolveUserFrom(spec, await read('passwd'), await read('group'));
}
