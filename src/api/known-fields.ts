// The fields Docker's Engine API defines for the bodies minictr reads, so that a misspelt or made-up
// field is refused with a 400 that names it, instead of being silently ignored (dockerd's Go decoder
// ignores it; a user then wonders why the setting had no effect). The lists are the whole of
// Docker's schema up to API 1.47, not only what minictr carries out, so every real client passes.
import { ApiError } from './http.js';

const CONTAINER_CONFIG = [
  'Hostname', 'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'ExposedPorts', 'Tty',
  'OpenStdin', 'StdinOnce', 'Env', 'Cmd', 'Healthcheck', 'ArgsEscaped', 'Image', 'Volumes', 'WorkingDir',
  'Entrypoint', 'NetworkDisabled', 'MacAddress', 'OnBuild', 'Labels', 'StopSignal', 'StopTimeout', 'Shell',
];

const RESOURCES = [
  'CpuShares', 'Memory', 'NanoCpus', 'CgroupParent', 'BlkioWeight', 'BlkioWeightDevice', 'BlkioDeviceReadBps',
  'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps', 'CpuPeriod', 'CpuQuota', 'CpuRealtimePeriod',
  'CpuRealtimeRuntime', 'CpusetCpus', 'CpusetMems', 'Devices', 'DeviceCgroupRules', 'DeviceRequests', 'KernelMemory',
  'KernelMemoryTCP', 'MemoryReservation', 'MemorySwap', 'MemorySwappiness', 'OomKillDisable', 'PidsLimit', 'Ulimits',
  'CpuCount', 'CpuPercent', 'IOMaximumIOps', 'IOMaximumBandwidth',
];

const HOST_CONFIG = [
  ...RESOURCES,
  'Binds', 'ContainerIDFile', 'LogConfig', 'NetworkMode', 'PortBindings', 'RestartPolicy', 'AutoRemove', 'VolumeDriver',
  'VolumesFrom', 'ConsoleSize', 'Annotations', 'CapAdd', 'CapDrop', 'CgroupnsMode', 'Dns', 'DnsOptions', 'DnsSearch',
  'ExtraHosts', 'GroupAdd', 'IpcMode', 'Cgroup', 'Links', 'OomScoreAdj', 'PidMode', 'Privileged', 'PublishAllPorts',
  'ReadonlyRootfs', 'SecurityOpt', 'StorageOpt', 'Tmpfs', 'UTSMode', 'UsernsMode', 'ShmSize', 'Sysctls', 'Runtime',
  'Isolation', 'Mounts', 'MaskedPaths', 'ReadonlyPaths', 'Init',
];

const EXEC_CONFIG = [
  'User', 'Privileged', 'Tty', 'ConsoleSize', 'AttachStdin', 'AttachStderr', 'AttachStdout', 'Detach', 'DetachKeys',
  'Env', 'WorkingDir', 'Cmd',
];

const NETWORK_CREATE = [
  'Name', 'CheckDuplicate', 'Driver', 'Scope', 'Internal', 'Attachable', 'Ingress', 'ConfigOnly', 'ConfigFrom', 'IPAM',
  'EnableIPv4', 'EnableIPv6', 'Options', 'Labels',
];

const VOLUME_CREATE = ['Name', 'Driver', 'DriverOpts', 'Labels', 'ClusterVolumeSpec'];

function refuseUnknown(body: unknown, known: readonly string[], where: string): void {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return;
  const allowed = new Set(known);
  for (const key of Object.keys(body)) {
    if (allowed.has(key)) continue;
    const meant = known.find((k) => k.toLowerCase() === key.toLowerCase());
    throw new ApiError(400, `unknown field ${JSON.stringify(key)} in ${where}${meant ? `: did you mean ${JSON.stringify(meant)}?` : ': the Engine API has no such field'}`);
  }
}

/** POST /containers/create: the config, its HostConfig and NetworkingConfig. */
export function checkCreateFields(body: unknown): void {
  refuseUnknown(body, [...CONTAINER_CONFIG, 'HostConfig', 'NetworkingConfig'], 'the container create body');
  if (body !== null && typeof body === 'object' && 'HostConfig' in body) {
    refuseUnknown((body as { HostConfig: unknown }).HostConfig, HOST_CONFIG, 'HostConfig');
  }
}

/** POST /containers/{id}/exec. */
export function checkExecFields(body: unknown): void {
  refuseUnknown(body, EXEC_CONFIG, 'the exec create body');
}

/** POST /networks/create. */
export function checkNetworkCreateFields(body: unknown): void {
  refuseUnknown(body, NETWORK_CREATE, 'the network create body');
}

/** POST /volumes/create. */
export function checkVolumeCreateFields(body: unknown): void {
  refuseUnknown(body, VOLUME_CREATE, 'the volume create body');
}
