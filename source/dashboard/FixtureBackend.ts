// A backend with canned services, stats and logs for the UI's component tests and bench/dashboard-frame.ts (no command loads it):
// they seed a store with `seedFixture`, or drive the Dashboard over FixtureBackend's live feed.
import type { ServiceStatus } from '../serviceStatus.js';
import type { DashboardSink } from '../store/DashboardStore.js';
import type { ResourceSample } from '../store/dashboardState.js';
import type { ActionOptions, DashboardBackend, ShellHandle } from './DashboardBackend.js';
import { followExecutions } from './executionActions.js';
import { FixtureExecutions } from './fixtureExecutions.js';

const MiB = 1024 * 1024;

export function fixtureServices(nowMs = Date.now()): ServiceStatus[] {
	return [
		{ name: 'stigmer-server', kind: 'native', state: 'running', health: null, pid: 4242, startedAt: new Date(nowMs - 3_723_000).toISOString(), restarts: 1, exitCode: null },
		{ name: 'workflow-runner', kind: 'native', state: 'not-installed', health: null, restarts: 0, exitCode: null, message: 'workflow-runner is not on PATH' },
		{
			name: 'agent-runner',
			kind: 'container',
			state: 'running',
			health: 'healthy',
			id: 'c0ffee0123456789',
			image: 'stigmer/agent-runner:0.1.0',
			endpoint: 'http://127.0.0.1:7480',
			startedAt: new Date(nowMs - 125_000).toISOString(),
			restarts: 0,
			exitCode: null,
			oomKilled: false,
		},
	];
}

export function fixtureSample(service: string, i: number, nowMs = Date.now()): ResourceSample {
	if (service === 'agent-runner') {
		return {
			timeMs: nowMs,
			cpuPercent: 2 + (i % 7) * 3.1,
			memoryBytes: (180 + (i % 5) * 4) * MiB,
			memoryLimitBytes: 1024 * MiB,
			networkRxBytes: 1_200_000 + i * 1000,
			networkTxBytes: 350_000 + i * 400,
			pids: 9,
		};
	}
	return { timeMs: nowMs, cpuPercent: 0.5 + (i % 3), memoryBytes: (42 + (i % 3)) * MiB, memoryLimitBytes: null, networkRxBytes: null, networkTxBytes: null, pids: 3 };
}

const messages = [
	['agent-runner', 'stdout', 'INFO:     127.0.0.1:51234 - "GET /healthz HTTP/1.1" 200 OK'],
	['stigmer-server', 'stdout', 'grpc: serving on 127.0.0.1:50051'],
	['agent-runner', 'stderr', 'WARNING: model qwen2.5-coder:7b answered slowly (4.2 s)'],
	['agent-runner', 'stdout', '\x1b[32mexecution 01J8Z succeeded\x1b[0m in 3 steps'],
	['stigmer-server', 'stderr', 'error: workflow 17 failed: timeout after 30s'],
] as const;

export function fixtureLog(i: number, nowMs = Date.now()) {
	const [service, stream, line] = messages[i % messages.length]!;
	return { service, stream, time: new Date(nowMs).toISOString(), timeMs: nowMs, line: `${line} #${i}` };
}

/** Fills a sink with the fixture: rows, `samples` seconds of stats, `lines` log lines. */
export function seedFixture(sink: DashboardSink, { lines = 40, samples = 30, nowMs = Date.now() } = {}): void {
	sink.dispatch({ type: 'engine/changed', engine: { reachable: true, endpoint: 'unix:///var/run/docker.sock', version: '20.10.24' } });
	sink.dispatch({ type: 'services/replaced', services: fixtureServices(nowMs) });
	for (let i = 0; i < samples; i++) {
		sink.dispatch({ type: 'stats/sampled', samples: { 'agent-runner': fixtureSample('agent-runner', i, nowMs), 'stigmer-server': fixtureSample('stigmer-server', i, nowMs) } });
	}
	sink.appendLogs(Array.from({ length: lines }, (_, i) => fixtureLog(i, nowMs - (lines - i) * 100)));
}

export interface FixtureBackendOptions {
	/** log lines per second of the live feed (0: none) */
	linesPerSecond?: number;
	/** how long actions take */
	actionMs?: number;
	/** make every action fail with this message */
	failWith?: string;
}

/** The fixture, live: stats every second, logs at a steady rate, actions that change the rows. */
export class FixtureBackend implements DashboardBackend {
	private sink: DashboardSink | null = null;
	private services = fixtureServices();
	readonly calls: string[] = [];
	readonly executions = new FixtureExecutions();

	constructor(private readonly options: FixtureBackendOptions = {}) {}

	start(sink: DashboardSink): () => void {
		this.sink = sink;
		seedFixture(sink);
		this.services = fixtureServices();
		let i = 100;
		const timers: NodeJS.Timeout[] = [];
		timers.push(
			setInterval(() => {
				for (const s of this.services) if (s.state === 'running') sink.recordSample(s.name, fixtureSample(s.name, i));
				i++;
			}, 1000),
		);
		const rate = this.options.linesPerSecond ?? 2;
		if (rate > 0) {
			const every = Math.max(5, Math.floor(1000 / rate));
			const perTick = Math.max(1, Math.round((rate * every) / 1000));
			let n = 1000;
			timers.push(setInterval(() => sink.appendLogs(Array.from({ length: perTick }, () => fixtureLog(n++))), every));
		}
		const stopExecutions = followExecutions(this.executions, sink);
		return () => {
			for (const t of timers) clearInterval(t);
			stopExecutions();
			this.sink = null;
		};
	}

	private async act(name: string, verb: string, next: ServiceStatus['state'], options?: ActionOptions): Promise<void> {
		this.calls.push(`${verb} ${name}`);
		const delay = this.options.actionMs ?? 600;
		options?.onProgress?.(`${verb}…`);
		await new Promise((resolve) => setTimeout(resolve, delay));
		if (this.options.failWith) throw new Error(this.options.failWith);
		const row = this.services.find((s) => s.name === name);
		if (!row) throw new Error(`no service ${name}`);
		if (row.state === 'not-installed') throw new Error(`${name} is not installed`);
		Object.assign(row, { state: next, startedAt: next === 'running' ? new Date().toISOString() : row.startedAt, exitCode: next === 'running' ? null : 0 });
		this.sink?.dispatch({ type: 'service/updated', status: { ...row } });
		if (next !== 'running') this.sink?.dispatch({ type: 'stats/cleared', service: name });
	}

	startService(name: string, options?: ActionOptions) {
		return this.act(name, 'start', 'running', options);
	}
	stopService(name: string, options?: ActionOptions) {
		return this.act(name, 'stop', name === 'agent-runner' ? 'exited' : 'stopped', options);
	}
	restartService(name: string, options?: ActionOptions) {
		return this.act(name, 'restart', 'running', options);
	}
	async openShell(name: string): Promise<ShellHandle> {
		this.calls.push(`shell ${name}`);
		const { spawn } = await import('node:child_process');
		return {
			close: () => undefined,
			attach: (typed) =>
				new Promise((resolve) => {
					const child = spawn(process.env.SHELL || 'sh', [], { stdio: ['pipe', 'inherit', 'inherit'] });
					child.stdin.write(typed);
					process.stdin.pipe(child.stdin);
					child.on('exit', (code) => {
						process.stdin.unpipe(child.stdin);
						resolve({ exitCode: Promise.resolve(code ?? 1) });
					});
					child.on('error', () => resolve({ exitCode: Promise.resolve(127) }));
				}),
		};
	}
}
