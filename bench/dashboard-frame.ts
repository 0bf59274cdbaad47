// The CPU cost of one dashboard frame, without an engine: the real Dashboard on Ink, drawn into an
// in-memory 120×40 terminal, fed the fixture (three services) and a screen of log lines as wide as the
// pane (--line-length), then one stats sample per frame, the frame an idle stack costs every 2 s. Prints the median CPU time per frame over several
// rounds (process.cpuUsage, so React, layout, Ink's output and GC all count).
//
// --executions: the executions view under load instead (bench/executions.ts's load, in memory): 20
// running executions that all change on every frame (steps, tool) and --lines-per-frame (default 50 there)
// new log lines, the frame 20 busy executions cost about ten times a second. --lines-per-frame alone
// (default 0): the services view under a log flood (500 lines a frame: 5,000 lines/s at 10 frames/s).
//
// Usage: npx tsx bench/dashboard-frame.ts [--frames N] [--rounds N] [--line-length N] [--no-frame-cache]
//        [--no-ink-output] [--executions] [--lines-per-frame N]
//        (node --no-turbofan --max-semi-space-size=8 --heap-growing-percent=25 --import tsx … for the
//        dashboard's own V8 flags, see commands/dashboard.ts)
import { PassThrough, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { fixtureLog, fixtureSample, seedFixture } from '../source/dashboard/FixtureBackend.js';
import { fixtureExecutions } from '../source/dashboard/fixtureExecutions.js';
import { DashboardStore } from '../source/store/DashboardStore.js';
import { installInkFrameCache } from '../source/ui/inkFrameCache.js';
import { installInkOutput } from '../source/ui/inkOutput.js';
import { median } from './benchStats.js';

const { values } = parseArgs({
	options: {
		frames: { type: 'string', default: '300' },
		rounds: { type: 'string', default: '5' },
		'line-length': { type: 'string', default: '100' },
		'no-frame-cache': { type: 'boolean', default: false },
		'no-ink-output': { type: 'boolean', default: false },
		executions: { type: 'boolean', default: false },
		'lines-per-frame': { type: 'string' },
	},
});
const lineLength = Number(values['line-length']);
const frames = Number(values.frames);
const rounds = Number(values.rounds);
const executions = values.executions;
const linesPerFrame = Number(values['lines-per-frame'] ?? (executions ? 50 : 0));
const paddedLog = (i: number) => {
	const line = fixtureLog(i);
	return { ...line, line: `${line.line} `.padEnd(lineLength, 'abcdefghij0123456789'[i % 20]) };
};
const busy = fixtureExecutions(Date.now(), 20).map((e) => ({ ...e, status: 'running' as const, finished_at: null, error: null }));

class FakeTerminal extends Writable {
	readonly isTTY = true;
	columns = 120;
	rows = 40;
	bytes = 0;
	override _write(chunk: Buffer, _encoding: string, done: () => void): void {
		this.bytes += chunk.length;
		done();
	}
}

/** A keyboard nobody types on (useInput needs raw mode). */
function fakeKeyboard(): NodeJS.ReadStream {
	const stdin = new PassThrough() as unknown as NodeJS.ReadStream & { isTTY: boolean };
	stdin.isTTY = true;
	stdin.setRawMode = () => stdin;
	stdin.ref = () => stdin;
	stdin.unref = () => stdin;
	return stdin;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
	// as the dashboard runs it (commands/dashboard, runDashboard): React in production mode (chosen when
	// React is loaded, hence the late imports), Ink's frame cache installed
	process.env.NODE_ENV ??= 'production';
	const { createElement } = await import('react');
	const { render } = await import('ink');
	const { Dashboard } = await import('../source/ui/components/Dashboard.js');
	const frameCache = !values['no-frame-cache'] && (await installInkFrameCache());
	const inkOutput = !values['no-ink-output'] && (await installInkOutput());
	const store = new DashboardStore({ statsIntervalMs: 0, flushMs: 0 });
	seedFixture(store, { lines: 0, samples: 60 });
	store.appendLogs(Array.from({ length: 40 }, (_, i) => paddedLog(i)));
	if (executions) {
		store.dispatch({ type: 'executions/runner', runner: { state: 'live' } });
		store.upsertExecutions(busy);
		store.dispatch({ type: 'view/toggle' });
	}
	store.flush();
	const stdout = new FakeTerminal() as unknown as NodeJS.WriteStream;
	let rendered = 0;
	let onFrame: (() => void) | null = null;
	const commands = { run: async () => {}, shell: async () => {} };
	const app = render(createElement(Dashboard, { store, commands }), {
		stdout,
		stdin: fakeKeyboard(),
		interactive: true,
		alternateScreen: false,
		exitOnCtrlC: false,
		patchConsole: false,
		maxFps: 1000,
		incrementalRendering: true,
		onRender: () => {
			rendered++;
			onFrame?.();
		},
	});
	await sleep(200);
	let i = 1000;
	const perFrame: number[] = [];
	for (let round = 0; round < rounds + 1; round++) {
		const before = process.cpuUsage();
		const start = rendered;
		for (let f = 0; f < frames; f++) {
			const drawn = new Promise<void>((resolve) => (onFrame = resolve));
			if (executions) store.upsertExecutions(busy.map((e) => ({ ...e, steps: i, tool: i % 2 ? 'run_command' : null })));
			else {
				store.recordSample('agent-runner', fixtureSample('agent-runner', i));
				store.recordSample('stigmer-server', fixtureSample('stigmer-server', i));
			}
			if (linesPerFrame > 0) store.appendLogs(Array.from({ length: linesPerFrame }, (_, n) => paddedLog(i * linesPerFrame + n)));
			i++;
			store.flush();
			await drawn;
		}
		const used = process.cpuUsage(before);
		const ms = (used.user + used.system) / 1000 / (rendered - start);
		if (round > 0) perFrame.push(ms); // the first round warms the JIT up
	}
	app.unmount();
	const what = executions
		? `executions view, 20 running executions changing and ${linesPerFrame} new log lines of ${lineLength} characters per frame`
		: `fixture (3 services, 40 lines of ${lineLength} characters${linesPerFrame > 0 ? `, ${linesPerFrame} new ones per frame` : ''})`;
	console.log(
		`dashboard frame, 120×40, ${frameCache ? 'with' : 'without'} the frame cache, ${inkOutput ? 'with' : 'without'} inkOutput, ${what}: ${median(perFrame).toFixed(2)} ms CPU per frame (median of ${rounds} rounds of ${frames}; rounds: ${perFrame.map((v) => v.toFixed(2)).join(' ')})`,
	);
	if (executions || linesPerFrame > 0) console.log(`at ten frames a second: ${median(perFrame).toFixed(1)} % of one core`);
	else console.log(`at one frame per 2 s: ${(median(perFrame) / 20).toFixed(3)} % of one core`);
	process.exit(0);
}

await main();
