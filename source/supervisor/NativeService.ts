// One native service: spawns its process in its own process group, logs its output, probes readiness,
// restarts it by policy and stops it. Exit comes from the child's 'exit' event (Node reaps the child);
// only readiness probes and stop poll, with bounded intervals.
//
// Over 350 lines: it is one state machine (a state, a generation counter that voids stale callbacks,
// the restart timer, the exit waiters, the log probe) whose transitions read and write each other's
// fields; split by method, every piece would share all of that state through the class anyway. What
// stands alone is elsewhere: the process group (processGroup.ts), backoff (Backoff.ts), the log file
// (NativeLogWriter.ts), the probes (readiness.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { constants as osConstants } from 'node:os';
import type { NativeServiceConfig } from '../config/types.js';
import { nativeMarkerEnv } from '../contract.js';
import { errorMessage } from '../errors.js';
import { Backoff, CrashLoopDetector, defaultBackoff, defaultCrashLoop, type BackoffOptions, type CrashLoopOptions } from './Backoff.js';
import { LineSplitter } from './LineSplitter.js';
import { NativeLogWriter, type LogStream } from './NativeLogWriter.js';
import { processFacts, processGroupAlive } from '../platform/ProcessFacts.js';
import type { NativeState, NativeStatus, ProcessGuard } from './protocol.js';
import { probeHttp, probeTcp } from './readiness.js';
import { foreignListener, loopbackPort, signalGroup, terminateGroup } from './processGroup.js';
import { resolveExecutable } from './resolveExecutable.js';
import { isActive } from '../serviceStatus.js';

export interface NativeServiceOptions {
	/** directory of `<service>.log` files */
	logFile: string;
	/** $STIGMER_HOME/bin, searched after PATH */
	binDir: string;
	/** cwd when the config has none */
	defaultCwd: string;
	/** the home it belongs to: set in its environment (nativeMarkerEnv) so it can be found without the state file */
	homeDir: string;
	backoff?: BackoffOptions;
	crashLoop?: CrashLoopOptions;
	rotateBytes?: number;
	/** grace after an unexpected exit before leftovers of the group get SIGKILL */
	leftoverGraceMs?: number;
}

const settledStates: ReadonlySet<NativeState> = new Set(['running', 'stopped', 'exited', 'failed', 'not-installed']);

export class NativeService extends EventEmitter<{ change: [] }> {
	config: NativeServiceConfig;
	private readonly options: NativeServiceOptions;
	private readonly log: NativeLogWriter;
	private readonly backoff: Backoff;
	private readonly crashLoop: CrashLoopDetector;

	private state: NativeState = 'stopped';
	private restarts = 0;
	private exitCode: number | null = null;
	private lastError: string | undefined;
	private startedAt: string | undefined;
	private command: string[] | undefined;

	private child: ChildProcess | null = null;
	private guard: ProcessGuard | null = null;
	/** process group of the last process, kept after it exited to clean up what it left behind */
	private lastGroup: ProcessGuard | null = null;
	private runStartedMs = 0;
	/** incremented per spawn; probes and timers of an older run see a different value and stop */
	private generation = 0;
	private restartTimer: NodeJS.Timeout | null = null;
	private stopping: Promise<void> | null = null;
	private exitWaiters: Array<() => void> = [];
	private logProbe: RegExp | null = null;
	/** while starting: another process answers on the ready port (see pollProbe) */
	private portConflict: string | null = null;

	constructor(config: NativeServiceConfig, options: NativeServiceOptions) {
		super();
		this.config = config;
		this.options = options;
		this.log = new NativeLogWriter(options.logFile, options.rotateBytes === undefined ? {} : { rotateBytes: options.rotateBytes });
		this.backoff = new Backoff(options.backoff ?? defaultBackoff);
		this.crashLoop = new CrashLoopDetector(options.crashLoop ?? defaultCrashLoop);
	}

	get name(): string {
		return this.config.name;
	}

