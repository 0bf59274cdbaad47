import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { cleanup } from 'ink-testing-library';
import stringWidth from 'string-width';
import { keys, renderDashboard, waitForFrame, waitForInputReady } from '../../../test/ui/harness.js';
import type { ActionOptions } from '../../dashboard/DashboardBackend.js';
import { FixtureBackend, seedFixture } from '../../dashboard/FixtureBackend.js';
import { serviceCommands } from '../../dashboard/serviceActions.js';
import type { ServiceStatus } from '../../serviceStatus.js';
import { DashboardStore } from '../../store/DashboardStore.js';

/** backends started on a store, stopped after each test */
const feeds: Array<() => void> = [];
afterEach(() => {
	cleanup();
	for (const stop of feeds.splice(0)) stop();
});

const now = Date.now();

function seeded(options: { lines?: number } = {}) {
	const store = new DashboardStore({ flushMs: 5 });
	seedFixture(store, { nowMs: now, ...options });
	store.flush();
	return store;
}

const selectedRow = (frame: string) => frame.split('\n').find((l) => l.startsWith('›')) ?? '';

test('renders the services table with every column at 120 columns', async () => {
	const ui = renderDashboard({ store: seeded() });
	const frame = ui.frame();
	for (const title of ['SERVICE', 'STATE', 'HEALTH', 'UPTIME', 'RST', 'EXIT', 'CPU', 'MEM/LIMIT', 'NET RX/TX', 'PIDS', 'CPU 60s']) assert.ok(frame.includes(title), title);
	const agent = frame.split('\n').find((l) => l.includes('agent-runner') && l.includes('healthy'))!;
	assert.match(agent, /running +healthy +2m +0 +- +\d+(\.\d)?% +\d+M\/1\.0G +1\.\dM\/\d+K +9 [▁▂▃▄▅▆▇█ ]+/);
	assert.match(frame, /stigmer-server +running +- +1h02m +1 /);
	assert.match(frame, /workflow-runner +not-installed/);
	assert.match(selectedRow(frame), /stigmer-server/);
	assert.ok(ui.lines().length <= 39, 'the frame stays one row short of the terminal');
});

test('renders every state, the exit code and OOM kills', () => {
	const store = new DashboardStore();
	const states: ServiceStatus[] = [
		{ name: 'a-running', kind: 'native', state: 'running', restarts: 0, exitCode: null },
		{ name: 'b-starting', kind: 'native', state: 'starting', restarts: 0, exitCode: null },
		{ name: 'c-restarting', kind: 'native', state: 'restarting', restarts: 4, exitCode: 1 },
		{ name: 'd-stopped', kind: 'native', state: 'stopped', restarts: 0, exitCode: 0 },
		{ name: 'e-failed', kind: 'native', state: 'failed', restarts: 2, exitCode: 127 },
		{ name: 'f-missing', kind: 'native', state: 'not-installed', restarts: 0, exitCode: null },
		{ name: 'agent-runner', kind: 'container', state: 'exited', health: null, restarts: 0, exitCode: 137, oomKilled: true },
	];
	store.dispatch({ type: 'services/replaced', services: states });
	const ui = renderDashboard({ store });
	const frame = ui.frame();
	// a row in transition carries a spinner (Spinner.tsx, cli-spinners' `line`: - \ | /, | drawn as │ there) before its state
	assert.match(frame, /c-restarting +[-\\│/] restarting .* 4 +1 /);
	assert.match(frame, /b-starting +[-\\│/] starting/);
	assert.match(frame, /d-stopped +stopped/, 'no spinner on a settled row');
	assert.match(frame, /d-stopped +stopped/);
	assert.match(frame, /e-failed +failed .* 2 +127 /);
	assert.match(frame, /f-missing +not-installed/);
	assert.match(frame, /agent-runner +exited .*137 OOM/);
});

test('drops less important columns at 80×24 and redraws on resize', async () => {
	const ui = renderDashboard({ store: seeded(), columns: 120, rows: 40 });
	assert.ok(ui.frame().includes('NET RX/TX'));
	ui.resize(80, 24);
	const frame = await waitForFrame(ui.lastFrame, (f) => !f.includes('NET RX/TX'));
	for (const title of ['SERVICE', 'STATE', 'UPTIME', 'CPU', 'MEM/LIMIT']) assert.ok(frame.includes(title), title);
	const lines = frame.split('\n');
	assert.ok(lines.length <= 23, `at most 23 rows, got ${lines.length}`);
	assert.ok(
		lines.every((l) => l.length <= 80),
		'no line wider than the terminal',
	);
	ui.resize(50, 16);
	const small = await waitForFrame(ui.lastFrame, (f) => !f.includes('MEM/LIMIT'));
	assert.ok(small.split('\n').length <= 15);
	assert.match(small, /SERVICE +STATE +UPTIME +CPU/);
});

