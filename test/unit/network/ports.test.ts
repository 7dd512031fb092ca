import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { MinictrError } from '../../../src/base/errors.js';
import {
  assignHostPorts,
  bindingsConflict,
  formatPortCommand,
  formatPortMapping,
  formatPortsColumn,
  parsePortSpec,
  natPorts,
  parseProcNetListeners,
  servedByRelay,
  takenBy,
  type PortRequest,
} from '../../../src/network/ports.js';
import type { PortMapping } from '../../../src/base/records.js';

const req = (hostIp: string, hostPort: number, containerPort: number, proto: 'tcp' | 'udp' = 'tcp'): PortRequest => ({
  hostIp,
  hostPort,
  containerPort,
  proto,
});

test('parsePortSpec: every accepted form', () => {
  const cases: [string, PortRequest[]][] = [
    ['5000', [req('', 0, 5000)]],
    ['5005:5000', [req('', 5005, 5000)]],
    ['127.0.0.1:8080:80', [req('127.0.0.1', 8080, 80)]],
    ['127.0.0.1::80', [req('127.0.0.1', 0, 80)]],
    ['0.0.0.0:80:80', [req('', 80, 80)]],
    ['5353:53/udp', [req('', 5353, 53, 'udp')]],
    ['5353:53/UDP', [req('', 5353, 53, 'udp')]],
    ['80/tcp', [req('', 0, 80)]],
    ['10.99.0.1:8080:80/udp', [req('10.99.0.1', 8080, 80, 'udp')]],
    [':80', [req('', 0, 80)]],
    ['8000-8002:9000-9002', [req('', 8000, 9000), req('', 8001, 9001), req('', 8002, 9002)]],
    ['7000-7001', [req('', 0, 7000), req('', 0, 7001)]],
    ['127.0.0.1::7000-7001/udp', [req('127.0.0.1', 0, 7000, 'udp'), req('127.0.0.1', 0, 7001, 'udp')]],
    ['65535:1', [req('', 65535, 1)]],
    ['8080:080', [req('', 8080, 80)]],
    // IPv6 host addresses: Docker's bracketed form, its unbracketed one, canonicalised.
    ['[::]:8080:80', [req('::', 8080, 80)]],
    ['[FD99:0::0001]:8080:80/udp', [req('fd99::1', 8080, 80, 'udp')]],
    ['[fd99::1]::80', [req('fd99::1', 0, 80)]],
    ['fd99::1:8080:80', [req('fd99::1', 8080, 80)]],
    // IPv6's loopback (served by the relay), in both of Docker's forms.
    ['[::1]:8080:80', [req('::1', 8080, 80)]],
    ['::1:8080:80/udp', [req('::1', 8080, 80, 'udp')]],
    ['[0:0::1]::80', [req('::1', 0, 80)]],
    // An IPv4-mapped address is its IPv4 address, as Go's net.IP has it for Docker.
    ['[::ffff:127.0.0.1]:8080:80', [req('127.0.0.1', 8080, 80)]],
    ['[::FFFF:7f00:2]:8080:80', [req('127.0.0.2', 8080, 80)]],
  ];
  for (const [spec, want] of cases) assert.deepEqual(parsePortSpec(spec), want, spec);
});

