// The command sandbox against the real agent-runner container: what an agent's `run_command` can reach,
// and the limits that hold. Each attack is a command the fake model asks for, as a hostile agent would.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { serviceUser } from '../../source/contract.js';
import { containerProcesses, serviceProcess } from '../helpers/containerProcesses.js';
import { docker } from '../helpers/docker.js';
import { finalAnswer, routeByInstructions, startFakeLlm, toolCall, type FakeLlm, type FakeLlmStep } from '../helpers/fakeLlm.js';
import { RunnerStack, collect, waitForOutput } from '../helpers/runnerStack.js';

const llmKey = 'sk-test-sandbox-key-0123456789';
let llm: FakeLlm;
let stack: RunnerStack;

interface ToolResult {
	ok: boolean;
	output: string;
	exit_code: number | null;
	timed_out: boolean;
	duration_ms: number;
}

/** Scripted answers per agent (by its instructions), for executions that run at the same time. */
const routes = new Map<string, FakeLlmStep[]>();

function agentFile(instructions = 'x'): string {
	const file = path.join(stack.home.dir, `agent-${instructions}.json`);
	writeFileSync(file, JSON.stringify({ name: 'hostile', instructions, tools: ['run_command'], max_steps: 40 }));
	return file;
}

function toolResults(jsonLines: string): ToolResult[] {
	return jsonLines
		.trim()
		.split('\n')
		.map((line) => JSON.parse(line) as { type: string; data: ToolResult })
		.filter((e) => e.type === 'tool_result')
		.map((e) => e.data);
}

/** One execution running `commands` in order; its id and the tool results. */
async function runCommands(commands: Array<string | { command: string; timeout_seconds: number }>): Promise<{ id: string; status: string; results: ToolResult[] }> {
	llm.reset();
	llm.push(...commands.map((c) => toolCall('run_command', typeof c === 'string' ? { command: c } : c)), finalAnswer('done'));
	const run = await stack.cli(['run', agentFile(), 'go', '--json'], { timeoutMs: 240_000 });
	const events = run.stdout
		.trim()
		.split('\n')
		.map((line) => JSON.parse(line) as { execution: string; type: string; data: any });
	const results = toolResults(run.stdout);
	assert.equal(results.length, commands.length, run.stdout + run.stderr);
	return { id: events[0]!.execution, status: events.at(-1)!.data.status, results };
}

const slotProcesses = async () => (await containerProcesses(stack.containerName)).filter((p) => p.uid >= stack.sandboxUidBase && p.uid < stack.sandboxUidBase + 8 && p.state !== 'Z');

const assertRunnerUnharmed = () => stack.assertUnharmed();

before(async () => {
	llm = await startFakeLlm({ script: [], host: '127.0.0.1', respond: routeByInstructions(routes) });
	stack = await RunnerStack.start({ llmUrl: llm.url, llmApiKey: llmKey });
});

after(async () => {
	await stack?.dispose();
	await llm?.close();
});

