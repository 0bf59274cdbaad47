// The budgets per execution (docs/security.md) against the real agent-runner container: an execution that
// writes past its disk budget, or whose processes together pass its memory budget, fails with the budget's
// error and a `budget_exceeded` event, its processes killed, while a concurrent execution runs on and
// succeeds. Small budgets (config.yaml's agentRunner.sandbox) keep it fast.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { containerProcesses } from '../helpers/containerProcesses.js';
import { docker } from '../helpers/docker.js';
import { routeByInstructions, startFakeLlm, toolCall, type FakeLlm, type FakeLlmStep } from '../helpers/fakeLlm.js';
import { type CliResult, RunnerStack, collect } from '../helpers/runnerStack.js';

const MiB = 1024 ** 2;
const diskBudget = 64 * MiB;
const memoryBudget = 96 * MiB;
/** the overshoot past the disk budget the README promises (bench/budgets.ts measures it) */
const overshootBound = 64 * MiB;
let llm: FakeLlm;
let stack: RunnerStack;

interface Event {
	execution: string;
	type: string;
	data: any;
}

/** Scripted answers per agent (by its instructions), for executions that run at the same time. */
const routes = new Map<string, FakeLlmStep[]>();

function agentFile(instructions: string): string {
	const file = path.join(stack.home.dir, `agent-${instructions}.json`);
	writeFileSync(file, JSON.stringify({ name: instructions, instructions, tools: ['run_command', 'write_file'], max_steps: 20 }));
	return file;
}

function start(name: string, steps: FakeLlmStep[]): Promise<CliResult> {
	routes.set(name, steps);
	return collect(stack.spawnCli(['run', agentFile(name), 'go', '--json']), 240_000);
}

const events = (run: CliResult): Event[] =>
	run.stdout
		.trim()
		.split('\n')
		.map((line) => JSON.parse(line) as Event);

/** A bystander whose command runs until the test lets it finish: it is running while the other execution breaks its budget. */
function bystander(flag: string): Promise<CliResult> {
	const command = `for i in $(seq 1 2400); do [ -e /tmp/${flag} ] && break; sleep 0.05; done; echo alive > alive.txt; cat alive.txt`;
	return start(`bystander-${flag}`, [toolCall('run_command', { command, timeout_seconds: 150 }), toolCall('run_command', { command: 'echo still here' })]);
}

/** Runs `body` beside a bystander execution, which then finishes and must have succeeded. */
async function besideBystander(flag: string, body: () => Promise<void>): Promise<void> {
	const other = bystander(flag);
	try {
		await body();
	} finally {
		await docker(['exec', stack.containerName, 'touch', `/tmp/${flag}`]);
	}
	await assertBystanderSucceeded(await other);
}

async function assertBystanderSucceeded(run: CliResult): Promise<void> {
	assert.equal(run.code, 0, run.stdout + run.stderr);
	const results = events(run).filter((e) => e.type === 'tool_result');
	assert.match(results[0]!.data.output, /stdout:\nalive\n/);
	assert.match(results[1]!.data.output, /stdout:\nstill here\n/);
}

/** Runs a command in the container as the owner of an ended execution's workspace (the service: a host directory or a volume). */
async function asOwner(id: string, command: string[]): Promise<string> {
	const owner = (await docker(['exec', stack.containerName, 'stat', '-c', '%u:%g', `/workspace/${id}`])).stdout.trim();
	return (await docker(['exec', '--user', owner, stack.containerName, ...command])).stdout;
}

/** Bytes allocated to an execution's workspace, as du sees them. */
const workspaceBytes = async (id: string) => Number((await asOwner(id, ['du', '-s', '-B1', `/workspace/${id}`])).split(/\s/)[0]);
const workspaceFiles = async (id: string) => (await asOwner(id, ['ls', `/workspace/${id}`])).trim().split('\n').filter(Boolean);

function assertFailedOnBudget(run: CliResult, kind: 'disk' | 'memory', message: RegExp): Event[] {
	assert.notEqual(run.code, 0, run.stdout + run.stderr);
	const all = events(run);
	const status = all.at(-1)!;
	assert.equal(status.data.status, 'failed', run.stdout);
	assert.match(status.data.error, message);
	const budget = all.find((e) => e.type === 'budget_exceeded');
	assert.ok(budget, `a budget_exceeded event: ${run.stdout}`);
	assert.equal(budget.data.kind, kind);
	assert.equal(budget.data.budget_bytes, kind === 'disk' ? diskBudget : memoryBudget);
	assert.ok(budget.data.used_bytes > budget.data.budget_bytes, JSON.stringify(budget.data));
	assert.match(budget.data.message, message);
	return all;
}

/** processes of the stack's sandbox uids (2 × maxConcurrency from its base; a remote engine's API bridge runs as nobody, outside them) */
const slotProcesses = async () => (await containerProcesses(stack.containerName)).filter((p) => p.uid >= stack.sandboxUidBase && p.uid < stack.sandboxUidBase + 8 && p.state !== 'Z');

async function assertRunnerUnharmed(): Promise<void> {
	await stack.assertUnharmed();
	assert.deepEqual(await slotProcesses(), [], 'no process of a sandbox uid is left');
}

before(async () => {
	llm = await startFakeLlm({ script: [], host: '127.0.0.1', respond: routeByInstructions(routes) });
	stack = await RunnerStack.start({ llmUrl: llm.url, sandbox: { diskBudget: '64m', memoryBudget: '96m' } });
});

after(async () => {
	await stack?.dispose();
	await llm?.close();
});

