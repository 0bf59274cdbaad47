import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { dockerodeOptions } from '../../source/engine/DockerApi.ts';
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

function certDir(): string {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'stigmer-certs-'));
	for (const name of ['ca', 'cert', 'key']) writeFileSync(path.join(dir, `${name}.pem`), `${name} of ${dir}`);
	return dir;
}

test('DOCKER_TLS_VERIFY: any non-empty value (even "0") turns TLS on with verification, as the docker CLI', () => {
	const certs = certDir();
	for (const value of ['1', '0', 'yes', 'true']) {
		const e = parseDockerHost('tcp://10.0.0.1', 'DOCKER_HOST', { DOCKER_TLS_VERIFY: value, DOCKER_CERT_PATH: certs });
		assert.ok(e.kind === 'tcp' && e.tls, `DOCKER_TLS_VERIFY=${value}`);
		assert.equal(e.tls.verify, true);
		assert.equal(e.port, 2376, 'the TLS port by default');
		assert.equal(endpointUrl(e), 'https://10.0.0.1:2376');
	}
	const plain = parseDockerHost('tcp://10.0.0.1', 'DOCKER_HOST', { DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: certs });
	assert.ok(plain.kind === 'tcp' && plain.tls === null && plain.port === 2375, 'empty is off');
});

test('DOCKER_TLS alone: TLS without verification; DOCKER_CERT_PATH supplies the files', () => {
	const certs = certDir();
	const e = parseDockerHost('tcp://10.0.0.1:4000', 'DOCKER_HOST', { DOCKER_TLS: '1', DOCKER_CERT_PATH: certs });
	assert.ok(e.kind === 'tcp' && e.tls);
	assert.deepEqual(e.tls, { ca: `ca of ${certs}`, cert: `cert of ${certs}`, key: `key of ${certs}`, verify: false });
	assert.equal(e.port, 4000);
	// without DOCKER_CERT_PATH: $DOCKER_CONFIG (default ~/.docker)
	const config = certDir();
	const fromConfig = parseDockerHost('tcp://10.0.0.1', 'DOCKER_HOST', { DOCKER_TLS_VERIFY: '1', DOCKER_CONFIG: config });
	assert.ok(fromConfig.kind === 'tcp' && fromConfig.tls?.ca === `ca of ${config}`);
});

test("dockerode's options carry the endpoint whole, overriding what docker-modem reads from DOCKER_HOST", () => {
	const certs = certDir();
	const tls = parseDockerHost('tcp://10.0.0.1', 'DOCKER_HOST', { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs });
	const o = dockerodeOptions(tls);
	assert.deepEqual([o.protocol, o.host, o.port, o.socketPath, o.ca, o.cert, o.key], ['https', '10.0.0.1', 2376, undefined, `ca of ${certs}`, `cert of ${certs}`, `key of ${certs}`]);
	const unix = dockerodeOptions(parseDockerHost('unix:///run/x.sock', 'DOCKER_HOST', {}));
	// set, though undefined: docker-modem merges our options over its own reading of DOCKER_HOST
	for (const key of ['host', 'port', 'ca', 'cert', 'key', 'version'] as const) assert.ok(key in unix, key);
	assert.deepEqual([unix.protocol, unix.socketPath, unix.host], ['http', '/run/x.sock', undefined]);
});

// Below docker-modem's typed API: it reads DOCKER_HOST (and DOCKER_CERT_PATH, DOCKER_TLS_VERIFY) by
// itself and merges our options over that. If an upgrade reads more, or merges differently, the
// resolved endpoint (a docker context, the well-known sockets) would silently lose: this fails instead.
test('docker-modem takes our endpoint, whatever DOCKER_HOST says', async () => {
	const { default: Docker } = await import('dockerode');
	const saved = { DOCKER_HOST: process.env.DOCKER_HOST, DOCKER_TLS_VERIFY: process.env.DOCKER_TLS_VERIFY };
	process.env.DOCKER_HOST = 'tcp://10.9.9.9:2376';
	process.env.DOCKER_TLS_VERIFY = '1';
	try {
		const unix = new Docker(dockerodeOptions(parseDockerHost('unix:///run/ours.sock', 'test', {})) as object).modem as unknown as Record<string, unknown>;
		assert.deepEqual([unix.socketPath, unix.host, unix.port, unix.protocol, unix.version], ['/run/ours.sock', undefined, undefined, 'http', undefined]);
		const tcp = new Docker({ ...dockerodeOptions(parseDockerHost('tcp://127.0.0.1:2375', 'test', {})), version: 'v1.41' } as object).modem as unknown as Record<string, unknown>;
		assert.deepEqual([tcp.socketPath, tcp.host, tcp.port, tcp.protocol, tcp.version], [undefined, '127.0.0.1', 2375, 'http', 'v1.41']);
	} finally {
		for (const [key, value] of Object.entries(saved)) {
			if (value === undefined) delete process.env[key];
			else process.env[key] = value;
		}
	}
});
