// The agent-runner's network against the real engine: its own bridge network, the API published on the
// host's 127.0.0.1 only, no reach from the container's network to the host's loopback nor listeners in it
// on the host's interfaces, and the LLM on the host's 127.0.0.1 still reached through the supervisor's
// forward. Agent commands have no network at all (networkPolicy.test.ts); this is the layer beneath.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { currentForward, supervisorPid } from '../../source/supervisor/SupervisorClient.ts';
import { docker, dockerInspect } from '../helpers/docker.ts';
import { finalAnswer, startFakeLlm, toolCall, type FakeLlm } from '../helpers/fakeLlm.ts';
import { RunnerStack, freePort } from '../helpers/runnerStack.ts';

let llm: FakeLlm;
let stack: RunnerStack;
let gateway = '';

/** The host's TCP listeners (`ss -ltn`), as local address:port strings. */
const hostListeners = (): string[] =>
	execFileSync('ss', ['-ltnH'], { encoding: 'utf8' })
		.split('\n')
		.map((line) => line.trim().split(/\s+/)[3] ?? '')
		.filter(Boolean);
const listensOn = (port: number) => hostListeners().filter((address) => address.endsWith(`:${port}`));

/** Runs an agent whose one command is `command`; resolves with the execution and the command's tool result. */
async function agentRuns(command: string): Promise<{ status: string; toolResult: string }> {
	llm.reset();
	llm.push(toolCall('run_command', { command, timeout_seconds: 20 }), finalAnswer('done'));
	const created = await fetch(`${stack.baseUrl}/v1/executions`, {
		method: 'POST',
		headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
		body: JSON.stringify({ agent: { name: 'net', instructions: 'x', tools: ['run_command'] }, input: 'go' }),
	});
	assert.equal(created.status, 202, await created.clone().text());
	const { id } = (await created.json()) as { id: string };
	const deadline = Date.now() + 60_000;
	let execution: { status: string; error: string | null } = { status: 'queued', error: null };
	while (Date.now() < deadline && !['succeeded', 'failed', 'cancelled', 'interrupted'].includes(execution.status)) {
		await new Promise((resolve) => setTimeout(resolve, 100));
		execution = (await (await fetch(`${stack.baseUrl}/v1/executions/${id}`, { headers: { authorization: `Bearer ${stack.token}` } })).json()) as typeof execution;
	}
	assert.equal(execution.status, 'succeeded', JSON.stringify(execution));
	// the second model call carries the command's result back to the model
	const messages = (llm.requests[1]?.body?.messages ?? []) as Array<{ role: string; content: string }>;
	return {
		status: execution.status,
		toolResult: messages
			.filter((m) => m.role === 'tool')
			.map((m) => m.content)
			.join('\n'),
	};
}

/** Python run in the container: one line per address, "open" or the error. */
const connectProbe = (targets: string[]) =>
	`python3 -c 'import socket,sys
for t in sys.argv[1:]:
    h, p = t.rsplit(":", 1)
    try:
        socket.create_connection((h, int(p)), timeout=3).close(); print(t, "open")
    except Exception as e:
        print(t, type(e).__name__)' ${targets.join(' ')}`;

before(async () => {
	llm = await startFakeLlm({ script: [], host: '127.0.0.1' });
	stack = await RunnerStack.start({ llmUrl: llm.url });
	const network = await dockerInspect(stack.home.networkName, 'network');
	gateway = network?.IPAM?.Config?.[0]?.Gateway ?? '';
});

after(async () => {
	await stack?.dispose();
	await llm?.close();
});

