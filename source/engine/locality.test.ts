import assert from 'node:assert/strict';
import { test } from 'node:test';
import { engineIsRemote } from './locality.ts';

test('a unix socket is local, every other endpoint is remote', () => {
	assert.equal(engineIsRemote({ kind: 'unix' }, {}), false);
	assert.equal(engineIsRemote({ kind: 'tcp' }, {}), true);
	// the ssh kind (remote connections) is remote like any endpoint that is not a unix socket
	assert.equal(engineIsRemote({ kind: 'ssh' } as unknown as { kind: 'tcp' }, {}), true);
});

test('STIGMER_ENGINE_REMOTE=1|0 overrides the endpoint; empty means unset; anything else is an error', () => {
	assert.equal(engineIsRemote({ kind: 'unix' }, { STIGMER_ENGINE_REMOTE: '1' }), true);
	assert.equal(engineIsRemote({ kind: 'tcp' }, { STIGMER_ENGINE_REMOTE: '0' }), false);
	assert.equal(engineIsRemote({ kind: 'unix' }, { STIGMER_ENGINE_REMOTE: '' }), false);
	assert.throws(() => engineIsRemote({ kind: 'unix' }, { STIGMER_ENGINE_REMOTE: 'yes' }), /STIGMER_ENGINE_REMOTE must be 1 \(remote\) or 0 \(local\), not "yes"/);
});