test('parsePortSpec: bad specs fail with E_BAD_PORT and a message naming the problem', () => {
  const cases: [string, string][] = [
    ['70000:80', 'invalid port spec "70000:80": port 70000 is out of range 1-65535'],
    ['80:70000', 'invalid port spec "80:70000": port 70000 is out of range 1-65535'],
    ['0:80', 'invalid port spec "0:80": port 0 is out of range 1-65535'],
    ['80:0', 'invalid port spec "80:0": port 0 is out of range 1-65535'],
    ['abc', 'invalid port spec "abc": container port "abc" is not a number'],
    ['http:80', 'invalid port spec "http:80": host port "http" is not a number'],
    ['-1:80', 'invalid port spec "-1:80": host port "-1" is not a number'],
    ['8002-8000:80-82', 'invalid port spec "8002-8000:80-82": port range 8002-8000 is reversed'],
    ['80-82:8002-8000', 'invalid port spec "80-82:8002-8000": port range 8002-8000 is reversed'],
    ['8000-8002:80-81', 'invalid port spec "8000-8002:80-81": host ports (3) and container ports (2) differ in number'],
    ['8000:80-81', 'invalid port spec "8000:80-81": host ports (1) and container ports (2) differ in number'],
    ['8000-8010:80', 'invalid port spec "8000-8010:80": a host port range needs a container port range of the same size'],
    ['1.2.3:80:80', 'invalid port spec "1.2.3:80:80": invalid host IP "1.2.3"'],
    ['256.1.1.1:80:80', 'invalid port spec "256.1.1.1:80:80": invalid host IP "256.1.1.1"'],
    ['01.2.3.4:80:80', 'invalid port spec "01.2.3.4:80:80": invalid host IP "01.2.3.4"'],
    ['localhost:80:80', 'invalid port spec "localhost:80:80": invalid host IP "localhost"'],
    ['[::1:80:80', 'invalid port spec "[::1:80:80": unclosed "[": write an IPv6 host address as [ADDR]:hostPort:containerPort, e.g. [::]:8080:80'],
    ['[fd99::1]8080:80', 'invalid port spec "[fd99::1]8080:80": write an IPv6 host address as [ADDR]:hostPort:containerPort, e.g. [::]:8080:80'],
    ['[fd99::1]:80', 'invalid port spec "[fd99::1]:80": write an IPv6 host address as [ADDR]:hostPort:containerPort, e.g. [::]:8080:80'],
    ['fd99::1]:80:80', 'invalid port spec "fd99::1]:80:80": "]" without "[": write an IPv6 host address as [ADDR]:hostPort:containerPort, e.g. [::]:8080:80'],
    ['[10.0.0.1]:80:80', 'invalid port spec "[10.0.0.1]:80:80": brackets are for IPv6 addresses only: write 10.0.0.1:…'],
    ['[fd99::zz]:80:80', 'invalid port spec "[fd99::zz]:80:80": invalid IPv6 host address "fd99::zz"'],
    ['fd99::zz:80:80', 'invalid port spec "fd99::zz:80:80": invalid IPv6 host address "fd99::zz"'],
    ['::80', 'invalid port spec "::80": missing host IP before "::"'],
    ['80/sctp', 'invalid port spec "80/sctp": unknown protocol "sctp" (use tcp or udp)'],
    ['80/', 'invalid port spec "80/": missing protocol after "/"'],
    ['', 'invalid port spec "": missing container port'],
    ['80:', 'invalid port spec "80:": missing container port'],
    ['1.2.3.4:80:', 'invalid port spec "1.2.3.4:80:": missing container port'],
    ['8000-:80', 'invalid port spec "8000-:80": host port "8000-" is not a number'],
    ['1-2-3:80', 'invalid port spec "1-2-3:80": host port "1-2-3" is not a number'],
    ['80.5', 'invalid port spec "80.5": container port "80.5" is not a number'],
    [' 80', 'invalid port spec " 80": container port " 80" is not a number'],
  ];
  for (const [spec, message] of cases) {
    assert.throws(
      () => parsePortSpec(spec),
      (err: unknown) => {
        if (!(err instanceof MinictrError)) return false;
        assert.equal(err.code, 'E_BAD_PORT', spec);
        assert.equal(err.exitCode, 125, spec);
        assert.equal(err.message, message, spec);
        return true;
      },
    );
  }
});

const map = (hostIp: string, hostPort: number, containerPort: number, proto: 'tcp' | 'udp' = 'tcp'): PortMapping => ({
  hostIp,
  hostPort,
  containerPort,
  proto,
});

