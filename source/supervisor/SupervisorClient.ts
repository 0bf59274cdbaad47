// How the CLI and the dashboard talk to the native services supervisor of a home: start it when it is
// not running, send it requests, follow its state, and read its state file when it is gone.
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { nativeMarkerEnv } from '../contract.js';
import { errorMessage, UserError } from '../errors.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import { isSameProcess, processFacts } from '../platform/ProcessFacts.js';
import { leftNatives, readStateFile, stopLeftNatives } from './homeNatives.js';
import type { LlmForwardStatus } from './LlmForward.js';
import type { NativeStatus, SupervisorRequest, SupervisorResponse, SupervisorStateEvent } from './protocol.js';
import { jsonLine, readJsonLines } from './jsonLines.js';
import { isSupervisorOf, supervisorArgs } from './supervisorProcess.js';
import { isActive } from '../serviceStatus.js';
import { childProcess } from '../lazyBuiltins.js';

export type { NativeState, NativeStatus, SupervisorRequest, SupervisorResponse } from './protocol.js';

/**
 * The argv that runs supervisorMain, to which `__supervisor --home DIR` is appended. By default the
 * supervisor module next to this one is run directly by the current Node binary: `dist/supervisor/
 * supervisorMain.js` in a build, or `source/supervisor/supervisorMain.ts` under tsx's loader from sources.
 * It does not depend on how the current process was started (`node dist/cli.js`, `npx tsx`, a test
 * runner). A caller that prefers its own entry passes e.g. `[process.execPath, 'dist/cli.js']`; the CLI
 * then has to dispatch `__supervisor` to supervisorMain's `main`.
 */
export function defaultSupervisorCommand(): string[] {
	const fromSources = import.meta.url.endsWith('.ts');
	const entry = fileURLToPath(new URL(fromSources ? './supervisorMain.ts' : './supervisorMain.js', import.meta.url));
	if (!fromSources) return [process.execPath, entry];
	let loader = 'tsx';
	try {
		loader = import.meta.resolve('tsx');
	} catch {
		// resolved from the working directory by node then
	}
	return [process.execPath, '--import', loader, entry];
}

export class SupervisorUnavailableError extends UserError {
	constructor(message: string) {
		super(message, 1, 'run `stigmer server start`');
		this.name = 'SupervisorUnavailableError';
	}
}

export interface EnsureSupervisorOptions {
	/** argv prefix that runs supervisorMain (default: defaultSupervisorCommand()) */
	command?: string[];
	/** how long to wait for its socket (default 15 s) */
	timeoutMs?: number;
	env?: NodeJS.ProcessEnv;
}

/**
 * Returns the pid of the home's supervisor, starting one (detached, own session, output appended to
 * logs/supervisor.log) when none answers. Stale pid and socket files are the new supervisor's concern:
 * it replaces them unless their pid is a live supervisor of this home. Concurrent callers end up with
 * the same supervisor.
 */
export async function ensureSupervisor(home: StigmerHome, options: EnsureSupervisorOptions = {}): Promise<{ pid: number; started: boolean }> {
	const running = await ping(home);
	if (running !== null) return { pid: running, started: false };
	home.ensureLayout();
	const [program, ...prefix] = options.command ?? defaultSupervisorCommand();
	const logFile = home.logFile('supervisor');
	const out = openSync(logFile, 'a', 0o644);
	let exited: { code: number | null } | null = null;
	try {
		// a CLI run by a native (a script calling stigmer) has the native's marker: the supervisor must not
		const env = { ...(options.env ?? process.env) };
		delete env[nativeMarkerEnv.home];
		delete env[nativeMarkerEnv.service];
		const { spawn } = childProcess(); // only to start a supervisor: `server status` and the dashboard only read
		const child = spawn(program!, [...prefix, ...supervisorArgs(home.dir)], {
			cwd: home.dir,
			env,
			detached: true,
			stdio: ['ignore', out, out],
		});
		child.once('error', () => (exited = { code: -1 }));
		child.once('exit', (code) => (exited = { code }));
		child.unref();
	} finally {
		closeSync(out);
	}
	const deadline = Date.now() + (options.timeoutMs ?? 15_000);
	let intervalMs = 10;
	while (Date.now() < deadline) {
		const pid = await ping(home);
		if (pid !== null) return { pid, started: true };
		// exit 0: another supervisor won the race, keep waiting for its socket
		const early = exited as { code: number | null } | null;
		if (early && early.code !== 0) break;
		await sleep(intervalMs);
		intervalMs = Math.min(intervalMs * 2, 100);
	}
	throw new UserError(`the native services supervisor did not start`, 1, `see ${logFile}:\n${tail(logFile, 10)}`);
}

