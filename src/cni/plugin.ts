// The CNI commands over minictr's planners: ADD, DEL, CHECK, GC, STATUS. Each gathers what
// it needs, plans with src/network (the bridge and iptables drivers, IPAM, ports) and applies
// with src/exec, exactly as `minictr run` does; only the bookkeeping is the plugin's own.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { StepReport } from '../base/plan.js';
import type { NetworkRecord } from '../base/records.js';
import { applyPlan, applyPlanBestEffort, type ApplyOptions, type BestEffortReport } from '../exec/apply.js';
import type { Runner } from '../exec/runner.js';
import { firewallDriverFor } from '../network/drivers.js';
import type { RuleOwners } from '../network/driver.js';
import { allocateIp, intToIp, ipToInt, isIPv4, type AddressRange } from '../network/ipam.js';
import { cniAttachmentNames, isCniAttachmentScope, isCniVeth } from '../network/names.js';
import { planConnect, planContainerTeardown, planStrayAttachments, type AttachFacts, type AttachPlans } from '../network/plan.js';
import { assignHostPorts, takenBy, type HostBinding } from '../network/ports.js';
import { checkpoint } from '../runtime/checkpoint.js';
import { bridgeExists, bridgePorts, firewallDump, hostListeners, hostNet, hostRoutes } from '../runtime/gather.js';
import {
  forgetCniAttachment,
  listCniAttachments,
  loadCniAttachment,
  loadCniLeases,
  saveCniAttachment,
  saveCniLeases,
  withDirLocks,
  type CniAttachmentRecord,
} from '../state/cni-store.js';
import { isBuiltinIpam, type BuiltinIpam, type CniEnv, type PluginConfig } from './config.js';
import { CNI_CODES, CniError } from './errors.js';
import { networkOf, podAttachment, subnetOf, type Address } from './network.js';
import { addResult, type CniResult } from './result.js';

export interface PluginContext {
  runner: Runner;
  env: CniEnv;
  /** Each op as it is applied (MINICTR_CNI_EXPLAIN). */
  onStep?: (report: StepReport) => void;
}

function lockDirs(conf: PluginConfig): string[] {
  return isBuiltinIpam(conf.ipam) ? [conf.dataDir, conf.ipam.dataDir] : [conf.dataDir];
}

function applyOptions(ctx: PluginContext): ApplyOptions {
  return ctx.onStep ? { onStep: ctx.onStep } : {};
}

/** What of the recorded attachments has rules (one still being made or removed makes or removes its own). */
function ruleOwners(net: NetworkRecord, records: CniAttachmentRecord[]): RuleOwners {
  return {
    networks: [net],
    containers: records.filter((r) => !r.attachment.pending).map((r) => ({ name: r.attachment.netns, attachment: r.attachment })),
  };
}

// ---- delegated IPAM (host-local or any other plugin on CNI_PATH) ----

function findPlugin(ctx: PluginContext, type: string): string {
  if (ctx.env.path.length === 0) throw new CniError(CNI_CODES.invalidEnv, `CNI_PATH is not set; the IPAM plugin "${type}" is looked for there`);
  const found = ctx.env.path.map((dir) => join(dir, type)).find((p) => existsSync(p));
  if (!found) throw new CniError(CNI_CODES.delegatedIpam, `the IPAM plugin "${type}" is not in CNI_PATH (${ctx.env.path.join(':')}); install it or name another ipam.type`);
  return found;
}

/** The delegated plugin gets the same config (1.1.0 asked as 1.0.0: the same result, and what host-local 1.1 speaks). */
async function delegateIpam(ctx: PluginContext, conf: PluginConfig, command: 'ADD' | 'DEL'): Promise<Address | undefined> {
  const type = conf.ipam.type;
  const bin = findPlugin(ctx, type);
  const input = JSON.stringify({ ...conf.raw, cniVersion: conf.cniVersion === '1.1.0' ? '1.0.0' : conf.cniVersion });
  const env = { CNI_COMMAND: command, CNI_CONTAINERID: ctx.env.containerId, CNI_NETNS: ctx.env.netns, CNI_IFNAME: ctx.env.ifname, CNI_PATH: ctx.env.path.join(':') };
  const out = await ctx.runner.run([bin], { input, env, allowFailure: true });
  if (out.exitCode !== 0) {
    let msg = out.stderr.trim() || out.stdout.trim();
    try {
      msg = (JSON.parse(out.stdout) as { msg?: string }).msg ?? msg;
    } catch {
      // not JSON: its own words are the message
    }
    throw new CniError(CNI_CODES.delegatedIpam, `the IPAM plugin "${type}" failed ${command}: ${msg}`);
  }
  if (command === 'DEL') return undefined;
  let result: { ips?: { address?: string; gateway?: string }[] };
  try {
    result = JSON.parse(out.stdout) as typeof result;
  } catch {
    throw new CniError(CNI_CODES.delegatedIpam, `the IPAM plugin "${type}" answered ADD with something that is not JSON`);
  }
  const first = result.ips?.find((i) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(i.address ?? ''));
  const [ip = '', bits = ''] = (first?.address ?? '').split('/');
  if (!first || !isIPv4(ip)) throw new CniError(CNI_CODES.delegatedIpam, `the IPAM plugin "${type}" gave no IPv4 address`);
  const prefixLength = Number(bits);
  const gateway = first.gateway && isIPv4(first.gateway) ? first.gateway : intToIp(ipToInt(subnetOf(ip, prefixLength).split('/')[0] ?? '') + 1);
  return { ip, prefixLength, gateway };
}

