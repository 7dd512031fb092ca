// Unknown fields in API bodies are refused by name; every field of Docker's schema passes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkCreateFields, checkExecFields, checkNetworkCreateFields } from '../../../src/api/known-fields.js';

describe('API bodies: unknown fields', () => {
  it('passes the fields the docker CLI sends for a run', () => {
    assert.doesNotThrow(() => checkCreateFields({
      Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false,
      OpenStdin: false, StdinOnce: false, Env: [], Cmd: ['true'], Image: 'busybox', Volumes: {}, WorkingDir: '',
      Entrypoint: null, OnBuild: null, Labels: {},
      HostConfig: { Binds: null, NetworkMode: 'default', PortBindings: {}, RestartPolicy: { Name: 'no' }, AutoRemove: true,
        CgroupnsMode: '', Memory: 0, NanoCpus: 0, MaskedPaths: null, ConsoleSize: [0, 0], Ulimits: null },
      NetworkingConfig: { EndpointsConfig: {} },
    }));
  });

  it('refuses a made-up field by name, and suggests the field a wrong case meant', () => {
    assert.throws(() => checkCreateFields({ Image: 'busybox', Colour: 'blue' }), /unknown field "Colour" in the container create body/);
    assert.throws(() => checkCreateFields({ image: 'busybox' }), /unknown field "image".*did you mean "Image"\?/);
    assert.throws(() => checkCreateFields({ Image: 'busybox', HostConfig: { PortBinding: {} } }), /unknown field "PortBinding" in HostConfig/);
    assert.throws(() => checkExecFields({ Cmd: ['ls'], Command: ['ls'] }), /unknown field "Command" in the exec create body/);
    assert.throws(() => checkNetworkCreateFields({ Name: 'n', Subnet: '10.1.0.0/24' }), /unknown field "Subnet" in the network create body/);
  });

  it('each refusal is a 400', () => {
    try {
      checkCreateFields({ Bogus: 1 });
      assert.fail('not refused');
    } catch (err) {
      assert.equal((err as { status?: number }).status, 400);
    }
  });
});
