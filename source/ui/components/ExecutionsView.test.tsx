/** @jsxRuntime automatic */
/** @jsxImportSource react */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { Text } from 'ink';
import { cleanup, render } from 'ink-testing-library';
import { keys, renderDashboard, waitForFrame, waitForInputReady } from '../../../test/ui/harness.js';
import { executionCommands } from '../../dashboard/executionActions.js';
import { FixtureExecutions, fixtureExecutions } from '../../dashboard/fixtureExecutions.js';
import { seedFixture } from '../../dashboard/FixtureBackend.js';
import type { ServiceStatus } from '../../serviceStatus.js';
import { DashboardStore } from '../../store/DashboardStore.js';
import { applyColorChoice, inkChalk } from '../inkColor.js';

afterEach(() => cleanup());

const now = Date.now();

function seeded(executions = fixtureExecutions(now)) {
	const store = new DashboardStore({ flushMs: 5 });
	seedFixture(store, { nowMs: now });
	store.dispatch({ type: 'executions/runner', runner: { state: 'live' } });
	store.upsertExecutions(executions);
	store.flush();
	return store;
}

function withExecutions(store: DashboardStore, rows = fixtureExecutions(now)) {
	const backend = new FixtureExecutions(rows);
	return { backend, executions: executionCommands(store, backend) };
}

const selectedRow = (frame: string) => frame.split('\n').find((l) => l.startsWith('›')) ?? '';
const rowLines = (frame: string) => frame.split('\n').filter((l) => /^[› ] [0-9a-f]{10} /.test(l));

test('Tab shows the executions, newest first, with a spinner on the running one', async () => {
	const ui = renderDashboard({ store: seeded() });
	await waitForInputReady();
	assert.match(ui.frame(), /Tab executions/);
	await ui.press(keys.tab);
	const frame = ui.frame();
	for (const title of ['ID', 'AGENT', 'STATE', 'STEPS', 'TOOL', 'DURATION', 'STARTED']) assert.ok(frame.includes(title), title);
	const rows = rowLines(frame);
	assert.equal(rows.length, 6);
	assert.match(rows[0]!, /^› a1b2c3d4e5 code-reviewer +[-\\|│/] running +3 run_command +\d+s \d\d:\d\d:\d\d/);
	assert.match(rows[1]!, /test-writer +queued +0 -/);
	assert.match(rows[2]!, /doc-fixer +failed +2/);
	assert.match(rows[3]!, /refactorer +succeeded +4 - +\d+s/);
	assert.match(rows[4]!, /cancelled/);
	assert.match(rows[5]!, /interrupted/);
	assert.ok(!/[-\\|│/] (queued|failed|succeeded)/.test(frame), 'a spinner only while running');
	assert.match(frame, /Tab services/);
	await ui.press('j', 'j');
	assert.match(selectedRow(ui.frame()), /doc-fixer/);
	await ui.press(keys.tab);
	assert.match(ui.frame(), /SERVICE +STATE/, 'Tab goes back to the services');
	await ui.press(keys.tab);
	assert.match(selectedRow(ui.frame()), /doc-fixer/, 'the selection is kept');
});

test('the list updates in place: a repeated or resumed stream never duplicates a row', async () => {
	const store = seeded();
	const ui = renderDashboard({ store });
	await waitForInputReady();
	await ui.press(keys.tab);
	const [running] = fixtureExecutions(now);
	store.upsertExecutions([{ ...running!, status: 'interrupted', tool: null, finished_at: new Date(now).toISOString(), error: 'the agent-runner stopped' }]);
	store.upsertExecutions(fixtureExecutions(now).slice(1));
	const frame = await waitForFrame(ui.lastFrame, (f) => /code-reviewer +interrupted/.test(f));
	assert.equal(rowLines(frame).length, 6);
	store.dispatch({ type: 'executions/reset' });
	store.upsertExecutions(fixtureExecutions(now).slice(2));
	const reset = await waitForFrame(ui.lastFrame, (f) => rowLines(f).length === 4);
	assert.ok(!reset.includes('a1b2c3d4e5'), 'a reset forgets what the runner no longer has');
});

test('no executions yet: says how to start one', async () => {
	const ui = renderDashboard({ store: seeded([]) });
	await waitForInputReady();
	await ui.press(keys.tab);
	assert.match(ui.frame(), /no executions yet: start one with `stigmer run AGENT_FILE PROMPT`/);
});

test('runner down, starting, without a token: the view says which and what to do; nothing else stops', async () => {
	const store = seeded();
	const ui = renderDashboard({ store });
	await waitForInputReady();
	await ui.press(keys.tab);
	const setContainer = (patch: Partial<ServiceStatus>) => {
		const row = store.getSnapshot().services.find((s) => s.kind === 'container')!;
		store.dispatch({ type: 'service/updated', status: { ...row, ...patch } });
	};
	store.dispatch({ type: 'executions/runner', runner: { state: 'down', problem: 'unreachable', message: 'connection refused' } });
	setContainer({ state: 'exited', health: null });
	let frame = await waitForFrame(ui.lastFrame, (f) => f.includes('the agent-runner is exited: start it'));
	assert.equal(rowLines(frame).length, 6, 'the rows known so far stay');
	setContainer({ state: 'running', health: 'starting' });
	frame = await waitForFrame(ui.lastFrame, (f) => f.includes('the agent-runner is starting…'));
	store.dispatch({ type: 'executions/runner', runner: { state: 'down', problem: 'no-token', message: 'no API token at /h/secrets/api-token (the first `stigmer server start` creates it)' } });
	frame = await waitForFrame(ui.lastFrame, (f) => f.includes('no API token yet'));
	assert.match(frame, /the first `stigmer server start` creates it/);
	store.dispatch({ type: 'executions/runner', runner: { state: 'down', problem: 'unauthorized', message: 'refused' } });
	await waitForFrame(ui.lastFrame, (f) => f.includes('refused the API token: restart it'));
	store.dispatch({ type: 'engine/changed', engine: { reachable: false, error: 'connect ENOENT' } });
	store.dispatch({ type: 'executions/runner', runner: { state: 'down', problem: 'unreachable', message: 'connection refused' } });
	frame = await waitForFrame(ui.lastFrame, (f) => f.includes('agent-runner state is unknown'));
	// the logs stay live underneath
	store.appendLogs([{ service: 'stigmer-server', stream: 'stdout', time: '', timeMs: now, line: 'still logging' }]);
	await waitForFrame(ui.lastFrame, (f) => f.includes('still logging'));
	store.dispatch({ type: 'executions/runner', runner: { state: 'live' } });
	frame = await waitForFrame(ui.lastFrame, (f) => !f.includes('agent-runner state is unknown'));
	assert.ok(!frame.includes('does not answer'));
});

