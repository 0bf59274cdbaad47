// The dashboard's executions view end to end: the built CLI in a real terminal (tmux) over the real
// agent-runner container, with the fake OpenAI-compatible model answering each execution by its
// prompt. Three runs started from the CLI (one succeeds, one is scripted to fail, one is slow), the
// view follows their states, the detail shows the tool calls, x + y cancels the slow one, and after the
// runner restarts mid-run the list is right by itself (interrupted, nothing duplicated).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { cliCommand, repoRoot } from '../helpers/cli.js';
import { type FakeLlm, type FakeLlmStep, startFakeLlm } from '../helpers/fakeLlm.js';
import { RunnerStack } from '../helpers/runnerStack.js';
import { TmuxTerminal } from '../helpers/TmuxTerminal.js';

let llm: FakeLlm;
let stack: RunnerStack;
let terminal: TmuxTerminal;

/** Each execution's story, by its prompt; `turn` counts the model's earlier answers. */
function respond(body: { messages?: Array<{ role: string; content?: string }> }): FakeLlmStep | undefined {
	const messages = body.messages ?? [];
	const prompt = messages.find((m) => m.role === 'user')?.content ?? '';
	const turn = messages.filter((m) => m.role === 'assistant').length;
	if (prompt.startsWith('task-ok')) return turn === 0 ? { delayMs: 2000, toolCalls: [{ name: 'list_files', arguments: {} }] } : { delayMs: 1500, content: 'two files here' };
	if (prompt.startsWith('task-fail')) return { delayMs: 2500, status: 400 };
	if (prompt.startsWith('task-slow')) return turn === 0 ? { toolCalls: [{ name: 'run_command', arguments: { command: 'sleep 300' } }] } : { content: 'woke up' };
	return undefined;
}

function agentFile(name: string): string {
	const file = path.join(stack.home.dir, `${name}.yaml`);
	writeFileSync(file, `name: ${name}\ninstructions: Do what the user asks.\n`);
	return file;
}

async function startRun(agent: string, prompt: string): Promise<string> {
	const result = await stack.cli(['run', agentFile(agent), prompt, '--detach']);
	assert.equal(result.code, 0, result.stderr);
	return result.stdout.trim();
}

/** The row of an execution (by its short id) on the screen, and its state. */
const shortOf = (id: string) => id.split('-').at(-1)!;
const rowOf = (screen: string, id: string) => screen.split('\n').find((l) => l.includes(shortOf(id)));
const stateOf = (screen: string, id: string) => /\b(queued|running|succeeded|failed|cancelled|interrupted)\b/.exec(rowOf(screen, id) ?? '')?.[1];

/** Selects the row of `id` with j/k. */
async function select(id: string): Promise<void> {
	for (let i = 0; i < 10 && !/^› /.test(rowOf(terminal.screen(), id) ?? ''); i++) {
		const screen = terminal.screen();
		const lines = screen.split('\n');
		const at = lines.findIndex((l) => l.includes(shortOf(id)));
		const selected = lines.findIndex((l) => l.startsWith('› '));
		terminal.keys(at > selected ? 'j' : 'k', true);
		await terminal.waitFor('the selection to move', (s) => s !== screen, 5000).catch(() => undefined);
	}
	await terminal.waitFor(`${id} selected`, (s) => /^› /.test(rowOf(s, id) ?? ''), 5000);
}

before(async () => {
	llm = await startFakeLlm({ script: [], host: '127.0.0.1', respond });
	stack = await RunnerStack.start({ llmUrl: llm.url });
	terminal = new TmuxTerminal('e2e-exec', { columns: 120, rows: 40 });
	const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
	const command = ['env', 'NO_COLOR=1', ...cliCommand(), '--home', stack.home.dir, 'dashboard'].map(quote).join(' ');
	terminal.start(`cd ${quote(repoRoot)} && ${command}`);
	await terminal.waitFor('the agent-runner row', (s) => /agent-runner\s+running/.test(s), 60_000);
});

after(async () => {
	terminal?.kill();
	await stack?.dispose();
	await llm?.close();
});

