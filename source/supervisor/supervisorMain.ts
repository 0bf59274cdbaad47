// The supervisor process: `… __supervisor --home DIR`, started detached (its own session, stdio to
// logs/supervisor.log) by SupervisorClient.ensureSupervisor. One per home: a short lock file guards the
// check-pid-file/bind-socket step, so two racing starts leave one supervisor and the other exits 0.
// It serves JSON lines on home.supervisorSocket (protocol.ts), mirrors every state change into
// home.nativeStateFile, ignores SIGHUP, and on SIGTERM/SIGINT or `shutdown` stops all natives and exits.
import { rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../home/atomicFile.js';
import { breakLockLink, createLockLink, readLockLink, removeLockLink } from '../home/lockLink.js';
import { StigmerHome } from '../home/StigmerHome.js';
import type { NativeSupervisor } from './NativeSupervisor.js';
import { isSameProcess } from '../platform/ProcessFacts.js';
import { SupervisorDaemon, readPid, say } from './SupervisorDaemon.js';
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
	// logs/supervisor.log on a full disk: lines are lost, the supervisor is not (an 'error' on stderr unhandled would end it)
	process.stderr.on('error', () => {});
	const home = StigmerHome.resolve(homeDir);
	home.ensureLayout();

	const owned = await becomeTheSupervisor(home);
	if (owned === 'other') {
		say(`another supervisor already serves ${home.dir}`);
		return 0;
	}
	say(`supervisor ${process.pid} serving ${home.dir}`);
	await new SupervisorDaemon(home, owned, backoffFromEnv()).run();
	return 0;
}

/**
 * Under a short lock: a live supervisor for this home → 'other'; otherwise this process writes the pid
 * file, replaces a stale socket and listens.
 */
async function becomeTheSupervisor(home: StigmerHome): Promise<net.Server | 'other'> {
	const lockFile = path.join(home.runDir, 'supervisor.lock');
	const deadline = Date.now() + 10_000;
	const me = `${process.pid}`;
	for (;;) {
		if (!createLockLink(lockFile, me)) {
			// a lock whose owner is dead was left by a process that died inside this function
			const owner = readLockLink(lockFile);
			const pid = owner === null ? null : Number.parseInt(owner, 10);
			const stale = owner !== null && (!Number.isInteger(pid) || !isSameProcess(pid!, null));
			if (stale || Date.now() > deadline) breakLockLink(lockFile);
			else await new Promise((resolve) => setTimeout(resolve, 20));
			continue;
		}
		try {
			const existing = readPid(home.supervisorPidFile);
			if (existing !== null && existing !== process.pid && isSameProcess(existing, null) && isSupervisorOf(existing, home.dir)) return 'other';
			// a pid file that is missing or garbage while a supervisor of this home answers on the socket
			if (existing !== process.pid && (await socketAnswers(home.supervisorSocket))) return 'other';
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
			removeLockLink(lockFile, me);
		}
	}
}

/** Whether something accepts connections on the socket (a live supervisor whose pid file was lost). */
function socketAnswers(socketPath: string): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = net.connect(socketPath);
		const done = (answers: boolean) => {
			socket.destroy();
			resolve(answers);
		};
		socket.setTimeout(1000, () => done(false));
		socket.once('connect', () => done(true));
		socket.once('error', () => done(false));
	});
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
