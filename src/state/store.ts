// The one home of container, network and volume records. Nothing else reads or writes them.
import { chmodSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { MinictrError } from '../base/errors.js';
import { readJson, readJsonSync, writeJsonAtomic } from './files.js';
import { withLock, type LockName } from './lock.js';
import { Paths } from './paths.js';
import type { ContainerRecord, NetworkRecord, VolumeRecord } from '../base/records.js';
import { byCodeUnits } from '../base/compare.js';
import { ContainerIndex } from './container-index.js';

const ID_PATTERN = /^[0-9a-f]{64}$/;
export const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export class Store {
  readonly paths: Paths;
  /** Network members and names, so a start reads neither every record nor every name. */
  readonly index: ContainerIndex;

  constructor(root: string) {
    this.paths = new Paths(root);
    this.index = new ContainerIndex(this.paths, () => this.readContainers());
  }

  lock<T>(name: LockName, fn: () => Promise<T>): Promise<T> {
    return withLock(this.paths, name, fn);
  }

  // ---- containers ----

  async listContainers(): Promise<ContainerRecord[]> {
    return this.readContainers().sort((a, b) => byCodeUnits(b.created, a.created));
  }

  private containerIds(): string[] {
    try {
      return readdirSync(this.paths.containers).filter((id) => ID_PATTERN.test(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  private readContainers(ids = this.containerIds()): ContainerRecord[] {
    return ids
      .map((id) => readJsonSync<ContainerRecord>(this.paths.containerRecord(id)))
      .filter((r): r is ContainerRecord => r !== undefined);
  }

  loadContainer(id: string): Promise<ContainerRecord | undefined> {
    if (!ID_PATTERN.test(id)) return Promise.resolve(undefined);
    return readJson<ContainerRecord>(this.paths.containerRecord(id));
  }

  /** The index first (state/container-index.ts says why), then the record. */
  async saveContainer(record: ContainerRecord): Promise<void> {
    const before = readJsonSync<ContainerRecord>(this.paths.containerRecord(record.id));
    await this.index.update(record.id, before, record, () => writeJsonAtomic(this.paths.containerRecord(record.id), record));
  }

  /** Remove the container's filesystem (overlay layers or copy), keeping its record. */
  async removeContainerRootfs(id: string): Promise<void> {
    if (!ID_PATTERN.test(id)) throw new MinictrError('E_INTERNAL', `bad container id ${id}`);
    const fs = this.paths.containerRootfs(id);
    await Promise.all([fs.upper, fs.work, fs.merged].map((dir) => rm(dir, { recursive: true, force: true })));
  }

  /** Forget the container: its record goes, at once (and its index entries); its directory is left for removeContainer. */
  async forgetContainer(id: string): Promise<void> {
    if (!ID_PATTERN.test(id)) throw new MinictrError('E_INTERNAL', `bad container id ${id}`);
    await this.index.update(id, readJsonSync<ContainerRecord>(this.paths.containerRecord(id)), undefined, () => rmSync(this.paths.containerRecord(id), { force: true }));
  }

  /** Remove the record and everything in the container's directory (small files by then: the rootfs goes first). */
  async removeContainer(id: string): Promise<void> {
    if (!ID_PATTERN.test(id)) throw new MinictrError('E_INTERNAL', `bad container id ${id}`);
    const before = readJsonSync<ContainerRecord>(this.paths.containerRecord(id));
    const remove = (): void => rmSync(this.paths.container(id), { recursive: true, force: true });
    // Already forgotten (the usual way): nothing of it is in the index.
    if (before) await this.index.update(id, before, undefined, remove);
    else remove();
  }

  /** The container named `name` (a leading / allowed), from the index: no record but its own is read. */
  async containerNamed(name: string): Promise<ContainerRecord | undefined> {
    const bare = name.startsWith('/') ? name.slice(1) : name;
    if (!NAME_PATTERN.test(bare)) return undefined;
    const id = await this.index.nameHolder(bare);
    const record = id ? await this.loadContainer(id) : undefined;
    return record?.name === bare ? record : undefined;
  }

  /** Find by full id, unique id prefix, or name (Docker's order). */
  async findContainer(ref: string): Promise<ContainerRecord> {
    // A full id wins over names and prefixes, so it is looked up alone (no listing of every record).
    const exact = await this.loadContainer(ref);
    if (exact) return exact;
    const byName = await this.containerNamed(ref);
    if (byName) return byName;
    // Only the records whose id starts so are read.
    const byPrefix = /^[0-9a-f]+$/.test(ref) ? this.readContainers(this.containerIds().filter((id) => id.startsWith(ref))) : [];
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
    this.index.forgetNetwork(name);
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
