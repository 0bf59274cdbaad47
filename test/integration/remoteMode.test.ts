// The stack on a remote engine (docs/architecture.md, "Remote engines"), forced on the local engine with
// STIGMER_ENGINE_REMOTE=1: nothing of this machine's file system or loopback may be used. The container
// has no bind mount and no published port; workspace and data live in the home's named volumes, the API
// token is copied into the container (never in its environment), and the CLI reaches the API through
// the supervisor's forward, one exec'd bridge per connection. The real ssh:// and tcp+TLS engines run
// the same lifecycle in scripts/test-remote.sh.
//
// The model is the fake OpenAI-compatible server on this machine's 127.0.0.1, reached by the container
// through an LlmForward on the default bridge's gateway (as an LLM on the remote host's network would be):
// `llm.baseUrl` is then an address as seen from the container, used as it is.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { containerPaths, imageUser } from '../../source/contract.js';
import { docker, dockerInspect } from '../helpers/docker.js';
import { type BridgeLlm, startBridgeLlm } from '../helpers/bridgeLlm.js';
import { finalAnswer, toolCall } from '../helpers/fakeLlm.js';
import { RunnerStack } from '../helpers/runnerStack.js';

process.env.STIGMER_ENGINE_REMOTE = '1';

let bridgeLlm: BridgeLlm;
const llmKey = 'sk-remote-test-key';
let stack: RunnerStack;
let volumes: string[] = [];

interface Inspect {
	Id: string;
	Config: { Env: string[] };
	HostConfig: { Binds: string[] | null; PortBindings: Record<string, unknown> | null; Mounts?: Array<{ Type: string; Source?: string; Target: string }> };
	Mounts: Array<{ Type: string; Name?: string; Destination: string }>;
	NetworkSettings: { Ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null> };
}

const inspectRunner = async () => (await dockerInspect<Inspect>(stack.containerName))!;

async function volumeExists(name: string): Promise<boolean> {
	return (await docker(['volume', 'inspect', name], { allowFailure: true })).code === 0;
}

/** Runs `sh -c script` in the runner as the service user (it owns the volumes' content). */
async function asService(script: string): Promise<string> {
	const result = await docker(['exec', '-u', `${imageUser.uid}:${imageUser.gid}`, stack.containerName, 'sh', '-c', script], { allowFailure: true });
	assert.equal(result.code, 0, result.stderr);
	return result.stdout;
}

/** Every volume labelled with the home (named ones and secrets volumes). */
async function homeVolumes(): Promise<string> {
	return (await docker(['volume', 'ls', '-q', '--filter', `label=ai.stigmer.home=${stack.home.hash}`])).stdout.trim();
}

async function executionIds(): Promise<string[]> {
	const listed = await stack.cli(['executions', 'list', '--json']);
	assert.equal(listed.code, 0, `${listed.stdout}\n${listed.stderr}`);
	return (JSON.parse(listed.stdout) as Array<{ id: string }>).map((e) => e.id);
}

before(async () => {
	bridgeLlm = await startBridgeLlm();
	stack = await RunnerStack.start({ llmUrl: bridgeLlm.url, llmApiKey: llmKey });
	volumes = [stack.home.volumeName('workspace'), stack.home.volumeName('data')];
});

after(async () => {
	await stack?.cli(['server', 'stop', '--volumes', '--timeout', '2']).catch(() => undefined);
	await stack?.dispose();
	const left = stack ? (await homeVolumes()).split('\n').filter(Boolean) : [];
	if (left.length > 0) await docker(['volume', 'rm', '-f', ...left], { allowFailure: true });
	await bridgeLlm?.close();
});

