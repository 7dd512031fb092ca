// `minictr trace`: a packet's path through the host's rules, as a person would run it while
// sending traffic from another terminal; disarmed after Ctrl-C and after kill -9. Once per
// firewall driver: iptables' TRACE with xtables-monitor, nftables' nftrace with nft monitor.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { Sandbox, eventually, isRoot, HOST_IP, MINICTR_BIN, WAN_IP, type FirewallName } from './sandbox.js';

interface Tracing {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number>;
}

/** What each driver's trace shows of the same flows. */
const EXPECT: Record<FirewallName, { published: RegExp[]; local: RegExp[]; guard: (ip: string) => RegExp }> = {
  iptables: {
    published: [
      /PREROUTING\s+nat\s+MINICTR: -p tcp -m tcp --dport 5005 -j DNAT --to-destination 172\.18\.0\.2:80 → ACCEPT/,
      /container web: a published port \(-p\)/,
      /FORWARD\s+filter\s+FORWARD: -j MINICTR-FORWARD/,
      /FORWARD\s+filter\s+MINICTR: -d 172\.18\.0\.2\/32 ! -i minictr0 -o minictr0 -p tcp -m tcp --dport 80 -j ACCEPT → ACCEPT/,
    ],
    local: [
      /OUTPUT\s+nat\s+OUTPUT: -m addrtype --dst-type LOCAL -j MINICTR → jump to MINICTR/,
      /OUTPUT\s+nat\s+MINICTR: -p tcp -m tcp --dport 5005 -j DNAT --to-destination 172\.18\.0\.2:80/,
      /POSTROUTING\s+nat\s+POSTROUTING: -o minictr0 -m addrtype --src-type LOCAL -j MASQUERADE/,
    ],
    guard: (ip) => new RegExp(`^dropped by raw PREROUTING \`-d ${ip.replaceAll('.', '\\.')}/32 ! -i minictr0 -j DROP\` \\(the guard against routing to container addresses directly: publish the port with -p\\)$`, 'm'),
  },
  nftables: {
    published: [
      /PREROUTING\s+inet minictr prerouting: fib daddr type local jump ports → jump to ports/,
      /PREROUTING\s+inet minictr ports: .*dnat ip to .*→ ACCEPT/,
      /FORWARD\s+inet minictr forward: oifname vmap @fwd-in → jump to in-minictr0/,
      /FORWARD\s+inet minictr in-minictr0: ct status dnat ip daddr \. meta l4proto \. th dport @published4 accept → ACCEPT/,
      /network bridge: a published port, reached through the host's address/,
      /PREROUTING\s+inet minictr prerouting: fib daddr type local jump ports → jump to ports\n\s+minictr \(its table, maps and base chains\): packets for a host address may be for a published port/,
    ],
    local: [
      /OUTPUT\s+inet minictr output: fib daddr type local jump ports → jump to ports/,
      /POSTROUTING\s+inet minictr nat-in-minictr0: fib saddr type local masquerade/,
    ],
    guard: () => /^dropped by inet minictr guard-minictr0 `iifname != "minictr0" drop` \(the guard against routing to container addresses directly: only minictr0 may \(Docker 28\.2\+\); publish the port with -p\)$/m,
  },
};

