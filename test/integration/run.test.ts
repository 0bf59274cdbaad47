// `stigmer run` and `stigmer executions` against the real agent-runner container; the model is the
// fake OpenAI-compatible server on the host (the one thing that cannot run here for real).
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { docker } from '../helpers/docker.js';
import { finalAnswer, startFakeLlm, toolCall, type FakeLlm } from '../helpers/fakeLlm.js';
import { readWorkspaceFile, remoteEngine } from '../helpers/remoteEngine.js';
import { RunnerStack, freePort, waitForOutput, collect } from '../helpers/runnerStack.js';

let llm: FakeLlm;
let stack: RunnerStack;

const agentYaml = (extra = '') => `name: counter\ninstructions: |\n  Count the lines of the files.\n${extra}`;

function write(name: string, text: string): string {
	const file = path.join(stack.home.dir, name);
	writeFileSync(file, text);
	return file;
}

async function showJson(id: string): Promise<{ status: string; error: string | null; files: string[] }> {
	const shown = await stack.cli(['executions', 'show', id, '--json']);
	assert.equal(shown.code, 0, shown.stderr);
	return JSON.parse(shown.stdout);
}

function idFrom(output: string): string {
	const match = /(ex-[0-9a-f]+-[0-9a-f]+)/.exec(output);
	assert.ok(match, `no execution id in:\n${output}`);
	return match[1]!;
}

before(async () => {
	llm = await startFakeLlm({ script: [], host: '127.0.0.1' });
	stack = await RunnerStack.start({ llmUrl: llm.url });
});

after(async () => {
	await stack?.dispose();
	await llm?.close();
});

