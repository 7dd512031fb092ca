// A node-scale simulation for the CNI plugin (issue #15): N pods (110, the kubelet's default
// per-node maximum, and 250), each ADD timed, one pod in ten with a hostPort, the firewall rules
// counted, then each DEL timed; with firewallBackend iptables, and nftables when the host has nft. The same pods go through the reference chain a runtime would run
// instead (bridge + host-local, then portmap with the bridge's result; DEL in reverse), on the
// same machine in the same run. Pods are network namespaces made here, as a runtime makes them;
// everything runs in the sandbox host namespace; nothing is left behind.
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseNftJson } from '../src/network/firewall/nft-json.js';
import { summarize, timed, type Summary, type Timed } from './lib.js';

export const REFERENCE_PLUGINS = '/usr/lib/cni';

export interface CniBenchEnv {
  /** The sandbox host namespace's name (under /run/netns). */
  hostNs: string;
  /** A per-run prefix for names (pods, bridges). */
  prefix: string;
  /** bin/minictr-cni of the build under test. */
  plugin: string;
  /** The environment plugins run with (what sudo leaves). */
  env: NodeJS.ProcessEnv;
  tmp: string;
  /** Also run minictr-cni with firewallBackend nftables. */
  nftables: boolean;
  progress: (text: string) => void;
}

export interface ChainFigures {
  chain: string;
  pods: number;
  add: Summary | undefined;
  addP99: number | undefined;
  del: Summary | undefined;
  delP99: number | undefined;
  /**
   * Firewall rules the N pods added, per pod, network rules included: iptables-save's, every
   * table; with nftables, the rules and set/map elements of minictr's table.
   */
  rulesPerPod: number;
  failures: string[];
  /** What was left after the DELs: rules, veths, leases (should be nothing). */
  leftovers: string[];
}