test('↑/↓ and k/j move the selection', async () => {
	const ui = renderDashboard({ store: seeded() });
	await waitForInputReady();
	await ui.press(keys.down);
	assert.match(selectedRow(ui.frame()), /workflow-runner/);
	await ui.press('j', 'j');
	assert.match(selectedRow(ui.frame()), /agent-runner/);
	await ui.press(keys.up, 'k', 'k', 'k');
	assert.match(selectedRow(ui.frame()), /stigmer-server/);
	// several keys in one chunk (fast typing, tmux send-keys) are one command each
	await ui.press('jj');
	assert.match(selectedRow(ui.frame()), /agent-runner/);
});

test('s, x and r act on the selected service; e opens the shell of the container', async () => {
	const ui = renderDashboard({ store: seeded() });
	await waitForInputReady();
	await ui.press('s', 'j', 'x', 'j', 'r', 'k', 'k', 'e');
	const commands = ui.commands as ReturnType<typeof import('../../../test/ui/harness.js').fakeCommands>;
	assert.deepEqual(commands.calls, ['start stigmer-server', 'stop workflow-runner', 'restart agent-runner', 'shell agent-runner']);
	assert.equal(commands.suspended, 1);
});

/** A fixture backend whose shell records what it is handed instead of taking the terminal, and whose restart waits for `finishRestart`. */
class ShellRecordingBackend extends FixtureBackend {
	typed: string[] = [];
	closed = 0;
	finishRestart: () => void = () => undefined;
	private readonly restartGate = new Promise<void>((resolve) => {
		this.finishRestart = resolve;
	});
	override async restartService(name: string, options?: ActionOptions) {
		await this.restartGate;
		return super.restartService(name, options);
	}
	/** the shell's exit code as the engine reports it (at once unless a test holds it back) */
	exitCode: Promise<number> = Promise.resolve(0);
	/** while set, opening a shell waits for it */
	openGate: Promise<void> | null = null;
	override async openShell(name: string) {
		this.calls.push(`shell ${name}`);
		if (this.openGate) await this.openGate;
		return {
			attach: async (typed: string) => {
				this.typed.push(typed);
				return { exitCode: this.exitCode };
			},
			close: () => {
				this.closed++;
			},
		};
	}
}

/** Started on the store: it reports row changes through it (stopped after the test). */
function startedBackend(store: DashboardStore, actionMs: number) {
	const backend = new ShellRecordingBackend({ actionMs, linesPerSecond: 0 });
	feeds.push(backend.start(store));
	return backend;
}

test('e during a restart: it says what it waits for, every key typed meanwhile goes to the shell in order, none to the dashboard', async () => {
	const store = seeded();
	const backend = startedBackend(store, 300);
	const ui = renderDashboard({ store, commands: serviceCommands(store, backend) });
	await waitForInputReady();
	await ui.press('j', 'j', 'r', 'e');
	await waitForFrame(ui.lastFrame, (f) => f.includes('opening a shell in agent-runner: waiting for agent-runner to restart…'));
	await ui.press('x', 's', 'q', 'j', 'echo hi', keys.enter);
	await waitForFrame(ui.lastFrame, (f) => f.includes('12 keys kept for the shell'));
	backend.finishRestart();
	await waitForFrame(ui.lastFrame, (f) => f.includes('shell in agent-runner exited with 0'));
	assert.deepEqual(backend.typed, ['xsqjecho hi\r']);
	assert.deepEqual(backend.calls, ['restart agent-runner', 'shell agent-runner']);
	assert.equal(ui.quits(), 0);
	assert.match(selectedRow(ui.frame()), /agent-runner/);
	// the keys are the dashboard's again
	await ui.press('x');
	await waitForFrame(ui.lastFrame, () => backend.calls.includes('stop agent-runner'));
});