// ---- the built-in IPAM: a lease file, read and written under the IPAM dataDir's lock ----

function rangeOf(ipam: BuiltinIpam): AddressRange {
  return { ...(ipam.rangeStart ? { start: ipam.rangeStart } : {}), ...(ipam.rangeEnd ? { end: ipam.rangeEnd } : {}) };
}

async function leaseAddress(conf: PluginConfig, env: CniEnv): Promise<Address> {
  const ipam = conf.ipam;
  if (!isBuiltinIpam(ipam)) throw new CniError(CNI_CODES.hostFailure, 'internal: leaseAddress of a delegated IPAM');
  const leases = loadCniLeases(ipam.dataDir, conf.name);
  const ip = allocateIp(ipam.subnet, ipam.gateway, Object.keys(leases), conf.name, rangeOf(ipam));
  leases[ip] = { containerId: env.containerId, ifname: env.ifname };
  await saveCniLeases(ipam.dataDir, conf.name, leases);
  return { ip, prefixLength: Number(ipam.subnet.split('/')[1]), gateway: ipam.gateway };
}

/** Free every lease a (container, interface) holds; true when one was held. */
async function releaseLeases(conf: PluginConfig, held: (lease: { containerId: string; ifname: string }) => boolean): Promise<number> {
  const ipam = conf.ipam;
  if (!isBuiltinIpam(ipam)) return 0;
  const leases = loadCniLeases(ipam.dataDir, conf.name);
  const gone = Object.entries(leases).filter(([, lease]) => held(lease));
  if (gone.length === 0) return 0;
  for (const [ip] of gone) delete leases[ip];
  await saveCniLeases(ipam.dataDir, conf.name, leases);
  return gone.length;
}

async function releaseAddress(ctx: PluginContext, conf: PluginConfig, who: { containerId: string; ifname: string }): Promise<void> {
  if (isBuiltinIpam(conf.ipam)) {
    await releaseLeases(conf, (l) => l.containerId === who.containerId && l.ifname === who.ifname);
    return;
  }
  await delegateIpam({ ...ctx, env: { ...ctx.env, containerId: who.containerId, ifname: who.ifname } }, conf, 'DEL');
}

// ---- ADD ----

function describe(env: CniEnv): string {
  return `container ${env.containerId} (${env.ifname})`;
}

async function gatherFacts(ctx: PluginContext, net: NetworkRecord): Promise<AttachFacts> {
  const exists = bridgeExists(net);
  const facts: AttachFacts = { bridgeExists: exists, listeners: [], ...hostNet() };
  if (!exists) {
    const [routes, dump] = await Promise.all([hostRoutes(ctx.runner), firewallDump(ctx.runner, net)]);
    facts.routes = routes;
    facts.firewallDump = dump;
  }
  return facts;
}

/**
 * Under the locks: the address (built-in lease or the delegated plugin), the host ports, the
 * record (pending), and the network's own setup. The links and rules are made after, outside.
 */
