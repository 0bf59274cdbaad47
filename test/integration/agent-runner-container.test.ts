// The agent-runner image against a real Docker engine, run with the settings of docs/contract.md:
// read-only root, tmpfs /tmp, no capabilities, no-new-privileges, --init, limits, non-root user,
// workspace/data/secret mounts. The model is a fake OpenAI-compatible server on the host's 127.0.0.1,
// reached from the container on its own bridge network through the forward stigmer's supervisor runs
// (supervisor/LlmForward.ts; a bridge cannot reach a host loopback listener by itself).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { resolveEndpoint } from '../../source/engine/endpoint.js';
import { rawGet, readAll, versionedPath } from '../../source/engine/rawHttp.js';
import { LlmForward } from '../../source/supervisor/LlmForward.js';
import { containerEnv, containerHttpPort, containerPaths, containerSecurity, imageRepository, imageUser, imageVersionLabel, serviceUser } from '../../source/contract.js';
import { containerProcesses, serviceProcess } from '../helpers/containerProcesses.js';
import { engineKind } from '../helpers/engineKind.js';
import {
	docker,
	dockerBuild,
	dockerInspect,
	dockerKill,
	dockerLogs,
	dockerRunDetached,
	dockerStart,
	dockerStop,
	removeContainersByLabel,
	runnerUserFlags,
	uniqueName,
	waitForHttp,
} from '../helpers/docker.js';
import { finalAnswer, startFakeLlm, toolCall, type FakeLlm } from '../helpers/fakeLlm.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const version = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version as string;
const runId = randomBytes(4).toString('hex');
const runLabel = `ai.stigmer.test-run=${runId}`;
const token = `test-token-${randomBytes(8).toString('hex')}`;
const asRoot = process.getuid?.() === 0;
// Service tuning read by agent-runner/stigmer_agent_runner/config.py (not in contract.ts's table).
const shutdownGraceEnv = 'STIGMER_SHUTDOWN_GRACE_SECONDS';

type SseEvent = { id: number; event: string; data: any };

async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as { port: number };
			server.close(() => resolve(port));
		});
	});
}

/** A STIGMER_HOME-like layout for one container: workspace, data, secrets/api-token. */
function makeHome(): { dir: string; workspace: string; data: string; tokenFile: string } {
	const dir = mkdtempSync(join(tmpdir(), 'stigmer-test-'));
	const workspace = join(dir, 'workspace');
	const data = join(dir, 'data', 'agent-runner');
	const secrets = join(dir, 'secrets');
	mkdirSync(workspace, { recursive: true });
	mkdirSync(data, { recursive: true });
	mkdirSync(secrets, { mode: 0o700 });
	const tokenFile = join(secrets, 'api-token');
	writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
	if (asRoot) {
		// As root the container still runs as the image's user; hand it the mounts, nobody else.
		for (const path of [workspace, data, secrets, tokenFile]) chownSync(path, imageUser.uid, imageUser.gid);
		chmodSync(workspace, 0o700);
		chmodSync(data, 0o700);
	}
	return { dir, workspace, data, tokenFile };
}

function runArgs(name: string, home: ReturnType<typeof makeHome>, image: string, extra: string[]): string[] {
	return [
		'--name',
		name,
		'--label',
		runLabel,
		'--label',
		'ai.stigmer.test=agent-runner-container',
		'--init',
		'--read-only',
		'--tmpfs',
		'/tmp',
		'--cap-drop',
		'ALL',
		...runnerUserFlags(),
		'--security-opt',
		'no-new-privileges',
		'--memory',
		'512m',
		'--cpus',
		'1',
		'--log-opt',
		'max-size=10m',
		'--log-opt',
		'max-file=3',
		'-v',
		`${home.workspace}:${containerPaths.workspace}`,
		'-v',
		`${home.data}:${containerPaths.data}`,
		'-v',
		`${home.tokenFile}:${containerPaths.apiToken}:ro`,
		'-e',
		`${shutdownGraceEnv}=2`,
		...extra,
		image,
	];
}