test('the dashboard takes the keys back when the shell ends, before the engine reports its exit code', async () => {
	const store = seeded();
	const backend = startedBackend(store, 10);
	let report: (code: number) => void = () => undefined;
	backend.exitCode = new Promise((resolve) => {
		report = resolve;
	});
	const ui = renderDashboard({ store, commands: serviceCommands(store, backend) });
	await waitForInputReady();
	await ui.press('j', 'j', 'e');
	await waitForFrame(ui.lastFrame, () => backend.typed.length === 1);
	await waitForFrame(ui.lastFrame, () => store.getSnapshot().handover === null);
	assert.doesNotMatch(ui.lastFrame() ?? '', /exited with/);
	// the next shell opens while the first one's exit code is still to come, and that code must not end it
	let open: () => void = () => undefined;
	backend.openGate = new Promise((resolve) => {
		open = resolve;
	});
	await ui.press('e');
	await waitForFrame(ui.lastFrame, (f) => f.includes('opening a shell in agent-runner'));
	report(7);
	await waitForFrame(ui.lastFrame, () => store.getSnapshot().status?.text === 'shell in agent-runner exited with 7');
	open();
	await waitForFrame(ui.lastFrame, () => backend.typed.length === 2);
	await waitForFrame(ui.lastFrame, (f) => f.includes('shell in agent-runner exited with 7') && store.getSnapshot().handover === null);
	assert.deepEqual(backend.calls, ['shell agent-runner', 'shell agent-runner']);
	// a dashboard key works again
	await ui.press('x');
	await waitForFrame(ui.lastFrame, () => backend.calls.includes('stop agent-runner'));
});

test('Esc cancels a shell that waits, and the keys typed before it are dropped', async () => {
	const store = seeded();
	const backend = startedBackend(store, 300);
	const ui = renderDashboard({ store, commands: serviceCommands(store, backend) });
	await waitForInputReady();
	await ui.press('j', 'j', 'r', 'e', 'x', keys.escape);
	await waitForFrame(ui.lastFrame, (f) => f.includes('shell in agent-runner cancelled'));
	backend.finishRestart();
	await waitForFrame(ui.lastFrame, (f) => /agent-runner +running/.test(f) && !f.includes('restarting…'));
	assert.deepEqual(backend.calls, ['restart agent-runner']);
	assert.deepEqual(backend.typed, []);
});

test('e on a stopped container says so and opens nothing', async () => {
	const store = seeded();
	const backend = startedBackend(store, 10);
	const ui = renderDashboard({ store, commands: serviceCommands(store, backend) });
	await waitForInputReady();
	await ui.press('j', 'j', 'x');
	await waitForFrame(ui.lastFrame, (f) => /agent-runner +exited/.test(f));
	await ui.press('e');
	await waitForFrame(ui.lastFrame, (f) => f.includes('shell: agent-runner is not running (press s to start it)'));
	assert.deepEqual(backend.calls, ['stop agent-runner']);
});

test('a running action shows in its row; a failure shows in the status line', async () => {
	const store = seeded();
	const backend = new FixtureBackend({ actionMs: 80, failWith: 'port 7480 is already in use' });
	const ui = renderDashboard({ store, commands: serviceCommands(store, backend) });
	await waitForInputReady();
	await ui.press('j', 'j', 'r');
	await waitForFrame(ui.lastFrame, (f) => /agent-runner +[-\\│/] restarting…/.test(f));
	const frame = await waitForFrame(ui.lastFrame, (f) => f.includes('agent-runner failed'));
	assert.match(frame, /restarting agent-runner failed: port 7480 is already in use/);
	assert.match(frame, /agent-runner +running/);
});

test('a successful action updates the row', async () => {
	const store = seeded();
	const backend = new FixtureBackend({ actionMs: 10 });
	backend.start({ dispatch: () => {}, appendLogs: () => {}, recordSample: () => {}, upsertExecutions: () => {} })();
	const ui = renderDashboard({ store, commands: serviceCommands(store, backend) });
	// the backend reports row changes through the store it was started with
	const stop = backend.start(store);
	stop();
	await waitForInputReady();
	await ui.press('x');
	await waitForFrame(ui.lastFrame, (f) => /Stopped stigmer-server/.test(f));
	assert.deepEqual(backend.calls, ['stop stigmer-server']);
});