async function reserve(ctx: PluginContext, conf: PluginConfig): Promise<{ planned: AttachPlans; record: CniAttachmentRecord }> {
  const { env } = ctx;
  const names = cniAttachmentNames(conf.name, env.containerId, env.ifname);
  return withDirLocks(lockDirs(conf), async () => {
    if (loadCniAttachment(conf.dataDir, conf.name, names.netns)) {
      throw new CniError(CNI_CODES.hostFailure, `${describe(env)} is already attached to network ${conf.name}; DEL it first`);
    }
    const address = isBuiltinIpam(conf.ipam) ? await leaseAddress(conf, env) : await delegateIpam(ctx, conf, 'ADD');
    if (!address) throw new CniError(CNI_CODES.delegatedIpam, `the IPAM plugin "${conf.ipam.type}" gave no address`);
    try {
      const netFacts = await gatherFacts(ctx, networkOf(conf, address));
      // The other attachments' records matter only for host ports and a new bridge: a node with
      // 250 pods then reads none of them.
      const records = conf.portMappings.length > 0 || !netFacts.bridgeExists ? listCniAttachments(conf.dataDir, conf.name) : [];
      const occupied: HostBinding[] = records.flatMap((r) => r.attachment.ports.map((p) => ({ ip: p.hostIp || '0.0.0.0', port: p.hostPort, proto: p.proto })));
      if (conf.portMappings.length > 0) occupied.push(...hostListeners());
      const ports = assignHostPorts(conf.portMappings, takenBy(occupied), () => 0);
      const attachment = podAttachment(conf, env, address, ports);
      const net = networkOf(conf, attachment);
      const planned = planConnect({
        who: describe(env),
        attachment,
        net,
        networks: [net],
        owners: ruleOwners(net, records),
        attached: records.filter((r) => !r.attachment.pending).map((r) => r.attachment),
        facts: netFacts,
      });
      const record: CniAttachmentRecord = {
        schemaVersion: 1,
        network: conf.name,
        containerId: env.containerId,
        ifname: env.ifname,
        attachment,
        ipam: conf.ipam.type,
        created: new Date().toISOString(),
      };
      // Written down before anything is made, so a DEL or GC can always find and undo it.
      await saveCniAttachment(conf.dataDir, record);
      await applyPlan(planned.prepare, ctx.runner, applyOptions(ctx));
      return { planned, record };
    } catch (err) {
      await releaseAddress(ctx, conf, env).catch(() => undefined);
      forgetCniAttachment(conf.dataDir, conf.name, names.netns);
      throw err;
    }
  });
}

/**
 * The attachment's rules; when their restore fails (its check found the network's rules
 * wiped), put back everything missing from the dump, this attachment's rules included.
 */
async function applyFirewall(ctx: PluginContext, conf: PluginConfig, planned: AttachPlans): Promise<void> {
  try {
    await applyPlan(planned.firewall, ctx.runner, applyOptions(ctx));
  } catch (err) {
    await withDirLocks([conf.dataDir], async () => {
      const records = listCniAttachments(conf.dataDir, conf.name).map((r) =>
        r.attachment.netns === planned.attachment.netns ? { ...r, attachment: { ...planned.attachment, pending: false } } : r);
      const dump = await firewallDump(ctx.runner, planned.net);
      const repair = firewallDriverFor(planned.net).planRepair(dump, ruleOwners(planned.net, records));
      if (repair.ops.length === 0) throw err;
      await applyPlan(repair, ctx.runner, applyOptions(ctx));
    });
  }
}

export async function add(ctx: PluginContext, conf: PluginConfig): Promise<CniResult> {
  if (!existsSync(ctx.env.netns)) throw new CniError(CNI_CODES.invalidEnv, `CNI_NETNS ${ctx.env.netns} does not exist`);
  const { planned, record } = await reserve(ctx, conf);
  try {
    await applyPlan(planned.links, ctx.runner, applyOptions(ctx));
  } catch (err) {
    await removeAttachment(ctx, conf, record).catch(() => undefined);
    const why = (err as Error).message;
    throw new CniError(CNI_CODES.hostFailure, `could not connect ${describe(ctx.env)} in ${ctx.env.netns} (is it a network namespace?): ${why}`);
  }
  try {
    await applyFirewall(ctx, conf, planned);
  } catch (err) {
    await removeAttachment(ctx, conf, record).catch(() => undefined);
    throw err;
  }
  await checkpoint(conf.dataDir, 'cni-rules-made');
  delete record.attachment.pending;
  await saveCniAttachment(conf.dataDir, record);
  return addResult(record.attachment, conf.cniVersion);
}

// ---- DEL and GC ----

/** Error 100 saying what of a best-effort removal failed, or undefined when nothing did. */
function removalFailure(what: string, reports: BestEffortReport[]): CniError | undefined {
  const failures = reports.flatMap((r) => r.failures);
  if (failures.length === 0) return undefined;
  const details = failures.map(({ op, error }) => `could not ${op.why}: ${error.message}`).join('; ');
  return new CniError(CNI_CODES.hostFailure, `removing ${what} left things on the host; DEL again to retry`, details);
}

