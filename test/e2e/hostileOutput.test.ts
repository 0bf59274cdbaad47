// Issue 10, "Hostile output", end to end: what a hostile agent or service prints reaches a real terminal
// (tmux) through `stigmer run`, `server logs` (general and fast path), `server logs -f`,
// `executions show` and the dashboard, and changes nothing but the text: the pane title stays, no clipboard buffer
// appears (tmux's set-clipboard is on, so an OSC 52 would create one), and no forged line is drawn (a
// bare CR shows as ^M). The sources: a native fixture service that prints the payload, and the real
// agent-runner container, driven by the fake LLM to print it through run_command, its answer, and a
// tool name that the runner writes into its own log.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { hostilePayload } from '../fixtures/hostile-output.mjs';
import { cliCommand, fixtureServiceYaml } from '../helpers/cli.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fakeLlm.js';
import { RunnerStack } from '../helpers/runnerStack.js';
import { TmuxTerminal } from '../helpers/TmuxTerminal.js';

let llm: FakeLlm;
let stack: RunnerStack;
const terminals: TmuxTerminal[] = [];

/** The payload as a printf format, all octal escapes (so the command line shown by `run` holds none of its words). */
const printfFormat = [...hostilePayload].map((c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`).join('');

const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

before(async () => {
	llm = await startFakeLlm({ script: [], host: '127.0.0.1' });
	stack = await RunnerStack.start({ llmUrl: llm.url, services: fixtureServiceYaml('hostile', 'hostile-output.mjs', [], ['optional: false']) });
});

after(async () => {
	for (const terminal of terminals) terminal.kill();
	await stack?.dispose();
	await llm?.close();
});

/** Runs the CLI in a fresh tmux window with colour on (a TTY, NO_COLOR unset) or off. */
function openTerminal(args: string[], color = true): TmuxTerminal {
	const terminal = new TmuxTerminal('hostile', { columns: 200, rows: 60 });
	terminals.push(terminal);
	const command = [...cliCommand(), '--home', stack.home.dir, ...args].map(shellQuote).join(' ');
	terminal.start(`${color ? 'env -u NO_COLOR' : 'env NO_COLOR=1'} ${command}`);
	terminal.tmux(['set', '-g', 'set-clipboard', 'on']);
	return terminal;
}

/** The window's whole text (scrollback included), its title, and tmux's paste buffers. */
function assertUnharmed(terminal: TmuxTerminal, title: string, expectedForged: number): string {
	// the runner's own error message quotes the tool name with Python's repr(), escaped already
	const text = terminal.tmux(['capture-pane', '-p', '-J', '-S', '-1000']).replace(/'evilA\\x1b.*?\\rFORGED line'/g, "'(repr)'");
	assert.equal(terminal.display('#{pane_title}'), title, 'the pane title is unchanged');
	assert.equal(terminal.tmux(['list-buffers']).trim(), '', 'no clipboard (OSC 52) buffer');
	const lines = text.split('\n');
	const forged = lines.filter((line) => line.includes('FORGED'));
	assert.ok(forged.length >= expectedForged, `at least ${expectedForged} payload lines in:\n${text}`);
	for (const line of forged) assert.match(line, /\^MFORGED line/, `the CR is shown, not obeyed:\n${text}`);
	assert.ok(!lines.some((line) => line.startsWith('FORGED')), `no forged line:\n${text}`);
	assert.ok(!text.includes('pwned-osc') && !text.includes('pwned-dcs') && !text.includes('pwned-apc'), `string payloads removed:\n${text}`);
	return text;
}

async function finished(terminal: TmuxTerminal, timeoutMs = 60_000): Promise<string> {
	return terminal.waitFor('the command to end', (screen) => /STIGMER-EXIT=\d+/.test(screen), timeoutMs);
}

test('stigmer run, server logs (both paths, -f, NO_COLOR), executions show and the dashboard print hostile output harmlessly', async () => {
	llm.push(
		{ content: `thinking ${hostilePayload}`, toolCalls: [{ name: 'run_command', arguments: { command: `printf '${printfFormat}\\n'` } }] },
		{ toolCalls: [{ name: `evil${hostilePayload}`, arguments: {} }] },
		{ content: `answer ${hostilePayload}` },
	);
	const agent = path.join(stack.home.dir, 'agent.yaml');
	writeFileSync(agent, 'name: hostile\ninstructions: print things\n');

	const run = openTerminal(['run', agent, 'go']);
	const title = run.display('#{pane_title}');
	const runScreen = await finished(run);
	assert.match(runScreen, /STIGMER-EXIT=0/, runScreen);
	const runText = assertUnharmed(run, title, 3);
	const id = /(ex-[0-9a-f]+-[0-9a-f]+)/.exec(runText)?.[1];
	assert.ok(id, runText);

	// the general path: the native log file and the container's log, merged
	const merged = openTerminal(['server', 'logs']);
	assert.match(await finished(merged), /STIGMER-EXIT=0/);
	const mergedText = assertUnharmed(merged, title, 3);
	assert.match(mergedText, /hostile +\| native says AB\^MFORGED line/);
	assert.match(mergedText, /agent-runner \| .*tool evilAB\^MFORGED line failed/);

	// the fast path: the container alone
	const fast = openTerminal(['server', 'logs', 'agent-runner']);
	assert.match(await finished(fast), /STIGMER-EXIT=0/);
	assertUnharmed(fast, title, 1);

	// without colour
	const plain = openTerminal(['server', 'logs'], false);
	assert.match(await finished(plain), /STIGMER-EXIT=0/);
	assertUnharmed(plain, title, 3);

	// following
	const follow = openTerminal(['server', 'logs', '-f']);
	await follow.waitFor('the history', (screen) => (screen.match(/FORGED/g)?.length ?? 0) >= 3);
	follow.keys('C-c');
	assert.match(await finished(follow), /STIGMER-EXIT=0/);
	assertUnharmed(follow, title, 3);

	const show = openTerminal(['executions', 'show', id]);
	assert.match(await finished(show), /STIGMER-EXIT=0/);
	assertUnharmed(show, title, 1);

	// the dashboard: every service's log lines, then the executions table (the hostile tool name)
	const dashboard = openTerminal(['dashboard']);
	await dashboard.waitFor('the dashboard', (screen) => screen.includes('agent-runner') && screen.includes('hostile'));
	dashboard.keys('a', true);
	await dashboard.waitFor('the payload lines', (screen) => (screen.match(/FORGED/g)?.length ?? 0) >= 2);
	assertUnharmed(dashboard, title, 2);
	dashboard.keys('Tab');
	await dashboard.waitFor('the executions table', (screen) => /STEPS[\s\S]*hostile +succeeded/.test(screen));
	assert.equal(dashboard.display('#{pane_title}'), title);
	dashboard.keys('q', true);
	assert.match(await finished(dashboard), /STIGMER-EXIT=0/);
	assert.equal(dashboard.display('#{pane_title}'), title);
});
