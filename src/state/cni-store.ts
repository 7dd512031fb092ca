// What the CNI plugin keeps (src/cni): one record per attachment in its dataDir, and the
// built-in IPAM's leases in the IPAM dataDir, each directory with its own lock. Nothing else
// of minictr's state is touched: the plugin's dataDir is not a minictr --root.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { NetworkAttachment } from '../base/records.js';
import { readJsonSync, writeJsonAtomic } from './files.js';
import { withLock } from './lock.js';
import { Paths } from './paths.js';

/** One ADD the plugin made: what the runtime named it, and what it made on the host. */
export interface CniAttachmentRecord {
  schemaVersion: 1;
  /** The CNI network's name (the config's `name`). */
  network: string;
  containerId: string;
  ifname: string;
  /** Its links and rules, as the planners made them; `netnsPath` is the runtime's namespace. */
  attachment: NetworkAttachment;
  /** The IPAM plugin that gave the address: "minictr" (built in) or the delegated plugin's type. */
  ipam: string;
  /** When the ADD made it (ISO time). */
  created: string;
}

/** Who holds an address of the built-in IPAM. */
export interface CniLease {
  containerId: string;
  ifname: string;
}

/** Leases by address. */
export type CniLeases = Record<string, CniLease>;

/**
 * Take the locks of several state dirs in the order given, each dir once (the plugin's dataDir
 * and the IPAM's may be one directory), and run fn under all of them.
 */
export async function withDirLocks<T>(dirs: string[], fn: () => Promise<T>): Promise<T> {
  const unique = [...new Set(dirs)];
  const take = (i: number): Promise<T> => {
    const dir = unique[i];
    return dir === undefined ? fn() : withLock(new Paths(dir), 'network', () => take(i + 1));
  };
  return take(0);
}

function attachmentsDir(dataDir: string, network: string): string {
  return join(dataDir, 'networks', network, 'attachments');
}

/** Every attachment recorded for a CNI network. */
export function listCniAttachments(dataDir: string, network: string): CniAttachmentRecord[] {
  let names: string[];
  try {
    names = readdirSync(attachmentsDir(dataDir, network));
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.json'))
    .flatMap((n) => readJsonSync<CniAttachmentRecord>(join(attachmentsDir(dataDir, network), n)) ?? []);
}

/** The record of one attachment, by its name (NetworkAttachment.netns, `cni-<hash>`). */
export function loadCniAttachment(dataDir: string, network: string, name: string): CniAttachmentRecord | undefined {
  return readJsonSync<CniAttachmentRecord>(join(attachmentsDir(dataDir, network), `${name}.json`));
}

export function saveCniAttachment(dataDir: string, record: CniAttachmentRecord): Promise<void> {
  return writeJsonAtomic(join(attachmentsDir(dataDir, record.network), `${record.attachment.netns}.json`), record);
}

export function forgetCniAttachment(dataDir: string, network: string, name: string): void {
  rmSync(join(attachmentsDir(dataDir, network), `${name}.json`), { force: true });
}

function leasesFile(ipamDir: string, network: string): string {
  return join(ipamDir, network, 'leases.json');
}

export function loadCniLeases(ipamDir: string, network: string): CniLeases {
  return readJsonSync<CniLeases>(leasesFile(ipamDir, network)) ?? {};
}

export function saveCniLeases(ipamDir: string, network: string, leases: CniLeases): Promise<void> {
  return writeJsonAtomic(leasesFile(ipamDir, network), leases);
}
