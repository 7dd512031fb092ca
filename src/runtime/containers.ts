// Creating a container: from what the user asked (image, command, flags) to a checked record
// and a writable root. Nothing here starts a process; see ./lifecycle.ts.
import { parseLogConfig } from './log-config.js';
import type { RestartPolicy } from '../base/restart-policy.js';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { cp, mkdir, readFile } from 'node:fs/promises';
import { EXIT_RUNTIME_FAILURE, MinictrError } from '../base/errors.js';
import { NULL_TIME, type ContainerConfig, type ContainerRecord, type HostConfig, type MountPoint, type Resources } from '../base/records.js';
import { ImageStore, type PullPolicy } from '../image/store.js';
import { resolveUser } from '../image/user.js';
import { DEFAULT_NETWORK } from '../network/names.js';
import { overlaySupported } from '../explain/doctor.js';
import { checkpoint } from './checkpoint.js';
import type { RuntimeContext } from './context.js';
import { hostsFileOfLines, peerLine, rewriteHosts } from './files.js';
import { syncResolver, usesEmbeddedDns } from './dns.js';
import { extraHostsOf, parseAddHost } from './container-etc.js';
import { isIP } from 'node:net';
import { memberNames } from '../network/dns.js';
import { dockerInitPath, hostTools } from './host-tools.js';
import type { InitMount, InitSpec } from './init-script.js';
import { checkCommand } from './lookup.js';
import { DEFAULT_PATH, configEnv, envValue, nameCandidates, mergeEnv, newContainerId, resolveCommand, validateHostname, validateName, validateWorkdir } from './options.js';
import type { ProcessUser } from './privileges.js';
import { joinedContainer, validateNetworking } from './networks.js';
import { startTimeOf } from '../base/proc.js';
import { cgroupFor, checkedResources } from './cgroup-life.js';
import { parseMountRequests, parseVolumesFromFlag, type MountRequest } from './mount-specs.js';
import { removeVolumes, resolveMounts } from './volumes.js';
import { checkRootlessRun } from './rootless.js';
import { userNamespaceArgs } from './rootless-ids.js';
import { netReadyFifo, rootlessNetworkOf } from './rootless-net.js';
import { imageStoreOptions, refuseRootlessLimits, rootlessDefaultNetwork, rootlessRootfsMode, validateRootlessNetworking } from './rootless-run.js';

/** A container as a user asks for one (`docker run`'s flags, the Engine API's create body). */
export interface ContainerSpec {
  image: string;
  name?: string;
  /** Arguments after the image: the command, or the entrypoint's arguments. */
  command: string[];
  /** Replaces the image's entrypoint ('' clears it). */
  entrypoint?: string;
  /** `K=V` entries, in order; later ones win. */
  env: string[];
  workdir?: string;
  hostname?: string;
  user?: string;
  tty?: boolean;
  interactive?: boolean;
  /** bridge (default), none, host or a network's name. */
  network?: string;
  /** `-p` specs as given. */
  publish: string[];
  /** `-P`: every port the image exposes, on a free host port. */
  publishAll?: boolean;
  autoRemove?: boolean;
  /** `--restart`, already parsed (base/restart-policy.ts). */
  restartPolicy?: RestartPolicy;
  pull?: PullPolicy;
  /** `-v` specs as given: `/host:/ctr[:ro]`, `name:/ctr`, `/ctr` (anonymous). */
  volumes?: string[];
  /** `--mount` specs as given: `type=bind|volume|tmpfs,src=…,dst=…[,readonly]…`. */
  mounts?: string[];
  /** `--tmpfs` specs as given: `/path[:opts]`. */
  tmpfs?: string[];
  /** `--read-only`: the container's root is mounted read-only. */
  readOnly?: boolean;
  /** `--init`: a tiny init (tini) as PID 1 that reaps zombies and forwards signals. */
  init?: boolean;
  /** More names the container's network peers find it by (`--network-alias`, compose's service name). */
  networkAliases?: string[];
  /** `--log-driver` (json-file or none) and `--log-opt key=value`, as given. */
  logDriver?: string;
  logOpts?: string[];
  /** `--volumes-from` container[:ro|rw]. */
  volumesFrom?: string[];
  /** Limits, already in Docker's units (parsed by the face: cgroup/limits.ts). */
  resources?: Partial<Resources>;
  /** `-l, --label` (Docker's Config.Labels). */
  labels?: Record<string, string>;
  /** `--dns`, `--dns-search`, `--dns-option`. */
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** `--add-host NAME:IP` (or `NAME:host-gateway`). */
  extraHosts?: string[];
  /** `--ip` on a user-defined network. */
  ip?: string;
  /** `--ip6` on a user-defined network with IPv6. */
  ip6?: string;
}

