// /_ping, /version and /info: what a docker client asks first, and what settles the API version.
import { arch, cpus, hostname, release, totalmem } from 'node:os';
import { packageVersion } from '../base/install-paths.js';
import type { Runtime } from '../runtime/runtime.js';

/** The Engine API version minictr speaks: docker 20.10's. Newer clients negotiate down to it. */
export const API_VERSION = '1.41';
export const MIN_API_VERSION = '1.24';

const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm' };

export function pingHeaders(): Record<string, string> {
  return { 'API-Version': API_VERSION, 'Docker-Experimental': 'false', OSType: 'linux', 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache', Server: `minictr/${packageVersion()}` };
}

export function versionDoc(): Record<string, unknown> {
  const version = packageVersion();
  return {
    Platform: { Name: 'minictr' },
    Components: [{ Name: 'Engine', Version: version, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: GO_ARCH[arch()] ?? arch() } }],
    Version: version,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: 'minictr',
    GoVersion: `node ${process.version}`,
    Os: 'linux',
    Arch: GO_ARCH[arch()] ?? arch(),
    KernelVersion: release(),
    BuildTime: '',
  };
}

export async function infoDoc(rt: Runtime): Promise<Record<string, unknown>> {
  const containers = await rt.list(true);
  const running = containers.filter((c) => c.state.status === 'running');
  const paused = running.filter((c) => c.state.paused);
  const images = await rt.images.list();
  return {
    ID: 'minictr',
    Containers: containers.length,
    ContainersRunning: running.length - paused.length,
    ContainersPaused: paused.length,
    ContainersStopped: containers.length - running.length,
    Images: images.length,
    Driver: 'overlay2',
    DriverStatus: [],
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Log: ['json-file'] },
    MemoryLimit: true,
    SwapLimit: false,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: true,
    Debug: false,
    LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs',
    KernelVersion: release(),
    OperatingSystem: 'minictr',
    OSType: 'linux',
    Architecture: arch() === 'x64' ? 'x86_64' : arch(),
    NCPU: cpus().length,
    MemTotal: totalmem(),
    DockerRootDir: rt.store.paths.root,
    Name: hostname(),
    Labels: [],
    ServerVersion: packageVersion(),
    Runtimes: { minictr: { path: 'minictr' } },
    DefaultRuntime: 'minictr',
    SecurityOptions: [],
    Warnings: [],
  };
}
