// The dashboard's backend on the real engine and supervisor. Everything arrives as a stream:
//   container state  ← /events of this home's containers (dockerEvents), re-inspected per event and after
//                      every return of the engine (containerFeed.ts, with the container's stats)
//   container stats  ← ONE /stats stream per running container (containerStats)
//   native state     ← the supervisor's subscribe stream; while no supervisor runs, its state file and
//                      a watch on run/ (to subscribe again when one starts)
//   native stats     ← /proc, once a second, only while some native runs (there is no stream for it),
//                      walking down each tree rather than scanning every process (supervisor/processStats)
//   logs             ← the logs module (readLogs, follow), the same source as `stigmer server logs -f`
//   actions          ← startStack/stopStack/restartStack of the stack module, as the CLI
//   shell            ← openShellSession of agentRunner/shell.ts, as `stigmer shell`
import { type FSWatcher, watch } from 'node:fs';
import { loadConfig } from '../config/loadConfig.js';
import type { StigmerConfig } from '../config/types.js';
import { DockerApi } from '../engine/DockerApi.js';
import { resolveEndpoint } from '../engine/endpoint.js';
import { openShellSession } from '../agentRunner/shell.js';
import { errorMessage } from '../errors.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import { readLogs } from '../logs/readLogs.js';
import type { StackEvent } from '../stack/options.js';
import { restartStack } from '../stack/restart.js';
import { serviceNames } from '../stack/selection.js';
import { startStack } from '../stack/start.js';
import { llmForwardRow, nativeRow, stackStatus } from '../stack/status.js';
import { stopStack } from '../stack/stop.js';
import type { DashboardSink } from '../store/DashboardStore.js';
import type { NativeStatus } from '../supervisor/protocol.js';
import { readNativeState, subscribe, supervisorLoss } from '../supervisor/SupervisorClient.js';
import type { ActionOptions, DashboardBackend, ShellHandle } from './DashboardBackend.js';
import { type ExecutionsBackend, followExecutions } from './executionActions.js';
import { AgentRunnerClient } from '../api/AgentRunnerClient.js';
import { followContainer } from './containerFeed.js';

/** Natives' CPU/RSS sampling period: the store applies stats to the screen every 2 s at most (idle CPU). */
const nativeSampleMs = 2000;
import { ProcessTreeSampler } from '../supervisor/processStats.js';

export async function createRealBackend(ctx: { home: StigmerHome }): Promise<DashboardBackend> {
	// a broken config.yaml is reported before the UI opens, like every other command
	const config = loadConfig(ctx.home);
	let api: DockerApi | null = null;
	let endpointError: string | null = null;
	try {
		api = new DockerApi(resolveEndpoint());
	} catch (error) {
		endpointError = errorMessage(error);
	}
	return new RealBackend(ctx.home, config, api, endpointError);
}

/** A StackEvent as one line of progress. */
export function progressText(event: StackEvent): string {
	if (event.phase === 'build') {
		const p = event.progress;
		return p.kind === 'step' ? `building the image: step ${p.step}/${p.steps} ${p.text}` : `building the image: ${p.text}`;
	}
	return event.text ? `${event.phase}: ${event.text}` : `${event.phase}…`;
}

/** The dashboard keeps this many executions (the runner's first picture); the table draws a page. */
const executionsKept = 1000;

export class RealBackend implements DashboardBackend {
	readonly executions: ExecutionsBackend;
	private readonly runner: AgentRunnerClient;

	constructor(
		private readonly home: StigmerHome,
		private readonly config: StigmerConfig,
		private readonly api: DockerApi | null,
		private readonly endpointError: string | null,
	) {
		// the same client as `stigmer run` and `stigmer executions`
		const runner = AgentRunnerClient.forHome(home, config.agentRunner.port);
		this.runner = runner;
		this.executions = {
			feed: (signal) => runner.executionFeed({ signal, limit: executionsKept }),
			events: (id, signal) => runner.events(id, { signal }),
			cancel: async (id) => {
				await runner.cancel(id);
			},
		};
	}

	start(sink: DashboardSink): () => void {
		const controller = new AbortController();
		const { signal } = controller;
		const stops: Array<() => void> = [];
		const report = (where: string, error: unknown) => {
			if (!signal.aborted) sink.dispatch({ type: 'status/set', status: { kind: 'error', text: `${where}: ${errorMessage(error)}` } });
		};

		// First picture: the same rows as `stigmer server status`.
		void stackStatus(this.home, { config: this.config, ...(this.api?.info ? { api: this.api } : {}) }).then(
			(status) => {
				if (signal.aborted) return;
				sink.dispatch({ type: 'services/replaced', services: status.services });
				sink.dispatch({ type: 'llmForward/changed', forward: status.llmForward ?? null });
				const loss = supervisorLoss(this.home);
				if (loss) sink.dispatch({ type: 'status/set', status: { kind: 'error', text: loss } });
				if (status.engine.reachable === false)
					sink.dispatch({ type: 'engine/changed', engine: { reachable: false, endpoint: status.engine.endpoint, ...(status.engine.error ? { error: status.engine.error } : {}) } });
			},
			(error) => report('status', error),
		);

		stops.push(this.followNatives(sink, signal));
		if (this.api) followContainer(this.api, this.home, this.config, sink, signal).catch((error) => report('engine', error));
		else sink.dispatch({ type: 'engine/changed', engine: { reachable: false, error: this.endpointError ?? 'no engine endpoint' } });
		this.followLogs(sink, signal).catch((error) => report('logs', error));
		stops.push(followExecutions(this.executions, sink));

		return () => {
			controller.abort();
			for (const stop of stops) stop();
			this.api?.close();
			this.runner.close();
		};
	}

