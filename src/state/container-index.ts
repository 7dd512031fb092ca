// The container index: what a start needs of every other container, kept beside the records so
// that a start reads its network's members and one name, not every record. At 1,000 containers
// reading every record cost a start about 0.2 s, three times over (name, addresses, DNS).
//
// The records stay the truth; the index is derived from them (base/members.ts says what of a
// record it holds) and can always be rebuilt: it is built from the records when missing (a root
// made before it, or removed by hand), and `network reload` and `system prune` rebuild it. It
// changes only through the store's record writes, index first: a crash between the two leaves an
// entry the record lacks (an address held until `rm`, a reload or a prune), never a record whose
// address is free for another.
//
//   index/version              the layout's version; written last by a build
//   index/networks/<net>.jsonl that network's members, a JSON line each (starting with its id,
//                              so a change rewrites the text without parsing the others)
//   index/names/<name>         the id of the container with that name
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { allMembersOf, membersOf, membersOn, type NetworkMember } from '../base/members.js';
import type { ContainerRecord } from '../base/records.js';
import { writeTextAtomic } from './files.js';
import { withLock } from './lock.js';
import type { Paths } from './paths.js';

// 2: JSON lines of slim members (1 held whole attachments in one JSON array).
const VERSION = '2';
const MEMBERS = '.jsonl';

function splitLines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

export class ContainerIndex {
  /**
   * Members parsed in this process, by network, with the text they came from: a start reads its
   * network twice (its plan, then its resolver's names) and writes it once between; parsing
   * 1,000 lines costs a few ms, comparing the text a fraction of one.
   */
  private readonly parsed = new Map<string, { text: string; members: NetworkMember[] }>();

  constructor(private readonly paths: Paths, private readonly records: () => ContainerRecord[]) {}

  /** The members of `network`: every container attached to it, also while it attaches. */
  async members(network: string): Promise<NetworkMember[]> {
    await this.ready();
    return this.read(network);
  }

  /** The members of every network. */
  async allMembers(): Promise<NetworkMember[]> {
    await this.ready();
    return this.networks().flatMap((n) => this.read(n));
  }

  /**
   * The id the index gives `name`. The caller checks that record: a crash between an index
   * write and its record's leaves a name to nobody.
   */
  async nameHolder(name: string): Promise<string | undefined> {
    await this.ready();
    return this.holder(name);
  }

  /**
   * Write one record's change (`commit`), with the index brought in line first: `before` is the
   * record as it is on disk (undefined: a new one), `after` as it will be (undefined: it goes).
   * Both happen under the index lock, so a rebuild never reads the records between the two.
   * A change that leaves its networks and name alike touches no index file and takes no lock.
   */
  async update(id: string, before: ContainerRecord | undefined, after: ContainerRecord | undefined, commit: () => Promise<void> | void): Promise<void> {
    const was = before ? membersOf(before) : [];
    const will = after ? membersOf(after) : [];
    const networks = [...new Set([...was, ...will].map((m) => m.network))]
      .filter((n) => JSON.stringify(membersOn(was, n)) !== JSON.stringify(membersOn(will, n)));
    const renamed = before?.name !== after?.name;
    if (networks.length === 0 && !renamed && !(before === undefined && after === undefined)) return commit();
    await withLock(this.paths, 'index', async () => {
      if (!this.built()) this.build();
      // No record to say where it was: look for it in every network (a record removed by hand).
      const touched = before === undefined && after === undefined ? this.networks() : networks;
      for (const network of touched) {
        const text = this.text(network);
        const current = splitLines(text);
        const kept = current.filter((line) => !line.startsWith(`{"id":"${id}"`));
        const joining = membersOn(will, network);
        if (joining.length === 0 && kept.length === current.length) continue;
        const written = this.write(network, [...kept, ...joining.map((m) => JSON.stringify(m))]);
        const known = this.parsed.get(network);
        // What this process had parsed stays good: the same lines, less this one's, plus its new ones.
        if (known?.text === text) this.parsed.set(network, { text: written, members: [...known.members.filter((m) => m.id !== id), ...joining] });
      }
      if (renamed) {
        if (before?.name && this.holder(before.name) === id) rmSync(this.paths.indexName(before.name), { force: true });
        if (after?.name) writeTextAtomic(this.paths.indexName(after.name), `${id}\n`);
      }
      await commit();
    });
  }

  /** A network goes: its members file with it. */
  forgetNetwork(name: string): void {
    rmSync(this.paths.indexNetwork(name), { force: true });
  }

  /** Build the index again from the records (`network reload`, and whenever it is missing). */
  async rebuild(): Promise<void> {
    await withLock(this.paths, 'index', async () => this.build());
  }

  private async ready(): Promise<void> {
    if (this.built()) return;
    await withLock(this.paths, 'index', async () => {
      if (!this.built()) this.build();
    });
  }

  private built(): boolean {
    try {
      return readFileSync(this.paths.indexVersion, 'utf8').trim() === VERSION;
    } catch {
      return false;
    }
  }

  /** Under the index lock. The version goes first and comes back last, so a build cut short is done again. */
  private build(): void {
    rmSync(this.paths.indexVersion, { force: true });
    rmSync(this.paths.indexMembers, { recursive: true, force: true });
    rmSync(this.paths.indexNames, { recursive: true, force: true });
    const records = this.records();
    const members = allMembersOf(records);
    for (const network of new Set(members.map((m) => m.network))) {
      this.write(network, membersOn(members, network).map((m) => JSON.stringify(m)));
    }
    for (const r of records) if (r.name) writeTextAtomic(this.paths.indexName(r.name), `${r.id}\n`);
    writeTextAtomic(this.paths.indexVersion, `${VERSION}\n`);
  }

  private text(network: string): string {
    try {
      return readFileSync(this.paths.indexNetwork(network), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw err;
    }
  }

  /** The text written ('' when the network has no member left, and no file). */
  private write(network: string, lines: string[]): string {
    const text = lines.length === 0 ? '' : `${lines.join('\n')}\n`;
    if (text === '') rmSync(this.paths.indexNetwork(network), { force: true });
    else writeTextAtomic(this.paths.indexNetwork(network), text);
    return text;
  }

  private read(network: string): NetworkMember[] {
    const text = this.text(network);
    const known = this.parsed.get(network);
    if (known?.text === text) return [...known.members];
    const members = splitLines(text).map((line) => JSON.parse(line) as NetworkMember);
    this.parsed.set(network, { text, members });
    return members;
  }

  private networks(): string[] {
    if (!existsSync(this.paths.indexMembers)) return [];
    return readdirSync(this.paths.indexMembers).filter((f) => f.endsWith(MEMBERS)).map((f) => f.slice(0, -MEMBERS.length));
  }

  private holder(name: string): string | undefined {
    try {
      return readFileSync(this.paths.indexName(name), 'utf8').trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
}