	status(): NativeStatus {
		const status: NativeStatus = {
			name: this.name,
			kind: 'native',
			state: this.state,
			health: null,
			restarts: this.restarts,
			exitCode: this.exitCode,
		};
		if (this.child && this.guard) status.pid = this.guard.pid;
		if (this.startedAt) status.startedAt = this.startedAt;
		if (this.lastError) status.lastError = this.lastError;
		if (this.command) status.command = this.command;
		return status;
	}

	/** The process group to clean up if the supervisor dies: the live one, else what the last run left. */
	processGuard(): ProcessGuard | null {
		return this.guard ?? this.lastGroup;
	}

	isActive(): boolean {
		return isActive(this.state);
	}

	/**
	 * A service that is down shows `not-installed` while its optional executable is missing (and
	 * `stopped` again once it appears), without waiting for a start.
	 */
	checkInstalled(): void {
		if (this.state !== 'stopped' && this.state !== 'not-installed') return;
		const missing = this.config.optional && this.resolve() === null;
		const state = missing ? 'not-installed' : 'stopped';
		if (state === this.state) return;
		this.lastError = missing ? this.notFound() : undefined;
		this.setState(state);
	}

	private resolve(): string | null {
		const argv0 = this.config.command[0];
		if (argv0 === undefined) return null;
		const cwd = this.config.cwd ?? this.options.defaultCwd;
		return resolveExecutable(argv0, { cwd, binDir: this.options.binDir, pathEnv: this.config.env.PATH ?? process.env.PATH });
	}

	private notFound(): string {
		const argv0 = this.config.command[0];
		return argv0 === undefined ? 'no command configured' : `executable not found: ${argv0} (searched PATH and ${this.options.binDir})`;
	}

	/** Starts the service unless it is already up (or coming up); a fresh start resets the restart count. */
	async start(): Promise<void> {
		if (this.stopping) await this.stopping;
		if (this.isActive()) return;
		this.restarts = 0;
		this.exitCode = null;
		this.lastError = undefined;
		this.backoff.reset();
		this.crashLoop.reset();
		this.spawnProcess();
	}

	/** Resolves when the state is settled (running or down for good), or 'timeout'. */
	waitSettled(timeoutMs: number): Promise<NativeState | 'timeout'> {
		if (settledStates.has(this.state)) return Promise.resolve(this.state);
		return new Promise((resolve) => {
			const onChange = () => {
				if (!settledStates.has(this.state)) return;
				cleanup();
				resolve(this.state);
			};
			const timer = setTimeout(() => {
				cleanup();
				resolve('timeout');
			}, timeoutMs);
			const cleanup = () => {
				clearTimeout(timer);
				this.off('change', onChange);
			};
			this.on('change', onChange);
		});
	}

	/** SIGTERM to the process group, SIGKILL after `timeoutMs`; resolves once nothing of it is left. */
	stop(timeoutMs: number): Promise<void> {
		if (this.stopping) return this.stopping;
		this.stopping = this.stopNow(timeoutMs).finally(() => {
			this.stopping = null;
		});
		return this.stopping;
	}

	private async stopNow(timeoutMs: number): Promise<void> {
		this.clearRestartTimer();
		this.generation++;
		const group = this.guard ?? this.lastGroup;
		if (group)
			await terminateGroup(
				group,
				() => this.child === null,
				(waiter) => this.exitWaiters.push(waiter),
				timeoutMs,
			);
		this.lastGroup = null;
		if (this.state !== 'not-installed') this.setState('stopped');
		else this.emit('change');
	}