for (const firewall of ['iptables', 'nftables'] as FirewallName[]) describe(`minictr trace (${firewall} firewall)`, { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox({ firewall });
  const mc = (...args: string[]) => box.minictr(args);
  const expect = EXPECT[firewall];
  /** What arms a trace, as the driver lists it: TRACE rules, or a trace table. */
  const traceRules = async () => firewall === 'iptables'
    ? (await box.host(['iptables-save', '-t', 'raw'])).stdout.split('\n').filter((l) => l.includes('-j TRACE'))
    : (await box.host(['nft', 'list', 'tables'])).stdout.split('\n').filter((l) => l.includes('minictr-trace-'));
  const started: ChildProcess[] = [];
  let webIp = '';

  /** `minictr trace ARGS` on the sandbox host, resolved once it says it is armed. */
  async function startTrace(...args: string[]): Promise<Tracing> {
    const child = spawn('nsenter', [`--net=/run/netns/${box.hostNs}`, '--', process.execPath, '--', MINICTR_BIN, '--root', box.root, 'trace', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(child);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
    const exit = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 128)));
    await eventually(async () => /waiting up to/.test(out) || child.exitCode !== null, 15_000, 'the trace to be armed');
    return { child, output: () => out, exit };
  }

  before(async () => {
    await box.setup();
    assert.equal((await mc('run', '-d', '--name', 'web', '-p', '5005:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc')).code, 0);
    webIp = (await mc('inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'web')).stdout.trim();
  });
  after(async () => {
    for (const c of started) if (c.pid && c.exitCode === null) c.kill('SIGKILL');
    await box.cleanup();
  });

  it('outside → published port: the DNAT in nat PREROUTING, the FORWARD chains, the masquerade-free reply, conntrack', async () => {
    const t = await startTrace('--to', `${HOST_IP}:5005/tcp`, '--timeout', '15s');
    const got = await box.wan(['timeout', '5', 'busybox', 'wget', '-qO-', `http://${HOST_IP}:5005/hostname`]);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(await t.exit, 0, t.output());
    const out = t.output();
    assert.equal(webIp, '172.18.0.2');
    for (const re of expect.published) assert.match(out, re);
    assert.match(out, /^reply 172\.18\.0\.2:80 → 10\.99\.0\.2:\d+/m, 'the reply goes back to the real client');
    assert.match(out, /^routing: ip route get 172\.18\.0\.2 from 10\.99\.0\.2 iif \S+ → 172\.18\.0\.2 from 10\.99\.0\.2 dev minictr0/m);
    assert.match(out, /^conntrack: original 10\.99\.0\.2:\d+ → 10\.99\.0\.1:5005$/m);
    assert.match(out, /DNAT: 10\.99\.0\.1:5005 became 172\.18\.0\.2:80/);
    assert.deepEqual(await traceRules(), [], 'disarmed');
  });

  it('host → 127.0.0.1:port: nat OUTPUT, and the masquerade that makes the reply come back', async () => {
    const t = await startTrace('--to', '127.0.0.1:5005', '--timeout', '15s');
    assert.equal((await box.host(['timeout', '5', 'busybox', 'wget', '-qO-', 'http://127.0.0.1:5005/hostname'])).code, 0);
    assert.equal(await t.exit, 0, t.output());
    const out = t.output();
    for (const re of expect.local) assert.match(out, re);
    assert.match(out, /source rewritten \(MASQUERADE\): 127\.0\.0\.1:\d+ became 172\.18\.0\.1:\d+/);
    assert.deepEqual(await traceRules(), []);
  });

  it('a direct-routing attempt is explained as the raw guard\'s drop', async () => {
    assert.equal((await box.wan(['ip', 'route', 'add', '172.18.0.0/16', 'via', HOST_IP])).code, 0);
    try {
      const t = await startTrace('web', '--port', '80', '--from', WAN_IP, '--timeout', '15s');
      assert.notEqual((await box.wan(['timeout', '3', 'busybox', 'wget', '-qO-', `http://${webIp}/hostname`])).code, 0);
      assert.equal(await t.exit, 0, t.output());
      assert.match(t.output(), expect.guard(webIp));
    } finally {
      await box.wan(['ip', 'route', 'del', '172.18.0.0/16']);
    }
    assert.deepEqual(await traceRules(), []);
  });

  it('no packet before the timeout: said, exit 1, disarmed', async () => {
    const r = await mc('trace', '--to', `${HOST_IP}:5999/udp`, '--timeout', '1s');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^minictr: no udp packet to 10\.99\.0\.1:5999 came within 1 s; the trace is disarmed/m);
    assert.deepEqual(await traceRules(), []);
  });

  /** Processes still tracing for the sandbox's root (the monitor, the guard), by their command lines. */
  const leftovers = async (pid: number): Promise<string[]> => {
    const out: string[] = [];
    for (const p of await readdir('/proc')) {
      if (!/^\d+$/.test(p)) continue;
      const cmd = (await readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '')).split('\0');
      if (cmd[0] === 'sh' && cmd.includes('minictr-trace-guard') && cmd.includes(String(pid))) out.push(`${p} guard`);
    }
    return out;
  };

  it('Ctrl-C disarms: nothing is left', async () => {
    const t = await startTrace('--to', `${HOST_IP}:5005`, '--timeout', '30s');
    assert.ok((await traceRules()).length > 0, 'armed');
    t.child.kill('SIGINT');
    assert.equal(await t.exit, 1);
    assert.match(t.output(), /interrupted before any packet came; the trace is disarmed/);
    assert.deepEqual(await traceRules(), []);
    assert.deepEqual(await leftovers(t.child.pid ?? 0), []);
  });

  it('kill -9 of minictr: its guard disarms, nothing is left', async () => {
    const t = await startTrace('--to', `${HOST_IP}:5005`, '--timeout', '30s');
    assert.ok((await traceRules()).length > 0, 'armed');
    t.child.kill('SIGKILL');
    await t.exit;
    await eventually(async () => (await traceRules()).length === 0, 5_000, 'the guard to remove the TRACE rules');
    await eventually(async () => (await leftovers(t.child.pid ?? 0)).length === 0, 5_000, 'the guard to end');
  });
});