test('log pane: all services with prefixes, or the selected one (a)', async () => {
	const ui = renderDashboard({ store: seeded() });
	await waitForInputReady();
	assert.match(ui.frame(), /logs: all services · following/);
	assert.match(ui.frame(), /agent-runner +│ INFO: /);
	assert.match(ui.frame(), /stigmer-server +│ grpc: serving/);
	await ui.press('a');
	const frame = ui.frame();
	assert.match(frame, /logs: stigmer-server · following/);
	assert.ok(!frame.includes('│ '), 'no prefixes in a single-service view');
	assert.ok(!frame.includes('GET /healthz'), 'only the selected service');
	await ui.press('j', 'j');
	assert.match(ui.frame(), /logs: agent-runner/);
	assert.ok(ui.frame().includes('GET /healthz'));
});

test('ANSI sequences are stripped from log lines', () => {
	const ui = renderDashboard({ store: seeded() });
	assert.match(ui.frame(), /execution 01J8Z succeeded in 3 steps/);
	assert.ok(!ui.frame().includes('[32m'));
});

test('follow (f): pausing keeps the view still while lines arrive, resuming jumps to the tail', async () => {
	const store = seeded({ lines: 10 });
	const ui = renderDashboard({ store });
	await waitForInputReady();
	await ui.press('f');
	assert.match(ui.frame(), /logs: all services · paused/);
	store.appendLogs([{ service: 'agent-runner', stream: 'stdout', time: '', timeMs: now, line: 'a brand new line' }]);
	store.flush();
	const paused = await waitForFrame(ui.lastFrame, (f) => f.includes('paused ↓1'));
	assert.ok(!paused.includes('a brand new line'));
	await ui.press('f');
	const following = await waitForFrame(ui.lastFrame, (f) => f.includes('following'));
	assert.ok(following.includes('a brand new line'));
});

