// The engine client (dockerode through DockerApi, and its own GETs: getJson) against the real engine: API version negotiation
// with no fixed version anywhere (the logs fast path included), TLS from the docker CLI's environment,
// and no AbortSignal listener left behind by requests, reconnects or stats followers.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { getEventListeners } from 'node:events';
import { after, before, test } from 'node:test';
import { agentRunnerService } from '../../source/contract.ts';
import { chooseApiVersion } from '../../source/engine/apiVersion.ts';
import { followContainerStats } from '../../source/engine/containerStats.ts';
import { DockerApi, engineMessage, engineStatus } from '../../source/engine/DockerApi.ts';
import { inspectContainer } from '../../source/agentRunner/ContainerService.ts';
import { subscribeEngineEvents } from '../../source/engine/dockerEvents.ts';
import { ContainerLogSource } from '../../source/logs/ContainerLogSource.ts';
import { lookUpContainer } from '../../source/logs/containerTextHistory.ts';
import { docker, dockerRunDetached, removeContainersByLabel, uniqueName } from '../helpers/docker.ts';
import { cliCommand, makeTestHome, repoRoot } from '../helpers/cli.ts';
import { type EngineProxy, makeTlsMaterial, startEngineProxy } from '../helpers/engineProxy.ts';

const testLabel = 'ai.stigmer.test=engine-client';
const homeHash = 'enginetest00';
const warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);
let proxy: EngineProxy;

before(async () => {
	process.on('warning', onWarning);
	proxy = await startEngineProxy();
});

after(async () => {
	process.off('warning', onWarning);
	await proxy?.close();
	await removeContainersByLabel(testLabel);
});

async function engineRange(): Promise<{ ApiVersion: string; MinAPIVersion: string }> {
	const out = (await docker(['version', '--format', '{{.Server.APIVersion}} {{.Server.MinAPIVersion}}'])).stdout.trim().split(' ');
	return { ApiVersion: out[0]!, MinAPIVersion: out[1]! };
}

/** A promise that `check(true)` resolves; it rejects after `ms`. */
function when(ms: number, what: string): { promise: Promise<void>; check: (ok: boolean) => void } {
	let resolve!: () => void;
	let reject!: (error: Error) => void;
	const promise = new Promise<void>((res, rej) => {
		resolve = res;
		reject = rej;
	});
	const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
	return {
		promise: promise.finally(() => clearTimeout(timer)),
		check: (ok) => {
			if (ok) resolve();
		},
	};
}

test('the version is negotiated with the engine, and every request speaks it (the logs fast path too)', async () => {
	const expected = chooseApiVersion(await engineRange());
	const env = { ...process.env, DOCKER_HOST: proxy.dockerHost };
	const connecting = proxy.requests.length;
	const api = await DockerApi.connect(env);
	try {
		assert.equal(api.apiVersion, expected);
		assert.equal(api.info?.apiVersion, expected);
		const before = proxy.requests.length;
		await api.docker.listContainers({ all: true, filters: { label: [testLabel] } });
		assert.deepEqual(await api.getJson('/containers/json', { all: true, filters: { label: [testLabel] } }), []);
		const source = new ContainerLogSource({ api, homeHash, service: agentRunnerService, signal: new AbortController().signal, onNotice: () => undefined });
		assert.equal(await source.find(api), null);
		// the fast path of `server logs` resolves the endpoint from the environment and negotiates by itself
		const saved = process.env.DOCKER_HOST;
		process.env.DOCKER_HOST = proxy.dockerHost;
		try {
			const lookup = lookUpContainer(homeHash, agentRunnerService);
			assert.ok(lookup, 'a plain socket takes the fast path');
			assert.equal(await lookup.container, null);
			lookup.abort();
		} finally {
			if (saved === undefined) delete process.env.DOCKER_HOST;
			else process.env.DOCKER_HOST = saved;
		}
		// unversioned by design: GET /_ping and GET /version, which negotiation reads
		// GET /version is slow (Podman runs conmon and the runtime, Docker 28.5 asks containerd and runc):
		// /_ping tells every engine of the matrix (a versioned one an engine newer than stigmer), in
		// DockerApi and in the logs fast path alike
		const asked = proxy.requests.slice(connecting);
		assert.deepEqual(
			asked.filter((line) => / \/version$/.test(line)),
			[],
			asked.join('\n'),
		);
		const spoken = proxy.requests.slice(before).filter((line) => !/ \/(v[\d.]+\/)?(_ping|version)$/.test(line));
		assert.ok(spoken.length >= 3, spoken.join('\n'));
		for (const line of spoken) assert.match(line, new RegExp(`^[A-Z]+ /v${expected.replace('.', '\\.')}/`), line);
	} finally {
		api.close();
	}
});

