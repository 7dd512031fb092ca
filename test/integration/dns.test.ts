// Docker's embedded DNS on user-defined networks: 127.0.0.11 in resolv.conf, names, aliases, short
// ids and hostnames of the asking container's network only, other names forwarded to the host's
// resolvers (here a small DNS server in the outside world, and one on the sandbox host's loopback),
// answers that follow containers joining and leaving, and a resolver that lives only while a
// network has containers.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Sandbox, eventually, isRoot, sh, HOST_IP, WAN_IP, type Result } from './sandbox.js';

const DNS_SERVER = fileURLToPath(new URL('./dns-server.js', import.meta.url));

/** getaddrinfo as musl does it, printing each IPv4 address: `lookup NAME`. */
const LOOKUP_C = `#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
int main(int argc, char **argv) {
  struct addrinfo hints, *res, *p;
  if (argc < 2) return 2;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(argv[1], NULL, &hints, &res);
  if (rc != 0) { fprintf(stderr, "%s: %s\\n", argv[1], gai_strerror(rc)); return 1; }
  for (p = res; p; p = p->ai_next) {
    char buf[64];
    inet_ntop(AF_INET, &((struct sockaddr_in *)p->ai_addr)->sin_addr, buf, sizeof buf);
    printf("%s %s\\n", buf, argv[1]);
  }
  return 0;
}
`;

/** The address busybox nslookup prints for the name, after the server's own lines. */
function answered(r: Result): string[] {
  const after = r.stdout.split(/\n\s*\n/).slice(1).join('\n');
  return [...after.matchAll(/^Address(?: \d+)?:\s+([0-9.]+)$/gm)].map((m) => m[1] ?? '');
}