describe('agent-runner network', { timeout: 300_000 }, () => {
	test('its own labelled bridge network, never the host network; the API is published on 127.0.0.1 only', async () => {
		const inspect = await dockerInspect(stack.containerName);
		// Docker names the network in NetworkMode, Podman says `bridge`: both list it as the one network
		assert.notEqual(inspect.HostConfig.NetworkMode, 'host');
		assert.deepEqual(Object.keys(inspect.NetworkSettings.Networks), [stack.home.networkName]);
		assert.deepEqual(inspect.HostConfig.PortBindings, { '7480/tcp': [{ HostIp: '127.0.0.1', HostPort: String(stack.port) }] });
		const network = await dockerInspect(stack.home.networkName, 'network');
		assert.equal(network.Labels['ai.stigmer.managed'], 'true');
		assert.equal(network.Labels['ai.stigmer.home'], stack.home.hash);
		assert.match(gateway, /^\d+\.\d+\.\d+\.\d+$/);
		assert.deepEqual(listensOn(stack.port), [`127.0.0.1:${stack.port}`], "the API port is on the host's loopback and nowhere else");
		assert.equal((await fetch(`${stack.baseUrl}/healthz`)).status, 200);
	});

	test("an execution against the LLM on the host's 127.0.0.1 succeeds through the supervisor's forward", async () => {
		const { toolResult } = await agentRuns('echo reached');
		assert.match(toolResult, /reached/);
		const inspect = await dockerInspect(stack.containerName);
		const url = (inspect.Config.Env as string[]).find((e) => e.startsWith('STIGMER_LLM_BASE_URL='));
		assert.equal(url, `STIGMER_LLM_BASE_URL=http://${gateway}:${llm.port}/v1`, "the forward listens on the gateway at the LLM's own port");
		const forward = await currentForward(stack.home);
		assert.equal(forward?.mode, 'forward');
		assert.equal(forward?.listenHost, gateway);
		assert.equal(forward?.targetHost, '127.0.0.1');
		assert.ok((forward?.accepted ?? 0) >= 1, `the runner's model calls went through it: ${JSON.stringify(forward)}`);
		assert.deepEqual(listensOn(llm.port).sort(), [`${gateway}:${llm.port}`, `127.0.0.1:${llm.port}`].sort());

		const doctor = await stack.cli(['doctor', '--json']);
		const check = (JSON.parse(doctor.stdout) as { checks: Array<{ name: string; status: string; detail: string }> }).checks.find((c) => c.name === 'llm')!;
		assert.equal(check.status, 'ok', check.detail);
		assert.match(check.detail, /from inside the container \(through the supervisor's forward/);
	});

	test("the container's network cannot reach a server on the host's 127.0.0.1 (agent commands reach nothing)", async () => {
		let connections = 0;
		const hostOnly = net.createServer((socket) => {
			connections += 1;
			socket.end('secret\n');
		});
		await new Promise<void>((resolve) => hostOnly.listen(0, '127.0.0.1', resolve));
		const port = (hostOnly.address() as net.AddressInfo).port;
		try {
			const targets = [`127.0.0.1:${port}`, `${gateway}:${port}`, `host.docker.internal:${port}`, `${gateway}:${llm.port}`];
			// the runner's own namespace, without the commands' filter (docker exec)
			const seen = (await docker(['exec', stack.containerName, 'sh', '-c', connectProbe(targets)])).stdout;
			assert.match(seen, new RegExp(`127\\.0\\.0\\.1:${port} ConnectionRefusedError`));
			assert.match(seen, new RegExp(`${gateway.replaceAll('.', '\\.')}:${port} ConnectionRefusedError`));
			assert.match(seen, new RegExp(`host\\.docker\\.internal:${port} ConnectionRefusedError`));
			assert.match(seen, new RegExp(`${gateway.replaceAll('.', '\\.')}:${llm.port} open`), 'the LLM forward is the one way through');
			assert.equal(connections, 0);
			const { toolResult: fromCommand } = await agentRuns(connectProbe(targets));
			for (const target of targets) assert.match(fromCommand, new RegExp(`${target.replaceAll('.', '\\.')} PermissionError`));
		} finally {
			hostOnly.close();
		}
	});

	test('a listener on 0.0.0.0 inside the container is not on the host', async () => {
		const port = await freePort();
		await docker(['exec', '-d', stack.containerName, 'python3', '-c', `import socket,time\ns=socket.socket()\ns.bind(("0.0.0.0",${port}))\ns.listen()\ntime.sleep(60)`]);
		// it listens inside the container's own namespace ...
		const inside = async () => (await docker(['exec', stack.containerName, 'sh', '-c', connectProbe([`127.0.0.1:${port}`])])).stdout;
		const deadline = Date.now() + 15_000;
		let seen = await inside();
		while (!seen.includes('open') && Date.now() < deadline) {
			await new Promise((resolve) => setTimeout(resolve, 200));
			seen = await inside();
		}
		assert.match(seen, / open/);
		// ... and nowhere on the host
		assert.deepEqual(listensOn(port), []);
		const reached = await new Promise<boolean>((resolve) => {
			const socket = net.connect({ host: '127.0.0.1', port });
			socket.once('connect', () => {
				socket.destroy();
				resolve(true);
			});
			socket.once('error', () => resolve(false));
		});
		assert.equal(reached, false);
	});

	test('server stop leaves no forward, no network and no supervisor', async () => {
		const stop = await stack.cli(['server', 'stop', '--timeout', '2']);
		assert.equal(stop.code, 0, stop.stderr);
		assert.deepEqual(listensOn(llm.port), [`127.0.0.1:${llm.port}`], 'only the fake LLM itself is left');
		assert.equal(await dockerInspect(stack.home.networkName, 'network'), null);
		assert.equal(supervisorPid(stack.home), null);
	});
});