/** Sends one request and returns the supervisor's answer. */
export function request(home: StigmerHome, req: SupervisorRequest, options: { timeoutMs?: number } = {}): Promise<SupervisorResponse> {
	return new Promise((resolve, reject) => {
		const socket = net.connect(home.supervisorSocket);
		let settled = false;
		const finish = (error: Error | null, response?: SupervisorResponse) => {
			if (settled) return;
			settled = true;
			socket.destroy();
			if (timer) clearTimeout(timer);
			if (error) reject(error);
			else resolve(response!);
		};
		const timer =
			options.timeoutMs === undefined ? null : setTimeout(() => finish(new UserError(`the native services supervisor did not answer ${req.cmd} within ${options.timeoutMs} ms`)), options.timeoutMs);
		socket.once('connect', () => socket.write(jsonLine(req)));
		readJsonLines(
			socket,
			(response) => finish(null, response as SupervisorResponse),
			(_line, error) => finish(new UserError(`unreadable answer from the native services supervisor: ${errorMessage(error)}`)),
		);
		socket.once('error', (error) => finish(new SupervisorUnavailableError(`the native services supervisor is not running (${errorMessage(error)})`)));
		socket.once('close', () => finish(new SupervisorUnavailableError('the native services supervisor closed the connection')));
	});
}

/**
 * Calls `onState` with the services' state now and on every change, until the returned function is
 * called. `onClose` learns that the supervisor went away (it exited, or was never there).
 */
export function subscribe(home: StigmerHome, onState: (services: NativeStatus[]) => void, onClose?: (error?: Error) => void): () => void {
	const socket = net.connect(home.supervisorSocket);
	let closedByUs = false;
	socket.once('connect', () => socket.write(jsonLine({ cmd: 'subscribe' } satisfies SupervisorRequest)));
	// a line we do not understand is skipped
	readJsonLines(socket, (value) => {
		const event = value as SupervisorStateEvent;
		if (event?.event === 'state') onState(event.services);
	});
	let lastError: Error | undefined;
	socket.on('error', (error) => (lastError = error));
	socket.once('close', () => {
		if (!closedByUs) onClose?.(lastError);
	});
	return () => {
		closedByUs = true;
		socket.destroy();
	};
}

/**
 * Pid of the home's live supervisor (checked against the process facts, not just the pid file), or null.
 * A pid file that is missing or garbage while the socket is still there (a supervisor killed, or one whose
 * pid file was lost) is not trusted alone: the supervisor is then looked for among the processes.
 */
export function supervisorPid(home: StigmerHome): number | null {
	const recorded = readPidFile(home.supervisorPidFile);
	if (recorded !== null && isSameProcess(recorded, null) && isSupervisorOf(recorded, home.dir)) return recorded;
	if (!existsSync(home.supervisorSocket)) return null;
	const suffix = ` ${supervisorArgs(home.dir).join(' ')}`;
	for (const [pid, line] of processFacts().commandLines()) if (line.endsWith(suffix) && isSameProcess(pid, null)) return pid;
	return null;
}

function readPidFile(file: string): number | null {
	try {
		const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
		return Number.isInteger(pid) && pid > 0 ? pid : null;
	} catch {
		return null;
	}
}

export interface NativeStateSnapshot {
	/** null when no supervisor runs: the rows are then corrected from the process facts */
	supervisorPid: number | null;
	services: NativeStatus[];
	/** a supervisor runs but the state file is not its own (lost, truncated): ask it (nativeState does) */
	stale?: boolean;
	/** the LLM forward the supervisor runs, or (no supervisor) the one it ran when it died; null when none */
	forward: LlmForwardStatus | null;
}

const unsupervised = 'the supervisor is not running: this process is unsupervised (`stigmer server start` replaces it)';

/**
 * The services' state without talking to the supervisor (fast, for `status`). When the supervisor is
 * dead, the rows come from the state file corrected by the processes themselves: a native still running
 * (found by its recorded process group or by the home's marker in its environment, homeNatives.ts) is
 * shown `running` with its real pid and a note that nobody supervises it; one the file says was up but
 * is gone is `exited`. Never falsely `running`, never falsely `stopped`.
 */