test("getJson (status's GETs without dockerode): the engine's refusal carries its status and words, as dockerode's errors do", async () => {
	const api = await DockerApi.connect();
	try {
		const missing = `stigmer-no-such-container-${uniqueName('x')}`;
		await assert.rejects(api.getJson(`/containers/${missing}/json`), (error: unknown) => {
			assert.equal(engineStatus(error), 404);
			assert.match(engineMessage(error), /no such container/i);
			return true;
		});
		assert.equal(await inspectContainer(api, missing), null);
		const text = await api.getText('/events', { since: Math.floor(Date.now() / 1000) - 1, until: Math.floor(Date.now() / 1000), filters: { container: [missing] } });
		assert.equal(text.trim(), '', 'a finite events query ends, with no event');
	} finally {
		api.close();
	}
});

test('server status asks the engine without loading dockerode', async () => {
	const home = await makeTestHome('stigmer-status-imports-');
	try {
		const [program, ...prefix] = cliCommand();
		const r = spawnSync(program!, ['--import', path.join(repoRoot, 'test/helpers/traceImports.mjs'), ...prefix, '--home', home.dir, 'server', 'status', '--json'], {
			encoding: 'utf8',
			cwd: repoRoot,
			env: { ...process.env, NO_COLOR: '1' },
		});
		assert.equal(r.status, 0, r.stderr);
		assert.equal(JSON.parse(r.stdout).engine.reachable, true);
		const imports = r.stderr.split('\n').filter((l) => l.startsWith('import: '));
		assert.ok(imports.length > 0, 'the import trace is active');
		assert.ok(!imports.includes('import: dockerode'), imports.join(', '));
	} finally {
		await home.cleanup();
	}
});

test('tcp + TLS from DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, through dockerode', async () => {
	const material = makeTlsMaterial();
	const tlsProxy = await startEngineProxy({ tls: material.server });
	try {
		const env = { PATH: process.env.PATH, HOME: process.env.HOME, DOCKER_HOST: tlsProxy.dockerHost, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: material.clientDir };
		const api = await DockerApi.connect(env);
		try {
			assert.equal(api.endpointUrl, tlsProxy.dockerHost.replace('tcp:', 'https:'));
			assert.ok(Array.isArray(await api.docker.listContainers({ all: true, filters: { label: [testLabel] } })));
			assert.ok(Array.isArray(await api.getJson('/containers/json', { all: true, filters: { label: [testLabel] } })), 'getJson over TLS');
		} finally {
			api.close();
		}
		// verification is on: a server certificate of another CA is refused
		const other = makeTlsMaterial();
		const wrongCa = await startEngineProxy({ tls: { ...other.server, ca: material.server.ca } });
		try {
			await assert.rejects(DockerApi.connect({ ...env, DOCKER_HOST: wrongCa.dockerHost }), /TLS with the engine at https:\/\/\S+ \(DOCKER_HOST\) failed/);
			// DOCKER_TLS alone (no verification) accepts it, with the same client certificate
			const unverified = await DockerApi.connect({ ...env, DOCKER_HOST: wrongCa.dockerHost, DOCKER_TLS_VERIFY: undefined, DOCKER_TLS: '1' });
			unverified.close();
		} finally {
			await wrongCa.close();
		}
	} finally {
		await tlsProxy.close();
	}
	assert.deepEqual(
		warnings.map((w) => `${w.name}: ${w.message}`),
		[],
	);
});

