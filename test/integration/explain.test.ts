// Showing the work on a live sandbox: net inspect (host, bridge and none containers), doctor,
// network diagram --svg, and a hand-deleted rule showing up as missing until network reload.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Sandbox, isRoot } from './sandbox.js';

interface InspectJson {
  scope: { kind: string; mode?: string };
  links: { name: string; kind: string; master?: string }[];
  addresses: { ifname: string; local: string; prefixLength: number }[];
  routes: { text: string }[];
  firewall: { rules: { line: string; status: string; owner?: string }[]; missing: { line: string }[] };
}

describe('show your work', { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox();
  let dir = '';
  let veth = '';
  let ip = '';
  before(async () => {
    await box.setup();
    dir = await mkdtemp(join(tmpdir(), `${box.prefix}-svg-`));
    const run = await box.minictr(['run', '-d', '--name', 'web', '-p', '5005:5000', 'busybox', 'httpd', '-f', '-p', '5000']);
    assert.equal(run.code, 0, run.stderr);
    const fmt = await box.minictr(['inspect', '-f', '{{.NetworkSettings.Networks.bridge.IPAddress}}', 'web']);
    ip = fmt.stdout.trim();
    assert.match(ip, /^172\.18\.0\.\d+$/);
    veth = `veth${run.stdout.trim().slice(0, 7)}`;
  });
  after(async () => {
    await box.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const mc = (...args: string[]) => box.minictr(args);
  const dnat = () => `-A MINICTR -p tcp -m tcp --dport 5005 -m comment --comment "minictr:`;

  it('net inspect of the host: bridge, veth, addresses and the DNAT rule, all as planned', async () => {
    const r = await mc('net', 'inspect');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Network stack of the host/);
    assert.match(r.stdout, /minictr0\s+bridge\s+UP .*bridge of network "bridge"/);
    assert.match(r.stdout, new RegExp(`${veth}\\s+veth\\s+UP .*on minictr0\\s+host end of web's veth pair`));
    assert.match(r.stdout, /minictr0\s+inet\s+172\.18\.0\.1\/16\s+global\s+gateway of network "bridge"/);
    assert.ok(r.stdout.includes(`  ✓ ${dnat()}`), 'the DNAT rule, as planned');
    assert.ok(r.stdout.includes(`-j DNAT --to-destination ${ip}:5000`));
    assert.match(r.stdout, /\d+ rules as planned, 0 missing/);
  });

  it('net inspect of the container: eth0 with its address, its veth peer, its own DNAT rule', async () => {
    const r = await mc('net', 'inspect', 'web');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Network stack of container web \([0-9a-f]{12}\): network namespace minictr-/);
    assert.match(r.stdout, new RegExp(`eth0\\s+veth\\s+UP .*the other end is ${veth} on the host, plugged into minictr0`));
    assert.match(r.stdout, new RegExp(`eth0\\s+inet\\s+${ip.replace(/\./g, '\\.')}/16\\s+global`));
    assert.match(r.stdout, /default via 172\.18\.0\.1 dev eth0/);
    assert.ok(r.stdout.includes(`  ✓ ${dnat()}`));
    assert.ok(!r.stdout.includes('"minictr:bridge"'), 'only the rules that belong to this container');
    assert.match(r.stdout, /no rules: minictr installs nothing inside containers/);
  });

  it('net inspect --json parses, for the host and the container', async () => {
    const host = JSON.parse((await mc('net', 'inspect', '--json')).stdout) as InspectJson;
    assert.equal(host.scope.kind, 'host');
    assert.deepEqual(host.links.find((l) => l.name === 'minictr0')?.kind, 'bridge');
    assert.equal(host.links.find((l) => l.name === veth)?.master, 'minictr0');
    assert.ok(host.firewall.rules.some((x) => x.line.startsWith(dnat()) && x.status === 'planned' && x.owner === 'container web'));
    assert.deepEqual(host.firewall.missing, []);
    const ctr = JSON.parse((await mc('net', 'inspect', '--json', 'web')).stdout) as InspectJson;
    assert.equal(ctr.scope.mode, 'bridge');
    assert.deepEqual(ctr.links.map((l) => l.name), ['lo', 'eth0']);
    assert.ok(ctr.addresses.some((a) => a.ifname === 'eth0' && a.local === ip && a.prefixLength === 16));
    const all = JSON.parse((await mc('net', 'inspect', '--json', '--all')).stdout) as InspectJson;
    assert.ok(all.firewall.rules.length >= host.firewall.rules.length);
  });

  it('net inspect of a --network none container enters it by pid: only lo', async () => {
    const run = await mc('run', '-d', '--name', 'alone', '--network', 'none', 'busybox', 'sleep', '300');
    assert.equal(run.code, 0, run.stderr);
    try {
      const j = JSON.parse((await mc('net', 'inspect', '--json', 'alone')).stdout) as InspectJson;
      assert.equal(j.scope.mode, 'none');
      assert.deepEqual(j.links.map((l) => l.name), ['lo']);
      assert.deepEqual(j.firewall.rules, []);
    } finally {
      await mc('rm', '-f', 'alone');
    }
    const gone = await mc('net', 'inspect', 'alone');
    assert.equal(gone.code, 1);
  });

  it('a hand-deleted rule shows as missing until network reload', async () => {
    const save = await box.host(['iptables-save', '-t', 'nat']);
    const line = save.stdout.split('\n').find((l) => l.startsWith(dnat()));
    assert.ok(line, 'the DNAT rule is there');
    const del = await box.host(['sh', '-c', `iptables -t nat ${line.replace(/^-A/, '-D')}`]);
    assert.equal(del.code, 0, del.stderr);
    const r = await mc('net', 'inspect');
    assert.ok(r.stdout.includes(`  ✗ ${line}`), r.stdout);
    assert.match(r.stdout, /1 missing/);
    assert.equal((await mc('network', 'reload')).code, 0);
    const back = await mc('net', 'inspect');
    assert.match(back.stdout, /\d+ rules as planned, 0 missing/);
  });

  it('doctor passes in the sandbox', async () => {
    const r = await mc('doctor');
    assert.equal(r.code, 0, `doctor found a blocker:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /ok\s+tool iptables\s+iptables v/);
    assert.match(r.stdout, /ok\s+iptables backend\s+minictr uses/);
    assert.match(r.stdout, /no blockers/);
  });

  it('doctor says whether nft can print JSON when the nftables driver is asked for: ok with this nft, a blocker with one built without JSON', async () => {
    const nftables = { ...process.env, MINICTR_FIREWALL: 'nftables' };
    const good = await box.minictr(['doctor'], { env: nftables });
    assert.match(good.stdout, /ok\s+nft JSON\s+`nft -j list ruleset` works/);
    // An nft built without libjansson refuses -j before anything else (as nftables' main.c does); all else goes to the real one.
    const real = (await box.host(['sh', '-c', 'command -v nft'])).stdout.trim();
    const fake = join(dir, 'nft-without-json');
    await mkdir(fake, { recursive: true });
    await writeFile(join(fake, 'nft'), `#!/bin/sh\nfor a in "$@"; do [ "$a" = -j ] && { echo 'JSON support not compiled-in' >&2; exit 1; }; done\nexec ${real} "$@"\n`, { mode: 0o755 });
    const bad = await box.minictr(['doctor'], { env: { ...nftables, PATH: `${fake}:${process.env['PATH'] ?? ''}` } });
    assert.equal(bad.code, 1, bad.stdout);
    assert.match(bad.stdout, /BLOCKER\s+nft JSON\s+`nft -j list ruleset` fails: JSON support not compiled-in\n.*→ .*\n.*fix: install an nft built with JSON support \(libjansson\), e\.g\. Debian's or Ubuntu's: apt-get install nftables/);
    const iptables = await box.minictr(['doctor'], { env: { ...process.env, MINICTR_FIREWALL: 'iptables', PATH: `${fake}:${process.env['PATH'] ?? ''}` } });
    assert.doesNotMatch(iptables.stdout, /nft JSON/, 'no word of it while nothing uses nftables');
  });

  it('network diagram prints the tree and writes an SVG with the container', async () => {
    const file = join(dir, 'net.svg');
    const r = await mc('network', 'diagram', '--svg', file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`${veth} ═══ eth0 ${ip.replace(/\./g, '\\.')}/16\\s+web`));
    assert.match(r.stdout, /published 0\.0\.0\.0:5005\/tcp ─DNAT→ 172\.18\.0\.\d+:5000/);
    const svg = await readFile(file, 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    for (const s of ['>web<', `eth0 ${ip}/16`, veth, 'minictr0', ':5005/tcp']) assert.ok(svg.includes(s), `SVG has ${s}`);
    assert.ok(svg.trimEnd().endsWith('</svg>'));
    const unknown = await mc('network', 'diagram', 'nosuch');
    assert.equal(unknown.code, 1);
  });
});
