// Where minictr keeps what it knows: /var/lib/minictr, or --root / MINICTR_ROOT.
import { join, resolve } from 'node:path';

export const DEFAULT_ROOT = '/var/lib/minictr';

export function resolveRoot(flag?: string): string {
  return resolve(flag ?? process.env['MINICTR_ROOT'] ?? DEFAULT_ROOT);
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