/** A spec resolved against its image: what create records. */
export interface CreateRequest {
  name?: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  /** -v, --mount and --tmpfs, parsed (resolved on the host by create). */
  mountRequests?: MountRequest[];
  /** The image's VOLUME paths. */
  imageVolumes?: string[];
}

export interface CreateOptions {
  /** Where pull progress goes. */
  progress?: NodeJS.WritableStream & { isTTY?: boolean };
}

function overlayHere(): Promise<boolean> {
  return readFile('/proc/filesystems', 'utf8').then(overlaySupported, () => false);
}

/** The given lists that have entries (a record keeps no empty ones). */
function nonEmpty<K extends string>(lists: Record<K, string[] | undefined>): Partial<Record<K, string[]>> {
  return Object.fromEntries(Object.entries(lists).filter(([, v]) => Array.isArray(v) && v.length > 0)) as Partial<Record<K, string[]>>;
}

/** Resolve the image (pulling it per the spec's policy) and merge its config with the spec. */
export async function resolveSpec(ctx: RuntimeContext, spec: ContainerSpec, options: CreateOptions = {}): Promise<CreateRequest> {
  // Flags are checked before an image is pulled, as Docker's CLI does.
  const logConfig = parseLogConfig(spec.logDriver, spec.logOpts ?? []);
  const mountRequests = parseMountRequests(spec);
  for (const from of spec.volumesFrom ?? []) parseVolumesFromFlag(from);
  for (const host of spec.extraHosts ?? []) parseAddHost(host);
  for (const server of spec.dns ?? []) {
    if (isIP(server) === 0) throw new MinictrError('E_BAD_FLAG', `invalid argument "${server}" for "--dns" flag: ${server} is not an ip address`);
  }
  const resources = await checkedResources(spec.resources);
  if (ctx.rootless) refuseRootlessLimits(resources);
  const image = await new ImageStore(ctx.store, imageStoreOptions(ctx)).ensure(spec.image, spec.pull ?? 'missing', {
    out: options.progress ?? process.stderr,
  });
  const exposed = spec.publishAll ? Object.keys(image.config.ExposedPorts ?? {}) : [];
  const { entrypoint, cmd } = resolveCommand(image.config, spec.entrypoint, spec.command);
  const env = mergeEnv([DEFAULT_PATH], image.config.Env ?? [], spec.tty ? ['TERM=xterm'] : [], spec.env);
  const user = spec.user ?? image.config.User;
  const tmpfs = mountRequests.filter((m) => m.type === 'tmpfs').map((m) => [m.destination, m.options] as const);
  return {
    mountRequests,
    imageVolumes: Object.keys(image.config.Volumes ?? {}),
    ...(spec.name !== undefined ? { name: spec.name } : {}),
    config: {
      image: spec.image,
      imageId: image.id,
      cmd,
      entrypoint,
      env,
      configEnv: configEnv(spec.env, image.config.Env ?? []),
      workdir: spec.workdir ?? (image.config.WorkingDir || '/'),
      hostname: spec.hostname ?? '',
      tty: spec.tty ?? false,
      interactive: spec.interactive ?? false,
      ...(user ? { user } : {}),
      labels: { ...spec.labels },
      ...(spec.networkAliases?.length ? { networkAliases: [...spec.networkAliases] } : {}),
    },
    hostConfig: {
      networkMode: spec.network ?? (ctx.rootless ? rootlessDefaultNetwork() : 'bridge'),
      autoRemove: spec.autoRemove ?? false,
      ...(spec.restartPolicy && spec.restartPolicy.name !== 'no' ? { restartPolicy: spec.restartPolicy } : {}),
      portSpecs: [...spec.publish, ...exposed],
      ...(spec.publishAll ? { publishAllSpecs: exposed } : {}),
      binds: spec.volumes ?? [],
      tmpfs: Object.fromEntries(tmpfs),
      readonlyRootfs: spec.readOnly ?? false,
      volumesFrom: spec.volumesFrom ?? [],
      ...(spec.init ? { init: true } : {}),
      ...(spec.ip ? { ipAddress: spec.ip } : {}),
      ...(spec.ip6 ? { ip6Address: spec.ip6 } : {}),
      ...nonEmpty({ dns: spec.dns, dnsSearch: spec.dnsSearch, dnsOptions: spec.dnsOptions, extraHosts: spec.extraHosts }),
      resources,
      logConfig,
    },
  };
}

