// `run --dry-run`: everything a run would do to the host, planned and changing nothing (the
// image must already be there: a dry run pulls nothing; the default busybox image is built
// from the host on first use, as for a real run).
import { allMembersOf, membersOn } from '../base/members.js';
import type { Plan } from '../base/plan.js';
import type { ContainerRecord, MountPoint } from '../base/records.js';
import type { AttachPlans } from '../network/plan.js';
import { prepare, resolveSpec, initSpec, type ContainerSpec } from './containers.js';
import type { RuntimeContext } from './context.js';
import { initCommand } from './init-script.js';
import { devTemplateProblem, planDevTemplate } from './dev-template.js';
import { planContainerAttach } from './attach.js';
import { cgroupJoinOf, planCgroup } from './cgroup-life.js';
import type { MountRequest } from './mount-specs.js';
import type { Paths } from '../state/paths.js';
import { planEtcOf } from './container-etc.js';
import { planResolverFor, usesEmbeddedDns } from './dns.js';
import { rootlessRunView } from './rootless-net.js';
import type { RootlessRunView } from '../explain/rootless.js';
import type { RelayView } from '../explain/relay.js';
import { relayedPorts } from '../network/relay-plan.js';
import { hostRelayArgv } from './port-relay.js';

export interface RunPlan {
  record: ContainerRecord;
  /** The network part (none for --network none/host). */
  network?: AttachPlans;
  /** The container's cgroup: its directories and limits. */
  cgroup?: Plan;
  /** The /dev template, when this state root has none yet. */
  devTemplate?: Plan;
  /** Directories the container's writable root needs. */
  dirs: string[];
  /** The container's /etc/hosts, hostname and resolv.conf, written into its directory. */
  etc: Plan;
  /** The network's resolver told the container's names (user-defined networks, with minictr-dns). */
  resolver?: Plan;
  /** The container's init, as the monitor would start it. */
  init: { argv: readonly string[]; env: Record<string, string> };
  /** Rootless: the user namespace's maps and the network helper's steps. */
  rootless?: RootlessRunView;
  /** The relay of ports kernel NAT cannot serve ([::1]), started after the rules. */
  relay?: RelayView;
}

/** A name for what a dry run would create: an anonymous volume has no name before it exists. */
export const NEW_ANONYMOUS_VOLUME = '<new anonymous volume>';

/**
 * The mounts create would resolve, without making anything: binds as given (create resolves
 * their symlinks on the host), volumes where the store keeps them.
 */
export function plannedMounts(paths: Paths, requests: MountRequest[], imageVolumes: string[]): MountPoint[] {
  const covered = new Set(requests.map((r) => r.destination));
  const volume = (name: string, destination: string, readOnly: boolean): MountPoint => ({
    type: 'volume', name, source: paths.volumeData(name), destination, readOnly, propagation: '', options: '', copyUp: true,
    ...(name === NEW_ANONYMOUS_VOLUME ? { anonymous: true } : {}),
  });
  return [
    ...requests.map((r): MountPoint => {
      if (r.type === 'volume') return volume(r.source || NEW_ANONYMOUS_VOLUME, r.destination, r.readOnly);
      return { type: r.type, source: r.source, destination: r.destination, readOnly: r.readOnly, propagation: r.propagation, options: r.options };
    }),
    ...imageVolumes.filter((d) => !covered.has(d)).map((d) => volume(NEW_ANONYMOUS_VOLUME, d, false)),
  ];
}

export async function planRun(ctx: RuntimeContext, spec: ContainerSpec): Promise<RunPlan> {
  const request = await resolveSpec(ctx, { ...spec, pull: 'never' });
  const record = await prepare(ctx, request);
  if (!record.name) record.name = '<generated>';
  record.mounts = plannedMounts(ctx.store.paths, request.mountRequests ?? [], request.imageVolumes ?? []);
  const records = await ctx.store.listContainers();
  // A rootless network is joined in the user's rootless namespace (rootless.bridge below), not on the host.
  const rootless = await rootlessRunView(ctx, record);
  const network = rootless?.bridge ? undefined : await planContainerAttach(ctx, record, allMembersOf(records), records);
  const resolver = network && usesEmbeddedDns(network.net.name)
    ? await planResolverFor(ctx, network.net.name, membersOn(allMembersOf([...records, { ...record, network: network.attachment }]), network.net.name))
    : undefined;
  const fs = ctx.store.paths.containerRootfs(record.id);
  const cgroup = await planCgroup(record);
  const holder = rootless?.bridge ? rootless.bridge.running?.pid ?? '$HOLDER' : undefined;
  const init = await initSpec(ctx, record, network?.attachment.netns, await cgroupJoinOf(record), holder);
  const devTemplate = devTemplateProblem(init.devTemplate, !ctx.rootless) === undefined ? undefined : planDevTemplate(init.busybox, init.devTemplate, !ctx.rootless);
  const relay = network?.relay;
  return {
    ...(rootless ? { rootless } : {}),
    ...(relay ? { relay: { argv: hostRelayArgv(), ports: relayedPorts(relay.target, relay.ports), why: relay.why } } : {}),
    record, ...(network ? { network } : {}), etc: await planEtcOf(ctx, record, network?.attachment),
    ...(resolver ? { resolver } : {}), ...(cgroup ? { cgroup } : {}), ...(devTemplate ? { devTemplate } : {}),
    dirs: [fs.upper, fs.work, fs.merged], init: initCommand(init),
  };
}
