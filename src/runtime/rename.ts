// `rename OLD NEW`: Docker's checks (both names given, a valid new one, not the same, not taken),
// made under the `containers` lock as create's, then the peers on its user-defined network told
// (their /etc/hosts), so they find the container by its new name and no longer by the old.
import { MinictrError } from '../base/errors.js';
import type { ContainerRecord } from '../base/records.js';
import { recordLock } from './attach.js';
import { syncNames } from './containers.js';
import type { RuntimeContext } from './context.js';
import { find } from './lifecycle.js';
import { validateName } from './options.js';

/** The checks of a rename against the names in use (pure): throws Docker's error, else returns the bare new name. */
export function checkRename(record: ContainerRecord, newName: string, all: readonly ContainerRecord[]): string {
  const bare = newName.replace(/^\//, '');
  if (bare === '') throw new MinictrError('E_BAD_NAME', 'Neither old nor new names may be empty', { exitCode: 1 });
  try {
    validateName(newName);
  } catch (err) {
    throw err instanceof MinictrError ? new MinictrError(err.code, err.message, { exitCode: 1 }) : err;
  }
  if (bare === record.name) {
    throw new MinictrError('E_SAME_NAME', 'Renaming a container with the same name as its current name', { exitCode: 1 });
  }
  const holder = all.find((c) => c.name === bare && c.id !== record.id);
  if (holder) {
    throw new MinictrError(
      'E_NAME_IN_USE',
      `the container name "/${bare}" is already in use by container "${holder.id}"; remove it or choose another name`,
      { exitCode: 1 },
    );
  }
  return bare;
}

export async function rename(ctx: RuntimeContext, ref: string, newName: string): Promise<ContainerRecord> {
  if (ref === '') throw new MinictrError('E_BAD_NAME', 'Neither old nor new names may be empty', { exitCode: 1 });
  const { store } = ctx;
  const found = await find(ctx, ref);
  const renamed = await store.lock('containers', async () => {
    const all = await store.listContainers();
    const current = all.find((c) => c.id === found.id);
    if (!current) throw new MinictrError('E_NO_SUCH_CONTAINER', `no such container: ${ref}`, { exitCode: 1 });
    const name = checkRename(current, newName, all);
    return store.lock(recordLock(found.id), async () => {
      const record = await store.loadContainer(found.id);
      if (!record) throw new MinictrError('E_NO_SUCH_CONTAINER', `no such container: ${ref}`, { exitCode: 1 });
      record.name = name;
      await store.saveContainer(record);
      return record;
    });
  });
  if (renamed.network) await syncNames(ctx, renamed.network.network);
  return renamed;
}
