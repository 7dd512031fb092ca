// The rootless steps of `run --dry-run`, as a runnable script with a why per step: the user
// namespace and its id maps, the network helper with its exact arguments, each port forward,
// and the limits of each mode. Pure: given the plan's data, returns script lines.
import { relayLines, type RelayView } from './relay.js';
import type { Plan } from '../base/plan.js';
import type { PortMapping } from '../base/records.js';
import { HELPER_NOTES, SLIRP, idMapperArgv, pastaArgv, slirpArgv, slirpForward, type RootlessHelper } from '../network/rootless-helpers.js';
import { renderShell, shellLine, shellQuote } from './render.js';

interface Range {
  start: number;
  count: number;
}

/** A container on a rootless network: the plans a start applies, with `$HOLDER` and `$PID` for the pids it learns. */
export interface RootlessBridgeView {
  network: string;
  /** Why the rootless namespace exists (said where it is made). */
  holderWhy: string;
  /** The rootless namespace when it runs already: the start reuses it. */
  running?: { pid: number; pastaPid: number };
  /** Made on first use: the holder's command, the directory of its files, its pasta and forwarding. */
  holderArgv: string[];
  holderDir: string;
  connect: Plan;
  /** The network's bridge and NAT (idempotent: made once per namespace). */
  bridge: Plan;
  /** The container's veth, address and route. */
  attach: Plan;
  ip: string;
  /** Published ports: minictr's relay inside the rootless namespace. */
  relay?: RelayView;
}

export interface RootlessRunView {
  uid: number;
  gid: number;
  uids?: Range;
  gids?: Range;
  helper?: RootlessHelper;
  bridge?: RootlessBridgeView;
  ports: PortMapping[];
  /** Files of the container's directory the steps use. */
  pidFile: string;
  netReady: string;
  helperPidFile: string;
  apiSocket: string;
}

const SCRIPT_VAR = /\$(PID|HOLDER)\b/;

/** A single-quoted word's text in double quotes, when it holds $PID or $HOLDER and nothing else special there. */
function expanded(text: string): string {
  if (!SCRIPT_VAR.test(text)) return `'${text}'`;
  const rest = text.replace(new RegExp(SCRIPT_VAR.source, 'g'), '');
  return /["\\`$]/.test(rest) ? `'${text}'` : `"${text}"`;
}

/**
 * The script's own $PID and $HOLDER, expanded: shellQuote's single quotes become double ones
 * around text that holds them. A scan, not a pattern: `'\''` (a quote inside a quoted word) is
 * an escaped quote outside, never the start of a word.
 */
export function withPid(line: string): string {
  let out = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? '';
    if (c === '\\') {
      out += c + (line[i + 1] ?? '');
      i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return out + line.slice(i);
      out += expanded(line.slice(i + 1, end));
      i = end;
    } else {
      out += c;
    }
  }
  return out;
}

function planLines(plan: Plan): string[] {
  return renderShell(plan).trimEnd().split('\n').map(withPid);
}

