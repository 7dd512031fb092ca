// Where minictr keeps what it knows: /var/lib/minictr (root) or $XDG_DATA_HOME/minictr (a normal
// user: rootless), or --root / MINICTR_ROOT.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const DEFAULT_ROOT = '/var/lib/minictr';

/** Where the state root is when none is given: root's, or the user's own (XDG base directories). */
export function defaultRoot(uid: number, env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  if (uid === 0) return DEFAULT_ROOT;
  const data = env['XDG_DATA_HOME'];
  return join(data && data.startsWith('/') ? data : join(home, '.local', 'share'), 'minictr');
}

/**
 * A rootless user's runtime files (helpers' sockets, pid files, the rootless network namespace):
 * $XDG_RUNTIME_DIR/minictr, or a private directory under /tmp when that is unset.
 */
export function rootlessRuntimeDir(uid: number, env: NodeJS.ProcessEnv = process.env): string {
  const run = env['XDG_RUNTIME_DIR'];
  return run && run.startsWith('/') ? join(run, 'minictr') : `/tmp/minictr-run-${uid}`;
}

export function resolveRoot(flag?: string, uid = process.getuid?.() ?? 0): string {
  return resolve(flag ?? process.env['MINICTR_ROOT'] ?? defaultRoot(uid));
}

export class Paths {
  constructor(readonly root: string) {}

  get containers(): string {
    return join(this.root, 'containers');
  }
  container(id: string): string {
    return join(this.containers, id);
  }
  containerRecord(id: string): string {
    return join(this.container(id), 'config.json');
  }
  /** Written by the monitor when the container's process ends. */
  containerExitFile(id: string): string {
    return join(this.container(id), 'exit-code');
  }
  /** Written by the container's init before it becomes the command: its host pid. */
  containerPidFile(id: string): string {
    return join(this.container(id), 'pid');
  }
  /** Written by the container's init just before it becomes the command (its mounts done, its root pivoted). */
  containerExecMark(id: string): string {
    return join(this.container(id), 'exec-ready');
  }
  /**
   * Written before minictr SIGKILLs a container: util-linux unshare reports a child
   * killed by SIGKILL as exit 1, so the exit status is corrected from this mark.
   */
  containerKillMark(id: string): string {
    return join(this.container(id), 'killed');
  }
  /** The container's output in Docker's json-file format (rotated files add .1, .2, …). */
  containerLog(id: string): string {
    return join(this.container(id), `${id}-json.log`);
  }
  /** The unix socket of the container's console, served by its shim while it runs. */
  containerConsole(id: string): string {
    return join(this.container(id), 'console.sock');
  }
  /** What the monitor and the shim themselves say (not the container's output). */
  containerMonitorLog(id: string): string {
    return join(this.container(id), 'monitor.log');
  }
  containerRootfs(id: string): { upper: string; work: string; merged: string } {
    const dir = this.container(id);
    return { upper: join(dir, 'upper'), work: join(dir, 'work'), merged: join(dir, 'merged') };
  }

  /** Settings written by hand (the default firewall driver). */
  get config(): string {
    return join(this.root, 'config.json');
  }

  get networks(): string {
    return join(this.root, 'networks');
  }
  networkRecord(name: string): string {
    return join(this.networks, `${name}.json`);
  }

  /**
   * What starts need of every container without reading every record (state/container-index.ts):
   * its version, a file of members per network, a file per container name.
   */
  get index(): string {
    return join(this.root, 'index');
  }
  get indexVersion(): string {
    return join(this.index, 'version');
  }
  get indexMembers(): string {
    return join(this.index, 'networks');
  }
  indexNetwork(name: string): string {
    return join(this.indexMembers, `${name}.jsonl`);
  }
  get indexNames(): string {
    return join(this.index, 'names');
  }
  indexName(name: string): string {
    return join(this.indexNames, name);
  }

  /** The embedded DNS resolver's configuration directory: a file per network with containers, and its pid file. */
  get dns(): string {
    return join(this.root, 'dns');
  }

  get volumes(): string {
    return join(this.root, 'volumes');
  }
  volume(name: string): string {
    return join(this.volumes, name);
  }
  volumeRecord(name: string): string {
    return join(this.volume(name), 'volume.json');
  }
  /** The data a volume holds, as Docker's local driver keeps it. */
  volumeData(name: string): string {
    return join(this.volume(name), '_data');
  }

  get images(): string {
    return join(this.root, 'images');
  }
  get imageIndex(): string {
    return join(this.images, 'index.json');
  }
  imageDir(id: string): string {
    return join(this.images, 'store', id);
  }
  imageRootfs(id: string): string {
    return join(this.imageDir(id), 'rootfs');
  }
  /** Scratch space for images being built or imported; renamed into store/ when complete. */
  get imageTmp(): string {
    return join(this.images, 'tmp');
  }

  /** The device nodes and links every container's /dev starts with (runtime/dev-template.ts). */
  get devTemplate(): string {
    return join(this.root, 'dev');
  }

  get locks(): string {
    return join(this.root, 'locks');
  }
  lock(name: string): string {
    return join(this.locks, name);
  }
}