test('the executions view follows three runs, shows the tool calls, cancels, and survives a runner restart', { timeout: 300_000 }, async (t) => {
	terminal.keys('Tab');
	await terminal.waitFor('the executions view', (s) => /ID\s+AGENT\s+STATE\s+STEPS\s+TOOL/.test(s) && /no executions yet/.test(s), 20_000);

	// the screen is watched from before the runs start, recording the states each row goes through
	const seen = new Map<string, string[]>();
	let watching = true;
	const record = (screen: string) => {
		for (const line of screen.slice(0, screen.indexOf('─ logs:')).split('\n')) {
			const match = /^[› ] ([0-9a-f]{10}) \S+\s+(?:[-\\|│/] )?(queued|running|succeeded|failed|cancelled|interrupted)\b/.exec(line);
			if (!match) continue;
			const states = seen.get(match[1]!) ?? [];
			if (states.at(-1) !== match[2]) states.push(match[2]!);
			seen.set(match[1]!, states);
		}
	};
	const watcher = (async () => {
		while (watching) {
			record(terminal.screen());
			await sleep(50);
		}
	})();
	// one after the other, so their creation order is known (started 300 ms apart, a loaded machine's CLI
	// start-ups could swap them, and 'newest first' would then fail for the wrong reason)
	const ok = await startRun('fast-ok', 'task-ok: list the files');
	const failing = await startRun('fails', 'task-fail: call a model that refuses');
	const slow = await startRun('slow', 'task-slow: sleep a while');
	const ids = [ok, failing, slow];
	const statesOf = (id: string) => seen.get(shortOf(id)) ?? [];

	await t.test('each state as it changes', async () => {
		const settled = await terminal.waitFor('all three settled', (s) => stateOf(s, ok) === 'succeeded' && stateOf(s, failing) === 'failed' && /run_command/.test(rowOf(s, slow) ?? ''), 60_000);
		watching = false;
		await watcher;
		record(settled);
		const seenAll = JSON.stringify(Object.fromEntries(ids.map((id) => [id, statesOf(id)])));
		assert.deepEqual(
			statesOf(ok).filter((s) => s !== 'queued'),
			['running', 'succeeded'],
			seenAll,
		);
		assert.deepEqual(
			statesOf(failing).filter((s) => s !== 'queued'),
			['running', 'failed'],
			seenAll,
		);
		assert.deepEqual(
			statesOf(slow).filter((s) => s !== 'queued'),
			['running'],
			seenAll,
		);
		const screen = terminal.screen();
		assert.match(rowOf(screen, slow)!, /slow\s+[-\\|│/] running\s+1 run_command/);
		assert.match(rowOf(screen, ok)!, /fast-ok\s+succeeded\s+2 -/);
		// newest first
		const order = ids.map((id) => screen.indexOf(shortOf(id)));
		assert.ok(order[2]! < order[1]! && order[1]! < order[0]!, 'newest first');
	});

	await t.test('Enter shows the tool calls; Esc goes back', async () => {
		await select(ok);
		terminal.keys('Enter');
		const detail = await terminal.waitFor('the events of the fast run', (s) => /✓ succeeded/.test(s), 20_000);
		assert.match(detail, /─ execution ex-[0-9a-f]+-[0-9a-f]+ fast-ok/);
		assert.match(detail, /^→ list_files/m);
		assert.match(detail, /^── answer ──$/m);
		assert.match(detail, /^two files here$/m);
		terminal.keys('Escape');
		await terminal.waitFor('the logs again', (s) => /─ logs: /.test(s), 10_000);
		await select(failing);
		terminal.keys('Enter');
		const failed = await terminal.waitFor('the failure with its reason', (s) => /^✗ failed in .*: /m.test(s), 20_000);
		assert.match(failed, /400/);
		terminal.keys('Escape');
		await select(slow);
		terminal.keys('Enter');
		await terminal.waitFor('the slow run calling its tool', (s) => /^→ run_command command="sleep 300"/m.test(s), 20_000);
		terminal.keys('Escape');
		await terminal.waitFor('the logs again', (s) => /─ logs: /.test(s), 10_000);
	});

	await t.test('x and y cancel the slow run', async () => {
		await select(slow);
		terminal.keys('x', true);
		await terminal.waitFor('the confirmation', (s) => /cancel execution .*\? y cancels it/.test(s), 10_000);
		terminal.keys('y', true);
		await terminal.waitFor('cancelled', (s) => stateOf(s, slow) === 'cancelled', 30_000);
	});

	await t.test('the runner restarts mid-run: interrupted shows as interrupted, nothing duplicated', async () => {
		const victim = await startRun('victim', 'task-slow: sleep through the restart');
		await terminal.waitFor('the victim running its tool', (s) => /run_command/.test(rowOf(s, victim) ?? ''), 30_000);
		await stack.restartContainer(1);
		const screen = await terminal.waitFor('the victim interrupted', (s) => stateOf(s, victim) === 'interrupted', 60_000);
		// the table: the rows above the log pane (whose runner log lines name the ids too)
		const table = screen.slice(0, screen.indexOf('─ logs:'));
		for (const id of [...ids, victim]) assert.equal(table.split(shortOf(id)).length - 1, 1, `${id} shown once in:\n${table}`);
		assert.equal(stateOf(screen, ok), 'succeeded');
		assert.equal(stateOf(screen, failing), 'failed');
		assert.equal(stateOf(screen, slow), 'cancelled');
		// and it stays live: a new run after the restart appears by itself
		const after = await startRun('fast-ok', 'task-ok: after the restart');
		await terminal.waitFor('the run after the restart', (s) => stateOf(s, after) === 'succeeded', 60_000);
	});

	await t.test('NO_COLOR: no colour on the screen', async () => {
		const withEscapes = terminal.tmux(['capture-pane', '-p', '-e']);
		assert.doesNotMatch(withEscapes, /\x1b\[[0-9;]*[34][0-7]m/, 'no colour');
		assert.match(withEscapes, /^› /m, 'the selection still shows');
	});

	terminal.keys('q', true);
	await terminal.waitFor('the exit', (s) => /STIGMER-EXIT=0/.test(s), 10_000);
});
