import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { portSpecs, specFromCreate } from '../../../src/api/translate.js';
import { requestedPortBindings } from '../../../src/runtime/inspect.js';
import { splitVersion } from '../../../src/api/server.js';
import { statusOf } from '../../../src/api/http.js';
import { MinictrError } from '../../../src/base/errors.js';

describe('Engine API: create bodies as the CLI would make them', () => {
  it('reads what docker run -d --name -p -e -w --rm sends', () => {
    const spec = specFromCreate({
      Image: 'busybox', Cmd: ['httpd', '-f'], Env: ['A=1'], WorkingDir: '/srv', Tty: false, OpenStdin: true,
      Labels: { 'com.docker.compose.project': 'demo' },
      HostConfig: { PortBindings: { '5000/tcp': [{ HostIp: '', HostPort: '5005' }] }, AutoRemove: true, NetworkMode: 'default', RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 }, Memory: 33554432 },
    }, 'web');
    assert.equal(spec.name, 'web');
    assert.deepEqual(spec.command, ['httpd', '-f']);
    assert.deepEqual(spec.publish, ['5005:5000/tcp']);
    assert.equal(spec.network, undefined, '"default" is the bridge');
    assert.equal(spec.autoRemove, true);
    assert.equal(spec.interactive, true);
    assert.deepEqual(spec.restartPolicy, { name: 'on-failure', maximumRetryCount: 2 });
    assert.deepEqual(spec.resources, { memory: 33554432 });
    assert.deepEqual(spec.labels, { 'com.docker.compose.project': 'demo' });
  });

  it('the addresses docker run --ip/--ip6 send in the endpoint of the network joined', () => {
    const sent = { IPAMConfig: { IPv4Address: '172.30.0.10', IPv6Address: 'fd30::10' }, Aliases: ['db'] };
    const spec = specFromCreate({ Image: 'busybox', HostConfig: { NetworkMode: 'back' }, NetworkingConfig: { EndpointsConfig: { back: sent } } }, undefined);
    assert.equal(spec.ip, '172.30.0.10');
    assert.equal(spec.ip6, 'fd30::10');
    assert.deepEqual(spec.networkAliases, ['db']);
    const none = specFromCreate({ Image: 'busybox', HostConfig: { NetworkMode: 'back' }, NetworkingConfig: { EndpointsConfig: { back: { IPAMConfig: { IPv4Address: '', IPv6Address: '' } } } } }, undefined);
    assert.equal(none.ip, undefined, 'empty strings are "not asked"');
    assert.equal(none.ip6, undefined);
    assert.throws(() => specFromCreate({ Image: 'busybox', NetworkingConfig: { EndpointsConfig: { back: { IPAMConfig: { IPv4Address: 42 } } } } }, undefined), /IPAMConfig\.IPv4Address/);
  });

  it('an entrypoint of several words leads the command', () => {
    const spec = specFromCreate({ Image: 'busybox', Entrypoint: ['sh', '-c'], Cmd: ['echo hi'] }, undefined);
    assert.equal(spec.entrypoint, 'sh');
    assert.deepEqual(spec.command, ['-c', 'echo hi']);
  });

  it('port bindings with an address, with no host port, and none at all', () => {
    assert.deepEqual(portSpecs({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '53/udp': [{ HostPort: '' }], '443/tcp': null }), ['127.0.0.1:8080:80/tcp', '53/udp', '443/tcp']);
  });

  it('IPv6 host addresses in brackets, so inspect gives back the bindings the client sent', () => {
    const sent = { '80/tcp': [{ HostIp: '::1', HostPort: '8080' }, { HostIp: '::', HostPort: '' }], '53/udp': [{ HostIp: '', HostPort: '5353' }] };
    const specs = portSpecs(sent);
    assert.deepEqual(specs, ['[::1]:8080:80/tcp', '[::]::80/tcp', '5353:53/udp']);
    assert.deepEqual(requestedPortBindings(specs), sent);
  });

  it('refuses a missing image and wrong types with a 400', () => {
    assert.throws(() => specFromCreate({}, undefined), (e: Error & { status?: number }) => e.status === 400 && /Image/.test(e.message));
    assert.throws(() => specFromCreate({ Image: 'busybox', Cmd: 42 }, undefined), (e: Error & { status?: number }) => e.status === 400 && /Cmd/.test(e.message));
    assert.throws(() => specFromCreate({ Image: 'busybox', HostConfig: { AutoRemove: 'yes' } }, undefined), /AutoRemove/);
  });
});

describe('Engine API: paths and statuses', () => {
  it('takes the version prefix off', () => {
    assert.deepEqual(splitVersion('/v1.41/containers/json'), { path: '/containers/json', version: '1.41' });
    assert.deepEqual(splitVersion('/_ping'), { path: '/_ping' });
  });

  it("maps minictr's errors to Docker's status codes", () => {
    assert.equal(statusOf(new MinictrError('E_NO_SUCH_CONTAINER', 'x')), 404);
    assert.equal(statusOf(new MinictrError('E_NAME_IN_USE', 'x')), 409);
    assert.equal(statusOf(new MinictrError('E_BAD_FLAG', 'x')), 400);
    assert.equal(statusOf(new MinictrError('E_CONFLICTING_OPTIONS', 'x')), 400, 'runconfig\'s validation errors');
    assert.equal(statusOf(new MinictrError('E_ADDRESS_IN_USE', 'x')), 403, 'libnetwork\'s "Address already in use" is Forbidden');
    assert.equal(statusOf(new MinictrError('E_INTERNAL', 'x')), 500);
    assert.equal(statusOf(new Error('x')), 500);
  });
});
