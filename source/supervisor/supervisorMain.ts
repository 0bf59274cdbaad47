// The supervisor process: `… __supervisor --home DIR`, started detached (its own session, stdio to
// logs/supervisor.log) by SupervisorClient.ensureSupervisor. One per home: a short lock file guards the
// check-pid-file/bind-socket step, so two racing starts leave one supervisor and the other exits 0.
// It serves JSON lines on home.supervisorSocket (protocol.ts), mirrors every state change into
// home.nativeStateFile, ignores SIGHUP, and on SIGTERM/SIGINT or `shutdown` stops all natives and exits.
import { closeSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StigmerHome } from '../home/StigmerHome.js';
import type { NativeSupervisor } from './NativeSupervisor.js';
import { isSameProcess } from '../platform/ProcessFacts.js';
import { SupervisorDaemon, readPid, say, writeFileAtomic } from './SupervisorDaemon.js';
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

function ageMs(file: string): number {
	try {
		return Date.now() - statSync(file).mtimeMs;
	} catch {
		return 0;
	}
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