describe('run_command sees its own workspace and nothing else of ours', () => {
	test('secrets, the store, another execution, the service and the log are out of reach', async () => {
		const mine = await runCommands(['echo mine > x.txt']);
		assert.equal(mine.status, 'succeeded');
		const service = await serviceProcess(stack.containerName);
		const attacks = [
			'cat /run/secrets/api-token',
			'cat /run/secrets/llm-api-key',
			'ls /run/secrets',
			'ls /data',
			'cat /data/agent-runner.sqlite3',
			'echo TAMPERED >> /data/agent-runner.sqlite3',
			`cat ../${mine.id}/x.txt`,
			`echo evil > ../${mine.id}/x.txt`,
			`ls ../${mine.id}`,
			'ls ..',
			'echo pwned > /proc/1/fd/1',
			`cat /proc/${service.pid}/environ`,
			`ls /proc/${service.pid}/fd`,
			`head -c 16 /proc/${service.pid}/mem`,
			`kill -STOP ${service.pid}`,
		];
		const other = await runCommands(attacks);
		other.results.forEach((result, i) => {
			assert.equal(result.ok, false, `${attacks[i]} was allowed:\n${result.output}`);
			assert.ok(!result.output.includes(stack.token) && !result.output.includes(llmKey), `${attacks[i]} leaked a secret`);
		});
		assert.match(other.results[0]!.output, /Permission denied/);
		// Nothing changed behind the denials.
		const shown = JSON.parse((await stack.cli(['executions', 'show', mine.id, '--json'])).stdout);
		assert.equal(shown.result, 'done');
		assert.equal(readFileSync(path.join(stack.home.workspaceDir, mine.id, 'x.txt'), 'utf8'), 'mine\n');
		assert.ok(!(await stack.logs()).includes('pwned'));
		await assertRunnerUnharmed();
	});

	test('files an execution leaves are handed back to the service uid, removable by the invoking user', async () => {
		const { id, results } = await runCommands(['mkdir -p d/e && echo x > d/e/f && chmod 0 d/e/f d/e && ln -s /run/secrets/api-token link']);
		assert.ok(results[0]!.ok, results[0]!.output);
		const dir = path.join(stack.home.workspaceDir, id);
		const service = serviceUser();
		const walk = (p: string): string[] => [p, ...(lstatSync(p).isDirectory() ? readdirSync(p).flatMap((n) => walk(path.join(p, n))) : [])];
		const entries = walk(dir);
		assert.equal(entries.length, 5);
		for (const entry of entries) assert.equal(lstatSync(entry).uid, service.uid, entry);
		rmSync(dir, { recursive: true });
	});

	test('a runner killed mid-command hands the files back at its next start', async () => {
		llm.reset();
		llm.push(toolCall('run_command', { command: 'mkdir -p d && echo x > d/f && sleep 300', timeout_seconds: 600 }));
		const child = stack.spawnCli(['run', agentFile(), 'go', '--json']);
		const done = collect(child, 120_000);
		const first = JSON.parse((await waitForOutput(child, /\n/)).split('\n')[0]!) as { execution: string };
		const dir = path.join(stack.home.workspaceDir, first.execution);
		for (let i = 0; i < 300 && !existsSync(path.join(dir, 'd', 'f')); i++) await new Promise((r) => setTimeout(r, 100));
		const madeBy = lstatSync(path.join(dir, 'd', 'f')).uid;
		const range = `${stack.sandboxUidBase}–${stack.sandboxUidBase + 7}`;
		assert.ok(madeBy >= stack.sandboxUidBase && madeBy < stack.sandboxUidBase + 8, `the command made it as a uid of its own, in this stack's range ${range}, not ${madeBy}`);
		await docker(['kill', stack.containerName]);
		await docker(['start', stack.containerName]);
		await stack.waitReady();
		await done; // the run reconnects and reports the execution interrupted
		const owners = () => [dir, path.join(dir, 'd'), path.join(dir, 'd', 'f')].map((p) => `${lstatSync(p).uid}:${lstatSync(p).gid}`);
		const service = `${serviceUser().uid}:${serviceUser().gid}`;
		for (let i = 0; i < 300 && owners().some((o) => o !== service); i++) await new Promise((r) => setTimeout(r, 100));
		assert.deepEqual(owners(), [service, service, service]);
	});
});