describe('stigmer run', () => {
	test('two attached files and several tool calls: streamed output, exit 0', async () => {
		llm.reset();
		llm.push(
			{ content: 'I will list the files first.', toolCalls: [{ name: 'list_files', arguments: {} }] },
			toolCall('read_file', { path: 'a.txt' }),
			toolCall('run_command', { command: 'wc -l a.txt b.txt && seq 1 50' }),
			toolCall('write_file', { path: 'report.md', content: 'a.txt: 3 lines\nb.txt: 1 line\n' }),
			finalAnswer('a.txt has 3 lines and b.txt has 1.'),
		);
		const agent = write('agent.yaml', agentYaml());
		const a = write('a.txt', 'one\ntwo\nthree\n');
		const b = write('b.txt', 'only\n');
		const result = await stack.cli(['run', agent, 'Count the lines', '--file', a, '--file', b]);
		assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
		const out = result.stdout;
		const id = idFrom(out);
		for (const expected of [
			'agent counter with 2 files',
			'model (step 1) I will list the files first.',
			'→ list_files',
			'→ read_file path="a.txt"',
			'→ run_command command="wc -l a.txt b.txt && seq 1 50"',
			'  ✓ exit 0',
			'3 a.txt',
			'more lines',
			'→ write_file path="report.md"',
			'── answer ──',
			'a.txt has 3 lines and b.txt has 1.',
			'✓ succeeded',
		]) {
			assert.ok(out.includes(expected), `missing ${JSON.stringify(expected)} in:\n${out}`);
		}
		assert.equal(out.match(/a\.txt has 3 lines/g)?.length, 1, 'the final answer is printed once');
		// The files reached the execution's workspace, and the agent's file too.
		const workspaceFile = (name: string) => readWorkspaceFile(stack.home.workspaceDir, stack.containerName, path.join(id, name));
		assert.equal(await workspaceFile('a.txt'), 'one\ntwo\nthree\n');
		assert.equal(await workspaceFile('b.txt'), 'only\n');
		assert.equal(await workspaceFile('report.md'), 'a.txt: 3 lines\nb.txt: 1 line\n');
		assert.deepEqual((await showJson(id)).files.sort(), ['a.txt', 'b.txt']);
		assert.equal(llm.requests.length, 5);
	});

	test('--json prints one parseable event per line, ending with the terminal status', async () => {
		llm.reset();
		llm.push(toolCall('run_command', { command: 'echo "quote\\" and\nnewline"' }), finalAnswer('multi\nline "answer"'));
		const result = await stack.cli(['run', write('agent.json', '{"name": "j", "instructions": "x", "tools": ["run_command"]}'), 'go', '--json']);
		assert.equal(result.code, 0, result.stderr);
		const lines = result.stdout.trimEnd().split('\n');
		const events = lines.map((line) => JSON.parse(line) as { execution: string; id: number; type: string; data: Record<string, unknown> });
		assert.deepEqual(
			events.map((e) => e.type),
			['status', 'status', 'tool_call', 'tool_result', 'model_turn', 'final', 'status'],
		);
		assert.deepEqual(
			events.map((e) => e.id),
			events.map((_, i) => i + 1),
		);
		assert.ok(events.every((e) => e.execution === events[0]!.execution));
		assert.equal(events.at(-1)!.data.status, 'succeeded');
		assert.equal(events.at(-2)!.data.answer, 'multi\nline "answer"');
	});

	test('--detach prints the id and returns; the execution runs on', async () => {
		llm.reset();
		llm.push(finalAnswer('detached done'));
		const result = await stack.cli(['run', write('agent.yaml', agentYaml()), 'go', '--detach']);
		assert.equal(result.code, 0, result.stderr);
		const id = result.stdout.trim();
		assert.match(id, /^ex-[0-9a-f]+-[0-9a-f]+$/);
		const deadline = Date.now() + 20_000;
		let status = '';
		while (Date.now() < deadline && status !== 'succeeded') {
			status = (await showJson(id)).status;
			await new Promise((r) => setTimeout(r, 100));
		}
		assert.equal(status, 'succeeded');
	});

	test('spec errors name file, line and field (exit 2); a missing --file fails before submitting', async () => {
		const before = JSON.parse((await stack.cli(['executions', '--json'])).stdout).length as number;
		const bad = write('bad.yaml', 'name: counter\ninstructions: x\ntools:\n  - read_file\n  - delete_everything\n');
		const r1 = await stack.cli(['run', bad, 'go']);
		assert.equal(r1.code, 2);
		assert.match(r1.stderr, new RegExp(`${bad.replace(/[.]/g, '\\.')}:5: tools: unknown tool "delete_everything"`));
		const badJson = write('bad.json', '{\n  "name": "x",\n  "instructions": "y",\n  "max_steps": -3\n}\n');
		const r2 = await stack.cli(['run', badJson, 'go']);
		assert.equal(r2.code, 2);
		assert.match(r2.stderr, /bad\.json:4: max_steps: must be a positive integer/);
		const r3 = await stack.cli(['run', write('ok.yaml', agentYaml()), 'go', '--file', path.join(stack.home.dir, 'does-not-exist.txt')]);
		assert.equal(r3.code, 2);
		assert.match(r3.stderr, /--file .*does-not-exist\.txt: no such file/);
		const r4 = await stack.cli(['run', write('ok.yaml', agentYaml())]);
		assert.equal(r4.code, 2);
		assert.match(r4.stderr, /needs AGENT_FILE and PROMPT/);
		assert.equal(JSON.parse((await stack.cli(['executions', '--json'])).stdout).length, before, 'nothing was submitted');
	});

	test('Ctrl-C cancels the execution through the API: exit 130, status cancelled', async () => {
		llm.reset();
		llm.push({ content: 'thinking slowly', delayMs: 30_000 });
		const child = stack.spawnCli(['run', write('agent.yaml', agentYaml()), 'take your time']);
		const done = collect(child, 40_000);
		const seen = await waitForOutput(child, /· running/);
		const id = idFrom(seen);
		await llm.waitForRequests(1, 10_000);
		const started = Date.now();
		child.kill('SIGINT');
		const result = await done;
		assert.equal(result.code, 130, `${result.stdout}\n${result.stderr}`);
		assert.ok(Date.now() - started < 10_000, 'cancelling took too long');
		assert.match(result.stderr, /cancelling/);
		assert.match(result.stdout, /✗ cancelled/);
		assert.equal((await showJson(id)).status, 'cancelled');
	});

	test('the container restarting during a run: the stream reconnects and reports interrupted, no hang', async () => {
		llm.reset();
		llm.push({ content: 'slow', delayMs: 30_000 });
		const child = stack.spawnCli(['run', write('agent.yaml', agentYaml()), 'go']);
		const done = collect(child, 90_000);
		const id = idFrom(await waitForOutput(child, /· running/));
		await llm.waitForRequests(1, 10_000);
		// A hard stop: the execution stays `running` in the store until the restarted runner marks it interrupted.
		await docker(['kill', stack.containerName]);
		await new Promise((r) => setTimeout(r, 1000));
		await docker(['start', stack.containerName]);
		const result = await done;
		assert.equal(result.signal, null, `killed by the test timeout:\n${result.stdout}\n${result.stderr}`);
		assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}`);
		assert.match(result.stdout, /lost the agent-runner .*reconnecting/);
		assert.match(result.stdout, /reconnected after [\d.]+ s; resuming after event 2/);
		assert.match(result.stdout, /✗ interrupted.*: the agent-runner stopped/);
		assert.equal((await showJson(id)).status, 'interrupted');
		await stack.waitReady();
	});

	test('the runner not running: a clear error, exit 1', async () => {
		const idle = await RunnerStack.start({ llmUrl: llm.url, noContainer: true });
		try {
			const result = await idle.cli(['run', write('agent.yaml', agentYaml()), 'go']);
			assert.equal(result.code, 1);
			assert.match(result.stderr, /agent-runner is not running — start it with `stigmer server start`/);
			const list = await idle.cli(['executions']);
			assert.equal(list.code, 1);
			assert.match(list.stderr, /agent-runner is not running/);
		} finally {
			await idle.dispose();
		}
	});

	test('LLM unreachable: the execution fails with its error and the setting to change', async () => {
		const closedPort = await freePort();
		const offline = await RunnerStack.start({ llmUrl: `http://127.0.0.1:${closedPort}/v1` });
		try {
			const result = await offline.cli(['run', write('agent.yaml', agentYaml()), 'go']);
			assert.equal(result.code, 1, result.stdout);
			// the container reaches it through the supervisor's forward, which names the host's address; a
			// remote engine's container reaches the URL as it maps it (host.docker.internal: the remote host)
			if (remoteEngine) assert.match(result.stdout, new RegExp(`✗ failed.*cannot reach the LLM at http://host\\.docker\\.internal:${closedPort}/`));
			else assert.match(result.stdout, new RegExp(`✗ failed.*cannot reach the LLM at 127\\.0\\.0\\.1:${closedPort} on the host`));
			assert.match(result.stderr, new RegExp(`agentRunner\\.llm\\.baseUrl \\(now http://127\\.0\\.0\\.1:${closedPort}/v1\\)`));
			const json = await offline.cli(['run', write('agent.yaml', agentYaml()), 'go', '--json']);
			assert.equal(json.code, 1);
			assert.match(json.stderr, /failed: .*cannot reach the LLM/);
		} finally {
			await offline.dispose();
		}
	});
});