export function readNativeState(home: StigmerHome): NativeStateSnapshot {
	const state = readStateFile(home);
	const recorded = state?.supervisor;
	const forward = state?.forward ?? null;
	if (recorded && isSameProcess(recorded.pid, recorded.startTime) && isSupervisorOf(recorded.pid, home.dir)) return { supervisorPid: recorded.pid, services: state.services, forward };
	const live = supervisorPid(home);
	if (live !== null) return { supervisorPid: live, services: state?.services ?? [], stale: true, forward };
	const found = new Map(leftNatives(home, state).map((native) => [native.service, native]));
	const services = (state?.services ?? []).map((service): NativeStatus => {
		const native = found.get(service.name);
		found.delete(service.name);
		if (native) return { ...service, state: 'running', pid: native.guard.pid, lastError: unsupervised };
		if (!isActive(service.state)) return service;
		const { pid: _pid, ...rest } = service;
		return { ...rest, state: 'exited' };
	});
	for (const native of found.values()) {
		services.push({ name: native.service, kind: 'native', state: 'running', health: null, pid: native.guard.pid, restarts: 0, exitCode: null, lastError: unsupervised });
	}
	// a forward recorded by a supervisor that did not shut down (its shutdown clears it): it died with it
	return { supervisorPid: null, services, forward: recorded ? forward : null };
}

/**
 * Why the stack is missing its supervisor, when it is: it died (SIGKILL, OOM) while it ran natives or the
 * agent-runner's LLM forward, which are then unsupervised or down. Null when it runs or was shut down.
 */
export function supervisorLoss(home: StigmerHome): string | null {
	const snapshot = readNativeState(home);
	if (snapshot.supervisorPid !== null) return null;
	const unsupervised = snapshot.services.filter((s) => s.state === 'running').map((s) => s.name);
	const parts = [...(snapshot.forward ? ['the LLM forward is down (agents cannot reach the LLM)'] : []), ...(unsupervised.length > 0 ? [`${unsupervised.join(', ')} run unsupervised`] : [])];
	return parts.length === 0 ? null : `the stigmer supervisor is not running: ${parts.join('; ')} — run \`stigmer server start\``;
}

/** readNativeState, and when the state file is not the live supervisor's, the supervisor's own answer. */
export async function nativeState(home: StigmerHome): Promise<NativeStateSnapshot> {
	const snapshot = readNativeState(home);
	if (!snapshot.stale) return snapshot;
	try {
		const response = await request(home, { cmd: 'status' }, { timeoutMs: 2000 });
		if (response.ok) return { supervisorPid: response.supervisorPid, services: response.services, forward: response.forward ?? null };
	} catch {
		// it went away meanwhile: what the file says, as it is
	}
	return snapshot;
}

/** The supervisor's LLM forward with its live counters, or null when there is none (or no supervisor). */
export async function currentForward(home: StigmerHome): Promise<LlmForwardStatus | null> {
	if (supervisorPid(home) === null) return null;
	try {
		const response = await request(home, { cmd: 'status' }, { timeoutMs: 2000 });
		return response.ok ? (response.forward ?? null) : null;
	} catch {
		return null;
	}
}

/** Asks the supervisor to stop every native and exit; resolves when its process is gone. */
export async function shutdownSupervisor(home: StigmerHome, timeoutSeconds: number): Promise<void> {
	let pid = supervisorPid(home);
	try {
		const response = await request(home, { cmd: 'shutdown', timeout: timeoutSeconds });
		if (response.ok) pid = response.supervisorPid;
	} catch (error) {
		if (!(error instanceof SupervisorUnavailableError)) throw error;
		// what a dead supervisor left running (the state file's groups, and the processes marked as this home's)
		await stopLeftNatives(home, timeoutSeconds * 1000);
		return;
	}
	const deadline = Date.now() + 5000;
	while (pid !== null && isSameProcess(pid, null) && Date.now() < deadline) await sleep(10);
}

async function ping(home: StigmerHome): Promise<number | null> {
	try {
		const response = await request(home, { cmd: 'ping' }, { timeoutMs: 2000 });
		return response.ok ? response.supervisorPid : null;
	} catch {
		return null;
	}
}

function tail(file: string, lines: number): string {
	try {
		return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
	} catch {
		return '(no output)';
	}
}

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