test('formatPortMapping shows every-address as 0.0.0.0', () => {
  assert.equal(formatPortMapping(map('', 5005, 5000)), '0.0.0.0:5005->5000/tcp');
  assert.equal(formatPortMapping(map('127.0.0.1', 8080, 80, 'udp')), '127.0.0.1:8080->80/udp');
});

test('formatPortsColumn: sorted by container port, same-number runs folded like docker ps', () => {
  assert.equal(formatPortsColumn([]), '');
  assert.equal(
    formatPortsColumn([map('127.0.0.1', 8080, 80, 'udp'), map('', 5005, 5000)]),
    '127.0.0.1:8080->80/udp, 0.0.0.0:5005->5000/tcp',
  );
  assert.equal(
    formatPortsColumn([map('', 8002, 8002), map('', 8000, 8000), map('', 8001, 8001), map('', 5005, 5000)]),
    '0.0.0.0:8000-8002->8000-8002/tcp, 0.0.0.0:5005->5000/tcp',
  );
  assert.equal(
    formatPortsColumn([map('', 80, 80), map('', 82, 82), map('', 53, 53, 'udp')]),
    '0.0.0.0:80->80/tcp, 0.0.0.0:53->53/udp, 0.0.0.0:82->82/tcp',
  );
});

test('formatPortCommand: all mappings, or host addresses for one port', () => {
  const ms = [map('', 5005, 5000), map('127.0.0.1', 8080, 80, 'udp'), map('10.0.0.1', 5006, 5000)];
  assert.deepEqual(formatPortCommand(ms), [
    '80/udp -> 127.0.0.1:8080',
    '5000/tcp -> 0.0.0.0:5005',
    '5000/tcp -> 10.0.0.1:5006',
  ]);
  assert.deepEqual(formatPortCommand(ms, '5000'), ['0.0.0.0:5005', '10.0.0.1:5006']);
  assert.deepEqual(formatPortCommand(ms, '80/udp'), ['127.0.0.1:8080']);
  assert.deepEqual(formatPortCommand(ms, '80'), []);
  assert.throws(() => formatPortCommand(ms, 'web'), { code: 'E_BAD_PORT' });
});

test('bindingsConflict: every-address clashes with any address on the same port and protocol', () => {
  assert.equal(bindingsConflict({ ip: '', port: 80, proto: 'tcp' }, { ip: '127.0.0.1', port: 80, proto: 'tcp' }), true);
  assert.equal(bindingsConflict({ ip: '10.0.0.1', port: 80, proto: 'tcp' }, { ip: '', port: 80, proto: 'tcp' }), true);
  // Families apart: [::] and an IPv4 address do not clash (a dual-stack listener is given as both).
  assert.equal(bindingsConflict({ ip: '::', port: 80, proto: 'tcp' }, { ip: '10.0.0.1', port: 80, proto: 'tcp' }), false);
  assert.equal(bindingsConflict({ ip: '::', port: 80, proto: 'tcp' }, { ip: 'fd99::1', port: 80, proto: 'tcp' }), true);
  assert.equal(bindingsConflict({ ip: 'fd99::1', port: 80, proto: 'tcp' }, { ip: 'fd99::2', port: 80, proto: 'tcp' }), false);
  assert.equal(bindingsConflict({ ip: '10.0.0.1', port: 80, proto: 'tcp' }, { ip: '10.0.0.2', port: 80, proto: 'tcp' }), false);
  assert.equal(bindingsConflict({ ip: '', port: 80, proto: 'tcp' }, { ip: '', port: 80, proto: 'udp' }), false);
  assert.equal(bindingsConflict({ ip: '', port: 80, proto: 'tcp' }, { ip: '', port: 81, proto: 'tcp' }), false);
});