/** Check a request and build its record, without writing anything (also used by --dry-run). */
export async function prepare(ctx: RuntimeContext, request: CreateRequest): Promise<ContainerRecord> {
  const { store } = ctx;
  // Rootless: the kernel's permission and newuidmap, said before anything exists.
  if (ctx.rootless) checkRootlessRun(ctx.rootless);
  if (request.name !== undefined) validateName(request.name);
  validateWorkdir(request.config.workdir);
  if (request.config.hostname) validateHostname(request.config.hostname);
  if (ctx.rootless) await validateRootlessNetworking(store, request.hostConfig);
  else await validateNetworking(store, request.hostConfig, request.config.networkAliases ?? []);
  // --network container:X: recorded by X's id, with X's hostname (Docker shares X's files).
  const joined = joinedContainer(request.hostConfig.networkMode);
  const other = joined === undefined ? undefined : await store.findContainer(joined);
  if (other && request.config.hostname) throw new MinictrError('E_CONFLICTING_OPTIONS', 'conflicting options: hostname and the network mode');
  // A missing tini fails the create, before anything exists (start would find it missing too late).
  if (request.hostConfig.init) dockerInitPath();
  const command = [...request.config.entrypoint, ...request.config.cmd];
  if (command.length === 0) {
    throw new MinictrError('E_NO_COMMAND', 'no command specified: give one after the image name');
  }
  const imageRoot = store.paths.imageRootfs(request.config.imageId);
  checkCommand([imageRoot], command[0] ?? '', envValue(request.config.env, 'PATH') ?? '');
  // An unknown user fails here, before anything exists; HOME follows the user, as Docker's.
  const user = request.config.user ? await resolveUser(imageRoot, request.config.user) : undefined;
  const id = newContainerId();
  const hostname = other?.config.hostname || request.config.hostname || id.slice(0, 12);
  return {
    schemaVersion: 1,
    id,
    name: request.name?.replace(/^\//, '') ?? '',
    created: new Date().toISOString(),
    config: {
      ...request.config,
      hostname,
      env: mergeEnv(
        [`HOSTNAME=${hostname}`],
        request.config.env,
        envValue(request.config.env, 'HOME') === undefined ? [`HOME=${user ? user.home : '/root'}`] : [],
      ),
    },
    hostConfig: other ? { ...request.hostConfig, networkMode: `container:${other.id}` } : request.hostConfig,
    state: {
      status: 'created', pid: 0, pidStartTime: 0, monitorPid: 0, exitCode: 0,
      startedAt: NULL_TIME, finishedAt: NULL_TIME, error: '',
    },
    ...(ctx.rootless ? await rootlessRootfsMode() : { rootfsMode: (await overlayHere()) ? 'overlay' : 'copy' }),
    // Rootless: no cgroup is delegated to the user, so none is made (limits were refused above).
    ...(ctx.rootless ? {} : { cgroup: await cgroupFor(id) }),
  };
}

/** --volumes-from: the named containers, each with its :ro/:rw override. */
async function volumesFromOf(ctx: RuntimeContext, specs: string[]): Promise<{ record: ContainerRecord; readOnly?: boolean }[]> {
  return Promise.all(specs.map(async (text) => {
    const { ref, readOnly } = parseVolumesFromFlag(text);
    try {
      return { record: await ctx.store.findContainer(ref), readOnly };
    } catch (err) {
      // The daemon's error, so 125 as for every failed create (Docker's "No such container").
      if (err instanceof MinictrError) throw new MinictrError(err.code, err.message, { exitCode: EXIT_RUNTIME_FAILURE });
      throw err;
    }
  }));
}

/** A generated name no container has (Docker's adjective_surname). */
async function freeName(ctx: RuntimeContext): Promise<string> {
  for (const name of nameCandidates()) if (!(await ctx.store.containerNamed(name))) return name;
  throw new MinictrError('E_INTERNAL', 'no free container name was found');
}

/** Record the container (a free name, under the lock) and make its writable root. */
export async function create(ctx: RuntimeContext, request: CreateRequest): Promise<ContainerRecord> {
  const { store } = ctx;
  const record = await prepare(ctx, request);
  const { id, rootfsMode: mode } = record;
  const imageRoot = store.paths.imageRootfs(record.config.imageId);
  const from = await volumesFromOf(ctx, request.hostConfig.volumesFrom ?? []);
  let created: string[] = [];
  const undoVolumes = (): Promise<void> => removeVolumes(ctx, created).catch(() => undefined);
  await store.lock('containers', async () => {
    const holder = record.name ? await store.containerNamed(record.name) : undefined;
    if (holder) {
      throw new MinictrError(
        'E_NAME_IN_USE',
        `the container name "/${record.name}" is already in use by container "${holder.id}"; remove it or choose another name`,
      );
    }
    record.name ||= await freeName(ctx);
    // Under the containers lock: no `volume rm` can take a volume between here and the saved
    // record that makes it "in use". A refused bind source fails before any record exists.
    const resolved = await resolveMounts(ctx, request.mountRequests ?? [], request.imageVolumes ?? [], from);
    record.mounts = resolved.mounts;
    created = resolved.created;
    try {
      await store.saveContainer(record);
    } catch (err) {
      await undoVolumes();
      throw err;
    }
  });
  await checkpoint(store.paths.root, 'created');
  try {
    const fs = store.paths.containerRootfs(id);
    if (mode === 'overlay') {
      await Promise.all([mkdir(fs.upper, { recursive: true }), mkdir(fs.work, { recursive: true }), mkdir(fs.merged, { recursive: true })]);
    } else {
      await cp(imageRoot, fs.merged, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    }
  } catch (err) {
    await store.lock('containers', () => store.removeContainer(id));
    await undoVolumes();
    throw err;
  }
  return record;
}

/**
 * On a user-defined network every container finds the others by name: through Docker's
 * embedded DNS (runtime/dns.ts), or, where dist/minictr-dns was not built, through /etc/hosts
 * lines (the default bridge has neither, as in Docker). A start waits until the resolver
 * answers with the new names.
 */
export async function syncNames(ctx: RuntimeContext, network: string): Promise<void> {
  if (network === DEFAULT_NETWORK.name) return;
  if (usesEmbeddedDns(network)) return syncResolver(ctx, network);
  const members = (await ctx.store.listContainers()).filter((r) => r.network?.network === network);
  // Each member's line is rendered once: a network of N members costs N lines, not N² (N files still).
  const lines = members.map((o) => peerLine({ ip: o.network?.ip ?? '', names: memberNames({ id: o.id, name: o.name, hostname: o.config.hostname, aliases: o.config.networkAliases ?? [] }) }));
  await Promise.all(
    members.map((r, i) => {
      const peers = [...lines.slice(0, i), ...lines.slice(i + 1)];
      const extra = extraHostsOf(r.hostConfig.extraHosts ?? [], r.network?.gateway ?? '').map(peerLine);
      return rewriteHosts(ctx.store.paths.container(r.id), hostsFileOfLines(r.config.hostname, r.network?.ip, [...extra, ...peers])).catch(() => undefined);
    }),
  );
}

/** A mount of the record as stage 2 makes it; a bind of a file is made over a file. */
function initMount(m: MountPoint): InitMount {
  let file = false;
  if (m.type === 'bind') {
    try {
      file = !statSync(m.source).isDirectory();
    } catch {
      // Gone since create: the mount fails in stage 2, as Docker's start does.
    }
  }
  return {
    kind: m.type === 'tmpfs' ? 'tmpfs' : 'bind',
    source: m.source,
    destination: m.destination,
    readOnly: m.readOnly,
    propagation: m.propagation,
    options: m.options,
    file,
    copyUp: m.copyUp === true,
  };
}

/** Where --init's tini is found inside the container, as Docker's. */
export const DOCKER_INIT = '/sbin/docker-init';

/** The bind of the host's static tini over /sbin/docker-init (made first: a user's mount may cover /sbin). */
function dockerInitMount(source: string): InitMount {
  return {
    kind: 'bind', source, destination: DOCKER_INIT, readOnly: true, propagation: '', options: '', file: true, copyUp: false,
  };
}

/** Everything the container's init needs to know, from its record (also used by --dry-run). */
export async function initSpec(
  ctx: RuntimeContext,
  record: ContainerRecord,
  netns: string | undefined,
  cgroupJoin: string[] = [],
  joinUserns?: number | string,
): Promise<InitSpec> {
  const paths = ctx.store.paths;
  const fs = paths.containerRootfs(record.id);
  const mode = record.hostConfig.networkMode;
  const command = [...record.config.entrypoint, ...record.config.cmd];
  const mounts = (record.mounts ?? []).map(initMount);
  if (record.hostConfig.init) {
    // As Docker: the static tini bind-mounted read-only at /sbin/docker-init, run as `docker-init -- CMD`.
    mounts.unshift(dockerInitMount(dockerInitPath()));
    command.unshift(DOCKER_INIT, '--');
  }
  return {
    dir: paths.container(record.id),
    pidFile: paths.containerPidFile(record.id),
    execMark: paths.containerExecMark(record.id),
    merged: fs.merged,
    ...(record.rootfsMode === 'overlay'
      ? { overlay: { lower: paths.imageRootfs(record.config.imageId), upper: fs.upper, work: fs.work, ...(record.overlayDriver === 'fuse-overlayfs' ? { fuse: true } : {}) } }
      : {}),
    ...(netns ? { netns } : {}),
    ...(await joinedNetns(ctx, mode)),
    networkMode: mode === 'host' ? 'host' : mode === 'none' ? 'none' : rootlessNetworkOf(ctx, record) ? 'private' : 'netns',
    ...(rootlessNetworkOf(ctx, record) ? { netReady: netReadyFifo(ctx, record.id) } : {}),
    ...(joinUserns ? { joinUserns } : {}),
    hostname: record.config.hostname,
    workdir: record.config.workdir,
    env: record.config.env,
    command,
    ...hostTools(),
    devTemplate: paths.devTemplate,
    ...(record.config.user ? { user: await processUser(ctx, record) } : {}),
    oldroot: `dev/.minictr-oldroot-${randomBytes(8).toString('hex')}`,
    mounts,
    readonlyRoot: record.hostConfig.readonlyRootfs === true,
    cgroupJoin,
    tty: record.config.tty,
    // On a rootless bridge network the container joins the rootless namespace's user namespace instead of making one.
    ...(ctx.rootless ? { userns: joinUserns ? [] : userNamespaceArgs(ctx.rootless) } : {}),
  };
}

/** --network container:X: X's network namespace, through its running process (Docker's refusal when X does not run). */
async function joinedNetns(ctx: RuntimeContext, mode: string): Promise<{ netnsPath?: string }> {
  const ref = joinedContainer(mode);
  if (ref === undefined) return {};
  const other = await ctx.store.loadContainer(ref);
  if (!other || other.state.status !== 'running' || startTimeOf(other.state.pid) === 0) {
    throw new MinictrError('E_NOT_RUNNING', `cannot join network of a non running container: ${other?.name ?? ref}`);
  }
  return { netnsPath: `/proc/${other.state.pid}/ns/net` };
}

/** The container's --user (or image User), resolved against its own /etc/passwd and /etc/group. */
export async function processUser(ctx: RuntimeContext, record: ContainerRecord): Promise<ProcessUser | undefined> {
  if (!record.config.user) return undefined;
  return resolveUser(ctx.store.paths.imageRootfs(record.config.imageId), record.config.user);
}
