import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { dockerodeOptions } from './DockerApi.ts';
import { endpointUrl, parseDockerHost, resolveEndpoint } from './endpoint.ts';
import { sshFailure } from './sshConnection.ts';
import { sshTarget } from './sshDialer.ts';

function dockerConfig(contexts: Record<string, string>, current?: string, tls: Record<string, { skipVerify?: boolean }> = {}): string {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'stigmer-dockercfg-'));
	for (const [name, host] of Object.entries(contexts)) {
		const id = createHash('sha256').update(name).digest('hex');
		const meta = path.join(dir, 'contexts', 'meta', id);
		mkdirSync(meta, { recursive: true });
		writeFileSync(path.join(meta, 'meta.json'), JSON.stringify({ Name: name, Endpoints: { docker: { Host: host, SkipTLSVerify: tls[name]?.skipVerify ?? false } } }));
		if (tls[name]) {
			// as `docker context create NAME --docker host=…,ca=…,cert=…,key=…` stores them
			const files = path.join(dir, 'contexts', 'tls', id, 'docker');
			mkdirSync(files, { recursive: true });
			for (const file of ['ca', 'cert', 'key']) writeFileSync(path.join(files, `${file}.pem`), `${file} of ${name}`);
		}
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
	assert.throws(() => parseDockerHost('npipe:////./pipe/docker_engine', 'DOCKER_HOST', {}), /named pipes/);
});

test('ssh://[user@]host[:port]: user and port left to ssh when absent', () => {
	const full = parseDockerHost('ssh://me@box.example:2222', 'DOCKER_HOST', {});
	assert.deepEqual(full, { kind: 'ssh', host: 'box.example', user: 'me', port: 2222, source: 'DOCKER_HOST' });
	assert.equal(endpointUrl(full), 'ssh://me@box.example:2222');
	const bare = parseDockerHost('ssh://box', 'DOCKER_HOST', {});
	assert.deepEqual([bare.kind, endpointUrl(bare)], ['ssh', 'ssh://box']);
	assert.ok(bare.kind === 'ssh' && bare.user === null && bare.port === null);
	assert.equal(endpointUrl(parseDockerHost('ssh://box/', 'DOCKER_HOST', {})), 'ssh://box', 'a trailing slash is no path');
	const v6 = parseDockerHost('ssh://me@[::1]:22', 'DOCKER_HOST', {});
	assert.ok(v6.kind === 'ssh' && v6.host === '::1', 'ssh gets the address without brackets');
	assert.equal(endpointUrl(v6), 'ssh://me@[::1]:22');
	assert.deepEqual(sshTarget(full as Extract<typeof full, { kind: 'ssh' }>), ['-l', 'me', '-p', '2222', '--', 'box.example']);
	assert.deepEqual(sshTarget(bare as Extract<typeof bare, { kind: 'ssh' }>), ['--', 'box']);
});

test('ssh:// refusals name the problem: a password, a path, no host', () => {
	assert.throws(
		() => parseDockerHost('ssh://me:secret@box', 'DOCKER_HOST', {}),
		(e: Error) => /holds a password/.test(e.message) && !e.message.includes('secret'),
	);
	assert.throws(() => parseDockerHost('ssh://box/var/run/docker.sock', 'DOCKER_HOST', {}), /has a path \(\/var\/run\/docker.sock\)/);
	assert.throws(() => parseDockerHost('ssh://', 'DOCKER_HOST', {}), /expected ssh:\/\/\[user@\]host\[:port\]/);
});

test('docker contexts: an ssh one, and a tcp one with its TLS material (verification as the context says)', () => {
	const cfg = dockerConfig({ box: 'ssh://me@box:2222', tlsbox: 'tcp://10.0.0.2:2376', insecure: 'tcp://10.0.0.3:2376' }, 'box', { tlsbox: {}, insecure: { skipVerify: true } });
	const ssh = resolveEndpoint({ DOCKER_CONFIG: cfg });
	assert.deepEqual([endpointUrl(ssh), ssh.source], ['ssh://me@box:2222', `${path.join(cfg, 'config.json')} (context box)`]);
	const tls = resolveEndpoint({ DOCKER_CONTEXT: 'tlsbox', DOCKER_CONFIG: cfg });
	assert.ok(tls.kind === 'tcp' && tls.tls);
	assert.deepEqual(tls.tls, { ca: 'ca of tlsbox', cert: 'cert of tlsbox', key: 'key of tlsbox', verify: true });
	assert.equal(endpointUrl(tls), 'https://10.0.0.2:2376');
	const insecure = resolveEndpoint({ DOCKER_CONTEXT: 'insecure', DOCKER_CONFIG: cfg });
	assert.ok(insecure.kind === 'tcp' && insecure.tls?.verify === false);
});

test("ssh's failures become the user's fix", () => {
	const box = parseDockerHost('ssh://me@box', 'DOCKER_HOST', {}) as Extract<ReturnType<typeof parseDockerHost>, { kind: 'ssh' }>;
	const cases: Array<[string, number, RegExp]> = [
		['No ED25519 host key is known for box and you have requested strict checking.\nHost key verification failed.\n', 255, /accept it once: ssh me@box true/],
		['me@box: Permission denied (publickey).\n', 255, /ssh-copy-id me@box/],
		['ssh: Could not resolve hostname box: Name or service not known\n', 255, /reachable with ssh/],
		['sh: 1: docker: not found\n', 127, /install the docker CLI on box/],
		['failed to open the raw stream connection: dial unix /var/run/docker.sock: connect: permission denied\n', 1, /usermod -aG docker me/],
		['', 1, /ssh me@box docker system dial-stdio/],
	];
	for (const [stderr, code, hint] of cases) {
		const error = sshFailure(box, stderr, code);
		assert.match(error.hint, hint, stderr);
		assert.match(error.message, /^ssh to me@box \(DOCKER_HOST\): /);
		assert.ok(!error.message.includes('\n'), 'one line');
	}
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
	// ssh: plain HTTP through our agent, never docker-modem's own ssh2 transport
	const ssh = dockerodeOptions(parseDockerHost('ssh://me@box', 'DOCKER_HOST', {}));
	assert.deepEqual([ssh.protocol, ssh.socketPath, ssh.ca], ['http', undefined, undefined]);
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
		process.env.DOCKER_HOST = 'ssh://them@elsewhere:2200';
		const ssh = new Docker(dockerodeOptions(parseDockerHost('ssh://me@box', 'test', {})) as object).modem as unknown as Record<string, unknown>;
		assert.deepEqual([ssh.socketPath, ssh.host, ssh.port, ssh.protocol], [undefined, 'docker', undefined, 'http'], "not docker-modem's ssh");
	} finally {
		for (const [key, value] of Object.entries(saved)) {
			if (value === undefined) delete process.env[key];
			else process.env[key] = value;
		}
	}
});
