import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { endpointUrl, parseDockerHost, resolveEndpoint } from '../../source/engine/endpoint.ts';

function dockerConfig(contexts: Record<string, string>, current?: string): string {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'stigmer-dockercfg-'));
	for (const [name, host] of Object.entries(contexts)) {
		const meta = path.join(dir, 'contexts', 'meta', createHash('sha256').update(name).digest('hex'));
		mkdirSync(meta, { recursive: true });
		writeFileSync(path.join(meta, 'meta.json'), JSON.stringify({ Name: name, Endpoints: { docker: { Host: host } } }));
	}
	if (current) writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ currentContext: current }));
	return dir;
}

test('DOCKER_HOST comes first', () => {
	const cfg = dockerConfig({ colima: 'unix:///colima.sock' }, 'colima');
	const e = resolveEndpoint({ DOCKER_HOST: 'unix:///custom.sock', DOCKER_CONTEXT: 'colima', DOCKER_CONFIG: cfg });
	assert.equal(endpointUrl(e), 'unix:///custom.sock');
	assert.equal(e.source, 'DOCKER_HOST');
});

test('DOCKER_CONTEXT, then the current context of config.json', () => {
	const cfg = dockerConfig({ colima: 'unix:///colima.sock', podman: 'unix:///podman.sock' }, 'podman');
	assert.equal(endpointUrl(resolveEndpoint({ DOCKER_CONTEXT: 'colima', DOCKER_CONFIG: cfg })), 'unix:///colima.sock');
	assert.equal(endpointUrl(resolveEndpoint({ DOCKER_CONFIG: cfg })), 'unix:///podman.sock');
});

test('the default context falls through to the well-known sockets', () => {
	const cfg = dockerConfig({}, 'default');
	const e = resolveEndpoint({ DOCKER_CONFIG: cfg });
	assert.equal(e.kind, 'unix');
});

test('a missing context is an error naming it', () => {
	const cfg = dockerConfig({});
	assert.throws(() => resolveEndpoint({ DOCKER_CONTEXT: 'nope', DOCKER_CONFIG: cfg }), /docker context "nope" not found/);
});

test('tcp and unsupported schemes', () => {
	const tcp = parseDockerHost('tcp://10.0.0.1:2375', 'test', {});
	assert.deepEqual([tcp.kind, endpointUrl(tcp)], ['tcp', 'tcp://10.0.0.1:2375']);
	assert.throws(() => parseDockerHost('ssh://me@host', 'DOCKER_HOST', {}), /ssh:\/\/ engines are not supported/);
	assert.throws(() => parseDockerHost('npipe:////./pipe/docker_engine', 'DOCKER_HOST', {}), /named pipes/);
});
