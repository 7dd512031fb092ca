// The front door: bin/minictr-demo (what `sudo make demo` runs), run inside the sandbox host
// with the sandbox's --root. What a newcomer sees: the plan, the page through the published port,
// what was wired; afterwards nothing of the container is left, also when the page never comes
// back or the user presses Ctrl-C.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Sandbox, eventually, isRoot, sh, MINICTR_BIN } from './sandbox.js';

const DEMO_BIN = `${MINICTR_BIN}-demo`;
// Not the default 5005: the test also checks that DEMO_PORT is honoured.
const PORT = '5123';

describe('minictr-demo', { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox();
  const started: ChildProcess[] = [];
  const env = { ...process.env, DEMO_PORT: PORT };
  const demo = () => sh(['nsenter', `--net=/run/netns/${box.hostNs}`, '--', DEMO_BIN, '--root', box.root], { env, timeoutMs: 90_000 });
  // Lines of the sandbox host's firewall that REJECT the container's port once DNAT has rewritten it.
  const reject = ['OUTPUT', '-p', 'tcp', '--dport', '5000', '-j', 'REJECT', '--reject-with', 'tcp-reset'];

  const idOf = (stdout: string): string => {
    const m = /^([0-9a-f]{64})$/m.exec(stdout);
    assert.ok(m?.[1], `the run prints the container id:\n${stdout}`);
    return m[1];
  };

  /** Everything of container `id` that could outlive the demo, in the sandbox. */
  const leftovers = async (id: string) => {
    const short = id.slice(0, 12);
    return {
      records: (await box.minictr(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean),
      dirs: await readdir(join(box.root, 'containers')).catch(() => [] as string[]),
      netns: (await sh(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`minictr-${short}`)),
      links: (await box.host(['ip', '-o', 'link'])).stdout.split('\n').filter((l) => l.includes(`veth${id.slice(0, 7)}`)),
      rules: (await box.host(['iptables-save'])).stdout.split('\n').filter((l) => l.includes(`minictr:${short}`)),
    };
  };
  const nothing = { records: [], dirs: [], netns: [], links: [], rules: [] };

  before(() => box.setup());
  after(async () => {
    for (const child of started) {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    await box.cleanup();
  });

  it('shows the plan, the page through the published port and what was wired, then leaves nothing', async () => {
    const r = await demo();
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const out = r.stdout;
    // Each step is announced.
    for (const heading of ['==> 1. The plan', '==> 2. Run it', '==> 3. Fetch', '==> 4. What is running', '==> 5. Remove it', '==> Next']) {
      assert.ok(out.includes(heading), `announced: ${heading}`);
    }
    // 1. The plan: a fresh host gets the bridge, the container its namespace and veth pair, the port its DNAT rule.
    assert.match(out, /^ip link add minictr0 address 02:42:ac:12:00:01 type bridge/m);
    assert.match(out, /^ip netns add minictr-[0-9a-f]{12}$/m);
    assert.match(out, /^ip link add veth[0-9a-f]{7} .*type veth peer name eth0 .*netns minictr-[0-9a-f]{12}$/m);
    assert.match(out, new RegExp(`^iptables -w -t nat -A MINICTR -p tcp -m tcp --dport ${PORT} .*-j DNAT --to-destination 172\\.18\\.0\\.2:5000$`, 'm'));
    assert.match(out, /^# start the container's process/m);
    // 2-3. The page, fetched through 127.0.0.1:PORT, is the container's hostname: its short id.
    const id = idOf(out);
    const short = id.slice(0, 12);
    assert.match(out, new RegExp(`^==> 3\\. Fetch http://127\\.0\\.0\\.1:${PORT}/hostname`, 'm'));
    assert.equal(/^ {4}the page says: (.*)$/m.exec(out)?.[1], short);
    // 4. What is running and how it is wired, checked against the plan.
    assert.match(out, new RegExp(`^${short}\\s+busybox\\s+"httpd .*0\\.0\\.0\\.0:${PORT}->5000/tcp\\s+minictr-demo-\\d+$`, 'm'));
    assert.match(out, new RegExp(`^5000/tcp -> 0\\.0\\.0\\.0:${PORT}$`, 'm'));
    assert.ok(out.includes(`network namespace minictr-${short}`));
    assert.match(out, /4 rules as planned, 0 missing/);
    // Next: how to go on.
    assert.ok(out.includes('sudo bin/minictr run --rm -it alpine sh'));
    assert.ok(out.includes('sudo make test'));
    assert.deepEqual(await leftovers(id), nothing);
  });

  it('exits non-zero and still removes the container when the page does not come back', async () => {
    assert.equal((await box.host(['iptables', '-I', ...reject])).code, 0);
    try {
      const r = await demo();
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, new RegExp(`no answer from http://127\\.0\\.0\\.1:${PORT}/hostname`));
      assert.doesNotMatch(r.stdout, /==> 4\./);
      assert.deepEqual(await leftovers(idOf(r.stdout)), nothing);
    } finally {
      await box.host(['iptables', '-D', ...reject]);
    }
  });

  it('Ctrl-C while it waits for the page removes the container', async () => {
    assert.equal((await box.host(['iptables', '-I', ...reject])).code, 0);
    try {
      // Its own process group, which gets the SIGINT as a terminal's Ctrl-C would deliver it.
      const child = spawn('nsenter', [`--net=/run/netns/${box.hostNs}`, '--', DEMO_BIN, '--root', box.root], {
        env, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
      });
      started.push(child);
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += String(d)));
      child.stderr.resume();
      const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
      await eventually(async () => stdout.includes('==> 3. Fetch'), 30_000, 'the demo to wait for the page');
      assert.ok(child.pid);
      process.kill(-child.pid, 'SIGINT');
      assert.equal(await exited, 130);
      assert.deepEqual(await leftovers(idOf(stdout)), nothing);
    } finally {
      await box.host(['iptables', '-D', ...reject]);
    }
  });
});