/** Said before the container's init: what its user namespace maps, and who writes the maps. */
export function userNamespaceLines(v: RootlessRunView): string[] {
  const lines = v.bridge
    ? [
      `# rootless, on network ${v.bridge.network}: the container joins the user namespace of the rootless namespace's holder (below),`,
      '# so that a veth can join its network namespace to the bridge there; root inside is you, and nothing outside it.',
    ]
    : [
      '# rootless: the container runs in a user namespace of its own, made by unshare --user with the init below;',
      '# root inside is you, so it may mount, pivot_root and hold Docker\'s capabilities there, and nothing outside it.',
    ];
  // The maps are written for the holder's user namespace on a rootless network (made below, or running already).
  const target = v.bridge ? v.bridge.running?.pid ?? '$HOLDER' : '$PID';
  if (v.uids && v.gids) {
    lines.push(
      `# unshare runs the setuid helpers of "uidmap" for ${v.bridge ? 'the holder\'s user namespace' : 'it'} (a normal user may write only a one-id map itself):`,
      `#   ${withPid(shellLine(idMapperArgv('newuidmap', target, v.uid, v.uids)))}   # uid_map: 0 ${v.uid} 1, 1 ${v.uids.start} ${v.uids.count}`,
      `#   ${withPid(shellLine(idMapperArgv('newgidmap', target, v.gid, v.gids)))}   # gid_map: 0 ${v.gid} 1, 1 ${v.gids.start} ${v.gids.count}`,
      '# so files of other owners in the image keep them, as ids of your subordinate range.',
    );
  } else {
    lines.push(`# no subordinate range: unshare writes "0 ${v.uid} 1" to uid_map and "0 ${v.gid} 1" to gid_map itself: only root exists inside.`);
  }
  lines.push('# no cgroup is delegated to a normal user: the container gets none, and limits are refused.');
  if (v.helper || v.bridge) {
    lines.push(
      `# the FIFO the init waits on until ${v.bridge ? 'its veth on the bridge is up' : 'pasta or slirp4netns has connected its network namespace'}`,
      `rm -f ${shellQuote(v.netReady)}; mkfifo -m 600 ${shellQuote(v.netReady)}`,
    );
  }
  return lines;
}

/** Before the container's init, on a rootless network: the rootless namespace (made on first use) and the network's bridge. */
export function rootlessNetnsLines(v: RootlessRunView): string[] {
  const b = v.bridge;
  if (!b) return [];
  const lines: string[] = [];
  if (b.running) {
    lines.push(
      `# ${b.holderWhy}: it runs already (holder pid ${b.running.pid}, its pasta pid ${b.running.pastaPid}), so this container joins it`,
      `HOLDER=${b.running.pid}`,
    );
  } else {
    const ready = `${b.holderDir}/holder.out`;
    lines.push(
      `# ${b.holderWhy}; none runs, so this run makes it.`,
      '# The holder owns a user namespace (your ids mapped as above) and a network namespace; it brings lo up, says "ready", then sleeps:',
      '# minictr reads that line on a pipe and records the holder\'s pid and start time (state.json here) to find and kill it with the last container.',
      `mkdir -p -m 700 ${shellQuote(b.holderDir)}`,
      `${shellLine(b.holderArgv)} > ${shellQuote(ready)} &`,
      `HOLDER=$!; until [ -s ${shellQuote(ready)} ]; do sleep 0.01; done`,
      ...planLines(b.connect),
    );
  }
  lines.push(...planLines(b.bridge));
  return lines;
}

/** After the init is started in the background: its pid, the helper (or the veth and the relay), the ports, then "up". */
export function helperLines(v: RootlessRunView): string[] {
  if (v.bridge) return bridgeLines(v, v.bridge);
  if (!v.helper) return [];
  const lines = [
    ...waitPidLines(v),
    ...HELPER_NOTES[v.helper].map((n) => `# ${n}`),
  ];
  if (v.helper === 'pasta') {
    lines.push(
      `# pasta joins /proc/$PID/ns/user and /proc/$PID/ns/net${v.ports.length ? `, listens on ${v.ports.map((p) => `${p.hostIp || '*'}:${p.hostPort}/${p.proto}`).join(', ')} for the container` : ', forwards no port'}, and daemonizes once configured`,
      withPid(shellLine(pastaArgv('$PID', v.ports, v.helperPidFile))),
    );
  } else {
    lines.push(
      `# tap0 at ${SLIRP.ip}/24, gateway ${SLIRP.gateway}, DNS ${SLIRP.dns}, MTU ${SLIRP.mtu}; the host's loopback not reachable through the gateway; it says "1" on fd 3 when ready`,
      `${withPid(shellLine(slirpArgv('$PID', v.apiSocket)))} 3>/dev/null &`,
      `until [ -S ${shellQuote(v.apiSocket)} ]; do sleep 0.01; done`,
      ...v.ports.flatMap((p) => [
        `# publish ${p.hostIp || '0.0.0.0'}:${p.hostPort} → ${SLIRP.ip}:${p.containerPort}/${p.proto} (one request per connection on the API socket)`,
        `printf '%s' ${shellQuote(slirpForward(p))} | socat - UNIX-CONNECT:${shellQuote(v.apiSocket)}`,
      ]),
    );
  }
  lines.push('# the network is up: the init goes on', `echo up > ${shellQuote(v.netReady)}`);
  return lines;
}

