// The supervisor process: `… __supervisor --home DIR`, started detached (its own session, stdio to
// logs/supervisor.log) by SupervisorClient.ensureSupervisor. One per home: a short lock file guards the
// check-pid-file/bind-socket step, so two racing starts leave one supervisor and the other exits 0.
// It serves JSON lines on home.supervisorSocket (protocol.ts), mirrors every state change into
// home.nativeStateFile, ignores SIGHUP, and on SIGTERM/SIGINT or `shutdown` stops all natives and exits.
import { closeSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/loadConfig.js';
import type { NativeServiceConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import { StigmerHome } from '../home/StigmerHome.js';
import { LlmForward } from './LlmForward.js';
import { NativeSupervisor, type StartResult } from './NativeSupervisor.js';
import { groupStillOurs, terminateGroup } from './NativeService.js';
import { isSameProcess, processGroupAlive, processStartTime } from '../platform/ProcessFacts.js';
import {
	defaultReadyTimeoutSeconds,
	defaultStopTimeoutSeconds,
	type NativeStateFile,
	type SupervisorRequest,
	type SupervisorResponse,
	type SupervisorStateEvent,
} from './protocol.js';
import { isSupervisorOf, supervisorCommand } from './supervisorProcess.js';

/** Milliseconds; tests shorten them with STIGMER_SUPERVISOR_BACKOFF="initial,max,reset,failures,window". */
function backoffFromEnv(): Pick<ConstructorParameters<typeof NativeSupervisor>[1] & object, 'backoff' | 'crashLoop'> {
	const raw = process.env.STIGMER_SUPERVISOR_BACKOFF;
	if (!raw) return {};
	const [initialMs, maxMs, resetAfterMs, failures, windowMs] = raw.split(',').map(Number);
	if ([initialMs, maxMs, resetAfterMs, failures, windowMs].some((n) => n === undefined || !Number.isFinite(n))) return {};
	return { backoff: { initialMs: initialMs!, maxMs: maxMs!, resetAfterMs: resetAfterMs! }, crashLoop: { failures: failures!, windowMs: windowMs! } };
}

export async function main(argv: string[]): Promise<number> {
	const args = argv[0] === supervisorCommand ? argv.slice(1) : argv;
	const homeAt = args.indexOf('--home');
	const homeDir = homeAt === -1 ? undefined : args[homeAt + 1];
	if (!homeDir) {
		say('usage: __supervisor --home DIR');
		return 2;
	}
	const home = StigmerHome.resolve(homeDir);
	home.ensureLayout();

	const owned = await becomeTheSupervisor(home);
	if (owned === 'other') {
		say(`another supervisor already serves ${home.dir}`);
		return 0;
	}
	const server = owned;
	say(`supervisor ${process.pid} serving ${home.dir}`);

	const supervisor = new NativeSupervisor(home, backoffFromEnv());
	const startedAt = new Date().toISOString();
	const ownStart = processStartTime(process.pid);
	const subscribers = new Set<net.Socket>();
	let shuttingDown: Promise<void> | null = null;
	let forward: LlmForward | null = null;
	let resolveClosed: () => void = () => {};
	const closed = new Promise<void>((resolve) => (resolveClosed = resolve));

	const writeState = () => {
		const state: NativeStateFile = {
			supervisor: shuttingDown ? null : { pid: process.pid, startTime: ownStart, startedAt },
			updatedAt: new Date().toISOString(),
			services: supervisor.status(),
			guards: supervisor.guards(),
			forward: forward?.status() ?? null,
		};
		writeFileAtomic(home.nativeStateFile, JSON.stringify(state, null, '\t') + '\n');
	};
	supervisor.on('change', (services) => {
		try {
			writeState();
		} catch (error) {
			say(`cannot write ${home.nativeStateFile}: ${errorMessage(error)}`);
		}
		const line = JSON.stringify({ event: 'state', services } satisfies SupervisorStateEvent) + '\n';
		for (const socket of subscribers) socket.write(line);
	});

	// what a previous supervisor that died (SIGKILL, OOM) left running is stopped before anything starts
	const orphansCleared = clearOrphans(home);

	const reloadConfig = (configs: NativeServiceConfig[] | undefined): void => {
		supervisor.configure(configs ?? loadConfig(home).services);
	};
	try {
		reloadConfig(undefined);
	} catch (error) {
		say(`config not loaded yet: ${errorMessage(error)}`);
		writeState();
	}

	const ok = (): SupervisorResponse => ({ ok: true, services: supervisor.status(), supervisorPid: process.pid, forward: forward?.status() ?? null });
	const closeForward = async (): Promise<void> => {
		const open = forward;
		forward = null;
		if (open) {
			await open.close();
			say(`LLM forward ${open.spec.listenHost}:${open.status().boundPort} closed`);
		}
	};
	const fromStart = (result: StartResult): SupervisorResponse =>
		result.ok
			? ok()
			: { ok: false, error: result.error, service: result.service, timedOut: result.timedOut, services: supervisor.status() };

	const shutdown = (timeoutSeconds: number): Promise<void> => {
		shuttingDown ??= (async () => {
			say('shutting down');
			await Promise.all([supervisor.stop([], timeoutSeconds * 1000), closeForward()]);
			writeState();
		})();
		return shuttingDown;
	};

	const handle = async (request: SupervisorRequest): Promise<SupervisorResponse | null> => {
		switch (request.cmd) {
			case 'ping':
			case 'status':
				return ok();
			case 'start':
			case 'restart': {
				if (shuttingDown) return { ok: false, error: 'the supervisor is shutting down' };
				await orphansCleared;
				reloadConfig(request.configs);
				const names = request.services ?? [];
				const unknown = supervisor.unknown(names, 'start');
				if (unknown.length > 0) return { ok: false, error: `no native service named ${unknown.join(', ')}` };
				const readyMs = request.wait === false ? null : (request.timeout ?? defaultReadyTimeoutSeconds) * 1000;
				const result = request.cmd === 'start'
					? await supervisor.start(names, readyMs)
					: await supervisor.restart(names, defaultStopTimeoutSeconds * 1000, readyMs);
				return fromStart(result);
			}
			case 'stop': {
				const names = request.services ?? [];
				const unknown = supervisor.unknown(names, 'stop');
				if (unknown.length > 0) return { ok: false, error: `no native service named ${unknown.join(', ')}` };
				await supervisor.stop(names, (request.timeout ?? defaultStopTimeoutSeconds) * 1000);
				return ok();
			}
			case 'shutdown':
				await shutdown(request.timeout ?? defaultStopTimeoutSeconds);
				setImmediate(() => finish());
				return ok();
			case 'forward': {
				if (shuttingDown) return { ok: false, error: 'the supervisor is shutting down' };
				const { cmd: _cmd, ...spec } = request;
				// a forward that found no way, or found the LLM directly reachable, is looked at again
				if (!forward?.sameSpec(spec) || forward.status().mode === 'failed' || forward.status().mode === 'direct') {
					await closeForward();
					forward = await LlmForward.open(spec, () => {
						try {
							writeState();
						} catch (error) {
							say(`cannot write ${home.nativeStateFile}: ${errorMessage(error)}`);
						}
					});
					const s = forward.status();
					say(`LLM forward ${spec.listenHost}:${s.boundPort} -> ${spec.targetHost}:${spec.targetPort}: ${s.mode}${s.error ? ` (${s.error})` : ''}`);
				}
				writeState();
				return ok();
			}
			case 'unforward':
				await closeForward();
				writeState();
				return ok();
			case 'subscribe':
				return null;
			default:
				return { ok: false, error: `unknown command ${JSON.stringify((request as { cmd?: unknown }).cmd)}` };
		}
	};

	server.on('connection', (socket) => {
		socket.setEncoding('utf8');
		socket.on('error', () => {});
		socket.on('close', () => subscribers.delete(socket));
		let buffered = '';
		socket.on('data', (text: string) => {
			buffered += text;
			let newline: number;
			while ((newline = buffered.indexOf('\n')) !== -1) {
				const line = buffered.slice(0, newline).trim();
				buffered = buffered.slice(newline + 1);
				if (line === '') continue;
				let request: SupervisorRequest;
				try {
					request = JSON.parse(line) as SupervisorRequest;
				} catch {
					socket.write(JSON.stringify({ ok: false, error: 'request is not JSON' }) + '\n');
					continue;
				}
				if (request.cmd === 'subscribe') {
					subscribers.add(socket);
					socket.write(JSON.stringify({ event: 'state', services: supervisor.status() } satisfies SupervisorStateEvent) + '\n');
					continue;
				}
				handle(request).then(
					(response) => response && !socket.destroyed && socket.write(JSON.stringify(response) + '\n'),
					(error: unknown) => !socket.destroyed && socket.write(JSON.stringify({ ok: false, error: errorMessage(error) }) + '\n'),
				);
			}
		});
	});

	let finished = false;
	const finish = () => {
		if (finished) return;
		finished = true;
		for (const socket of subscribers) socket.end();
		server.close();
		rmSync(home.supervisorSocket, { force: true });
		if (readPid(home.supervisorPidFile) === process.pid) rmSync(home.supervisorPidFile, { force: true });
		say('stopped');
		resolveClosed();
	};

	process.on('SIGHUP', () => {});
	process.on('SIGPIPE', () => {});
	const onSignal = (signal: NodeJS.Signals) => {
		say(`${signal}: stopping native services`);
		void shutdown(defaultStopTimeoutSeconds).finally(finish);
	};
	process.on('SIGTERM', onSignal);
	process.on('SIGINT', onSignal);

	await closed;
	process.off('SIGTERM', onSignal);
	process.off('SIGINT', onSignal);
	return 0;
}

/**
 * Under a short lock: a live supervisor for this home → 'other'; otherwise this process writes the pid
 * file, replaces a stale socket and listens.
 */
async function becomeTheSupervisor(home: StigmerHome): Promise<net.Server | 'other'> {
	const lockFile = path.join(home.runDir, 'supervisor.lock');
	const deadline = Date.now() + 10_000;
	for (;;) {
		let fd: number;
		try {
			fd = openSync(lockFile, 'wx', 0o600);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
			// a lock whose owner is dead was left by a process that died inside this function; an empty one is
			// being written right now, unless it is old
			const owner = readPid(lockFile);
			const stale = owner === null ? ageMs(lockFile) > 2000 : !isSameProcess(owner, null);
			if (stale || Date.now() > deadline) rmSync(lockFile, { force: true });
			else await new Promise((resolve) => setTimeout(resolve, 20));
			continue;
		}
		try {
			writeSync(fd, `${process.pid}\n`);
			closeSync(fd);
			const existing = readPid(home.supervisorPidFile);
			if (existing !== null && existing !== process.pid && isSameProcess(existing, null) && isSupervisorOf(existing, home.dir)) return 'other';
			writeFileAtomic(home.supervisorPidFile, `${process.pid}\n`);
			rmSync(home.supervisorSocket, { force: true });
			const server = net.createServer();
			await new Promise<void>((resolve, reject) => {
				server.once('error', reject);
				server.listen(home.supervisorSocket, () => {
					server.off('error', reject);
					resolve();
				});
			});
			return server;
		} finally {
			rmSync(lockFile, { force: true });
		}
	}
}

async function clearOrphans(home: StigmerHome): Promise<void> {
	let previous: NativeStateFile;
	try {
		previous = JSON.parse(readFileSync(home.nativeStateFile, 'utf8')) as NativeStateFile;
	} catch {
		return;
	}
	await Promise.all(
		Object.entries(previous.guards ?? {}).map(async ([name, guard]) => {
			if (!groupStillOurs(guard) || !processGroupAlive(guard.pid)) return;
			say(`stopping ${name} (pid ${guard.pid}) left by a previous supervisor`);
			await terminateGroup(guard, () => !isSameProcess(guard.pid, guard.startTime), () => {}, 2000);
		}),
	);
}

function ageMs(file: string): number {
	try {
		return Date.now() - statSync(file).mtimeMs;
	} catch {
		return 0;
	}
}

function readPid(file: string): number | null {
	try {
		const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
		return Number.isInteger(pid) && pid > 0 ? pid : null;
	} catch {
		return null;
	}
}

export function writeFileAtomic(file: string, text: string): void {
	const temporary = `${file}.${process.pid}.tmp`;
	writeFileSync(temporary, text, { mode: 0o644 });
	renameSync(temporary, file);
}

function say(message: string): void {
	process.stderr.write(`${new Date().toISOString()} ${message}\n`);
}

// Runnable on its own (`node supervisorMain.js __supervisor --home DIR`), which is how SupervisorClient
// spawns it by default: no dependency on the CLI's argument parsing, and a faster start.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	main(process.argv.slice(2)).then(
		(code) => process.exit(code),
		(error: unknown) => {
			say(`supervisor failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
			process.exit(1);
		},
	);
}