describe('embedded DNS on user-defined networks', { skip: !isRoot && 'needs root' }, () => {
  const box = new Sandbox();
  let dir = '';
  let resolvConf = '';
  const mc = (...args: string[]) => box.minictr(args, { env: { ...process.env, MINICTR_RESOLV_CONF: resolvConf } });
  const ipOf = async (name: string) => (await mc('inspect', '-f', '{{.NetworkSettings.IPAddress}}', name)).stdout.trim();
  const idOf = async (name: string) => (await mc('inspect', '-f', '{{.Id}}', name)).stdout.trim();
  const lookup = (from: string, name: string) => mc('exec', from, 'timeout', '5', 'nslookup', name);
  const resolverPid = async (): Promise<number | undefined> => {
    const pid = Number((await readFile(join(box.root, 'dns', 'resolver.pid'), 'utf8').catch(() => '')).trim());
    if (!pid) return undefined;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    return cmd.includes('minictr-dns') ? pid : undefined;
  };

  before(async () => {
    await box.setup();
    dir = await mkdtemp(join(tmpdir(), `${box.prefix}-dns-`));
    resolvConf = join(dir, 'resolv.conf');
    // The sandbox host's resolvers: a DNS server in the outside world.
    await writeFile(resolvConf, `search corp.test\nnameserver ${WAN_IP}\n`);
    box.background('wan', [process.execPath, DNS_SERVER, WAN_IP, `www.outside.test=${WAN_IP}`]);
    await eventually(async () => {
      const r = await box.host(['timeout', '2', 'busybox', 'nslookup', 'www.outside.test', WAN_IP]);
      return r.code === 0;
    }, 10_000, 'the outside DNS server to answer');
    for (const net of ['neta', 'netb']) assert.equal((await mc('network', 'create', net)).code, 0);
    const run = async (...args: string[]) => {
      const r = await mc('run', '-d', ...args);
      assert.equal(r.code, 0, r.stderr);
    };
    await run('--name', 'a1', '--network', 'neta', '--network-alias', 'web', '--hostname', 'a1host', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc');
    await run('--name', 'a2', '--network', 'neta', 'busybox', 'sleep', '600');
    await run('--name', 'b1', '--network', 'netb', 'busybox', 'sleep', '600');
    await run('--name', 'c1', 'busybox', 'sleep', '600');
  });
  after(async () => {
    await box.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("points a user-defined network's containers at 127.0.0.11 with Docker's ndots:0, and the default bridge at the host's servers", async () => {
    const a2 = (await mc('exec', 'a2', 'cat', '/etc/resolv.conf')).stdout;
    assert.match(a2, /^nameserver 127\.0\.0\.11$/m);
    assert.match(a2, /^options ndots:0$/m);
    assert.match(a2, /^search corp\.test$/m);
    assert.doesNotMatch(a2, /^nameserver 10\./m);
    const c1 = (await mc('exec', 'c1', 'cat', '/etc/resolv.conf')).stdout;
    assert.match(c1, new RegExp(`^nameserver ${WAN_IP.replaceAll('.', '\\.')}$`, 'm'));
    assert.doesNotMatch(c1, /127\.0\.0\.11/);
    // Names come from DNS, not from /etc/hosts lines.
    assert.doesNotMatch((await mc('exec', 'a2', 'cat', '/etc/hosts')).stdout, /\sa1(\s|$)/m);
  });

  it('answers names, aliases, short ids and hostnames of the same network, and wget by name works', async () => {
    const a1 = await ipOf('a1');
    const shortId = (await idOf('a1')).slice(0, 12);
    for (const name of ['a1', 'web', shortId, 'a1host', 'A1']) {
      const r = await lookup('a2', name);
      assert.equal(r.code, 0, `${name}: ${r.stdout}${r.stderr}`);
      assert.deepEqual(answered(r), [a1], `${name} is a1`);
    }
    const page = await mc('exec', 'a2', 'timeout', '5', 'wget', '-qO-', 'http://web/hostname');
    assert.equal(page.code, 0, page.stderr);
    assert.equal(page.stdout.trim(), 'a1host');
    assert.equal((await mc('exec', 'a1', 'ping', '-c1', '-W2', 'a2')).code, 0, 'a1 finds a2 too');
  });

  it("forwards other names to the host's resolvers", async () => {
    for (const from of ['a2', 'b1', 'c1']) {
      const r = await lookup(from, 'www.outside.test');
      assert.equal(r.code, 0, `${from}: ${r.stdout}${r.stderr}`);
      assert.deepEqual(answered(r), [WAN_IP]);
    }
    const missing = await lookup('a2', 'nothing.outside.test');
    assert.notEqual(missing.code, 0, 'a name nobody has is not found');
  });

  it("keeps each network's names to itself; the default bridge has none", async () => {
    for (const from of ['b1', 'c1']) {
      const r = await lookup(from, 'a1');
      assert.deepEqual(answered(r), [], `${from} must not resolve a1: ${r.stdout}`);
    }
    assert.deepEqual(answered(await lookup('b1', 'b1')), [await ipOf('b1')], 'b1 resolves its own network');
    // Asking neta's resolver directly does not help a stranger: it answers containers of its networks only.
    const gateway = (await mc('network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'neta')).stdout.trim();
    for (const from of ['b1', 'c1']) {
      const r = await mc('exec', from, 'timeout', '5', 'nslookup', 'a1', gateway);
      assert.deepEqual(answered(r), [], `${from} asking ${gateway} must not resolve a1: ${r.stdout}`);
    }
    const outside = await box.wan(['timeout', '5', 'busybox', 'nslookup', 'a1', HOST_IP]);
    assert.deepEqual(answered(outside), [], 'the outside world gets nothing either');
  });

  it('follows containers joining and leaving', async () => {
    assert.equal((await mc('run', '-d', '--name', 'a3', '--network', 'neta', 'busybox', 'sleep', '600')).code, 0);
    const a3 = await ipOf('a3');
    // At once: the start returns only after the resolver answers the new names.
    assert.deepEqual(answered(await lookup('a2', 'a3')), [a3], 'a2 resolves a3 right after its start');
    assert.deepEqual(answered(await lookup('a3', 'a1')), [await ipOf('a1')], 'a3 resolves a1 from its first question');
    assert.equal((await mc('rm', '-f', 'a3')).code, 0);
    assert.deepEqual(answered(await lookup('a2', 'a3')), [], 'a3 is forgotten once removed');
  });

  it('answers every question while other containers come and go (a reload keeps its sockets)', async () => {
    const resolver = await resolverPid();
    // a2 asks for a1 without pause while four containers start and stop on neta.
    const asking = mc('exec', 'a2', 'sh', '-c',
      'ok=0; bad=0; while [ ! -e /tmp/stop ]; do if timeout 2 nslookup a1 >/dev/null 2>&1; then ok=$((ok+1)); else bad=$((bad+1)); fi; done; echo ok=$ok bad=$bad');
    for (let i = 0; i < 4; i++) assert.equal((await mc('run', '--rm', '--network', 'neta', 'busybox', 'true')).code, 0);
    assert.equal((await mc('exec', 'a2', 'touch', '/tmp/stop')).code, 0);
    const counts = (await asking).stdout.trim();
    assert.match(counts, /^ok=[1-9]\d* bad=0$/, `every lookup answered during eight reloads: ${counts}`);
    assert.equal(await resolverPid(), resolver, 'one resolver all along');
  });

  it("musl's resolver (Alpine's libc) finds names, aliases and outside names too", { skip: !existsSync('/usr/bin/musl-gcc') && 'musl-gcc is not installed (Debian musl-tools, make test-deps)' }, async () => {
    // No Alpine image can be pulled here; a static musl program calling getaddrinfo, in an image
    // of its own, asks the same way Alpine's tools do (A and AAAA at once, every nameserver).
    await writeFile(join(dir, 'lookup.c'), LOOKUP_C);
    const cc = await sh(['musl-gcc', '-static', '-O2', '-o', join(dir, 'lookup'), join(dir, 'lookup.c')]);
    assert.equal(cc.code, 0, cc.stderr);
    const imported = await box.importImage(dir, 'musl-lookup', async (rootfs) => {
      await copyFile(join(dir, 'lookup'), join(rootfs, 'bin', 'lookup'));
      await chmod(join(rootfs, 'bin', 'lookup'), 0o755);
    }, { applets: ['sh', 'sleep'] });
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal((await mc('run', '-d', '--name', 'm1', '--network', 'neta', 'musl-lookup', 'sleep', '600')).code, 0);
    try {
      const a1 = await ipOf('a1');
      for (const [name, ip] of [['a1', a1], ['web', a1], ['www.outside.test', WAN_IP]] as const) {
        const r = await mc('exec', 'm1', 'lookup', name);
        assert.equal(r.code, 0, `${name}: ${r.stderr}`);
        assert.equal(r.stdout, `${ip} ${name}\n`);
      }
      assert.notEqual((await mc('exec', 'm1', 'lookup', 'b1')).code, 0, "netb's names stay on netb");
    } finally {
      assert.equal((await mc('rm', '-f', 'm1')).code, 0);
    }
  });

  it('asks a resolver on the host loopback too (systemd-resolved style)', async () => {
    box.background('host', [process.execPath, DNS_SERVER, '127.0.0.53', 'loop.inside.test=10.99.0.53']);
    await eventually(async () => (await box.host(['timeout', '2', 'busybox', 'nslookup', 'loop.inside.test', '127.0.0.53'])).code === 0, 10_000, 'the loopback DNS server');
    await writeFile(resolvConf, 'nameserver 127.0.0.53\n');
    // The network's servers are read again when a container joins.
    assert.equal((await mc('run', '-d', '--name', 'a4', '--network', 'neta', 'busybox', 'sleep', '600')).code, 0);
    assert.deepEqual(answered(await lookup('a4', 'loop.inside.test')), ['10.99.0.53']);
    assert.equal((await mc('rm', '-f', 'a4')).code, 0);
    await writeFile(resolvConf, `search corp.test\nnameserver ${WAN_IP}\n`);
  });

  it('--dns, --dns-search, --dns-option and --add-host (host-gateway) shape the files as Docker does', async () => {
    const flags = ['--dns', '10.99.0.9', '--dns-search', 'example.test', '--dns-option', 'ndots:3', '--add-host', 'db:10.1.2.3', '--add-host', 'host.docker.internal:host-gateway'];
    const onBridge = await mc('run', '--rm', ...flags, 'busybox', 'cat', '/etc/resolv.conf', '/etc/hosts');
    assert.equal(onBridge.code, 0, onBridge.stderr);
    assert.match(onBridge.stdout, /^nameserver 10\.99\.0\.9$/m);
    assert.match(onBridge.stdout, /^search example\.test$/m);
    assert.match(onBridge.stdout, /^options ndots:3$/m);
    assert.match(onBridge.stdout, /^10\.1\.2\.3\tdb$/m);
    assert.match(onBridge.stdout, /^172\.18\.0\.1\thost\.docker\.internal$/m);
    const onNet = await mc('run', '--rm', '--network', 'neta', ...flags, 'busybox', 'cat', '/etc/resolv.conf', '/etc/hosts');
    assert.equal(onNet.code, 0, onNet.stderr);
    assert.match(onNet.stdout, /^nameserver 127\.0\.0\.11$/m);
    assert.match(onNet.stdout, /^options ndots:3$/m, 'a given ndots is kept, not replaced by ndots:0');
    assert.match(onNet.stdout, /^172\.19\.0\.1\thost\.docker\.internal$/m, "host-gateway is the network's gateway");
  });

  it('the resolver lives only while a user-defined network has containers', async () => {
    assert.ok(await resolverPid(), 'a resolver runs while neta and netb have containers');
    assert.equal((await mc('rm', '-f', 'a1', 'a2')).code, 0);
    const pid = await resolverPid();
    assert.ok(pid, 'netb still has b1: a resolver still runs');
    const b1 = await ipOf('b1');
    assert.equal(await resolverPid(), pid, 'the same resolver: reloaded, not restarted');
    assert.deepEqual(answered(await lookup('b1', 'b1')), [b1], 'b1 still resolves itself');
    assert.equal((await mc('rm', '-f', 'b1')).code, 0);
    assert.equal(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''), '', 'the last container took the resolver with it');
    assert.equal(await resolverPid(), undefined);
  });
});