/**
 * Marked pending under the locks (so no repair puts its rules back), its rules and veth removed
 * outside them, then its address freed and its record forgotten. What could not be removed
 * keeps the record, so a later DEL or GC tries again.
 */
async function removeAttachment(ctx: PluginContext, conf: PluginConfig, record: CniAttachmentRecord): Promise<void> {
  await withDirLocks([conf.dataDir], async () => {
    record.attachment.pending = true;
    await saveCniAttachment(conf.dataDir, record);
  });
  const net = networkOf(conf, record.attachment);
  const { firewall, links } = planContainerTeardown(record.attachment, net);
  const reports = await Promise.all([applyPlanBestEffort(firewall, ctx.runner, applyOptions(ctx)), applyPlanBestEffort(links, ctx.runner, applyOptions(ctx))]);
  const failure = removalFailure(`the network of container ${record.containerId} (${record.ifname})`, reports);
  if (failure) throw failure;
  await withDirLocks(lockDirs(conf), async () => {
    await releaseAddress(ctx, conf, record);
    forgetCniAttachment(conf.dataDir, conf.name, record.attachment.netns);
  });
}

/**
 * Rules, elements and host veths on the network's bridge that no record holds and `pick` picks
 * (the dump is read before the records: an ADD writes its record before making anything).
 */
async function removeStrays(ctx: PluginContext, conf: PluginConfig, pick: { scope: (s: string) => boolean; veth: (v: string) => boolean }): Promise<void> {
  const net = networkOf(conf);
  const firewall = firewallDriverFor(net);
  const [dump, ports] = await Promise.all([firewallDump(ctx.runner, net), bridgePorts(ctx.runner, conf.bridge)]);
  const held = listCniAttachments(conf.dataDir, conf.name).map((r) => ({ netns: r.attachment.netns, hostVeth: r.attachment.hostVeth }));
  const heldScopes = new Set(held.map((h) => h.netns));
  const heldVeths = new Set(held.map((h) => h.hostVeth));
  const strays = planStrayAttachments({
    bridge: conf.bridge,
    firewall,
    dump,
    ports,
    stray: (scope) => isCniAttachmentScope(scope) && !heldScopes.has(scope) && pick.scope(scope),
    strayVeth: (veth) => isCniVeth(veth) && !heldVeths.has(veth) && pick.veth(veth),
  });
  const failure = removalFailure(`what no record holds on ${conf.bridge}`, [await applyPlanBestEffort(strays.plan, ctx.runner, applyOptions(ctx))]);
  if (failure) throw failure;
}

/**
 * Idempotent: nothing recorded still frees a lease or a delegated address the (container,
 * interface) may hold, and any rule or veth of its name left on the bridge.
 */
export async function del(ctx: PluginContext, conf: PluginConfig): Promise<void> {
  const names = cniAttachmentNames(conf.name, ctx.env.containerId, ctx.env.ifname);
  const record = loadCniAttachment(conf.dataDir, conf.name, names.netns);
  if (record) {
    await removeAttachment(ctx, conf, record);
    return;
  }
  await withDirLocks(lockDirs(conf), () => releaseAddress(ctx, conf, ctx.env));
  await removeStrays(ctx, conf, { scope: (s) => s === names.netns, veth: (v) => v === names.hostVeth });
}

/** Every recorded attachment (and built-in lease) of this network that the runtime's list does not name. */
export async function gc(ctx: PluginContext, conf: PluginConfig): Promise<void> {
  const valid = conf.validAttachments;
  if (!valid) throw new CniError(CNI_CODES.invalidConfig, 'GC needs cni.dev/valid-attachments in the config: the attachments to keep');
  const keep = new Set(valid.map((a) => `${a.containerId}\0${a.ifname}`));
  const kept = (a: { containerId: string; ifname: string }): boolean => keep.has(`${a.containerId}\0${a.ifname}`);
  const stale = listCniAttachments(conf.dataDir, conf.name).filter((r) => !kept(r));
  const errors: string[] = [];
  for (const record of stale) {
    await removeAttachment(ctx, conf, record).catch((err: unknown) => {
      errors.push(err instanceof CniError && err.details ? err.details : (err as Error).message);
    });
  }
  // Leases no record leads to (an ADD killed between its lease and its record).
  await withDirLocks(lockDirs(conf), async () => {
    const recorded = new Set(listCniAttachments(conf.dataDir, conf.name).map((r) => `${r.containerId}\0${r.ifname}`));
    await releaseLeases(conf, (l) => !kept(l) && !recorded.has(`${l.containerId}\0${l.ifname}`));
  });
  // Rules, elements and veths no record leads to (the plugin's state lost, or removed by hand),
  // unless the runtime still lists their attachment.
  const keptNames = valid.map((a) => cniAttachmentNames(conf.name, a.containerId, a.ifname));
  const keptScopes = new Set(keptNames.map((n) => n.netns));
  const keptVeths = new Set(keptNames.map((n) => n.hostVeth));
  await removeStrays(ctx, conf, { scope: (s) => !keptScopes.has(s), veth: (v) => !keptVeths.has(v) }).catch((err: unknown) => {
    errors.push(err instanceof CniError && err.details ? err.details : (err as Error).message);
  });
  if (errors.length > 0) {
    throw new CniError(CNI_CODES.hostFailure, `GC could not remove everything of ${errors.length} attachment(s); they stay recorded for the next GC`, errors.join('; '));
  }
}