test('many requests with one long-lived signal leave no abort listener behind', async () => {
	const api = await DockerApi.connect();
	const controller = new AbortController();
	try {
		const source = new ContainerLogSource({ api, homeHash, service: agentRunnerService, signal: controller.signal, onNotice: () => undefined });
		for (let i = 0; i < 25; i++) {
			await source.find(api);
			assert.equal(getEventListeners(controller.signal, 'abort').length, 0, `after request ${i + 1}`);
		}
	} finally {
		controller.abort();
		api.close();
	}
	assert.deepEqual(
		warnings.filter((w) => w.name === 'MaxListenersExceededWarning'),
		[],
	);
});

test('event stream reconnects leave no abort listener behind', async () => {
	const reconnects = 12;
	const api = new DockerApi((await DockerApi.connect({ ...process.env, DOCKER_HOST: proxy.dockerHost })).endpoint);
	const controller = new AbortController();
	const counts: number[] = [];
	let reachable = 0;
	const done = when(60_000, `${reconnects} reconnects`);
	const subscription = subscribeEngineEvents(
		{ api, homeHash, signal: controller.signal, minDelayMs: 5, maxDelayMs: 20 },
		{
			onReachable: () => {
				reachable++;
				counts.push(getEventListeners(controller.signal, 'abort').length);
				done.check(reachable > reconnects);
				// the engine "goes away" once the stream is open: every connection cut
				if (reachable <= reconnects) setImmediate(() => proxy.cut());
			},
			onUnreachable: () => undefined,
			onEvent: () => undefined,
		},
	);
	try {
		await done.promise;
	} finally {
		controller.abort();
		await subscription;
		api.close();
	}
	// while a stream is open it holds one listener (two while its request is in flight), never more
	assert.ok(Math.max(...counts) <= 2, `listeners per reconnect: ${counts.join(' ')}`);
	assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
	assert.deepEqual(
		warnings.filter((w) => w.name === 'MaxListenersExceededWarning'),
		[],
	);
});

test("stats followers (the dashboard's, one per container start) leave no listener on the dashboard's signal", async () => {
	const id = await dockerRunDetached(['--label', testLabel, '--name', uniqueName('stigmer-engine-stats'), 'debian:trixie-slim', 'sleep', '300']);
	const api = await DockerApi.connect();
	const dashboard = new AbortController();
	try {
		for (let i = 0; i < 4; i++) {
			const own = new AbortController();
			const sampled = when(30_000, 'a stats sample');
			const follower = followContainerStats(api, id, () => sampled.check(true), AbortSignal.any([dashboard.signal, own.signal]));
			await sampled.promise;
			own.abort();
			await follower;
			assert.equal(getEventListeners(dashboard.signal, 'abort').length, 0, `after follower ${i + 1}`);
		}
	} finally {
		dashboard.abort();
		api.close();
		await docker(['rm', '-f', id], { allowFailure: true });
	}
});

test("a busy local engine (answers later than the caller's timeout) is slow, not unreachable: status waits for it", async () => {
	// every answer held 3 s: past status's 2 s and the CLI's 3 s connect timeouts
	const slow = await startEngineProxy({ delayMs: 3000 });
	try {
		const home = await makeTestHome('stigmer-slow-engine-');
		try {
			const result = await home.cli(['server', 'status', '--json'], { env: { ...process.env, DOCKER_HOST: slow.dockerHost }, timeoutMs: 120_000 });
			assert.equal(result.code, 0, result.stderr);
			const status = JSON.parse(result.stdout) as { engine: { reachable: boolean; error?: string } };
			assert.equal(status.engine.reachable, true, status.engine.error);
		} finally {
			await home.cleanup();
		}
	} finally {
		await slow.close();
	}
});