describe('limits that hold', () => {
	test('a timeout ends setsid and double-forked processes too', async () => {
		const { results } = await runCommands([
			{ command: "setsid sh -c 'sleep 300' & (sh -c 'sleep 301 &' &); sleep 302", timeout_seconds: 2 },
			"for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f; echo; done 2>/dev/null | grep -c '^sleep 30' || true",
		]);
		assert.equal(results[0]!.timed_out, true, results[0]!.output);
		assert.ok(results[0]!.duration_ms < 60_000, 'the tool returned long before the sleeps would end');
		assert.match(results[1]!.output, /stdout:\n0\n/, 'no process of the timed-out command survived');
		assert.deepEqual(await slotProcesses(), []);
	});

	test('commands that keep stopping every process of their uid cannot stop the helpers that end them', async () => {
		// kill(-1, SIGSTOP) reaches every process the slot's uid may signal: the launcher's kill and release
		// helpers must not be among them (before they were, such an execution never ended: its helper stopped).
		// The command itself outlives its timeout: it waited for the stoppers to stop it, and on CI's Podman
		// at load 8 the shell once exited (0, "started") before any of them had run
		const stoppers = 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do (while :; do kill -STOP -1 2>/dev/null; done) >/dev/null 2>&1 & done; echo started; sleep 30';
		for (let round = 0; round < 3; round++) {
			const { status, results } = await runCommands([{ command: stoppers, timeout_seconds: 2 }, 'echo after']);
			assert.equal(results[0]!.timed_out, true, results[0]!.output);
			assert.match(results[1]!.output, /stdout:\nafter\n/, 'the next command of the execution runs');
			assert.equal(status, 'succeeded');
			assert.deepEqual(await slotProcesses(), [], 'nothing of the execution is left, stopped or not');
		}
		await assertRunnerUnharmed();
	});

	test('a background process does not hold the command; it ends with the execution', async () => {
		llm.reset();
		llm.push(toolCall('run_command', { command: '(sleep 300 &); echo bg', timeout_seconds: 30 }), { content: 'later', delayMs: 60_000 });
		const child = stack.spawnCli(['run', agentFile(), 'go', '--json']);
		const done = collect(child, 120_000);
		const first = JSON.parse((await waitForOutput(child, /\n/)).split('\n')[0]!) as { execution: string };
		await llm.waitForRequests(2, 60_000);
		assert.ok(
			(await slotProcesses()).some((p) => p.cmdline === 'sleep 300'),
			'the background process runs while the execution does',
		);
		assert.equal((await stack.cli(['executions', 'cancel', first.execution])).code, 0);
		const events = (await done).stdout
			.trim()
			.split('\n')
			.map((l) => JSON.parse(l));
		const result = events.find((e) => e.type === 'tool_result').data as ToolResult;
		assert.equal(result.timed_out, false);
		assert.equal(result.exit_code, 0);
		assert.match(result.output, /stdout:\nbg\n/);
		assert.equal(events.at(-1).data.status, 'cancelled');
		assert.deepEqual(await slotProcesses(), [], 'the execution ended: its background process too');
	});

	test('700 MB of output is capped while it streams; the runner stays up', async () => {
		const { results } = await runCommands([{ command: 'yes | head -c 734003200; echo END', timeout_seconds: 600 }]);
		assert.equal(results[0]!.exit_code, 0, results[0]!.output);
		assert.ok(/omitted/.test(results[0]!.output) && results[0]!.output.includes('END'), 'capped, head and tail kept');
		assert.ok(results[0]!.output.length < 20_000);
		await assertRunnerUnharmed();
	});

	test('a memory hog and a fork bomb fail alone; a concurrent execution carries on', async () => {
		// Two executions at once: the fake model answers each by its agent's instructions.
		routes.set('hostile', [
			toolCall('run_command', { command: 'python3 -c "x = bytearray(3 << 30)"' }),
			toolCall('run_command', { command: 'b() { b | b; }; b', timeout_seconds: 15 }),
			toolCall('run_command', { command: 'echo survived' }),
		]);
		routes.set('bystander', [toolCall('run_command', { command: 'echo alive' })]);
		llm.reset();
		try {
			const hostile = collect(stack.spawnCli(['run', agentFile('hostile'), 'go', '--json']), 120_000);
			await llm.waitForRequests(2, 60_000);
			const bystander = await stack.cli(['run', agentFile('bystander'), 'go', '--json'], { timeoutMs: 120_000 });
			assert.equal(bystander.code, 0, bystander.stdout + bystander.stderr);
			assert.match(toolResults(bystander.stdout)[0]!.output, /stdout:\nalive\n/);
			const [hog, bomb, after] = toolResults((await hostile).stdout);
			assert.equal(hog!.ok, false);
			assert.match(hog!.output, /MemoryError/);
			assert.equal(bomb!.ok, false);
			assert.equal(after!.ok, true, 'the execution itself carries on after its command failed');
			assert.deepEqual(await slotProcesses(), []);
			await assertRunnerUnharmed();
		} finally {
			routes.clear();
		}
	});
});