describe('budgets per execution', { timeout: 600_000 }, () => {
	test('one big file stops at the disk budget; the execution fails, its file stays, a concurrent one succeeds', async () => {
		await besideBystander('dd', async () => {
			const run = await start('dd', [toolCall('run_command', { command: 'dd if=/dev/zero of=big bs=1M count=2048' }), toolCall('run_command', { command: 'echo never' })]);
			const all = assertFailedOnBudget(run, 'disk', /^workspace budget of 64 MiB exceeded: the execution's files take /);
			assert.ok(!all.some((e) => e.type === 'tool_call' && e.data.arguments?.command === 'echo never'), 'the execution ended at the breach');
			const id = all[0]!.execution;
			assert.ok((await workspaceBytes(id)) <= diskBudget + overshootBound);
			assert.deepEqual(await workspaceFiles(id), ['big'], 'what it wrote stays');
		});
		await assertRunnerUnharmed();
	});

	test('many files past the disk budget: killed within the bound, the files stay, a concurrent execution succeeds', async () => {
		await besideBystander('many', async () => {
			const run = await start('many', [toolCall('run_command', { command: 'for i in $(seq 1 40); do head -c 8M /dev/zero > f$i; done; echo wrote all' })]);
			const all = assertFailedOnBudget(run, 'disk', /^workspace budget of 64 MiB exceeded/);
			const result = all.find((e) => e.type === 'tool_result')!;
			assert.equal(result.data.ok, false);
			assert.doesNotMatch(result.data.output, /wrote all/);
			const id = all[0]!.execution;
			const bytes = await workspaceBytes(id);
			assert.ok(bytes > diskBudget && bytes <= diskBudget + overshootBound, `${bytes} bytes on disk`);
			const files = await workspaceFiles(id);
			assert.ok(files.length >= 8 && files.length < 40, files.join(' '));
		});
		await assertRunnerUnharmed();
	});

	test('a background process that writes past the budget while the model thinks ends the execution too', async () => {
		const run = await start('background', [
			toolCall('run_command', { command: '(sleep 0.5; for i in $(seq 1 40); do head -c 8M /dev/zero > g$i; done) > /dev/null 2>&1 & echo started' }),
			{ ...toolCall('run_command', { command: 'echo never' }), delayMs: 150_000 }, // the model thinks
		]);
		assertFailedOnBudget(run, 'disk', /^workspace budget of 64 MiB exceeded/);
		await assertRunnerUnharmed();
	});

	test("an execution that keeps stopping its uid's processes cannot hold the launcher's measurement", async () => {
		// kill(-1, SIGSTOP) reaches every process of the execution's uid: the launcher's measurement must not be one
		const stopper = 'head -c 200M /dev/zero > big & w=$!; while kill -0 $w 2>/dev/null; do kill -STOP -1 2>/dev/null; kill -CONT $w 2>/dev/null; done';
		const run = await start('stopper', [toolCall('run_command', { command: stopper, timeout_seconds: 120 })]);
		assertFailedOnBudget(run, 'disk', /^workspace budget of 64 MiB exceeded/);
		await assertRunnerUnharmed();
	});

	test('files in /tmp count, and write_file refuses what would pass the budget', async () => {
		const run = await start('scratch', [
			toolCall('run_command', { command: 'head -c 56M /dev/zero > /tmp/mine && echo ok' }),
			toolCall('write_file', { path: 'notes.txt', content: 'x'.repeat(10 * MiB) }),
			toolCall('run_command', { command: 'head -c 30M /dev/zero > more && echo ok' }),
		]);
		const all = assertFailedOnBudget(run, 'disk', /^workspace budget of 64 MiB exceeded/);
		const results = all.filter((e) => e.type === 'tool_result');
		assert.equal(results[0]!.data.ok, true);
		assert.equal(results[1]!.data.ok, false);
		assert.match(results[1]!.data.output, /^error: workspace budget of 64 MiB exceeded: writing 10 MiB would bring the workspace to/);
		await assertRunnerUnharmed();
		const { stdout } = await docker(['exec', stack.containerName, 'sh', '-c', 'ls /tmp']);
		assert.doesNotMatch(stdout, /\bmine\b/, 'what it left in /tmp is removed when the execution ends');
	});

	test('processes that together pass the memory budget are killed; a concurrent execution runs on and succeeds', async () => {
		await besideBystander('memory', async () => {
			// each process stays under its own ceiling (RLIMIT_DATA = the budget); four together pass it
			const hog = "python3 -c 'import time; x = bytearray(40 << 20); time.sleep(120)'";
			const run = await start('memory', [toolCall('run_command', { command: `for i in 1 2 3 4; do ${hog} & done; wait; echo survived`, timeout_seconds: 150 })]);
			const all = assertFailedOnBudget(run, 'memory', /^memory budget of 96 MiB exceeded: the execution's processes used /);
			const result = all.find((e) => e.type === 'tool_result')!;
			assert.doesNotMatch(result.data.output, /survived/);
		});
		await assertRunnerUnharmed();
	});

	test('one process alone cannot pass the memory budget: RLIMIT_DATA stops it', async () => {
		const run = await start('one-hog', [toolCall('run_command', { command: "python3 -c 'x = bytearray(200 << 20)'" }), toolCall('run_command', { command: 'echo after' })]);
		assert.equal(run.code, 0, run.stdout + run.stderr);
		const results = events(run).filter((e) => e.type === 'tool_result');
		assert.match(results[0]!.data.output, /MemoryError/);
		assert.match(results[1]!.data.output, /stdout:\nafter\n/);
	});
});