function parseSse(text: string): SseEvent[] {
	const events: SseEvent[] = [];
	for (const block of text.split('\n\n')) {
		const fields: Record<string, string> = {};
		for (const line of block.split('\n')) {
			if (!line || line.startsWith(':')) continue;
			const colon = line.indexOf(':');
			fields[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
		}
		if (fields.event && fields.data && fields.id) {
			events.push({ id: Number(fields.id), event: fields.event, data: JSON.parse(fields.data) });
		}
	}
	return events;
}

class Runner {
	constructor(readonly base: string) {}

	request(path: string, init: RequestInit = {}, auth = true): Promise<Response> {
		const headers = new Headers(init.headers);
		if (auth) headers.set('authorization', `Bearer ${token}`);
		return fetch(`${this.base}${path}`, { ...init, headers, signal: init.signal ?? AbortSignal.timeout(15_000) });
	}

	async json(path: string, init: RequestInit = {}): Promise<any> {
		const response = await this.request(path, init);
		assert.ok(response.ok, `${path}: ${response.status} ${await response.clone().text()}`);
		return response.json();
	}

	async events(id: string, lastEventId?: number): Promise<SseEvent[]> {
		const headers: Record<string, string> = {};
		if (lastEventId !== undefined) headers['last-event-id'] = String(lastEventId);
		const response = await this.request(`/v1/executions/${id}/events`, { headers, signal: AbortSignal.timeout(60_000) });
		assert.equal(response.status, 200);
		assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
		return parseSse(await response.text()); // the stream ends after the terminal status event
	}

	async waitFor(id: string, statuses: string[], timeoutMs = 30_000): Promise<any> {
		const deadline = Date.now() + timeoutMs;
		let last: any;
		while (Date.now() < deadline) {
			last = await this.json(`/v1/executions/${id}`);
			if (statuses.includes(last.status)) return last;
			await new Promise((resolve) => setTimeout(resolve, 100));
		}
		throw new Error(`execution ${id} did not reach ${statuses.join('|')}: ${JSON.stringify(last)}`);
	}
}

/** linux/capability.h */
const capabilityBits = { CHOWN: 0, SETGID: 6, SETUID: 7 } as const;

const agent = { name: 'container-test', instructions: 'Follow the user.', max_steps: 8 };
const homes: string[] = [];
let image = '';
let fakeLlm: FakeLlm | undefined;

before(async () => {
	await docker(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 15_000 });
	const iidFile = join(mkdtempSync(join(tmpdir(), 'stigmer-iid-')), 'iid');
	// Built by the docker CLI from this checkout, under a tag of its own (stigmer's names its source hash); the test runs the exact image id it built.
	await dockerBuild(['-f', 'docker/Dockerfile', '--build-arg', `STIGMER_VERSION=${version}`, '--iidfile', iidFile, '-t', `${imageRepository}:${version}-docker-cli`, repoRoot.replace(/\/$/, '')], {
		timeoutMs: 900_000,
		verbose: process.env.STIGMER_TEST_VERBOSE === '1',
	});
	image = readFileSync(iidFile, 'utf8').trim();
	rmSync(join(iidFile, '..'), { recursive: true, force: true });
});

let llmForward: LlmForward | null = null;
const networks: string[] = [];

after(async () => {
	await removeContainersByLabel(runLabel);
	for (const network of networks) await docker(['network', 'rm', network], { allowFailure: true });
	await llmForward?.close();
	await fakeLlm?.close();
	for (const dir of homes) rmSync(dir, { recursive: true, force: true });
});

