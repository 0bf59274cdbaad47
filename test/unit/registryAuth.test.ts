// Registry credentials as the docker CLI keeps them (engine/registryAuth.ts) and the refusals of a pull
// (agentRunner/ImagePuller.ts), from the engine's own words.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { classifyPullError } from '../../source/agentRunner/ImagePuller.ts';
import { registryAuth, registryOf } from '../../source/engine/registryAuth.ts';

test('the registry of a reference, as docker reads it', () => {
	assert.equal(registryOf('debian:trixie-slim'), 'docker.io');
	assert.equal(registryOf('stigmer/agent-runner:0.1.0'), 'docker.io');
	assert.equal(registryOf('127.0.0.1:5000/stigmer/agent-runner@sha256:ab'), '127.0.0.1:5000');
	assert.equal(registryOf('ghcr.io/acme/runner:1'), 'ghcr.io');
	assert.equal(registryOf('localhost/x:1'), 'localhost');
});

test('credentials: auths (docker login), a credential helper, none', () => {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'stigmer-auth-'));
	try {
		const env = { DOCKER_CONFIG: dir, PATH: `${dir}:${process.env.PATH}` };
		assert.equal(registryAuth('127.0.0.1:5000/a:1', env), null, 'no config.json: anonymous');
		writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths: { '127.0.0.1:5000': { auth: Buffer.from('ann:s3:cret').toString('base64') } } }));
		assert.deepEqual(registryAuth('127.0.0.1:5000/a:1', env), { username: 'ann', password: 's3:cret', serveraddress: '127.0.0.1:5000' });
		assert.equal(registryAuth('ghcr.io/a:1', env), null);
		// a helper is a program: docker-credential-<name> get, the registry on stdin
		writeFileSync(
			path.join(dir, 'docker-credential-fake'),
			'#!/bin/sh\nread r\n[ "$r" = "ghcr.io" ] && echo \'{"ServerURL":"ghcr.io","Username":"<token>","Secret":"tok"}\' && exit 0\necho "credentials not found in native keychain"; exit 1\n',
		);
		chmodSync(path.join(dir, 'docker-credential-fake'), 0o755);
		writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ credHelpers: { 'ghcr.io': 'fake' }, credsStore: 'fake' }));
		assert.deepEqual(registryAuth('ghcr.io/a:1', env), { identitytoken: 'tok', serveraddress: 'ghcr.io' });
		assert.equal(registryAuth('quay.io/a:1', env), null, 'the store has nothing for it: anonymous');
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

test('each refusal of a pull has its own message and fix; only an unreachable registry is retried', () => {
	const image = '127.0.0.1:5000/stigmer/agent-runner@sha256:00';
	const cases: Array<[string, RegExp, RegExp, boolean]> = [
		['manifest for 127.0.0.1:5000/stigmer/agent-runner@sha256:00 not found: manifest unknown: manifest unknown', /has no image/, /digest in agentRunner.image/, false],
		['Head "http://127.0.0.1:5000/v2/stigmer/agent-runner/manifests/sha256:00": no basic auth credentials', /without a login/, /docker login 127\.0\.0\.1:5000/, false],
		['Get "http://127.0.0.1:5000/v2/": dial tcp 127.0.0.1:5000: connect: connection refused', /cannot reach the registry 127\.0\.0\.1:5000/, /is up and reachable/, true],
		// a port with 401 or 404 in it is not a status (it read as 'needs a login' once)
		['Get "http://127.0.0.1:40123/v2/": dial tcp 127.0.0.1:40123: connect: connection refused', /cannot reach the registry/, /is up and reachable/, true],
		['Get "http://127.0.0.1:34041/v2/": dial tcp 127.0.0.1:34041: connect: connection refused', /cannot reach the registry/, /is up and reachable/, true],
		['no matching manifest for linux/amd64 in the manifest list entries', /no build for linux\/amd64/, /--platform linux\/amd64/, false],
		["pull access denied for stigmer/nope, repository does not exist or may require 'docker login'", /has no image .* or it needs a login/, /docker login/, false],
	];
	for (const [said, message, hint, transient] of cases) {
		const refusal = classifyPullError(image, said, 'linux/amd64');
		assert.match(refusal.message, message, said);
		assert.match(refusal.hint ?? '', hint, said);
		assert.equal(refusal.transient, transient, said);
	}
});