test('assignHostPorts: fixed ports kept, 0 filled by pick(), order preserved', () => {
  const picks = [5005, 40000, 40001, 40000];
  const taken = takenBy([{ ip: '0.0.0.0', port: 40000, proto: 'tcp' }]);
  const out = assignHostPorts([req('', 0, 5000), req('', 5005, 80), req('127.0.0.1', 0, 53, 'udp')], taken, () => {
    const p = picks.shift();
    assert.ok(p !== undefined, 'pick() called too often');
    return p;
  });
  // 5005 is skipped (asked for by a later fixed request), 40000 is a host listener's.
  assert.deepEqual(out, [map('', 40001, 5000), map('', 5005, 80), map('127.0.0.1', 40000, 53, 'udp')]);
});

test('assignHostPorts: a taken fixed port is rejected like Docker', () => {
  const taken = takenBy([{ ip: '127.0.0.1', port: 5005, proto: 'tcp' }]);
  assert.throws(() => assignHostPorts([req('', 5005, 5000)], taken, () => 1), {
    code: 'E_PORT_IN_USE',
    exitCode: 125,
    message: 'Bind for 0.0.0.0:5005 failed: port is already allocated',
  });
  // A dual-stack listener on :: (gather gives it as 0.0.0.0 and ::) takes IPv4 too.
  const dual = takenBy([{ ip: '0.0.0.0', port: 5005, proto: 'tcp' }, { ip: '::', port: 5005, proto: 'tcp' }]);
  assert.throws(() => assignHostPorts([req('127.0.0.1', 5005, 5000)], dual, () => 1), {
    message: 'Bind for 127.0.0.1:5005 failed: port is already allocated',
  });
  // Same port, other protocol or other specific address: free.
  assert.deepEqual(assignHostPorts([req('', 5005, 5000, 'udp'), req('10.0.0.1', 5005, 1)], taken, () => 1), [
    map('', 5005, 5000, 'udp'),
    map('10.0.0.1', 5005, 1),
  ]);
  // A specific IPv6 listener does not take IPv4 traffic.
  assert.deepEqual(assignHostPorts([req('', 22, 22)], takenBy([{ ip: '::1', port: 22, proto: 'tcp' }]), () => 1), [
    map('', 22, 22),
  ]);
});

test('assignHostPorts: two requests of one run collide', () => {
  const free = (): boolean => false;
  assert.throws(() => assignHostPorts([req('', 5005, 5000), req('', 5005, 5001)], free, () => 1), {
    message: 'Bind for 0.0.0.0:5005 failed: port is already allocated',
  });
  assert.throws(() => assignHostPorts([req('127.0.0.1', 5005, 5000), req('', 5005, 5001)], free, () => 1), {
    message: 'Bind for 0.0.0.0:5005 failed: port is already allocated',
  });
  assert.throws(() => assignHostPorts([req('', 5005, 5000), req('127.0.0.1', 5005, 5001)], free, () => 1), {
    message: 'Bind for 127.0.0.1:5005 failed: port is already allocated',
  });
});

test('assignHostPorts: gives up after bounded tries', () => {
  let calls = 0;
  assert.throws(
    () =>
      assignHostPorts([req('', 0, 5000)], () => true, () => {
        calls++;
        return 33000;
      }),
    { code: 'E_PORT_IN_USE', message: 'no free host port found for 5000/tcp after 100 tries' },
  );
  assert.equal(calls, 100);
});

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21345 1 0000000000000000 100 0 0 10 0
   1: 0100007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 18842 1 0000000000000000 100 0 0 10 5
   2: 0263000A:138D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 23001 1 0000000000000000 100 0 0 10 0
   3: 0263000A:D2F2 0263000A:138D 01 00000000:00000000 02:000A7D8C 00000000     0        0 23990 2 0000000000000000 20 4 30 10 -1
   4: 0100007F:0035 0100007F:C350 06 00000000:00000000 03:00001234 00000000     0        0 0 3 0000000000000000
`;

const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20102 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:0277 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20110 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20111 1 0000000000000000 100 0 0 10 0
   3: 00000000000000000000000001000000:0277 00000000000000000000000001000000:9C40 01 00000000:00000000 00:00000000 00000000     0        0 20120 1 0000000000000000 100 0 0 10 0
`;

const UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 18841 2 0000000000000000 0
  456: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 19000 2 0000000000000000 0
  789: 0263000A:A1B2 08080808:0035 01 00000000:00000000 00:00000000 00000000     0        0 19500 2 0000000000000000 0
`;

test('parseProcNetListeners: TCP LISTEN only, addresses decoded from little-endian hex', () => {
  assert.deepEqual(parseProcNetListeners(TCP, 'tcp'), [
    { ip: '0.0.0.0', port: 8080 },
    { ip: '127.0.0.1', port: 53 },
    { ip: '10.0.99.2', port: 5005 },
  ]);
  assert.deepEqual(parseProcNetListeners(TCP6, 'tcp'), [
    { ip: '::', port: 22 },
    { ip: '::1', port: 631 },
    { ip: '127.0.0.1', port: 8081 },
  ]);
});

test('parseProcNetListeners: UDP bound sockets (07), not connected ones', () => {
  assert.deepEqual(parseProcNetListeners(UDP, 'udp'), [
    { ip: '127.0.0.53', port: 53 },
    { ip: '0.0.0.0', port: 5353 },
  ]);
  assert.deepEqual(parseProcNetListeners(UDP, 'tcp'), []);
  assert.deepEqual(parseProcNetListeners('', 'udp'), []);
});

test('listeners from /proc feed takenBy', () => {
  const listeners = parseProcNetListeners(TCP, 'tcp').map((l) => ({ ...l, proto: 'tcp' as const }));
  const taken = takenBy(listeners);
  assert.equal(taken('', 8080, 'tcp'), true);
  assert.equal(taken('10.0.99.2', 5005, 'tcp'), true);
  assert.equal(taken('127.0.0.1', 5005, 'tcp'), false);
  assert.equal(taken('', 5005, 'tcp'), true);
  assert.equal(taken('', 8080, 'udp'), false);
});

test('assignHostPorts: dual stack publishes every-address requests on 0.0.0.0 and [::], with one port free on both', () => {
  const taken = takenBy([{ ip: '::', port: 5005, proto: 'tcp' }]);
  assert.throws(() => assignHostPorts([req('', 5005, 5000)], taken, () => 1, { dualStack: true }), { message: 'Bind for 0.0.0.0:5005 failed: port is already allocated' });
  assert.deepEqual(assignHostPorts([req('', 5005, 5000)], taken, () => 1), [map('', 5005, 5000)]);
  const picks = [5005, 5006];
  assert.deepEqual(assignHostPorts([req('', 0, 80), req('fd99::1', 8080, 81)], taken, () => picks.shift() ?? 0, { dualStack: true }), [
    map('', 5006, 80),
    map('::', 5006, 80),
    map('fd99::1', 8080, 81),
  ]);
  assert.throws(() => assignHostPorts([req('::', 9000, 80), req('fd99::1', 9000, 81)], takenBy([]), () => 1, { dualStack: true }), { message: 'Bind for [fd99::1]:9000 failed: port is already allocated' });
});

test('IPv6 host addresses are shown in brackets, as docker ps and docker port do', () => {
  const ms = [map('', 8080, 80), map('::', 8080, 80)];
  assert.equal(formatPortsColumn(ms), '0.0.0.0:8080->80/tcp, [::]:8080->80/tcp');
  assert.deepEqual(formatPortCommand(ms), ['80/tcp -> 0.0.0.0:8080', '80/tcp -> [::]:8080']);
});

test('servedByRelay: only [::1] needs the relay; the firewall drivers publish the rest', () => {
  const m = (hostIp: string): PortMapping => ({ hostIp, hostPort: 8080, containerPort: 80, proto: 'tcp' });
  assert.deepEqual(['', '::', '127.0.0.1', 'fd99::1', '::1'].map((ip) => servedByRelay(m(ip))), [false, false, false, false, true]);
  assert.deepEqual(natPorts([m(''), m('::1'), m('::')]), [m(''), m('::')]);
});