describe('agent-runner image', () => {
	test('carries the version label, the non-root user and a health check', async () => {
		const info = await dockerInspect(image, 'image');
		assert.equal(info.Config.Labels[imageVersionLabel], version);
		// root: the sandbox launcher, which runs the service as a non-root user (checked below)
		assert.equal(info.Config.User, containerSecurity.user);
		// The health check a container of the image gets: Podman 4.3's image inspect (compat API) leaves the
		// image's Healthcheck out though its build keeps it and its containers run it.
		const created = uniqueName(`stigmer-test-${runId}-health`);
		await docker(['create', '--name', created, '--label', runLabel, image]);
		const inherited = (await dockerInspect(created)).Config.Healthcheck;
		await docker(['rm', created]);
		assert.ok(inherited?.Test?.join(' ').includes('/healthz'), `the container's health check: ${JSON.stringify(inherited)}`);
		assert.equal(
			info.Config.Env.find((e: string) => e.startsWith(`${containerEnv.httpHost}=`)),
			`${containerEnv.httpHost}=0.0.0.0`,
		);
	});

	test('bridge network, port on 127.0.0.1: readiness, health, 401 and 422', async () => {
		const home = makeHome();
		homes.push(home.dir);
		const name = uniqueName(`stigmer-test-${runId}`);
		await dockerRunDetached(runArgs(name, home, image, ['-p', '127.0.0.1::7480', '--health-interval', '1s']));
		const info = await dockerInspect(name);
		const binding = info.NetworkSettings.Ports['7480/tcp'][0];
		assert.equal(binding.HostIp, '127.0.0.1');
		assert.equal(info.HostConfig.ReadonlyRootfs, true);
		// CapDrop reads ['ALL'] on Docker, and on Podman 4.3 the engine's default capabilities it dropped, by name:
		// the processes' bounding set (below, once the service runs) is the check on both.
		assert.ok(info.HostConfig.SecurityOpt.includes('no-new-privileges'));
		assert.equal(info.HostConfig.Init, true);
		const runner = new Runner(`http://127.0.0.1:${binding.HostPort}`);
		await waitForHttp(`${runner.base}/readyz`, { timeoutMs: 30_000 });

		assert.equal((await serviceProcess(name)).uid, serviceUser().uid);
		// --cap-drop ALL and the launcher's three: no process of the container can ever hold another capability
		const allowed = containerSecurity.capAdd.reduce((mask, cap) => mask | (1n << BigInt(capabilityBits[cap])), 0n);
		for (const p of await containerProcesses(name)) assert.equal(p.capBnd, allowed, `bounding set of ${p.cmdline}`);

		assert.equal((await runner.request('/v1/executions', {}, false)).status, 401);
		assert.equal((await runner.request('/v1/executions', { headers: { authorization: 'Bearer nope' } }, false)).status, 401);

		const invalid = await runner.request('/v1/executions', {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ agent: { instructions: 'x' }, input: 'hi' }),
		});
		assert.equal(invalid.status, 422);
		assert.deepEqual(await invalid.json(), { error: 'agent.name is required', field: 'agent.name' });
		const malformed = await runner.request('/v1/executions', {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: '{not json',
		});
		assert.equal(malformed.status, 400);

		// Podman runs health checks from systemd timers only (none here: the health stays `starting`), so
		// there the image's check is run once through libpod's endpoint: the same command, the same record.
		if ((await engineKind()).podman) {
			const ran = await rawGet(resolveEndpoint(process.env), versionedPath('4.0.0', `/libpod/containers/${name}/healthcheck`), { signal: AbortSignal.timeout(15_000) });
			const body = (await readAll(ran.body)).toString();
			assert.equal(ran.status, 200, `libpod healthcheck run: ${body}`);
		}
		const deadline = Date.now() + 20_000;
		let health = '';
		while (Date.now() < deadline) {
			health = (await dockerInspect(name)).State.Health?.Status ?? 'none';
			if (health === 'healthy') break;
			await new Promise((resolve) => setTimeout(resolve, 250));
		}
		assert.equal(health, 'healthy');
	});

	describe('own bridge network with a fake LLM on the host loopback, through the LLM forward', () => {
		const home = makeHome();
		homes.push(home.dir);
		const name = uniqueName(`stigmer-test-${runId}`);
		let runner: Runner;

		before(async () => {
			fakeLlm = await startFakeLlm({ host: '127.0.0.1', script: [] });
			const network = uniqueName(`stigmer-test-net-${runId}`);
			await docker(['network', 'create', '--label', runLabel, network]);
			networks.push(network);
			const ipam = (await dockerInspect(network, 'network')).IPAM.Config[0] as { Subnet: string; Gateway: string };
			llmForward = await LlmForward.open({ listenHost: ipam.Gateway, port: fakeLlm.port, targetHost: '127.0.0.1', targetPort: fakeLlm.port, allow: ipam.Subnet });
			const port = await freePort();
			runner = new Runner(`http://127.0.0.1:${port}`);
			await dockerRunDetached(
				runArgs(name, home, image, [
					'--network',
					network,
					'-p',
					`127.0.0.1:${port}:${containerHttpPort}`,
					'-e',
					`${containerEnv.httpHost}=0.0.0.0`,
					'-e',
					`${containerEnv.httpPort}=${containerHttpPort}`,
					'-e',
					`${containerEnv.llmBaseUrl}=http://${ipam.Gateway}:${llmForward.status().boundPort}/v1`,
					'-e',
					`${containerEnv.llmModel}=fake-model`,
				]),
			);
			await waitForHttp(`${runner.base}/readyz`, { timeoutMs: 30_000 });
		});

		test('multipart execution reads the upload, writes a file, runs a command and succeeds', async () => {
			const llm = fakeLlm!;
			llm.reset();
			llm.push(
				toolCall('read_file', { path: 'notes.txt' }),
				toolCall('write_file', { path: 'out/report.txt', content: 'report: the notes say hello\n' }),
				toolCall('run_command', { command: 'cat out/report.txt; wc -c < notes.txt; id -u' }),
				finalAnswer('Report written to out/report.txt.'),
			);

			const form = new FormData();
			form.set('execution', JSON.stringify({ agent, input: 'Summarize notes.txt into out/report.txt' }));
			form.append('files', new Blob(['the notes say hello']), 'notes.txt');
			form.append('files', new Blob(['a,b\n1,2\n']), 'data.csv');
			form.append('files', new Blob(['must stay inside']), '../escape.txt');
			const response = await runner.request('/v1/executions', { method: 'POST', body: form });
			assert.equal(response.status, 202);
			const { id, status } = (await response.json()) as { id: string; status: string };
			assert.equal(status, 'queued');

			const events = await runner.events(id);
			const final = await runner.json(`/v1/executions/${id}`);
			assert.equal(final.status, 'succeeded', JSON.stringify(final));
			assert.equal(final.result, 'Report written to out/report.txt.');
			assert.ok(final.created_at && final.started_at && final.finished_at);

			const dir = join(home.workspace, id);
			assert.equal(readFileSync(join(dir, 'out', 'report.txt'), 'utf8'), 'report: the notes say hello\n');
			assert.equal(readFileSync(join(dir, 'escape.txt'), 'utf8'), 'must stay inside');
			assert.equal(existsSync(join(home.workspace, 'escape.txt')), false);

			assert.deepEqual(
				events.map((e) => e.id),
				events.map((_, i) => i + 1),
			);
			assert.deepEqual(
				events.map((e) => (e.event === 'status' ? `status:${e.data.status}` : e.event)),
				['status:queued', 'status:running', 'tool_call', 'tool_result', 'tool_call', 'tool_result', 'tool_call', 'tool_result', 'model_turn', 'final', 'status:succeeded'],
			);
			const results = events.filter((e) => e.event === 'tool_result').map((e) => e.data);
			assert.deepEqual(
				results.map((r) => [r.name, r.ok]),
				[
					['read_file', true],
					['write_file', true],
					['run_command', true],
				],
			);
			assert.equal(results[0].output, 'the notes say hello');
			assert.equal(results[2].exit_code, 0);
			assert.match(results[2].output, /report: the notes say hello\n19\n\d+/);
			assert.equal(events.find((e) => e.event === 'final')!.data.answer, 'Report written to out/report.txt.');

			const resumed = await runner.events(id, 8);
			assert.deepEqual(
				resumed.map((e) => e.id),
				[9, 10, 11],
			);

			// What the model was sent: the OpenAI tool-calling protocol, non-streaming.
			assert.equal(llm.requests.length, 4);
			const first = llm.requests[0]!.body;
			assert.equal(first.model, 'fake-model');
			assert.equal(first.stream, false);
			assert.deepEqual(first.tools.map((t: any) => t.function.name).sort(), ['list_files', 'read_file', 'run_command', 'write_file']);
			const second = llm.requests[1]!.body.messages;
			assert.deepEqual(second.at(-1), { role: 'tool', tool_call_id: second.at(-2).tool_calls[0].id, content: 'the notes say hello' });

			const logs = await dockerLogs(name);
			assert.match(logs, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z INFO  ${id} succeeded$`, 'm'));
			const list = await runner.json('/v1/executions');
			assert.equal(list.executions[0].id, id);
		});

		test('docker kill during a long run_command: after a restart the execution is interrupted, never running', async () => {
			fakeLlm!.reset();
			fakeLlm!.push(toolCall('run_command', { command: 'sleep 120' }));
			const submitted = await runner.json('/v1/executions', {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ agent, input: 'sleep' }),
			});
			await waitForEvent(runner, submitted.id, 'tool_call');
			await dockerKill(name);
			await dockerStart(name);
			await waitForHttp(`${runner.base}/readyz`, { timeoutMs: 30_000 });
			const after = await runner.json(`/v1/executions/${submitted.id}`);
			assert.equal(after.status, 'interrupted', JSON.stringify(after));
			const events = await runner.events(submitted.id);
			assert.equal(events.at(-1)!.data.status, 'interrupted');
		});

		test('docker stop: running executions get the grace period, then end interrupted; exit code 0', async () => {
			fakeLlm!.reset();
			fakeLlm!.push(toolCall('run_command', { command: 'sleep 120' }));
			const submitted = await runner.json('/v1/executions', {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ agent, input: 'sleep again' }),
			});
			await waitForEvent(runner, submitted.id, 'tool_call');
			const started = performance.now();
			await dockerStop(name, 10);
			const took = performance.now() - started;
			const state = (await dockerInspect(name)).State;
			assert.equal(state.ExitCode, 0, `exit code ${state.ExitCode}`);
			assert.ok(took >= 1500 && took < 9000, `docker stop took ${Math.round(took)} ms (grace 2 s)`);
			await dockerStart(name);
			await waitForHttp(`${runner.base}/readyz`, { timeoutMs: 30_000 });
			const after = await runner.json(`/v1/executions/${submitted.id}`);
			assert.equal(after.status, 'interrupted');
			assert.match(after.error, /stopped before this execution finished/);
		});
	});
});

async function waitForEvent(runner: Runner, id: string, type: string, timeoutMs = 30_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		const execution = await runner.json(`/v1/executions/${id}`);
		if (execution.status === 'running') {
			// Short read of the stream: stop at the first event of that type.
			const controller = new AbortController();
			const response = await runner.request(`/v1/executions/${id}/events`, { signal: controller.signal });
			const reader = response.body!.getReader();
			let text = '';
			const until = Date.now() + 10_000;
			while (Date.now() < until) {
				const { value, done } = await reader.read();
				if (done) break;
				text += new TextDecoder().decode(value);
				if (parseSse(text).some((e) => e.event === type)) {
					controller.abort();
					return;
				}
			}
			controller.abort();
		}
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
	throw new Error(`no ${type} event for ${id} within ${timeoutMs} ms`);
}
