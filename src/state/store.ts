// The one home of container, network and volume records. Nothing else reads or writes them.
import { chmodSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { MinictrError } from '../base/errors.js';
import { readJson, readJsonSync, writeJsonAtomic } from './files.js';
import { withLock, type LockName } from './lock.js';
import { Paths } from './paths.js';
import type { ContainerRecord, NetworkRecord, VolumeRecord } from '../base/records.js';
import { byCodeUnits } from '../base/compare.js';

const ID_PATTERN = /^[0-9a-f]{64}$/;
export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export class Store {
  readonly paths: Paths;

  constructor(root: string) {
    this.paths = new Paths(root);
  }

  lock<T>(name: LockName, fn: () => Promise<T>): Promise<T> {
    return withLock(this.paths, name, fn);
  }

  // ---- containers ----

  async listContainers(): Promise<ContainerRecord[]> {
    let ids: string[];
    try {
      ids = readdirSync(this.paths.containers);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const records = ids
      .filter((id) => ID_PATTERN.test(id))
      .map((id) => readJsonSync<ContainerRecord>(this.paths.containerRecord(id)));
    return records
      .filter((r): r is ContainerRecord => r !== undefined)
      .sort((a, b) => byCodeUnits(b.created, a.created));
  }

  loadContainer(id: string): Promise<ContainerRecord | undefined> {
    if (!ID_PATTERN.test(id)) return Promise.resolve(undefined);
    return readJson<ContainerRecord>(this.paths.containerRecord(id));
  }

  saveContainer(record: ContainerRecord): Promise<void> {
    return writeJsonAtomic(this.paths.containerRecord(record.id), record);
  }

  /** Remove the container's filesystem (overlay layers or copy), keeping its record. */
  async removeContainerRootfs(id: string): Promise<void> {
    if (!ID_PATTERN.test(id)) throw new MinictrError('E_INTERNAL', `bad container id ${id}`);
    const fs = this.paths.containerRootfs(id);
    await Promise.all([fs.upper, fs.work, fs.merged].map((dir) => rm(dir, { recursive: true, force: true })));
  }

  /** Forget the container: its record goes, at once; its directory is left for removeContainer. */
  forgetContainer(id: string): void {
    if (!ID_PATTERN.test(id)) throw new MinictrError('E_INTERNAL', `bad container id ${id}`);
    rmSync(this.paths.containerRecord(id), { force: true });
  }

  /** Remove the record and everything in the container's directory (small files by then: the rootfs goes first). */
  async removeContainer(id: string): Promise<void> {
    if (!ID_PATTERN.test(id)) throw new MinictrError('E_INTERNAL', `bad container id ${id}`);
    rmSync(this.paths.container(id), { recursive: true, force: true });
  }

  /** Find by full id, unique id prefix, or name (Docker's order). */
  async findContainer(ref: string): Promise<ContainerRecord> {
    // A full id wins over names and prefixes, so it is looked up alone (no listing of every record).
    const exact = await this.loadContainer(ref);
    if (exact) return exact;
    const all = await this.listContainers();
    const byName = all.find((c) => c.name === ref || `/${c.name}` === ref);
    if (byName) return byName;
    const byPrefix = /^[0-9a-f]+$/.test(ref) ? all.filter((c) => c.id.startsWith(ref)) : [];
    if (byPrefix.length === 1 && byPrefix[0]) return byPrefix[0];
    if (byPrefix.length > 1) {
      throw new MinictrError('E_AMBIGUOUS', `multiple containers match "${ref}"; give more of the id`);
    }
    throw new MinictrError('E_NO_SUCH_CONTAINER', `no such container: ${ref}`, { exitCode: 1 });
  }

  // ---- settings ----

  /** `<root>/config.json`: settings an administrator writes by hand (e.g. `{"firewall": "nftables"}`); {} when absent. */
  loadConfig(): Record<string, unknown> {
    const config = readJsonSync<unknown>(this.paths.config);
    return config !== null && typeof config === 'object' && !Array.isArray(config) ? (config as Record<string, unknown>) : {};
  }

  // ---- networks ----

  async listNetworks(): Promise<NetworkRecord[]> {
    let files: string[];
    try {
      files = readdirSync(this.paths.networks);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const records = await Promise.all(
      files.filter((f) => f.endsWith('.json')).map((f) => this.loadNetwork(f.slice(0, -'.json'.length))),
    );
    return records.filter((r): r is NetworkRecord => r !== undefined).sort((a, b) => byCodeUnits(a.name, b.name));
  }

  loadNetwork(name: string): Promise<NetworkRecord | undefined> {
    if (!NAME_PATTERN.test(name)) return Promise.resolve(undefined);
    return readJson<NetworkRecord>(this.paths.networkRecord(name));
  }

  saveNetwork(record: NetworkRecord): Promise<void> {
    return writeJsonAtomic(this.paths.networkRecord(record.name), record);
  }

  async removeNetwork(name: string): Promise<void> {
    await rm(this.paths.networkRecord(name), { force: true });
  }

  // ---- volumes ----

  async listVolumes(): Promise<VolumeRecord[]> {
    let names: string[];
    try {
      names = readdirSync(this.paths.volumes);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const records = names
      .filter((name) => NAME_PATTERN.test(name))
      .map((name) => readJsonSync<VolumeRecord>(this.paths.volumeRecord(name)));
    return records.filter((r): r is VolumeRecord => r !== undefined).sort((a, b) => byCodeUnits(a.name, b.name));
  }

  loadVolume(name: string): Promise<VolumeRecord | undefined> {
    if (!NAME_PATTERN.test(name)) return Promise.resolve(undefined);
    return readJson<VolumeRecord>(this.paths.volumeRecord(name));
  }

  /**
   * Write the record, making the data dir first (0755, as Docker's local driver), so a
   * listed volume always has its data.
   */
  async saveVolume(record: VolumeRecord): Promise<void> {
    if (!NAME_PATTERN.test(record.name)) throw new MinictrError('E_INTERNAL', `bad volume name ${record.name}`);
    const data = this.paths.volumeData(record.name);
    mkdirSync(data, { recursive: true });
    chmodSync(data, 0o755);
    await writeJsonAtomic(this.paths.volumeRecord(record.name), record);
  }

  /** The record goes first (the volume is no longer listed), then its data. */
  async removeVolume(name: string): Promise<void> {
    if (!NAME_PATTERN.test(name)) throw new MinictrError('E_INTERNAL', `bad volume name ${name}`);
    rmSync(this.paths.volumeRecord(name), { force: true });
    await rm(this.paths.volume(name), { recursive: true, force: true });
  }
}