describe('stigmer executions', () => {
	test('list, show and cancel', async () => {
		llm.reset();
		llm.push(finalAnswer('listed'));
		const run = await stack.cli(['run', write('agent.yaml', agentYaml()), 'for the list']);
		assert.equal(run.code, 0, run.stderr);
		const finished = idFrom(run.stdout);

		const list = await stack.cli(['executions']);
		assert.equal(list.code, 0, list.stderr);
		const [header, first] = list.stdout.split('\n');
		assert.match(header!, /^ID\s+STATUS\s+AGENT\s+CREATED\s+DURATION\s+INPUT$/);
		assert.match(first!, new RegExp(`^${finished}\\s+succeeded\\s+counter\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+\\S+ (s|ms)\\s+for the list$`));
		const listJson = JSON.parse((await stack.cli(['executions', 'list', '--json'])).stdout) as Array<{ id: string }>;
		assert.equal(listJson[0]!.id, finished, 'newest first');

		const show = await stack.cli(['executions', 'show', finished]);
		assert.equal(show.code, 0);
		assert.match(show.stdout, /^id\s+ex-/m);
		assert.match(show.stdout, /^status\s+succeeded$/m);
		assert.match(show.stdout, /^result:\n {2}listed$/m);

		const again = await stack.cli(['executions', 'cancel', finished]);
		assert.equal(again.code, 1);
		assert.match(again.stderr, /already ended: succeeded/);

		llm.reset();
		llm.push({ content: 'slow', delayMs: 30_000 });
		const detached = await stack.cli(['run', write('agent.yaml', agentYaml()), 'to cancel', '--detach']);
		const id = detached.stdout.trim();
		await llm.waitForRequests(1, 10_000);
		const cancel = await stack.cli(['executions', 'cancel', id]);
		assert.equal(cancel.code, 0, cancel.stderr);
		assert.equal(cancel.stdout, `cancelling ${id}\n`);
		const deadline = Date.now() + 10_000;
		let status = '';
		while (Date.now() < deadline && status !== 'cancelled') status = (await showJson(id)).status;
		assert.equal(status, 'cancelled');

		const missing = await stack.cli(['executions', 'show', 'ex-0-nope']);
		assert.equal(missing.code, 1);
		assert.match(missing.stderr, /no execution ex-0-nope/);
		const usage = await stack.cli(['executions', 'show']);
		assert.equal(usage.code, 2);
		assert.ok(!existsSync(path.join(stack.home.dir, 'nothing')));
	});
});