describe('remote mode (STIGMER_ENGINE_REMOTE=1 on the local engine)', () => {
	test('start -> ready: no bind mount, no published port, workspace and data in labelled named volumes', async () => {
		const inspect = await inspectRunner();
		// Docker lists named volumes under Mounts only, Podman under Binds too (`NAME:/dest:opts`): no
		// source may be a path of this machine
		assert.deepEqual(
			(inspect.HostConfig.Binds ?? []).filter((b) => b.startsWith('/')),
			[],
			'no bind mount of anything on this machine',
		);
		assert.ok(
			inspect.Mounts.every((m) => m.Type === 'volume'),
			JSON.stringify(inspect.Mounts),
		);
		const byTarget = Object.fromEntries(inspect.Mounts.map((m) => [m.Destination, m.Name]));
		assert.equal(byTarget[containerPaths.workspace], stack.home.volumeName('workspace'));
		assert.equal(byTarget[containerPaths.data], stack.home.volumeName('data'));
		assert.ok(byTarget[containerPaths.secrets], 'the secrets are in a volume of their own (anonymous: it goes with the container)');
		// (Podman lists the image's exposed port with no host binding: `{"7480/tcp": []}`)
		assert.ok(
			Object.values(inspect.HostConfig.PortBindings ?? {}).every((bindings) => !bindings || (bindings as unknown[]).length === 0),
			`the API is not published: ${JSON.stringify(inspect.HostConfig.PortBindings)}`,
		);
		assert.ok(
			Object.values(inspect.NetworkSettings.Ports ?? {}).every((bindings) => !bindings || bindings.length === 0),
			JSON.stringify(inspect.NetworkSettings.Ports),
		);
		for (const [holds, name] of [
			['workspace', stack.home.volumeName('workspace')],
			['data', stack.home.volumeName('data')],
		] as const) {
			const volume = await dockerInspect<{ Labels: Record<string, string> }>(name, 'volume');
			assert.equal(volume?.Labels['ai.stigmer.home'], stack.home.hash);
			assert.equal(volume?.Labels['ai.stigmer.volume'], holds);
		}
		const status = await stack.cli(['server', 'status', '--json']);
		assert.equal(status.code, 0, status.stderr);
		const row = (JSON.parse(status.stdout) as { services: Array<{ name: string; state: string; health: string | null; volumes?: Array<{ name: string; holds: string }> }> }).services[0]!;
		assert.equal(row.state, 'running');
		assert.deepEqual(row.volumes?.map((v) => v.name).sort(), [...volumes].sort());
		const supervisorState = JSON.parse(readFileSync(stack.home.nativeStateFile, 'utf8')) as { forward: unknown; apiForward: { mode: string; port: number } | null };
		assert.equal(supervisorState.forward, null, 'no LLM forward: the runner is on another machine');
		assert.equal(supervisorState.apiForward?.mode, 'listening');
		assert.equal(supervisorState.apiForward?.port, stack.port);
		const doctor = await stack.cli(['doctor', '--json']);
		const checks = (JSON.parse(doctor.stdout) as { checks: Array<{ name: string; status: string; detail: string }> }).checks;
		const volumeCheck = checks.find((c) => c.name === 'volumes');
		assert.equal(volumeCheck?.status, 'ok', JSON.stringify(checks));
		for (const volume of volumes) assert.ok(volumeCheck?.detail.includes(volume), volumeCheck?.detail);
		assert.equal(checks.find((c) => c.name === 'llm')?.status, 'ok', 'doctor reaches the LLM from inside the container');
		assert.match(checks.find((c) => c.name === `port ${stack.port}`)?.detail ?? '', /held by this stack's API forward \(the supervisor's, to agent-runner on the remote engine\)/);
	});

	test('the API token and the LLM key are files in the container (root:10001 0440), in neither its environment nor its inspect', async () => {
		const inspect = await inspectRunner();
		assert.ok(!JSON.stringify(inspect).includes(stack.token), 'docker inspect shows no token');
		assert.ok(!JSON.stringify(inspect).includes(llmKey), 'nor the LLM key');
		const key = await docker(['exec', stack.containerName, 'sh', '-c', `stat -c '%u:%g %a' ${containerPaths.llmApiKey}; cat ${containerPaths.llmApiKey}`]);
		assert.equal(key.stdout.trim(), `0:${imageUser.gid} 440\n${llmKey}`);
		assert.ok(!inspect.Config.Env.some((e) => e.includes(stack.token)));
		const seen = await docker(['exec', stack.containerName, 'sh', '-c', `stat -c '%u:%g %a' ${containerPaths.apiToken}; cat ${containerPaths.apiToken}`]);
		const [owner, content] = seen.stdout.split('\n');
		assert.equal(owner, `0:${imageUser.gid} 440`);
		assert.equal(content, stack.token);
		// the service's environment names the file, never the token
		const environ = await docker(['exec', stack.containerName, 'sh', '-c', 'cat /proc/1/environ | tr "\\0" "\\n"']);
		assert.ok(!environ.stdout.includes(stack.token));
		assert.match(environ.stdout, /STIGMER_API_TOKEN_FILE=\/run\/secrets\/api-token/);
	});

	test('stigmer run and executions work through the forward; the files land in the workspace volume', async () => {
		const { llm } = bridgeLlm;
		llm.reset();
		llm.push(
			toolCall('write_file', { path: 'out.txt', content: 'remote\n' }),
			toolCall('run_command', { command: 'cat notes.txt out.txt && echo sandboxed > made.txt' }),
			finalAnswer('done remotely'),
		);
		const agent = path.join(stack.home.dir, 'agent.yaml');
		writeFileSync(agent, 'name: remote\ninstructions: Do it.\n');
		const notes = path.join(stack.home.dir, 'notes.txt');
		writeFileSync(notes, 'uploaded\n');
		const result = await stack.cli(['run', agent, 'go', '--file', notes]);
		assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
		assert.match(result.stdout, /uploaded\n +remote/);
		assert.match(result.stdout, /done remotely/);
		assert.equal(llm.requests[0]?.headers.authorization, `Bearer ${llmKey}`, 'the LLM key reached the runner as a file');
		const id = /(ex-[0-9a-f]+-[0-9a-f]+)/.exec(result.stdout)![1]!;
		assert.ok((await executionIds()).includes(id));
		assert.equal(await asService(`cat ${containerPaths.workspace}/${id}/out.txt`), 'remote\n');
		// the sandbox's permission handling on a volume: what the command made (as its own uid) is handed
		// back to the service when the execution ends, and the roots have the sandbox's modes
		const service = `${imageUser.uid}:${imageUser.gid}`;
		const deadline = Date.now() + 30_000;
		let owner = '';
		while ((owner = (await asService(`stat -c '%u:%g' ${containerPaths.workspace}/${id}/made.txt`)).trim()) !== service && Date.now() < deadline) {
			await new Promise((resolve) => setTimeout(resolve, 100));
		}
		assert.equal(owner, service);
		// the bridges (the spare one at least) run as nobody: they need none of the service's files
		const bridges = await docker([
			'exec',
			stack.containerName,
			'sh',
			'-c',
			`for d in /proc/[0-9]*; do case "$(tr '\\0' ' ' < $d/cmdline 2>/dev/null)" in *[a]pi_bridge.py*) grep '^Uid:' $d/status;; esac; done`,
		]);
		const uids = bridges.stdout.trim().split('\n').filter(Boolean);
		assert.ok(uids.length > 0, 'a spare bridge waits in the container');
		for (const line of uids) assert.match(line, /^Uid:\s+65534\s+65534/);
		const roots = await docker(['exec', stack.containerName, 'stat', '-c', '%n %u:%g %a', containerPaths.workspace, containerPaths.data]);
		assert.equal(roots.stdout.trim(), `${containerPaths.workspace} ${service} 711\n${containerPaths.data} ${service} 700`);
	});

	test('a container restarted under the forward: its spare bridge died with it, the first request still gets through', async () => {
		const before = await executionIds(); // an answer: the forward now keeps a spare bridge in this container
		await docker(['restart', '-t', '2', stack.containerName], { timeoutMs: 60_000 });
		// ready again, seen from inside (not through the forward, which would replace the spare)
		const deadline = Date.now() + 60_000;
		const readyz = `import urllib.request as u; u.urlopen('http://127.0.0.1:7480/readyz', timeout=2)`;
		while ((await docker(['exec', stack.containerName, 'python3', '-c', readyz], { allowFailure: true })).code !== 0) {
			assert.ok(Date.now() < deadline, 'the runner did not become ready after docker restart');
			await new Promise((resolve) => setTimeout(resolve, 100));
		}
		assert.deepEqual(await executionIds(), before);
	});

	test('a container stopped outside stigmer is started again, its secrets copied in again', async () => {
		const before = await executionIds();
		await docker(['stop', '-t', '2', stack.containerName], { timeoutMs: 60_000 });
		const started = await stack.cli(['server', 'start', '--timeout', '60']);
		assert.equal(started.code, 0, started.stderr);
		assert.match(started.stderr, /starting container/);
		assert.deepEqual(await executionIds(), before);
	});

	test('restart keeps the volumes and their data; server stop keeps the volumes', async () => {
		const before = await executionIds();
		assert.ok(before.length > 0);
		const restarted = await stack.cli(['server', 'restart', '--timeout', '60']);
		assert.equal(restarted.code, 0, restarted.stderr);
		assert.deepEqual(await executionIds(), before, 'the data volume kept the store');
		const stopped = await stack.cli(['server', 'stop', '--timeout', '2']);
		assert.equal(stopped.code, 0, stopped.stderr);
		for (const volume of volumes) assert.ok(await volumeExists(volume), `${volume} survives server stop`);
		const notRunning = await stack.cli(['executions', 'list']);
		assert.equal(notRunning.code, 1);
		assert.match(notRunning.stderr, /agent-runner is not running/);
		const started = await stack.cli(['server', 'start', '--timeout', '60']);
		assert.equal(started.code, 0, started.stderr);
		assert.deepEqual(await executionIds(), before);
	});

	test('a new API token recreates the container with it (the token is copied in, not mounted)', async () => {
		const token = `rotated-${Date.now()}`;
		writeFileSync(stack.home.apiTokenFile, `${token}\n`, { mode: 0o600 });
		const started = await stack.cli(['server', 'start', '--timeout', '60']);
		assert.equal(started.code, 0, started.stderr);
		assert.match(started.stderr, /configuration changed, recreating container/);
		const seen = await docker(['exec', stack.containerName, 'cat', containerPaths.apiToken]);
		assert.equal(seen.stdout.trim(), token);
		assert.ok((await executionIds()).length > 0, 'the CLI is let in with the new token; the data volume kept the store');
	});

	test('the container gone under the forward: a clear error, not a reset connection', async () => {
		await docker(['rm', '-f', stack.containerName]); // without -v: its secrets volume is left for server stop to find
		const listed = await stack.cli(['executions', 'list']);
		assert.equal(listed.code, 1);
		assert.match(listed.stderr, new RegExp(`agent-runner: not running: its container ${stack.containerName} does not exist \\(start it with`));
	});

	test('server stop --volumes removes the volumes', async () => {
		const stopped = await stack.cli(['server', 'stop', '--volumes', '--timeout', '2']);
		assert.equal(stopped.code, 0, stopped.stderr);
		assert.match(stopped.stderr, /volume .*-workspace removed/);
		for (const volume of volumes) assert.equal(await volumeExists(volume), false, `${volume} is removed`);
		assert.equal(await homeVolumes(), '', 'nothing of the home is left, the secrets volume the removal without -v left included');
	});

	test('the same home, now on a local engine while the remote-mode stack runs: start takes the port back from the forward', async () => {
		const remote = await stack.cli(['server', 'start', '--timeout', '60']);
		assert.equal(remote.code, 0, remote.stderr);
		const local = await stack.cli(['server', 'start', '--timeout', '60'], { env: { STIGMER_ENGINE_REMOTE: '0' } });
		assert.equal(local.code, 0, local.stderr);
		const inspect = await inspectRunner();
		assert.ok((inspect.HostConfig.Binds ?? []).length > 0, 'local mode: the home is bind-mounted');
		assert.equal((inspect.NetworkSettings.Ports['7480/tcp'] ?? [])[0]?.HostPort, String(stack.port), 'and the API published again');
		const listed = await stack.cli(['executions', 'list'], { env: { STIGMER_ENGINE_REMOTE: '0' } });
		assert.equal(listed.code, 0, listed.stderr);
		const stopped = await stack.cli(['server', 'stop', '--timeout', '2'], { env: { STIGMER_ENGINE_REMOTE: '0' } });
		assert.equal(stopped.code, 0, stopped.stderr);
	});
});