	/** The LLM forward as the state file (or the dead supervisor's last record) says, in the header. */
	private showForward(sink: DashboardSink): void {
		const snapshot = readNativeState(this.home);
		// a forward recorded by a supervisor that died: the container it served may still run, shown as down
		sink.dispatch({ type: 'llmForward/changed', forward: llmForwardRow(snapshot.forward, snapshot.supervisorPid !== null, true) ?? null });
	}

	/** Native rows from the supervisor's stream; CPU/RSS/PIDs of their process trees from /proc. */
	private followNatives(sink: DashboardSink, signal: AbortSignal): () => void {
		const configured = new Set(this.config.services.map((s) => s.name));
		let pids: Record<string, number | undefined> = {};
		let unsubscribe: (() => void) | null = null;
		let watcher: FSWatcher | null = null;
		let sampleTimer: NodeJS.Timeout | null = null;
		const sampler = new ProcessTreeSampler();

		const sample = () => {
			const stats = sampler.sample(pids);
			const now = Date.now();
			for (const [name, s] of Object.entries(stats)) {
				if (!s) continue;
				sink.recordSample(name, { timeMs: now, cpuPercent: s.cpuPercent ?? 0, memoryBytes: s.rssBytes, memoryLimitBytes: null, networkRxBytes: null, networkTxBytes: null, pids: s.pids });
			}
		};
		const onState = (services: NativeStatus[]) => {
			if (signal.aborted) return;
			const rows = services.filter((s) => configured.has(s.name)).map(nativeRow);
			for (const row of rows) {
				sink.dispatch({ type: 'service/updated', status: row });
				if (row.state !== 'running' && row.state !== 'starting') sink.dispatch({ type: 'stats/cleared', service: row.name });
			}
			pids = Object.fromEntries(rows.filter((r) => r.pid !== undefined && (r.state === 'running' || r.state === 'starting')).map((r) => [r.name, r.pid]));
			// one /proc walk per stats frame (the store shows stats every 2 s) while something runs; no timer otherwise
			const anyRunning = Object.keys(pids).length > 0;
			if (anyRunning && !sampleTimer) {
				sample();
				sampleTimer = setInterval(sample, nativeSampleMs);
			} else if (!anyRunning && sampleTimer) {
				clearInterval(sampleTimer);
				sampleTimer = null;
			}
		};
		const connect = () => {
			if (signal.aborted || unsubscribe) return;
			let opened = true;
			unsubscribe = subscribe(
				this.home,
				(services) => {
					onState(services);
					// the forward's changes come with the supervisor's (its state file), not in the stream
					this.showForward(sink);
				},
				() => {
					// the supervisor went away (or was never there): show what its state file says, wait for the next one
					unsubscribe = null;
					if (!opened || signal.aborted) return;
					opened = false;
					onState(readNativeState(this.home).services);
					// it died (a shutdown clears what it ran): natives unsupervised, the LLM forward down
					const loss = supervisorLoss(this.home);
					if (loss) sink.dispatch({ type: 'status/set', status: { kind: 'error', text: loss } });
					this.showForward(sink);
				},
			);
		};
		connect();
		try {
			// a (new) supervisor writes its socket and state file in run/: subscribe again when that happens
			this.home.ensureLayout();
			watcher = watch(this.home.runDir, (_event, file) => {
				if (unsubscribe === null && (file === 'supervisor.sock' || file === 'natives.json' || file === null)) {
					onState(readNativeState(this.home).services);
					connect();
				}
			});
			watcher.on('error', () => {});
		} catch {
			// no run/ directory to watch: the subscription alone
		}
		return () => {
			unsubscribe?.();
			watcher?.close();
			if (sampleTimer) clearInterval(sampleTimer);
		};
	}

	private async followLogs(sink: DashboardSink, signal: AbortSignal): Promise<void> {
		const services = serviceNames(this.config);
		// the store shows lines in batches (100 ms after a quiet spell, then every 200 ms): a flooding
		// native's file is read every 50 ms, not at each of its writes
		for await (const batch of readLogs({ api: this.api, home: this.home, services, tail: 500, follow: true, signal, paceMs: 50 })) {
			if (signal.aborted) break;
			sink.appendLogs(batch);
		}
	}

	private stackOptions(options?: ActionOptions) {
		return {
			services: [] as string[],
			// the config.yaml read when the dashboard opened: one read per command (test/integration/configReadOnce.test.ts)
			config: this.config,
			...(this.api?.info ? { api: this.api } : {}),
			onEvent: (event: StackEvent) => options?.onProgress?.(progressText(event)),
		};
	}

	async startService(name: string, options?: ActionOptions): Promise<void> {
		await startStack(this.home, { ...this.stackOptions(options), services: [name] });
	}

	async stopService(name: string, options?: ActionOptions): Promise<void> {
		await stopStack(this.home, { ...this.stackOptions(options), services: [name] });
	}

	async restartService(name: string, options?: ActionOptions): Promise<void> {
		await restartStack(this.home, { ...this.stackOptions(options), services: [name] });
	}

	async openShell(_name: string): Promise<ShellHandle> {
		if (!this.api) throw new Error(this.endpointError ?? 'no container engine');
		const session = await openShellSession({ api: this.api, home: this.home, tty: process.stdin.isTTY === true });
		return {
			attach: (typed) => session.attachTerminal({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, typed, keepRaw: true }),
			close: () => session.close(),
		};
	}
}