// ---- CHECK ----

interface IpAddrJson {
  ifname: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

interface IpRouteJson {
  dst: string;
  gateway?: string;
}

async function insideJson<T>(ctx: PluginContext, netnsPath: string, args: string[]): Promise<T[]> {
  const out = await ctx.runner.run(['nsenter', `--net=${netnsPath}`, 'ip', '-j', ...args], { allowFailure: true });
  if (out.exitCode !== 0) return [];
  try {
    return JSON.parse(out.stdout || '[]') as T[];
  } catch {
    return [];
  }
}

/** What of the attachment is missing: its namespace, veth, address, route, bridge or rules. */
export async function check(ctx: PluginContext, conf: PluginConfig): Promise<void> {
  const { netns } = cniAttachmentNames(conf.name, ctx.env.containerId, ctx.env.ifname);
  const record = loadCniAttachment(conf.dataDir, conf.name, netns);
  if (!record) throw new CniError(CNI_CODES.unknownContainer, `${describe(ctx.env)} has no attachment on network ${conf.name}`);
  const att = record.attachment;
  const net = networkOf(conf, att);
  const missing: string[] = [];
  if (!bridgeExists(net)) missing.push(`the bridge ${net.bridge}`);
  if (!bridgeExists({ bridge: att.hostVeth })) missing.push(`the host veth ${att.hostVeth}`);
  const path = ctx.env.netns;
  if (!existsSync(path)) missing.push(`the network namespace ${path}`);
  else {
    const [addrs, routes] = await Promise.all([
      insideJson<IpAddrJson>(ctx, path, ['addr', 'show', 'dev', record.ifname]),
      insideJson<IpRouteJson>(ctx, path, ['route', 'show', 'default']),
    ]);
    const has = addrs.some((a) => (a.addr_info ?? []).some((i) => i.family === 'inet' && i.local === att.ip && i.prefixlen === att.prefixLength));
    if (!has) missing.push(`the address ${att.ip}/${att.prefixLength} on ${record.ifname}`);
    if (att.defaultRoute !== false && !routes.some((r) => r.dst === 'default' && r.gateway === att.gateway)) missing.push(`the default route via ${att.gateway}`);
  }
  const firewall = firewallDriverFor(net);
  const dump = await firewallDump(ctx.runner, net);
  const present = new Set(dump.rules.map((r) => `${r.table}|${r.chain}|${r.line}`));
  const expected = firewall.expectedRules({ networks: [net], containers: [{ name: att.netns, attachment: att }] });
  for (const rule of expected.filter((r) => !present.has(`${r.table}|${r.chain}|${r.line}`))) {
    // A set or map element is dumped as a "rule" of the pseudo-chain @set.
    missing.push(rule.chain.startsWith('@') ? `the element "${rule.line}" of ${rule.chain}` : `the rule "-t ${rule.table} ${rule.line}"`);
  }
  if (missing.length > 0) {
    throw new CniError(CNI_CODES.hostFailure, `${describe(ctx.env)} on network ${conf.name} is missing ${missing.length} thing(s): ${missing.join('; ')}`);
  }
}

// ---- STATUS ----

/** Ready when the state dirs can be locked and (built-in IPAM) an address is free. */
export async function status(conf: PluginConfig): Promise<void> {
  await withDirLocks(lockDirs(conf), async () => {
    const ipam = conf.ipam;
    if (!isBuiltinIpam(ipam)) return;
    const used = Object.keys(loadCniLeases(ipam.dataDir, conf.name));
    try {
      allocateIp(ipam.subnet, ipam.gateway, used, conf.name, rangeOf(ipam));
    } catch (err) {
      throw new CniError(CNI_CODES.unavailable, `network ${conf.name} cannot take another pod: ${(err as Error).message}`);
    }
  });
}
