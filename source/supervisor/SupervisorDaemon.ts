// The supervisor's running state, once supervisorMain has won its home: the native services
// (NativeSupervisor), the agent-runner's LLM forward (LlmForward), the socket's clients and subscribers
// (JSON lines, protocol.ts), the state file mirrored on every change, and the way down (a `shutdown`
// request or SIGTERM/SIGINT).
import { readFileSync, rmSync } from 'node:fs';
import type net from 'node:net';
import { loadConfig } from '../config/loadConfig.js';
import type { NativeServiceConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import { writeFileAtomic } from '../home/atomicFile.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import { stopLeftNatives } from './homeNatives.js';
import { jsonLine, readJsonLines } from './jsonLines.js';
import { ApiForward, type ApiForwardSpec } from './ApiForward.js';
import { LlmForward, type LlmForwardSpec } from './LlmForward.js';
import { NativeSupervisor, type StartResult } from './NativeSupervisor.js';
import { processStartTime } from '../platform/ProcessFacts.js';
import { defaultReadyTimeoutSeconds, defaultStopTimeoutSeconds, type NativeStateFile, type SupervisorRequest, type SupervisorResponse, type SupervisorStateEvent } from './protocol.js';

export class SupervisorDaemon {
	private readonly supervisor: NativeSupervisor;
	private readonly startedAt = new Date().toISOString();
	private readonly ownStart = processStartTime(process.pid);
	private readonly subscribers = new Set<net.Socket>();
	/** what a previous supervisor that died (SIGKILL, OOM) left running, stopped before anything starts */
	private readonly orphansCleared: Promise<void>;
	private shuttingDown: Promise<void> | null = null;
	private forward: LlmForward | null = null;
	private apiForward: ApiForward | null = null;
	private finished = false;
	private stateWriteFailing = false;
	/** a change not yet in the state file (onChange) */
	private statePending = false;
	private resolveClosed: () => void = () => {};
	private readonly closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));

	constructor(
		private readonly home: StigmerHome,
		private readonly server: net.Server,
		options: ConstructorParameters<typeof NativeSupervisor>[1] = {},
	) {
		this.supervisor = new NativeSupervisor(home, options);
		this.supervisor.on('change', (services) => this.onChange(services));
		this.orphansCleared = stopLeftNatives(home, 2000, (native) => say(`stopping ${native.service} (pid ${native.guard.pid}) left by a previous supervisor`)).then(() => {});
		try {
			this.reloadConfig(undefined);
		} catch (error) {
			say(`config not loaded yet: ${errorMessage(error)}`);
			this.tryWriteState();
		}
		server.on('connection', (socket) => this.accept(socket));
	}

	/** Serves until shut down (a `shutdown` request, SIGTERM or SIGINT); SIGHUP and SIGPIPE are ignored. */
	async run(): Promise<void> {
		const ignore = () => {};
		const onSignal = (signal: NodeJS.Signals) => {
			say(`${signal}: stopping native services`);
			void this.shutdown(defaultStopTimeoutSeconds).finally(() => this.finish());
		};
		process.on('SIGHUP', ignore);
		process.on('SIGPIPE', ignore);
		process.on('SIGTERM', onSignal);
		process.on('SIGINT', onSignal);
		try {
			await this.closed;
		} finally {
			process.off('SIGTERM', onSignal);
			process.off('SIGINT', onSignal);
		}
	}

	private onChange(services: ReturnType<NativeSupervisor['status']>): void {
		// a burst of changes (a stop of every native) is one durable write (each is an fsync, ~10 ms), made
		// before the next answer goes out, so a client that got an answer reads a file at least as new
		if (!this.statePending) {
			this.statePending = true;
			setImmediate(() => this.flushState());
		}
		const line = jsonLine({ event: 'state', services } satisfies SupervisorStateEvent);
		for (const socket of this.subscribers) socket.write(line);
	}

	private flushState(): void {
		if (!this.statePending) return;
		this.statePending = false;
		this.tryWriteState();
	}

	private writeState(): void {
		const state: NativeStateFile = {
			supervisor: this.shuttingDown ? null : { pid: process.pid, startTime: this.ownStart, startedAt: this.startedAt },
			updatedAt: new Date().toISOString(),
			services: this.supervisor.status(),
			guards: this.supervisor.guards(),
			forward: this.forward?.status() ?? null,
			apiForward: this.apiForward?.status() ?? null,
		};
		writeFileAtomic(this.home.nativeStateFile, `${JSON.stringify(state, null, '\t')}\n`);
		this.stateWriteFailing = false;
		this.statePending = false;
	}

	private tryWriteState(): void {
		try {
			this.writeState();
		} catch (error) {
			// said once per failing spell, not on every change (a full disk fails them all)
			if (!this.stateWriteFailing) say(`cannot write ${this.home.nativeStateFile}: ${errorMessage(error)}; removed until it can be`);
			this.stateWriteFailing = true;
			// a stale file would be read as the truth; without one, clients ask this supervisor (readNativeState)
			removeQuietly(this.home.nativeStateFile);
		}
	}

	private reloadConfig(configs: NativeServiceConfig[] | undefined): void {
		this.supervisor.configure(configs ?? loadConfig(this.home).services);
	}

	private accept(socket: net.Socket): void {
		socket.on('error', () => {});
		socket.on('close', () => this.subscribers.delete(socket));
		const send = (value: SupervisorResponse | SupervisorStateEvent) => {
			if (!socket.destroyed) socket.write(jsonLine(value));
		};
		readJsonLines(
			socket,
			(value) => {
				const request = value as SupervisorRequest;
				if (request?.cmd === 'subscribe') {
					this.subscribers.add(socket);
					send({ event: 'state', services: this.supervisor.status() });
					return;
				}
				this.handle(request).then(
					(response) => {
						this.flushState();
						if (response) send(response);
					},
					(error: unknown) => {
						this.flushState();
						send({ ok: false, error: errorMessage(error) });
					},
				);
			},
			() => send({ ok: false, error: 'request is not JSON' }),
		);
	}

	private ok(): SupervisorResponse {
		return { ok: true, services: this.supervisor.status(), supervisorPid: process.pid, forward: this.forward?.status() ?? null, apiForward: this.apiForward?.status() ?? null };
	}

	private fromStart(result: StartResult): SupervisorResponse {
		return result.ok ? this.ok() : { ok: false, error: result.error, service: result.service, timedOut: result.timedOut, services: this.supervisor.status() };
	}

	private unknownServices(names: string[], action: 'start' | 'stop'): SupervisorResponse | null {
		const unknown = this.supervisor.unknown(names, action);
		return unknown.length > 0 ? { ok: false, error: `no native service named ${unknown.join(', ')}` } : null;
	}

	/** One request's answer; null for `subscribe`, which is answered by state events instead. */
	private async handle(request: SupervisorRequest): Promise<SupervisorResponse | null> {
		switch (request.cmd) {
			case 'ping':
			case 'status':
				return this.ok();
			case 'start':
			case 'restart': {
				if (this.shuttingDown) return { ok: false, error: 'the supervisor is shutting down' };
				await this.orphansCleared;
				this.reloadConfig(request.configs);
				const names = request.services ?? [];
				const refused = this.unknownServices(names, 'start');
				if (refused) return refused;
				const readyMs = request.wait === false ? null : (request.timeout ?? defaultReadyTimeoutSeconds) * 1000;
				const result = request.cmd === 'start' ? await this.supervisor.start(names, readyMs) : await this.supervisor.restart(names, defaultStopTimeoutSeconds * 1000, readyMs);
				return this.fromStart(result);
			}
			case 'stop': {
				const names = request.services ?? [];
				const refused = this.unknownServices(names, 'stop');
				if (refused) return refused;
				await this.supervisor.stop(names, (request.timeout ?? defaultStopTimeoutSeconds) * 1000);
				return this.ok();
			}
			case 'shutdown':
				await this.shutdown(request.timeout ?? defaultStopTimeoutSeconds);
				setImmediate(() => this.finish());
				return this.ok();
			case 'forward': {
				if (this.shuttingDown) return { ok: false, error: 'the supervisor is shutting down' };
				const { cmd: _cmd, ...spec } = request;
				await this.openForward(spec);
				this.tryWriteState();
				return this.ok();
			}
			case 'unforward':
				await this.closeForward();
				this.tryWriteState();
				return this.ok();
			case 'apiForward': {
				if (this.shuttingDown) return { ok: false, error: 'the supervisor is shutting down' };
				const { cmd: _cmd, ...spec } = request;
				await this.openApiForward(spec);
				this.tryWriteState();
				return this.ok();
			}
			case 'apiUnforward':
				await this.closeApiForward();
				this.tryWriteState();
				return this.ok();
			case 'subscribe':
				return null;
			default:
				return { ok: false, error: `unknown command ${JSON.stringify((request as { cmd?: unknown }).cmd)}` };
		}
	}

	/** Opens the LLM forward, or keeps the open one when its spec is unchanged and it found its way. */
	private async openForward(spec: LlmForwardSpec): Promise<void> {
		const open = this.forward;
		// a forward that found no way, or found the LLM directly reachable, is looked at again
		if (open?.sameSpec(spec) && open.status().mode !== 'failed' && open.status().mode !== 'direct') return;
		await this.closeForward();
		this.forward = await LlmForward.open(spec, () => this.tryWriteState());
		const s = this.forward.status();
		say(`LLM forward ${spec.listenHost}:${s.boundPort} -> ${spec.targetHost}:${spec.targetPort}: ${s.mode}${s.error ? ` (${s.error})` : ''}`);
	}

	private async closeForward(): Promise<void> {
		const open = this.forward;
		this.forward = null;
		if (open) {
			await open.close();
			say(`LLM forward ${open.spec.listenHost}:${open.status().boundPort} closed`);
		}
	}

	/** Opens the API forward, or keeps the open one when its spec is unchanged and it listens. */
	private async openApiForward(spec: ApiForwardSpec): Promise<void> {
		const open = this.apiForward;
		if (open?.sameSpec(spec) && open.status().mode === 'listening') return;
		await this.closeApiForward();
		this.apiForward = await ApiForward.open(spec);
		const s = this.apiForward.status();
		say(`API forward 127.0.0.1:${spec.port} -> ${spec.container} (exec'd bridge): ${s.mode}${s.error ? ` (${s.error})` : ''}`);
	}

	private async closeApiForward(): Promise<void> {
		const open = this.apiForward;
		this.apiForward = null;
		if (open) {
			await open.close();
			say(`API forward 127.0.0.1:${open.spec.port} closed`);
		}
	}

	/** Stops every native and the forward (once, however often it is asked) and records that no supervisor runs. */
	private shutdown(timeoutSeconds: number): Promise<void> {
		this.shuttingDown ??= (async () => {
			say('shutting down');
			await Promise.all([this.supervisor.stop([], timeoutSeconds * 1000), this.closeForward(), this.closeApiForward()]);
			try {
				this.writeState();
			} catch (error) {
				// a full disk: a state file that still says "running" would be worse than none (everything is stopped)
				say(`cannot write ${this.home.nativeStateFile}: ${errorMessage(error)}; removing it`);
				removeQuietly(this.home.nativeStateFile);
			}
		})();
		return this.shuttingDown;
	}

	/** Closes the socket and removes the socket and pid files; run() then returns. */
	private finish(): void {
		if (this.finished) return;
		this.finished = true;
		for (const socket of this.subscribers) socket.end();
		this.server.close();
		rmSync(this.home.supervisorSocket, { force: true });
		if (readPid(this.home.supervisorPidFile) === process.pid) rmSync(this.home.supervisorPidFile, { force: true });
		say('stopped');
		this.resolveClosed();
	}
}

export function readPid(file: string): number | null {
	try {
		const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
		return Number.isInteger(pid) && pid > 0 ? pid : null;
	} catch {
		return null;
	}
}

function removeQuietly(file: string): void {
	try {
		rmSync(file, { force: true });
	} catch {
		// a read-only home: there is nothing to do about it here
	}
}

/** One line of logs/supervisor.log. */
export function say(message: string): void {
	process.stderr.write(`${new Date().toISOString()} ${message}\n`);
}