export function percentile(values: number[], p: number): number | undefined {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return undefined;
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

function inHost(env: CniBenchEnv, argv: string[]): string[] {
  return ['nsenter', `--net=/run/netns/${env.hostNs}`, '--', ...argv];
}

async function ruleCount(env: CniBenchEnv, firewall: Firewall): Promise<number> {
  if (firewall === 'nftables') {
    const r = await timed(inHost(env, ['nft', '-j', 'list', 'ruleset', 'inet']), { timeoutMs: 60_000 });
    return parseNftJson(r.stdout).rules.length;
  }
  const r = await timed(inHost(env, ['iptables-save']), { timeoutMs: 60_000 });
  return r.stdout.split('\n').filter((l) => l.startsWith('-A ')).length;
}

type Firewall = 'iptables' | 'nftables';

interface Pod {
  id: string;
  netns: string;
  ports: { hostPort: number; containerPort: number; protocol: 'tcp' }[];
}

interface Chain {
  name: string;
  /** Where its rules are counted. */
  firewall: Firewall;
  add(pod: Pod): Promise<Timed>;
  del(pod: Pod): Promise<Timed>;
  /** Made by this chain and still there: per-pod veths, rules, address leases. */
  leftovers(): Promise<string[]>;
}

function cniEnv(env: CniBenchEnv, command: string, pod: Pod): NodeJS.ProcessEnv {
  return { ...env.env, CNI_COMMAND: command, CNI_CONTAINERID: pod.id, CNI_NETNS: pod.netns, CNI_IFNAME: 'eth0', CNI_PATH: REFERENCE_PLUGINS };
}

function invoke(env: CniBenchEnv, bin: string, command: string, pod: Pod, config: unknown): Promise<Timed> {
  return timed(inHost(env, [bin]), { env: cniEnv(env, command, pod), input: JSON.stringify(config), timeoutMs: 60_000 });
}

async function linesMatching(env: CniBenchEnv, argv: string[], re: RegExp): Promise<string[]> {
  return (await timed(inHost(env, argv), { timeoutMs: 60_000 })).stdout.split('\n').filter((l) => re.test(l));
}

function minictrChain(env: CniBenchEnv, dataDir: string, n: number, firewall: Firewall): Chain {
  const nft = firewall === 'nftables';
  const config = (pod: Pod): unknown => ({
    cniVersion: '1.0.0', name: `bench${n}${nft ? 'n' : ''}`, type: 'minictr', bridge: `${env.prefix}${nft ? 'n' : 'm'}`, firewallBackend: firewall,
    ipam: { type: 'minictr', subnet: nft ? '10.82.0.0/16' : '10.80.0.0/16', dataDir: join(dataDir, 'ipam') }, dataDir,
    runtimeConfig: { portMappings: pod.ports },
  });
  return {
    name: nft ? 'minictr-cni (nftables)' : 'minictr-cni',
    firewall,
    add: (pod) => invoke(env, env.plugin, 'ADD', pod, config(pod)),
    del: (pod) => invoke(env, env.plugin, 'DEL', pod, config(pod)),
    leftovers: async () => [
      ...(await linesMatching(env, nft ? ['nft', 'list', 'ruleset', 'inet'] : ['iptables-save'], /minictr:cni-[0-9a-f]{12}/)),
      ...(await linesMatching(env, ['ip', '-o', 'link'], /\bvcni[0-9a-f]{11}\b/)),
    ],
  };
}

/** What libcni does for a conflist [bridge(host-local), portmap]: ADD in order with prevResult, DEL in reverse. */
function referenceChain(env: CniBenchEnv, dataDir: string, n: number): Chain {
  const name = `ref${n}`;
  const bridge = {
    cniVersion: '1.0.0', name, type: 'bridge', bridge: `${env.prefix}r`, isGateway: true, ipMasq: true, hairpinMode: true,
    ipam: { type: 'host-local', ranges: [[{ subnet: '10.81.0.0/16' }]], dataDir: join(dataDir, 'host-local') },
  };
  const portmap = (pod: Pod, prevResult: unknown): unknown => ({ cniVersion: '1.0.0', name, type: 'portmap', snat: true, runtimeConfig: { portMappings: pod.ports }, prevResult });
  const results = new Map<string, unknown>();
  const sum = (a: Timed, b: Timed): Timed => ({ ...b, ms: a.ms + b.ms, code: a.code || b.code, stdout: b.stdout, stderr: `${a.stdout}${a.stderr}${b.stderr}` });
  return {
    name: 'reference bridge+host-local+portmap',
    firewall: 'iptables',
    add: async (pod) => {
      const first = await invoke(env, join(REFERENCE_PLUGINS, 'bridge'), 'ADD', pod, bridge);
      if (first.code !== 0) return first;
      const result: unknown = JSON.parse(first.stdout);
      const second = await invoke(env, join(REFERENCE_PLUGINS, 'portmap'), 'ADD', pod, portmap(pod, result));
      results.set(pod.id, result);
      return sum(first, second);
    },
    del: async (pod) => {
      const prev = results.get(pod.id);
      const first = await invoke(env, join(REFERENCE_PLUGINS, 'portmap'), 'DEL', pod, portmap(pod, prev));
      const second = await invoke(env, join(REFERENCE_PLUGINS, 'bridge'), 'DEL', pod, { ...bridge, prevResult: prev });
      return sum(first, second);
    },
    leftovers: async () => [
      ...(await linesMatching(env, ['iptables-save'], new RegExp(`name: "${name}"|CNI-DN-`))),
      ...(await linesMatching(env, ['ip', '-o', 'link'], new RegExp(`master ${env.prefix}r\\b`))),
    ],
  };
}

async function runChain(env: CniBenchEnv, chain: Chain, pods: Pod[]): Promise<ChainFigures> {
  const failures: string[] = [];
  const before = await ruleCount(env, chain.firewall);
  const adds: number[] = [];
  for (const [i, pod] of pods.entries()) {
    const r = await chain.add(pod);
    if (r.code === 0) adds.push(r.ms);
    else failures.push(`ADD ${pod.id}: ${r.stdout.trim()} ${r.stderr.trim()}`.slice(0, 300));
    if ((i + 1) % 50 === 0) env.progress(`cni: ${chain.name}: ${i + 1}/${pods.length} pods added`);
  }
  const rules = (await ruleCount(env, chain.firewall)) - before;
  const dels: number[] = [];
  for (const pod of pods) {
    const r = await chain.del(pod);
    if (r.code === 0) dels.push(r.ms);
    else failures.push(`DEL ${pod.id}: ${r.stdout.trim()} ${r.stderr.trim()}`.slice(0, 300));
  }
  return {
    chain: chain.name,
    pods: pods.length,
    add: summarize(adds),
    addP99: percentile(adds, 99),
    del: summarize(dels),
    delP99: percentile(dels, 99),
    rulesPerPod: rules / pods.length,
    failures,
    leftovers: await chain.leftovers(),
  };
}

/** Both chains at each pod count; pods' namespaces made before and removed after, also on failure. */
export async function cniNodeScale(env: CniBenchEnv, podCounts: number[]): Promise<ChainFigures[]> {
  const out: ChainFigures[] = [];
  for (const n of podCounts) {
    const pods: Pod[] = [];
    const dataDir = await mkdtemp(join(env.tmp, `cni-${n}-`));
    try {
      for (let i = 0; i < n; i++) {
        const name = `${env.prefix}-cp${i}`;
        const made = await timed(['ip', 'netns', 'add', name]);
        if (made.code !== 0) throw new Error(`ip netns add ${name}: ${made.stderr.trim()}`);
        // One pod in ten publishes a hostPort, as the simulation asks.
        pods.push({ id: `pod-${n}-${i}`, netns: `/run/netns/${name}`, ports: i % 10 === 0 ? [{ hostPort: 30000 + i, containerPort: 80, protocol: 'tcp' }] : [] });
      }
      const chains = [
        minictrChain(env, join(dataDir, 'minictr'), n, 'iptables'),
        ...(env.nftables ? [minictrChain(env, join(dataDir, 'minictr-nft'), n, 'nftables')] : []),
        referenceChain(env, join(dataDir, 'reference'), n),
      ];
      for (const chain of chains) {
        env.progress(`cni: ${chain.name}, ${n} pods`);
        out.push(await runChain(env, chain, pods));
      }
    } finally {
      for (const pod of pods) await timed(['ip', 'netns', 'del', pod.netns.split('/').pop() ?? '']);
      // The bridges stay after the last DEL (as the reference plugin's do); they go with the sandbox.
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  return out;
}