	private spawnProcess(): void {
		const generation = ++this.generation;
		const config = this.config;
		const cwd = config.cwd ?? this.options.defaultCwd;
		const env = { ...process.env, ...config.env, [nativeMarkerEnv.home]: this.options.homeDir, [nativeMarkerEnv.service]: config.name };
		const executable = this.resolve();
		if (executable === null) {
			this.command = undefined;
			this.lastError = this.notFound();
			this.setState(config.optional && config.command.length > 0 ? 'not-installed' : 'failed');
			return;
		}
		if (this.state === 'not-installed') this.lastError = undefined;
		let logProbe: RegExp | null = null;
		if (config.ready && 'log' in config.ready) {
			try {
				logProbe = new RegExp(config.ready.log);
			} catch (error) {
				this.failStart(`ready.log is not a valid regular expression: ${errorMessage(error)}`);
				return;
			}
		}
		const args = [...config.command.slice(1), ...config.args];
		this.command = [executable, ...args];
		this.killLeftovers(0);

		let child: ChildProcess;
		try {
			child = spawn(executable, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
		} catch (error) {
			this.failStart(`cannot start ${executable}: ${errorMessage(error)}`);
			return;
		}
		if (child.pid === undefined) {
			// spawn failed (EACCES, ENOENT, bad cwd): 'error' follows, and no 'exit'
			child.once('error', (error) => this.failStart(`cannot start ${executable}: ${errorMessage(error)}`));
			this.setState('starting');
			return;
		}
		child.on('error', (error) => {
			this.lastError = errorMessage(error);
		});
		const pid = child.pid;
		// the child is not reaped before our 'exit' handler runs, so this pid is still our child
		this.guard = { pid, startTime: processFacts().info(pid)?.startTime ?? '' };
		this.lastGroup = null;
		this.child = child;
		this.runStartedMs = Date.now();
		this.startedAt = new Date(this.runStartedMs).toISOString();
		this.exitCode = null;
		this.logProbe = logProbe;
		this.portConflict = null;

		const ready = config.ready;
		const outputEnded = Promise.all([this.pipe(child, 'stdout'), this.pipe(child, 'stderr')]);
		child.once('exit', (code, signal) => {
			// the last lines usually arrive just after the exit; log them before reporting it, but do not wait
			// for a pipe that a surviving grandchild keeps open
			const grace = new Promise((resolve) => setTimeout(resolve, 100));
			void Promise.race([outputEnded, grace]).then(() => this.onExit(child, generation, code, signal));
		});

		if (!ready) {
			this.setState('running');
		} else {
			this.setState('starting');
			if ('tcp' in ready) void this.pollProbe(generation, ready.tcp, () => probeTcp(ready.tcp));
			else if ('http' in ready) void this.pollProbe(generation, loopbackPort(ready.http), () => probeHttp(ready.http));
		}
	}

	private failStart(message: string): void {
		this.child = null;
		this.guard = null;
		this.lastError = message;
		this.setState('failed');
	}

	/** Resolves when the stream has ended and its last line is written. */
	private pipe(child: ChildProcess, stream: LogStream): Promise<void> {
		const readable = child[stream];
		if (!readable) return Promise.resolve();
		let batch: Buffer[] = [];
		const splitter = new LineSplitter((line) => {
			batch.push(line);
			if (this.logProbe?.test(line.toString('utf8'))) {
				this.logProbe = null;
				if (this.state === 'starting' && this.child === child) this.setState('running');
			}
		});
		const flush = () => {
			if (batch.length === 0) return;
			const lines = batch;
			batch = [];
			this.log.write(stream, lines);
			const dropped = this.log.dropped;
			const showing = this.lastError?.startsWith('log: ') === true;
			// said on the status row while it lasts (the service itself keeps running); the count goes to the log
			if (dropped && (this.lastError === undefined || showing)) {
				this.lastError = `log: lines dropped (${dropped.reason})`;
				if (!showing) this.emit('change');
			} else if (!dropped && showing) {
				this.lastError = undefined;
				this.emit('change');
			}
		};
		readable.on('data', (chunk: Buffer) => {
			splitter.push(chunk);
			flush();
		});
		readable.on('error', () => {});
		return new Promise((resolve) => {
			readable.once('close', () => {
				splitter.flush();
				flush();
				resolve();
			});
		});
	}

	/**
	 * Polls the probe while starting. An answer counts only when the listener on `port` is this service's
	 * process (or cannot be told): someone else's process on the port (an orphan of a killed supervisor,
	 * another program) is reported by pid and command instead of passing for this service.
	 */
	private async pollProbe(generation: number, port: number | null, attempt: () => Promise<boolean>): Promise<void> {
		let intervalMs = 50;
		while (generation === this.generation && this.state === 'starting') {
			if (await attempt()) {
				const foreign = port === null ? null : foreignListener(port, this.guard, this.name);
				if (generation !== this.generation || this.state !== 'starting') return;
				if (foreign === null) {
					this.portConflict = null;
					this.setState('running');
					return;
				}
				if (this.portConflict !== foreign) {
					this.portConflict = foreign;
					this.lastError = foreign;
					this.emit('change');
				}
			}
			await new Promise((resolve) => setTimeout(resolve, intervalMs));
			intervalMs = Math.min(intervalMs * 2, 1000);
		}
	}

	private onExit(child: ChildProcess, generation: number, code: number | null, signal: NodeJS.Signals | null): void {
		if (this.child !== child) return;
		this.exitCode = code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
		this.lastGroup = this.guard;
		this.child = null;
		this.guard = null;
		this.logProbe = null;
		const waiters = this.exitWaiters;
		this.exitWaiters = [];
		for (const waiter of waiters) waiter();
		if (this.stopping) {
			this.setState('stopped');
			return;
		}
		if (generation !== this.generation) {
			this.emit('change');
			return;
		}
		const uptimeMs = Date.now() - this.runStartedMs;
		const failed = this.exitCode !== 0;
		const policy = this.config.restart;
		const restart = policy === 'always' || (policy === 'on-failure' && failed);
		if (failed) this.lastError = signal ? `killed by ${signal}` : `exited with code ${this.exitCode}`;
		// what the service left in its group (daemonised helpers, a child holding its port) goes too
		this.killLeftovers(this.options.leftoverGraceMs ?? 2000);
		const conflict = this.portConflict;
		this.portConflict = null;
		if (conflict) {
			// a restart cannot help while another process holds the port
			this.lastError = `${this.lastError ?? `exited with code ${this.exitCode}`}: ${conflict}`;
			this.setState('failed');
			return;
		}
		if (!restart) {
			this.setState('exited');
			return;
		}
		if (this.crashLoop.record(Date.now())) {
			this.lastError = `crash loop: ended ${defaultOrGiven(this.options.crashLoop).failures} times within ${
				defaultOrGiven(this.options.crashLoop).windowMs / 1000
			} s (last exit code ${this.exitCode})`;
			this.setState('failed');
			return;
		}
		const delay = this.backoff.next(uptimeMs);
		this.setState('restarting');
		this.restartTimer = setTimeout(() => {
			this.restartTimer = null;
			if (generation !== this.generation || this.state !== 'restarting') return;
			this.restarts++;
			this.spawnProcess();
		}, delay);
	}

	/** SIGTERM to what is left of the last process group; SIGKILL after `graceMs` (0: right away). */
	private killLeftovers(graceMs: number): void {
		const group = this.lastGroup;
		if (!group || !processGroupAlive(group.pid)) return;
		if (graceMs === 0) {
			signalGroup(group, 'SIGKILL');
			return;
		}
		signalGroup(group, 'SIGTERM');
		setTimeout(() => {
			if (this.lastGroup === group && processGroupAlive(group.pid)) signalGroup(group, 'SIGKILL');
		}, graceMs).unref();
	}

	private clearRestartTimer(): void {
		if (this.restartTimer) clearTimeout(this.restartTimer);
		this.restartTimer = null;
	}

	private setState(state: NativeState): void {
		this.state = state;
		this.emit('change');
	}
}

function defaultOrGiven(options: CrashLoopOptions | undefined): CrashLoopOptions {
	return options ?? defaultCrashLoop;
}