test('PgUp/PgDn scroll, g/G jump to the top and the tail', async () => {
	const ui = renderDashboard({ store: seeded({ lines: 200 }), rows: 24, columns: 100 });
	await waitForInputReady();
	assert.ok(ui.frame().includes('#199'));
	await ui.press(keys.pageUp);
	let frame = ui.frame();
	assert.match(frame, /paused ↓\d+/);
	assert.ok(!frame.includes('#199'));
	await ui.press('g');
	frame = ui.frame();
	assert.ok(frame.includes('#0\n') || / #0$/m.test(frame), frame);
	await ui.press(keys.pageDown);
	assert.ok(!ui.frame().includes(' #0\n'));
	await ui.press('G');
	frame = ui.frame();
	assert.match(frame, /following/);
	assert.ok(frame.includes('#199'));
	await ui.press(keys.pageUp, keys.pageDown);
	assert.match(ui.frame(), /following/, 'paging back to the tail resumes following');
});

test('/ filter: substring with match count, regex, invalid regex, Esc clears', async () => {
	const ui = renderDashboard({ store: seeded({ lines: 40 }) });
	await waitForInputReady();
	await ui.press('/', 'w', 'o', 'r', 'k', 'f', 'l', 'o', 'w');
	let frame = ui.frame();
	assert.match(frame, /\/workflow .*8 matches · Enter keep · Esc clear/);
	assert.ok(
		frame
			.split('\n')
			.filter((l) => l.includes('│'))
			.every((l) => l.includes('workflow')),
	);
	await ui.press(keys.enter);
	frame = ui.frame();
	assert.match(frame, /filter workflow \(8\)/);
	assert.ok(frame.includes('? help'));
	await ui.press(keys.escape);
	assert.ok(!ui.frame().includes('filter workflow'));
	await ui.press('/', ...'/#1\\d$/');
	assert.match(ui.frame(), /10 matches/);
	await ui.press(keys.backspace, keys.backspace, keys.backspace, keys.backspace, keys.backspace, keys.backspace, '(', '/');
	assert.match(ui.frame(), /invalid regex/);
	await ui.press(keys.escape);
	frame = ui.frame();
	assert.ok(!frame.includes('invalid regex'));
	assert.ok(frame.includes('? help'));
});

test('t shows timestamps, w wraps long lines', async () => {
	const store = seeded({ lines: 3 });
	store.appendLogs([{ service: 'agent-runner', stream: 'stderr', time: '', timeMs: new Date(2026, 0, 22, 10, 0, 0, 123).getTime(), line: `long ${'x'.repeat(150)} END` }]);
	store.flush();
	const ui = renderDashboard({ store, columns: 100 });
	await waitForInputReady();
	assert.ok(!ui.frame().includes('END'), 'cut without wrap');
	await ui.press('t');
	assert.match(ui.frame(), /10:00:00\.123 agent-runner +│ long x+/);
	assert.match(ui.frame(), / · time/);
	await ui.press('w');
	const frame = ui.frame();
	assert.ok(frame.includes('END'), 'the end of the line is on a wrapped row');
	assert.match(frame, / · wrap · time/);
	const endRow = frame.split('\n').find((l) => l.includes('END'))!;
	assert.match(endRow, /^ {13} {15} │ x* END/, 'continuation rows are indented under the line');
});

test('w wraps wide characters, emoji and ZWJ sequences by cell width without losing text', async () => {
	const store = seeded({ lines: 1 });
	const line = `${'全角文字のテスト'.repeat(4)}👦👨‍👩‍👧‍👦${'漢字'.repeat(10)} END`;
	store.appendLogs([{ service: 'agent-runner', stream: 'stdout', time: '', timeMs: now, line }]);
	store.flush();
	const ui = renderDashboard({ store, columns: 47 });
	await waitForInputReady();
	await ui.press('w');
	const rows = ui.frame().split('\n');
	const first = rows.findIndex((l) => l.includes('全角文字のテ'));
	assert.ok(first !== -1, ui.frame());
	const text = rows
		.slice(first)
		.map((l) => l.replace(/^.*? │ /, '').trimEnd())
		.join('');
	assert.ok(text.includes(line), `wrapped rows lost text:\n${rows.slice(first, first + 8).join('\n')}`);
});

test('? shows the keys; any key closes the help', async () => {
	const ui = renderDashboard({ store: seeded() });
	await waitForInputReady();
	await ui.press('?');
	const frame = ui.frame();
	// generated from the key bindings: every bound key is listed
	for (const text of ['Keys', 'select the row above', 'restart the selected service', 'shell into the container', 'filter', 'quit', 'services / executions']) assert.ok(frame.includes(text), text);
	for (const key of ['↑ k', '↓ j', 'Tab', 'Enter', 'Esc', 'PgUp Ctrl-B Ctrl-U', 'PgDn Ctrl-F Ctrl-D', 'Home g', 'End G', 'q Ctrl-C']) assert.ok(frame.includes(key), key);
	await ui.press('j');
	assert.ok(!ui.frame().includes('select the row above'));
	assert.match(selectedRow(ui.frame()), /stigmer-server/, 'the closing key does nothing else');
});

test('engine lost: a banner, native rows stay; it goes when the engine returns', async () => {
	const store = seeded();
	const ui = renderDashboard({ store });
	store.dispatch({ type: 'engine/changed', engine: { reachable: false, error: 'connect ENOENT /var/run/docker.sock' } });
	let frame = await waitForFrame(ui.lastFrame, (f) => f.includes('container engine unreachable — retrying'));
	assert.match(frame, /stigmer-server +running/);
	store.dispatch({ type: 'engine/changed', engine: { reachable: true } });
	frame = await waitForFrame(ui.lastFrame, (f) => !f.includes('unreachable'));
	assert.match(frame, /engine 20\.10\.24/);
});

test('q and Ctrl-C quit', async () => {
	const ui = renderDashboard({ store: seeded() });
	await waitForInputReady();
	await ui.press('q');
	assert.equal(ui.quits(), 1);
	const again = renderDashboard({ store: seeded() });
	await waitForInputReady();
	await again.press(keys.ctrlC);
	assert.equal(again.quits(), 1);
});

test('no services, no lines: says so', () => {
	const ui = renderDashboard({ store: new DashboardStore() });
	assert.match(ui.frame(), /connecting to the engine…/);
	assert.match(ui.frame(), /no services yet/);
	assert.match(ui.frame(), /no log lines yet/);
});

test('a line of wide characters is cut at the pane edge without squeezing the service prefix', () => {
	const store = seeded({ lines: 3 });
	store.appendLogs([
		{ service: 'agent-runner', stream: 'stdout', time: '2026-01-22T10:00:00.000000000Z', line: '漢字'.repeat(80) },
		{ service: 'stigmer-server', stream: 'stderr', time: '2026-01-22T10:00:00.000000000Z', line: 'after the wide line' },
	]);
	store.flush();
	const ui = renderDashboard({ store, columns: 80, rows: 24 });
	const lines = ui.frame().split('\n');
	assert.match(lines.find((l) => l.includes('漢字'))!, /^agent-runner +│ 漢字/);
	assert.match(lines.find((l) => l.includes('after the wide line'))!, /^stigmer-server +│ after the wide line/);
});

test('at 20×5 the header stays and the status line does not wrap; every size up to 40×10 fits its terminal', async () => {
	for (const [columns, rows] of [
		[20, 5],
		[20, 8],
		[30, 6],
		[40, 10],
	] as const) {
		const ui = renderDashboard({ store: seeded(), columns, rows });
		await waitForInputReady();
		const lines = ui.frame().split('\n');
		assert.ok(lines.length <= rows - 1, `${columns}×${rows}: ${lines.length} lines\n${ui.frame()}`);
		assert.match(lines[0]!, /^stigmer dashboard/, `${columns}×${rows}: the header is the first line`);
		assert.match(lines.at(-1)!, /\? help/, `${columns}×${rows}: the status line is the last line`);
		assert.ok(!lines.some((l) => /^\s*(quit|q quit|executions)/.test(l)), `${columns}×${rows}: the status line wrapped\n${ui.frame()}`);
		for (const line of lines) assert.ok(stringWidth(line) <= columns, `${columns}×${rows}: ${JSON.stringify(line)} is wider than the terminal`);
		cleanup();
	}
});

test("the header shows the LLM forward's state, down in red when the supervisor that ran it is gone", async () => {
	const store = seeded();
	store.dispatch({ type: 'llmForward/changed', forward: { state: 'forward', listen: '172.18.0.1:11434', target: '127.0.0.1:11434' } });
	const ui = renderDashboard({ store });
	await waitForInputReady();
	assert.match(ui.frame().split('\n')[0]!, /LLM forward up/);
	store.dispatch({ type: 'llmForward/changed', forward: { state: 'down', listen: '172.18.0.1:11434', target: '127.0.0.1:11434', error: 'the supervisor that runs it is not running' } });
	await waitForFrame(ui.lastFrame, (frame) => /LLM forward down/.test(frame.split('\n')[0]!));
	store.dispatch({ type: 'llmForward/changed', forward: null });
	await waitForFrame(ui.lastFrame, (frame) => !frame.includes('LLM forward'));
});

test('idle samples: a small change waits for the next frame, a large one is drawn at once and brings it along', async () => {
	const store = new DashboardStore({ flushMs: 5, statsIntervalMs: 0 });
	const runner: ServiceStatus = { name: 'agent-runner', kind: 'container', state: 'running', health: 'healthy', restarts: 0, exitCode: null };
	store.dispatch({ type: 'services/replaced', services: [runner] });
	const cellStart = Math.floor(Date.now() / 5000) * 5000;
	const sample = (atMs: number, cpuPercent: number, memoryMiB: number) => ({
		timeMs: cellStart + atMs,
		cpuPercent,
		memoryBytes: memoryMiB * 2 ** 20,
		memoryLimitBytes: 2 ** 30,
		networkRxBytes: 7000,
		networkTxBytes: 6000,
		pids: 7,
	});
	store.recordSample('agent-runner', sample(0, 0, 32));
	store.flush();
	const ui = renderDashboard({ store });
	await waitForFrame(ui.lastFrame, (f) => /agent-runner .* 0\.0% +32M\/1\.0G/.test(f));
	// each sample in a turn of the event loop of its own, as they come: React would draw each
	const turn = () => new Promise((resolve) => setImmediate(resolve));
	await turn(); // the first frame's effects
	const drawn = ui.frames.length;
	// memory 32M → 33M (+1.6 %) and CPU 0.0 → 0.2 %: small changes, in the same 5 s cell
	store.recordSample('agent-runner', sample(1000, 0, 32.5));
	store.flush();
	await turn();
	store.recordSample('agent-runner', sample(2000, 0.2, 32.5));
	store.flush();
	await turn();
	// CPU 7.5 %: drawn at once, with the memory that waited
	store.recordSample('agent-runner', sample(3000, 7.5, 32.5));
	store.flush();
	const frame = await waitForFrame(ui.lastFrame, (f) => f.includes('7.5%'));
	assert.match(frame, /agent-runner .* 7\.5% +33M\/1\.0G/);
	assert.equal(ui.frames.length, drawn + 1, 'one frame for the three samples');
});