function waitPidLines(v: RootlessRunView): string[] {
  return [
    '# the init writes its host pid, then waits on the FIFO until its network is connected',
    `until [ -s ${shellQuote(v.pidFile)} ]; do sleep 0.01; done; PID=$(cat ${shellQuote(v.pidFile)})`,
  ];
}

function bridgeLines(v: RootlessRunView, b: RootlessBridgeView): string[] {
  const lines = [...waitPidLines(v), ...planLines(b.attach)];
  if (b.relay) lines.push(...relayLines(b.relay, withPid(shellLine(b.relay.argv))));
  lines.push(
    `# minictr then rewrites the /etc/hosts of each container on ${b.network}, so they find each other by name`,
    '# the network is up: the init goes on',
    `echo up > ${shellQuote(v.netReady)}`,
  );
  return lines;
}

/** What `network diagram` shows of a rootless user's containers (runtime/rootless-bridge.ts gathers it). */
export interface RootlessTopology {
  user: string;
  uid: number;
  containers: { name: string; mode: string; pid: number; helperPid?: number; ip?: string; ports: PortMapping[] }[];
  networks: { name: string; bridge: string; subnet: string; gateway: string }[];
  /** The rootless namespace, while it exists. */
  holder?: { pid: number; pastaPid: number };
}

function portsText(ports: PortMapping[]): string {
  return ports.length === 0 ? '' : `; ${ports.map((p) => `${p.hostIp || '0.0.0.0'}:${p.hostPort}->${p.containerPort}/${p.proto}`).join(', ')}`;
}

/** The rootless topology as a box-drawing tree: what the user's own processes connect, nothing of the host's. */
export function renderRootlessTopology(t: RootlessTopology, only?: string): string {
  const lines = [`rootless minictr of ${t.user} (uid ${t.uid}): nothing on the host's network is changed; helpers connect each namespace`];
  const helpers = t.containers.filter((c) => c.mode === 'pasta' || c.mode === 'slirp4netns');
  const items: string[][] = [];
  if (only === undefined) {
    for (const c of helpers) {
      const what = c.mode === 'pasta'
        ? "a copy of the host's address and routes"
        : `tap0 ${SLIRP.ip}/24 via ${SLIRP.gateway}, DNS ${SLIRP.dns} (no address of its own outside)`;
      items.push([`${c.name}  --network ${c.mode}  (${c.mode} pid ${c.helperPid ?? '?'}: ${what}${portsText(c.ports)})`]);
    }
  }
  const nets = t.networks.filter((n) => only === undefined || n.name === only);
  if (nets.length > 0) {
    const sub = [t.holder
      ? `rootless namespace (holder pid ${t.holder.pid}, its pasta pid ${t.holder.pastaPid}: a copy of the host's address; NAT for each bridge)`
      : 'rootless namespace (not running: made when a container joins a network)'];
    nets.forEach((n, i) => {
      const last = i === nets.length - 1;
      sub.push(`${last ? '└──' : '├──'} ${n.name}  bridge ${n.bridge} ${n.gateway} (${n.subnet})`);
      const members = t.containers.filter((c) => c.mode === n.name);
      members.forEach((c, j) => sub.push(`${last ? '    ' : '│   '}${j === members.length - 1 ? '└──' : '├──'} ${c.name}  ${c.ip ?? '(starting)'}  eth0 ↔ veth on ${n.bridge}`));
    });
    items.push(sub);
  }
  if (items.length === 0) lines.push('└── (no running container with a network of its own, and no network)');
  items.forEach((item, i) => {
    const last = i === items.length - 1;
    item.forEach((l, j) => lines.push(j === 0 ? `${last ? '└──' : '├──'} ${l}` : `${last ? '    ' : '│   '}${l}`));
  });
  return `${lines.join('\n')}\n`;
}
