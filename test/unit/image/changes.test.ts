import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { applyChanges } from '../../../src/image/changes.js';
import type { ImageConfig } from '../../../src/state/images.js';

const BASE: ImageConfig = { Cmd: [], Entrypoint: [], Env: ['PATH=/bin'], WorkingDir: '', User: '' };

describe('import --change', () => {
  it('applies CMD/ENTRYPOINT in JSON and shell form, ENV, USER, WORKDIR, EXPOSE', () => {
    const config = applyChanges(BASE, [
      'CMD echo hi',
      'ENTRYPOINT ["/bin/sh", "-c"]',
      'ENV PATH=/usr/bin:/bin',
      'ENV GREETING hello world',
      'user nobody',
      'WORKDIR /srv',
      'EXPOSE 80 53/udp',
    ]);
    assert.deepEqual(config, {
      Cmd: ['/bin/sh', '-c', 'echo hi'],
      Entrypoint: ['/bin/sh', '-c'],
      Env: ['PATH=/usr/bin:/bin', 'GREETING=hello world'],
      WorkingDir: '/srv',
      User: 'nobody',
      ExposedPorts: { '80/tcp': {}, '53/udp': {} },
    });
    assert.deepEqual(BASE.Env, ['PATH=/bin'], 'the base is not modified');
  });

  it('refuses what it does not support, in one line', () => {
    assert.throws(() => applyChanges(BASE, ['RUN rm -rf /']), /--change "RUN rm -rf \/": RUN is not supported/);
    assert.throws(() => applyChanges(BASE, ['CMD ["sh", 1]']), { code: 'E_BAD_CHANGE' });
    assert.throws(() => applyChanges(BASE, ['WORKDIR relative']), /absolute path/);
    assert.throws(() => applyChanges(BASE, ['EXPOSE http']), /bad port/);
    assert.throws(() => applyChanges(BASE, ['VOLUME data']), /VOLUME needs absolute paths/);
  });

  it('VOLUME in shell and JSON form adds to the image volumes', () => {
    const config = applyChanges(BASE, ['VOLUME /data /logs', 'VOLUME ["/cache"]']);
    assert.deepEqual(config.Volumes, { '/data': {}, '/logs': {}, '/cache': {} });
  });
});