test('1,000 executions: only the page holding the selection is drawn', async () => {
	const many = seeded(fixtureExecutions(now, 1000));
	const few = seeded(fixtureExecutions(now, 50));
	assert.equal(many.getSnapshot().executions.rows.length, 1000);
	const a = renderDashboard({ store: many });
	const b = renderDashboard({ store: few });
	await waitForInputReady();
	await a.press(keys.tab);
	await b.press(keys.tab);
	const shown = rowLines(a.frame()).length;
	assert.ok(shown > 3 && shown < 30, `${shown} rows drawn`);
	assert.equal(shown, rowLines(b.frame()).length, '1,000 rows draw what 50 do');
	assert.ok(a.lines().length <= 39);
	// paging down the list: j past the last row drawn shows the next page
	await a.press(...Array.from({ length: shown }, () => 'j'));
	const next = rowLines(a.frame());
	assert.equal(next.length, shown);
	assert.match(next[0]!, /^›/, 'the selection tops the next page');
	await a.press(keys.up);
	assert.match(rowLines(a.frame()).at(-1)!, /^›/, 'and back');
});

test('Enter opens the events in the log pane (tool calls, folded results, the answer), the pane keys work, Esc goes back', async () => {
	const store = seeded();
	const { executions } = withExecutions(store);
	const ui = renderDashboard({ store, executions, rows: 50 });
	await waitForInputReady();
	await ui.press(keys.tab, keys.enter);
	let frame = await waitForFrame(ui.lastFrame, (f) => f.includes('✓ succeeded'));
	assert.match(frame, /─ execution ex-[0-9a-f]+-a1b2c3d4e5 code-reviewer · running · following · Esc back/);
	assert.match(frame, /^agent code-reviewer · ex-/m);
	assert.match(frame, /^model \(step 1\) I will run the tests first\./m);
	assert.match(frame, /^→ run_command command="npm test -- --grep parser"$/m);
	assert.match(frame, /^ {2}✓ exit 0$/m);
	assert.match(frame, /^ {4}… 18 more lines$/m, 'long results are folded');
	assert.match(frame, /^→ write_file path="NOTES.md"\n {2}content:\n {2}│ all 30 parser cases pass$/m);
	assert.match(frame, /^── answer ──$/m);
	assert.match(frame, /^✓ succeeded in 4\.9 s$/m);
	assert.ok(!frame.includes('INFO:'), 'the logs gave way to the events');
	// the log pane's keys: timestamps, filter
	await ui.press('t');
	assert.match(ui.frame(), /\d\d:\d\d:\d\d\.\d{3} → run_command/);
	await ui.press('/', ...'write');
	frame = ui.frame();
	assert.match(frame, /1 match /);
	assert.ok(!frame.includes('run_command command'));
	await ui.press(keys.escape);
	assert.ok(ui.frame().includes('run_command command'), 'Esc in the prompt clears the filter only');
	await ui.press(keys.escape);
	frame = ui.frame();
	assert.match(frame, /─ logs: all services/);
	assert.ok(frame.includes('INFO:'));
});

test('x asks before it cancels; any other key keeps the execution running', async () => {
	const store = seeded();
	const { backend, executions } = withExecutions(store);
	const ui = renderDashboard({ store, executions });
	await waitForInputReady();
	await ui.press(keys.tab, 'x');
	assert.match(ui.frame(), /cancel execution ex-[0-9a-f]+-a1b2c3d4e5 \(code-reviewer\)\? y cancels it, any other key keeps it running/);
	await ui.press('n');
	assert.ok(!ui.frame().includes('y cancels it'));
	assert.deepEqual(backend.cancelled, []);
	await ui.press('x', 'y');
	await waitForFrame(ui.lastFrame, (f) => f.includes('cancelling ex-'));
	assert.equal(backend.cancelled.length, 1);
	assert.match(backend.cancelled[0]!, /a1b2c3d4e5$/);
	await ui.press('j', 'j', 'j', 'x');
	assert.match(ui.frame(), /already ended: succeeded/);
	assert.equal(backend.cancelled.length, 1);
	// s and r act on services only
	await ui.press('r');
	assert.match(ui.frame(), /restart acts on services: Tab shows them/);
});

test('NO_COLOR: the chalk Ink draws with writes no colour once the CLI says so', async () => {
	const chalk = await inkChalk();
	const before = chalk.level;
	try {
		chalk.level = 1;
		const coloured = render(<Text color="red">red</Text>);
		assert.match(coloured.lastFrame() ?? '', /\x1b\[31m/);
		coloured.unmount();
		await applyColorChoice(false);
		const plain = render(<Text color="red">red</Text>);
		assert.equal(plain.lastFrame(), 'red');
		plain.unmount();
	} finally {
		chalk.level = before;
	}
});
